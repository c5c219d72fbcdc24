/*
 * test_faq - FAQ suggestions: the query built from mail text
 * (classify_faq.c), the match through the SQLite store's FTS5 index
 * (store_sqlite_faq.c), FAQ files and the folder sync (faq_files.c), the
 * template variables; and how long a lookup takes among 1,000 entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "classify_faq.h"
#include "config.h"
#include "faq_files.h"
#include "store.h"
#include "tap.h"
#include "template.h"

static char *tmpdir;

static char *write_file(const char *name, const char *text)
{
    char   *path = g_build_filename(tmpdir, name, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GError) err = NULL;

    g_mkdir_with_parents(dir, 0700);
    if (!g_file_set_contents(path, text, -1, &err))
	g_error("cannot write %s: %s", path, err->message);
    return path;
}

/* ---------------------------------------------------------------- */

static const struct {
    const char *collection, *title, *url, *language, *body;
} entries[] = {
    {"support", "How do I reset my password?", "https://help.example.test/password", "en",
     "If you forgot your password, open the login page and choose 'Forgot password'."
     " We send a reset link to your mail address."},
    {"support", "Wie setze ich mein Passwort zurück?", "https://help.example.test/de/passwort",
     "de", "Wenn Sie Ihr Passwort vergessen haben, öffnen Sie die Anmeldeseite und wählen"
     " Sie 'Passwort vergessen'. Wir senden Ihnen einen Link."},
    {"support", "Where is my invoice?", "https://help.example.test/invoice", "en",
     "Invoices are sent by mail at the end of each month. Older invoices are in your"
     " account under Billing."},
    {"support", "How do I cancel my subscription?", "https://help.example.test/cancel", NULL,
     "You can cancel your subscription at any time in the account settings."},
    {"sales", "Volume discounts for large orders", "https://example.test/discounts", "en",
     "We give discounts on orders of more than 100 licenses. Ask sales for a quote."},
};

static const struct {
    const char *name;
    const char *collection;		/* NULL: any */
    const char *language;
    double  min_score;
    const char *subject;
    const char *text;
    const char *want;			/* title of the best match; NULL: none */
} cases[] = {
    {"English password question", NULL, "en", 1.5, "Password reset",
     "Hello, I forgot my password and cannot log in. Please send a reset link.",
     "How do I reset my password?"},
    {"invoice question", "support", "en", 1.5, "Invoice missing",
     "I did not receive my invoice for March. Where can I find it?", "Where is my invoice?"},
    {"German question: the German entry (the English one is of another language)", NULL,
     "de", 1.5, "Passwort vergessen",
     "Ich habe mein Passwort vergessen und kann mich nicht anmelden.",
     "Wie setze ich mein Passwort zurück?"},
    {"diacritics folded: zuruck finds zurück", NULL, "de", 1.5,
     "", "Passwort zuruck bitte", "Wie setze ich mein Passwort zurück?"},
    {"entry without language fits any language", NULL, "de", 1.5, "",
     "Please cancel my subscription", "How do I cancel my subscription?"},
    {"nothing in common: no suggestion", NULL, "en", 1.5, "Hello",
     "The weather is nice today and the garden looks lovely.", NULL},
    {"a score below the minimum: no suggestion", NULL, "en", 1000, "Password reset",
     "I forgot my password.", NULL},
    {"collection limit: sales question in support", "support", "en", 1.5, "",
     "Do you give discounts for large orders of licenses?", NULL},
    {"collection limit: sales question in sales", "sales", "en", 1.5, "",
     "Do you give discounts for large orders of licenses?",
     "Volume discounts for large orders"},
    {"hostile: FTS5 syntax is text", NULL, "en", 1.5, "\"password\" OR title:*",
     "NEAR(reset password, 2) AND ^invoice OR {title body}: \"\"\" * -- col:x + (",
     "How do I reset my password?"},
    {"hostile: only syntax, no words", NULL, "en", 1.5, "\"*\" ^ : ( ) NEAR", "OR AND NOT",
     NULL},
    {"hostile: no words at all", NULL, "en", 0, "\"*\" ^ : ( )", "+ - * 12 a", NULL},
};

