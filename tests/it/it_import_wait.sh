#!/bin/bash
# it_import_wait.sh: with [redis] wait_replicas, intakectl import counts a mail as queued only
# once a replica has its entry, as the milter accepts a mail only then: on a primary alone a
# failover could lose it, and the backfill would report a mail that never becomes a ticket.
#   1. A primary and its replica (TCP, AOF fsync always): every mail queued, WAIT says 1, exit 0.
#   2. The replica killed: the import says how many replicas acknowledged and adds the mail
#      again (still running, the mail not counted); the replica back, it finishes: exit 0.
#   3. A worker drains the stream, copies and all: exactly one ticket per mail.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/redis_nodes.sh"
h_init it_import_wait

H_WORKER_TRAP=1
trap '_iw_exit' EXIT
_iw_exit() {
    local rc=$?
    h_worker_cleanup "$rc"
    rn_stop_all
    _h_worker_rc "$rc"
    h_cleanup
}

C=$T/intake.conf
P1=$(h_free_port)
P2=$(h_free_port)
rn_node_start r1 "$P1"
rn_node_start r2 "$P2" --replicaof 127.0.0.1 "$P1"
h_wait_for "rn_in_sync r1 r2" 30 "r2 replicates r1"
H_REDIS_SOCK=$T/r1/redis.sock		# h_xlen and h_redis_cli: the primary
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[redis]" "wait_replicas = 1" "wait_timeout = 300ms"
sed -i "s|^server = .*|server = 127.0.0.1:$P1|" "$C"
h_check "grep -q '^server = 127.0.0.1:$P1\$' '$C' && grep -q '^wait_replicas = 1\$' '$C'" \
    "the configuration names the primary by TCP and wait_replicas = 1"

# mbox FILE TAG N: N written mails in the mbox FILE.
mbox() {
    local i
    : > "$1"
    for i in $(seq 1 "$3"); do
	printf 'From x@example.org Mon Nov 30 10:00:00 2026\n'
	printf 'From: <c%s@example.org>\nSubject: wait %s %s\n' "$i" "$2" "$i"
	printf 'Message-ID: <wait-%s-%s@example.org>\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n\n' \
	    "$2" "$i"
	printf 'Mail %s of %s.\n\n' "$i" "$2"
    done >> "$1"
}

# 1. The replica acknowledges.
mbox "$T/a.mbox" a 5
h_ctl "$C" import --mailbox support "$T/a.mbox" > "$T/a.out" 2> "$T/a.err"
h_assert_eq 0 "$?" "replica up: the import exits 0"
h_check "grep -q 'queued 5' '$T/a.out'" "replica up: 5 mails queued ($(tr '\n' ' ' < "$T/a.out"))"
h_assert_eq 5 "$(h_xlen)" "replica up: 5 entries, none added twice"
h_check "! grep -q 'replicas acknowledged' '$T/a.err'" "replica up: no complaint"

# 2. The replica gone: nothing counts as queued until it is back.
rn_node_kill r2
mbox "$T/b.mbox" b 3
h_ctl "$C" import --mailbox support "$T/b.mbox" > "$T/b.out" 2> "$T/b.err" &
PID=$!
h_wait_for "grep -q 'only 0 of 1 replicas acknowledged' '$T/b.err'" 30 \
    "replica down: the import says only 0 of 1 replicas acknowledged the entry"
h_wait_for "[ \"\$(h_xlen)\" -ge 7 ]" 30 "replica down: the first mail added again (the copies)"
h_check "_h_alive $PID" "replica down: the import keeps trying, not failed"
h_check "grep -q 'adding it again' '$T/b.err'" "replica down: and says it adds the mail again"
rn_node_restart r2 --replicaof 127.0.0.1 "$P1"
h_wait_for "rn_in_sync r1 r2" 30 "r2 back, replicating r1"
wait "$PID"
h_assert_eq 0 "$?" "replica back: the import finishes, exit 0"
h_check "grep -q 'queued 3' '$T/b.out'" "replica back: 3 mails queued ($(tr '\n' ' ' < "$T/b.out"))"
ENTRIES=$(h_xlen)
h_check "[ '$ENTRIES' -gt 8 ]" "the stream holds copies: $ENTRIES entries for 8 mails"

# 3. One ticket per mail.
h_worker_start "$C" || exit 1
h_wait_for "[ \"\$(h_xlen)\" = 0 ] && [ \"\$(h_pending_count)\" = 0 ] &&
	    [ \"\$(h_tickets_count '$C')\" -ge 8 ]" 60 "the worker drains the stream"
h_assert_eq 8 "$(h_tickets_count "$C")" "exactly 8 tickets: the copies made none"
h_assert_eq 8 "$(h_sql "$C" "SELECT count(DISTINCT m.message_id) FROM messages m WHERE direction = 'in'")" \
    "each of the 8 mails once"
h_worker_stop

