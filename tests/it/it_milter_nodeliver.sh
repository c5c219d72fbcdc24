#!/bin/bash
# it_milter_nodeliver.sh: a mailbox with "deliver = no" gets its envelope but not the mail; the
# other recipients of the same mail still get it; a mail only to that mailbox reaches nobody
# (and bounces to nobody either).
. "$(dirname "$0")/../lib/harness.sh"
h_init it_milter_nodeliver

h_redis_start || exit 1
h_write_conf "$T/intake.conf" "[mailbox support]" "deliver = no"
h_milter_start "$T/intake.conf" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1

send() { h_send_swaks "$P" "$@"; }

# 1. To support@ (deliver = no) and alice@: alice gets it, support does not, one envelope.
send support@example.test,alice@example.test nodeliver-1@client.test
h_assert_eq 1 "$(h_xlen)" "stream: one envelope"
h_wait_for '[ "$(h_maildir_count back alice@example.test)" -ge 1 ]' 30 "alice: got mail 1"
h_postfix_wait_empty back 30 || h_fail "back: queue did not drain"
h_assert_eq 1 "$(h_maildir_count back alice@example.test)" "alice: exactly one copy"
h_assert_eq 0 "$(h_maildir_count back support@example.test)" "support: got nothing"
env1=$(h_stream_envelopes | head -n1)
h_assert_eq "support" "$(jq -r '[.mailboxes[].name] | join(",")' <<< "$env1")" "envelope 1: mailbox support"
h_assert_eq "nodeliver-1@client.test" "$(jq -r '.message_id // "" | ltrimstr("<") | rtrimstr(">")' <<< "$env1")" \
    "envelope 1: message_id of mail 1"
id1=$(jq -r '.id' <<< "$env1")
h_assert_eq "$id1" "$(h_maildir_files back alice@example.test | xargs grep -h -m1 -i '^X-Intake-Id:' |
		      sed 's/^[^:]*: *//' | tr -d '\r')" "alice's copy: X-Intake-Id names envelope 1"

# 2. Only to support@: queued as an envelope, delivered to nobody, no bounce.
send support@example.test nodeliver-2@client.test
h_assert_eq 2 "$(h_xlen)" "stream: a second envelope"
h_postfix_wait_empty back 30 || h_fail "back: queue did not drain (a bounce?)"
h_assert_eq 0 "$(h_maildir_count back support@example.test)" "support: still nothing"
h_assert_eq 1 "$(h_maildir_total back)" "nobody got mail 2"
h_assert_eq "nodeliver-2@client.test" \
    "$(h_stream_envelopes | tail -n1 | jq -r '.message_id // "" | ltrimstr("<") | rtrimstr(">")')" \
    "envelope 2: message_id of mail 2"

# 3. Plus-addressing and case: Support+Billing@ is the same mailbox, also not delivered.
send Support+Billing@example.test,bob@example.test nodeliver-3@client.test
h_assert_eq 3 "$(h_xlen)" "stream: a third envelope"
h_wait_for '[ "$(h_maildir_count back bob@example.test)" -ge 1 ]' 30 "bob: got mail 3"
h_postfix_wait_empty back 30 || h_fail "back: queue did not drain"
h_assert_eq 1 "$(h_maildir_count back bob@example.test)" "bob: exactly one copy"
h_assert_eq 0 "$(h_maildir_count back support@example.test)" "support: still nothing after Support+Billing@"
h_assert_eq 2 "$(h_maildir_total back)" "two deliveries in all (alice, bob)"

h_assert_eq 0 "$(h_maillog_count back 'status=bounced|sender non-delivery')" "back: nothing bounced"
h_milter_stop
