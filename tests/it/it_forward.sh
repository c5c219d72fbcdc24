#!/bin/bash
# it_forward.sh: forwarded, redirected and staff-forwarded mail through two real Postfix
# instances, intake-milter and intake-worker. "company" is the company's main mail server: its
# local(8) aliases forward info@ and vertrieb@company.test to tickets@example.test, a
# [milter] collectors address of the Intake host ("back"); support lists info@ and sales lists
# vertrieb@ as forwarded_from; alice@company.test is [milter] staff.
#   1. jane writes to info@company.test: forwarded by company to the collector, a ticket in
#      support for jane, the milter names the original recipient and the field it came from.
#   2. joe writes to vertrieb@company.test: the same collector, a ticket in sales (deliver = no:
#      the collector recipient is removed, the mail discarded after queuing).
#   3. a mail to the collector whose headers name no mailbox: no ticket, delivered untouched.
#   4. a mail to support@ with a forged "X-Original-To: vertrieb@company.test": support's.
#   5. alice (staff) forwards carol's mail inline: a ticket for carol, a note naming alice, no
#      acknowledgement (carol did not write to us); the same as an attached message/rfc822 for
#      dave (sent base64, as swaks does).
#   6. mallory (a stranger) sends a forward block naming carol: mallory stays the customer.
#   7. a redirect (Resent-From) keeps From: the customer is the author, the note names who.
#   8. one mail to support@ and help@ (an alias): one ticket, one acknowledgement.
#   9. the same mail (one Message-ID) sent twice, and once more through the forwarder: one ticket.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_forward

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" \
    "[milter]" \
    "collectors = tickets@$H_DOMAIN" \
    "staff = alice@company.test" \
    "[mailbox support]" \
    "forwarded_from = info@company.test" \
    "[mailbox sales]" \
    "forwarded_from = vertrieb@company.test" \
    "deliver = no"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
F=$(h_free_port)
# company: local(8) expands the aliases (adding Delivered-To, as its prepend_delivered_header
# default says for forwards) and relays the result to back.
h_postfix_start company "$F" "virtual_mailbox_domains=" "relayhost=[127.0.0.1]:$P" \
    "mydestination=company.test" \
    "alias_maps=inline:{ info=tickets@$H_DOMAIN, vertrieb=tickets@$H_DOMAIN }" \
    "local_recipient_maps=\$alias_maps" || exit 1
h_worker_start "$C" || exit 1

# send PORT FROM TO SUBJECT BODY [swaks options...]: FROM is envelope sender and From (unless an
# option gives another From header).
send() {
    local port=$1 from=$2 to=$3 subject=$4 body=$5
    shift 5
    swaks --server "127.0.0.1:$port" --silent 2 --from "$from" --to "$to" \
	--header "From: $from" --header "Subject: $subject" --body "$body" "$@" >> "$T/swaks.log" 2>&1 ||
	h_die "swaks: '$subject' from $from to $to not accepted"
}
ticket_of() {	# ticket_of SUBJECT: mailbox|customer_address of the ticket titled SUBJECT
    h_sql "$C" "SELECT mailbox || '|' || customer_address FROM tickets WHERE title = '$1'"
}
note_of() {	# note_of SUBJECT: the note of the ticket's first message
    h_sql "$C" "SELECT coalesce(m.note, '') FROM messages m JOIN tickets t ON t.id = m.ticket_id
		WHERE t.title = '$1' ORDER BY m.id LIMIT 1"
}
n=0

# 1. Forwarded by company's alias to the collector: support's, for jane.
send "$F" jane@cust.test info@company.test "Printer on fire" "It burns." \
    --header "From: Jane Doe <jane@cust.test>" --header "To: Company Info <info@company.test>"
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 60 "jane's mail to info@company.test: a ticket"
h_assert_eq "support|jane@cust.test" "$(ticket_of 'Printer on fire')" \
    "forwarded to the collector: support's ticket, customer jane"
