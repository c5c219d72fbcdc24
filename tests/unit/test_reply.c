/*
 * NAME
 *	test_reply - unit tests of worker/reply.c
 * DESCRIPTION
 *	reply_build() is fed a table of hostile inputs (subjects and names
 *	holding CR LF and a "Bcc:" line, the decoded text of an encoded word
 *	that hides a CR LF, LF LF, U+2028, control characters, quotes, very
 *	long text) and each result is checked twice: on the wire (every line
 *	ends CRLF, no line longer than 998 octets, every header line is a
 *	known field or a continuation, each field present exactly once) and
 *	parsed back with GMime (subject, names and addresses, Message-ID,
 *	In-Reply-To, References, body).
 *
 *	Also: which addresses reply_safe_address() accepts, that reply_build()
 *	refuses a bad recipient or mailbox address, which message ids make it
 *	into In-Reply-To and References (at most 20, the newest), and the
 *	transfer encoding of the body.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <gmime/gmime.h>

#include "reply.h"
#include "tap.h"

#define FROM_ADDR	"support@example.test"
#define FROM_NAME	"Example Support"
#define TO_ADDR		"ann@customer.example"

/* ---------------------------------------------------------------- */
/*	Helpers								    */
/* ---------------------------------------------------------------- */

/* The only header fields a reply may have. */
static const char *const allowed_fields[] = {
    "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Auto-Submitted", "X-Auto-Response-Suppress", "X-Loop", "X-Intake-Ticket",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", NULL,
};

struct wire {
    GHashTable *count;			/* field name (lower case) -> count */
    GString *unknown;			/* field names not in allowed_fields */
    int     bare;			/* CR or LF not part of a CRLF */
    int     bad_lines;			/* header lines neither field nor continuation */
    gsize   longest;			/* longest line, without CRLF */
    char   *body;			/* after the empty line */
};

static void wire_clear(struct wire *w)
{
    g_hash_table_destroy(w->count);
    g_string_free(w->unknown, TRUE);
    g_free(w->body);
}

/* wire_scan - what the message looks like as octets, without GMime's help */
static void wire_scan(const char *text, gsize len, struct wire *w)
{
    const char *p = text, *end = text + len, *eol;
    gboolean in_header = TRUE;

    w->count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    w->unknown = g_string_new(NULL);
    w->bare = w->bad_lines = 0;
    w->longest = 0;
    w->body = NULL;
    for (gsize i = 0; i < len; i++) {
	if (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'))
	    w->bare++;
	if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
	    w->bare++;
    }
    for (; p < end; p = eol + 2) {
	gsize   n;

	eol = g_strstr_len(p, end - p, "\r\n");
	if (eol == NULL)
	    eol = end;
	n = eol - p;
	w->longest = MAX(w->longest, n);
	if (!in_header)
	    continue;
	if (n == 0) {
	    in_header = FALSE;
	    w->body = g_strndup(eol + 2, end - eol - 2);
	    continue;
	}
	if (*p == ' ' || *p == '\t')
	    continue;
	{
	    const char *colon = memchr(p, ':', n);
	    g_autofree char *name = NULL;
	    gboolean known = FALSE;

	    if (colon == NULL || colon == p) {
		w->bad_lines++;
		continue;
	    }
	    for (const char *q = p; q < colon; q++)
		if (*q <= ' ' || *q > '~')
		    w->bad_lines++;
	    name = g_strndup(p, colon - p);
	    for (int i = 0; allowed_fields[i]; i++)
		if (g_ascii_strcasecmp(name, allowed_fields[i]) == 0)
		    known = TRUE;
	    if (!known)
		g_string_append_printf(w->unknown, "%s%s", w->unknown->len ? ", " : "", name);
	    {
		char   *key = g_ascii_strdown(name, -1);

		g_hash_table_insert(w->count, key,
			GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(w->count, key)) + 1));
	    }
	}
    }
}

static int wire_count(struct wire *w, const char *name)
{
    g_autofree char *key = g_ascii_strdown(name, -1);

    return GPOINTER_TO_INT(g_hash_table_lookup(w->count, key));
}

static GMimeMessage *parse(GBytes *bytes)
{
    gsize   len;
    const char *data = g_bytes_get_data(bytes, &len);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}

/* text_of - the decoded text of the message's body, line ends as LF; g_free */
static char *text_of(GMimeMessage *msg)
{
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    g_autofree char *text = NULL;
    GString *out;

    if (body == NULL || !GMIME_IS_TEXT_PART(body))
	return NULL;
    text = g_mime_text_part_get_text(GMIME_TEXT_PART(body));
    if (text == NULL)
	return NULL;
    out = g_string_new(NULL);
    for (const char *p = text; *p; p++)
	if (!(p[0] == '\r' && p[1] == '\n'))
	    g_string_append_c(out, *p);
    return g_string_free(out, FALSE);
}

