# shellcheck shell=bash
# redis_nodes.sh: a private Redis primary, replicas and Redis Sentinels for a test (sourced after
# harness.sh). Every node listens on a loopback TCP port from h_free_port (replication and
# Sentinel need TCP) and on $T/NAME/redis.sock (for redis-cli); AOF with fsync always.
#
#   rn_node_start NAME PORT [redis-server options...]   a node (add --replicaof 127.0.0.1 P)
#   rn_node_kill NAME                                   SIGKILL (a crash), wait until gone
#   rn_node_restart NAME [options...]                   start it again, same port and data
#   rn_sentinels_start COUNT MASTER_PORT [PASSWORD]     COUNT sentinels (quorum COUNT/2+1)
#   rn_master_port [SENTINEL_INDEX]                     the master's port, as a sentinel says
#   rn_sentinels_agree PORT                             (a condition) every sentinel says PORT
#   rn_node_of PORT                                     the node name listening on PORT
#   rn_role NAME                                        master or slave
#   rn_in_sync MASTER REPLICA                           (a condition) roles right, link up
#   rn_failover                                         SENTINEL FAILOVER on the first sentinel
#   rn_cli NAME ARGS...                                 redis-cli on node NAME
#   rn_scli INDEX ARGS...                               redis-cli on sentinel INDEX (1-based)
#   rn_stop_all                                         sentinels, then nodes (SHUTDOWN, KILL)
#
# RN_MASTER (default intake) is the master's name; RN_SENTINELS the "127.0.0.1:P, ..." list for
# [redis] sentinels. Sentinel's timing is small so that a test's failover takes seconds:
# down-after-milliseconds 1000, failover-timeout 10000. A test calls rn_stop_all from its EXIT
# trap (before h_cleanup, which would otherwise report them as leftovers).

RN_MASTER=${RN_MASTER:-intake}
RN_SENTINELS=
RN_NODES=()
RN_SENTINEL_PORTS=()
RN_PASSWORD=
declare -A RN_PORT

rn_cli() {
    local name=$1
    shift
    redis-cli -s "$T/$name/redis.sock" "$@"
}

rn_scli() {
    local i=$1
    shift
    redis-cli -p "${RN_SENTINEL_PORTS[i - 1]}" ${RN_PASSWORD:+--no-auth-warning -a "$RN_PASSWORD"} "$@"
}

_rn_node_run() {
    local name=$1 port=$2 dir=$T/$1
    shift 2
    redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$dir/redis.sock" \
	--unixsocketperm 700 --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" \
	--logfile "$dir/redis.log" --appendonly yes --appendfsync always --save "" "$@" ||
	h_die "redis-server $name did not start"
    h_poll "[ \"\$(rn_cli '$name' ping 2>/dev/null)\" = PONG ]" 20 ||
	h_die "redis $name does not answer PING"
    h_note "redis $name (pid $(cat "$dir/redis.pid")) on port $port"
}

rn_node_start() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$T/$name"
    RN_NODES+=("$name")
    RN_PORT[$name]=$port
    # Kept for a restart: the options it started with (Sentinel rewrites the role at runtime).
    : > "$T/$name/args"
    [ $# -gt 0 ] && printf '%s\n' "$@" > "$T/$name/args"
    _rn_node_run "$name" "$port" "$@"
}

# rn_node_restart NAME [redis-server options...]: start it again on its port and data, with the
# options it first had minus --replicaof, plus these (e.g. --replicaof 127.0.0.1 PORT of the
# master of the moment: without, a crashed primary comes back as a primary until the sentinels
# turn it into a replica, which takes them ten seconds or more).
rn_node_restart() {
    local name=$1 args=()
    shift
    mapfile -t args < "$T/$name/args"
    [ "${args[0]:-}" = --replicaof ] && args=("${args[@]:3}")
    _rn_node_run "$name" "${RN_PORT[$name]}" "${args[@]}" "$@"
}

rn_node_kill() {
    local name=$1 pid
    pid=$(cat "$T/$name/redis.pid")
    kill -KILL "$pid"
    _h_wait_gone "$pid" 20 || h_die "redis $name (pid $pid) survived SIGKILL"
    rm -f "$T/$name/redis.pid"
    h_note "redis $name (pid $pid) killed"
}

