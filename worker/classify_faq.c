/*
 * NAME
 *	classify_faq - FAQ entries suggested for a mail (SQLite FTS5, bm25)
 * SYNOPSIS
 *	#include "classify_faq.h"
 *
 *	char	*faq_query(subject, text, len)
 *	int	faq_suggest(st, collection, language, subject, text, len, max,
 *			    min_score, out, &n, &why)
 *	enum stage_result classify_faq(job)
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
 *	faq_suggest() runs that query through the store (faq_match()):
 *	at most max entries of collection (NULL: every collection), of
 *	language or of none, whose score (-bm25(), title weighing twice)
 *	is min_score or more, best first. *n 0 and STORE_OK when the text
 *	has no word.
 *
 *	classify_faq() is the classify stage's step (stage_classify.c) for
 *	a mail that makes a new ticket: the mailbox's collection ([mailbox]
 *	faq), [worker] faq_max and faq_min_score, the subject and the
 *	sender's own lines (classify_own(), quote.c: not a quoted FAQ answer of ours); the
 *	suggestions go to job->faq (stage_store.c records them with the
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

char   *faq_query(const char *subject, const char *text, size_t len)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(word_free);
    GString *q;

    scan(seen, words, subject, subject ? strlen(subject) : 0);
    scan(seen, words, text, len);
    if (words->len == 0)
	return NULL;
    g_ptr_array_sort(words, by_length);
    q = g_string_new(NULL);
    for (guint i = 0; i < words->len && i < FAQ_MAX_TERMS; i++) {
	const struct word *w = g_ptr_array_index(words, i);

	if (i)
	    g_string_append(q, " OR ");
	g_string_append_c(q, '"');
	for (const char *c = w->text; *c; c++) {
	    if (*c == '"')
		g_string_append_c(q, '"');	/* FTS5's escape: never the end of the string */
	    g_string_append_c(q, *c);
	}
	g_string_append_c(q, '"');
    }
    return g_string_free(q, FALSE);
}

int     faq_suggest(struct store *st, const char *collection, const char *language,
		    const char *subject, const char *text, size_t len, int max,
		    double min_score, struct store_faq_match *out, int *n, char **why)
{
    g_autofree char *query = faq_query(subject, text, len);

    *n = 0;
    if (query == NULL || max <= 0)
	return STORE_OK;
    /* A store without FAQ entries (faq_sync() said so at start) suggests none. */
    if (st->ops->faq_match == NULL)
	return STORE_OK;
    return st->ops->faq_match(st, query, collection, language, min_score, max, out, n, why);
}

enum stage_result classify_faq(struct job *job)
{
    const struct intake_config *cfg = job->pl->cfg;
    const struct mailbox *m = job->mailbox;
    char   *why = NULL;
    int     rc;

    if (cfg->faq_max <= 0 || m == NULL || job->ticket.id != 0)
	return STAGE_NEXT;
    {
	g_autofree char *scratch = NULL;
	size_t  n;
	const char *own = classify_own(job, FAQ_MAX_BYTES, &n, &scratch);

	rc = faq_suggest(job->pl->store, *m->faq ? m->faq : NULL, job->language,
			 envelope_str(job->env, "subject"), own, n,
			 MIN(cfg->faq_max, CONFIG_FAQ_MAX), cfg->faq_min_score, job->faq,
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
