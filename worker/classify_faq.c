/*
 * NAME
 *	classify_faq - FAQ entries suggested for a mail (FTS5's bm25, in memory or in SQLite)
 * SYNOPSIS
 *	#include "classify_faq.h"
 *
 *	GPtrArray *faq_words(subject, text, len)
 *	char	*faq_query(subject, text, len)
 *	struct faq_memory *faq_memory_new(void)
 *	int	faq_memory_suggest(fm, st, collection, language, subject, text,
 *			len, max, min_score, out, &n, &why)
 *	void	faq_memory_refresh(fm, st)
 *	gboolean faq_memory_match(fm, collection, language, words, max,
 *			min_score, out, &n)
 *	struct faq_memory *faq_memory_free(fm)
 *	int	faq_suggest(st, collection, language, subject, text, len, max,
 *			    min_score, out, &n, &why)
 *	void	classify_faq_prepare(job)
 *	enum stage_result classify_faq(job, &asked)
 * DESCRIPTION
 *	faq_query() turns what a customer wrote into an FTS5 query (newly
 *	allocated; NULL when there is no word to look for): the words of
 *	the subject and of the text (each read up to FAQ_MAX_BYTES), lower
 *	case, distinct, of FAQ_MIN_CHARS characters or more, not numbers,
 *	not longer than FAQ_MAX_WORD bytes; of those the FAQ_MAX_TERMS
 *	longest (the first seen among equally long ones), as the most
 *	informative a query can pick without a word list per language:
 *	"und", "the", "les" are short. Each is one FTS5 string ("...",
 *	a '"' doubled), ORed: words like OR, NEAR or AND and characters like
 *	* ^ : ( are text here, never FTS5 syntax, and a column filter cannot
 *	be written. Linear in the bytes read; bounded memory.
 *
 *	faq_words() gives those words (NULL: none), in the query's order.
 *
 *	faq_suggest() runs that query through the store (faq_match()):
 *	at most max entries of collection (NULL: every collection), of
 *	language or of none, whose score (-bm25(), title weighing twice)
 *	is min_score or more, best first. *n 0 and STORE_OK when the text
 *	has no word.
 *
 *	faq_memory_suggest() gives the same answer from the entries in
 *	memory (faq_index.c: FTS5's tokens and bm25; no entries: no words
 *	looked for), loaded from the store
 *	(faq_load()) at the first call and again whenever the store's FAQ
 *	version (faq_version(), one row read per call) changed; the store's
 *	query answers instead for more than FAQ_INDEX_MAX_ENTRIES entries,
 *	for a word that is not one FTS5 token, after a failed load (logged,
 *	tried again at the next call) and for a store without those ops.
 *
 *	faq_memory_refresh() is that load alone, and faq_memory_match()
 *	that answer from memory alone (no store: TRUE and the suggestions,
 *	none when words is NULL; FALSE when the store must answer). A match
 *	may run in several threads at once (a lock serialises them); a
 *	refresh must not run beside any match: the worker refreshes between
 *	batches, when the preparing threads are idle (classify_refresh(),
 *	stage_classify.c).
 *
 *	classify_faq_prepare() is the part a preparing thread does (through
 *	classify_prepare()) for every mail of a configured mailbox, before
 *	anyone knows whether it makes a new ticket: the mailbox's collection
 *	([mailbox] faq), [worker] faq_max and faq_min_score, the subject and
 *	the sender's own lines (classify_own(), quote.c: not a quoted FAQ
 *	answer of ours), answered from memory into job->faq
 *	(job->faq_found), or left to the writer.
 *
 *	classify_faq() is the writer's step of the classify stage
 *	(stage_classify.c): a follow-up's suggestions are dropped; a new
 *	ticket's not found in memory are asked of the store (faq_match():
 *	no second load in the writer while the threads read the index;
 *	*asked says whether it did, for the part's metric).
 *	The suggestions go to job->faq (stage_store.c records them with the
 *	ticket, stage_reply.c makes them template variables) and to the log.
 * DIAGNOSTICS
 *	faq_suggest(): STORE_OK, or the store's STORE_BUSY / STORE_ERROR and
 *	*why. classify_faq(): STAGE_RETRY when the store is busy; any other
 *	failure is logged and the mail goes on without suggestions (a FAQ
 *	is a courtesy, never a reason to hold a ticket back).
 */
#include <string.h>

#include "classify_faq.h"
#include "classify_text.h"
#include "faq_index.h"
#include "job.h"
#include "log.h"

