#!/bin/bash
# demo.sh start|stop: run Intake for a person to look at (make demo / make demo-stop).
#
# The demo's configuration (.demo/intake.conf, mailbox support@example.test), ticket store and
# logs live under .demo/ in the project (git-ignored). What Postfix's own users must reach (the
# private Postfix instance on 127.0.0.1:2525, the milter socket, Redis) lives under
# /var/tmp/intake-demo, because a project under /root is closed to them; .demo/postfix points
# there. Every other address @example.test is a local Maildir under .demo/postfix/mail/example.test/,
# so the acknowledgements the worker sends through that same Postfix land there. The services
# keep running after "make demo"; "make demo-stop" stops them. The system's Postfix and Redis are
# not touched.
#
# STORE=postgresql (make demo STORE=postgresql): the tickets go to a private PostgreSQL cluster
# under /var/tmp/intake-demo/pg (tests/lib/pg.sh: unix socket only, run as user postgres) instead
# of .demo/tickets.db, and two workers (consumers demo and demo2, .demo/intake2.conf) share it;
# make demo-stop stops the workers, then the cluster.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib/harness.sh"
. "$ROOT/tests/lib/pg.sh"
H_PG_TRAP=1			# pg.sh: the cluster outlives this script (make demo-stop stops it)
STORE=${STORE:-sqlite}

DEMO=$ROOT/.demo		# configuration, store, logs, pid files
T=/var/tmp/intake-demo		# Postfix instance, milter socket, Redis
H_BASE=$T			# Postfix's maillog_file_prefixes
H_NAME=demo
PORT=2525
METRICS_PORT=9464		# the worker's HTTP server: Prometheus metrics and the API
WEBHOOK_PORT=9470		# tests/tools/webhook-receiver.py, the far end of [sink demo]
CONF=$DEMO/intake.conf
INTAKE_BIN=$ROOT

die() { echo "demo: $*" >&2; exit 1; }

pid_of() { [ -s "$1" ] && read -r p < "$1" && _h_alive "$p" && echo "$p"; }

stop_daemon() {	# stop_daemon NAME PIDFILE
    local pid
    pid=$(pid_of "$2") || return 0
    kill -TERM "$pid" 2>/dev/null
    _h_wait_gone "$pid" 30 || { kill -KILL "$pid" 2>/dev/null; echo "demo: $1 killed"; }
    echo "demo: $1 stopped"
}

stop() {
    [ -d "$T" ] || [ -d "$DEMO" ] || { echo "demo: nothing to stop"; return 0; }
    stop_daemon intake-worker "$DEMO/worker.pid"
    stop_daemon webhook-receiver "$DEMO/webhook.pid"
    stop_daemon "intake-worker (second)" "$DEMO/worker2.pid"
    stop_daemon intake-milter "$DEMO/milter.pid"
    if [ -f "$T/pg/data/postmaster.pid" ]; then
	H_PG_DIR=$T/pg
	h_pg_stop && echo "demo: postgresql stopped"
    fi
    if [ -f "$T/postfix/queue/pid/master.pid" ]; then
	h_postfix_stop postfix >/dev/null && echo "demo: postfix stopped"
    fi
    if [ -S "$T/redis/redis.sock" ]; then
	H_REDIS_PID=$(cat "$T/redis/redis.pid" 2>/dev/null)
	h_redis_stop && echo "demo: redis stopped"
    fi
    local left
    left=$(_h_kill_under "$T"; _h_kill_under "$DEMO")
    [ -n "$left" ] && echo "demo: stopped leftovers: $left"
    return 0
}

