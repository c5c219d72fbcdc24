#!/bin/bash
# it_redis_failover.sh: a Redis failover while mail flows; the milter and the worker follow
# without a restart, nothing is lost, nothing doubled.
#
# Two private Redis, r1 (primary) and r2 (its replica), AOF with fsync always. Without Sentinel
# the daemons know one address: [redis] server = unix:$T/redis.sock, a symlink to the primary's
# socket (what a DNS name, a virtual IP or a proxy does in production). A failover is Redis's own
# coordinated FAILOVER (the primary waits for the replica to catch up, becomes its replica, the
# replica becomes primary), then the symlink is moved to the new primary. Until it moves, the old
# primary answers every write with READONLY (and blocked reads with UNBLOCKED) on connections
# that stay open: only dropping them and connecting again (common/redisq.c) reaches the new one.
#
#   smtp-source -> FRONT postfix (relays) -> BACK postfix (+ intake-milter) -> Maildir
#   intake-worker reads the stream on the same address.
#
# 400 mails are sent while r1 -> r2 and then r2 -> r1 fail over; in each window the milter answers
# 451 (READONLY; the front keeps those mails) and the worker's reads fail. The front's queue is
# flushed at the end: 400 tickets, one per mail, the stored Message-IDs exactly those delivered.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_redis_failover

N=400
C=$T/intake.conf
LINK=$T/redis.sock
H_REDIS_SOCK=$LINK		# h_redis_cli, h_xlen, h_pending_count: the current primary

# The two Redis are this test's own: stopped by its EXIT trap, before h_cleanup.
H_WORKER_TRAP=1
trap '_fo_exit' EXIT
_fo_exit() {
    local rc=$?
    h_worker_cleanup "$rc"
    fo_redis_stop r1
    fo_redis_stop r2
    _h_worker_rc "$rc"
    h_cleanup
}

# fo_redis_start NAME PORT [redis-server options...]: a Redis on 127.0.0.1:PORT (replication
# needs TCP) and on $T/NAME/redis.sock.
fo_redis_start() {
    local name=$1 port=$2 dir=$T/$1
    shift 2
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$dir/redis.sock" \
	--unixsocketperm 700 --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" \
	--logfile "$dir/redis.log" --appendonly yes --appendfsync always --save "" "$@" ||
	h_die "redis-server $name did not start"
    h_poll "[ \"\$(redis-cli -s '$dir/redis.sock' ping 2>/dev/null)\" = PONG ]" 20 ||
	h_die "redis $name does not answer PING"
    h_note "redis $name (pid $(cat "$dir/redis.pid")) on port $port and $dir/redis.sock"
}

fo_redis_stop() {
    local dir=$T/$1 pid
    [ -f "$dir/redis.pid" ] || return 0
    pid=$(cat "$dir/redis.pid")
    redis-cli -s "$dir/redis.sock" shutdown nosave > /dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
    _h_wait_gone "$pid" 20 || { kill -KILL "$pid" 2>/dev/null; h_fail "redis $1 did not stop"; }
    rm -f "$dir/redis.pid"
}

rcli() { local name=$1; shift; redis-cli -s "$T/$name/redis.sock" "$@"; }
# role NAME: master or slave
role() { rcli "$1" INFO replication | sed -n 's/^role:\([a-z]*\).*/\1/p'; }
# in_sync NEW OLD: (a condition) NEW is primary, OLD its replica with the link up
in_sync() {
    [ "$(role "$1")" = master ] && [ "$(role "$2")" = slave ] &&
	rcli "$2" INFO replication | grep -q '^master_link_status:up'
}
# point_at NAME: move the configured address to NAME's socket (atomic rename)
point_at() {
    ln -sfn "$T/$1/redis.sock" "$LINK.new" && mv -Tf "$LINK.new" "$LINK"
}
# failover FROM TO PORT_OF_TO: coordinated failover, then the address moves after a while in
# which the daemons can only reach the old primary (now a replica): they must see READONLY.
failover() {
    local from=$1 to=$2 port=$3 ro_milter ro_worker
    ro_milter=$(grep -c 'READONLY' "$T/milter.log")
    ro_worker=$(grep -cE 'READONLY|UNBLOCKED' "$T/worker.log")
    h_assert_eq OK "$(rcli "$from" FAILOVER TO 127.0.0.1 "$port" TIMEOUT 10000)" "FAILOVER $from -> $to accepted"
    h_wait_for "in_sync $to $from" 30 "$to is the primary, $from its replica"
    # Mail in this window reaches the old primary through the unchanged address.
    h_send_source "$F" 5 support@example.test > /dev/null || h_fail "front refused mail in the window"
    h_wait_for "[ \$(grep -c READONLY '$T/milter.log') -gt $ro_milter ]" 30 \
	"milter: READONLY from $from (now a replica): 451"
    h_wait_for "[ \$(grep -cE 'READONLY|UNBLOCKED' '$T/worker.log') -gt $ro_worker ]" 30 \
	"worker: its reads on $from fail (READONLY/UNBLOCKED)"
    point_at "$to"
    h_note "address now points at $to"
}

