#!/bin/bash
# it_docs_config_keys: every intake.conf key and its default are the same in the four places a
# postmaster or the code reads them:
#   - common/config.c's key tables, as the built code prints them (config-defaults, linked with
#     common/config.c: the running code's truth, macros such as MIME_PARTS_DEFAULT expanded);
#   - docs/intake.conf.md, the tables under "## [SECTION]": one row per key, `KEY` in the first
#     column, `VALUE`, (none) or (required) in the second;
#   - intake.conf(5), generated from that file by man/conf2man.awk (make man);
#   - conf/intake.conf, the installed example: the first mention of each key in its section,
#     "KEY = VALUE" or commented "#KEY = VALUE", shows the default (an example value that is not
#     the default follows a commented default line); [mailbox NAME] keys are those of the first
#     [mailbox ...] section, [sink NAME] keys those of the first commented "#[sink ...]" section
#     (a sink in the example would be delivered to).
# A key that is missing, extra, or has another default fails the test with one line saying what
# to write where (ok/not ok lines, like the other tests). No daemon, Redis or Postfix is needed.
. "$(dirname "$0")/../lib/doctest.sh" it_docs_config_keys

[ -x "$BIN/config-defaults" ] || { notok "$BIN/config-defaults not built (make asan)"; exit 1; }
"$BIN/config-defaults" > "$T/code.raw" || { notok "config-defaults failed"; exit 1; }
# The keys of every [sink NAME] are the worker's (worker/sink_config.c): intakectl prints them.
[ -x "$BIN/intakectl" ] || { notok "$BIN/intakectl not built (make asan)"; exit 1; }
"$BIN/intakectl" sinks keys >> "$T/code.raw" || { notok "intakectl sinks keys failed"; exit 1; }
# code: SECTION<TAB>KEY<TAB>VALUE, VALUE "\001" for a required key
awk -F'\t' '{ print $1 "\t" $2 "\t" ($3 == "required" ? "\001" : $4) }' "$T/code.raw" > "$T/code"
ok "common/config.c: $(wc -l < "$T/code") keys"

# Each parser prints SECTION<TAB>KEY<TAB>VALUE<TAB>LINE, sections in lower case, mailbox
# sections as "mailbox name".

