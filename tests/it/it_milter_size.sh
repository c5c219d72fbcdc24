#!/bin/bash
# it_milter_size.sh: intake-milter and message size, at the level of the milter protocol
# (miltertest(8) plays the MTA) against the ASan build and a private Redis.
#
#   1  a body over spool_threshold (spooled to a file) and under max_message_size: continue, one
#      entry, its text to the last line, raw cut at raw_max_size: the first raw_max_size bytes of
#      what was sent
#   2  over max_message_size to a mailbox with oversize = ticket: continue, an entry marked
#      truncated, its text from the first part
#   3  over max_message_size to a mailbox with oversize = reject: 552 5.3.4, nothing queued;
#      under the limit it is queued
#   4  the spool directory gone: 451 4.3.0 (tempfail_text), nothing queued, the reason logged
#      with the key; directory back: queued
#   5  spool_threshold 64 KB, raw_max_size 4 MB (the raw field streamed to Redis from the spool
#      file in pieces): a 3 MB mail arrives in Redis byte for byte (SHA-256 of the raw field); a
#      6 MB one has exactly the first 4 MB
#   6  (stream_compression = none from here on, so that the XADD is as large as the mail)
#      Redis stopped (SIGSTOP, longer than [redis] timeout) in the middle of a 6 MB XADD: 451, the
#      log says why; Redis continued: the half-sent command was not completed (no entry), and the
#      next mail is queued intact
#   7  Redis a replica (REPLICAOF a master that is not there): a 3 MB XADD streamed from the spool
#      file is answered READONLY like any other command: 451, the connection dropped ("reconnecting"
#      in the log); a primary again: the next mail is queued
. "$(dirname "$0")/../lib/harness.sh"
h_init it_milter_size
command -v miltertest >/dev/null || h_die "miltertest not installed (make deps)"

MT=$(cd "$(dirname "$0")/miltertest" && pwd)
TEMPFAIL="Intake test: ticket queue down"
MAXSIZE=65536

# A stopped Redis cannot be shut down: continue it before h_cleanup stops it.
trap '_sz_exit' EXIT
_sz_exit() {
    local rc=$?
    [ -n "$H_REDIS_PID" ] && kill -CONT "$H_REDIS_PID" 2>/dev/null
    (exit "$rc")
    h_cleanup
}

h_redis_start || exit 1
mkdir -p "$T/spool"
h_write_conf "$T/intake.conf" "[milter]" "max_message_size = 64K" "spool_threshold = 16K" \
    "spool_directory = $T/spool" "raw_max_size = 32K" "tempfail_text = $TEMPFAIL" \
    "[mailbox sales]" "oversize = reject"
h_milter_start "$T/intake.conf" || exit 1

# size TAG RCPT BYTES: run size.lua; its report in $T/mt-TAG.out.
size() {
    miltertest -D "SOCK=$T/milter.sock" -D "LIB=$MT" -D "TAG=$1" -D "RCPT=$2" -D "SIZE=$3" \
	-D "MAXSIZE=$MAXSIZE" -D "TEMPFAIL=$TEMPFAIL" -s "$MT/size.lua" \
	> "$T/mt-$1.out" 2> "$T/mt-$1.err" \
	|| h_fail "miltertest $1 did not complete: $(tail -n 3 "$T/mt-$1.err" | tr '\n' ' ')"
}
# sent TAG BYTES: the message size.lua sends, as the milter rebuilds it (header lines in CRLF).
sent() {
    printf 'From: Sender <sender@client.test>\r\nSubject: size %s\r\nMessage-ID: <size-%s@client.test>\r\n\r\n' \
	"$1" "$1"
    awk -v size="$2" 'BEGIN { for (n = 0; n * 13 < size; n++) printf "line %06d\r\n", n }'
}
sha() { sha256sum | cut -d' ' -f1; }

