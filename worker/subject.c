/*
 * NAME
 *	subject - reply/forward prefixes and subject keys
 * SYNOPSIS
 *	const char *subject_skip_prefixes(subject)
 *	char   *subject_key(subject)
 * DESCRIPTION
 *	The one table of the reply and forward prefixes that mail clients
 *	put before a subject, in the languages our customers write:
 *	Re, Fwd, Fw (English), AW, WG (German), SV, VS, VL (Nordic), Antw
 *	(Dutch), Odp, PD (Polish), TR, Réf (French), Rif, R (Italian), RV,
 *	Enc, Res (Spanish, Portuguese), Ref, and the Chinese 回复, 答复,
 *	回覆, 转发, 轉寄. A prefix counts only followed by a colon (ASCII
 *	or the full-width "：", after optional spaces or a "[2]" counter):
 *	"Rework: x" and "Ref 12" keep their words. Case does not matter.
 *	Used where we quote a subject (reply.c) and where we match one
 *	(subject_key(): near-duplicates).
 *
 *	subject_skip_prefixes() returns a pointer into subject past all
 *	leading prefixes and the white space after each ("Re: AW: Fwd: x"
 *	gives "x").
 *
 *	subject_key() returns the subject as it is compared (g_free):
 *	prefixes skipped, runs of white space (also Unicode spaces) folded
 *	into one space, trimmed, case-folded (g_utf8_casefold()), invalid
 *	UTF-8 replaced. An empty key means "no subject"; callers do not
 *	match on it.
 *
 *	Both run in time linear in the subject: each step skips at least
 *	one prefix, and a prefix is tried against the table (a constant)
 *	once per position.
 */
#include <string.h>

#include "subject.h"

/* The prefixes, without their colon. */
static const char *const prefixes[] = {
    "re", "fwd", "fw", "aw", "wg", "sv", "vs", "vl", "antw", "odp", "pd", "tr",
    "r\xc3\xa9" "f",			/* réf */
    "rif", "r", "rv", "enc", "res", "ref",
    "\xe5\x9b\x9e\xe5\xa4\x8d",		/* 回复 */
    "\xe7\xad\x94\xe5\xa4\x8d",		/* 答复 */
    "\xe5\x9b\x9e\xe8\xa6\x86",		/* 回覆 */
    "\xe8\xbd\xac\xe5\x8f\x91",		/* 转发 */
    "\xe8\xbd\x89\xe5\xaf\x84",		/* 轉寄 */
    NULL,
};

#define FULLWIDTH_COLON "\xef\xbc\x9a"	/* U+FF1A */

/* prefix_len - length of one prefix at s with its colon and white space, or 0 */
static size_t prefix_len(const char *s)
{
    for (int i = 0; prefixes[i]; i++) {
	size_t  n = strlen(prefixes[i]);
	const char *p;

	if (g_ascii_strncasecmp(s, prefixes[i], n) != 0)
	    continue;
	p = s + n;
	if (*p == '[') {			/* "Re[2]:" */
	    const char *q = p + 1;

	    while (g_ascii_isdigit(*q) && q - p < 6)
		q++;
	    if (*q == ']' && q > p + 1)
		p = q + 1;
	}
	while (*p == ' ')			/* "AW :" as some clients write it */
	    p++;
	if (*p == ':')
	    p++;
	else if (strncmp(p, FULLWIDTH_COLON, 3) == 0)
	    p += 3;
	else
	    continue;
	while (*p == ' ' || *p == '\t')
	    p++;
	return p - s;
    }
    return 0;
}

const char *subject_skip_prefixes(const char *subject)
{
    const char *s = subject ? subject : "";
    size_t  n;

    while ((n = prefix_len(s)) > 0)
	s += n;
    return s;
}

char   *subject_key(const char *subject)
{
    g_autofree char *valid = g_utf8_make_valid(subject ? subject : "", -1);
    g_autoptr(GString) folded = g_string_new(NULL);
    const char *s;
    gboolean space = FALSE;

    /* White space first: "Re:\tx" and "Re:  x" skip alike. */
    for (s = valid; *s; s = g_utf8_next_char(s)) {
	gunichar c = g_utf8_get_char(s);

	if (g_unichar_isspace(c) || g_unichar_type(c) == G_UNICODE_SPACE_SEPARATOR) {
	    space = folded->len > 0;
	    continue;
	}
	if (space)
	    g_string_append_c(folded, ' ');
	space = FALSE;
	g_string_append_unichar(folded, c);
    }
    return g_utf8_casefold(subject_skip_prefixes(folded->str), -1);
}
