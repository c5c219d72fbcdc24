#!/bin/bash
# it_redis_oom.sh: Redis at maxmemory (noeviction) refuses XADD, XGROUP CREATE and HSET with -OOM,
# and still serves what draining needs (XREADGROUP, XAUTOCLAIM, XPENDING, XACK, XDEL, HDEL):
#   smtp-source -> FRONT postfix (no milter, relays) -> BACK postfix (+ intake-milter) -> Maildir
#   1. 20 mails with a worker running: 20 tickets (the group exists). Worker stopped; 30 more
#      mails and one corrupt entry wait in the stream, and one pending entry without fields
#      (what a crash between the XDEL and the XACK of an acknowledgement leaves).
#   2. maxmemory lowered with CONFIG SET until an XADD fails. 25 more mails: the milter answers
#      451 ("OOM" in its log), the front keeps all 25 deferred, the stream does not grow.
#   3. The worker is started again, still at maxmemory: it drains the backlog (50 tickets, no
#      failed read: a worker that ran XGROUP CREATE before reading never would; acknowledging
#      without MULTI, which Redis refuses then), the entry without fields is acknowledged, and
#      the corrupt entry cannot reach the dead letters (their XADD is refused): the worker logs
#      Redis's OOM error for it (not the DISCARD that followed), and it stays pending.
#   4. maxmemory raised: the front's flush delivers the 25; 75 tickets, one per mail, the customer
#      Message-IDs exactly those Postfix delivered; the corrupt entry now in the dead letters.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_redis_oom

TEMPFAIL="Intake test: ticket queue full"
C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[milter]" "tempfail_text = $TEMPFAIL" \
    "[worker]" "max_deliveries = 2" "claim_idle = 300ms" "claim_interval = 200ms"
h_milter_start "$C" || exit 1
B=$(h_free_port)
F=$(h_free_port)
h_postfix_start back "$B" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_postfix_front front "$F" "$B" || exit 1

# xadd_refused: (a condition) Redis refuses an XADD with OOM now.
xadd_refused() {
    h_redis_cli XADD oom:probe '*' f v 2>&1 | grep -q '^OOM'
}

# 1. A worker has run (the group exists); then a backlog.
h_worker_start "$C" || exit 1
h_send_source "$F" 20 support@example.test || h_die "front did not accept the first 20 mails"
h_wait_for "h_worker_drained '$C' 20" 120 "20 mails: 20 tickets"
h_worker_stop
# What a crash between queue_ack's XDEL and XACK leaves: a pending entry without fields.
GONE=$(h_redis_cli XADD intake:envelopes '*' v 1 envelope '{}')
h_redis_cli XREADGROUP GROUP intake test COUNT 1 STREAMS intake:envelopes '>' > /dev/null
h_redis_cli XDEL intake:envelopes "$GONE" > /dev/null
h_assert_eq "1 $GONE" "$(h_pending_count) $(h_redis_cli XPENDING intake:envelopes intake - + 10 | head -n 1)" \
    "entry $GONE: pending to the worker, deleted"
h_send_source "$F" 30 support@example.test || h_die "front did not accept the next 30 mails"
h_wait_for '[ "$(h_xlen)" -eq 30 ] && [ "$(h_postfix_queue_count front)" -eq 0 ]' 120 \
    "worker stopped: 30 mails wait in the stream"
BAD=$(h_redis_cli XADD intake:envelopes '*' v 1 envelope '{not json')
h_note "corrupt entry $BAD"

