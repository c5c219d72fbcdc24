# pg.sh: a private PostgreSQL cluster for the integration tests. Source it after harness.sh (and
# worker.sh):
#
#   . "$(dirname "$0")/../lib/pg.sh"
#   h_pg_start || exit 1               # initdb + pg_ctl start in $T/pg; sets H_PG_CONNINFO
#   h_pg_sql "SELECT count(*) FROM tickets"
#   h_pg_restart                       # pg_ctl restart -m fast (clients lose their connections)
#
# The cluster is Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin, named explicitly: another
# pg_ctl may come first in PATH), run as user postgres (PostgreSQL refuses root) in $T/pg, with
# its unix socket in that directory and no TCP listener (listen_addresses = ''): it cannot meet
# the system's cluster or another test's. Authentication is scram-sha-256 for the user intake
# (password in $T/pg.password, for [store] password_file) and trust for postgres (the test's own
# queries). h_pg_start makes the EXIT trap stop it (before h_cleanup, which would count it as
# left running); the data directory goes with $T.

# shellcheck shell=bash

H_PG_BIN=${H_PG_BIN:-/usr/lib/postgresql/15/bin}
H_PG_DIR=
H_PG_CONNINFO=
H_PG_TRAP=

# _h_pg_as_postgres CMD...: run CMD as postgres, in a directory postgres may enter.
_h_pg_as_postgres() {
    (cd "$H_PG_DIR" && runuser -u postgres -- "$@")
}

# h_pg_start: make (first time) and start the cluster; wait until it accepts connections.
h_pg_start() {
    local data
    H_PG_DIR=$T/pg
    data=$H_PG_DIR/data
    if [ ! -x "$H_PG_BIN/initdb" ]; then
	h_fail "PostgreSQL 15 not installed ($H_PG_BIN/initdb; make deps)"
	return 1
    fi
    id postgres >/dev/null 2>&1 || { h_fail "no user postgres (apt-get install postgresql)"; return 1; }
    _h_pg_trap
    if [ ! -d "$data" ]; then
	mkdir -p "$H_PG_DIR"
	chown postgres: "$H_PG_DIR"
	chmod 755 "$H_PG_DIR"
	head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$T/pg.password"
	chmod 600 "$T/pg.password"
	if ! _h_pg_as_postgres "$H_PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust \
		--no-sync -E UTF8 --locale=C.UTF-8 > "$H_PG_DIR/initdb.log" 2>&1; then
	    h_fail "initdb failed"
	    sed 's/^/#   /' "$H_PG_DIR/initdb.log" | tail -n 20
	    return 1
	fi
	cat >> "$data/postgresql.conf" <<-CONF
	listen_addresses = ''
	unix_socket_directories = '$H_PG_DIR'
	unix_socket_permissions = 0777
	fsync = on
	max_connections = 60
	shared_buffers = 32MB
	logging_collector = off
	log_min_messages = warning
	CONF
	# The intake user logs in with its password; postgres (the test) by trust.
	cat > "$data/pg_hba.conf" <<-HBA
	local all postgres trust
	local all all scram-sha-256
	HBA
    fi
    if ! _h_pg_as_postgres "$H_PG_BIN/pg_ctl" -D "$data" -l "$H_PG_DIR/server.log" -w -t 60 \
	    start > /dev/null; then
	h_fail "pg_ctl start failed"
	tail -n 20 "$H_PG_DIR/server.log" | sed 's/^/#   /'
	return 1
    fi
    if [ -z "$(h_pg_sql "SELECT 1 FROM pg_roles WHERE rolname = 'intake'" postgres)" ]; then
	h_pg_sql "CREATE ROLE intake LOGIN PASSWORD '$(cat "$T/pg.password")'" postgres > /dev/null &&
	    h_pg_sql "CREATE DATABASE intake OWNER intake" postgres > /dev/null ||
	    { h_fail "cannot make role and database intake"; return 1; }
    fi
    H_PG_CONNINFO="host=$H_PG_DIR dbname=intake user=intake"
    return 0
}

# h_pg_sql SQL [DB]: run SQL as postgres on DB (default intake); unaligned, "|" between columns.
h_pg_sql() {
    _h_pg_as_postgres "$H_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$H_PG_DIR" \
	-d "${2:-intake}" -c "$1"
}

