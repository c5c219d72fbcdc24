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
 *	The score is the one SQLite gives, -bm25() as FTS5 computes it, so
 *	that [worker] faq_min_score means the same on either store: the sum
 *	over the query's words found in the entry of
 *	    idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len / avglen))
 *	with k1 1.2, b 0.75, f the word's occurrences in the title times 2
 *	plus those in the body (FTS5's column weights 2.0, 1.0), idf
 *	ln((N - n + 0.5) / (n + 0.5)) of the N entries and the n that hold
 *	the word, never below 10^-6 (FTS5's floor: a word in half the
 *	entries or more weighs nearly nothing). One difference: len is the
 *	entry's number of distinct words (faq.words, a generated column),
 *	not of words, since a tsvector keeps each word once; for FAQ entries,
 *	short texts, the two are close. N and avglen are read from faq.words
 *	at each match (a scan of one integer column per entry); n is one
 *	GIN lookup per query word (at most FAQ_MAX_TERMS); the candidates are
 *	the entries the GIN index finds for the words ORed.
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

/*
 * BM25 over faq.fts: see DESCRIPTION. $1 the words (space-separated),
 * $2 collection (NULL: any), $3 language (an entry without one fits
 * any), $4 the least score, $5 how many.
 */
static const char faq_match_sql[] =
    "WITH q AS (SELECT replace(plainto_tsquery('simple', $1)::text, ' & ', ' | ')::tsquery"
    "    AS q),"
    " words AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('simple', $1))),"
    " stats AS (SELECT count(*)::float8 AS n, coalesce(avg(words), 1)::float8 AS avglen"
    "    FROM faq),"
    " idf AS (SELECT w.lexeme, greatest(ln((s.n - d.n + 0.5) / (d.n + 0.5)), 1e-6) AS idf"
    "    FROM words w, stats s, LATERAL (SELECT count(*)::float8 AS n FROM faq"
    "      WHERE fts @@ plainto_tsquery('simple', w.lexeme)) d),"
    " hits AS (SELECT f.id, f.title, f.url, f.words, u.lexeme,"
    "    (SELECT 2 * count(*) FILTER (WHERE x = 'A') + count(*) FILTER (WHERE x <> 'A')"
    "      FROM unnest(u.weights) x)::float8 AS tf"
    "    FROM faq f, q, unnest(f.fts) u"
    "    WHERE f.fts @@ q.q AND ($2::text IS NULL OR f.collection = $2)"
    "    AND (f.language IS NULL OR $3::text IS NULL OR f.language = $3)"
    "    AND u.lexeme IN (SELECT lexeme FROM words)),"
    " scored AS (SELECT h.id, h.title, h.url,"
    "    sum(i.idf * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * h.words / s.avglen))) AS score"
    "    FROM hits h JOIN idf i USING (lexeme), stats s GROUP BY h.id, h.title, h.url)"
    " SELECT id, title, url, score FROM scored WHERE score >= $4"
    " ORDER BY score DESC, id LIMIT $5";

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
    if ((ret = pg_run(PG(st), "match FAQ entries", faq_match_sql, &res, why, "tttdi", words,
		      collection, language, min_score, (gint64) max)) != STORE_OK)
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
