#!/bin/bash
# it_api.sh: the worker's read-only HTTP API ([http] listen, token_file; docs/api.openapi.yaml)
# against a real worker and store holding 1,000+ tickets, made fast by intakectl import of an
# mbox written here (through the milter's message code and the stream, as delivered mail):
#   - every endpoint without a token and with a wrong one is 401 with WWW-Authenticate and a JSON
#     error, and answers with the right one;
#   - paging through every ticket (an odd page size) and every search hit: each once, no gap, no
#     duplicate, newest first, the set equal to the store's; filters (mailbox, status, since)
#     agree with the store; a cursor only works with the query it came from;
#   - a ticket shows its messages and attachment metadata; the attachment's bytes have the
#     SHA-256 of the file that was attached, with its type, Content-Disposition: attachment and
#     nosniff; a missing ticket or attachment is 404;
#   - hostile parameters and paths (huge, negative, repeated, unknown, encoded NUL, "..%2f",
#     overlong, malformed cursors, other methods) get a 4xx with a JSON error, and the worker
#     lives on (no sanitizer report);
#   - /metrics still answers beside the API;
#   - after a SIGHUP to a configuration with the old name [metrics] listen and no token file,
#     /metrics answers there and every /api path is 404 with a JSON error.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_api

command -v jq >/dev/null || { h_note "jq missing (make deps)"; exit 77; }
N=1000			# tickets of mailbox support
NS=7			# tickets of mailbox sales
C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
H=$(h_free_port)
BASE=http://127.0.0.1:$H
h_sink_start "$S" "$T/sink" || exit 1
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; printf '# the API token of it_api\n%s\n' "$TOKEN" > "$T/api-token")
h_worker_conf "$C" "$S" "[http]" "listen = 127.0.0.1:$H" "token_file = $T/api-token"

# ---------------------------------------------------------------------------------------------
# The configuration check (intake-worker -t) reads the token file

printf 'short\n' > "$T/short-token"
while IFS='|' read -r lines want; do
    IFS=';' read -r -a extra <<< "$lines"
    h_worker_conf "$T/bad.conf" "$S" "${extra[@]}"
    "$INTAKE_BIN/intake-worker" -t -c "$T/bad.conf" > "$T/check.out" 2>&1
    rc=$?
    h_check "[ $rc = 1 ] && grep -q \"$want\" '$T/check.out'" "intake-worker -t refuses ${lines}: $want"
done <<CASES
[http];listen = 127.0.0.1:$H;token_file = $T/none|\[http\] key 'token_file': $T/none: No such file
[http];listen = 127.0.0.1:$H;token_file = $T/short-token|short-token:1: a token of 5 bytes is too short
[http];listen = 127.0.0.1:$H;[metrics];listen = 127.0.0.1:$S|the old name of \[http\] listen
CASES
h_check "'$INTAKE_BIN/intake-worker' -t -c '$C' > /dev/null 2>&1" "intake-worker -t: the test's configuration is OK"
if python3 -c 'import yaml, openapi_spec_validator' 2>/dev/null; then
    h_check "python3 -c 'import sys, yaml, openapi_spec_validator as v; v.validate(yaml.safe_load(open(sys.argv[1])))' '$H_ROOT/docs/api.openapi.yaml'" \
	"docs/api.openapi.yaml is a valid OpenAPI document"
else
    h_note "openapi-spec-validator (Python) missing: docs/api.openapi.yaml not validated"
fi

# ---------------------------------------------------------------------------------------------
# The mails: N to support (one with an attachment and a rare word), NS to sales

head -c 30000 /dev/urandom > "$T/blob.bin"
BLOB_SHA=$(sha256sum < "$T/blob.bin" | cut -d' ' -f1)

