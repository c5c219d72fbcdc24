#!/bin/bash
# it_worker_thread.sh: who may write into a ticket, closed tickets, duplicates, through Postfix
# with intake-milter (issue 7, "Threading" and "Duplicates"). Mailboxes:
#   support  defaults: thread_trust = strict, on_closed = reopen, reopen_days = 30, no merging
#   sales    thread_trust = same_domain, on_closed = new, merge_window = 1h
#   billing  on_closed = refuse
#  1. One mail to support@ and its alias help@: one ticket, one acknowledgement; the same mail
#     again (same Message-ID, Date, body: a resend, a second MX): nothing added.
#  2. Message-ID steering: mallory's new mail reuses vic's Message-ID; vic's answer referring to
#     it still lands on vic's ticket.
#  3. Signed references: mallory's reference with a forged signature threads nowhere; a real
#     signed id of alice's acknowledgement (copied) makes a new ticket linked to alice's.
#  4. Closed support ticket: "Thanks!" is added and does not reopen; closed 40 days ago, a
#     follow-up makes a new linked ticket.
#  5. billing (refuse): a follow-up is kept as a note on the closed ticket, which stays closed,
#     and bob gets the "closed" notice through the outbox.
#  6. sales (same_domain): a colleague of the same domain writes into the ticket; a gmail.com
#     stranger quoting a gmail.com customer's number gets a new linked ticket; a follow-up to a
#     closed ticket (on_closed = new) makes a new linked ticket.
#  7. Near-duplicates: the same sender and subject (prefix, case, spaces aside) twice: merged in
#     sales (merge_window), two tickets in support (off).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_thread

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" \
    "[mailbox sales]" "thread_trust = same_domain" "on_closed = new" "merge_window = 1h" \
    "[mailbox billing]" "address = billing@example.test" "on_closed = refuse"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

send() { h_mail "$P" "$@"; }			# send FROM TO SUBJECT BODY [swaks options...]
in_count() { h_in_count "$C" "$1"; }
ticket_of() {			# ticket_of ADDRESS: the newest ticket of a customer
    h_sql "$C" "SELECT number FROM tickets WHERE customer_address = '$1' ORDER BY id DESC LIMIT 1"
}
settled() {			# settled: the stream is read and nothing is pending
    [ "$(h_xlen)" = 0 ] && [ "$(h_pending_count)" = 0 ]
}
status_of() {
    h_ctl "$C" --json ticket "$1" | jq -r .status
}
linked_to() {
    h_ctl "$C" --json ticket "$1" | jq -r '.linked_to // "-"'
}
tickets=0
expect_tickets() {		# expect_tickets N WHAT: wait until there are N tickets
    tickets=$1
    h_wait_for "h_worker_drained '$C' $1" 30 "$2 ($1 tickets)"
}

# 1. Exact duplicates.
send alice@acme.test "support@example.test,help@example.test" "Printer on fire" "Room 4." \
    --header "Message-ID: <alice-1@acme.test>" --header "Date: Tue, 01 Dec 2026 06:00:00 +0000"
expect_tickets 1 "alice's mail to support@ and help@: one ticket"
A=$(ticket_of alice@acme.test)
h_wait_for '[ "$(h_outbox_count "$C" sent)" -eq 1 ]' 30 "alice's acknowledgement sent"
h_assert_eq 1 "$(in_count "$A")" "ticket A: one message for two addresses of one mailbox"
send alice@acme.test support@example.test "Printer on fire" "Room 4." \
    --header "Message-ID: <alice-1@acme.test>" --header "Date: Tue, 01 Dec 2026 06:00:00 +0000"
h_wait_for settled 30 "the resent mail is read"
h_assert_eq 1 "$(h_tickets_count "$C")" "resend: no new ticket"
h_assert_eq 1 "$(in_count "$A")" "resend: nothing added to ticket A"
h_assert_eq 1 "$(h_outbox_count "$C")" "resend: no second acknowledgement"
h_assert_eq 1 "$(grep -c "duplicate of a message already on ticket $A: nothing to do" "$T/worker.log")" \
    "worker log: the resend is a duplicate"
ACK_A=$(h_sql "$C" "SELECT message_id FROM outbox WHERE ticket_id = (SELECT id FROM tickets WHERE number = '$A')")

