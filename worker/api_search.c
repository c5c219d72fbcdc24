/*
 * NAME
 *	api_search - GET /api/v1/search?q=WORDS: the store's full-text search
 * SYNOPSIS
 *	#include "api_int.h"
 *
 *	void	api_search(r, out)
 * DESCRIPTION
 *	The messages (incoming mail) whose subject or text hold every word
 *	of q, newest first: {"hits": [{"id", "number", "mailbox", "status",
 *	"subject", "sender", "created_at", "ticket_url"}, ...],
 *	"next_cursor": C or null}, a page of limit hits, the next by cursor
 *	as for the ticket list (api_tickets.c).
 *
 *	q is words, not FTS5 syntax: its letters and digits make at most
 *	SEARCH_TERMS_MAX words (anything else separates them), each quoted
 *	for FTS5, so no operator, column filter or prefix query of a client
 *	reaches the index. Matching follows the index's tokenizer (unicode61,
 *	diacritics removed: "zurucksetzen" finds "zurücksetzen").
 * DIAGNOSTICS
 *	400 for a bad parameter or a q without a word; 500 or 503 for a store
 *	failure.
 */
#include <string.h>
#include <microhttpd.h>

#include "api_int.h"

#define SEARCH_TERMS_MAX	16

/* fts_query - q's words, each quoted, for FTS5 (owned); NULL: no word */
static char *fts_query(const char *q)
{
    GString *out = g_string_new(NULL);
    int     terms = 0;
    gboolean in_word = FALSE;

    for (const char *p = q; *p && terms <= SEARCH_TERMS_MAX; p = g_utf8_next_char(p)) {
	gunichar c = g_utf8_get_char(p);

	if (g_unichar_isalnum(c)) {
	    if (!in_word) {
		if (++terms > SEARCH_TERMS_MAX)
		    break;
		g_string_append(out, terms > 1 ? " \"" : "\"");
		in_word = TRUE;
	    }
	    g_string_append_unichar(out, c);
	} else if (in_word) {
	    g_string_append_c(out, '"');
	    in_word = FALSE;
	}
    }
    if (in_word)
	g_string_append_c(out, '"');
    if (terms == 0) {
	g_string_free(out, TRUE);
	return NULL;
    }
    return g_string_free(out, FALSE);
}

struct hits {
    json_t *hits;
    int     limit;
    int     rows;
    gint64  last_id;
    gboolean more;
};

static void hit_row(void *ctx, const struct store_row *row)
{
    struct hits *h = ctx;
    json_t *obj;

    if (++h->rows > h->limit) {
	h->more = TRUE;
	return;
    }
    obj = json_object();
    for (int i = 0; i < row->n; i++) {
	json_object_set_new(obj, row->values[i].name, api_value_json(row->values + i,
								     API_TEXT_MAX));
	if (strcmp(row->values[i].name, "number") == 0 && row->values[i].type == STORE_TEXT) {
	    g_autofree char *url = g_strdup_printf("/api/v1/tickets/%.*s",
						   (int) row->values[i].len,
						   row->values[i].text);

	    json_object_set_new(obj, "ticket_url", json_string(url));
	}
    }
    h->last_id = row->values[0].i;		/* "id" (store.h) */
    json_array_append_new(h->hits, obj);
}

void    api_search(struct api_req *r, struct api_reply *out)
{
    struct api_params p;
    struct hits h = {0};
    gint64  before = 0;
    g_autofree char *why = NULL;
    g_autofree char *query = NULL;
    int     ret;

    if (r->st->ops->search_messages == NULL) {
	api_error(out, MHD_HTTP_NOT_IMPLEMENTED, "this store backend has no full-text search");
	return;
    }
    if (api_params_parse(r->query, API_P_Q | API_P_LIMIT | API_P_CURSOR, &p, &why) < 0) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "%s", why);
	return;
    }
    if (p.q == NULL || (query = fts_query(p.q)) == NULL) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "parameter 'q' is required and must hold a word");
	goto done;
    }
    if (p.cursor && !api_cursor_read(p.cursor, "search", query, &before, &why)) {
	api_error(out, MHD_HTTP_BAD_REQUEST, "%s", why);
	goto done;
    }
    h.limit = p.limit;
    h.hits = json_array();
    ret = r->st->ops->search_messages(r->st, query, before, p.limit + 1, hit_row, &h, &why);
    if (ret != STORE_OK) {
	api_store_error(out, ret, "search", why);
	json_decref(h.hits);
    } else {
	g_autofree char *next = h.more ? api_cursor_make("search", query, h.last_id) : NULL;

	out->json = json_pack("{s:o,s:s?}", "hits", h.hits, "next_cursor", next);
    }
done:
    api_params_clear(&p);
}
