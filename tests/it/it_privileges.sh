#!/bin/bash
# it_privileges.sh: daemons started as root. Without a [milter]/[worker] user they refuse to
# start; with "user = nobody:nogroup" they run as nobody/nogroup (every uid and gid in
# /proc/PID/status, no supplementary root group), the milter's socket belongs to nobody:nogroup
# with its configured mode, and a mail goes all the way (Postfix -> milter -> Redis -> worker ->
# SQLite) with the store's files owned by nobody and readable by no one else. A store file made
# world-readable is named in a warning at the next start.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_privileges

C=$T/intake.conf
RUN_AS=nobody
RUN_GROUP=nogroup
uid=$(id -u "$RUN_AS") gid=$(getent group "$RUN_GROUP" | cut -d: -f3)
[ -n "$uid" ] && [ -n "$gid" ] || h_die "no user $RUN_AS or group $RUN_GROUP on this host"

h_redis_start || exit 1
chmod 0777 "$H_REDIS_SOCK"		# the daemons connect as nobody
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
mkdir -p "$T/store"
chown "$RUN_AS:$RUN_GROUP" "$T/store"
chmod 0750 "$T/store"

# status_ids PID FIELD: the four ids of a "Uid:" or "Gid:" line of /proc/PID/status.
status_ids() {
    awk -v f="$2:" '$1 == f { print $2, $3, $4, $5 }' "/proc/$1/status"
}

# 1. Started as root without a user: refused, with the key and the fix named.
h_worker_conf "$C" "$S" "[store]" "path = $T/store/tickets.db" "[milter]" "user =" "[worker]" "user ="
for d in milter worker; do
    out=$("$INTAKE_BIN/intake-$d" -f -c "$C" 2>&1)
    rc=$?
    h_assert_eq 1 "$rc" "no user: intake-$d refuses to start as root"
    grep -qF "$C: [$d] key 'user' is not set: refusing to run as root" <<< "$out" &&
	h_pass "no user: intake-$d names the key and what to set" ||
	h_fail "no user: unexpected message from intake-$d: $out"
done
[ ! -e "$T/store/tickets.db" ] && h_pass "no user: no store file made" || h_fail "no user: store file made"

# 2. user = nobody:nogroup.
h_worker_conf "$C" "$S" "[store]" "path = $T/store/tickets.db" \
    "[milter]" "user = $RUN_AS:$RUN_GROUP" "[worker]" "user = $RUN_AS:$RUN_GROUP"
h_milter_start "$C" || exit 1
h_worker_start "$C" || exit 1
for d in "milter $H_MILTER_PID" "worker $H_WORKER_PID"; do
    set -- $d
    h_assert_eq "$uid $uid $uid $uid" "$(status_ids "$2" Uid)" "$1: real, effective, saved and fs uid are $RUN_AS"
    h_assert_eq "$gid $gid $gid $gid" "$(status_ids "$2" Gid)" "$1: real, effective, saved and fs gid are $RUN_GROUP"
    groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$2/status")
    [[ " $groups " != *" 0 "* ]] && h_pass "$1: no supplementary group root (Groups:$groups)" ||
	h_fail "$1: still in group root (Groups:$groups)"
done
h_assert_eq "$RUN_AS:$RUN_GROUP 666" "$(stat -c '%U:%G %a' "$T/milter.sock")" \
    "milter socket: owned by $RUN_AS:$RUN_GROUP, mode 0666 as configured"

P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
swaks --server "127.0.0.1:$P" --helo client.test --from customer@client.test \
    --to "support@$H_DOMAIN" --header "Subject: privileges" --body "hello" > "$T/swaks.out" 2>&1 ||
    h_fail "swaks: mail not accepted: $(tail -n 3 "$T/swaks.out")"
h_wait_for '[ "$(h_tickets_count "$C")" = 1 ]' 30 "a mail through the milter and worker as $RUN_AS made a ticket"

for f in tickets.db tickets.db-wal tickets.db-shm; do
    if [ -e "$T/store/$f" ]; then
	h_assert_eq "$RUN_AS" "$(stat -c %U "$T/store/$f")" "store: $f owned by $RUN_AS"
	mode=$(stat -c %a "$T/store/$f")
	[ $((8#$mode & 8#007)) = 0 ] && h_pass "store: $f mode $mode, nothing for others" ||
	    h_fail "store: $f mode $mode lets others in"
    else
	h_fail "store: $f missing"
    fi
done

# 3. A store file others can read is named at the next start, with the fix.
h_worker_stop
chmod 0644 "$T/store/tickets.db"
h_worker_start "$C" || exit 1
_h_worker_log | grep -qF "$T/store/tickets.db: mode 0644 lets every user of this host read the tickets: chmod o-rwx $T/store/tickets.db" &&
    h_pass "store mode 0644: warned, naming the file and the fix" ||
    h_fail "store mode 0644: no warning in worker.log"
h_worker_stop
h_milter_stop