# 2. Message-ID steering.
send vic@victim.test support@example.test "Order 77" "Where is my order?" \
    --header "Message-ID: <vic-1@victim.test>"
expect_tickets 2 "vic's mail"
V=$(ticket_of vic@victim.test)
send mallory@evil.test support@example.test "Order 77 (mallory)" "steer" \
    --header "Message-ID: <vic-1@victim.test>"
expect_tickets 3 "mallory's mail reusing vic's Message-ID: a ticket of its own"
MS=$(ticket_of mallory@evil.test)
send vic@victim.test support@example.test "Re: Order 77" "Any news?" \
    --header "In-Reply-To: <vic-1@victim.test>" --header "References: <vic-1@victim.test>"
h_wait_for "[ \"\$(in_count '$V')\" -eq 2 ] && settled" 30 "vic's answer lands on vic's ticket"
h_assert_eq 1 "$(in_count "$MS")" "mallory's ticket got nothing of vic's"

# 3. Signed references.
FORGED="i1.$A.0123456789abcdef.0123456789abcdef0123456789abcdef@example.test"
send mallory@evil.test support@example.test "Re: your ticket" "forged reference" \
    --header "In-Reply-To: <$FORGED>"
expect_tickets 4 "a forged signed reference: a new ticket"
M1=$(ticket_of mallory@evil.test)
h_assert_eq - "$(linked_to "$M1")" "forged signature: the new ticket is not linked to A"
h_assert_eq 1 "$(in_count "$A")" "forged signature: ticket A unchanged"
send mallory@evil.test support@example.test "Re: your ticket" "copied reference" \
    --header "In-Reply-To: <$ACK_A>"
expect_tickets 5 "a stranger's real signed reference: a new ticket"
M2=$(ticket_of mallory@evil.test)
h_assert_eq "$A" "$(linked_to "$M2")" "real signature, stranger: the new ticket is linked to A"
h_assert_eq 1 "$(grep -c "signed reference names ticket $A but mallory@evil.test may not write into it" "$T/worker.log")" \
    "worker log: a signed reference from a stranger, and why"
h_assert_eq 1 "$(grep -c "names ticket $A but mallory@evil.test" "$T/worker.log")" \
    "worker log: ticket A weighed once (its ack's id is also stored: not weighed again)"
h_assert_eq 1 "$(in_count "$A")" "real signature, stranger: ticket A unchanged"

# 4. Closed support ticket: a thank-you; then closed long ago.
h_ctl "$C" close "$A" > /dev/null || h_fail "intakectl close $A"
send alice@acme.test support@example.test "Re: [#$A] Printer on fire" \
    "$(printf 'Thanks!\n\nOn Tuesday, Support wrote:\n> Your printer is fixed.\n')"
h_wait_for "[ \"\$(in_count '$A')\" -eq 2 ] && settled" 30 "alice's thank-you is added to A"
h_assert_eq closed "$(status_of "$A")" "the thank-you did not reopen A"
h_assert_eq "an out-of-office reply or a thank-you does not reopen a closed ticket" \
    "$(h_ctl "$C" --json ticket "$A" | jq -r '[.messages[] | select(.direction == "in")][1].note')" \
    "the thank-you's note says why"
h_sql "$C" "UPDATE tickets SET closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-40 days') WHERE number = '$A'"
send alice@acme.test support@example.test "Re: [#$A] Printer on fire" "It burns again."
expect_tickets 6 "a follow-up 40 days after closing: a new ticket"
A2=$(ticket_of alice@acme.test)
h_assert_eq "$A" "$(linked_to "$A2")" "the new ticket is linked to A"
h_assert_eq closed "$(status_of "$A")" "A stays closed"
h_assert_eq 1 "$(grep -c "ticket number in subject names closed ticket $A: the ticket was closed reopen_days or more ago: new ticket linked to it" "$T/worker.log")" \
    "worker log: closed too long ago"

