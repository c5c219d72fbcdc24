# cstrings.awk: the multi-line string literals of a C file, for fuzz seeds (tests/fuzz/run).
#
# A run of lines that hold nothing but string literals (and a trailing "," or ")" or a
# macro's "\") is one literal, as the compiler concatenates it. Each run of at least
# MIN (default 16) bytes is written, its escapes still as in C, to OUT/NAME-N.c-string;
# tests/fuzz/run turns the escapes into bytes with printf %b.
#   awk -v OUT=DIR -v NAME=PREFIX -f cstrings.awk FILE.c
function flush() {
    if (length(buf) >= (MIN ? MIN : 16)) {
	n++
	f = OUT "/" NAME "-" n ".c-string"
	printf "%s", buf > f
	close(f)
    }
    buf = ""
}
/^[ \t]*"([^"\\]|\\.)*"[ \t]*([,)][ \t]*)*\\?[ \t]*$/ {
    s = $0
    sub(/^[ \t]*"/, "", s)
    sub(/"[ \t]*([,)][ \t]*)*\\?[ \t]*$/, "", s)
    buf = buf s
    next
}
{ flush() }
END { flush() }
