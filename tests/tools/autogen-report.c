/*
 * NAME
 *	autogen-report - the auto-generated mail classifier against the corpus
 * SYNOPSIS
 *	autogen-report [-t] [CORPUS]
 * DESCRIPTION
 *	Builds the envelope of every message that CORPUS/labels.tsv labels
 *	autoreply, bounce, list or normal (not unknown) with the code the
 *	milter uses and compares its "autogen" verdict with the label
 *	(normal is expected to be human). The envelope sender is what the
 *	message's Return-Path says (the MTA wrote it at delivery; the
 *	milter sees the same address in MAIL FROM), unknown without one.
 *	CORPUS defaults to $INTAKE_CORPUS, else ../shared/corpus.
 *
 *	Prints a confusion table (label by verdict), recall per label and
 *	the misclassified files with the verdict's reason (make
 *	corpus-report).
 *
 *	With -t (the default of test_autogen_corpus, the same source built
 *	with -DTEST_CORPUS) it prints TAP lines instead and fails when a
 *	figure falls below the floors below; exit 77 "skipped:" without the
 *	corpus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "envelope.h"

/*
 * Floors the classifier has reached on the corpus: a change that loses
 * one of them fails make check. Person-written mail must never be called
 * a machine's (every false positive is a customer without a ticket).
 */
#define FLOOR_BOUNCE	0.99
#define FLOOR_LIST	1.00
#define FLOOR_AUTOREPLY	1.00

static const char *const labels[] = {"normal", "autoreply", "bounce", "list", NULL};
static const char *const verdicts[] = {"human", "autoreply", "bounce", "list", "system", NULL};

static int index_of(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
	if (strcmp(names[i], name) == 0)
	    return i;
    return -1;
}

/* return_path - the first Return-Path of the header block, without <>; NULL if none. */
static char *return_path(const char *raw, gsize len)
{
    const char *p = raw, *end = raw + len;

    while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
	const char *eol = memchr(p, '\n', (size_t) (end - p));
	gsize   n = eol ? (gsize) (eol - p) : (gsize) (end - p);

	if (n > 12 && g_ascii_strncasecmp(p, "Return-Path:", 12) == 0) {
	    char   *v = g_strndup(p + 12, n - 12);

	    g_strstrip(v);
	    if (*v == '<')
		memmove(v, v + 1, strlen(v));
	    if (*v && v[strlen(v) - 1] == '>')
		v[strlen(v) - 1] = 0;
	    return v;
	}
	if (eol == NULL)
	    break;
	p = eol + 1;
    }
    return NULL;
}

int     main(int argc, char **argv)
{
    int     tap = 0;
    const char *dir = g_getenv("INTAKE_CORPUS");
    int     table[4][5] = {{0}};
    int     total[4] = {0};
    GPtrArray *wrong = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *tsv = NULL;
    g_autofree char *labels_path = NULL;
    char  **lines;
    struct envelope_limits lim = {64 * 1024, 64 * 1024 * 1024, 100, 0, 0, NULL};
    int     failed = 0, n = 0;

#ifdef TEST_CORPUS
    tap = 1;
#endif
    for (int i = 1; i < argc; i++) {
	if (strcmp(argv[i], "-t") == 0)
	    tap = 1;
	else
	    dir = argv[i];
    }
    if (dir == NULL || *dir == 0)
	dir = "../shared/corpus";
    labels_path = g_build_filename(dir, "labels.tsv", NULL);
    if (!g_file_get_contents(labels_path, &tsv, NULL, NULL)) {
	printf("skipped: corpus not found (%s)\n", labels_path);
	return tap ? 77 : 1;
    }
    envelope_init();
    lines = g_strsplit(tsv, "\n", -1);
    for (int i = 1; lines[i]; i++) {
	g_auto(GStrv) f = g_strsplit(lines[i], "\t", 3);
	g_autofree char *path = NULL;
	g_autofree char *raw = NULL;
	g_autofree char *sender = NULL;
	gsize   len;
	int     row, col;
	json_t *env, *ag;
	struct envelope_input in = {0};
	const char *rcpts[] = {"support@example.test"};

	if (g_strv_length(f) < 2 || (row = index_of(labels, f[1])) < 0)
	    continue;			/* header, unknown, empty line */
	path = g_build_filename(dir, f[0], NULL);
	if (!g_file_get_contents(path, &raw, &len, NULL)) {
	    fprintf(stderr, "autogen-report: %s: cannot read (labels.tsv line %d)\n", path, i + 1);
	    failed = 1;
	    continue;
	}
	sender = return_path(raw, len);
	in.queue_id = "REPORT";
	in.sender = sender;
	in.recipients = rcpts;
	in.n_recipients = 1;
	in.raw = raw;
	in.raw_len = len;
	in.message_size = len;
	env = envelope_build(&in, &lim);
	ag = json_object_get(env, "autogen");
	col = index_of(verdicts, envelope_str(ag, "kind"));
	if (col < 0) {
	    fprintf(stderr, "autogen-report: %s: envelope without an autogen kind\n", f[0]);
	    failed = 1;
	} else {
	    table[row][col]++;
	    total[row]++;
	    n++;
	    if (col != (row == 0 ? 0 : row))
		g_ptr_array_add(wrong, g_strdup_printf("%-9s -> %-9s %s (%s)", f[1], verdicts[col],
						       f[0], envelope_str(ag, "reason")));
	}
	json_decref(env);
    }
    g_strfreev(lines);

    if (!tap) {
	printf("%-10s", "label");
	for (int c = 0; verdicts[c]; c++)
	    printf(" %9s", verdicts[c]);
	printf(" %8s\n", "recall");
	for (int r = 0; labels[r]; r++) {
	    printf("%-10s", labels[r]);
	    for (int c = 0; verdicts[c]; c++)
		printf(" %9d", table[r][c]);
	    printf(" %7.1f%%\n", total[r] ? 100.0 * table[r][r] / total[r] : 0.0);
	}
	printf("%d messages scored (unknown skipped); %u misclassified:\n", n, wrong->len);
	for (guint i = 0; i < wrong->len; i++)
	    printf("  %s\n", (const char *) g_ptr_array_index(wrong, i));
    } else {
	static const double floors[] = {1.0, FLOOR_AUTOREPLY, FLOOR_BOUNCE, FLOOR_LIST};

	for (guint i = 0; i < wrong->len; i++)
	    printf("# %s\n", (const char *) g_ptr_array_index(wrong, i));
	printf("%s - corpus: every labelled message read and classified (%d)\n",
	       failed || n == 0 ? "not ok" : "ok", n);
	printf("%s - corpus: no person-written mail called auto-generated (%d/%d normal are human)\n",
	       total[0] > 0 && table[0][0] == total[0] ? "ok" : "not ok", table[0][0], total[0]);
	for (int r = 1; labels[r]; r++)
	    printf("%s - corpus: %s recall %d/%d at least %.0f%%\n",
		   total[r] > 0 && table[r][r] >= floors[r] * total[r] ? "ok" : "not ok",
		   labels[r], table[r][r], total[r], 100 * floors[r]);
    }
    g_ptr_array_free(wrong, TRUE);
    return failed && !tap ? 1 : 0;
}
