/*
 * NAME
 *	test_sentiment - unit tests of worker/classify_sentiment.c
 * DESCRIPTION
 *	Table-driven over the lexicon make deps installs (AFINN-165 of the
 *	npm package "sentiment", /usr/share/intake/sentiment/en): clear
 *	English negative, positive and neutral texts and their labels;
 *	negation ("not good" counts as bad); the score is the valence per
 *	word. Then lexicons the test writes: a language without one is not
 *	scored, a directory without any gives NULL and a reason, a broken
 *	one an error naming the file, entries of two words are never
 *	matched; and hostile text (8 MB, invalid UTF-8) stays bounded.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "classify_sentiment.h"
#include "tap.h"

#define LEXICONS "/usr/share/intake/sentiment"

static const struct {
    const char *text;
    const char *label;
} texts[] = {
    {"This is terrible. Your product is broken and useless, I am angry and disappointed.",
     "negative"},
    {"Worst support ever, awful and slow. I hate this.", "negative"},
    {"Thank you so much, the new version is great and works perfectly. Excellent work!",
     "positive"},
    {"I love it, wonderful service, very happy.", "positive"},
    {"Please send me the invoice for order 4711 to the address below.", "neutral"},
    {"The meeting is on Tuesday at ten in room 3.", "neutral"},
    /* negation: the word after a negator counts the other way */
    {"This is not good.", "negative"},
    {"I don't like it.", "negative"},
    {"I don\xe2\x80\x99t hate it, it isn't bad.", "positive"},	/* U+2019 is ' */
    {"", "neutral"},
};

static void test_texts(void)
{
    char   *why = NULL;
    struct sentiment *s = sentiment_new(LEXICONS, NULL, &why);

    ok(s != NULL, "the lexicon of make deps loads from " LEXICONS " (%s)",
       why ? why : "ok");
    g_free(why);
    if (s == NULL)
	return;
    is_str(sentiment_languages(s), "en", "English only");
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
	struct sentiment_result r;

	is_int(sentiment_score(s, "en", texts[i].text, strlen(texts[i].text), &r), 0,
	       "'%s' scored", texts[i].text);
	is_str(r.label, texts[i].label, "'%s': %s (%.3f, %d in %zu words)", texts[i].text,
	       texts[i].label, r.score, r.sum, r.words);
    }
    {
	struct sentiment_result r;
	static const char good[] = "good", not_good[] = "not good";

	(void) sentiment_score(s, "en", good, strlen(good), &r);
	is_int(r.sum, 3, "'good' is +3 in AFINN-165");
	ok(r.score == 3.0, "one word: the score is its valence");
	(void) sentiment_score(s, "en", not_good, strlen(not_good), &r);
	is_int(r.sum, -3, "'not good' is -3");
	ok(r.score == -1.5 && r.words == 2 && r.scored == 1, "two words, one in the lexicon");
	is_int(sentiment_score(s, "de", good, strlen(good), &r), -1, "no German lexicon");
	ok(r.label == NULL, "so no label");
	is_int(sentiment_score(s, NULL, good, strlen(good), &r), -1, "no language");
    }
    sentiment_free(s);
}

static char *tmpdir;

