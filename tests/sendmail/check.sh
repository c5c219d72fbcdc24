#!/bin/bash
# check.sh: Intake behind a real Sendmail (make check-sendmail runs this inside a throw-away
# Debian 12 chroot made by ../shared/tools/fresh-debian/fresh.sh; never run it on a host you care
# about: it installs sendmail-bin, which removes Postfix, and rewrites /etc/mail).
#
# What it does, as a postmaster would (contrib/sendmail/README):
#   - installs the build packages and sendmail-bin (tests/lib/deps.sh sendmail), builds, and runs
#     `make install MILTER_GROUP=smmsp` (user intake, /etc/intake, the units with Group=smmsp);
#   - puts the lines of contrib/sendmail/intake.mc, as shipped, into /etc/mail/sendmail.mc and
#     runs `make -C /etc/mail`; example.test becomes a local domain with the users support,
#     other and customer, so that accepted mail is delivered to /var/mail/USER;
#   - starts a private Redis, intake-milter as root with [milter] user = intake:smmsp (socket
#     intake:smmsp 0660 in /run/intake), intake-worker, and Sendmail on 127.0.0.1:25.
# and asserts:
#   1. mail to support@ is accepted (250), its Sendmail queue id starts the milter's log line,
#      it becomes a ticket, and is delivered with X-Intake-Id; the customer gets the
#      acknowledgement;
#   2. with Redis down, mail to support@ gets 451 4.3.0 (logged under its queue id) and mail to
#      other@ is accepted and delivered untouched (no X-Intake-Id);
#   3. with the milter stopped, F=T defers all mail at MAIL FROM (4xx), as contrib/sendmail/README
#      says.
# Prints TAP-like "ok"/"not ok" lines and "N passed, N failed"; exit status 0 only if all passed.
set -u
# Only where it can do no harm: make check-sendmail sets INTAKE_THROWAWAY_SYSTEM=1 in the chroot
# it made; anywhere else (a host with Postfix, which this would remove) it refuses, before it
# changes anything.
if [ "${INTAKE_THROWAWAY_SYSTEM:-}" != 1 ]; then
    echo "check-sendmail: refusing to run outside the throw-away chroot of make check-sendmail" \
	"(it installs sendmail-bin, which removes Postfix, and rewrites /etc/mail)" >&2
    exit 2
fi
if dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q 'install ok'; then
    echo "check-sendmail: postfix is installed here: refusing to replace it with Sendmail" >&2
    exit 2
fi
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
W=/var/tmp/intake-sendmail	# Redis, logs
mkdir -p "$W" || exit 2
PASS=0 FAIL=0
REDIS_PID="" MILTER_PID="" WORKER_PID=""

