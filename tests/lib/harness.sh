# harness.sh: shell test harness for Intake's integration tests. Source it from bash:
#
#   . "$(dirname "$0")/../lib/harness.sh"
#   h_init my_test                # $T=/tmp/intake-tests/my_test, EXIT trap cleans up
#   h_redis_start
#   P=$(h_free_port); h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock"
#   h_write_conf "$T/intake.conf"; h_milter_start "$T/intake.conf"
#   ...; h_assert_eq 1 "$(h_redis_cli XLEN intake:envelopes)" "one envelope"
#
# Everything a test starts is private: a Redis on a unix socket under $T, Postfix instances with
# their own config/queue/data directories under $T and loopback ports, smtp-sink, intake-milter.
# h_cleanup (the EXIT trap) stops all of it, also when the test fails or is interrupted, then
# removes $T (kept when INTAKE_KEEP=1). The system's Postfix and Redis are never used or touched.
#
# Output is TAP-like: "ok - MSG" / "not ok - MSG" per assertion, "# ..." for diagnostics. The
# script's exit status is 0 when no assertion failed, 1 otherwise, 77 when it skipped itself.
#
# Sleeps are only used inside polling loops that wait for readiness or convergence (a socket
# appears, a queue drains); never as synchronisation of the behaviour under test.

# shellcheck shell=bash

H_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# INTAKE_TEST_BASE: another base directory, so that two checkouts can run their tests side by
# side (keep it short: unix socket paths under it are limited to 107 bytes).
H_BASE=${INTAKE_TEST_BASE:-/tmp/intake-tests}
: "${INTAKE_BIN:=$H_ROOT/build/asan/bin}"
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0:halt_on_error=1}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export INTAKE_BIN ASAN_OPTIONS UBSAN_OPTIONS
PATH=$PATH:/usr/sbin:/sbin

# Test domain: every address @example.test is deliverable on a private Postfix instance.
H_DOMAIN=example.test

H_NAME=
T=
H_FAILED=0
H_CHECKS=0
H_FAILURES=()
H_POSTFIX_NAMES=()
H_REDIS_PID=
H_SINK_PID=
H_MILTER_PID=

# ---------------------------------------------------------------------------------------------
# Assertions and output

h_pass() {
    H_CHECKS=$((H_CHECKS + 1))
    echo "ok - $*"
}

h_fail() {
    H_CHECKS=$((H_CHECKS + 1))
    H_FAILED=$((H_FAILED + 1))
    H_FAILURES+=("$*")
    echo "not ok - $*"
    return 1
}

# h_die MSG: fail and end the test now (the EXIT trap still cleans up).
h_die() {
    h_fail "$*"
    exit 1
}

h_note() {
    echo "# $*"
}

# h_assert_eq EXPECTED ACTUAL MESSAGE
h_assert_eq() {
    if [ "$1" == "$2" ]; then
	h_pass "$3"
    else
	h_fail "$3 (expected '$1', got '$2')"
    fi
}

# h_poll 'shell condition' TIMEOUT_SECONDS: 0 as soon as the condition holds, 1 on timeout.
# Silent; for readiness and convergence only.
h_poll() {
    local cond=$1 timeout=${2:-10} end
    end=$((SECONDS + timeout))
    while :; do
	eval "$cond" && return 0
	[ "$SECONDS" -ge "$end" ] && break
	sleep 0.1
    done
    eval "$cond"
}

# h_wait_for 'shell condition' TIMEOUT_SECONDS MESSAGE: an assertion that the condition becomes
# true within the timeout (polls; for convergence such as "the queue drained").
h_wait_for() {
    local cond=$1 timeout=$2 msg=$3 start=$SECONDS
    if h_poll "$cond" "$timeout"; then
	h_pass "$msg"
    else
	h_fail "$msg (condition '$cond' still false after $((SECONDS - start))s)"
    fi
}

# ---------------------------------------------------------------------------------------------
# Processes

