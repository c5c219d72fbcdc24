/*
 * NAME
 *	nbayes - multinomial naive Bayes over stemmed words
 * SYNOPSIS
 *	#include "nbayes.h"
 *
 *	struct nb_model *nb_model_new(void)
 *	int	nb_model_add(m, category, term, count)
 *	void	nb_model_finish(m)
 *	const char *nb_predict(m, stemmers, language, subject, text, len, &confidence)
 *	void	nb_model_foreach(m, fn, ctx)
 *	struct nb_model *nb_model_free(m)
 *
 *	struct nb_trainer *nb_trainer_new(void)
 *	gboolean nb_trainer_add(t, stemmers, language, category, subject, text, len)
 *	struct nb_model *nb_trainer_model(t, max_vocabulary)
 *	struct nb_eval *nb_cross_validate(t, folds, max_vocabulary)
 *	struct nb_trainer *nb_trainer_free(t)
 * DESCRIPTION
 *	A model is, per category, its number of training documents and,
 *	per (category, term), the number of its documents that contain the
 *	term: each word counts once per document ("boolean" multinomial
 *	naive Bayes; a word a customer repeats twenty times is one piece of
 *	evidence, and on short texts it classifies better than raw counts).
 *	Terms are stem.c's stems of the subject and the text.
 *
 *	nb_model_add() adds a row (term NULL: the document count) as the
 *	store holds them; rows past NB_MAX_CATEGORIES categories or
 *	NB_MAX_VOCABULARY terms are refused (-1). nb_model_finish() turns
 *	the counts into log probabilities with Laplace smoothing:
 *	log P(term | c) = log((n(c, term) + 1) / (sum over terms n(c, .) + V)),
 *	V the vocabulary's size, and log P(c) = log(docs(c) / docs).
 *	nb_model_foreach() gives the rows back, one per (category, term),
 *	categories first, for the store.
 *
 *	nb_predict() sums, per category, log P(c) and log P(term | c) over
 *	the distinct terms of subject and text that the model knows (unknown
 *	words are no evidence either way) and returns the best category
 *	(borrowed from the model) with *confidence its posterior
 *	probability, exp(score(best)) / sum over c of exp(score(c)), in
 *	log-space so that nothing underflows. NULL (no suggestion) when the
 *	model has fewer than two categories or no word of the text is known.
 *	Naive Bayes assumes words independent, which they are not, so the
 *	posterior is over-confident on long texts: a threshold on it is a
 *	ranking, to be set on the cross-validation's figures.
 *	Time: linear in the text (stem.c reads at most STEM_MAX_BYTES of each)
 *	times the number of categories.
 *
 *	A trainer keeps its documents as sets of term ids (at most
 *	NB_TRAIN_MAX_DOCS documents and NB_TRAIN_MAX_TERMS distinct terms;
 *	nb_trainer_add() returns FALSE for a document it did not keep).
 *	nb_trainer_model() makes a model of all of them with the
 *	max_vocabulary terms of the highest document frequency (ties: the
 *	term seen first), so that memory is bounded whatever the mail says.
 *	nb_cross_validate() splits the documents into folds (document i in
 *	fold i mod folds), trains on all folds but one, predicts the one,
 *	and returns the confusion table over all folds.
 * DIAGNOSTICS
 *	None; memory exhaustion aborts (GLib).
 */
#include <math.h>
#include <string.h>

#include "nbayes.h"
#include "stem.h"

struct entry {
    guint   cat, term;
    gint64  count;
};

struct nb_model {
    GPtrArray *cats;			/* names, owned */
    GHashTable *cat_index;		/* name -> index + 1 */
    GArray *docs;			/* gint64 per category */
    GPtrArray *terms;			/* owned */
    GHashTable *term_index;		/* term -> index + 1 */
    GArray *entries;			/* struct entry; merged and sorted by finish */
    double *logprior;			/* finish: per category */
    double *logp;			/* finish: [term * categories + cat] */
};

struct nb_model *nb_model_new(void)
{
    struct nb_model *m = g_new0(struct nb_model, 1);

