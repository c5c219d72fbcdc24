#!/bin/bash
# it_milter_routing.sh: 500 mails through Postfix with intake-milter. The 300 to mailbox
# addresses and aliases (any case, plus-addressing) become exactly 300 stream entries naming the
# right mailbox and Postfix's queue id; the 200 to other addresses pass untouched; with the
# default "deliver = yes" every mail is delivered.
. "$(dirname "$0")/../lib/harness.sh"
h_init it_milter_routing

h_redis_start || exit 1
h_write_conf "$T/intake.conf"
h_milter_start "$T/intake.conf" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1

# address  count  mailbox (- = none). 300 to mailboxes, 200 to others.
PLAN="support@example.test 80 support
help@example.test 60 support
Support+billing@example.test 60 support
sales@example.test 60 sales
SALES@Example.TEST 40 sales
alice@example.test 100 -
bob@example.test 50 -
supporter@example.test 25 -
helpdesk@example.test 25 -"

while read -r addr n _; do
    h_send_source "$P" "$n" "$addr" || h_die "could not send to $addr"
done <<< "$PLAN"
h_pass "smtp-source: 500 mails accepted"

# The milter adds the envelope before Postfix answers the end of DATA: the stream is complete.
h_assert_eq 300 "$(h_xlen)" "stream: exactly 300 envelopes"

h_postfix_wait_empty back 120 || h_fail "back: queue did not drain"
h_assert_eq 0 "$(h_maillog_count back 'status=(bounced|deferred)|milter-reject')" \
    "back: nothing bounced, deferred or rejected"
h_assert_eq 500 "$(h_maildir_total back)" "back: 500 mails delivered"
h_assert_eq 100 "$(h_maildir_count back alice@example.test)" "back: alice has her 100"
h_assert_eq 50 "$(h_maildir_count back bob@example.test)" "back: bob has his 50"
h_assert_eq 25 "$(h_maildir_count back supporter@example.test)" "back: supporter@ (not a mailbox) has 25"
h_assert_eq 25 "$(h_maildir_count back helpdesk@example.test)" "back: helpdesk@ (not a mailbox) has 25"
h_assert_eq 140 "$(h_maildir_count back support@example.test)" "back: support@ delivered (deliver = yes): 140"
h_assert_eq 60 "$(h_maildir_count back help@example.test)" "back: help@ delivered: 60"
h_assert_eq 100 "$(h_maildir_count back sales@example.test)" "back: sales@ delivered: 100"

# Envelopes: each names one mailbox and carries a queue id.
h_stream_envelopes > "$T/envelopes.json" || h_fail "stream: cannot read the envelopes"
h_assert_eq 300 "$(wc -l < "$T/envelopes.json")" "stream: 300 envelopes read, all JSON"
h_assert_eq 300 "$(jq -s '[.[] | select((.mailboxes | length) == 1)] | length' "$T/envelopes.json")" \
    "envelopes: each names exactly one mailbox"
h_assert_eq 200 "$(jq -s '[.[] | select(.mailboxes[0].name == "support")] | length' "$T/envelopes.json")" \
    "envelopes: 200 for mailbox support (support@, help@, Support+billing@)"
h_assert_eq 100 "$(jq -s '[.[] | select(.mailboxes[0].name == "sales")] | length' "$T/envelopes.json")" \
    "envelopes: 100 for mailbox sales (sales@, SALES@Example.TEST)"
h_assert_eq 300 "$(jq -s '[.[] | select((.queue_id | type) == "string" and (.queue_id | length) > 0)]
		    | length' "$T/envelopes.json")" \
    "envelopes: each has a queue_id"
h_assert_eq 300 "$(jq -r '.queue_id' "$T/envelopes.json" | sort -u | wc -l)" \
    "envelopes: 300 distinct queue ids"

# The queue ids are Postfix's: exactly the messages Postfix delivered to a mailbox address.
jq -r '.queue_id' "$T/envelopes.json" | sort > "$T/qid.stream"
sed -nE 's/.* postfix\/pipe\[[0-9]+\]: ([0-9A-F]+): to=<(support|help|sales)(\+[^@]*)?@example\.test>.*status=sent.*/\1/Ip' \
    "$T/back/maillog" | sort > "$T/qid.maillog"
h_assert_eq 300 "$(wc -l < "$T/qid.maillog")" "maillog: 300 deliveries to mailbox addresses"
if [ -s "$T/qid.maillog" ] && cmp -s "$T/qid.stream" "$T/qid.maillog"; then
    h_pass "envelopes: queue ids are those Postfix delivered to mailbox addresses"
else
    h_fail "envelopes: queue ids differ from Postfix's ($(wc -l < "$T/qid.maillog") in the maillog;" \
	"first differences: $(diff "$T/qid.stream" "$T/qid.maillog" | grep '^[<>]' | head -n 4 | tr '\n' ' '))"
fi

# Mail to a mailbox carries X-Intake-Id naming its envelope; other mail passes untouched.
for a in support@example.test help@example.test sales@example.test; do
    h_maildir_files back "$a"
done | xargs grep -h -m1 -i '^X-Intake-Id:' | sed 's/^[^:]*: *//' | tr -d '\r' | sort > "$T/ids.mail"
jq -r '.id' "$T/envelopes.json" | sort > "$T/ids.stream"
h_assert_eq 300 "$(wc -l < "$T/ids.mail")" "delivered mailbox mail: 300 carry X-Intake-Id"
if [ -s "$T/ids.mail" ] && cmp -s "$T/ids.stream" "$T/ids.mail"; then
    h_pass "delivered mailbox mail: each X-Intake-Id names its envelope"
else
    h_fail "delivered mailbox mail: X-Intake-Id values do not match the envelope ids"
fi
h_assert_eq 0 "$(for a in alice@example.test bob@example.test supporter@example.test helpdesk@example.test; do
		     h_maildir_files back "$a"; done | xargs grep -l -i '^X-Intake-Id:' | wc -l)" \
    "other mail: no X-Intake-Id header"

h_milter_stop
