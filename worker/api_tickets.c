/*
 * NAME
 *	api_tickets - GET /api/v1/tickets and /api/v1/tickets/NUMBER
 * SYNOPSIS
 *	#include "api_int.h"
 *
 *	void	api_tickets_list(r, out)
 *	void	api_ticket_show(r, number, out)
 * DESCRIPTION
 *	api_tickets_list() answers a page of tickets, newest first:
 *	{"tickets": [...], "next_cursor": C or null}, filtered by mailbox,
 *	status and since (created at or after), limit per page, the next
 *	page by cursor (api_params.c; it holds the last id shown and the
 *	filters, so that a page never repeats or skips a ticket while new
 *	ones arrive: they come before the first page). One row more than
 *	the limit is read to know whether there is a next page.
 *
 *	api_ticket_show() answers one ticket as the store's show_ticket()
 *	rows (store.h) give it: the ticket's fields with linked_from,
 *	messages (each with its attachments' metadata and the URL of each
 *	stored one), replies, faq and time_entries. At most
 *	API_MESSAGES_MAX messages, those after the message id "after" when
 *	given; when there are more, "more" is the URL of the next part.
 *	Texts are cut (api_text_json(): a message's body and full text at
 *	API_BODY_MAX, other fields at API_TEXT_MAX; the names of the cut
 *	fields are in the message's "truncated"), lists at API_ROWS_MAX, so
 *	a response is bounded whatever a ticket holds.
 * DIAGNOSTICS
 *	400 for a bad parameter or ticket number, 404 for no such ticket,
 *	500 or 503 for a store failure (api_store_error()).
 */
#include <string.h>
#include <microhttpd.h>

#include "api_int.h"

#define HEADER_FIELDS_MAX	(16 * 1024)	/* header_fields parsed up to this size */

/* row_object - a row as an object, each text cut at max, without the columns named in skip */
static json_t *row_object(const struct store_row *row, gsize max, const char *skip)
{
    json_t *obj = json_object();

    for (int i = 0; i < row->n; i++) {
	if (skip && strcmp(row->values[i].name, skip) == 0)
	    continue;
	json_object_set_new(obj, row->values[i].name, api_value_json(row->values + i, max));
    }
    return obj;
}

/* ---------------------------------------------------------------- */
/*	The list							    */
/* ---------------------------------------------------------------- */

struct page {
    json_t *tickets;
    int     limit;
    int     rows;
    gint64  last_id;			/* of the last ticket shown */
    gboolean more;
};

static void page_row(void *ctx, const struct store_row *row)
{
    struct page *pg = ctx;

    if (++pg->rows > pg->limit) {
	pg->more = TRUE;
	return;
    }
    pg->last_id = row->values[0].i;		/* "id" (store.h) */
    json_array_append_new(pg->tickets, row_object(row, API_TEXT_MAX, "id"));
}

void    api_tickets_list(struct api_req *r, struct api_reply *out)
{
    struct api_params p;
    struct store_page q = {0};
    struct page pg = {0};
    g_autofree char *why = NULL;
    g_autofree char *filter = NULL;
    int     ret;

    if (r->st->ops->page_tickets == NULL) {
	api_error(out, MHD_HTTP_NOT_IMPLEMENTED, "this store backend has no ticket pages");
	return;
    }
    if (api_params_parse(r->query, API_P_MAILBOX | API_P_STATUS | API_P_SINCE | API_P_LIMIT
			 | API_P_CURSOR, &p, &why) < 0) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "%s", why);
	return;
    }
    /* The filters a cursor belongs to; "\n" cannot be in a value (api_decode()). */
    filter = g_strdup_printf("%s%s\n%s%s\n%" G_GINT64_FORMAT, p.mailbox ? "=" : "",
			     p.mailbox ? p.mailbox : "", p.status ? "=" : "",
			     p.status ? p.status : "", p.since);
    if (p.cursor && !api_cursor_read(p.cursor, "tickets", filter, &q.before, &why)) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "%s", why);
	api_params_clear(&p);
	return;
    }
    q.mailbox = p.mailbox;
    q.status = p.status;
    q.since = p.since;
    q.limit = p.limit + 1;
    pg.limit = p.limit;
    pg.tickets = json_array();
    ret = r->st->ops->page_tickets(r->st, &q, page_row, &pg, &why);
    if (ret != STORE_OK) {
	api_store_error(out, ret, "page tickets", why);
	json_decref(pg.tickets);
    } else {
	g_autofree char *next = pg.more ? api_cursor_make("tickets", filter, pg.last_id) : NULL;

	out->json = json_pack("{s:o,s:s?}", "tickets", pg.tickets, "next_cursor", next);
    }
    api_params_clear(&p);
}

/* ---------------------------------------------------------------- */
/*	One ticket							    */
/* ---------------------------------------------------------------- */

struct shown {
    const char *number;
    gint64  after;			/* messages with a greater id only */
    json_t *ticket;
    json_t *lists;			/* linked_from, replies, faq, time_entries */
    json_t *messages;
    json_t *attachments;		/* of the message being shown; NULL: skipped */
    int     total;			/* messages of the ticket */
    gint64  last_id;			/* of the last message shown */
    gboolean more;
};

/* list_add - a row to the capped list name of sh->lists */
static void list_add(struct shown *sh, const char *name, json_t *obj)
{
    json_t *list = json_object_get(sh->lists, name);

    if (list == NULL)
	json_object_set_new(sh->lists, name, list = json_array());
    if (json_array_size(list) < API_ROWS_MAX)
	json_array_append(list, obj);
    json_decref(obj);
}

