#!/bin/bash
# it_import_backlog.sh: intakectl import respects Redis's backpressure instead of failing.
#   1. No worker, --max-backlog 3: the import queues 3 mails and waits (saying so), still
#      running; a worker started then lets it finish: exit 0, every mail a ticket.
#   2. Redis at maxmemory (noeviction) refuses XADD with OOM: the import waits (saying so),
#      still running, nothing lost; maxmemory raised: it finishes, every mail a ticket.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_import_backlog

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"

# mbox FILE TAG N: N written mails in the mbox FILE.
mbox() {
    local i
    : > "$1"
    for i in $(seq 1 "$3"); do
	printf 'From x@example.org Mon Nov 30 10:00:00 2026\n'
	printf 'From: <c%s@example.org>\nSubject: backlog %s %s\n' "$i" "$2" "$i"
	printf 'Message-ID: <backlog-%s-%s@example.org>\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n\n' \
	    "$2" "$i"
	printf 'Mail %s of %s.\n\n' "$i" "$2"
    done >> "$1"
}

# alive PID: the import still runs.
alive() { _h_alive "$1"; }

# 1. --max-backlog
mbox "$T/a.mbox" a 8
h_ctl "$C" import --mailbox support --max-backlog 3 "$T/a.mbox" > "$T/a.out" 2> "$T/a.err" &
PID=$!
h_wait_for "[ \"\$(h_xlen)\" = 3 ] && grep -q 'waiting for the worker' '$T/a.err'" 30 \
    "no worker, --max-backlog 3: 3 entries queued, the import says it waits"
h_check "alive $PID" "the import is still running (waiting, not failed)"
h_worker_start "$C" || exit 1
wait "$PID"
h_assert_eq 0 "$?" "worker started: the import finished, exit status 0"
h_check "grep -q '^import: read 8, queued 8 ' '$T/a.out'" "import: read 8, queued 8: $(cat "$T/a.out")"
h_wait_for "h_worker_drained '$C' 8" 60 "8 tickets"

# 2. OOM
used=$(h_redis_cli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
max=$used
while ! h_redis_cli XADD oom:probe '*' f v 2>&1 | grep -q '^OOM'; do
    max=$((max * 3 / 4))
    h_redis_cli CONFIG SET maxmemory "$max" > /dev/null
    [ "$max" -gt 1000 ] || h_die "XADD still accepted with maxmemory $max"
done
h_note "XADD refused from maxmemory $max"
mbox "$T/b.mbox" b 5
h_ctl "$C" import --mailbox support "$T/b.mbox" > "$T/b.out" 2> "$T/b.err" &
PID=$!
h_wait_for "grep -q 'Redis refuses new entries (.*server said: OOM' '$T/b.err'" 30 \
    "Redis at maxmemory: the import says Redis refuses, and waits"
h_check "alive $PID" "the import is still running (waiting, not failed)"
h_redis_cli CONFIG SET maxmemory 0 > /dev/null
h_redis_cli DEL oom:probe > /dev/null
wait "$PID"
h_assert_eq 0 "$?" "maxmemory raised: the import finished, exit status 0"
h_check "grep -q '^import: read 5, queued 5 ' '$T/b.out'" "import: read 5, queued 5: $(cat "$T/b.out")"
h_wait_for "h_worker_drained '$C' 13" 60 "13 tickets in all: nothing lost"

h_worker_stop
