#!/bin/bash
# it_redis_restart.sh: Redis restarts while intake-milter holds pooled connections to it;
# the next mails are each accepted on the first try (250, no 451) and each becomes one ticket.
# The connections the old server closed are found dead before use (common/redisq.c: a poll()
# for EOF on a connection from the pool) and replaced, not answered with 451 "Broken pipe".
#
#   smtp-source (10 sessions) -> postfix (+ intake-milter) -> Maildir; intake-worker -> tickets
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_redis_restart

C=$T/intake.conf
WARM=40
N=60
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1

# Before the worker starts, every client of Redis is the milter's: its pool and its two helper
# threads (durable check, statistics), plus redis-cli itself. How many connections the pool holds
# depends on how many end-of-message callbacks overlapped during the warm-up (the pool grows only
# under concurrent use; a loaded CI machine saw 1): at least one must be pooled for the restart to
# leave a dead one behind, which is what this test is about.
h_send_source "$P" "$WARM" support@example.test || h_die "warm-up: $WARM mails not accepted"
clients=$(h_redis_cli INFO clients | sed -n 's/^connected_clients:\([0-9]*\).*/\1/p')
h_note "Redis clients after the warm-up (the milter's, and redis-cli's own): $clients"
h_check "[ '$clients' -ge 4 ]" "the milter holds pooled connections (at least one besides its two helpers and redis-cli)"
h_worker_start "$C" || exit 1
h_wait_for "h_worker_drained '$C' $WARM" 60 "warm-up: $WARM tickets"

h_redis_stop
h_redis_start || exit 1
mlog=$(stat -c %s "$T/milter.log")
plog=$(stat -c %s "$(_h_pf_dir back)/maillog")

if h_send_source "$P" "$N" support@example.test; then
    h_pass "after the restart: all $N mails accepted on the first try (smtp-source saw only 2xx)"
fi
h_assert_eq 0 "$(tail -c +$((plog + 1)) "$(_h_pf_dir back)/maillog" | grep -c 'milter-reject')" \
    "Postfix log: no milter-reject (451) after the restart"
h_assert_eq 0 "$(tail -c +$((mlog + 1)) "$T/milter.log" | grep -c 'deferred (451')" \
    "milter log: no 451 after the restart"
h_check "tail -c +$((mlog + 1)) '$T/milter.log' | grep -q 'the server closed an idle connection'" \
    "milter log: dead pooled connections found before use and replaced"
h_wait_for "h_worker_drained '$C' $((WARM + N))" 60 "each mail one ticket: $((WARM + N)) tickets"
h_assert_eq $((WARM + N)) "$(h_sql "$C" "SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'in'")" \
    "$((WARM + N)) distinct Message-IDs among the tickets"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

h_worker_stop
h_milter_stop