static char *list_of(json_t *refs)
{
    GString *s = g_string_new(NULL);
    json_t *r;
    size_t  i;

    json_array_foreach(refs, i, r)
	g_string_append_printf(s, "%s%s", s->len ? " " : "", json_string_value(r));
    return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- */
/*	Hostile subjects and names					    */
/* ---------------------------------------------------------------- */

#define LONG_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LOOKALIKE_TAIL "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPP?????????????" \
    "GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG???????????????????????????????t"
#define LONG_A10 LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A

static const struct {
    const char *label;
    const char *subject;
    const char *to_name;
    const char *from_name;
    const char *want_subject;		/* decoded Subject */
    const char *want_to_name;		/* decoded display name of To */
} hostile_cases[] = {
    {"plain", "Printer broken", "Ann Example", FROM_NAME,
    "Printer broken", "Ann Example"},
    {"CRLF Bcc in the subject", "hi\r\nBcc: victim@example.com", "Ann", FROM_NAME,
    "hi  Bcc: victim@example.com", "Ann"},
    {"LF Bcc in the subject", "hi\nBcc: victim@example.com\nX-Injected: 1", "Ann", FROM_NAME,
    "hi Bcc: victim@example.com X-Injected: 1", "Ann"},
    {"CR Bcc in the subject", "hi\rBcc: victim@example.com", "Ann", FROM_NAME,
    "hi Bcc: victim@example.com", "Ann"},
    /* "=?utf-8?q?hi=0D=0ABcc:_victim@example.com?=" as the envelope gives it: decoded */
    {"decoded encoded word with CRLF", "hi\r\nBcc: victim@example.com", "Ann", FROM_NAME,
    "hi  Bcc: victim@example.com", "Ann"},
    {"CRLF CRLF body in the subject", "hi\r\n\r\nbody text\r\n", "Ann", FROM_NAME,
    "hi    body text", "Ann"},
    {"CRLF Bcc in the name", "Hello", "Ann\r\nBcc: victim@example.com", FROM_NAME,
    "Hello", "Ann  Bcc: victim@example.com"},
    {"LF LF body in the name", "Hello", "\n\nbody", FROM_NAME,
    "Hello", "body"},
    {"LF LF body inside the name", "Hello", "Ann\n\nbody", FROM_NAME,
    "Hello", "Ann  body"},
    {"U+2028 and U+2029", "hi\xe2\x80\xa8" "Bcc: victim@example.com\xe2\x80\xa9x",
	"Ann\xe2\x80\xa8X-Injected: 1", FROM_NAME,
    "hi Bcc: victim@example.com x", "Ann X-Injected: 1"},
    {"NEL (U+0085)", "hi\xc2\x85" "Bcc: v@example.com", "Ann", FROM_NAME,
    "hi Bcc: v@example.com", "Ann"},
    {"TAB, NUL-free controls, DEL", "a\tb\x01" "c\x7f" "d\x1b[0m", "Ann", FROM_NAME,
    "a b c d [0m", "Ann"},
    {"addresses in the name", "Hello", "a@b.c, evil@x.y", FROM_NAME,
    "Hello", "a@b.c, evil@x.y"},
    {"quotes and angle brackets in the name", "Hello",
	"\"Ann\" <evil@x.y>, \"Bob\\\" <b@x.y>", FROM_NAME,
    "Hello", "\"Ann\" <evil@x.y>, \"Bob\\\" <b@x.y>"},
    {"group syntax in the name", "Hello", "undisclosed: evil@x.y;", FROM_NAME,
    "Hello", "undisclosed: evil@x.y;"},
    /*
     * The undecoded text of an encoded word (a customer may write it so
     * that it survives the envelope's decoding): GMime 3.2 writes text that
     * looks like an encoded word as it is, so a reader would decode it, CR
     * LF and all; "=?" is written "= ?" so that it is read as text.
     */
    {"an encoded word as text", "=?utf-8?q?hi=0D=0ABcc:_victim@example.com?=", "Ann", FROM_NAME,
    "= ?utf-8?q?hi=0D=0ABcc:_victim@example.com?=", "Ann"},
    {"an encoded word as the name", "Hello", "=?utf-8?q?Ann=0D=0ABcc:_v@x.y?=", FROM_NAME,
    "Hello", "= ?utf-8?q?Ann=0D=0ABcc:_v@x.y?="},
    /* fuzz_reply: GMime folded this into an unterminated word and a line "G=?us-ascii?..." */
    {"an encoded word's start, then a long word", "x=?utf-8?b? Pr)3n" LOOKALIKE_TAIL, "Ann",
	FROM_NAME, "x= ?utf-8?b? Pr)3n" LOOKALIKE_TAIL, "Ann"},
    {"non-ASCII", "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	"J\xc3\xbcrgen M\xc3\xbcller", "Kundendienst \xc3\x84" "BC",
    "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
    "J\xc3\xbcrgen M\xc3\xbcller"},
    {"invalid UTF-8", "caf\xe9 \xff", "Ann \xc3", FROM_NAME,
    "caf\xef\xbf\xbd \xef\xbf\xbd", "Ann \xef\xbf\xbd"},
    {"hostile mailbox display name", "Hello", "Ann", "Support\r\nBcc: victim@example.com",
    "Hello", "Ann"},
    {"empty", "", "", "", "", ""},
    {"NULL", NULL, NULL, NULL, "", ""},
    {"spaces around", "  \r\n  Hello  \r\n", "  Ann  ", FROM_NAME, "Hello", "Ann"},
    {"a long subject", LONG_A10 LONG_A10, "Ann", FROM_NAME,
    LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A LONG_A, "Ann"},	/* 900 kept */
    {"a long subject with spaces and Bcc", LONG_A " " LONG_A " " LONG_A "\r\nBcc: v@x.y "
	LONG_A " " LONG_A, "Ann", FROM_NAME,
    LONG_A " " LONG_A " " LONG_A "  Bcc: v@x.y " LONG_A " " LONG_A, "Ann"},
};

static void test_hostile(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(hostile_cases); i++) {
	const char *label = hostile_cases[i].label;
	json_t *refs = json_pack("[s,s]", "root@customer.example", "prev@customer.example");
	struct reply_spec spec = {
	    .from_name = hostile_cases[i].from_name,
	    .from_address = FROM_ADDR,
	    .to_name = hostile_cases[i].to_name,
	    .to_address = TO_ADDR,
	    .subject = hostile_cases[i].subject,
	    .body = "Thank you.\n",
	    .in_reply_to = "orig@customer.example",
	    .references = refs,
	    .ticket_number = "INT-2026-000123",
	};
	char   *id = NULL, *why = NULL;
	GBytes *bytes = reply_build(&spec, &id, &why);
	GMimeMessage *msg;
	InternetAddressList *list;
	struct wire w;
	gsize   len;
	const char *data;

	json_decref(refs);
	if (!ok(bytes != NULL, "%s: reply_build succeeds", label)) {
	    diag("why: %s", why ? why : "(null)");
	    g_free(why);
	    continue;
	}
	data = g_bytes_get_data(bytes, &len);
	ok(memchr(data, 0, len) == NULL, "%s: no NUL", label);
	wire_scan(data, len, &w);
	is_int(w.bare, 0, "%s: every line ends CRLF, no bare CR or LF", label);
	is_int(w.bad_lines, 0, "%s: every header line is a field or a continuation", label);
	ok(w.longest <= 998, "%s: no line longer than 998 octets (%zu)", label, w.longest);
	is_str(w.unknown->str, "", "%s: no header field but the reply's own", label);
	{
	    static const char *const once[] = {
		"From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
		"Auto-Submitted", "X-Auto-Response-Suppress", "X-Loop", "X-Intake-Ticket",
		"MIME-Version", "Content-Type", NULL,
	    };
	    GString *wrong = g_string_new(NULL);

	    for (int j = 0; once[j]; j++)
		if (wire_count(&w, once[j]) != 1)
		    g_string_append_printf(wrong, "%s%s x%d", wrong->len ? ", " : "", once[j],
					   wire_count(&w, once[j]));
	    is_str(wrong->str, "", "%s: each field exactly once", label);
	    g_string_free(wrong, TRUE);
	    is_int(wire_count(&w, "Bcc") + wire_count(&w, "Cc") + wire_count(&w, "X-Injected"), 0,
		   "%s: no Bcc, Cc or X-Injected", label);
	}

	msg = parse(bytes);
	if (!ok(msg != NULL, "%s: GMime parses the reply", label)) {
	    wire_clear(&w);
	    g_bytes_unref(bytes);
	    g_free(id);
	    continue;
	}
	{
	    GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	    GString *names = g_string_new(NULL);

	    for (int j = 0; j < g_mime_header_list_get_count(hl); j++) {
		const char *n = g_mime_header_get_name(g_mime_header_list_get_header_at(hl, j));

		gboolean known = FALSE;

		for (int k = 0; allowed_fields[k]; k++)
		    if (g_ascii_strcasecmp(n, allowed_fields[k]) == 0)
			known = TRUE;
		if (!known)
		    g_string_append_printf(names, "%s%s", names->len ? ", " : "", n);
	    }
	    is_str(names->str, "", "%s: GMime sees no other header field", label);
	    g_string_free(names, TRUE);
	}
	if (hostile_cases[i].want_subject)
	    is_str(g_mime_message_get_subject(msg), hostile_cases[i].want_subject,
		   "%s: the decoded Subject", label);
	else {
	    const char *s = g_mime_message_get_subject(msg);
	    g_autofree char *shown = s ? g_strescape(s, NULL) : NULL;

	    ok(g_strcmp0(s, hostile_cases[i].subject) == 0
	       || g_strcmp0(s, "hi\r\nBcc: victim@example.com") == 0,
	       "%s: the decoded Subject is the text or what it decodes to (XXX)", label);
	    diag("%s: decoded subject: %s", label, shown ? shown : "(null)");
	}
	list = g_mime_message_get_to(msg);
	if (is_int(internet_address_list_length(list), 1, "%s: exactly one To address", label)) {
	    InternetAddress *ia = internet_address_list_get_address(list, 0);

	    ok(INTERNET_ADDRESS_IS_MAILBOX(ia), "%s: To is a mailbox", label);
	    if (INTERNET_ADDRESS_IS_MAILBOX(ia))
		is_str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), TO_ADDR,
		       "%s: To address", label);
	    if (hostile_cases[i].want_to_name) {
		const char *name = internet_address_get_name(ia);

		is_str(name ? name : "", hostile_cases[i].want_to_name, "%s: To name", label);
	    } else {
		const char *name = internet_address_get_name(ia);
		g_autofree char *shown = name ? g_strescape(name, NULL) : NULL;

		ok(g_strcmp0(name, hostile_cases[i].to_name) == 0
		   || g_strcmp0(name, "Ann\r\nBcc: v@x.y") == 0,
		   "%s: the decoded name is the text or what it decodes to (XXX)", label);
		diag("%s: decoded name: %s", label, shown ? shown : "(null)");
	    }
	}
	list = g_mime_message_get_from(msg);
	if (is_int(internet_address_list_length(list), 1, "%s: exactly one From address", label)) {
	    InternetAddress *ia = internet_address_list_get_address(list, 0);

	    if (INTERNET_ADDRESS_IS_MAILBOX(ia))
		is_str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), FROM_ADDR,
		       "%s: From address", label);
	}
	ok(internet_address_list_length(g_mime_message_get_cc(msg)) == 0
	   && internet_address_list_length(g_mime_message_get_bcc(msg)) == 0,
	   "%s: GMime finds no Cc or Bcc recipient", label);
	is_str(g_mime_message_get_message_id(msg), id, "%s: Message-ID is the id returned", label);
	{
	    g_autofree char *text = text_of(msg);

	    is_str(text, "Thank you.\n", "%s: body", label);
	}
	g_object_unref(msg);
	wire_clear(&w);
	g_bytes_unref(bytes);
	g_free(id);
	g_free(why);
    }
}

