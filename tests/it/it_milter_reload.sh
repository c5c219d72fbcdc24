#!/bin/bash
# it_milter_reload.sh: SIGHUP makes intake-milter read its configuration again. A mailbox added
# to the file is queued after the SIGHUP (and not before); an SMTP session open across the SIGHUP
# keeps the configuration it started with; a file with errors is logged (file:line: key) and the
# configuration in force is kept; bursts of 200 SIGHUPs while mail flows do not stop
# the milter and the file they follow is in effect; 300 mails in 10
# parallel sessions under continual SIGHUPs are all queued; SIGTERM still stops it with status 0
# and no sanitizer report.
. "$(dirname "$0")/../lib/harness.sh"
h_init it_milter_reload

C=$T/intake.conf
LOG=$T/milter.log
h_redis_start || exit 1
h_write_conf "$C"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1

send() { h_send_swaks "$P" "$@"; }

# mailboxes_of ID: the mailbox names of the envelope of the mail with Message-Id ID ("" if none).
mailboxes_of() {
    h_stream_envelopes | jq -r --arg id "$1" 'select((.message_id // "" | ltrimstr("<") | rtrimstr(">")) == $id)
					       | [.mailboxes[].name] | join(",")'
}

# reloads: number of successful reloads the milter logged so far.
reloads() {
    grep -c 'SIGHUP: configuration .* read again' "$LOG"
}

# hup_and_wait PATTERN COUNT: SIGHUP, then wait until PATTERN occurs COUNT times in the log.
hup_and_wait() {
    kill -HUP "$H_MILTER_PID"
    h_wait_for "[ \"\$(grep -c -- '$1' '$LOG')\" -ge $2 ]" 20 "milter logged '$1' (#$2)"
}

# smtp_open/smtp_cmd: an SMTP session by hand on fd 3, to keep it open across a SIGHUP.
smtp_reply() {
    local line
    while IFS= read -r -t 20 line <&3; do
	line=${line%$'\r'}
	case "$line" in [0-9][0-9][0-9]' '*|[0-9][0-9][0-9]) echo "$line"; return 0 ;; esac
    done
    echo "timeout"
}
smtp_cmd() {
    printf '%s\r\n' "$1" >&3
    smtp_reply
}

# 1. newbox@ is no mailbox yet: accepted, delivered, not queued.
send newbox@example.test before-1@client.test
h_assert_eq 0 "$(h_xlen)" "before SIGHUP: mail to newbox@ not queued"

# 2. A session opened now keeps the old configuration: RCPT newbox@ before the SIGHUP, DATA after.
exec 3<>"/dev/tcp/127.0.0.1/$P" || h_die "cannot connect to 127.0.0.1:$P"
smtp_reply > /dev/null
smtp_cmd "EHLO client.test" > /dev/null
smtp_cmd "MAIL FROM:<sender@client.test>" > /dev/null
h_assert_eq "250 2.1.5 Ok" "$(smtp_cmd "RCPT TO:<newbox@example.test>")" "open session: RCPT newbox@ accepted"

printf '%s\n' "" "[mailbox newbox]" "address = newbox@$H_DOMAIN" >> "$C"
hup_and_wait 'read again (3 mailboxes)' 1

h_assert_eq "354" "$(smtp_cmd "DATA" | cut -c1-3)" "open session: DATA"
printf 'Message-Id: <open-1@client.test>\r\nSubject: open across SIGHUP\r\n\r\nbody\r\n.\r\n' >&3
h_assert_eq "250" "$(smtp_reply | cut -c1-3)" "open session: mail accepted"
smtp_cmd "QUIT" > /dev/null
exec 3>&-
h_assert_eq "" "$(mailboxes_of open-1@client.test)" \
    "open session: used the configuration it started with (newbox@ not a mailbox: not queued)"

# 3. New sessions use the new configuration.
send newbox@example.test after-1@client.test
h_assert_eq "newbox" "$(mailboxes_of after-1@client.test)" "after SIGHUP: mail to newbox@ queued for mailbox newbox"
send support@example.test after-2@client.test
h_assert_eq "support" "$(mailboxes_of after-2@client.test)" "after SIGHUP: support@ still queued"