/* query_shape - every term one quoted string, ORed: nothing else */
static int query_shape(const char *q)
{
    g_autoptr(GRegex) re = g_regex_new("^\"[^\"]+\"( OR \"[^\"]+\")*$", 0, 0, NULL);

    return q && g_regex_match(re, q, 0, NULL);
}

static void test_query(void)
{
    static const struct {
	const char *text;
	const char *want;		/* NULL: no query */
    } qs[] = {
	{"a to of 12 345", NULL},
	{"12345 abc 2026", "\"abc\""},
	{"Reset, RESET reset!", "\"reset\""},
	{"short longer longest", "\"longest\" OR \"longer\" OR \"short\""},
	{"ünïcödé Wörter", "\"ünïcödé\" OR \"wörter\""},
	{"title:abc col*", "\"title\" OR \"abc\" OR \"col\""},
	{"aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NCBibG9iIG9mIHRleHQ= word", "\"word\""},
    };
    GString *big = g_string_new(NULL);
    gint64  t0;

    for (size_t i = 0; i < G_N_ELEMENTS(qs); i++) {
	g_autofree char *q = faq_query(NULL, qs[i].text, strlen(qs[i].text));

	is_str(q, qs[i].want, "faq_query(\"%s\")", qs[i].text);
    }
    {
	const char *h = "\"x\"\"y\" NEAR(a b) title:foo ^bar baz* {title}:qux";
	g_autofree char *q = faq_query(h, h, strlen(h));

	ok(query_shape(q), "hostile text: only quoted terms ORed (%s)", q);
    }
    /* 1 MB of distinct words: bounded terms, bounded time (first FAQ_MAX_BYTES read). */
    for (int i = 0; big->len < 1024 * 1024; i++)
	g_string_append_printf(big, "word%c%c%c%d ", 'a' + i % 26, 'a' + i / 26 % 26,
			       'a' + i / 676 % 26, i);
    t0 = g_get_monotonic_time();
    {
	g_autofree char *q = faq_query(big->str, big->str, big->len);
	g_auto(GStrv) terms = q ? g_strsplit(q, " OR ", -1) : NULL;

	ok(query_shape(q), "1 MB of words: a well-formed query");
	is_int(terms ? g_strv_length(terms) : 0, FAQ_MAX_TERMS, "1 MB of words: %d terms",
	       FAQ_MAX_TERMS);
    }
    diag("faq_query over 1 MB subject + 1 MB text: %" G_GINT64_FORMAT " us",
	 g_get_monotonic_time() - t0);
    g_string_free(big, TRUE);
}

static void test_match(struct store *st)
{
    char   *why = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(entries); i++) {
	struct store_faq e = {entries[i].collection, entries[i].title, entries[i].url,
	    entries[i].body, entries[i].language, NULL, NULL};
	gint64  id = 0;

	if (!is_int(st->ops->faq_put(st, &e, &id, &why), STORE_OK, "faq_put %s", e.title))
	    diag("  %s", why);
	g_clear_pointer(&why, g_free);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
	struct store_faq_match m[CONFIG_FAQ_MAX] = {0};
	int     n = -1;
	int     rc = faq_suggest(st, cases[i].collection, cases[i].language, cases[i].subject,
				 cases[i].text, strlen(cases[i].text), 3, cases[i].min_score,
				 m, &n, &why);

	if (!is_int(rc, STORE_OK, "%s: looked up", cases[i].name))
	    diag("  %s", why);
	g_clear_pointer(&why, g_free);
	is_str(n > 0 ? m[0].title : NULL, cases[i].want, "%s: best match", cases[i].name);
	if (n > 0)
	    diag("  %s: best score %.2f", cases[i].name, m[0].score);
	for (int j = 1; j < n; j++)
	    ok(m[j].score <= m[j - 1].score, "%s: match %d scores no more than %d",
	       cases[i].name, j + 1, j);
	for (int j = 0; j < n; j++) {
	    ok(m[j].score >= cases[i].min_score, "%s: match %d passes min score (%.2f)",
	       cases[i].name, j + 1, m[j].score);
	    store_faq_match_clear(&m[j]);
	}
    }
}

