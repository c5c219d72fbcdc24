# worker.sh: intake-worker helpers for the integration tests. Source it after harness.sh:
#
#   . "$(dirname "$0")/../lib/harness.sh"
#   . "$(dirname "$0")/../lib/worker.sh"
#   h_init my_test
#   h_redis_start; S=$(h_free_port); h_sink_start "$S" "$T/sink"
#   h_worker_conf "$T/intake.conf" "$S"       # h_write_conf + [worker], [store], [smtp]
#   h_worker_start "$T/intake.conf"           # also makes the EXIT trap stop the worker
#   ...; h_assert_eq 3 "$(h_tickets_count "$T/intake.conf")" "three tickets"
#
# One worker at a time, started from the test's main shell (so that its exit status can be
# collected). Its log (stderr) goes to $T/worker.log, one "# ---- intake-worker ..." line before
# each run. h_worker_stop (SIGTERM) fails the test when the worker does not exit, exits with a
# status other than 0, or its run printed a sanitizer report; h_worker_kill (SIGKILL) also checks
# that the worker was still alive (did not crash by itself) and that its run printed no report.
#
# The first h_worker_start replaces the EXIT trap of h_init by one that stops a still running
# worker (as h_worker_stop: a failure there fails the test) and then runs h_cleanup with the
# script's exit status; on failure it also shows the tail of worker.log.

# shellcheck shell=bash

H_WORKER_PID=
H_WORKER_CONF=
H_WORKER_LOG_OFF=0		# size of worker.log when the current run started
H_WORKER_TRAP=

# ---------------------------------------------------------------------------------------------
# Configuration

# h_worker_conf FILE RELAY_PORT [LINE...]: h_write_conf FILE plus the worker's sections: consumer
# "test" (fixed, so a restarted worker reads its own pending entries), log to stderr, block 500ms
# (SIGTERM is quick), claim_idle 2s / claim_interval 500ms, the store $T/tickets.db with the
# project's templates, replies to 127.0.0.1:RELAY_PORT with retry_interval 1s and reply_window 0
# (the per-sender limit off: smtp-source sends every mail from one sender) and no acknowledgement
# cap ([smtp] and both mailboxes' ack_limit_minute/ack_limit_day 0). Extra lines are
# appended; a repeated [section] continues that section and later keys win, e.g.
#   h_worker_conf "$T/intake.conf" "$S" "[worker]" "max_deliveries = 2"
h_worker_conf() {
    local file=$1 port=$2
    shift 2
    h_write_conf "$file" \
	"" \
	"[worker]" \
	"consumer = test" \
	"log = stderr" \
	"block = 500ms" \
	"claim_idle = 2s" \
	"claim_interval = 500ms" \
	"" \
	"[store]" \
	"path = $T/tickets.db" \
	"templates = $H_ROOT/conf/templates" \
	"" \
	"[smtp]" \
	"relay = 127.0.0.1:$port" \
	"timeout = 10s" \
	"retry_interval = 1s" \
	"reply_window = 0" \
	"ack_limit_minute = 0" \
	"ack_limit_day = 0" \
	"" \
	"[mailbox support]" \
	"ack_limit_minute = 0" \
	"ack_limit_day = 0" \
	"" \
	"[mailbox sales]" \
	"ack_limit_minute = 0" \
	"ack_limit_day = 0" \
	"" \
	"$@"
}

