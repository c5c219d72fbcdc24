/*
 * NAME
 *	api_attach - GET /api/v1/tickets/NUMBER/attachments/ID: an attachment's bytes
 * SYNOPSIS
 *	#include "api_int.h"
 *
 *	void	api_attachment(r, number, id, out)
 * DESCRIPTION
 *	The content of attachment ID (the id that the ticket's messages
 *	list) as the customer sent it: decoded from the stored original by
 *	ctl_attachment_read() (ctl_show.c, the one decoder of attachments,
 *	which checks it against the SHA-256 the milter noted). The reply
 *	carries the attachment's content type when it is a plain
 *	TYPE/SUBTYPE (else application/octet-stream), and api.c adds
 *	Content-Disposition: attachment with its name, X-Content-Type-Options:
 *	nosniff and a sandboxing Content-Security-Policy: a browser that is
 *	handed this URL saves the file rather than render what a sender
 *	chose. No parameter is taken.
 * DIAGNOSTICS
 *	400 for a malformed number or id or any parameter; 404 when the
 *	ticket has no such attachment; 410 when it is listed but its bytes
 *	were not kept (the original was cut: the message's note says why);
 *	500 when the original does not yield it (the store is damaged) or
 *	503 when the store is busy.
 */
#include <string.h>
#include <microhttpd.h>

#include "api_int.h"
#include "ctl_show.h"

#define TYPE_MAX 127			/* bytes of a type or a subtype (RFC 6838) */

/* type_ok - whether n bytes at s are a restricted-name of RFC 6838 */
static gboolean type_ok(const char *s, gsize n)
{
    if (n == 0 || n > TYPE_MAX || !g_ascii_isalnum(s[0]))
	return FALSE;
    for (gsize i = 0; i < n; i++)
	if (!g_ascii_isalnum(s[i]) && !strchr("!#$&^_.+-", s[i]))
	    return FALSE;
    return TRUE;
}

/* content_type - the stored type without parameters, lower case, if it is plain (owned) */
static char *content_type(const char *stored)
{
    const char *semi, *slash;
    g_autofree char *t = NULL;

    if (stored == NULL)
	return g_strdup("application/octet-stream");
    semi = strchr(stored, ';');
    t = g_strstrip(semi ? g_strndup(stored, semi - stored) : g_strdup(stored));
    slash = strchr(t, '/');
    if (slash == NULL || !type_ok(t, slash - t) || !type_ok(slash + 1, strlen(slash + 1)))
	return g_strdup("application/octet-stream");
    return g_ascii_strdown(t, -1);
}

void    api_attachment(struct api_req *r, const char *number, const char *id,
		       struct api_reply *out)
{
    struct api_params p;
    struct store_attachment_row meta = {0};
    GBytes *content = NULL;
    g_autofree char *why = NULL;
    gint64  n;
    int     ret;

    if (!api_number_ok(number) || !api_parse_id(id, &n)) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "expected /api/v1/tickets/NUMBER/attachments/ID"
		  " with a ticket number and an attachment id");
	return;
    }
    if (api_params_parse(r->query, 0, &p, &why) < 0) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "%s", why);
	return;
    }
    ret = ctl_attachment_read(r->st, number, n, &meta, &content, &why);
    if (ret == STORE_OK) {
	out->bytes = content;
	out->content_type = content_type(meta.content_type);
	out->filename = g_strdup(meta.filename);
    } else if (ret == STORE_ERROR && !meta.found) {
	api_error(out, MHD_HTTP_NOT_FOUND, "ticket %s has no attachment %" G_GINT64_FORMAT,
		  number, n);
    } else if (ret == STORE_ERROR && !meta.stored) {
	api_error(out, MHD_HTTP_GONE, "attachment %" G_GINT64_FORMAT " of ticket %s is listed"
		  " but its content was not kept (see the message's note)", n, number);
    } else {
	api_store_error(out, ret, "read attachment", why);
    }
    store_attachment_row_clear(&meta);
    api_params_clear(&p);
}
