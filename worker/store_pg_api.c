/*
 * NAME
 *	store_pg_api - the PostgreSQL store as the read-only HTTP API reads it
 * SYNOPSIS
 *	#include "pg_int.h"
 *
 *	char	*pg_readonly_options(conninfo, &why)
 *	int	pg_check_schema(pg, &why)
 *	int	pg_page_tickets(st, q, fn, ctx, &why)
 *	int	pg_search_messages(st, query, before, limit, fn, ctx, &why)
 * DESCRIPTION
 *	store_open_readonly() on PostgreSQL (store_pg.c) connects with
 *	pg_readonly_options(): the connection string's own "options" and
 *	-c default_transaction_read_only=on, so that every transaction of
 *	the connection, and of any connection libpq makes again after the
 *	server restarted, is read-only: not even a statement meant for the
 *	writer can change the database. It neither creates nor migrates:
 *	pg_check_schema() wants the schema version this program knows,
 *	made by intake-worker (no schema yet is STORE_BUSY, and the API
 *	answers 503 until there is one), on a connection that the server
 *	says is read-only (else STORE_ERROR: the API never reads through a
 *	writable one).
 *
 *	pg_page_tickets() and pg_search_messages() are the store ops
 *	page_tickets and search_messages of store.h, with the semantics of
 *	store_sqlite_api.c: keyset pages, newest first, below an id.
 *
 *	The search takes the words of query (api_search.c quotes each word
 *	for FTS5; all of them must match) and matches the messages' fts
 *	column (store_pg_tickets.c) through its GIN index. A message's
 *	vector is in its ticket's language's configuration, so one tsquery
 *	is the words in each configuration the server has, or'ed: a word
 *	finds its stemmed forms in any language, and a configuration that
 *	drops it as a stop word adds nothing.
 * DIAGNOSTICS
 *	As store_pg.c.
 */
#include <string.h>

#include "pg_int.h"

/* At most this many bytes of query words: api_search.c sends at most 16 words. */
#define SEARCH_TEXT_MAX	4096

char   *pg_readonly_options(const char *conninfo, char **why)
{
    char   *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    const char *own = NULL;
    char   *out;

    if (opts == NULL) {
	g_autofree char *msg = pg_one_line(err);

	*why = g_strdup_printf("[store] conninfo: %s", msg);
	PQfreemem(err);
	return NULL;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
	if (strcmp(o->keyword, "options") == 0 && o->val && *o->val)
	    own = o->val;
    out = g_strdup_printf("%s%s-c default_transaction_read_only=on", own ? own : "",
			  own ? " " : "");
    PQconninfoFree(opts);
    return out;
}

int     pg_check_schema(struct pg *pg, char **why)
{
    PGresult *res = NULL;
    gint64  version;
    gboolean readonly;
    int     ret;

    if ((ret = pg_run(pg, "read schema version",
		      "SELECT CASE WHEN to_regclass('intake_schema') IS NULL THEN -1"
		      " ELSE (SELECT coalesce(max(version), -1) FROM intake_schema) END,"
		      " current_setting('transaction_read_only') = 'on'",
		      &res, why, NULL)) != STORE_OK)
	return ret;
    version = pg_int(res, 0, 0);
    readonly = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    /* The options could be overridden (a server that ignores them): never serve writable. */
    if (!readonly) {
	*why = g_strdup_printf("%s: the connection is not read-only (options"
			       " default_transaction_read_only=on was not applied)", pg->display);
	return STORE_ERROR;
    }
    if (version < 0) {
	*why = g_strdup_printf("%s: no ticket store yet (intake-worker makes it at its first"
			       " start)", pg->display);
	return STORE_BUSY;
    }
    if (version != pg_schema_version) {
	*why = g_strdup_printf("%s: schema version %" G_GINT64_FORMAT ", this program reads %d"
			       " (intake-worker migrates the store at its start)", pg->display,
			       version, pg_schema_version);
	return STORE_ERROR;
    }
    return STORE_OK;
}

/* The first id of a page: below "before", or from the newest. */
static gint64 page_start(gint64 before)
{
    return before > 0 ? before : G_MAXINT64;
}

int     pg_page_tickets(struct store *st, const struct store_page *q, store_row_fn fn,
			void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(PG(st), "page tickets",
		      "SELECT id, number, mailbox, status, title, customer_address AS customer,"
		      " " PG_ISO("created_at") " AS created_at,"
		      " " PG_ISO("updated_at") " AS updated_at,"
		      " (SELECT count(*) FROM messages m WHERE m.ticket_id = t.id) AS messages"
		      " FROM tickets t WHERE t.id < $4"
		      " AND ($1::text IS NULL OR mailbox = $1) AND ($2::text IS NULL OR status = $2)"
		      " AND ($3::bigint = 0 OR created_at >= to_timestamp($3))"
		      " ORDER BY t.id DESC LIMIT $5", &res, why, "ttiii", q->mailbox, q->status,
		      MAX(q->since, (gint64) 0), page_start(q->before),
		      (gint64) MAX(q->limit, 1))) != STORE_OK)
	return ret;
    pg_emit_rows(res, "ticket", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

/* words - the words of an FTS5 query as api_search.c builds it, space-separated (g_free) */
static char *words(const char *query)
{
    GString *out = g_string_new(NULL);

    if (!g_utf8_validate(query, -1, NULL))
	return g_string_free(out, FALSE);
    for (const char *p = query; *p && out->len < SEARCH_TEXT_MAX; p = g_utf8_next_char(p)) {
	gunichar c = g_utf8_get_char(p);

	if (g_unichar_isalnum(c))
	    g_string_append_unichar(out, c);
	else if (out->len > 0 && out->str[out->len - 1] != ' ')
	    g_string_append_c(out, ' ');
    }
    return g_string_free(out, FALSE);
}

int     pg_search_messages(struct store *st, const char *query, gint64 before, int limit,
			   store_row_fn fn, void *ctx, char **why)
{
    struct pg *pg = PG(st);
    g_autofree char *text = words(query);
    PGresult *res = NULL;
    int     ret;

    if (*text == 0) {
	*why = g_strdup_printf("%s: search: no word in the query", pg->display);
	return STORE_ERROR;
    }
    /* The tsquery is an init plan: computed once, then the GIN index finds the rows. */
    if ((ret = pg_run(pg, "search messages",
		      "WITH q AS (SELECT string_agg('(' || s.q || ')', ' | ')::tsquery AS q"
		      "   FROM (SELECT plainto_tsquery(c.oid::regconfig, $1)::text AS q"
		      "     FROM pg_ts_config c) s WHERE s.q <> '')"
		      " SELECT m.id, t.number, t.mailbox, t.status, m.subject,"
		      " m.sender_address AS sender, " PG_ISO("m.created_at") " AS created_at"
		      " FROM messages m JOIN tickets t ON t.id = m.ticket_id"
		      " WHERE m.fts @@ (SELECT q FROM q) AND m.direction = 'in' AND m.id < $2"
		      " ORDER BY m.id DESC LIMIT $3", &res, why, "tii", text, page_start(before),
		      (gint64) MAX(limit, 1))) != STORE_OK)
	return ret;
    pg_emit_rows(res, "hit", fn, ctx);
    PQclear(res);
    return STORE_OK;
}
