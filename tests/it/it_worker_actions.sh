#!/bin/bash
# it_worker_actions.sh: mailbox actions (docs/actions.md) and the assignee's notification end to
# end, through Postfix with intake-milter, Redis, intake-worker and smtp-sink as the relay.
# staff@company.test is [milter] staff; mailboxes notes (ticket_note, action_confirm = yes), time
# (time_entry, action_confirm = yes), pnotes (project_note), tnotes (task_note).
#   0. intakectl project add / task add make PRJ-1 and TSK-1 (an unknown project is refused);
#      list and show them.
#   1. a customer's mail to support: a rule assigns it to agent@company.test, who gets a
#      notification with the ticket summary (number, subject, customer, queue, first line).
#   2. staff to notes@ with [#N1]: a message of N1 with the note, no new ticket, confirmed.
#   3. staff to time@ with [#N1] and "1h30m Fixed the printer": a 90-minute entry on N1 (intakectl
#      ticket shows it), confirmed with the duration.
#   4. staff to time@ with [#TSK-1] and "0:45 ...": 45 minutes on the task, not confirmed.
#   5. staff to pnotes@ [#PRJ-1], to tnotes@ [#TSK-1]: a note on each (project show, task show).
#   6. failures, each kept as a new ticket noting why, the sender told (action_failed): an unknown
#      task; a first line that is no time entry; a customer who is not staff logging time.
#   7. the customer's follow-up to N1: the assignee is notified again.
#   8. redelivery of the mails of 2, 3 and 5 (same Message-ID, Date, From, Subject, body): nothing
#      is added, nothing confirmed again.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_actions

C=$T/intake.conf
R=$T/rules.conf
printf '[rule printers]\nmailboxes = support\nif = subject contains Printer\nqueue = hardware\nassignee = agent@company.test\n' \
    > "$R"
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" \
    "[milter]" "staff = staff@company.test" \
    "[worker]" "rules = $R" \
    "[mailbox notes]" "address = notes@$H_DOMAIN" "action = ticket_note" "action_confirm = yes" \
    "[mailbox time]" "address = time@$H_DOMAIN" "action = time_entry" "action_confirm = yes" \
    "[mailbox pnotes]" "address = pnotes@$H_DOMAIN" "action = project_note" \
    "[mailbox tnotes]" "address = tnotes@$H_DOMAIN" "action = task_note"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# sink_with TEXT: the captured mails holding TEXT (fixed string), one file a line
sink_with() {
    h_sink_files | xargs -r grep -lF -- "$1"
}
# drained: (a condition) the stream is empty and nothing is pending
drained() {
    [ "$(h_xlen 2>/dev/null)" = 0 ] && [ "$(h_pending_count 2>/dev/null)" = 0 ]
}
# staff_mail TO SUBJECT BODY MSGID: a mail from staff with a fixed Message-ID and Date (resendable)
staff_mail() {
    h_mail "$P" staff@company.test "$1" "$2" "$3" --header "Message-ID: <$4@company.test>" \
	--header "Date: Tue, 01 Dec 2026 08:00:00 +0000"
}

# 0. projects and tasks
h_assert_eq PRJ-1 "$(h_ctl "$C" project add "Printer fleet")" "0. project add prints PRJ-1"
h_assert_eq TSK-1 "$(h_ctl "$C" task add --project PRJ-1 "Replace toner")" "0. task add prints TSK-1"
h_ctl "$C" task add --project PRJ-9 "Nowhere" > "$T/t9.out" 2>&1
h_assert_eq 1 "$?" "0. task add to an unknown project: exit 1"
h_check "grep -qF 'no project PRJ-9' '$T/t9.out'" "0. ... naming the project"
h_assert_eq "PRJ-1	open	1 tasks	0 notes	Printer fleet" "$(h_ctl "$C" project list)" "0. project list"
h_assert_eq "TSK-1 PRJ-1 Replace toner" \
    "$(h_ctl "$C" --json task list --project PRJ-1 | jq -r '.[0] | [.number, .project, .title] | join(" ")')" \
    "0. task list --json --project PRJ-1"

