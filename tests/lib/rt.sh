# rt.sh: a private Request Tracker 5 for the tests of tests/rt/ (make check-rt). Source it from
# bash after harness.sh and h_init:
#
#   . "$H_ROOT/tests/lib/rt.sh"
#   rt_start                      # RT on 127.0.0.1:$RT_PORT, $RT_URL, token in $RT_TOKEN_FILE
#   rt_api GET "/tickets?query=..."   # REST2 with the token; prints the body
#   rt_stop                       # (also done at exit)
# Source it after worker.sh: rt_start's EXIT trap stops the worker, then RT, then h_cleanup.
#
# Debian 12's RT 5.0.3 (request-tracker5, rt5-db-sqlite, rt5-standalone: the "rt" group of
# tests/lib/deps.sh, installed by make check-rt only). Nothing of the system's RT is used or
# changed: RT reads $T/rt/RT_SiteConfig.pm (RT_SITE_CONFIG) and no RT_SiteConfig.d but an empty
# one of its own (RT_SITE_CONFIG_DIR), its SQLite database, Mason cache and sessions are under
# $T/rt, it logs to $T/rt/rt.log, and the mail it would send (autoreplies) is appended to
# $T/rt/outgoing.mbox instead of going to a sendmail. The database is made by rt-setup-database
# --action init; a small Perl script (RT's own API) then creates the queue "Support", the
# ticket custom field "Intake number" on every queue, and an auth token for root in
# $RT_TOKEN_FILE. rt-server (Starlet, 2 workers) serves it; rt_start polls REST2 until it answers.

# shellcheck shell=bash

RT_LIB=/usr/share/request-tracker5/lib
RT_SERVER=/usr/share/request-tracker5/libexec/rt-server
RT_PORT=
RT_URL=
RT_DIR=
RT_PID=
RT_TOKEN_FILE=

# rt_available: RT is installed (else the caller skips: make check-rt installs it).
rt_available() {
    [ -x "$RT_SERVER" ] && [ -x /usr/sbin/rt-setup-database ] && [ -d "$RT_LIB/RT" ] \
	&& perl -MDBD::SQLite -e1 2>/dev/null
}

_rt_env() {
    env RT_SITE_CONFIG="$RT_DIR/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$RT_DIR/site.d" "$@"
}

rt_start() {
    # Our trap stops the worker too: h_worker_start must not replace it (worker.sh).
    trap _rt_exit EXIT
    H_WORKER_TRAP=1
    RT_DIR=$T/rt
    RT_PORT=$(h_free_port) || h_die "no port for RT"
    RT_URL=http://127.0.0.1:$RT_PORT
    RT_TOKEN_FILE=$RT_DIR/token
    mkdir -p "$RT_DIR/site.d" "$RT_DIR/mason" "$RT_DIR/sessions"
    cat > "$RT_DIR/RT_SiteConfig.pm" <<EOF
Set(\$rtname, 'intake-test');
Set(\$Organization, 'intake.test');
Set(\$Timezone, 'UTC');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $RT_PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, 'http://127.0.0.1:$RT_PORT');
Set(\$CorrespondAddress, 'rt@example.test');
Set(\$CommentAddress, 'rt-comment@example.test');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$RT_DIR/rt.db');
Set(\$DatabaseHost, undef);
Set(\$DatabaseUser, undef);
Set(\$DatabasePassword, undef);
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, undef);
Set(\$LogToFile, 'warning');
Set(\$LogDir, '$RT_DIR');
Set(\$LogToFileNamed, 'rt.log');
Set(%GnuPG, Enable => 0);
Set(%SMIME, Enable => 0);
# No mail leaves this RT: what it would send is kept in a file.
Set(\$MailCommand, sub {
    my \$entity = shift;
    open(my \$fh, '>>', '$RT_DIR/outgoing.mbox') or return 0;
    print \$fh "From rt\\n", \$entity->as_string, "\\n";
    close \$fh;
    return 1;
});
# The Debian paths of these are the system RT's: this one keeps its own.
\$RT::MasonDataDir = '$RT_DIR/mason';
\$RT::MasonSessionDir = '$RT_DIR/sessions';
\$RT::VarPath = '$RT_DIR';
1;
EOF
    _rt_env /usr/sbin/rt-setup-database --action init > "$RT_DIR/setup.log" 2>&1 < /dev/null \
	|| { tail -n 20 "$RT_DIR/setup.log" | sed 's/^/#   /'; h_die "rt-setup-database failed"; }
    cat > "$RT_DIR/setup.pl" <<'EOF'
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT;
RT::LoadConfig();
RT::Init();
my $system = RT->SystemUser;
my $queue = RT::Queue->new($system);
my ($qid, $qmsg) = $queue->Create(Name => 'Support', CorrespondAddress => 'support@example.test');
die "queue: $qmsg\n" unless $qid;
my $cf = RT::CustomField->new($system);
my ($cid, $cmsg) = $cf->Create(Name => 'Intake number', Type => 'FreeformSingle',
                               LookupType => 'RT::Queue-RT::Ticket');