P1=$(h_free_port)
P2=$(h_free_port)
fo_redis_start r1 "$P1"
fo_redis_start r2 "$P2" --replicaof 127.0.0.1 "$P1"
point_at r1
h_wait_for "in_sync r1 r2" 30 "r2 replicates r1"

S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[redis]" "server = unix:$LINK" "[worker]" "max_deliveries = 1000"
h_milter_start "$C" || exit 1
h_worker_start "$C" || exit 1
B=$(h_free_port)
F=$(h_free_port)
h_postfix_start back "$B" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_postfix_front front "$F" "$B" || exit 1

( h_send_source "$F" "$N" support@example.test ) > "$T/source.out" 2>&1 &
SRC=$!
h_wait_for "[ \"\$(h_tickets_count '$C')\" -ge 20 ]" 60 "mail flows: 20 tickets before the first failover"

failover r1 r2 "$P2"
h_wait_for "[ \"\$(h_tickets_count '$C')\" -ge 40 ] || ! _h_alive $SRC" 60 "mail flows through r2"
h_wait_for "_h_worker_log | grep -q 'answers again'" 30 "worker: reads again (on r2)"
failover r2 r1 "$P1"

wait "$SRC" && h_pass "front: $N mails accepted" || h_fail "smtp-source: $(cat "$T/source.out")"
N=$((N + 10))			# and the 5 of each window
if h_postfix_flush_until_empty front 120 2; then
    h_pass "front: queue empty after flushing"
else
    h_fail "front: still $(h_postfix_queue_count front) queued"
fi
h_wait_for "h_worker_drained '$C' $N" 180 "$N tickets, stream on r1 empty, nothing pending"
h_postfix_wait_empty back 60 || h_fail "back: queue did not drain"
h_note "front deferred (and later delivered) $(h_maillog_count front 'status=deferred') times;" \
    "milter 451s: $(grep -c 'deferred (451' "$T/milter.log"); worker read failures:" \
    "$(grep -c 'queue: ' "$T/worker.log") logged"

h_maildir_files back support@example.test | xargs -r grep -h -i -m1 '^Message-Id:' |
    sed -E 's/^[^:]*:[ \t]*<?//; s/>?[ \t\r]*$//' | sort > "$T/mids.sent"
h_sql "$C" "SELECT message_id FROM messages WHERE direction = 'in'" | sort > "$T/mids.stored"
h_assert_eq "$N" "$(sort -u "$T/mids.sent" | wc -l)" "back: $N distinct mails delivered to support@"
h_assert_eq "$N" "$(h_sql "$C" "SELECT count(*) FROM messages WHERE direction = 'in'")" \
    "store: $N incoming messages (none twice)"
h_check 'cmp -s "$T/mids.sent" "$T/mids.stored"' "store: the customer Message-IDs are exactly those delivered"
h_assert_eq 0 "$(h_maillog_count front 'status=bounced')" "front: nothing bounced"
h_assert_eq 0 "$(h_xlen intake:dead)" "no dead letters"
h_check 'in_sync r1 r2' "r1 primary again, r2 its replica"

h_worker_stop
h_milter_stop