line=$(grep 'queued envelope=.*from=<jane@cust.test>' "$T/milter.log")
h_check "echo '$line' | grep -Eq 'mailbox=support\((X-Original-To|Delivered-To) info@company.test\)'" \
    "milter log: mailbox support chosen by the original recipient info@company.test"
h_note "milter: ${line#*mailbox=}"
h_wait_for "[ \"\$(h_maildir_count back tickets@$H_DOMAIN)\" -eq 1 ]" 30 \
    "jane's mail delivered to the collector's maildir too (support: deliver = yes)"

# 2. The same collector, another forwarded_from: sales's.
send "$F" joe@cust.test vertrieb@company.test "Angebot bitte" "Bitte ein Angebot."
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 60 "joe's mail to vertrieb@company.test: a ticket"
h_assert_eq "sales|joe@cust.test" "$(ticket_of 'Angebot bitte')" \
    "forwarded from vertrieb@: sales's ticket, customer joe"
h_wait_for "grep -q 'no recipient left: discarded after queuing' '$T/milter.log'" 30 \
    "sales has deliver = no: the collector recipient removed, the mail discarded after queuing"

# 3. The collector, and no header names a mailbox: delivered untouched, no ticket.
send "$P" nobody@cust.test "tickets@$H_DOMAIN" "Nothing of ours" "x" --header "To: someone@else.test"
h_wait_for "[ \"\$(h_maildir_count back tickets@$H_DOMAIN)\" -eq 2 ]" 30 \
    "collector mail naming no mailbox: delivered to the collector's maildir (joe's was not)"
h_assert_eq 1 "$(grep -c 'collector recipient, but no X-Original-To, Delivered-To, Resent-To, To or Cc address is a mailbox' "$T/milter.log")" \
    "milter log: the collector mail that named no mailbox"
h_assert_eq "$n" "$(h_tickets_count "$C")" "... and no ticket"

# 4. A header cannot add a mailbox: X-Original-To of sales on a mail to support@.
send "$P" eve@cust.test "support@$H_DOMAIN" "Forged original" "x" \
    --header "X-Original-To: vertrieb@company.test"
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 30 "the mail with a forged X-Original-To: a ticket"
h_assert_eq "support|eve@cust.test" "$(ticket_of 'Forged original')" \
    "forged X-Original-To of sales on a mail to support@: support's, not sales's"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM tickets WHERE mailbox = 'sales' AND customer_address = 'eve@cust.test'")" \
    "... and no sales ticket"

# 5. Staff forwards: inline (Gmail's block) and attached (message/rfc822).
send "$P" alice@company.test "support@$H_DOMAIN" "Fwd: Invoice wrong" \
"Hi team, please handle.

---------- Forwarded message ---------
From: Carol Customer <carol@cust.test>
Date: Mon, 30 Nov 2026 at 10:00
Subject: Invoice wrong
To: <alice@company.test>

My invoice 42 is wrong." --header "From: Alice <alice@company.test>"
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 30 "alice's inline forward: a ticket"
h_assert_eq "support|carol@cust.test" "$(ticket_of 'Fwd: Invoice wrong')" \
    "staff forward (inline): the ticket is carol's"
h_check "note_of 'Fwd: Invoice wrong' | grep -q 'Forwarded by alice@company.test; the customer is carol@cust.test'" \
    "staff forward (inline): the message's note names alice"
# Replies are recorded with their ticket: once drained, the outbox is final.
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE recipient IN ('carol@cust.test', 'alice@company.test') AND state <> 'suppressed'")" \
    "staff forward (inline): no acknowledgement, to carol or to alice"
h_assert_eq 1 "$(grep -c 'no acknowledgement: forwarded by staff: the customer did not write to us' "$T/worker.log")" \
    "worker log: why not"

