#!/bin/bash
# it_sink_webhook.sh: "every event leaves Intake, in order per ticket, even across crashes and
# outages of the far end" (issue 12), for type = webhook. Mails are fed into Redis as the milter
# writes them (envelope-tool -x) and go through the real worker, which has three sinks:
#   hook    -> tests/tools/webhook-receiver.py (verifies Intake-Signature, logs each verified
#              event as a JSON line), retry_min 1s, retry_max 2s;
#   dead    -> a loopback port nothing listens on (connection refused, for ever);
#   strict  -> the receiver's /reject path, which answers 400 (events fail for good).
# The receiver first answers 503 (phase A: 6 tickets, 6 follow-ups), then is down (phase B:
# 4 more tickets, follow-ups to A's, one to a closed ticket that reopens it, an out-of-office
# reply kept apart), then up again,
# answering slowly while the worker is SIGKILLed at random moments and restarted (at least 4
# kills). Then:
#   - tickets and acknowledgements never waited for a sink (all made while hook was failing);
#   - hook (inline_max 1k): every event of the store arrived, each verified, with the ids of the store; an id
#     seen twice (at least once) carries the same document; per ticket, the ids arrive in
#     increasing order (a redelivery only ever repeats the newest); the counts per type match
#     the mails (ticket.created, message.added, ticket.reopened, autogen.kept); the attachment is
#     referenced with its size and SHA-256, and inline;
#   - dead: nothing sent, everything pending, its last answer the connection failure, shown by
#     intakectl sinks status --json; strict: failed, and intakectl sinks retry re-queues them;
#   - the receiver answers 401 to a bad signature (the check can fail);
#   - after SIGHUP (sinks read again) a new ticket's event still arrives.
# Random delays are the source of randomness for the kills, not synchronisation.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_sink_webhook

C=$T/intake.conf
RECEIVER=$H_ROOT/tests/tools/webhook-receiver.py
W=$(h_free_port)
DEAD=$(h_free_port)
LOG=$T/webhook.log
DOWN=$T/receiver-503
REC_PID=
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/secret"
chmod 600 "$T/secret"
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 1000" \
    "" "[sink hook]" "type = webhook" "url = http://127.0.0.1:$W/events" \
    "secret_file = $T/secret" "retry_min = 1s" "retry_max = 2s" "timeout = 5s" "inline_max = 1k" \
    "" "[sink dead]" "type = webhook" "url = http://127.0.0.1:$DEAD/events" \
    "secret_file = $T/secret" "retry_min = 1s" "retry_max = 2s" "timeout = 2s" \
    "" "[sink strict]" "type = webhook" "url = http://127.0.0.1:$W/reject" \
    "secret_file = $T/secret" "events = ticket.created" "retry_min = 1s" "retry_max = 2s"

# receiver_start [OPTIONS]: the receiver on $W, until it listens. receiver_stop: SIGTERM, gone.
receiver_start() {
    python3 "$RECEIVER" --listen "127.0.0.1:$W" --secret-file "$T/secret" --log "$LOG" \
	--unavailable-file "$DOWN" "$@" >> "$T/receiver.log" 2>&1 &
    REC_PID=$!
    h_poll "_h_listening $W" 10 || h_die "webhook-receiver not listening on $W"
}
receiver_stop() {
    [ -n "$REC_PID" ] || return 0
    kill -TERM "$REC_PID" 2>/dev/null
    wait "$REC_PID" 2>/dev/null
    REC_PID=
    h_poll "! _h_listening $W" 10 || h_die "webhook-receiver still listening on $W"
}
# status_of SINK FIELD: from intakectl --json sinks status
status_of() { h_ctl "$C" --json sinks status | jq -r --arg s "$1" --arg f "$2" '.[] | select(.sink == $s) | .[$f]'; }
events() { h_sql "$C" "SELECT count(*) FROM events WHERE sink = '$1' ${2:+AND $2}"; }

# mail FILE FROM MID SUBJECT [IN-REPLY-TO]: a plain mail file
mail() {
    {
	echo "From: Customer <$2>"
	echo "To: support@example.test"
	echo "Subject: $4"
	echo "Date: Mon, 23 Nov 2026 10:00:00 +0000"
	echo "Message-ID: <$3>"
	[ -n "$5" ] && echo "In-Reply-To: <$5>" && echo "References: <$5>"
	echo "MIME-Version: 1.0"
	echo "Content-Type: text/plain; charset=us-ascii"
	echo
	echo "Mail $3 about $4."
    } > "$1"
}
feed() { "$INTAKE_BIN/envelope-tool" -c "$C" -m support -x "$@" > /dev/null || h_die "envelope-tool -x failed"; }

# Ticket 1's first mail has an attachment (referenced by id, size and SHA-256).
printf 'notes of the first customer' > "$T/notes.txt"
cat > "$T/a1-0.eml" <<MAIL
From: Customer <c1@example.test>
To: support@example.test
Subject: Question number 1
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <t1-0@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

Mail t1-0 with notes.
--b1
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

