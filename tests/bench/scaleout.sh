# scaleout.sh: section 6 of make bench (BENCH_SECTIONS=scaleout), sourced by tests/bench/run after
# its helpers (bench_mails, drain, aof_settle, cpu_ms, rate, h_*). The same BENCH_SCALE_ENVELOPES (default
# BENCH_ENVELOPES) envelopes, made from section 2's mails, drained by:
#   - SQLite's single worker (section 2's drain), the baseline of the same run;
#   - PostgreSQL (a private cluster, tests/lib/pg.sh) with 1, 2 and 4 workers of one consumer
#     group, each run on a fresh database: the time until every envelope is a committed ticket;
#     tickets/s, its ratio to SQLite's, and CPU per ticket of the workers and of PostgreSQL (the
#     postmaster and every process it forked, /proc utime + stime, at the end minus the start);
#   - take-over: 2 workers on PostgreSQL, one SIGKILLed when a third of the tickets are stored;
#     the time from the kill until none of its entries is pending any more (claimed by the other
#     after [worker] claim_idle and acknowledged), and that no envelope was lost or doubled.
# Prints the figures; asserts nothing but that each drain completes.

# shellcheck shell=bash
. "$ROOT/tests/lib/pg.sh"

SCALE_N=${BENCH_SCALE_ENVELOPES:-$ENVELOPES}
echo "== 6. Scale-out: $SCALE_N envelopes, SQLite's single worker, then PostgreSQL with 1, 2, 4 workers"
[ -d "$T/mails" ] || bench_mails
h_pg_start > /dev/null || { echo "bench: PostgreSQL did not start"; exit 1; }

# pg_cpu_ms: CPU of the cluster so far, ms: the postmaster and its children (backends included).
pg_cpu_ms() {
    local pm
    pm=$(head -n 1 "$H_PG_DIR/data/postmaster.pid")
    cat /proc/[0-9]*/stat 2>/dev/null |
	awk -v pm="$pm" '$1 == pm || $4 == pm { s += ($14 + $15) * 10 } END { print s + 0 }'
}
# pg_fresh: an empty database intake (the workers make the schema).
pg_fresh() {
    h_pg_sql "DROP DATABASE IF EXISTS intake WITH (FORCE)" postgres > /dev/null &&
	h_pg_sql "CREATE DATABASE intake OWNER intake" postgres > /dev/null
}
pg_tickets() { h_pg_sql "SELECT count(*) FROM tickets" 2>/dev/null || echo 0; }
# scale_conf I: worker I's configuration: section 2's, on PostgreSQL, consumer benchI.
scale_conf() {
    cp "$T/intake.conf" "$T/scale-$1.conf"
    h_pg_conf "$T/scale-$1.conf"
    printf '\n[worker]\nconsumer = bench%s\nclaim_idle = 2s\nclaim_interval = 500ms\n' "$1" \
	>> "$T/scale-$1.conf"
}
# scale_fill: the stream holds SCALE_N fresh envelopes, the database nothing.
scale_fill() {
    pg_fresh || { echo "bench: cannot reset the database"; exit 1; }
    h_redis_cli DEL intake:envelopes > /dev/null
    "$BIN/envelope-tool" -c "$T/intake.conf" -m support -u -x -n "$SCALE_N" "$MAILDIR"/*.eml ||
	{ echo "bench: envelope-tool failed"; exit 1; }
    aof_settle
}
scale_stop() {
    local p
    for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
    for p in "$@"; do wait "$p" 2>/dev/null; done
}

DRAIN_N=$SCALE_N drain sqlite "$BIN/intake-worker" > "$T/scale-sqlite.out"
grep -E 'tickets/s|CPU' "$T/scale-sqlite.out"
SQ_RATE=$RATE
for w in 1 2 4; do
    scale_fill
    pids=()
    c0=$(pg_cpu_ms)
    t0=$(now)
    for ((i = 1; i <= w; i++)); do
	scale_conf "$i"
	"$BIN/intake-worker" -f -c "$T/scale-$i.conf" 2> "$T/scale-w$w-$i.log" &
	pids+=($!)
    done
    h_poll '[ "$(pg_tickets)" -ge "$SCALE_N" ]' 1800 || { echo "bench: $w workers did not drain"; exit 1; }
    t1=$(now)
    wcpu=0
    for p in "${pids[@]}"; do wcpu=$((wcpu + $(cpu_ms "$p"))); done
    pcpu=$(( $(pg_cpu_ms) - c0 ))
    scale_stop "${pids[@]}"
    r=$(rate "$SCALE_N" "$t0" "$t1")
    printf '   postgresql, %d worker(s): %s tickets/s, %.2fx SQLite'"'"'s single worker; CPU per ticket: workers %.2f ms, PostgreSQL %.2f ms\n' \
	"$w" "$r" "$(awk -v a="$r" -v b="$SQ_RATE" 'BEGIN { print a / b }')" \
	"$(awk -v c="$wcpu" -v n="$SCALE_N" 'BEGIN { print c / n }')" \
	"$(awk -v c="$pcpu" -v n="$SCALE_N" 'BEGIN { print c / n }')"
done

# Take-over: SIGKILL one of two workers a third of the way in.
scale_fill
scale_conf 1
scale_conf 2
"$BIN/intake-worker" -f -c "$T/scale-1.conf" 2> "$T/scale-kill-1.log" &
k1=$!
"$BIN/intake-worker" -f -c "$T/scale-2.conf" 2> "$T/scale-kill-2.log" &
k2=$!
h_poll '[ "$(pg_tickets)" -ge $((SCALE_N / 3)) ]' 1800 || { echo "bench: no progress"; exit 1; }
before=$(h_redis_cli XPENDING intake:envelopes intake - + 100000 bench1 | grep -c '^[0-9]*-[0-9]*$')
kill -KILL "$k1"
tk=$(now)
{ wait "$k1"; } 2>/dev/null	# without bash's "Killed" line
h_poll '[ "$(h_redis_cli XPENDING intake:envelopes intake - + 100000 bench1 | grep -c "^[0-9]*-[0-9]*$")" = 0 ]' 600 ||
    { echo "bench: the killed worker's entries were not taken over"; exit 1; }
tt=$(now)
h_poll '[ "$(pg_tickets)" -ge "$SCALE_N" ]' 1800 || { echo "bench: the survivor did not drain"; exit 1; }
scale_stop "$k2"
printf '   take-over: %d entries pending at the killed worker, all claimed and acknowledged %.1f s after the kill (claim_idle 2 s, claim_interval 0.5 s); %d tickets for %d envelopes, %d distinct dedupe keys\n' \
    "$before" "$(awk -v a="$tk" -v b="$tt" 'BEGIN { print b - a }')" "$(pg_tickets)" "$SCALE_N" \
    "$(h_pg_sql "SELECT count(DISTINCT dedupe_key) FROM messages WHERE direction = 'in'")"
h_pg_stop