static void test_file_parse(void)
{
    static const struct {
	const char *name, *text, *title, *url, *language, *body, *error;
    } fs[] = {
	{"all fields", "Title: T\nURL: https://x.test/a\nLanguage: de\n\nBody\ntext\n",
	 "T", "https://x.test/a", "de", "Body\ntext", NULL},
	{"CRLF, case of names", "title:  T2 \r\nurl: u\r\n\r\nB\r\n", "T2", "u", NULL, "B", NULL},
	{"title only", "Title: Only\n", "Only", NULL, NULL, "", NULL},
	{"no title", "URL: u\n\nBody\n", NULL, NULL, NULL, NULL, "line 2: no Title line"},
	{"unknown field", "Title: T\nAuthor: me\n\nB\n", NULL, NULL, NULL, NULL,
	 "line 2: expected a header line"},
	{"twice", "Title: T\nTitle: U\n\nB\n", NULL, NULL, NULL, NULL,
	 "line 2: a second Title line"},
	{"not UTF-8", "Title: \xff\n\nB\n", NULL, NULL, NULL, NULL, "line 1: not UTF-8"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(fs); i++) {
	struct faq_file f;
	g_autofree char *why = NULL;
	int     rc = faq_file_parse(fs[i].text, strlen(fs[i].text), &f, &why);

	if (fs[i].error) {
	    is_int(rc, -1, "faq file %s: refused", fs[i].name);
	    has_str(why, fs[i].error, "faq file %s: why", fs[i].name);
	    continue;
	}
	if (!is_int(rc, 0, "faq file %s: read", fs[i].name))
	    diag("  %s", why);
	is_str(f.title, fs[i].title, "faq file %s: title", fs[i].name);
	is_str(f.url, fs[i].url, "faq file %s: url", fs[i].name);
	is_str(f.language, fs[i].language, "faq file %s: language", fs[i].name);
	is_str(f.body, fs[i].body, "faq file %s: body", fs[i].name);
	faq_file_clear(&f);
    }
}

static int count_rows_n;
static void count_row(void *ctx, const struct store_row *row)
{
    (void) ctx;
    (void) row;
    count_rows_n++;
}

static int count_faq(struct store *st)
{
    char   *why = NULL;

    count_rows_n = 0;
    if (st->ops->list_faq(st, count_row, NULL, &why) != STORE_OK) {
	diag("list_faq: %s", why);
	g_free(why);
	return -1;
    }
    return count_rows_n;
}

static void sync_once(struct store *st, const char *dir, const char *name, int added,
		      int updated, int unchanged, int removed, int failed)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    struct faq_sync_counts n;
    g_autofree char *why = NULL;

    if (!is_int(faq_sync(st, dir, &n, errors, &why), STORE_OK, "sync %s", name))
	diag("  %s", why);
    is_int(n.added, added, "sync %s: added", name);
    is_int(n.updated, updated, "sync %s: updated", name);
    is_int(n.unchanged, unchanged, "sync %s: unchanged", name);
    is_int(n.removed, removed, "sync %s: removed", name);
    is_int(n.failed, failed, "sync %s: failed", name);
    is_int(errors->len, failed, "sync %s: each failure named", name);
    for (guint i = 0; i < errors->len; i++)
	has_str(g_ptr_array_index(errors, i), tmpdir, "sync %s: error names the file", name);
}