$(cat "$T/notes.txt")
--b1--
MAIL
A_FILES=("$T/a1-0.eml")
for k in 2 3 4 5 6; do
    mail "$T/a$k-0.eml" "c$k@example.test" "t$k-0@example.test" "Question number $k"
    A_FILES+=("$T/a$k-0.eml")
done
for k in 1 2 3 4 5 6; do
    mail "$T/a$k-1.eml" "c$k@example.test" "t$k-1@example.test" "Re: Question number $k" "t$k-0@example.test"
    A_FILES+=("$T/a$k-1.eml")
done

# Phase A: the receiver answers 503.
touch "$DOWN"
receiver_start
h_worker_start "$C" || exit 1
feed "${A_FILES[@]}"
h_wait_for "h_worker_drained '$C' 6" 60 "phase A: 6 tickets while hook answers 503"
h_wait_for '[ "$(h_outbox_count "$C" sent)" -eq 6 ]' 60 \
    "phase A: 6 acknowledgements sent while every sink fails"
h_wait_for '[[ "$(status_of hook last_answer)" == "HTTP 503"* ]]' 30 \
    "hook: intakectl sinks status shows the far end's 503"
h_assert_eq 0 "$(events hook "state = 'sent'")" "hook: nothing sent while it answers 503"
[ ! -s "$LOG" ] && h_pass "receiver: nothing logged while answering 503" || h_fail "receiver logged events while answering 503"

# Phase B: the receiver is down (connection refused).
receiver_stop
rm -f "$DOWN"
N1=$(h_sql "$C" "SELECT number FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE m.message_id = 't1-0@example.test'")
h_ctl "$C" close "$N1" > /dev/null || h_fail "intakectl close $N1"
B_FILES=()
for k in 7 8 9 10; do
    mail "$T/b$k-0.eml" "c$k@example.test" "t$k-0@example.test" "Question number $k"
    B_FILES+=("$T/b$k-0.eml")
done
for k in 1 2 3 7; do
    mail "$T/b$k-2.eml" "c$k@example.test" "t$k-2@example.test" "Re: Question number $k" "t$k-0@example.test"
    B_FILES+=("$T/b$k-2.eml")
done
# An out-of-office reply: kept apart (import_autogenerated = no), no ticket: autogen.kept.
mail "$T/ooo.eml" "away@example.test" "ooo-1@example.test" "Out of office: back on Monday"
sed -i '1i Auto-Submitted: auto-replied' "$T/ooo.eml"
B_FILES+=("$T/ooo.eml")
feed "${B_FILES[@]}"
h_wait_for "h_worker_drained '$C' 10" 60 "phase B: 10 tickets while hook is down"
h_wait_for '[ "$(h_outbox_count "$C" sent)" -eq 10 ]' 60 "phase B: 10 acknowledgements sent"
h_assert_eq open "$(h_sql "$C" "SELECT status FROM tickets WHERE number = '$N1'")" \
    "ticket $N1 reopened by its follow-up"
h_wait_for '[[ "$(status_of hook last_answer)" == *"127.0.0.1:$W"* ]]' 30 \
    "hook: the last answer is the connection failure ($(status_of hook last_answer))"

# Phase C: the receiver is up, slow; the worker is killed at random moments.
TOTAL=$(events hook)
h_note "hook: $TOTAL events to deliver"
receiver_start --delay-ms 150
kills=0
while [ "$kills" -lt 4 ] || [ "$(events hook "state <> 'sent'")" -gt 0 ]; do
    ms=$((100 + RANDOM % 900))
    sleep "0.$(printf '%03d' "$ms")"
    h_worker_kill || h_die "worker was not running when it was to be killed"
    kills=$((kills + 1))
    [ "$kills" -ge 60 ] && h_die "hook still has events to deliver after $kills kills"
    h_worker_start "$C" || h_die "worker did not start again after kill $kills"
done
h_note "$kills kills; deliveries logged by the receiver: $(wc -l < "$LOG")"
h_wait_for '[ "$(events hook "state <> '"'sent'"'")" -eq 0 ]' 60 "hook: every event sent"

# Every event arrived, with the store's ids; duplicates only as the same document.
h_sql "$C" "SELECT event_id FROM events WHERE sink = 'hook' ORDER BY event_id" > "$T/ids.store"
jq -r .id "$LOG" | sort -n -u > "$T/ids.got"
h_assert_eq "$TOTAL" "$(wc -l < "$T/ids.got")" "receiver: $TOTAL distinct event ids"
cmp -s "$T/ids.store" "$T/ids.got" && h_pass "receiver: exactly the store's events arrived" ||
    h_fail "receiver: ids differ from the store's: $(diff "$T/ids.store" "$T/ids.got" | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
h_assert_eq "$(jq -c . "$LOG" | sort -u | wc -l)" "$(wc -l < "$T/ids.got")" \
    "receiver: an id delivered twice carries the same document ($(($(wc -l < "$LOG") - TOTAL)) duplicates)"
