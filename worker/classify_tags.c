/*
 * NAME
 *	classify_tags - tags of a ticket from keywords in what the customer wrote
 * SYNOPSIS
 *	#include "classify_tags.h"
 *
 *	struct tags *tags_load(path, cfg, errors)
 *	struct tags *tags_free(tags)
 *	guint	tags_count(tags)
 *	const char *tags_path(tags)
 *	GArray	*tags_match(tags, subject, subject_len, text, len)
 *	char	*tags_hits_text(hits)
 *	void	classify_tags(job)
 * DESCRIPTION
 *	tags_load() reads the file named by [worker] tags (docs/classify.md,
 *	"Tags"): GKeyFile "[tag NAME]" sections, each with an optional
 *	keywords = alias, alias, "two words" list. The tag's own name is one
 *	of its keywords. A keyword is one word or two (words.c: letters and
 *	digits, case-folded); each keyword belongs to one tag. Every keyword
 *	goes into one hash table at load, so that a mail costs one lookup per
 *	word and one per pair of words, whatever the number of tags. An empty
 *	path gives no tags.
 *
 *	tags_match() counts the keywords of each tag that occur as whole
 *	words in the subject and in text (each cut at TAGS_TEXT_MAX bytes; a
 *	pair of words never spans from the subject into the text) and
 *	returns the tags found (g_array_unref), most occurrences first, ties
 *	in file order, at most TAGS_MAX. tags_hits_text() says them as
 *	"billing=3 refund=1" (g_free).
 *
 *	classify_tags() is the classify stage's step: the subject and the
 *	lines the customer wrote (classify_own(), quote_own_lines(): not the quoted history,
 *	our acknowledgement or the signature) give job->tag_hits, logged.
 * DIAGNOSTICS
 *	tags_load(): one text per problem added to errors, as
 *	"FILE:LINE: [tag NAME] key 'keywords': what is wrong" (cfgfile.c),
 *	and NULL when there was any: a worker never runs with part of its
 *	tags.
 */
#include <string.h>

#include "cfgfile.h"
#include "classify_tags.h"
#include "classify_text.h"
#include "job.h"
#include "log.h"
#include "words.h"

struct tags {
    char   *path;			/* "" none configured */
    GPtrArray *names;			/* char *, in file order */
    GHashTable *keywords;		/* "word" or "word word" -> tag index + 1 */
    gboolean pairs;			/* some keyword has two words */
};

/* What words_each() gives a keyword: at most two words. */
struct keyword {
    GString *text;
    guint   words;
    gboolean too_long;
};

static void keyword_word(const char *word, void *ctx)
{
    struct keyword *k = ctx;

    if (word == NULL) {
	k->too_long = TRUE;
	return;
    }
    if (k->words++)
	g_string_append_c(k->text, ' ');
    g_string_append(k->text, word);
}

/* add_keyword - FALSE after an error: words it has not, or another tag's. */
static gboolean add_keyword(struct tags *ts, struct cfgfile *cf, const char *group,
			    guint tag, const char *keyword)
{
    struct keyword k = {g_string_new(NULL), 0, FALSE};
    const char *key = tag == ts->names->len ? NULL : "keywords";
    gpointer other;
    gboolean ok = FALSE;

    (void) words_each(keyword, strlen(keyword), keyword_word, &k);
    if (k.words == 0 || k.too_long || k.words > 2)
	cfgfile_error(cf, group, key, "'%s' is %s: a keyword is one or two words of letters"
		      " or digits, at most %d bytes each", keyword, k.too_long ? "too long"
		      : k.words ? "more than two words" : "no word", WORDS_MAX_WORD);
    else if ((other = g_hash_table_lookup(ts->keywords, k.text->str)) != NULL
	     && GPOINTER_TO_UINT(other) != tag + 1)
	cfgfile_error(cf, group, key, "'%s' is a keyword of [tag %s] already: give each"
		      " keyword to one tag", keyword,
		      (char *) g_ptr_array_index(ts->names, GPOINTER_TO_UINT(other) - 1));
    else {
	ts->pairs = ts->pairs || k.words == 2;
	g_hash_table_insert(ts->keywords, g_string_free(g_steal_pointer(&k.text), FALSE),
			    GUINT_TO_POINTER(tag + 1));
	ok = TRUE;
    }
    if (k.text)
	g_string_free(k.text, TRUE);
    return ok;
}

static void parse_tag(struct tags *ts, struct cfgfile *cf, GKeyFile *kf, const char *group)
{
    g_autofree char *name = g_strstrip(g_strdup(group + 4));
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
    g_auto(GStrv) list = NULL;
    guint   tag = ts->names->len;

    for (int i = 0; keys && keys[i]; i++)
	if (strcmp(keys[i], "keywords") != 0)
	    cfgfile_error(cf, group, keys[i], "unknown key: a [tag NAME] section has"
			  " 'keywords' only");
    if (*name == 0 || strchr(name, ',')) {
	cfgfile_error(cf, group, NULL, "a tag needs a name without a comma: [tag NAME]");
	return;
    }
    /* The name's index is ts->names->len until it is added: its errors name no key. */
    if (!add_keyword(ts, cf, group, tag, name))
	return;
    g_ptr_array_add(ts->names, g_steal_pointer(&name));
    list = cfgfile_list(kf, group, "keywords");
    for (int i = 0; list && list[i]; i++) {
	char   *k = list[i];
	size_t  n = strlen(k);

	if (n >= 2 && k[0] == '"' && k[n - 1] == '"') {
	    k[n - 1] = 0;
	    k++;
	}
	(void) add_keyword(ts, cf, group, tag, k);
    }
}