# 2. Out of memory.
used=$(h_redis_cli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
max=$used
while ! xadd_refused; do
    max=$((max * 3 / 4))
    h_redis_cli CONFIG SET maxmemory "$max" > /dev/null
    [ "$max" -gt 1000 ] || h_die "XADD still accepted with maxmemory $max"
done
h_redis_cli DEL oom:probe > /dev/null
h_note "used_memory $used bytes; XADD refused from maxmemory $max"
h_check xadd_refused "maxmemory $max: Redis refuses XADD with OOM"

h_send_source "$F" 25 support@example.test || h_die "front did not accept the 25 mails"
h_wait_for '[ "$(h_postfix_deferred_count front)" -eq 25 ]' 120 "front: all 25 deferred"
h_postfix_queue_json front > "$T/front-queue.json"
h_assert_eq 25 "$(jq -s --arg t "$TEMPFAIL" '[.[] | select(.queue_name == "deferred")
	| select(all(.recipients[]; (.delay_reason // "") | contains($t)))] | length' "$T/front-queue.json")" \
    "front: each deferred with the milter's 451 text"
h_check 'grep -q "deferred (451 4.3.0): .*OOM command not allowed" "$T/milter.log"' \
    "milter: logged Redis's OOM refusal as the reason"
h_assert_eq 31 "$(h_xlen)" "stream: still the 30 mails and the corrupt entry"

# 3. A worker started at maxmemory drains the backlog.
h_worker_start "$C" || exit 1
h_wait_for "[ \"\$(h_tickets_count '$C')\" -eq 50 ] && [ \"\$(h_xlen)\" -eq 1 ] && [ \"\$(h_pending_count)\" -eq 1 ]" 120 \
    "at maxmemory, the restarted worker drained the backlog: 50 tickets, only the corrupt entry left"
h_check '! _h_worker_log | grep -q "queue: "' "worker: no read failed at maxmemory"
h_assert_eq "$BAD" "$(h_redis_cli XPENDING intake:envelopes intake - + 10 | head -n 1)" \
    "the deleted pending entry was acknowledged at maxmemory; only the corrupt one is pending"
h_wait_for '_h_worker_log | grep -q "entry $BAD: cannot move to the dead-letter stream: .*OOM command not allowed"' 30 \
    "worker: the dead-letter move is refused, and the log names Redis's OOM error"
h_check '! _h_worker_log | grep -q "DISCARD"' "worker: the error is not DISCARD's"
h_check '_h_worker_log | grep -q "entry $BAD: cannot note the error: .*OOM"' \
    "worker: noting the error (HSET) is refused too, and only logged"
h_check xadd_refused "still at maxmemory after draining"
h_assert_eq 0 "$(h_xlen intake:dead)" "no dead letter while at maxmemory"

# 4. Memory again.
h_redis_cli CONFIG SET maxmemory 0 > /dev/null
if h_postfix_flush_until_empty front 60 2; then
    h_pass "front: queue empty after flushing"
else
    h_fail "front: still $(h_postfix_queue_count front) queued 60s after maxmemory was raised"
fi
h_wait_for "h_worker_drained '$C' 75" 120 "75 tickets, stream empty, nothing pending"
h_wait_for '[ "$(h_xlen intake:dead)" -eq 1 ]' 30 "the corrupt entry reached the dead letters"
h_assert_eq "$BAD" "$(h_redis_cli XRANGE intake:dead - + | sed -n '3p')" "  (entry $BAD)"
h_postfix_wait_empty back 60 || h_fail "back: queue did not drain"
h_maildir_files back support@example.test | xargs -r grep -h -i -m1 '^Message-Id:' |
    sed -E 's/^[^:]*:[ \t]*<?//; s/>?[ \t\r]*$//' | sort > "$T/mids.sent"
h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'in'" | sort > "$T/mids.stored"
h_assert_eq 75 "$(sort -u "$T/mids.sent" | wc -l)" "back: 75 distinct mails delivered to support@"
h_assert_eq 75 "$(h_sql "$C" "SELECT count(*) FROM messages WHERE direction = 'in'")" \
    "store: 75 incoming messages (none twice)"
h_check 'cmp -s "$T/mids.sent" "$T/mids.stored"' "store: the customer Message-IDs are exactly those delivered"
h_assert_eq 0 "$(h_maillog_count front 'status=bounced')" "front: nothing bounced"

h_worker_stop
h_milter_stop
