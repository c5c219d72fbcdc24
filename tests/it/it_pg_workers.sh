#!/bin/bash
# it_pg_workers.sh: several workers on one PostgreSQL store lose nothing and double nothing.
# N mails (distinct Message-IDs and senders; PG_WORKERS_N, default 1000: the issue's 5000 take
# some six minutes on this shared 2-core machine under ASan, see docs/design.md) are queued into the
# stream by intakectl import --acknowledge (the milter's own code path), and three workers
# (consumers w1, w2, w3 of one group) ticket them while a random worker is killed with SIGKILL
# and restarted every 0.3-1.3 s (once left dead until the others have claimed every entry it
# held: XAUTOCLAIM after claim_idle; the takeover time is printed), and PostgreSQL itself is
# restarted once (pg_ctl restart: every
# connection lost, open transactions rolled back). Then F tickets get two follow-ups each, queued
# at once, so that two workers store answers to one ticket at the same time, and V new senders
# write two new mails each, at once: [smtp] reply_window (one acknowledgement per sender) holds
# across workers. Afterwards:
#   - exactly N + 2V tickets with distinct numbers; the customer Message-IDs stored are exactly
#     the N + 2F + 2V queued, each once (nothing lost, nothing stored twice);
#   - each of the F tickets holds its mail and both follow-ups (3 incoming messages);
#   - one acknowledgement row per ticket, none left 'owed', 'sending' or leased; of each of the V
#     senders' two tickets one acknowledged and one 'suppressed' by the window; no two captured
#     at the sink answer the same mail, and sent <= captured <= sent + unknown ('unknown' only
#     when a kill hit the SMTP data phase);
#   - the stream is empty, nothing pending, no dead letters; no worker printed a sanitizer report.
# Random delays choose when to kill, they synchronise nothing: every wait polls a condition.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/pg.sh"
h_init it_pg_workers

N=${PG_WORKERS_N:-1000}
F=100
V=20
W=3
C=$T/intake.conf
h_pg_start || exit 1
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
# Redeliveries after kills count toward max_deliveries: raised, so that kills cannot send
# healthy mail to the dead letters. A killed worker is restarted under its own name and reads
# its pending entries first, so claim_idle can be longer than a loaded machine's slowest batch
# (entries claimed from a live worker are processed twice: correct, but wasted work).
# [smtp] timeout bounds a reply's lease (store_pg_outbox.c).
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 1000" "claim_idle = 10s" "batch = 16" \
    "[smtp]" "timeout = 3s" "reply_window = 1h"
h_pg_conf "$C"
for i in $(seq 1 $W); do
    { cat "$C"; printf '\n[worker]\nconsumer = w%d\n' "$i"; } > "$T/w$i.conf"
done

# ---- the workers: started, killed and stopped here (worker.sh handles one at a time) ----
declare -a WPID
w_start() {
    local i=$1
    echo "# ---- start $(date '+%T.%N') ----" >> "$T/w$i.log"
    "$INTAKE_BIN/intake-worker" -f -c "$T/w$i.conf" >> "$T/w$i.log" 2>&1 &
    WPID[i]=$!
    h_poll "! _h_alive ${WPID[i]} || [ \$(grep -c ' starting: ' '$T/w$i.log') -ge \$(grep -c '^# ---- start' '$T/w$i.log') ]" 30 &&
	_h_alive "${WPID[i]}" || { h_fail "worker w$i did not start"; tail -n 20 "$T/w$i.log" | sed 's/^/#   /'; return 1; }
}
w_kill() {
    local i=$1 pid=${WPID[$1]}
    _h_alive "$pid" || { h_fail "worker w$i ($pid) had died by itself"; return 1; }
    { kill -KILL "$pid"; _h_wait_gone "$pid" 10; wait "$pid"; } 2>/dev/null
    WPID[i]=
    echo "# ---- killed $(date '+%T.%N') ----" >> "$T/w$i.log"
}
h_pg_extra_cleanup() {		# pg.sh's EXIT trap: the workers before the cluster
    local i
    for i in $(seq 1 $W); do [ -n "${WPID[i]:-}" ] && h_pg_w_stop "$i"; done
    return 0
}

# consumer_pending NAME: entries delivered to consumer NAME and not acknowledged
consumer_pending() {
    h_redis_cli --json XPENDING intake:envelopes intake - + 100000 "$1" 2>/dev/null | jq length
}
drained() {
    [ "$(h_pg_count tickets)" = "$1" ] && [ "$(h_xlen 2>/dev/null)" = 0 ] &&
	[ "$(h_pending_count 2>/dev/null)" = 0 ]
}

