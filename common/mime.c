/*
 * NAME
 *	mime - the text of a message for the envelope
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	char   *mime_clean_text(s, len, max, one_line, &cut)
 *	json_t *mime_json_line(s, max)
 *	void	mime_body_read(msg, &limits, &body)
 *	void	mime_body_clear(&body)
 *
 *	#include "mime_int.h"
 *
 *	gboolean mime_is_attachment(obj)
 *	gboolean mime_is_text(obj, subtype)
 *	GMimeObject *mime_pick_body(obj, depth)
 *	gboolean mime_part_text_append(obj, out, &room)
 * DESCRIPTION
 *	This module and its companions are what common/envelope.c knows
 *	about MIME bodies: mime_parse.c parses a message with limits,
 *	mime_attach.c walks its parts and says which are attachments and
 *	what they are called, this file says which part is the text and how
 *	a part becomes UTF-8 text. Everything here is linear in the size of
 *	the message and bounded in memory by the limits given, whatever the
 *	sender wrote.
 *
 *	mime_clean_text() returns text fit for the envelope: valid UTF-8
 *	(undecodable bytes become U+FFFD), LF line ends, no control
 *	characters but tab and newline (one_line: neither), no C1 controls
 *	(U+0080-U+009F, which terminals take as commands), at most max bytes
 *	cut at a character boundary. Newly allocated (g_free). *cut, when
 *	given, tells whether text was lost. mime_json_line() is the one-line
 *	clean text as a new JSON string (JSON null for NULL).
 *
 *	mime_body_read() fills body from a parsed message: the text
 *	(text/plain, further inline text/plain parts appended, else text made
 *	from the HTML; decoding stops at limits->max_text), the attachments
 *	(JSON, each with its "part" index), and whether the message is
 *	encrypted. mime_body_clear() frees what it holds.
 *
 *	The functions in mime_int.h are private to common/mime*.c: they
 *	say which part is an attachment, which is inline text, which is
 *	the text of the message, and append a part's text within a bound
 *	(see each function's comment).
 */
#include <string.h>

#include "charset.h"
#include "html.h"
#include "mime_int.h"

/* ---------------------------------------------------------------- */
/*	Text hygiene							    */
/* ---------------------------------------------------------------- */

char   *mime_clean_text(const char *s, gssize len, gsize max, int one_line, gboolean *cut)
{
    g_autofree char *valid = NULL;
    GString *out;
    const char *end;

    if (cut)
	*cut = FALSE;
    if (s == NULL)
	return g_strdup("");
    if (len < 0)
	len = (gssize) strlen(s);
    valid = g_utf8_make_valid(s, len);
    out = g_string_sized_new(MIN((gsize) len, max) + 1);
    for (const char *p = valid; *p; p++) {
	unsigned char c = *p;

	if (c == '\r') {
	    if (p[1] == '\n')
		continue;
	    c = '\n';
	}
	/* C1 controls are U+0080-U+009F: 0xC2 0x80-0x9F in valid UTF-8. */
	if (c == 0xC2 && (unsigned char) p[1] >= 0x80 && (unsigned char) p[1] <= 0x9F) {
	    g_string_append_c(out, ' ');
	    p++;
	    continue;
	}
	if (c < 0x20 && c != '\t' && c != '\n')
	    c = ' ';
	if (c == 0x7F)
	    c = ' ';
	if (one_line && (c == '\n' || c == '\t'))
	    c = ' ';
	g_string_append_c(out, (char) c);
    }
    if (out->len > max) {
	end = g_utf8_find_prev_char(out->str, out->str + max + 1);
	while (end && end > out->str && (gsize) (end - out->str) > max)
	    end = g_utf8_find_prev_char(out->str, end);
	g_string_truncate(out, end ? (gsize) (end - out->str) : 0);
	if (cut)
	    *cut = TRUE;
    }
    if (one_line)
	g_strstrip(out->str), g_string_set_size(out, strlen(out->str));
    return g_string_free(out, FALSE);
}

