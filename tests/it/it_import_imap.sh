#!/bin/bash
# it_import_imap.sh: intakectl import of an IMAP folder. A private Dovecot (Debian's dovecot-imapd)
# on a loopback port, IMAPS only, with a self-signed certificate made here, a passwd-file user,
# its own base_dir and mail_location under $T, holds an INBOX of written mails and real ones from
# the corpus (one of them older than --since, by its Date and its arrival time):
#   - without --cacert the certificate is refused (TLS is verified by default), and a wrong
#     password is refused: exit 1, nothing queued;
#   - with --cacert and --since: one ticket per mail since that day, the older one is not even
#     fetched (SEARCH SINCE), no acknowledgement;
#   - nothing is marked read (EXAMINE, BODY.PEEK[]): the \Seen flags are as before;
#   - a second run adds no ticket.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_import_imap

command -v dovecot > /dev/null || { echo "not ok - dovecot not installed (make deps)"; exit 1; }
C=$T/intake.conf
CORPUS=${INTAKE_CORPUS:-$H_ROOT/../shared/corpus}
D=$T/dovecot
MAIL=$D/mail/importer
mkdir -p "$D/run" "$D/state" "$MAIL/cur" "$MAIL/new" "$MAIL/tmp"

# ---------------------------------------------------------------------------------------------
# The folder

written_mail() {
    printf 'From: Customer %s <imap%s@example.org>\nTo: support@%s\n' "$1" "$1" "$H_DOMAIN"
    printf 'Subject: imap import %s\nDate: %s\nMessage-ID: <imap-%s@example.org>\n\n' \
	"$1" "$2" "$1"
    printf 'Hello,\nmail %s from the old mailbox.\n' "$1"
}
N=0
for i in 1 2 3; do
    written_mail "$i" "Mon, 30 Nov 2026 09:0$i:00 +0000" > "$MAIL/new/10$i.host:2,"
    N=$((N + 1))
done
# Read by the team already (\Seen): stays so.
written_mail 4 "Mon, 30 Nov 2026 09:04:00 +0000" > "$MAIL/cur/104.host:2,S"
N=$((N + 1))
if [ -d "$CORPUS/normal/rt" ]; then
    for f in "$CORPUS"/normal/rt/*; do
	case "$f" in *.json) continue ;; esac
	N=$((N + 1))
	cp "$f" "$MAIL/cur/2$N.host:2,"
	[ "$N" -ge 9 ] && break
    done
fi
# Older than --since, by Date and by arrival (Dovecot's internal date of a Maildir file is its mtime).
written_mail old "Wed, 02 Jan 1985 10:00:00 +0000" > "$MAIL/cur/099.host:2,"
touch -d 1985-01-02 "$MAIL/cur/099.host:2,"
# Every other mail arrived "today"; --since 1990-01-01 goes by arrival (SEARCH SINCE) and by Date.
find "$MAIL" -type f ! -name '099.*' -exec touch {} +
# Should a corpus mail be dated before 1990, it is fetched and then skipped by its Date.
OLD=0
for f in "$MAIL"/cur/2*; do
    [ -e "$f" ] || continue
    d=$(awk '/^\r?$/ { exit } tolower($1) == "date:" { sub(/^[^:]*:[ \t]*/, ""); sub(/\r$/, ""); print; exit }' "$f")
    t=$(date -d "$d" +%s 2>/dev/null) || continue
    [ "$t" -lt "$(date -d 1990-01-01Z +%s)" ] && OLD=$((OLD + 1))
done
seen_before=$(find "$MAIL" -type f -name '*:2,*S*' | wc -l)
chown -R nobody:nogroup "$D/mail"

# ---------------------------------------------------------------------------------------------
# Dovecot

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" > "$D/openssl.log" 2>&1 ||
    h_die "openssl could not make a certificate: $(cat "$D/openssl.log")"
