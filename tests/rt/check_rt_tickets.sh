#!/bin/bash
# check_rt_tickets.sh: Intake's tickets become Request Tracker tickets (make check-rt). Real
# Postfix + intake-milter + Redis + intake-worker and a private RT 5 (tests/lib/rt.sh). Two rt
# sinks: "rt" for [mailbox support] (queue map support:Support, Intake's number in the subject
# tag) and "rtcf" for [mailbox sales] (queue General, the number in the custom field "Intake
# number").
#   1. alice's mail with two attachments (64 KB of random bytes, a UTF-8 text) to support, and the
#      corpus's mails with attachments (../shared/corpus normal/rt, a non-ASCII file name of
#      normal/mailgem) to sales: each Intake ticket is exactly one RT ticket, found in RT by its
#      number (subject tag or custom field), in the queue its mailbox maps to, with the RT id kept
#      in Intake's sink_refs; every attachment of Intake's is on the RT ticket with the same name
#      and the same bytes (intakectl attachment vs RT's attachment content).
#   2. alice's follow-up "Re: [#N]" with an attachment: correspondence on the same RT ticket (a
#      Correspond transaction holding her text and the attachment's bytes), no second RT ticket.
#   3. RT holds as many tickets as Intake, and every event was delivered.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/rt.sh"
h_init check_rt_tickets
rt_available || { echo "skipped: Request Tracker 5 is not installed (make check-rt installs it)"; exit 77; }

rt_start
C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" \
    "[sink rt]" "type = rt" "url = $RT_URL" "token_file = $RT_TOKEN_FILE" "mailboxes = support" \
    "mailbox_queues = support:Support" "retry_min = 1s" "retry_max = 2s" "timeout = 60s" "" \
    "[sink rtcf]" "type = rt" "url = $RT_URL/" "token_file = $RT_TOKEN_FILE" "mailboxes = sales" \
    "number_field = Intake number" "retry_min = 1s" "retry_max = 2s" "timeout = 60s"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# rt_query_ids TICKETSQL: the ids of the RT tickets found, one a line.
rt_query_ids() {
    rt_api GET "/tickets?query=$(jq -rn --arg q "$1" '$q | @uri')&per_page=100" | jq -r '.items[].id'
}
# rt_ids_for NUMBER SINK: the RT tickets holding Intake's NUMBER as that sink writes it.
rt_ids_for() {
    if [ "$2" = rtcf ]; then
	rt_query_ids "'CF.{Intake number}' = '$1'"
    else
	rt_query_ids "Subject LIKE '[Intake #$1]'"
    fi
}
# events_left: events not yet delivered (pending or failed), of every sink.
events_left() { h_sql "$C" "SELECT count(*) FROM events WHERE state <> 'sent'"; }

# rt_attachments ID DIR: every attachment of RT ticket ID with a file name, as DIR/N.name (the
# name) and DIR/N.bin (its bytes).
rt_attachments() {
    local a n=0
    mkdir -p "$2"
    for a in $(rt_api GET "/ticket/$1/attachments?per_page=100" | jq -r '.items[].id'); do
	rt_api GET "/attachment/$a" > "$2/a.json"
	[ -n "$(jq -r '.Filename // empty' "$2/a.json")" ] || continue
	n=$((n + 1))
	jq -r '.Filename' "$2/a.json" > "$2/$n.name"
	jq -r '.Content' "$2/a.json" | base64 -d > "$2/$n.bin"
	jq -r '.TransactionId.id // .TransactionId' "$2/a.json" > "$2/$n.txn"
    done
}

