/*
 * NAME
 *	mime_message - the text of a mail that is an attached message only
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	void	mime_body_from_message(msg, &limits, &body)
 * DESCRIPTION
 *	A customer who forwards a mail as an attachment, without a word of
 *	their own, sends a message whose text is empty: the ticket showed
 *	nothing but "invoice wrong.eml". mime_body_from_message() gives such
 *	a body (text empty or white space, not encrypted) the text of the
 *	first attached message (message/rfc822, the whole mail being one
 *	too), as a mail client forwards inline: a "Forwarded message"
 *	separator (quote.c keeps what follows as new text), its From, Date,
 *	Subject and To, then its text (mime_body_read() with the same
 *	limits). text_from becomes "message". The attachment stays listed.
 *	A delivery report (multipart/report) is left alone: what it returns
 *	is our own mail. The caller decides it for person-written mail only,
 *	after the machine-mail verdict, which must not read the forwarded
 *	mail's words as the sender's.
 *
 *	The search for the attached message is bounded by MAX_WALK_DEPTH
 *	and the parts GMime parsed (the milter's limits).
 */
#include <string.h>

#include "mime_int.h"

#define FIELD_MAX	998		/* bytes of a header value shown (RFC 5322's line) */

/* first_message - the first attached message in obj, or NULL */
static GMimeMessage *first_message(GMimeObject *obj, int depth)
{
    if (obj == NULL || depth > MAX_WALK_DEPTH)
	return NULL;
    if (GMIME_IS_MESSAGE_PART(obj))
	return g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (GMIME_IS_MULTIPART(obj) && !GMIME_IS_MULTIPART_ENCRYPTED(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);

	for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
	    GMimeMessage *m = first_message(g_mime_multipart_get_part(mp, i), depth + 1);

	    if (m)
		return m;
	}
    }
    return NULL;
}

/*
 * add_field - "Name: value\n" to out, when value is not empty; the value on
 * one line of at most FIELD_MAX bytes (a To: of 10,000 addresses is not
 * what an agent reads)
 */
static void add_field(GString *out, const char *name, const char *value)
{
    g_autofree char *line = NULL;

    if (value == NULL || *value == 0)
	return;
    line = mime_clean_text(value, -1, FIELD_MAX, 1, NULL);
    g_string_append_printf(out, "%s: %s\n", name, line);
}

/* addresses - an address list as a mail client shows it (g_free), or NULL */
static char *addresses(InternetAddressList *list)
{
    return list && internet_address_list_length(list) > 0
	? internet_address_list_to_string(list, NULL, FALSE) : NULL;
}

void    mime_body_from_message(GMimeMessage *msg, const struct mime_limits *lim,
			               struct mime_body *body)
{
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    GMimeMessage *inner;
    struct mime_body ib;
    GString *text;

    if (body->encrypted || top == NULL
	|| g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart",
				       "report")
	|| !mime_blank(body->text) || (inner = first_message(top, 0)) == NULL)
	return;
    mime_body_read(inner, lim, &ib);
    text = g_string_new("---------- Forwarded message ---------\n");
    {
	g_autofree char *from = addresses(g_mime_message_get_from(inner));
	g_autofree char *to = addresses(g_mime_message_get_to(inner));
	GDateTime *date = g_mime_message_get_date(inner);
	g_autofree char *when = date ? g_date_time_format(date, "%a, %d %b %Y %H:%M %z") : NULL;

	add_field(text, "From", from);
	add_field(text, "Date", when);
	add_field(text, "Subject", g_mime_message_get_subject(inner));
	add_field(text, "To", to);
    }
    g_string_append_c(text, '\n');
    g_string_append(text, ib.text);
    g_free(body->text);
    body->text = mime_clean_text(text->str, (gssize) text->len, lim->max_text, 0,
				 &body->text_truncated);
    body->text_truncated = body->text_truncated || ib.text_truncated;
    body->text_from = "message";
    g_string_free(text, TRUE);
    mime_body_clear(&ib);
}
