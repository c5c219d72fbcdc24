/*
 * NAME
 *	pipeline - run one stream entry through the worker's stages
 * SYNOPSIS
 *	enum pipe_result pipeline_entry(pl, entry, &why)
 *	const char *json_header(env, name)
 * DESCRIPTION
 *	pipeline_entry() decodes the entry and runs one job per mailbox
 *	through the stages (see pipeline.h) inside a savepoint of the
 *	caller's store transaction: either every job of the entry is
 *	written, or none is. PIPE_OK: the entry may be acknowledged once the
 *	transaction commits. PIPE_RETRY: a transient failure; the caller
 *	rolls the transaction back and tries the batch again later.
 *	PIPE_FAIL: the entry cannot be processed; *why says why (g_free).
 *
 *	json_header() returns the first raw header field of that name the
 *	milter copied into the envelope ([milter] raw_headers), or NULL.
 */
#include <string.h>

#include "log.h"
#include "pipeline.h"

static const stage_fn stages[] = {
    stage_filter, stage_thread, stage_classify, stage_store, stage_reply, NULL,
};

const char *json_header(json_t *env, const char *name)
{
    json_t *h;
    size_t  i;

    json_array_foreach(json_object_get(env, "headers"), i, h) {
	const char *n = json_string_value(json_array_get(h, 0));

	if (n && g_ascii_strcasecmp(n, name) == 0)
	    return json_string_value(json_array_get(h, 1));
    }
    return NULL;
}

static void job_clear(struct job *job)
{
    g_free(job->dedupe_key);
    g_free(job->number);
    g_free(job->why);
    store_ticket_info_clear(&job->ticket);
}

static enum stage_result run_job(struct job *job)
{
    for (int i = 0; stages[i]; i++) {
	enum stage_result r = stages[i] (job);

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
	struct job job = {0};
	enum stage_result r;

	job.pl = pl;
	job.entry_id = e->id;
	job.env = env;
	job.raw = e->raw;
	job.raw_len = e->raw_len;
	job.qid = json_string_value(json_object_get(env, "queue_id"));
	if (job.qid == NULL || *job.qid == 0)
	    job.qid = "NOQUEUE";
	job.mailbox_name = envelope_str(mb, "name");
	job.mailbox = config_mailbox(pl->cfg, job.mailbox_name);
	if (job.mailbox == NULL)
	    msg_warn("%s: mailbox '%s' is no longer configured: ticket made with"
		     " defaults, no acknowledgement", job.qid, job.mailbox_name);
	job.dedupe_key = g_strdup_printf("%s/%s", envelope_str(env, "dedupe_key"),
					 job.mailbox_name);
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

/* stage_store_status - map a store return code to a stage result */
enum stage_result stage_store_status(int rc, struct job *job, char *why)
{
    if (rc == STORE_OK) {
	g_free(why);
	return STAGE_NEXT;
    }
    g_free(job->why);
    job->why = why;
    return rc == STORE_BUSY ? STAGE_RETRY : STAGE_FAIL;
}
