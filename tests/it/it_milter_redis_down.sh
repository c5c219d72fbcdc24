#!/bin/bash
# it_milter_redis_down.sh: while Redis is down the milter answers 451, so the sending Postfix keeps
# every mail; after Redis is back and the sender flushes its queue, each mail becomes exactly one
# envelope (none lost, none twice) and is delivered.
#
#   smtp-source -> FRONT postfix (no milter, relays) -> BACK postfix (+ intake-milter) -> Maildir
. "$(dirname "$0")/../lib/harness.sh"
h_init it_milter_redis_down

TEMPFAIL="Intake test: ticket queue down"
h_redis_start || exit 1
h_write_conf "$T/intake.conf" "[milter]" "tempfail_text = $TEMPFAIL"
h_milter_start "$T/intake.conf" || exit 1
B=$(h_free_port)
F=$(h_free_port)
h_postfix_start back "$B" "smtpd_milters=unix:$T/milter.sock" || exit 1
# FRONT retries only when flushed (long backoff), so the retry is under the test's control.
h_postfix_start front "$F" "virtual_mailbox_domains=" "relayhost=[127.0.0.1]:$B" \
    "queue_run_delay=1h" "minimal_backoff_time=1h" "maximal_backoff_time=1h" || exit 1

h_redis_stop
h_send_source "$F" 100 support@example.test || h_die "front did not accept the mails"
h_pass "front: 100 mails accepted"

h_wait_for '[ "$(h_postfix_deferred_count front)" -eq 100 ]' 120 "front: all 100 deferred"
h_postfix_queue_json front > "$T/front-queue.json"
h_assert_eq 100 "$(jq -s --arg t "$TEMPFAIL" '[.[] | select(.queue_name == "deferred")
	| select(all(.recipients[]; (.delay_reason // "") | contains($t)))] | length' "$T/front-queue.json")" \
    "front: each deferred with the milter's 451 text"
h_note "a delay reason: $(jq -r '.recipients[0].delay_reason' "$T/front-queue.json" | head -n1)"
h_assert_eq 0 "$(h_postfix_queue_count back)" "back: kept nothing"
h_assert_eq 0 "$(h_maildir_count back support@example.test)" "back: support@ got nothing"
h_assert_eq 0 "$(h_maildir_total back)" "back: nothing delivered"

h_redis_start || exit 1
h_assert_eq 0 "$(h_xlen)" "stream: empty after the outage"
h_assert_eq 100 "$(h_postfix_deferred_count front)" "front: still 100 deferred before the flush"

# The milter may still answer 451 for a moment after Redis is back (its reconnect backoff): the
# first flush can be deferred again in part. Flush every 2 s, as the sender's retries would.
if h_postfix_flush_until_empty front 60 2; then
    h_pass "front: queue empty after flushing"
else
    h_fail "front: still $(h_postfix_queue_count front) queued 60s after Redis came back"
fi
h_assert_eq 100 "$(h_xlen)" "stream: exactly 100 envelopes"
h_stream_envelopes > "$T/envelopes.json" || h_fail "stream: cannot read the envelopes"
h_assert_eq 100 "$(jq -r '.message_id // empty' "$T/envelopes.json" | wc -l)" \
    "envelopes: each has a message_id"
h_assert_eq 100 "$(jq -r '.message_id // empty' "$T/envelopes.json" | sort -u | wc -l)" \
    "envelopes: 100 distinct message ids (no duplicate)"
h_assert_eq 100 "$(jq -s '[.[] | select(.mailboxes[0].name == "support")] | length' "$T/envelopes.json")" \
    "envelopes: all for mailbox support"

h_postfix_wait_empty back 60 || h_fail "back: queue did not drain"
h_assert_eq 100 "$(h_maildir_count back support@example.test)" "back: support@ got the 100 mails"
h_assert_eq 0 "$(h_maillog_count front 'status=bounced')" "front: nothing bounced"
h_assert_eq 0 "$(h_maillog_count back 'status=bounced')" "back: nothing bounced"

h_milter_stop