# _h_alive PID: the process exists and is not a zombie (PID 1 here does not reap orphans).
_h_alive() {
    local line state
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
    read -r line 2>/dev/null < "/proc/$1/stat" || return 1
    state=${line##*) }
    state=${state%% *}
    [ "$state" != Z ] && [ "$state" != X ]
}

# _h_starttime PID: the process's start time (field 22 of /proc/PID/stat), to tell a reused PID.
_h_starttime() {
    local line rest
    read -r line 2>/dev/null < "/proc/$1/stat" || return 1
    rest=${line##*) }
    # shellcheck disable=SC2086 # split the numeric fields
    set -- $rest
    echo "${20}"
}

# _h_owner_alive DIR: the test run that made DIR (h_init wrote DIR/.owner: "PID STARTTIME") is
# still running. Other runs (another session's make check, a benchmark) may work beside us under
# /tmp/intake-tests: only directories whose owner is gone hold leftovers.
_h_owner_alive() {
    local pid st
    read -r pid st 2>/dev/null < "$1/.owner" || return 1
    _h_alive "$pid" && [ "$(_h_starttime "$pid")" = "$st" ]
}

# h_stale_dirs: the test directories under /tmp/intake-tests whose run is over (owner gone); only
# these may hold leftovers to stop. Directories without .owner are not ours to judge.
h_stale_dirs() {
    local d
    for d in "$H_BASE"/*/; do
	d=${d%/}
	[ -f "$d/.owner" ] || continue
	_h_owner_alive "$d" || echo "$d"
    done
}

# _h_wait_gone PID TIMEOUT: 0 when the process is gone (or a zombie) within TIMEOUT seconds.
_h_wait_gone() {
    h_poll "! _h_alive $1" "$2"
}

# _h_pids_under DIR: live processes whose working directory is under DIR or whose command line
# mentions DIR (Postfix daemons run in their queue directory, Redis in its --dir).
_h_pids_under() {
    local dir=$1 self=$$ sub=$BASHPID pid
    {
	find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$dir" -o -lname "$dir/*" \) 2>/dev/null
	grep -laF -- "$dir/" /proc/[0-9]*/cmdline 2>/dev/null
    } | sed -n 's|^/proc/\([0-9]*\)/.*|\1|p' | sort -un |
	while read -r pid; do
	    [ "$pid" = "$self" ] || [ "$pid" = "$sub" ] && continue
	    _h_alive "$pid" && echo "$pid"
	done
}

# _h_kill_under DIR: stop every process that belongs to DIR (TERM, then KILL). Prints what it
# had to kill, one "PID ARGS" line each; silent if nothing was left.
_h_kill_under() {
    local dir=$1 pids pid
    pids=$(_h_pids_under "$dir")
    [ -z "$pids" ] && return 0
    for pid in $pids; do
	echo "$pid $(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | sed 's/ *$//')"
    done
    for pid in $pids; do
	kill -TERM "$pid" 2>/dev/null
    done
    for pid in $pids; do
	_h_wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
    done
    for pid in $pids; do
	_h_wait_gone "$pid" 5
    done
    return 0
}

# ---------------------------------------------------------------------------------------------
# Setup and cleanup

# h_init NAME: make $T=/tmp/intake-tests/NAME (stopping and removing what an earlier run left
# there) and register h_cleanup as the EXIT trap. Tests need root (private Postfix instances,
# smtp-sink -u): without it the test is skipped (exit 77).
h_init() {
    H_NAME=$1
    if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (private Postfix instances)"
	exit 77
    fi
    local t
    for t in postfix postconf postqueue smtp-source smtp-sink redis-server redis-cli swaks jq ss; do
	command -v "$t" >/dev/null || { echo "not ok - $t not installed (make deps)"; exit 1; }
    done
    T=$H_BASE/$H_NAME
    mkdir -p "$H_BASE"
    chmod 755 "$H_BASE"
    if [ -e "$T" ] && _h_owner_alive "$T"; then
	echo "not ok - another run of $H_NAME is in progress (pid $(cut -d' ' -f1 "$T/.owner")," \
	     "$T); not touching it"
	T=
	exit 1
    fi
    if [ -e "$T" ]; then
	local left
	left=$(_h_kill_under "$T")
	[ -n "$left" ] && h_note "stopped leftovers of an earlier run: $left"
	rm -rf "$T"
    fi
    mkdir -p "$T"
    chmod 755 "$T"	# Postfix daemons (user postfix) and deliveries (user nobody) traverse it
    echo "$$ $(_h_starttime $$)" > "$T/.owner"
    : > "$T/.ports"
    trap h_cleanup EXIT
    trap 'h_note "interrupted"; exit 130' INT
    trap 'h_note "terminated"; exit 143' TERM
    trap 'exit 129' HUP
    h_note "test $H_NAME in $T"
}

# h_cleanup: EXIT trap. Stops the milter (checking its log for sanitizer reports), smtp-sink, every
# Postfix instance, Redis, then anything else still running under $T (which counts as a failure:
# the test or the harness lost track of it). On failure, shows the tails of the logs. Removes $T.
h_cleanup() {
    local rc=$? i left f
    trap - EXIT INT TERM HUP
    [ -n "$T" ] || exit "$rc"
    [ -n "$H_MILTER_PID" ] && h_milter_stop
    [ -n "$H_SINK_PID" ] && h_sink_stop
    for ((i = ${#H_POSTFIX_NAMES[@]} - 1; i >= 0; i--)); do
	h_postfix_stop "${H_POSTFIX_NAMES[i]}"
    done
    [ -n "$H_REDIS_PID" ] && h_redis_stop
    left=$(_h_kill_under "$T")
    [ -n "$left" ] && h_fail "processes left running under $T were killed: $left"

    if [ "$H_FAILED" -gt 0 ] || { [ "$rc" != 0 ] && [ "$rc" != 77 ]; }; then
	for f in "$T/milter.log" "$T"/*/maillog "$T/redis/redis.log" "$T/sink.log"; do
	    [ -s "$f" ] || continue
	    echo "# ---- last lines of ${f#"$T"/} ----"
	    tail -n 25 "$f" | sed 's/^/#   /'
	done
    fi
    if [ "${INTAKE_KEEP:-0}" = 1 ]; then
	h_note "kept $T (INTAKE_KEEP=1)"
    else
	rm -rf "$T"
    fi

    if [ "$H_FAILED" -gt 0 ]; then
	echo "# $H_NAME: $H_FAILED of $H_CHECKS checks failed:"
	for f in "${H_FAILURES[@]}"; do echo "#   $f"; done
	[ "$rc" = 0 ] || [ "$rc" = 77 ] && rc=1
    elif [ "$rc" = 0 ]; then
	echo "# $H_NAME: all $H_CHECKS checks passed"
    elif [ "$rc" != 77 ]; then
	echo "# $H_NAME: ended with status $rc after $H_CHECKS checks"
    fi
    exit "$rc"
}

# h_free_port: print an unused 127.0.0.1 TCP port (random in 20000-60000, no socket on it in
# any state, not handed out before in this test).
h_free_port() {
    local p i
    for ((i = 0; i < 500; i++)); do
	p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
	grep -qx "$p" "$T/.ports" 2>/dev/null && continue
	[ -n "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] && continue
	echo "$p" >> "$T/.ports"
	echo "$p"
	return 0
    done
    echo "h_free_port: no free port found" >&2
    return 1
}

# _h_listening PORT: something listens on 127.0.0.1:PORT (or *:PORT).
_h_listening() {
    [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

# ---------------------------------------------------------------------------------------------
# Redis: private instance on the unix socket $T/redis/redis.sock, AOF with fsync always. The data
# directory $T/redis survives h_redis_stop, so a restart keeps what was written.

H_REDIS_SOCK=
h_redis_start() {
    local dir=$T/redis
    H_REDIS_SOCK=$dir/redis.sock
    mkdir -p "$dir"
    if ! redis-server --port 0 --unixsocket "$H_REDIS_SOCK" --unixsocketperm 700 \
	    --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" \
	    --appendonly yes --appendfsync always --save ""; then
	h_fail "redis-server did not start"
	return 1
    fi
    if ! h_poll '[ "$(redis-cli -s "$H_REDIS_SOCK" ping 2>/dev/null)" = PONG ]' 20; then
	h_fail "redis-server does not answer PING on $H_REDIS_SOCK"
	tail -n 20 "$dir/redis.log" | sed 's/^/#   /'
	return 1
    fi
    H_REDIS_PID=$(cat "$dir/redis.pid")
    h_note "redis-server $H_REDIS_PID on $H_REDIS_SOCK"
}

# h_redis_stop: SHUTDOWN NOSAVE (the AOF is already on disk), wait until the process is gone.
h_redis_stop() {
    local pid=$H_REDIS_PID
    [ -n "$pid" ] || return 0
    redis-cli -s "$H_REDIS_SOCK" shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
    if ! _h_wait_gone "$pid" 20; then
	kill -KILL "$pid" 2>/dev/null
	_h_wait_gone "$pid" 5
	h_fail "redis-server $pid did not stop on SHUTDOWN, killed"
    fi
    H_REDIS_PID=
}

# h_redis_cli ARGS...: redis-cli on the private instance (raw output, one value per line).
h_redis_cli() {
    redis-cli -s "${H_REDIS_SOCK:-$T/redis/redis.sock}" "$@"
}

# ---------------------------------------------------------------------------------------------
# Postfix: private instances under $T/NAME/{etc,queue,data,mail}, log in $T/NAME/maillog.
#
# Final delivery: every address @example.test is deliverable, no system user needed.
# virtual_mailbox_domains = example.test with virtual_mailbox_maps = static:any (every local part
# exists) and virtual_transport = vmaildir, a pipe(8) service (user nobody) running
# $T/NAME/etc/deliver-maildir, which writes each message to the Maildir
# $T/NAME/mail/DOMAIN/LOCAL/ (LOCAL in lower case, +extension stripped: pipe's ${user} with
# flag u). (virtual(8) itself cannot do this: it refuses $1 substitutions from a regexp map for
# the mailbox path.) mydestination is only localhost; example.test is not a local(8) domain.
#
# A relaying instance (a FRONT that sends everything on): pass "virtual_mailbox_domains=" and
# "relayhost=[127.0.0.1]:PORT" as extra settings. Mail from 127.0.0.1 may relay (mynetworks).
# Mail to any other domain is undeliverable at once (DNS is off): it bounces, see h_maillog_count.

# _h_pf_dir NAME
_h_pf_dir() { echo "$T/$1"; }

# _h_pf_snippet_main SOCKET: the settings of contrib/postfix/main.cf.snippet, one "key = value"
# a line, its milter socket replaced by SOCKET.
_h_pf_snippet_main() {
    local f=$H_ROOT/contrib/postfix/main.cf.snippet out
    out=$(awk -v sock="$1" '
	/^[ \t]*(#|$)/ { next }
	{ n = index($0, "unix:/run/intake/milter.sock"); if (n) $0 = substr($0, 1, n - 1) sock substr($0, n + 28); print }
	' "$f") && [ -n "$out" ] && grep -q "smtpd_milters = $1" <<< "$out" ||
	{ h_fail "$f: no 'smtpd_milters = unix:/run/intake/milter.sock' line to use"; return 1; }
    printf '%s\n' "$out"
}

# _h_pf_snippet_master PORT: smtpd's line of contrib/postfix/master.cf.snippet, listening on
# 127.0.0.1:PORT instead of its own address.
_h_pf_snippet_master() {
    local f=$H_ROOT/contrib/postfix/master.cf.snippet line
    line=$(awk '/^[0-9.]+:[0-9]+[ \t]+inet[ \t].*smtpd/ { print; exit }' "$f")
    [ -n "$line" ] || { h_fail "$f: no 'ADDRESS:PORT inet ... smtpd' line"; return 1; }
    echo "127.0.0.1:$1 ${line#* }"
}

# h_postfix_start NAME PORT [key=value...]: configure, check and start the instance with smtpd
# on 127.0.0.1:PORT; each key=value goes through postconf -e after the defaults (so it can
# override them, e.g. smtpd_milters=unix:$T/milter.sock, relayhost=[127.0.0.1]:PORT).
# The milter part is what a postmaster installs, read from contrib/postfix: with an extra
# smtpd_milters=SOCKET, every line of main.cf.snippet (its socket replaced by SOCKET); smtpd's
# master.cf line is the one of master.cf.snippet, its address replaced by 127.0.0.1:PORT.
h_postfix_start() {
    local name=$1 port=$2 kv out
    shift 2
    local d etc
    d=$(_h_pf_dir "$name")
    etc=$d/etc
    if _h_listening "$port"; then
	h_fail "postfix $name: port $port already in use"
	return 1
    fi
    mkdir -p "$etc" "$d/queue" "$d/data" "$d/mail"
    chown postfix "$d/data"
    chown nobody:nogroup "$d/mail"
    chmod 755 "$d"
    : > "$etc/main.cf"
    local src
    for src in /usr/share/postfix/master.cf.dist /etc/postfix/master.cf.proto /etc/postfix/master.cf; do
	[ -s "$src" ] && break
    done
    cp "$src" "$etc/master.cf"
    # Maildir delivery for the vmaildir pipe(8) service: deliver-maildir BASE USER DOMAIN < MAIL
    cat > "$etc/deliver-maildir" <<'EOF'
#!/bin/sh
# Maildir delivery of standard input to BASE/DOMAIN/USER/ (test harness; exit 75 = try again)
d="$1/$3/$2"
mkdir -p "$d/tmp" "$d/new" "$d/cur" || exit 75
f=$(mktemp "$d/tmp/$(date +%s).XXXXXXXX") || exit 75
cat > "$f" && mv "$f" "$d/new/" || { rm -f "$f"; exit 75; }
exit 0
EOF
    chmod 755 "$etc/deliver-maildir"
    local settings=(
	"compatibility_level = 3.6"
	"queue_directory = $d/queue"
	"data_directory = $d/data"
	"maillog_file = $d/maillog"
	"maillog_file_prefixes = $H_BASE"
	"myhostname = $name.intake.test"
	"mydomain = intake.test"
	"myorigin = \$myhostname"
	"mydestination = localhost"
	"inet_interfaces = 127.0.0.1"
	"inet_protocols = ipv4"
	"mynetworks = 127.0.0.0/8"
	"smtputf8_enable = no"
	"biff = no"
	"alias_maps ="
	"alias_database ="
	"recipient_delimiter = +"
	"virtual_mailbox_domains = $H_DOMAIN"
	"virtual_mailbox_base = $d/mail"
	"virtual_mailbox_maps = static:any"
	"virtual_transport = vmaildir"
	"vmaildir_destination_recipient_limit = 1"
	"queue_run_delay = 1s"
	"minimal_backoff_time = 1s"
	"maximal_backoff_time = 2s"
	"maximal_queue_lifetime = 1d"
	"bounce_queue_lifetime = 1d"
	"smtp_connect_timeout = 2s"
	"smtp_dns_support_level = disabled"
	"default_process_limit = 30"
	"in_flow_delay = 0"
	"smtpd_error_sleep_time = 0"
	"smtpd_soft_error_limit = 1000"
	"smtpd_hard_error_limit = 1000"
	"smtpd_client_connection_count_limit = 0"
	"smtpd_banner = \$myhostname ESMTP"
	"delay_warning_time = 0"
    )
    if ! out=$(postconf -c "$etc" -e "${settings[@]}" 2>&1); then
	h_fail "postfix $name: postconf -e failed: $out"
	return 1
    fi
    local milter="" snippet
    for kv in "$@"; do
	case "$kv" in smtpd_milters=*) milter=${kv#smtpd_milters=} ;; esac
    done
    if [ -n "$milter" ]; then
	snippet=$(_h_pf_snippet_main "$milter") || return 1
	mapfile -t settings <<< "$snippet"
	if ! out=$(postconf -c "$etc" -e "${settings[@]}" 2>&1); then
	    h_fail "postfix $name: postconf -e of contrib/postfix/main.cf.snippet failed: $out"
	    return 1
	fi
    fi
    local smtpd_line
    smtpd_line=$(_h_pf_snippet_master "$port") || return 1
    for kv in "$@"; do
	case "$kv" in
	    *=*) ;;
	    *) h_fail "postfix $name: extra setting '$kv' is not key=value"; return 1 ;;
	esac
	if ! out=$(postconf -c "$etc" -e "$kv" 2>&1); then
	    h_fail "postfix $name: postconf -e '$kv' failed: $out"
	    return 1
	fi
    done
    if ! out=$(postconf -c "$etc" -F '*/*/chroot=n' 2>&1) ||
	! out=$(postconf -c "$etc" -M# smtp/inet 2>&1) ||
	! out=$(postconf -c "$etc" -M "127.0.0.1:$port/inet=$smtpd_line" 2>&1) ||
	! out=$(postconf -c "$etc" -M "vmaildir/unix=vmaildir unix - n n - - pipe flags=DORhu user=nobody argv=$etc/deliver-maildir $d/mail \${user} \${domain}" 2>&1); then
	h_fail "postfix $name: editing master.cf failed: $out"
	return 1
    fi
    if ! out=$(postfix -c "$etc" check 2>&1); then
	h_fail "postfix $name: postfix check failed: $out"
	return 1
    fi
    if ! out=$(postfix -c "$etc" start 2>&1); then
	h_fail "postfix $name: start failed: $out"
	return 1
    fi
    H_POSTFIX_NAMES+=("$name")
    if ! h_poll "_h_pf_master_alive '$name' && _h_listening $port" 20; then
	h_fail "postfix $name: not listening on 127.0.0.1:$port"
	tail -n 20 "$d/maillog" 2>/dev/null | sed 's/^/#   /'
	return 1
    fi
    h_note "postfix $name (master $(_h_pf_master_pid "$name")) on 127.0.0.1:$port"
}

_h_pf_master_pid() {
    local pid
    read -r pid < "$(_h_pf_dir "$1")/queue/pid/master.pid" 2>/dev/null || return 1
    echo "$pid"
}

_h_pf_master_alive() {
    _h_alive "$(_h_pf_master_pid "$1")"
}

# h_postfix_stop NAME: postfix stop, wait until the master and every daemon of the instance are
# gone (killing stragglers).
h_postfix_stop() {
    local name=$1 d pid i left
    d=$(_h_pf_dir "$name")
    for ((i = 0; i < ${#H_POSTFIX_NAMES[@]}; i++)); do
	[ "${H_POSTFIX_NAMES[i]}" = "$name" ] && unset 'H_POSTFIX_NAMES[i]'
    done
    H_POSTFIX_NAMES=("${H_POSTFIX_NAMES[@]}")
    pid=$(_h_pf_master_pid "$name")
    if _h_alive "$pid"; then
	postfix -c "$d/etc" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
	if ! _h_wait_gone "$pid" 30; then
	    kill -KILL "$pid" 2>/dev/null
	    h_fail "postfix $name: master $pid did not stop, killed"
	fi
    fi
    # Daemons notice the master's exit by themselves; give them a moment, then kill.
    h_poll "[ -z \"\$(_h_pids_under '$d')\" ]" 10
    left=$(_h_kill_under "$d")
    [ -n "$left" ] && h_note "postfix $name: killed daemons left after stop: $left"
    return 0
}

# h_postfix_front NAME PORT BACK_PORT: an instance on PORT that relays all mail to the instance
# on BACK_PORT (a sending MTA in front of the one with the milter) and retries deferred mail only
# when flushed (backoff 1h): what it keeps after a 451 stays put until the test flushes it.
h_postfix_front() {
    h_postfix_start "$1" "$2" "virtual_mailbox_domains=" "relayhost=[127.0.0.1]:$3" \
	"queue_run_delay=1h" "minimal_backoff_time=1h" "maximal_backoff_time=1h"
}

# h_postfix_flush NAME: attempt delivery of all queued mail now (postfix flush).
h_postfix_flush() {
    postfix -c "$(_h_pf_dir "$1")/etc" flush
}

# h_postfix_flush_until_empty NAME TIMEOUT [INTERVAL]: flush, then flush again every INTERVAL
# seconds (default 2) until the queue is empty: what a sending MTA's retries do, quickly. Prints
# how many flushes it took; 0 when the queue emptied within TIMEOUT, else 1 (with diagnostics).
h_postfix_flush_until_empty() {
    local name=$1 timeout=${2:-60} interval=${3:-2} end flushes=0
    end=$((SECONDS + timeout))
    while :; do
	h_postfix_flush "$name"
	flushes=$((flushes + 1))
	if h_poll "[ \"\$(h_postfix_queue_count '$name')\" -eq 0 ]" "$interval"; then
	    h_note "postfix $name: queue empty after $flushes flush(es)"
	    return 0
	fi
	[ "$SECONDS" -ge "$end" ] && break
    done
    h_postfix_wait_empty "$name" 0
}

# h_postfix_queue_count NAME: number of messages in the instance's queue (maildrop, incoming,
# active, deferred, hold; counted from the queue files, so it works with Postfix stopped too).
h_postfix_queue_count() {
    local q
    q=$(_h_pf_dir "$1")/queue
    find "$q/maildrop" "$q/incoming" "$q/active" "$q/deferred" "$q/hold" -type f 2>/dev/null | wc -l
}

# h_postfix_deferred_count NAME: number of messages in the deferred queue.
h_postfix_deferred_count() {
    find "$(_h_pf_dir "$1")/queue/deferred" -type f 2>/dev/null | wc -l
}

# h_postfix_queue_json NAME: postqueue -j (one JSON object per queued message: queue_name,
# queue_id, recipients[].address and .delay_reason, ...).
h_postfix_queue_json() {
    postqueue -c "$(_h_pf_dir "$1")/etc" -j
}

# h_postfix_wait_empty NAME TIMEOUT: poll until the queue is empty. 0 if it is, otherwise prints
# what is left (postqueue -p) as diagnostics and returns 1.
h_postfix_wait_empty() {
    local name=$1 timeout=${2:-60}
    h_poll "[ \"\$(h_postfix_queue_count '$name')\" -eq 0 ]" "$timeout" && return 0
    h_note "postfix $name: queue still holds $(h_postfix_queue_count "$name") messages after ${timeout}s:"
    postqueue -c "$(_h_pf_dir "$name")/etc" -p 2>&1 | head -n 20 | sed 's/^/#   /'
    return 1
}

# h_maildir_path NAME ADDRESS: the Maildir of ADDRESS on instance NAME (lower case, +extension
# stripped, as deliver-maildir gets it).
h_maildir_path() {
    local addr=${2,,} local_part domain
    local_part=${addr%@*}
    domain=${addr##*@}
    local_part=${local_part%%+*}
    echo "$(_h_pf_dir "$1")/mail/$domain/$local_part"
}

# h_maildir_count NAME ADDRESS: number of messages delivered to ADDRESS's Maildir (new + cur).
h_maildir_count() {
    local m
    m=$(h_maildir_path "$1" "$2")
    find "$m/new" "$m/cur" -type f 2>/dev/null | wc -l
}

# h_maildir_files NAME ADDRESS: the delivered messages of ADDRESS, one path a line.
h_maildir_files() {
    local m
    m=$(h_maildir_path "$1" "$2")
    find "$m/new" "$m/cur" -type f 2>/dev/null | sort
}

# h_maillog_count NAME EXTENDED_REGEX: number of lines of the instance's maillog that match,
# e.g. h_maillog_count back 'status=bounced'.
h_maillog_count() {
    grep -cE -- "$2" "$(_h_pf_dir "$1")/maillog" 2>/dev/null
}

# h_maildir_total NAME: number of messages delivered to all Maildirs of the instance.
h_maildir_total() {
    find "$(_h_pf_dir "$1")/mail" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | wc -l
}

# ---------------------------------------------------------------------------------------------
# smtp-sink: a final destination that captures each mail transaction to its own file in DIR
# (smtp-sink -d: X-Mail-Args/X-Rcpt-Args/Received lines, then the message as received). A file
# is complete once the sending side got its reply: count after the sender's queue drained.

H_SINK_DIR=
# h_sink_start PORT DIR
h_sink_start() {
    local port=$1
    H_SINK_DIR=$2
    if _h_listening "$port"; then
	h_fail "smtp-sink: port $port already in use"
	return 1
    fi
    mkdir -p "$H_SINK_DIR"
    chown postfix "$H_SINK_DIR"
    smtp-sink -u postfix -h sink.intake.test -d "$H_SINK_DIR/%Y%m%d%H%M%S." \
	"127.0.0.1:$port" 64 >> "$T/sink.log" 2>&1 &
    H_SINK_PID=$!
    if ! h_poll "_h_alive $H_SINK_PID && _h_listening $port" 10; then
	h_fail "smtp-sink: not listening on 127.0.0.1:$port"
	return 1
    fi
    h_note "smtp-sink $H_SINK_PID on 127.0.0.1:$port, capturing to $H_SINK_DIR"
}

# h_sink_count: number of captured mail transactions.
h_sink_count() {
    find "$H_SINK_DIR" -type f 2>/dev/null | wc -l
}

# h_sink_files: the capture files, one path a line.
h_sink_files() {
    find "$H_SINK_DIR" -type f 2>/dev/null | sort
}

h_sink_stop() {
    local pid=$H_SINK_PID
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    _h_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    H_SINK_PID=
}

# ---------------------------------------------------------------------------------------------
# intake-milter

# h_write_conf FILE [LINE...]: an intake.conf for tests: milter socket $T/milter.sock (mode 0666:
# Postfix's smtpd runs as user postfix), log to stderr, Redis on the private socket, stream
# intake:envelopes, mailboxes support (alias help@) and sales; both daemons run as the user
# running the tests ([milter] and [worker] user: started as root, they refuse to run without).
# Extra lines are appended as they are; a repeated [section] header continues that section (GLib
# key file: later keys win).
h_write_conf() {
    local file=$1 line
    shift
    cat > "$file" <<EOF
# intake.conf written by tests/lib/harness.sh for $H_NAME
[milter]
socket = unix:$T/milter.sock
socket_mode = 0666
user = $(id -un)
log = stderr

[redis]
server = unix:$T/redis/redis.sock
stream = intake:envelopes
timeout = 2s

[worker]
user = $(id -un)

[mailbox support]
address = support@$H_DOMAIN
aliases = help@$H_DOMAIN

[mailbox sales]
address = sales@$H_DOMAIN
EOF
    for line in "$@"; do
	printf '%s\n' "$line" >> "$file"
    done
}

# _h_conf_socket CONF: the [milter] socket value of CONF.
_h_conf_socket() {
    awk '
	/^[ \t]*\[/ { sect = $0; gsub(/[][ \t]/, "", sect); next }
	sect == "milter" && /^[ \t]*socket[ \t]*=/ {
	    v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v); s = v
	}
	END { print s }' "$1"
}

# h_milter_start CONF: run $INTAKE_BIN/intake-milter -f -c CONF in the background (log in
# $T/milter.log) and wait until its socket exists (unix:) or its port listens (inet:).
h_milter_start() {
    local conf=$1 bin=$INTAKE_BIN/intake-milter sock cond
    if [ ! -x "$bin" ]; then
	h_fail "intake-milter not built: $bin (make asan)"
	return 1
    fi
    sock=$(_h_conf_socket "$conf")
    case "$sock" in
	unix:*) sock=${sock#unix:}; rm -f "$sock"; cond="[ -S '$sock' ]" ;;
	inet:*) local port=${sock#inet:}; port=${port%%@*}; cond="_h_listening $port" ;;
	*) h_fail "h_milter_start: no usable [milter] socket in $conf: '$sock'"; return 1 ;;
    esac
    echo "# ---- intake-milter -f -c $conf ($(date '+%T')) ----" >> "$T/milter.log"
    "$bin" -f -c "$conf" >> "$T/milter.log" 2>&1 &
    H_MILTER_PID=$!
    if ! h_poll "! _h_alive $H_MILTER_PID || $cond" 30 || ! _h_alive "$H_MILTER_PID"; then
	local rc=
	_h_alive "$H_MILTER_PID" || { wait "$H_MILTER_PID"; rc=$?; }
	h_fail "intake-milter did not come up (socket ${sock}${rc:+, exit status $rc})"
	tail -n 30 "$T/milter.log" | sed 's/^/#   /'
	[ -n "$rc" ] && H_MILTER_PID=
	return 1
    fi
    h_note "intake-milter $H_MILTER_PID on $sock"
}

# h_milter_stop: SIGTERM, wait for the exit (libmilter takes a few seconds). Fails the test if the
# milter does not exit, exits with a non-zero status, or its log holds a sanitizer report.
h_milter_stop() {
    local pid=$H_MILTER_PID rc
    [ -n "$pid" ] || return 0
    H_MILTER_PID=
    kill -TERM "$pid" 2>/dev/null
    if ! _h_wait_gone "$pid" 30; then
	kill -KILL "$pid" 2>/dev/null
	_h_wait_gone "$pid" 5
	h_fail "intake-milter $pid did not exit within 30s of SIGTERM, killed"
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    [ "$rc" = 0 ] || h_fail "intake-milter exited with status $rc after SIGTERM"
    h_milter_check_log
}

# h_milter_check_log: fail if the milter's log holds an AddressSanitizer, LeakSanitizer or
# UBSan report (shows the report's first lines).
h_milter_check_log() {
    local log=$T/milter.log
    [ -f "$log" ] || return 0
    if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|LeakSanitizer|runtime error:' "$log"; then
	h_fail "intake-milter: sanitizer report in milter.log"
	grep -m1 -A30 -E 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$log" | sed 's/^/#   /'
	return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# Sending mail and reading the stream

# h_send_swaks PORT TO MESSAGE_ID: one mail through swaks to 127.0.0.1:PORT from
# sender@client.test, Subject "test MESSAGE_ID"; a pass if it is accepted, a failure (return 1)
# naming swaks' last lines if not.
h_send_swaks() {
    local out
    if out=$(swaks --server "127.0.0.1:$1" --helo client.test --from sender@client.test \
		 --to "$2" --header "Message-Id: <$3>" --header "Subject: test $3" \
		 --body "Test mail $3" 2>&1); then
	h_pass "swaks: mail $3 to $2 accepted"
    else
	h_fail "swaks: mail $3 to $2 not accepted: $(echo "$out" | grep -E '^ *(<~?\*|\*\*\*)' | tail -n 3)"
    fi
}

# h_send_source PORT COUNT RECIPIENT [smtp-source options...]: COUNT mails to RECIPIENT through
# 127.0.0.1:PORT from sender@client.test, 10 sessions. Each mail has a unique Message-Id.
# Fails (returns 1) if smtp-source does, i.e. on any reply that is not 2xx.
h_send_source() {
    local port=$1 count=$2 rcpt=$3 out
    shift 3
    if ! out=$(smtp-source -s 10 -m "$count" -f sender@client.test -t "$rcpt" \
		-M client.test -S "intake test to $rcpt" "$@" "127.0.0.1:$port" 2>&1); then
	h_fail "smtp-source: $count mails to $rcpt via port $port: $out"
	return 1
    fi
    return 0
}

# h_send_files PORT SENDER RECIPIENT FILE...: send each FILE as one mail through 127.0.0.1:PORT,
# all in one SMTP session (Net::SMTP, part of Perl), envelope sender and recipient as given.
# A leading mbox "From " line is dropped (an MTA never sees it: it is the mailbox format's, not
# the message's), line ends become CRLF and lines are dot-stuffed. Prints one line per file,
# tab-separated: FILE, the reply code to the data (or to the command that failed, "-" when
# there was none) and the reply text (Postfix's "2.0.0 Ok: queued as QUEUEID"). Returns 1 only
# when no session could be opened; a refused mail is a line like any other (a 5xx is a result).
h_send_files() {
    local port=$1 from=$2 to=$3
    shift 3
    perl -MNet::SMTP -e '
	my ($port, $from, $to, @files) = @ARGV;
	my $s = Net::SMTP->new("127.0.0.1", Port => $port, Hello => "client.test",
			       Timeout => 600) or die "h_send_files: cannot connect to $port: $@\n";
	$| = 1;
	for my $f (@files) {
	    my $fh;
	    unless (open($fh, "<:raw", $f)) { print "$f\t-\tcannot read: $!\n"; next }
	    my $d = do { local $/; <$fh> };
	    close $fh;
	    $d =~ s/\AFrom [^\n]*\n//;
	    $d =~ s/\r\n/\n/g;
	    $d .= "\n" unless $d =~ /\n\z/;
	    my $ok = $s->mail($from) && $s->to($to) && $s->data;
	    if ($ok) { $s->datasend($d); $ok = $s->dataend }
	    my $msg = join(" ", map { s/\s+\z//r } $s->message);
	    print "$f\t", ($s->code || "-"), "\t$msg\n";
	    $s->reset unless $ok;
	}
	$s->quit;
    ' "$port" "$from" "$to" "$@"
}

# h_stream_envelopes [STREAM]: the envelope JSON of every entry of the stream, one line each
# (the value of the field "envelope").
h_stream_envelopes() {
    local stream=${1:-intake:envelopes}
    h_redis_cli --json XRANGE "$stream" - + 2>/dev/null |
	jq -c '.[] | .[1] as $f | [range(0; $f | length; 2) | select($f[.] == "envelope") | $f[. + 1]]
	       | .[] | fromjson'
}

# h_xlen [STREAM]: number of entries in the stream.
h_xlen() {
    h_redis_cli XLEN "${1:-intake:envelopes}"
}

# h_mt_val NAME KEY: what the miltertest run NAME reported for KEY in $T/mt-NAME.out (its
# KEY=VALUE lines), "" if nothing.
h_mt_val() {
    awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$T/mt-$1.out"
}

# h_entry N FIELD [STREAM]: the field FIELD (v, envelope, text, raw) of the N-th entry (1: the
# oldest) of STREAM (intake:envelopes), byte for byte; text and raw decompressed when the entry's
# enc is zstd (docs/envelope.md). Read with EVAL in --raw mode, which prints a value as it is (plus
# a newline): redis-cli --json would replace bytes that are not UTF-8.
h_entry() {
    if [[ $2 == text || $2 == raw ]] && [ "$(h_entry_packed "$1" enc "${3:-}")" = zstd ]; then
	h_entry_packed "$@" | zstd -dcq
    else
	h_entry_packed "$@"
    fi
}

# h_entry_packed N FIELD [STREAM]: h_entry as the entry holds it (a zstd frame, with enc zstd).
h_entry_packed() {
    h_redis_cli --raw EVAL "
	local e = redis.call('XRANGE', KEYS[1], '-', '+')[tonumber(ARGV[1])]
	if not e then return false end
	for i = 1, #e[2], 2 do
	    if e[2][i] == ARGV[2] then return e[2][i + 1] end
	end
	return false" 1 "${3:-intake:envelopes}" "$1" "$2" | head -c -1
}

# h_env_jq N FILTER: jq -r FILTER over the envelope of the N-th stream entry.
h_env_jq() {
    h_entry "$1" envelope | jq -r "$2"
}
