/*
 * NAME
 *	envelope - build the JSON envelope from a message (docs/envelope.md)
 * SYNOPSIS
 *	void	envelope_init()
 *	void	envelope_limits_from_config(&limits, cfg)
 *	json_t *envelope_build(&input, &limits)
 *	GMimeMessage *envelope_raw_message(raw, len)
 *	GPtrArray *envelope_attachments(env, raw, len)
 * DESCRIPTION
 *	envelope_build() parses a message with GMime and returns the
 *	envelope (a new jansson reference, owned by the caller): the SMTP
 *	facts of the input, the decoded header fields, the text body
 *	(text/plain, or text made from HTML when there is none), the list
 *	of attachments and selected raw header fields; the body is read by
 *	common/mime*.c, with the limits on text, parts and nesting. The
 *	message is parsed from input->stream when there is one (the milter's
 *	spool file, input->kept_len bytes), else from input->raw, in place
 *	(no copy). input->raw holds the original, or at least its first
 *	limits->max_raw bytes. The original message
 *	is not part of the JSON (escaping and base64 would cost more than
 *	the rest of the envelope): it travels beside it, as the "raw" field
 *	of the stream entry, cut at limits->max_raw; the envelope records
 *	how much of it there is ("raw_size") and whether it was cut
 *	("raw_truncated"); common/envelope_codec.c writes the envelope for
 *	the queue and reads it back.
 *	The "autogen" member is common/autogen.c's verdict (person or
 *	machine) on the parsed message; the "customer" member and a
 *	mailbox's "original_recipient" are common/forward.c's decisions
 *	(with input->cfg: [milter] collectors and staff, our addresses).
 *	For machine mail, "returned" is what common/returned.c found of
 *	the message it answers.
 *	Every string is valid UTF-8; every list and text has a bound. It
 *	never fails: a message GMime cannot make sense of still yields an
 *	envelope with what could be read and a "warnings" list saying why.
 *
 *	envelope_raw_message() parses the original again; NULL when there
 *	is none. The message holds a copy of raw.
 *
 *	envelope_attachments() returns the decoded contents (GBytes) of the
 *	envelope's attachments (a reader's job: intakectl attachment; the
 *	worker stores references), in the order of its "attachments" list, from
 *	the original message, each found by its "part" index (NULL for one
 *	the original does not have); NULL when the original is missing or
 *	was cut. The original is parsed with the MIME limits the milter used
 *	(the envelope's "mime_limits"), so its parts are the ones listed;
 *	without them, with the largest a configuration may set
 *	(MIME_PARTS_CEILING, MIME_DEPTH_CEILING).
 *
 *	envelope_init() initialises GMime once per process.
 */
#include <string.h>
#include <gmime/gmime.h>

#include "autogen.h"
#include "charset.h"
#include "addr.h"
#include "envelope.h"
#include "envelope_int.h"
#include "forward.h"
#include "mime.h"
#include "returned.h"

#define MAX_WARNINGS	20

void    envelope_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
	g_mime_init();
	g_once_init_leave(&done, 1);
    }
}

void    envelope_limits_from_config(struct envelope_limits *lim,
				    const struct intake_config *cfg)
{
    lim->max_text = (gsize) cfg->max_text_size;
    lim->max_raw = (gsize) cfg->raw_max_size;
    lim->max_attachments = (guint) cfg->max_attachments;
    lim->max_parts = (guint) cfg->max_mime_parts;
    lim->max_depth = (guint) cfg->max_mime_depth;
    lim->raw_headers = (const char *const *) cfg->raw_headers;
}

/* ---------------------------------------------------------------- */
/*	Building							    */
/* ---------------------------------------------------------------- */

static void parser_warning(gint64 offset, GMimeParserWarning errcode,
			   const gchar *item, gpointer user_data)
{
    json_t *warnings = user_data;

    if (json_array_size(warnings) < MAX_WARNINGS)
	json_array_append_new(warnings, json_pack("{s:I,s:i,s:o}", "offset",
						  (json_int_t) offset, "code", errcode,
						  "item", mime_json_line(item ? item : "", 200)));
}

