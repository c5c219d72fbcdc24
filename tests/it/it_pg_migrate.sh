#!/bin/bash
# it_pg_migrate.sh: intakectl migrate-store copies an SQLite store into PostgreSQL, survives a
# SIGKILL in the middle, copies nothing twice, and a worker on PostgreSQL carries on.
#
# A worker on SQLite stores the person-written mails of the corpus (labels.tsv "normal"), a mail
# with two attachments and one of 900 KB of distinct words (only its first 256 KB go into its
# vector), all sent through Postfix + intake-milter -> Redis, acknowledges them (smtp-sink) and
# threads the customer's answer to one acknowledgement. The worker stops;
# migrate-store --batch 2 runs while a session of the test holds a SHARE lock on attachments, so
# that the run blocks inside its first attachments transaction (tickets and messages committed,
# attachments not): the test sees it wait (pg_locks) and SIGKILLs it there. The rerun completes
# and verifies its counts; a third run copies no row. Every ticket's intakectl --json view (ids
# aside: they are each database's own) is the same on both backends, every attachment's bytes
# (intakectl attachment) have the same SHA-256. The records written into the source directly
# (kept-apart mail, FAQ entries and suggestions, one of a removed entry, a project, a task, notes,
# time entries, events, a sink's id of a ticket) are the same on PostgreSQL, references followed,
# and the next event id comes after the migrated ones. Then a worker on PostgreSQL: the customer's answer
# to another migrated ticket's acknowledgement threads into it, a new mail gets a number after
# every migrated one; and now migrate-store refuses the target (a ticket not from this source)
# unless --merge.
#
# Skipped (exit 77) without the corpus.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/pg.sh"

CORPUS=${INTAKE_CORPUS:-$H_ROOT/../shared/corpus}
if [ ! -f "$CORPUS/labels.tsv" ]; then
    echo "skipped: no corpus at $CORPUS (set INTAKE_CORPUS)"
    exit 77
fi
h_init it_pg_migrate

C=$T/intake.conf		# the worker on SQLite, the source
PGC=$T/intake-pg.conf		# the same with [store] backend = postgresql
h_pg_start || exit 1
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
cp "$C" "$PGC"
h_pg_conf "$PGC"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# The mails: the corpus's person-written ones, and one with two attachments.
mapfile -t FILES < <(awk -F'\t' '$2 == "normal" { print $1 }' "$CORPUS/labels.tsv" | sort |
			 head -n 24 | sed "s|^|$CORPUS/|")
head -c 40000 /dev/urandom > "$T/data.bin"
printf 'Zeile eins: Grüße\nline two\n' > "$T/notes.txt"
{
    printf 'From: Alice <alice@client.test>\nTo: support@example.test\nSubject: invoice attached\n'
    printf 'Message-ID: <migrate-attach-1@client.test>\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nSee attached.\n'
    printf -- '--b1\nContent-Type: application/octet-stream; name="data.bin"\n'
    printf 'Content-Disposition: attachment; filename="data.bin"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/data.bin"
    printf -- '--b1\nContent-Type: text/plain; charset=utf-8; name="notes.txt"\n'
    printf 'Content-Disposition: attachment; filename="notes.txt"\nContent-Transfer-Encoding: base64\n\n'
    base64 -w 76 "$T/notes.txt"
    printf -- '--b1--\n'
} > "$T/attach.eml"
h_send_files "$P" sender@client.test support@example.test "${FILES[@]}" > "$T/sent.tsv"
# The customers who answer below: envelope sender and From alike (acknowledgements go to the
# envelope sender, and only a party, the From, may write into a ticket).
h_send_files "$P" alice@client.test support@example.test "$T/attach.eml" >> "$T/sent.tsv"
# A text whose whole vector would be over PostgreSQL's limit (pg.sh): copied with its vector cut.
h_pg_long_mail "$T/long.eml" migrate-long@client.test
h_send_files "$P" loggy@client.test support@example.test "$T/long.eml" >> "$T/sent.tsv"
h_mail "$P" bob@client.test support@example.test "printer on fire" "It smokes."
ACCEPTED=$(( $(grep -c $'\t250\t' "$T/sent.tsv") + 1 ))
[ "$ACCEPTED" -ge 10 ] || h_die "only $ACCEPTED mails accepted: $(cat "$T/sent.tsv")"

