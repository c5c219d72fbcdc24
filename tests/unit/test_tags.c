/*
 * NAME
 *	test_tags - unit tests of worker/classify_tags.c and worker/words.c
 * DESCRIPTION
 *	Table-driven. matches[]: one tags file, a subject and a text, and
 *	the tags found with their counts ("name=count ..." as the log says
 *	them): whole words only, aliases, two-word keywords, case (Unicode
 *	case folding), ranking by count with ties in file order, a pair of
 *	words not spanning subject and text. Then the cap of TAGS_MAX;
 *	bad files and the error each gives (file, line, tag, key); hostile
 *	texts (8 MB of one word, 100,000 different words, a word of 1 MB,
 *	invalid UTF-8), which must stay bounded by TAGS_TEXT_MAX; and the
 *	cost per mail (printed, not asserted).
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "classify_tags.h"
#include "classify_sentiment.h"
#include "config.h"
#include "tap.h"

static char *tmpdir;

/* load - tags from text; errors (may be NULL) get the loader's texts */
static struct tags *load(const char *text, GPtrArray *errors)
{
    g_autofree char *path = g_build_filename(tmpdir, "tags.conf", NULL);
    g_autoptr(GPtrArray) own = g_ptr_array_new_with_free_func(g_free);
    struct tags *ts;

    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
    ts = tags_load(path, NULL, errors ? errors : own);
    for (guint i = 0; errors == NULL && i < own->len; i++)
	diag("%s", (char *) g_ptr_array_index(own, i));
    g_remove(path);
    return ts;
}

/* found - "name=count ..." of what ts finds in subject and text */
static char *found(const struct tags *ts, const char *subject, const char *text, size_t len)
{
    g_autoptr(GArray) hits = tags_match(ts, subject, strlen(subject), text, len);

    return tags_hits_text(hits);
}

static const char tags_file[] =
"# support tags\n"
"[tag billing]\n"
"keywords = invoice, payment, \"credit card\", Rechnung\n"
"\n"
"[tag refund]\n"
"keywords = money back, chargeback\n"
"\n"
"[tag login]\n"
"keywords = password, sign in, 2FA\n"
"\n"
"[tag straße]\n"
"\n"
"[tag Outage]\n"
"keywords = down\n";

static const struct {
    const char *subject;
    const char *text;
    const char *want;
} matches[] = {
    /* whole words, the tag's own name a keyword */
    {"", "my invoice is wrong", "billing=1"},
    {"", "invoices and reinvoice and invoiced", ""},
    {"", "billing question", "billing=1"},
    {"", "invoice-related", "billing=1"},	/* a hyphen separates */
    {"", "pay by invoice, invoice; INVOICE!", "billing=3"},
    /* aliases and two-word keywords */
    {"", "I want my money back", "refund=1"},
    {"", "money, back", "refund=1"},		/* punctuation between words is no word */
    {"", "money\nback", "refund=1"},
    {"", "money backs", ""},
    {"", "my credit card was charged", "billing=1"},
    {"", "credit the card", ""},
    {"", "cannot sign in", "login=1"},
    {"", "2fa code lost", "login=1"},
    /* case: Unicode case folding */
    {"", "Die RECHNUNG stimmt nicht", "billing=1"},
    {"", "Strasse und STRASSE und Straße", "straße=3"},
    {"", "the server is DOWN", "Outage=1"},	/* the tag's name as the file writes it */
    /* ranking: by count, ties in file order */
    {"", "password password invoice", "login=2 billing=1"},
    {"", "password invoice", "billing=1 login=1"},
    {"Refund please", "money back: chargeback. My invoice.", "refund=3 billing=1"},
    /* subject and text both count, a pair never spans them */
    {"Invoice", "invoice", "billing=2"},
    {"money", "back", ""},
    /* quotes apostrophes: "invoice's" is a word of its own */
    {"", "the invoice's date", ""},
    {"", "", ""},
};

static void test_matches(void)
{
    struct tags *ts = load(tags_file, NULL);

    ok(ts != NULL, "tags file loads");
    if (ts == NULL)
	return;
    is_int(tags_count(ts), 5, "five tags");
    for (size_t i = 0; i < G_N_ELEMENTS(matches); i++) {
	g_autofree char *got = found(ts, matches[i].subject, matches[i].text,
				     strlen(matches[i].text));

	is_str(got, matches[i].want, "'%s' / '%s'", matches[i].subject, matches[i].text);
    }
    tags_free(ts);
}

