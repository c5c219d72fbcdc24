#!/bin/bash
# it_harness.sh: the harness's own moving parts, without the milter: a private Redis keeps its
# data over a restart; a private Postfix delivers to Maildirs; a relaying Postfix delivers to
# smtp-sink, keeps mail deferred while the sink is down and delivers it on flush.
. "$(dirname "$0")/../lib/harness.sh"
h_init it_harness

# Redis: write, restart on the same data directory, read back.
h_redis_start || exit 1
pid=$H_REDIS_PID
h_redis_cli XADD intake:selftest '*' envelope '{"x":1}' >/dev/null
h_assert_eq 1 "$(h_xlen intake:selftest)" "redis: one entry written"
h_redis_stop
h_assert_eq gone "$(_h_alive "$pid" && echo alive || echo gone)" "redis: process $pid gone after stop"
h_assert_eq "" "$(h_redis_cli ping 2>/dev/null)" "redis: no answer while stopped"
h_redis_start || exit 1
h_assert_eq 1 "$(h_xlen intake:selftest)" "redis: entry kept over a restart (AOF)"
h_assert_eq '{"x":1}' "$(h_stream_envelopes intake:selftest | jq -c .)" "redis: envelope field read back"

# Postfix delivering to Maildirs, plus-addressing and case folded.
B=$(h_free_port)
h_postfix_start back "$B" || exit 1
h_send_source "$B" 20 alice@example.test
h_send_source "$B" 3 Support+billing@example.test
h_wait_for '[ "$(h_maildir_total back)" -ge 23 ]' 60 "back: 23 mails delivered"
h_postfix_wait_empty back 30 || h_fail "back: queue did not drain"
h_assert_eq 20 "$(h_maildir_count back alice@example.test)" "back: alice has 20"
h_assert_eq 3 "$(h_maildir_count back support@example.test)" "back: Support+billing@ went to support's Maildir"
h_assert_eq 0 "$(h_maillog_count back 'status=(bounced|deferred)')" "back: nothing bounced or deferred"
f=$(h_maildir_files back support@example.test | head -n1)
grep -qi '^Delivered-To: support+billing@example.test' "$f" &&
    h_pass "back: Delivered-To header written" || h_fail "back: no Delivered-To in $f"

# A relaying Postfix in front of smtp-sink; long backoff, so only a flush retries.
S=$(h_free_port)
F=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_postfix_start front "$F" "virtual_mailbox_domains=" "relayhost=[127.0.0.1]:$S" \
    "queue_run_delay=1h" "minimal_backoff_time=1h" "maximal_backoff_time=1h" || exit 1
h_send_source "$F" 5 bob@example.test
h_postfix_wait_empty front 30 || h_fail "front: queue did not drain"
h_assert_eq 5 "$(h_sink_count)" "sink: captured 5 mails"
h_assert_eq 5 "$(h_sink_files | xargs grep -l '^X-Rcpt-Args: <bob@example.test>' | wc -l)" \
    "sink: captures name the recipient"

h_sink_stop
h_send_source "$F" 3 carol@example.test
h_wait_for '[ "$(h_postfix_deferred_count front)" -eq 3 ]' 30 "front: 3 deferred while the sink is down"
h_assert_eq 3 "$(h_postfix_queue_json front | jq -s '[.[] | select(.queue_name == "deferred")] | length')" \
    "postqueue -j: 3 in the deferred queue"
h_sink_start "$S" "$T/sink" || exit 1
h_postfix_flush front
h_wait_for '[ "$(h_postfix_queue_count front)" -eq 0 ]' 30 "front: queue empty after flush"
h_assert_eq 8 "$(h_sink_count)" "sink: 8 mails after flush"