# 1: 40 KB, over the 16 KB spool threshold, under the 64 KB limit.
size s1 support@example.test 40000
h_assert_eq continue "$(h_mt_val s1 s1.eom)" "case 1: spooled body: end of message: continue"
h_assert_eq 1 "$(h_xlen)" "case 1: one entry"
h_assert_eq "false 32768 true" "$(h_env_jq 1 '"\(.truncated) \(.raw_size) \(.raw_truncated)"')" \
    "case 1: envelope: not truncated, raw cut at raw_max_size"
h_assert_eq "line 003076" "$(h_entry 1 text | tail -n 1)" \
    "case 1: text to the last line (parsed from the spool file, past what memory kept)"
h_assert_eq 32768 "$(h_entry 1 raw | wc -c)" "case 1: raw field: raw_max_size bytes"
h_assert_eq "$(sent s1 40000 | head -c 32768 | sha)" "$(h_entry 1 raw | sha)" \
    "case 1: raw field: the first raw_max_size bytes of what was sent"

# 2: 200 KB to support (oversize = ticket by default).
size s2 support@example.test 200000
h_assert_eq continue "$(h_mt_val s2 s2.eom)" "case 2: oversize, ticket: end of message: continue"
h_assert_eq 2 "$(h_xlen)" "case 2: an entry"
h_assert_eq "true true" "$(h_env_jq 2 '"\(.truncated) \(.raw_truncated)"')" \
    "case 2: envelope: truncated, raw_truncated (attachments listed, not stored)"
h_assert_eq "line 000000" "$(h_entry 2 text | head -n 1)" "case 2: text from the first part"
h_assert_eq 1 "$(h_env_jq 2 '[.warnings[] | select(.item | test("max_message_size"))] | length')" \
    "case 2: a warning says why"

# 3: 200 KB to sales (oversize = reject), then 20 KB.
size s3 sales@example.test 200000
h_assert_eq "replycode true" "$(h_mt_val s3 s3.eom) $(h_mt_val s3 s3.reply552)" \
    "case 3: oversize, reject: 552 5.3.4 Message too big for the ticket system"
h_assert_eq 2 "$(h_xlen)" "case 3: nothing queued"
size s3b sales@example.test 20000
h_assert_eq continue "$(h_mt_val s3b s3b.eom)" "case 3: 20 KB to the same mailbox: continue"
h_assert_eq 3 "$(h_xlen)" "case 3: queued"

# 4: no spool directory: 451, never accepted unparsed.
rm -rf "$T/spool"
size s4 support@example.test 40000
h_assert_eq "replycode true" "$(h_mt_val s4 s4.eom) $(h_mt_val s4 s4.reply451)" \
    "case 4: spool file cannot be made: 451 4.3.0 with tempfail_text"
h_assert_eq 3 "$(h_xlen)" "case 4: nothing queued"
if grep -q "spool_directory" "$T/milter.log"; then
    h_pass "case 4: the log names spool_directory"
else
    h_fail "case 4: the log does not name spool_directory: $(tail -n 3 "$T/milter.log" | tr '\n' ' ')"
fi
mkdir -p "$T/spool"
size s4b support@example.test 40000
h_assert_eq continue "$(h_mt_val s4b s4b.eom)" "case 4: directory back: continue"
h_assert_eq 4 "$(h_xlen)" "case 4: queued"

# 5: raw_max_size far over spool_threshold: the raw field comes from the spool file.
h_milter_stop
h_write_conf "$T/intake.conf" "[milter]" "max_message_size = 16M" "spool_threshold = 64K" \
    "spool_directory = $T/spool" "raw_max_size = 4M" "tempfail_text = $TEMPFAIL" \
    "[redis]" "timeout = 1s"
h_milter_start "$T/intake.conf" || exit 1
MAXSIZE=16777216
size s5 support@example.test 3000000
h_assert_eq continue "$(h_mt_val s5 s5.eom)" "case 5: 3 MB, spooled: continue"
h_assert_eq 5 "$(h_xlen)" "case 5: queued"
h_assert_eq "$(sent s5 3000000 | wc -c) false" "$(h_env_jq 5 '"\(.raw_size) \(.raw_truncated)"')" \
    "case 5: envelope: raw_size is all of it, not truncated"
