/*
 * NAME
 *	envelope_header - the envelope's header fields: addresses, subject,
 *	message ids, the raw fields a configuration asks for
 * SYNOPSIS
 *	#include "envelope_int.h"
 *
 *	char   *env_header_text(obj, name, opts)
 *	json_t *env_address_field(obj, name, opts)
 *	json_t *env_header_msgid(obj, name)
 *	json_t *env_references(obj, opts)
 *	json_t *env_raw_headers(obj, wanted)
 * DESCRIPTION
 *	What envelope.c (envelope_build()) makes of a message's header
 *	fields, each bounded: env_header_text() the decoded text of the
 *	first field NAME (NULL: none; g_free); env_address_field() the
 *	addresses of every field NAME as the envelope lists them (at most
 *	MAX_ADDRESSES, groups flattened; a field GMime makes no address of
 *	is read by common/addrlist.c); env_header_msgid() the first message
 *	id of field NAME (JSON null: none); env_references() the last
 *	MAX_REFERENCES ids of References; env_raw_headers() the unfolded
 *	raw fields named in wanted, at most 200 of MAX_HEADER_TEXT bytes.
 *	The JSON values are new references.
 */
#include <string.h>
#include <gmime/gmime.h>

#include "addrlist.h"
#include "charset.h"
#include "envelope_int.h"
#include "mime.h"

#define MAX_ADDRESSES	500		/* per header field */
#define MAX_REFERENCES	100
#define MAX_HEADER_TEXT	4096		/* per selected raw header value */

static void add_addresses(json_t *out, InternetAddressList *list, int depth)
{
    int     n = list ? internet_address_list_length(list) : 0;

    for (int i = 0; i < n && json_array_size(out) < MAX_ADDRESSES; i++) {
	InternetAddress *ia = internet_address_list_get_address(list, i);

	if (INTERNET_ADDRESS_IS_GROUP(ia)) {
	    if (depth < 2)
		add_addresses(out, internet_address_group_get_members(
				   INTERNET_ADDRESS_GROUP(ia)), depth + 1);
	    continue;
	}
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
	    continue;

	const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	const char *name = internet_address_get_name(ia);

	if (addr == NULL || *addr == 0)
	    continue;
	json_array_append_new(out, json_pack("{s:o,s:o}",
					     "name", mime_json_line(name ? name : "", 512),
					     "address", mime_json_line(addr, 512)));
    }
}

/*
 * b_words_as_q - header text with every RFC 2047 "B" encoded-word written
 * as the "Q" word of the same bytes, and every word whose charset is read
 * as a superset relabelled (ISO-8859-1 as windows-1252, Shift_JIS as
 * CP932...: charset_reading()); newly allocated. XXX GMime 3.2.13
 * (github.com/jstedfast/gmime/issues/133) loses the rest of a run of
 * adjacent B words of one charset after a word that ends in "=" padding:
 * "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=" decodes as "Hello". Q words
 * decode to the same bytes and are merged correctly (also a character
 * split across two words). Drop this when GMime is fixed. The label: mail
 * that says ISO-8859-1 writes windows-1252's euro sign and quotes, which
 * iconv would make "?", Shift_JIS Windows's circled numbers (common/charset.c).
 */
static char *b_words_as_q(const char *text)
{
    GString *out = g_string_new(NULL);
    const char *p = text, *w;
    const char *end = text + strlen(text);

    /*
     * Linear: a word is "=?charset?B?text?=" without white space. The next
     * '?', the next "?=" and the next white space after a position only
     * move forward as the scan does, so each is found once and reused
     * (strstr() from every "=?" made 10 MB of "=?a?B? " take minutes).
     */
    const char *next_q = text, *next_end = text, *next_space = text;

    while ((w = strstr(p, "=?")) != NULL) {
	const char *q, *stop;

	if (next_q < w + 2)
	    next_q = w + 2;
	while (*next_q && *next_q != '?')
	    next_q++;
	q = *next_q ? next_q : NULL;
	stop = NULL;
	if (q && q[1] && strchr("BbQq", q[1]) && q[2] == '?') {
	    if (next_end < q + 3)
		next_end = q + 3;
	    while (next_end + 1 < end && !(next_end[0] == '?' && next_end[1] == '='))
		next_end++;
	    stop = next_end + 1 < end ? next_end : NULL;
	}
	if (next_space < w)
	    next_space = w;
	while (next_space < end && !g_ascii_isspace(*next_space))
	    next_space++;
	if (stop == NULL || next_space < stop) {	/* not an encoded word */
	    g_string_append_len(out, p, w + 2 - p);
	    p = w + 2;
	    continue;
	}
	{
	    /* The charset may carry an RFC 2231 language: "iso-8859-1*de". */
	    const char *star = memchr(w + 2, '*', (gsize) (q - w - 2));
	    gsize   cs_len = (gsize) ((star ? star : q) - (w + 2));
	    const char *as = charset_reading(w + 2, cs_len);

	    g_string_append_len(out, p, w + 2 - p);	/* ... "=?" */
	    if (as)
		g_string_append_printf(out, "%s?", as);
	    else
		g_string_append_len(out, w + 2, q + 1 - (w + 2));	/* "charset?" */
	}
	if (q[1] == 'Q' || q[1] == 'q') {
	    g_string_append_len(out, q + 1, stop + 2 - (q + 1));	/* "Q?text?=" */
	} else {
	    g_autofree char *b64 = g_strndup(q + 3, (gsize) (stop - q - 3));
	    gsize   n = 0;
	    g_autofree guchar *bytes = *b64 ? g_base64_decode(b64, &n) : NULL;

	    g_string_append(out, "Q?");
	    for (gsize i = 0; i < n; i++)
		g_string_append_printf(out, "=%02X", bytes[i]);
	    g_string_append(out, "?=");
	}
	p = stop + 2;
    }
    g_string_append(out, p);
    return g_string_free(out, FALSE);
}

