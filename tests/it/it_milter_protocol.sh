#!/bin/bash
# it_milter_protocol.sh: intake-milter at the level of the milter protocol. miltertest(8) plays
# the MTA (Lua scripts in tests/it/miltertest/, which report what they saw; the assertions are
# here) against the ASan build and a private Redis; the stream is read back byte for byte.
#
#   1  normal order of steps, mailbox recipient: what is negotiated (steps, actions, its own macro
#      lists); continue at end of message;
#      X-Intake-Id added (with the leading space SMFIP_HDR_LEADSPC asks of the milter); exactly
#      one entry: its envelope, text and raw fields. The same without SMFIP_HDR_LEADSPC.
#   2  no mailbox recipient: accepted at DATA, nothing queued; the next message is queued alone
#   3  two messages on one connection: the second envelope holds nothing of the first
#   4  aborted in the body and after RCPT, then a complete message: only that one is queued
#   5  connection lost in the body (closed, QUIT, client killed): nothing queued, the milter
#      serves the next connection
#   6  Redis down: 451 4.3.0 with tempfail_text, nothing queued; Redis back: queued again
#   8  hostile input: 2,000 header fields, a 3 MB body, NUL bytes, 8-bit header bytes, 1,500
#      recipients; through Postfix (miltertest cannot send them): a 100 KB header line, NUL bytes
#      in header values; the delivered X-Intake-Id field
#   9  an MTA without the DATA step (Postfix, milter_protocol = 2): no envelope for mail to
#      others, one for mail to a mailbox
#   7  deliver = no (the milter restarted with it): discard, or the mailbox recipient deleted
# Each h_milter_stop (after case 9 and at the end) fails the test on a sanitizer report in the
# milter's log or an exit status other than 0; LeakSanitizer runs at the milter's exit.
. "$(dirname "$0")/../lib/harness.sh"
h_init it_milter_protocol
command -v miltertest >/dev/null || h_die "miltertest not installed (make deps)"

MT=$(cd "$(dirname "$0")/miltertest" && pwd)
TEMPFAIL="Intake test: ticket queue down"
MILTER_LIMITS=("[milter]" "max_headers = 100" "max_message_size = 1M" "raw_max_size = 512K"
	       "max_recipients = 1000" "tempfail_text = $TEMPFAIL")

h_redis_start || exit 1
h_write_conf "$T/intake.conf" "${MILTER_LIMITS[@]}"
h_milter_start "$T/intake.conf" || exit 1

# ---------------------------------------------------------------------------------------------
# Helpers

# mt_run NAME SCRIPT [KEY=VALUE...]: run miltertest/SCRIPT against the milter (each KEY=VALUE
# as a Lua global); what it reports goes to $T/mt-NAME.out. Fails the test if the script does
# not complete (a protocol step failed or timed out).
mt_run() {
    local name=$1 script=$2 kv args=()
    shift 2
    for kv in "$@"; do
	args+=(-D "$kv")
    done
    if miltertest -D "SOCK=$T/milter.sock" -D "LIB=$MT" "${args[@]}" -s "$MT/$script" \
	    > "$T/mt-$name.out" 2> "$T/mt-$name.err"; then
	return 0
    fi
    h_fail "miltertest $name ($script) did not complete: $(tail -n 3 "$T/mt-$name.err" | tr '\n' ' ')"
    return 1
}




# assert_field FILE N FIELD MESSAGE: the field is byte for byte the content of FILE.
assert_field() {
    local want=$1 n=$2 field=$3 msg=$4
    h_entry "$n" "$field" > "$T/got"
    if cmp -s "$want" "$T/got"; then
	h_pass "$msg"
    else
	h_fail "$msg (got $(wc -c < "$T/got") bytes, want $(wc -c < "$want"): $(cmp "$want" "$T/got" 2>&1 | head -n1))"
    fi
}

# assert_xid RUN KEY N MESSAGE: the X-Intake-Id value miltertest run RUN reported (KEY) is the
# id of the N-th entry's envelope, with the leading space the milter owes an MTA that negotiated
# SMFIP_HDR_LEADSPC.
assert_xid() {
    h_assert_eq " $(h_env_jq "$3" .id)" "$(h_mt_val "$1" "$2")" "$4"
}

