/*
 * NAME
 *	store_sqlite_model - the category model and confirmed categories in
 *	the SQLite store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	int	sq_set_category(st, ticket_id, category, &why)
 *	int	sq_training_docs(st, mailbox, limit, fn, ctx, &why)
 *	int	sq_save_model(st, rows, n, &why)
 *	int	sq_model_version(st, &version, &why)
 *	int	sq_load_model(st, fn, ctx, &why)
 * DESCRIPTION
 *	The store_ops of category suggestion (worker/classify_category.c,
 *	worker/ctl_train.c, docs/classify.md). sq_set_category() sets a
 *	ticket's category as a person chose it (confirmed: training data).
 *	sq_training_docs() gives rows "doc" (category, language, subject,
 *	body of the first mail in) of the confirmed tickets, newest first.
 *	sq_save_model() replaces the model (category_docs, category_terms)
 *	inside its own savepoint and raises counters 'category-model';
 *	sq_model_version() reads that counter, sq_load_model() gives rows
 *	"docs" (category, docs) and then "term" (category, term, count).
 * DIAGNOSTICS
 *	As store_sqlite.c.
 */
#include <time.h>

#include "sqlite_int.h"

int     sq_set_category(struct store *st, gint64 ticket_id, const char *category, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_SET_CATEGORY, why, "itt", ticket_id, category, now)) != STORE_OK)
	return ret;
    return sq_run(sq, S_SET_CATEGORY, why);
}

int     sq_training_docs(struct store *st, const char *mailbox, int limit, store_row_fn fn,
			 void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_TRAINING_DOCS, why, "ti", mailbox,
		       (gint64) (limit > 0 ? limit : -1))) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_TRAINING_DOCS, "doc", fn, ctx, why);
}

static int save_model(struct sq *sq, const struct store_model_row *rows, gsize n, char **why)
{
    int     ret;

    if ((ret = sq_run(sq, S_MODEL_CLEAR_DOCS, why)) != STORE_OK
	|| (ret = sq_run(sq, S_MODEL_CLEAR_TERMS, why)) != STORE_OK)
	return ret;
    for (gsize i = 0; i < n; i++) {
	const struct store_model_row *r = &rows[i];
	enum stmt id = r->term ? S_MODEL_TERM_INSERT : S_MODEL_DOCS_INSERT;

	if ((ret = r->term ? sq_bind(sq, id, why, "tti", r->category, r->term, r->count)
	     : sq_bind(sq, id, why, "ti", r->category, r->count)) != STORE_OK
	    || (ret = sq_run(sq, id, why)) != STORE_OK)
	    return ret;
    }
    return sq_run(sq, S_MODEL_BUMP, why);
}

int     sq_save_model(struct store *st, const struct store_model_row *rows, gsize n,
		      char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    return op_end(sq, save_model(sq, rows, n, why), why);
}

int     sq_model_version(struct store *st, gint64 *version, char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *version = 0;
    if ((ret = sq_step(sq, S_MODEL_VERSION, &row, why)) == STORE_OK && row)
	*version = sqlite3_column_int64(sq->stmt[S_MODEL_VERSION], 0);
    sq_reset(sq, S_MODEL_VERSION);
    return ret;
}

int     sq_load_model(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_emit_rows(sq, S_MODEL_LOAD_DOCS, "docs", fn, ctx, why)) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_MODEL_LOAD_TERMS, "term", fn, ctx, why);
}