rn_sentinels_start() {
    local count=$1 mport=$2 i port dir quorum
    RN_PASSWORD=${3:-}
    quorum=$((count / 2 + 1))
    for ((i = 1; i <= count; i++)); do
	port=$(h_free_port) || h_die "no port for a sentinel"
	dir=$T/sentinel$i
	mkdir -p "$dir"
	{
	    echo "port $port"
	    echo "bind 127.0.0.1"
	    echo "daemonize yes"
	    echo "pidfile $dir/sentinel.pid"
	    echo "logfile $dir/sentinel.log"
	    echo "dir $dir"
	    echo "sentinel monitor $RN_MASTER 127.0.0.1 $mport $quorum"
	    echo "sentinel down-after-milliseconds $RN_MASTER 1000"
	    echo "sentinel failover-timeout $RN_MASTER 10000"
	    echo "sentinel parallel-syncs $RN_MASTER 1"
	    if [ -n "$RN_PASSWORD" ]; then
		# Clients authenticate; so do the sentinels among themselves.
		echo "requirepass $RN_PASSWORD"
		echo "sentinel sentinel-pass $RN_PASSWORD"
	    fi
	} > "$dir/sentinel.conf"
	redis-server "$dir/sentinel.conf" --sentinel || h_die "sentinel $i did not start"
	RN_SENTINEL_PORTS+=("$port")
	h_poll "[ \"\$(rn_scli $i ping 2>/dev/null)\" = PONG ]" 20 ||
	    h_die "sentinel $i does not answer PING"
	h_note "sentinel $i (pid $(cat "$dir/sentinel.pid")) on port $port"
    done
    RN_SENTINELS=$(printf '127.0.0.1:%s, ' "${RN_SENTINEL_PORTS[@]}")
    RN_SENTINELS=${RN_SENTINELS%, }
}

rn_master_port() {
    rn_scli "${1:-1}" SENTINEL get-master-addr-by-name "$RN_MASTER" 2>/dev/null | sed -n 2p
}

# rn_sentinels_agree PORT: every sentinel names 127.0.0.1:PORT as the master, and knows the
# others (a failover needs the quorum).
rn_sentinels_agree() {
    local i
    for ((i = 1; i <= ${#RN_SENTINEL_PORTS[@]}; i++)); do
	[ "$(rn_master_port "$i")" = "$1" ] || return 1
	[ "$(rn_scli "$i" SENTINEL master "$RN_MASTER" 2>/dev/null |
	     awk 'p { print; exit } $0 == "num-other-sentinels" { p = 1 }')" \
	    = $((${#RN_SENTINEL_PORTS[@]} - 1)) ] || return 1
    done
}

rn_node_of() {
    local n
    for n in "${RN_NODES[@]}"; do
	[ "${RN_PORT[$n]}" = "$1" ] && { echo "$n"; return 0; }
    done
    return 1
}

rn_role() {
    rn_cli "$1" INFO replication 2>/dev/null | sed -n 's/^role:\([a-z]*\).*/\1/p'
}

rn_in_sync() {
    [ "$(rn_role "$1")" = master ] && [ "$(rn_role "$2")" = slave ] &&
	rn_cli "$2" INFO replication | grep -q "^master_port:${RN_PORT[$1]}" &&
	rn_cli "$2" INFO replication | grep -q '^master_link_status:up'
}

rn_failover() {
    rn_scli 1 SENTINEL FAILOVER "$RN_MASTER"
}

rn_stop_all() {
    local i pid n
    for ((i = 1; i <= ${#RN_SENTINEL_PORTS[@]}; i++)); do
	[ -f "$T/sentinel$i/sentinel.pid" ] || continue
	pid=$(cat "$T/sentinel$i/sentinel.pid")
	kill -TERM "$pid" 2>/dev/null
	_h_wait_gone "$pid" 20 || { kill -KILL "$pid" 2>/dev/null; h_fail "sentinel $i did not stop"; }
	rm -f "$T/sentinel$i/sentinel.pid"
    done
    for n in "${RN_NODES[@]}"; do
	[ -f "$T/$n/redis.pid" ] || continue
	pid=$(cat "$T/$n/redis.pid")
	rn_cli "$n" shutdown nosave > /dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
	_h_wait_gone "$pid" 20 || { kill -KILL "$pid" 2>/dev/null; h_fail "redis $n did not stop"; }
	rm -f "$T/$n/redis.pid"
    done
}
