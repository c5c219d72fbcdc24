/*
 * NAME
 *	test_import_mbox - unit tests of worker/import_mbox.c
 * DESCRIPTION
 *	Table-driven: an mbox file's text and the mails the source hands to
 *	the feed (here a stub that records them, "|" between mails) and
 *	where it says each starts: the empty line before "From " belongs to
 *	the format, "From " inside a mail without an empty line before it
 *	does not start one, ">From " and ">>From " lose one ">", a last line
 *	without LF, CRLF files, a line longer than the source's piece size,
 *	a file that is not an mbox.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "import.h"
#include "tap.h"

/* ---------------------------------------------------------------- */
/*	A feed that records						    */
/* ---------------------------------------------------------------- */

static GString *got;			/* the mails, "|" after each */
static GString *where;			/* their places, " " after each */
static GString *postmarks;		/* each mail's "From " line, "|" after each */
static gboolean in_postmark;		/* the first line of a mail: its "From " line */

void    import_feed_begin(struct import_feed *feed, const char *w)
{
    const char *colon = strrchr(w, ':');

    g_string_append_printf(where, "%s ", colon ? colon + 1 : w);
    in_postmark = TRUE;
}

/* The source hands the "From " line first (the real feed drops it and takes its sender). */
void    import_feed_data(struct import_feed *feed, const char *data, gsize len)
{
    if (in_postmark) {
	if (len == 1 && *data == '\n') {
	    g_string_append_c(postmarks, '|');
	    in_postmark = FALSE;
	} else {
	    g_string_append_len(postmarks, data, (gssize) len);
	}
	return;
    }
    g_string_append_len(got, data, (gssize) len);
}

int     import_feed_end(struct import_feed *feed)
{
    g_string_append_c(got, '|');
    return 0;
}

void    import_feed_position(struct import_feed *feed, guint64 done, guint64 total)
{
}

gboolean import_feed_stopped(const struct import_feed *feed)
{
    return FALSE;
}

/* ---------------------------------------------------------------- */
/*	Cases								    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *name;
    const char *mbox;
    const char *want;			/* NULL: not an mbox */
    const char *where;
} cases[] = {
    {"two mails", "From a Mon\nA: 1\n\nx\n\nFrom b Tue\nB: 2\n\ny\n\n",
     "A: 1\n\nx\n|B: 2\n\ny\n|", "0 20 "},
    {"From inside a mail, no empty line before", "From a\nA: 1\n\nx\nFrom here\n\n",
     "A: 1\n\nx\nFrom here\n|", "0 "},
    {"mboxrd quoting", "From a\nA: 1\n\n>From x\n>>From y\n>Fromage\n\n",
     "A: 1\n\nFrom x\n>From y\n>Fromage\n|", "0 "},
    {"no LF at the end", "From a\nA: 1\n\nlast", "A: 1\n\nlast\n|", "0 "},
    {"empty lines kept but the last", "From a\nA: 1\n\nx\n\n\n\n", "A: 1\n\nx\n\n\n|", "0 "},
    {"CRLF", "From a\r\nA: 1\r\n\r\nx\r\n\r\nFrom b\r\nB: 2\r\n\r\ny\r\n",
     "A: 1\r\n\r\nx\r\n|B: 2\r\n\r\ny\r\n|", "0 21 "},
    {"empty file", "", "", ""},
    {"not an mbox", "Subject: hi\n\nbody\n", NULL, ""},
};

static char *write_temp(const char *text, gsize len)
{
    char   *path = NULL;
    GError *err = NULL;
    int     fd = g_file_open_tmp("test_import_mbox-XXXXXX", &path, &err);

    if (fd < 0 || write(fd, text, len) != (ssize_t) len)
	g_error("cannot write a temporary file: %s", err ? err->message : "short write");
    close(fd);
    return path;
}

static void run(const char *name, const char *text, gsize len, const char *want,
		const char *want_where)
{
    g_autofree char *path = write_temp(text, len);
    struct import_opts opts = {.location = path};
    char   *why = NULL;
    int     rc;

    g_string_truncate(got, 0);
    g_string_truncate(where, 0);
    g_string_truncate(postmarks, 0);
    rc = import_mbox(&opts, NULL, &why);
    if (want == NULL) {
	ok(rc == -1 && why && strstr(why, "not an mbox"), "%s: refused (%s)", name,
	   why ? why : "no reason");
    } else {
	is_int(rc, 0, "%s: read to the end", name);
	is_str(got->str, want, "%s: the mails", name);
	{
	    g_auto(GStrv) marks = g_strsplit(postmarks->str, "|", -1);
	    gboolean all = TRUE;

	    for (int i = 0; marks[i] && marks[i + 1]; i++)
		all = all && g_str_has_prefix(marks[i], "From ");
	    ok(all, "%s: each mail's \"From \" line handed first (%s)", name, postmarks->str);
	}
	if (want_where)
	    is_str(where->str, want_where, "%s: where each starts", name);
    }
    g_free(why);
    unlink(path);
}

/* A line longer than the source's piece (8 KB), quoted, and a "From " 9 KB into a line. */
static void test_long_line(void)
{
    GString *in = g_string_new("From a\nA: 1\n\n>From ");
    GString *want = g_string_new("A: 1\n\nFrom ");

    for (int i = 0; i < 20000; i++) {
	g_string_append_c(in, 'x');
	g_string_append_c(want, 'x');
    }
    g_string_append(in, "From z\n\nFrom b\nB: 2\n");
    g_string_append(want, "From z\n|B: 2\n|");
    run("a 20 KB line", in->str, in->len, want->str, NULL);
    g_string_free(in, TRUE);
    g_string_free(want, TRUE);
}

int     main(void)
{
    got = g_string_new(NULL);
    where = g_string_new(NULL);
    postmarks = g_string_new(NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
	run(cases[i].name, cases[i].mbox, strlen(cases[i].mbox), cases[i].want, cases[i].where);
    test_long_line();
    g_string_free(got, TRUE);
    g_string_free(where, TRUE);
    g_string_free(postmarks, TRUE);
    return tap_done();
}
