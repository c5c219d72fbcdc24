/*
 * NAME
 *	ctl_faq - intakectl faq: the FAQ entries suggested in acknowledgements
 * SYNOPSIS
 *	int	ctl_faq(config_path, json, argc, argv)
 *
 *	intakectl [-c FILE] faq add --collection C --title T [--url U]
 *		[--language L] FILE|-
 *	intakectl [-c FILE] [--json] faq list
 *	intakectl [-c FILE] faq remove ID
 *	intakectl [-c FILE] faq sync
 * DESCRIPTION
 *	add: an entry by hand, its text from FILE or standard input (at
 *	most FAQ_FILE_MAX bytes, UTF-8); prints its id. list: every entry
 *	(id, collection, language, title, URL, the file it came from).
 *	remove: one entry (sync adds a removed file entry again while its
 *	file is there). sync: the entries of [worker] faq_directory
 *	(faq_files.c), with a summary line; the worker does the same at
 *	start and on SIGHUP.
 * DIAGNOSTICS
 *	Exit status 0 on success; 1 on an error (on stderr; sync: also when
 *	a file could not be read, each named "PATH:LINE: ..."), 2 on bad
 *	usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_faq.h"
#include "envelope.h"
#include "faq_files.h"
#include "store.h"

static int usage(void)
{
    fprintf(stderr, "usage: intakectl [-c FILE] faq add --collection C --title T [--url U]"
	    " [--language L] FILE|-\n"
	    "       intakectl [-c FILE] [--json] faq list\n"
	    "       intakectl [-c FILE] faq remove ID\n"
	    "       intakectl [-c FILE] faq sync\n");
    return 2;
}

static int fail(const char *what, char *why)
{
    fprintf(stderr, "intakectl: faq %s: %s\n", what, why);
    g_free(why);
    return 1;
}

/* read_text - FILE or "-" (standard input), at most FAQ_FILE_MAX bytes */
static char *read_text(const char *file, char **why)
{
    FILE   *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    GString *s = g_string_new(NULL);
    char    buf[4096];
    size_t  n;

    if (f == NULL) {
	*why = g_strdup_printf("%s: %s", file, g_strerror(errno));
	return g_string_free(s, TRUE);
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && s->len <= FAQ_FILE_MAX)
	g_string_append_len(s, buf, n);
    if (f != stdin)
	fclose(f);
    if (s->len > FAQ_FILE_MAX || !g_utf8_validate(s->str, s->len, NULL)) {
	*why = g_strdup_printf("%s: %s", file, s->len > FAQ_FILE_MAX
			       ? "larger than " G_STRINGIFY(FAQ_FILE_MAX) " bytes"
			       : "not UTF-8 text");
	return g_string_free(s, TRUE);
    }
    return g_string_free(s, FALSE);
}

static int faq_add(struct store *st, int argc, char **argv)
{
    static const struct option opts[] = {
	{"collection", required_argument, NULL, 'C'},
	{"title", required_argument, NULL, 'T'},
	{"url", required_argument, NULL, 'U'},
	{"language", required_argument, NULL, 'L'},
	{0},
    };
    struct store_faq e = {0};
    g_autofree char *body = NULL;
    char   *why = NULL;
    gint64  id = 0;
    int     c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
	if (c == 'C')
	    e.collection = optarg;
	else if (c == 'T')
	    e.title = optarg;
	else if (c == 'U')
	    e.url = optarg;
	else if (c == 'L')
	    e.language = optarg;
	else
	    return usage();
    }
    if (optind != argc - 1 || e.collection == NULL || !*e.collection || e.title == NULL
	|| !*e.title)
	return usage();
    if ((body = read_text(argv[optind], &why)) == NULL)
	return fail("add", why);
    e.body = g_strstrip(body);
    if ((rc = st->ops->faq_put(st, &e, &id, &why)) != STORE_OK
	|| (rc = st->ops->faq_optimize(st, &why)) != STORE_OK)
	return fail("add", why);
    printf("%" G_GINT64_FORMAT "\n", id);
    return 0;
}