json_t *mime_json_line(const char *s, gsize max)
{
    char   *t;
    json_t *j;

    if (s == NULL)
	return json_null();
    t = mime_clean_text(s, -1, max, 1, NULL);
    j = json_string(t);
    g_free(t);
    return j;
}

/* ---------------------------------------------------------------- */
/*	Which part is the text						    */
/* ---------------------------------------------------------------- */

/* mime_is_attachment - the part is an attachment by its disposition or file name */
gboolean mime_is_attachment(GMimeObject *obj)
{
    const char *disp = g_mime_object_get_disposition(obj);

    if (disp && g_ascii_strcasecmp(disp, "attachment") == 0)
	return TRUE;
    return GMIME_IS_PART(obj) && g_mime_part_get_filename(GMIME_PART(obj)) != NULL;
}

/* mime_is_text - the part is text/subtype, and not an attachment */
gboolean mime_is_text(GMimeObject *obj, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    return GMIME_IS_TEXT_PART(obj) && g_mime_content_type_is_type(ct, "text", subtype)
	&& !mime_is_attachment(obj);
}

/* mime_pick_body - the part that is the message's text, or NULL */
GMimeObject *mime_pick_body(GMimeObject *obj, int depth)
{
    if (obj == NULL || depth > MAX_WALK_DEPTH)
	return NULL;
    if (GMIME_IS_MULTIPART_ENCRYPTED(obj))
	return NULL;				/* nothing readable inside */
    if (GMIME_IS_MULTIPART(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	int     n = g_mime_multipart_get_count(mp);

	if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
	    /* Prefer plain text; otherwise the HTML (maybe in a related). */
	    for (int i = 0; i < n; i++)
		if (mime_is_text(g_mime_multipart_get_part(mp, i), "plain"))
		    return g_mime_multipart_get_part(mp, i);
	    for (int i = n - 1; i >= 0; i--) {
		GMimeObject *b = mime_pick_body(g_mime_multipart_get_part(mp, i), depth + 1);

		if (b)
		    return b;
	    }
	    return NULL;
	}
	/* multipart/signed: the signed part comes first, the signature after. */
	for (int i = 0; i < n; i++) {
	    GMimeObject *b = mime_pick_body(g_mime_multipart_get_part(mp, i), depth + 1);

	    if (b)
		return b;
	}
	return NULL;
    }
    if (mime_is_text(obj, "plain") || mime_is_text(obj, "html"))
	return obj;
    return NULL;
}

/*
 * pick_html - the HTML part mime_pick_body() would take if no plain text
 * stood beside it in an alternative, or NULL
 */
static GMimeObject *pick_html(GMimeObject *obj, int depth)
{
    if (obj == NULL || depth > MAX_WALK_DEPTH || GMIME_IS_MULTIPART_ENCRYPTED(obj))
	return NULL;
    if (GMIME_IS_MULTIPART(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	gboolean alt = g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
						   "multipart", "alternative");
	int     n = g_mime_multipart_get_count(mp);

	/* In an alternative the last is the richest; elsewhere the first counts. */
	for (int k = 0; k < n; k++) {
	    GMimeObject *b = pick_html(g_mime_multipart_get_part(mp, alt ? n - 1 - k : k),
				       depth + 1);

	    if (b)
		return b;
	}
	return NULL;
    }
    return mime_is_text(obj, "html") ? obj : NULL;
}

/* mime_blank - whether UTF-8 text s holds nothing but white space (NBSP too) */
gboolean mime_blank(const char *s)
{
    for (; *s; s = g_utf8_next_char(s))
	if (!g_unichar_isspace(g_utf8_get_char(s)) && g_utf8_get_char(s) != 0xA0)
	    return FALSE;
    return TRUE;
}

/* ---------------------------------------------------------------- */
/*	Text of a part, bounded						    */
/* ---------------------------------------------------------------- */