cat > "$T/dave.eml" <<'EOF'
From: Dave Kunde <dave@cust.test>
To: alice@company.test
Subject: Delivery late
Date: Mon, 30 Nov 2026 09:00:00 +0000
Message-ID: <dave-1@cust.test>

Where is my parcel?
EOF
send "$P" alice@company.test "support@$H_DOMAIN" "Fwd: Delivery late" "See attached." \
    --header "From: Alice <alice@company.test>" --attach-type message/rfc822 --attach "@$T/dave.eml"
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 30 "alice's forward as attachment: a ticket"
h_assert_eq "support|dave@cust.test" "$(ticket_of 'Fwd: Delivery late')" \
    "staff forward (attached message): the ticket is dave's"

# 6. A stranger's forward block: the stranger stays the customer.
send "$P" mallory@evil.test "support@$H_DOMAIN" "Fwd: Refund" \
"Hi,

---------- Forwarded message ---------
From: Carol Customer <carol@cust.test>

Please refund to my new account." --header "From: Mallory <mallory@evil.test>"
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 30 "mallory's forward: a ticket"
h_assert_eq "support|mallory@evil.test" "$(ticket_of 'Fwd: Refund')" \
    "a stranger's forward block: the customer stays mallory"
h_assert_eq "" "$(note_of 'Fwd: Refund')" "... and no forward note"
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE recipient = 'mallory@evil.test'")" \
    "... and the acknowledgement goes to mallory (so staff forwards are not acknowledged by choice)"

# 7. A redirect: From kept, Resent-From added.
send "$P" info-desk@company.test "support@$H_DOMAIN" "Redirected question" "How do I ...?" \
    --header "From: Frank <frank@cust.test>" --header "Resent-From: info-desk@company.test" \
    --header "Resent-To: support@$H_DOMAIN"
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 30 "the redirect: a ticket"
h_assert_eq "support|frank@cust.test" "$(ticket_of 'Redirected question')" \
    "a redirect: the customer is the author (From), not Resent-From"
h_check "note_of 'Redirected question' | grep -q 'Redirected by info-desk@company.test'" \
    "a redirect: the note names who redirected it"

# 8. Two addresses of one mailbox: one ticket, one acknowledgement.
before=$(h_sql "$C" "SELECT count(*) FROM outbox WHERE recipient = 'gina@cust.test'")
send "$P" gina@cust.test "support@$H_DOMAIN,help@$H_DOMAIN" "Two aliases" "to both"
n=$((n + 1))
h_wait_for "h_worker_drained '$C' $n" 30 "gina's mail to support@ and help@: one ticket"
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM tickets WHERE customer_address = 'gina@cust.test'")" \
    "two aliases of one mailbox: one ticket"
h_assert_eq $((before + 1)) "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE recipient = 'gina@cust.test'")" \
    "two aliases of one mailbox: one acknowledgement"

# 9. One Message-ID twice, then the same mail through the forwarder: one ticket.
for via in "$P support@$H_DOMAIN" "$P support@$H_DOMAIN" "$F info@company.test"; do
    set -- $via
    send "$1" hank@cust.test "$2" "Sent twice" "Same mail." \
	--header "Message-ID: <twice-1@cust.test>" --header "Date: Mon, 30 Nov 2026 10:00:00 +0000"
done
n=$((n + 1))
h_wait_for "[ \"\$(grep -c 'from=<hank@cust.test>' '$T/milter.log')\" -eq 3 ] && h_worker_drained '$C' $n" 60 \
    "hank's mail, queued three times: one ticket, the stream drained"
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM tickets WHERE customer_address = 'hank@cust.test'")" \
    "one Message-ID sent twice and forwarded once: one ticket"
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM messages WHERE sender_address = 'hank@cust.test'")" \
    "... and one message"

h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"
h_assert_eq 0 "$(h_redis_cli XLEN intake:dead)" "dead-letter stream: empty"
h_worker_stop
h_milter_stop