# mbox_of COUNT TAG: COUNT plain mails, mboxrd, written by awk (a shell loop is too slow).
mbox_of() {
    awk -v n="$1" -v tag="$2" -v dom="$H_DOMAIN" 'BEGIN {
	for (i = 1; i <= n; i++) {
	    printf "From customer%d@example.org Mon Nov 30 10:00:00 2026\n", i
	    printf "From: Customer %d <customer%d@example.org>\nTo: %s@%s\n", i, i, tag, dom
	    printf "Subject: %s printer %d\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n", tag, i
	    printf "Message-ID: <api-%s-%d@example.org>\n", tag, i
	    printf "Content-Type: text/plain; charset=utf-8\n\n"
	    printf "Hello,\n\nthe printer on floor %d is broken again.\n\nRegards\n\n", i
	}
    }'
}
mbox_of $((N - 1)) support > "$T/support.mbox"
{
    printf 'From scan@example.org Mon Nov 30 11:00:00 2026\n'
    printf 'From: Scanner <scan@example.org>\nTo: support@%s\n' "$H_DOMAIN"
    printf 'Subject: the scan\nDate: Mon, 30 Nov 2026 11:00:00 +0000\n'
    printf 'Message-ID: <api-attachment@example.org>\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
    printf 'Content-Type: text/plain; charset=utf-8\n\nThe zebracorn printer scan is attached.\n'
    printf '\n--b1\nContent-Type: application/pdf; name="scan.pdf"\n'
    printf 'Content-Disposition: attachment; filename="scan.pdf"\n'
    printf 'Content-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/blob.bin"
    printf '\n--b1--\n\n'
} >> "$T/support.mbox"
mbox_of "$NS" sales > "$T/sales.mbox"

h_worker_start "$C" || exit 1
t0=$(date +%s)
h_ctl "$C" import --mailbox support "$T/support.mbox" > "$T/import1.out" 2>&1 ||
    h_die "import of support.mbox failed: $(tail -n 3 "$T/import1.out")"
h_ctl "$C" import --mailbox sales "$T/sales.mbox" > "$T/import2.out" 2>&1 ||
    h_die "import of sales.mbox failed: $(tail -n 3 "$T/import2.out")"
TOTAL=$((N + NS))
h_wait_for "h_worker_drained '$C' $TOTAL" 300 "worker: $TOTAL tickets made from the imports"
h_note "$TOTAL tickets in $(( $(date +%s) - t0 ))s"

# ---------------------------------------------------------------------------------------------
# Helpers

# api PATH [curl options...]: GET BASE/PATH with the token; the body on stdout, the status in
# $T/status, the headers in $T/headers.
api() {
    local path=$1
    shift
    curl -s --path-as-is --max-time 30 -D "$T/headers" -o "$T/body" -w '%{http_code}' \
	-H "Authorization: Bearer $TOKEN" "$@" "$BASE$path" > "$T/status"
    cat "$T/body"
}
status() { cat "$T/status"; }
header() { tr -d '\r' < "$T/headers" | awk -v k="$1" 'tolower($0) ~ "^" tolower(k) ":" { sub(/^[^:]*: */, ""); print; exit }'; }

# ---------------------------------------------------------------------------------------------
# /metrics beside the API

h_assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/metrics")" "/metrics answers 200"
h_wait_for "curl -s '$BASE/metrics' | grep -q '^intake_tickets_created_total $TOTAL\$'" 20 \
    "/metrics counts the $TOTAL tickets"

# ---------------------------------------------------------------------------------------------
# Tokens

