/*
 * NAME
 *	addr - mail address normalisation for mailbox lookup
 * SYNOPSIS
 *	char *addr_normalise(addr, delimiters)
 *	const char *addr_domain(normalised)
 * DESCRIPTION
 *	addr_normalise() turns an envelope or header address into the key
 *	under which mailboxes are looked up: surrounding white space and
 *	angle brackets removed, lower case (ASCII; the local part is treated
 *	case-insensitively, as every MTA that Intake sits in does), and the
 *	address extension removed: with delimiters "+", "support+billing@x"
 *	becomes "support@x". A quoted local part keeps its quotes, and a
 *	delimiter inside the quotes does not start an extension. The
 *	result is newly allocated (g_free); NULL when the input holds no
 *	usable address (empty, "<>", control characters, longer than 512).
 *
 *	addr_domain() points into a normalised address at the domain, or at
 *	"" when there is none.
 */
#include <string.h>
#include <glib.h>

#include "addr.h"

#define ADDR_MAX 512

char   *addr_normalise(const char *addr, const char *delimiters)
{
    const char *start, *end, *at;
    GString *out;
    int     quoted;

    if (addr == NULL)
	return NULL;
    start = addr;
    while (*start == ' ' || *start == '\t' || *start == '<')
	start++;
    end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '>'))
	end--;
    if (end == start || end - start > ADDR_MAX)
	return NULL;
    for (const char *p = start; p < end; p++)
	if ((unsigned char) *p < 0x20 || *p == 0x7f)
	    return NULL;

    at = NULL;
    for (const char *p = end; p > start; p--)
	if (p[-1] == '@') {
	    at = p - 1;
	    break;
	}
    out = g_string_sized_new(end - start);
    quoted = 0;
    for (const char *p = start; p < (at ? at : end); p++) {
	/* A delimiter inside a quoted string is text, not an extension. */
	if (*p == '"' && (p == start || p[-1] != '\\'))
	    quoted = !quoted;
	else if (!quoted && delimiters && *delimiters && p > start && strchr(delimiters, *p))
	    break;
	g_string_append_c(out, g_ascii_tolower(*p));
    }
    if (at) {
	for (const char *p = at; p < end; p++)
	    g_string_append_c(out, g_ascii_tolower(*p));
    }
    return g_string_free(out, FALSE);
}

const char *addr_domain(const char *normalised)
{
    const char *at = strrchr(normalised, '@');

    return at ? at + 1 : "";
}
