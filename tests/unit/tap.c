/*
 * NAME
 *	tap - a tiny Test Anything Protocol helper
 * SYNOPSIS
 *	int	ok(cond, fmt, ...)
 *	int	is_str(got, want, fmt, ...)
 *	int	is_int(got, want, fmt, ...)
 *	int	has_str(haystack, needle, fmt, ...)
 *	void	skip(reason, ...)
 *	void	diag(fmt, ...)
 *	int	tap_failed()
 *	int	tap_done()
 *	void	tap_remove_tree(path)
 *	struct intake_config *tap_config(text)
 *	GPtrArray *tap_corpus_files(dir)
 * DESCRIPTION
 *	Each check prints one TAP line ("ok N - name" or "not ok N - name")
 *	on stdout and returns its verdict (1 passed, 0 failed), so that a
 *	test can stop early where later checks make no sense. A failed
 *	is_str(), is_int() or has_str() prints what it got and what it
 *	wanted as "#" diagnostics. A NULL string compares equal only to
 *	NULL and prints as (null).
 *
 *	skip() counts as a test that is neither passed nor failed
 *	("ok N # skip reason"). diag() prints a "#" comment.
 *
 *	tap_done() prints the plan "1..N" and the summary line
 *	"N passed, N failed" and returns the exit status of the test
 *	binary: 0 when nothing failed, 1 otherwise.
 *
 *	tap_corpus_files() lists the mail files below dir (a corpus),
 *	sorted by path, without its labels, expected results and README
 *	(.json, .tsv, .md).
 *
 *	tap_config() loads a configuration from its text (through a file in
 *	a temporary directory, removed again): the caller's (config_free()),
 *	or NULL after a failed check "configuration loads" with each error
 *	as a diagnostic.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "tap.h"

static int tap_count;
static int tap_passed;
static int tap_fails;
static int tap_skipped;

/* show - a string on one diagnostic line: control characters escaped */
static void show(const char *label, const char *s)
{
    printf("# %13s: ", label);
    if (s == NULL) {
	puts("(null)");
	return;
    }
    putchar('\'');
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
	if (*p == '\n')
	    fputs("\\n", stdout);
	else if (*p == '\t')
	    fputs("\\t", stdout);
	else if (*p == '\r')
	    fputs("\\r", stdout);
	else if (*p < 0x20 || *p == 0x7f)
	    printf("\\x%02x", *p);
	else
	    putchar(*p);
    }
    puts("'");
}

static int report(int cond, const char *fmt, va_list ap)
{
    tap_count++;
    if (cond)
	tap_passed++;
    else
	tap_fails++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

int     ok(int cond, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cond = report(cond != 0, fmt, ap);
    va_end(ap);
    return cond;
}

int     is_str(const char *got, const char *want, const char *fmt, ...)
{
    va_list ap;
    int     cond = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;

    va_start(ap, fmt);
    report(cond, fmt, ap);
    va_end(ap);
    if (!cond) {
	show("got", got);
	show("expected", want);
    }
    return cond;
}

int     has_str(const char *haystack, const char *needle, const char *fmt, ...)
{
    va_list ap;
    int     cond = haystack && needle && strstr(haystack, needle) != NULL;

    va_start(ap, fmt);
    report(cond, fmt, ap);
    va_end(ap);
    if (!cond) {
	show("got", haystack);
	show("to contain", needle);
    }
    return cond;
}

int     is_int(long long got, long long want, const char *fmt, ...)
{
    va_list ap;
    int     cond = got == want;

    va_start(ap, fmt);
    report(cond, fmt, ap);
    va_end(ap);
    if (!cond) {
	printf("# %13s: %lld\n", "got", got);
	printf("# %13s: %lld\n", "expected", want);
    }
    return cond;
}

void    skip(const char *reason, ...)
{
    va_list ap;

    tap_count++;
    tap_skipped++;
    printf("ok %d # skip ", tap_count);
    va_start(ap, reason);
    vprintf(reason, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void    diag(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

int     tap_failed(void)
{
    return tap_fails;
}

int     tap_done(void)
{
    printf("1..%d\n", tap_count);
    if (tap_skipped)
	printf("# %d skipped\n", tap_skipped);
    printf("%d passed, %d failed\n", tap_passed, tap_fails);
    fflush(stdout);
    return tap_fails ? 1 : 0;
}

static void collect_files(const char *dir, GPtrArray *out)
{
    GDir   *d = g_dir_open(dir, 0, NULL);
    const char *name;

    if (d == NULL)
	return;
    while ((name = g_dir_read_name(d)) != NULL) {
	char   *path = g_build_filename(dir, name, NULL);

	if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
	    collect_files(path, out);
	    g_free(path);
	} else if (g_str_has_suffix(name, ".json") || g_str_has_suffix(name, ".tsv")
		   || g_str_has_suffix(name, ".md")) {
	    g_free(path);			/* labels, expected results, README */
	} else {
	    g_ptr_array_add(out, path);
	}
    }
    g_dir_close(d);
}

static int cmp_path(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* tap_corpus_files - the mail files below dir, sorted (g_ptr_array_unref) */
GPtrArray *tap_corpus_files(const char *dir)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);

    collect_files(dir, files);
    g_ptr_array_sort(files, cmp_path);
    return files;
}

/* tap_remove_tree - remove a directory tree made by a test (symbolic links not followed) */
void    tap_remove_tree(const char *path)
{
    GDir   *d = g_dir_open(path, 0, NULL);
    const char *name;

    if (d == NULL) {
	g_remove(path);
	return;
    }
    while ((name = g_dir_read_name(d)) != NULL) {
	g_autofree char *sub = g_build_filename(path, name, NULL);

	if (g_file_test(sub, G_FILE_TEST_IS_DIR) && !g_file_test(sub, G_FILE_TEST_IS_SYMLINK))
	    tap_remove_tree(sub);
	else
	    g_remove(sub);
    }
    g_dir_close(d);
    g_rmdir(path);
}

struct intake_config *tap_config(const char *text)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("intake-test-conf-XXXXXX", &err);
    g_autofree char *path = NULL;
    GPtrArray *errors = NULL;
    struct intake_config *cfg;

    if (dir == NULL) {
	ok(0, "configuration loads: cannot make a temporary directory: %s", err->message);
	return NULL;
    }
    path = g_build_filename(dir, "intake.conf", NULL);
    if (!g_file_set_contents(path, text, -1, &err)) {
	ok(0, "configuration loads: cannot write %s: %s", path, err->message);
	tap_remove_tree(dir);
	return NULL;
    }
    cfg = config_load(path, &errors);
    tap_remove_tree(dir);
    if (!ok(cfg != NULL, "configuration loads"))
	for (guint i = 0; errors && i < errors->len; i++)
	    diag("%s", (const char *) g_ptr_array_index(errors, i));
    if (errors)
	g_ptr_array_free(errors, TRUE);
    return cfg;
}