# docs/intake.conf.md
awk '
    function cell(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    /^## \[/ { sect = tolower(substr($0, 5)); sub(/\].*/, "", sect); next }
    /^## / { sect = ""; next }
    sect != "" && /^\|/ {
	n = split($0, c, /\|/)
	key = cell(c[2]); def = cell(c[3])
	if (key == "key" || key ~ /^-+$/) next
	if (key !~ /^`[a-z_0-9]+`$/) {
	    print sect "\t" key "\t\002one key per row, written `KEY`\t" NR; next
	}
	gsub(/`/, "", key)
	if (def == "(none)") v = ""
	else if (def == "(required)") v = "\001"
	else if (def ~ /^`[^`]*`$/) v = substr(def, 2, length(def) - 2)
	else v = "\002the default column holds `VALUE`, (none) or (required), not \"" def "\""
	print sect "\t" key "\t" v "\t" NR
    }' docs/intake.conf.md > "$T/md"

# intake.conf(5), as make builds it
if make --no-print-directory -s man > "$T/make.log" 2>&1 && [ -s build/man/intake.conf.5 ]; then
    awk '
	/^\.SH "\[/ { match($0, /\[[^]]+\]/); sect = tolower(substr($0, RSTART + 1, RLENGTH - 2)); next }
	/^\.SH / { sect = ""; next }
	/^\.TP/ { tp = NR; next }
	sect != "" && /^\.B / && NR == tp + 1 { key = substr($0, 4); kl = NR; next }
	sect != "" && /^Default: / && NR == kl + 1 {
	    v = substr($0, 10); sub(/\.$/, "", v)
	    if (v == "none") v = ""
	    else if (v == "required") v = "\001"
	    else { sub(/^\\fB/, "", v); sub(/\\fR$/, "", v); gsub(/\\e/, "\\", v) }
	    print sect "\t" key "\t" v "\t" NR
	}' build/man/intake.conf.5 > "$T/man"
else
    notok "make man failed: $(tail -n 3 "$T/make.log")"
    : > "$T/man"
fi

# conf/intake.conf
awk '
    /^\[mailbox / { mbx++; sect = mbx == 1 ? "mailbox name" : ""; next }
    /^#\[sink / { snk++; sect = snk == 1 ? "sink name" : ""; next }
    /^\[/ { sect = tolower(substr($0, 2)); sub(/\].*/, "", sect); next }
    sect != "" && /^#?[a-z_0-9]+[ \t]*=/ {
	s = $0; sub(/^#/, "", s)
	key = s; sub(/[ \t]*=.*/, "", key)
	v = s; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
	if (!((sect, key) in seen)) { seen[sect, key] = 1; print sect "\t" key "\t" v "\t" NR }
    }' conf/intake.conf > "$T/conf"

# compare NAME FILE: every code key in FILE with the same default, no key in FILE the code lacks.
compare() {
    local name=$1 file=$2 out
    out=$(awk -F'\t' -v name="$name" '
	function shown(v) { return v == "\001" ? "(required)" : v == "" ? "(none)" : "\"" v "\"" }
	function write(k, v) {		# what to write in this file for key k with default v
	    if (name ~ /\.md$/)
		return "| `" k "` | " (v == "\001" ? "(required)" : v == "" ? "(none)" : "`" v "`") " | MEANING |"
	    if (name ~ /\.conf$/)
		return v == "\001" ? k " = EXAMPLE" : k " = " v
	    return ""
	}
	function where(s) {
	    if (name ~ /\.md$/) return "the table under \"## [" s "]\""
	    return "section [" s "]" (s ~ /^mailbox/ ? " (the first one)" : "")
	}
	BEGIN { gen = " (it is made from docs/intake.conf.md: fix that file, then make man)" }
	FNR == NR { lc = tolower($1); code[lc, $2] = $3; sect[lc, $2] = $1; order[++n] = lc SUBSEP $2; next }
	{
	    k = $1 SUBSEP $2
	    if ($3 ~ /^\002/) { print name ":" $4 ": " $2 ": " substr($3, 2); next }
	    if (k in found) { print name ":" $4 ": [" $1 "] " $2 ": listed twice (also line " found[k] "): keep one"; next }
	    found[k] = $4
	    if (!(k in code)) {
		print name ":" $4 ": [" $1 "] " $2 ": no such key in common/config.c: remove it, or add it to the " \
		    ($1 ~ /^mailbox/ ? "mailbox" : $1) "_keys table"
		next
	    }
	    if ($3 != code[k] && !(code[k] == "\001" && name ~ /\.conf$/))
		print name ":" $4 ": [" sect[k] "] " $2 ": default " shown($3) " here, " shown(code[k]) \
		    " in common/config.c" (write($2, code[k]) == "" ? gen : ": write  " write($2, code[k]))
	}
	END {
	    for (i = 1; i <= n; i++) {
		if (order[i] in found) continue
		split(order[i], p, SUBSEP)
		if (write(p[2], code[order[i]]) == "")
		    print name ": [" sect[order[i]] "] " p[2] " is missing" gen
		else
		    print name ": [" sect[order[i]] "] " p[2] " is missing: add  " write(p[2], code[order[i]]) \
			"  to " where(sect[order[i]])
	    }
	}' "$T/code" "$file")
    if [ -z "$out" ]; then
	ok "$name: every key of common/config.c with its default ($(wc -l < "$file") keys)"
    else
	notok "$name disagrees with common/config.c:"
	printf '%s\n' "$out" | sed 's/^/#   /'
    fi
}
compare docs/intake.conf.md "$T/md"
compare build/man/intake.conf.5 "$T/man"
compare conf/intake.conf "$T/conf"

# The test must be able to fail: a key added to the code but to no document is caught.
printf 'milter\tnew_key_of_a_test\tdefault\t42\n' >> "$T/code.raw"
awk -F'\t' '{ print $1 "\t" $2 "\t" ($3 == "required" ? "\001" : $4) }' "$T/code.raw" > "$T/code"
if compare docs/intake.conf.md "$T/md" | grep -q 'new_key_of_a_test is missing: add  | `new_key_of_a_test` | `42` |'; then
    ok "a key only in the code is reported with the row to add"
else
    notok "a key only in the code was not reported"
fi
[ "$FAILED" = 0 ]