struct tags *tags_load(const char *path, const struct intake_config *cfg, GPtrArray *errors)
{
    struct tags *ts = g_new0(struct tags, 1);
    struct cfgfile cf;
    g_autoptr(GKeyFile) kf = NULL;
    g_auto(GStrv) groups = NULL;

    ts->path = g_strdup(path ? path : "");
    ts->names = g_ptr_array_new_with_free_func(g_free);
    ts->keywords = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (path == NULL || *path == 0)
	return ts;
    if ((kf = cfgfile_load(&cf, path, "tag", cfg ? cfg->path : NULL, "tags", errors)))
	groups = g_key_file_get_groups(kf, NULL);
    for (int i = 0; groups && groups[i]; i++) {
	if (strncmp(groups[i], "tag ", 4) != 0)
	    cfgfile_error(&cf, groups[i], NULL, "unknown section: a tags file has [tag NAME]"
			  " sections only");
	else
	    parse_tag(ts, &cf, kf, groups[i]);
    }
    cfgfile_clear(&cf);
    return cf.nerrors ? tags_free(ts) : ts;
}

struct tags *tags_free(struct tags *ts)
{
    if (ts) {
	g_ptr_array_free(ts->names, TRUE);
	g_hash_table_destroy(ts->keywords);
	g_free(ts->path);
	g_free(ts);
    }
    return NULL;
}

guint   tags_count(const struct tags *ts)
{
    return ts ? ts->names->len : 0;
}

const char *tags_path(const struct tags *ts)
{
    return ts ? ts->path : "";
}

/* What tags_match() keeps while words_each() runs. */
struct counter {
    const struct tags *ts;
    guint  *counts;			/* by tag index */
    char    pair[2 * WORDS_MAX_WORD + 2];	/* "the word before" + " " + this word */
    size_t  prev;			/* bytes of the word before in pair, 0: none */
};

static void count(struct counter *c, const char *key)
{
    guint   tag = GPOINTER_TO_UINT(g_hash_table_lookup(c->ts->keywords, key));

    if (tag)
	c->counts[tag - 1]++;
}

static void count_word(const char *word, void *ctx)
{
    struct counter *c = ctx;

    size_t  n;

    if (word == NULL) {
	c->prev = 0;
	return;
    }
    count(c, word);
    if (c->ts->pairs) {
	/* Folding may lengthen a word past WORDS_MAX_WORD bytes: no pair then. */
	if ((n = strlen(word)) > WORDS_MAX_WORD) {
	    c->prev = 0;
	    return;
	}
	if (c->prev) {
	    c->pair[c->prev] = ' ';
	    memcpy(c->pair + c->prev + 1, word, n + 1);
	    count(c, c->pair);
	}
	memcpy(c->pair, word, n + 1);
	c->prev = n;
    }
}

static gint by_count(gconstpointer a, gconstpointer b, gpointer data)
{
    const guint *x = a, *y = b, *counts = data;

    if (counts[*x] != counts[*y])
	return counts[*x] > counts[*y] ? -1 : 1;
    return *x < *y ? -1 : *x > *y;
}

GArray *tags_match(const struct tags *ts, const char *subject, size_t subject_len,
		   const char *text, size_t len)
{
    GArray *hits = g_array_new(FALSE, FALSE, sizeof(struct tag_hit));
    g_autofree guint *counts = NULL;
    g_autoptr(GArray) found = NULL;
    struct counter c = {ts};

    if (tags_count(ts) == 0)
	return hits;
    counts = g_new0(guint, ts->names->len);
    c.counts = counts;
    (void) words_each(subject, MIN(subject_len, TAGS_TEXT_MAX), count_word, &c);
    c.prev = 0;
    (void) words_each(text, MIN(len, TAGS_TEXT_MAX), count_word, &c);
    found = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < ts->names->len; i++)
	if (counts[i])
	    g_array_append_val(found, i);
    g_array_sort_with_data(found, by_count, counts);
    for (guint i = 0; i < found->len && i < TAGS_MAX; i++) {
	guint   t = g_array_index(found, guint, i);
	struct tag_hit h = {g_ptr_array_index(ts->names, t), counts[t]};

	g_array_append_val(hits, h);
    }
    return hits;
}

char   *tags_hits_text(const GArray *hits)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; hits && i < hits->len; i++) {
	const struct tag_hit *h = &g_array_index(hits, struct tag_hit, i);

	g_string_append_printf(s, "%s%s=%u", i ? " " : "", h->name, h->count);
    }
    return g_string_free(s, FALSE);
}

void    classify_tags(struct job *job)
{
    const char *subject = envelope_str(job->env, "subject");
    g_autofree char *said = NULL;
    g_autofree char *scratch = NULL;
    const char *own;
    size_t  n;

    if (tags_count(job->pl->tags) == 0)
	return;
    own = classify_own(job, TAGS_TEXT_MAX, &n, &scratch);
    job->tag_hits = tags_match(job->pl->tags, subject, strlen(subject), own, n);
    if (job->tag_hits->len == 0)
	return;
    said = tags_hits_text(job->tag_hits);
    msg_info("%s: mailbox %s: keyword tags %s", job->qid, job->mailbox_name, said);
}
