#!/bin/bash
# it_queue_deliveries.sh: entries the worker claims carry their true delivery count, also when
# the worker holds many pending entries of its own between them (worker/queue.c fill_deliveries:
# an XPENDING over [first claimed, last claimed] limited to "claimed + 10" entries saw only the
# first of them, and the others stayed at count 1 and never reached max_deliveries).
#
# Set up with redis-cli, before the worker starts (consumer "test", claim_idle 30m,
# max_deliveries 5): corrupt entries C1, O1..O20, C2 in that order; C1 and C2 pending to a dead
# consumer, idle for an hour, delivered 5 times (XCLAIM IDLE/RETRYCOUNT); O1..O20 pending to
# "test", just delivered. The worker's first claim takes C1 and C2 (6th delivery): both go to
# the dead letters at once; none of the O entries does (they are not idle, and their counts are low).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_queue_deliveries

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 5" "claim_idle = 30m" "claim_interval = 200ms"

Q=intake:envelopes
h_redis_cli XGROUP CREATE "$Q" intake 0 MKSTREAM > /dev/null
C1=$(h_redis_cli XADD "$Q" '*' v 1 envelope '{not json C1')
O=()
for i in $(seq 1 20); do O+=("$(h_redis_cli XADD "$Q" '*' v 1 envelope "{not json O$i")"); done
C2=$(h_redis_cli XADD "$Q" '*' v 1 envelope '{not json C2')
h_redis_cli XREADGROUP GROUP intake dead COUNT 100 STREAMS "$Q" '>' > /dev/null
h_redis_cli XCLAIM "$Q" intake dead 0 "$C1" "$C2" IDLE 3600000 RETRYCOUNT 5 JUSTID > /dev/null
h_redis_cli XCLAIM "$Q" intake test 0 "${O[@]}" IDLE 0 RETRYCOUNT 1 JUSTID > /dev/null
h_assert_eq "5 5" "$(h_redis_cli XPENDING "$Q" intake - + 100 dead | awk 'NR % 4 == 0' | tr '\n' ' ' | sed 's/ $//')" \
    "C1 and C2: pending to 'dead', delivered 5 times"
h_assert_eq 20 "$(h_redis_cli XPENDING "$Q" intake - + 100 test | awk 'NR % 4 == 1' | wc -l)" \
    "O1..O20: pending to 'test'"

h_worker_start "$C" || exit 1
h_wait_for '[ "$(h_xlen intake:dead)" -eq 2 ]' 30 "C1 and C2 reached the dead letters"
h_assert_eq "$C1 $C2" "$(h_redis_cli --json XRANGE intake:dead - + | jq -r '[.[] | .[1] as $f
	| range(0; $f | length; 2) | select($f[.] == "entry") | $f[. + 1]] | sort | join(" ")')" \
    "  exactly those two"
h_assert_eq 6 "$(h_redis_cli --json XRANGE intake:dead - + | jq -r '[.[] | .[1] as $f
	| range(0; $f | length; 2) | select($f[.] == "deliveries") | $f[. + 1]] | unique | join(" ")')" \
    "  each after its 6th delivery"
h_assert_eq 20 "$(h_pending_count)" "O1..O20 still pending (not idle long enough to be claimed)"
h_worker_stop