/* ---------------------------------------------------------------- */
/*	HTML alternative (branch lang)					    */
/* ---------------------------------------------------------------- */

static void test_html(void)
{
    struct reply_spec spec = {
	.from_address = FROM_ADDR, .to_address = TO_ADDR, .subject = "s",
	.body = "Gr\xc3\xbc\xc3\x9f" "e\n", .html = "<p>Gr\xc3\xbc\xc3\x9f" "e</p>\n",
    };
    char   *id = NULL, *why = NULL;
    GBytes *bytes = reply_build(&spec, &id, &why);
    GMimeMessage *msg;
    GMimeObject *top;

    if (!ok(bytes != NULL, "html: reply_build succeeds"))
	return;
    msg = parse(bytes);
    top = g_mime_message_get_mime_part(msg);
    ok(GMIME_IS_MULTIPART(top) && g_mime_content_type_is_type(g_mime_object_get_content_type(top),
							      "multipart", "alternative"),
       "html: the body is multipart/alternative");
    if (GMIME_IS_MULTIPART(top) && g_mime_multipart_get_count(GMIME_MULTIPART(top)) == 2) {
	GMimeObject *a = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
	GMimeObject *b = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
	g_autofree char *ta = g_mime_text_part_get_text(GMIME_TEXT_PART(a));
	g_autofree char *tb = g_mime_text_part_get_text(GMIME_TEXT_PART(b));

	ok(g_mime_content_type_is_type(g_mime_object_get_content_type(a), "text", "plain"),
	   "html: text/plain first");
	ok(g_mime_content_type_is_type(g_mime_object_get_content_type(b), "text", "html"),
	   "html: text/html last (the preferred one)");
	is_str(ta, spec.body, "html: the text part holds the text, UTF-8");
	is_str(tb, spec.html, "html: the HTML part holds the HTML, UTF-8");
    } else {
	ok(0, "html: two parts");
    }
    g_object_unref(msg);
    g_bytes_unref(bytes);
    g_free(id);
    g_free(why);
    /* Through the outbox's record: the HTML survives encode and decode. */
    {
	g_autofree char *json = reply_spec_encode(&spec);
	struct reply_spec back;
	json_t *o = reply_spec_decode(json, strlen(json), &back, &why);

	is_str(back.html, spec.html, "html: kept in the outbox record");
	json_decref(o);
	spec.html = NULL;
	g_free(json);
	json = reply_spec_encode(&spec);
	o = reply_spec_decode(json, strlen(json), &back, &why);
	ok(back.html == NULL, "html: none, none after decode");
	json_decref(o);
    }
}