# 1. a ticket assigned to an address: the assignee's notification with the summary
h_mail "$P" bob@cust.test support@$H_DOMAIN "Printer broken" "The printer on floor 2 prints blank pages.
Since Monday."
h_wait_for "h_worker_drained '$C' 1" 60 "1. one ticket"
N1=$(h_sql "$C" "SELECT number FROM tickets WHERE title = 'Printer broken'")
h_wait_for '[ "$(h_sink_count)" -eq 2 ]' 30 "1. acknowledgement and notification at the relay"
NOTE=$(sink_with "To: agent@company.test")
h_assert_eq 1 "$(echo "$NOTE" | grep -c .)" "1. one mail to the assignee"
h_check "grep -qF 'For you: Printer broken' '$NOTE' && grep -qF '$N1' '$NOTE' && grep -qF 'bob@cust.test' '$NOTE' && grep -qF 'hardware' '$NOTE' && grep -qF 'prints blank pages' '$NOTE'" \
    "1. the notification carries number, subject, customer, queue and the first lines"

# 2. a ticket note by staff
staff_mail notes@$H_DOMAIN "[#$N1] called Bob" "Called Bob: toner is ordered." note1
h_wait_for "[ \"\$(h_ticket_in_count '$C' '$N1')\" = 2 ] && drained" 60 "2. the note is the second message of $N1"
h_assert_eq 1 "$(h_tickets_count "$C")" "2. no new ticket"
h_check "h_ctl '$C' --json ticket '$N1' | jq -r '[.messages[] | select(.direction == \"in\")][1].note' | grep -qF 'Note by mail from staff@company.test (mailbox notes, action ticket_note)'" \
    "2. the message's note says it is a note by mail"
h_wait_for '[ "$(h_sink_count)" -eq 3 ]' 30 "2. its confirmation at the relay"
h_check "sink_with 'To: staff@company.test' | xargs grep -lF 'Done: [#$N1] called Bob' | grep -q ." \
    "2. the confirmation (action_done) goes to staff"

# 3. a time entry on the ticket
staff_mail time@$H_DOMAIN "Re: [#$N1] printer" "1h30m Fixed the printer
It was the fuser." time1
h_wait_for "[ \"\$(h_sql '$C' 'SELECT count(*) FROM time_entries')\" = 1 ] && drained" 60 "3. a time entry"
h_assert_eq "90 Fixed the printer staff@company.test" \
    "$(h_ctl "$C" --json ticket "$N1" | jq -r '.time_entries[0] | [.minutes, .summary, .author] | join(" ")')" \
    "3. intakectl ticket shows 90 minutes with the summary and author"
h_check "h_ctl '$C' ticket '$N1' | grep -A2 '^time entries:' | grep -qF 'Fixed the printer'" \
    "3. ... in its text form too"
h_wait_for '[ "$(h_sink_count)" -eq 4 ]' 30 "3. its confirmation at the relay"
h_check "sink_with 'Summary: Fixed the printer' | xargs grep -lF '1h30m' | grep -q ." \
    "3. the confirmation names duration and summary"

# 4. a time entry on a task; 5. notes on the project and the task
staff_mail time@$H_DOMAIN "[#TSK-1] toner" "0:45 Ordered toner" time2
staff_mail pnotes@$H_DOMAIN "[#PRJ-1] status" "All printers of floor 2 done." pnote1
staff_mail tnotes@$H_DOMAIN "[#tsk-1] supplier" "Supplier answers Friday." tnote1
h_wait_for "[ \"\$(h_sql '$C' 'SELECT count(*) FROM notes')\" = 2 ] && [ \"\$(h_sql '$C' 'SELECT count(*) FROM time_entries')\" = 2 ] && drained" \
    60 "4.-5. a task's time entry and two notes"
h_assert_eq "45 1" "$(h_ctl "$C" --json task show TSK-1 | jq -r '[.minutes, (.notes | length)] | join(" ")')" \
    "4.-5. task show: 45 minutes, one note"
