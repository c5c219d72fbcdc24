/*
 * NAME
 *	stem - the words of a text, case-folded and stemmed
 * SYNOPSIS
 *	#include "stem.h"
 *
 *	struct stemmers *stemmers_new(void)
 *	size_t	stem_words(s, language, text, len, fn, ctx)
 *	struct stemmers *stemmers_free(s)
 * DESCRIPTION
 *	stem_words() splits the first STEM_MAX_BYTES of text into words
 *	(runs of Unicode letters and digits), lower-cases them, drops those
 *	without a letter (numbers, order ids: no topic), those of one
 *	character and those longer than STEM_MAX_WORD bytes (base64, URLs),
 *	stems each with the Snowball stemmer of language (an ISO 639-1 code
 *	such as "de", as classify_lang.c sets job->language; a language
 *	libstemmer has no stemmer for, or NULL, is stemmed as English) and
 *	calls fn(ctx, term, len) with the stem (null-terminated, borrowed
 *	for the call). A byte that is not valid UTF-8 ends a word, like a
 *	space: a wrong charset label costs some words, nothing more. One
 *	pass over the bytes, no allocation per word: linear time. It returns
 *	the number of words passed to fn.
 *
 *	A libstemmer stemmer is made at the first use of a language and
 *	kept (at most STEM_MAX_LANGUAGES; more are stemmed as English).
 *	Snowball takes about half a microsecond a word, more than all the
 *	rest of a ticket's classification, so each language keeps the stems
 *	of the first STEM_CACHE_WORDS distinct words it saw (words repeat:
 *	a mail's words are mostly the language's common ones); later words
 *	are stemmed each time. Memory: about 100 bytes a cached word.
 *	A stemmer's output buffer is its own, so calls are serialised by a
 *	mutex of the struct stemmers.
 * DIAGNOSTICS
 *	None: libstemmer fails only for an unknown language (then English)
 *	or out of memory (it returns NULL: the word is passed unstemmed).
 */
#include <string.h>

#include <glib.h>
#include <libstemmer.h>

#include "stem.h"

/* A language's stemmer and the stems it made. */
struct lang_stemmer {
    struct sb_stemmer *st;
    GHashTable *cache;			/* word -> stem, both owned */
};

struct stemmers {
    GMutex  lock;
    GHashTable *by_language;		/* code -> struct lang_stemmer *; stemmer NULL: none */
    struct lang_stemmer english;
};

static void lang_stemmer_init(struct lang_stemmer *ls, const char *algorithm)
{
    ls->st = sb_stemmer_new(algorithm, NULL);
    ls->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void lang_stemmer_clear(struct lang_stemmer *ls)
{
    if (ls->st)
	sb_stemmer_delete(ls->st);
    g_hash_table_destroy(ls->cache);
}

struct stemmers *stemmers_new(void)
{
    struct stemmers *s = g_new0(struct stemmers, 1);

    g_mutex_init(&s->lock);
    s->by_language = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    lang_stemmer_init(&s->english, "english");
    return s;
}

static void free_stemmer(gpointer key, gpointer value, gpointer ctx)
{
    lang_stemmer_clear(value);
    g_free(value);
}

struct stemmers *stemmers_free(struct stemmers *s)
{
    if (s == NULL)
	return NULL;
    g_hash_table_foreach(s->by_language, free_stemmer, NULL);
    g_hash_table_destroy(s->by_language);
    lang_stemmer_clear(&s->english);
    g_mutex_clear(&s->lock);
    g_free(s);
    return NULL;
}

/* stemmer - the stemmer of language (caller holds the lock) */
static struct lang_stemmer *stemmer(struct stemmers *s, const char *language)
{
    struct lang_stemmer *ls;

    if (language == NULL || *language == 0 || strlen(language) > 16)
	return &s->english;
    if ((ls = g_hash_table_lookup(s->by_language, language)) != NULL)
	return ls->st ? ls : &s->english;
    if (g_hash_table_size(s->by_language) >= STEM_MAX_LANGUAGES)
	return &s->english;
    ls = g_new0(struct lang_stemmer, 1);
    lang_stemmer_init(ls, language);
    g_hash_table_insert(s->by_language, g_strdup(language), ls);
    return ls->st ? ls : &s->english;
}

/* emit - stem word[0..len) (lower case, with letters; room for a null byte) and pass it on */
static void emit(struct lang_stemmer *ls, char *word, size_t len, stem_fn fn, void *ctx)
{
    const char *cached;
    const sb_symbol *stem;

    word[len] = 0;
    if ((cached = g_hash_table_lookup(ls->cache, word)) != NULL) {
	fn(ctx, cached, strlen(cached));
	return;
    }
    if (ls->st == NULL
	|| (stem = sb_stemmer_stem(ls->st, (const sb_symbol *) word, (int) len)) == NULL) {
	fn(ctx, word, len);
	return;
    }
    if (g_hash_table_size(ls->cache) < STEM_CACHE_WORDS)
	g_hash_table_insert(ls->cache, g_strdup(word),
			    g_strndup((const char *) stem, sb_stemmer_length(ls->st)));
    fn(ctx, (const char *) stem, (size_t) sb_stemmer_length(ls->st));
}

size_t  stem_words(struct stemmers *s, const char *language, const char *text, size_t len,
		   stem_fn fn, void *ctx)
{
    /* Room for a word of STEM_MAX_WORD bytes, one more character and the null byte. */
    char    word[STEM_MAX_WORD + 8];
    size_t  used = 0, chars = 0, words = 0;
    gboolean letter = FALSE, overlong = FALSE;
    const char *p, *end;
    struct lang_stemmer *st;

    if (text == NULL)
	return 0;
    end = text + MIN(len, (size_t) STEM_MAX_BYTES);
    g_mutex_lock(&s->lock);
    st = stemmer(s, language);
    for (p = text; p <= end; ) {
	unsigned char b = p < end ? (unsigned char) *p : 0;
	gunichar c;
	gboolean in_word;

	/* ASCII, most of most mail, without GLib's Unicode tables (a third of the time) */
	if (b < 0x80) {
	    if (g_ascii_isalnum(b)) {
		letter |= g_ascii_isalpha(b);
		if (!overlong) {
		    word[used++] = g_ascii_tolower(b);
		    overlong = used > STEM_MAX_WORD;
		}
		chars++;
		p++;
		continue;
	    }
	    c = b;
	    in_word = FALSE;
	} else {
	    c = g_utf8_get_char_validated(p, end - p);
	    in_word = c < 0x110000 && g_unichar_isalnum(c);
	}
	if (in_word) {
	    c = g_unichar_tolower(c);
	    letter |= g_unichar_isalpha(c);
	    if (!overlong) {
		used += g_unichar_to_utf8(c, word + used);
		overlong = used > STEM_MAX_WORD;
	    }
	    chars++;
	    p = g_utf8_next_char(p);
	    continue;
	}
	if (used && letter && !overlong && chars > 1) {
	    emit(st, word, used, fn, ctx);
	    words++;
	}
	used = chars = 0;
	letter = overlong = FALSE;
	/* a separator: one character, or one byte of invalid UTF-8 */
	if (p == end)
	    break;
	p += c < 0x110000 ? (size_t) (g_utf8_next_char(p) - p) : 1;
    }
    g_mutex_unlock(&s->lock);
    return words;
}
