/*
 * NAME
 *	fuzz - what the fuzz targets share
 * SYNOPSIS
 *	void	fuzz_init()
 *	const char *fuzz_dir()
 *	char   *fuzz_write(name, data, size)
 *	struct intake_config *fuzz_config(name, text)
 *	void	fuzz_fail(fmt, ...)
 * DESCRIPTION
 *	fuzz_init() runs once per process (each target calls it first):
 *	it initialises GMime and makes GLib's critical warnings fatal. A
 *	g_critical() means a function was called against its contract (a
 *	NULL where none is allowed, a bad UTF-8 string into a GLib string
 *	function): on hostile input that is a bug of ours, so it must stop
 *	the fuzzer like a crash does. Ordinary g_warning()s stay warnings.
 *
 *	fuzz_dir() is a private temporary directory, made on first use and
 *	removed with its files at exit; fuzz_write() writes data into the
 *	file NAME there and returns its path (g_free).
 *
 *	fuzz_config() loads the target's own configuration from its text
 *	(written to NAME in fuzz_dir()), once per process and NAME (a
 *	static string): later calls return the same one. A configuration that does not load fails.
 *
 *	fuzz_fail() is for a broken property (a round trip that does not
 *	come back, a header that was injected): it prints the reason and
 *	aborts, which libFuzzer and the replay binary both report as a
 *	crash with the input that caused it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <glib/gstdio.h>

#include "envelope.h"
#include "fuzz.h"

static char *dir;

static void remove_dir(void)
{
    GDir   *d;
    const char *name;

    if (dir == NULL)
	return;
    if ((d = g_dir_open(dir, 0, NULL)) != NULL) {
	while ((name = g_dir_read_name(d)) != NULL) {
	    g_autofree char *path = g_build_filename(dir, name, NULL);

	    (void) g_remove(path);
	}
	g_dir_close(d);
    }
    (void) g_rmdir(dir);
    g_clear_pointer(&dir, g_free);
}

void    fuzz_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
	envelope_init();
	g_once_init_leave(&done, 1);
    }
}

const char *fuzz_dir(void)
{
    if (dir == NULL) {
	g_autoptr(GError) err = NULL;

	if ((dir = g_dir_make_tmp("intake-fuzz-XXXXXX", &err)) == NULL)
	    fuzz_fail("cannot make a temporary directory: %s", err->message);
	atexit(remove_dir);
    }
    return dir;
}

char   *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    g_autoptr(GError) err = NULL;
    char   *path = g_build_filename(fuzz_dir(), name, NULL);

    if (!g_file_set_contents(path, (const char *) data, (gssize) size, &err))
	fuzz_fail("cannot write %s: %s", path, err->message);
    return path;
}

void    fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("fuzz: property broken: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

struct intake_config *fuzz_config(const char *name, const char *text)
{
    /* By name: the replay binary runs every target in one process. */
    static GHashTable *loaded;
    struct intake_config *cfg;

    if (loaded == NULL)
	loaded = g_hash_table_new(g_str_hash, g_str_equal);
    if ((cfg = g_hash_table_lookup(loaded, name)) == NULL) {
	g_autofree char *path = fuzz_write(name, (const uint8_t *) text, strlen(text));
	GPtrArray *errors = NULL;

	cfg = config_load(path, &errors);
	if (cfg == NULL)
	    fuzz_fail("the target's own configuration does not load: %s",
		      errors->len ? (char *) g_ptr_array_index(errors, 0) : "?");
	g_ptr_array_free(errors, TRUE);
	g_hash_table_insert(loaded, (gpointer) name, cfg);
    }
    return cfg;
}
