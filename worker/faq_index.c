/*
 * NAME
 *	faq_index - FAQ entries ranked in memory exactly as FTS5's bm25 ranks them
 * SYNOPSIS
 *	#include "faq_index.h"
 *
 *	struct faq_index *faq_index_new(&why)
 *	int	faq_index_add(ix, id, collection, language, title, url, body, &why)
 *	guint	faq_index_size(ix)
 *	enum faq_index_result faq_index_match(ix, words, collection, language,
 *			min_score, max, out, &n)
 *	struct faq_index *faq_index_free(ix)
 * DESCRIPTION
 *	The SQLite store answers a FAQ query with FTS5 (store_sqlite_faq.c):
 *	about a quarter of a millisecond per mail even against ten entries,
 *	the largest part of the classify stage (docs/classify.md, "What the
 *	stage costs"). This index gives the same answer from memory.
 *
 *	Same tokens: the entries and the query's words are cut by FTS5's
 *	own tokenizer (fts_tokenizer.c: the faq_fts table's), so case
 *	folding and diacritics are FTS5's by construction, not a copy of
 *	its tables.
 *
 *	Same ranking: FTS5's bm25() (ext/fts5/fts5_aux.c), k1 = 1.2,
 *	b = 0.75; N the number of entries, avgdl their tokens (title and
 *	body) over N, per query word ("phrase") IDF = log((N - n + 0.5) /
 *	(n + 0.5)), n the entries holding it, 1e-6 when not positive; per
 *	entry f = FAQ_TITLE_WEIGHT times its count in the title plus
 *	FAQ_BODY_WEIGHT times its count in the body, D its tokens; the score
 *	sums, in the query's order, IDF * f * (k1 + 1) / (f + k1 * (1 - b +
 *	b * D / avgdl)), the same operations in the same order as FTS5, so
 *	the same double. As the store's query: N, avgdl and n count every
 *	entry, the collection (NULL: any) and language (an entry without one
 *	fits any; NULL: any) filter afterwards, score min_score or more, best
 *	first and of equal scores the lower id, at most max.
 *
 *	words are the query's words in order (faq_words(), classify_faq.c),
 *	each one FTS5 phrase. A word that FTS5's tokenizer does not turn into
 *	exactly one token would be a phrase of several tokens (or none),
 *	which this index does not answer: faq_index_match() says
 *	FAQ_INDEX_FALLBACK and the caller asks the store.
 *
 *	Memory: one posting (entry, weighted count) per distinct token of an
 *	entry; the caller keeps the number of entries to
 *	FAQ_INDEX_MAX_ENTRIES. A match is linear in the postings of its
 *	words plus the entries they hit.
 * DIAGNOSTICS
 *	faq_index_new(), faq_index_add(): NULL or -1 and *why (SQLite
 *	without FTS5 or its tokenizer). faq_index_match() cannot fail.
 */
#include <math.h>
#include <string.h>

#include "faq_index.h"
#include "fts_tokenizer.h"

/* FTS5's bm25() constants (fts5_aux.c). */
#define BM25_K1 1.2
#define BM25_B 0.75

struct doc {
    gint64  id;
    char   *collection;
    char   *language;			/* NULL: any */
    char   *title;
    char   *url;			/* NULL: none */
    guint   tokens;			/* title and body */
};

struct posting {
    guint   doc;			/* index into docs */
    double  f;				/* weighted count */
};

struct faq_index {
    struct fts_tokenizer *tok;
    GArray *docs;			/* struct doc */
    GHashTable *postings;		/* token -> GArray of struct posting */
    guint64 total_tokens;
    double *score;			/* per doc, scratch of faq_index_match() */
    gboolean *hit;
    GArray *touched;			/* guint: docs with a score */
};

static void doc_clear(gpointer p)
{
    struct doc *d = p;

    g_free(d->collection);
    g_free(d->language);
    g_free(d->title);
    g_free(d->url);
}

static void postings_free(gpointer p)
{
    g_array_free(p, TRUE);
}

