#!/bin/bash
# it_worker_loop.sh: two Intake installations that acknowledge each other's mail do not loop.
# A (support@a.test) and B (help@b.test) each have their own Postfix, Redis, milter and worker;
# each Postfix routes the other's domain to the other, and each worker sends its
# acknowledgements through its own Postfix. Each mailbox is the other's customer:
#   1. support@a.test writes to help@b.test (into B's Postfix);
#   2. help@b.test writes to support@a.test (into A's Postfix).
# Each starting mail is ticketed and acknowledged by its receiver; the acknowledgement (null
# sender, Auto-Submitted) is ticketed by the other side and not answered. Once both Postfix
# queues, both streams and both outboxes are empty: 4 mails in all (2 per starting mail), 2
# acknowledgements sent, 2 refused with their reason, and each side's log says why it stopped.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_loop

PA=$(h_free_port)
PB=$(h_free_port)
CA=$T/a.conf
CB=$T/b.conf
SB=$T/b/redis/redis.sock
mkdir -p "$T/b/redis"

# conf FILE NAME MAILBOX RELAY_PORT MILTER_SOCKET REDIS_SOCKET
conf() {
    cat > "$1" <<CONF
# $2 of it_worker_loop
[milter]
socket = unix:$5
socket_mode = 0666
user = $(id -un)
log = stderr

[redis]
server = unix:$6
timeout = 2s

[worker]
user = $(id -un)
consumer = $2
log = stderr
block = 500ms
claim_idle = 2s
claim_interval = 500ms

[store]
path = $T/$2.db
templates = $H_ROOT/conf/templates

[smtp]
relay = 127.0.0.1:$4
timeout = 10s
retry_interval = 1s

[mailbox $2]
address = $3
CONF
}
conf "$CA" a support@a.test "$PA" "$T/milter.sock" "$T/redis/redis.sock"
conf "$CB" b help@b.test "$PB" "$T/b/milter.sock" "$SB"

# A: the harness's own instances.
h_redis_start || exit 1
h_milter_start "$CA" || exit 1
h_postfix_start a "$PA" "smtpd_milters=unix:$T/milter.sock" "virtual_mailbox_domains=a.test" \
    "transport_maps=inline:{b.test=smtp:[127.0.0.1]:$PB}" || exit 1
h_worker_start "$CA" || exit 1

# B: started here, stopped at the end (h_cleanup would kill what is left, and fail the test).
redis-server --port 0 --unixsocket "$SB" --unixsocketperm 700 --daemonize yes \
    --pidfile "$T/b/redis/redis.pid" --dir "$T/b/redis" --logfile "$T/b/redis/redis.log" \
    --appendonly yes --appendfsync always --save "" || h_die "redis-server of B did not start"
h_poll '[ "$(redis-cli -s "$SB" ping 2>/dev/null)" = PONG ]' 20 || h_die "redis of B does not answer"
"$INTAKE_BIN/intake-milter" -f -c "$CB" >> "$T/b/milter.log" 2>&1 &
MB=$!
h_poll "[ -S '$T/b/milter.sock' ]" 30 || h_die "intake-milter of B did not come up"
h_postfix_start b "$PB" "smtpd_milters=unix:$T/b/milter.sock" "virtual_mailbox_domains=b.test" \
    "transport_maps=inline:{a.test=smtp:[127.0.0.1]:$PA}" || exit 1
"$INTAKE_BIN/intake-worker" -f -c "$CB" >> "$T/b/worker.log" 2>&1 &
WB=$!
h_poll "grep -q ' starting: ' '$T/b/worker.log'" 30 || h_die "intake-worker of B did not come up"

# stop_b PID NAME LOG: SIGTERM, wait, status 0 and no sanitizer report.
stop_b() {
    kill -TERM "$1"
    _h_wait_gone "$1" 30 || { kill -KILL "$1"; h_fail "$2 of B did not stop within 30s"; }
    wait "$1"
    h_assert_eq 0 "$?" "$2 of B: exit status 0"
    h_assert_eq 0 "$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$3")" \
	"$2 of B: no sanitizer report"
}

