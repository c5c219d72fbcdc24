/*
 * NAME
 *	timeentry - read a time entry from the first line of a mail's text
 * SYNOPSIS
 *	#include "timeentry.h"
 *
 *	const char *timeentry_parse(text, len, &minutes, &summary)
 * DESCRIPTION
 *	The first line that is not blank, of at most len bytes of text,
 *	is a duration, white space and a summary (docs/actions.md):
 *
 *	    line     = *WSP duration 1*WSP summary
 *	    duration = hours "h" [minutes "m"]	  "1h30m", "2h", "1h05m"
 *		     | minutes ("m" / "min")	  "90m", "45min"
 *		     | hours "." 1*2DIGIT "h"	  "1.5h", "0.25h" (rounded to a minute)
 *		     | hours ":" 2DIGIT		  "0:45", "1:30"
 *	    hours, minutes = 1*4DIGIT
 *
 *	Letters are matched without regard to case. The duration is more
 *	than zero minutes and at most TIMEENTRY_MAX_MINUTES (a day); the
 *	minutes of "h..m" and ":" are below 60. The summary is the rest of
 *	the line without surrounding white space, not empty, cut to
 *	TIMEENTRY_SUMMARY_MAX bytes at a UTF-8 character boundary (made
 *	valid UTF-8).
 *
 *	The scan looks at each byte at most twice and never at more than
 *	len bytes: linear in the text whatever a sender puts there, and
 *	digits are counted before they are added up, so no value overflows.
 * DIAGNOSTICS
 *	NULL on success, with *minutes and *summary (g_free) set; else a
 *	static text saying why the line is not a time entry, for the
 *	sender's failure notification (*summary NULL).
 */
#include <string.h>

#include "timeentry.h"

#define MAX_DIGITS 4

/* digits - read 1..MAX_DIGITS digits at *p (before end) into *value; FALSE: none or too many */
static gboolean digits(const char **p, const char *end, int *value, int *count)
{
    const char *s = *p;
    int     v = 0, n = 0;

    while (s < end && g_ascii_isdigit(*s)) {
	if (++n > MAX_DIGITS)
	    return FALSE;
	v = v * 10 + (*s++ - '0');
    }
    *p = s;
    *value = v;
    if (count)
	*count = n;
    return n > 0;
}

static gboolean is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* duration - the duration at *p, in minutes, or a reason (static) */
static const char *duration(const char **p, const char *end, int *minutes)
{
    const char *s = *p;
    int     a = 0, b = 0, n = 0;

    if (s < end && (*s == '-' || *s == '+'))
	return "the duration has a sign: write it as e.g. 1h30m, 90m, 1.5h or 0:45";
    if (!digits(&s, end, &a, NULL))
	return s < end && g_ascii_isdigit(*s) ? "the duration has more than four digits"
	    : "the first line does not start with a duration such as 1h30m, 90m, 1.5h or 0:45";
    if (s < end && (*s == 'h' || *s == 'H')) {
	s++;
	*minutes = a * 60;
	if (s < end && g_ascii_isdigit(*s)) {
	    if (!digits(&s, end, &b, NULL) || s >= end || (*s != 'm' && *s != 'M'))
		return "after the hours only minutes may follow, as in 1h30m";
	    s++;
	    if (b >= 60)
		return "the minutes after the hours are 60 or more";
	    *minutes += b;
	}
    } else if (s < end && (*s == 'm' || *s == 'M')) {
	s++;
	if (end - s >= 2 && g_ascii_strncasecmp(s, "in", 2) == 0)
	    s += 2;
	*minutes = a;
    } else if (s < end && *s == '.') {
	s++;
	if (!digits(&s, end, &b, &n) || n > 2 || s >= end || (*s != 'h' && *s != 'H'))
	    return "decimal hours have one or two decimals and an h, as in 1.5h";
	s++;
	/* b / 10^n hours in minutes, rounded half up */
	*minutes = a * 60 + (b * 60 * (n == 1 ? 10 : 1) + 50) / 100;
    } else if (s < end && *s == ':') {
	s++;
	if (!digits(&s, end, &b, &n) || n != 2)
	    return "hours:minutes has two digits of minutes, as in 0:45";
	if (b >= 60)
	    return "the minutes after the colon are 60 or more";
	*minutes = a * 60 + b;
    } else {
	return "the duration has no unit: write e.g. 1h30m, 90m, 1.5h or 0:45";
    }
    if (s < end && !is_space(*s) && *s != '\r' && *s != '\n')
	return "the duration is not followed by a space and a summary";
    *p = s;
    return NULL;
}

const char *timeentry_parse(const char *text, size_t len, int *minutes, char **summary)
{
    const char *p = text, *end = text + len, *eol, *last;
    const char *why;

    *minutes = 0;
    *summary = NULL;
    /* The first line that is not blank. */
    while (p < end && (is_space(*p) || *p == '\r' || *p == '\n'))
	p++;
    if (p == end)
	return "the mail has no text: its first line should be e.g. \"1h30m Fixed the printer\"";
    if ((why = duration(&p, end, minutes)) != NULL)
	return why;
    if (*minutes <= 0)
	return "the duration is zero";
    if (*minutes > TIMEENTRY_MAX_MINUTES)
	return "the duration is more than a day (24h)";
    eol = memchr(p, '\n', end - p);
    last = eol ? eol : end;
    while (p < last && is_space(*p))
	p++;
    while (last > p && (is_space(last[-1]) || last[-1] == '\r'))
	last--;
    if (p == last)
	return "the duration is not followed by a summary of the work";
    if (last - p > TIMEENTRY_SUMMARY_MAX) {
	last = p + TIMEENTRY_SUMMARY_MAX;
	while (last > p && ((guchar) *last & 0xC0) == 0x80)	/* not inside a character */
	    last--;
    }
    *summary = g_utf8_make_valid(p, last - p);
    return NULL;
}
