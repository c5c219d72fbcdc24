#!/bin/bash
# it_worker_dlq.sh: entries the worker cannot process end in the dead-letter stream, and
# intakectl dlq list/show/retry/purge work on it. Worker with max_deliveries = 2, claim_idle =
# 300ms, claim_interval = 200ms; three entries added to intake:envelopes directly:
#   - envelope '{not json'         -> after 3 deliveries in intake:dead, error "not JSON ..."
#   - envelope '{"v":99}'          -> likewise, error "envelope version 99 is not 1 ..."
#   - a good envelope (envelope-tool, as the milter writes it) -> a ticket and its ack
# Both bad entries leave intake:envelopes, its pending list and its error hash. "dlq retry" puts
# one back (with retry_of = the dead letter's id); it fails again and returns to intake:dead.
# "dlq purge" empties the dead-letter stream; "status" counts dead letters throughout.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_dlq

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 2" "claim_idle = 300ms" "claim_interval = 200ms"
h_worker_start "$C" || exit 1

# dead_json: the dead-letter stream as [{id, entry, error, deliveries, envelope, ...}]
dead_json() {
    h_redis_cli --json XRANGE intake:dead - + |
	jq -c '[.[] | .[1] as $f | {id: .[0]} + ([range(0; $f | length; 2) | {($f[.]): $f[. + 1]}] | add)]'
}
# dead_field ENTRY FIELD: FIELD of the dead letter of stream entry ENTRY
dead_field() {
    dead_json | jq -r --arg e "$1" --arg f "$2" '.[] | select(.entry == $e) | .[$f]'
}

cat > "$T/good.eml" <<'EOF'
From: Dora Good <dora@example.test>
To: support@example.test
Subject: A good envelope
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <good-1@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello, this one is fine.
EOF

BAD1=$(h_redis_cli XADD intake:envelopes '*' v 1 envelope '{not json')
BAD2=$(h_redis_cli XADD intake:envelopes '*' v 1 envelope '{"v":99}')
"$INTAKE_BIN/envelope-tool" -c "$C" -m support -x "$T/good.eml" || h_fail "envelope-tool -x failed"
h_note "bad entries: $BAD1 ('{not json'), $BAD2 ('{\"v\":99}')"

start=$SECONDS
h_wait_for '[ "$(h_xlen intake:dead)" -eq 2 ] && h_worker_drained "$C" 1' 60 \
    "the good entry: a ticket; the two bad ones: in intake:dead; intake:envelopes empty, nothing pending"
h_note "dead-lettered within $((SECONDS - start))s"
h_assert_eq "A good envelope|dora@example.test" "$(h_sql "$C" "SELECT title || '|' || customer_address FROM tickets")" \
    "the good envelope's ticket"
h_wait_for '[ "$(h_sink_count)" -eq 1 ]' 30 "the good envelope's ack arrived"
h_assert_eq 0 "$(h_redis_cli HLEN intake:envelopes:errors)" "error hash intake:envelopes:errors emptied"
h_assert_eq 2 "$(h_xlen intake:dead)" "intake:dead: 2 entries"

dead_json > "$T/dead.json"
h_note "dead letters: $(jq -c 'map({entry, error, deliveries})' "$T/dead.json")"
h_assert_eq "$BAD1 $BAD2" "$(jq -r 'map(.entry) | sort | join(" ")' "$T/dead.json")" \
    "intake:dead: one dead letter for each bad entry (field entry)"
case "$(dead_field "$BAD1" error)" in
    "not JSON"*) h_pass "'{not json': error '$(dead_field "$BAD1" error)'" ;;
    *) h_fail "'{not json': error is '$(dead_field "$BAD1" error)', not 'not JSON ...'" ;;
esac
case "$(dead_field "$BAD2" error)" in
    *"version 99"*) h_pass "'{\"v\":99}': error '$(dead_field "$BAD2" error)'" ;;
    *) h_fail "'{\"v\":99}': error is '$(dead_field "$BAD2" error)', not about the version" ;;
esac
for e in "$BAD1" "$BAD2"; do
    d=$(dead_field "$e" deliveries)
    [ "${d:-0}" -ge 3 ] && h_pass "$e: dead after $d deliveries (max_deliveries = 2)" ||
	h_fail "$e: deliveries '$d', expected >= 3"
