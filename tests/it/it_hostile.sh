#!/bin/bash
# it_hostile.sh: hostile mail through the real path. Each mail below, written by
# tests/tools/hostile-mail, goes to support@ through a private Postfix with intake-milter and
# intake-worker, and must become a ticket (found by its Subject) whose message's note names the
# [milter] limit that cut it where one did (or, for the mail over max_message_size, the 552 the
# milter may be configured to answer); after each one a plain mail must still be accepted and
# become a ticket (the milter survived and answers), and the milter must still be the same
# process. The milter's CPU time and RSS for each are printed, not asserted: speed and memory
# goals live in make bench (parts 4 and 5, release build).
#
#   parts     a million empty MIME parts (10 MB)
#   html      an HTML body (50 MB full size)
#   text      a plain-text body (50 MB full size)
#   encwords  100 To: fields made of "=?a?B? " repeated (10 MB)
#   deep      multipart nested 10,000 levels (50,000 full size)
#   big       a mail over [milter] max_message_size (55 MB over the default 50M full size)
#   titles    subjects of exactly intakectl's column width + 1 (ASCII and 2-byte UTF-8):
#             `intakectl tickets` must list them (a cut that overflowed its buffer, under ASan)
#
# The million-parts and encoded-words mails are always full size. INTAKE_HOSTILE_FULL=1 sends
# the 50 MB ones at full size too; by default (make check, under ASan) they are 5 MB, and the
# mail over the limit is 13 MB against max_message_size = 12M, which keeps the test near a minute.
# Postfix's message_size_limit and header_size_limit are raised in the private instance so that
# the milter, not Postfix, meets these sizes.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_hostile

GEN=$INTAKE_BIN/hostile-mail
[ -x "$GEN" ] || h_die "hostile-mail not built: $GEN (make asan)"
if [ "${INTAKE_HOSTILE_FULL:-0}" = 1 ]; then
    BIG=50M DEEP=50000 OVER=55M MAX_MESSAGE=
else
    BIG=5M DEEP=10000 OVER=13M MAX_MESSAGE="max_message_size = 12M"
fi

# ASan's quarantine of freed memory kept small, so that the RSS printed is the milter's own.
export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8"

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[milter]" "$MAX_MESSAGE" "[mailbox support]" "acknowledge = no"
h_milter_start "$C" || exit 1
MILTER=$H_MILTER_PID
P=$(h_free_port)
# local_header_rewrite_clients empty: the milter sees the header fields as a remote sender wrote
# them (not rewritten by cleanup, as they would be for a local client).
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" "message_size_limit=200000000" \
    "header_size_limit=1000000" "local_header_rewrite_clients=" "milter_content_timeout=600s" \
    || exit 1
h_worker_start "$C" || exit 1

# milter_cpu: the milter's user+system CPU time in clock ticks.
milter_cpu() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$MILTER/stat"
}
milter_rss() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$MILTER/status"
}
# rss_sampler FILE: write the highest VmRSS (kB) of the milter seen so far to FILE, every 50 ms,
# until killed (VmHWM cannot be reset between mails).
rss_sampler() {
    local max=0 r
    while r=$(milter_rss 2>/dev/null) && [ -n "$r" ]; do
	[ "$r" -gt "$max" ] && max=$r && echo "$max" > "$1"
	sleep 0.05
    done
}
IDLE_KB=$(milter_rss)
h_note "milter idle RSS $((IDLE_KB / 1024)) MB"

# ticket_note SUBJECT: "<number>|<note>" of the ticket titled SUBJECT, empty while there is none.
ticket_note() {
    h_sql "$C" "SELECT t.number, coalesce(m.note, '') FROM tickets t JOIN messages m
		ON m.ticket_id = t.id WHERE t.title = '$1' AND m.direction = 'in'" 2>/dev/null
}

