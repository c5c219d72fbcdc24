#!/bin/bash
# it_docs_man: the man pages are clean and complete.
#   - intake-milter(8), intake-worker(8), intakectl(8) (man/, mdoc by hand) and intake.conf(5)
#     (built by make from docs/intake.conf.md) give no mandoc -T lint message of level warning
#     or worse (style messages, such as long input lines, are counted and not held against it);
#   - each program's options, as its usage text lists them, are in its page (-c, -f, -t, -v),
#     and every command of intakectl's usage text is described in intakectl(8): an engineer who
#     adds a command or option and not its documentation fails here.
# (it_install checks that make install puts them under $(MANDIR).)
. "$(dirname "$0")/../lib/doctest.sh" it_docs_man

command -v mandoc > /dev/null || { notok "mandoc is not installed (make deps)"; exit 1; }
make --no-print-directory -s man > "$T/make.log" 2>&1 || { notok "make man: $(tail -n 3 "$T/make.log")"; exit 1; }
PAGES="man/intake-milter.8 man/intake-worker.8 man/intakectl.8 build/man/intake.conf.5"
for p in $PAGES; do
    out=$(mandoc -T lint -W warning "$p" 2>&1)
    if [ -z "$out" ]; then
	ok "mandoc -T lint: $p has no warning"
    else
	notok "mandoc -T lint: $p:"
	printf '%s\n' "$out" | sed 's/^/#   /'
    fi
    n=$(mandoc -T lint -W style "$p" 2>&1 | grep -c ': STYLE: ')
    [ "$n" = 0 ] || echo "# $p: $n style messages (mandoc -T lint -W style $p), not counted"
done

# The rendered text of a page (what man shows), to look for options and commands.
render() { mandoc -T ascii "$1" | sed 's/.\x08//g'; }

# Each option of a program's usage text is in its page: an item "-X" for the daemons' options,
# anywhere in the text for intakectl's (its commands' options are part of their items).
for prog in intake-milter intake-worker intakectl; do
    usage=$("$BIN/$prog" -h 2>&1 >/dev/null)
    render "man/$prog.8" > "$T/$prog.txt"
    opts=$(printf '%s\n' "$usage" | grep -oE '(^|[ [])-[a-z]\b|--[a-z][a-z-]*[a-z]' | tr -d ' [' | sort -u)
    missing=""
    for o in $opts; do
	if [ "$prog" = intakectl ]; then
	    grep -qE -- "(^|[ [])$o( |]|,|$)" "$T/$prog.txt" || missing="$missing $o"
	else
	    grep -qE -- "^ +$o( |$)" "$T/$prog.txt" || missing="$missing $o"
	fi
    done
    if [ -n "$opts" ] && [ -z "$missing" ]; then
	ok "$prog(8) describes every option of its usage text:" $opts
    else
	notok "$prog(8) lacks an item for:${missing:- (no option found in usage: $usage)}; add it to man/$prog.8"
    fi
done

# intakectl: every command of its usage text ("intakectl [-c FILE] [--json] COMMAND ...", with
# "close|reopen" and "| dlq show ID" alternatives) has an item in the page.
usage=$("$BIN/intakectl" -h 2>&1 >/dev/null)
cmds=$(printf '%s\n' "$usage" | sed -E 's/^ *(usage: *)?intakectl//; s/\[[^]]*\]//g' | tr '|' '\n' |
    awk '{ c = $1; if (c == "dlq") c = c " " $2; if (c ~ /^[a-z]/) print c }' | sort -u)
missing=""
while IFS= read -r c; do
    [ -n "$c" ] || continue
    grep -qE "^ +(.*, )?$c( |,|$)" "$T/intakectl.txt" || missing="$missing '$c'"
done <<< "$cmds"
if [ -n "$cmds" ] && [ -z "$missing" ]; then
    ok "intakectl(8) describes every command of intakectl's usage:" $(printf '%s,' $cmds)
else
    notok "intakectl(8) lacks an item for:${missing:- (no command found in usage)}; add '.It Cm COMMAND' to man/intakectl.8"
fi
[ "$FAILED" = 0 ]