    m->cats = g_ptr_array_new_with_free_func(g_free);
    m->cat_index = g_hash_table_new(g_str_hash, g_str_equal);
    m->docs = g_array_new(FALSE, TRUE, sizeof(gint64));
    m->terms = g_ptr_array_new_with_free_func(g_free);
    m->term_index = g_hash_table_new(g_str_hash, g_str_equal);
    m->entries = g_array_new(FALSE, FALSE, sizeof(struct entry));
    return m;
}

struct nb_model *nb_model_free(struct nb_model *m)
{
    if (m == NULL)
	return NULL;
    g_hash_table_destroy(m->cat_index);
    g_hash_table_destroy(m->term_index);
    g_ptr_array_free(m->cats, TRUE);
    g_ptr_array_free(m->terms, TRUE);
    g_array_free(m->docs, TRUE);
    g_array_free(m->entries, TRUE);
    g_free(m->logprior);
    g_free(m->logp);
    g_free(m);
    return NULL;
}

/* intern - index of s in names/index, added when there is room; -1: no room */
static int intern(GPtrArray *names, GHashTable *index, const char *s, guint max)
{
    guint   i = GPOINTER_TO_UINT(g_hash_table_lookup(index, s));
    char   *copy;

    if (i)
	return (int) i - 1;
    if (names->len >= max)
	return -1;
    copy = g_strdup(s);
    g_ptr_array_add(names, copy);
    g_hash_table_insert(index, copy, GUINT_TO_POINTER(names->len));
    return (int) names->len - 1;
}

int     nb_model_add(struct nb_model *m, const char *category, const char *term, gint64 count)
{
    int     c = intern(m->cats, m->cat_index, category, NB_MAX_CATEGORIES);
    int     t;

    if (c < 0 || count < 0)
	return -1;
    if ((guint) c >= m->docs->len)
	g_array_set_size(m->docs, c + 1);
    if (term == NULL) {
	g_array_index(m->docs, gint64, c) += count;
	return 0;
    }
    if ((t = intern(m->terms, m->term_index, term, NB_MAX_VOCABULARY)) < 0)
	return -1;
    g_array_append_val(m->entries, ((struct entry) {c, t, count}));
    return 0;
}

static gint by_cat_term(gconstpointer a, gconstpointer b)
{
    const struct entry *x = a, *y = b;

    if (x->cat != y->cat)
	return x->cat < y->cat ? -1 : 1;
    return x->term < y->term ? -1 : x->term > y->term;
}

void    nb_model_finish(struct nb_model *m)
{
    guint   nc = m->cats->len, nv = m->terms->len, out = 0;
    g_autofree double *total = g_new0(double, nc);
    double  docs = 0;

    /* one entry per (category, term): rows added twice are summed */
    g_array_sort(m->entries, by_cat_term);
    for (guint i = 0; i < m->entries->len; i++) {
	struct entry *e = &g_array_index(m->entries, struct entry, i);
	struct entry *o = out ? &g_array_index(m->entries, struct entry, out - 1) : NULL;

	if (o && o->cat == e->cat && o->term == e->term)
	    o->count += e->count;
	else
	    g_array_index(m->entries, struct entry, out++) = *e;
    }
    g_array_set_size(m->entries, out);
    if (m->docs->len < nc)
	g_array_set_size(m->docs, nc);
    g_free(m->logprior);
    g_free(m->logp);
    m->logprior = g_new0(double, nc);
    m->logp = g_new(double, (gsize) nv * nc + 1);
    for (guint i = 0; i < out; i++) {
	struct entry *e = &g_array_index(m->entries, struct entry, i);

	total[e->cat] += e->count;
    }
    for (guint c = 0; c < nc; c++)
	docs += g_array_index(m->docs, gint64, c);
    for (guint c = 0; c < nc; c++) {
	gint64  d = g_array_index(m->docs, gint64, c);

	/* a category without documents is never the best: no prior */
	m->logprior[c] = d > 0 ? log(d / docs) : -INFINITY;
	for (guint t = 0; t < nv; t++)
	    m->logp[(gsize) t * nc + c] = log(1.0 / (total[c] + nv));
    }
    for (guint i = 0; i < out; i++) {
	struct entry *e = &g_array_index(m->entries, struct entry, i);

	m->logp[(gsize) e->term * nc + e->cat] = log((e->count + 1.0) / (total[e->cat] + nv));
    }
}

