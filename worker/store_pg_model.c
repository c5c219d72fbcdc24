/*
 * NAME
 *	store_pg_model - the category model and confirmed categories in
 *	the PostgreSQL store
 * SYNOPSIS
 *	#include "pg_int.h"
 *
 *	int	pg_set_category(st, ticket_id, category, &why)
 *	int	pg_training_docs(st, mailbox, limit, fn, ctx, &why)
 *	int	pg_save_model(st, rows, n, &why)
 *	int	pg_model_version(st, &version, &why)
 *	int	pg_load_model(st, fn, ctx, &why)
 * DESCRIPTION
 *	The store_ops of category suggestion, as store_sqlite_model.c:
 *	pg_set_category() sets a ticket's category as a person chose it
 *	(confirmed: training data); pg_training_docs() gives rows "doc"
 *	(category, language, subject, body of the first mail in) of the
 *	confirmed tickets, newest first; pg_save_model() replaces the model
 *	all or nothing and raises counters 'category-model', which
 *	pg_model_version() reads; pg_load_model() gives rows "docs" then
 *	"term".
 *
 *	Several workers share the model: pg_save_model() locks the counter
 *	row first (its UPDATE), so two intakectl train runs at once save one
 *	after the other, never a mix; a worker reading the model reads it in
 *	one snapshot (pg_load_model()), never half of a save.
 * DIAGNOSTICS
 *	As store_pg_util.c.
 */
#include "pg_int.h"

int     pg_set_category(struct store *st, gint64 ticket_id, const char *category, char **why)
{
    return pg_run(PG(st), "set ticket category",
		  "UPDATE tickets SET category = $2, category_confirmed = true, updated_at = now()"
		  " WHERE id = $1", NULL, why, "it", ticket_id, category);
}

int     pg_training_docs(struct store *st, const char *mailbox, int limit, store_row_fn fn,
			 void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(PG(st), "read training tickets",
		      "SELECT t.category, t.language, m.subject, m.body"
		      " FROM tickets t JOIN messages m ON m.id = (SELECT min(id) FROM messages"
		      "   WHERE ticket_id = t.id AND direction = 'in')"
		      " WHERE t.category_confirmed AND t.category IS NOT NULL AND t.category <> ''"
		      " AND ($1::text IS NULL OR t.mailbox = $1) ORDER BY t.id DESC LIMIT $2",
		      &res, why, "ti", mailbox,
		      (gint64) (limit > 0 ? limit : G_MAXINT64))) != STORE_OK)
	return ret;
    pg_emit_rows(res, "doc", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

/* save_model - the body of pg_save_model(), inside its transaction or savepoint */
static int save_model(struct pg *pg, const struct store_model_row *rows, gsize n, char **why)
{
    int     ret;

    if ((ret = pg_run(pg, "save category model",
		      "UPDATE counters SET value = value + 1 WHERE name = 'category-model'",
		      NULL, why, NULL)) != STORE_OK
	|| (ret = pg_run(pg, "clear category model", "DELETE FROM category_docs", NULL, why,
			 NULL)) != STORE_OK
	|| (ret = pg_run(pg, "clear category model", "DELETE FROM category_terms", NULL, why,
			 NULL)) != STORE_OK)
	return ret;
    for (gsize i = 0; i < n && ret == STORE_OK; i++) {
	const struct store_model_row *r = &rows[i];

	ret = r->term ? pg_run(pg, "save category model",
			       "INSERT INTO category_terms(category, term, count) VALUES($1, $2, $3)",
			       NULL, why, "tti", r->category, r->term, r->count)
	    : pg_run(pg, "save category model",
		     "INSERT INTO category_docs(category, docs) VALUES($1, $2)", NULL, why, "ti",
		     r->category, r->count);
    }
    return ret;
}

int     pg_save_model(struct store *st, const struct store_model_row *rows, gsize n,
		      char **why)
{
    struct pg *pg = PG(st);
    int     ret;

    if ((ret = pg_op_begin(pg, why)) != STORE_OK)
	return ret;
    return pg_op_end(pg, save_model(pg, rows, n, why), why);
}

int     pg_model_version(struct store *st, gint64 *version, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *version = 0;
    if ((ret = pg_run(PG(st), "look up category model",
		      "SELECT value FROM counters WHERE name = 'category-model'", &res, why,
		      NULL)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0)
	*version = pg_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

/* load_model - both statements, in the snapshot the caller holds */
static int load_model(struct pg *pg, store_row_fn fn, void *ctx, char **why)
{
    PGresult *docs = NULL, *terms = NULL;
    int     ret;

    if ((ret = pg_run(pg, "read category model",
		      "SELECT category, docs FROM category_docs ORDER BY category", &docs, why,
		      NULL)) != STORE_OK)
	return ret;
    if ((ret = pg_run(pg, "read category model",
		      "SELECT category, term, count FROM category_terms", &terms, why,
		      NULL)) != STORE_OK) {
	PQclear(docs);
	return ret;
    }
    pg_emit_rows(docs, "docs", fn, ctx);
    pg_emit_rows(terms, "term", fn, ctx);
    PQclear(docs);
    PQclear(terms);
    return STORE_OK;
}

int     pg_load_model(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    struct pg *pg = PG(st);
    int     ret;

    if (pg->in_txn)
	return load_model(pg, fn, ctx, why);
    if ((ret = pg_run(pg, "begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
		      why, NULL)) != STORE_OK)
	return ret;
    pg->in_txn = TRUE;
    ret = load_model(pg, fn, ctx, why);
    pg->in_txn = FALSE;
    if (ret != STORE_OK) {
	if (PQstatus(pg->conn) == CONNECTION_OK)
	    PQclear(PQexec(pg->conn, "ROLLBACK"));
	return ret;
    }
    return pg_run(pg, "end read", "COMMIT", NULL, why, NULL);
}
