/*
 * NAME
 *	srs - the original sender of an SRS-rewritten envelope sender
 * SYNOPSIS
 *	#include "srs.h"
 *
 *	char	*srs_decode(addr)
 * DESCRIPTION
 *	A forwarding server that rewrites the envelope sender with the
 *	Sender Rewriting Scheme (libsrs2, postsrsd, Exchange Online, Gmail)
 *	turns jane@example.org into
 *
 *	    SRS0=HHH=TT=example.org=jane@forwarder.example
 *
 *	(HHH a hash, TT a timestamp), and a second forwarder turns that into
 *
 *	    SRS1=HHH=forwarder.example==HHH=TT=example.org=jane@second.example
 *
 *	srs_decode() returns the original address, "jane@example.org",
 *	newly allocated (g_free), or NULL when addr is not such an address
 *	(or a malformed one). Angle brackets around addr are ignored; "SRS0"
 *	and "SRS1" in any case, and the separators "=", "+" and "-" after
 *	them, are accepted, as libsrs2 accepts them. The local part of the
 *	original may itself contain "=".
 *
 *	The hash is not verified: only the forwarder has its secret. An
 *	SRS address therefore says no more about the original sender than
 *	a From field does; use it to name a customer, never to trust one.
 *
 *	Time and memory are linear in the length of addr (at most 512
 *	bytes are looked at; longer input is not an address).
 */
#include <string.h>
#include <glib.h>

#include "srs.h"

#define SRS_MAX 512

/*
 * srs0_tail - the original address of the SRS0 part "HHH=TT=domain=local"
 * (what follows "SRS0=", or the "=HHH=..." that follows an SRS1's first
 * host without its leading "="), or NULL.
 */
static char *srs0_tail(const char *p, const char *end)
{
    const char *hash_end, *tt_end, *dom_end;

    if ((hash_end = memchr(p, '=', end - p)) == NULL || hash_end == p)
	return NULL;
    tt_end = memchr(hash_end + 1, '=', end - hash_end - 1);
    /* libsrs2 writes the timestamp in two base32 characters. */
    if (tt_end == NULL || tt_end - hash_end - 1 != 2)
	return NULL;
    dom_end = memchr(tt_end + 1, '=', end - tt_end - 1);
    if (dom_end == NULL || dom_end == tt_end + 1 || dom_end + 1 >= end)
	return NULL;
    for (const char *q = tt_end + 1; q < dom_end; q++)
	if (!(g_ascii_isalnum(*q) || *q == '.' || *q == '-' || *q == '_'))
	    return NULL;
    return g_strdup_printf("%.*s@%.*s", (int) (end - dom_end - 1), dom_end + 1,
			   (int) (dom_end - tt_end - 1), tt_end + 1);
}

char   *srs_decode(const char *addr)
{
    const char *start, *end, *at, *p;
    int     srs1;

    if (addr == NULL)
	return NULL;
    start = addr;
    while (*start == ' ' || *start == '<')
	start++;
    end = start + strnlen(start, SRS_MAX + 1);
    if (end - start > SRS_MAX)
	return NULL;
    while (end > start && (end[-1] == ' ' || end[-1] == '>'))
	end--;
    /* The local part ends at the last "@": the original's own "@" became "=". */
    for (at = end; at > start && at[-1] != '@'; at--)
	;
    if (at == start)
	return NULL;
    end = at - 1;			/* end of the local part */
    if (end - start < 5 || g_ascii_strncasecmp(start, "SRS", 3) != 0
	|| (start[3] != '0' && start[3] != '1') || strchr("=+-", start[4]) == NULL)
	return NULL;
    for (p = start; p < end; p++)
	if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == '@')
	    return NULL;
    srs1 = start[3] == '1';
    p = start + 5;
    if (srs1) {
	/* SRS1=HHH=first.forwarder==HHH=TT=domain=local: skip hash and host. */
	const char *hash_end = memchr(p, '=', end - p);
	const char *host_end;

	if (hash_end == NULL || hash_end == p)
	    return NULL;
	host_end = memchr(hash_end + 1, '=', end - hash_end - 1);
	if (host_end == NULL || host_end == hash_end + 1 || host_end + 1 >= end
	    || strchr("=+-", host_end[1]) == NULL)
	    return NULL;
	p = host_end + 2;
    }
    return srs0_tail(p, end);
}
