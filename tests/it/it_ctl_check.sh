#!/bin/bash
# it_ctl_check.sh: intakectl check as Nagios/Icinga run it. Each threshold is crossed in turn and
# the exit status and the one-line output follow: 0 OK, 1 WARNING, 2 CRITICAL for the stream's
# length, the oldest pending entry's age, dead letters and owed replies (a worker whose relay is
# down owes them), 3 UNKNOWN for bad thresholds and for Redis down. The performance data carries
# value, warning and critical thresholds and minimum for each.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_ctl_check

C=$T/intake.conf
h_redis_start || exit 1
R=$(h_free_port)		# nothing listens there: acknowledgements stay owed
h_worker_conf "$C" "$R" "[worker]" "claim_idle = 1s" "claim_interval = 200ms"

# check EXPECTED_STATUS MESSAGE ARGS...: run intakectl check ARGS, assert its exit status; the
# line is left in $LINE.
check() {
    local want=$1 msg=$2 rc
    shift 2
    LINE=$(h_ctl "$C" check "$@" 2>/dev/null)
    rc=$?
    h_assert_eq "$want" "$rc" "check $*: exit $want ($msg): $LINE"
}

check 0 "empty queue"
h_assert_eq "INTAKE OK - pending age 0s, stream 0, dead letters 0, owed replies 0 | pending_age=0s;300;900;0 stream=0;1000;10000;0 dead_letters=0;1;100;0 owed_replies=0;100;1000;0" \
    "$LINE" "OK line with performance data of every value"

cat > "$T/m.eml" <<'MAIL'
From: Carla Check <carla@example.test>
To: support@example.test
Subject: Where is my order?
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <check-1@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

It has not arrived.
MAIL
"$INTAKE_BIN/envelope-tool" -c "$C" -m support -x -u -n 3 "$T/m.eml" >/dev/null ||
    h_die "envelope-tool could not add 3 envelopes"
check 0 "stream 3 under 4,5" --stream 4,5
check 1 "stream 3 at warning 3" --stream 3,5
case "$LINE" in "INTAKE WARNING - stream 3 (>= 3), pending age"*) h_pass "WARNING line names the stream first" ;;
    *) h_fail "WARNING line does not start with the stream: $LINE" ;; esac
check 2 "stream 3 at critical 3" --stream 2,3
case "$LINE" in "INTAKE CRITICAL - stream 3 (>= 3)"*) h_pass "CRITICAL line names the stream" ;;
    *) h_fail "CRITICAL line: $LINE" ;; esac

# A consumer that took the entries and died: they stay pending and age.
h_redis_cli XGROUP CREATE intake:envelopes intake 0 >/dev/null
h_redis_cli XREADGROUP GROUP intake ghost COUNT 3 STREAMS intake:envelopes '>' >/dev/null
h_wait_for "[ \"\$(h_ctl '$C' status --json | jq '.oldest_pending_age_s >= 2')\" = true ]" 10 \
    "status: the oldest pending entry is 2 s old"
check 1 "pending age >= 2" --pending-age 2,3600
check 2 "pending age >= 1 critical" --pending-age 0,1
case "$LINE" in *"pending_age="[0-9]*"s;0;1;0 "*) h_pass "pending_age perf data in seconds with its thresholds" ;;
    *) h_fail "pending_age perf data: $LINE" ;; esac

h_redis_cli XADD intake:dead '*' entry 1-1 error test >/dev/null
check 1 "one dead letter at the default 1,100"
check 2 "one dead letter at 0,1" --dead-letters 0,1
check 0 "one dead letter under 2,3" --dead-letters 2,3

# A worker takes over the entries (claim_idle 1 s) and owes 3 acknowledgements: the relay is down.
h_worker_start "$C" || exit 1
h_wait_for "[ \"\$(h_outbox_count '$C' owed)\" = 3 ]" 30 "worker: 3 acknowledgements owed"
check 0 "owed 3 under 4,5" --owed-replies 4,5 --dead-letters 2,3
check 1 "owed 3 at 3,5" --owed-replies 3,5 --dead-letters 2,3
check 2 "owed 3 at 1,3" --owed-replies 1,3 --dead-letters 2,3
case "$LINE" in *"owed_replies=3;1;3;0"*) h_pass "owed_replies perf data" ;;
    *) h_fail "owed_replies perf data: $LINE" ;; esac
h_worker_stop

# intakectl status: the throughput, from the tickets' creation times.
h_assert_eq "3 3 3" "$(h_ctl "$C" status --json |
		       jq -r '"\(.store.tickets_last_1m) \(.store.tickets_last_5m) \(.store.tickets_last_15m)"')" \
    "status --json: 3 tickets in the last 1, 5 and 15 minutes"
h_assert_eq "throughput      tickets per minute: 3.0 (last minute), 0.6 (5 minutes), 0.2 (15 minutes)" \
    "$(h_ctl "$C" status | grep '^throughput')" "status: throughput per minute"
# --watch repeats until interrupted; timeout interrupts it after 2.5 s (at least 2 rounds of 1 s).
timeout -s INT 2.5 "$INTAKE_BIN/intakectl" -c "$C" status --watch=1 > "$T/watch.txt" 2>&1
rounds=$(grep -c '^throughput ' "$T/watch.txt")
[ "$rounds" -ge 2 ] && h_pass "status --watch=1: $rounds rounds in 2.5 s" ||
    h_fail "status --watch=1: $rounds rounds in 2.5 s"

check 3 "warning above critical" --stream 5,2
case "$LINE" in "INTAKE UNKNOWN - "*) h_pass "bad thresholds: UNKNOWN line" ;;
    *) h_fail "bad thresholds: $LINE" ;; esac
check 3 "not a number" --pending-age abc
check 3 "unknown option" --bogus 1,2

h_redis_stop
check 3 "Redis down"
case "$LINE" in "INTAKE UNKNOWN - cannot read the queue: "*) h_pass "Redis down: UNKNOWN names the queue" ;;
    *) h_fail "Redis down: $LINE" ;; esac