struct word {
    char   *text;			/* lower case */
    glong   chars;
    guint   seen;			/* order of first appearance */
};

/* The longer word first; of equally long ones, the first seen. */
static gint by_length(gconstpointer a, gconstpointer b)
{
    const struct word *x = *(struct word *const *) a;
    const struct word *y = *(struct word *const *) b;

    if (x->chars != y->chars)
	return x->chars > y->chars ? -1 : 1;
    return x->seen < y->seen ? -1 : x->seen > y->seen;
}

static void word_free(gpointer p)
{
    struct word *w = p;

    g_free(w->text);
    g_free(w);
}

/* add_word - a word of s[0..n) (chars characters, digits of them) if it may be asked for */
static void add_word(GHashTable *seen, GPtrArray *words, const char *s, size_t n, glong chars,
		     glong digits)
{
    struct word *w;
    char   *low;

    if (chars < FAQ_MIN_CHARS || n > FAQ_MAX_WORD || digits == chars)
	return;
    low = g_utf8_strdown(s, n);
    if (g_hash_table_contains(seen, low)) {
	g_free(low);
	return;
    }
    w = g_new(struct word, 1);
    w->text = low;
    w->chars = chars;
    w->seen = words->len;
    g_hash_table_add(seen, low);
    g_ptr_array_add(words, w);
}

/* scan - the words of text[0..len), read up to FAQ_MAX_BYTES and up to invalid UTF-8 */
static void scan(GHashTable *seen, GPtrArray *words, const char *text, size_t len)
{
    const char *p, *end, *start = NULL;
    glong   chars = 0, digits = 0;

    if (text == NULL)
	return;
    if (len > FAQ_MAX_BYTES) {
	len = FAQ_MAX_BYTES;
	while (len > 0 && ((unsigned char) text[len] & 0xC0) == 0x80)
	    len--;
    }
    if (!g_utf8_validate(text, len, &end))
	len = end - text;
    end = text + len;
    for (p = text; p < end; p = g_utf8_next_char(p)) {
	gunichar c = g_utf8_get_char(p);

	if (g_unichar_isalnum(c)) {
	    if (start == NULL)
		start = p, chars = digits = 0;
	    chars++;
	    digits += g_unichar_isdigit(c) != 0;
	} else if (start) {
	    add_word(seen, words, start, p - start, chars, digits);
	    start = NULL;
	}
    }
    if (start)
	add_word(seen, words, start, end - start, chars, digits);
}

GPtrArray *faq_words(const char *subject, const char *text, size_t len)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(word_free);
    GPtrArray *out;

    scan(seen, words, subject, subject ? strlen(subject) : 0);
    scan(seen, words, text, len);
    if (words->len == 0)
	return NULL;
    g_ptr_array_sort(words, by_length);
    out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < words->len && i < FAQ_MAX_TERMS; i++) {
	struct word *w = g_ptr_array_index(words, i);

	g_ptr_array_add(out, w->text);
	w->text = NULL;
    }
    return out;
}

/* query_of - words as one FTS5 query: each a string ("...", a '"' doubled), ORed */
static char *query_of(const GPtrArray *words)
{
    GString *q = g_string_new(NULL);

    for (guint i = 0; i < words->len; i++) {
	if (i)
	    g_string_append(q, " OR ");
	g_string_append_c(q, '"');
	for (const char *c = g_ptr_array_index(words, i); *c; c++) {
	    if (*c == '"')
		g_string_append_c(q, '"');	/* FTS5's escape: never the end of the string */
	    g_string_append_c(q, *c);
	}
	g_string_append_c(q, '"');
    }
    return g_string_free(q, FALSE);
}

char   *faq_query(const char *subject, const char *text, size_t len)
{
    g_autoptr(GPtrArray) words = faq_words(subject, text, len);

    return words ? query_of(words) : NULL;
}

/* ask_store - the store's FTS5 query of words */
static int ask_store(struct store *st, const GPtrArray *words, const char *collection,
		     const char *language, double min_score, int max,
		     struct store_faq_match *out, int *n, char **why)
{
    g_autofree char *query = NULL;

    /* A store without FAQ entries (faq_sync() said so at start) suggests none. */
    if (st->ops->faq_match == NULL)
	return STORE_OK;
    query = query_of(words);
    return st->ops->faq_match(st, query, collection, language, min_score, max, out, n, why);
}

