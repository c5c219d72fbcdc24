/*
 * api_int.h: what the files of the HTTP API share (api.c, api_tickets.c,
 * api_search.c, api_attach.c), and nothing else includes. See api.c.
 *
 * A handler fills a struct api_reply: a JSON body, or bytes with their
 * type (an attachment), or an error (status and text: api.c makes the
 * {"error": "..."} body). Handlers never touch libmicrohttpd.
 */
#ifndef INTAKE_API_INT_H
#define INTAKE_API_INT_H

#include <jansson.h>
#include "api_params.h"
#include "store.h"

#define API_TEXT_MAX		1024		/* bytes of a short text field (title, subject) */
#define API_BODY_MAX		(32 * 1024)	/* bytes of a message's text */
#define API_MESSAGES_MAX	20		/* messages in one ticket response */
#define API_ROWS_MAX		200		/* attachments of a message, replies of a ticket */
#define API_RESPONSE_MAX	(8 * 1024 * 1024)
#define API_TRUNCATED		" [truncated]"	/* what a cut text ends with */

struct api_reply {
    unsigned status;			/* 0 until set: 200 */
    json_t *json;			/* the body, or */
    GBytes *bytes;			/* an attachment's content, with */
    char   *content_type;		/* its type (checked) and */
    char   *filename;			/* its name, for Content-Disposition */
    char   *error;			/* status >= 400: the error text */
};

/* One request: the route's segments, its raw query, a read-only store connection. */
struct api_req {
    const struct intake_config *cfg;
    struct store *st;
    char  **seg;			/* "api", "v1", ... */
    const char *query;			/* raw, without "?"; NULL: none */
};

/* api.c */
void    api_error(struct api_reply *out, unsigned status, const char *fmt, ...)
	    G_GNUC_PRINTF(3, 4);
void    api_store_error(struct api_reply *out, int ret, const char *what, const char *why);
json_t *api_value_json(const struct store_value *v, gsize max);
json_t *api_text_json(const char *text, gsize len, gsize max, gboolean *cut);

/* api_tickets.c */
void    api_tickets_list(struct api_req *r, struct api_reply *out);
void    api_ticket_show(struct api_req *r, const char *number, struct api_reply *out);

/* api_search.c */
void    api_search(struct api_req *r, struct api_reply *out);

/* api_attach.c */
void    api_attachment(struct api_req *r, const char *number, const char *id,
		       struct api_reply *out);

#endif