sq() { h_sql "$C" "$1" 2>/dev/null || echo -1; }
settled() {
    [ "$(h_xlen 2>/dev/null)" = 0 ] && [ "$(h_pending_count 2>/dev/null)" = 0 ] &&
	[ "$(sq "SELECT count(*) FROM outbox WHERE state IN ('owed', 'sending')")" = 0 ]
}
h_wait_for settled 240 "SQLite worker: $ACCEPTED accepted mails processed, acknowledgements sent"

# Alice answers her acknowledgement: a follow-up.
h_sink_acks > "$T/acks.tsv"
ack_of() { awk -F'\t' -v w="$1" '$7 ~ w { print $'"$2"'; exit }' "$T/acks.tsv"; }
ACK_MID=$(ack_of alice@client.test 2)
NUM1=$(ack_of alice@client.test 6)
WHO1=alice@client.test
[ -n "$ACK_MID" ] && [ "$ACK_MID" != - ] && [ -n "$NUM1" ] || h_die "no acknowledgement to alice"
h_mail "$P" "$WHO1" support@example.test "more on this" "The details you asked for." \
    --header "In-Reply-To: <$ACK_MID>"
h_wait_for "settled && [ \"\$(h_ticket_in_count '$C' '$NUM1')\" = 2 ]" 60 \
    "SQLite worker: the answer to the acknowledgement is a follow-up on $NUM1"
h_worker_stop

# What intakectl and the actions make besides tickets, written into the source directly (their
# making is other tests' business): FAQ entries (one removed again, still named by a ticket's
# suggestion), a project with a task, notes on both, time entries on a ticket and on the task,
# events to a sink (one sent, one owed, the event counter at 42) and a sink's id of a ticket.
# A day ago: a fixed date became 30 days old on 2026-12-03, and the PostgreSQL worker's
# maintenance (autogen_keep_days, events_keep_days) deleted the kept-apart mail and the sent
# event before run 5's verify.
TS=$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)
h_sql "$C" "INSERT INTO faq(collection, title, url, body, language, updated_at) VALUES
	      ('', 'Old entry', NULL, 'Removed since.', NULL, '$TS'),
	      ('', 'Resetting your password', 'https://help.example/1', 'Use the link.', 'en', '$TS');
	    INSERT INTO ticket_faq(ticket_id, rank, faq_id, title, url, score)
	      SELECT t.id, 1, (SELECT id FROM faq WHERE title = 'Resetting your password'),
		     'Resetting your password', 'https://help.example/1', 2.5 FROM tickets t
	      WHERE t.number = '$NUM1';
	    INSERT INTO ticket_faq(ticket_id, rank, faq_id, title, url, score)
	      SELECT t.id, 2, (SELECT id FROM faq WHERE title = 'Old entry'), 'Old entry', NULL, 1.75
	      FROM tickets t WHERE t.number = '$NUM1';
	    DELETE FROM faq WHERE title = 'Old entry';
	    INSERT INTO projects(number, title, status, created_at) VALUES('PRJ-7', 'Move', 'open', '$TS');
	    INSERT INTO tasks(project_id, number, title, status, created_at)
	      SELECT id, 'TSK-9', 'Copy the store', 'open', '$TS' FROM projects WHERE number = 'PRJ-7';
	    INSERT INTO notes(project_id, task_id, dedupe_key, author, subject, body, message_id, created_at)
	      SELECT id, NULL, 'note-p', 'alice@client.test', 'plan', 'First the tickets.', NULL, '$TS'
	      FROM projects WHERE number = 'PRJ-7';
	    INSERT INTO notes(project_id, task_id, dedupe_key, author, subject, body, message_id, created_at)
	      SELECT NULL, id, 'note-t', 'bob@client.test', NULL, 'Then the rest.', '<n@client.test>', '$TS'
	      FROM tasks WHERE number = 'TSK-9';
	    INSERT INTO time_entries(ticket_id, task_id, minutes, summary, author, dedupe_key, message_id, created_at)
	      SELECT id, NULL, 25, 'Called the customer', 'alice@client.test', 'te-1', NULL, '$TS'
	      FROM tickets WHERE number = '$NUM1';
	    INSERT INTO time_entries(ticket_id, task_id, minutes, summary, author, dedupe_key, message_id, created_at)
	      SELECT NULL, id, 90, 'Copied', 'bob@client.test', 'te-2', NULL, '$TS'
	      FROM tasks WHERE number = 'TSK-9';
	    INSERT INTO events(event_id, sink, type, ticket_id, number, mailbox, message_row, payload,
			       state, attempts, next_try, created_at, sent_at)
	      SELECT 41, 'hook', 'ticket.created', t.id, t.number, t.mailbox,
		     (SELECT min(id) FROM messages WHERE ticket_id = t.id), '{\"n\":1}', 'sent', 1, 0,
		     '$TS', '$TS' FROM tickets t WHERE t.number = '$NUM1';
	    INSERT INTO events(event_id, sink, type, payload, state, created_at)
	      VALUES(42, 'hook', 'test', '{}', 'pending', '$TS');
	    UPDATE counters SET value = 42 WHERE name = 'event';
	    INSERT INTO sink_refs(sink, ticket_id, ref) SELECT 'rt', id, '7701' FROM tickets
	      WHERE number = '$NUM1';
	    INSERT INTO autogen(dedupe_key, mailbox, kind, reason, queue_id, sender, subject, date,
				envelope, raw, imported_ticket, created_at)
	      VALUES('kept-1', 'support', 'bounce', 'Auto-Submitted', '4QXk', 'MAILER-DAEMON',
		     'Undelivered', '$TS', '{}', X'0d0a00ff', NULL, '$TS');" ||
    h_die "cannot write the other records into the source"

