/*
 * NAME
 *	classify_lang - the language of a mail's text
 * SYNOPSIS
 *	#include "classify_lang.h"
 *
 *	struct lang_detector *lang_detector_new(languages, datadir, &why)
 *	const char *lang_detect(ld, text, len, prefer)
 *	void	classify_lang(job)
 *	struct lang_detector *lang_detector_free(ld)
 * DESCRIPTION
 *	libexttextcat (Debian libexttextcat-2.0-0, the n-gram classifier
 *	LibreOffice uses) with the fingerprints of libexttextcat-data.
 *	lang_detector_new() loads DATADIR/LANG.lm for each language of
 *	[worker] languages only: fewer candidates are faster and do not
 *	confuse a German mail with Luxembourgish; a language without a
 *	fingerprint file is an error that names it.
 *
 *	lang_detect() classifies the first LANG_MAX_BYTES of text (cut at a
 *	UTF-8 character boundary), so that a long mail costs what a short one
 *	does, without tokens longer than LANG_MAX_WORD bytes (base64, URLs).
 *	A longer text is first classified by its first LANG_FIRST_BYTES (at
 *	a word's end): when textcat names one language for them, that is the
 *	verdict; only when it names several or none are all the bytes read.
 *	It returns one of the configured codes, or NULL when the text is
 *	shorter than LANG_MIN_BYTES, is not mostly in Latin script (every
 *	fingerprint of libexttextcat-data that a reply template is likely
 *	for is; a Chinese text would get the nearest Latin one), or textcat
 *	does not know. When textcat
 *	names several languages as about equally likely (Danish and Norwegian
 *	often are), prefer (the mailbox's language) wins if it is among them,
 *	otherwise the first.
 *
 *	classify_lang() is the classify stage's step: the lines the customer
 *	wrote now (classify_own(), quote_own_lines(): quoted history, our marker
 *	and the signature removed, which are often in another language; the
 *	first LANG_MAX_BYTES of them) decide job->language;
 *	without a detector ([worker] languages empty) or without a verdict the
 *	mailbox's language stands; a detected language other than the
 *	mailbox's is logged (docs/templates.md).
 * THREADS
 *	lang_detect() may be called from several threads at once. A textcat
 *	handle is not shared by two calls at a time: textcat_Classify()
 *	writes its answer into the handle, and whether textcat_ClassifyFull()
 *	(which we use, into a candidate array of the call's own) leaves the
 *	handle alone is libexttextcat's business, not a promise it makes. So
 *	the detector holds up to LANG_HANDLES handles, each with its own
 *	mutex: a call tries them in turn, starting at a rotating index, and
 *	takes the first that is free; when all are busy it makes another,
 *	up to LANG_HANDLES, and only then blocks on one. A handle holds the
 *	fingerprints of the configured languages (400 n-grams, about 10 KB,
 *	each, and a millisecond or so to read): made when first needed, a
 *	worker that detects in one thread loads them once.
 * DIAGNOSTICS
 *	lang_detector_new(): NULL and *why (g_free) when a fingerprint file
 *	is missing or unreadable.
 */
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <textcat.h>

#include "classify_lang.h"
#include "envelope.h"
#include "classify_text.h"
#include "job.h"
#include "log.h"

/* One textcat handle, used by one call at a time. */
struct lang_slot {
    GMutex  lock;
    void   *tc;
    candidate_t *candidates;		/* textcat_ClassifyFull()'s answer */
};

struct lang_detector {
    struct lang_slot slot[LANG_HANDLES];
    gint    made;			/* slot[0..made) have a handle */
    GMutex  make_lock;			/* one thread makes a handle at a time */
    gboolean make_failed;		/* said once, not tried again */
    char  **languages;
    char   *conf;			/* textcat's list of fingerprints */
    char   *prefix;			/* where they are, with a '/' */
    guint   next;			/* where the next call starts trying */
};

/*
 * slot_make - give ld->slot[ld->made] a handle, and count it made; the
 * caller holds make_lock. textcat reads its list of fingerprints from a
 * file only: written to a temporary file for the call.
 */
static gboolean slot_make(struct lang_detector *ld, char **why)
{
    struct lang_slot *s = &ld->slot[ld->made];
    g_autoptr(GError) err = NULL;
    g_autofree char *path = NULL;
    int     fd;

    if ((fd = g_file_open_tmp("intake-textcat-XXXXXX", &path, &err)) < 0
	|| !g_file_set_contents(path, ld->conf, -1, &err)) {
	*why = g_strdup_printf("textcat configuration: %s", err->message);
	if (fd >= 0) {
	    close(fd);
	    g_unlink(path);
	}
	return FALSE;
    }
    close(fd);
    s->tc = special_textcat_Init(path, ld->prefix);
    g_unlink(path);
    if (s->tc == NULL) {
	*why = g_strdup_printf("libexttextcat could not load the fingerprints in %s", ld->prefix);
	return FALSE;
    }
    textcat_SetProperty(s->tc, TCPROP_UTF8AWARE, TC_TRUE);
    textcat_SetProperty(s->tc, TCPROP_MINIMUM_DOCUMENT_SIZE, LANG_MIN_BYTES);
    s->candidates = textcat_GetClassifyFullOutput(s->tc);
    g_atomic_int_inc(&ld->made);	/* a barrier: the slot is whole before it counts */
    return TRUE;
}

