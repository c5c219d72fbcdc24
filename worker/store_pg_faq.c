/*
 * NAME
 *	store_pg_faq - FAQ entries and the suggestions made from them, in
 *	the PostgreSQL store
 * SYNOPSIS
 *	#include "pg_int.h"
 *
 *	int	pg_faq_put(st, faq, &id, &why)
 *	int	pg_faq_remove(st, id, &found, &why)
 *	int	pg_faq_optimize(st, &why)
 *	int	pg_list_faq(st, fn, ctx, &why)
 *	int	pg_faq_match(st, query, collection, language, min_score, max, out, &n, &why)
 * DESCRIPTION
 *	The FAQ store_ops of store_sqlite_faq.c on PostgreSQL (set_ticket_faq
 *	is store_pg_tickets.c's). faq.fts is a generated tsvector with a GIN
 *	index (store_pg_schema.c, step 3): nothing here writes the index.
 *	pg_faq_put() adds an entry or replaces the one of its source_path
 *	(one upsert). pg_faq_optimize() has nothing to merge: GIN's pending
 *	list is flushed by autovacuum, and a lookup reads it anyway.
 *
 *	pg_faq_match() gets the query classify_faq.c built for SQLite's
 *	FTS5: "word" strings ORed, '"' doubled. It takes the words back out
 *	of the strings (nothing else of the text reaches PostgreSQL as
 *	syntax), lets plainto_tsquery() make lexemes of them in the
 *	configuration 'simple' (the one of faq.fts) and ORs them: the
 *	text form of plainto_tsquery() joins them with " & ", and a lexeme
 *	of 'simple' never holds a space, so replacing that separator by
 *	" | " changes operators only.
 *
 *	The score. SQLite's is -bm25() with the title weighing twice the
 *	body; PostgreSQL has no bm25. Here it is
 *	    10 * ts_rank_cd('{0.5, 0.5, 0.5, 1.0}', fts, query)
 *	the cover density of the matched words, a title word (weight A)
 *	counting twice a body word (D), times ten so that it falls in the
 *	range of [worker] faq_min_score's default 1.5: one word found in the
 *	body once scores 0.5 (under it), the same word in the title 1.0,
 *	two words of the mail in an entry's title or body several times
 *	1.5 and more (measured in tests/it/it_pg_classify.sh). Unlike bm25,
 *	ts_rank_cd() does not weigh a word by how rare it is among the
 *	entries: a common word scores as a rare one. classify_faq.c asks
 *	only for words of FAQ_MIN_CHARS or more, which leaves out most
 *	words every entry shares ("the", "und"); an installation that sees
 *	too many suggestions raises faq_min_score (docs/classify.md).
 * DIAGNOSTICS
 *	As store_pg_util.c.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

int     pg_faq_put(struct store *st, const struct store_faq *f, gint64 *id, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *id = 0;
    if ((ret = pg_run(PG(st), "store FAQ entry",
		      "INSERT INTO faq(collection, title, url, body, language, source_path, sha256,"
		      " updated_at) VALUES($1, $2, $3, $4, $5, $6, $7, now())"
		      " ON CONFLICT(source_path) DO UPDATE SET collection = excluded.collection,"
		      " title = excluded.title, url = excluded.url, body = excluded.body,"
		      " language = excluded.language, sha256 = excluded.sha256,"
		      " updated_at = excluded.updated_at RETURNING id", &res, why, "ttttttt",
		      f->collection, f->title, f->url, f->body, f->language, f->source_path,
		      f->sha256)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0)
	*id = pg_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

int     pg_faq_remove(struct store *st, gint64 id, gboolean *found, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *found = FALSE;
    if ((ret = pg_run(PG(st), "remove FAQ entry", "DELETE FROM faq WHERE id = $1", &res, why,
		      "i", id)) != STORE_OK)
	return ret;
    *found = atoi(PQcmdTuples(res)) > 0;
    PQclear(res);
    return STORE_OK;
}

int     pg_faq_optimize(struct store *st, char **why)
{
    return STORE_OK;
}

int     pg_list_faq(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(PG(st), "list FAQ entries",
		      "SELECT id, collection, title, url, language, source_path, sha256,"
		      " " PG_ISO("updated_at") " AS updated_at FROM faq ORDER BY collection, id",
		      &res, why, NULL)) != STORE_OK)
	return ret;
    pg_emit_rows(res, "faq", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

/*
 * fts5_words - the words of the FTS5 strings of query, separated by
 * spaces (g_free): a '"' opens a string, '""' inside is one '"', the
 * next single '"' closes it; what lies between strings (OR) is dropped.
 */
static char *fts5_words(const char *query)
{
    GString *w = g_string_sized_new(strlen(query));
    gboolean in = FALSE;

    for (const char *p = query; *p; p++) {
	if (*p != '"') {
	    if (in)
		g_string_append_c(w, *p);
	} else if (in && p[1] == '"') {
	    g_string_append_c(w, '"');
	    p++;
	} else {
	    in = !in;
	    if (!in)
		g_string_append_c(w, ' ');
	}
    }
    return g_string_free(w, FALSE);
}

/* The score of an entry: see DESCRIPTION. */
#define FAQ_SCORE	"10 * ts_rank_cd('{0.5, 0.5, 0.5, 1.0}', f.fts, q.q)"

int     pg_faq_match(struct store *st, const char *query, const char *collection,
		     const char *language, double min_score, int max,
		     struct store_faq_match *out, int *n, char **why)
{
    g_autofree char *words = fts5_words(query);
    PGresult *res = NULL;
    int     ret;

    *n = 0;
    if (max <= 0)
	return STORE_OK;
    if ((ret = pg_run(PG(st), "match FAQ entries",
		      "SELECT f.id, f.title, f.url, " FAQ_SCORE " AS score FROM faq f,"
		      " (SELECT replace(plainto_tsquery('simple', $1)::text, ' & ', ' | ')::tsquery"
		      "   AS q) q"
		      " WHERE f.fts @@ q.q AND ($2::text IS NULL OR f.collection = $2)"
		      " AND (f.language IS NULL OR $3::text IS NULL OR f.language = $3)"
		      " AND " FAQ_SCORE " >= $4 ORDER BY score DESC, f.id LIMIT $5",
		      &res, why, "tttdi", words, collection, language, min_score,
		      (gint64) max)) != STORE_OK)
	return ret;
    for (int r = 0; r < PQntuples(res) && *n < max; r++) {
	struct store_faq_match *m = &out[(*n)++];

	m->id = pg_int(res, r, 0);
	m->title = pg_strdup(res, r, 1);
	m->url = pg_strdup(res, r, 2);
	m->score = g_ascii_strtod(PQgetvalue(res, r, 3), NULL);
    }
    PQclear(res);
    return STORE_OK;
}