static void test_sync(struct store *st)
{
    g_autofree char *dir = g_build_filename(tmpdir, "faq", NULL);
    int     before = count_faq(st);
    g_autofree char *a = write_file("faq/support/a.txt", "Title: Alpha question\n\nalpha\n");
    g_autofree char *b = write_file("faq/support/b.txt", "Title: Beta question\n\nbeta\n");
    g_autofree char *c = write_file("faq/sales/c.txt", "Title: Gamma question\n\ngamma\n");
    g_autofree char *d = write_file("faq/top.txt", "Title: Delta question\n\ndelta\n");
    g_autofree char *bad = write_file("faq/sales/bad.txt", "no header here\n");
    g_autofree char *notes = write_file("faq/support/notes.md", "Title: not a .txt\n\nx\n");

    (void) notes;
    sync_once(st, dir, "first", 4, 0, 0, 0, 1);
    is_int(count_faq(st), before + 4, "first sync: 4 entries more, hand-made ones kept");
    sync_once(st, dir, "again", 0, 0, 4, 0, 1);
    g_free(write_file("faq/support/a.txt", "Title: Alpha question, changed\n\nalpha two\n"));
    g_unlink(b);
    g_unlink(bad);
    sync_once(st, dir, "changed", 0, 1, 2, 1, 0);
    is_int(count_faq(st), before + 3, "changed sync: 3 file entries");
    {
	struct store_faq_match m[1] = {0};
	int     n = 0;
	g_autofree char *why = NULL;

	faq_suggest(st, "default", NULL, "", "delta", 5, 1, 0, m, &n, &why);
	is_int(n, 1, "a file directly in the folder is in collection default");
	store_faq_match_clear(&m[0]);
	faq_suggest(st, "sales", NULL, "", "gamma", 5, 1, 0, m, &n, &why);
	is_int(n, 1, "a subfolder is a collection");
	store_faq_match_clear(&m[0]);
	faq_suggest(st, NULL, NULL, "", "beta", 4, 1, 0, m, &n, &why);
	is_int(n, 0, "a deleted file's entry is gone");
    }
    {
	g_autofree char *sales = g_build_filename(dir, "sales", NULL);
	GDir   *probe;

	g_chmod(sales, 0);
	if ((probe = g_dir_open(sales, 0, NULL)) != NULL) {
	    g_dir_close(probe);
	    skip("a folder mode 0 is readable here (root)");
	} else {
	    sync_once(st, dir, "unreadable subfolder", 0, 0, 2, 0, 1);
	    is_int(count_faq(st), before + 3, "unreadable subfolder: its entry kept");
	}
	g_chmod(sales, 0700);
    }
    (void) c;
    (void) d;
}

static void test_template(void)
{
    g_autofree char *dir = g_build_filename(tmpdir, "templates", NULL);
    struct templates *ts;
    static const struct {
	const char *name, *text;
	int     ok;
    } ts_[] = {
	{"good", "Subject: x\n\n{{#if faq.1.title}}{{faq.1.title}} {{faq.1.url}}"
	 " {{faq.1.score}}{{/if}} {{faq." G_STRINGIFY(CONFIG_FAQ_MAX) ".url}}\n", 1},
	{"beyond", "Subject: x\n\n{{faq.0.title}}\n", 0},
	{"field", "Subject: x\n\n{{faq.1.body}}\n", 0},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(ts_); i++) {
	g_autofree char *name = g_strdup_printf("templates/%s.en.txt", ts_[i].name);
	g_autofree char *p = write_file(name, ts_[i].text);

	(void) p;
    }
    ts = templates_new(dir);
    for (size_t i = 0; i < G_N_ELEMENTS(ts_); i++) {
	g_autofree char *why = NULL;

	is_int(templates_check(ts, ts_[i].name, "en", &why) == 0, ts_[i].ok,
	       "template %s: faq variables %s", ts_[i].name, ts_[i].ok ? "known" : "refused");
    }
    {
	g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *subject = NULL, *body = NULL, *why = NULL;

	g_hash_table_insert(vars, "faq.1.title", "T & <b>");
	g_hash_table_insert(vars, "faq.1.url", "https://u.test/");
	g_hash_table_insert(vars, "faq.1.score", "2.50");
	templates_render(ts, "good", "en", vars, &subject, &body, &why);
	is_str(body, "T & <b> https://u.test/ 2.50 \n", "faq variables rendered");
    }
    templates_free(ts);
}