static json_t *message_object(const struct store_row *row)
{
    json_t *obj = json_object();
    json_t *cut = json_array();

    for (int i = 0; i < row->n; i++) {
	const struct store_value *v = row->values + i;
	gboolean body = strcmp(v->name, "body") == 0 || strcmp(v->name, "full_text") == 0;
	gboolean was_cut = FALSE;
	json_t *j;

	if (strcmp(v->name, "header_fields") == 0 && v->type == STORE_TEXT
	    && v->len <= HEADER_FIELDS_MAX
	    && (j = json_loadb(v->text, v->len, JSON_REJECT_DUPLICATES, NULL)) != NULL) {
	    json_object_set_new(obj, v->name, j);
	    continue;
	}
	if (v->type == STORE_TEXT)
	    j = api_text_json(v->text, v->len, body ? API_BODY_MAX
			      : strcmp(v->name, "header_fields") == 0 ? HEADER_FIELDS_MAX
			      : API_TEXT_MAX, &was_cut);
	else
	    j = api_value_json(v, API_TEXT_MAX);
	if (was_cut)
	    json_array_append_new(cut, json_string(v->name));
	json_object_set_new(obj, v->name, j);
    }
    json_object_set_new(obj, "truncated", cut);
    return obj;
}

static void show_row(void *ctx, const struct store_row *row)
{
    struct shown *sh = ctx;

    if (strcmp(row->kind, "ticket") == 0) {
	json_decref(sh->ticket);
	sh->ticket = row_object(row, API_TEXT_MAX, "id");
    } else if (strcmp(row->kind, "message") == 0) {
	gint64  id = row->values[0].i;	/* "id" (store.h) */

	sh->total++;
	sh->attachments = NULL;
	if (id <= sh->after)
	    return;
	if ((int) json_array_size(sh->messages) == API_MESSAGES_MAX) {
	    sh->more = TRUE;
	    return;
	}
	{
	    json_t *m = message_object(row);

	    sh->attachments = json_array();
	    json_object_set_new(m, "attachments", sh->attachments);
	    json_array_append_new(sh->messages, m);
	    sh->last_id = id;
	}
    } else if (strcmp(row->kind, "attachment") == 0) {
	json_t *a;
	json_t *stored;

	if (sh->attachments == NULL || json_array_size(sh->attachments) >= API_ROWS_MAX)
	    return;
	a = row_object(row, API_TEXT_MAX, NULL);
	stored = json_object_get(a, "stored");
	json_object_set_new(a, "stored", json_boolean(json_integer_value(stored)));
	if (json_is_true(json_object_get(a, "stored"))) {
	    g_autofree char *url = g_strdup_printf("/api/v1/tickets/%s/attachments/%"
						   JSON_INTEGER_FORMAT, sh->number,
						   json_integer_value(json_object_get(a, "id")));

	    json_object_set_new(a, "url", json_string(url));
	}
	json_array_append_new(sh->attachments, a);
    } else if (strcmp(row->kind, "linked_from") == 0) {
	list_add(sh, "linked_from", row_object(row, API_TEXT_MAX, NULL));
    } else if (strcmp(row->kind, "reply") == 0) {
	list_add(sh, "replies", row_object(row, API_TEXT_MAX, NULL));
    } else if (strcmp(row->kind, "faq") == 0) {
	list_add(sh, "faq", row_object(row, API_TEXT_MAX, NULL));
    } else if (strcmp(row->kind, "time_entry") == 0) {
	list_add(sh, "time_entries", row_object(row, API_TEXT_MAX, NULL));
    }
    /* A row kind added to show_ticket() later is not shown until it is presented here. */
}

void    api_ticket_show(struct api_req *r, const char *number, struct api_reply *out)
{
    struct api_params p;
    struct shown sh = {.number = number};
    g_autofree char *why = NULL;
    int     ret;

    if (!api_number_ok(number)) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "not a ticket number (e.g. INT-2026-000123)");
	return;
    }
    if (api_params_parse(r->query, API_P_AFTER, &p, &why) < 0) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "%s", why);
	return;
    }
    sh.after = p.after;
    sh.lists = json_object();
    sh.messages = json_array();
    ret = r->st->ops->show_ticket(r->st, number, show_row, &sh, &why);
    if (ret == STORE_ERROR && sh.ticket == NULL) {
	api_error(out, MHD_HTTP_NOT_FOUND, "no ticket %s", number);
    } else if (ret != STORE_OK || sh.ticket == NULL) {
	api_store_error(out, ret, "show ticket", why);
    } else {
	static const char *const lists[] = {"linked_from", "replies", "faq", "time_entries"};
	g_autofree char *more = sh.more ? g_strdup_printf("/api/v1/tickets/%s?after=%"
							  G_GINT64_FORMAT, number, sh.last_id)
	    : NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(lists); i++) {
	    json_t *l = json_object_get(sh.lists, lists[i]);

	    json_object_set_new(sh.ticket, lists[i], l ? json_incref(l) : json_array());
	}
	json_object_set(sh.ticket, "messages", sh.messages);
	json_object_set_new(sh.ticket, "messages_total", json_integer(sh.total));
	json_object_set_new(sh.ticket, "more", more ? json_string(more) : json_null());
	out->json = json_incref(sh.ticket);
    }
    json_decref(sh.ticket);
    json_decref(sh.lists);
    json_decref(sh.messages);
    api_params_clear(&p);
}