# h_pg_stop: stop the cluster (fast: open transactions are rolled back), wait for it.
h_pg_stop() {
    [ -n "$H_PG_DIR" ] && [ -f "$H_PG_DIR/data/postmaster.pid" ] || return 0
    _h_pg_as_postgres "$H_PG_BIN/pg_ctl" -D "$H_PG_DIR/data" -w -t 60 -m fast stop > /dev/null ||
	h_fail "pg_ctl stop failed"
}

# h_pg_restart: stop and start again; every client loses its connection.
h_pg_restart() {
    _h_pg_as_postgres "$H_PG_BIN/pg_ctl" -D "$H_PG_DIR/data" -l "$H_PG_DIR/server.log" -w -t 60 \
	-m fast restart > /dev/null || { h_fail "pg_ctl restart failed"; return 1; }
}

# h_pg_count TABLE [WHERE ...]: the rows of TABLE (with a condition if given), -1 when the
# cluster does not answer (a test polling it while PostgreSQL restarts).
h_pg_count() { h_pg_sql "SELECT count(*) FROM $1" 2>/dev/null || echo -1; }

# h_pg_w_stop I: SIGTERM worker I of the caller's WPID array (the tests that run several workers
# keep their pids there), wait for it and fail the test when it does not stop or exits non-zero.
h_pg_w_stop() {
    local i=$1 pid=${WPID[$1]} rc
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    if ! _h_wait_gone "$pid" 30; then
	h_fail "worker w$i did not stop on SIGTERM"
	kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    WPID[i]=
    [ "$rc" = 0 ] || h_fail "worker w$i exited with status $rc"
}

# h_pg_conf CONF: point CONF's [store] at the cluster (appended: later keys win).
h_pg_conf() {
    printf '\n[store]\nbackend = postgresql\nconninfo = %s\npassword_file = %s\n' \
	"$H_PG_CONNINFO" "$T/pg.password" >> "$1"
}

# h_pg_long_mail FILE MESSAGE-ID: a mail whose text is 900 KB of distinct short words (a pasted
# log, a listing), the word zebrafirst first and zebralast last: its whole tsvector would be over
# PostgreSQL's 1 MB. The index takes the text's first 256 KB (store.h, STORE_INDEX_TEXT_MAX).
h_pg_long_mail() {
    python3 - "$1" "$2" <<'PY'
import sys
words, size, i = ["zebrafirst"], 0, 0
while size < 900000:
    w = "%x" % (i * 7919 % 16777213)
    words.append(w)
    size += len(w) + 1
    i += 1
words.append("zebralast")
lines = [" ".join(words[j:j + 12]) for j in range(0, len(words), 12)]
with open(sys.argv[1], "w") as f:
    f.write("From: Loggy <loggy@client.test>\nTo: support@example.test\nSubject: a long log\n"
            "Message-ID: <%s>\n\n" % sys.argv[2] + "\n".join(lines) + "\n")
PY
}

# h_pg_long_index MESSAGE-ID: for the message of h_pg_long_mail, "t f t" when its vector finds
# zebrafirst, not zebralast (past 256 KB), and its body holds the whole text.
h_pg_long_index() {
    h_pg_sql "SELECT fts @@ plainto_tsquery('simple', 'zebrafirst'),
		     fts @@ plainto_tsquery('simple', 'zebralast'),
		     body LIKE '%zebralast%' AND octet_length(body) > 900000
	      FROM messages WHERE message_id = '$1'" | tr '|' ' '
}

# The EXIT trap: the worker (worker.sh), then the cluster, then h_cleanup.
_h_pg_trap() {
    [ -n "$H_PG_TRAP" ] && return 0
    H_PG_TRAP=1
    H_WORKER_TRAP=1		# worker.sh: do not replace this trap
    trap _h_pg_exit EXIT
}

_h_pg_exit() {
    local rc=$?
    declare -F h_worker_cleanup > /dev/null && h_worker_cleanup "$rc"
    declare -F h_pg_extra_cleanup > /dev/null && h_pg_extra_cleanup
    h_pg_stop
    if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -s "$H_PG_DIR/server.log" ]; then
	echo "# ---- last lines of pg/server.log ----"
	tail -n 20 "$H_PG_DIR/server.log" | sed 's/^/#   /'
    fi
    (exit "$rc")
    h_cleanup
}
