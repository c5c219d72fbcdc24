/*
 * NAME
 *	ctl_train - intakectl train and intakectl set-category
 * SYNOPSIS
 *	#include "ctl_train.h"
 *
 *	int	ctl_set_category(cfg, number, category)
 *	int	ctl_train_main(config_path, argc, argv)
 * DESCRIPTION
 *	"set-category NUMBER CATEGORY" sets a ticket's category as a person
 *	decided it: the category is confirmed, and confirmed tickets are
 *	what the category model learns from (docs/classify.md).
 *
 *	"train [--mailbox M] [--folds K]" makes the category model
 *	(nbayes.c) from the store's tickets with a confirmed category (of
 *	mailbox M only, with --mailbox; the newest NB_TRAIN_MAX_DOCS): the
 *	subject and the lines the customer wrote in the ticket's first mail
 *	(quote_own_lines()), stemmed in the ticket's language. It prints the
 *	documents per category, a K-fold cross-validation (default
 *	TRAIN_FOLDS) of that data (accuracy, per-category precision and
 *	recall, the majority class's share as the baseline) and the
 *	vocabulary's size, then replaces the model in the store: the workers
 *	load it within CATEGORY_CHECK_SECONDS. --dry-run saves nothing.
 *
 *	"train --cross-validate FILE.tsv [--folds K]" evaluates the method
 *	on a labelled set of mail files instead, without a configuration or
 *	store: each line "PATH<TAB>CATEGORY[<TAB>...]" (PATH relative to the
 *	file's directory; a first line "file<TAB>..." and lines starting
 *	with "#" are skipped: ../shared/corpus/labels.tsv is such a file).
 *	Each mail's envelope is built as the milter builds it; its text is
 *	stemmed as English (no language detection here). make bench runs it.
 * DIAGNOSTICS
 *	Exit status 0, 1 on an error (on stderr: a store error, an unreadable
 *	file with its line, too few categories), 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify_category.h"
#include "ctl_train.h"
#include "envelope.h"
#include "nbayes.h"
#include "quote.h"
#include "stem.h"
#include "store.h"

struct train_ctx {
    struct nb_trainer *t;
    struct stemmers *st;
    char   *own;			/* STEM_MAX_BYTES */
    guint   skipped;
};

static void train_usage(void)
{
    fprintf(stderr, "usage: intakectl [-c FILE] train [--mailbox M] [--folds K] [--dry-run]\n"
	    "       intakectl train --cross-validate FILE.tsv [--folds K]\n");
    exit(2);
}

/* add_doc - one document: subject and the customer's own lines of text */
static void add_doc(struct train_ctx *c, const char *category, const char *language,
		    const char *subject, const char *text, gsize len)
{
    size_t  n = quote_own_lines(text, len, c->own, STEM_MAX_BYTES);

    if (!nb_trainer_add(c->t, c->st, language, category, subject, c->own, n))
	c->skipped++;
}

static char *value_text(const struct store_value *v)
{
    return v->type == STORE_TEXT ? g_strndup(v->text, v->len) : NULL;
}

static void store_doc(void *ctx, const struct store_row *row)
{
    g_autofree char *cat = NULL, *lang = NULL, *subject = NULL, *body = NULL;

    if (row->n < 4 || (cat = value_text(&row->values[0])) == NULL)
	return;
    lang = value_text(&row->values[1]);
    subject = value_text(&row->values[2]);
    body = value_text(&row->values[3]);
    add_doc(ctx, cat, lang, subject, body ? body : "", body ? strlen(body) : 0);
}

/* report - documents per category, cross-validation, vocabulary */
static void report(const struct nb_eval *e, guint folds, const struct nb_model *m)
{
    printf("%-24s %6s %9s %7s\n", "CATEGORY", "DOCS", "PRECISION", "RECALL");
    for (guint c = 0; c < e->categories; c++) {
	guint   predicted = 0, hit = e->confusion[(gsize) c * e->categories + c];

	for (guint k = 0; k < e->categories; k++)
	    predicted += e->confusion[(gsize) k * e->categories + c];
	/* a document with no known word counts against recall (sizes), not precision */
	printf("%-24s %6u %9.3f %7.3f\n", e->names[c], e->sizes[c],
	       predicted ? (double) hit / predicted : 0.0,
	       e->sizes[c] ? (double) hit / e->sizes[c] : 0.0);
    }
    printf("%u-fold cross-validation: accuracy %.3f (%u of %u), baseline (majority class)"
	   " %.3f, no known word %u\n", folds, e->docs ? (double) e->correct / e->docs : 0.0,
	   e->correct, e->docs, e->docs ? (double) e->majority / e->docs : 0.0, e->unpredicted);
    if (m)
	printf("vocabulary: %u terms, %u categories\n", nb_model_vocabulary(m),
	       nb_model_categories(m));
}

