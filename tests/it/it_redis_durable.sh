#!/bin/bash
# it_redis_durable.sh: both daemons check Redis's persistence settings (common/durable.c) at start
# and every [redis] durable_check_interval (1s here), against a real Redis changed with CONFIG SET:
#   - safe settings (appendonly yes, appendfsync always, noeviction): no warning, mail accepted;
#   - appendfsync everysec, then maxmemory-policy allkeys-lru at run time: each daemon warns,
#     naming the risk; with require_durable = yes the milter answers 451 to every mail (and the
#     worker goes on); settings safe again: a note, and mail is accepted again;
#   - at start with unsafe settings and require_durable = yes: neither daemon starts (exit 1,
#     saying why); with require_durable = no both start and warn;
#   - CONFIG denied to the user (ACL): the check falls back to INFO and says once that it cannot
#     tell appendfsync; with require_durable = yes the milter refuses to start;
#   - Redis down at start: both start (require_durable = yes), and work once it is back.
# Every mail accepted became exactly one ticket; none refused reached the stream.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_redis_durable

C=$T/intake.conf
LOOSE=$T/loose.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[redis]" "require_durable = yes" "durable_check_interval = 1s"
h_worker_conf "$LOOSE" "$S" "[redis]" "require_durable = no" "durable_check_interval = 1s"
h_milter_start "$C" || exit 1
h_worker_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1

RISK_FSYNC="appendfsync everysec can lose up to a second of accepted mail on a power loss"
RISK_EVICT="maxmemory-policy allkeys-lru: an evicting policy silently deletes accepted mail"

# send N: one mail (Message-ID <durable-N@client.test>); prints the server's reply to the end of
# its data (swaks: the line after " -> .", e.g. "<-  250 2.0.0 Ok: queued as ..." or "<** 451 ...").
send() {
    swaks --server "127.0.0.1:$P" --helo client.test --from sender@client.test \
	--to support@example.test --header "Message-Id: <durable-$1@client.test>" \
	--header "Subject: durable $1" --body "mail $1" 2>&1 | awk 'dot { print; exit } /^ -> \.\r?$/ { dot = 1 }'
}

# log_has FILE TEXT: (a condition) FILE holds TEXT.
log_has() { grep -qF -- "$2" "$1"; }

h_check '! grep -q "can lose accepted mail\|cannot tell whether" "$T/milter.log" "$T/worker.log"' \
    "safe settings: neither daemon warns"
h_check '[[ "$(send 1)" == *" 250 "* ]]' "safe settings: mail 1 accepted"

# At run time: fsync every second.
h_redis_cli CONFIG SET appendfsync everysec > /dev/null
h_wait_for "log_has '$T/milter.log' '$RISK_FSYNC'" 15 "everysec: the milter warns, naming the risk"
h_wait_for "log_has '$T/worker.log' '$RISK_FSYNC'" 15 "everysec: the worker warns, naming the risk"
reply=$(send 2)
h_check '[[ "$reply" == *" 451 "* ]]' "everysec + require_durable: mail 2 refused with 451 ($reply)"
h_check 'log_has "$T/milter.log" "deferred (451 4.3.0): redis is not known to keep accepted mail safely"' \
    "the milter logs why it deferred"

h_redis_cli CONFIG SET maxmemory-policy allkeys-lru > /dev/null
h_wait_for "log_has '$T/milter.log' '$RISK_EVICT'" 15 "allkeys-lru: the milter warns, naming the risk"
h_wait_for "log_has '$T/worker.log' '$RISK_EVICT'" 15 "allkeys-lru: the worker warns, naming the risk"

