#!/bin/bash
# it_worker_tickets.sh: the whole chain. 300 mails to support@ through Postfix with intake-milter
# become exactly 300 tickets with distinct numbers, and 300 acknowledgements arrive at the relay
# (smtp-sink): each marked Auto-Submitted: auto-replied, each answering (In-Reply-To) the
# customer's mail of the ticket whose number its Subject carries. Afterwards the stream is empty
# (acknowledged entries are deleted) and nothing is pending.
#
#   smtp-source -> postfix back (+ intake-milter) -> Redis -> intake-worker -> SQLite
#                                                               `-> acks -> smtp-sink
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_tickets

N=300
C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

start=$SECONDS
h_send_source "$P" "$N" support@example.test || h_die "could not send the mails"
h_pass "smtp-source: $N mails accepted"

h_wait_for "h_worker_drained '$C' $N" 180 "worker: $N tickets, stream empty, nothing pending"
h_wait_for "[ \"\$(h_outbox_count '$C' sent)\" -eq $N ]" 120 "outbox: $N acknowledgements sent"
# What a reply that is not sent went through (state, attempts, last error, its log lines).
for id in $(h_sql "$C" "SELECT id FROM outbox WHERE state <> 'sent' LIMIT 5"); do
    h_note "reply $id: $(h_sql "$C" "SELECT state, attempts, next_try, last_error FROM outbox WHERE id = $id")"
    h_note "$(grep "reply $id:" "$T/worker.log" | tail -5)"
done
h_note "$N tickets and acknowledgements in $((SECONDS - start))s"
h_assert_eq "$N" "$(h_sink_count)" "sink: $N mails captured"

h_assert_eq "$N" "$(h_tickets_count "$C")" "store: exactly $N tickets"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(DISTINCT number) FROM tickets")" \
    "store: $N distinct ticket numbers"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(*) FROM tickets WHERE mailbox = 'support'
			       AND number GLOB 'INT-[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]'")" \
    "store: every ticket of mailbox support, numbered INT-YYYY-NNNNNN"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(DISTINCT message_id) FROM messages
			       WHERE direction = 'in' AND message_id IS NOT NULL")" \
    "store: $N distinct customer Message-IDs"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE kind = 'ack'")" \
    "outbox: one ack per ticket ($N rows)"
h_assert_eq "$N" "$(h_ctl "$C" tickets --json --limit 100000 | jq length)" \
    "intakectl tickets --json: $N tickets"
h_assert_eq 0 "$(h_xlen)" "stream: empty (acknowledged entries deleted)"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"
h_ctl "$C" status --json > "$T/status.json" || h_fail "intakectl status failed"
h_assert_eq "0 0 $N $N" "$(jq -r '"\(.length) \(.pending) \(.store.tickets) \(.store.replies_sent)"' "$T/status.json")" \
    "intakectl status: length 0, pending 0, $N tickets, $N replies sent"

# Join the captured acknowledgements with the store: customer Message-ID -> ticket number.
h_sink_acks > "$T/acks.tsv"
h_sql "$C" "SELECT m.message_id, t.number FROM messages m JOIN tickets t ON t.id = m.ticket_id
	    WHERE m.direction = 'in'" | tr '|' '\t' | sort > "$T/mid2ticket.tsv"
h_assert_eq "$N" "$(wc -l < "$T/mid2ticket.tsv")" "store: $N incoming messages"
h_assert_eq "$N" "$(awk -F'\t' '$5 == "auto-replied"' "$T/acks.tsv" | wc -l)" \
    "sink: every acknowledgement has Auto-Submitted: auto-replied"
h_assert_eq "$N" "$(cut -f3 "$T/acks.tsv" | grep -v '^-$' | sort -u | wc -l)" \
    "sink: $N distinct In-Reply-To values"
# file mid subject -> expected number from the store, number in the subject
awk -F'\t' 'NR == FNR { t[$1] = $2; next }
	{
	    want = ($3 in t) ? t[$3] : "NONE"
	    got = "NONE"
	    if (match($4, /\[#[A-Z]+-[0-9]+-[0-9]+\]/)) got = substr($4, RSTART + 2, RLENGTH - 3)
	    print (want == got && want != "NONE" ? "ok" : "bad"), $3, want, got, $4
	}' "$T/mid2ticket.tsv" "$T/acks.tsv" > "$T/join.txt"
h_assert_eq "$N" "$(grep -c '^ok ' "$T/join.txt")" \
    "sink: each acknowledgement's Subject names the ticket of the mail it answers (In-Reply-To)"
grep '^bad ' "$T/join.txt" | head -n 5 | sed 's/^/# /'
h_assert_eq "$N" "$(awk '$1 == "ok" { print $3 }' "$T/join.txt" | sort -u | wc -l)" \
    "sink: the $N acknowledgements name $N different tickets"
h_assert_eq "$N" "$(awk -F'\t' '$4 ~ /^\[#INT-[0-9]+-[0-9]+\] Re: intake test to support@example.test$/' \
		    "$T/acks.tsv" | wc -l)" \
    "sink: Subject is '[#INT-YYYY-NNNNNN] Re: <the customer's subject>'"
h_assert_eq "$N" "$(awk -F'\t' '{ s = $4; sub(/^\[#/, "", s); sub(/\].*/, "", s) } s == $6' "$T/acks.tsv" | wc -l)" \
    "sink: X-Intake-Ticket equals the number in the Subject"
h_assert_eq "$N" "$(h_sink_files | xargs -r grep -l $'^X-Mail-Args: <>\r\\?$' | wc -l)" \
    "sink: every acknowledgement sent with the null sender <>"
# The ack's own Message-ID is recorded as the ticket's outgoing message.
h_sql "$C" "SELECT message_id FROM outbox" | sort > "$T/outbox-mids"
cut -f2 "$T/acks.tsv" | sort > "$T/sink-mids"
if [ -s "$T/outbox-mids" ] && cmp -s "$T/outbox-mids" "$T/sink-mids"; then
    h_pass "sink: the acknowledgements' Message-IDs are those in the outbox"
else
    h_fail "sink: Message-IDs differ from the outbox's: $(diff "$T/outbox-mids" "$T/sink-mids" | grep '^[<>]' | head -n 3 | tr '\n' ' ')"
fi

h_worker_stop
h_assert_eq 1 "$(grep -c " stopping: $N tickets created, 0 follow-ups, 0 duplicates ignored" "$T/worker.log")" \
    "worker: logged '$N tickets created, 0 follow-ups, 0 duplicates ignored' on SIGTERM"
h_milter_stop