void    nb_model_foreach(const struct nb_model *m, nb_row_fn fn, void *ctx)
{
    for (guint c = 0; c < m->cats->len; c++)
	fn(ctx, m->cats->pdata[c], NULL,
	   c < m->docs->len ? g_array_index(m->docs, gint64, c) : 0);
    for (guint i = 0; i < m->entries->len; i++) {
	struct entry *e = &g_array_index(m->entries, struct entry, i);

	fn(ctx, m->cats->pdata[e->cat], m->terms->pdata[e->term], e->count);
    }
}

guint   nb_model_categories(const struct nb_model *m)
{
    return m->cats->len;
}

guint   nb_model_vocabulary(const struct nb_model *m)
{
    return m->terms->len;
}

const char *nb_model_category(const struct nb_model *m, guint i, gint64 *docs)
{
    if (i >= m->cats->len)
	return NULL;
    if (docs)
	*docs = i < m->docs->len ? g_array_index(m->docs, gint64, i) : 0;
    return m->cats->pdata[i];
}

/* ---------------------------------------------------------------- */
/*	Prediction							    */
/* ---------------------------------------------------------------- */

struct scorer {
    const struct nb_model *m;
    double *score;			/* per category */
    guint8 *seen;			/* bit per term: each counts once */
    guint   known;			/* distinct known terms */
};

static void scorer_init(struct scorer *s, const struct nb_model *m)
{
    guint   nc = m->cats->len;

    s->m = m;
    s->score = g_new(double, nc ? nc : 1);
    for (guint c = 0; c < nc; c++)
	s->score[c] = m->logprior[c];
    s->seen = g_malloc0(m->terms->len / 8 + 1);
    s->known = 0;
}

static void scorer_add(void *ctx, const char *term, size_t len)
{
    struct scorer *s = ctx;
    const struct nb_model *m = s->m;
    guint   t = GPOINTER_TO_UINT(g_hash_table_lookup(m->term_index, term));
    const double *lp;

    if (t-- == 0 || (s->seen[t / 8] & (1u << (t % 8))))
	return;
    s->seen[t / 8] |= 1u << (t % 8);
    s->known++;
    lp = m->logp + (gsize) t * m->cats->len;
    for (guint c = 0; c < m->cats->len; c++)
	s->score[c] += lp[c];
}

/* scorer_end - the best category's index (-1: no known word) and its posterior; frees */
static int scorer_end(struct scorer *s, double *confidence)
{
    guint   nc = s->m->cats->len;
    int     best = -1;
    double  sum = 0;

    if (s->known)
	for (guint c = 0; c < nc; c++)
	    if (isfinite(s->score[c]) && (best < 0 || s->score[c] > s->score[best]))
		best = (int) c;
    if (best >= 0)
	for (guint c = 0; c < nc; c++)
	    if (isfinite(s->score[c]))
		sum += exp(s->score[c] - s->score[best]);
    *confidence = best >= 0 ? 1.0 / sum : 0;
    g_free(s->score);
    g_free(s->seen);
    return best;
}

const char *nb_predict(const struct nb_model *m, struct stemmers *st, const char *language,
		       const char *subject, const char *text, gsize len, double *confidence)
{
    struct scorer s;
    int     best;

    *confidence = 0;
    if (m == NULL || m->logp == NULL || m->cats->len < 2)
	return NULL;
    scorer_init(&s, m);
    if (subject)
	stem_words(st, language, subject, strlen(subject), scorer_add, &s);
    if (text)
	stem_words(st, language, text, len, scorer_add, &s);
    best = scorer_end(&s, confidence);
    return best >= 0 ? m->cats->pdata[best] : NULL;
}

/* ---------------------------------------------------------------- */
/*	Training and cross-validation					    */
/* ---------------------------------------------------------------- */

struct doc {
    guint   cat;
    guint   n;
    guint  *terms;			/* distinct, ascending */
};

