#!/bin/bash
# it_corpus.sh: every real mail becomes a ticket, through the real path.
#
# Sends every message of $INTAKE_CORPUS (default ../shared/corpus): the person-written ones
# (labelled "normal" or "unknown", and everything under parse/) and the auto-generated and list
# mail too (bounces, auto-replies, list mail: until auto-generated mail is kept apart, they are
# tickets like the rest, and none may end in the dead-letter stream), to support@ through a
# private Postfix with intake-milter, and intake-worker stores them. Asserts, per file, that
# Postfix accepted it and that its mail is stored exactly once (as a new ticket, or as a follow-up
# on the ticket of a message it answers), that every distinct message made exactly one stored
# message, that nothing went to the dead-letter stream and nothing is left in the stream.
# Every file that did not make it is printed with why (SMTP reply, milter and worker log lines).
#
#   h_send_files (one SMTP session) -> postfix back (+ intake-milter) -> Redis -> intake-worker
#
# Distinct messages: the milter's de-duplication key is over Message-ID, Date, From, Subject and
# the body; two files with the same key are the same mail arriving twice (one ticket; that is
# the point of the key). Several zammad fixtures share one header template (same Message-ID, Date,
# From, Subject) with different bodies: different keys, different tickets. The test computes the
# same equivalence from the files (raw header values, body after line-end normalisation) and
# expects one stored message per class; a file whose class was stored by an earlier file must
# have been logged by the worker as a duplicate. A file with no Message-ID or no Date field is
# unlike every other: Postfix adds the missing field (its own unique id, the time of arrival)
# before the milter sees the header (zammad mail096 and mail097 differ only in an empty
# Message-ID field, and are two tickets).
#
# mbox "From " lines (flufl, BounceParser and a few others) are dropped before sending: an MTA
# never sees that line, it belongs to the mailbox file, not to the message.
#
# Skipped (exit 77) without the corpus.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"

CORPUS=${INTAKE_CORPUS:-$H_ROOT/../shared/corpus}
if [ ! -f "$CORPUS/labels.tsv" ]; then
    echo "skipped: no corpus at $CORPUS (set INTAKE_CORPUS)"
    exit 77
fi
h_init it_corpus

# The files: every message of labels.tsv, and everything under parse/ (not the .json
# expectations).
{
    awk -F'\t' 'NR > 1 { print $1 }' "$CORPUS/labels.tsv"
    (cd "$CORPUS" && find parse -type f ! -name '*.json')
} | sort -u > "$T/files"
N=$(wc -l < "$T/files")
h_check "[ $N -gt 0 ]" "corpus: $N files selected"
sed "s|^|$CORPUS/|" "$T/files" > "$T/paths"