h_redis_cli CONFIG SET appendfsync always > /dev/null
h_redis_cli CONFIG SET maxmemory-policy noeviction > /dev/null
h_wait_for "log_has '$T/milter.log' 'keeps accepted mail again'" 15 "safe again: the milter says so"
h_wait_for "log_has '$T/worker.log' 'keeps accepted mail again'" 15 "safe again: the worker says so"
h_check '[[ "$(send 3)" == *" 250 "* ]]' "safe again: mail 3 accepted"
h_wait_for "h_worker_drained '$C' 2" 60 "worker: mails 1 and 3 are 2 tickets, stream empty"
h_assert_eq "durable-1@client.test durable-3@client.test" \
    "$(h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'in' ORDER BY message_id" | tr '\n' ' ' | sed 's/ $//')" \
    "store: exactly mails 1 and 3 (the refused one never queued)"
h_milter_stop
h_worker_stop

# run_once BIN CONF LOG: run a daemon in the foreground that is expected to exit by itself
# (at most 30 s); prints its exit status.
run_once() {
    local rc
    timeout 30 "$INTAKE_BIN/$1" -f -c "$2" >> "$3" 2>&1
    rc=$?
    echo "$rc"
}

# At start, unsafe settings.
h_redis_cli CONFIG SET appendfsync everysec > /dev/null
h_assert_eq 1 "$(run_once intake-milter "$C" "$T/refuse-milter.log")" \
    "everysec + require_durable: the milter does not start (exit 1)"
h_check 'log_has "$T/refuse-milter.log" "not starting: redis unix:$T/redis/redis.sock does not keep accepted mail safely"' \
    "  and says why, naming the server"
h_check 'log_has "$T/refuse-milter.log" "$RISK_FSYNC"' "  and the risk"
h_assert_eq 1 "$(run_once intake-worker "$C" "$T/refuse-worker.log")" \
    "everysec + require_durable: the worker does not start (exit 1)"
h_check 'log_has "$T/refuse-worker.log" "require_durable = yes in $C"' "  and says why, naming the file"
h_check '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/refuse-*.log' \
    "  no sanitizer report from the refusals"
h_milter_start "$LOOSE" || exit 1
h_wait_for "log_has '$T/milter.log' '$RISK_FSYNC'" 15 "require_durable = no: the milter starts and warns"
h_check '[[ "$(send 4)" == *" 250 "* ]]' "require_durable = no: mail 4 accepted"
h_milter_stop

# CONFIG denied: INFO tells appendonly and the policy, not appendfsync.
h_redis_cli CONFIG SET appendfsync always > /dev/null
h_redis_cli ACL SETUSER default -config > /dev/null
h_assert_eq 1 "$(run_once intake-milter "$C" "$T/noconfig-milter.log")" \
    "CONFIG denied + require_durable: the milter does not start"
h_check 'log_has "$T/noconfig-milter.log" "cannot tell whether it keeps accepted mail: cannot read appendfsync (CONFIG GET refused:"' \
    "  and says it cannot read appendfsync, and why"
: > "$T/milter.log"
h_milter_start "$LOOSE" || exit 1
h_check '[[ "$(send 5)" == *" 250 "* ]]' "CONFIG denied, require_durable = no: mail 5 accepted"
h_assert_eq 1 "$(grep -c 'cannot tell whether' "$T/milter.log")" \
    "  the milter says so once (after several checks)"
h_redis_cli ACL SETUSER default +config > /dev/null
h_milter_stop
h_assert_eq 2 "$(h_xlen)" "stream: mails 4 and 5 queued (no worker running)"

# Redis down at start is no reason not to start, even with require_durable: the check is made
# when it answers (until then the milter refuses mail, as it would anyway).
h_redis_stop
h_milter_start "$C" || exit 1
h_worker_start "$C" || exit 1
h_pass "redis down: both daemons start with require_durable = yes"
h_redis_start || exit 1
h_wait_for "[[ \"\$(send 6)\" == *' 250 '* ]]" 30 "redis back and durable: mail 6 accepted"
h_wait_for "h_worker_drained '$C' 5" 60 "worker: mails 4, 5 and 6 ticketed too (5 tickets)"
h_worker_stop
h_milter_stop