/* ---------------------------------------------------------------- */
/*	The fixed fields						    */
/* ---------------------------------------------------------------- */

static void test_fields(void)
{
    json_t *refs = json_pack("[s]", "root@customer.example");
    struct reply_spec spec = {
	.from_name = FROM_NAME, .from_address = FROM_ADDR,
	.to_name = "Ann", .to_address = TO_ADDR,
	.subject = "Re: help [#INT-2026-000123]", .body = "Thanks\n",
	.in_reply_to = "orig@customer.example", .references = refs,
	.ticket_number = "INT-2026-000123",
    };
    char   *id = NULL, *why = NULL;
    GBytes *bytes = reply_build(&spec, &id, &why);
    GMimeMessage *msg;
    GMimeObject *obj;
    g_autofree char *want_mid = NULL;

    json_decref(refs);
    if (!ok(bytes != NULL, "fields: reply_build succeeds"))
	return;
    ok(id != NULL && !strpbrk(id, "<> \r\n"), "fields: the message id returned has no <>");
    ok(id != NULL && g_str_has_suffix(id, "@example.test"),
       "fields: the message id is in the mailbox's domain (%s)", id);
    msg = parse(bytes);
    obj = GMIME_OBJECT(msg);
    want_mid = g_strdup_printf("<%s>", id);
    {
	const char *raw = g_mime_object_get_header(obj, "Message-ID");
	g_autofree char *trimmed = raw ? g_strstrip(g_strdup(raw)) : NULL;

	is_str(trimmed, want_mid, "fields: Message-ID header is <id>");
    }
    is_str(g_mime_message_get_message_id(msg), id, "fields: Message-ID matches");
    {
	InternetAddress *from = internet_address_list_get_address(g_mime_message_get_from(msg), 0);
	const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(from));

	is_str(a, FROM_ADDR, "fields: From is the mailbox");
	is_str(strrchr(a, '@'), strrchr(id, '@'), "fields: From domain is the Message-ID domain");
	is_str(internet_address_get_name(from), FROM_NAME, "fields: From name");
    }
    is_str(g_mime_object_get_header(obj, "Auto-Submitted"), "auto-replied",
	   "fields: Auto-Submitted: auto-replied");
    is_str(g_mime_object_get_header(obj, "X-Auto-Response-Suppress"), "All",
	   "fields: X-Auto-Response-Suppress: All");
    is_str(g_mime_object_get_header(obj, "X-Loop"), FROM_ADDR, "fields: X-Loop names the mailbox");
    is_str(g_mime_object_get_header(obj, "X-Intake-Ticket"), "INT-2026-000123",
	   "fields: X-Intake-Ticket");
    is_str(g_mime_object_get_header(obj, "In-Reply-To"), "<orig@customer.example>",
	   "fields: In-Reply-To");
    is_str(g_mime_object_get_header(obj, "References"),
	   "<root@customer.example> <orig@customer.example>",
	   "fields: References ends with In-Reply-To");
    ok(g_mime_message_get_date(msg) != NULL, "fields: a Date");
    g_object_unref(msg);
    g_bytes_unref(bytes);
    g_free(id);

    /* No ticket number, or a hostile one: no X-Intake-Ticket. */
    {
	static const char *const tickets[] = {NULL, "", "INT-1\r\nBcc: v@x.y", "INT 1", "<INT-1>"};

	for (gsize i = 0; i < G_N_ELEMENTS(tickets); i++) {
	    g_autofree char *shown = tickets[i] ? g_strescape(tickets[i], NULL) : NULL;

	    spec.ticket_number = tickets[i];
	    spec.references = NULL;
	    id = why = NULL;
	    bytes = reply_build(&spec, &id, &why);
	    msg = bytes ? parse(bytes) : NULL;
	    ok(msg && g_mime_object_get_header(GMIME_OBJECT(msg), "X-Intake-Ticket") == NULL,
	       "fields: ticket number %s%s%s: no X-Intake-Ticket", shown ? "\"" : "",
	       shown ? shown : "NULL", shown ? "\"" : "");
	    if (msg)
		g_object_unref(msg);
	    if (bytes)
		g_bytes_unref(bytes);
	    g_free(id);
	    g_free(why);
	}
    }
}