/*
 * measure - µs per lookup among 1,000 entries (printed, not asserted).
 * Pseudo-words of three syllables (8,000 of them) make a vocabulary as
 * wide as a real FAQ's; each mail takes 10 words of one entry and 50
 * others.
 */
static void measure(struct store *st)
{
    static const char *const syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi",
	"pa", "dre", "gor", "bin", "fel", "hur", "jas", "mok", "nel", "quo", "wyn"};
    GRand  *r = g_rand_new_with_seed(42);
    GPtrArray *bodies = g_ptr_array_new_with_free_func(g_free);
    char   *why = NULL;
    int     mails = 200, got = 0;
    gint64  t0;

#define PSEUDO(buf) g_string_append_printf(buf, "%s%s%s ", syl[g_rand_int_range(r, 0, 20)], \
	syl[g_rand_int_range(r, 0, 20)], syl[g_rand_int_range(r, 0, 20)])
    st->ops->begin(st, &why);
    for (int i = 0; i < 1000; i++) {
	GString *body = g_string_new(NULL), *title = g_string_new(NULL);
	struct store_faq e = {"bench", NULL, "https://x.test/", NULL, NULL, NULL, NULL};
	gint64  id;

	for (int w = 0; w < 4; w++)
	    PSEUDO(title);
	for (int w = 0; w < 80; w++)
	    PSEUDO(body);
	e.title = title->str;
	e.body = body->str;
	st->ops->faq_put(st, &e, &id, &why);
	g_string_free(title, TRUE);
	g_ptr_array_add(bodies, g_string_free(body, FALSE));
    }
    st->ops->commit(st, &why);
    for (int pass = 0; pass < 2; pass++) {
	/* The second pass after faq_optimize(), as a sync or intakectl faq add leaves it. */
	if (pass == 1)
	    ok(st->ops->faq_optimize(st, &why) == STORE_OK, "faq_optimize");
	got = 0;
	t0 = g_get_monotonic_time();
	for (int i = 0; i < mails; i++) {
	    g_auto(GStrv) words = g_strsplit(g_ptr_array_index(bodies,
							  g_rand_int_range(r, 0, 1000)), " ", -1);
	    GString *text = g_string_new("Hello, ");
	    struct store_faq_match m[3] = {0};
	    int     n = 0;

	    for (int w = 0; w < 50; w++)
		PSEUDO(text);
	    for (int w = 0; w < 10; w++)
		g_string_append_printf(text, "%s ", words[w * 7]);
	    if (faq_suggest(st, "bench", NULL, "Question", text->str, text->len, 3, 1.5, m, &n,
			    &why) == STORE_OK)
		got += n > 0;
	    for (int j = 0; j < n; j++)
		store_faq_match_clear(&m[j]);
	    g_string_free(text, TRUE);
	}
	diag("FAQ lookup among 1,000 entries%s: %.0f us per mail (%d mails, %d with a"
	     " suggestion)", pass ? ", index optimised" : ", as inserted",
	     (double) (g_get_monotonic_time() - t0) / mails, mails, got);
	ok(got > mails / 2, "benchmark mails found suggestions (%d of %d)", got, mails);
    }
#undef PSEUDO
    g_ptr_array_free(bodies, TRUE);
    g_rand_free(r);
    g_free(why);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *conf = NULL;
    struct intake_config *cfg;
    GPtrArray *errors = NULL;
    struct store *st;
    char   *why = NULL;
    int     status;

    tmpdir = g_dir_make_tmp("intake-test-faq-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    conf = write_file("intake.conf", "[store]\npath = tickets.db\n\n"
		      "[mailbox support]\naddress = support@example.test\n");
    cfg = config_load(conf, &errors);
    if (!ok(cfg != NULL, "config_load"))
	return tap_done();
    st = store_open(cfg, &why);
    if (!ok(st != NULL, "store_open")) {
	diag("  %s", why);
	return tap_done();
    }
    test_query();
    test_match(st);
    test_file_parse();
    test_sync(st);
    test_template();
    measure(st);
    store_close(st);
    config_free(cfg);
    status = tap_done();
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    return status;
}
