#!/bin/bash
# it_worker_followup.sh: threading of follow-ups, through Postfix with intake-milter.
#   1. alice writes: ticket N, acknowledgement to alice.
#   2. alice answers with "Re: [#N] ..." in the Subject: a second incoming message on N, no new
#      ticket, no second acknowledgement.
#   3. mallory (not on N) writes with "[#N] hello": a ticket of her own, linked to N (intakectl
#      ticket shows the link both ways); N is unchanged.
#   4. alice answers the acknowledgement (In-Reply-To = its signed Message-ID, as read at the
#      relay: i1.N.RANDOM.MAC@domain)
#   5. intakectl closes N; alice writes again: N is reopened
#      with a Subject without the number: a third incoming message on N.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_followup

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# send FROM SUBJECT BODY [swaks options...]: to support@. in_count NUMBER: incoming messages.
send() {
    local from=$1
    shift
    h_mail "$P" "$from" support@example.test "$@"
}
in_count() { h_ticket_in_count "$C" "$1"; }

# 1. A new ticket and its acknowledgement.
send alice@example.test "Printer on fire" "Hello, the printer in room 4 is on fire."
h_wait_for "h_worker_drained '$C' 1" 30 "alice's mail: one ticket"
N=$(h_sql "$C" "SELECT number FROM tickets")
h_note "alice's ticket: $N"
h_wait_for '[ "$(h_sink_count)" -eq 1 ] && [ "$(h_outbox_count "$C" sent)" -eq 1 ]' 30 \
    "alice's acknowledgement arrived at the relay"
ACK_FILE=$(h_sink_files | head -n1)
h_sink_acks > "$T/acks.tsv"
IFS=$'\t' read -r _ ACK_MID ACK_IRT ACK_SUBJECT _ _ ACK_TO < "$T/acks.tsv"
ALICE_MID=$(h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'in'")
h_assert_eq "[#$N] Re: Printer on fire" "$ACK_SUBJECT" "ack: Subject '[#N] Re: Printer on fire'"
h_assert_eq "$ALICE_MID" "$ACK_IRT" "ack: In-Reply-To is alice's Message-ID"
h_assert_eq "alice@example.test" "$ACK_TO" "ack: To alice"
h_assert_eq "$ACK_MID" "$(h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'out'")" \
    "store: the ack's Message-ID is kept as the ticket's outgoing message"
[ -n "$ACK_MID" ] && [ "$ACK_MID" != - ] || h_die "no Message-ID in $ACK_FILE"
case "$ACK_MID" in
    "i1.$N."*@example.test) h_pass "ack: a signed Message-ID of ours naming N ($ACK_MID)" ;;
    *) h_fail "ack: Message-ID '$ACK_MID' is not i1.$N.RANDOM.MAC@example.test" ;;
esac
KEY=$(dirname "$(h_store_path "$C")")/msgid.key
h_assert_eq 600 "$(stat -c %a "$KEY")" "the worker made its Message-ID secret, mode 600"

# 2. alice answers with the number in the Subject.
send alice@example.test "Re: [#$N] Printer on fire" "It is still burning."
h_wait_for "[ \"\$(in_count '$N')\" -eq 2 ] && [ \"\$(h_xlen)\" -eq 0 ]" 30 \
    "alice's 'Re: [#N]' lands on N (2 incoming messages)"
h_assert_eq 1 "$(h_tickets_count "$C")" "still one ticket"
h_assert_eq 1 "$(h_outbox_count "$C")" "no acknowledgement for a follow-up"
h_assert_eq 1 "$(grep -c "ticket $N: follow-up added (ticket number in subject) from=<alice@example.test>" "$T/worker.log")" \
    "worker log: follow-up by ticket number in subject"

# 3. mallory quotes alice's number: a ticket of her own.
send mallory@example.test "[#$N] hello" "Let me into that ticket."
h_wait_for "h_worker_drained '$C' 2" 30 "mallory's '[#N] hello' opens a new ticket (2 tickets)"
M=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'mallory@example.test'")
h_note "mallory's ticket: $M"
[ -n "$M" ] && [ "$M" != "$N" ] && h_pass "mallory's ticket $M is not alice's $N" ||
    h_fail "mallory's ticket is '$M' (alice's: $N)"
h_assert_eq 2 "$(in_count "$N")" "ticket N unchanged: still 2 incoming messages"
h_assert_eq "alice@example.test" "$(h_ctl "$C" --json ticket "$N" | jq -r '[.messages[] | select(.direction == "in") | .sender] | unique | join(",")')" \
    "ticket N: every incoming message is alice's"
