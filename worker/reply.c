/*
 * NAME
 *	reply - build automatic replies (RFC 3834)
 * SYNOPSIS
 *	GBytes *reply_build(spec, &message_id, &why)
 *	char   *reply_safe_address(addr)
 *	char   *reply_safe_text(text, max)
 *	char   *reply_safe_name(name)
 *	char   *reply_quote_subject(subject, max)
 *	char   *reply_new_message_id(keys, number, from_address)
 *	char   *reply_spec_encode(spec)
 *	json_t *reply_spec_decode(text, len, &spec, &why)
 * DESCRIPTION
 *	reply_build() writes an acknowledgement as an RFC 5322 message with
 *	CRLF line ends, ready for SMTP: From the mailbox, To the customer,
 *	the rendered Subject and body (UTF-8 text/plain; with an HTML
 *	alternative: multipart/alternative of both), a new Message-ID of
 *	ours (returned without <>, g_free), In-Reply-To and References of the
 *	customer's mail, Auto-Submitted: auto-replied, X-Auto-Response-
 *	Suppress: All, X-Loop naming the mailbox, and X-Intake-Ticket.
 *
 *	Header injection: nothing from the customer is pasted into header
 *	syntax. GMime writes every header: display names and the subject
 *	are encoded as RFC 2047 words where needed, after reply_safe_text()
 *	turned CR, LF and other control characters (also those that came out
 *	of decoding an encoded word) into spaces and "=?" into "= ?" (no text
 *	that looks like an encoded word: GMime writes it as it is). Addresses must pass
 *	reply_safe_address(), message ids are kept only when they are plain
 *	printable ASCII without spaces or angle brackets.
 *
 *	The pipeline records a reply as its parts (reply_spec_encode(): JSON,
 *	g_free) with a Message-ID made up front (reply_new_message_id(), so
 *	that an answer to it threads: signed with keys for ticket number,
 *	msgid.c; unsigned, by GMime, when keys is NULL or the number does
 *	not fit in an id), and the outbox builds the message when
 *	it sends it: building it costs the ticket pipeline a tenth of its time.
 *	reply_spec_decode() fills *spec with pointers into the returned JSON
 *	(json_decref it when done); NULL and *why for text that is not one.
 *
 *	reply_safe_name() returns a customer's display name fit to be
 *	echoed (greeting, To header; g_free), or NULL when it is empty or
 *	holds what could be a link or an address: "@", "://", "www.", or a
 *	word ending in a dot and two or more letters ("win.example",
 *	"Dr.Who" too: a neutral greeting costs less than a spam link).
 *
 *	reply_quote_subject() returns the customer's subject as we quote it
 *	(g_free): reply/forward prefixes (subject.c's table: Re, AW, SV,
 *	Odp, 回复 ..., any case, also repeated, "Re[2]:" too) removed, so that our
 *	"Re: {{subject}}" does not become "Re: Re: ...", then cut to at most
 *	max characters (not bytes), the last being "…" when cut. One pass
 *	over the text: linear time.
 *
 *	reply_safe_address() returns the address (g_free) when it is a plain
 *	local@domain of printable ASCII with one "@" and without spaces,
 *	quotes, brackets, commas or semicolons; NULL otherwise.
 * DIAGNOSTICS
 *	NULL and *why (g_free) when the reply cannot be built.
 */
#include <string.h>
#include <gmime/gmime.h>

#include "reply.h"
#include "msgid.h"
#include "subject.h"

#define MAX_REFERENCES 20

char   *reply_safe_text(const char *text, gsize max)
{
    g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
    GString *out = g_string_new(NULL);

    for (const char *p = valid; *p && out->len < max; p = g_utf8_next_char(p)) {
	gunichar c = g_utf8_get_char(p);

	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029) {
	    g_string_append_c(out, ' ');
	} else {
	    /*
	     * XXX "=?" becomes "= ?": GMime 3.2.13 writes text that looks
	     * like an encoded word as it is (a reader decodes it, CR LF and
	     * all), and folds "x=?utf-8?b? " followed by a long word into an
	     * unterminated encoded word and a line without leading white
	     * space: a header line of its own (found by fuzz_reply). Drop
	     * when GMime encodes such text.
	     */
	    if (c == '?' && out->len && out->str[out->len - 1] == '=')
		g_string_append_c(out, ' ');
	    g_string_append_unichar(out, c);
	}
    }
    return g_strstrip(g_string_free(out, FALSE));
}

