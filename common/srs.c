/*
 * NAME
 *	srs - the original sender of an SRS-rewritten envelope sender
 * SYNOPSIS
 *	char *srs_decode(addr)
 * DESCRIPTION
 *	A forwarder that rewrites the envelope sender with the Sender
 *	Rewriting Scheme (postsrsd, pfix-srsd, Exim, Gmail) turns
 *	local@domain into SRS0=HHH=TT=domain=local@forwarder, and a second
 *	forwarder turns that into SRS1=HHH=forwarder==HHH=TT=domain=local@
 *	forwarder2. srs_decode() returns local@domain (g_free) for either
 *	form ("SRS0"/"SRS1" in any case, followed by "=", "+" or "-" as the
 *	implementations write it), or NULL when addr is not such an address
 *	or the parts are empty.
 *
 *	The hash and the timestamp are not checked: only the forwarder holds
 *	the key. The result therefore says what the address claims, no more;
 *	callers use it where an unrewritten envelope sender of that domain
 *	would be believed as much (the alignment of From with the envelope
 *	sender for an acknowledgement), never as proof of origin.
 *
 *	One pass over the address: linear time, and the result is shorter
 *	than the input.
 */
#include <string.h>
#include <glib.h>

#include "srs.h"

#define SRS_SEPARATORS "=+-"

/* srs_tail - from "HHH=TT=domain=local@fwd" to "local@domain" */
static char *srs_tail(const char *p, const char *at)
{
    const char *hash_end, *tt_end, *dom_end;

    if ((hash_end = memchr(p, '=', at - p)) == NULL
	|| (tt_end = memchr(hash_end + 1, '=', at - hash_end - 1)) == NULL
	|| (dom_end = memchr(tt_end + 1, '=', at - tt_end - 1)) == NULL)
	return NULL;
    /* The local part keeps any further "=": it may contain them. */
    if (dom_end == tt_end + 1 || dom_end + 1 == at)
	return NULL;
    return g_strdup_printf("%.*s@%.*s", (int) (at - dom_end - 1), dom_end + 1,
			   (int) (dom_end - tt_end - 1), tt_end + 1);
}

char   *srs_decode(const char *addr)
{
    const char *at, *p;

    if (addr == NULL || strlen(addr) < 6 || g_ascii_strncasecmp(addr, "SRS", 3) != 0
	|| (addr[3] != '0' && addr[3] != '1') || strchr(SRS_SEPARATORS, addr[4]) == NULL)
	return NULL;
    if ((at = strrchr(addr, '@')) == NULL)
	return NULL;
    p = addr + 5;
    if (addr[3] == '1') {
	/* SRS1=HHH=forwarder==HHH=TT=domain=local: skip to the "==". */
	const char *dd = NULL;

	for (const char *q = p; q + 1 < at; q++)
	    if (q[0] == '=' && q[1] == '=') {
		dd = q;
		break;
	    }
	if (dd == NULL)
	    return NULL;
	p = dd + 2;
    }
    return srs_tail(p, at);
}