/* ---------------------------------------------------------------- */
/*	Addresses							    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *addr;
    gboolean good;
} address_cases[] = {
    {"ann@customer.example", TRUE},
    {"first.last+tag@sub.example.co.uk", TRUE},
    {"x_y-z=1@example.com", TRUE},
    {"o'brien@example.ie", TRUE},
    {"UPPER@EXAMPLE.COM", TRUE},
    {"a@b.c, evil@x.y", FALSE},
    {"a@b.c,evil@x.y", FALSE},
    {"a@b.c;evil@x.y", FALSE},
    {"<a@b.c>", FALSE},
    {"Ann <a@b.c>", FALSE},
    {"a@b", FALSE},
    {"a b@c.d", FALSE},
    {"a@b.c\r\nBcc: x", FALSE},
    {"a@b.c\n", FALSE},
    {"a@b.c\r", FALSE},
    {" a@b.c", FALSE},
    {"a@b.c ", FALSE},
    {"a\t@b.c", FALSE},
    {"\"a\"@b.c", FALSE},
    {"\"a b\"@c.d", FALSE},
    {"a\\@b.c", FALSE},
    {"a(comment)@b.c", FALSE},
    {"a@[192.0.2.1]", FALSE},
    {"a:b@c.d", FALSE},
    {"jos\xc3\xa9@example.com", FALSE},
    {"a@b\xc3\xa9.com", FALSE},
    {"a\x7f@b.c", FALSE},
    {"@b.c", FALSE},
    {"a@", FALSE},
    {"a@.", TRUE},			/* XXX syntactically poor, but no injection */
    {"abc", FALSE},
    {"", FALSE},
    /* Two "@": not a plain local@domain ("user@remote@relay" is a relay trick). */
    {"a@b.c@d.e", FALSE},
};

static void test_addresses(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(address_cases); i++) {
	g_autofree char *got = reply_safe_address(address_cases[i].addr);
	g_autofree char *shown = g_strescape(address_cases[i].addr, NULL);

	if (address_cases[i].good)
	    is_str(got, address_cases[i].addr, "reply_safe_address(\"%s\") accepts it", shown);
	else
	    is_str(got, NULL, "reply_safe_address(\"%s\") refuses it", shown);
    }
    ok(reply_safe_address(NULL) == NULL, "reply_safe_address(NULL) is NULL");
    {
	GString *s = g_string_new(NULL);
	char   *got;

	while (s->len < 320 - strlen("@example.com"))
	    g_string_append_c(s, 'a');
	g_string_append(s, "@example.com");
	got = reply_safe_address(s->str);
	ok(got != NULL, "reply_safe_address of 320 octets accepts it");
	g_free(got);
	g_string_prepend_c(s, 'a');
	got = reply_safe_address(s->str);
	ok(got == NULL, "reply_safe_address of 321 octets refuses it");
	g_free(got);
	g_string_free(s, TRUE);
    }

    /* reply_build refuses what reply_safe_address refuses, for To and From. */
    for (gsize i = 0; i < G_N_ELEMENTS(address_cases); i++) {
	g_autofree char *shown = g_strescape(address_cases[i].addr, NULL);

	if (address_cases[i].good)
	    continue;
	for (int from = 0; from < 2; from++) {
	    struct reply_spec spec = {
		.from_address = from ? address_cases[i].addr : FROM_ADDR,
		.to_address = from ? TO_ADDR : address_cases[i].addr,
		.subject = "s", .body = "b",
	    };
	    char   *id = (char *) "untouched", *why = NULL;
	    GBytes *bytes = reply_build(&spec, &id, &why);

	    ok(bytes == NULL && why != NULL && strcmp(id, "untouched") == 0,
	       "reply_build refuses %s \"%s\" (NULL and why)", from ? "From" : "To", shown);
	    if (bytes) {
		g_bytes_unref(bytes);
		g_free(id);
	    }
	    g_free(why);
	}
    }
    {
	struct reply_spec spec = {.from_address = FROM_ADDR, .to_address = NULL, .subject = "s"};
	char   *id = NULL, *why = NULL;

	ok(reply_build(&spec, &id, &why) == NULL && why != NULL, "reply_build refuses a NULL To");
	g_free(why);
    }
}

/* ---------------------------------------------------------------- */
/*	In-Reply-To and References					    */
/* ---------------------------------------------------------------- */