/*
 * add_warning - a warning of Intake's own (code 0), where GMime's parser
 * warnings go. The limits that cut a message always say so, even when
 * the parser filled the list.
 */
static void add_warning(json_t *warnings, gint64 offset, const char *item)
{
    json_array_append_new(warnings, json_pack("{s:I,s:i,s:s}", "offset", (json_int_t) offset,
					      "code", 0, "item", item));
}

/*
 * declared_charset - the charset a message declares somewhere (a text
 * part, a multipart's parameter), when it has raw 8-bit bytes that are
 * not UTF-8 (in its first 64 KB): a Chinese or Japanese mailer that writes raw
 * GB2312 or Shift_JIS into Subject or a file name declares that charset
 * for its text, and Windows-1252 would only make mojibake of it. NULL
 * when the header is clean, or nothing else is declared; a superset where
 * the body reads one (charset_reading(): windows-1252 for ISO-8859-1,
 * CP932 for Shift_JIS); for ISO-2022-JP, which has no
 * 8-bit bytes, CP932 (Shift_JIS as Windows writes it: the raw Japanese
 * of a mailer whose text is ISO-2022-JP). Newly allocated.
 */
static char *declared_charset(const char *raw, gsize len)
{
    static GRegex *re;
    static gsize once;
    g_autoptr(GMatchInfo) mi = NULL;
    gsize   scan = MIN(len, 65536);
    char   *cs = NULL;
    const char *as;

    /* Where everything is ASCII or UTF-8 the fallback never comes into play. */
    if (g_utf8_validate_len(raw, scan, NULL))
	return NULL;
    if (g_once_init_enter(&once)) {
	re = g_regex_new("charset\\s*=\\s*\"?([A-Za-z0-9_.:-]{2,40})", G_REGEX_CASELESS
			 | G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, NULL);
	g_once_init_leave(&once, 1);
    }
    if (g_regex_match_full(re, raw, scan, 0, 0, &mi, NULL)) {
	cs = g_match_info_fetch(mi, 1);
	if (g_ascii_strcasecmp(cs, "us-ascii") == 0 || g_ascii_strcasecmp(cs, "utf-8") == 0)
	    g_clear_pointer(&cs, g_free);
	else if ((as = charset_reading(cs, strlen(cs))) != NULL)	/* as in the body */
	    g_free(cs), cs = g_strdup(as);
	else if (g_ascii_strncasecmp(cs, "iso-2022-jp", 11) == 0)
	    g_free(cs), cs = g_strdup("CP932");
    }
    return cs;
}

static GMimeParserOptions *parser_options(json_t *warnings, const char *declared)
{
    const char *fallback[] = {"UTF-8", declared ? declared : "windows-1252",
	"windows-1252", NULL};
    GMimeParserOptions *opts = g_mime_parser_options_new();

    g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(opts, TRUE);
    if (declared == NULL)
	fallback[2] = NULL;
    g_mime_parser_options_set_fallback_charsets(opts, fallback);
    if (warnings)
	g_mime_parser_options_set_warning_callback(opts, parser_warning, warnings);
    return opts;
}

/*
 * message_stream - a stream over a message held in memory, without a
 * copy (g_mime_stream_mem_new_with_buffer() copies). XXX A GByteArray
 * cannot wrap memory it does not own: the stream gets a GByteArray header
 * of our own over the caller's bytes (freed with the stream) and is not
 * its owner. GMime reads a memory stream's data and len, and frees or
 * grows the array only when it owns it or is written to; nothing writes
 * here. The bytes must outlive the stream and whatever was parsed from it.
 */
static GMimeStream *message_stream(const char *raw, gsize len)
{
    GByteArray *header = g_new0(GByteArray, 1);
    GMimeStream *stream;

    header->data = (guint8 *) raw;
    header->len = (guint) MIN(len, (gsize) G_MAXUINT);
    stream = g_mime_stream_mem_new_with_byte_array(header);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    g_object_set_data_full(G_OBJECT(stream), "intake-borrowed", header, g_free);
    return stream;
}

