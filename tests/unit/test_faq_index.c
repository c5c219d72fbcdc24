/*
 * test_faq_index - the FAQ in memory (faq_index.c, classify_faq.c's
 * faq_memory_suggest()) gives the same suggestions, in the same order
 * and with the same scores, as the SQLite store's FTS5 query; and it
 * follows entries added and removed through the store.
 *
 * The entries and the queries are the corpus's mails ($INTAKE_CORPUS,
 * default ../shared/corpus): every fourth mail an entry (its subject
 * the title, its body the text), every mail a query, asked with and
 * without a collection, a language and a least score. Scores may differ
 * by float noise only (1e-9 relative); ids and order must be equal.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "classify_faq.h"
#include "config.h"
#include "faq_index.h"
#include "store.h"
#include "tap.h"

#define MAX_MATCH 8

/* split - a mail's subject (the first Subject: line) and body (after the first blank line) */
static void split(const char *raw, gsize len, char **subject, const char **body, gsize *blen)
{
    const char *end = raw + len, *p = raw;

    *subject = NULL;
    *body = end;
    *blen = 0;
    while (p < end) {
	const char *nl = memchr(p, '\n', end - p);
	gsize   n = (nl ? nl : end) - p;

	if (n == 0 || (n == 1 && p[0] == '\r')) {
	    *body = nl + 1 < end ? nl + 1 : end;
	    break;
	}
	if (*subject == NULL && n > 8 && g_ascii_strncasecmp(p, "Subject:", 8) == 0)
	    *subject = g_strstrip(g_strndup(p + 8, n - 8));
	if (nl == NULL)
	    break;
	p = nl + 1;
    }
    *blen = end - *body;
    if (*blen > 8192)
	*blen = 8192;
}

/* valid - text as valid UTF-8 (what the worker's envelopes hold) */
static char *valid(const char *s, gsize n)
{
    return g_utf8_make_valid(s, n);
}

static gboolean same(const struct store_faq_match *a, int na, const struct store_faq_match *b,
		     int nb, GString *why)
{
    if (na != nb) {
	g_string_printf(why, "%d against %d matches", na, nb);
	return FALSE;
    }
    for (int i = 0; i < na; i++) {
	if (a[i].id != b[i].id || g_strcmp0(a[i].title, b[i].title) != 0
	    || g_strcmp0(a[i].url, b[i].url) != 0
	    || fabs(a[i].score - b[i].score) > 1e-9 * MAX(1.0, fabs(b[i].score))) {
	    g_string_printf(why, "match %d: #%" G_GINT64_FORMAT " %.17g against #%"
			    G_GINT64_FORMAT " %.17g", i + 1, a[i].id, a[i].score, b[i].id,
			    b[i].score);
	    return FALSE;
	}
    }
    return TRUE;
}

static const struct {
    const char *collection, *language;
    double  min_score;
    int     max;
} asks[] = {
    {NULL, NULL, 0.0, MAX_MATCH},
    {"a", NULL, 0.0, 3},
    {"b", "de", 1.0, 3},
    {NULL, "en", 2.5, 5},
};

static const char *const collections[] = {"a", "b"};
static const char *const languages[] = {"en", "de", NULL};