# settled: both Postfix queues, both streams (nothing pending either) and both outboxes empty.
settled() {
    [ "$(h_postfix_queue_count a)" -eq 0 ] && [ "$(h_postfix_queue_count b)" -eq 0 ] &&
	[ "$(h_xlen)" = 0 ] && [ "$(h_pending_count)" = 0 ] &&
	[ "$(H_REDIS_SOCK=$SB h_xlen)" = 0 ] && [ "$(H_REDIS_SOCK=$SB h_pending_count)" = 0 ] &&
	[ "$(h_sql "$CA" "SELECT count(*) FROM outbox WHERE state IN ('owed', 'sending')")" = 0 ] &&
	[ "$(h_sql "$CB" "SELECT count(*) FROM outbox WHERE state IN ('owed', 'sending')")" = 0 ]
}

swaks --server "127.0.0.1:$PB" --silent 2 --from support@a.test --to help@b.test \
    --header "Subject: From A's mailbox" --body "A writes to B" >> "$T/swaks.log" 2>&1 ||
    h_die "swaks: A's mail not accepted by B"
swaks --server "127.0.0.1:$PA" --silent 2 --from help@b.test --to support@a.test \
    --header "Subject: From B's mailbox" --body "B writes to A" >> "$T/swaks.log" 2>&1 ||
    h_die "swaks: B's mail not accepted by A"

# Each side tickets two mails (the other's and the acknowledgement of its own); a loop would keep
# adding tickets and never settle.
h_wait_for "[ \"\$(h_tickets_count '$CA')\" -ge 2 ] && [ \"\$(h_tickets_count '$CB')\" -ge 2 ] && settled" 60 \
    "both installations settle: queues, streams and outboxes empty"
total=$(( $(h_maildir_total a) + $(h_maildir_total b) ))
h_note "mails delivered: A $(h_maildir_total a), B $(h_maildir_total b); tickets: A $(h_tickets_count "$CA"), B $(h_tickets_count "$CB")"
h_check "[ $total -le 4 ]" "at most 4 mails in all for 2 starting mails (got $total)"
h_assert_eq "2 2" "$(h_tickets_count "$CA") $(h_tickets_count "$CB")" "two tickets on each side"
h_assert_eq "1 1" "$(h_outbox_count "$CA" sent) $(h_outbox_count "$CB" sent)" \
    "one acknowledgement sent by each side (to the other's starting mail)"
h_assert_eq "1 1" "$(h_outbox_count "$CA" suppressed) $(h_outbox_count "$CB" suppressed)" \
    "one refusal on each side (the other's acknowledgement)"
h_check "h_sql '$CA' \"SELECT last_error FROM outbox WHERE state = 'suppressed'\" | grep -q 'auto-generated mail'" \
    "A's refusal: the acknowledgement is auto-generated mail"
h_check "grep -q 'no acknowledgement: auto-generated mail' '$T/worker.log'" "A's log says why it stopped"
h_check "grep -q 'no acknowledgement: auto-generated mail' '$T/b/worker.log'" "B's log says why it stopped"
h_assert_eq "0 0" "$(h_maillog_count a 'status=(bounced|deferred)') $(h_maillog_count b 'status=(bounced|deferred)')" \
    "no bounce and no deferral on either side"

h_worker_stop
stop_b "$WB" intake-worker "$T/b/worker.log"
stop_b "$MB" intake-milter "$T/b/milter.log"
h_postfix_stop b
redis-cli -s "$SB" shutdown nosave > /dev/null 2>&1
h_poll "! [ -e '$T/b/redis/redis.pid' ]" 20 || h_fail "redis of B did not stop"
h_milter_stop