/* skip_from_line - position stream after an mbox "From " line, if any */
static void skip_from_line(GMimeStream *stream)
{
    char    head[1024];
    gint64  start = g_mime_stream_tell(stream);
    gssize  n = g_mime_stream_read(stream, head, sizeof(head));
    const char *nl = n > 5 ? memchr(head, '\n', (gsize) n) : NULL;

    /* An mbox "From " line is not a header. */
    if (nl && memcmp(head, "From ", 5) == 0)
	g_mime_stream_seek(stream, start + (nl + 1 - head), GMIME_STREAM_SEEK_SET);
    else
	g_mime_stream_seek(stream, start, GMIME_STREAM_SEEK_SET);
}

static GMimeMessage *parse_message(GMimeStream *stream, GMimeParserOptions *opts,
				   guint max_parts, guint max_depth, struct mime_cut *cut)
{
    skip_from_line(stream);
    return mime_parse(stream, opts, max_parts, max_depth, cut);
}

static char *body_hash(const char *raw, gsize len)
{
    const char *body = NULL;

    for (gsize i = 0; i + 1 < len && body == NULL; i++) {
	if (raw[i] == '\n' && raw[i + 1] == '\n')
	    body = raw + i + 2;
	else if (raw[i] == '\n' && raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n')
	    body = raw + i + 3;
    }
    if (body == NULL)
	body = raw + len;
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) body,
				       (gsize) (raw + len - body));
}

/*
 * same_address - do two addresses name one recipient (case and extension
 * ignored, as mailbox lookup ignores them)?
 */
static gboolean same_address(const struct intake_config *cfg, const char *a, const char *b)
{
    const char *delim = cfg ? cfg->recipient_delimiter : "";
    g_autofree char *na = addr_normalise(a, delim);
    g_autofree char *nb = addr_normalise(b, delim);

    return na && nb && strcmp(na, nb) == 0;
}

/*
 * mailboxes_json - the "mailboxes" member: the matched mailbox of each
 * recipient, and for a [milter] collectors recipient the mailbox its
 * original recipient names (forward.c); a mailbox entry records that
 * original recipient, and where it was found, when a header names one of
 * the mailbox's addresses other than the envelope recipient (the address
 * a forwarding server or alias forwarded from).
 */
static json_t *mailboxes_json(const struct envelope_input *in, GMimeMessage *msg)
{
    json_t *out = json_array();
    json_t *entry = NULL;
    g_autoptr(GPtrArray) found = in->cfg ? forward_original_recipients(in->cfg, msg) : NULL;
    const struct forward_original *first = forward_original_of(found, NULL);
    size_t  j;

    for (guint i = 0; in->matched && i < in->n_recipients; i++) {
	const struct mailbox *m = in->matched[i];

	if (m == NULL && first && config_is_collector(in->cfg, in->recipients[i]))
	    m = first->mailbox;
	if (m == NULL)
	    continue;
	json_array_foreach(out, j, entry) {
	    if (strcmp(envelope_str(entry, "name"), m->name) == 0)
		break;
	}
	if (j == json_array_size(out)) {
	    entry = json_pack("{s:s,s:[]}", "name", m->name, "recipients");
	    json_array_append_new(out, entry);
	}
	json_array_append_new(json_object_get(entry, "recipients"), mime_json_line(in->recipients[i], 512));
    }
    /* The address a header names for each mailbox, when it is not the envelope recipient. */
    json_array_foreach(out, j, entry) {
	const struct mailbox *m = found ? config_mailbox(in->cfg, envelope_str(entry, "name")) : NULL;
	const struct forward_original *o = m ? forward_original_of(found, m) : NULL;
	json_t *r;
	size_t  k;

	if (o == NULL)
	    continue;
	json_array_foreach(json_object_get(entry, "recipients"), k, r) {
	    if (same_address(in->cfg, json_string_value(r), o->address))
		break;
	}
	if (k == json_array_size(json_object_get(entry, "recipients"))) {
	    json_object_set_new(entry, "original_recipient", mime_json_line(o->address, 512));
	    json_object_set_new(entry, "original_field", json_string(o->field));
	}
    }
    return out;
}