printf 'importer:{PLAIN}s3cret::::::\n' > "$D/passwd"
IP=$(h_free_port)
cat > "$D/dovecot.conf" <<EOF
# A private Dovecot for $H_NAME: nothing of the system's (/etc/dovecot) is read.
base_dir = $D/run
state_dir = $D/state
instance_name = intake-$H_NAME
log_path = $D/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$D/cert.pem
ssl_key = <$D/key.pem
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/mail/%u
}
mail_location = maildir:$D/mail/%u
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IP
    ssl = yes
  }
}
EOF
dovecot -c "$D/dovecot.conf" || h_die "dovecot did not start: $(tail -n 5 "$D/dovecot.log")"
h_poll "_h_listening $IP" 20 || h_die "dovecot does not listen on 127.0.0.1:$IP"
h_note "dovecot $(cat "$D/run/master.pid") on 127.0.0.1:$IP (IMAPS)"
stop_dovecot() {
    local pid
    pid=$(cat "$D/run/master.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null
    _h_wait_gone "$pid" 20 || h_fail "dovecot $pid did not stop on SIGTERM"
}

URL=imaps://127.0.0.1:$IP/INBOX
printf 'importer\ns3cret\n' > "$T/login"
printf 'importer\nwrong\n' > "$T/login.wrong"
chmod 600 "$T/login" "$T/login.wrong"

h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
h_worker_start "$C" || exit 1

# ---------------------------------------------------------------------------------------------
# Refusals

h_ctl "$C" import --mailbox support --login-file "$T/login" "$URL" > "$T/nocert.out" 2>&1
h_assert_eq 1 "$?" "without --cacert: the self-signed certificate is refused (exit 1)"
h_check "grep -qi 'certificate' '$T/nocert.out'" "without --cacert: the error names the certificate"
h_ctl "$C" import --mailbox support --login-file "$T/login.wrong" --cacert "$D/cert.pem" "$URL" \
    > "$T/wrong.out" 2>&1
h_assert_eq 1 "$?" "a wrong password: exit 1"
h_check "grep -qi 'login' '$T/wrong.out'" "a wrong password: the error says the login failed"
h_assert_eq 0 "$(h_xlen)" "nothing queued by the refused runs"

# ---------------------------------------------------------------------------------------------
# The import

h_ctl "$C" import --mailbox support --since 1990-01-01 --login-file "$T/login" \
    --cacert "$D/cert.pem" "$URL" > "$T/imap1.out" 2> "$T/imap1.err"
h_assert_eq 0 "$?" "import IMAP: exit status 0"
Q=$((N - OLD))
h_check "grep -q '^import: read $N, queued $Q (truncated 0), skipped $OLD' '$T/imap1.out'" \
    "import IMAP: read $N (the older mail not fetched: SEARCH SINCE), queued $Q: $(cat "$T/imap1.out")"
h_wait_for "h_worker_drained '$C' $Q" 60 "worker: $Q tickets from the IMAP folder"
h_assert_eq 4 "$(h_sql "$C" "SELECT count(*) FROM messages WHERE message_id LIKE 'imap-%'")" \
    "store: the written mails are there"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM messages WHERE message_id = 'imap-old@example.org'")" \
    "store: not the one before --since"
h_assert_eq 0 "$(h_outbox_count "$C")" "no acknowledgement owed (no --acknowledge)"
h_assert_eq "$seen_before" "$(find "$MAIL" -type f -name '*:2,*S*' | wc -l)" \
    "IMAP: nothing marked read (\\Seen flags as before: $seen_before)"

h_ctl "$C" import --mailbox support --login-file "$T/login" --cacert "$D/cert.pem" "$URL" \
    > "$T/imap2.out" 2>&1
h_assert_eq 0 "$?" "import IMAP again, without --since: exit status 0"
h_check "grep -q '^import: read $((N + 1)), queued $((N + 1))' '$T/imap2.out'" \
    "import IMAP again: all $((N + 1)) mails read: $(cat "$T/imap2.out")"
h_wait_for "h_worker_drained '$C' $((N + 1))" 60 \
    "import IMAP again: only the $((OLD + 1)) mails before --since added tickets ($((N + 1)) in all)"

stop_dovecot
h_worker_stop