# ---- the mails: N originals, then two follow-ups to each of the first F ----
NOW=$(date -R)
awk -v n="$N" -v now="$NOW" 'BEGIN {
    for (i = 1; i <= n; i++) {
	printf "From cust%d@client.test %s\n", i, "Mon Jan  1 00:00:00 2026"
	printf "From: Customer %d <cust%d@client.test>\nTo: support@example.test\n", i, i
	printf "Subject: scale-out question %d\nDate: %s\nMessage-ID: <pgw-%d@client.test>\n", i, now, i
	printf "\nHello, this is question number %d about the scale-out.\n\n", i
    } }' > "$T/originals.mbox"
awk -v f="$F" -v now="$NOW" 'BEGIN {
    for (i = 1; i <= f; i++) for (k = 1; k <= 2; k++) {
	printf "From cust%d@client.test %s\n", i, "Mon Jan  1 00:00:00 2026"
	printf "From: Customer %d <cust%d@client.test>\nTo: support@example.test\n", i, i
	printf "Subject: Re: scale-out question %d\nDate: %s\n", i, now
	printf "Message-ID: <pgw-%d-fu%d@client.test>\nIn-Reply-To: <pgw-%d@client.test>\n", i, k, i
	printf "References: <pgw-%d@client.test>\n\nMore about question %d, part %d.\n\n", i, i, k
    } }' > "$T/followups.mbox"
awk -v v="$V" -v now="$NOW" 'BEGIN {
    for (k = 1; k <= 2; k++) for (i = 1; i <= v; i++) {
	printf "From window%d@client.test %s\n", i, "Mon Jan  1 00:00:00 2026"
	printf "From: Window %d <window%d@client.test>\nTo: support@example.test\n", i, i
	printf "Subject: window topic %d-%d\nDate: %s\nMessage-ID: <pgw-window-%d-%d@client.test>\n", i, k, now, i, k
	printf "\nA new matter, number %d of sender %d.\n\n", k, i
    } }' > "$T/window.mbox"

start=$SECONDS
h_ctl "$C" import --mailbox support --acknowledge --max-backlog 0 "$T/originals.mbox" \
    > "$T/import1.out" 2>&1 || h_die "import of the originals failed: $(tail -n 3 "$T/import1.out")"
h_assert_eq "$N" "$(h_xlen)" "stream: $N entries queued by intakectl import ($((SECONDS - start))s)"

w_start 1 || exit 1		# first alone: it makes the Message-ID secret the others read
for i in $(seq 2 $W); do w_start "$i" || exit 1; done
start=$SECONDS

kills=0
restarted=0
claimed=0
while [ "$(h_pg_count tickets)" -lt "$N" ] || [ "$kills" -lt 3 ]; do
    ms=$((300 + RANDOM % 1001))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    i=$((1 + RANDOM % W))
    w_kill "$i" || h_die "worker w$i was not running when it was to be killed"
    kills=$((kills + 1))
    held=$(consumer_pending "w$i")
    if [ "$claimed" = 0 ] && [ "${held:-0}" -gt 0 ]; then
	# Left dead: the two others must take over what it held.
	t0=$SECONDS
	h_poll "[ \"\$(consumer_pending w$i)\" = 0 ]" 120 ||
	    h_die "the $held entries of killed worker w$i were not claimed by the others in 120s"
	claimed=$((SECONDS - t0))
	h_note "the $held entries of killed worker w$i were claimed by the others in ${claimed}s"
	[ "$claimed" -gt 0 ] || claimed=1
    fi
    w_start "$i" || h_die "worker w$i did not start again after kill $kills"
    if [ "$restarted" = 0 ] && [ "$(h_pg_count tickets)" -ge $((N / 3)) ]; then
	h_pg_restart || h_die "PostgreSQL did not restart"
	restarted=1
	h_note "PostgreSQL restarted at $(h_pg_count tickets) tickets"
    fi
    [ $((SECONDS - start)) -lt 150 ] || break
done
h_note "$kills kills in $((SECONDS - start))s"
h_assert_eq 1 "$restarted" "PostgreSQL was restarted once while mail flowed"
h_check "[ $claimed -gt 0 ]" "a killed worker's entries were claimed by the other workers"
h_wait_for "drained $N" 300 "$N tickets, stream empty, nothing pending ($((SECONDS - start))s)"