#define MANY(p) p "01@x.y", p "02@x.y", p "03@x.y", p "04@x.y", p "05@x.y", p "06@x.y", \
    p "07@x.y", p "08@x.y", p "09@x.y", p "10@x.y", p "11@x.y", p "12@x.y", p "13@x.y", \
    p "14@x.y", p "15@x.y", p "16@x.y", p "17@x.y", p "18@x.y", p "19@x.y", p "20@x.y", \
    p "21@x.y", p "22@x.y", p "23@x.y", p "24@x.y", p "25@x.y"

static const struct {
    const char *label;
    const char *in_reply_to;
    const char *refs[30];		/* NULL-terminated; NULL at [0]: no array */
    const char *want_irt;		/* NULL: no In-Reply-To */
    const char *want_refs;		/* ids without <>, space separated; NULL: no field */
} id_cases[] = {
    {"no ids", NULL, {NULL}, NULL, NULL},
    {"In-Reply-To only", "a@x.y", {NULL}, "a@x.y", "a@x.y"},
    {"references and In-Reply-To", "c@x.y", {"a@x.y", "b@x.y"}, "c@x.y", "a@x.y b@x.y c@x.y"},
    {"In-Reply-To already the last reference", "b@x.y", {"a@x.y", "b@x.y"}, "b@x.y",
    "a@x.y b@x.y"},
    {"In-Reply-To a substring of a reference", "abc@x.y", {"xabc@x.y"}, "abc@x.y",
    "xabc@x.y abc@x.y"},
    {"In-Reply-To a prefix of a reference", "abc@x.y", {"abc@x.y.z"}, "abc@x.y",
    "abc@x.y.z abc@x.y"},
    {"id with a space", "a b@x.y", {"c d@x.y", "ok@x.y"}, NULL, "ok@x.y"},
    {"id with <", "<a@x.y", {"<c@x.y>", "ok@x.y"}, NULL, "ok@x.y"},
    {"id with >", "a@x.y>", {"c>@x.y", "ok@x.y"}, NULL, "ok@x.y"},
    {"id with CR LF", "a@x.y\r\nBcc: v@x.y", {"c@x.y\r\nX-Injected: 1", "ok@x.y"}, NULL,
    "ok@x.y"},
    {"id with LF", "a@x.y\nBcc: v@x.y", {"c@x.y\n", "ok@x.y"}, NULL, "ok@x.y"},
    {"id with a TAB", "a\t@x.y", {NULL}, NULL, NULL},
    {"non-ASCII id", "\xc3\xa9@x.y", {"\xc3\xa9" "2@x.y", "ok@x.y"}, NULL, "ok@x.y"},
    {"empty id", "", {"", "ok@x.y"}, NULL, "ok@x.y"},
    {"only bad references", NULL, {"a b", "<c>"}, NULL, NULL},
    {"25 references, new In-Reply-To: the newest 19 and it", "new@x.y", {MANY("r")}, "new@x.y",
	"r07@x.y r08@x.y r09@x.y r10@x.y r11@x.y r12@x.y r13@x.y r14@x.y r15@x.y r16@x.y "
    "r17@x.y r18@x.y r19@x.y r20@x.y r21@x.y r22@x.y r23@x.y r24@x.y r25@x.y new@x.y"},
    {"25 references, In-Reply-To the last", "r25@x.y", {MANY("r")}, "r25@x.y",
	"r07@x.y r08@x.y r09@x.y r10@x.y r11@x.y r12@x.y r13@x.y r14@x.y r15@x.y r16@x.y "
    "r17@x.y r18@x.y r19@x.y r20@x.y r21@x.y r22@x.y r23@x.y r24@x.y r25@x.y"},
    {"25 references, no In-Reply-To", NULL, {MANY("r")}, NULL,
	"r07@x.y r08@x.y r09@x.y r10@x.y r11@x.y r12@x.y r13@x.y r14@x.y r15@x.y r16@x.y "
    "r17@x.y r18@x.y r19@x.y r20@x.y r21@x.y r22@x.y r23@x.y r24@x.y r25@x.y"},
};

