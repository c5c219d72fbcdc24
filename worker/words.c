/*
 * NAME
 *	words - split a text into case-folded words
 * SYNOPSIS
 *	#include "words.h"
 *
 *	size_t	words_each(text, len, fn, ctx)
 * DESCRIPTION
 *	words_each() calls fn once for each word of the len bytes of text,
 *	in order, and returns how many it found. A word is a run of Unicode
 *	letters, digits and combining marks, with apostrophes (' and U+2019,
 *	both given as ') inside it: "don't" is one word, as in the lexicons
 *	of classify_sentiment.c; a hyphen, white space, punctuation and
 *	invalid UTF-8 (a wrong charset label) separate words. fn gets the
 *	word case-folded (g_utf8_casefold: "Straße" and "STRASSE" are one
 *	word), or NULL for a token longer than WORDS_MAX_WORD bytes, so that
 *	a caller that counts words counts it too.
 *
 *	Keywords and lexicon entries are split by the same function as the
 *	mail: what a mail matches is what the file says, whatever its case.
 *
 *	Linear in len: each byte is read once; a word is folded once, and
 *	words are at most WORDS_MAX_WORD bytes.
 */
#include <string.h>
#include <glib.h>

#include "words.h"

struct word {
    char    buf[WORDS_MAX_WORD + 1];
    size_t  len;
    gboolean ascii;
    gboolean too_long;
};

static size_t word_end(struct word *w, words_fn fn, void *ctx)
{
    size_t  n = w->len;

    if (n == 0 && !w->too_long)
	return 0;
    while (n > 0 && w->buf[n - 1] == '\'')	/* "customers'" */
	n--;
    if (w->too_long) {
	fn(NULL, ctx);
    } else if (n > 0) {
	w->buf[n] = 0;
	if (w->ascii) {
	    fn(w->buf, ctx);		/* lower case already (word_add) */
	} else {
	    g_autofree char *folded = g_utf8_casefold(w->buf, n);

	    fn(folded, ctx);
	}
    }
    w->len = 0;
    w->ascii = TRUE;
    w->too_long = FALSE;
    return n > 0 || w->too_long ? 1 : 0;
}

static inline void word_add(struct word *w, const char *s, size_t n, gboolean ascii)
{
    if (w->too_long)
	return;
    if (w->len + n > WORDS_MAX_WORD) {
	w->too_long = TRUE;
	return;
    }
    if (n == 1)
	w->buf[w->len] = *s >= 'A' && *s <= 'Z' ? *s + ('a' - 'A') : *s;
    else
	memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->ascii = w->ascii && ascii;
}

size_t  words_each(const char *text, size_t len, words_fn fn, void *ctx)
{
    const char *p = text, *end = text + len;
    struct word w = {.ascii = TRUE};
    size_t  count = 0;

    while (p < end) {
	gunichar c;
	size_t  n;

	/* ASCII, most of most mails, without a call per byte. */
	if ((guchar) * p < 0x80) {
	    if (g_ascii_isalnum(*p))
		word_add(&w, p, 1, TRUE);
	    else if (*p == '\'' && (w.len > 0 || w.too_long))
		word_add(&w, p, 1, TRUE);
	    else
		count += word_end(&w, fn, ctx);
	    p++;
	    continue;
	}
	c = g_utf8_get_char_validated(p, end - p);
	if (c == (gunichar) - 1 || c == (gunichar) - 2) {
	    count += word_end(&w, fn, ctx);
	    p++;
	    continue;
	}
	n = g_utf8_next_char(p) - p;
	if (g_unichar_isalnum(c) || g_unichar_ismark(c))
	    word_add(&w, p, n, FALSE);
	else if (c == 0x2019 && (w.len > 0 || w.too_long))
	    word_add(&w, "'", 1, TRUE);
	else
	    count += word_end(&w, fn, ctx);
	p += n;
    }
    return count + word_end(&w, fn, ctx);
}