ok() { PASS=$((PASS + 1)); echo "ok $((PASS + FAIL)) - $*"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok $((PASS + FAIL)) - $*"; }
die() { notok "$*"; finish 1; }
note() { echo "# $*"; }

# poll 'condition' SECONDS: 0 as soon as the condition holds, 1 when it still fails at the end.
poll() {
    local end=$((SECONDS + $2))
    until eval "$1"; do
	[ "$SECONDS" -ge "$end" ] && return 1
	sleep 0.2
    done
}
alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
stop_pid() {	# stop_pid PID: SIGTERM, wait up to 30 s, then SIGKILL
    alive "$1" || return 0
    kill -TERM "$1" 2>/dev/null
    poll "! alive $1" 30 || kill -KILL "$1" 2>/dev/null
}

finish() {
    trap - EXIT
    [ -f /run/sendmail/mta/sendmail.pid ] && stop_pid "$(head -n1 /run/sendmail/mta/sendmail.pid)"
    stop_pid "$WORKER_PID"
    stop_pid "$MILTER_PID"
    stop_pid "$REDIS_PID"
    if [ "$FAIL" != 0 ] || [ "${1:-0}" != 0 ]; then
	for f in "$W/milter.log" "$W/worker.log" "$W"/*.swaks; do
	    [ -s "$f" ] && { echo "# ---- last lines of $f"; tail -n 25 "$f" | sed 's/^/#   /'; }
	done
    fi
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" = 0 ] && [ "${1:-0}" = 0 ]
    exit
}
trap 'finish 1' EXIT

# ---------------------------------------------------------------- install, build
sh tests/lib/deps.sh sendmail || die "installing the packages failed"
note "$(dpkg-query -W -f='sendmail-bin ${Version}' sendmail-bin)"
make -j2 all > "$W.build.log" 2>&1 || { tail -n 30 "$W.build.log"; die "make all failed"; }
make install MILTER_GROUP=smmsp > "$W.install.log" 2>&1 ||
    { tail -n 30 "$W.install.log"; die "make install MILTER_GROUP=smmsp failed"; }
grep -qx 'Group=smmsp' /etc/systemd/system/intake-milter.service &&
    ok "make install MILTER_GROUP=smmsp: the milter's unit runs it in group smmsp" ||
    notok "make install MILTER_GROUP=smmsp: no Group=smmsp in intake-milter.service"
getent passwd intake > /dev/null || die "make install did not create the user intake"

# ---------------------------------------------------------------- Sendmail
# Local users: the mailbox's address (its mail is delivered too: [mailbox] deliver = yes), a
# non-mailbox address, and the customer who receives the acknowledgement.
for u in support other customer; do
    getent passwd "$u" > /dev/null || useradd -M -s /usr/sbin/nologin "$u" || die "useradd $u"
done
# A chroot shares the host's name; Sendmail waits minutes for a name it cannot qualify, and
# defers delivery while a domain of an address does not resolve (no DNS here).
grep -q 'mx.example.test' /etc/hosts ||
    echo "127.0.1.1 mx.example.test $(hostname) example.test customer.test" >> /etc/hosts
printf '%s\n' example.test customer.test >> /etc/mail/local-host-names
mc=/etc/mail/sendmail.mc
# contrib/sendmail/README: the lines of intake.mc go before MAILER_DEFINITIONS and the MAILER()
# lines. The first two lines (this host's name; no DNS in the chroot, so sender domains do not
# resolve) are the test's, not part of what a postmaster adds.
awk -v inc="$ROOT/contrib/sendmail/intake.mc" -v q="'" '
    !done && /^(MAILER_DEFINITIONS|MAILER\()/ {
	print "define(`confDOMAIN_NAME" q ", `mx.example.test" q ")dnl"
	print "FEATURE(`accept_unresolvable_domains" q ")dnl"
	while ((getline l < inc) > 0) print l
	done = 1
    }
    { print }
    END { if (!done) exit 1 }' "$mc" > "$mc.new" || die "no MAILER() line in $mc"
mv "$mc.new" "$mc"
make -C /etc/mail > "$W.mc.log" 2>&1 || { cat "$W.mc.log"; die "make -C /etc/mail failed"; }
grep -q '^Xintake, S=unix:/run/intake/milter.sock, F=T' /etc/mail/sendmail.cf &&
    ok "make -C /etc/mail: sendmail.cf has the milter of contrib/sendmail/intake.mc" ||
    notok "sendmail.cf has no Xintake line: $(grep '^X' /etc/mail/sendmail.cf)"

# ---------------------------------------------------------------- Redis, milter, worker
mkdir -p "$W/redis" && chown redis:redis "$W/redis" 2>/dev/null
redis-server --port 0 --unixsocket "$W/redis/redis.sock" --unixsocketperm 777 --dir "$W/redis" \
    --appendonly yes --appendfsync always --daemonize yes --pidfile "$W/redis/redis.pid" \
    --logfile "$W/redis/redis.log" || die "redis-server did not start"
poll "[ -S $W/redis/redis.sock ] && [ -s $W/redis/redis.pid ]" 20 || die "redis did not come up"
REDIS_PID=$(cat "$W/redis/redis.pid")

conf=/etc/intake/intake.conf
cat > "$conf" <<EOF
# written by tests/sendmail/check.sh
[milter]
socket = unix:/run/intake/milter.sock
socket_mode = 0660
user = intake:smmsp
log = stderr
[redis]
server = unix:$W/redis/redis.sock
[worker]
user = intake
log = stderr
block = 200ms
[store]
path = /var/lib/intake/tickets.db
templates = /etc/intake/templates
[smtp]
relay = 127.0.0.1:25
[mailbox support]
address = support@example.test
display_name = Example Support
EOF
# What systemd's RuntimeDirectory= does for the unit (contrib/sendmail/README).
install -d -o intake -g smmsp -m 0750 /run/intake
/usr/local/sbin/intake-milter -t -c "$conf" || die "intake-milter -t failed"
start_milter() {
    /usr/local/sbin/intake-milter -f -c "$conf" >> "$W/milter.log" 2>&1 &
    MILTER_PID=$!
    poll "[ -S /run/intake/milter.sock ]" 30 || die "intake-milter did not make its socket"
}
start_milter
sock=$(stat -c '%U:%G %a' /run/intake/milter.sock)
[ "$sock" = "intake:smmsp 660" ] && ok "milter socket is intake:smmsp 0660" ||
    notok "milter socket is $sock, not intake:smmsp 660"
/usr/local/sbin/intake-worker -f -c "$conf" >> "$W/worker.log" 2>&1 &
WORKER_PID=$!

mkdir -p /run/sendmail/mta && chown smmta:smmsp /run/sendmail/mta 2>/dev/null
/usr/sbin/sendmail -bd -q5s || die "sendmail -bd failed"
poll "ss -Hltn 'sport = :25' | grep -q ." 60 || die "sendmail does not listen on port 25"
note "sendmail $(head -n1 /run/sendmail/mta/sendmail.pid) on 127.0.0.1:25"

# send NAME TO [SWAKS-OPTIONS...]: one mail; the SMTP dialogue in $W/NAME.swaks
send() {
    local name=$1 to=$2
    shift 2
    swaks --server 127.0.0.1:25 --from customer@customer.test --to "$to" \
	--header "Subject: sendmail check $name" --body "Mail $name, sent by check.sh." \
	"$@" > "$W/$name.swaks" 2>&1
}
# reply NAME: the server's answer to the end of data (the line after the lone ".")
reply() { awk '/^ *-> \.$/ { getline; sub(/^ *<[-*]+ */, ""); print; exit }' "$W/$1.swaks"; }
tickets() { /usr/local/bin/intakectl -c "$conf" --json tickets 2>/dev/null | jq length; }

