#!/bin/bash
# it_worker_ackcap.sh: the acknowledgement cap ([smtp] and [mailbox] ack_limit_day), counted in
# Redis, through Postfix with intake-milter.
#   1. Redis down when a reply is due: the reply is deferred (owed, not sent) and goes out once
#      Redis is back.
#   2. A flood of 10 mails to support (ack_limit_day = 4) and then 10 to sales, [smtp]
#      ack_limit_day = 6: exactly 6 acknowledgements reach the relay (4 of support, 2 of sales);
#      the other 14 are 'suppressed' with the limit they hit, and logged.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_ackcap

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[smtp]" "ack_limit_day = 6" "[mailbox support]" "ack_limit_day = 4"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# send FROM TO SUBJECT: one try; the mails after Redis restarted must be accepted at once too
# (the milter replaces the pooled connections the old server closed: it_redis_restart.sh).
send() {
    swaks --server "127.0.0.1:$P" --silent 2 --from "$1" --to "$2" --header "Subject: $3" \
	--body text >> "$T/swaks.log" 2>&1 || h_die "swaks: '$3' from $1 not accepted"
}
cap_keys() { h_redis_cli --scan --pattern 'intake:envelopes:ackcap:*'; }

# 1. Redis down: deferred, not sent, not lost. The relay is down first, so that the reply is
#    still owed when Redis stops.
h_sink_stop
send early@x.test support@example.test "Early"
h_wait_for "h_worker_drained '$C' 1" 30 "the early mail: a ticket"
h_wait_for "[ \"\$(h_sql '$C' \"SELECT attempts FROM outbox\")\" -ge 1 ]" 30 \
    "its reply tried once (the relay is down)"
h_redis_stop
off=$(stat -c %s "$T/worker.log")
h_sink_start "$S" "$T/sink" || exit 1
h_wait_for "tail -c +$off '$T/worker.log' | grep -q 'deferred, next try in 1s: cannot check the acknowledgement cap'" 30 \
    "Redis down: the reply is deferred for the cap (logged)"
h_assert_eq "owed 0" "$(h_sql "$C" "SELECT state FROM outbox") $(h_sink_count)" \
    "Redis down: still owed, nothing at the relay"
h_redis_start || exit 1
h_wait_for '[ "$(h_outbox_count "$C" sent)" -eq 1 ] && [ "$(h_sink_count)" -eq 1 ]' 30 \
    "Redis back: the reply is sent"
# The tries made while the relay was down took slots too (the cap counts tries): start afresh.
cap_keys | while read -r k; do h_redis_cli DEL "$k" > /dev/null; done
h_assert_eq "" "$(cap_keys)" "the counters reset for the flood"

# 2. The flood.
for i in $(seq 1 10); do send "flood$i@victim$i.test" support@example.test "Support $i"; done
h_wait_for "h_worker_drained '$C' 11" 60 "ten tickets of support"
for i in $(seq 1 10); do send "sflood$i@victim$i.test" sales@example.test "Sales $i"; done
h_wait_for "h_worker_drained '$C' 21" 60 "ten tickets of sales"
h_wait_for "[ \"\$(h_sql '$C' \"SELECT count(*) FROM outbox WHERE state IN ('owed', 'sending')\")\" -eq 0 ]" 60 \
    "every reply decided (sent or suppressed)"
h_wait_for '[ "$(h_sink_count)" -eq 7 ]' 30 "the relay got 1 + 6 acknowledgements"
h_assert_eq 7 "$(h_outbox_count "$C" sent)" "outbox: 7 sent (the early one and 6 of the flood)"
h_assert_eq 5 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE mailbox = 'support' AND state = 'sent'")" \
    "support: the early reply and 4 of the flood (its ack_limit_day)"
h_assert_eq 2 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE mailbox = 'sales' AND state = 'sent'")" \
    "sales: 2 (the total's ack_limit_day of 6 reached)"
h_assert_eq 6 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE state = 'suppressed'
			     AND last_error LIKE '%[mailbox support] ack_limit_day (4 a day)%'")" \
    "6 of support suppressed, naming the mailbox's limit"
h_assert_eq 8 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE state = 'suppressed'
			     AND last_error LIKE '%[smtp] ack_limit_day (6 a day, all mailboxes)%'")" \
    "8 of sales suppressed, naming the total limit"
h_assert_eq 14 "$(grep -c 'not sent: over the acknowledgement cap' "$T/worker.log")" \
    "worker log: each of the 14 refusals"
day=$(date -u +%Y%m%d)
h_assert_eq 4 "$(h_redis_cli GET "intake:envelopes:ackcap:support:d:$day")" "Redis: support's day counter 4"
h_assert_eq 6 "$(h_redis_cli GET "intake:envelopes:ackcap:*:d:$day")" "Redis: the total day counter 6"
h_check "[ \"\$(h_redis_cli TTL 'intake:envelopes:ackcap:*:d:$day')\" -gt 86400 ]" \
    "Redis: the day counter expires (TTL over a day, under two)"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

h_worker_stop
h_milter_stop
