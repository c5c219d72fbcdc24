#!/bin/bash
# it_worker_rules.sh: routing rules ([worker] rules, docs/rules.md) end to end, through Postfix
# with intake-milter, Redis, intake-worker and smtp-sink as the relay.
#   1. a mail from the key account's domain: its rule attaches the ticket to case ACME-1, sets
#      priority urgent, queue, assignee and tags, answers with the template vip and notifies the
#      assignee (a notification at the relay); the ticket records which rules matched, the log too.
#   2. a subject with [no-ack]: the rule suppresses the acknowledgement (reason names the rule).
#   3. "Note: ..." from a stranger: the rule's note = yes makes it a message of the case's ticket,
#      not a new ticket.
#   4. a mail no rule matches: the mailbox decides, the default template answers.
#   5. intakectl rules test FILE.eml shows which rules match and what they would set;
#      intakectl case list counts the case's tickets.
#   6. a rules file with an error: intake-worker -t names file, line, rule and key and exits 1;
#      SIGHUP keeps the rules in force (the next mail is routed as before); fixed and SIGHUP
#      again, the new rules apply.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_rules

C=$T/intake.conf
R=$T/rules.conf
cp -r "$H_ROOT/conf/templates" "$T/templates"
printf 'Subject: {{ticket_tag}} Priority handling: {{subject}}\n\nDear {{customer_name}}, your key account team has ticket {{ticket_number}}.\n' \
    > "$T/templates/vip.en.txt"

# write_rules PRIORITY: the rules file, with PRIORITY for the key account's rule
write_rules() {
    {
	echo "# rules of it_worker_rules"
	echo "[rule acme]"
	echo "match = any"
	echo "if.from = sender_domain equals acme.test"
	echo "if.subject = subject regex/i \\bACME-1\\b"
	echo "case = ACME-1"
	echo "priority = $1"
	echo "queue = key-accounts"
	echo "assignee = kim"
	echo "tags = acme, vip"
	echo "template = vip"
	echo "notify = kim@example.test"
	echo ""
	echo "[rule quiet]"
	echo "if = subject contains/i [no-ack]"
	echo "acknowledge = no"
	echo "tags = quiet"
	echo ""
	echo "[rule case-note]"
	echo "if.subject = subject regex ^Note:"
	echo "if.body = body not contains DO-NOT-NOTE"
	echo "case = ACME-1"
	echo "note = yes"
	echo "stop = yes"
    } > "$R"
}
write_rules urgent

h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[worker]" "rules = $R" "[store]" "templates = $T/templates"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# col SUBJECT EXPR: EXPR over the columns of the ticket titled SUBJECT
col() {
    h_sql "$C" "SELECT $2 FROM tickets WHERE title = '$1'"
}
tags_of() {
    h_sql "$C" "SELECT group_concat(tag, ',') FROM (SELECT g.tag FROM ticket_tags g
		JOIN tickets t ON t.id = g.ticket_id WHERE t.title = '$1' ORDER BY g.tag)"
}
reply_of() {
    h_sql "$C" "SELECT o.$2 FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.title = '$1'"
}

# 1. the key account
h_mail "$P" bob@acme.test support@example.test "Server down" "Our server is down."
h_wait_for "h_worker_drained '$C' 1" 60 "1. one ticket"
N1=$(col "Server down" number)
h_assert_eq "urgent|key-accounts|kim|new" \
    "$(col 'Server down' "priority || '|' || queue || '|' || assignee || '|' || status")" \
    "1. priority, queue, assignee set by the rule; status as the mailbox gives it"
h_assert_eq "ACME-1" \
    "$(h_sql "$C" "SELECT c.name FROM cases c JOIN tickets t ON t.case_id = c.id WHERE t.number = '$N1'")" \
    "1. the ticket is attached to case ACME-1"
h_assert_eq "acme,vip" "$(tags_of 'Server down')" "1. tags acme and vip"
h_check "col 'Server down' rules | grep -q '^rules matched: acme; set '" \
    "1. the ticket records the rules that matched"
h_check "grep -qF 'mailbox support: rules matched: acme; set queue=key-accounts assignee=kim priority=urgent case=ACME-1 template=vip tags=acme,vip notify=kim@example.test' '$T/worker.log'" \
    "1. the log says which rules matched and what they set"
h_wait_for '[ "$(h_sink_count)" -eq 2 ]' 30 "1. acknowledgement and notification at the relay"
h_check "h_sink_acks | awk -F'\t' '\$7 ~ /bob@acme.test/ && \$4 ~ /Priority handling: Server down/' | grep -q ." \
    "1. the acknowledgement uses the rule's template vip"
h_check "h_sink_acks | awk -F'\t' '\$7 ~ /kim@example.test/ && \$4 ~ /For you: Server down/' | grep -q ." \
    "1. the assignee is notified (template notify)"
h_wait_for "[ \"\$(h_outbox_count '$C' sent)\" = 2 ]" 30 "1. both replies marked sent"
h_assert_eq "ack sent bob@acme.test
notify sent kim@example.test" \
    "$(h_sql "$C" "SELECT kind || ' ' || state || ' ' || recipient FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.number = '$N1' ORDER BY o.id")" \
    "1. the outbox: the acknowledgement and the notification, both sent"
h_assert_eq "key-accounts kim ACME-1 acme,vip" \
    "$(h_ctl "$C" --json ticket "$N1" | jq -r '[.queue, .assignee, .case, .tags] | join(" ")')" \
    "1. intakectl ticket shows queue, assignee, case and tags"