static void add_row(void *ctx, const struct store_row *row)
{
    json_t *obj = json_object();

    for (int i = 0; i < row->n; i++) {
	const struct store_value *v = &row->values[i];

	json_object_set_new(obj, v->name, v->type == STORE_INT ? json_integer(v->i)
			    : v->type == STORE_TEXT ? json_stringn(v->text, v->len)
			    : json_null());
    }
    json_array_append_new(ctx, obj);
}

static int faq_list(struct store *st, gboolean json)
{
    json_t *list = json_array(), *e;
    char   *why = NULL;
    size_t  i;

    if (st->ops->list_faq(st, add_row, list, &why) != STORE_OK) {
	json_decref(list);
	return fail("list", why);
    }
    if (json) {
	char   *s = json_dumps(list, JSON_INDENT(2));

	printf("%s\n", s);
	free(s);
    } else {
	json_array_foreach(list, i, e)
	    printf("%" JSON_INTEGER_FORMAT "\t%s\t%s\t%s\t%s\t%s\n",
		   json_integer_value(json_object_get(e, "id")), envelope_str(e, "collection"),
		   *envelope_str(e, "language") ? envelope_str(e, "language") : "-",
		   envelope_str(e, "title"), envelope_str(e, "url"),
		   *envelope_str(e, "source_path") ? envelope_str(e, "source_path") : "(by hand)");
    }
    json_decref(list);
    return 0;
}

static int faq_remove(struct store *st, const char *arg)
{
    gint64  id = 0;
    gboolean found = FALSE;
    char   *why = NULL;

    if (!g_ascii_string_to_signed(arg, 10, 1, G_MAXINT64, &id, NULL))
	return usage();
    if (st->ops->faq_remove(st, id, &found, &why) != STORE_OK
	|| (found && st->ops->faq_optimize(st, &why) != STORE_OK))
	return fail("remove", why);
    if (!found)
	return fail("remove", g_strdup_printf("no FAQ entry %s", arg));
    return 0;
}

static int faq_sync_cmd(struct store *st, const struct intake_config *cfg)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    struct faq_sync_counts n;
    char   *why = NULL;

    if (!*cfg->faq_directory)
	return fail("sync", g_strdup_printf("%s: [worker] faq_directory is not set", cfg->path));
    if (faq_sync(st, cfg->faq_directory, &n, errors, &why) != STORE_OK)
	return fail("sync", why);
    for (guint i = 0; i < errors->len; i++)
	fprintf(stderr, "intakectl: faq sync: %s\n", (char *) g_ptr_array_index(errors, i));
    printf("faq sync %s: %d added, %d updated, %d unchanged, %d removed, %d failed\n",
	   cfg->faq_directory, n.added, n.updated, n.unchanged, n.removed, n.failed);
    return n.failed ? 1 : 0;
}

int     ctl_faq(const char *config_path, gboolean json, int argc, char **argv)
{
    struct intake_config *cfg;
    struct store *st;
    char   *why = NULL;
    int     rc;

    if (argc < 2 || !(strcmp(argv[1], "add") == 0 || (strcmp(argv[1], "list") == 0 && argc == 2)
		      || (strcmp(argv[1], "remove") == 0 && argc == 3)
		      || (strcmp(argv[1], "sync") == 0 && argc == 2)))
	return usage();
    cfg = config_load_or_exit(config_path);
    if ((st = store_open(cfg, &why)) == NULL) {
	config_free(cfg);
	return fail(argv[1], why);
    }
    if (st->ops->faq_put == NULL || st->ops->list_faq == NULL || st->ops->faq_remove == NULL
	|| st->ops->faq_optimize == NULL) {
	store_unsupported(st, "faq", &why);
	rc = fail(argv[1], why);
    } else if (strcmp(argv[1], "add") == 0)
	rc = faq_add(st, argc - 1, argv + 1);
    else if (strcmp(argv[1], "list") == 0)
	rc = faq_list(st, json);
    else if (strcmp(argv[1], "remove") == 0)
	rc = faq_remove(st, argv[2]);
    else
	rc = faq_sync_cmd(st, cfg);
    store_close(st);
    config_free(cfg);
    return rc;
}