char   *reply_safe_name(const char *name)
{
    g_autofree char *text = reply_safe_text(name, 200);
    g_autofree char *lower = g_ascii_strdown(text, -1);
    const char *p;

    if (*lower == 0 || strchr(lower, '@') || strstr(lower, "://") || strstr(lower, "www."))
	return NULL;
    /* A dot followed by two letters and then no more letter: a domain. */
    for (p = lower; (p = strchr(p, '.')) != NULL; p++) {
	int     letters = 0;

	if (p == lower || !g_ascii_isalnum(p[-1]))
	    continue;
	while (g_ascii_isalpha(p[1 + letters]))
	    letters++;
	if (letters >= 2)
	    return NULL;
    }
    return g_steal_pointer(&text);
}

char   *reply_quote_subject(const char *subject, gsize max)
{
    g_autofree char *text = reply_safe_text(subject, 4 * max + 64);
    const char *s = subject_skip_prefixes(text);
    glong   chars;
    GString *out;

    chars = g_utf8_strlen(s, -1);
    if (max == 0 || (gsize) chars <= max)
	return g_strdup(s);
    out = g_string_new(NULL);
    g_string_append_len(out, s, g_utf8_offset_to_pointer(s, max - 1) - s);
    while (out->len && out->str[out->len - 1] == ' ')
	g_string_truncate(out, out->len - 1);
    g_string_append(out, "\xe2\x80\xa6");	/* U+2026 HORIZONTAL ELLIPSIS */
    return g_string_free(out, FALSE);
}

char   *reply_safe_address(const char *addr)
{
    const char *at;

    if (addr == NULL || *addr == 0 || strlen(addr) > 320)
	return NULL;
    for (const char *p = addr; *p; p++)
	if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f || strchr("<>()[],;:\"\\", *p))
	    return NULL;
    at = strchr(addr, '@');
    if (at == NULL || at == addr || at[1] == 0 || strchr(at + 1, '@') != NULL
	|| strchr(at + 1, '.') == NULL)
	return NULL;
    return g_strdup(addr);
}

static gboolean safe_msgid(const char *id)
{
    if (id == NULL || *id == 0 || strlen(id) > 500)
	return FALSE;
    for (const char *p = id; *p; p++)
	if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f || *p == '<' || *p == '>')
	    return FALSE;
    return TRUE;
}

/* text_part - a UTF-8 text/SUBTYPE part in the shortest encoding that is 7bit-safe */
static GMimeTextPart *text_part(const char *subtype, const char *text)
{
    GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);

    g_mime_text_part_set_text(part, text);
    g_mime_part_set_content_encoding(GMIME_PART(part),
		  g_mime_part_get_best_content_encoding(GMIME_PART(part),
					   GMIME_ENCODING_CONSTRAINT_7BIT));
    return part;
}