static void write_file(const char *lang, const char *name, const char *text)
{
    g_autofree char *dir = g_build_filename(tmpdir, lang, NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_mkdir_with_parents(dir, 0700);
    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
}

static void test_lexicons(void)
{
    const char *const langs[] = {"de", "fr", NULL};
    char   *why = NULL;
    struct sentiment *s;
    struct sentiment_result r;

    s = sentiment_new(tmpdir, langs, &why);
    ok(s == NULL, "no lexicon at all: NULL");
    has_str(why ? why : "", "no lexicon (LANG/labels.json) in", "with the reason");
    g_clear_pointer(&why, g_free);

    write_file("de", "labels.json", "{\"gut\": 3, \"schlecht\": -3, \"gar nicht\": -5,"
	       " \"kein\": -1, \"toll\": 16, \"mies\": -15}");
    write_file("de", "negators.json", "{\"nicht\": 1, \"kein\": 1}");
    s = sentiment_new(tmpdir, langs, &why);
    ok(s != NULL && why == NULL, "a German lexicon, no English one: loads");
    is_str(sentiment_languages(s), "de", "German only");
    is_int(sentiment_score(s, "en", "good", 4, &r), -1, "English not scored");
    is_int(sentiment_score(s, "fr", "bon", 3, &r), -1, "French not scored");
    (void) sentiment_score(s, "de", "Das ist nicht gut", 17, &r);
    ok(r.sum == -3 && r.label && strcmp(r.label, "negative") == 0, "'nicht gut' is -3");
    (void) sentiment_score(s, "de", "gar nicht", 9, &r);
    ok(r.sum == 0, "an entry of two words never matches (%d)", r.sum);
    (void) sentiment_score(s, "de", "GUT", 3, &r);
    ok(r.sum == 3, "case folded");
    /* A word both in the lexicon and a negator: it counts, and turns the next word. */
    (void) sentiment_score(s, "de", "kein gut", 8, &r);
    ok(r.sum == -4 && r.scored == 2, "'kein gut': -1 and -3 (%d, %zu scored)", r.sum, r.scored);
    (void) sentiment_score(s, "de", "nicht kein", 10, &r);
    ok(r.sum == 1 && r.scored == 1, "'nicht kein': +1 (%d)", r.sum);
    /* The ends of the valence range, kept apart from the negator mark. */
    (void) sentiment_score(s, "de", "toll mies", 9, &r);
    ok(r.sum == 1 && r.scored == 2, "'toll mies': 16 - 15 (%d)", r.sum);
    (void) sentiment_score(s, "de", "nicht toll nicht mies", 21, &r);
    ok(r.sum == -1 && r.scored == 2, "'nicht toll nicht mies': -16 + 15 (%d)", r.sum);
    sentiment_free(s);

    write_file("fr", "labels.json", "{\"bon\": \"good\"}");
    s = sentiment_new(tmpdir, langs, &why);
    ok(s == NULL, "a broken lexicon: NULL");
    has_str(why ? why : "", "fr/labels.json: 'bon' has no valence", "naming file and word");
    g_clear_pointer(&why, g_free);
    write_file("fr", "labels.json", "{\"bon\": 3,");
    s = sentiment_new(tmpdir, langs, &why);
    ok(s == NULL, "not JSON: NULL");
    has_str(why ? why : "", "fr/labels.json:1:", "naming file and line");
    g_clear_pointer(&why, g_free);
    write_file("fr", "labels.json", "[1, 2]");
    s = sentiment_new(tmpdir, langs, &why);
    has_str(why ? why : "", "not a JSON object", "an array is refused");
    g_clear_pointer(&why, g_free);
    sentiment_free(s);
}

static void test_hostile(void)
{
    char   *why = NULL;
    struct sentiment *s = sentiment_new(LEXICONS, NULL, &why);
    char   *big = g_malloc(8 << 20);
    struct sentiment_result r;
    gint64  t0;

    g_free(why);
    if (s == NULL) {
	skip("no lexicon");
	g_free(big);
	return;
    }
    for (size_t i = 0; i + 5 <= (8 << 20); i += 5)
	memcpy(big + i, "bad  ", 5);
    t0 = g_get_monotonic_time();
    (void) sentiment_score(s, "en", big, 8 << 20, &r);
    diag("8 MB: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    is_int(r.words, SENTIMENT_TEXT_MAX / 5 + 1, "8 MB: only the first %d bytes are read",
	   SENTIMENT_TEXT_MAX);
    is_str(r.label, "negative", "and they are negative");
    {
	static const char bad[] = "\xff\xfe" "bad\xc3(good\xe2\x82 great\xf0\x9f\x98";

	(void) sentiment_score(s, "en", bad, sizeof(bad) - 1, &r);
    }
    is_int(r.words, 3, "invalid UTF-8 separates words");
    is_int(r.sum, -3 + 3 + 3, "and they are scored");
    g_free(big);
    sentiment_free(s);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;

    tmpdir = g_dir_make_tmp("intake-test-sentiment-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    test_texts();
    test_lexicons();
    test_hostile();
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
