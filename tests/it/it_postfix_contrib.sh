#!/bin/bash
# it_postfix_contrib.sh: the worked example of contrib/postfix, as shipped (domains, ports and
# paths replaced only): a front Postfix (the company's MX) with virtual.example as its
# virtual_alias_maps and transport.example as its transport_maps hands mail for the company's
# public addresses to the Postfix with the milter (main.cf.snippet and the smtpd line of
# master.cf.snippet, as every test's Postfix): a mail to help@company.test becomes an envelope for
# mailbox support, with the customer's To: header kept; a mail to an address the map lacks is
# refused by the MX (550) and never reaches Intake; the back Postfix got exactly the macros the
# snippet lists (postconf).
. "$(dirname "$0")/../lib/harness.sh"
h_init it_postfix_contrib

C=$H_ROOT/contrib/postfix
h_redis_start || exit 1
h_write_conf "$T/intake.conf"
h_milter_start "$T/intake.conf" || exit 1
B=$(h_free_port)
h_postfix_start back "$B" "smtpd_milters=unix:$T/milter.sock" || exit 1

# The MX's maps: the shipped files with example.com -> company.test, intake.example.com ->
# $H_DOMAIN (the back's domain) and the dedicated instance's port -> the back's.
sed -e "s/intake\.example\.com/$H_DOMAIN/g" -e 's/example\.com/company.test/g' \
    "$C/virtual.example" > "$T/virtual"
sed -e "s/intake\.example\.com/$H_DOMAIN/g" -e "s/:10026/:$B/" "$C/transport.example" > "$T/transport"
postmap -c "$T/back/etc" "$T/virtual" && postmap -c "$T/back/etc" "$T/transport" || h_die "postmap failed"
grep -q "^help@company.test[[:space:]]*support@$H_DOMAIN" "$T/virtual" ||
    h_die "contrib/postfix/virtual.example has no help@example.com -> support@intake.example.com line"
F=$(h_free_port)
h_postfix_start front "$F" "virtual_mailbox_domains=" "virtual_alias_domains=company.test" \
    "virtual_alias_maps=hash:$T/virtual" "transport_maps=hash:$T/transport" || exit 1

# The back's milter settings are the snippet's, macros included.
for kv in "milter_mail_macros =" "milter_rcpt_macros =" "milter_data_macros = i" "milter_end_of_data_macros = i" \
	  "milter_connect_macros =" "milter_helo_macros =" "milter_default_action = tempfail" \
	  "smtpd_milters = unix:$T/milter.sock"; do
    h_assert_eq "$kv" "$(postconf -c "$T/back/etc" -h "${kv%% =*}" | sed "s/^/${kv%% =*} = /; s/ = $/ =/")" \
	"back main.cf (from main.cf.snippet): $kv"
done
h_assert_eq "127.0.0.1:$B inet n - n - - smtpd" \
    "$(postconf -c "$T/back/etc" -M "127.0.0.1:$B/inet" | tr -s ' \t' ' ')" \
    "back master.cf: the smtpd line of master.cf.snippet on port $B"

h_send_swaks "$F" help@company.test contrib-1@client.test
h_wait_for '[ "$(h_xlen)" = 1 ]' 30 "the mail to help@company.test reached the milter through the MX"
h_assert_eq support "$(h_env_jq 1 '.mailboxes[0].name')" "its envelope is for mailbox support"
h_assert_eq "support@$H_DOMAIN" "$(h_env_jq 1 '.recipients | join(",")')" \
    "its envelope recipient is the rewritten support@$H_DOMAIN"
h_assert_eq true "$(h_env_jq 1 '[.. | strings | select(test("help@company.test"))] | length > 0')" \
    "the customer's To: help@company.test is in the envelope"

out=$(swaks --server "127.0.0.1:$F" --from sender@client.test --to nobody@company.test 2>&1)
if echo "$out" | grep -qE '^<\*\* +550 '; then
    h_pass "the MX refuses nobody@company.test (not in the map): 550"
else
    h_fail "the MX did not refuse nobody@company.test: $(echo "$out" | grep -E '^<' | tail -n 2)"
fi
h_assert_eq 1 "$(h_xlen)" "still one envelope"
h_postfix_wait_empty front 30 || h_fail "front: queue did not drain"
h_milter_stop
