/*
 * NAME
 *	test_ticketno - unit tests of worker/ticketno.c
 * DESCRIPTION
 *	Table-driven: what ticketno_format() and ticketno_tag() write, and
 *	which ticket number ticketno_find() sees in a subject: the three
 *	forms "[#N]", "[N]" and "#N", case, the first of two, another
 *	system's prefix, a bare number, too many digits, a prefix holding
 *	regular expression metacharacters, and case variants that are not
 *	ASCII (U+212A KELVIN SIGN matches "k" without regard to case).
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "ticketno.h"
#include "tap.h"

/* ---------------------------------------------------------------- */
/*	ticketno_format, ticketno_tag					    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *prefix;
    int     year;
    gint64  seq;
    const char *want;
} format_cases[] = {
    {"INT", 2026, 123, "INT-2026-000123"},
    {"INT", 2026, 1, "INT-2026-000001"},
    {"INT", 2026, 0, "INT-2026-000000"},
    {"INT", 2026, 999999, "INT-2026-999999"},
    {"INT", 2026, 1000000, "INT-2026-1000000"},		/* more digits when needed */
    {"INT", 2026, 123456789012LL, "INT-2026-123456789012"},
    {"ACME", 1999, 42, "ACME-1999-000042"},
    {"A.B+", 2026, 7, "A.B+-2026-000007"},
    {"int", 2026, 5, "int-2026-000005"},			/* prefix kept as given */
};

static void test_format(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(format_cases); i++) {
	g_autofree char *got = ticketno_format(format_cases[i].prefix, format_cases[i].year,
					       format_cases[i].seq);

	is_str(got, format_cases[i].want, "ticketno_format(\"%s\", %d, %" G_GINT64_FORMAT ")",
	       format_cases[i].prefix, format_cases[i].year, format_cases[i].seq);
    }
    {
	g_autofree char *tag = ticketno_tag("INT-2026-000123");

	is_str(tag, "[#INT-2026-000123]", "ticketno_tag");
    }
}

/* ---------------------------------------------------------------- */
/*	ticketno_find							    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *prefix;
    const char *subject;
    const char *want;			/* NULL: no number of ours */
} find_cases[] = {
    {"INT", "[#INT-2026-000123] Re: x", "INT-2026-000123"},
    {"INT", "Re: AW: [#int-2026-000123]", "INT-2026-000123"},	/* case-insensitive */
    {"INT", "Re: [#Int-2026-000123] x", "INT-2026-000123"},
    {"int", "Re: [#INT-2026-000123]", "int-2026-000123"},	/* the configured case */
    {"INT", "[INT-2026-000123]", "INT-2026-000123"},
    {"INT", "#INT-2026-000123", "INT-2026-000123"},
    {"INT", "Re: my issue #INT-2026-000123 again", "INT-2026-000123"},
    {"INT", "Fwd: [#INT-2026-000123] and [#INT-2026-000456]", "INT-2026-000123"},
    {"INT", "[#INT-2026-000456] [#INT-2026-000123]", "INT-2026-000456"},
    {"INT", "[#ACME-2026-000001] Re: x", NULL},		/* another system's number */
    {"INT", "[#ACME-2026-000001] [#INT-2026-000002]", "INT-2026-000002"},
    {"INT", "[#XINT-2026-000001]", NULL},
    {"INT", "[#FOO-INT-2026-000001]", NULL},
    {"INT", "INT-2026-000123", NULL},				/* no [# nor # */
    {"INT", "Re: INT-2026-000123 x", NULL},
    {"INT", "Ticket INT-2026-000123]", NULL},
    {"INT", "[#INT-2026-12345]", NULL},				/* five digits: too few */
    {"INT", "[#INT-26-000123]", NULL},				/* two-digit year */
    {"INT", "[#INT-2026-1234567]", "INT-2026-1234567"},	/* seven: more when needed */
    {"INT", "[#INT-2026-123456789012]", "INT-2026-123456789012"},	/* twelve: the most */
    {"INT", "[#INT-2026-0001234567890123]", NULL},		/* sixteen: not one of ours */
    {"INT", "[#INT-2026-1234567890123]", NULL},		/* thirteen */
    {"INT", "[#INT-2026-000123x]", "INT-2026-000123"},		/* a letter ends it */
    {"INT", "[# INT-2026-000123]", NULL},
    {"INT", "", NULL},
    {"INT", "Re: hello", NULL},
    /* The prefix is matched literally: "." and "+" are not operators. */
    {"A.B+", "[#A.B+-2026-000001]", "A.B+-2026-000001"},
    {"A.B+", "[#a.b+-2026-000001]", "A.B+-2026-000001"},
    {"A.B+", "[#AxB+-2026-000001]", NULL},
    {"A.B+", "[#A.BB-2026-000001]", NULL},
    {"A.B+", "[#A.BBB+-2026-000001]", NULL},
    {"(x)|*", "[#(x)|*-2026-000001]", "(x)|*-2026-000001"},
    {"(x)|*", "[#x-2026-000001]", NULL},
    {"\\Q.\\E", "[#\\Q.\\E-2026-000001]", "\\Q.\\E-2026-000001"},
    {"\\Q.\\E", "[#\\Qx\\E-2026-000001]", NULL},
    /*
     * A case variant of another length in UTF-8: PCRE matches U+212A
     * KELVIN SIGN (3 bytes) for "K" without regard to case. The number is
     * that of prefix "KB"; it must come back as the configured "KB-...",
     * valid UTF-8, not the configured bytes pasted over part of the sign.
     */
    {"KB", "Re: [#\xe2\x84\xaa" "B-2026-000123]", "KB-2026-000123"},
    /* The other way round: a configured prefix longer in bytes than the match. */
#define KELVIN7 "\xe2\x84\xaa\xe2\x84\xaa\xe2\x84\xaa\xe2\x84\xaa\xe2\x84\xaa\xe2\x84\xaa\xe2\x84\xaa"
    {KELVIN7, "[#kkkkkkk-2026-000001]", KELVIN7 "-2026-000001"},
};

