#!/bin/bash
# it_redis_sentinel.sh: the milter and the worker find the Redis primary through Redis Sentinel
# and follow two failovers while mail flows through Postfix; nothing accepted is lost, nothing
# doubled, the milter tempfails only while a failover is under way.
#
# A private primary r1, its replicas r2 and r3 (AOF, fsync always; r3 with replica-priority 0,
# never elected) and three sentinels (a password on the sentinels, given to the daemons in a
# file). The daemons' [redis] server names no Redis at all: only the sentinels lead them to the
# primary. wait_replicas = 1: the milter accepts a mail only once WAIT says a replica has its
# entry, so a failover cannot lose an accepted mail. Why a second replica: Sentinel points the
# other replicas at the new primary as part of the failover, but turns the deposed primary into a
# replica only seconds later (10 s and more); with one replica, WAIT 1 would fail, and the milter
# answer 451, for all that time (docs/design.md, "Highly available Redis").
#
#   swaks -> FRONT postfix (relays) -> BACK postfix (+ intake-milter) -> Maildir
#   intake-worker reads the stream on the same primary.
#
# At least 300 mails, one after the other; meanwhile a coordinated SENTINEL FAILOVER (r1 -> r2), a
# SIGKILL of the then-primary r2 (the sentinels elect r1; r2 is started again as r1's replica).
# The front keeps what the milter deferred; its queue is flushed at the end: a ticket per mail (and
# 5 sent after both failovers, accepted at once), none twice, the stored Message-IDs exactly those
# delivered. Each failover's 451 window is measured from the milter's log (time stamps): its last
# 451 within WINDOW_MAX seconds of the failover's start.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/redis_nodes.sh"
h_init it_redis_sentinel

N=300
WINDOW_MAX=30			# s: down-after 1 s + election + the old primary's restart, generous
C=$T/intake.conf
PASSWORD=sentinel-$$-secret

H_WORKER_TRAP=1
trap '_sn_exit' EXIT
SRC=
_sn_exit() {
    local rc=$?
    [ -n "$SRC" ] && { touch "$T/flow.stop"; kill "$SRC" 2>/dev/null; wait "$SRC" 2>/dev/null; }
    h_worker_cleanup "$rc"
    rn_stop_all
    _h_worker_rc "$rc"
    h_cleanup
}

# master_node: the node the sentinels name now; h_redis_cli (h_xlen, h_pending_count) follows it.
master_node() {
    rn_node_of "$(rn_master_port)"
}
follow_master() {
    H_REDIS_SOCK=$T/$(master_node)/redis.sock
}
# settled MASTER REPLICA: every sentinel names MASTER and counts both replicas, REPLICA's link
# is up and so is r3's: a failover is over.
settled() {
    rn_sentinels_agree "${RN_PORT[$1]}" && rn_in_sync "$1" "$2" && rn_in_sync "$1" r3 &&
	[ "$(rn_scli 1 SENTINEL master "$RN_MASTER" 2>/dev/null |
	     awk 'p { print; exit } $0 == "num-slaves" { p = 1 }')" -ge 2 ]
}
# epoch_ms: now, in ms (the milter's log time stamps are UTC with ms).
epoch_ms() {
    date +%s%3N
}
# last_451_ms: the time stamp (ms) of the milter's last 451, 0 if none.
last_451_ms() {
    local ts
    ts=$(grep 'deferred (451' "$T/milter.log" | tail -n1 | cut -d' ' -f1)
    [ -n "$ts" ] && date -d "$ts" +%s%3N || echo 0
}
# send_window LABEL: 5 mails (swaks: Message-IDs of their own) that must all be accepted at once
# (no 451 from the milter)
send_window() {
    local before base i
    before=$(grep -c 'deferred (451' "$T/milter.log")
    base=$(h_maildir_count back support@example.test)
    for i in 1 2 3 4 5; do
	h_mail "$F" sender@client.test support@example.test "$1 $i" "mail $i $1" > /dev/null
    done
    h_wait_for "[ \$(h_maildir_count back support@example.test) -ge $((base + 5)) ]" 60 \
	"$1: 5 more mails delivered by the back"
    h_assert_eq "$before" "$(grep -c 'deferred (451' "$T/milter.log")" "$1: no 451 for them"
}