int     faq_suggest(struct store *st, const char *collection, const char *language,
		    const char *subject, const char *text, size_t len, int max,
		    double min_score, struct store_faq_match *out, int *n, char **why)
{
    g_autoptr(GPtrArray) words = faq_words(subject, text, len);

    *n = 0;
    if (words == NULL || max <= 0)
	return STORE_OK;
    return ask_store(st, words, collection, language, min_score, max, out, n, why);
}

/*
 * The entries in memory and the store's FAQ version they are of. The
 * lock serialises matches (the index's scores and tokenizer are scratch
 * of each match); ix itself changes only in refresh(), which the worker
 * calls while no preparing thread runs (classify_refresh()).
 */
struct faq_memory {
    struct faq_index *ix;		/* NULL: the store answers */
    gint64  version;			/* of ix, or of a set too large; -1: none read */
    GMutex  lock;			/* around faq_index_match() */
};

struct faq_memory *faq_memory_new(void)
{
    struct faq_memory *fm = g_new0(struct faq_memory, 1);

    fm->version = -1;
    g_mutex_init(&fm->lock);
    return fm;
}

struct faq_memory *faq_memory_free(struct faq_memory *fm)
{
    if (fm) {
	faq_index_free(fm->ix);
	g_mutex_clear(&fm->lock);
	g_free(fm);
    }
    return NULL;
}

/* Loading: the index being built and the first error. */
struct faq_load {
    struct faq_index *ix;
    char   *why;
};

static char *value_dup(const struct store_value *v)
{
    return v->type == STORE_TEXT ? g_strndup(v->text, v->len) : NULL;
}

/* add_entry - a row of faq_load() into the index being built */
static void add_entry(void *ctx, const struct store_row *row)
{
    struct faq_load *ld = ctx;
    const struct store_value *v = row->values;
    g_autofree char *collection = NULL, *title = NULL, *url = NULL, *language = NULL;
    g_autofree char *body = NULL;

    if (ld->why || row->n < 6 || v[0].type != STORE_INT)
	return;
    collection = value_dup(&v[1]);
    title = value_dup(&v[2]);
    url = value_dup(&v[3]);
    language = value_dup(&v[4]);
    body = value_dup(&v[5]);
    if (collection == NULL || title == NULL || body == NULL) {
	ld->why = g_strdup_printf("FAQ entry %" G_GINT64_FORMAT ": no collection, title or body",
				  v[0].i);
	return;
    }
    faq_index_add(ld->ix, v[0].i, collection, language, title, url, body, &ld->why);
}

/*
 * refresh - the store's entries into memory when their version changed.
 * One row read per new ticket; on any error the store answers.
 */
static void refresh(struct faq_memory *fm, struct store *st)
{
    gint64  version, entries;
    struct faq_load ld = {NULL, NULL};
    char   *why = NULL;

    if (st->ops->faq_version == NULL || st->ops->faq_load == NULL)
	return;
    if (st->ops->faq_version(st, &version, &entries, &why) != STORE_OK) {
	msg_warn("FAQ entries: %s (the store answers)", why);
	g_free(why);
	fm->ix = faq_index_free(fm->ix);
	fm->version = -1;
	return;
    }
    if (version == fm->version)
	return;
    fm->ix = faq_index_free(fm->ix);
    fm->version = version;
    if (entries > FAQ_INDEX_MAX_ENTRIES) {
	msg_info("FAQ version %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " entries, more than %d:"
		 " the store's FTS5 index answers", version, entries, FAQ_INDEX_MAX_ENTRIES);
	return;
    }
    if ((ld.ix = faq_index_new(&ld.why)) == NULL
	|| st->ops->faq_load(st, add_entry, &ld, &why) != STORE_OK || ld.why) {
	msg_warn("FAQ entries: %s (the store answers)", ld.why ? ld.why : why);
	g_free(ld.why);
	g_free(why);
	faq_index_free(ld.ix);
	fm->version = -1;			/* try again at the next mail */
	return;
    }
    msg_info("FAQ version %" G_GINT64_FORMAT ": %u entries in memory", version,
	     faq_index_size(ld.ix));
    fm->ix = ld.ix;
}

void    faq_memory_refresh(struct faq_memory *fm, struct store *st)
{
    if (fm)
	refresh(fm, st);
}

gboolean faq_memory_match(struct faq_memory *fm, const char *collection, const char *language,
			  const GPtrArray *words, int max, double min_score,
			  struct store_faq_match *out, int *n)
{
    enum faq_index_result r;

