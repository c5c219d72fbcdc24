#!/bin/bash
# it_worker_attachment.sh: attachments are stored as references into the original and read back
# by intakectl attachment. One mail through Postfix + intake-milter -> Redis -> intake-worker with
# three attachments: 64 KB of random bytes, a UTF-8 text file with LF line ends and the same
# random bytes again under another name. The store holds the original once, as a zstd frame, and
# no copy of an attachment (no content, no blob); intakectl ticket lists the three with ids and
# the SHA-256 the milter saw; intakectl attachment writes each one's bytes, equal to the file that
# was attached (base64 keeps every byte); an unknown id fails naming it. Then a mail whose
# Content-Type declares no boundary: its text and its attachment still reach the ticket.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_attachment

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

head -c 65536 /dev/urandom > "$T/data.bin"
printf 'Zeile eins: Grüße\nline two = tabs\tand trailing space \n' > "$T/notes.txt"
{
    printf 'From: Alice <alice@client.test>\nTo: support@example.test\nSubject: invoice attached\n'
    printf 'Message-ID: <attach-1@client.test>\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nSee attached.\n'
    printf -- '--b1\nContent-Type: application/octet-stream; name="data.bin"\n'
    printf 'Content-Disposition: attachment; filename="data.bin"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/data.bin"
    printf -- '--b1\nContent-Type: text/plain; charset=utf-8; name="notes.txt"\n'
    printf 'Content-Disposition: attachment; filename="notes.txt"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/notes.txt"
    printf -- '--b1\nContent-Type: application/octet-stream; name="copy.bin"\n'
    printf 'Content-Disposition: attachment; filename="copy.bin"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/data.bin"
    printf -- '--b1--\n'
} > "$T/mail.eml"
h_send_files "$P" alice@client.test support@example.test "$T/mail.eml" | grep -q $'\t250\t' ||
    h_die "the mail was not accepted"
h_wait_for "h_worker_drained '$C' 1" 60 "worker: one ticket"

number=$(h_sql "$C" "SELECT number FROM tickets")
h_assert_eq 28B52FFD "$(h_sql "$C" "SELECT hex(substr(raw, 1, 4)) FROM messages WHERE direction = 'in'")" \
    "store: the original is a zstd frame"
h_assert_eq "3|0" "$(h_sql "$C" "SELECT count(*), count(blob_id) + count(content) FROM attachments")" \
    "store: three attachments, no copy of their bytes"
h_ctl "$C" --json ticket "$number" > "$T/ticket.json" || h_fail "intakectl ticket failed"
h_assert_eq 3 "$(jq '[.messages[0].attachments[] | select(.stored and .sha256 != null and .id > 0)] | length' \
		 "$T/ticket.json")" "intakectl ticket: three stored attachments with id and sha256"
for f in data.bin notes.txt copy.bin; do
    src=$T/${f/copy/data}
    id=$(jq --arg f "$f" '.messages[0].attachments[] | select(.filename == $f) | .id' "$T/ticket.json")
    if h_ctl "$C" attachment "$number" "$id" > "$T/out-$f" 2> "$T/err-$f" && cmp -s "$T/out-$f" "$src"; then
	h_pass "intakectl attachment $number $id: $f byte-identical to what was attached"
    else
	h_fail "intakectl attachment $number $id: $f differs: $(head -c 300 "$T/err-$f")"
    fi
    h_assert_eq "$(sha256sum < "$src" | cut -d' ' -f1)" \
	"$(jq -r --arg f "$f" '.messages[0].attachments[] | select(.filename == $f) | .sha256' "$T/ticket.json")" \
	"intakectl ticket: $f's sha256 is that of the attached file"
done
if h_ctl "$C" attachment "$number" 999999 > /dev/null 2> "$T/err-none"; then
    h_fail "intakectl attachment of an unknown id succeeded"
else
    h_check "grep -q 'has no attachment 999999' '$T/err-none'" \
	"intakectl attachment: an unknown id fails, naming it"
fi

# A multipart whose content does not use its boundary (none declared here: a script's mail):
# the parts are still found (common/mime_repair.c), so the ticket has the text and the file.
{
    printf 'From: Bob <bob@client.test>\nTo: support@example.test\nSubject: no boundary\n'
    printf 'Message-ID: <attach-2@client.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\n'
    printf -- '--q\nContent-Type: text/plain\n\nThe scanner shows error 7.\n'
    printf -- '--q\nContent-Type: application/octet-stream; name="scan.bin"\n'
    printf 'Content-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/data.bin"
    printf -- '--q--\n'
} > "$T/mail2.eml"
h_send_files "$P" bob@client.test support@example.test "$T/mail2.eml" | grep -q $'\t250\t' ||
    h_die "the mail without a boundary was not accepted"
h_wait_for "h_worker_drained '$C' 2" 60 "worker: a second ticket"
number=$(h_sql "$C" "SELECT number FROM tickets WHERE title = 'no boundary'")
h_ctl "$C" --json ticket "$number" > "$T/ticket2.json" || h_fail "intakectl ticket failed"
h_assert_eq "The scanner shows error 7." "$(jq -r '.messages[0].body' "$T/ticket2.json")" \
    "no boundary: the ticket has the mail's text"
id=$(jq '.messages[0].attachments[] | select(.filename == "scan.bin") | .id' "$T/ticket2.json")
if [ -n "$id" ] && h_ctl "$C" attachment "$number" "$id" > "$T/out-scan" && cmp -s "$T/out-scan" "$T/data.bin"
then
    h_pass "no boundary: intakectl attachment gives scan.bin byte-identical"
else
    h_fail "no boundary: scan.bin not listed or not the file attached (id '$id')"
fi

h_worker_stop
h_milter_stop