static void test_ids(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(id_cases); i++) {
	const char *label = id_cases[i].label;
	json_t *refs = NULL;
	struct reply_spec spec = {
	    .from_name = FROM_NAME, .from_address = FROM_ADDR, .to_address = TO_ADDR,
	    .subject = "s", .body = "b\n", .in_reply_to = id_cases[i].in_reply_to,
	};
	char   *id = NULL, *why = NULL;
	GBytes *bytes;
	GMimeMessage *msg;
	GMimeObject *obj;
	struct wire w;
	gsize   len;
	const char *data;

	if (id_cases[i].refs[0]) {
	    refs = json_array();
	    for (int j = 0; id_cases[i].refs[j]; j++)
		json_array_append_new(refs, json_string(id_cases[i].refs[j]));
	}
	spec.references = refs;
	bytes = reply_build(&spec, &id, &why);
	json_decref(refs);
	if (!ok(bytes != NULL, "%s: reply_build succeeds", label)) {
	    g_free(why);
	    continue;
	}
	data = g_bytes_get_data(bytes, &len);
	wire_scan(data, len, &w);
	is_str(w.unknown->str, "", "%s: no header field but the reply's own", label);
	is_int(w.bare, 0, "%s: no bare CR or LF", label);
	msg = parse(bytes);
	obj = GMIME_OBJECT(msg);
	{
	    g_autofree char *want = id_cases[i].want_irt
		? g_strdup_printf("<%s>", id_cases[i].want_irt) : NULL;

	    is_str(g_mime_object_get_header(obj, "In-Reply-To"), want, "%s: In-Reply-To", label);
	    is_int(wire_count(&w, "In-Reply-To"), want ? 1 : 0, "%s: In-Reply-To fields", label);
	}
	{
	    const char *rh = g_mime_object_get_header(obj, "References");
	    GMimeReferences *r = rh ? g_mime_references_parse(NULL, rh) : NULL;
	    json_t *got = json_array();
	    g_autofree char *gots = NULL;

	    for (int j = 0; r && j < g_mime_references_length(r); j++)
		json_array_append_new(got, json_string(g_mime_references_get_message_id(r, j)));
	    gots = list_of(got);
	    if (id_cases[i].want_refs) {
		is_str(gots, id_cases[i].want_refs, "%s: References", label);
		ok(json_array_size(got) <= 20, "%s: at most 20 references (%zu)", label,
		   json_array_size(got));
	    } else
		ok(g_mime_object_get_header(obj, "References") == NULL, "%s: no References",
		   label);
	    is_int(wire_count(&w, "References"), id_cases[i].want_refs ? 1 : 0,
		   "%s: References fields", label);
	    json_decref(got);
	    if (r)
		g_mime_references_free(r);
	}
	g_object_unref(msg);
	wire_clear(&w);
	g_bytes_unref(bytes);
	g_free(id);
	g_free(why);
    }

    /* References that are not strings are skipped. */
    {
	json_t *refs = json_pack("[i,n,s,{}]", 1, "ok@x.y");
	struct reply_spec spec = {.from_address = FROM_ADDR, .to_address = TO_ADDR,
	.subject = "s", .body = "b", .references = refs};
	char   *id = NULL, *why = NULL;
	GBytes *bytes = reply_build(&spec, &id, &why);
	GMimeMessage *msg = bytes ? parse(bytes) : NULL;

	is_str(msg ? g_mime_object_get_header(GMIME_OBJECT(msg), "References") : NULL,
	       "<ok@x.y>", "references that are not strings are skipped");
	if (msg)
	    g_object_unref(msg);
	if (bytes)
	    g_bytes_unref(bytes);
	json_decref(refs);
	g_free(id);
	g_free(why);
    }
}

/* ---------------------------------------------------------------- */
/*	Body								    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *label;
    const char *body;
    const char *want;			/* decoded text, LF line ends */
    gboolean ascii;			/* 7bit allowed */
} body_cases[] = {
    {"ASCII", "Hello\nWorld\n", "Hello\nWorld\n", TRUE},
    {"German", "Gr\xc3\xbc\xc3\x9f" "e,\nIhr Kundendienst\n", "Gr\xc3\xbc\xc3\x9f" "e,\nIhr Kundendienst\n",
    FALSE},
    {"Japanese and emoji", "\xe3\x81\x82\xe3\x82\x8a\xe3\x81\x8c\xe3\x81\xa8\xe3\x81\x86 \xf0\x9f\x98\x80\n",
	"\xe3\x81\x82\xe3\x82\x8a\xe3\x81\x8c\xe3\x81\xa8\xe3\x81\x86 \xf0\x9f\x98\x80\n", FALSE},
    {"mostly non-ASCII", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80\n",
	"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80\n", FALSE},
    {"CRLF input", "a\r\nb\r\n", "a\nb\n", TRUE},
    {"a dot line and From", "a\n.\nFrom me\n", "a\n.\nFrom me\n", TRUE},
    {"a header look-alike", "Bcc: victim@example.com\n\nx\n", "Bcc: victim@example.com\n\nx\n", TRUE},
    {"invalid UTF-8", "caf\xe9\n", "caf\xef\xbf\xbd\n", FALSE},
    {"a long line", LONG_A10 LONG_A10 "\n", LONG_A10 LONG_A10 "\n", TRUE},
    {"a long non-ASCII line", "\xc3\xa4" LONG_A10 LONG_A10 "\n", "\xc3\xa4" LONG_A10 LONG_A10 "\n",
    FALSE},
    {"empty", "", "", TRUE},
};

static void test_body(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(body_cases); i++) {
	const char *label = body_cases[i].label;
	struct reply_spec spec = {
	    .from_address = FROM_ADDR, .to_address = TO_ADDR, .subject = "s",
	    .body = body_cases[i].body,
	};
	char   *id = NULL, *why = NULL;
	GBytes *bytes = reply_build(&spec, &id, &why);
	GMimeMessage *msg;
	struct wire w;
	gsize   len;
	const char *data;

	if (!ok(bytes != NULL, "body %s: reply_build succeeds", label)) {
	    g_free(why);
	    continue;
	}
	data = g_bytes_get_data(bytes, &len);
	wire_scan(data, len, &w);
	is_int(w.bare, 0, "body %s: every line ends CRLF", label);
	ok(w.longest <= 998, "body %s: no line longer than 998 octets (%zu)", label, w.longest);
	{
	    gboolean ascii = TRUE;

	    for (gsize j = 0; j < len; j++)
		if ((unsigned char) data[j] >= 0x80)
		    ascii = FALSE;
	    ok(ascii, "body %s: the message is 7-bit", label);
	}
	msg = parse(bytes);
	{
	    GMimeObject *part = g_mime_message_get_mime_part(msg);
	    GMimeContentEncoding enc = g_mime_part_get_content_encoding(GMIME_PART(part));
	    g_autofree char *text = text_of(msg);
	    const char *cs = g_mime_object_get_content_type_parameter(part, "charset");

	    if (!body_cases[i].ascii)
		ok(enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
		   || enc == GMIME_CONTENT_ENCODING_BASE64,
		   "body %s: quoted-printable or base64 (%s)", label,
		   g_mime_content_encoding_to_string(enc));
	    /*
	     * XXX reply.c says "UTF-8 text/plain", but g_mime_text_part_set_text()
	     * picks the smallest charset that holds the text: us-ascii,
	     * iso-8859-1, else utf-8. Valid MIME; the decoded text is what counts.
	     */
	    ok(cs && (g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "us-ascii") == 0
		      || g_ascii_strcasecmp(cs, "iso-8859-1") == 0),
	       "body %s: a charset is declared (%s)", label, cs ? cs : "none");
	    is_str(text, body_cases[i].want, "body %s: decodes to the same UTF-8 text", label);
	}
	g_object_unref(msg);
	wire_clear(&w);
	g_bytes_unref(bytes);
	g_free(id);
	g_free(why);
    }
}

