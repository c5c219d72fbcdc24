/*
 * NAME
 *	classify_sentiment - negative, neutral or positive: the tone of a mail
 * SYNOPSIS
 *	#include "classify_sentiment.h"
 *
 *	struct sentiment *sentiment_new(dir, languages, &why)
 *	struct sentiment *sentiment_free(s)
 *	const char *sentiment_languages(s)
 *	int	sentiment_score(s, language, text, len, &result)
 *	void	classify_sentiment(job)
 * DESCRIPTION
 *	The lexicons are those of the npm package "sentiment" (MIT), pinned
 *	and installed by make deps (tests/lib/lexicons.sh) as
 *	DIR/LANG/labels.json (AFINN-165: word -> valence, -5 to +5) and
 *	DIR/LANG/negators.json (words that turn the next word's valence
 *	round: "not", "don't"); docs/classify.md, "Sentiment", says why.
 *	sentiment_new() loads, with jansson, the lexicon of each language of
 *	[worker] languages (and of English, the language of a mailbox
 *	without detection) that DIR has; a language without one is not
 *	scored. Each entry is split by words.c as a mail is, and kept when it
 *	is one word: "can't stand" can never match a single word.
 *
 *	sentiment_score() scores len bytes of text (cut at
 *	SENTIMENT_TEXT_MAX) in the lexicon of language, the way the npm
 *	package does: the sum of the valences of its words, a word after a
 *	negator counting with the opposite sign, divided by the number of
 *	words; below SENTIMENT_NEGATIVE the label is negative, above
 *	SENTIMENT_POSITIVE positive, else neutral. No lexicon for language:
 *	-1 and out->label NULL.
 *
 *	classify_sentiment() is the classify stage's step: the subject and
 *	the lines the customer wrote (classify_own()) in job->language
 *	give job->sentiment, logged.
 * DIAGNOSTICS
 *	sentiment_new(): NULL and *why (g_free) when DIR has no lexicon of
 *	any language, or a lexicon cannot be read (too large, not a JSON
 *	object of integers): the worker warns and scores nothing, and a mail
 *	is never refused for it.
 */
#include <string.h>
#include <sys/stat.h>
#include <glib.h>
#include <jansson.h>

#include "classify_sentiment.h"
#include "classify_text.h"
#include "job.h"
#include "log.h"
#include "words.h"

/*
 * One table, so that a word of the mail costs one lookup: its value is the
 * word's valence + VALENCE_BIAS (1 to 32; 0: not a sentiment word), with
 * NEGATOR set when it is a negator too.
 */
struct lexicon {
    GHashTable *words;			/* word -> valence + VALENCE_BIAS | NEGATOR */
};

struct sentiment {
    GHashTable *lexicons;		/* language -> struct lexicon * */
    char   *languages;			/* "de en", for the log */
};

#define VALENCE_BIAS 16
#define VALENCE_MASK 0x3f
#define NEGATOR	0x40

static void lexicon_free(gpointer p)
{
    struct lexicon *lx = p;

    g_hash_table_destroy(lx->words);
    g_free(lx);
}

/* What words_each() gives a lexicon entry: kept when it is exactly one word. */
struct entry {
    char   *word;
    guint   words;
};

static void entry_word(const char *word, void *ctx)
{
    struct entry *e = ctx;

    if (e->words++ == 0 && word)
	e->word = g_strdup(word);
}

static char *one_word(const char *key)
{
    struct entry e = {NULL, 0};

    (void) words_each(key, strlen(key), entry_word, &e);
    if (e.words != 1)
	g_clear_pointer(&e.word, g_free);
    return e.word;
}

/* load_json - the JSON object in path, or NULL and *why; a missing file is no error. */
static json_t *load_json(const char *path, gboolean *missing, char **why)
{
    struct stat st;
    json_error_t err;
    json_t *j;

    *missing = FALSE;
    if (stat(path, &st) < 0) {
	*missing = TRUE;
	return NULL;
    }
    if (st.st_size > SENTIMENT_FILE_MAX) {
	*why = g_strdup_printf("%s: larger than %d bytes", path, SENTIMENT_FILE_MAX);
	return NULL;
    }
    if ((j = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) == NULL) {
	*why = g_strdup_printf("%s:%d: %s", path, err.line, err.text);
	return NULL;
    }
    if (!json_is_object(j)) {
	*why = g_strdup_printf("%s: not a JSON object", path);
	json_decref(j);
	return NULL;
    }
    return j;
}

/* lexicon_load - DIR/LANG's lexicon; NULL: none there (*why NULL) or an error (*why). */
static struct lexicon *lexicon_load(const char *dir, const char *lang, char **why)
{
    g_autofree char *labels_path = g_build_filename(dir, lang, "labels.json", NULL);
    g_autofree char *negators_path = g_build_filename(dir, lang, "negators.json", NULL);
    json_t *labels, *negators = NULL, *v;
    struct lexicon *lx;
    const char *key;
    gboolean missing;