hexof() {
    od -An -v -tx1 | tr -d ' \n'
}

# ---------------------------------------------------------------------------------------------
h_note "case 1: normal order of steps, one message to a mailbox"

mt_run case1 normal.lua QID=PROTO1 MSGID=case1@client.test || exit 1
want="nr_conn=true nr_helo=true nr_mail=true nr_rcpt=true nr_data=false nr_hdr=true nr_eoh=true"
want+=" nr_body=true nounknown=true leadspc=true nohdrs=false nobody=false nodata=false"
got=
for o in nr_conn nr_helo nr_mail nr_rcpt nr_data nr_hdr nr_eoh nr_body nounknown leadspc nohdrs \
	 nobody nodata; do
    got+="${got:+ }$o=$(h_mt_val case1 "opt.$o")"
done
h_assert_eq "$want" "$got" "case 1: negotiated steps: no reply for all but DATA, no UNKNOWN, leading space"
want="addhdrs=true delrcpt=true chghdrs=false chgbody=false addrcpt=false chgfrom=false quarantine=false"
want+=" setsymlist=true"
got=
for a in addhdrs delrcpt chghdrs chgbody addrcpt chgfrom quarantine setsymlist; do
    got+="${got:+ }$a=$(h_mt_val case1 "act.$a")"
done
h_assert_eq "$want" "$got" "case 1: negotiated actions: add header and delete recipient, and its own macro lists (protocol.h)"
h_assert_eq continue "$(h_mt_val case1 n.data)" "case 1: DATA: continue"
h_assert_eq continue "$(h_mt_val case1 n.eom)" "case 1: end of message: continue (not tempfail)"
h_assert_eq true "$(h_mt_val case1 n.hdradd)" "case 1: X-Intake-Id header added (SMFIR_ADDHEADER)"
h_assert_eq 1 "$(h_xlen)" "case 1: exactly one stream entry"
h_assert_eq '["support@example.test"] ["support"] ["support@example.test"]' \
    "$(h_env_jq 1 '[.recipients, [.mailboxes[].name], .mailboxes[0].recipients] | map(tojson) | join(" ")')" \
    "case 1: envelope: recipients, mailbox support and its recipient"
h_assert_eq 'Protocol test 1|case1@client.test|PROTO1|sender@client.test|jane@client.test|support@example.test' \
    "$(h_env_jq 1 '[.subject, .message_id, .queue_id, .sender, .from[0].address, .to[0].address] | join("|")')" \
    "case 1: envelope: subject, message id, queue id, sender, From, To"
h_assert_eq '{"addr":"192.0.2.7","name":"client.test","helo":"client.test"}' "$(h_env_jq 1 '.client | tojson')" \
    "case 1: envelope: client address, name and HELO"
assert_xid case1 n.xid 1 "case 1: X-Intake-Id value is ' ' + the envelope id (SMFIP_HDR_LEADSPC)"
printf 'From: Jane Doe <jane@client.test>\r\nTo: Support <support@example.test>\r\nSubject: Protocol test 1\r\nMessage-ID: <case1@client.test>\r\n\r\nHello from case 1.\r\nSecond line.\r\n' \
    > "$T/want-1.raw"
assert_field "$T/want-1.raw" 1 raw "case 1: raw field: the message, byte for byte"
h_assert_eq "$(wc -c < "$T/want-1.raw") $(wc -c < "$T/want-1.raw") false false" \
    "$(h_env_jq 1 '"\(.size) \(.raw_size) \(.truncated) \(.raw_truncated)"')" "case 1: envelope: size, raw_size, not truncated"
printf 'Hello from case 1.\nSecond line.\n' > "$T/want-1.text"
assert_field "$T/want-1.text" 1 text "case 1: text field: the body"
h_assert_eq "2 zstd 2" "$(h_entry 1 v) $(h_entry 1 enc) $(h_env_jq 1 .v)" \
    "case 1: v field and the JSON's v: 2, enc zstd (text and raw compressed)"
