#!/bin/bash
# it_pg_sinks.sh: sinks and the read-only HTTP API on the PostgreSQL store, with two workers
# (consumers w1 and w2 of one group, each with a sender thread for the sink and an API listener)
# sharing one private cluster (tests/lib/pg.sh). Mails are fed into Redis as the milter writes
# them (envelope-tool -x): T tickets, then two follow-ups to each, queued at once, so that both
# workers write events of one ticket and both senders deliver from one events table. The sink is
# tests/tools/webhook-receiver.py (signatures verified), answering slowly so that the two senders
# overlap. Then:
#   - every event of the store arrived exactly once (no worker died, so no lease expired: a
#     second delivery would be two senders holding one row), with the store's ids;
#   - per ticket, the events arrived in the order written (ticket.created first, then its two
#     message.added); the counts per type match the mails;
#   - intakectl sinks status (PostgreSQL) counts them sent, nothing pending or failed;
#   - the API of either worker pages through every ticket (an odd page size), each once, newest
#     first, equal to the store's; mailbox filter; search (tsvector) finds exactly the messages
#     with a rare word, page by page through its cursor; a query word of no message finds none;
#   - no worker printed a sanitizer report.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/pg.sh"
h_init it_pg_sinks

command -v jq >/dev/null || { h_note "jq missing (make deps)"; exit 77; }
T_N=24			# tickets; every third has the rare word "zebracorn" in its first mail
W=2
C=$T/intake.conf
RECEIVER=$H_ROOT/tests/tools/webhook-receiver.py
WH=$(h_free_port)
LOG=$T/webhook.log
REC_PID=
h_pg_start || exit 1
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/secret"
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; printf '%s\n' "$TOKEN" > "$T/api-token"; chmod 600 "$T/secret")
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 1000" "claim_idle = 10s" \
    "" "[sink hook]" "type = webhook" "url = http://127.0.0.1:$WH/events" \
    "secret_file = $T/secret" "retry_min = 1s" "retry_max = 2s" "timeout = 10s"
h_pg_conf "$C"
declare -a WPID HTTP
for i in $(seq 1 $W); do
    HTTP[i]=$(h_free_port)
    { cat "$C"; printf '\n[worker]\nconsumer = w%d\n[http]\nlisten = 127.0.0.1:%s\ntoken_file = %s\n' \
	"$i" "${HTTP[i]}" "$T/api-token"; } > "$T/w$i.conf"
done

w_start() {
    local i=$1
    "$INTAKE_BIN/intake-worker" -f -c "$T/w$i.conf" >> "$T/w$i.log" 2>&1 &
    WPID[i]=$!
    h_poll "! _h_alive ${WPID[i]} || _h_listening ${HTTP[i]}" 60 && _h_alive "${WPID[i]}" ||
	{ h_fail "worker w$i did not start"; tail -n 20 "$T/w$i.log" | sed 's/^/#   /'; return 1; }
}
h_pg_extra_cleanup() {		# pg.sh's EXIT trap: the workers and the receiver before the cluster
    local i
    for i in $(seq 1 $W); do [ -n "${WPID[i]:-}" ] && h_pg_w_stop "$i"; done
    [ -n "$REC_PID" ] && kill -TERM "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null
    return 0
}

drained() {
    [ "$(h_pg_count tickets)" = "$1" ] && [ "$(h_pg_count "messages WHERE direction = 'in'")" = "$2" ] &&
	[ "$(h_xlen 2>/dev/null)" = 0 ] && [ "$(h_pending_count 2>/dev/null)" = 0 ]
}
feed() { "$INTAKE_BIN/envelope-tool" -c "$C" -m support -x "$@" > /dev/null || h_die "envelope-tool -x failed"; }
# mail FILE FROM MID SUBJECT BODY [IN-REPLY-TO]
mail() {
    {
	echo "From: Customer <$2>"
	echo "To: support@example.test"
	echo "Subject: $4"
	echo "Date: Mon, 23 Nov 2026 10:00:00 +0000"
	echo "Message-ID: <$3>"
	[ -n "$6" ] && echo "In-Reply-To: <$6>" && echo "References: <$6>"
	echo "Content-Type: text/plain; charset=us-ascii"
	echo
	echo "$5"
    } > "$1"
}