/* 40 tags, each found a different number of times: the TAGS_MAX with most occurrences. */
static void test_cap(void)
{
    GString *file = g_string_new(NULL), *text = g_string_new(NULL);
    struct tags *ts;
    g_autoptr(GArray) hits = NULL;

    for (int i = 0; i < 40; i++) {
	g_string_append_printf(file, "[tag t%02d]\n", i);
	for (int j = 0; j <= i; j++)
	    g_string_append_printf(text, "t%02d ", i);
    }
    ts = load(file->str, NULL);
    hits = tags_match(ts, "", 0, text->str, text->len);
    is_int(hits->len, TAGS_MAX, "at most %d tags", TAGS_MAX);
    is_str(g_array_index(hits, struct tag_hit, 0).name, "t39", "the most frequent first");
    is_int(g_array_index(hits, struct tag_hit, 0).count, 40, "with its count");
    is_str(g_array_index(hits, struct tag_hit, TAGS_MAX - 1).name, "t10",
	   "the last of them: the 30th most frequent");
    tags_free(ts);
    g_string_free(file, TRUE);
    g_string_free(text, TRUE);
}

static const struct {
    const char *file;
    const char *want;			/* part of the one error */
} errors[] = {
    {"[tag a]\nkeywords = x\n[tag b]\nkeywords = y, x\n",
     ":4: [tag b] key 'keywords': 'x' is a keyword of [tag a] already"},
    {"[tag a]\n[tag b]\nkeywords = A\n", ":3: [tag b] key 'keywords': 'A' is a keyword of [tag a]"},
    {"[tag a]\nkeywords = one two three\n", ":2: [tag a] key 'keywords': 'one two three' is more"
     " than two words"},
    {"[tag a]\nkeywords = ---\n", ":2: [tag a] key 'keywords': '---' is no word"},
    {"[tag a]\nwords = x\n", ":2: [tag a] key 'words': unknown key"},
    {"[tag ]\n", ":1: [tag ]: a tag needs a name"},
    {"[tag a,b]\n", ":1: [tag a,b]: a tag needs a name without a comma"},
    {"[tags a]\n", ":1: [tags a]: unknown section: a tags file has [tag NAME] sections only"},
    {"[tag a]\nkeywords = x\nkeywords = y\n", ":3: key 'keywords' is given again (first at"
     " line 2); give each key of a tag once"},
    {"[tag a]\n[tag a]\n", ":2: section [tag a] is given again (first at line 1); give each"
     " tag its own name"},
    {"keywords = x\n", ":1: 'keywords = x' is outside a [tag NAME] section"},
    {"[tag a]\njust words\n", ":2: 'just words' is not KEY = VALUE"},
    {"[tag a]\nkeywords = \xff\n", "not UTF-8"},
    {"[tag a]\nkeywords = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "is too long"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(errors); i++) {
	g_autoptr(GPtrArray) errs = g_ptr_array_new_with_free_func(g_free);
	struct tags *ts = load(errors[i].file, errs);

	ok(ts == NULL, "error %zu: refused", i);
	is_int(errs->len, 1, "error %zu: one error", i);
	has_str(errs->len ? g_ptr_array_index(errs, 0) : "", errors[i].want, "error %zu: text", i);
	has_str(errs->len ? g_ptr_array_index(errs, 0) : "", "tags.conf", "error %zu: the file",
		i);
	tags_free(ts);
    }
    {
	g_autoptr(GPtrArray) errs = g_ptr_array_new_with_free_func(g_free);
	struct tags *ts = tags_load("/nonexistent/tags.conf", NULL, errs);

	ok(ts == NULL && errs->len == 1, "a missing file is an error");
	has_str(errs->len ? g_ptr_array_index(errs, 0) : "", "[worker] key 'tags'",
		"that names the key");
    }
    {
	g_autoptr(GPtrArray) errs = g_ptr_array_new_with_free_func(g_free);
	struct tags *ts = tags_load("", NULL, errs);

	ok(ts && tags_count(ts) == 0 && errs->len == 0, "no file: no tags, no error");
	tags_free(ts);
    }
}