# Follow-ups and the window senders' mails: all queued at once, so that the two answers to one
# ticket, and the two mails of one sender, reach different workers.
for f in followups window; do
    h_ctl "$C" import --mailbox support --acknowledge --max-backlog 0 "$T/$f.mbox" \
	> "$T/import-$f.out" 2>&1 || h_die "import of $f.mbox failed: $(tail -n 3 "$T/import-$f.out")"
done
NT=$((N + 2 * V))
h_wait_for "[ \"\$(h_pg_count \"messages WHERE message_id LIKE 'pgw-%-fu%'\")\" = $((2 * F)) ] &&
	    drained $NT" 240 "the $((2 * F)) follow-ups and $((2 * V)) new tickets stored, stream drained"
h_wait_for "[ \"\$(h_pg_count \"outbox WHERE state IN ('owed', 'sending')\")\" = 0 ]" 120 \
    "outbox: no reply left owed or being sent"

# ---- what the store holds ----
h_assert_eq "$NT $NT" "$(h_pg_sql "SELECT count(*), count(DISTINCT number) FROM tickets" | tr '|' ' ')" \
    "store: exactly $NT tickets, $NT distinct numbers"
h_assert_eq "$((NT + 2 * F)) $((NT + 2 * F))" \
    "$(h_pg_sql "SELECT count(*), count(DISTINCT message_id) FROM messages WHERE direction = 'in'
		 AND message_id LIKE 'pgw-%@client.test'" | tr '|' ' ')" \
    "store: the $((NT + 2 * F)) queued Message-IDs, each stored once"
h_assert_eq "$F" "$(h_pg_sql "SELECT count(*) FROM (SELECT t.id FROM tickets t
			     JOIN messages m ON m.ticket_id = t.id AND m.direction = 'in'
			     WHERE t.title ~ '^scale-out question [0-9]+\$'
			     AND substring(t.title from '[0-9]+\$')::int <= $F
			     GROUP BY t.id HAVING count(*) = 3
			     AND count(*) FILTER (WHERE m.message_id LIKE 'pgw-%-fu%') = 2) x")" \
    "follow-ups: each of the $F tickets holds its mail and both answers"
h_assert_eq "$NT 0" "$(h_pg_sql "SELECT count(*), count(*) FILTER (WHERE lease_owner IS NOT NULL)
			       FROM outbox WHERE kind = 'ack'" | tr '|' ' ')" \
    "outbox: one acknowledgement row per ticket, no lease left held"
h_assert_eq "$NT" "$(h_pg_sql "SELECT count(DISTINCT ticket_id) FROM outbox WHERE kind = 'ack'")" \
    "outbox: the $NT acknowledgement rows belong to $NT different tickets"
h_assert_eq "$V $V $V" "$(h_pg_sql "SELECT count(DISTINCT window_key),
				    count(*) FILTER (WHERE state IN ('sent', 'unknown')),
				    count(*) FILTER (WHERE state = 'suppressed')
				    FROM outbox WHERE recipient LIKE 'window%'" | tr '|' ' ')" \
    "reply_window across workers: $V senders of two new mails each, one acknowledged, one suppressed"
h_assert_eq 0 "$(h_pg_count "outbox WHERE state = 'suppressed' AND recipient NOT LIKE 'window%'")" \
    "reply_window: nothing else suppressed"

# ---- what reached the relay ----
sent=$(h_pg_count "outbox WHERE state = 'sent'")
unknown=$(h_pg_count "outbox WHERE state = 'unknown'")
h_wait_for "[ \"\$(h_sink_count)\" -ge $sent ]" 30 "sink: at least the $sent sent replies captured"
captured=$(h_sink_count)
h_note "replies: $sent sent, $unknown unknown, $captured captured at the sink"
h_sink_acks | cut -f3 | sort | uniq -d > "$T/twice.txt"
h_assert_eq 0 "$(wc -l < "$T/twice.txt")" "sink: no two acknowledgements answer the same mail"
h_check "[ $sent -le $captured ] && [ $captured -le $((sent + unknown)) ]" \
    "sink: sent ($sent) <= captured ($captured) <= sent + unknown ($((sent + unknown)))"
h_assert_eq 0 "$(h_xlen intake:dead 2>/dev/null || echo 0)" "no dead letters"

for i in $(seq 1 $W); do h_pg_w_stop "$i"; done
if grep -lE 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$T"/w*.log > "$T/san.txt"; then
    h_fail "sanitizer report in $(tr '\n' ' ' < "$T/san.txt")"
    grep -h -m1 -A20 -E 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$T"/w*.log | sed 's/^/#   /'
else
    h_pass "no worker printed a sanitizer report"
fi