h_assert_eq "28b52ffd 28b52ffd" "$(h_entry_packed 1 raw | head -c 4 | od -An -tx1 | tr -d ' \n') $(h_entry_packed 1 text | head -c 4 | od -An -tx1 | tr -d ' \n')" \
    "case 1: the raw and text fields begin with zstd's magic number"

mt_run case1b normal.lua NOLEADSPC=1 QID=PROTO1B MSGID=case1-noleadspc@client.test || exit 1
h_assert_eq false "$(h_mt_val case1b opt.leadspc)" "case 1b: MTA without SMFIP_HDR_LEADSPC: not negotiated"
h_assert_eq continue "$(h_mt_val case1b n.eom)" "case 1b: end of message: continue"
h_assert_eq 2 "$(h_xlen)" "case 1b: a second entry"
h_assert_eq "$(h_env_jq 2 .id)" "$(h_mt_val case1b n.xid)" "case 1b: X-Intake-Id value is the envelope id, no leading space"
sed 's/<case1@client.test>/<case1-noleadspc@client.test>/' "$T/want-1.raw" > "$T/want-1b.raw"
assert_field "$T/want-1b.raw" 2 raw "case 1b: raw field: the same header lines (': ' after each name)"

# ---------------------------------------------------------------------------------------------
h_note "case 2: no mailbox recipient"

n0=$(h_xlen)
mt_run case2 nombox.lua || exit 1
h_assert_eq accept "$(h_mt_val case2 m1.data)" "case 2: to alice@ only: DATA answered with accept (SMFIR_ACCEPT)"
h_assert_eq continue "$(h_mt_val case2 m2.eom)" "case 2: next message on the connection, to support@: continue"
h_assert_eq $((n0 + 1)) "$(h_xlen)" "case 2: one entry more: the message to alice@ left none"
n=$((n0 + 1))
h_assert_eq 'case 2 follow-up|C2B|["support@example.test"]' \
    "$(h_env_jq $n '[.subject, .queue_id, (.recipients | tojson)] | join("|")')" \
    "case 2: the entry is the follow-up, alice@ not among its recipients"

# ---------------------------------------------------------------------------------------------
h_note "case 3: two messages on one connection"

n0=$(h_xlen)
mt_run case3 two.lua || exit 1
h_assert_eq "continue continue" "$(h_mt_val case3 a.eom) $(h_mt_val case3 b.eom)" "case 3: both messages: continue"
h_assert_eq $((n0 + 2)) "$(h_xlen)" "case 3: two entries more"
a=$((n0 + 1)) b=$((n0 + 2))
h_assert_eq 'case 3 first|C3A|["support@example.test","alice@example.test"]|["support"]' \
    "$(h_env_jq $a '[.subject, .queue_id, (.recipients | tojson), ([.mailboxes[].name] | tojson)] | join("|")')" \
    "case 3: first envelope: its subject, queue id, two recipients, mailbox support"
h_assert_eq 'case 3 second|C3B|second@client.test|["sales@example.test"]|["sales"]|second@client.test' \
    "$(h_env_jq $b '[.subject, .queue_id, .sender, (.recipients | tojson), ([.mailboxes[].name] | tojson), .from[0].address] | join("|")')" \
    "case 3: second envelope: only its own subject, queue id, sender, recipient, mailbox, From"
printf 'From: Second <second@client.test>\r\nSubject: case 3 second\r\nMessage-ID: <case3b@client.test>\r\n\r\nsecond body\r\n' > "$T/want-3b.raw"
assert_field "$T/want-3b.raw" $b raw "case 3: second raw field: the second message only (no X-Case3-First, no first body)"
printf 'second body\n' > "$T/want-3b.text"
assert_field "$T/want-3b.text" $b text "case 3: second text field: the second body only"
h_assert_eq "$(wc -c < "$T/want-3b.raw")" "$(h_env_jq $b .size)" "case 3: second envelope: size counts the second message only"
assert_xid case3 a.xid $a "case 3: first X-Intake-Id names the first envelope"
assert_xid case3 b.xid $b "case 3: second X-Intake-Id names the second envelope"