h_assert_eq "All printers of floor 2 done." "$(h_ctl "$C" --json project show PRJ-1 | jq -r '.notes[0].body')" \
    "5. project show: the note's text"
h_assert_eq 1 "$(h_tickets_count "$C")" "4.-5. no new ticket"
h_assert_eq 4 "$(h_sink_count)" "4.-5. no confirmation of a task's or project's record"

# 6. failures: kept as tickets, the sender told
staff_mail tnotes@$H_DOMAIN "[#TSK-99] lost" "For a task that does not exist." fail1
staff_mail time@$H_DOMAIN "[#$N1] hours" "forever and a day" fail2
h_mail "$P" eve@cust.test time@$H_DOMAIN "[#$N1] my time" "2h I waited"
h_wait_for "h_worker_drained '$C' 4" 60 "6. three failed actions, three new tickets"
h_check "h_sql '$C' \"SELECT m.note FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.title = '[#TSK-99] lost'\" | grep -qF 'Mailbox action task_note failed: there is no task TSK-99'" \
    "6. the kept ticket's note says why (unknown task)"
h_check "h_sql '$C' \"SELECT m.note FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.title = '[#$N1] my time'\" | grep -qF 'only [milter] staff may write a time_entry'" \
    "6. the kept ticket's note says why (not staff)"
h_assert_eq 2 "$(h_ticket_in_count "$C" "$N1")" "6. nothing was added to $N1"
h_wait_for '[ "$(h_sink_count)" -eq 7 ]' 30 "6. three failure notices at the relay"
h_check "sink_with 'there is no task TSK-99' | xargs grep -lF 'To: staff@company.test' | grep -q ." \
    "6. the unknown task's notice to staff"
h_check "sink_with 'does not start with a duration' | grep -q ." "6. the bad first line's notice"
h_check "sink_with 'To: eve@cust.test' | xargs grep -lF 'Not done:' | grep -q ." \
    "6. the customer's notice (not an acknowledgement)"
h_assert_eq "action_failed" \
    "$(h_sql "$C" "SELECT group_concat(DISTINCT kind) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.mailbox IN ('time', 'tnotes')")" \
    "6. the failed actions' tickets got failure notices only"

# 7. the customer's follow-up: the assignee hears of it
h_mail "$P" bob@cust.test support@$H_DOMAIN "Re: [#$N1] Printer broken" "Still blank pages today."
h_wait_for "[ \"\$(h_ticket_in_count '$C' '$N1')\" = 3 ] && drained" 60 "7. the follow-up on $N1"
h_wait_for '[ "$(h_sink_count)" -eq 8 ]' 30 "7. the assignee's notification at the relay"
h_check "sink_with 'To: agent@company.test' | xargs grep -lF 'Still blank pages today.' | grep -q ." \
    "7. it quotes the follow-up's first lines"

# 8. redelivery: the same mails again add nothing
staff_mail notes@$H_DOMAIN "[#$N1] called Bob" "Called Bob: toner is ordered." note1
staff_mail time@$H_DOMAIN "Re: [#$N1] printer" "1h30m Fixed the printer
It was the fuser." time1
staff_mail pnotes@$H_DOMAIN "[#PRJ-1] status" "All printers of floor 2 done." pnote1
h_wait_for "[ \"\$(grep -c 'written already: nothing to do\\|duplicate of a message already on ticket' '$T/worker.log')\" -ge 3 ] && drained" \
    60 "8. three redeliveries seen as such"
h_assert_eq "3 2 2 4" \
    "$(h_sql "$C" "SELECT (SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.number = '$N1' AND direction = 'in') || ' ' || (SELECT count(*) FROM time_entries) || ' ' || (SELECT count(*) FROM notes) || ' ' || (SELECT count(*) FROM tickets)")" \
    "8. messages of $N1, time entries, notes, tickets: unchanged"
h_assert_eq 8 "$(h_sink_count)" "8. nothing confirmed again"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

h_worker_stop
h_milter_stop
