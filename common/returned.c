/*
 * NAME
 *	returned - what a bounce or auto-reply says about the mail it answers
 * SYNOPSIS
 *	#include "returned.h"
 *
 *	json_t *returned_find(msg, text)
 *	void	returned_scan(text, len, &r)
 * DESCRIPTION
 *	A bounce carries (part of) the message that could not be delivered;
 *	the worker needs that message's Message-ID to find out whether it
 *	was one of ours (an acknowledgement), and the DSN's status and
 *	diagnostic to say why it came back.
 *
 *	returned_find() looks, in this order, at a message/rfc822 (or
 *	message/global) part: its Message-ID; a text/rfc822-headers (or
 *	message/global-headers) part: its "Message-ID:" line; a
 *	message/delivery-status part: the first Status and Diagnostic-Code
 *	fields; then the body text (plain-text bounces of qmail, Exim and
 *	others quote the returned header): a "Message-ID:" line, a
 *	"Status:" and a "Diagnostic-Code:" line. It returns a new JSON
 *	object with the members it found ("message_id" without <>,
 *	"status", "diagnostic"), or NULL when it found none. msg may be
 *	NULL (only the text is read).
 *
 *	returned_scan() fills what r still lacks from one text: a line that
 *	starts (after blanks and ">" quote marks) with "Message-ID:",
 *	"Status:" (an RFC 3463 code such as 5.1.1) or "Diagnostic-Code:".
 *	A Message-ID on the next (folded) line is found too.
 *
 *	Everything read is bounded, whatever the sender wrote: at most
 *	MAX_PARTS parts are visited, RETURNED_READ bytes of a part's content
 *	are decoded, and the scan is one pass over at most RETURNED_TEXT
 *	bytes of text, keeping at most the sizes of struct returned. The
 *	values are never trusted: the worker only compares the Message-ID
 *	with ids it stored itself, and the diagnostic is cleaned text (one
 *	line, valid UTF-8) shown in a note.
 */
#include <string.h>

#include "mime_int.h"
#include "returned.h"

#define MAX_PARTS	64		/* parts visited */
#define RETURNED_READ	32768		/* bytes of a part's content decoded */
#define RETURNED_TEXT	65536		/* bytes of the body text scanned */

/* field - does the line (from p, n bytes) start with the field name? Returns its value. */
static const char *field(const char *p, gsize n, const char *name)
{
    gsize   len = strlen(name);

    if (n <= len || g_ascii_strncasecmp(p, name, len) != 0 || p[len] != ':')
	return NULL;
    return p + len + 1;
}

/* take_id - the first <...> of [p, end) into r->message_id; TRUE when found */
static gboolean take_id(const char *p, const char *end, struct returned *r)
{
    const char *open = memchr(p, '<', (gsize) (end - p));
    const char *close;

    if (open == NULL || (close = memchr(open, '>', (gsize) (end - open))) == NULL
	|| close - open - 1 <= 0 || close - open - 1 >= RETURNED_ID_MAX)
	return FALSE;
    for (const char *c = open + 1; c < close; c++)
	if ((guchar) *c <= ' ' || *c == '<')
	    return FALSE;
    memcpy(r->message_id, open + 1, (gsize) (close - open - 1));
    r->message_id[close - open - 1] = 0;
    return TRUE;
}

/* take_status - an RFC 3463 code (class.subject.detail) at p */
static void take_status(const char *p, const char *end, struct returned *r)
{
    gsize   n = 0;
    int     dots = 0;

    while (p < end && (*p == ' ' || *p == '\t'))
	p++;
    if (p >= end || (*p != '2' && *p != '4' && *p != '5'))
	return;
    while (p + n < end && n < RETURNED_STATUS_MAX - 1
	   && (g_ascii_isdigit(p[n]) || (p[n] == '.' && ++dots <= 2)))
	n++;
    if (dots == 2 && p[n - 1] != '.') {
	memcpy(r->status, p, n);
	r->status[n] = 0;
    }
}