# ---------------------------------------------------------------------------------------------
h_note "case 4: abort"

n0=$(h_xlen)
mt_run case4 abort.lua || exit 1
h_assert_eq continue "$(h_mt_val case4 x.data)" "case 4: the aborted message had got past DATA"
h_assert_eq continue "$(h_mt_val case4 y.eom)" "case 4: the complete message: continue"
h_assert_eq $((n0 + 1)) "$(h_xlen)" "case 4: one entry more"
n=$((n0 + 1))
h_assert_eq 'case 4 complete|C4Y|["sales@example.test"]|["sales"]' \
    "$(h_env_jq $n '[.subject, .queue_id, (.recipients | tojson), ([.mailboxes[].name] | tojson)] | join("|")')" \
    "case 4: the entry is the complete message, no recipient of the aborted ones"
printf 'Subject: case 4 complete\r\nMessage-ID: <case4y@client.test>\r\n\r\ncomplete body\r\n' > "$T/want-4.raw"
assert_field "$T/want-4.raw" $n raw "case 4: raw field: nothing of the aborted message"
printf 'complete body\n' > "$T/want-4.text"
assert_field "$T/want-4.text" $n text "case 4: text field: the complete body only"

# ---------------------------------------------------------------------------------------------
h_note "case 5: connection lost in the middle of a message"

for mode in abrupt quit; do
    n0=$(h_xlen)
    mt_run "case5-$mode" drop.lua "MODE=$mode" || exit 1
    h_assert_eq continue "$(h_mt_val "case5-$mode" after.eom)" \
	"case 5 ($mode): next connection, complete message: continue"
    h_assert_eq $((n0 + 1)) "$(h_xlen)" "case 5 ($mode): one entry more, none for the lost message"
    n=$((n0 + 1))
    printf 'Subject: case 5 after %s\r\nMessage-ID: <case5-after-%s@client.test>\r\n\r\nafter the %s drop\r\n' \
	"$mode" "$mode" "$mode" > "$T/want-5.raw"
    assert_field "$T/want-5.raw" $n raw "case 5 ($mode): the entry is the complete message, nothing of the lost one"
    h_assert_eq '["sales@example.test"]' "$(h_env_jq $n '.recipients | tojson')" \
	"case 5 ($mode): its recipients only"
done

rm -f "$T/hang.mark"
miltertest -D "SOCK=$T/milter.sock" -D "LIB=$MT" -D "MARK=$T/hang.mark" -s "$MT/hang.lua" \
    > "$T/mt-hang.out" 2>&1 &
hang=$!
n0=$(h_xlen)
h_wait_for "[ -e '$T/hang.mark' ]" 20 "case 5 (kill): the client is in the middle of the body"
kill -KILL "$hang" 2>/dev/null
wait "$hang" 2>/dev/null
mt_run case5-kill send.lua TAG=k RCPTS=sales@example.test "SUBJECT=case 5 after kill" \
    MSGID=case5-after-kill@client.test || exit 1
h_assert_eq continue "$(h_mt_val case5-kill k.eom)" "case 5 (kill): next connection, complete message: continue"
h_assert_eq $((n0 + 1)) "$(h_xlen)" "case 5 (kill): one entry more, none for the killed client's message"
h_assert_eq 'case 5 after kill|["sales@example.test"]' \
    "$(h_env_jq $((n0 + 1)) '[.subject, (.recipients | tojson)] | join("|")')" "case 5 (kill): the entry is the complete message"
if _h_alive "$H_MILTER_PID"; then
    h_pass "case 5: the milter is still running"
else
    h_fail "case 5: the milter is gone"
fi
h_milter_check_log && h_pass "case 5: no sanitizer report in the milter's log so far"

# ---------------------------------------------------------------------------------------------
h_note "case 6: Redis down"

n0=$(h_xlen)
h_redis_stop
for i in 1 2; do
    mt_run "case6-down$i" send.lua TAG=d "QID=C6D$i" RCPTS=support@example.test \
	"SUBJECT=case 6 redis down $i" "MSGID=case6-down$i@client.test" "TEMPFAIL=$TEMPFAIL" || exit 1
    h_assert_eq "replycode true false" \
	"$(h_mt_val "case6-down$i" d.eom) $(h_mt_val "case6-down$i" d.reply451) $(h_mt_val "case6-down$i" d.hdradd)" \
	"case 6: Redis down, message $i: end of message answered '451 4.3.0 $TEMPFAIL', no X-Intake-Id"
