#!/bin/bash
# it_redis_stall.sh: Redis hangs (SIGSTOP: connections are accepted, nothing is answered). The
# milter's connections share one backoff (common/redisq.c): once one of them has waited out its
# timeout, the others answer 451 at once instead of each waiting a timeout of its own, and only
# one connection at a time tries Redis again. Nothing is lost: the front keeps the mails and
# delivers them once Redis runs again. An XADD that timed out was still read by Redis and runs
# when it continues: those mails are in the stream twice (the worker's de-duplication makes them
# one ticket); no other mail is.
#
#   smtp-source -> FRONT postfix (relays) -> BACK postfix (+ intake-milter, [redis] timeout 1s)
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"	# h_check
h_init it_redis_stall

# A stopped Redis cannot be shut down: continue it before h_cleanup stops it.
trap '_st_exit' EXIT
_st_exit() {
    local rc=$?
    [ -n "$H_REDIS_PID" ] && kill -CONT "$H_REDIS_PID" 2>/dev/null
    (exit "$rc")
    h_cleanup
}

TEMPFAIL="Intake test: ticket queue stalled"
h_redis_start || exit 1
h_write_conf "$T/intake.conf" "[milter]" "tempfail_text = $TEMPFAIL" "[redis]" "timeout = 1s"
h_milter_start "$T/intake.conf" || exit 1
B=$(h_free_port)
F=$(h_free_port)
h_postfix_start back "$B" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_postfix_front front "$F" "$B" || exit 1

# Fill the milter's pool: 10 sessions at once straight to the back.
h_send_source "$B" 60 support@example.test || h_die "back did not accept the first 60 mails"
h_assert_eq 60 "$(h_xlen)" "60 envelopes while Redis runs"
# connected clients, less this redis-cli and the milter's durability check
pooled=$(( $(h_redis_cli INFO clients | sed -n 's/^connected_clients:\([0-9]*\).*/\1/p') - 2 ))
h_note "the milter's pool holds $pooled connections"
h_check '[ "$pooled" -ge 2 ]' "the pool has several connections ($pooled) to stall on"

kill -STOP "$H_REDIS_PID"
h_note "redis stopped (SIGSTOP)"

before=$(grep -c 'deferred (451' "$T/milter.log")
start=$SECONDS
h_send_source "$F" 30 support@example.test || h_die "front did not accept the 30 mails"
h_wait_for '[ "$(h_postfix_deferred_count front)" -eq 30 ]' 120 "front: all 30 deferred"
h_note "deferred within $((SECONDS - start))s"
grep 'deferred (451' "$T/milter.log" | tail -n +$((before + 1)) > "$T/stalled.log"
waited=$(grep -vc 'unavailable (' "$T/stalled.log")
fast=$(grep -c 'unavailable (' "$T/stalled.log")
h_note "451s: $fast at once (backoff), $waited after waiting on Redis; e.g. $(grep -v 'unavailable (' "$T/stalled.log" | head -n 1 | sed 's/.*deferred/deferred/')"
h_assert_eq 30 "$((fast + waited))" "milter: 30 mails answered 451"
# Those in flight when Redis stopped each wait their timeout (nothing tells them sooner), and
# so does each probe after a backoff; the others are answered at once.
h_check '[ "$waited" -le 10 ]' "milter: at most 10 of the 30 waited on Redis ($waited)"
h_assert_eq 0 "$(h_postfix_queue_count back)" "back: kept nothing"

kill -CONT "$H_REDIS_PID"
h_note "redis continued (SIGCONT)"
if h_postfix_flush_until_empty front 60 2; then
    h_pass "front: queue empty after flushing"
else
    h_fail "front: still $(h_postfix_queue_count front) queued"
fi
n=$(h_xlen)
h_check '[ "$n" -ge 90 ] && [ "$n" -le $((90 + waited)) ]' \
    "stream: $n envelopes: the 90 mails, and again at most the $waited whose XADD timed out"
h_assert_eq 90 "$(h_stream_envelopes | jq -r '.message_id // empty' | sort -u | wc -l)" \
    "envelopes: 90 distinct message ids (none lost, none twice)"
h_postfix_wait_empty back 60 || h_fail "back: queue did not drain"
h_assert_eq 90 "$(h_maildir_count back support@example.test)" "back: support@ got the 90 mails"

kill -STOP "$H_REDIS_PID"
h_note "redis stopped again (SIGSTOP)"
# Sustained load while Redis hangs: 20 sessions straight to the back, 1000 mails (smtp-source -A
# goes on after a 451). Only the first wave and one probe per backoff period may wait.
before=$(grep -c 'deferred (451' "$T/milter.log")
start=$SECONDS
smtp-source -A -s 20 -m 1000 -f sender@client.test -t support@example.test -M client.test \
    "127.0.0.1:$B" > "$T/load.out" 2>&1
took=$((SECONDS - start))
grep 'deferred (451' "$T/milter.log" | tail -n +$((before + 1)) > "$T/load.log"
waited=$(grep -vc 'unavailable (' "$T/load.log")
h_note "sustained load: 1000 mails in ${took}s, $waited of them waited on Redis"
h_assert_eq 1000 "$(wc -l < "$T/load.log")" "milter: 1000 mails answered 451"
h_check '[ "$waited" -le $((20 + 2 * took)) ]' \
    "milter: the 20 in flight and about one probe a second waited, not every session ($waited in ${took}s)"

kill -CONT "$H_REDIS_PID"
h_milter_stop