struct nb_trainer {
    GPtrArray *cats;
    GHashTable *cat_index;
    GPtrArray *terms;
    GHashTable *term_index;
    GArray *docs;			/* struct doc */
    GArray *pending;			/* term ids of the document being added */
};

struct nb_trainer *nb_trainer_new(void)
{
    struct nb_trainer *t = g_new0(struct nb_trainer, 1);

    t->cats = g_ptr_array_new_with_free_func(g_free);
    t->cat_index = g_hash_table_new(g_str_hash, g_str_equal);
    t->terms = g_ptr_array_new_with_free_func(g_free);
    t->term_index = g_hash_table_new(g_str_hash, g_str_equal);
    t->docs = g_array_new(FALSE, FALSE, sizeof(struct doc));
    t->pending = g_array_new(FALSE, FALSE, sizeof(guint));
    return t;
}

struct nb_trainer *nb_trainer_free(struct nb_trainer *t)
{
    if (t == NULL)
	return NULL;
    for (guint i = 0; i < t->docs->len; i++)
	g_free(g_array_index(t->docs, struct doc, i).terms);
    g_array_free(t->docs, TRUE);
    g_array_free(t->pending, TRUE);
    g_hash_table_destroy(t->cat_index);
    g_hash_table_destroy(t->term_index);
    g_ptr_array_free(t->cats, TRUE);
    g_ptr_array_free(t->terms, TRUE);
    g_free(t);
    return NULL;
}

static void trainer_term(void *ctx, const char *term, size_t len)
{
    struct nb_trainer *t = ctx;
    int     id = intern(t->terms, t->term_index, term, NB_TRAIN_MAX_TERMS);

    if (id >= 0)
	g_array_append_val(t->pending, id);
}

static gint by_uint(gconstpointer a, gconstpointer b)
{
    guint   x = *(const guint *) a, y = *(const guint *) b;

    return x < y ? -1 : x > y;
}

gboolean nb_trainer_add(struct nb_trainer *t, struct stemmers *st, const char *language,
			const char *category, const char *subject, const char *text, gsize len)
{
    struct doc d = {0};
    int     c;
    guint   n = 0;

    if (t->docs->len >= NB_TRAIN_MAX_DOCS
	|| (c = intern(t->cats, t->cat_index, category, NB_MAX_CATEGORIES)) < 0)
	return FALSE;
    g_array_set_size(t->pending, 0);
    if (subject)
	stem_words(st, language, subject, strlen(subject), trainer_term, t);
    if (text)
	stem_words(st, language, text, len, trainer_term, t);
    g_array_sort(t->pending, by_uint);
    for (guint i = 0; i < t->pending->len; i++)
	if (n == 0 || g_array_index(t->pending, guint, i)
	    != g_array_index(t->pending, guint, n - 1))
	    g_array_index(t->pending, guint, n++) = g_array_index(t->pending, guint, i);
    d.cat = (guint) c;
    d.n = n;
    d.terms = g_memdup2(t->pending->data, (gsize) n * sizeof(guint));
    g_array_append_val(t->docs, d);
    return TRUE;
}

guint   nb_trainer_docs(const struct nb_trainer *t)
{
    return t->docs->len;
}

/* in_training - document i trains the model of fold (folds 0: every document does) */
static gboolean in_training(guint i, guint fold, guint folds)
{
    return folds == 0 || i % folds != fold;
}

struct by_df {
    const guint *df;
};

