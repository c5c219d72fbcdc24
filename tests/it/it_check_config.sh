#!/bin/bash
# it_check_config.sh: "intake-milter -t", "intake-worker -t" and "intakectl check-config" are one
# check (config_check in common/config.c): for a bad file all three exit 1 with the same text,
# every error naming file:line and key, then "FILE: N error(s)"; for a good file all three exit 0
# with the same "configuration OK" line. The worker-side checks (templates, store directory) are
# the worker's and intakectl's: for a file whose only problem is a missing template, those two
# agree and the milter (which sends no reply) passes it.
. "$(dirname "$0")/../lib/harness.sh"
h_init it_check_config

C=$T/intake.conf
mkdir -p "$T/store"

# run_all: each program's exit status, stdout and stderr, into $T/out.milter etc.
run_all() {
    "$INTAKE_BIN/intake-milter" -t -c "$C" > "$T/out.milter" 2>&1; echo "status $?" >> "$T/out.milter"
    "$INTAKE_BIN/intake-worker" -t -c "$C" > "$T/out.worker" 2>&1; echo "status $?" >> "$T/out.worker"
    "$INTAKE_BIN/intakectl" -c "$C" check-config > "$T/out.ctl" 2>&1; echo "status $?" >> "$T/out.ctl"
}

# same A B WHAT: the outputs of A and B are identical.
same() {
    if cmp -s "$T/out.$1" "$T/out.$2"; then
	h_pass "$3: $1 and $2 print the same"
    else
	h_fail "$3: $1 and $2 differ: $(diff "$T/out.$1" "$T/out.$2" | head -n 6 | tr '\n' '|')"
    fi
}

# 1. A bad file: five errors in three sections (two of them Redis Sentinel's).
h_write_conf "$C" "[store]" "path = $T/store/tickets.db" "templates = $H_ROOT/conf/templates" \
    "[worker]" "batch = many" "[mailbox sales]" "priority = hgih" "[redis]" "colour = blue" \
    "sentinels = 10.0.0.1:26379, sentinel-b" "master_name = my master"
run_all
same milter worker "bad file"
same milter ctl "bad file"
h_assert_eq "status 1" "$(tail -n 1 "$T/out.milter")" "bad file: exit status 1"
# setting|message: the error for the line "setting" of the file, which must name that line.
while IFS='|' read -r setting msg; do
    line=$(grep -n -x -F "$setting" "$C" | cut -d: -f1)
    grep -q -x -F "$C:$line: $msg" "$T/out.milter" && h_pass "bad file: '$setting' reported at $C:$line" ||
	h_fail "bad file: no line '$C:$line: $msg' in: $(tr '\n' '|' < "$T/out.milter")"
done <<'ERRORS'
batch = many|[worker] key 'batch': expected a whole number, got 'many'
priority = hgih|[mailbox sales] key 'priority': expected one of low, normal, high, urgent, got 'hgih'
colour = blue|[redis] key 'colour': unknown key (see docs/intake.conf.md for the keys of this section)
sentinels = 10.0.0.1:26379, sentinel-b|[redis] key 'sentinels': 'sentinel-b' is not HOST:PORT (a host name or address, and a port 1 to 65535, such as 10.0.0.5:26379)
master_name = my master|[redis] key 'master_name': 'my master': a master name has no spaces or control characters
ERRORS
h_assert_eq "$C: 5 error(s)" "$(tail -n 2 "$T/out.milter" | head -n 1)" "bad file: the count of errors last"

# 2. A good file.
h_write_conf "$C" "[store]" "path = $T/store/tickets.db" "templates = $H_ROOT/conf/templates"
run_all
same milter worker "good file"
same milter ctl "good file"
h_assert_eq "$C: configuration OK (2 mailboxes)|status 0" "$(tr '\n' '|' < "$T/out.milter" | sed 's/|$//')" \
    "good file: OK line and exit status 0"

# 3. Only the worker's checks fail: a template that does not exist.
h_write_conf "$C" "[store]" "path = $T/store/tickets.db" "templates = $H_ROOT/conf/templates" \
    "[mailbox sales]" "template = nosuch"
run_all
same worker ctl "missing template"
h_assert_eq "status 1" "$(tail -n 1 "$T/out.worker")" "missing template: worker -t exits 1"
grep -q "^$C: \[mailbox sales\] key 'template': 'nosuch'" "$T/out.worker" &&
    h_pass "missing template: the mailbox, key and template named" ||
    h_fail "missing template: unexpected text: $(tr '\n' '|' < "$T/out.worker")"