json_t *envelope_build(const struct envelope_input *in, const struct envelope_limits *lim)
{
    json_t *env = json_object();
    json_t *warnings = json_array();
    json_t *rcpts = json_array();
    g_autofree char *declared = declared_charset(in->raw, in->raw_len);
    GMimeParserOptions *opts = parser_options(warnings, declared);
    GMimeStream *stream = in->stream ? g_object_ref(in->stream)
	: message_stream(in->raw, in->raw_len);
    gsize   kept = in->stream ? in->kept_len : in->raw_len;
    guint   max_parts = lim->max_parts ? lim->max_parts : MIME_PARTS_DEFAULT;
    guint   max_depth = lim->max_depth ? lim->max_depth : MIME_DEPTH_DEFAULT;
    struct mime_cut cut;
    GMimeMessage *msg = parse_message(stream, opts, max_parts, max_depth, &cut);
    GMimeObject *mobj = msg ? GMIME_OBJECT(msg) : NULL;
    g_autofree char *uuid = g_uuid_string_random();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *now_text = g_date_time_format_iso8601(now);
    g_autofree char *hash = in->body_sha256 ? g_strdup(in->body_sha256)
	: body_hash(in->raw, in->raw_len);
    struct mime_limits ml = {lim->max_text, lim->max_attachments, max_parts, max_depth};
    struct mime_body body;
    struct autogen_verdict verdict;

    json_object_set_new(env, "v", json_integer(ENVELOPE_VERSION));
    json_object_set_new(env, "id", json_string(uuid));
    json_object_set_new(env, "queue_id", mime_json_line(in->queue_id, 64));
    json_object_set_new(env, "received_at", json_string(now_text));
    json_object_set_new(env, "client", json_pack("{s:o,s:o,s:o}",
						 "addr", mime_json_line(in->client_addr, 255),
						 "name", mime_json_line(in->client_name, 255),
						 "helo", mime_json_line(in->helo, 255)));
    json_object_set_new(env, "sender", mime_json_line(in->sender ? in->sender : "", 512));
    for (guint i = 0; i < in->n_recipients; i++)
	json_array_append_new(rcpts, mime_json_line(in->recipients[i], 512));
    json_object_set_new(env, "recipients", rcpts);
    json_object_set_new(env, "mailboxes", mailboxes_json(in, msg));

    if (msg == NULL)
	add_warning(warnings, 0, "no message could be parsed");

    /* Header fields, decoded. */
    json_object_set_new(env, "from", env_address_field(mobj, "From", opts));
    json_object_set_new(env, "to", env_address_field(mobj, "To", opts));
    json_object_set_new(env, "cc", env_address_field(mobj, "Cc", opts));
    json_object_set_new(env, "reply_to", env_address_field(mobj, "Reply-To", opts));
    {
	g_autofree char *subject = env_header_text(mobj, "Subject", opts);

	/* Always a string (envelope_decode() requires one): no Subject is "". */
	json_object_set_new(env, "subject", mime_json_line(subject ? subject : "", 2000));
    }
    {
	GDateTime *date = msg ? g_mime_message_get_date(msg) : NULL;
	g_autoptr(GDateTime) utc = date ? g_date_time_to_utc(date) : NULL;
	g_autofree char *iso = utc ? g_date_time_format_iso8601(utc) : NULL;

	json_object_set_new(env, "date", iso ? json_string(iso) : json_null());
    }
    {
	const char *mid = msg ? g_mime_message_get_message_id(msg) : NULL;

	json_object_set_new(env, "message_id", mid && *mid ? mime_json_line(mid, 998) : json_null());
    }
    json_object_set_new(env, "in_reply_to", env_header_msgid(mobj, "In-Reply-To"));
    json_object_set_new(env, "references", env_references(mobj, opts));
    json_object_set_new(env, "headers", env_raw_headers(mobj, lim->raw_headers));

    /* Text and attachments. */
    mime_body_read(msg, &ml, &body);
    /* Person or machine (autogen.c): decided here, where the parsed message is; the worker acts. */
    autogen_classify_message(msg, in->sender, body.text, &verdict);
    json_object_set_new(env, "autogen", json_pack("{s:s,s:s}", "kind",
						  autogen_kind_name(verdict.kind),
						  "reason", verdict.reason));
    /* Who the customer is, forwarded or redirected mail included (forward.c). */
    {
	struct forward_customer c;

	const char *list = NULL;
	json_t *first;

	forward_customer(in->cfg, msg, in->sender, body.text, &c);
	/*
	 * The same address as the first of "from" or "reply_to": take the name
	 * decoded there, past GMime's B-word bug (envelope_header.c).
	 */
	if (strcmp(c.how, "from") == 0)
	    list = "from";
	else if (strcmp(c.how, "reply-to") == 0)
	    list = "reply_to";
	if (list && (first = json_array_get(json_object_get(env, list), 0)) != NULL) {
	    g_free(c.name);
	    c.name = g_strdup(envelope_str(first, "name"));
	}
	json_object_set_new(env, "customer", json_pack("{s:o,s:o,s:s}",
				       "name", mime_json_line(c.name, 512),
				       "address", mime_json_line(c.address, 512),
				       "how", c.how));
	if (c.by)
	    json_object_set_new(json_object_get(env, "customer"), "by",
				mime_json_line(c.by, 512));
	forward_customer_clear(&c);
    }
    /* What a machine's answer returns: the worker matches it against our own replies. */
    if (verdict.kind != AUTOGEN_HUMAN) {
	json_t *returned = returned_find(msg, body.text);

	if (returned)
	    json_object_set_new(env, "returned", returned);
    } else {
	/* A person's mail that is a forwarded attachment only: its text (mime_message.c). */
	mime_body_from_message(msg, &ml, &body);
    }
    json_object_set_new(env, "text", json_string(body.text));
    json_object_set_new(env, "text_from", json_string(body.text_from));
    json_object_set_new(env, "text_truncated", json_boolean(body.text_truncated));
    json_object_set_new(env, "attachments", json_incref(body.attachments));
    json_object_set_new(env, "attachments_truncated", json_boolean(body.attachments_truncated));
    json_object_set_new(env, "encrypted", body.encrypted ? json_string(body.encrypted)
			: json_null());
    mime_body_clear(&body);
    json_object_set_new(env, "mime_truncated", json_boolean(cut.cut || cut.header_cut
							     || cut.filler_cut));
    json_object_set_new(env, "mime_limits", json_pack("{s:i,s:i}", "parts", (int) max_parts,
						      "depth", (int) max_depth));
    if (cut.header_cut)
	add_warning(warnings, 0, "header fields past what the parser reads (100 KB and 200"
		    " parameters a field; 1 MB, 10,000 fields, 10,000 addresses, 10,000 parameters"
		    " in all): the rest was not parsed");
    if (cut.filler_cut)
	add_warning(warnings, 0, "text outside the parts of a multipart (before its first"
		    " boundary, after its last, or all of one without a usable boundary) past"
		    " 2 MB in all: the rest of it was not parsed");
    if (cut.repaired)
	add_warning(warnings, 0, strcmp(cut.repaired, "boundary") == 0
		    ? "a multipart whose content does not use its boundary: its parts were read"
		    " from the first \"--boundary\" line of its content"
		    : "a multipart without parts: its content was read as plain text");
    if (cut.cut)
	add_warning(warnings, cut.offset, g_strcmp0(cut.why, "depth") == 0
		    ? "MIME parts nested deeper than max_mime_depth: the rest was not parsed"
		    : g_strcmp0(cut.why, "boundary") == 0
		    ? "a MIME boundary longer than 1,000 characters: the rest was not parsed"
		    : "more MIME parts than max_mime_parts: the rest was not parsed");

    /* Identity for de-duplication: what an MTA retry or second MX keeps. */
    {
	const char *mid = envelope_str(env, "message_id");
	const char *fields[] = {"Date", "From", "Subject"};
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(sum, (const guchar *) mid, strlen(mid) + 1);
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
	    const char *v = mobj ? g_mime_object_get_header(mobj, fields[i]) : NULL;

	    g_checksum_update(sum, (const guchar *) (v ? v : ""), (v ? strlen(v) : 0) + 1);
	}
	g_checksum_update(sum, (const guchar *) hash, strlen(hash));
	json_object_set_new(env, "body_sha256", json_string(hash));
	json_object_set_new(env, "dedupe_key", json_string(g_checksum_get_string(sum)));
	g_checksum_free(sum);
    }

    /* The original, for the record. */
    {
	gsize   keep = MIN(in->raw_len, lim->max_raw);

	json_object_set_new(env, "size", json_integer((json_int_t) in->message_size));
	json_object_set_new(env, "truncated", json_boolean(in->message_size > kept));
	json_object_set_new(env, "raw_size", json_integer((json_int_t) keep));
	json_object_set_new(env, "raw_truncated", json_boolean(keep < in->message_size));
	if (in->message_size > kept)
	    add_warning(warnings, (gint64) kept, "message over max_message_size: its text and"
			" attachments are from the part received before the limit; attachments"
			" are listed, not stored");
    }
    json_object_set_new(env, "warnings", warnings);

    if (msg)
	g_object_unref(msg);
    g_object_unref(stream);
    g_mime_parser_options_free(opts);
    return env;
}