/* Display names: echoed when plain, refused when they carry a link or an address. */
static const struct {
    const char *name;
    const char *want;			/* NULL: refused */
} name_cases[] = {
    {"Alice Example", "Alice Example"},
    {"  Jürgen Groß ", "Jürgen Groß"},
    {"J. R. R. Tolkien", "J. R. R. Tolkien"},
    {"Müller, Hans (Einkauf)", "Müller, Hans (Einkauf)"},
    {"Version 2.0 team", "Version 2.0 team"},
    {"", NULL},
    {NULL, NULL},
    {"   ", NULL},
    {"WIN 1000 USD NOW at http://win.example/claim", NULL},
    {"WIN 1000 USD NOW at HTTPS://WIN.EXAMPLE", NULL},
    {"visit www.win", NULL},
    {"WWW.WIN.EXAMPLE", NULL},
    {"prize win.example now", NULL},
    {"win.EXAMPLE", NULL},
    {"claim at win.example/x", NULL},
    {"mail boss@evil.example", NULL},
    {"victim@victim.test", NULL},
    {"user\r\nBcc: x@y.example", NULL},
};

static void test_names(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(name_cases); i++) {
	g_autofree char *got = reply_safe_name(name_cases[i].name);
	g_autofree char *shown = name_cases[i].name ? g_strescape(name_cases[i].name, NULL)
	    : g_strdup("(null)");

	is_str(got, name_cases[i].want, "reply_safe_name(\"%s\")", shown);
    }
}

/* Quoted subjects: reply/forward prefixes go, the rest is cut to max characters. */
static const struct {
    const char *subject;
    gsize   max;
    const char *want;
} subject_cases[] = {
    {"Printer on fire", 100, "Printer on fire"},
    {"Re: Printer on fire", 100, "Printer on fire"},
    {"RE: re: Re:Printer on fire", 100, "Printer on fire"},
    {"AW: WG: SV: VS: Odp: TR: Fwd: FW: fwd: Printer", 100, "Printer"},
    {"Re[2]: Printer", 100, "Printer"},
    {"AW : Drucker", 100, "Drucker"},
    {"Fwd:Re:", 100, ""},
    {"Regarding the printer", 100, "Regarding the printer"},
    {"Re printer", 100, "Re printer"},
    {"Printer Re: again", 100, "Printer Re: again"},
    {"Fwdx: Printer", 100, "Fwdx: Printer"},
    {"", 100, ""},
    {NULL, 100, ""},
    {"abcdefghij", 10, "abcdefghij"},
    {"abcdefghijk", 10, "abcdefghi\xe2\x80\xa6"},
    {"Re: abcdefghijk", 10, "abcdefghi\xe2\x80\xa6"},
    {"\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", 3, "\xc3\xa4\xc3\xa4\xe2\x80\xa6"},
    {"abcd    efgh", 6, "abcd\xe2\x80\xa6"},
    {"line\r\nBcc: x@y", 100, "line  Bcc: x@y"},
};

static void test_subjects(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(subject_cases); i++) {
	g_autofree char *got = reply_quote_subject(subject_cases[i].subject, subject_cases[i].max);
	g_autofree char *shown = subject_cases[i].subject
	    ? g_strescape(subject_cases[i].subject, NULL) : g_strdup("(null)");

	is_str(got, subject_cases[i].want, "reply_quote_subject(\"%s\", %zu)", shown,
	       subject_cases[i].max);
    }
    {
	/* A flood: a megabyte of prefixes, then a long subject; linear and bounded. */
	GString *s = g_string_new(NULL);
	gint64  t0 = g_get_monotonic_time();
	char   *got;

	while (s->len < (1 << 20))
	    g_string_append(s, "Re: AW: ");
	g_string_append(s, "tail");
	got = reply_quote_subject(s->str, 100);
	ok(g_utf8_strlen(got, -1) <= 100, "1 MB of prefixes: at most 100 characters");
	/* Printed, not asserted: timing goals belong to make bench. */
	diag("1 MB of prefixes: %.3f s", (g_get_monotonic_time() - t0) / 1e6);
	g_free(got);
	g_string_truncate(s, 0);
	for (int i = 0; i < 1000; i++)
	    g_string_append(s, "\xc3\xa4");
	got = reply_quote_subject(s->str, 100);
	is_int(g_utf8_strlen(got, -1), 100, "2000-octet subject: cut to 100 characters");
	ok(g_utf8_validate(got, -1, NULL), "cut subject: valid UTF-8 (cut at a character)");
	ok(g_str_has_suffix(got, "\xe2\x80\xa6"), "cut subject: ends in an ellipsis");
	g_free(got);
	g_string_free(s, TRUE);
    }
}

int     main(void)
{
    g_mime_init();
    test_hostile();
    test_fields();
    test_html();
    test_addresses();
    test_ids();
    test_body();
    test_names();
    test_subjects();
    g_mime_shutdown();
    return tap_done();
}