done
h_assert_eq 2 "$(grep -cE 'C6D[12]: deferred \(451 4\.3\.0\)' "$T/milter.log")" \
    "case 6: milter log: both messages deferred"
h_redis_start || exit 1
h_assert_eq "$n0" "$(h_xlen)" "case 6: Redis back: the stream holds what it held before, nothing more"
# The milter reconnects on the next message, but not before its backoff (at most 1 s) is over:
# a message may still be deferred just after Redis came back. Retry it as an MTA would.
tries=0
while :; do
    tries=$((tries + 1))
    mt_run case6-back send.lua TAG=b QID=C6B RCPTS=support@example.test \
	"SUBJECT=case 6 redis back" MSGID=case6-back@client.test || exit 1
    [ "$(h_mt_val case6-back b.eom)" = continue ] && break
    [ "$tries" -ge 10 ] && break
    sleep 0.3
done
h_assert_eq continue "$(h_mt_val case6-back b.eom)" "case 6: Redis back: message queued again (attempt $tries)"
h_assert_eq $((n0 + 1)) "$(h_xlen)" "case 6: exactly one entry more"
h_assert_eq "case6-back@client.test" "$(h_stream_envelopes | jq -r '.message_id // "" | select(startswith("case6-"))')" \
    "case 6: the entry is the message sent after the outage, none of the deferred ones"

# ---------------------------------------------------------------------------------------------
h_note "case 8: hostile input"

# 3,000,000 bytes: 50,000 numbered lines of 60 bytes.
awk 'BEGIN { s = sprintf("%53s", ""); gsub(/ /, "b", s); for (i = 0; i < 50000; i++) printf "%05d%s\r\n", i, s }' \
    > "$T/big.body"
h_assert_eq 3000000 "$(wc -c < "$T/big.body")" "case 8: a 3,000,000-byte body to send"
printf 'line one\r\nNUL:\000:end\r\n\000\000\r\nlast line\r\n' > "$T/nul.body"
n0=$(h_xlen)
mt_run case8 hostile.lua "BIGBODY=$T/big.body" "NULBODY=$T/nul.body" || exit 1
for h in h1 h2 h3 h4 h5; do
    h_assert_eq "continue continue true" \
	"$(h_mt_val case8 $h.data) $(h_mt_val case8 $h.eom) $(h_mt_val case8 $h.hdradd)" \
	"case 8 ($h): DATA and end of message: continue; X-Intake-Id added"
done
h_assert_eq $((n0 + 5)) "$(h_xlen)" "case 8: five entries more"
h1=$((n0 + 1)) h2=$((n0 + 2)) h3=$((n0 + 3)) h4=$((n0 + 4)) h5=$((n0 + 5))
for h in 1 2 3 4 5; do
    assert_xid case8 "h$h.xid" $((n0 + h)) "case 8 (h$h): X-Intake-Id names its envelope"
done

# h1: 2,000 header fields, max_headers 100: the first 100 are kept.
{
    printf 'Subject: case 8 many headers\r\nMessage-ID: <case8-headers@client.test>\r\n'
    for i in $(seq 1 98); do printf 'X-Filler-%d: filler value %d\r\n' "$i" "$i"; done
    printf '\r\nafter 2000 header fields\r\n'
} > "$T/want-h1.raw"
assert_field "$T/want-h1.raw" $h1 raw "case 8 (h1): raw field: the first 100 header fields, then the body"
h_assert_eq 'case 8 many headers|case8-headers@client.test' "$(h_env_jq $h1 '[.subject, .message_id] | join("|")')" \
    "case 8 (h1): envelope: subject and message id"
printf 'after 2000 header fields\n' > "$T/want-h1.text"
assert_field "$T/want-h1.text" $h1 text "case 8 (h1): text field: the body"