/* ---------------------------------------------------------------- */
/*	The original, parsed again					    */
/* ---------------------------------------------------------------- */

/*
 * raw_message - envelope_raw_message(); with borrow, the message reads
 * raw in place and must not outlive it.
 */
static GMimeMessage *raw_message(const char *raw, gsize len, gboolean borrow, guint max_parts,
				  guint max_depth)
{
    GMimeParserOptions *opts;
    GMimeMessage *msg;
    GMimeStream *stream;
    struct mime_cut cut;

    if (raw == NULL || len == 0)
	return NULL;
    {
	g_autofree char *declared = declared_charset(raw, len);

	opts = parser_options(NULL, declared);
    }
    stream = borrow ? message_stream(raw, len) : g_mime_stream_mem_new_with_buffer(raw, len);
    msg = parse_message(stream, opts, max_parts, max_depth, &cut);
    g_object_unref(stream);
    g_mime_parser_options_free(opts);
    return msg;
}

GMimeMessage *envelope_raw_message(const char *raw, gsize len)
{
    /* A copy: the caller may free raw before the message. */
    return raw_message(raw, len, FALSE, MIME_PARTS_CEILING, MIME_DEPTH_CEILING);
}

GPtrArray *envelope_attachments(json_t *env, const char *raw, gsize len)
{
    GMimeMessage *msg;
    GPtrArray *contents;
    json_t *limits;
    json_int_t parts, depth;

    if (json_is_true(json_object_get(env, "raw_truncated")))
	return NULL;
    /* The milter's limits, so that the parts are the ones it listed (and no more). */
    limits = json_object_get(env, "mime_limits");
    parts = json_integer_value(json_object_get(limits, "parts"));
    depth = json_integer_value(json_object_get(limits, "depth"));
    if (parts <= 0 || parts > MIME_PARTS_CEILING)
	parts = MIME_PARTS_CEILING;
    if (depth <= 0 || depth > MIME_DEPTH_CEILING)
	depth = MIME_DEPTH_CEILING;
    if ((msg = raw_message(raw, len, TRUE, (guint) parts, (guint) depth)) == NULL)
	return NULL;
    contents = mime_attachment_contents(msg, json_object_get(env, "attachments"));
    g_object_unref(msg);
    return contents;
}
