/*
 * NAME
 *	addrlist - address header fields parsed, broken ones too
 * SYNOPSIS
 *	#include "addrlist.h"
 *
 *	InternetAddressList *addrlist_parse(opts, value)
 * DESCRIPTION
 *	addrlist_parse() parses the unfolded value of an address header
 *	field (From, To, Reply-To ...) with GMime (opts may be NULL) and
 *	returns the list (g_object_unref), or NULL when there is none.
 *
 *	A field that GMime makes no address of may still show one: web forms
 *	and scripts write "From: Jane Doe jane@example.org", "From: Jane
 *	[jane@example.org]" or "From: \"Jane\" jane@example.org", which GMime
 *	reads as a display name without an address, so that the mail had no
 *	sender to answer but the envelope's (often a bounce address). Then
 *	the first word of the form local@domain.tld in the value is the
 *	address, and the text before it, decoded and without quotes and
 *	brackets, the name. This trusts the sender no more than a
 *	well-formed field would: it is what the sender wrote.
 *
 *	Linear in the value: each '@' is looked at once, and the word
 *	around it is bounded by the characters an address may hold.
 */
#include <string.h>

#include "addrlist.h"

#define LOOSE_ADDR_MAX	512		/* longer is no address (addr.c's ADDR_MAX) */

/* has_address - whether list holds a mailbox with an address (in a group too) */
static gboolean has_address(InternetAddressList *list, int depth)
{
    int     n = list ? internet_address_list_length(list) : 0;

    for (int i = 0; i < n; i++) {
	InternetAddress *ia = internet_address_list_get_address(list, i);

	if (INTERNET_ADDRESS_IS_GROUP(ia)) {
	    if (depth < 2 && has_address(internet_address_group_get_members(
					     INTERNET_ADDRESS_GROUP(ia)), depth + 1))
		return TRUE;
	} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
	    const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));

	    if (a && strchr(a, '@'))
		return TRUE;
	}
    }
    return FALSE;
}

static gboolean local_char(int c)
{
    return g_ascii_isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static gboolean domain_char(int c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '-';
}

/*
 * loose_address - the first local@domain.tld of value: its start and
 * length, or NULL. The domain has a dot, neither it nor the local part
 * begins or ends with one.
 */
static const char *loose_address(const char *value, gsize *len)
{
    const char *at = value, *start, *end;

    while ((at = strchr(at, '@')) != NULL) {
	for (start = at; start > value && local_char(start[-1]); start--)
	     /* void */ ;
	for (end = at + 1; domain_char(*end); end++)
	     /* void */ ;
	while (end > at + 1 && (end[-1] == '.' || end[-1] == '-'))
	    end--;			/* "jane@example.org." ends a sentence */
	if (start < at && *start != '.' && at[-1] != '.' && end > at + 1 && at[1] != '.'
	    && at[1] != '-' && memchr(at + 1, '.', (gsize) (end - at - 1))
	    && (gsize) (end - start) <= LOOSE_ADDR_MAX) {
	    *len = (gsize) (end - start);
	    return start;
	}
	at = end > at + 1 ? end : at + 1;
    }
    return NULL;
}

InternetAddressList *addrlist_parse(GMimeParserOptions *opts, const char *value)
{
    InternetAddressList *list = internet_address_list_parse(opts, value);
    const char *addr;
    gsize   len = 0;

    if (has_address(list, 0) || (addr = loose_address(value, &len)) == NULL)
	return list;
    if (list)
	g_object_unref(list);
    {
	g_autofree char *a = g_strndup(addr, len);
	g_autofree char *phrase = g_strndup(value, (gsize) (addr - value));
	g_autofree char *name = NULL;
	InternetAddress *ia;

	g_strstrip(g_strdelimit(phrase, "\"<>[]()", ' '));
	name = *phrase ? g_mime_utils_header_decode_phrase(opts, phrase) : g_strdup("");
	list = internet_address_list_new();
	ia = internet_address_mailbox_new(name, a);
	internet_address_list_add(list, ia);
	g_object_unref(ia);
    }
    return list;
}