# h2: 3 MB body, max_message_size 1M, raw_max_size 512K.
h_assert_eq 50 "$(h_mt_val case8 h2.chunks)" "case 8 (h2): body sent in 50 chunks"
{ printf 'Subject: case 8 big body\r\nMessage-ID: <case8-big@client.test>\r\n\r\n'; cat "$T/big.body"; } > "$T/want-h2.msg"
head -c 524288 "$T/want-h2.msg" > "$T/want-h2.raw"
h_assert_eq "$(wc -c < "$T/want-h2.msg") true 524288 true" \
    "$(h_env_jq $h2 '"\(.size) \(.truncated) \(.raw_size) \(.raw_truncated)"')" \
    "case 8 (h2): envelope: size of all of it, truncated, raw_size = raw_max_size, raw_truncated"
assert_field "$T/want-h2.raw" $h2 raw "case 8 (h2): raw field: the first raw_max_size (512K) bytes of the message"
h_assert_eq "$(sha256sum < "$T/big.body" | cut -d' ' -f1)" "$(h_env_jq $h2 .body_sha256)" \
    "case 8 (h2): body_sha256 covers the whole 3 MB body"
h_assert_eq "case 8 big body" "$(h_env_jq $h2 .subject)" "case 8 (h2): envelope: subject"

# h3: NUL bytes in the body.
{ printf 'Subject: case 8 nul body\r\nMessage-ID: <case8-nul@client.test>\r\n\r\n'; cat "$T/nul.body"; } > "$T/want-h3.raw"
assert_field "$T/want-h3.raw" $h3 raw "case 8 (h3): raw field: the body with its NUL bytes"
h_assert_eq "$(sha256sum < "$T/nul.body" | cut -d' ' -f1)" "$(h_env_jq $h3 .body_sha256)" \
    "case 8 (h3): body_sha256 of the body with its NUL bytes"
h_entry $h3 text > "$T/h3.text"
if [ "$(tr -d '\000' < "$T/h3.text" | wc -c)" = "$(wc -c < "$T/h3.text")" ] && grep -q 'last line' "$T/h3.text"; then
    h_pass "case 8 (h3): text field: the body to its last line, without NUL bytes"
else
    h_fail "case 8 (h3): text field: $(od -c "$T/h3.text" | head -n 3 | tr '\n' ' ')"
fi

# h4: undeclared 8-bit bytes in header fields; a folded field (bare LF from the MTA).
printf 'From: J\xf6rg M\xfcller <joerg@client.test>\r\nSubject: caf\xe9 \xff\xfe 8bit\r\nMessage-ID: <case8-8bit@client.test>\r\nX-Folded: first\r\n\tsecond\r\n\r\n8-bit header fields\r\n' \
    > "$T/want-h4.raw"
assert_field "$T/want-h4.raw" $h4 raw "case 8 (h4): raw field: the 8-bit bytes as sent, the fold as CRLF"
h_assert_eq 'café ÿþ 8bit|Jörg Müller|joerg@client.test' \
    "$(h_env_jq $h4 '[.subject, .from[0].name, .from[0].address] | join("|")')" \
    "case 8 (h4): envelope: subject and From name decoded to UTF-8"

# h5: 1,500 recipients, max_recipients 1000.
h_assert_eq '1000|500|support@example.test|user1000@example.test|["support"]' \
    "$(h_env_jq $h5 '[(.recipients | length), .recipients_dropped, .recipients[0], .recipients[999], ([.mailboxes[].name] | tojson)] | join("|")')" \
    "case 8 (h5): envelope: the first 1000 recipients, 500 dropped, mailbox support"