# 2. no acknowledgement by rule
h_mail "$P" carol@other.test support@example.test "[no-ack] just so you know" "FYI"
h_wait_for "h_worker_drained '$C' 2" 60 "2. a second ticket"
h_assert_eq "suppressed" "$(reply_of '[no-ack] just so you know' state)" \
    "2. the acknowledgement is suppressed"
h_check "reply_of '[no-ack] just so you know' last_error | grep -qF 'a routing rule says acknowledge = no (rules matched: quiet'" \
    "2. the reason names the rule"
h_assert_eq "quiet" "$(tags_of '[no-ack] just so you know')" "2. tag quiet"

# 3. a note on the case's ticket instead of a ticket
h_mail "$P" dan@other.test support@example.test "Note: rack 4 replaced" "Technician's note."
h_wait_for "[ \"\$(h_ticket_in_count '$C' '$N1')\" = 2 ] && h_worker_drained '$C' 2" 60 \
    "3. the note is the second message of $N1"
h_assert_eq 2 "$(h_tickets_count "$C")" "3. no new ticket"
h_check "grep -qF \"ticket $N1: follow-up added (a rule's note on the newest ticket of its case)\" '$T/worker.log'" \
    "3. the log says why it joined $N1"

# 4. no rule matches
h_mail "$P" eve@other.test support@example.test "Plain question" "How do I?"
h_wait_for "h_worker_drained '$C' 3" 60 "4. a third ticket"
h_assert_eq "normal||" \
    "$(col 'Plain question' "priority || '|' || coalesce(queue, '') || '|' || coalesce(rules, '')")" \
    "4. no rule: the mailbox's priority, no queue, no rules recorded"
h_wait_for '[ "$(h_sink_count)" -eq 3 ]' 30 "4. its acknowledgement at the relay"
h_check "h_sink_acks | awk -F'\t' '\$7 ~ /eve@other.test/ && \$4 ~ /Re: Plain question/' | grep -q ." \
    "4. the mailbox's template answers"
h_assert_eq 3 "$(h_sink_count)" "1.-4. nothing else at the relay (no ack for [no-ack], none for a note)"

# 5. intakectl rules test, case list
printf 'From: Zed <zed@acme.test>\nTo: sales@example.test\nSubject: Note: hello\nMessage-ID: <t1@acme.test>\n\nhi\n' \
    > "$T/t.eml"
h_ctl "$C" rules test "$T/t.eml" > "$T/rt.out" 2>&1
h_check "grep -qxF '$R:2: [rule acme] matched' '$T/rt.out' && grep -qxF '$R:14: [rule quiet] no match' '$T/rt.out' && grep -qxF '$R:19: [rule case-note] matched' '$T/rt.out'" \
    "5. rules test lists each rule with its line and verdict"
h_check "grep -qxF 'mailbox support: rules matched: acme case-note; set queue=key-accounts assignee=kim priority=urgent case=ACME-1 template=vip tags=acme,vip notify=kim@example.test note=yes' '$T/rt.out'" \
    "5. rules test says what the rules would set"
printf '[rule s]\nmailboxes = sales\nif = subject contains hello\n' > "$T/r2.conf"
sed "s#^rules = .*#rules = $T/r2.conf#" "$C" > "$T/c2.conf"
h_assert_eq "not for this mailbox" "$(h_ctl "$T/c2.conf" --json rules test "$T/t.eml" | jq -r '.rules[0].result')" \
    "5. rules test --json, a rule of another mailbox"
h_assert_eq "matched" \
    "$(h_ctl "$T/c2.conf" --json rules test "$T/t.eml" --mailbox sales | jq -r '.rules[0].result')" \
    "5. rules test --mailbox sales"
h_assert_eq "ACME-1	1 tickets	$N1	" "$(h_ctl "$C" case list)" "5. case list: ACME-1 with its ticket"

# 6. a bad rules file: -t, then SIGHUP keeps the rules in force
sed -i 's/^priority = urgent$/priority = asap/' "$R"
"$INTAKE_BIN/intake-worker" -t -c "$C" > "$T/t.out" 2>&1
h_assert_eq 1 "$?" "6. intake-worker -t: exit 1 on a bad rule"
h_check "grep -qF \"$R:7: [rule acme] key 'priority': 'asap' is not one of low, normal, high, urgent\" '$T/t.out'" \
    "6. -t names file, line, rule and key"
kill -HUP "$H_WORKER_PID"
h_wait_for "grep -q 'SIGHUP: .*has errors: the configuration and rules in force are kept' '$T/worker.log'" 20 \
    "6. SIGHUP: the error is logged, the old rules kept"
h_mail "$P" bob@acme.test support@example.test "Still urgent" "again"
h_wait_for "h_worker_drained '$C' 4" 60 "6. a fourth ticket"
h_assert_eq urgent "$(col 'Still urgent' priority)" "6. the rules in force still apply"
write_rules high
kill -HUP "$H_WORKER_PID"
h_wait_for "grep -q 'SIGHUP: configuration .* read again' '$T/worker.log'" 20 "6. SIGHUP with fixed rules"
h_mail "$P" bob@acme.test support@example.test "Now high" "again"
h_wait_for "h_worker_drained '$C' 5" 60 "6. a fifth ticket"
h_assert_eq high "$(col 'Now high' priority)" "6. the new rules apply"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

h_worker_stop
h_milter_stop