struct lang_detector *lang_detector_new(const char *const *languages, const char *datadir,
					char **why)
{
    g_autoptr(GString) conf = g_string_new(NULL);
    g_autofree char *prefix = g_str_has_suffix(datadir, "/") ? g_strdup(datadir)
	: g_strconcat(datadir, "/", NULL);
    struct lang_detector *ld;

    *why = NULL;
    if (languages == NULL || *languages == NULL)
	return NULL;
    for (const char *const *l = languages; *l; l++) {
	g_autofree char *lm = g_strdup_printf("%s%s.lm", prefix, *l);

	if (strchr(*l, '/') || strchr(*l, '.') || g_access(lm, R_OK) < 0) {
	    *why = g_strdup_printf("no language fingerprint %s for '%s' (libexttextcat-data"
				   " has one LANG.lm per language it knows)", lm, *l);
	    return NULL;
	}
	g_string_append_printf(conf, "%s.lm %s\n", *l, *l);
    }
    ld = g_new0(struct lang_detector, 1);
    ld->languages = g_strdupv((char **) languages);
    ld->conf = g_string_free(g_steal_pointer(&conf), FALSE);
    ld->prefix = g_steal_pointer(&prefix);
    g_mutex_init(&ld->make_lock);
    for (int i = 0; i < LANG_HANDLES; i++)
	g_mutex_init(&ld->slot[i].lock);
    /* The first handle now: a configuration textcat cannot load is an error at start. */
    if (!slot_make(ld, why))
	return lang_detector_free(ld);
    return ld;
}

struct lang_detector *lang_detector_free(struct lang_detector *ld)
{
    if (ld == NULL)
	return NULL;
    for (int i = 0; i < LANG_HANDLES; i++) {
	struct lang_slot *s = &ld->slot[i];

	if (s->tc) {
	    textcat_ReleaseClassifyFullOutput(s->tc, s->candidates);
	    textcat_Done(s->tc);
	}
	g_mutex_clear(&s->lock);
    }
    g_mutex_clear(&ld->make_lock);
    g_strfreev(ld->languages);
    g_free(ld->conf);
    g_free(ld->prefix);
    g_free(ld);
    return NULL;
}

/* known - our own copy of the code textcat named in s[0..n), or NULL */
static const char *known(struct lang_detector *ld, const char *s, size_t n)
{
    for (char **l = ld->languages; *l; l++)
	if (strlen(*l) == n && memcmp(*l, s, n) == 0)
	    return *l;
    return NULL;
}

/*
 * words_only - copy of s[0..n) without tokens longer than LANG_MAX_WORD:
 * base64 lines, URLs and hashes are no language, but their n-grams would
 * outweigh a short text's (an HTML mail sent as text/plain with an inline
 * image read as German). Returns the bytes written to out (size n).
 */
static size_t words_only(const char *s, size_t n, char *out)
{
    size_t  used = 0, i = 0;

    while (i < n) {
	size_t  j = i;

	while (j < n && s[j] != ' ' && s[j] != '\n' && s[j] != '\t' && s[j] != '\r')
	    j++;
	if (j - i <= LANG_MAX_WORD) {
	    memcpy(out + used, s + i, j - i);
	    used += j - i;
	}
	if (j < n)
	    out[used++] = s[j++];
	i = j;
    }
    return used;
}

/*
 * latin - most letters of s[0..n) (valid UTF-8) are Latin. The
 * fingerprints we load are of languages in Latin script; textcat names
 * the nearest of them for a Chinese text too, which would be a guess.
 */
static int latin(const char *s, size_t n)
{
    size_t  yes = 0, no = 0;

    for (const char *p = s; p < s + n; p = g_utf8_next_char(p)) {
	gunichar c = g_utf8_get_char(p);

	if (!g_unichar_isalpha(c))
	    continue;
	if (c < 0x250 || (c >= 0x1E00 && c < 0x1F00))	/* Latin blocks */
	    yes++;
	else
	    no++;
    }
    return yes > 2 * no;
}

