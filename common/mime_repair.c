/*
 * NAME
 *	mime_repair - a multipart whose content does not use its boundary
 * SYNOPSIS
 *	#include "mime_int.h"
 *
 *	const char *mime_repair(msg, opts, max_parts, max_depth, cut)
 * DESCRIPTION
 *	A multipart whose Content-Type has no boundary, or one its content
 *	never uses (a script that writes the header and the parts apart, a
 *	relay that rewrote one and not the other), gives GMime a multipart
 *	without parts: all of its content is the prologue, and the mail had
 *	neither text nor attachments. mime_repair() takes the first such
 *	multipart of msg (depth first, the mail's own body first) and
 *
 *	- when a line of its prologue is "--B" and the next line starts a
 *	  part's header ("Content-..."), B being a boundary as RFC 2046 has
 *	  them (1 to BOUNDARY_LEN characters of its set, not ending in a
 *	  space), parses the prologue from that line as a multipart of the
 *	  same subtype with boundary B and moves its parts in: "boundary";
 *	- otherwise gives it one text/plain part of the prologue (the words
 *	  of a mail that only said it was multipart): "text".
 *
 *	The multipart itself stays, with its type: a multipart/report keeps
 *	saying that the mail is a delivery report (autogen.c).
 *
 *	It returns what it did, or NULL when msg needed nothing.
 *
 *	One multipart a message is repaired, and the repair is parsed by
 *	mime_parse_limited() with the parts left of max_parts and the levels
 *	left of max_depth, and never repaired again: the work is at most one
 *	more bounded parse of bytes the mail holds. The milter and the worker
 *	(envelope_attachments()) both parse through mime_parse(), so the
 *	"part" index of an attachment found this way is the same for both.
 *
 *	When that parse was cut, cut says so (offset 0: within the repair).
 */
#include <string.h>

#include "mime_int.h"

#define BOUNDARY_LEN	200		/* RFC 2046 says 70; some mailers write more */

/* What the walk found: the first empty multipart. */
struct empty {
    GMimeMultipart *mp;
    guint   depth;
    guint   parts;			/* parts of msg, counted on the way */
};

static gboolean blank_text(const char *s)
{
    return s == NULL || mime_blank(s);
}

static void find_empty(GMimeObject *obj, guint depth, struct empty *e)
{
    if (obj == NULL || depth > MAX_WALK_DEPTH)
	return;
    e->parts++;
    if (GMIME_IS_MESSAGE_PART(obj)) {
	GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

	if (m)
	    find_empty(g_mime_message_get_mime_part(m), depth + 1, e);
	return;
    }
    if (!GMIME_IS_MULTIPART(obj))
	return;
    if (e->mp == NULL && g_mime_multipart_get_count(GMIME_MULTIPART(obj)) == 0
	&& !blank_text(g_mime_multipart_get_prologue(GMIME_MULTIPART(obj)))) {
	e->mp = GMIME_MULTIPART(obj);
	e->depth = depth;
    }
    for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(obj)); i++)
	find_empty(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1, e);
}

/* bchar - RFC 2046's boundary characters (strchr() would take a NUL for one) */
static gboolean bchar(int c)
{
    return c != 0 && (g_ascii_isalnum(c) || strchr("'()+_,-./:=? ", c) != NULL);
}

/*
 * boundary_line - the line s[0..n) is "--B" with B a boundary: its
 * length in *len. A line "--B--" is a closing one: not a start.
 */
static gboolean boundary_line(const char *s, size_t n, size_t *len)
{
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
	n--;
    if (n < 3 || n - 2 > BOUNDARY_LEN || s[0] != '-' || s[1] != '-')
	return FALSE;
    for (size_t i = 2; i < n; i++)
	if (!bchar((unsigned char) s[i]))
	    return FALSE;
    *len = n - 2;
    return TRUE;
}

/*
 * part_start - where in text a line "--B" is followed by a line that
 * starts "Content-"; NULL when none. Each line is looked at twice at most.
 */
static const char *part_start(const char *text, char **boundary)
{
    for (const char *p = text; *p;) {
	const char *nl = strchr(p, '\n');
	size_t  n = nl ? (size_t) (nl - p) : strlen(p);
	size_t  len;

	if (nl && boundary_line(p, n, &len) && g_ascii_strncasecmp(nl + 1, "Content-", 8) == 0) {
	    *boundary = g_strndup(p + 2, len);
	    return p;
	}
	if (nl == NULL)
	    break;
	p = nl + 1;
    }
    return NULL;
}

