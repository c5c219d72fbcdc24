# cstrings.awk: the multi-line string literals of a C file, for fuzz seeds (tests/fuzz/run).
#
# A run of lines that hold nothing but string literals (and a trailing "," or ")" or a
# macro's "\") is one literal, as the compiler concatenates it. Each run of at least
# MIN (default 16) bytes is written, its escapes still as in C, to OUT/NAME-N.c-string;
# tests/fuzz/run turns the escapes into bytes with printf %b. With -v SINGLE=1 each literal of
# the other lines (table rows such as {"name", "text"}) is written as well.
#   awk -v OUT=DIR -v NAME=PREFIX [-v SINGLE=1] -f cstrings.awk FILE.c
function emit(text) {
    if (length(text) >= (MIN ? MIN : 16)) {
	n++
	f = OUT "/" NAME "-" n ".c-string"
	printf "%s", text > f
	close(f)
    }
}
function flush() {
    emit(buf)
    buf = ""
}
/^[ \t]*"([^"\\]|\\.)*"[ \t]*([,)][ \t]*)*\\?[ \t]*$/ {
    s = $0
    sub(/^[ \t]*"/, "", s)
    sub(/"[ \t]*([,)][ \t]*)*\\?[ \t]*$/, "", s)
    buf = buf s
    next
}
{
    flush()
    if (SINGLE) {
	rest = $0
	while (match(rest, /"([^"\\]|\\.)*"/)) {
	    emit(substr(rest, RSTART + 1, RLENGTH - 2))
	    rest = substr(rest, RSTART + RLENGTH)
	}
    }
}
END { flush() }