bad_order=$(jq -r '[.ticket.number // "-", .id] | @tsv' "$LOG" | awk -F'\t' '
    $1 != "-" { if (($1 in last) && $2 < last[$1]) print $1 " " last[$1] " then " $2; last[$1] = $2 }')
h_assert_eq "" "$bad_order" "receiver: per ticket, events arrive in the order written"
h_assert_eq 10 "$(jq -r 'select(.type == "ticket.created") | .id' "$LOG" | sort -u | wc -l)" "10 ticket.created"
h_assert_eq 10 "$(jq -r 'select(.type == "message.added") | .id' "$LOG" | sort -u | wc -l)" "10 message.added"
h_assert_eq 1 "$(jq -r 'select(.type == "ticket.reopened") | .id' "$LOG" | sort -u | wc -l)" "1 ticket.reopened"
h_assert_eq "$N1" "$(jq -r 'select(.type == "ticket.reopened") | .ticket.number' "$LOG" | head -n1)" \
    "ticket.reopened names ticket $N1"
h_assert_eq 0 "$(jq -r 'select(.version != 1 or .created == null) | .id' "$LOG" | wc -l)" \
    "every event has version 1 and a created time"
first=$(jq -c 'select(.type == "ticket.created" and .message.message_id == "t1-0@example.test")' "$LOG" | head -n1)
h_assert_eq "notes.txt $(stat -c %s "$T/notes.txt") $(sha256sum "$T/notes.txt" | cut -d' ' -f1)" \
    "$(jq -r '.message.attachments[0] | "\(.filename) \(.size) \(.sha256)"' <<< "$first")" \
    "ticket.created of ticket 1: the attachment by name, size and SHA-256"
h_assert_eq "c1@example.test $N1" "$(jq -r '"\(.ticket.requestor) \(.ticket.number)"' <<< "$first")" \
    "ticket.created: requestor and number"
h_assert_eq "$(cat "$T/notes.txt")" "$(jq -r '.message.attachments[0].content_base64 | @base64d' <<< "$first")" \
    "inline_max = 1k: the attachment's content inline, base64"
h_assert_eq "autoreply away@example.test null" \
    "$(jq -r 'select(.type == "autogen.kept") | "\(.autogen.kind) \(.autogen.sender) \(.ticket)"' "$LOG" | sort -u)" \
    "autogen.kept: the out-of-office reply, its kind and sender, no ticket"

# A sink that never answers held back nothing, and says why.
h_assert_eq "$TOTAL" "$(events dead)" "dead: as many events as hook"
h_assert_eq 0 "$(events dead "state = 'sent'")" "dead: nothing sent"
h_assert_eq "$TOTAL" "$(status_of dead pending)" "intakectl sinks status: dead has $TOTAL pending"
[[ "$(status_of dead last_answer)" == *"127.0.0.1:$DEAD"* ]] &&
    h_pass "intakectl sinks status: dead's last answer is the connection failure" ||
    h_fail "dead's last answer: $(status_of dead last_answer)"
h_assert_eq 10 "$(h_outbox_count "$C" sent)" "acks: all 10 sent (none waited for a sink)"

# strict: the far end's 400 fails for good; retry re-queues.
h_wait_for '[ "$(status_of strict failed)" -eq 10 ]' 60 "strict: the 10 ticket.created failed after HTTP 400"
[[ "$(status_of strict last_answer)" == "HTTP 400"* ]] && h_pass "strict: last answer HTTP 400" ||
    h_fail "strict: last answer '$(status_of strict last_answer)'"
failed=$(status_of strict failed)
out=$(h_ctl "$C" sinks retry strict) && [[ "$out" == "sink strict: $failed failed event"* ]] &&
    h_pass "intakectl sinks retry strict: $out" || h_fail "intakectl sinks retry strict: '$out'"
h_ctl "$C" sinks retry nosuch > /dev/null 2>&1 && h_fail "sinks retry of a sink without failed events succeeded" ||
    h_pass "intakectl sinks retry: a sink with no failed events exits non-zero"

# The receiver's check can fail: a wrong signature is refused and not logged.
lines=$(wc -l < "$LOG")
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Intake-Signature: t=$(date +%s),v1=00" --data '{"id":1}' "http://127.0.0.1:$W/events")
h_assert_eq 401 "$code" "receiver: a bad signature gets 401"
h_assert_eq "$lines" "$(wc -l < "$LOG")" "receiver: the refused event is not logged"

# SIGHUP: the configuration and its sinks are read again, and delivery goes on.
hups=$(grep -c 'SIGHUP: configuration .* read again' "$T/worker.log")
kill -HUP "$H_WORKER_PID"
h_wait_for "[ \"\$(grep -c 'SIGHUP: configuration .* read again' '$T/worker.log')\" -gt $hups ]" 30 \
    "SIGHUP: the worker read its configuration again"
mail "$T/c11-0.eml" c11@example.test t11-0@example.test "Question number 11"
feed "$T/c11-0.eml"
h_wait_for "jq -r 'select(.message.message_id == \"t11-0@example.test\") | .type' '$LOG' | grep -qx ticket.created" 60 \
    "after SIGHUP: a new ticket's ticket.created arrives"

h_worker_stop
receiver_stop
