#!/bin/bash
# it_worker_relay_down.sh: a relay that is down holds no ticket back, and the acknowledgements
# owed meanwhile survive a worker restart and all go out once the relay is back.
#   1. No smtp-sink on the relay port: 20 mails through Postfix + milter become 20 tickets at
#      once; their 20 acks are 'owed', the oldest one retried (attempts >= 2) with the
#      connection error as last_error. (While the relay is unreachable the outbox retries the
#      oldest reply and waits, instead of trying every reply: the others may have no attempt.)
#   2. The worker is restarted (SIGTERM, start): still 20 owed, none lost, none 'unknown'.
#   3. smtp-sink starts on the relay port: within a bounded time all 20 acks arrive (one each)
#      and the 20 outbox rows are 'sent'.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_relay_down

N=20
C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)	# the relay port: nothing listens there yet
h_worker_conf "$C" "$S"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1
_h_listening "$S" && h_die "relay port $S is in use"

h_send_source "$P" "$N" support@example.test || h_die "could not send the mails"
h_wait_for "h_worker_drained '$C' $N" 60 "relay down: $N tickets anyway, stream empty, nothing pending"
h_wait_for "[ \"\$(h_sql '$C' \"SELECT count(*) FROM outbox WHERE attempts >= 2 AND last_error IS NOT NULL\")\" -ge 1 ]" 30 \
    "relay down: the oldest ack was tried and retried, with its error recorded"
h_assert_eq "$N" "$(h_outbox_count "$C" owed)" "relay down: all $N acks owed"
h_assert_eq "$N" "$(h_outbox_count "$C")" "relay down: $N outbox rows (one per ticket)"
h_note "outbox while the relay is down: $(h_sql "$C" "SELECT count(*) FROM outbox WHERE attempts >= 1") of $N rows tried so far; (id state attempts last_error):"
h_sql "$C" "SELECT id, state, attempts, coalesce(last_error, '-') FROM outbox ORDER BY id LIMIT 3" | sed 's/^/#   /'
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE id = (SELECT min(id) FROM outbox)
			    AND attempts >= 1 AND last_error LIKE '%127.0.0.1:$S%'")" \
    "relay down: the oldest ack's last_error names the relay"
first=$(h_sql "$C" "SELECT number FROM tickets ORDER BY id LIMIT 1")
h_ctl "$C" --json ticket "$first" > "$T/ticket.json" || h_fail "intakectl ticket $first failed"
h_assert_eq "ack owed" "$(jq -r '.replies[] | "\(.kind) \(.state)"' "$T/ticket.json")" \
    "intakectl ticket: the first ticket's ack is owed"
h_assert_eq 1 "$(jq '[.replies[] | select(.attempts >= 1 and (.last_error // "") != "")] | length' "$T/ticket.json")" \
    "intakectl ticket: ... with attempts and last_error"
h_assert_eq "$N" "$(h_ctl "$C" status --json | jq .store.replies_owed)" "intakectl status: $N replies owed"
h_assert_eq 0 "$(grep -c ' reply [0-9]*: sent to ' "$T/worker.log")" "worker log: nothing sent"

# A restart while the replies are owed.
attempts_before=$(h_sql "$C" "SELECT sum(attempts) FROM outbox")
h_worker_stop || h_fail "worker did not stop cleanly"
h_worker_start "$C" || exit 1
h_wait_for "[ \"\$(h_sql '$C' 'SELECT sum(attempts) FROM outbox')\" -gt $attempts_before ]" 30 \
    "after the restart: the outbox tries again"
h_assert_eq "$N" "$(h_outbox_count "$C" owed)" "after the restart: still $N acks owed"
h_assert_eq 0 "$(h_outbox_count "$C" unknown)" "after the restart: none 'unknown' (none was in the data phase)"
h_assert_eq "$N" "$(h_tickets_count "$C")" "after the restart: still $N tickets"

# The relay comes back.
h_sink_start "$S" "$T/sink" || exit 1
start=$SECONDS
h_wait_for "[ \"\$(h_outbox_count '$C' sent)\" -eq $N ]" 60 "relay back: all $N acks sent"
h_note "relay back: $N acks sent within $((SECONDS - start))s"
h_assert_eq "$N" "$(h_sink_count)" "relay back: $N acks arrived at the relay"
h_sink_acks > "$T/acks.tsv"
h_assert_eq "$N" "$(cut -f3 "$T/acks.tsv" | sort -u | wc -l)" "relay back: each for a different customer mail (In-Reply-To)"
h_assert_eq "$N" "$(cut -f6 "$T/acks.tsv" | sort -u | wc -l)" "relay back: each for a different ticket (X-Intake-Ticket)"
h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'in'" | sort > "$T/in-mids"
cut -f3 "$T/acks.tsv" | sort > "$T/irt"
cmp -s "$T/in-mids" "$T/irt" && h_pass "relay back: the acks answer exactly the $N customer mails" ||
    h_fail "relay back: In-Reply-To values differ from the customer Message-IDs"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE state <> 'sent' OR sent_at IS NULL")" \
    "relay back: no row left owed/unknown/failed; each has sent_at"
h_assert_eq "$N" "$(h_tickets_count "$C")" "still $N tickets"

h_worker_stop
h_milter_stop
