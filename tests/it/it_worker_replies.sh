#!/bin/bash
# it_worker_replies.sh: where an acknowledgement goes and when it is refused (ack_policy.c),
# through Postfix with intake-milter; support answers the envelope sender (the default), sales has
# reply_to = from_if_aligned; [worker] authserv_id = mx.intake.test.
#   1. a forged From: the acknowledgement goes to the envelope sender, nothing to the From.
#   2. sales, From aligned with the envelope sender (same organisational domain): to the From.
#   3. sales, From of another domain: to the envelope sender.
#   4. Authentication-Results of our authserv-id with spf=fail: no acknowledgement, the ticket's
#      reply 'suppressed' with the reason (intakectl ticket shows it).
#   5. the same field from another authserv-id: ignored, acknowledged.
#   6. a From of only an encoded word or a bare word (the milter's copy of the raw field has no
#      "@"; the envelope's From address is what GMime made of it): no acknowledgement.
#   7. a Reply-To of noreply@: no acknowledgement.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_replies

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[worker]" "authserv_id = mx.intake.test" \
    "[mailbox sales]" "reply_to = from_if_aligned"
h_milter_start "$C" || exit 1
P=$(h_free_port)
# Header addresses are not rewritten: Postfix treats the test's 127.0.0.1 as a client on the
# internet (by default it appends @$myorigin to a bare From of local clients only, and then the
# milter sees the rewritten field: docs/design.md, "Replies and loops").
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" "local_header_rewrite_clients=" || exit 1
h_worker_start "$C" || exit 1

# send ENVELOPE_SENDER TO SUBJECT [swaks options...] (the From header is the envelope sender
# unless an option gives one)
send() {
    local from=$1 to=$2 subject=$3
    shift 3
    swaks --server "127.0.0.1:$P" --silent 2 --from "$from" --to "$to" \
	--header "Subject: $subject" --body "text of $subject" "$@" >> "$T/swaks.log" 2>&1 ||
	h_die "swaks: '$subject' from $from not accepted"
}

# reply_of SUBJECT: state and recipient of the reply recorded for the ticket of that subject
reply_of() {
    h_sql "$C" "SELECT o.state || ' ' || o.recipient FROM outbox o JOIN tickets t ON t.id = o.ticket_id
		WHERE t.title = '$1'"
}
reason_of() {
    h_sql "$C" "SELECT o.last_error FROM outbox o JOIN tickets t ON t.id = o.ticket_id
		WHERE t.title = '$1'"
}

send attacker@bad.test support@example.test "Forged" --header "From: Victim <victim@victim.test>"
send bounces-7@mail.c.test sales@example.test "Aligned" --header "From: Alice <alice@c.test>"
send x@bad2.test sales@example.test "Not aligned" --header "From: victim2@victim.test"
send s1@spf.test support@example.test "SPF ours" \
    --header "Authentication-Results: mx.intake.test; spf=fail smtp.mailfrom=s1@spf.test"
send s2@spf.test support@example.test "SPF foreign" \
    --header "Authentication-Results: mx.attacker.test; spf=fail smtp.mailfrom=s2@spf.test"
send m1@made.test support@example.test "Made up" --header "From: =?utf-8?q?WIN_1000_USD?="
send m2@made.test support@example.test "Bare word" --header "From: winner"
send r1@c2.test support@example.test "No-reply Reply-To" --header "Reply-To: noreply@c2.test"
h_wait_for "h_worker_drained '$C' 8" 60 "eight tickets"
h_wait_for '[ "$(h_outbox_count "$C" sent)" -eq 4 ] && [ "$(h_sink_count)" -eq 4 ]' 30 \
    "four acknowledgements sent and at the relay"

h_assert_eq "sent attacker@bad.test" "$(reply_of Forged)" "1. forged From: the envelope sender is answered"
h_assert_eq 0 "$(h_sink_acks | awk -F'\t' '$7 ~ /victim/' | wc -l)" "1./3. nothing to a forged From at the relay"
FORGED_ACK=$(h_sink_acks | awk -F'\t' '$7 ~ /attacker@bad.test/ { print $1 }')
h_assert_eq 0 "$(grep -ci 'victim' "$FORGED_ACK")" "1. the forged From's name is not echoed to the envelope sender"
h_check "grep -q 'Hello attacker@bad.test,' '$FORGED_ACK'" "1. the greeting names the envelope sender's address"
# No display_name in this mailbox: {{mailbox_name}} is its address (docs/templates.md), not empty.
h_check "grep -q 'thank you for writing to support@' '$FORGED_ACK'" "the mailbox without display_name is named by its address"
h_assert_eq "sent alice@c.test" "$(reply_of Aligned)" "2. aligned From (mail.c.test / c.test): the From is answered"
h_assert_eq "sent x@bad2.test" "$(reply_of 'Not aligned')" "3. From of another domain: the envelope sender is answered"
h_assert_eq "suppressed s1@spf.test" "$(reply_of 'SPF ours')" "4. our Authentication-Results spf=fail: suppressed"
h_check "reason_of 'SPF ours' | grep -q 'spf=fail'" "4. the reason recorded names spf=fail"
N4=$(h_sql "$C" "SELECT number FROM tickets WHERE title = 'SPF ours'")
h_assert_eq suppressed "$(h_ctl "$C" --json ticket "$N4" | jq -r '.replies[0].state')" \
    "4. intakectl ticket shows the reply suppressed"
h_check "grep -q \"ticket $N4: no acknowledgement: our MTA's Authentication-Results say spf=fail\" '$T/worker.log'" \
    "4. worker log: the refusal with its reason"
h_assert_eq "sent s2@spf.test" "$(reply_of 'SPF foreign')" "5. spf=fail from another authserv-id: ignored, answered"
h_check "reply_of 'Made up' | grep -q '^suppressed m1@made.test'" "6. a From of only an encoded word: suppressed"
h_check "reason_of 'Made up' | grep -q 'made up by an MTA'" "6. the reason: made up by an MTA"
h_check "reply_of 'Bare word' | grep -q '^suppressed m2@made.test'" "6. a From of a bare word: suppressed"
h_check "reason_of 'Bare word' | grep -q 'made up by an MTA'" "6. the reason: made up by an MTA (the raw From has no @)"
h_check "reply_of 'No-reply Reply-To' | grep -q '^suppressed'" "7. Reply-To noreply@: suppressed"
h_check "reason_of 'No-reply Reply-To' | grep -q 'Reply-To names a no-reply address'" "7. the reason: Reply-To no-reply"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

h_worker_stop
h_milter_stop