done
h_assert_eq '{not json' "$(dead_field "$BAD1" envelope)" "intake:dead keeps the original envelope text"
h_assert_eq "" "$(h_redis_cli XRANGE intake:envelopes "$BAD1" "$BAD1")$(h_redis_cli XRANGE intake:envelopes "$BAD2" "$BAD2")" \
    "the bad entries are gone from intake:envelopes"
h_assert_eq 2 "$(grep -c 'moved to dead-letter stream intake:dead after 3 deliveries' "$T/worker.log")" \
    "worker log: two entries moved after 3 deliveries"

# intakectl dlq list / show
D1=$(dead_field "$BAD1" id)
D2=$(dead_field "$BAD2" id)
if out=$(h_ctl "$C" dlq list 2>&1); then h_pass "intakectl dlq list: exit 0"; else h_fail "intakectl dlq list: $out"; fi
[[ "$out" == *"$D1"* && "$out" == *"$D2"* && "$out" == *"not JSON"* ]] &&
    h_pass "intakectl dlq list: shows both, with the error" || h_fail "intakectl dlq list: output '$out'"
h_ctl "$C" --json dlq list > "$T/list.json" || h_fail "intakectl --json dlq list failed"
h_assert_eq "$D1 $D2" "$(jq -r 'map(.id) | join(" ")' "$T/list.json" 2>/dev/null)" \
    "intakectl --json dlq list: both dead letters, as JSON"
h_assert_eq "$BAD1|$BAD2" "$(jq -r 'map(.entry) | join("|")' "$T/list.json" 2>/dev/null)" \
    "intakectl --json dlq list: with their stream entry ids"
h_assert_eq 1 "$(jq '[.[] | select(.id == "'"$D2"'" and (.error | contains("version")))] | length' "$T/list.json" 2>/dev/null)" \
    "intakectl --json dlq list: the version error"
h_check "[ \"\$(h_ctl '$C' dlq list --json 2>/dev/null | jq -r 'map(.id) | join(\" \")' 2>/dev/null)\" = '$D1 $D2' ]" \
    "intakectl dlq list --json (option after the verb) prints JSON"
h_ctl "$C" dlq show "$D1" > "$T/show.json" || h_fail "intakectl dlq show $D1 failed"
h_assert_eq "$D1|$BAD1|{not json" "$(jq -r '"\(.id)|\(.entry)|\(.envelope)"' "$T/show.json")" \
    "intakectl dlq show: the dead letter with its envelope"
case "$(jq -r .error "$T/show.json")" in
    "not JSON"*) h_pass "intakectl dlq show: the error" ;;
    *) h_fail "intakectl dlq show: error '$(jq -r .error "$T/show.json")'" ;;
esac
h_ctl "$C" dlq show 0-1 > /dev/null 2>&1 && h_fail "intakectl dlq show of an unknown id: exit 0" ||
    h_pass "intakectl dlq show of an unknown id: an error"
h_assert_eq 2 "$(h_ctl "$C" status --json | jq .dead_letters)" "intakectl status: dead_letters 2"

# dlq retry: back into the stream (worker stopped, so the state right after can be looked at).
h_worker_stop || h_fail "worker did not stop cleanly"
out=$(h_ctl "$C" dlq retry "$D1" 2>&1) || h_fail "intakectl dlq retry $D1: $out"
h_note "dlq retry: $out"
NEW=$(h_redis_cli --json XRANGE intake:envelopes - + |
	  jq -r --arg d "$D1" '.[] | .[1] as $f | select([range(0; $f | length; 2) | select($f[.] == "retry_of" and $f[. + 1] == $d)] | length > 0) | .[0]')
h_assert_eq 1 "$(h_xlen intake:dead)" "after retry: intake:dead holds 1"
h_assert_eq 1 "$(h_xlen)" "after retry: intake:envelopes holds 1"
[ -n "$NEW" ] && h_pass "after retry: a new entry $NEW with retry_of = $D1" || h_fail "after retry: no entry with retry_of = $D1"
[[ "$out" == *"$NEW"* ]] && h_pass "intakectl dlq retry names the new entry" || h_fail "intakectl dlq retry said '$out'"
h_assert_eq '{not json' "$(h_redis_cli --json XRANGE intake:envelopes - + | jq -r '.[0][1] as $f | [range(0; $f | length; 2) | select($f[.] == "envelope") | $f[. + 1]][0]')" \
    "after retry: the new entry carries the original envelope"