static void test_find(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(find_cases); i++) {
	g_autofree char *got = ticketno_find(find_cases[i].prefix, find_cases[i].subject);
	g_autofree char *shown = g_strescape(find_cases[i].subject, NULL);

	is_str(got, find_cases[i].want, "ticketno_find(\"%s\", \"%s\")", find_cases[i].prefix,
	       shown);
	if (got)
	    ok(g_utf8_validate(got, -1, NULL), "ticketno_find(\"%s\", \"%s\") is valid UTF-8",
	       find_cases[i].prefix, shown);
    }
    ok(ticketno_find("INT", NULL) == NULL, "ticketno_find(NULL subject) is NULL");
    {
	/* More prefixes than ticketno.c keeps compiled, in turn, twice: each finds its own
	 * number and not the one before's, however the cache was emptied in between. */
	int     wrong = 0;

	for (int round = 0; round < 2; round++)
	    for (int i = 0; i < 40; i++) {
		g_autofree char *prefix = g_strdup_printf("P%d", i);
		g_autofree char *other = g_strdup_printf("[#P%d-2026-000001]", (i + 39) % 40);
		g_autofree char *subject = g_strdup_printf("Re: [#%s-2026-%06d]", prefix, i + 1);
		g_autofree char *want = g_strdup_printf("%s-2026-%06d", prefix, i + 1);
		g_autofree char *got = ticketno_find(prefix, subject);
		g_autofree char *none = ticketno_find(prefix, other);

		wrong += g_strcmp0(got, want) != 0 || none != NULL;
	    }
	is_int(wrong, 0, "ticketno_find() with 40 prefixes in turn, twice: each its own number");
    }

    /* What ticketno_format() writes, ticketno_find() finds in its tag. */
    {
	static const gint64 seqs[] = {0, 1, 123, 999999, 1000000, 123456789012LL};
	int     wrong = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(seqs); i++) {
	    g_autofree char *n = ticketno_format("INT", 2026, seqs[i]);
	    g_autofree char *tag = ticketno_tag(n);
	    g_autofree char *subject = g_strdup_printf("Re: %s Help", tag);
	    g_autofree char *got = ticketno_find("INT", subject);

	    if (g_strcmp0(got, n) != 0 && wrong++ < 5)
		diag("round trip of %s gave %s", n, got ? got : "(null)");
	}
	is_int(wrong, 0, "ticketno_find() finds every tag ticketno_tag() makes (up to 12 digits)");
    }
}

/* ---------------------------------------------------------------- */
/*	ticketno_find_record: PRJ-N, TSK-N (docs/actions.md)		    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *kind;
    const char *subject;
    const char *want;
} record_cases[] = {
    {"PRJ", "[#PRJ-12] status", "PRJ-12"},
    {"PRJ", "Re: [prj-12]", "PRJ-12"},
    {"TSK", "note #TSK-34 done", "TSK-34"},
    {"TSK", "[#TSK-007]", "TSK-7"},			/* as the store writes it */
    {"TSK", "[#TSK-0]", NULL},				/* no task 0 */
    {"TSK", "[#TSK-1234567890]", NULL},			/* ten digits: not ours */
    {"TSK", "TSK-34 without a mark", NULL},
    {"TSK", "[#PRJ-34]", NULL},				/* another kind */
    {"PRJ", "[#PRJ-]", NULL},
    {"PRJ", NULL, NULL},
};

static void test_find_record(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(record_cases); i++) {
	g_autofree char *got = ticketno_find_record(record_cases[i].kind,
						    record_cases[i].subject);

	is_str(got, record_cases[i].want, "find_record(%s, \"%s\")", record_cases[i].kind,
	       record_cases[i].subject ? record_cases[i].subject : "(null)");
    }
}

int     main(void)
{
    test_format();
    test_find();
    test_find_record();
    return tap_done();
}