/* reparse - the parts of text from start, as a multipart/subtype with boundary b */
static GMimeMessage *reparse(const char *subtype, const char *b, const char *start,
			     GMimeParserOptions *opts, guint max_parts, guint max_depth,
			     struct mime_cut *cut)
{
    GByteArray *bytes = g_byte_array_new();
    g_autofree char *head = g_strdup_printf("MIME-Version: 1.0\r\nContent-Type: multipart/%s;"
					    " boundary=\"%s\"\r\n\r\n", subtype, b);
    GMimeStream *stream;
    GMimeMessage *msg;

    g_byte_array_append(bytes, (const guint8 *) head, (guint) strlen(head));
    g_byte_array_append(bytes, (const guint8 *) start, (guint) strlen(start));
    stream = g_mime_stream_mem_new_with_byte_array(bytes);	/* takes bytes */
    msg = mime_parse_limited(stream, opts, max_parts, max_depth, cut);
    g_object_unref(stream);
    return msg;
}

/* as_text - the prologue of e->mp becomes its one text/plain part */
static void as_text(struct empty *e)
{
    const char *prologue = g_mime_multipart_get_prologue(e->mp);
    GMimeTextPart *text = g_mime_text_part_new_with_subtype("plain");
    GMimeDataWrapper *content;
    GMimeStream *stream;

    stream = g_mime_stream_mem_new_with_buffer(prologue, strlen(prologue));
    content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(text), content);
    g_object_unref(content);
    g_object_unref(stream);
    g_mime_multipart_add(e->mp, GMIME_OBJECT(text));
    g_object_unref(text);
    g_mime_multipart_set_prologue(e->mp, NULL);
}

const char *mime_repair(GMimeMessage *msg, GMimeParserOptions *opts, guint max_parts,
			guint max_depth, struct mime_cut *cut)
{
    struct empty e = {0};
    g_autofree char *boundary = NULL;
    const char *start;
    const char *subtype;
    const char *prologue;
    GMimeMessage *fixed;
    struct mime_cut sub;
    GMimeMultipart *got;

    if (msg == NULL)
	return NULL;
    find_empty(g_mime_message_get_mime_part(msg), 1, &e);
    if (e.mp == NULL)
	return NULL;
    prologue = g_mime_multipart_get_prologue(e.mp);
    if ((start = part_start(prologue, &boundary)) == NULL || e.depth >= max_depth
	|| e.parts >= max_parts) {
	as_text(&e);
	return "text";
    }
    subtype = g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(
							GMIME_OBJECT(e.mp)));
    /* It goes into a header line of our own: a token, or "mixed". */
    if (subtype == NULL || *subtype == 0 || strlen(subtype) > 40
	|| strspn(subtype, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_")
	!= strlen(subtype))
	subtype = "mixed";
    fixed = reparse(subtype, boundary, start, opts,
		    max_parts - e.parts, max_depth - e.depth, &sub);
    got = fixed && GMIME_IS_MULTIPART(g_mime_message_get_mime_part(fixed))
	? GMIME_MULTIPART(g_mime_message_get_mime_part(fixed)) : NULL;
    if (got == NULL || g_mime_multipart_get_count(got) == 0) {
	if (fixed)
	    g_object_unref(fixed);
	as_text(&e);
	return "text";
    }
    for (int i = 0; i < g_mime_multipart_get_count(got); i++)
	g_mime_multipart_add(e.mp, g_mime_multipart_get_part(got, i));
    g_mime_multipart_set_epilogue(e.mp, g_mime_multipart_get_epilogue(got));
    {
	g_autofree char *before = g_strndup(prologue, (gsize) (start - prologue));

	g_mime_multipart_set_boundary(e.mp, boundary);
	g_mime_multipart_set_prologue(e.mp, blank_text(before) ? NULL : before);
    }
    cut->filler_cut |= sub.filler_cut;
    if (sub.cut || sub.header_cut) {
	cut->cut |= sub.cut;
	cut->header_cut |= sub.header_cut;
	if (sub.cut) {
	    cut->offset = 0;
	    cut->why = sub.why;
	}
    }
    g_object_unref(fixed);
    return "boundary";
}