struct faq_index *faq_index_new(char **why)
{
    struct faq_index *ix = g_new0(struct faq_index, 1);

    ix->docs = g_array_new(FALSE, TRUE, sizeof(struct doc));
    g_array_set_clear_func(ix->docs, doc_clear);
    ix->postings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, postings_free);
    ix->touched = g_array_new(FALSE, FALSE, sizeof(guint));
    if ((ix->tok = fts_tokenizer_new(why)) == NULL)
	return faq_index_free(ix);
    return ix;
}

struct faq_index *faq_index_free(struct faq_index *ix)
{
    if (ix == NULL)
	return NULL;
    fts_tokenizer_free(ix->tok);
    g_array_free(ix->docs, TRUE);
    g_hash_table_destroy(ix->postings);
    g_array_free(ix->touched, TRUE);
    g_free(ix->score);
    g_free(ix->hit);
    g_free(ix);
    return NULL;
}

guint   faq_index_size(const struct faq_index *ix)
{
    return ix->docs->len;
}

/* Counting an entry's tokens: token -> weighted count, and how many. */
struct doc_tokens {
    GHashTable *counts;			/* token -> double * */
    double  weight;
    guint   n;
};

static int doc_token(void *ctx, const char *token, int len)
{
    struct doc_tokens *dt = ctx;
    char   *key;
    double *f;

    dt->n++;
    key = g_strndup(token, len);
    if ((f = g_hash_table_lookup(dt->counts, key)) != NULL) {
	g_free(key);
    } else {
	f = g_new0(double, 1);
	g_hash_table_insert(dt->counts, key, f);
    }
    *f += dt->weight;
    return 0;
}

int     faq_index_add(struct faq_index *ix, gint64 id, const char *collection,
		      const char *language, const char *title, const char *url,
		      const char *body, char **why)
{
    struct doc_tokens dt = {0};
    struct doc d = {0};
    GHashTableIter it;
    gpointer key, value;
    guint   at = ix->docs->len;
    g_autofree char *err = NULL;

    dt.counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    dt.weight = FAQ_TITLE_WEIGHT;
    if (fts_tokenize(ix->tok, FALSE, title, strlen(title), doc_token, &dt, &err) == 0) {
	dt.weight = FAQ_BODY_WEIGHT;
	(void) fts_tokenize(ix->tok, FALSE, body, strlen(body), doc_token, &dt, &err);
    }
    if (err != NULL) {
	*why = g_strdup_printf("FAQ entry %" G_GINT64_FORMAT ": %s", id, err);
	g_hash_table_destroy(dt.counts);
	return -1;
    }
    g_hash_table_iter_init(&it, dt.counts);
    while (g_hash_table_iter_next(&it, &key, &value)) {
	GArray *p = g_hash_table_lookup(ix->postings, key);
	struct posting post = {at, *(double *) value};

	if (p == NULL) {
	    p = g_array_new(FALSE, FALSE, sizeof(struct posting));
	    g_hash_table_insert(ix->postings, g_strdup(key), p);
	}
	g_array_append_val(p, post);
    }
    g_hash_table_destroy(dt.counts);
    d.id = id;
    d.collection = g_strdup(collection);
    d.language = g_strdup(language);
    d.title = g_strdup(title);
    d.url = g_strdup(url);
    d.tokens = dt.n;
    g_array_append_val(ix->docs, d);
    ix->total_tokens += dt.n;
    g_free(ix->score);
    g_free(ix->hit);
    ix->score = NULL;
    ix->hit = NULL;
    return 0;
}

/* A query word's tokens: exactly one is a phrase this index answers. */
struct query_token {
    char   *token;
    int     n;
};

static int query_token(void *ctx, const char *token, int len)
{
    struct query_token *qt = ctx;

    if (qt->n++ == 0)
	qt->token = g_strndup(token, len);
    return 0;
}

