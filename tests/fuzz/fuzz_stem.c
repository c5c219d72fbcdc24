/*
 * NAME
 *	fuzz_stem - fuzz target: the words of a mail's text and the category suggestion
 * DESCRIPTION
 *	The first byte picks the language (en, de, fr, or one libstemmer
 *	lacks), the rest is a mail's text (all of it chosen by a sender).
 *	stem_words(): every term is non-empty, null-terminated at its
 *	length, valid UTF-8 and no longer than a word may be; there are no
 *	more terms than half the bytes read plus one. nb_predict() with a
 *	small model: a category of the model or none, a confidence in
 *	(0, 1] or 0 with none. Linear (the run's timeout).
 */
#include <string.h>

#include <glib.h>

#include "nbayes.h"
#include "stem.h"
#include "fuzz.h"

static const char *const languages[] = {"en", "de", "fr", "xx"};

static void check_term(void *ctx, const char *term, size_t len)
{
    if (len == 0 || strlen(term) != len)
	fuzz_fail("stem_words: term of length %zu, strlen %zu", len, strlen(term));
    if (len > 4 * STEM_MAX_WORD || !g_utf8_validate(term, len, NULL))
	fuzz_fail("stem_words: term of %zu bytes, or not UTF-8", len);
    (*(size_t *) ctx)++;
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stemmers *st;
    static struct nb_model *m;
    const char *text = (const char *) data + 1, *lang, *best;
    size_t  len, terms = 0, words;
    double  conf;

    fuzz_init();
    if (st == NULL) {
	st = stemmers_new();
	m = nb_model_new();
	nb_model_add(m, "billing", NULL, 2);
	nb_model_add(m, "billing", "invoic", 2);
	nb_model_add(m, "login", NULL, 1);
	nb_model_add(m, "login", "password", 1);
	nb_model_finish(m);
    }
    if (size < 1)
	return 0;
    len = size - 1;
    lang = languages[data[0] % G_N_ELEMENTS(languages)];
    words = stem_words(st, lang, text, len, check_term, &terms);
    if (words != terms || words > MIN(len, (size_t) STEM_MAX_BYTES) / 2 + 1)
	fuzz_fail("stem_words: %zu words, %zu terms, of %zu bytes", words, terms, len);
    best = nb_predict(m, st, lang, NULL, text, len, &conf);
    if (best ? (strcmp(best, "billing") && strcmp(best, "login")) || !(conf > 0 && conf <= 1)
	: conf != 0)
	fuzz_fail("nb_predict: %s, confidence %g", best ? best : "none", conf);
    return 0;
}