h_ctl "$C" dlq retry 0-1 > /dev/null 2>&1 && h_fail "intakectl dlq retry of an unknown id: exit 0" ||
    h_pass "intakectl dlq retry of an unknown id: an error"

h_worker_start "$C" || exit 1
h_wait_for '[ "$(h_xlen intake:dead)" -eq 2 ] && [ "$(h_xlen)" -eq 0 ] && [ "$(h_pending_count)" -eq 0 ]' 60 \
    "the retried entry fails again and returns to intake:dead (2)"
case "$(dead_field "$NEW" error)" in
    "not JSON"*) h_pass "the retried entry's dead letter: entry $NEW, error 'not JSON ...'" ;;
    *) h_fail "no dead letter for $NEW with a 'not JSON' error: $(dead_json)" ;;
esac
h_assert_eq 2 "$(h_ctl "$C" status --json | jq .dead_letters)" "intakectl status: dead_letters 2 again"
h_assert_eq 1 "$(h_tickets_count "$C")" "still the one ticket"

# dlq purge: one by id, then all.
out=$(h_ctl "$C" dlq purge "$D2" 2>&1) || h_fail "intakectl dlq purge $D2: $out"
h_assert_eq "1 dead letter(s) purged" "$out" "intakectl dlq purge ID: one purged"
h_assert_eq 1 "$(h_xlen intake:dead)" "after purging one: intake:dead holds 1"
h_ctl "$C" dlq purge "$D2" > /dev/null 2>&1 && h_fail "intakectl dlq purge of a purged id: exit 0" ||
    h_pass "intakectl dlq purge of an id no longer there: an error"
h_check "h_ctl '$C' dlq purge --all > '$T/purge.out' 2>&1 && [ \"\$(h_xlen intake:dead)\" -eq 0 ]" \
    "intakectl dlq purge --all: exit 0, intake:dead empty"
if [ "$(h_xlen intake:dead)" -ne 0 ]; then
    h_note "dlq purge --all said: $(cat "$T/purge.out")"
    # The same command with --all right after the command word, where intakectl parses it today.
    out=$(h_ctl "$C" dlq --all purge 2>&1) || h_fail "intakectl dlq --all purge: $out"
    h_note "intakectl dlq --all purge: $out"
fi
h_assert_eq 0 "$(h_xlen intake:dead)" "purge all: intake:dead empty"
h_assert_eq 0 "$(h_ctl "$C" status --json | jq .dead_letters)" "intakectl status: dead_letters 0"
h_assert_eq "no dead letters in intake:dead" "$(h_ctl "$C" dlq list)" "intakectl dlq list: none"

# An entry deleted while pending (delivered to consumer "test", then XDEL'd, e.g. by an operator)
# has nothing left to process: it must leave the pending list without becoming a dead letter.
h_worker_stop || h_fail "worker did not stop cleanly"
GONE=$(h_redis_cli XADD intake:envelopes '*' v 1 envelope '{"v":1}')
h_redis_cli XREADGROUP GROUP intake test COUNT 1 STREAMS intake:envelopes '>' > /dev/null
h_redis_cli XDEL intake:envelopes "$GONE" > /dev/null
h_assert_eq "1 0" "$(h_pending_count) $(h_xlen)" "entry $GONE: pending for consumer test, deleted from the stream"
h_worker_start "$C" || exit 1
h_wait_for '[ "$(h_pending_count)" -eq 0 ]' 30 "entry deleted while pending: no longer pending"
h_assert_eq 0 "$(h_xlen intake:dead)" "entry deleted while pending: not moved to intake:dead"

# An entry without an "envelope" field cannot be processed: after max_deliveries it is a dead
# letter whose error says why (worker/stage_decode.c: "stream entry has no 'envelope' field").
NOENV=$(h_redis_cli XADD intake:envelopes '*' v 1 body hello)
h_wait_for '[ "$(h_xlen intake:dead)" -eq 1 ] && [ "$(h_xlen)" -eq 0 ] && [ "$(h_pending_count)" -eq 0 ]' 30 \
    "entry without an envelope field: moved to intake:dead"
h_note "its dead letter: $(dead_json | jq -c '.[0] | {entry, error, deliveries}')"
h_assert_eq "$NOENV" "$(dead_json | jq -r '.[0].entry')" "... the dead letter of $NOENV"
h_check "dead_json | jq -r '.[0].error' | grep -q \"no 'envelope' field\"" \
    "entry without an envelope field: the dead letter's error says so"

h_worker_stop