# ---------------------------------------------------------------- 1. a ticket
send first support@example.test
r=$(reply first)
case "$r" in
    250*) ok "mail to support@ accepted: $r" ;;
    *) notok "mail to support@ not accepted: ${r:-$(tail -n 3 "$W/first.swaks")}" ;;
esac
qid=$(echo "$r" | sed -n 's/^250 2\.0\.0 \([A-Za-z0-9]*\) Message accepted.*/\1/p')
if [ -n "$qid" ] && grep -q "^.*: $qid: queued envelope=" "$W/milter.log"; then
    ok "the milter's log line starts with Sendmail's queue id $qid"
else
    notok "no milter log line '$qid: queued envelope=' (queue id '${qid:-none}')"
fi
poll '[ "$(tickets)" = 1 ]' 60 && ok "the mail became ticket $(/usr/local/bin/intakectl -c "$conf" \
    --json tickets | jq -r '.[0].number')" || notok "no ticket after 60s (tickets: $(tickets))"
poll "grep -q 'sendmail check first' /var/mail/support 2>/dev/null" 60 &&
    grep -q '^X-Intake-Id: ' /var/mail/support &&
    ok "delivered to support's mailbox with X-Intake-Id" ||
    notok "not delivered to /var/mail/support with X-Intake-Id"
poll "grep -q '^Subject:.*\[#INT-' /var/mail/customer 2>/dev/null" 60 &&
    ok "the customer got the acknowledgement through Sendmail" ||
    notok "no acknowledgement in /var/mail/customer"

# ---------------------------------------------------------------- 2. Redis down
stop_pid "$REDIS_PID"
REDIS_PID=""
send down support@example.test
r=$(reply down)
case "$r" in
    451\ 4.3.0*) ok "Redis down: mail to support@ deferred: $r" ;;
    *) notok "Redis down: mail to support@ answered '${r:-$(tail -n 3 "$W/down.swaks")}', not 451 4.3.0" ;;
esac
grep -Eq ': [A-Za-z0-9]+: deferred \(451 4\.3\.0\)' "$W/milter.log" &&
    ok "the deferral is logged under its queue id: $(grep -Eo '[A-Za-z0-9]+: deferred \(451 4\.3\.0\)' \
	"$W/milter.log" | tail -n1)" || notok "no 'QID: deferred (451 4.3.0)' line in the milter's log"
send untouched other@example.test
r=$(reply untouched)
case "$r" in
    250*) ok "Redis down: mail to other@ accepted: $r" ;;
    *) notok "Redis down: mail to other@ answered '${r:-$(tail -n 3 "$W/untouched.swaks")}'" ;;
esac
if poll "grep -q 'sendmail check untouched' /var/mail/other 2>/dev/null" 60; then
    grep -q '^X-Intake-Id:' /var/mail/other && notok "other@'s mail has an X-Intake-Id" ||
	ok "other@'s mail delivered untouched (no X-Intake-Id)"
else
    notok "other@'s mail not delivered to /var/mail/other"
fi

# ---------------------------------------------------------------- 3. milter stopped, F=T
stop_pid "$MILTER_PID"
MILTER_PID=""
send stopped other@example.test
r=$(awk '/^ *-> MAIL FROM/ { getline; sub(/^ *<[-*]+ */, ""); print; exit }' "$W/stopped.swaks")
case "$r" in
    4*) ok "milter stopped, F=T: mail to other@ deferred at MAIL FROM: $r" ;;
    *) notok "milter stopped, F=T: MAIL FROM of a mail to other@ answered '${r:-nothing}', not 4xx" ;;
esac
finish 0