send() {	# send "NAME <ADDRESS>" SUBJECT BODY [swaks options...]
    local from=$1 subject=$2 body=$3 addr
    shift 3
    addr=${from##*<}
    addr=${addr%>}
    swaks --server "127.0.0.1:$PORT" --silent 2 --from "$addr" --to support@example.test \
	--header "From: $from" --header "Subject: $subject" --body "$body" "$@" >/dev/null ||
	die "swaks could not send '$subject' (see $T/postfix/maillog)"
}

start() {
    [ "$(id -u)" = 0 ] || die "run as root (a private Postfix instance needs it)"
    [ -x "$ROOT/milter/intake-milter" ] && [ -x "$ROOT/worker/intake-worker" ] || die "build first: make"
    stop >/dev/null
    rm -rf "$T" "$DEMO"
    mkdir -p "$T" "$DEMO"
    chmod 755 "$T"
    : > "$T/.ports"
    ln -s "$T/postfix" "$DEMO/postfix"
    _h_listening "$PORT" && die "127.0.0.1:$PORT is in use (another demo? make demo-stop)"
    _h_listening "$METRICS_PORT" &&
	die "127.0.0.1:$METRICS_PORT (metrics) is in use (another demo? make demo-stop)"
    _h_listening "$WEBHOOK_PORT" &&
	die "127.0.0.1:$WEBHOOK_PORT (webhook receiver) is in use (another demo? make demo-stop)"

    # The API's bearer token, readable by root only (docs/intake.conf.md, [http] token_file).
    (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$DEMO/api-token"; echo >> "$DEMO/api-token")
    case "$STORE" in
	sqlite|postgresql) ;;
	*) die "STORE=$STORE: sqlite or postgresql" ;;
    esac
    echo "demo: starting a private Redis, Postfix (127.0.0.1:$PORT), intake-milter and intake-worker (.demo/, /var/tmp/intake-demo)"
    h_redis_start >/dev/null || die "redis did not start"
    if [ "$STORE" = postgresql ]; then
	echo "demo: and a private PostgreSQL cluster (/var/tmp/intake-demo/pg) with two workers"
	h_pg_start || die "postgresql did not start (see $T/pg/server.log)"
    fi
    cat > "$CONF" <<CONF
# intake.conf of make demo (see docs/intake.conf.md)
[milter]
socket = unix:$T/milter.sock
socket_mode = 0666
user = $(id -un)
pid_file = milter.pid
log = stderr

[redis]
server = unix:$T/redis/redis.sock

[worker]
consumer = demo
user = $(id -un)
log = stderr
pid_file = worker.pid
block = 1s

[store]
path = tickets.db
templates = $ROOT/conf/templates

[smtp]
relay = 127.0.0.1:$PORT
retry_interval = 5s

[http]
listen = 127.0.0.1:$METRICS_PORT
token_file = api-token

[mailbox support]
address = support@example.test
aliases = help@example.test
display_name = Example Support
category = general
acknowledge = yes

# Every ticket event, signed, to tests/tools/webhook-receiver.py (docs/events.md).
[sink demo]
type = webhook
url = http://127.0.0.1:$WEBHOOK_PORT/events
secret_file = webhook-secret
retry_min = 2s
retry_max = 30s
CONF
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DEMO/webhook-secret"
    chmod 600 "$DEMO/webhook-secret"
    python3 "$ROOT/tests/tools/webhook-receiver.py" --listen "127.0.0.1:$WEBHOOK_PORT" \
	--secret-file "$DEMO/webhook-secret" --log "$DEMO/webhook.log" \
	--pid-file "$DEMO/webhook.pid" < /dev/null > /dev/null 2>> "$DEMO/webhook-receiver.log" &
    h_poll "_h_listening $WEBHOOK_PORT" 20 ||
	die "the webhook receiver did not start (see $DEMO/webhook-receiver.log)"
    if [ "$STORE" = postgresql ]; then
	printf '\n[store]\nbackend = postgresql\nconninfo = %s\npassword_file = %s\n' \
	    "$H_PG_CONNINFO" "$T/pg.password" >> "$CONF"
	# The second worker: another consumer of the group, its own pid file, no metrics port.
	sed -e 's/^consumer = demo$/consumer = demo2/' -e 's/^pid_file = worker.pid$/pid_file = worker2.pid/' \
	    -e 's/^listen = .*/listen =/' "$CONF" > "$DEMO/intake2.conf"
    fi
    "$ROOT/milter/intake-milter" -t -c "$CONF" >/dev/null || die "config check failed"
    "$ROOT/worker/intake-worker" -t -c "$CONF" >/dev/null || die "config check failed"
    h_postfix_start postfix "$PORT" "smtpd_milters=unix:$T/milter.sock" >/dev/null ||
	die "postfix did not start (see $T/postfix/maillog)"
    # Both daemons detach (no -f) and write their pid files; logs to stderr, kept in files.
    "$ROOT/milter/intake-milter" -c "$CONF" 2>> "$DEMO/milter.log" || die "intake-milter did not start"
    h_poll "[ -S '$T/milter.sock' ]" 20 || die "intake-milter socket missing (see $DEMO/milter.log)"
    "$ROOT/worker/intake-worker" -c "$CONF" 2>> "$DEMO/worker.log" || die "intake-worker did not start"
    h_poll "[ -s '$DEMO/worker.pid' ]" 20 || die "intake-worker did not start (see $DEMO/worker.log)"
    if [ "$STORE" = postgresql ]; then
	"$ROOT/worker/intake-worker" -c "$DEMO/intake2.conf" 2>> "$DEMO/worker2.log" ||
	    die "the second intake-worker did not start"
	h_poll "[ -s '$DEMO/worker2.pid' ]" 20 || die "the second intake-worker did not start (see $DEMO/worker2.log)"
    fi

    echo "demo: sending three sample mails to support@example.test"
    send "Alice Example <alice@example.test>" "Printer on fire" \
	"Hello, our printer in room 4 is on fire again. Please help."
    printf 'Beleg 2026-117\nBetrag: 117,00 EUR\n' > "$DEMO/beleg.txt"
    send "Bob Beispiel <bob@example.test>" "Rechnung 2026-117 fehlt" \
	"Guten Tag, mir fehlt die Rechnung 2026-117. Anbei der Beleg." \
	--attach-type text/plain --attach-name beleg.txt --attach @"$DEMO/beleg.txt"
    send "Carol <carol@example.test>" "Password reset for carol" \
	"Hi, I cannot log in since this morning." --header "Cc: dave@example.test"

    local ctl=("$ROOT/worker/intakectl" -c "$CONF")
    h_poll '[ "$("${ctl[@]}" tickets --json 2>/dev/null | jq length)" = 3 ]' 60 ||
	die "no 3 tickets after 60s (see $DEMO/worker.log, $DEMO/milter.log, $DEMO/postfix/maillog)"
    h_poll '[ "$(find "$T/postfix/mail/example.test" -path "*/new/*" -type f | xargs -r grep -l "^Auto-Submitted: auto-replied" | wc -l)" -ge 3 ]' 60 ||
	die "the 3 acknowledgements did not arrive (see $DEMO/worker.log)"

    echo
    echo "Tickets (worker/intakectl -c .demo/intake.conf tickets):"
    "${ctl[@]}" tickets
    echo
    echo "Acknowledgements delivered by Postfix to the customers' mailboxes:"
    find "$T/postfix/mail/example.test" -path '*/new/*' -type f | xargs -r grep -l '^Auto-Submitted: auto-replied' |
	while read -r f; do
	    printf '  %s\n      %s\n' ".demo/postfix/${f#"$T"/postfix/}" "$(grep -m1 '^Subject:' "$f")"
	done
    h_poll '[ "$(wc -l < "$DEMO/webhook.log" 2>/dev/null || echo 0)" -ge 3 ]' 60 ||
	die "the 3 ticket.created events did not reach the webhook receiver (see $DEMO/worker.log)"
    echo
    echo "Events the webhook receiver verified (.demo/webhook.log, one JSON document a line):"
    jq -r '"  \(.id) \(.type) \(.ticket.number // "-") \(.message.subject // "")"' "$DEMO/webhook.log"
    echo
    echo "Sinks (worker/intakectl -c .demo/intake.conf sinks status):"
    "${ctl[@]}" sinks status | sed 's/^/  /'
    echo
    echo "Queue (worker/intakectl -c .demo/intake.conf status):"
    "${ctl[@]}" status | sed 's/^/  /'
    echo
    echo "Metrics (curl -s http://127.0.0.1:$METRICS_PORT/metrics | grep tickets_created):"
    curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep '^intake_tickets_created_total' |
	sed 's/^/  /'
    echo
    echo "The read-only API (docs/api.openapi.yaml), the tickets' numbers and titles:"
    curl -s -H "Authorization: Bearer $(cat "$DEMO/api-token")" \
	"http://127.0.0.1:$METRICS_PORT/api/v1/tickets" |
	jq -r '.tickets[] | "  \(.number)  \(.title)"'
    cat <<MSG

Intake is running. Send more mail:
  swaks --server 127.0.0.1:$PORT --to support@example.test --from you@example.test
Look at a ticket:   worker/intakectl -c .demo/intake.conf ticket NUMBER
Prometheus metrics: http://127.0.0.1:$METRICS_PORT/metrics  (docs/metrics.md)
The tickets, by the read-only API (docs/api.openapi.yaml):
  curl -H "Authorization: Bearer \$(cat .demo/api-token)" http://127.0.0.1:$METRICS_PORT/api/v1/tickets
Nagios/Icinga:      worker/intakectl -c .demo/intake.conf check
Ticket events:      .demo/webhook.log (verified by tests/tools/webhook-receiver.py on 127.0.0.1:$WEBHOOK_PORT)
Logs:               .demo/milter.log  .demo/worker.log  .demo/postfix/maillog
Stop everything:    make demo-stop
MSG
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: demo.sh start|stop" >&2; exit 2 ;;
esac