python3 "$RECEIVER" --listen "127.0.0.1:$WH" --secret-file "$T/secret" --log "$LOG" \
    --delay-ms 40 >> "$T/receiver.log" 2>&1 &
REC_PID=$!
h_poll "_h_listening $WH || ! _h_alive $REC_PID" 60
_h_listening "$WH" || h_die "webhook-receiver not listening on $WH: $(tail -n 3 "$T/receiver.log")"
for i in $(seq 1 $W); do w_start "$i" || exit 1; done
h_assert_eq 3 "$(h_pg_sql "SELECT version FROM intake_schema")" \
    "PostgreSQL: schema version 3 (events: 2, FAQ, model, projects: 3) recorded once for $W workers"

# The first mails, then two follow-ups to each, queued at once (both workers take some).
FIRST=()
for k in $(seq 1 $T_N); do
    word=printer
    [ $((k % 3)) = 0 ] && word=zebracorn
    mail "$T/m$k-0.eml" "c$k@example.test" "t$k-0@example.test" "Question number $k" \
	"The $word on floor $k is broken."
    FIRST+=("$T/m$k-0.eml")
done
feed "${FIRST[@]}"
h_wait_for "drained $T_N $T_N" 120 "$T_N tickets on PostgreSQL from $W workers"
NEXT=()
for k in $(seq 1 $T_N); do
    for r in 1 2; do
	mail "$T/m$k-$r.eml" "c$k@example.test" "t$k-$r@example.test" "Re: Question number $k" \
	    "More about it, part $r." "t$k-0@example.test"
	NEXT+=("$T/m$k-$r.eml")
    done
done
feed "${NEXT[@]}"
h_wait_for "drained $T_N $((3 * T_N))" 120 "$((2 * T_N)) follow-ups threaded into the $T_N tickets"

# ---- the sink: every event once, in order per ticket ----
TOTAL=$((3 * T_N))
h_assert_eq "$TOTAL" "$(h_pg_count "events WHERE sink = 'hook'")" "store: $TOTAL events of sink hook"
h_wait_for "[ \"\$(h_pg_count \"events WHERE sink = 'hook' AND state <> 'sent'\")\" = 0 ]" 120 \
    "hook: every event sent"
h_assert_eq 0 "$(h_pg_count "events WHERE lease_owner IS NOT NULL")" "events: no lease left held"
h_pg_sql "SELECT event_id FROM events WHERE sink = 'hook' ORDER BY event_id" > "$T/ids.store"
jq -r .id "$LOG" | sort -n > "$T/ids.got"
h_check "cmp -s '$T/ids.store' '$T/ids.got'" \
    "receiver: each of the store's $TOTAL events exactly once ($(wc -l < "$T/ids.got") deliveries)"
