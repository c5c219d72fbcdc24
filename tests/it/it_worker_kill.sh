#!/bin/bash
# it_worker_kill.sh: "a killed worker loses nothing and doubles nothing". 1000 mails (distinct
# Message-IDs) go through Postfix + intake-milter while intake-worker is killed with SIGKILL at
# random moments and restarted (start, wait a random 0.2-1.5 s, kill; at least 5 kills, and on
# until every mail has been sent), then started a last time. Once everything is ticketed:
#   - exactly 1000 tickets; the customer Message-IDs in the store are exactly the 1000 that
#     Postfix delivered (no mail lost, none stored twice);
#   - one 'ack' outbox row per ticket, each 'sent' or 'unknown' ('unknown' only when a kill hit
#     the SMTP data phase; printed);
#   - no acknowledgement went out twice: no two captured at the sink answer the same mail, and
#     sent <= captured <= sent + unknown;
#   - the stream is empty, nothing pending, no dead letters; the last run stops cleanly on
#     SIGTERM with no sanitizer report (neither did any killed run print one).
# Random delays are the source of randomness here, not synchronisation.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_kill

N=1000
MIN_KILLS=5
MAX_KILLS=200
C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
# Every restart redelivers the entries the killed run held, and redeliveries count toward
# max_deliveries: raised, so that a run of kills cannot send healthy mail to the dead letters.
h_worker_conf "$C" "$S" "[worker]" "max_deliveries = 1000"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1

h_worker_start "$C" || exit 1
start=$SECONDS
( h_send_source "$P" "$N" support@example.test ) > "$T/source.out" 2>&1 &
SRC=$!

kills=0
KILLS_AT=()
while :; do
    ms=$((200 + RANDOM % 1301))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    h_worker_kill || h_die "worker was not running when it was to be killed"
    kills=$((kills + 1))
    KILLS_AT+=("$(h_tickets_count "$C")")
    if [ "$kills" -ge "$MIN_KILLS" ] && ! _h_alive "$SRC"; then
	break
    fi
    [ "$kills" -ge "$MAX_KILLS" ] && h_die "smtp-source still sending after $kills kills"
    h_worker_start "$C" || h_die "worker did not start again after kill $kills"
done
wait "$SRC"
src_rc=$?
[ "$src_rc" = 0 ] && h_pass "smtp-source: $N mails accepted" ||
    h_fail "smtp-source failed (status $src_rc): $(cat "$T/source.out")"
h_note "$kills kills in $((SECONDS - start))s; tickets committed at each kill: ${KILLS_AT[*]}"
h_assert_eq "$MIN_KILLS" "$((kills >= MIN_KILLS ? MIN_KILLS : kills))" "at least $MIN_KILLS kills"

h_worker_start "$C" || exit 1
h_wait_for "h_worker_drained '$C' $N" 300 "after the last start: $N tickets, stream empty, nothing pending"
h_wait_for "[ \"\$(h_sql '$C' \"SELECT count(*) FROM outbox WHERE state IN ('owed', 'sending')\")\" -eq 0 ]" 120 \
    "outbox: nothing owed or being sent any more"
h_note "done $((SECONDS - start))s after the first mail"
h_postfix_wait_empty back 120 || h_fail "back: queue did not drain"

# Nothing lost, nothing doubled: the store's customer Message-IDs are the mails Postfix delivered.
h_assert_eq "$N" "$(h_tickets_count "$C")" "store: exactly $N tickets"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(DISTINCT number) FROM tickets")" "store: $N distinct ticket numbers"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(*) FROM messages WHERE direction = 'in'")" \
    "store: $N incoming messages (none stored twice)"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'in'")" \
    "store: $N distinct customer Message-IDs"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM tickets t WHERE (SELECT count(*) FROM messages m
			    WHERE m.ticket_id = t.id AND m.direction = 'in') <> 1")" \
    "store: every ticket holds exactly one customer mail"
h_maildir_files back support@example.test | xargs -r grep -h -i -m1 '^Message-Id:' |
    sed -E 's/^[^:]*:[ \t]*<?//; s/>?[ \t\r]*$//' | sort > "$T/mids.sent"
h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'in'" | sort > "$T/mids.stored"
h_assert_eq "$N" "$(sort -u "$T/mids.sent" | wc -l)" "postfix: $N mails with distinct Message-IDs delivered to support@"
if [ -s "$T/mids.sent" ] && cmp -s "$T/mids.sent" "$T/mids.stored"; then
    h_pass "store: the customer Message-IDs are exactly those sent"
else
    h_fail "store: Message-IDs differ from those sent: $(diff "$T/mids.sent" "$T/mids.stored" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
fi

# Acknowledgements: at most once each.
sent=$(h_outbox_count "$C" sent)
unknown=$(h_outbox_count "$C" unknown)
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(*) FROM outbox WHERE kind = 'ack'")" "outbox: $N acks (one per ticket)"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM (SELECT ticket_id FROM outbox WHERE kind = 'ack'
			    GROUP BY ticket_id HAVING count(*) > 1)")" "outbox: no ticket with two acks"
h_assert_eq "$N" "$((sent + unknown))" "outbox: every ack 'sent' or 'unknown' ($sent sent, $unknown unknown)"
h_note "acks 'unknown' (a kill in the SMTP data phase): $unknown"
h_sink_acks > "$T/acks.tsv"
captured=$(wc -l < "$T/acks.tsv")
h_note "acks captured at the sink: $captured (outbox: $sent sent + $unknown unknown)"
h_assert_eq "$captured" "$(cut -f3 "$T/acks.tsv" | sort -u | wc -l)" \
    "sink: no two acks answer the same mail (In-Reply-To all distinct)"
h_assert_eq "$captured" "$(cut -f2 "$T/acks.tsv" | sort -u | wc -l)" "sink: no ack captured twice (Message-ID)"
[ "$sent" -le "$captured" ] && [ "$captured" -le $((sent + unknown)) ] &&
    h_pass "sink: sent <= captured <= sent + unknown ($sent <= $captured <= $((sent + unknown)))" ||
    h_fail "sink: captured $captured acks, outbox says $sent sent and $unknown unknown"
h_sql "$C" "SELECT message_id FROM outbox WHERE state = 'sent'" | sort > "$T/outbox.sent"
cut -f2 "$T/acks.tsv" | sort > "$T/sink.mids"
h_assert_eq 0 "$(comm -23 "$T/outbox.sent" "$T/sink.mids" | wc -l)" "sink: every ack the outbox calls 'sent' was captured"
h_assert_eq 0 "$(comm -13 "$T/outbox.sent" "$T/sink.mids" |
		 comm -23 - <(h_sql "$C" "SELECT message_id FROM outbox WHERE state = 'unknown'" | sort) | wc -l)" \
    "sink: every captured ack is in the outbox as 'sent' or 'unknown'"
h_assert_eq 0 "$(cut -f3 "$T/acks.tsv" | sort | comm -23 - "$T/mids.sent" | wc -l)" \
    "sink: every ack answers one of the mails sent"

h_assert_eq 0 "$(h_xlen)" "stream: empty"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"
h_assert_eq 0 "$(h_xlen intake:dead)" "no dead letters"
dups=$(grep -c 'duplicate of a message already on ticket' "$T/worker.log")
h_note "redelivered entries found to be duplicates (all runs): $dups;" \
    "'unknown' recoveries logged: $(grep -c 'were being handed to the relay when the worker stopped' "$T/worker.log")"

h_worker_stop	# the last run: SIGTERM, exit status 0, no sanitizer report
h_milter_stop
