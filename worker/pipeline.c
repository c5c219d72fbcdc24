/*
 * NAME
 *	pipeline - run one stream entry through the worker's stages
 * SYNOPSIS
 *	enum pipe_result pipeline_entry(pl, entry, &why)
 * DESCRIPTION
 *	pipeline_entry() decodes the entry and runs one job per mailbox
 *	through the stages (see pipeline.h) inside a savepoint of the
 *	caller's store transaction: either every job of the entry is
 *	written, or none is. PIPE_OK: the entry may be acknowledged once the
 *	transaction commits. PIPE_RETRY: a transient failure; the caller
 *	rolls the transaction back and tries the batch again later.
 *	PIPE_FAIL: the entry cannot be processed; *why says why (g_free).
 *	The time of each stage goes to the worker's metrics (pl->metrics).
 */
#include <string.h>

#include "log.h"
#include "metrics_worker.h"
#include "pipeline.h"

static const stage_fn stages[] = {
    stage_filter, stage_thread, stage_classify, stage_store, stage_reply, NULL,
};

/* The stages' names, as the stage label of intake_stage_duration_seconds. */
static const char *const stage_names[] = {"filter", "thread", "classify", "store", "reply"};
G_STATIC_ASSERT(G_N_ELEMENTS(stage_names) == G_N_ELEMENTS(stages) - 1);

static enum stage_result run_job(struct job *job)
{
    for (int i = 0; stages[i]; i++) {
	gint64  t0 = g_get_monotonic_time();
	enum stage_result r = stages[i] (job);

	worker_metrics_stage(job->pl->metrics, stage_names[i],
			     (g_get_monotonic_time() - t0) / 1e6);
	if (r != STAGE_NEXT)
	    return r;
    }
    return STAGE_DONE;
}

enum pipe_result pipeline_entry(struct pipeline *pl, const struct queue_entry *e,
				char **why)
{
    const struct store_ops *ops = pl->store->ops;
    enum pipe_result result = PIPE_OK;
    json_t *env, *mb;
    size_t  i;

    *why = NULL;
    if ((env = stage_decode(e, why)) == NULL)
	return PIPE_FAIL;
    if (ops->savepoint(pl->store, why) != STORE_OK) {
	json_decref(env);
	return PIPE_RETRY;
    }
    json_array_foreach(json_object_get(env, "mailboxes"), i, mb) {
	struct job job;
	enum stage_result r;

	job_init(&job, pl, e->id, env, e->raw, e->raw_len, mb);
	r = run_job(&job);
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