/* env_header_text - the decoded text of the first header field NAME, or NULL */
char   *env_header_text(GMimeObject *obj, const char *name, GMimeParserOptions *opts)
{
    GMimeHeaderList *list = obj ? g_mime_object_get_header_list(obj) : NULL;
    GMimeHeader *h = list ? g_mime_header_list_get_header(list, name) : NULL;
    g_autofree char *unfolded = NULL;
    g_autofree char *fixed = NULL;

    if (h == NULL || g_mime_header_get_raw_value(h) == NULL)
	return NULL;
    unfolded = g_mime_utils_header_unfold(g_mime_header_get_raw_value(h));
    fixed = b_words_as_q(unfolded);
    return g_mime_utils_header_decode_text(opts, fixed);
}

/* env_address_field - the addresses of every header field NAME */
json_t *env_address_field(GMimeObject *obj, const char *name, GMimeParserOptions *opts)
{
    json_t *out = json_array();
    GMimeHeaderList *list = obj ? g_mime_object_get_header_list(obj) : NULL;

    for (int i = 0; list && i < g_mime_header_list_get_count(list); i++) {
	GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
	const char *raw = g_mime_header_get_raw_value(h);
	g_autofree char *unfolded = NULL;
	g_autofree char *fixed = NULL;
	InternetAddressList *addrs;

	if (raw == NULL || g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
	    continue;
	unfolded = g_mime_utils_header_unfold(raw);
	fixed = b_words_as_q(unfolded);
	if ((addrs = addrlist_parse(opts, fixed)) != NULL) {
	    add_addresses(out, addrs, 0);
	    g_object_unref(addrs);
	}
    }
    return out;
}

json_t *env_header_msgid(GMimeObject *obj, const char *name)
{
    const char *raw = obj ? g_mime_object_get_header(obj, name) : NULL;
    g_autofree char *id = NULL;
    const char *lt;

    if (raw == NULL)
	return json_null();
    /* The first <id>: old mailers wrap it in text ("Your message of ... <id>"). */
    lt = strchr(raw, '<');
    id = g_mime_utils_decode_message_id(lt ? lt : raw);
    return id && *id ? mime_json_line(id, 998) : json_null();
}

json_t *env_references(GMimeObject *obj, GMimeParserOptions *opts)
{
    json_t *out = json_array();
    const char *raw = obj ? g_mime_object_get_header(obj, "References") : NULL;
    g_autofree char *text = NULL;
    GMimeReferences *refs;
    int     in_id = 0;

    if (raw == NULL)
	return out;
    /* Some mailers put ',' or ';' between the ids: GMime stops there. */
    text = g_strdup(raw);
    for (char *p = text; *p; p++) {
	if (*p == '<')
	    in_id = 1;
	else if (*p == '>')
	    in_id = 0;
	else if (!in_id && (*p == ',' || *p == ';'))
	    *p = ' ';
    }
    refs = g_mime_references_parse(opts, text);
    if (refs == NULL)
	return out;
    for (int i = 0; i < g_mime_references_length(refs); i++) {
	if (json_array_size(out) >= MAX_REFERENCES)	/* keep the newest */
	    json_array_remove(out, 0);
	json_array_append_new(out, mime_json_line(g_mime_references_get_message_id(refs, i), 998));
    }
    g_mime_references_free(refs);
    return out;
}

json_t *env_raw_headers(GMimeObject *obj, const char *const *wanted)
{
    json_t *out = json_array();
    GMimeHeaderList *list;

    if (obj == NULL || wanted == NULL)
	return out;
    list = g_mime_object_get_header_list(obj);
    for (int i = 0; i < g_mime_header_list_get_count(list); i++) {
	GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
	const char *name = g_mime_header_get_name(h);
	gboolean want = FALSE;

	for (int j = 0; wanted[j] && !want; j++)
	    want = g_ascii_strcasecmp(wanted[j], name) == 0;
	if (!want || json_array_size(out) >= 200)
	    continue;
	{
	    g_autofree char *value = g_mime_utils_header_unfold(g_mime_header_get_raw_value(h));

	    json_array_append_new(out, json_pack("[o,o]", mime_json_line(name, 200),
						 mime_json_line(value, MAX_HEADER_TEXT)));
	}
    }
    return out;
}
