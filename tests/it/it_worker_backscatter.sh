#!/bin/bash
# it_worker_backscatter.sh: acknowledgements cannot be turned into backscatter, and our own
# addresses cannot write into a ticket; through Postfix with intake-milter, [smtp] reply_window 1h.
#   1. victim1@, VICTIM1@ and Victim1@Victim.test write (three forged mails of one address):
#      three tickets, one acknowledgement.
#   2. carol writes to support and sales at once: a ticket in each, one acknowledgement.
#   3. dave's display name carries a link, his subject a "Re: ": the acknowledgement neither
#      echoes the name nor says "Re: Re:".
#   4. a forged "From: support@" (and "HELP@", an alias) with victim1's ticket number in the
#      Subject: not attached to that ticket (a new one, a warning in the log), no reply to us, and
#      our address is no party of any ticket.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_backscatter

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[smtp]" "reply_window = 1h"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

send() { h_mail "$P" "$@"; }
in_count() { h_ticket_in_count "$C" "$1"; }

# 1. Case variants of one address: one acknowledgement in the window.
send victim1@victim.test support@example.test "Order 1" "first"
h_wait_for "h_worker_drained '$C' 1" 30 "victim1's mail: one ticket"
send VICTIM1@victim.test support@example.test "Order 2" "second"
send Victim1@Victim.test support@example.test "Order 3" "third"
h_wait_for "h_worker_drained '$C' 3" 30 "three case variants: three tickets"
# Replies are recorded with their ticket: once drained, the outbox is final.
h_assert_eq 1 "$(h_outbox_count "$C")" "three case variants of one address: one acknowledgement owed"
h_assert_eq 2 "$(grep -c 'no acknowledgement: this sender was acknowledged within \[smtp\] reply_window' "$T/worker.log")" \
    "worker log: the other two are within the window"
h_wait_for '[ "$(h_sink_count)" -eq 1 ] && [ "$(h_outbox_count "$C" sent)" -eq 1 ]' 30 \
    "the one acknowledgement arrived at the relay"
N=$(h_sql "$C" "SELECT number FROM tickets ORDER BY id LIMIT 1")
h_note "victim1's first ticket: $N"

# 2. One mail to two mailboxes: a ticket each, one acknowledgement.
send carol@example.test support@example.test,sales@example.test "Two mailboxes" "to both"
h_wait_for "h_worker_drained '$C' 5" 30 "carol's mail to support and sales: two tickets"
h_assert_eq "sales support" "$(h_sql "$C" "SELECT group_concat(mailbox, ' ') FROM (SELECT mailbox FROM tickets WHERE customer_address = 'carol@example.test' ORDER BY mailbox)")" \
    "carol: a ticket in each mailbox"
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE recipient = 'carol@example.test' AND state <> 'suppressed'")" \
    "carol: one acknowledgement across the two mailboxes"

# 3. A display name with a link; a customer's "Re:".
send dave@example.test support@example.test "Re: Printer jam" "jammed" \
    --header "From: \"WIN 1000 USD NOW at http://win.example/claim\" <dave@example.test>"
h_wait_for "h_worker_drained '$C' 6" 30 "dave's mail: a ticket"
h_wait_for '[ "$(h_sink_count)" -eq 3 ] && [ "$(h_outbox_count "$C" sent)" -eq 3 ]' 30 \
    "acknowledgements of carol and dave arrived at the relay"
D=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'dave@example.test'")
DAVE_ACK=$(h_sink_acks | awk -F'\t' '$7 ~ /dave@example.test/ { print $1 }')
[ -n "$DAVE_ACK" ] || h_die "no acknowledgement to dave at the relay"
h_assert_eq "[#$D] Re: Printer jam" "$(h_sink_acks | awk -F'\t' -v f="$DAVE_ACK" '$1 == f { print $4 }')" \
    "dave's ack: Subject '[#D] Re: Printer jam' (his Re: not repeated)"
h_assert_eq "dave@example.test" "$(h_sink_acks | awk -F'\t' -v f="$DAVE_ACK" '$1 == f { print $7 }')" \
    "dave's ack: To without the display name"
h_assert_eq 0 "$(grep -ci 'win' "$DAVE_ACK")" "dave's ack: nothing of the display name, anywhere"
h_check "grep -q 'Hello dave@example.test,' '$DAVE_ACK'" "dave's ack: a neutral greeting (his address)"

# 4. Forged mail from our own mailbox address and an alias, quoting victim1's number.
ack_before=$(h_outbox_count "$C")
in_before=$(in_count "$N")
send support@example.test support@example.test "Re: [#$N] Order 1" "written as support"
h_wait_for "h_worker_drained '$C' 7" 30 "forged 'From: support@' opens a new ticket"
send HELP@Example.test support@example.test "[#$N] Order 1" "written as help"
h_wait_for "h_worker_drained '$C' 8" 30 "forged 'From: HELP@' (an alias) opens a new ticket"
h_assert_eq "$in_before" "$(in_count "$N")" "ticket N: the forged mails are not attached"
h_assert_eq 2 "$(grep -c "claims to be one of our mailboxes: not threaded by subject number $N, new ticket" "$T/worker.log")" \
    "worker log: both forged mails flagged"
h_assert_eq "$ack_before" "$(h_outbox_count "$C")" "no acknowledgement to our own addresses"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM parties WHERE address IN ('support@example.test', 'sales@example.test') AND ticket_id IN (SELECT ticket_id FROM outbox WHERE state <> 'suppressed')")" \
    "our mailbox addresses are no party of an acknowledged ticket (the acks did not make them one)"
h_assert_eq 0 "$(grep -c 'follow-up added' "$T/worker.log")" "no mail of this test was threaded"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

h_worker_stop
h_milter_stop