    *n = 0;
    if (fm == NULL || fm->ix == NULL)
	return FALSE;
    if (words == NULL || max <= 0 || faq_index_size(fm->ix) == 0)
	return TRUE;
    g_mutex_lock(&fm->lock);
    r = faq_index_match(fm->ix, words, collection, language, min_score, max, out, n);
    g_mutex_unlock(&fm->lock);
    return r == FAQ_INDEX_OK;
}

int     faq_memory_suggest(struct faq_memory *fm, struct store *st, const char *collection,
			   const char *language, const char *subject, const char *text,
			   size_t len, int max, double min_score, struct store_faq_match *out,
			   int *n, char **why)
{
    g_autoptr(GPtrArray) words = NULL;

    *n = 0;
    if (max <= 0)
	return STORE_OK;
    faq_memory_refresh(fm, st);
    /*
     * No entries at all: nothing to read the text for (finding the words
     * of 16 KB of own text: make bench section 2, no FAQ entries, 0.98x
     * the worker's CPU per ticket).
     */
    if (fm && fm->ix && faq_index_size(fm->ix) == 0)
	return STORE_OK;
    if ((words = faq_words(subject, text, len)) == NULL)
	return STORE_OK;
    if (faq_memory_match(fm, collection, language, words, max, min_score, out, n))
	return STORE_OK;
    return ask_store(st, words, collection, language, min_score, max, out, n, why);
}

/* The job's FAQ query: its mailbox's collection, the subject and the own lines' words. */
static GPtrArray *job_words(struct job *job)
{
    g_autofree char *scratch = NULL;
    size_t  n;
    const char *own = classify_own(job, FAQ_MAX_BYTES, &n, &scratch);

    return faq_words(envelope_str(job->env, "subject"), own, n);
}

static const char *job_collection(const struct job *job)
{
    return *job->mailbox->faq ? job->mailbox->faq : NULL;
}

void    classify_faq_prepare(struct job *job)
{
    const struct intake_config *cfg = job->pl->cfg;
    struct faq_memory *fm = job->pl->faq;
    g_autoptr(GPtrArray) words = NULL;

    job->faq_found = FALSE;
    if (cfg->faq_max <= 0 || job->mailbox == NULL || fm == NULL || fm->ix == NULL)
	return;
    /* No entries at all: nothing to read the text for (see faq_memory_suggest()). */
    if (faq_index_size(fm->ix) > 0)
	words = job_words(job);
    job->faq_found = faq_memory_match(fm, job_collection(job), job->language, words,
				      MIN(cfg->faq_max, CONFIG_FAQ_MAX), cfg->faq_min_score,
				      job->faq, &job->faq_n);
}

enum stage_result classify_faq(struct job *job, gboolean *asked)
{
    const struct intake_config *cfg = job->pl->cfg;
    const struct mailbox *m = job->mailbox;
    char   *why = NULL;
    int     rc = STORE_OK;

    *asked = FALSE;

    if (cfg->faq_max <= 0 || m == NULL)
	return STAGE_NEXT;
    /* A follow-up gets none: what was found ahead of the thread stage is dropped. */
    if (job->ticket.id != 0) {
	for (int i = 0; i < job->faq_n; i++)
	    store_faq_match_clear(&job->faq[i]);
	job->faq_n = 0;
	return STAGE_NEXT;
    }
    if (!job->faq_found) {
	g_autoptr(GPtrArray) words = job_words(job);

	job->faq_n = 0;
	*asked = words != NULL;
	if (words)
	    rc = ask_store(job->pl->store, words, job_collection(job), job->language,
			   cfg->faq_min_score, MIN(cfg->faq_max, CONFIG_FAQ_MAX), job->faq,
			   &job->faq_n, &why);
    }
    if (rc == STORE_BUSY)
	return stage_store_status(rc, job, why);
    if (rc != STORE_OK) {
	msg_warn("%s: mailbox %s: no FAQ suggestions: %s", job->qid, job->mailbox_name, why);
	g_free(why);
	return STAGE_NEXT;
    }
    if (job->faq_n > 0) {
	GString *s = g_string_new(NULL);

	for (int i = 0; i < job->faq_n; i++)
	    g_string_append_printf(s, "%s#%" G_GINT64_FORMAT " \"%s\" (score %.2f)",
				   i ? ", " : "", job->faq[i].id, job->faq[i].title,
				   job->faq[i].score);
	msg_info("%s: mailbox %s: FAQ suggestions: %s", job->qid, job->mailbox_name, s->str);
	g_string_free(s, TRUE);
    }
    return STAGE_NEXT;
}