h_assert_eq "status 0" "$(tail -n 1 "$T/out.milter")" "missing template: milter -t passes (it sends no reply)"

# 4. The Message-ID secret (worker only): missing is fine (the worker makes it), readable by
#    others is not, a missing previous secret is not; a mailbox that refuses needs "closed".
h_write_conf "$C" "[store]" "path = $T/store/tickets.db" "templates = $H_ROOT/conf/templates"
run_all
h_assert_eq "status 0" "$(tail -n 1 "$T/out.worker")" "secret missing (made at start): worker -t passes"
printf '%s\n' 0123456789abcdef0123456789abcdef0123456789abcdef > "$T/store/msgid.key"
chmod 644 "$T/store/msgid.key"
run_all
same worker ctl "secret readable by others"
grep -q "^$C: \[worker\] key 'message_id_secret_file': $T/store/msgid.key: .*(mode 0644): chmod 600 it" "$T/out.worker" &&
    h_pass "secret readable by others: the key, the file and what to do named" ||
    h_fail "secret readable by others: unexpected text: $(tr '\n' '|' < "$T/out.worker")"
h_assert_eq "status 0" "$(tail -n 1 "$T/out.milter")" "secret readable by others: milter -t passes (it signs nothing)"
chmod 600 "$T/store/msgid.key"
h_write_conf "$C" "[store]" "path = $T/store/tickets.db" "templates = $H_ROOT/conf/templates" \
    "[worker]" "message_id_secret_file_old = $T/store/old.key" \
    "[mailbox sales]" "on_closed = refuse" "template = ack" "language = xx"
mkdir -p "$T/tpl" && cp "$H_ROOT"/conf/templates/ack.en.txt "$T/tpl/"
sed -i "s|templates = $H_ROOT/conf/templates|templates = $T/tpl|" "$C"
run_all
h_assert_eq "status 1" "$(tail -n 1 "$T/out.worker")" "missing previous secret and closed template: worker -t exits 1"
grep -q "^$C: \[worker\] key 'message_id_secret_file_old': $T/store/old.key: cannot open" "$T/out.worker" &&
    h_pass "missing previous secret: named" ||
    h_fail "missing previous secret: unexpected text: $(tr '\n' '|' < "$T/out.worker")"
grep -q "^$C: \[mailbox sales\] key 'on_closed': refuse sends template 'closed'" "$T/out.worker" &&
    h_pass "on_closed = refuse without a 'closed' template: named" ||
    h_fail "on_closed = refuse: unexpected text: $(tr '\n' '|' < "$T/out.worker")"

# 5. (branch lang) A template of a detected language is checked too, with its file and line: a
#    broken ack.de.txt of a mailbox whose language is en; and a language without a fingerprint.
mkdir -p "$T/tpl2" && cp "$H_ROOT"/conf/templates/ack.en.txt "$T/tpl2/"
printf 'Subject: {{ticket_tag}} Re: {{subject}}\n\nGuten Tag,\n{{#if ticket_url}}\n{{ticket_url}}\n' \
    > "$T/tpl2/ack.de.txt"
h_write_conf "$C" "[store]" "path = $T/store/tickets.db" "templates = $T/tpl2" \
    "[worker]" "languages = de, en, xx"
run_all
same worker ctl "broken ack.de.txt, language xx"
h_assert_eq "status 1" "$(tail -n 1 "$T/out.worker")" "broken ack.de.txt, language xx: worker -t exits 1"
grep -q -F "$C: [mailbox support] key 'template': 'ack' for detected language 'de' ([worker] languages): $T/tpl2/ack.de.txt:4: {{#if}} is not closed by {{/if}}" "$T/out.worker" &&
    h_pass "an unclosed {{#if}} in ack.de.txt: file, line, mailbox and key named" ||
    h_fail "broken ack.de.txt: unexpected text: $(tr '\n' '|' < "$T/out.worker")"
grep -q -F "$C: [worker] key 'languages': no language fingerprint /usr/share/libexttextcat/xx.lm for 'xx'" "$T/out.worker" &&
    h_pass "a language without a fingerprint: named" ||
    h_fail "language xx: unexpected text: $(tr '\n' '|' < "$T/out.worker")"
h_assert_eq "status 0" "$(tail -n 1 "$T/out.milter")" "broken ack.de.txt, language xx: milter -t passes (it sends no reply)"