NT=$(sq "SELECT count(*) FROM tickets")
NM=$(sq "SELECT count(*) FROM messages")
NA=$(sq "SELECT count(*) FROM attachments")
NO=$(sq "SELECT count(*) FROM outbox")
h_note "source: $NT tickets, $NM messages, $NA attachments, $NO outbox rows"
[ "$NT" -ge 5 ] && [ "$NA" -ge 2 ] && [ "$NO" -ge 5 ] || h_die "too little in the source to migrate"

# Make the target's schema (opening the store applies it).
h_ctl "$PGC" tickets > /dev/null || h_die "intakectl on PostgreSQL failed"
migrate() { h_ctl "$C" migrate-store --to "$H_PG_CONNINFO" --password-file "$T/pg.password" "$@"; }

# Run 1: blocked inside its attachments transaction by our SHARE lock, and SIGKILLed there.
coproc LOCKER { _h_pg_as_postgres "$H_PG_BIN/psql" -X -q -At -h "$H_PG_DIR" -d intake 2>&1; }
echo "BEGIN; LOCK TABLE attachments IN SHARE MODE; SELECT 'locked';" >&"${LOCKER[1]}"
read -r -t 30 line <&"${LOCKER[0]}"
h_assert_eq locked "$line" "a session holds a SHARE lock on attachments"
# intakectl itself in the background (not a subshell around it): the SIGKILL must hit it.
"$INTAKE_BIN/intakectl" -c "$C" migrate-store --to "$H_PG_CONNINFO" \
    --password-file "$T/pg.password" --batch 2 > "$T/migrate1.out" 2>&1 &
MPID=$!
h_wait_for "[ \"\$(h_pg_sql \"SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			     WHERE c.relname = 'attachments' AND NOT l.granted\")\" = 1 ]" 120 \
    "run 1: waits for the lock, inside its attachments transaction"
kill -KILL "$MPID"
wait "$MPID"
h_assert_eq 137 "$?" "run 1: killed by SIGKILL"
echo "ROLLBACK;" >&"${LOCKER[1]}"
exec {LOCKER[1]}>&-
wait "$LOCKER_PID" 2>/dev/null
h_assert_eq "$NT $NM 0" \
    "$(h_pg_sql "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages),
			(SELECT count(*) FROM attachments)" | tr '|' ' ')" \
    "run 1: tickets and messages committed, no attachment (its transaction died with it)"

# Run 2 completes; run 3 copies nothing.
if migrate --batch 2 > "$T/migrate2.out" 2>&1; then
    h_pass "run 2: complete"
else
    h_fail "run 2 failed: $(cat "$T/migrate2.out")"
fi
h_check "grep -q '^verify tickets *sqlite $NT postgresql $NT\$' '$T/migrate2.out'" \
    "run 2: verifies $NT tickets on both sides"
h_check "grep -q '^verify attachments *sqlite $NA postgresql $NA\$' '$T/migrate2.out'" \
    "run 2: verifies $NA attachments on both sides"
h_check "grep -q 'copied attachments *$NA rows' '$T/migrate2.out' &&
	 grep -q 'copied tickets *0 rows' '$T/migrate2.out'" \
    "run 2: copies the $NA attachments, no ticket again"