P1=$(h_free_port)
P2=$(h_free_port)
P3=$(h_free_port)
rn_node_start r1 "$P1"
rn_node_start r2 "$P2" --replicaof 127.0.0.1 "$P1"
rn_node_start r3 "$P3" --replicaof 127.0.0.1 "$P1" --replica-priority 0
h_wait_for "rn_in_sync r1 r2 && rn_in_sync r1 r3" 30 "r2 and r3 replicate r1"
rn_sentinels_start 3 "$P1" "$PASSWORD"
h_wait_for "settled r1 r2" 60 "three sentinels: r1 the master, r2 and r3 its replicas, each other known"
follow_master
printf '%s\n' "$PASSWORD" > "$T/sentinel.pw"
chmod 600 "$T/sentinel.pw"

S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
# [redis] server stays the harness's unix:$T/redis/redis.sock, where no Redis runs.
h_worker_conf "$C" "$S" "[redis]" "sentinels = $RN_SENTINELS" "master_name = $RN_MASTER" \
    "sentinel_password_file = sentinel.pw" "sentinel_timeout = 300ms" "wait_replicas = 1" \
    "wait_timeout = 500ms" "[worker]" "max_deliveries = 1000"
h_milter_start "$C" || exit 1
h_worker_start "$C" || exit 1
B=$(h_free_port)
F=$(h_free_port)
h_postfix_start back "$B" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_postfix_front front "$F" "$B" || exit 1

h_check "grep -q 'starting: redis sentinels $RN_SENTINELS: master $RN_MASTER is 127.0.0.1:$P1' '$T/milter.log'" \
    "milter: the startup log names the sentinels and the master found"
h_check "_h_worker_log | grep -q 'starting: redis sentinels $RN_SENTINELS: master $RN_MASTER is 127.0.0.1:$P1'" \
    "worker: the startup log names the sentinels and the master found"
h_check "h_ctl '$C' status | grep -q '^stream .*(sentinels $RN_SENTINELS master $RN_MASTER)\$'" \
    "intakectl status names the sentinels it asked, not the unused [redis] server"

# Mail flows, one mail after the other, until both failovers are over and at least N were sent:
# the failovers fall into the flow whatever the machine's speed. Each mail has a Message-ID of its
# own (smtp-source's repeat under load).
flow() {
    local i=0
    # Bounded: a test that died early must not leave it sending.
    while { [ ! -e "$T/flow.stop" ] || [ "$i" -lt "$N" ]; } && [ "$i" -lt $((10 * N)) ]; do
	i=$((i + 1))
	swaks --server "127.0.0.1:$F" --silent 2 --from sender@client.test --to support@example.test \
	    --header "From: sender@client.test" --header "Subject: flow $i" \
	    --header "Message-Id: <flow-$i.$$@client.test>" --body "mail $i of the flow" \
	    >> "$T/flow.log" 2>&1 || echo "$i" >> "$T/flow.refused"
	echo "$i" > "$T/flow.count"
    done
}
flow &
SRC=$!

# 1: a coordinated failover, r1 -> r2.
h_wait_for "[ \"\$(h_tickets_count '$C')\" -ge 10 ]" 60 "mail flows: 10 tickets before the first failover"
h_check "_h_alive $SRC" "failover 1 while mail flows"
t1=$(epoch_ms)
h_assert_eq OK "$(rn_failover)" "SENTINEL FAILOVER accepted"
h_wait_for "settled r2 r1" 180 "failover 1: r2 the master, r1 its replica"
follow_master
h_wait_for "grep -q 'master $RN_MASTER is now 127.0.0.1:$P2' '$T/milter.log'" 30 \
    "milter: follows the master to r2"