# hostile KIND SIZE MARK...: send the mail and a plain one after it; check both tickets, and that
# the note of the first contains each MARK (a [milter] key name). MARK "552?" accepts a 552 reply
# (and then no ticket) instead.
probe_n=0
hostile() {
    local kind=$1 size=$2 subject="hostile $1 $2" mark f cpu0 cpu1 out code
    shift 2
    probe_n=$((probe_n + 1))
    f=$T/$kind.eml
    "$GEN" "$kind" "$size" "$subject" > "$f" || { h_fail "$kind: hostile-mail failed"; return; }
    printf 'From: bob@customer.example\r\nTo: support@example.test\r\nSubject: probe %s\r\n\r\nstill there?\r\n' \
	"$probe_n" > "$T/probe.eml"
    # Above the RSS before this mail: memory an earlier mail took and the allocator kept is
    # not this mail's (make bench starts a fresh milter per mail instead).
    local before
    before=$(milter_rss)
    echo "$before" > "$T/rss.max"
    rss_sampler "$T/rss.max" &
    local sampler=$!
    cpu0=$(milter_cpu)
    out=$(h_send_files "$P" sender@client.test support@example.test "$f" "$T/probe.eml")
    cpu1=$(milter_cpu)
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    local ms=$(( (cpu1 - cpu0) * 1000 / $(getconf CLK_TCK) )) mb=$(( ($(cat "$T/rss.max") - before) / 1024 ))
    code=$(echo "$out" | awk -F'\t' 'NR == 1 { print $2 }')
    h_note "$kind $size ($(stat -c %s "$f") bytes): $(echo "$out" | awk -F'\t' 'NR == 1 { print $2, $3 }');" \
	"milter CPU $ms ms, RSS up to $mb MB above the RSS before it"
    rm -f "$f"
    if [ "$code" = 552 ] && [[ " $* " == *" 552? "* ]]; then
	h_pass "$kind: refused with 552 (configured)"
    elif h_check "[ '$code' = 250 ]" "$kind: accepted (250)"; then
	if h_wait_for "[ -n \"\$(ticket_note '$subject')\" ]" 120 "$kind: a ticket"; then
	    for mark in "$@"; do
		[ "$mark" = "552?" ] && continue
		h_check "ticket_note '$subject' | grep -qF '$mark'" "$kind: the note names $mark"
	    done
	    h_note "  note: $(ticket_note "$subject" | cut -d'|' -f2-)"
	fi
    fi
    h_check "[ \"\$(echo '$out' | awk -F'\t' 'NR == 2 { print \$2 }')\" = 250 ]" \
	"$kind: the next mail is accepted"
    h_wait_for "[ -n \"\$(ticket_note 'probe $probe_n')\" ]" 60 "$kind: the next mail is a ticket"
    h_check "_h_alive $MILTER" "$kind: the milter is still the same process ($MILTER)"
}

hostile parts 10M "max_mime_parts"
hostile html "$BIG" "max_text_size"
hostile text "$BIG" "max_text_size"
hostile encwords 10M
hostile deep "$DEEP" "max_mime_depth"
hostile big "$OVER" "max_message_size" "raw_max_size" "552?"

# Titles one character wider than intakectl's TITLE column (50): the cut must fit its buffer.
t51=$(printf 'T%.0s' $(seq 51))
u51=$(printf '\xc3\xa9%.0s' $(seq 51))
printf 'From: carol@customer.example\r\nTo: support@example.test\r\nSubject: %s\r\n\r\nwide\r\n' "$t51" > "$T/t51.eml"
printf 'From: carol@customer.example\r\nTo: support@example.test\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nwide\r\n' \
    "$(printf '=?utf-8?B?%s?=' "$(printf '%s' "$u51" | base64 -w0)")" > "$T/u51.eml"
h_send_files "$P" sender@client.test support@example.test "$T/t51.eml" "$T/u51.eml" > "$T/titles.tsv"
h_wait_for "[ -n \"\$(ticket_note '$t51')\" ] && [ -n \"\$(ticket_note '$u51')\" ]" 60 \
    "titles: two tickets with 51-character titles"
if out=$(h_ctl "$C" tickets 2>&1); then
    h_pass "intakectl tickets: lists 51-character titles (exit 0, no sanitizer report)"
else
    h_fail "intakectl tickets failed: $(echo "$out" | grep -m1 -E 'ERROR|runtime error' || echo "$out" | tail -n 3)"
fi
h_check "echo \"\$out\" | grep -qF '$(printf 'T%.0s' $(seq 49))…'" \
    "intakectl tickets: an ASCII title cut to 49 characters and '…'"
h_check "echo \"\$out\" | grep -qF '$(printf '\xc3\xa9%.0s' $(seq 49))…'" \
    "intakectl tickets: a UTF-8 title cut to 49 characters and '…'"

h_assert_eq 0 "$(h_xlen intake:dead)" "dead-letter stream: empty"
h_worker_stop
h_milter_stop