    if ((labels = load_json(labels_path, &missing, why)) == NULL)
	return NULL;
    if ((negators = load_json(negators_path, &missing, why)) == NULL && !missing) {
	json_decref(labels);
	return NULL;
    }
    lx = g_new0(struct lexicon, 1);
    lx->words = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    json_object_foreach(labels, key, v) {
	char   *w;

	if (!json_is_integer(v) || json_integer_value(v) < -VALENCE_BIAS + 1
	    || json_integer_value(v) > VALENCE_BIAS) {
	    *why = g_strdup_printf("%s: '%s' has no valence from %d to %d", labels_path, key,
				   -VALENCE_BIAS + 1, VALENCE_BIAS);
	    lexicon_free(lx);
	    lx = NULL;
	    break;
	}
	if ((w = one_word(key)) != NULL)
	    g_hash_table_replace(lx->words, w,
				 GINT_TO_POINTER((int) json_integer_value(v) + VALENCE_BIAS));
    }
    if (lx && negators) {
	json_object_foreach(negators, key, v) {
	    char   *w = one_word(key);
	    gpointer old;

	    if (w == NULL)
		continue;
	    old = g_hash_table_lookup(lx->words, w);
	    g_hash_table_replace(lx->words, w, GINT_TO_POINTER(GPOINTER_TO_INT(old) | NEGATOR));
	}
    }
    json_decref(labels);
    json_decref(negators);
    return lx;
}

struct sentiment *sentiment_new(const char *dir, const char *const *languages, char **why)
{
    struct sentiment *s = g_new0(struct sentiment, 1);
    g_autoptr(GPtrArray) wanted = g_ptr_array_new();
    GString *names = g_string_new(NULL);

    *why = NULL;
    s->lexicons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, lexicon_free);
    g_ptr_array_add(wanted, "en");
    for (int i = 0; languages && languages[i]; i++)
	g_ptr_array_add(wanted, (gpointer) languages[i]);
    for (guint i = 0; i < wanted->len; i++) {
	const char *lang = g_ptr_array_index(wanted, i);
	struct lexicon *lx;

	if (g_hash_table_contains(s->lexicons, lang) || strchr(lang, '/') || *lang == '.')
	    continue;
	if ((lx = lexicon_load(dir, lang, why)) == NULL && *why) {
	    g_string_free(names, TRUE);
	    return sentiment_free(s);
	}
	if (lx) {
	    g_hash_table_insert(s->lexicons, g_strdup(lang), lx);
	    g_string_append_printf(names, "%s%s", names->len ? " " : "", lang);
	}
    }
    s->languages = g_string_free(names, FALSE);
    if (g_hash_table_size(s->lexicons) == 0) {
	*why = g_strdup_printf("no lexicon (LANG/labels.json) in %s: run make deps", dir);
	return sentiment_free(s);
    }
    return s;
}

struct sentiment *sentiment_free(struct sentiment *s)
{
    if (s) {
	g_hash_table_destroy(s->lexicons);
	g_free(s->languages);
	g_free(s);
    }
    return NULL;
}

const char *sentiment_languages(const struct sentiment *s)
{
    return s ? s->languages : "";
}

/* What sentiment_score() keeps while words_each() runs. */
struct scorer {
    const struct lexicon *lx;
    gboolean negate;			/* the word before is a negator */
    int     sum;
    size_t  scored;
};

static void score_word(const char *word, void *ctx)
{
    struct scorer *sc = ctx;
    int     e = word ? GPOINTER_TO_INT(g_hash_table_lookup(sc->lx->words, word)) : 0;
    int     v = e & VALENCE_MASK;

    if (v) {
	sc->sum += sc->negate ? VALENCE_BIAS - v : v - VALENCE_BIAS;
	sc->scored++;
    }
    sc->negate = (e & NEGATOR) != 0;
}

int     sentiment_score(const struct sentiment *s, const char *language, const char *text,
			size_t len, struct sentiment_result *out)
{
    struct scorer sc = {NULL, FALSE, 0, 0};

    memset(out, 0, sizeof(*out));
    if (s == NULL || language == NULL
	|| (sc.lx = g_hash_table_lookup(s->lexicons, language)) == NULL)
	return -1;
    out->words = words_each(text, MIN(len, SENTIMENT_TEXT_MAX), score_word, &sc);
    out->sum = sc.sum;
    out->scored = sc.scored;
    out->score = out->words ? (double) sc.sum / out->words : 0;
    out->label = out->score < SENTIMENT_NEGATIVE ? "negative"
	: out->score > SENTIMENT_POSITIVE ? "positive" : "neutral";
    return 0;
}

void    classify_sentiment(struct job *job)
{
    const char *subject = envelope_str(job->env, "subject");
    struct sentiment_result *r = &job->sentiment;
    g_autofree char *own = NULL;
    g_autofree char *scratch = NULL;
    const char *lines;
    size_t  n, sn;

    if (job->pl->sentiment == NULL)
	return;
    /* The subject is the customer's too: first, then a line break, then the text. */
    sn = MIN(strlen(subject), SENTIMENT_TEXT_MAX - 1);
    lines = classify_own(job, SENTIMENT_TEXT_MAX - sn - 1, &n, &scratch);
    own = g_malloc(sn + 1 + n);
    memcpy(own, subject, sn);
    own[sn++] = '\n';
    memcpy(own + sn, lines, n);
    if (sentiment_score(job->pl->sentiment, job->language, own, sn + n, r) < 0) {
	msg_info("%s: mailbox %s: sentiment not scored: no lexicon for language %s", job->qid,
		 job->mailbox_name, job->language ? job->language : "(none)");
	return;
    }
    msg_info("%s: mailbox %s: sentiment %s %.3f (valence %d in %zu words, %zu in the"
	     " lexicon)", job->qid, job->mailbox_name, r->label, r->score, r->sum, r->words,
	     r->scored);
}