h_wait_for "_h_worker_log | grep -q 'master $RN_MASTER is now 127.0.0.1:$P2'" 30 \
    "worker: follows the master to r2"

# 2: the primary r2 crashes (SIGKILL); the sentinels elect r1; r2 comes back as its replica.
had=$(h_tickets_count "$C")
h_wait_for "[ \"\$(h_tickets_count '$C')\" -ge $((had + 5)) ]" 60 "mail flows through r2"
h_check "_h_alive $SRC" "failover 2 while mail flows"
t2=$(epoch_ms)
w1=$(( $(last_451_ms) - t1 ))
rn_node_kill r2
h_wait_for "rn_sentinels_agree $P1" 60 "failover 2: the sentinels elect r1"
# As its operator would: started again as a replica of the master of the moment.
rn_node_restart r2 --replicaof 127.0.0.1 "$P1"
# A bound, not a wait: r2's full resync from r1 (the streams, and Redis's own fork and load) took
# over 60 s once on a machine running two test suites at once.
h_wait_for "settled r1 r2" 180 "failover 2: r2 back, as r1's replica"
follow_master
h_wait_for "grep -q 'master $RN_MASTER is now 127.0.0.1:$P1' '$T/milter.log'" 30 \
    "milter: follows the master back to r1"
h_wait_for "_h_worker_log | grep -q 'master $RN_MASTER is now 127.0.0.1:$P1'" 30 \
    "worker: follows the master back to r1"

touch "$T/flow.stop"
wait "$SRC"
N=$(cat "$T/flow.count")
h_check "[ ! -s '$T/flow.refused' ]" "front: all $N mails of the flow accepted"
w2=$(( $(last_451_ms) - t2 ))
send_window "after both failovers"
N=$((N + 5))

if h_postfix_flush_until_empty front 120 2; then
    h_pass "front: queue empty after flushing"
else
    h_fail "front: still $(h_postfix_queue_count front) queued"
fi
h_wait_for "h_worker_drained '$C' $N" 180 "$N tickets, stream on r1 empty, nothing pending"
h_postfix_wait_empty back 60 || h_fail "back: queue did not drain"

deferred=$(h_maillog_count front 'status=deferred')
h_note "milter 451s: $(grep -c 'deferred (451' "$T/milter.log") ($(grep -c 'replicas acknowledged' \
    "$T/milter.log") for WAIT); front deferred $deferred times; 451 windows ${w1} ms and ${w2} ms"
h_check "[ $w1 -le $((WINDOW_MAX * 1000)) ]" "failover 1: the last 451 within ${WINDOW_MAX}s (${w1} ms)"
h_check "[ $w2 -le $((WINDOW_MAX * 1000)) ]" "failover 2: the last 451 within ${WINDOW_MAX}s (${w2} ms)"
h_check "[ $deferred -lt $N ]" "front: fewer deferrals ($deferred) than mails"

h_maildir_files back support@example.test | xargs -r grep -h -i -m1 '^Message-Id:' |
    sed -E 's/^[^:]*:[ \t]*<?//; s/>?[ \t\r]*$//' | sort > "$T/mids.sent"
h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'in'" | sort > "$T/mids.stored"
h_assert_eq "$N" "$(sort -u "$T/mids.sent" | wc -l)" "back: $N distinct mails delivered to support@"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(*) FROM messages WHERE direction = 'in'")" \
    "store: $N incoming messages (none twice)"
h_check 'cmp -s "$T/mids.sent" "$T/mids.stored"' "store: the customer Message-IDs are exactly those delivered"
h_assert_eq 0 "$(h_maillog_count front 'status=bounced')" "front: nothing bounced"
h_assert_eq 0 "$(h_xlen intake:dead)" "no dead letters"
h_check "! grep -q -- '$PASSWORD' '$T/milter.log' && ! _h_worker_log | grep -q -- '$PASSWORD'" \
    "the sentinel password is in no log"

h_worker_stop
h_milter_stop
