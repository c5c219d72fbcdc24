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
 * DIAGNOSTICS
 *	As store_sqlite.c. An FTS5 query the index refuses (a syntax error)
 *	is STORE_ERROR, so the caller can answer 400.
 */
#include <stdlib.h>
#include <sqlite3.h>

#include "sqlite_int.h"

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

int     sq_search_messages(struct store *st, const char *query, gint64 before, int limit,
			   store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_API_SEARCH, why, "tii", query, page_start(before),
		       (gint64) MAX(limit, 1))) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_API_SEARCH, "hit", fn, ctx, why);
}
