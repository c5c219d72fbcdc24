#!/bin/bash
# it_worker_readahead.sh: the batch a worker reads ahead, while it commits the batch before, is
# run once or left pending, never lost or doubled (worker/batch.c, read_ahead() in
# worker/intake-worker.c). 200 mails go through Postfix + intake-milter while no worker runs,
# so that the stream holds a backlog; then the worker (batches of 1) is started and stopped
# with SIGTERM over and over, each time once it has read at least two batches ahead, and sent
# SIGHUP once while it drains. Checked:
#   - under the backlog the worker reads ahead (intake_batches_total{read="ahead"});
#   - each SIGTERM ends with exit status 0; when the log says a batch read ahead stayed
#     pending, the consumer's pending entries are exactly that many (the batch before it was
#     committed and acknowledged), and a SIGTERM found a batch read ahead at least once;
#   - a SIGHUP during the drain is acted on (the log says the configuration was read again)
#     and the worker goes on reading ahead after it;
#   - at the end exactly 200 tickets, one per customer Message-ID, nothing pending, the stream
#     empty, no dead letters.
# Whether a SIGTERM lands before a read ahead (while the batch's entries run and the read waits
# for Redis) or after it (while the batch commits) is left to each run's timing. Since the
# acknowledgement is no longer waited for, the window after a read ahead is the commit alone: in
# trials one SIGTERM in 12 found a batch read ahead, and a backlog of 200 drains in about 12
# runs. So when the backlog drains before any SIGTERM found one, another 200 mails are sent
# (at most 10 times, some 130 runs: at one SIGTERM in 12, the chance that none finds one is
# about 2 in 100,000) and the runs go on.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_readahead

N=200
MAX_RUNS=200
C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
M=$(h_free_port)
# A claim due is read by the main loop, not ahead: claims every 60 s, so that they do not
# take the place of reads ahead in these short runs.
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 1000" "batch = 1" "claim_interval = 60s" \
    "[http]" "listen = 127.0.0.1:$M"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1

h_send_source "$P" "$N" support@example.test || exit 1
h_wait_for "[ \"\$(h_xlen)\" -eq $N ]" 120 "backlog: $N envelopes in the stream, no worker running"

# metric NAME{LABELS}: its value in a scrape of the running worker
metric() {
    curl -sf --max-time 10 "http://127.0.0.1:$M/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

# ahead_at LEAST: the worker has read LEAST batches ahead since it started, or all is stored
ahead_at() {
    [ "$(metric 'intake_batches_total{read="ahead"}')" -ge "$1" ] 2>/dev/null ||
	[ "$(h_tickets_count "$C")" -eq "$total" ]
}

runs=0 dropped_runs=0 hup_done=0 total=$N refills=0
while :; do
    if h_worker_drained "$C" "$total"; then
	[ "$dropped_runs" -gt 0 ] || [ "$refills" -ge 10 ] && break
	refills=$((refills + 1))
	h_send_source "$P" "$N" support@example.test || exit 1
	total=$((total + N))
	h_wait_for "[ \"\$(h_xlen)\" -eq $N ]" 120 "refill $refills: $N more envelopes in the stream"
    fi
    runs=$((runs + 1))
    [ "$runs" -gt "$MAX_RUNS" ] && h_die "not drained after $MAX_RUNS runs"
    h_worker_start "$C" || exit 1
    h_poll "ahead_at 2" 120 ||
	h_die "run $runs: the worker did not read ahead under a backlog (at $(h_tickets_count "$C") tickets)"
    if [ "$hup_done" = 0 ] && [ "$runs" -ge 2 ]; then
	hup_done=1
	kill -HUP "$H_WORKER_PID"
	h_wait_for "_h_worker_log | grep -q 'SIGHUP: configuration .* read again'" 60 \
	    "run $runs: SIGHUP acted on during the drain"
	now=$(metric 'intake_batches_total{read="ahead"}')
	h_wait_for "ahead_at $((now + 2))" 120 "run $runs: reading ahead goes on after the reload"
    fi
    h_worker_stop || h_fail "run $runs: the worker did not stop cleanly on SIGTERM"
    left=$(_h_worker_log | sed -n 's/.*stopping: \([0-9]*\) entries read ahead stay pending.*/\1/p')
    if [ -n "$left" ]; then
	dropped_runs=$((dropped_runs + 1))
	h_assert_eq "$left" "$(h_pending_count)" \
	    "run $runs: the $left entries read ahead are what stays pending"
    fi
done
h_note "$runs runs over $total mails; SIGTERM found a batch read ahead in $dropped_runs of them"
[ "$dropped_runs" -gt 0 ] && h_pass "a SIGTERM found a batch read ahead ($dropped_runs of $runs runs)" ||
    h_fail "no SIGTERM in $runs runs found a batch read ahead"
[ "$hup_done" = 1 ] || h_fail "the backlog drained before a SIGHUP could be sent"

h_assert_eq "$total" "$(h_tickets_count "$C")" "store: exactly $total tickets"
h_assert_eq "$total" "$(h_sql "$C" "SELECT count(*) FROM messages WHERE direction = 'in'")" \
    "store: $total incoming messages (none stored twice)"
h_assert_eq "$total" "$(h_sql "$C" "SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'in'")" \
    "store: $total distinct customer Message-IDs"
h_assert_eq 0 "$(h_xlen)" "stream: empty"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"
h_assert_eq 0 "$(h_xlen intake:dead)" "no dead letters"
h_milter_stop