migrate > "$T/migrate3.out" 2>&1 || h_fail "run 3 failed: $(cat "$T/migrate3.out")"
h_assert_eq 0 "$(grep '^copied' "$T/migrate3.out" | awk '{ s += $3 } END { print s + 0 }')" \
    "run 3: copies no row"
h_assert_eq "$NT $NM $NA $NO" \
    "$(h_pg_sql "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages),
			(SELECT count(*) FROM attachments), (SELECT count(*) FROM outbox)" | tr '|' ' ')" \
    "PostgreSQL: $NT tickets, $NM messages, $NA attachments, $NO outbox rows, none twice"
h_assert_eq "t f t" "$(h_pg_long_index migrate-long@client.test)" \
    "the text of 900 KB of distinct words: copied, its vector of the first 256 KB, the text whole"

# The other records, as each backend holds them (ids aside; references by number or title).
others_sq="SELECT 'project', number, title, status FROM projects
	   UNION ALL SELECT 'task', t.number, p.number, t.title FROM tasks t JOIN projects p ON p.id = t.project_id
	   UNION ALL SELECT 'note', n.dedupe_key, coalesce(p.number, t.number), n.body FROM notes n
	     LEFT JOIN projects p ON p.id = n.project_id LEFT JOIN tasks t ON t.id = n.task_id
	   UNION ALL SELECT 'time', e.dedupe_key, coalesce(k.number, t.number), CAST(e.minutes AS TEXT) || ' ' || e.summary
	     FROM time_entries e LEFT JOIN tickets k ON k.id = e.ticket_id LEFT JOIN tasks t ON t.id = e.task_id
	   UNION ALL SELECT 'faq', f.title, coalesce(f.url, ''), coalesce(f.language, '') FROM faq f
	   UNION ALL SELECT 'suggested', k.number, CAST(s.rank AS TEXT), coalesce(f.title, 'none')
	     FROM ticket_faq s JOIN tickets k ON k.id = s.ticket_id LEFT JOIN faq f ON f.id = s.faq_id
	   UNION ALL SELECT 'event', CAST(e.event_id AS TEXT), coalesce(e.number, '') || ' ' || e.state,
	     coalesce(m.message_id, '')
	     FROM events e LEFT JOIN messages m ON m.id = e.message_row AND e.message_row <> 0
	   UNION ALL SELECT 'ref', r.sink, k.number, r.ref FROM sink_refs r JOIN tickets k ON k.id = r.ticket_id
	   UNION ALL SELECT 'kept', dedupe_key, kind || ' ' || sender, CAST(length(raw) AS TEXT) || ' bytes'
	     FROM autogen"
h_sql "$C" "$others_sq" | LC_ALL=C sort > "$T/others-sq.txt"
h_pg_sql "$others_sq" | LC_ALL=C sort > "$T/others-pg.txt"
h_check "grep -q '^time|te-1|$NUM1|25 Called the customer\$' '$T/others-sq.txt' &&
	 grep -q '^suggested|$NUM1|2|none\$' '$T/others-sq.txt' && grep -q '^kept|kept-1|bounce MAILER-DAEMON|4 bytes\$' '$T/others-sq.txt' &&
	 [ \$(wc -l < '$T/others-sq.txt') = 13 ]" \
    "source: the 13 other records as written"
if diff "$T/others-sq.txt" "$T/others-pg.txt" > "$T/others.diff"; then
    h_pass "kept-apart mail, projects, tasks, notes, time entries, FAQ entries and suggestions, events, sink ids: the same on PostgreSQL"
else
    h_fail "the other records differ: $(head -c 800 "$T/others.diff")"
fi
for tbl in autogen faq projects tasks notes time_entries events sink_refs; do
    h_check "grep -Eq '^verify $tbl +sqlite ([0-9]+) postgresql \1\$' '$T/migrate2.out'" "run 2: verifies $tbl"
done
h_check "[ \"\$(h_pg_sql \"SELECT nextval('event_ids')\")\" -gt 42 ]" \
    "PostgreSQL: the next event id comes after the migrated ones (a sink never sees one twice)"

# Every ticket the same on both backends, but for the ids (a FAQ suggestion's entry id too:
# its entry has PostgreSQL's id, checked above by title).
view() { h_ctl "$1" --json ticket "$2" | jq -S 'walk(if type == "object" then del(.id, .faq_id) else . end)'; }
same=0
mapfile -t NUMS < <(h_sql "$C" "SELECT number FROM tickets ORDER BY number")
for num in "${NUMS[@]}"; do
    if diff <(view "$C" "$num") <(view "$PGC" "$num") > "$T/diff-$num"; then
	same=$((same + 1))
    else
	h_note "$num differs: $(head -c 600 "$T/diff-$num")"
    fi