h_assert_eq 1 "$(in_count "$M")" "ticket M: mallory's one message"
h_assert_eq 1 "$(grep -c "ticket number in subject names ticket $N but mallory@example.test may not write into it: the sender is not a party of the ticket (thread_trust = strict)" "$T/worker.log")" \
    "worker log: stranger quoting a number gets a new ticket, and why"
h_assert_eq "$N" "$(h_ctl "$C" --json ticket "$M" | jq -r .linked_to)" "ticket M is linked to N"
h_assert_eq "$M" "$(h_ctl "$C" --json ticket "$N" | jq -r '.linked_from[].number')" \
    "ticket N shows M linked from it"
h_ctl "$C" ticket "$M" > "$T/ticket-M.txt"
h_assert_eq 1 "$(grep -c "^linked to $N: the sender is not a party of the ticket" "$T/ticket-M.txt")" \
    "intakectl ticket M (text): 'linked to N' and why"
h_wait_for '[ "$(h_sink_count)" -eq 2 ] && [ "$(h_outbox_count "$C" sent)" -eq 2 ]' 30 \
    "mallory gets an acknowledgement of her own ticket"
h_assert_eq "[#$M] Re: [#$N] hello" "$(h_sink_acks | awk -F'\t' '$7 == "mallory@example.test" { print $4 }')" \
    "mallory's ack names her ticket M"

# 4. alice answers the acknowledgement: In-Reply-To, no number in the Subject.
send alice@example.test "Re: your automatic reply" "Any news?" \
    --header "In-Reply-To: <$ACK_MID>" --header "References: <$ALICE_MID> <$ACK_MID>"
h_wait_for "[ \"\$(in_count '$N')\" -eq 3 ] && [ \"\$(h_xlen)\" -eq 0 ]" 30 \
    "alice's answer to the ack (In-Reply-To) lands on N (3 incoming messages)"
h_assert_eq 2 "$(h_tickets_count "$C")" "still two tickets"
h_assert_eq 1 "$(in_count "$M")" "ticket M unchanged"
h_assert_eq 1 "$(grep -c "ticket $N: follow-up added (signed reference) from=<alice@example.test>" "$T/worker.log")" \
    "worker log: follow-up by our signed Message-ID in In-Reply-To"
h_ctl "$C" --json ticket "$N" > "$T/ticket-N.json" || h_fail "intakectl ticket $N failed"
h_assert_eq "Printer on fire|Re: [#$N] Printer on fire|Re: your automatic reply" \
    "$(jq -r '[.messages[] | select(.direction == "in") | .subject] | join("|")' "$T/ticket-N.json")" \
    "ticket N: the three incoming subjects, in order"
h_assert_eq "ack alice@example.test sent" "$(jq -r '.replies[] | "\(.kind) \(.recipient) \(.state)"' "$T/ticket-N.json")" \
    "ticket N: exactly one reply: the ack to alice, sent"
h_check "[ \"\$(h_ctl '$C' ticket '$N' --json 2>/dev/null | jq -r .number 2>/dev/null)\" = '$N' ]" \
    "intakectl ticket NUMBER --json (option after the operand) works"
h_assert_eq 2 "$(h_sink_count)" "relay: 2 acknowledgements in all (none for follow-ups)"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

# 5. A closed ticket is reopened by a follow-up of its customer.
h_ctl "$C" close "$N" > /dev/null || h_fail "intakectl close $N failed"
h_assert_eq closed "$(h_ctl "$C" --json ticket "$N" | jq -r .status)" "intakectl close: ticket N is closed"
send alice@example.test "Re: [#$N] Printer on fire" "It is burning again."
h_wait_for "[ \"\$(in_count '$N')\" -eq 4 ] && [ \"\$(h_xlen)\" -eq 0 ]" 30 \
    "alice's mail to the closed ticket N lands on it (4 incoming messages)"
h_assert_eq open "$(h_ctl "$C" --json ticket "$N" | jq -r .status)" "the follow-up reopened ticket N"
h_assert_eq 1 "$(grep -c "ticket $N reopened by a follow-up" "$T/worker.log")" "worker log: reopened"
h_assert_eq 2 "$(h_tickets_count "$C")" "still two tickets"
if h_ctl "$C" close INT-1999-000001 > "$T/close.out" 2>&1; then
    h_fail "intakectl close of an unknown ticket succeeded"
else
    h_assert_eq "intakectl: close: no ticket INT-1999-000001" "$(cat "$T/close.out")" \
	"intakectl close: an unknown ticket is an error that names it"
fi

h_worker_stop
h_milter_stop
