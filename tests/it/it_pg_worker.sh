#!/bin/bash
# it_pg_worker.sh: the worker on the PostgreSQL store ([store] backend = postgresql), in a private
# cluster (tests/lib/pg.sh) that the worker reaches over its unix socket with a password read from
# [store] password_file. 40 mails through Postfix and intake-milter become 40 tickets with
# distinct numbers and 40 acknowledgements at the relay (smtp-sink); the customer's answer to one
# acknowledgement (In-Reply-To) is threaded into that ticket; intakectl lists the tickets, shows
# one and counts them from PostgreSQL; every incoming message has a full-text vector (GIN
# index), a text of 900 KB of distinct words too (its first 256 KB); the password appears in no log; an operation this backend does not support says so.
#
#   smtp-source -> postfix back (+ intake-milter) -> Redis -> intake-worker -> PostgreSQL
#                                                               `-> acks -> smtp-sink
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/pg.sh"
h_init it_pg_worker

N=40
C=$T/intake.conf
h_pg_start || exit 1
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
h_pg_conf "$C"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1
h_assert_eq 3 "$(h_pg_sql "SELECT version FROM intake_schema")" \
    "PostgreSQL: schema version 3 recorded in intake_schema"

pg_drained() {
    [ "$(h_pg_count tickets)" = "$1" ] && [ "$(h_xlen 2>/dev/null)" = 0 ] &&
	[ "$(h_pending_count 2>/dev/null)" = 0 ]
}

h_send_source "$P" "$N" support@example.test || h_die "could not send the mails"
h_wait_for "pg_drained $N" 180 "worker: $N tickets in PostgreSQL, stream empty, nothing pending"
h_wait_for "[ \"\$(h_pg_count \"outbox WHERE state = 'sent'\")\" = $N ]" 120 \
    "outbox: $N acknowledgements sent"
h_assert_eq "$N" "$(h_sink_count)" "sink: $N mails captured"
h_assert_eq "$N" "$(h_pg_sql "SELECT count(DISTINCT number) FROM tickets
			     WHERE number ~ '^INT-[0-9]{4}-[0-9]{6}\$' AND mailbox = 'support'")" \
    "store: $N distinct numbers INT-YYYY-NNNNNN, mailbox support"
h_assert_eq "$N" "$(h_pg_count "outbox WHERE kind = 'ack' AND lease_owner IS NULL")" \
    "outbox: one ack per ticket, no lease left held"

# The customer answers one acknowledgement: In-Reply-To names it, no number in the Subject.
h_sink_acks | head -n 1 > "$T/ack.tsv"
ACK_MID=$(cut -f2 "$T/ack.tsv")
NUM=$(cut -f6 "$T/ack.tsv")
[ -n "$ACK_MID" ] && [ "$ACK_MID" != - ] && [ -n "$NUM" ] || h_die "no acknowledgement to answer"
h_mail "$P" sender@client.test support@example.test "thanks for the quick answer" \
    "Here is more about the problem." --header "In-Reply-To: <$ACK_MID>"
h_wait_for "[ \"\$(h_pg_sql \"SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id
			     WHERE t.number = '$NUM' AND m.direction = 'in'\")\" = 2 ]" 60 \
    "follow-up: the answer to the acknowledgement lands on $NUM (2 incoming messages)"
h_wait_for "[ \"\$(h_xlen)\" = 0 ] && [ \"\$(h_pending_count)\" = 0 ]" 30 "stream: drained again"
h_assert_eq "$N" "$(h_pg_count tickets)" "store: still $N tickets (the answer made none)"

# intakectl reads PostgreSQL.
h_assert_eq "$N" "$(h_ctl "$C" tickets --json --limit 1000 | jq length)" \
    "intakectl tickets --json: $N tickets"
h_ctl "$C" --json ticket "$NUM" > "$T/ticket.json" || h_fail "intakectl ticket $NUM failed"
h_assert_eq "$NUM 2 1" "$(jq -r '"\(.number) \([.messages[] | select(.direction == "in")] | length) \(.replies | length)"' "$T/ticket.json")" \
    "intakectl ticket $NUM: 2 incoming messages, 1 reply"
h_assert_eq "thanks for the quick answer" "$(jq -r '.messages[-1].subject' "$T/ticket.json")" \
    "intakectl ticket $NUM: the answer's subject, in arrival order"
h_ctl "$C" status --json > "$T/status.json" || h_fail "intakectl status failed"
h_assert_eq "$N $N" "$(jq -r '"\(.store.tickets) \(.store.replies_sent)"' "$T/status.json")" \
    "intakectl status: $N tickets, $N replies sent"

# Full-text search: a vector for every incoming message, and the GIN index to search it.
h_assert_eq "$((N + 1))" "$(h_pg_count "messages WHERE direction = 'in' AND fts IS NOT NULL")" \
    "fts: a tsvector for each of the $((N + 1)) incoming messages"
h_assert_eq 1 "$(h_pg_count "messages WHERE fts @@ plainto_tsquery('simple', 'problem')
			   OR fts @@ plainto_tsquery('english', 'problem')")" \
    "fts: 'problem' finds the one message that has it"
h_assert_eq gin "$(h_pg_sql "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam
			    WHERE c.relname = 'messages_fts'")" "fts: messages_fts is a GIN index"

# A text of 900 KB of distinct short words (a pasted log, a listing): its whole vector would be
# over PostgreSQL's 1 MB for a tsvector, and the mail could never become a ticket. The index takes
# the text's first 256 KB (store.h, STORE_INDEX_TEXT_MAX): the ticket is made, its text stored
# whole, a word at its start found and one at its end not.
h_pg_long_mail "$T/long.eml" long-log@client.test
h_send_files "$P" loggy@client.test support@example.test "$T/long.eml" > "$T/long.tsv"
h_assert_eq 250 "$(cut -f2 "$T/long.tsv")" "the mail of 900 KB of distinct words: accepted"
h_wait_for "[ \"\$(h_pg_count \"messages WHERE message_id = 'long-log@client.test'\")\" = 1 ]" 60 \
    "the mail of 900 KB of distinct words: a ticket (its vector within PostgreSQL's limit)"
h_assert_eq "t f t" "$(h_pg_long_index long-log@client.test)" \
    "its index: the word at the start found, the one past 256 KB not; the text stored whole"

# The password is read from password_file and never logged.
if grep -qF -- "$(cat "$T/pg.password")" "$T/worker.log" "$T/milter.log" 2>/dev/null; then
    h_fail "the PostgreSQL password appears in a log"
else
    h_pass "the PostgreSQL password appears in no log"
fi
# Cases made by hand, as on SQLite: added, retitled, listed in byte order with their tickets.
h_ctl "$C" case add "ZED-9" "Zed Corp" > /dev/null && h_ctl "$C" case add "ACME-1" "Acme" > /dev/null &&
    h_ctl "$C" case add "ACME-1" "Acme Corp" > /dev/null || h_fail "intakectl case add failed on PostgreSQL"
h_assert_eq "ACME-1 Acme Corp 0|ZED-9 Zed Corp 0" \
    "$(h_ctl "$C" --json case list | jq -r '[.[] | "\(.name) \(.title) \(.tickets)"] | join("|")')" \
    "intakectl case add, case list on PostgreSQL: both cases, the retitled one's new title, no ticket"
h_check "h_ctl '$C' --json case list | jq -e 'all(.[]; .created_at | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\$\"))' > /dev/null" \
    "case list: created_at in the store's ISO form"

h_worker_stop
h_milter_stop