bad_order=$(jq -r '[.ticket.number // "-", .id] | @tsv' "$LOG" | awk -F'\t' '
    $1 != "-" { if (($1 in last) && $2 < last[$1]) print $1 " " last[$1] " then " $2; last[$1] = $2 }')
h_assert_eq "" "$bad_order" "receiver: per ticket, events arrive in the order written"
h_assert_eq "$T_N" "$(jq -r 'select(.type == "ticket.created") | .id' "$LOG" | wc -l)" \
    "receiver: $T_N ticket.created"
h_assert_eq "$((2 * T_N))" "$(jq -r 'select(.type == "message.added") | .id' "$LOG" | wc -l)" \
    "receiver: $((2 * T_N)) message.added"
h_assert_eq "" "$(jq -r '[.ticket.number, .type] | @tsv' "$LOG" | awk -F'\t' '
    !($1 in seen) { seen[$1] = 1; if ($2 != "ticket.created") print $1 }')" \
    "receiver: each ticket's first event is its ticket.created"
for i in $(seq 1 $W); do
    h_note "w$i delivered $(grep -c 'sink hook: event .* delivered' "$T/w$i.log") events"
done
h_ctl "$C" --json sinks status > "$T/status.json" || h_fail "intakectl sinks status failed"
h_assert_eq "hook $TOTAL 0 0" "$(jq -r '.[] | "\(.sink) \(.sent) \(.pending) \(.failed)"' "$T/status.json")" \
    "intakectl sinks status: hook, $TOTAL sent, none pending or failed"

# ---- the API, of either worker ----
# api I PATH: GET PATH of worker I's API with the token; the body on stdout, the status in $T/status.
api() {
    curl -s --max-time 30 -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"http://127.0.0.1:${HTTP[$1]}$2" > "$T/status"
    cat "$T/body"
}
h_pg_sql "SELECT number FROM tickets ORDER BY id DESC" > "$T/want.txt"
for i in $(seq 1 $W); do
    : > "$T/got.txt"
    cursor=
    pages=0
    while :; do
	api "$i" "/api/v1/tickets?limit=7${cursor:+&cursor=$cursor}" > "$T/page.json"
	[ "$(cat "$T/status")" = 200 ] || { h_fail "w$i page $pages: $(cat "$T/status") $(cat "$T/page.json")"; break; }
	jq -r '.tickets[].number' "$T/page.json" >> "$T/got.txt"
	pages=$((pages + 1))
	cursor=$(jq -r '.next_cursor // empty' "$T/page.json")
	[ -n "$cursor" ] && [ "$pages" -lt 100 ] || break
    done
    h_assert_eq $(( (T_N + 6) / 7 )) "$pages" "w$i API: $T_N tickets in pages of 7"
    h_check "cmp -s '$T/want.txt' '$T/got.txt'" "w$i API: the pages list the store's tickets, newest first, each once"
done
api 1 "/api/v1/tickets?limit=1" > "$T/p.json"
NEWEST=$(head -n 1 "$T/want.txt")
h_assert_eq "$NEWEST $(h_pg_sql "SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id
				 WHERE t.number = '$NEWEST'")" \
    "$(jq -r '.tickets[0] | "\(.number) \(.messages)"' "$T/p.json")" \
    "API: the newest ticket with the store's count of its messages"
api 1 "/api/v1/tickets?mailbox=sales" > "$T/p.json"
h_assert_eq "200 0" "$(cat "$T/status") $(jq '.tickets | length' "$T/p.json")" "API: mailbox=sales: no ticket"

h_pg_sql "SELECT id FROM messages WHERE direction = 'in' AND body LIKE '%zebracorn%'
	  ORDER BY id DESC" > "$T/want.txt"
h_assert_eq "$((T_N / 3))" "$(wc -l < "$T/want.txt")" "store: $((T_N / 3)) messages with zebracorn"
: > "$T/got.txt"
cursor=
pages=0
while :; do
    api 2 "/api/v1/search?q=zebracorn&limit=3${cursor:+&cursor=$cursor}" > "$T/page.json"
    [ "$(cat "$T/status")" = 200 ] || { h_fail "search page $pages: $(cat "$T/status") $(cat "$T/page.json")"; break; }
    jq -r '.hits[].id' "$T/page.json" >> "$T/got.txt"
    pages=$((pages + 1))
    cursor=$(jq -r '.next_cursor // empty' "$T/page.json")
    [ -n "$cursor" ] && [ "$pages" -lt 100 ] || break
done
h_check "cmp -s '$T/want.txt' '$T/got.txt'" \
    "API search zebracorn: exactly the $((T_N / 3)) messages, newest first, in pages of 3 ($pages pages)"
api 2 "/api/v1/search?q=zebracorn%20floor%203" > "$T/p.json"
hit=$(jq -r '.hits[0].id // 0' "$T/p.json")
h_assert_eq "1 t3-0@example.test" \
    "$(jq '.hits | length' "$T/p.json") $(h_pg_sql "SELECT message_id FROM messages WHERE id = $hit")" \
    "API search 'zebracorn floor 3': every word must match: the one message"
api 2 "/api/v1/search?q=nosuchwordanywhere" > "$T/p.json"
h_assert_eq "200 0" "$(cat "$T/status") $(jq '.hits | length' "$T/p.json")" "API search of an unknown word: none"

if grep -lE 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$T"/w*.log > "$T/san.txt"; then
    h_fail "sanitizer report in $(tr '\n' ' ' < "$T/san.txt")"
else
    h_pass "no worker printed a sanitizer report"
fi
for i in $(seq 1 $W); do h_pg_w_stop "$i"; done