/* take_diagnostic - the rest of the line, cleaned and cut */
static void take_diagnostic(const char *p, const char *end, struct returned *r)
{
    g_autofree char *clean = NULL;

    while (p < end && (*p == ' ' || *p == '\t'))
	p++;
    clean = mime_clean_text(p, MIN(end - p, (gssize) RETURNED_DIAG_MAX * 2), RETURNED_DIAG_MAX - 4,
			    1, NULL);
    if (clean && *clean)
	g_strlcpy(r->diagnostic, clean, RETURNED_DIAG_MAX);
}

void    returned_scan(const char *text, gsize len, struct returned *r)
{
    const char *p = text, *end = text + MIN(len, (gsize) RETURNED_TEXT);
    gboolean want_id_next = FALSE;

    while (text && p < end && !(*r->message_id && *r->status && *r->diagnostic)) {
	const char *eol = memchr(p, '\n', (gsize) (end - p));
	const char *line_end = eol ? eol : end;
	const char *s = p, *v;

	if (want_id_next && (*s == ' ' || *s == '\t'))
	    take_id(s, line_end, r);
	want_id_next = FALSE;
	while (s < line_end && (*s == ' ' || *s == '\t' || *s == '>'))
	    s++;
	if (*r->message_id == 0 && (v = field(s, (gsize) (line_end - s), "Message-ID")))
	    want_id_next = !take_id(v, line_end, r);
	else if (*r->status == 0 && (v = field(s, (gsize) (line_end - s), "Status")))
	    take_status(v, line_end, r);
	else if (*r->diagnostic == 0 && (v = field(s, (gsize) (line_end - s), "Diagnostic-Code")))
	    take_diagnostic(v, line_end, r);
	p = eol ? eol + 1 : end;
    }
}

/* scan_part - decode at most RETURNED_READ bytes of a leaf part and scan them */
static void scan_part(GMimeObject *obj, struct returned *r)
{
    g_autoptr(GString) text = g_string_new(NULL);
    gsize   room = RETURNED_READ;

    mime_part_text_append(obj, text, &room);
    returned_scan(text->str, text->len, r);
}

static void walk(GMimeObject *obj, struct returned *r, int *budget)
{
    GMimeContentType *ct;

    if (obj == NULL || (*budget)-- <= 0)
	return;
    if (GMIME_IS_MULTIPART(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	int     n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n && *budget > 0; i++)
	    walk(g_mime_multipart_get_part(mp, i), r, budget);
	return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
	/* The returned message itself; what it contains is not looked into. */
	GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
	const char *id = m ? g_mime_message_get_message_id(m) : NULL;

	if (*r->message_id == 0 && id && *id && strlen(id) < RETURNED_ID_MAX)
	    g_strlcpy(r->message_id, id, RETURNED_ID_MAX);
	return;
    }
    if (!GMIME_IS_PART(obj) || (ct = g_mime_object_get_content_type(obj)) == NULL)
	return;
    if (g_mime_content_type_is_type(ct, "text", "rfc822-headers")
	|| g_mime_content_type_is_type(ct, "message", "global-headers")
	|| g_mime_content_type_is_type(ct, "message", "delivery-status")
	|| g_mime_content_type_is_type(ct, "message", "global-delivery-status"))
	scan_part(obj, r);
}

json_t *returned_find(GMimeMessage *msg, const char *text)
{
    struct returned r = {{0}};
    int     budget = MAX_PARTS;
    json_t *out;

    if (msg)
	walk(g_mime_message_get_mime_part(msg), &r, &budget);
    if (text)
	returned_scan(text, strlen(text), &r);
    if (*r.message_id == 0 && *r.status == 0 && *r.diagnostic == 0)
	return NULL;
    out = json_object();
    if (*r.message_id)
	json_object_set_new(out, "message_id", mime_json_line(r.message_id, RETURNED_ID_MAX));
    if (*r.status)
	json_object_set_new(out, "status", json_string(r.status));
    if (*r.diagnostic)
	json_object_set_new(out, "diagnostic", json_string(r.diagnostic));
    return out;
}
