/*
 * NAME
 *	store_sqlite_api - the SQLite store as the read-only HTTP API reads it
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	int	sq_open_readonly(st, sq, &why)
 *	int	sq_page_tickets(st, q, fn, ctx, &why)
 *	int	sq_search_messages(st, query, before, limit, fn, ctx, &why)
 * DESCRIPTION
 *	sq_open_readonly() is store_open_readonly()'s part of sq_open():
 *	the database opened with SQLITE_OPEN_READONLY (what the URI
 *	parameter mode=ro does, without quoting a path into a URI), then
 *	PRAGMA query_only, so that not even a statement prepared for the
 *	writer can change the file, and the busy timeout of [store]
 *	busy_timeout. It neither creates nor migrates: the schema must be
 *	the one this program knows, made by intake-worker (a store that does
 *	not exist yet is an error, and the API answers 503 until it does).
 *	In WAL mode a reader works on its snapshot and never holds the
 *	writer up; the only wait is the short one for a checkpoint's lock.
 *
 *	sq_page_tickets() and sq_search_messages() are the store ops
 *	page_tickets and search_messages of store.h: keyset pages, newest
 *	first, rows named by the SQL of S_API_TICKETS and S_API_SEARCH
 *	(store_sqlite_sql.c). Presentation (JSON, cursors) is the API's.
 *
 *	The search's query is quoted words (api_search.c). The index keeps
 *	no positions (detail=column, schema 8), so FTS5 refuses a phrase of
 *	several tokens, and a word the caller cut with GLib's character
 *	classes can be one: unicode61's Unicode 6.1 tables call a few of
 *	GLib's letters separators (fts_tokenizer.c). Each word is therefore
 *	cut again by the index's own tokenizer and each of its tokens quoted
 *	alone: all of them must match, in any order. A word without a
 *	token adds nothing; a query without any has no hits.
 * DIAGNOSTICS
 *	As store_sqlite.c. An FTS5 query the index refuses (a syntax error)
 *	is STORE_ERROR, so the caller can answer 400.
 */
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "sqlite_int.h"
#include "fts_tokenizer.h"

int     sq_open_readonly(struct store *st, struct sq *sq, char **why)
{
    g_autofree char *version = NULL;
    int     rc, ret;

    if (!g_file_test(sq->path, G_FILE_TEST_IS_REGULAR)) {
	*why = g_strdup_printf("%s: no ticket store yet (intake-worker makes it at its"
			       " first start)", sq->path);
	return STORE_BUSY;
    }
    /* One connection per thread: SQLite's own mutexes are not needed. */
    rc = sqlite3_open_v2(sq->path, &sq->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
	return sq_fail(sq, rc, "cannot open the ticket store read-only", why);
    if ((rc = sqlite3_extended_result_codes(sq->db, 1)) != SQLITE_OK
	|| (rc = sqlite3_busy_timeout(sq->db, st->cfg->store_busy_timeout_ms)) != SQLITE_OK)
	return sq_fail(sq, rc, "configure connection", why);
    if ((ret = sq_exec(sq, "PRAGMA query_only = 1", "PRAGMA query_only", why)) != STORE_OK
	|| (ret = sq_register_functions(sq, why)) != STORE_OK
	|| (ret = sq_query_text(sq, "PRAGMA user_version", &version, why)) != STORE_OK)
	return ret;
    if (version == NULL || atoi(version) != STORE_SCHEMA_VERSION) {
	*why = g_strdup_printf("%s: schema version %s, this program reads %d (intake-worker"
			       " migrates the store at its start)", sq->path,
			       version ? version : "none", STORE_SCHEMA_VERSION);
	return STORE_ERROR;
    }
    return STORE_OK;
}

/* The first id of a page: below "before", or from the newest. */
static gint64 page_start(gint64 before)
{
    return before > 0 ? before : G_MAXINT64;
}

int     sq_page_tickets(struct store *st, const struct store_page *q, store_row_fn fn,
			void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    char    since[ISO_TIME_SIZE];
    int     ret;

    if (q->since > 0)
	iso_time(q->since, since, NULL);
    if ((ret = sq_bind(sq, S_API_TICKETS, why, "tttii", q->mailbox, q->status,
		       q->since > 0 ? since : NULL, page_start(q->before),
		       (gint64) MAX(q->limit, 1))) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_API_TICKETS, "ticket", fn, ctx, why);
}

/* A token quoted for FTS5, appended to a query (a quote inside is doubled). */
static int quote_token(void *ctx, const char *token, int len)
{
    GString *out = ctx;

    g_string_append(out, out->len ? " \"" : "\"");
    for (int i = 0; i < len; i++) {
	if (token[i] == '"')
	    g_string_append_c(out, '"');
	g_string_append_c(out, token[i]);
    }
    g_string_append_c(out, '"');
    return 0;
}

/*
 * sq_fts_query - query's quoted words as one quoted token each (owned;
 * "" when no word has a token), or NULL with *why: not quoted words, or
 * the tokenizer failed.
 */
static char *sq_fts_query(struct sq *sq, const char *query, char **why)
{
    GString *out = g_string_new(NULL);
    const char *p = query, *end;

    if (sq->fts == NULL && (sq->fts = fts_tokenizer_new(why)) == NULL)
	return (g_string_free(out, TRUE), NULL);
    for (;;) {
	while (*p == ' ')
	    p++;
	if (*p == 0)
	    return g_string_free(out, FALSE);
	if (*p != '"' || (end = strchr(p + 1, '"')) == NULL || end[1] == '"') {
	    *why = g_strdup_printf("%s: search: the query is not quoted words", sq->path);
	    return (g_string_free(out, TRUE), NULL);
	}
	if (fts_tokenize(sq->fts, TRUE, p + 1, (int) (end - p - 1), quote_token, out, why) != 0)
	    return (g_string_free(out, TRUE), NULL);
	p = end + 1;
    }
}

int     sq_search_messages(struct store *st, const char *query, gint64 before, int limit,
			   store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    g_autofree char *words = sq_fts_query(sq, query, why);
    int     ret;

    if (words == NULL)
	return STORE_ERROR;
    if (*words == 0)
	return STORE_OK;			/* no token: nothing can match */
    if ((ret = sq_bind(sq, S_API_SEARCH, why, "tii", words, page_start(before),
		       (gint64) MAX(limit, 1))) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_API_SEARCH, "hit", fn, ctx, why);
}