# Through Postfix: what miltertest cannot send.
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
# send_eml FILE TO: the message in FILE through swaks; fails the test unless it is accepted.
send_eml() {
    if swaks --server "127.0.0.1:$P" --helo client.test --from sender@client.test \
	     --to "$2" --data "$1" > "$T/swaks.out" 2>&1; then
	h_pass "case 8: swaks: ${1##*/} to $2 accepted"
    else
	h_fail "case 8: swaks: ${1##*/} to $2 not accepted: $(grep -a -E '^ *(<~?\*|\*\*\*)' "$T/swaks.out" | tail -n 3)"
    fi
}
{
    printf 'From: sender@client.test\r\nTo: support@example.test\r\nSubject: case 8 big header\r\nMessage-Id: <case8-bighdr@client.test>\r\nX-Big: '
    head -c 100000 /dev/zero | tr '\0' 'h'
    printf '\r\n\r\nbody after the big header\r\n'
} > "$T/bighdr.eml"
printf 'From: sender@client.test\r\nTo: support@example.test\r\nSubject: case 8 nul\000in the subject\r\nMessage-Id: <case8-nulhdr@client.test>\r\nX-Nul: a\000b\r\n\r\nbody with \000 NUL\r\n' \
    > "$T/nulhdr.eml"
n0=$(h_xlen)
send_eml "$T/bighdr.eml" support@example.test
send_eml "$T/nulhdr.eml" support@example.test
h_assert_eq $((n0 + 2)) "$(h_xlen)" "case 8 (Postfix): two entries more"
big=$((n0 + 1)) nul=$((n0 + 2))
h_assert_eq 'case 8 big header|case8-bighdr@client.test' "$(h_env_jq $big '[.subject, .message_id] | join("|")')" \
    "case 8 (100 KB header line): envelope: subject and message id"
# Postfix passes on a header line that long in part; what it passes still has to be huge.
xbig=$(h_entry $big raw | LC_ALL=C grep -a '^X-Big: ' | wc -c)
if [ "$xbig" -ge 50000 ]; then
    h_pass "case 8 (100 KB header line): raw field holds it ($xbig bytes of it came through Postfix)"
else
    h_fail "case 8 (100 KB header line): raw field holds only $xbig bytes of it"
fi
h_assert_eq "body after the big header" "$(h_entry $big text)" "case 8 (100 KB header line): text field: the body after it"
h_assert_eq 'case8-nulhdr@client.test|case 8 nul' "$(h_env_jq $nul '[.message_id, (.subject | .[0:10])] | join("|")')" \
    "case 8 (NUL in header values): envelope: message id, subject up to the NUL"
case "$(h_entry $nul raw | hexof)" in
    *"$(printf 'body with ' | hexof)00204e554c"*) h_pass "case 8 (NUL in header values): raw field: the body's NUL byte kept" ;;
    *) h_fail "case 8 (NUL in header values): raw field: no 'body with \\0 NUL'" ;;
esac
h_postfix_wait_empty back 30 || h_fail "case 8: back: queue did not drain"
h_assert_eq 2 "$(h_maildir_count back support@example.test)" "case 8 (Postfix): both delivered to support@"
printf 'X-Intake-Id: %s\n' "$(h_env_jq $big .id)" "$(h_env_jq $nul .id)" | sort > "$T/want-xid"
h_maildir_files back support@example.test | xargs -r grep -a -h '^X-Intake-Id:' | tr -d '\r' | sort > "$T/got-xid"
if cmp -s "$T/want-xid" "$T/got-xid"; then
    h_pass "case 8 (Postfix): delivered copies carry 'X-Intake-Id: <envelope id>'"
else
    h_fail "case 8 (Postfix): delivered X-Intake-Id fields: $(tr '\n' ' ' < "$T/got-xid") (want $(tr '\n' ' ' < "$T/want-xid"))"
fi

# ---------------------------------------------------------------------------------------------
h_note "case 9: an MTA without the DATA step (milter_protocol = 2)"

P=$(h_free_port)
h_postfix_start old "$P" "smtpd_milters=unix:$T/milter.sock" "milter_protocol=2" || exit 1
n0=$(h_xlen)
for to in alice support; do
    if out=$(swaks --server "127.0.0.1:$P" --helo client.test --from sender@client.test \
		 --to "$to@example.test" --header "Subject: case 9 $to" \
		 --header "Message-Id: <case9-$to@client.test>" --body "case 9" 2>&1); then
	h_pass "case 9: swaks: mail to $to@ accepted"
    else
	h_fail "case 9: swaks: mail to $to@ not accepted: $(echo "$out" | grep -E '^ *(<~?\*|\*\*\*)' | tail -n 3)"
    fi