/*
 * slot_take - a handle no other call uses, locked: the first free one
 * from a rotating start; when all are busy a new one, while fewer than
 * LANG_HANDLES are made; else (or when making one failed: warned once,
 * the handles there are do) the start one, waited for.
 */
static struct lang_slot *slot_take(struct lang_detector *ld)
{
    guint   start = (guint) g_atomic_int_add(&ld->next, 1);
    guint   made = (guint) g_atomic_int_get(&ld->made);
    struct lang_slot *s = NULL;
    char   *why = NULL;

    for (guint i = 0; i < made; i++) {
	s = &ld->slot[(start + i) % made];
	if (g_mutex_trylock(&s->lock))
	    return s;
    }
    g_mutex_lock(&ld->make_lock);
    if (ld->made < LANG_HANDLES && !ld->make_failed) {
	s = &ld->slot[ld->made];
	g_mutex_lock(&s->lock);
	if (slot_make(ld, &why)) {
	    g_mutex_unlock(&ld->make_lock);
	    return s;
	}
	g_mutex_unlock(&s->lock);
	ld->make_failed = TRUE;
	msg_warn("language detection: no textcat handle for another thread: %s; the threads"
		 " share the %d there are", why, ld->made);
	g_free(why);
    }
    g_mutex_unlock(&ld->make_lock);
    s = &ld->slot[start % made];
    g_mutex_lock(&s->lock);
    return s;
}

/*
 * verdict - textcat's answer for words[0..len): the code it names first
 * (prefer instead when that is among the about equally likely), NULL when
 * it does not know; *sure when it named one language only.
 */
static const char *verdict(struct lang_detector *ld, const char *words, size_t len,
			   const char *prefer, gboolean *sure)
{
    const char *first = NULL, *chosen = NULL;
    struct lang_slot *s = slot_take(ld);
    /* The candidates, best first; 0 (unknown: too many alike) or SHORT: none. */
    int     n = textcat_ClassifyFull(s->tc, words, len, s->candidates);

    for (int i = 0; i < n; i++) {
	const char *code = known(ld, s->candidates[i].name, strlen(s->candidates[i].name));

	if (code == NULL)
	    continue;
	if (first == NULL)
	    first = code;
	if (prefer && strcmp(code, prefer) == 0)
	    chosen = code;
    }
    g_mutex_unlock(&s->lock);
    *sure = (n == 1 && first != NULL);
    return chosen ? chosen : first;
}

const char *lang_detect(struct lang_detector *ld, const char *text, size_t len,
			const char *prefer)
{
    /*
     * Zeroed, one byte longer than any text: textcat's fp_Create() reads past
     * the size it is given (valgrind: it uses uninitialised
     * bytes), and its verdict then depended on stack garbage.
     */
    char    words[LANG_MAX_BYTES + 1] = {0};
    const char *end, *lang;
    gboolean sure = FALSE;
    size_t  head;

    if (ld == NULL || text == NULL)
	return NULL;
    if (len > LANG_MAX_BYTES) {
	len = LANG_MAX_BYTES;
	/* not in the middle of a character: back over continuation bytes */
	while (len > 0 && ((unsigned char) text[len] & 0xC0) == 0x80)
	    len--;
    }
    /* Invalid UTF-8 (a wrong charset label) would be n-grams of nothing. */
    if (!g_utf8_validate(text, len, &end))
	len = end - text;
    if ((len = words_only(text, len, words)) < LANG_MIN_BYTES || !latin(words, len))
	return NULL;
    if (len <= LANG_FIRST_BYTES)
	return verdict(ld, words, len, prefer, &sure);
    /*
     * textcat's work grows with the bytes: the first LANG_FIRST_BYTES (up
     * to the last space in them) decide when textcat names one language
     * for them; only a doubtful verdict reads up to LANG_MAX_BYTES.
     */
    for (head = LANG_FIRST_BYTES; head > LANG_MIN_BYTES && words[head] != ' '
	 && words[head] != '\n'; head--)
	 /* void */ ;
    if (head > LANG_MIN_BYTES) {
	char    saved = words[head];

	words[head] = 0;			/* fp_Create() reads a byte past the size */
	lang = verdict(ld, words, head, prefer, &sure);
	words[head] = saved;
	if (sure)
	    return lang;
    }
    return verdict(ld, words, len, prefer, &sure);
}

void    classify_lang(struct job *job)
{
    g_autofree char *scratch = NULL;
    size_t  n;
    const char *own = classify_own(job, LANG_MAX_BYTES, &n, &scratch);
    const char *lang = lang_detect(job->pl->lang, own, n, job->language);

    if (lang == NULL || (job->language && strcmp(lang, job->language) == 0))
	return;
    msg_info("%s: language %s detected (mailbox language %s)", job->qid, lang,
	     job->language ? job->language : "none");
    job->language = lang;
}