ANUM=$(h_sql "$C" "SELECT t.number FROM tickets t JOIN messages m ON m.ticket_id = t.id
		   WHERE m.message_id = 'api-attachment@example.org'")
AID=$(h_sql "$C" "SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id
		  WHERE m.message_id = 'api-attachment@example.org'")
[ -n "$ANUM" ] && [ -n "$AID" ] || h_die "no ticket with the attachment in the store"
for p in /api/v1/tickets "/api/v1/tickets/$ANUM" "/api/v1/tickets/$ANUM/attachments/$AID" \
	 "/api/v1/search?q=printer"; do
    code=$(curl -s -D "$T/h0" -o "$T/b0" -w '%{http_code}' "$BASE$p")
    h_check "[ '$code' = 401 ] && grep -qi '^WWW-Authenticate: Bearer' '$T/h0' &&
	     jq -e '.error | strings' '$T/b0' >/dev/null" "GET $p without a token: 401, WWW-Authenticate, JSON error"
    code=$(curl -s -D "$T/h0" -o "$T/b0" -w '%{http_code}' -H "Authorization: Bearer ${TOKEN}x" "$BASE$p")
    h_check "[ '$code' = 401 ] && grep -qi 'invalid_token' '$T/h0' && jq -e .error '$T/b0' >/dev/null" \
	"GET $p with a wrong token: 401 invalid_token"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $TOKEN" "$BASE$p")
    h_assert_eq 401 "$code" "GET $p with the token in another scheme: 401"
    api "$p" > /dev/null
    h_assert_eq 200 "$(status)" "GET $p with the token: 200"
done

# ---------------------------------------------------------------------------------------------
# Every ticket, page by page

h_sql "$C" "SELECT number FROM tickets ORDER BY id DESC" > "$T/want.txt"
: > "$T/got.txt"
cursor=
pages=0
while :; do
    api "/api/v1/tickets?limit=97${cursor:+&cursor=$cursor}" > "$T/page.json"
    [ "$(status)" = 200 ] || { h_fail "page $pages: status $(status): $(cat "$T/page.json")"; break; }
    jq -r '.tickets[].number' "$T/page.json" >> "$T/got.txt"
    pages=$((pages + 1))
    cursor=$(jq -r '.next_cursor // empty' "$T/page.json")
    [ -n "$cursor" ] || break
    [ "$pages" -lt 100 ] || { h_fail "more than 100 pages"; break; }
done
h_assert_eq $(( (TOTAL + 96) / 97 )) "$pages" "$TOTAL tickets in pages of 97"
h_assert_eq "$TOTAL" "$(wc -l < "$T/got.txt")" "every ticket listed"
h_assert_eq "$TOTAL" "$(sort -u "$T/got.txt" | wc -l)" "no ticket listed twice"
h_check "cmp -s '$T/want.txt' '$T/got.txt'" "the pages list the store's tickets, newest first, no gap"
api "/api/v1/tickets?limit=500" > "$T/p.json"
h_check "jq -e '(.tickets | length) == 500 and (.next_cursor | type) == \"string\"' '$T/p.json' >/dev/null" \
    "limit=500: 500 tickets and a next cursor"
api "/api/v1/tickets" > "$T/p.json"
h_assert_eq 50 "$(jq '.tickets | length' "$T/p.json")" "the default page holds 50 tickets"
h_check "jq -e '.tickets[0] | has(\"number\") and has(\"mailbox\") and has(\"status\") and has(\"title\") and has(\"customer\") and has(\"created_at\") and has(\"messages\")' '$T/p.json' >/dev/null" \
    "a listed ticket has number, mailbox, status, title, customer, created_at, messages"

# Filters
api "/api/v1/tickets?mailbox=sales&limit=500" > "$T/p.json"
h_assert_eq "$(h_sql "$C" "SELECT number FROM tickets WHERE mailbox = 'sales' ORDER BY id DESC" | tr '\n' ' ')" \
    "$(jq -r '.tickets[].number' "$T/p.json" | tr '\n' ' ')" "mailbox=sales: the store's $NS sales tickets"
h_check "jq -e '.next_cursor == null' '$T/p.json' >/dev/null" "mailbox=sales: no next page"
CNUM=$(sed -n 5p "$T/want.txt")
h_ctl "$C" close "$CNUM" > /dev/null 2>&1 || h_fail "intakectl close $CNUM"
api "/api/v1/tickets?status=closed" > "$T/p.json"
h_assert_eq "$CNUM" "$(jq -r '[.tickets[].number] | join(",")' "$T/p.json")" "status=closed: the one closed ticket"
api "/api/v1/tickets?mailbox=support&status=closed" > /dev/null
h_assert_eq 200 "$(status)" "mailbox and status together"
api "/api/v1/tickets?since=$(( $(date +%s) + 86400 ))" > "$T/p.json"
h_assert_eq 0 "$(jq '.tickets | length' "$T/p.json")" "since tomorrow (Unix seconds): no ticket"
api "/api/v1/tickets?since=2000-01-01T00:00:00Z&limit=3" > "$T/p.json"
h_assert_eq "$(head -n 3 "$T/want.txt" | tr '\n' ' ')" "$(jq -r '.tickets[].number' "$T/p.json" | tr '\n' ' ')" \
    "since 2000 (RFC 3339): the newest tickets"
# A cursor belongs to its query.
api "/api/v1/tickets?limit=5" > "$T/p.json"
c5=$(jq -r .next_cursor "$T/p.json")
api "/api/v1/tickets?limit=5&mailbox=sales&cursor=$c5" > "$T/p.json"
h_check "[ '$(status)' = 400 ] && jq -e '.error | test(\"another\")' '$T/p.json' >/dev/null" \
    "a cursor given with other filters: 400"
api "/api/v1/search?q=printer&cursor=$c5" > "$T/p.json"
h_assert_eq 400 "$(status)" "a ticket list's cursor given to the search: 400"
api "/api/v1/tickets?limit=7&cursor=$c5" > "$T/p.json"
h_assert_eq "$(sed -n 6,12p "$T/want.txt" | tr '\n' ' ')" "$(jq -r '.tickets[].number' "$T/p.json" | tr '\n' ' ')" \
    "the same cursor with another limit goes on where the page ended"

# ---------------------------------------------------------------------------------------------
# One ticket, its attachment

api "/api/v1/tickets/$ANUM" > "$T/t.json"
h_check "jq -e --arg n '$ANUM' '.number == \$n and .mailbox == \"support\" and (.messages | length) == 1
	 and .messages[0].direction == \"in\" and (.messages[0].body | test(\"zebracorn\"))
	 and .messages_total == 1 and .more == null and (.replies | type) == \"array\"' '$T/t.json' >/dev/null" \
    "ticket $ANUM: its message, text, replies"
h_check "jq -e --argjson id '$AID' '.messages[0].attachments[0] | .id == \$id and .filename == \"scan.pdf\"
	 and .content_type == \"application/pdf\" and .size == 30000 and .stored == true and .sha256 == \"$BLOB_SHA\"' '$T/t.json' >/dev/null" \
    "ticket $ANUM: the attachment's metadata (name, type, size, SHA-256)"
url=$(jq -r '.messages[0].attachments[0].url' "$T/t.json")
h_assert_eq "/api/v1/tickets/$ANUM/attachments/$AID" "$url" "the attachment's URL"
curl -s --max-time 30 -D "$T/headers" -o "$T/got.bin" -w '%{http_code}' \
    -H "Authorization: Bearer $TOKEN" "$BASE$url" > "$T/status"
h_assert_eq 200 "$(status)" "GET the attachment: 200"
h_assert_eq "$BLOB_SHA" "$(sha256sum < "$T/got.bin" | cut -d' ' -f1)" "the attachment's bytes are the file attached (SHA-256)"
h_assert_eq "application/pdf" "$(header Content-Type)" "its Content-Type"
h_check "header Content-Disposition | grep -q '^attachment; filename=\"scan.pdf\"'" "Content-Disposition: attachment with its name"
h_assert_eq nosniff "$(header X-Content-Type-Options)" "X-Content-Type-Options: nosniff"
api "/api/v1/tickets/$ANUM/attachments/$((AID + 100000))" > "$T/e.json"
h_check "[ '$(status)' = 404 ] && jq -e .error '$T/e.json' >/dev/null" "an attachment the ticket does not have: 404"
other=$(sed -n 2p "$T/want.txt")
[ "$other" = "$ANUM" ] && other=$(sed -n 3p "$T/want.txt")
api "/api/v1/tickets/$other/attachments/$AID" > "$T/e.json"
h_assert_eq 404 "$(status)" "another ticket's attachment id: 404"
api "/api/v1/tickets/INT-1999-999999" > "$T/e.json"
h_check "[ '$(status)' = 404 ] && jq -e '.error | test(\"no ticket\")' '$T/e.json' >/dev/null" "no such ticket: 404"

# ---------------------------------------------------------------------------------------------
# Search

api "/api/v1/search?q=zebracorn" > "$T/s.json"
h_assert_eq "$ANUM" "$(jq -r '[.hits[].number] | join(",")' "$T/s.json")" "search 'zebracorn': the one ticket"
h_assert_eq "/api/v1/tickets/$ANUM" "$(jq -r '.hits[0].ticket_url' "$T/s.json")" "the hit links its ticket"
# U+19B0 is a letter to GLib (the API's words) but a separator to the index's tokenizer: the word
# is searched as its two tokens, not refused as a phrase (the index keeps no positions).
api "/api/v1/search?q=zebracorn%E1%A6%B0zebracorn" > "$T/s2.json"
h_assert_eq 200 "$(status)" "search for a word the index cuts in two: 200"
h_assert_eq "$ANUM" "$(jq -r '[.hits[].number] | join(",")' "$T/s2.json")" "  the one ticket"
h_sql "$C" "SELECT id FROM messages WHERE direction = 'in' ORDER BY id DESC" > "$T/swant.txt"
: > "$T/sgot.txt"
cursor=
pages=0
while :; do
    api "/api/v1/search?q=printer+floor&limit=333${cursor:+&cursor=$cursor}" > "$T/page.json"
    [ "$(status)" = 200 ] || { h_fail "search page $pages: status $(status)"; break; }
    jq -r '.hits[].id' "$T/page.json" >> "$T/sgot.txt"
    pages=$((pages + 1))
    cursor=$(jq -r '.next_cursor // empty' "$T/page.json")
    [ -n "$cursor" ] || break
    [ "$pages" -lt 20 ] || { h_fail "more than 20 search pages"; break; }
done
# Every support mail but the scan says "printer ... floor"; the sales mails too.
h_sql "$C" "SELECT m.id FROM messages m WHERE m.direction = 'in'
	    AND m.message_id <> 'api-attachment@example.org' ORDER BY m.id DESC" > "$T/swant.txt"
h_assert_eq "$(wc -l < "$T/swant.txt")" "$(wc -l < "$T/sgot.txt")" "search 'printer floor' finds every mail that holds both words"
h_check "cmp -s '$T/swant.txt' '$T/sgot.txt'" "search pages: each hit once, newest first, no gap"
api "/api/v1/search?q=printer%20OR%20NEAR(x)%20*%20%22%20col:x" > "$T/s.json"
h_assert_eq 200 "$(status)" "FTS5 syntax in q is taken as words, not as operators"

# ---------------------------------------------------------------------------------------------
# Hostile input: a 4xx with a JSON error each, and the worker lives on

long=$(head -c 5000 /dev/zero | tr '\0' 'a')
q300=$(head -c 300 /dev/zero | tr '\0' 'q')
while IFS='|' read -r want path; do
    [ -n "$path" ] || continue
    api "$path" > "$T/e.json"
    h_check "[ '$(status)' = '$want' ] && jq -e '.error | strings' '$T/e.json' >/dev/null" \
	"GET ${path:0:70}: $want with a JSON error (got $(status): $(head -c 120 "$T/e.json"))"
done <<EOF
400|/api/v1/tickets?limit=0
400|/api/v1/tickets?limit=501
400|/api/v1/tickets?limit=-5
400|/api/v1/tickets?limit=99999999999999999999999
400|/api/v1/tickets?limit=10&limit=20
400|/api/v1/tickets?foo=bar
400|/api/v1/tickets?mailbox=%00
400|/api/v1/tickets?mailbox=a%0d%0aSet-Cookie:%20x
400|/api/v1/tickets?mailbox=%zz
400|/api/v1/tickets?mailbox=%ff
400|/api/v1/tickets?since=yesterday
400|/api/v1/tickets?since=-1
400|/api/v1/tickets?cursor=garbage!
400|/api/v1/tickets?cursor=eyJ2IjoxfQ
400|/api/v1/tickets?q=printer
400|/api/v1/tickets?limit
400|/api/v1/tickets/..%2f..%2fetc%2fpasswd
400|/api/v1/tickets/../../etc/passwd
400|/api/v1/tickets/%2e%2e
400|/api/v1/tickets/$ANUM/attachments/abc
400|/api/v1/tickets/$ANUM/attachments/-1
400|/api/v1/tickets/$ANUM/attachments/99999999999999999999
400|/api/v1/tickets/$ANUM/attachments/$AID?x=1
400|/api/v1/tickets/$ANUM?after=0
400|/api//v1/tickets
400|/api/v1/search
400|/api/v1/search?q=
400|/api/v1/search?q=%21%21%21
400|/api/v1/search?q=$q300
400|/api/v1/search?q=a&q=b
404|/api/v1/nothing
404|/api/v2/tickets
404|/api/v1/tickets/$ANUM/replies
404|/api/v1/tickets/INT-2026-000000
414|/api/v1/tickets?mailbox=$long
EOF
code=$(curl -s -o "$T/e.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tickets")
h_check "[ '$code' = 405 ] && jq -e .error '$T/e.json' >/dev/null" "POST: 405 with a JSON error"
code=$(curl -s -o "$T/e.json" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tickets/$ANUM")
h_assert_eq 405 "$code" "DELETE: 405"
h_check "_h_alive $H_WORKER_PID" "the worker is alive after the hostile requests"

# ---------------------------------------------------------------------------------------------
# Reload: the old name [metrics] listen, no token file: no API

h_worker_conf "$C" "$S" "[metrics]" "listen = 127.0.0.1:$H"
kill -HUP "$H_WORKER_PID"
h_wait_for "curl -s '$BASE/api/v1/tickets' -H 'Authorization: Bearer $TOKEN' -o '$T/off.json' -w '%{http_code}' | grep -qx 404" 20 \
    "after SIGHUP without token_file: /api is 404"
h_check "jq -e '.error | test(\"token_file\")' '$T/off.json' >/dev/null" "with a JSON error naming token_file"
h_assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/metrics")" "/metrics answers at [metrics] listen (the old name)"

h_worker_stop

