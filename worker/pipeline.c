/*
 * NAME
 *	pipeline - run one stream entry through the worker's stages
 * SYNOPSIS
 *	enum pipe_result pipeline_entry(pl, entry, prep, &why)
 *	enum pipe_result pipeline_import(pl, env, raw, raw_len, mailbox,
 *					 &ticket_id, &number, &why)
 * DESCRIPTION
 *	pipeline_entry() decodes the entry and runs one job per mailbox
 *	through the stages (see pipeline.h) inside a savepoint of the
 *	caller's store transaction: either every job of the entry is
 *	written, or none is. PIPE_OK: the entry may be acknowledged once the
 *	transaction commits. PIPE_RETRY: a transient failure; the caller
 *	rolls the transaction back and tries the batch again later.
 *	PIPE_FAIL: the entry cannot be processed; *why says why (g_free).
 *
 *	prep is what a preparing thread did for this entry (prepare.c), or
 *	NULL: the envelope it decoded is used instead of decoding it again
 *	(borrowed: prep keeps it), and each mailbox's job takes the
 *	store-independent part of its classification (job_take_prepared()).
 *	prep is only read: the same preparation serves a batch retried.
 *
 *	pipeline_import() runs a kept auto-generated mail (intakectl
 *	autogen import: its envelope, original and mailbox) through the
 *	same stages as if its mailbox imported auto-generated mail, up to
 *	the store: the ticket it made or joined (*ticket_id, *number,
 *	g_free), never an acknowledgement. It runs in the caller's
 *	transaction. PIPE_FAIL also when the mail is on a ticket already
 *	(its dedupe key).
 *
 *	The time of each stage goes to the worker's metrics (pl->metrics).
 */
#include <string.h>

#include "log.h"
#include "metrics_worker.h"
#include "pipeline.h"

/* Each stage with its name, the stage label of intake_stage_duration_seconds. */
struct stage {
    stage_fn fn;
    const char *name;
};

static const struct stage stages[] = {
    {stage_filter, "filter"}, {stage_autogen, "autogen"}, {stage_thread, "thread"},
    {stage_classify, "classify"}, {stage_action, "action"}, {stage_store, "store"},
    {stage_action_notice, "action_notice"}, {stage_reply, "reply"}, {stage_notify, "notify"},
    {0},
};

/* An import makes a ticket, and an acknowledgement is never owed for it. */
static const struct stage import_stages[] = {
    {stage_filter, "filter"}, {stage_autogen, "autogen"}, {stage_thread, "thread"},
    {stage_classify, "classify"}, {stage_store, "store"}, {0},
};

static enum stage_result run_job(struct job *job, const struct stage *stages)
{
    for (int i = 0; stages[i].fn; i++) {
	gint64  t0 = g_get_monotonic_time();
	enum stage_result r = stages[i].fn(job);

	worker_metrics_stage(job->pl->metrics, stages[i].name,
			     (g_get_monotonic_time() - t0) / 1e6);
	if (r != STAGE_NEXT)
	    return r;
    }
    return STAGE_DONE;
}

enum pipe_result pipeline_entry(struct pipeline *pl, struct queue_entry *e,
				const struct prepared *prep, char **why)
{
    const struct store_ops *ops = pl->store->ops;
    enum pipe_result result = PIPE_OK;
    json_t *env, *mb;
    size_t  i;

    *why = NULL;
    if (prep) {
	g_assert(strcmp(prep->entry_id, e->id) == 0);
	if (prep->env == NULL) {
	    *why = g_strdup(prep->why);
	    return PIPE_FAIL;
	}
	env = json_incref(prep->env);
    } else if ((env = stage_decode(e, why)) == NULL) {
	return PIPE_FAIL;
    }
    if (ops->savepoint(pl->store, why) != STORE_OK) {
	json_decref(env);
	return PIPE_RETRY;
    }
    json_array_foreach(json_object_get(env, "mailboxes"), i, mb) {
	const struct job *prepared = prep ? g_ptr_array_index(prep->jobs, i) : NULL;
	struct job job;
	enum stage_result r;

	job_init(&job, pl, e->id, env, e->raw, e->raw_len, mb);
	if (prepared)
	    job_take_prepared(&job, prepared);
	job.raw_zstd = e->raw_zstd;
	job.raw_zstd_len = e->raw_zstd_len;
	job.text = e->text;
	job.text_len = e->text_len;
	job.text_zstd = e->text_zstd;
	job.text_zstd_len = e->text_zstd_len;
	r = run_job(&job, stages);
	if (r == STAGE_RETRY || r == STAGE_FAIL) {
	    *why = g_strdup_printf("mailbox %s: %s", job.mailbox_name,
				   job.why ? job.why : "unknown error");
	    result = r == STAGE_RETRY ? PIPE_RETRY : PIPE_FAIL;
	    job_clear(&job);
	    break;
	}
	job_clear(&job);
    }
    if (result == PIPE_OK) {
	char   *w = NULL;

	if (ops->release(pl->store, &w) != STORE_OK) {
	    g_free(*why);
	    *why = w;
	    result = PIPE_RETRY;
	}
    } else {
	ops->rollback_to(pl->store);
    }
    json_decref(env);
    return result;
}

enum pipe_result pipeline_import(struct pipeline *pl, json_t *env, const char *raw,
				 gsize raw_len, const char *mailbox, gint64 *ticket_id,
				 char **number, char **why)
{
    json_t *mb = json_pack("{s:s}", "name", mailbox);
    enum pipe_result result = PIPE_OK;
    enum stage_result r;
    struct job job;

    *ticket_id = 0;
    *number = NULL;
    *why = NULL;
    job_init(&job, pl, "import", env, raw, raw_len, mb);
    job.importing = TRUE;
    r = run_job(&job, import_stages);
    if (r == STAGE_RETRY || r == STAGE_FAIL) {
	*why = g_strdup(job.why ? job.why : "unknown error");
	result = r == STAGE_RETRY ? PIPE_RETRY : PIPE_FAIL;
    } else if (job.ticket_id == 0) {
	*why = g_strdup("this mail is on a ticket already (its dedupe key is stored)");
	result = PIPE_FAIL;
    } else {
	*ticket_id = job.ticket_id;
	*number = g_steal_pointer(&job.number);
    }
    job_clear(&job);
    json_decref(mb);
    return result;
}
