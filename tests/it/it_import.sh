#!/bin/bash
# it_import.sh: intakectl import of an mbox file and of a Maildir, built here from written mails
# and real ones of the corpus (person-written, each with its own Message-ID), through the real
# worker into tickets:
#   - --dry-run counts and queues nothing;
#   - the mbox (mboxrd quoting, LF line ends, a mail without header fields, one dated before
#     --since) becomes one ticket per mail kept, the rest are skipped by reason, and no
#     acknowledgement is sent (no --acknowledge); ">From " lines come back as "From ";
#   - a second run adds no ticket;
#   - the Maildir (cur/ and new/) into mailbox sales with --acknowledge: one ticket per file, and
#     the acknowledgements are sent; a second run adds none;
#   - the same mail delivered later through Postfix and intake-milter makes no second ticket
#     (same de-duplication key), and neither does a copy with CRLF line ends in the Maildir.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_import

C=$T/intake.conf
CORPUS=${INTAKE_CORPUS:-$H_ROOT/../shared/corpus}
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"

# ---------------------------------------------------------------------------------------------
# The mails

# written_mail N DATE: a person's mail to support@, LF line ends; its body has lines an mbox
# must quote ("From here", ">From there").
written_mail() {
    printf 'From: Customer %s <customer%s@example.org>\n' "$1" "$1"
    printf 'To: support@%s\nSubject: import test %s\n' "$H_DOMAIN" "$1"
    printf 'Date: %s\nMessage-ID: <import-%s@example.org>\n' "$2" "$1"
    printf 'Content-Type: text/plain; charset=utf-8\n\n'
    printf 'Hello,\n\nFrom here on the printer is broken (%s).\n>From there too.\n\nBye\n' "$1"
}

# mbox_append FILE: a mail on stdin appended to the mbox FILE, mboxrd-quoted.
mbox_append() {
    printf 'From customer@example.org Mon Nov 30 10:00:00 2026\n' >> "$1"
    sed -E 's/^(>*From )/>\1/' >> "$1"
    printf '\n' >> "$1"
}

MBOX=$T/support.mbox
: > "$MBOX"
NW=6
for i in $(seq 1 $NW); do
    written_mail "$i" "Mon, 30 Nov 2026 10:0$i:00 +0000" | mbox_append "$MBOX"
done
# Before --since 2020-01-01: skipped.
written_mail old "Tue, 02 Jan 2001 10:00:00 +0000" | mbox_append "$MBOX"
# No header fields at all: malformed, skipped.
printf '\nonly a body, no header\n' | mbox_append "$MBOX"
grep -q '^>From here' "$MBOX" && grep -q '^>>From there' "$MBOX" ||
    h_die "the test's mbox is not quoted as mboxrd"

