#!/bin/bash
# check_rt_kill.sh: a worker killed after RT created the ticket but before Intake kept RT's id
# makes no second RT ticket (make check-rt). The moment between RT's answer and sink_ref_set()
# is too short to hit with a signal from outside, so the test makes the state such a SIGKILL
# leaves, then the real crash and restart:
#   1. the rt sink's url points at a port where nothing listens: the ticket.created event of
#      alice's mail stays pending, retried ("RT not reached");
#   2. the RT ticket that the lost try would have created is made in RT (REST2, the subject tag
#      "[Intake #N]" as sink_rt.c writes it): RT has the ticket, Intake has no RT id;
#   3. the worker is SIGKILLed, the url pointed at RT, the worker started again;
#   4. the event is delivered: RT still holds exactly that one ticket for N, Intake keeps its id,
#      the answer says it was found; alice's follow-up is correspondence on it, still one ticket.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/rt.sh"
h_init check_rt_kill
rt_available || { echo "skipped: Request Tracker 5 is not installed (make check-rt installs it)"; exit 77; }

rt_start
C=$T/intake.conf
DEAD=$(h_free_port)
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" \
    "[sink rt]" "type = rt" "url = http://127.0.0.1:$DEAD" "token_file = $RT_TOKEN_FILE" \
    "mailboxes = support" "retry_min = 1s" "retry_max = 2s" "timeout = 60s"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

rt_query_ids() {
    rt_api GET "/tickets?query=$(jq -rn --arg q "$1" '$q | @uri')&per_page=100" | jq -r '.items[].id'
}
event() { h_sql "$C" "SELECT $1 FROM events WHERE sink = 'rt' AND type = '$2'"; }

# 1. RT unreachable: the event stays pending.
h_mail "$P" alice@client.test support@example.test "Printer on fire" "The printer in room 4 is on fire."
h_wait_for "h_worker_drained '$C' 1" 60 "worker: one ticket"
N=$(h_sql "$C" "SELECT number FROM tickets")
h_wait_for '[ "$(event attempts ticket.created)" -ge 1 ]' 60 "ticket.created tried while RT is unreachable"
h_assert_eq pending "$(event state ticket.created)" "the event is still pending"
h_check "event last_answer ticket.created | grep -q 'RT not reached'" "its answer: RT not reached"

# 2. What the lost try would have left in RT.
RT=$(rt_api POST /ticket "$(jq -n --arg s "[Intake #$N] Printer on fire" \
    '{Queue: "General", Requestor: "alice@client.test", Subject: $s, Content: "The printer in room 4 is on fire.", ContentType: "text/plain"}')" |
    jq -r '.id')
[ -n "$RT" ] && [ "$RT" != null ] || h_die "could not create the RT ticket by hand"
h_assert_eq "$RT" "$(rt_query_ids "Subject LIKE '[Intake #$N]'")" "RT holds ticket $RT for $N"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM sink_refs")" "Intake has no RT id for $N"

# 3. The crash, and the restart with RT reachable.
h_worker_kill
sed -i "s|^url = http://127.0.0.1:$DEAD\$|url = $RT_URL|" "$C"
h_check "grep -qx 'url = $RT_URL' '$C'" "the sink's url now points at RT"
h_worker_start "$C" || exit 1

# 4. Delivered, found, not created again.
h_wait_for '[ "$(event state ticket.created)" = sent ]' 300 "ticket.created delivered after the restart"
h_check "event last_answer ticket.created | grep -q 'RT ticket $RT found'" \
    "the answer: RT ticket $RT found ($(event last_answer ticket.created))"
h_assert_eq "$RT" "$(rt_query_ids "Subject LIKE '[Intake #$N]'" | tr '\n' ' ' | sed 's/ $//')" \
    "RT still holds exactly ticket $RT for $N"
h_assert_eq "$RT" "$(h_sql "$C" "SELECT ref FROM sink_refs WHERE sink = 'rt'")" "Intake keeps RT's id $RT"
h_mail "$P" alice@client.test support@example.test "Re: [#$N] Printer on fire" "The toner is melting now."
h_wait_for '[ "$(event state message.added)" = sent ]' 300 "the follow-up's message.added delivered"
h_check "event last_answer message.added | grep -q 'correspondence added to RT ticket $RT'" \
    "the follow-up is correspondence on RT ticket $RT"
h_assert_eq 1 "$(rt_query_ids "id > 0" | grep -c .)" "RT holds one ticket in all"

h_worker_stop
h_milter_stop
