/*
 * NAME
 *	classify_category - a new ticket's suggested category
 * SYNOPSIS
 *	#include "classify_category.h"
 *
 *	struct category_classifier *category_classifier_new(void)
 *	void	classify_category_refresh(pl)
 *	void	classify_category_suggest(job)
 *	void	classify_category(job)
 *	struct category_classifier *category_classifier_free(cc)
 * DESCRIPTION
 *	classify_category_suggest() is the part that needs no store, done
 *	by a preparing thread (through classify_prepare()) for every mail of
 *	a configured mailbox, before anyone knows whether it makes a new
 *	ticket: it asks the category model (nbayes.c, trained by intakectl
 *	train on tickets whose category a person confirmed) for the best
 *	category of the subject and of the lines the customer wrote now
 *	(classify_own(), quote_own_lines(): no quoted history or signature;
 *	the first STEM_MAX_BYTES), stemmed in the ticket's language
 *	(job->language, classify_lang.c), and keeps it with its confidence
 *	(the posterior probability) in job->category_suggested and
 *	job->category_confidence. The model is only read (nb_predict()
 *	scores in memory of its own); the stemmers serialise themselves
 *	(stem.c).
 *
 *	classify_category() is the writer's step after the routing rules
 *	(docs/classify.md, "Category suggestion"): a follow-up's suggestion
 *	is dropped; a new ticket keeps it, and when the mailbox's
 *	category_auto_confidence (a percentage; 0: never) is reached and no
 *	routing rule set the category, the suggestion becomes the ticket's
 *	category. Each decision is logged with the queue id.
 *
 *	The model lives in the store, so that intakectl train (another
 *	process) can replace it: classify_category_refresh() loads it at
 *	the first call and again when its version (store op model_version)
 *	has changed, which it asks at most every CATEGORY_CHECK_SECONDS.
 *	It replaces the model the threads read, so the worker calls it only
 *	while no preparing thread runs (classify_refresh(),
 *	stage_classify.c). Without a model, or with a model of fewer than
 *	two categories, nothing is suggested.
 * DIAGNOSTICS
 *	A store error while checking or loading the model is logged
 *	(msg_warn) and the model in memory stays in use: a suggestion is
 *	never worth failing a mail.
 */
#include <math.h>
#include <string.h>

#include "classify_category.h"
#include "envelope.h"
#include "classify_text.h"
#include "job.h"
#include "log.h"
#include "nbayes.h"
#include "stem.h"

struct category_classifier {
    struct stemmers *stemmers;
    struct nb_model *model;		/* NULL: none loaded yet */
    gint64  version;			/* of the loaded model; -1: none */
    gint64  checked;			/* monotonic time of the last check, µs */
};

struct category_classifier *category_classifier_new(void)
{
    struct category_classifier *cc = g_new0(struct category_classifier, 1);

    cc->stemmers = stemmers_new();
    cc->version = -1;
    return cc;
}

struct category_classifier *category_classifier_free(struct category_classifier *cc)
{
    if (cc == NULL)
	return NULL;
    stemmers_free(cc->stemmers);
    nb_model_free(cc->model);
    g_free(cc);
    return NULL;
}

struct stemmers *category_classifier_stemmers(struct category_classifier *cc)
{
    return cc->stemmers;
}

/* add_row - a row of load_model() into the model being built */
static void add_row(void *ctx, const struct store_row *row)
{
    const struct store_value *v = row->values;
    g_autofree char *cat = NULL, *term = NULL;
    gboolean is_term = strcmp(row->kind, "term") == 0;

    if (row->n < (is_term ? 3 : 2) || v[0].type != STORE_TEXT
	|| (is_term && v[1].type != STORE_TEXT) || v[is_term ? 2 : 1].type != STORE_INT)
	return;
    cat = g_strndup(v[0].text, v[0].len);
    term = is_term ? g_strndup(v[1].text, v[1].len) : NULL;
    nb_model_add(ctx, cat, term, v[is_term ? 2 : 1].i);
}

/* refresh - load the store's model when it changed (at most every CATEGORY_CHECK_SECONDS) */
static void refresh(struct category_classifier *cc, struct store *st)
{
    gint64  now = g_get_monotonic_time(), version;
    char   *why = NULL;
    struct nb_model *m;

    if (cc->version >= 0 && now - cc->checked < CATEGORY_CHECK_SECONDS * G_USEC_PER_SEC)
	return;
    cc->checked = now;
    /* A store without the model (store_unsupported()) suggests nothing. */
    if (st->ops->model_version == NULL || st->ops->load_model == NULL)
	return;
    if (st->ops->model_version(st, &version, &why) != STORE_OK) {
	msg_warn("category model: %s (the model in memory stays in use)", why);
	g_free(why);
	return;
    }
    if (version == cc->version)
	return;
    m = nb_model_new();
    if (st->ops->load_model(st, add_row, m, &why) != STORE_OK) {
	msg_warn("category model: %s (the model in memory stays in use)", why);
	g_free(why);
	nb_model_free(m);
	return;
    }
    nb_model_finish(m);
    if (cc->version >= 0 || nb_model_categories(m))
	msg_info("category model %" G_GINT64_FORMAT " loaded: %u categories, %u terms",
		 version, nb_model_categories(m), nb_model_vocabulary(m));
    nb_model_free(cc->model);
    cc->model = m;
    cc->version = version;
}

void    classify_category_refresh(struct pipeline *pl)
{
    if (pl->category)
	refresh(pl->category, pl->store);
}

void    classify_category_suggest(struct job *job)
{
    const struct category_classifier *cc = job->pl->category;
    const char *best, *own;
    g_autofree char *scratch = NULL;
    double  conf;
    size_t  n;

    g_clear_pointer(&job->category_suggested, g_free);
    job->category_confidence = 0;
    if (cc == NULL || cc->model == NULL || nb_model_categories(cc->model) < 2)
	return;
    own = classify_own(job, STEM_MAX_BYTES, &n, &scratch);
    best = nb_predict(cc->model, cc->stemmers, job->language, envelope_str(job->env, "subject"),
		      own, n, &conf);
    if (best == NULL)
	return;
    job->category_suggested = g_strdup(best);
    job->category_confidence = conf;
}

void    classify_category(struct job *job)
{
    const struct mailbox *mb = job->mailbox;
    const char *best = job->category_suggested;
    double  conf = job->category_confidence;
    int     threshold = mb ? mb->category_auto_confidence : 0;

    /* A follow-up gets none: what was found ahead of the thread stage is dropped. */
    if (job->ticket.id != 0) {
	g_clear_pointer(&job->category_suggested, g_free);
	return;
    }
    if (best == NULL)
	return;
    if (threshold > 0 && conf * 100 >= threshold && job->rules.category == NULL) {
	job->category = job->category_suggested;
	msg_info("%s: mailbox %s: category %s applied (suggested, confidence %.3f >= %.2f)",
		 job->qid, job->mailbox_name, best, conf, threshold / 100.0);
    } else {
	msg_info("%s: mailbox %s: category %s suggested (confidence %.3f%s)", job->qid,
		 job->mailbox_name, best, conf, job->rules.category ? "; a rule set the category"
		 : threshold ? "; below category_auto_confidence" : "");
    }
}
