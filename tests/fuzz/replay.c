/*
 * NAME
 *	test_fuzz_regressions - replay the fuzz targets' saved inputs
 * SYNOPSIS
 *	test_fuzz_regressions
 * DESCRIPTION
 *	Runs every fuzz target (tests/fuzz/fuzz_*.c, compiled here with gcc
 *	and ASan/UBSan like the other unit tests, each LLVMFuzzerTestOneInput
 *	renamed by -D) on
 *
 *	- every file of tests/fuzz/regressions/TARGET/: inputs a fuzzer once
 *	  crashed, leaked or timed out on, kept after the fix;
 *	- the target's seeds in tests/fuzz/seeds/TARGET/, and the shipped
 *	  configuration and templates for the config and template targets,
 *	  so that the targets' own properties are exercised even while no
 *	  regression is saved;
 *	- the first messages of the corpus ($INTAKE_CORPUS, when present)
 *	  for the envelope target, once through each way in.
 *
 *	One TAP line per file. An input that crashes aborts the binary (the
 *	"# TARGET FILE" line before it names the input); one that takes more
 *	than INTAKE_FUZZ_TIMEOUT seconds (default 10) is "not ok", and the
 *	binary stops, as the input may have left state behind. Leaks are
 *	reported by LeakSanitizer at exit. Run from the top of the tree (as
 *	tests/run does).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "fuzz.h"
#include "tap.h"

int     fuzz_envelope_one(const uint8_t *data, size_t size);
int     fuzz_decode_one(const uint8_t *data, size_t size);
int     fuzz_config_one(const uint8_t *data, size_t size);
int     fuzz_template_one(const uint8_t *data, size_t size);
int     fuzz_reply_one(const uint8_t *data, size_t size);
int     fuzz_ack_one(const uint8_t *data, size_t size);
int     fuzz_thread_one(const uint8_t *data, size_t size);
int     fuzz_rules_one(const uint8_t *data, size_t size);
int     fuzz_quote_one(const uint8_t *data, size_t size);
int     fuzz_tags_one(const uint8_t *data, size_t size);
int     fuzz_stem_one(const uint8_t *data, size_t size);
int     fuzz_zframe_one(const uint8_t *data, size_t size);
int     fuzz_api_params_one(const uint8_t *data, size_t size);

static const struct target {
    const char *name;
    int     (*one) (const uint8_t *, size_t);
    const char *const extra[4];		/* files of the tree to replay as well */
} targets[] = {
    {"envelope", fuzz_envelope_one},
    {"decode", fuzz_decode_one},
    {"config", fuzz_config_one, {"conf/intake.conf"}},
    {"template", fuzz_template_one, {"conf/templates/ack.en.txt", "conf/templates/ack.de.txt"}},
    {"reply", fuzz_reply_one},
    {"ack", fuzz_ack_one},
    {"thread", fuzz_thread_one},
    {"rules", fuzz_rules_one, {"conf/rules.conf"}},
    {"quote", fuzz_quote_one},
    {"tags", fuzz_tags_one},
    {"stem", fuzz_stem_one},
    {"zframe", fuzz_zframe_one},
    {"api_params", fuzz_api_params_one},
};

#define CORPUS_MAILS 8			/* per way into the envelope target */

static const char *current;		/* "TARGET FILE", for the timeout */

static void timed_out(int sig)
{
    static const char msg[] = "not ok - timed out: ";

    (void) sig;
    (void) !write(1, msg, sizeof(msg) - 1);
    (void) !write(1, current, strlen(current));
    (void) !write(1, "\n", 1);
    _exit(1);
}

/* replay - one input; prefix is prepended (the envelope target's flag byte) */
static void replay(const struct target *t, const char *path, const char *prefix,
		   unsigned timeout)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_autofree char *label = g_strdup_printf("%s %s%s%s", t->name, path,
					     prefix ? " flags " : "", prefix ? prefix : "");
    GByteArray *input;
    gsize   len;

    if (!g_file_get_contents(path, &text, &len, &err)) {
	ok(0, "%s: %s", label, err->message);
	return;
    }
    input = g_byte_array_new();
    if (prefix) {
	guint8  flags = (guint8) strtoul(prefix, NULL, 16);

	g_byte_array_append(input, &flags, 1);
    }
    g_byte_array_append(input, (const guint8 *) text, (guint) len);
    printf("# %s\n", label);
    fflush(stdout);
    current = label;
    alarm(timeout);
    t->one(input->data, input->len);
    alarm(0);
    ok(1, "%s", label);
    g_byte_array_unref(input);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* replay_dir - every regular file of dir, in name order */
static void replay_dir(const struct target *t, const char *dir, unsigned timeout)
{
    GDir   *d = g_dir_open(dir, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d)) != NULL)
	if (*name != '.')
	    g_ptr_array_add(names, g_build_filename(dir, name, NULL));
    if (d)
	g_dir_close(d);
    g_ptr_array_sort(names, by_name);
    for (guint i = 0; i < names->len; i++)
	if (g_file_test(names->pdata[i], G_FILE_TEST_IS_REGULAR))
	    replay(t, names->pdata[i], NULL, timeout);
    g_ptr_array_unref(names);
}

/* replay_corpus - the first CORPUS_MAILS mails of parse/zammad, each way in */
static void replay_corpus(const struct target *t, unsigned timeout)
{
    const char *corpus = g_getenv("INTAKE_CORPUS");
    g_autofree char *dir = g_build_filename(corpus ? corpus : "../shared/corpus",
					    "parse", "zammad", NULL);
    GDir   *d = g_dir_open(dir, 0, NULL);
    GPtrArray *mails = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (d == NULL) {
	skip("corpus not found at %s", dir);
	g_ptr_array_unref(mails);
	return;
    }
    while ((name = g_dir_read_name(d)) != NULL)
	if (!g_str_has_suffix(name, ".json"))
	    g_ptr_array_add(mails, g_build_filename(dir, name, NULL));
    g_dir_close(d);
    g_ptr_array_sort(mails, by_name);
    for (guint i = 0; i < mails->len && i < CORPUS_MAILS; i++) {
	replay(t, mails->pdata[i], "00", timeout);	/* envelope_build(), default limits */
	replay(t, mails->pdata[i], "02", timeout);	/* small limits */
	replay(t, mails->pdata[i], "01", timeout);	/* through mctx, 64 KB chunks */
	replay(t, mails->pdata[i], "3d", timeout);	/* mctx, leading space, 12 KB chunks */
    }
    g_ptr_array_unref(mails);
}

int     main(void)
{
    const char *env = g_getenv("INTAKE_FUZZ_TIMEOUT");
    unsigned timeout = env && atoi(env) > 0 ? (unsigned) atoi(env) : 10;

    signal(SIGALRM, timed_out);
    for (gsize i = 0; i < G_N_ELEMENTS(targets); i++) {
	const struct target *t = &targets[i];
	g_autofree char *regressions = g_build_filename("tests/fuzz/regressions", t->name, NULL);
	g_autofree char *seeds = g_build_filename("tests/fuzz/seeds", t->name, NULL);

	replay_dir(t, regressions, timeout);
	replay_dir(t, seeds, timeout);
	for (int j = 0; t->extra[j]; j++)
	    replay(t, t->extra[j], NULL, timeout);
	if (strcmp(t->name, "envelope") == 0)
	    replay_corpus(t, timeout);
    }
    return tap_done();
}