static gint by_df_desc(gconstpointer a, gconstpointer b, gpointer ctx)
{
    const guint *df = ((struct by_df *) ctx)->df;
    guint   x = *(const guint *) a, y = *(const guint *) b;

    if (df[x] != df[y])
	return df[x] > df[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* fold_model - the model of the documents in training for fold */
static struct nb_model *fold_model(const struct nb_trainer *t, guint fold, guint folds,
				   guint max_vocabulary)
{
    guint   nt = t->terms->len, nc = t->cats->len, nkept = 0;
    g_autofree guint *df = g_new0(guint, nt + 1);
    g_autofree guint *order = g_new(guint, nt + 1);
    g_autofree gint64 *docs = g_new0(gint64, nc + 1);
    g_autofree guint *counts = NULL;
    g_autofree int *slot = g_new(int, nt + 1);
    struct nb_model *m = nb_model_new();
    struct by_df ctx = {df};

    for (guint i = 0; i < t->docs->len; i++) {
	const struct doc *d = &g_array_index(t->docs, struct doc, i);

	if (!in_training(i, fold, folds))
	    continue;
	docs[d->cat]++;
	for (guint k = 0; k < d->n; k++)
	    df[d->terms[k]]++;
    }
    for (guint i = 0; i < nt; i++)
	if (df[i])
	    order[nkept++] = i;
    g_qsort_with_data(order, nkept, sizeof(guint), by_df_desc, &ctx);
    nkept = MIN(nkept, MIN(max_vocabulary, NB_MAX_VOCABULARY));
    for (guint i = 0; i < nt; i++)
	slot[i] = -1;
    for (guint k = 0; k < nkept; k++)
	slot[order[k]] = (int) k;
    counts = g_new0(guint, (gsize) nkept * nc + 1);
    for (guint i = 0; i < t->docs->len; i++) {
	const struct doc *d = &g_array_index(t->docs, struct doc, i);

	if (!in_training(i, fold, folds))
	    continue;
	for (guint k = 0; k < d->n; k++)
	    if (slot[d->terms[k]] >= 0)
		counts[(gsize) slot[d->terms[k]] * nc + d->cat]++;
    }
    for (guint c = 0; c < nc; c++)
	if (docs[c])
	    nb_model_add(m, t->cats->pdata[c], NULL, docs[c]);
    for (guint k = 0; k < nkept; k++)
	for (guint c = 0; c < nc; c++)
	    if (counts[(gsize) k * nc + c])
		nb_model_add(m, t->cats->pdata[c], t->terms->pdata[order[k]],
			     counts[(gsize) k * nc + c]);
    nb_model_finish(m);
    return m;
}

struct nb_model *nb_trainer_model(const struct nb_trainer *t, guint max_vocabulary)
{
    return fold_model(t, 0, 0, max_vocabulary);
}

struct nb_eval *nb_cross_validate(const struct nb_trainer *t, guint folds, guint max_vocabulary)
{
    guint   nc = t->cats->len;
    struct nb_eval *e;
    guint  *size;

    if (t->docs->len < 2 || nc < 2 || folds < 2)
	return NULL;
    folds = MIN(folds, t->docs->len);
    e = g_new0(struct nb_eval, 1);
    e->categories = nc;
    e->names = g_new0(char *, nc + 1);
    for (guint c = 0; c < nc; c++)
	e->names[c] = g_strdup(t->cats->pdata[c]);
    e->confusion = g_new0(guint, (gsize) nc * nc);
    e->sizes = size = g_new0(guint, nc);
    for (guint f = 0; f < folds; f++) {
	struct nb_model *m = fold_model(t, f, folds, max_vocabulary);

	for (guint i = f; i < t->docs->len; i += folds) {
	    const struct doc *d = &g_array_index(t->docs, struct doc, i);
	    struct scorer s;
	    double  conf;
	    int     best;

	    scorer_init(&s, m);
	    for (guint k = 0; k < d->n; k++)
		scorer_add(&s, t->terms->pdata[d->terms[k]], 0);
	    best = m->cats->len >= 2 ? scorer_end(&s, &conf) : (scorer_end(&s, &conf), -1);
	    e->docs++;
	    size[d->cat]++;
	    if (best < 0) {
		e->unpredicted++;
		continue;
	    }
	    best = GPOINTER_TO_INT(g_hash_table_lookup(t->cat_index, m->cats->pdata[best])) - 1;
	    e->confusion[(gsize) d->cat * nc + best]++;
	    e->correct += (guint) best == d->cat;
	}
	nb_model_free(m);
    }
    for (guint c = 0; c < nc; c++)
	e->majority = MAX(e->majority, size[c]);
    return e;
}

struct nb_eval *nb_eval_free(struct nb_eval *e)
{
    if (e == NULL)
	return NULL;
    g_strfreev(e->names);
    g_free(e->confusion);
    g_free(e->sizes);
    g_free(e);
    return NULL;
}