/* evaluate - cross-validate and print; FALSE (and why on stderr) when it cannot */
static gboolean evaluate(struct train_ctx *c, guint folds, const struct nb_model *m)
{
    struct nb_eval *e = nb_cross_validate(c->t, folds, NB_MAX_VOCABULARY);

    if (c->skipped)
	printf("%u document(s) not used (more than %u documents or %u categories)\n",
	       c->skipped, NB_TRAIN_MAX_DOCS, NB_MAX_CATEGORIES);
    if (e == NULL) {
	fprintf(stderr, "intakectl: train: %u document(s): the model needs documents of at least"
		" two categories (intakectl set-category NUMBER CATEGORY confirms one)\n",
		nb_trainer_docs(c->t));
	return FALSE;
    }
    report(e, MIN(folds, e->docs), m);
    nb_eval_free(e);
    return TRUE;
}

/* cross_validate_file - the labelled mail files of a TSV file */
static int cross_validate_file(struct train_ctx *c, const char *tsv, guint folds)
{
    g_autofree char *text = NULL, *dir = g_path_get_dirname(tsv);
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) lines = NULL;
    struct envelope_limits lim = {1024 * 1024, 64 * 1024 * 1024, 100, 0, 0, NULL};
    const char *rcpts[] = {"support@example.test"};

    if (!g_file_get_contents(tsv, &text, NULL, &err)) {
	fprintf(stderr, "intakectl: train: %s\n", err->message);
	return 1;
    }
    envelope_init();
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
	g_auto(GStrv) f = g_strsplit(lines[i], "\t", 3);
	g_autofree char *path = NULL, *raw = NULL;
	struct envelope_input in = {0};
	gsize   len;
	json_t *env;
	const char *body;

	if (g_strv_length(f) < 2 || *f[0] == '#' || (i == 0 && strcmp(f[0], "file") == 0))
	    continue;
	path = g_path_is_absolute(f[0]) ? g_strdup(f[0]) : g_build_filename(dir, f[0], NULL);
	if (!g_file_get_contents(path, &raw, &len, NULL)) {
	    fprintf(stderr, "intakectl: train: %s:%d: cannot read %s\n", tsv, i + 1, path);
	    return 1;
	}
	in.queue_id = "TRAIN";
	in.sender = "";
	in.recipients = rcpts;
	in.n_recipients = 1;
	in.raw = raw;
	in.raw_len = len;
	in.message_size = len;
	env = envelope_build(&in, &lim);
	body = envelope_str(env, "text");
	add_doc(c, f[1], "en", envelope_str(env, "subject"), body, strlen(body));
	json_decref(env);
    }
    return evaluate(c, folds, NULL) ? 0 : 1;
}

static void collect_row(void *ctx, const char *category, const char *term, gint64 count)
{
    struct store_model_row r = {category, term, count};

    g_array_append_val((GArray *) ctx, r);
}

