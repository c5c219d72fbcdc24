/*
 * NAME
 *	test_timeentry - unit tests of worker/timeentry.c
 * DESCRIPTION
 *	Table-driven: each first-line form of docs/actions.md (h and m,
 *	minutes, decimal hours, hours:minutes), blank lines before it, case,
 *	and hostile lines: a sign, 10^20 hours, more than a day, zero, no
 *	unit, no summary, garbage after the unit, minutes of 60, a summary
 *	cut inside a UTF-8 character, a text without a newline read only up
 *	to len, and a megabyte of digits (linear: the test would time out).
 */
#include <string.h>
#include <glib.h>

#include "tap.h"
#include "timeentry.h"

static const struct {
    const char *text;
    int     minutes;			/* 0: refused */
    const char *summary;		/* NULL: refused */
    const char *why;			/* part of the reason when refused */
} cases[] = {
    {"1h30m Fixed the printer", 90, "Fixed the printer", NULL},
    {"2h Meeting", 120, "Meeting", NULL},
    {"1H05M case", 65, "case", NULL},
    {"90m Call with customer\nmore text", 90, "Call with customer", NULL},
    {"45min Review", 45, "Review", NULL},
    {"1.5h Deploy", 90, "Deploy", NULL},
    {"0.25h Quick fix", 15, "Quick fix", NULL},
    {"1.33h rounding", 80, "rounding", NULL},
    {"0:45 Phone", 45, "Phone", NULL},
    {"1:30\tTabbed   ", 90, "Tabbed", NULL},
    {"\n\r\n  \n 24h whole day\r\n", 1440, "whole day", NULL},
    {"-1h negative", 0, NULL, "sign"},
    {"+1h positive", 0, NULL, "sign"},
    {"100000000000000000000h forever", 0, NULL, "four digits"},
    {"25h too long", 0, NULL, "more than a day"},
    {"9999h too long", 0, NULL, "more than a day"},
    {"0m nothing", 0, NULL, "zero"},
    {"0:00 nothing", 0, NULL, "zero"},
    {"90 no unit", 0, NULL, "no unit"},
    {"1h30m", 0, NULL, "summary"},
    {"1h30m   \r\n", 0, NULL, "summary"},
    {"1h30mx glued", 0, NULL, "not followed"},
    {"1h60m too many minutes", 0, NULL, "60 or more"},
    {"1:60 too many minutes", 0, NULL, "60 or more"},
    {"1:5 one digit", 0, NULL, "two digits"},
    {"1.555h three decimals", 0, NULL, "one or two decimals"},
    {"1.5 no h", 0, NULL, "one or two decimals"},
    {"1h30 no m", 0, NULL, "minutes"},
    {"Fixed the printer 1h", 0, NULL, "does not start"},
    {"", 0, NULL, "no text"},
    {" \n\n ", 0, NULL, "no text"},
};

static void test_table(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
	g_autofree char *summary = NULL;
	int     minutes = -1;
	const char *why = timeentry_parse(cases[i].text, strlen(cases[i].text), &minutes,
					  &summary);
	g_autofree char *label = g_strescape(cases[i].text, NULL);

	if (cases[i].summary) {
	    ok(why == NULL, "\"%s\" parses (%s)", label, why ? why : "");
	    is_int(minutes, cases[i].minutes, "\"%s\": minutes", label);
	    is_str(summary, cases[i].summary, "\"%s\": summary", label);
	} else {
	    ok(why != NULL && summary == NULL, "\"%s\" is refused", label);
	    has_str(why, cases[i].why, "\"%s\": the reason", label);
	}
    }
}

static void test_bounds(void)
{
    g_autofree char *summary = NULL;
    GString *long_line = g_string_new("2h ");
    g_autofree char *digits = g_strnfill(1 << 20, '7');
    const char *why;
    int     minutes;

    /* A summary longer than the bound is cut at a character boundary. */
    for (int i = 0; i < TIMEENTRY_SUMMARY_MAX; i++)
	g_string_append(long_line, "\xc3\xa4");	/* a-umlaut, two bytes */
    why = timeentry_parse(long_line->str, long_line->len, &minutes, &summary);
    ok(why == NULL, "a long summary parses");
    ok(summary && strlen(summary) <= TIMEENTRY_SUMMARY_MAX && strlen(summary) % 2 == 0
       && g_utf8_validate(summary, -1, NULL), "it is cut to %d bytes, whole characters",
       TIMEENTRY_SUMMARY_MAX);
    g_string_free(long_line, TRUE);
    g_clear_pointer(&summary, g_free);

    /* len is the bound, not a null byte: "90m Call" read as "90m". */
    why = timeentry_parse("90m Call", 3, &minutes, &summary);
    has_str(why, "summary", "the text is read up to len only");

    /* Invalid UTF-8 in the summary comes back valid. */
    why = timeentry_parse("1h \xff\xfe ok", strlen("1h \xff\xfe ok"), &minutes, &summary);
    ok(why == NULL && summary && g_utf8_validate(summary, -1, NULL),
       "invalid UTF-8 in the summary is made valid");
    g_clear_pointer(&summary, g_free);

    /* A megabyte of digits is refused at the fifth. */
    why = timeentry_parse(digits, strlen(digits), &minutes, &summary);
    has_str(why, "four digits", "a megabyte of digits is refused");
}

int     main(void)
{
    test_table();
    test_bounds();
    return tap_done();
}