die "custom field: $cmsg\n" unless $cid;
my ($aid, $amsg) = $cf->AddToObject(RT::Queue->new($system));   # every queue
die "custom field on queues: $amsg\n" unless $aid;
my $root = RT::User->new($system);
$root->Load('root');
die "no root user\n" unless $root->id;
my $token = RT::AuthToken->new($system);
my ($tid, $tmsg, $string) = $token->Create(Owner => $root->id, Description => 'intake tests');
die "token: $tmsg\n" unless $tid;
print "$string\n";
EOF
    _rt_env perl "$RT_DIR/setup.pl" > "$RT_TOKEN_FILE" 2> "$RT_DIR/setup-perl.log" \
	|| { tail -n 20 "$RT_DIR/setup-perl.log" | sed 's/^/#   /'; h_die "RT setup script failed"; }
    chmod 600 "$RT_TOKEN_FILE"
    (cd "$RT_DIR" && exec env RT_SITE_CONFIG="$RT_DIR/RT_SiteConfig.pm" \
	RT_SITE_CONFIG_DIR="$RT_DIR/site.d" "$RT_SERVER" --port "$RT_PORT" --host 127.0.0.1 \
	--max-workers 2 > "$RT_DIR/server.log" 2>&1) &
    RT_PID=$!
    # The first request compiles RT's Mason pages: allow minutes on a loaded machine.
    if ! h_poll '[ "$(rt_api_status GET /queues/all)" = 200 ]' 300; then
	tail -n 20 "$RT_DIR/server.log" "$RT_DIR/rt.log" 2>/dev/null | sed 's/^/#   /'
	h_die "RT did not answer REST2 on $RT_URL"
    fi
    h_note "RT 5 on $RT_URL (pid $RT_PID)"
}

# rt_api METHOD PATH [JSON]: a REST2 request with root's token; prints the body.
rt_api() {
    curl -s --max-time 60 -X "$1" -H "Authorization: token $(cat "$RT_TOKEN_FILE")" \
	-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$RT_URL/REST/2.0$2"
}

# rt_api_status METHOD PATH: only the HTTP status (000 when RT is not reached).
rt_api_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X "$1" \
	-H "Authorization: token $(cat "$RT_TOKEN_FILE")" "$RT_URL/REST/2.0$2"
}

# _rt_any_alive PID...: one of them still runs.
_rt_any_alive() {
    local p
    for p in "$@"; do
	_h_alive "$p" && return 0
    done
    return 1
}

# rt_stop: stop rt-server and its workers, waiting for them (SIGKILL after 30 s).
rt_stop() {
    local pids
    [ -n "$RT_PID" ] || return 0
    pids="$RT_PID $(pgrep -P "$RT_PID" 2>/dev/null | tr '\n' ' ')"
    # shellcheck disable=SC2086 # the list of pids
    kill -TERM $pids 2>/dev/null
    # shellcheck disable=SC2086
    h_poll "! _rt_any_alive $pids" 30 || kill -KILL $pids 2>/dev/null
    wait "$RT_PID" 2>/dev/null
    RT_PID=
}

_rt_rc() { return "$1"; }

# _rt_exit: the EXIT trap once rt_start ran: stops the worker (worker.sh, when sourced), then RT
# (which h_cleanup would count as a leftover), shows RT's log on failure, then h_cleanup with the
# script's exit status.
_rt_exit() {
    local rc=$?
    declare -F h_worker_cleanup > /dev/null && h_worker_cleanup "$rc"
    rt_stop
    if [ -n "$RT_DIR" ] && { [ "$H_FAILED" -gt 0 ] || { [ "$rc" != 0 ] && [ "$rc" != 77 ]; }; }; then
	echo "# ---- last lines of RT's logs ----"
	tail -n 20 "$RT_DIR/rt.log" "$RT_DIR/server.log" 2>/dev/null | sed 's/^/#   /'
    fi
    _rt_rc "$rc"
    h_cleanup
}