# The corpus's person-written mails, each with a Message-ID of its own (they become tickets).
CORPUS_FILES=()
if [ -d "$CORPUS/normal" ]; then
    while IFS= read -r f; do CORPUS_FILES+=("$f"); done < <(
	for f in "$CORPUS"/normal/*/*; do
	    case "$f" in *.json) continue ;; esac
	    mid=$(awk '/^\r?$/ { exit } tolower($1) == "message-id:" { print $2; exit }' "$f")
	    [ -n "$mid" ] && printf '%s\t%s\n' "$mid" "$f"
	done | sort -t$'\t' -k1,1 -u | cut -f2 | head -n 20)
fi
h_note "${#CORPUS_FILES[@]} corpus mails (person-written, distinct Message-IDs) in the Maildir"

MD=$T/Maildir
mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
i=0
for f in "${CORPUS_FILES[@]}"; do
    i=$((i + 1))
    cp "$f" "$MD/cur/100$i.corpus.test:2,S"
done
for j in 1 2; do
    written_mail "md$j" "Mon, 30 Nov 2026 11:0$j:00 +0000" > "$MD/new/200$j.written.test"
done
# A mail still being delivered (tmp/) is not read.
written_mail tmp "Mon, 30 Nov 2026 12:00:00 +0000" > "$MD/tmp/300.tmp.test"
NMD=$((i + 2))

# ---------------------------------------------------------------------------------------------
# mbox

h_ctl "$C" import --mailbox support --since 2020-01-01 --dry-run "$MBOX" > "$T/dry.out" \
    2> "$T/dry.err"
h_assert_eq 0 "$?" "import --dry-run: exit status 0"
h_check "grep -q '^dry run: read $((NW + 2)), would queue $NW (truncated 0), skipped 2 (before --since 1, malformed 1)$' '$T/dry.out'" \
    "import --dry-run: read $((NW + 2)), would queue $NW, skipped 2 by reason ($(cat "$T/dry.out"))"
h_assert_eq 0 "$(h_xlen)" "import --dry-run: nothing in the stream"
h_check "grep -q 'support.mbox:[0-9]*: skipped (malformed)' '$T/dry.err'" \
    "the malformed mail is reported with its file and offset"

# Over max_message_size (2000 bytes here): with oversize = reject skipped, the run goes on; with
# oversize = ticket (the default) queued truncated, as delivery would. spool_threshold 1000: the
# large mail goes through the milter's spool file.
BIG=$T/big.mbox
cp "$MBOX" "$BIG"
{ written_mail big "Mon, 30 Nov 2026 10:30:00 +0000"; seq 1 2000; } | mbox_append "$BIG"
written_mail after "Mon, 30 Nov 2026 10:31:00 +0000" | mbox_append "$BIG"
h_write_conf "$T/reject.conf" "[milter]" "max_message_size = 2000" "spool_threshold = 1000" \
    "spool_directory = $T" "[mailbox support]" "oversize = reject"
h_ctl "$T/reject.conf" import --mailbox support --dry-run "$BIG" > "$T/big1.out" 2> "$T/big1.err"
h_assert_eq 0 "$?" "a mail too large: exit status 0"
h_check "grep -q '^dry run: read $((NW + 4)), would queue $((NW + 2)) (truncated 0), skipped 2 (malformed 1, too large 1)$' '$T/big1.out'" \
    "oversize = reject: the large mail skipped as too large, the mail after it read: $(cat "$T/big1.out")"
h_check "grep -q 'big.mbox:[0-9]*: skipped (too large)' '$T/big1.err'" "the large mail is reported with its place"
h_write_conf "$T/ticket.conf" "[milter]" "max_message_size = 2000" "spool_threshold = 1000" \
    "spool_directory = $T"
h_ctl "$T/ticket.conf" import --mailbox support --dry-run "$BIG" > "$T/big2.out" 2> "$T/big2.err"
h_check "grep -q '^dry run: read $((NW + 4)), would queue $((NW + 3)) (truncated 1), skipped 1 (malformed 1)$' '$T/big2.out'" \
    "oversize = ticket: the large mail queued truncated: $(cat "$T/big2.out")"

h_worker_start "$C" || exit 1
h_ctl "$C" import --mailbox support --since 2020-01-01 "$MBOX" > "$T/mbox1.out" 2> "$T/mbox1.err"
h_assert_eq 0 "$?" "import mbox: exit status 0"
h_check "grep -q '^import: read $((NW + 2)), queued $NW (truncated 0), skipped 2 (before --since 1, malformed 1)$' '$T/mbox1.out'" \
    "import mbox: summary $(cat "$T/mbox1.out")"
h_wait_for "h_worker_drained '$C' $NW" 60 "worker: $NW tickets from the mbox"
h_assert_eq "$NW" "$(h_sql "$C" "SELECT count(*) FROM tickets t JOIN messages m ON m.ticket_id = t.id
				  WHERE t.mailbox = 'support' AND m.message_id LIKE 'import-%'")" \
    "store: the $NW tickets are the written mails', in mailbox support"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM messages WHERE message_id = 'import-old@example.org'")" \
    "store: the mail before --since made no ticket"
# The text is a zstd frame in the store (docs/design.md): read it as intakectl shows it.
h_assert_eq "$NW" "$(h_sql "$C" "SELECT number FROM tickets" | while read -r n; do
			 h_ctl "$C" --json ticket "$n"; done |
		     jq -s '[.[].messages[] | select(.direction == "in" and (.body | test("\nFrom here on"))
			    and (.body | test("\n>From there too[.]")))] | length')" \
    "store: '>From here' came back as 'From here', '>>From there' as '>From there'"
h_assert_eq 0 "$(h_outbox_count "$C")" "no acknowledgement owed for imported mail (no --acknowledge)"
h_check "grep -q 'imported (intakectl import without --acknowledge)' '$T/worker.log'" \
    "worker log: acknowledgement skipped because the mail was imported"

h_ctl "$C" import --mailbox support --since 2020-01-01 "$MBOX" > "$T/mbox2.out" 2>&1
h_assert_eq 0 "$?" "import mbox again: exit status 0"
h_wait_for "[ \"\$(h_xlen)\" = 0 ] && [ \"\$(h_pending_count)\" = 0 ]" 60 \
    "worker: the second run's entries taken"
h_assert_eq "$NW" "$(h_tickets_count "$C")" "import mbox again: no ticket added"

# ---------------------------------------------------------------------------------------------
# Maildir, with acknowledgements

h_ctl "$C" import --mailbox sales --acknowledge "$MD" > "$T/md1.out" 2> "$T/md1.err"
h_assert_eq 0 "$?" "import Maildir: exit status 0"
h_check "grep -q '^import: read $NMD, queued $NMD (truncated 0), skipped 0$' '$T/md1.out'" \
    "import Maildir: read and queued $NMD (cur/ and new/, not tmp/): $(cat "$T/md1.out")"
h_wait_for "h_worker_drained '$C' $((NW + NMD))" 120 "worker: $NMD tickets more from the Maildir"
h_assert_eq "$NMD" "$(h_sql "$C" "SELECT count(*) FROM tickets WHERE mailbox = 'sales'")" \
    "store: $NMD tickets of mailbox sales"
h_wait_for "[ \"\$(h_outbox_count '$C')\" -gt 0 ] && [ \"\$(h_outbox_count '$C' sent)\" = \"\$(h_outbox_count '$C')\" ]" 60 \
    "with --acknowledge: acknowledgements owed and sent ($(h_outbox_count "$C") of $NMD; the worker's own filters decide which)"
h_check "[ \"\$(h_sink_count)\" -ge 2 ]" "sink: the written mails' acknowledgements arrived"

# A copy of a Maildir mail with CRLF line ends is the same mail.
sed 's/$/\r/' "$MD/new/2001.written.test" > "$MD/new/2003.crlf-copy.test"
h_ctl "$C" import --mailbox sales "$MD" > "$T/md2.out" 2>&1
h_assert_eq 0 "$?" "import Maildir again (plus a CRLF copy of one mail): exit status 0"
h_wait_for "[ \"\$(h_xlen)\" = 0 ] && [ \"\$(h_pending_count)\" = 0 ]" 60 \
    "worker: the second run's entries taken"
h_assert_eq "$((NW + NMD))" "$(h_tickets_count "$C")" "import Maildir again: no ticket added"

# ---------------------------------------------------------------------------------------------
# The same mail, delivered later

h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
# The first mail of the mbox, as its sender wrote it (unquoted), by SMTP.
written_mail 1 "Mon, 30 Nov 2026 10:01:00 +0000" > "$T/mail1.eml"
dups=$(grep -c 'duplicate of a message' "$T/worker.log")
h_send_files "$P" customer1@example.org "support@$H_DOMAIN" "$T/mail1.eml" > "$T/send.out"
h_check "grep -q $'\t250\t' '$T/send.out'" "the imported mail delivered by SMTP: accepted"
h_wait_for "[ \"\$(grep -c 'duplicate of a message' '$T/worker.log')\" -gt $dups ]" 60 \
    "worker: the delivered copy is a duplicate of the imported mail"
h_wait_for "[ \"\$(h_xlen)\" = 0 ] && [ \"\$(h_pending_count)\" = 0 ]" 60 \
    "worker: the delivered copy taken"
h_assert_eq "$((NW + NMD))" "$(h_tickets_count "$C")" \
    "imported, then delivered: still one ticket for that mail"
h_assert_eq 1 "$(h_sql "$C" "SELECT count(*) FROM messages WHERE message_id = 'import-1@example.org'")" \
    "store: one message import-1@example.org"

h_worker_stop