/* train_store - train on the confirmed tickets, evaluate, save */
static int train_store(struct train_ctx *c, const char *config_path, const char *mailbox,
		       guint folds, gboolean dry_run)
{
    struct intake_config *cfg = config_load_or_exit(config_path);
    struct store *st = NULL;
    struct nb_model *m = NULL;
    g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(struct store_model_row));
    char   *why = NULL;
    gint64  version = 0;
    int     rc = 1;

    if (mailbox && config_mailbox(cfg, mailbox) == NULL) {
	fprintf(stderr, "intakectl: train: no mailbox '%s' in %s\n", mailbox, cfg->path);
	goto out;
    }
    if ((st = store_open(cfg, &why)) == NULL
	|| (st->ops->training_docs == NULL || st->ops->save_model == NULL
	    || st->ops->model_version == NULL
	    ? store_unsupported(st, "the category model", &why)
	    : st->ops->training_docs(st, mailbox, NB_TRAIN_MAX_DOCS, store_doc, c, &why))
	!= STORE_OK) {
	fprintf(stderr, "intakectl: train: %s\n", why);
	goto out;
    }
    m = nb_trainer_model(c->t, NB_MAX_VOCABULARY);
    if (!evaluate(c, folds, m))
	goto out;
    if (dry_run) {
	rc = 0;
	goto out;
    }
    nb_model_foreach(m, collect_row, rows);
    if (st->ops->begin(st, &why) != STORE_OK
	|| st->ops->save_model(st, (struct store_model_row *) rows->data, rows->len, &why)
	!= STORE_OK || st->ops->model_version(st, &version, &why) != STORE_OK
	|| st->ops->commit(st, &why) != STORE_OK) {
	st->ops->rollback(st);
	fprintf(stderr, "intakectl: train: %s\n", why);
	goto out;
    }
    printf("model %" G_GINT64_FORMAT " saved: %u rows; workers load it within %d s\n",
	   version, rows->len, CATEGORY_CHECK_SECONDS);
    rc = 0;
out:
    g_free(why);
    nb_model_free(m);
    store_close(st);
    config_free(cfg);
    return rc;
}

int     ctl_train_main(const char *config_path, int argc, char **argv)
{
    static const struct option opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"mailbox", required_argument, NULL, 'm'},
	{"folds", required_argument, NULL, 'k'},
	{"cross-validate", required_argument, NULL, 'x'},
	{"dry-run", no_argument, NULL, 'n'},
	{NULL, 0, NULL, 0},
    };
    const char *mailbox = NULL, *tsv = NULL;
    struct train_ctx c = {0};
    gboolean dry_run = FALSE;
    int     folds = TRAIN_FOLDS, o, rc;

    optind = 0;
    while ((o = getopt_long(argc, argv, "c:m:k:x:n", opts, NULL)) != -1) {
	switch (o) {
	case 'c':
	    config_path = optarg;
	    break;
	case 'm':
	    mailbox = optarg;
	    break;
	case 'k':
	    if ((folds = atoi(optarg)) < 2)
		train_usage();
	    break;
	case 'x':
	    tsv = optarg;
	    break;
	case 'n':
	    dry_run = TRUE;
	    break;
	default:
	    train_usage();
	}
    }
    if (optind != argc || (tsv && (mailbox || dry_run)))
	train_usage();
    c.t = nb_trainer_new();
    c.st = stemmers_new();
    c.own = g_malloc(STEM_MAX_BYTES);
    rc = tsv ? cross_validate_file(&c, tsv, (guint) folds)
	: train_store(&c, config_path, mailbox, (guint) folds, dry_run);
    nb_trainer_free(c.t);
    stemmers_free(c.st);
    g_free(c.own);
    return rc;
}

int     ctl_set_category(const struct intake_config *cfg, const char *number,
			 const char *category)
{
    char   *why = NULL;
    struct store *st;
    struct store_ticket_info info = {0};
    int     rc = 1;

    if (*category == 0 || strlen(category) > 200 || !g_utf8_validate(category, -1, NULL)) {
	fprintf(stderr, "intakectl: set-category: a category is 1 to 200 bytes of UTF-8\n");
	return 2;
    }
    if ((st = store_open(cfg, &why)) == NULL) {
	fprintf(stderr, "intakectl: set-category: %s\n", why);
	g_free(why);
	return 1;
    }
    if (st->ops->begin(st, &why) == STORE_OK
	&& st->ops->find_ticket(st, number, &info, &why) == STORE_OK) {
	if (info.id == 0)
	    why = g_strdup_printf("no ticket %s", number);
	else if (st->ops->set_category == NULL)
	    store_unsupported(st, "set-category", &why);
	else if (st->ops->set_category(st, info.id, category, &why) == STORE_OK
		 && st->ops->commit(st, &why) == STORE_OK)
	    rc = 0;
    }
    if (rc) {
	st->ops->rollback(st);
	fprintf(stderr, "intakectl: set-category: %s\n", why ? why : "unknown error");
    } else {
	printf("%s: category %s (confirmed)\n", number, category);
    }
    g_free(why);
    store_ticket_info_clear(&info);
    store_close(st);
    return rc;
}