h_assert_eq "$(sent s5 3000000 | sha)" "$(h_entry 5 raw | sha)" \
    "case 5: raw field byte for byte what was sent (SHA-256)"
size s5b support@example.test 6000000
h_assert_eq continue "$(h_mt_val s5b s5b.eom)" "case 5: 6 MB, spooled: continue"
h_assert_eq 6 "$(h_xlen)" "case 5: queued"
h_assert_eq 4194304 "$(h_entry 6 raw | wc -c)" "case 5: 6 MB: raw field of raw_max_size bytes"
h_assert_eq "$(sent s5b 6000000 | head -c 4194304 | sha)" "$(h_entry 6 raw | sha)" \
    "case 5: 6 MB: the first raw_max_size bytes of what was sent"

# 6: Redis stops while the milter writes 4 MB into a socket that holds a few hundred KB. size.lua's
# lines compress a thousandfold: uncompressed (stream_compression = none) they fill the socket.
h_milter_stop
h_write_conf "$T/intake.conf" "[milter]" "max_message_size = 16M" "spool_threshold = 64K" \
    "spool_directory = $T/spool" "raw_max_size = 4M" "tempfail_text = $TEMPFAIL" \
    "stream_compression = none" "[redis]" "timeout = 1s"
h_milter_start "$T/intake.conf" || exit 1
kill -STOP "$H_REDIS_PID"
size s6 support@example.test 6000000
h_assert_eq "replycode true" "$(h_mt_val s6 s6.eom) $(h_mt_val s6 s6.reply451)" \
    "case 6: Redis stopped in the middle of the XADD: 451 4.3.0 with tempfail_text"
if grep -q "timeout sending a command" "$T/milter.log"; then
    h_pass "case 6: the log says the command could not be sent in time"
else
    h_fail "case 6: no send timeout in the log: $(tail -n 3 "$T/milter.log" | tr '\n' ' ')"
fi
kill -CONT "$H_REDIS_PID"
h_wait_for '[ "$(h_redis_cli ping)" = PONG ]' 10 "case 6: Redis answers again"
h_assert_eq 6 "$(h_xlen)" "case 6: the half-sent XADD was dropped, not completed"
size s6b support@example.test 3000000
h_assert_eq continue "$(h_mt_val s6b s6b.eom)" "case 6: Redis back: the next mail: continue"
h_assert_eq 7 "$(h_xlen)" "case 6: queued, once"
h_assert_eq "$(sent s6b 3000000 | sha)" "$(h_entry 7 raw | sha)" \
    "case 6: the next mail's raw field intact (SHA-256)"

# 7: the streamed XADD's reply goes through the same checks as every other reply.
h_redis_cli REPLICAOF 127.0.0.1 "$(h_free_port)" > /dev/null
size s7 support@example.test 3000000
h_assert_eq "replycode true" "$(h_mt_val s7 s7.eom) $(h_mt_val s7 s7.reply451)" \
    "case 7: Redis a replica: 451 4.3.0 with tempfail_text"
if grep -q "READONLY.*(reconnecting)" "$T/milter.log"; then
    h_pass "case 7: the log says READONLY, reconnecting"
else
    h_fail "case 7: no READONLY in the log: $(tail -n 3 "$T/milter.log" | tr '\n' ' ')"
fi
h_assert_eq 7 "$(h_xlen)" "case 7: nothing queued"
h_redis_cli REPLICAOF NO ONE > /dev/null
size s7b support@example.test 3000000
h_assert_eq continue "$(h_mt_val s7b s7b.eom)" "case 7: a primary again: continue"
h_assert_eq "8 $(sent s7b 3000000 | sha)" "$(h_xlen) $(h_entry 8 raw | sha)" \
    "case 7: queued, its raw field intact"

h_milter_stop