# 4. A bad file: each error logged with file:line and key; the configuration in force is kept.
cp "$C" "$T/good.conf"
printf '%s\n' "" "[mailbox broken]" "address = broken@$H_DOMAIN" "priority = hgih" >> "$C"
line=$(grep -n '^priority = hgih' "$C" | cut -d: -f1)
hup_and_wait 'has errors: keeping the configuration in force' 1
h_assert_eq 1 "$(grep -c -F "$C:$line: [mailbox broken] key 'priority'" "$LOG")" \
    "bad file: the error names $C:$line and the key"
h_assert_eq 1 "$(reloads)" "bad file: not installed"
_h_alive "$H_MILTER_PID" && h_pass "bad file: milter still running" || h_fail "bad file: milter stopped"
send newbox@example.test bad-1@client.test
h_assert_eq "newbox" "$(mailboxes_of bad-1@client.test)" "bad file: mail to newbox@ still queued (old configuration)"
send broken@example.test bad-2@client.test
h_assert_eq "" "$(mailboxes_of bad-2@client.test)" "bad file: broken@ not a mailbox"

# 5. Bursts of 200 SIGHUPs from a tight loop while mail flows, with a new mailbox in the file:
# the milter keeps running, every mail is accepted and queued, the new mailbox is in effect.
# (A SIGHUP taken by libmilter's own signal thread would stop the milter: signals.c.)
cp "$T/good.conf" "$C"
printf '%s\n' "" "[mailbox burstbox]" "address = burstbox@$H_DOMAIN" >> "$C"
before=$(h_xlen) r0=$(reloads)
h_send_source "$P" 200 "support@$H_DOMAIN" &
src=$!
bursts=0
while _h_alive "$src" || [ "$bursts" = 0 ]; do
    for _ in {1..200}; do kill -HUP "$H_MILTER_PID" 2>/dev/null || break; done
    bursts=$((bursts + 1))
    _h_alive "$H_MILTER_PID" || break
done
wait "$src" && h_pass "burst: smtp-source sent 200 mails (all accepted)" || h_fail "burst: smtp-source failed"
h_note "burst: $bursts bursts of 200 SIGHUPs, $(( $(reloads) - r0 )) reloads logged"
_h_alive "$H_MILTER_PID" && h_pass "burst: milter still running" || h_fail "burst: milter stopped"
h_assert_eq 0 "$(grep -c 'libmilter stopped without being asked' "$LOG")" "burst: libmilter never took a SIGHUP"
h_assert_eq $((before + 200)) "$(h_xlen)" "burst: all 200 mails queued"
h_wait_for '[ "$(reloads)" -gt '"$r0"' ]' 20 "burst: reloaded"
send burstbox@example.test burst-1@client.test
h_assert_eq "burstbox" "$(mailboxes_of burst-1@client.test)" "burst: the new configuration in effect (burstbox@ queued)"

# 6. Reloads while sessions come and go (10 in parallel): every mail is queued, each session
# with one configuration from start to end; old configurations are freed by their last session
# (h_milter_stop fails the test on a sanitizer report: a use after free, a leak).
before=$(h_xlen) r0=$(reloads)
h_send_source "$P" 300 "support@$H_DOMAIN" &
src=$!
hups=0
while _h_alive "$src"; do
    kill -HUP "$H_MILTER_PID"
    hups=$((hups + 1))
    sleep 0.05		# pacing the SIGHUPs, not waiting for anything
done
wait "$src" && h_pass "under reloads: smtp-source sent 300 mails" || h_fail "under reloads: smtp-source failed"
h_assert_eq $((before + 300)) "$(h_xlen)" "under reloads: all 300 queued"
h_note "under reloads: $hups SIGHUPs sent, $(( $(reloads) - r0 )) reloads logged"
[ $(( $(reloads) - r0 )) -ge 2 ] && h_pass "under reloads: reloaded while sessions ran" ||
    h_fail "under reloads: fewer than 2 reloads logged"

h_milter_stop