done
h_assert_eq "$NT" "$same" "intakectl ticket --json: all $NT tickets the same on both backends"

# Every attachment's bytes.
same=0
h_sql "$C" "SELECT t.number, a.id FROM attachments a JOIN messages m ON m.id = a.message_id
	    JOIN tickets t ON t.id = m.ticket_id ORDER BY a.id" | tr '|' ' ' > "$T/att.txt"
while read -r num id; do
    pgid=$(h_pg_sql "SELECT a.id FROM attachments a JOIN intake_migrated x ON x.dst_id = a.id
		     AND x.kind = 'attachments' WHERE x.src_id = $id")
    a=$(h_ctl "$C" attachment "$num" "$id" | sha256sum)
    b=$(h_ctl "$PGC" attachment "$num" "$pgid" | sha256sum)
    [ "$a" = "$b" ] && [ "${#a}" -gt 64 ] && same=$((same + 1))
done < "$T/att.txt"
h_assert_eq "$NA" "$same" "intakectl attachment: all $NA attachments byte-identical (SHA-256)"
h_assert_eq "$(sha256sum < "$T/data.bin")" \
    "$(h_ctl "$PGC" attachment "$(h_pg_sql "SELECT t.number FROM tickets t JOIN messages m
		ON m.ticket_id = t.id JOIN attachments a ON a.message_id = m.id
		WHERE a.filename = 'data.bin'")" \
	"$(h_pg_sql "SELECT id FROM attachments WHERE filename = 'data.bin'")" | sha256sum)" \
    "intakectl attachment on PostgreSQL: data.bin is the file that was attached"

# A worker on PostgreSQL carries on.
MAXSEQ=$(h_pg_sql "SELECT max(substring(number FROM '([0-9]+)\$')::bigint) FROM tickets")
ACK2_MID=$(ack_of bob@client.test 2)
NUM2=$(ack_of bob@client.test 6)
WHO2=bob@client.test
[ -n "$ACK2_MID" ] && [ "$ACK2_MID" != - ] && [ -n "$NUM2" ] || h_die "no acknowledgement to bob"
h_worker_start "$PGC" || exit 1
pgs() { h_pg_sql "$1" 2>/dev/null || echo -1; }
h_mail "$P" "$WHO2" support@example.test "one more thing" "Also this." \
    --header "In-Reply-To: <$ACK2_MID>"
h_mail "$P" newcomer@client.test support@example.test "a new problem" "Nothing works."
h_wait_for "[ \"\$(h_xlen)\" = 0 ] && [ \"\$(h_pending_count)\" = 0 ] &&
	    [ \"\$(pgs 'SELECT count(*) FROM tickets')\" = $((NT + 1)) ]" 60 \
    "PostgreSQL worker: one new ticket, the answer made none"
h_assert_eq "one more thing" \
    "$(h_ctl "$PGC" --json ticket "$NUM2" | jq -r '[.messages[] | select(.direction == "in")][-1].subject')" \
    "PostgreSQL worker: the answer to $NUM2's acknowledgement threads into $NUM2"
NEWSEQ=$(pgs "SELECT substring(number FROM '([0-9]+)\$')::bigint FROM tickets
	      WHERE customer_address = 'newcomer@client.test'")
h_check "[ '$NEWSEQ' -gt '$MAXSEQ' ]" \
    "PostgreSQL worker: the new ticket's number ($NEWSEQ) comes after the migrated ones ($MAXSEQ)"
h_worker_stop

# Now the target holds a ticket that did not come from the source.
if migrate > "$T/migrate4.out" 2>&1; then
    h_fail "run 4: migrate-store ran on a target with a ticket not from this source"
else
    h_check "grep -q 'holds 1 tickets that did not come from' '$T/migrate4.out'" \
	"run 4: refused (1 ticket not from this source)"
fi
counts() { pgs 'SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages),
		    (SELECT count(*) FROM outbox)' | tr '|' ' '; }
before=$(counts)
migrate --merge > "$T/migrate5.out" 2>&1 || h_fail "run 5 (--merge) failed: $(cat "$T/migrate5.out")"
h_assert_eq "$before" "$(counts)" \
    "run 5 (--merge): completes, copies nothing twice (tickets, messages, outbox: $before)"

h_milter_stop