done
h_assert_eq $((n0 + 1)) "$(h_xlen)" "case 9: one entry more, none for the mail to alice@"
h_assert_eq 'case9-support@client.test|["support"]' \
    "$(h_env_jq $((n0 + 1)) '[.message_id, ([.mailboxes[].name] | tojson)] | join("|")')" \
    "case 9: the entry is the mail to support@"
h_postfix_wait_empty old 30 || h_fail "case 9: old: queue did not drain"
h_assert_eq "1 1" "$(h_maildir_count old alice@example.test) $(h_maildir_count old support@example.test)" \
    "case 9: alice@ and support@ got their copy"
h_assert_eq "" "$(h_maildir_files old alice@example.test | xargs -r grep -a -h -i '^X-Intake-Id:')" \
    "case 9: alice's copy has no X-Intake-Id"
h_assert_eq "X-Intake-Id: $(h_env_jq $((n0 + 1)) .id)" \
    "$(h_maildir_files old support@example.test | xargs -r grep -a -h '^X-Intake-Id:' | tr -d '\r')" \
    "case 9: support's copy: 'X-Intake-Id: <envelope id>' (the MTA adds the space)"

h_milter_stop

# ---------------------------------------------------------------------------------------------
h_note "case 7: deliver = no"

h_write_conf "$T/nodeliver.conf" "${MILTER_LIMITS[@]}" "[mailbox support]" "deliver = no"
h_milter_start "$T/nodeliver.conf" || exit 1

n0=$(h_xlen)
mt_run case7-only send.lua TAG=o RCPTS=support@example.test "SUBJECT=case 7 only support" \
    MSGID=case7-only@client.test || exit 1
h_assert_eq "discard false" "$(h_mt_val case7-only o.eom) $(h_mt_val case7-only o.hdradd)" \
    "case 7: only the mailbox recipient: end of message: discard (SMFIR_DISCARD), no X-Intake-Id"
h_assert_eq $((n0 + 1)) "$(h_xlen)" "case 7: queued before the discard"
h_assert_eq 'case7-only@client.test|["support"]' \
    "$(h_env_jq $((n0 + 1)) '[.message_id, ([.mailboxes[].name] | tojson)] | join("|")')" "case 7: the entry names mailbox support"

mt_run case7-two send.lua TAG=t RCPTS=support@example.test,alice@example.test \
    "SUBJECT=case 7 support and alice" MSGID=case7-two@client.test \
    DELCHECK=support@example.test,alice@example.test || exit 1
h_assert_eq "continue true false true" \
    "$(h_mt_val case7-two t.eom) $(h_mt_val case7-two t.rcptdelete.support@example.test) $(h_mt_val case7-two t.rcptdelete.alice@example.test) $(h_mt_val case7-two t.hdradd)" \
    "case 7: with alice@ too: continue, <support@example.test> deleted (SMFIR_DELRCPT), alice@ kept, X-Intake-Id added"
h_assert_eq $((n0 + 2)) "$(h_xlen)" "case 7: a second entry"
h_assert_eq '["support@example.test","alice@example.test"]' "$(h_env_jq $((n0 + 2)) '.recipients | tojson')" \
    "case 7: its recipients: both"
assert_xid case7-two t.xid $((n0 + 2)) "case 7: X-Intake-Id names it"

mt_run case7-plus send.lua TAG=p RCPTS=Support+Billing@example.test,bob@example.test \
    "SUBJECT=case 7 plus address" MSGID=case7-plus@client.test \
    DELCHECK=Support+Billing@example.test,bob@example.test || exit 1
h_assert_eq "continue true false" \
    "$(h_mt_val case7-plus p.eom) $(h_mt_val case7-plus p.rcptdelete.Support+Billing@example.test) $(h_mt_val case7-plus p.rcptdelete.bob@example.test)" \
    "case 7: <Support+Billing@example.test> deleted as the MTA gave it, bob@ kept"
h_assert_eq $((n0 + 3)) "$(h_xlen)" "case 7: a third entry"

h_milter_stop