# Equivalence classes of the de-duplication key: file <TAB> class (first file of its class).
xargs -d '\n' perl -MDigest::SHA=sha256_hex -e '
    my %first;
    for my $f (@ARGV) {
	open(my $fh, "<:raw", $f) or die "$f: $!\n";
	my $d = do { local $/; <$fh> };
	$d =~ s/\AFrom [^\n]*\n//;
	$d =~ s/\r\n/\n/g;
	my ($head, $body) = split(/\n\n/, $d, 2);
	$head =~ s/\n[ \t]+/ /g;
	my %h;
	for (split /\n/, $head) {
	    next unless /^([^:\s]+):[ \t]*(.*?)\s*$/;
	    $h{lc $1} //= $2;
	}
	# Postfix adds a Message-ID and a Date to a mail that has none (the milter sees them):
	# such a mail is unlike any other.
	$h{"message-id"} //= "added for $f";
	$h{date} //= "added for $f";
	my $k = sha256_hex(join("\0", map { $h{$_} // "" } qw(message-id date from subject)),
			   "\0", $body // "");
	$first{$k} //= $f;
	print "$f\t$first{$k}\n";
    }' < "$T/paths" > "$T/classes"
DISTINCT=$(cut -f2 "$T/classes" | sort -u | wc -l)
h_note "$N files, $DISTINCT distinct messages (de-duplication key)"

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
# max_deliveries 2: a mail the worker cannot process reaches the dead-letter stream in seconds.
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 2"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

start=$SECONDS
xargs -d '\n' bash -c '. "$0"; h_send_files "$@"' "$H_ROOT/tests/lib/harness.sh" \
    "$P" sender@client.test support@example.test < "$T/paths" > "$T/sent.tsv"
h_assert_eq "$N" "$(wc -l < "$T/sent.tsv")" "smtp: a reply for each of the $N files"
h_assert_eq "$N" "$(awk -F'\t' '$2 == 250' "$T/sent.tsv" | wc -l)" "smtp: all $N accepted (250)"
awk -F'\t' '$2 != 250 { print "#   refused: " $1 ": " $2 " " $3 }' "$T/sent.tsv"

# file <TAB> queue id
awk -F'\t' '$2 == 250 && match($3, /queued as [0-9A-Za-z]+/) {
		print $1 "\t" substr($3, RSTART + 10, RLENGTH - 10) }' "$T/sent.tsv" > "$T/qids"

# Done when every entry is stored or dead: the stream empty, nothing pending.
h_wait_for "[ \"\$(h_xlen)\" = 0 ] && [ \"\$(h_pending_count)\" = 0 ]" 120 \
    "worker: stream drained, nothing pending"
h_note "sent and processed in $((SECONDS - start))s"

h_assert_eq 0 "$(h_xlen intake:dead)" "dead-letter stream: empty"
h_assert_eq "$DISTINCT" "$(h_sql "$C" "SELECT count(*) FROM messages WHERE direction = 'in'")" \
    "store: one message per distinct mail ($DISTINCT)"
h_assert_eq "$DISTINCT" "$(h_sql "$C" "SELECT count(DISTINCT dedupe_key) FROM messages
				      WHERE direction = 'in'")" \
    "store: $DISTINCT distinct de-duplication keys"
FOLLOWUPS=$(grep -c ': follow-up added ' "$T/worker.log")
h_assert_eq "$((DISTINCT - FOLLOWUPS))" "$(h_tickets_count "$C")" \
    "store: one ticket per distinct mail that does not answer another ($DISTINCT - $FOLLOWUPS follow-ups)"

# Per file: stored under its queue id, or a logged duplicate of its class's first file.
h_sql "$C" "SELECT queue_id FROM messages WHERE direction = 'in'" | sort > "$T/stored-qids"
bad=0
while IFS=$'\t' read -r f first; do
    qid=$(awk -F'\t' -v f="$f" '$1 == f { print $2 }' "$T/qids")
    why=
    if [ -z "$qid" ]; then
	why="not accepted: $(awk -F'\t' -v f="$f" '$1 == f { print $2 " " $3 }' "$T/sent.tsv")"
    elif grep -qx "$qid" "$T/stored-qids"; then
	[ "$f" = "$first" ] || why="stored although it repeats ${first#"$CORPUS"/}"
    elif [ "$f" = "$first" ]; then
	why="no ticket"
    elif ! grep -q " $qid: mailbox support: duplicate of a message already on ticket" "$T/worker.log"; then
	why="repeats ${first#"$CORPUS"/} but was not logged as a duplicate"
    fi
    if [ -n "$why" ]; then
	bad=$((bad + 1))
	echo "#   ${f#"$CORPUS"/}: $why"
	[ -n "$qid" ] && grep -h " $qid: " "$T/milter.log" "$T/worker.log" | tail -n 3 | sed 's/^/#     /'
    fi
done < "$T/classes"
h_assert_eq 0 "$bad" "every file of the corpus became a ticket (or a logged duplicate)"

# The text-less ones among them (only attachments, encrypted, empty) are tickets too.
h_note "messages stored without text: $(h_sql "$C" "SELECT count(*) FROM messages
						   WHERE direction = 'in' AND coalesce(body, '') = ''")"

h_worker_stop
h_milter_stop