# h_conf_get CONF SECTION KEY: the (last) value of KEY in [SECTION] of CONF, as written.
h_conf_get() {
    awk -v want="$2" -v key="$3" '
	/^[ \t]*\[/ { sect = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", sect); next }
	sect == want && $0 ~ "^[ \t]*" key "[ \t]*=" {
	    v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v); val = v
	}
	END { print val }' "$1"
}

# h_store_path CONF: the SQLite database of CONF ([store] path; relative to the file's directory).
h_store_path() {
    local p
    p=$(h_conf_get "$1" store path)
    case "$p" in
	/*) echo "$p" ;;
	*) echo "$(cd "$(dirname "$1")" && pwd)/$p" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# Starting and stopping

# _h_worker_log: the log of the current (or last) run.
_h_worker_log() {
    tail -c +$((H_WORKER_LOG_OFF + 1)) "$T/worker.log" 2>/dev/null
}

# h_worker_check_log: fail if the current (or last) run's log holds an AddressSanitizer,
# LeakSanitizer or UBSan report (shows its first lines).
h_worker_check_log() {
    local re='ERROR: AddressSanitizer|LeakSanitizer|runtime error:'
    if _h_worker_log | grep -qE "$re"; then
	h_fail "intake-worker: sanitizer report in worker.log"
	_h_worker_log | grep -m1 -A30 -E "$re" | sed 's/^/#   /'
	return 1
    fi
    return 0
}

# h_worker_trap: make the EXIT trap stop the worker before h_cleanup (done by h_worker_start).
h_worker_trap() {
    [ -n "$H_WORKER_TRAP" ] && return 0
    H_WORKER_TRAP=1
    trap _h_worker_exit EXIT
}

_h_worker_rc() { return "$1"; }

_h_worker_exit() {
    local rc=$?
    h_worker_cleanup "$rc"
    _h_worker_rc "$rc"		# h_cleanup reads the script's status from $?
    h_cleanup
}

# h_worker_cleanup [RC]: stop a worker still running; when a check failed or RC (the script's
# exit status) says so, show the tail of worker.log.
h_worker_cleanup() {
    local rc=${1:-0}
    [ -n "$H_WORKER_PID" ] && h_worker_stop
    if [ -s "$T/worker.log" ] && { [ "$H_FAILED" -gt 0 ] || { [ "$rc" != 0 ] && [ "$rc" != 77 ]; }; }; then
	echo "# ---- last lines of worker.log ----"
	tail -n 40 "$T/worker.log" | sed 's/^/#   /'
    fi
    return 0
}

# h_worker_start CONF: run $INTAKE_BIN/intake-worker -f -c CONF in the background (log appended
# to $T/worker.log) and wait until it logged "starting:" (store and outbox open).
h_worker_start() {
    local conf=$1 bin=$INTAKE_BIN/intake-worker rc=
    if [ ! -x "$bin" ]; then
	h_fail "intake-worker not built: $bin (make asan)"
	return 1
    fi
    if [ -n "$H_WORKER_PID" ] && _h_alive "$H_WORKER_PID"; then
	h_fail "h_worker_start: a worker ($H_WORKER_PID) is running already"
	return 1
    fi
    h_worker_trap
    touch "$T/worker.log"
    H_WORKER_LOG_OFF=$(stat -c %s "$T/worker.log")
    echo "# ---- intake-worker -f -c $conf ($(date '+%T.%N')) ----" >> "$T/worker.log"
    "$bin" -f -c "$conf" >> "$T/worker.log" 2>&1 &
    H_WORKER_PID=$!
    H_WORKER_CONF=$conf
    if ! h_poll "! _h_alive $H_WORKER_PID || _h_worker_log | grep -q ' starting: '" 30 ||
	    ! _h_alive "$H_WORKER_PID"; then
	if ! _h_alive "$H_WORKER_PID"; then
	    wait "$H_WORKER_PID" 2>/dev/null
	    rc=$?
	    H_WORKER_PID=
	fi
	h_fail "intake-worker did not come up${rc:+ (exit status $rc)}"
	_h_worker_log | tail -n 30 | sed 's/^/#   /'
	return 1
    fi
    return 0
}

# h_worker_stop: SIGTERM, wait for the exit (at most 30s). Fails the test if the worker had died
# already, does not exit, exits with a non-zero status, or its run logged a sanitizer report.
h_worker_stop() {
    local pid=$H_WORKER_PID rc ok=0
    [ -n "$pid" ] || return 0
    H_WORKER_PID=
    if ! _h_alive "$pid"; then
	wait "$pid" 2>/dev/null
	rc=$?
	h_fail "intake-worker $pid had exited by itself before SIGTERM (status $rc)"
	h_worker_check_log
	return 1
    fi
    kill -TERM "$pid" 2>/dev/null
    if ! _h_wait_gone "$pid" 30; then
	kill -KILL "$pid" 2>/dev/null
	_h_wait_gone "$pid" 5
	h_fail "intake-worker $pid did not exit within 30s of SIGTERM, killed"
	ok=1
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    if [ "$ok" = 0 ] && [ "$rc" != 0 ]; then
	h_fail "intake-worker exited with status $rc after SIGTERM"
	ok=1
    fi
    h_worker_check_log || ok=1
    return $ok
}

# h_worker_kill: SIGKILL (a crash), wait until the process is gone. Fails the test if the worker
# had died by itself already or its run logged a sanitizer report.
h_worker_kill() {
    local pid=$H_WORKER_PID rc
    [ -n "$pid" ] || return 0
    H_WORKER_PID=
    if ! _h_alive "$pid"; then
	wait "$pid" 2>/dev/null
	rc=$?
	h_fail "intake-worker $pid had exited by itself before SIGKILL (status $rc)"
	h_worker_check_log
	return 1
    fi
    # (stderr off: bash reports a job killed by a signal as "... Killed ...")
    {
	kill -KILL "$pid"
	_h_wait_gone "$pid" 10
	rc=$?
	[ "$rc" = 0 ] && wait "$pid"
    } 2>/dev/null
    if [ "$rc" != 0 ]; then
	h_fail "intake-worker $pid still there 10s after SIGKILL"
	return 1
    fi
    echo "# ---- killed with SIGKILL ($(date '+%T.%N')) ----" >> "$T/worker.log"
    h_worker_check_log
}

# ---------------------------------------------------------------------------------------------
# The store and the stream

# h_sql CONF SQL: run SQL on the worker's SQLite database (list mode, "|" between columns).
h_sql() {
    sqlite3 -batch -noheader -cmd '.timeout 10000' "$(h_store_path "$1")" "$2"
}

# h_tickets_count CONF: number of tickets (0 while there is no database yet).
h_tickets_count() {
    local db
    db=$(h_store_path "$1")
    if [ -f "$db" ]; then h_sql "$1" "SELECT count(*) FROM tickets"; else echo 0; fi
}

# h_outbox_count CONF [STATE]: number of outbox rows in STATE; without STATE, of the replies that
# were to be sent (every state but 'suppressed': the refusals recorded with their reason).
h_outbox_count() {
    local db
    db=$(h_store_path "$1")
    [ -f "$db" ] || { echo 0; return; }
    if [ -n "${2:-}" ]; then
	h_sql "$1" "SELECT count(*) FROM outbox WHERE state = '$2'"
    else
	h_sql "$1" "SELECT count(*) FROM outbox WHERE state <> 'suppressed'"
    fi
}

# h_ctl CONF ARGS...: $INTAKE_BIN/intakectl -c CONF ARGS...
h_ctl() {
    local conf=$1
    shift
    "$INTAKE_BIN/intakectl" -c "$conf" "$@"
}

# h_pending_count [STREAM] [GROUP]: entries delivered to a consumer of GROUP (default intake) and
# not yet acknowledged; 0 when the group does not exist yet.
h_pending_count() {
    local out
    out=$(h_redis_cli XPENDING "${1:-intake:envelopes}" "${2:-intake}" 2>&1 | head -n1)
    case "$out" in
	NOGROUP*|*"no such key"*) echo 0 ;;
	*) echo "$out" ;;
    esac
}

# h_ticket_in_count CONF NUMBER: incoming messages of ticket NUMBER (via intakectl --json ticket).
# Global options go before the command word: "ticket NUMBER --json" is refused.
h_ticket_in_count() {
    h_ctl "$1" --json ticket "$2" | jq '[.messages[] | select(.direction == "in")] | length'
}

# h_worker_drained CONF N: (a condition) N tickets, the stream empty, nothing pending.
h_worker_drained() {
    [ "$(h_tickets_count "$1" 2>/dev/null)" = "$2" ] && [ "$(h_xlen 2>/dev/null)" = 0 ] &&
	[ "$(h_pending_count 2>/dev/null)" = 0 ]
}

# ---------------------------------------------------------------------------------------------
# Acknowledgements captured by smtp-sink

# h_sink_acks: one line per captured mail, tab-separated: file, Message-ID, In-Reply-To (without
# <>), Subject, Auto-Submitted, X-Intake-Ticket, To (header fields unfolded, CR removed; "-" for
# a missing one).
h_sink_acks() {
    h_sink_files | xargs -r awk '
	function out() {
	    if (file != "")
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", file, v("message-id"), v("in-reply-to"),
		    v("subject"), v("auto-submitted"), v("x-intake-ticket"), v("to")
	}
	function v(k,   s) {
	    if (!(k in h)) return "-"
	    s = h[k]
	    if (k == "message-id" || k == "in-reply-to") { gsub(/^[ \t]*<|>[ \t]*$/, "", s) }
	    return s
	}
	function keep() {
	    if (name != "" && !(name in h)) h[name] = val
	    name = ""
	}
	FNR == 1 { keep(); out(); file = FILENAME; delete h; name = ""; body = 0 }
	{ sub(/\r$/, "") }
	body { next }
	/^$/ { keep(); body = 1; next }
	/^[ \t]/ { if (name != "") { sub(/^[ \t]+/, " "); val = val $0 }; next }
	{
	    keep()
	    i = index($0, ":")
	    if (i == 0) next
	    name = tolower(substr($0, 1, i - 1))
	    val = substr($0, i + 1)
	    sub(/^[ \t]+/, "", val)
	}
	END { keep(); out() }'
}

# ---------------------------------------------------------------------------------------------
# Checks

# h_check 'shell condition' MESSAGE: an assertion that the condition holds now.
h_check() {
    if eval "$1"; then
	h_pass "$2"
    else
	h_fail "$2"
    fi
}

# ---------------------------------------------------------------------------------------------
# Mail in, tickets out (threading tests)

# h_mail PORT FROM TO SUBJECT BODY [swaks options...]: one mail through the Postfix at PORT; FROM is
# the envelope sender and the From header (unless an option gives another From), TO a comma-
# separated list. Fails the test when it is not accepted; swaks' output goes to $T/swaks.log.
h_mail() {
    local port=$1 from=$2 to=$3 subject=$4 body=$5
    shift 5
    swaks --server "127.0.0.1:$port" --silent 2 --from "$from" --to "$to" \
	--header "From: $from" --header "Subject: $subject" --body "$body" "$@" >> "$T/swaks.log" 2>&1 ||
	h_die "swaks: '$subject' from $from not accepted"
}