/* The characters of windows-1252's bytes 0x80-0x9F (0: it has none there). */
static const gunichar cp1252_c1[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

/*
 * utf8_append - append len bytes of s to out as UTF-8: what is UTF-8 stays,
 * every other byte is read as windows-1252 (U+FFFD where it has no
 * character). Latin-1 text comes out as it was meant, and so does UTF-8
 * with a stray Latin-1 byte, without turning the rest into "Ã©".
 */
static void utf8_append(GString *out, const char *s, gsize len)
{
    const char *end = s + len, *bad;

    while (s < end && !g_utf8_validate(s, end - s, &bad)) {
	unsigned char c = (unsigned char) *bad;
	gunichar u = c >= 0x80 && c < 0xA0 ? cp1252_c1[c - 0x80] : c;

	g_string_append_len(out, s, bad - s);
	g_string_append_unichar(out, u ? u : 0xFFFD);
	s = bad + 1;
    }
    g_string_append_len(out, s, end - s);
}

/* utf8_cut - bytes at the end of buf (len) that start a UTF-8 character cut short */
static gsize utf8_cut(const char *buf, gsize len)
{
    for (gsize k = 1; k <= 3 && k <= len; k++) {
	unsigned char c = (unsigned char) buf[len - k];

	if ((c & 0xC0) == 0x80)
	    continue;
	return c >= 0xC0 && g_utf8_get_char_validated(buf + len - k, (gssize) k) == (gunichar) - 2
	    ? k : 0;
    }
    return 0;
}

/*
 * not_base64 - whether the start of a text part labelled base64 is text
 * written as it is: more than one in 50 of its visible bytes outside the
 * base64 alphabet (a broken mailer's label; decoded, it is noise). A stray
 * byte in real base64, which decoders skip, does not count so much. The
 * stream is left at its start.
 */
static gboolean not_base64(GMimeStream *src)
{
    char    buf[READ_PIECE];
    gssize  n = g_mime_stream_read(src, buf, sizeof(buf));
    gsize   visible = 0, foreign = 0;

    g_mime_stream_reset(src);
    for (gssize i = 0; i < n; i++) {
	unsigned char c = (unsigned char) buf[i];

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
	    continue;
	visible++;
	if (!g_ascii_isalnum(c) && c != '+' && c != '/' && c != '=')
	    foreign++;
    }
    return foreign * 50 > visible;
}

/*
 * decoded - src (reset) through a filter that undoes the content's
 * transfer encoding (text under a base64 label that is not base64 is
 * read as it is: not_base64()). Newly referenced.
 */
static GMimeStream *decoded(GMimeDataWrapper *content, GMimeStream *src)
{
    GMimeStream *filtered;
    GMimeFilter *f;

    g_mime_stream_reset(src);
    filtered = g_mime_stream_filter_new(src);
    switch (g_mime_data_wrapper_get_encoding(content)) {
    case GMIME_CONTENT_ENCODING_BASE64:
	if (not_base64(src))
	    break;
	/* FALLTHROUGH */
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
    case GMIME_CONTENT_ENCODING_UUENCODE:
	f = g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(content), FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
	g_object_unref(f);
	break;
    default:
	break;
    }
    return filtered;
}

/*
 * meta_charset - the charset label a <meta> tag in the first
 * CHARSET_META_SCAN decoded bytes of the part declares, into out.
 */
static gboolean meta_charset(GMimeDataWrapper *content, GMimeStream *src, char *out,
			     gsize size)
{
    GMimeStream *peek = decoded(content, src);
    char    head[CHARSET_META_SCAN];
    gsize   got = 0;
    gssize  n;

    while (got < sizeof(head) && (n = g_mime_stream_read(peek, head + got,
							  sizeof(head) - got)) > 0)
	got += (gsize) n;
    g_object_unref(peek);
    return charset_html_meta(head, got, out, size);
}

/*
 * part_stream - the decoded content of a part as a stream to read from
 * (transfer encoding undone, converted from its declared charset to
 * UTF-8), or NULL. Reading pulls the content through GMime's filters a
 * piece at a time, so the caller decides how much is decoded. HTML
 * without a charset parameter has the one its <meta> tag declares, as a
 * browser reads it (a Russian page written as windows-1251 became
 * "Çäðàâñòâóéòå"); a parameter wins over the tag, as in a browser.
 * *declared is FALSE when the caller must make the text UTF-8
 * (utf8_append()): no charset, one iconv does not know, or one read UTF-8
 * first (charset.c).
 */
static GMimeStream *part_stream(GMimeObject *obj, gboolean *declared)
{
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
    const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
    GMimeStream *src = content ? g_mime_data_wrapper_get_stream(content) : NULL;
    GMimeStream *filtered;
    GMimeFilter *f;
    char    meta[48];

    *declared = FALSE;
    if (src == NULL)
	return NULL;
    /* A <meta> naming UTF-16 is read as UTF-8, as the HTML standard says: it is ASCII. */
    if (charset == NULL && mime_is_text(obj, "html")
	&& meta_charset(content, src, meta, sizeof(meta))
	&& g_ascii_strncasecmp(meta, "utf-16", 6) != 0)
	charset = meta;
    filtered = decoded(content, src);
    if (charset && charset_utf8_first(charset, strlen(charset)))
	charset = NULL;
    if (charset && charset_reading(charset, strlen(charset)))
	charset = charset_reading(charset, strlen(charset));
    if (charset && (f = g_mime_filter_charset_new(charset, "utf-8")) != NULL) {
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
	g_object_unref(f);
	*declared = TRUE;
    }
    return filtered;
}

/* drop_nul - remove NUL bytes (they would end the text early); new length */
static gsize drop_nul(char *buf, gsize len)
{
    gsize   o = 0;

    for (gsize i = 0; i < len; i++)
	if (buf[i] != 0)
	    buf[o++] = buf[i];
    return o;
}

/*
 * mime_part_text_append - append at most *room bytes of a text part's text in
 * UTF-8 to out, and take them from *room; TRUE when text was left over.
 * Text without a charset iconv converts keeps what is UTF-8, and each other
 * byte is read as windows-1252 (utf8_append(); header fields are read so
 * too).
 */
gboolean mime_part_text_append(GMimeObject *obj, GString *out, gsize *room)
{
    gboolean declared;
    GMimeStream *in = part_stream(obj, &declared);
    GString *raw;
    char    buf[READ_PIECE];
    gssize  n;
    gboolean more = FALSE;

    if (in == NULL)
	return FALSE;
    raw = g_string_new(NULL);
    while ((n = g_mime_stream_read(in, buf, sizeof(buf))) > 0) {
	gsize   len = drop_nul(buf, (gsize) n);

	if (raw->len + len > *room) {
	    g_string_append_len(raw, buf, (gssize) (*room - raw->len));
	    more = TRUE;
	    break;
	}
	g_string_append_len(raw, buf, (gssize) len);
    }
    g_object_unref(in);
    *room -= raw->len;
    /* A character cut at the end of what was read is not a wrong charset. */
    if (more)
	g_string_truncate(raw, raw->len - utf8_cut(raw->str, raw->len));
    if (declared)
	g_string_append_len(out, raw->str, (gssize) raw->len);
    else
	utf8_append(out, raw->str, raw->len);
    g_string_free(raw, TRUE);
    return more;
}

/*
 * html_part_text - the text of an HTML part, at most max bytes; the HTML
 * is decoded and handed to the HTML parser a piece at a time, and
 * reading stops when the text is full. HTML without a charset iconv
 * converts is made UTF-8 as text is (utf8_append()), a piece at a time: a
 * character cut at a piece's end is carried to the next.
 */
static char *html_part_text(GMimeObject *obj, gsize max, gboolean *more)
{
    gboolean declared;
    GMimeStream *in = part_stream(obj, &declared);
    struct html_text *h = html_text_new(max);
    char    buf[READ_PIECE + 4];
    gsize   carry = 0;
    gssize  n;
    GString *utf8 = g_string_new(NULL);
    gboolean go = TRUE;

    *more = FALSE;
    while (in && (n = g_mime_stream_read(in, buf + carry, READ_PIECE)) > 0) {
	gsize   len = drop_nul(buf, carry + (gsize) n);

	if (declared) {
	    carry = 0;
	    go = html_text_feed(h, buf, len);
	} else {
	    carry = utf8_cut(buf, len);
	    g_string_truncate(utf8, 0);
	    utf8_append(utf8, buf, len - carry);
	    go = html_text_feed(h, utf8->str, utf8->len);
	    memmove(buf, buf + len - carry, carry);
	}
	if (!go) {
	    *more = TRUE;
	    break;
	}
    }
    /* Bytes left of a character the content ended in the middle of. */
    if (go && carry) {
	g_string_truncate(utf8, 0);
	utf8_append(utf8, buf, carry);
	html_text_feed(h, utf8->str, utf8->len);
    }
    g_string_free(utf8, TRUE);
    if (in)
	g_object_unref(in);
    return html_text_finish(h);
}

/* ---------------------------------------------------------------- */
/*	The body							    */
/* ---------------------------------------------------------------- */

void    mime_body_read(GMimeMessage *msg, const struct mime_limits *lim,
		       struct mime_body *body)
{
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    struct walk_state ws = {0};
    g_autofree char *text = NULL;
    gboolean more = FALSE;
    GMimeObject *html;

    memset(body, 0, sizeof(*body));
    body->text_from = "none";
    ws.body = mime_pick_body(top, 0);
    ws.attachments = json_array();
    ws.max_attachments = lim->max_attachments;
    /* A little more than max_text is read, so that the clean-up still has enough. */
    ws.text_room = lim->max_text + lim->max_text / 8 + 16;
    if (ws.body && mime_is_text(ws.body, "plain")) {
	GString *t = g_string_new(NULL);

	more = mime_part_text_append(ws.body, t, &ws.text_room);
	ws.extra_text = t;
	ws.text_more = more;
    }
    if (top && top != ws.body)
	mime_walk_parts(&ws, top, NULL, 0);
    else if (top)
	ws.encrypted = mime_encryption(top);
    /*
     * Plain text of white space only (mostly an empty alternative that some
     * mailers send beside the HTML that holds the message): the HTML part,
     * not an attachment, is the text.
     */
    if (ws.extra_text && g_utf8_validate(ws.extra_text->str, -1, NULL)
	&& mime_blank(ws.extra_text->str) && (html = pick_html(top, 0)) != NULL) {
	g_string_free(ws.extra_text, TRUE);
	ws.extra_text = NULL;
	ws.body = html;
    }
    if (ws.extra_text) {
	more = ws.text_more;
	text = g_string_free(ws.extra_text, FALSE);
	body->text_from = "plain";
    } else if (ws.body) {
	text = html_part_text(ws.body, lim->max_text + 1, &more);
	body->text_from = "html";
    }
    body->text = mime_clean_text(text, -1, lim->max_text, 0, &body->text_truncated);
    body->text_truncated = body->text_truncated || more;
    body->attachments = ws.attachments;
    body->attachments_truncated = ws.attachments_truncated;
    body->encrypted = ws.encrypted;
    /* Inline PGP: the text part holds the armoured message. */
    if (body->encrypted == NULL && strstr(body->text, "-----BEGIN PGP MESSAGE-----"))
	body->encrypted = "pgp";
}

void    mime_body_clear(struct mime_body *body)
{
    g_clear_pointer(&body->text, g_free);
    g_clear_pointer(&body->attachments, json_decref);
}
