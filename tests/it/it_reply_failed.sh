#!/bin/bash
# it_reply_failed.sh: an acknowledgement the relay refuses for good is given up once, recorded,
# and told to the help desk (docs/events.md, reply.failed).
# The relay is smtp-sink answering every RCPT with a hard 550 (-f RCPT -B). A mail (fed as the
# milter writes it, envelope-tool -x) makes a ticket through the real worker, whose outbox tries
# the acknowledgement; a webhook sink asking for reply.failed only posts to
# tests/tools/webhook-receiver.py, which verifies each signature and logs the event. Then:
#   - the ticket exists and its mail was acknowledged: the store holds every stream entry;
#   - the outbox row is 'failed' after one attempt (a 5xx is not retried), its last_error the
#     relay's reply line (its enhanced status code and words, not only libcurl's "550");
#   - exactly one reply.failed event arrived, naming the ticket's number and mailbox, the
#     acknowledgement's recipient, our Message-ID, 1 attempt and the relay's reply line;
#   - a second mail (another ticket) adds a second event, not a repeat of the first;
#   - intakectl ticket shows the acknowledgement as failed.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_reply_failed

C=$T/intake.conf
RECEIVER=$H_ROOT/tests/tools/webhook-receiver.py
W=$(h_free_port)
LOG=$T/webhook.log
h_redis_start || exit 1
S=$(h_free_port)
mkdir -p "$T/sink"
chown postfix "$T/sink"
smtp-sink -u postfix -h sink.intake.test -f RCPT \
    -B "550 5.1.1 <refused@example.test>: Recipient address rejected: User unknown" \
    "127.0.0.1:$S" 16 >> "$T/sink.log" 2>&1 &
H_SINK_PID=$! H_SINK_DIR=$T/sink	# h_cleanup stops it
h_poll "_h_alive $H_SINK_PID && _h_listening $S" 10 || h_die "smtp-sink (refusing) not listening on $S"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/secret"
chmod 600 "$T/secret"
h_worker_conf "$C" "$S" \
    "" "[sink desk]" "type = webhook" "url = http://127.0.0.1:$W/events" \
    "secret_file = $T/secret" "events = reply.failed" "retry_min = 1s" "retry_max = 2s"
python3 "$RECEIVER" --listen "127.0.0.1:$W" --secret-file "$T/secret" --log "$LOG" \
    --unavailable-file "$T/never" >> "$T/receiver.log" 2>&1 &
REC_PID=$!
h_poll "_h_listening $W || ! _h_alive $REC_PID" 60
_h_listening "$W" || h_die "webhook-receiver not listening on $W: $(tail -n 3 "$T/receiver.log")"

# has TEXT PATTERN MESSAGE: an assertion that TEXT matches the extended regex PATTERN
has() { if grep -Eq -- "$2" <<< "$1"; then h_pass "$3"; else h_fail "$3 (no '$2' in '$1')"; fi; }

# mail FILE FROM MID: a plain mail file
mail() {
    cat > "$1" <<MAIL
From: Customer <$2>
To: support@example.test
Subject: Where is my parcel
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <$3>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Mail $3: the parcel did not arrive.
MAIL
}
feed() { "$INTAKE_BIN/envelope-tool" -c "$C" -m support -x "$@" > /dev/null || h_die "envelope-tool -x failed"; }
# event_lines: the reply.failed events the receiver verified and logged
event_lines() { [ -s "$LOG" ] && jq -c 'select(.type == "reply.failed")' "$LOG" || true; }

h_worker_start "$C" || exit 1
mail "$T/m1.eml" c1@example.test m1@example.test
feed "$T/m1.eml"
h_wait_for "h_worker_drained '$C' 1" 60 "a ticket although the relay refuses its acknowledgement"
h_wait_for '[ "$(h_outbox_count "$C" failed)" -eq 1 ]' 60 "the refused acknowledgement is 'failed'"
h_assert_eq "1" "$(h_sql "$C" "SELECT attempts FROM outbox")" "a 550 is not tried again: 1 attempt"
has "$(h_sql "$C" "SELECT last_error FROM outbox")" "550 5.1.1 .*User unknown" \
    "the outbox row keeps the relay's answer, its words too"
h_wait_for '[ "$(event_lines | wc -l)" -ge 1 ]' 60 "the help desk hears of it: a reply.failed event"
number=$(h_sql "$C" "SELECT number FROM tickets")
msgid=$(h_sql "$C" "SELECT message_id FROM outbox")
ev=$(event_lines | head -n 1)
h_note "event: $ev"
h_assert_eq "$number support" "$(jq -r '"\(.ticket.number) \(.ticket.mailbox)"' <<< "$ev")" \
    "reply.failed: the ticket's number and mailbox"
h_assert_eq "$(h_sql "$C" "SELECT recipient FROM outbox")" "$(jq -r '.reply.recipient' <<< "$ev")" \
    "reply.failed: the recipient (the acknowledgement's)"
h_assert_eq "$msgid" "$(jq -r '.reply.message_id' <<< "$ev")" "reply.failed: our Message-ID"
h_assert_eq "1" "$(jq -r '.reply.attempts' <<< "$ev")" "reply.failed: 1 attempt"
has "$(jq -r '.reply.error' <<< "$ev")" "said: 550 5.1.1 <refused@example.test>: Recipient address rejected: User unknown" \
    "reply.failed: the relay's answer, as it said it"
h_assert_eq "null" "$(jq -r '.message' <<< "$ev")" "reply.failed: no message member"

mail "$T/m2.eml" c2@example.test m2@example.test
feed "$T/m2.eml"
h_wait_for "h_worker_drained '$C' 2" 60 "a second ticket"
h_wait_for '[ "$(event_lines | wc -l)" -ge 2 ]' 60 "a second reply.failed event"
h_assert_eq "2" "$(event_lines | jq -r '.id' | sort -u | wc -l)" \
    "two events with two ids: the first was not repeated"
h_assert_eq "$(h_sql "$C" "SELECT message_id FROM outbox ORDER BY message_id" | tr '\n' ' ')" \
    "$(event_lines | jq -r '.reply.message_id' | sort | tr '\n' ' ')" \
    "one event per refused acknowledgement, each naming its Message-ID"
h_assert_eq "0" "$(h_outbox_count "$C" owed)" "nothing left owed"
h_ctl "$C" --json ticket "$number" > "$T/ticket.json" || h_fail "intakectl ticket $number failed"
h_assert_eq "ack failed" "$(jq -r '.replies[] | "\(.kind) \(.state)"' "$T/ticket.json")" \
    "intakectl ticket: the acknowledgement shows as failed"
h_worker_stop
kill -TERM "$REC_PID"
wait "$REC_PID" 2>/dev/null || true	# its status is SIGTERM's