GBytes *reply_build(const struct reply_spec *spec, char **message_id, char **why)
{
    g_autofree char *to = reply_safe_address(spec->to_address);
    g_autofree char *from = reply_safe_address(spec->from_address);
    g_autofree char *subject = reply_safe_text(spec->subject, 900);
    g_autofree char *from_name = reply_safe_text(spec->from_name, 200);
    g_autofree char *to_name = reply_safe_text(spec->to_name, 200);
    g_autofree char *body = g_utf8_make_valid(spec->body ? spec->body : "", -1);
    g_autoptr(GString) refs = g_string_new(NULL);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    GMimeFormatOptions *fmt;
    GMimeMessage *msg;
    GMimeTextPart *part;
    GMimeObject *obj;
    char   *text;
    char   *id;
    const char *domain;
    size_t  i, n, first, kept;

    if (to == NULL) {
	*why = g_strdup_printf("recipient '%s' is not a plain mail address", spec->to_address);
	return NULL;
    }
    if (from == NULL) {
	*why = g_strdup_printf("mailbox address '%s' is not a plain mail address",
			       spec->from_address);
	return NULL;
    }
    domain = strrchr(from, '@') + 1;
    msg = g_mime_message_new(TRUE);
    obj = GMIME_OBJECT(msg);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, from_name, from);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, to_name, to);
    g_mime_message_set_subject(msg, subject, "utf-8");
    g_mime_message_set_date(msg, now);
    id = spec->message_id && safe_msgid(spec->message_id) ? g_strdup(spec->message_id)
	: g_mime_utils_generate_message_id(domain);
    g_mime_message_set_message_id(msg, id);
    if (safe_msgid(spec->in_reply_to)) {
	g_autofree char *irt = g_strdup_printf("<%s>", spec->in_reply_to);

	g_mime_object_set_header(obj, "In-Reply-To", irt, NULL);
    }
    /* The newest MAX_REFERENCES - 1 safe ids, oldest first, then In-Reply-To. */
    n = json_array_size(spec->references);
    first = n;
    for (i = n, kept = 0; i > 0 && kept < MAX_REFERENCES - 1; i--)
	if (safe_msgid(json_string_value(json_array_get(spec->references, i - 1)))) {
	    first = i - 1;
	    kept++;
	}
    for (i = first; i < n; i++) {
	const char *r = json_string_value(json_array_get(spec->references, i));

	if (safe_msgid(r))
	    g_string_append_printf(refs, "%s<%s>", refs->len ? " " : "", r);
    }
    if (safe_msgid(spec->in_reply_to)) {
	/* Whole ids only: "<abc@x>" is not in "<xabc@x>". */
	g_autofree char *irt = g_strdup_printf("<%s>", spec->in_reply_to);

	if (!strstr(refs->str, irt))
	    g_string_append_printf(refs, "%s%s", refs->len ? " " : "", irt);
    }
    if (refs->len)
	g_mime_object_set_header(obj, "References", refs->str, NULL);
    g_mime_object_set_header(obj, "Auto-Submitted", "auto-replied", NULL);
    g_mime_object_set_header(obj, "X-Auto-Response-Suppress", "All", NULL);
    g_mime_object_set_header(obj, "X-Loop", from, NULL);
    if (spec->ticket_number && safe_msgid(spec->ticket_number))
	g_mime_object_set_header(obj, "X-Intake-Ticket", spec->ticket_number, NULL);

    part = text_part("plain", body);
    if (spec->html && *spec->html) {
	/* RFC 2046 5.1.4: the preferred alternative last. */
	g_autofree char *html = g_utf8_make_valid(spec->html, -1);
	GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
	GMimeTextPart *hpart = text_part("html", html);

	g_mime_multipart_add(alt, GMIME_OBJECT(part));
	g_mime_multipart_add(alt, GMIME_OBJECT(hpart));
	g_object_unref(hpart);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));
	g_object_unref(alt);
    } else {
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
    }
    g_object_unref(part);

    fmt = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
    text = g_mime_object_to_string(obj, fmt);
    g_mime_format_options_free(fmt);
    g_object_unref(msg);
    *message_id = id;
    return g_bytes_new_take(text, strlen(text));
}

char   *reply_new_message_id(const struct msgid_keys *keys, const char *number,
			             const char *from_address)
{
    const char *at = from_address ? strrchr(from_address, '@') : NULL;
    const char *domain = at && at[1] ? at + 1 : "localhost";
    char   *id = msgid_make(keys, number, domain);

    return id ? id : g_mime_utils_generate_message_id(domain);
}

char   *reply_spec_encode(const struct reply_spec *spec)
{
    json_t *o = json_object();
    char   *text;

#define PUT(k, v) json_object_set_new(o, k, (v) ? json_string(v) : json_null())
    PUT("from_name", spec->from_name);
    PUT("from_address", spec->from_address);
    PUT("to_name", spec->to_name);
    PUT("to_address", spec->to_address);
    PUT("subject", spec->subject);
    PUT("body", spec->body);
    PUT("html", spec->html);
    PUT("in_reply_to", spec->in_reply_to);
    PUT("ticket_number", spec->ticket_number);
    PUT("message_id", spec->message_id);
#undef PUT
    if (spec->references)
	json_object_set(o, "references", spec->references);
    else
	json_object_set_new(o, "references", json_array());
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

json_t *reply_spec_decode(const char *text, gsize len, struct reply_spec *spec, char **why)
{
    json_error_t err;
    json_t *o = json_loadb(text, len, 0, &err);

    memset(spec, 0, sizeof(*spec));
    if (o == NULL || !json_is_object(o)) {
	*why = g_strdup_printf("reply record is not JSON: %s", o ? "not an object" : err.text);
	json_decref(o);
	return NULL;
    }
#define GET(k) json_string_value(json_object_get(o, k))
    spec->from_name = GET("from_name");
    spec->from_address = GET("from_address");
    spec->to_name = GET("to_name");
    spec->to_address = GET("to_address");
    spec->subject = GET("subject");
    spec->body = GET("body");
    spec->html = GET("html");
    spec->in_reply_to = GET("in_reply_to");
    spec->ticket_number = GET("ticket_number");
    spec->message_id = GET("message_id");
#undef GET
    spec->references = json_object_get(o, "references");
    return o;
}
