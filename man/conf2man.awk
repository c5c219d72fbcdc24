# conf2man.awk - intake.conf(5) in man(7) format from docs/intake.conf.md
#
# usage: awk -v date=YYYY-MM-DD -f man/conf2man.awk docs/intake.conf.md > intake.conf.5
#
# docs/intake.conf.md is the one text of intake.conf(5): make turns it into the man page at build
# time (no network, no tool beyond awk), so the two cannot drift. The Markdown it understands is
# what that file uses: "# title" (dropped), "## heading" (.SH), paragraphs, "- " items (their
# continuation lines indented), code blocks indented by four spaces, `code`, **bold**, *italic*,
# [text](link) (the text only) and tables. A table row whose first cell is a `key` becomes a tagged
# paragraph: the key, "Default: VALUE" (or "none"/"required" for (none)/(required)) and its
# meaning. tests/it/it_docs_config_keys.sh reads keys and defaults back from the result.

function esc(s) {			# text for a man(7) text line
    gsub(/\\/, "\\e", s)
    return s
}

function inline(s,   out, i, j, t) {	# Markdown inline markup to man(7) font escapes
    s = esc(s)
    out = ""
    while ((i = index(s, "`")) > 0) {
	j = index(substr(s, i + 1), "`")
	if (j == 0)
	    break
	t = substr(s, i + 1, j - 1)
	out = out emph(substr(s, 1, i - 1)) "\\fB" t "\\fR"
	s = substr(s, i + j + 1)
    }
    return out emph(s)
}

function emph(s) {			# **bold**, *italic*, [text](link) outside code spans
    while (match(s, /\*\*[^*]+\*\*/))
	s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR" substr(s, RSTART + RLENGTH)
    while (match(s, /\*[^* ][^*]*\*/))
	s = substr(s, 1, RSTART - 1) "\\fI" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
    while (match(s, /\[[^]]+\]\([^)]+\)/)) {
	t = substr(s, RSTART + 1, RLENGTH - 2)
	sub(/\]\(.*/, "", t)
	s = substr(s, 1, RSTART - 1) t substr(s, RSTART + RLENGTH)
    }
    return s
}

function line(s) {			# one text line; a leading . or ' would be a request
    sub(/^[ \t]+/, "", s)
    if (s ~ /^[.']/)
	s = "\\&" s
    print s
}

function flush_para() {
    if (para != "") {
	if (need_pp)
	    print ".PP"
	line(inline(para))
	para = ""
	need_pp = 1
    }
}

function close_code() {
    if (in_code) {
	print ".fi"
	print ".RE"
	in_code = 0
	need_pp = 1
    }
}

function cell(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

BEGIN {
    print ".\\\" Generated from docs/intake.conf.md by man/conf2man.awk: edit that file instead."
    print ".TH INTAKE.CONF 5 " date " Intake"
    print ".SH NAME"
    print "intake.conf \\- configuration file of intake-milter, intake-worker and intakectl"
    print ".SH DESCRIPTION"
    need_pp = 0
}

/^# / { next }				# the title: NAME above says it

in_code && /^    / { print esc(substr($0, 5)); next }
in_code && /^$/ { next }
in_code { close_code() }

/^## / {
    flush_para()
    print ".SH \"" toupper(substr($0, 4)) "\""
    need_pp = 0
    next
}

/^\|/ {
    flush_para()
    n = split($0, c, /[ \t]*\|[ \t]*/)	# c[1] and c[n] are the empty ends
    if (cell(c[2]) == "key" || cell(c[2]) ~ /^-+$/)
	next
    key = cell(c[2])
    def = cell(c[3])
    meaning = cell(c[4])
    for (i = 5; i < n; i++)
	meaning = meaning " | " cell(c[i])
    if (key ~ /^`[^`]+`$/) {
	gsub(/`/, "", key)
	if (def == "(none)")
	    def = "none"
	else if (def == "(required)")
	    def = "required"
	else if (def ~ /^`[^`]*`$/)
	    def = "\\fB" esc(substr(def, 2, length(def) - 2)) "\\fR"
	else
	    def = inline(def)
	print ".TP"
	print ".B " esc(key)
	line("Default: " def ".")
	line(inline(meaning))
    } else {
	print ".TP"
	line(inline(c[2]))
	line(inline(def) " \\- " inline(meaning))
    }
    need_pp = 1
    next
}

/^- / {
    flush_para()
    print ".IP \\(bu 2"
    para = substr($0, 3)
    need_pp = 0
    next
}

/^$/ {
    flush_para()
    next
}

/^    / && para == "" {
    print ".PP"
    print ".RS 4"
    print ".nf"
    print esc(substr($0, 5))
    in_code = 1
    next
}

{
    para = para == "" ? $0 : para " " cell($0)
}

END {
    close_code()
    flush_para()
    print ".SH SEE ALSO"
    print ".BR intake-milter (8),"
    print ".BR intake-worker (8),"
    print ".BR intakectl (8)"
}