/* The better match first: FTS5's ORDER BY bm25 (ascending, so -score), then id. */
static gint by_score(gconstpointer a, gconstpointer b, gpointer ctx)
{
    const struct faq_index *ix = ctx;
    guint   x = *(const guint *) a, y = *(const guint *) b;
    gint64  ix_ = g_array_index(ix->docs, struct doc, x).id;
    gint64  iy = g_array_index(ix->docs, struct doc, y).id;

    if (ix->score[x] != ix->score[y])
	return ix->score[x] > ix->score[y] ? -1 : 1;
    return ix_ < iy ? -1 : ix_ > iy;
}

enum faq_index_result faq_index_match(struct faq_index *ix, const GPtrArray *words,
				      const char *collection, const char *language,
				      double min_score, int max,
				      struct store_faq_match *out, int *n)
{
    double  nrow = ix->docs->len, avgdl;
    GPtrArray *tokens;
    guint   kept = 0;

    *n = 0;
    if (words == NULL || words->len == 0 || max <= 0 || ix->docs->len == 0)
	return FAQ_INDEX_OK;
    tokens = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < words->len; i++) {
	const char *w = g_ptr_array_index(words, i);
	struct query_token qt = {NULL, 0};
	g_autofree char *err = NULL;

	if (fts_tokenize(ix->tok, TRUE, w, strlen(w), query_token, &qt, &err) != 0
	    || qt.n != 1) {
	    g_free(qt.token);
	    g_ptr_array_free(tokens, TRUE);
	    return FAQ_INDEX_FALLBACK;
	}
	g_ptr_array_add(tokens, qt.token);
    }
    if (ix->score == NULL) {
	ix->score = g_new0(double, ix->docs->len);
	ix->hit = g_new0(gboolean, ix->docs->len);
    }
    avgdl = (double) ix->total_tokens / nrow;
    g_array_set_size(ix->touched, 0);
    /* Phrase by phrase, as fts5Bm25Function() sums: a phrase absent from an entry adds +0.0. */
    for (guint i = 0; i < tokens->len; i++) {
	GArray *p = g_hash_table_lookup(ix->postings, g_ptr_array_index(tokens, i));
	double  hits, idf;

	if (p == NULL)
	    continue;
	hits = p->len;
	idf = log((nrow - hits + 0.5) / (hits + 0.5));
	if (idf <= 0.0)
	    idf = 1e-6;
	for (guint j = 0; j < p->len; j++) {
	    const struct posting *post = &g_array_index(p, struct posting, j);
	    double  D = g_array_index(ix->docs, struct doc, post->doc).tokens;

	    if (!ix->hit[post->doc]) {
		ix->hit[post->doc] = TRUE;
		ix->score[post->doc] = 0.0;
		g_array_append_val(ix->touched, post->doc);
	    }
	    ix->score[post->doc] += idf * ((post->f * (BM25_K1 + 1.0))
					   / (post->f + BM25_K1 * (1 - BM25_B + BM25_B * D / avgdl)));
	}
    }
    g_ptr_array_free(tokens, TRUE);
    /* The store's WHERE: collection, language, the least score (-bm25() >= min_score). */
    for (guint i = 0; i < ix->touched->len; i++) {
	guint   d = g_array_index(ix->touched, guint, i);
	const struct doc *doc = &g_array_index(ix->docs, struct doc, d);

	ix->hit[d] = FALSE;
	if ((collection == NULL || strcmp(doc->collection, collection) == 0)
	    && (doc->language == NULL || language == NULL || strcmp(doc->language, language) == 0)
	    && -(-ix->score[d]) >= min_score)
	    g_array_index(ix->touched, guint, kept++) = d;
    }
    g_array_set_size(ix->touched, kept);
    g_array_sort_with_data(ix->touched, by_score, ix);
    for (guint i = 0; i < kept && *n < max; i++) {
	const struct doc *doc = &g_array_index(ix->docs, struct doc,
					       g_array_index(ix->touched, guint, i));
	struct store_faq_match *m = &out[(*n)++];

	m->id = doc->id;
	m->title = g_strdup(doc->title);
	m->url = g_strdup(doc->url);
	m->score = ix->score[g_array_index(ix->touched, guint, i)];
    }
    return FAQ_INDEX_OK;
}