/* repeat - n copies of word, space-separated (g_free) */
static char *repeat(const char *word, size_t bytes)
{
    size_t  w = strlen(word) + 1;
    char   *s = g_malloc(bytes + 1);

    for (size_t i = 0; i + w <= bytes; i += w) {
	memcpy(s + i, word, w - 1);
	s[i + w - 1] = ' ';
    }
    memset(s + bytes / w * w, ' ', bytes - bytes / w * w);
    s[bytes] = 0;
    return s;
}

static void test_hostile(void)
{
    struct tags *ts = load(tags_file, NULL);
    g_autofree char *one = repeat("invoice", 8 << 20);
    GString *many = g_string_new(NULL);
    g_autofree char *long_word = g_malloc(1 << 20);
    gint64  t0;

    t0 = g_get_monotonic_time();
    {
	g_autofree char *got = found(ts, "", one, strlen(one));
	g_autofree char *want = g_strdup_printf("billing=%d", TAGS_TEXT_MAX / 8);	/* "invoice " */

	is_str(got, want, "8 MB of one word: counted in the first %d bytes", TAGS_TEXT_MAX);
    }
    diag("8 MB of one word: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    for (int i = 0; i < 100000; i++)
	g_string_append_printf(many, "w%d ", i);
    g_string_append(many, "invoice");
    {
	g_autofree char *got = found(ts, "", many->str, many->len);

	is_str(got, "", "100,000 different words: what is past %d bytes is not read",
	       TAGS_TEXT_MAX);
	memcpy(many->str, "invoice ", 8);
	g_free(got);
	got = found(ts, "", many->str, many->len);
	is_str(got, "billing=1", "100,000 different words: the first counts");
    }
    memset(long_word, 'a', (1 << 20) - 1);
    long_word[(1 << 20) - 1] = 0;
    memcpy(long_word + 100, " invoice ", 9);
    {
	g_autoptr(GArray) hits = tags_match(ts, long_word, strlen(long_word), long_word,
					    strlen(long_word));
	g_autofree char *got = tags_hits_text(hits);

	is_str(got, "billing=2", "a word of 1 MB is skipped, the words beside it count");
    }
    {
	static const char bad[] = "\xff\xfeinvoice\xc3(invoice\xe2\x82 invoice\xf0\x9f\x98";
	g_autofree char *got = found(ts, "", bad, sizeof(bad) - 1);

	is_str(got, "billing=3", "invalid UTF-8 separates words");
    }
    g_string_free(many, TRUE);
    tags_free(ts);
}

/* test_cost - µs per mail for tags and sentiment, 2 KB and 8 MB bodies (printed only). */
static void test_cost(void)
{
    struct tags *ts = load(tags_file, NULL);
    char   *why = NULL;
    struct sentiment *s = sentiment_new("/usr/share/intake/sentiment", NULL, &why);
    static const char para[] = "Hello, my invoice for last month is wrong and I am not happy."
	" The payment was charged twice to my credit card. Please refund it, thanks! ";
    GString *small = g_string_new(NULL), *big = g_string_new(NULL);
    const struct {
	const char *name;
	GString *text;
	int     n;
    } cases[] = {{"2 KB", small, 2000}, {"8 MB", big, 20}};

    while (small->len < 2048)
	g_string_append(small, para);
    while (big->len < (8 << 20))
	g_string_append(big, para);
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
	gint64  t0 = g_get_monotonic_time();
	struct sentiment_result r;

	for (int i = 0; i < cases[c].n; i++) {
	    g_autoptr(GArray) hits = tags_match(ts, "Invoice", 7, cases[c].text->str,
						cases[c].text->len);

	    (void) sentiment_score(s, "en", cases[c].text->str, cases[c].text->len, &r);
	}
	diag("tags + sentiment, %s body: %.1f µs per mail", cases[c].name,
	     (g_get_monotonic_time() - t0) / (double) cases[c].n);
    }
    ok(s != NULL, "the lexicon for the cost loaded (%s)", why ? why : "ok");
    g_free(why);
    sentiment_free(s);
    tags_free(ts);
    g_string_free(small, TRUE);
    g_string_free(big, TRUE);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;

    tmpdir = g_dir_make_tmp("intake-test-tags-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    test_matches();
    test_cap();
    test_errors();
    test_hostile();
    test_cost();
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