static void compare_corpus(struct store *st)
{
    const char *dir = g_getenv("INTAKE_CORPUS");
    g_autoptr(GPtrArray) files = NULL;
    struct faq_index *ix;
    char   *why = NULL;
    guint   entries = 0, queries = 0, equal = 0, answered = 0, fallback = 0, matched = 0;

    if (dir == NULL || *dir == 0)
	dir = "../shared/corpus";
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
	skip("corpus not found (%s)", dir);
	return;
    }
    files = tap_corpus_files(dir);
    ix = faq_index_new(&why);
    if (!ok(ix != NULL, "faq_index_new")) {
	diag("  %s", why);
	return;
    }
    for (guint i = 0; i < files->len; i += 4) {
	g_autofree char *raw = NULL, *subject = NULL, *title = NULL, *body = NULL, *url = NULL;
	const char *b;
	gsize   len, blen;
	gint64  id = 0;

	if (!g_file_get_contents(g_ptr_array_index(files, i), &raw, &len, NULL))
	    continue;
	split(raw, len, &subject, &b, &blen);
	title = valid(subject ? subject : "(no subject)", -1);
	body = valid(b, blen);
	url = g_strdup_printf("https://faq.example.test/%u", i);
	{
	    struct store_faq e = {collections[entries % 2], title, url, body,
		languages[entries % 3], NULL, NULL};

	    if (st->ops->faq_put(st, &e, &id, &why) != STORE_OK
		|| faq_index_add(ix, id, e.collection, e.language, title, url, body, &why) < 0) {
		ok(0, "entry %s stored and indexed", (char *) g_ptr_array_index(files, i));
		diag("  %s", why);
		g_clear_pointer(&why, g_free);
		continue;
	    }
	}
	entries++;
    }
    ok(faq_index_size(ix) == entries && entries > 50, "%u corpus mails indexed", entries);
    for (guint i = 0; i < files->len; i++) {
	g_autofree char *raw = NULL, *subject = NULL, *text = NULL, *subj = NULL;
	g_autoptr(GPtrArray) words = NULL;
	const char *b;
	gsize   len, blen;

	if (!g_file_get_contents(g_ptr_array_index(files, i), &raw, &len, NULL))
	    continue;
	split(raw, len, &subject, &b, &blen);
	subj = subject ? valid(subject, -1) : NULL;
	text = valid(b, blen);
	words = faq_words(subj, text, strlen(text));
	for (size_t k = 0; k < G_N_ELEMENTS(asks); k++) {
	    struct store_faq_match fts[MAX_MATCH] = {0}, mem[MAX_MATCH] = {0};
	    int     nf = 0, nm = 0, rc;
	    g_autoptr(GString) diff = g_string_new(NULL);

	    queries++;
	    rc = faq_suggest(st, asks[k].collection, asks[k].language, subj, text, strlen(text),
			     asks[k].max, asks[k].min_score, fts, &nf, &why);
	    if (rc != STORE_OK) {
		ok(0, "%s: FTS5 query", (char *) g_ptr_array_index(files, i));
		diag("  %s", why);
		g_clear_pointer(&why, g_free);
		continue;
	    }
	    if (words == NULL) {
		equal += nf == 0;
		if (nf)
		    ok(0, "%s: no words, FTS5 matched", (char *) g_ptr_array_index(files, i));
		continue;
	    }
	    if (faq_index_match(ix, words, asks[k].collection, asks[k].language,
				asks[k].min_score, asks[k].max, mem, &nm) == FAQ_INDEX_FALLBACK) {
		fallback++;
	    } else {
		answered++;
		matched += nm > 0;
		if (same(mem, nm, fts, nf, diff))
		    equal++;
		else
		    ok(0, "%s, ask %zu: memory as FTS5 (%s)",
		       (char *) g_ptr_array_index(files, i), k, diff->str);
	    }
	    for (int j = 0; j < MAX_MATCH; j++) {
		store_faq_match_clear(&fts[j]);
		store_faq_match_clear(&mem[j]);
	    }
	}
    }
    diag("%u queries: %u answered from memory (%u with matches), %u left to FTS5", queries,
	 answered, matched, fallback);
    ok(equal == answered + (queries - answered - fallback), "every query answered from memory"
       " equals FTS5's answer (%u)", equal);
    ok(matched > queries / 4, "most queries matched something (%u of %u)", matched, queries);
    ok(fallback < queries / 20, "few words FTS5 would split (%u of %u)", fallback, queries);
    faq_index_free(ix);
}

/* faq_memory_suggest() follows the store: an entry added, then removed, by another connection. */
static void follow_store(struct store *st, struct store *other)
{
    struct faq_memory *fm = faq_memory_new();
    struct store_faq e = {"a", "Zyxwvut frobnicator reset", NULL, "How to reset the zyxwvut"
	" frobnicator.", NULL, NULL, NULL};
    struct store_faq_match m[MAX_MATCH] = {0};
    int     n = -1;
    gint64  id = 0;
    gboolean found = FALSE;
    char   *why = NULL;

    is_int(faq_memory_suggest(fm, st, NULL, NULL, "frobnicator", "zyxwvut", 7, 3, 0.0, m, &n,
			      &why), STORE_OK, "memory: looked up");
    is_int(n, 0, "memory: nothing matches an unknown word");
    is_int(other->ops->faq_put(other, &e, &id, &why), STORE_OK, "another connection adds");
    is_int(faq_memory_suggest(fm, st, NULL, NULL, "frobnicator", "zyxwvut", 7, 3, 0.0, m, &n,
			      &why), STORE_OK, "memory: looked up again");
    ok(n == 1 && m[0].id == id, "memory: the new entry is suggested (%d)", n);
    for (int j = 0; j < n; j++)
	store_faq_match_clear(&m[j]);
    is_int(other->ops->faq_remove(other, id, &found, &why), STORE_OK, "another connection removes");
    is_int(faq_memory_suggest(fm, st, NULL, NULL, "frobnicator", "zyxwvut", 7, 3, 0.0, m, &n,
			      &why), STORE_OK, "memory: looked up a third time");
    is_int(n, 0, "memory: the removed entry is no longer suggested");
    faq_memory_free(fm);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *tmpdir = g_dir_make_tmp("intake-test-faq-index-XXXXXX", &err);
    g_autofree char *conf = NULL, *path = NULL;
    struct intake_config *cfg;
    struct store *st, *other;
    char   *why = NULL;
    int     status;

    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    path = g_build_filename(tmpdir, "tickets.db", NULL);
    conf = g_strdup_printf("[store]\npath = %s\n\n[mailbox support]\n"
			   "address = support@example.test\n", path);
    cfg = tap_config(conf);
    if (cfg == NULL)
	return tap_done();
    st = store_open(cfg, &why);
    other = st ? store_open(cfg, &why) : NULL;
    if (!ok(st != NULL && other != NULL, "store_open twice")) {
	diag("  %s", why);
	return tap_done();
    }
    follow_store(st, other);
    compare_corpus(st);
    store_close(other);
    store_close(st);
    config_free(cfg);
    status = tap_done();
    tap_remove_tree(tmpdir);
    return status;
}
