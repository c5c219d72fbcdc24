/*
 * NAME
 *	store_sqlite_faq - FAQ entries and the suggestions made from them,
 *	in the SQLite store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	int	sq_faq_put(st, faq, &id, &why)
 *	int	sq_faq_remove(st, id, &found, &why)
 *	int	sq_faq_optimize(st, &why)
 *	int	sq_list_faq(st, fn, ctx, &why)
 *	int	sq_faq_match(st, query, collection, language, min_score, max, out, &n, &why)
 *	int	sq_set_ticket_faq(st, ticket_id, matches, n, &why)
 *	int	sq_faq_version(st, &version, &entries, &why)
 *	int	sq_faq_load(st, fn, ctx, &why)
 * DESCRIPTION
 *	The store_ops of FAQ suggestions (classify_faq.c, docs/classify.md).
 *	The entries are the table faq; faq_fts, their FTS5 index, follows
 *	it through triggers (store_sqlite_sql.c), so nothing here writes
 *	the index. sq_faq_put() adds an entry or, for an entry read from a
 *	file, replaces that file's (one upsert on source_path).
 *	sq_faq_optimize() merges the index into one segment (FTS5's
 *	'optimize'), for the caller to run once after a batch of changes.
 *	sq_faq_match() runs a query classify_faq.c built (every term quoted:
 *	mail text cannot reach FTS5's operators) and copies the best rows.
 *	sq_set_ticket_faq() records what a new ticket's acknowledgement
 *	suggested, all or nothing, inside its own savepoint.
 *	sq_faq_version() reads counters 'faq-version' (raised by triggers
 *	on faq, migration 6 -> 7) and the number of entries;
 *	sq_faq_load() gives every entry with its body, for the worker's
 *	index in memory (faq_index.c).
 * DIAGNOSTICS
 *	As store_sqlite.c. A query FTS5 rejects is STORE_ERROR.
 */
#include <time.h>

#include "sqlite_int.h"

int     sq_faq_put(struct store *st, const struct store_faq *f, gint64 *id, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    gboolean row = FALSE;
    int     ret;

    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_FAQ_PUT, why, "tttttttt", f->collection, f->title, f->url,
		       f->body, f->language, f->source_path, f->sha256, now)) != STORE_OK
	|| (ret = sq_step(sq, S_FAQ_PUT, &row, why)) != STORE_OK)
	return ret;
    *id = row ? sqlite3_column_int64(sq->stmt[S_FAQ_PUT], 0) : 0;
    sq_reset(sq, S_FAQ_PUT);
    return STORE_OK;
}

int     sq_faq_remove(struct store *st, gint64 id, gboolean *found, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_FAQ_REMOVE, why, "i", id)) != STORE_OK
	|| (ret = sq_run(sq, S_FAQ_REMOVE, why)) != STORE_OK)
	return ret;
    *found = sqlite3_changes(sq->db) > 0;
    return STORE_OK;
}

int     sq_faq_optimize(struct store *st, char **why)
{
    return sq_run(SQ(st), S_FAQ_OPTIMIZE, why);
}

int     sq_list_faq(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    return sq_emit_rows(SQ(st), S_FAQ_LIST, "faq", fn, ctx, why);
}

int     sq_faq_match(struct store *st, const char *query, const char *collection,
		     const char *language, double min_score, int max,
		     struct store_faq_match *out, int *n, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_FAQ_MATCH];
    gboolean row = FALSE;
    int     ret;

    *n = 0;
    if ((ret = sq_bind(sq, S_FAQ_MATCH, why, "tttdi", query, collection, language,
		       min_score, (gint64) max)) != STORE_OK)
	return ret;
    while (*n < max && (ret = sq_step(sq, S_FAQ_MATCH, &row, why)) == STORE_OK && row) {
	struct store_faq_match *m = &out[(*n)++];

	m->id = sqlite3_column_int64(s, 0);
	m->title = col_strdup(s, 1);
	m->url = col_strdup(s, 2);
	m->score = sqlite3_column_double(s, 3);
    }
    if (ret != STORE_OK) {
	for (int i = 0; i < *n; i++)
	    store_faq_match_clear(&out[i]);
	*n = 0;
	return ret;				/* sq_step() has reset it */
    }
    sq_reset(sq, S_FAQ_MATCH);
    return STORE_OK;
}

static int set_ticket_faq(struct sq *sq, gint64 ticket_id, const struct store_faq_match *m,
			  int n, char **why)
{
    int     ret = STORE_OK;

    for (int i = 0; i < n && ret == STORE_OK; i++)
	if ((ret = sq_bind(sq, S_TICKET_FAQ_INSERT, why, "iiittd", ticket_id, (gint64) i + 1,
			   m[i].id, m[i].title, m[i].url, m[i].score)) == STORE_OK)
	    ret = sq_run(sq, S_TICKET_FAQ_INSERT, why);
    return ret;
}

int     sq_set_ticket_faq(struct store *st, gint64 ticket_id, const struct store_faq_match *m,
			  int n, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    return op_end(sq, set_ticket_faq(sq, ticket_id, m, n, why), why);
}

int     sq_faq_version(struct store *st, gint64 *version, gint64 *entries, char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *version = *entries = 0;
    if ((ret = sq_step(sq, S_FAQ_VERSION, &row, why)) == STORE_OK && row) {
	*version = sqlite3_column_int64(sq->stmt[S_FAQ_VERSION], 0);
	*entries = sqlite3_column_int64(sq->stmt[S_FAQ_VERSION], 1);
    }
    sq_reset(sq, S_FAQ_VERSION);
    return ret;
}

int     sq_faq_load(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    return sq_emit_rows(SQ(st), S_FAQ_LOAD, "faq", fn, ctx, why);
}