# check_ticket NUMBER SINK QUEUE_ID: the checks of 1. for one Intake ticket; prints the RT id.
check_ticket() {
    local n=$1 sink=$2 queue=$3 ids rt tid ref f id name sum found i
    ids=$(rt_ids_for "$n" "$sink")
    h_assert_eq 1 "$(echo "$ids" | grep -c .)" "$n: exactly one RT ticket holds Intake's number ($sink)"
    rt=$(echo "$ids" | head -n1)
    tid=$(h_sql "$C" "SELECT id FROM tickets WHERE number = '$n'")
    ref=$(h_sql "$C" "SELECT ref FROM sink_refs WHERE sink = '$sink' AND ticket_id = $tid")
    h_assert_eq "$rt" "$ref" "$n: Intake keeps RT's ticket id ($sink)"
    rt_api GET "/ticket/$rt" > "$T/rt-$rt.json"
    h_assert_eq "$queue" "$(jq -r '.Queue.id' "$T/rt-$rt.json")" "$n: RT ticket $rt in queue $queue"
    if [ "$sink" = rtcf ]; then
	h_assert_eq "$n" "$(jq -r '.CustomFields[] | select(.name == "Intake number") | .values[0]' \
			     "$T/rt-$rt.json")" "$n: RT ticket $rt's custom field 'Intake number'"
    else
	h_check "jq -e --arg t '[Intake #$n]' '.Subject | startswith(\$t)' '$T/rt-$rt.json' > /dev/null" \
	    "$n: RT ticket $rt's subject starts with [Intake #$n]"
    fi
    h_check "jq -e '[.Requestor[].id] | length == 1' '$T/rt-$rt.json' > /dev/null" \
	"$n: RT ticket $rt has one requestor"
    h_ctl "$C" --json ticket "$n" > "$T/intake-$n.json"
    rt_attachments "$rt" "$T/rtatt-$rt"
    for id in $(jq -r '.messages[] | select(.direction == "in") | .attachments[]? | .id' "$T/intake-$n.json"); do
	name=$(jq -r --argjson i "$id" '.messages[].attachments[]? | select(.id == $i) | .filename' \
		  "$T/intake-$n.json")
	h_ctl "$C" attachment "$n" "$id" > "$T/att-$n-$id" || h_fail "$n: intakectl attachment $id failed"
	found=
	for f in "$T/rtatt-$rt"/*.bin; do
	    [ -f "$f" ] || continue
	    i=${f%.bin}
	    if [ "$(cat "$i.name")" = "$name" ] && cmp -s "$f" "$T/att-$n-$id"; then
		found=$i
		break
	    fi
	done
	sum=$(sha256sum < "$T/att-$n-$id" | cut -c1-12)
	h_check "[ -n '$found' ]" "$n: attachment '$name' ($(stat -c %s "$T/att-$n-$id") bytes, sha256 $sum...) on RT ticket $rt, same name and bytes"
    done
    echo "$rt" > "$T/rt-of-$n"
}

# 1. New tickets.
head -c 65536 /dev/urandom > "$T/data.bin"
printf 'Zeile eins: Grüße\nline two\n' > "$T/notes.txt"
{
    printf 'From: Alice <alice@client.test>\nTo: support@example.test\nSubject: Printer on fire\n'
    printf 'Message-ID: <rt-1@client.test>\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\n'
    printf 'The printer in room 4 is on fire. Log attached.\n'
    printf -- '--b1\nContent-Type: application/octet-stream; name="data.bin"\n'
    printf 'Content-Disposition: attachment; filename="data.bin"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/data.bin"
    printf -- '--b1\nContent-Type: text/plain; charset=utf-8; name="notes.txt"\n'
    printf 'Content-Disposition: attachment; filename="notes.txt"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/notes.txt"
    printf -- '--b1--\n'
} > "$T/alice.eml"
h_send_files "$P" alice@client.test support@example.test "$T/alice.eml" | grep -q $'\t250\t' ||
    h_die "alice's mail was not accepted"
CORPUS_FILES=()
for f in normal/rt/email-file-attachment.eml normal/mailgem/attachment_emails__attachment_nonascii_filename.eml; do
    [ -f "$INTAKE_CORPUS/$f" ] && CORPUS_FILES+=("$INTAKE_CORPUS/$f")
done
if [ ${#CORPUS_FILES[@]} -gt 0 ]; then
    h_send_files "$P" bob@client.test sales@example.test "${CORPUS_FILES[@]}" > "$T/sent.tsv"
    h_assert_eq ${#CORPUS_FILES[@]} "$(grep -c $'\t250\t' "$T/sent.tsv")" "the corpus's mails accepted"
else
    h_note "no corpus at $INTAKE_CORPUS: only alice's mail"
fi
WANT=$((1 + ${#CORPUS_FILES[@]}))
h_wait_for "h_worker_drained '$C' $WANT" 60 "worker: $WANT tickets"
h_wait_for '[ "$(events_left)" = 0 ] && [ "$(h_sql "$C" "SELECT count(*) FROM events")" -ge '$WANT' ]' 300 \
    "every ticket.created event delivered to RT"
h_sql "$C" "SELECT sink, type, state, attempts, last_answer FROM events" | sed 's/^/# event: /'

SUPPORT_Q=$(rt_api GET /queue/Support | jq -r '.id')
N=$(h_sql "$C" "SELECT number FROM tickets WHERE mailbox = 'support'")
check_ticket "$N" rt "$SUPPORT_Q"
for n in $(h_sql "$C" "SELECT number FROM tickets WHERE mailbox = 'sales' ORDER BY id"); do
    check_ticket "$n" rtcf 1
done
RT=$(cat "$T/rt-of-$N")

# 2. alice's follow-up, with an attachment: correspondence on the same RT ticket.
head -c 3000 /dev/urandom > "$T/photo.jpg"
{
    printf 'From: Alice <alice@client.test>\nTo: support@example.test\nSubject: Re: [#%s] Printer on fire\n' "$N"
    printf 'Message-ID: <rt-2@client.test>\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b2"\n\n--b2\nContent-Type: text/plain\n\n'
    printf 'Now the toner is melting too. Photo attached.\n'
    printf -- '--b2\nContent-Type: image/jpeg; name="photo.jpg"\n'
    printf 'Content-Disposition: attachment; filename="photo.jpg"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/photo.jpg"
    printf -- '--b2--\n'
} > "$T/followup.eml"
h_send_files "$P" alice@client.test support@example.test "$T/followup.eml" | grep -q $'\t250\t' ||
    h_die "alice's follow-up was not accepted"
h_wait_for "[ \"\$(h_ticket_in_count '$C' '$N')\" = 2 ]" 60 "the follow-up is a second message on $N"
h_wait_for '[ "$(events_left)" = 0 ] && [ "$(h_sql "$C" "SELECT count(*) FROM events WHERE type = '"'message.added'"'")" -ge 1 ]' 300 \
    "the message.added event delivered to RT"
h_assert_eq "$RT" "$(rt_ids_for "$N" rt | tr '\n' ' ' | sed 's/ $//')" \
    "$N: still exactly RT ticket $RT, no second one"
CORR=
for x in $(rt_api GET "/ticket/$RT/history?per_page=100" | jq -r '.items[].id'); do
    [ "$(rt_api GET "/transaction/$x" | jq -r '.Type')" = Correspond ] && CORR="$CORR $x"
done
h_assert_eq 1 "$(echo $CORR | wc -w)" "RT ticket $RT: one Correspond transaction"
rm -rf "$T/rtatt-$RT"
rt_attachments "$RT" "$T/rtatt-$RT"
found=
for f in "$T/rtatt-$RT"/*.bin; do
    i=${f%.bin}
    [ "$(cat "$i.name")" = photo.jpg ] && cmp -s "$f" "$T/photo.jpg" && found=$(cat "$i.txn")
done
h_check "[ -n '$found' ] && [ ' $found' = '$(echo " $CORR" | tr -s ' ')' ]" \
    "RT ticket $RT: photo.jpg's bytes arrived with the correspondence"
h_check "rt_api GET '/ticket/$RT/attachments?per_page=100' > /dev/null &&
	 for a in \$(rt_api GET '/ticket/$RT/attachments?per_page=100' | jq -r '.items[].id'); do
	     rt_api GET /attachment/\$a | jq -r '.Content // empty' | base64 -d 2>/dev/null; done |
	 grep -q 'toner is melting'" "RT ticket $RT: the follow-up's text is in the correspondence"

# 3. Nothing more in RT than in Intake.
h_assert_eq "$(h_tickets_count "$C")" "$(rt_query_ids "id > 0" | grep -c .)" \
    "RT holds as many tickets as Intake"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM events WHERE state = 'failed'")" "no failed event"

h_worker_stop
h_milter_stop