# 5. billing: on_closed = refuse.
send bob@bob.test billing@example.test "Invoice 12 wrong" "Please fix."
expect_tickets 7 "bob's billing ticket"
B=$(ticket_of bob@bob.test)
h_wait_for '[ "$(h_outbox_count "$C" sent)" -eq 7 ]' 30 "acknowledgements so far sent"
h_ctl "$C" close "$B" > /dev/null || h_fail "intakectl close $B"
send bob@bob.test billing@example.test "Re: [#$B] Invoice 12 wrong" "Still wrong."
h_wait_for "[ \"\$(in_count '$B')\" -eq 2 ] && settled" 30 "bob's follow-up is kept on B"
h_assert_eq 7 "$(h_tickets_count "$C")" "refuse: no new ticket"
h_assert_eq closed "$(status_of "$B")" "refuse: B stays closed"
h_wait_for "[ \"\$(h_sql '$C' \"SELECT count(*) FROM outbox WHERE kind = 'closed' AND recipient = 'bob@bob.test' AND state = 'sent'\")\" -eq 1 ]" 30 \
    "refuse: the 'closed' notice to bob was sent"
NOTICE=$(h_sink_acks | awk -F'\t' '$7 ~ /bob@bob.test/ && $4 ~ /^Re: \[#/ { print $1 }' | tail -n1)
h_check "[ -n '$NOTICE' ] && grep -q 'which' '$NOTICE' && grep -q 'is closed' '$NOTICE'" \
    "refuse: the notice at the relay says the ticket is closed"
h_assert_eq "Re: [#$B] Invoice 12 wrong" "$(h_sink_acks | awk -F'\t' -v f="$NOTICE" '$1 == f { print $4 }')" \
    "refuse: the notice's subject names B once"

# 6. sales: same_domain, free mail, on_closed = new.
send carol@acme2.test sales@example.test "Quote for 10 printers" "Please send a quote."
expect_tickets 8 "carol's sales ticket"
Q=$(ticket_of carol@acme2.test)
send dave@acme2.test sales@example.test "Re: [#$Q] Quote for 10 printers" "Make it 12."
h_wait_for "[ \"\$(in_count '$Q')\" -eq 2 ] && settled" 30 "dave (same domain as carol) writes into Q"
send eve@gmail.com sales@example.test "Quote for toner" "Toner please."
expect_tickets 9 "eve's (gmail.com) ticket"
E=$(ticket_of eve@gmail.com)
send frank@gmail.com sales@example.test "Re: [#$E] Quote for toner" "Me too."
expect_tickets 10 "frank (gmail.com, not eve) gets a new ticket"
h_assert_eq "$E" "$(linked_to "$(ticket_of frank@gmail.com)")" "frank's ticket is linked to eve's"
h_assert_eq 1 "$(in_count "$E")" "eve's ticket unchanged"
h_ctl "$C" close "$Q" > /dev/null || h_fail "intakectl close $Q"
send carol@acme2.test sales@example.test "Re: [#$Q] Quote for 10 printers" "And 5 more."
expect_tickets 11 "carol's follow-up to the closed Q (on_closed = new): a new ticket"
h_assert_eq "$Q" "$(linked_to "$(ticket_of carol@acme2.test)")" "carol's new ticket is linked to Q"
h_assert_eq closed "$(status_of "$Q")" "Q stays closed"

# 7. Near-duplicates.
send george@acme3.test sales@example.test "Invoice missing" "I have no invoice."
expect_tickets 12 "george's first mail"
G=$(ticket_of george@acme3.test)
send George@ACME3.test sales@example.test "RE:  invoice   MISSING" "Still no invoice, please send it."
h_wait_for "[ \"\$(in_count '$G')\" -eq 2 ] && settled" 30 "george's second mail is merged into G"
h_assert_eq 12 "$(h_tickets_count "$C")" "merged: no new ticket"
h_assert_eq 1 "$(grep -c "same sender <George@ACME3.test> and subject as open ticket $G within merge_window: merged into it" "$T/worker.log")" \
    "worker log: merged as a near-duplicate"
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE recipient = 'george@acme3.test' OR recipient = 'George@ACME3.test'")" \
    "merged: one acknowledgement"
send henry@acme4.test support@example.test "Printer jam" "Jammed."
expect_tickets 13 "henry's first mail"
send henry@acme4.test support@example.test "Re: Printer jam" "Jammed again."
expect_tickets 14 "support (merge_window 0): henry's second mail is a ticket of its own"

h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"
h_worker_stop
h_milter_stop
