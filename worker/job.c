/*
 * NAME
 *	job - one mailbox's share of a stream entry, and the helpers every stage uses
 * SYNOPSIS
 *	void job_init(job, pl, entry_id, env, raw, raw_len, mailbox)
 *	void job_clear(job)
 *	void job_take_prepared(job, prep)
 *	enum stage_result stage_store_status(rc, job, why)
 *	const char *json_header(env, name)
 * DESCRIPTION
 *	job_init() fills in what a job knows before the first stage: the
 *	entry, the envelope (borrowed), the original message, the MTA queue
 *	id for the log, the mailbox and its de-duplication key. A mailbox
 *	that is no longer configured is logged; the job goes on with
 *	defaults. job_clear() frees what the stages allocated.
 *
 *	job_take_prepared() gives job a copy of what classify_prepare() found
 *	for the same entry and mailbox in a preparing thread (prepare.c):
 *	the customer's own lines, the language, keyword tags, sentiment,
 *	what the routing rules decided, the suggested category and the FAQ
 *	suggestions found in memory; stage_classify() then does not
 *	compute them again. A copy, not a move: prep stays as it was, for a
 *	batch that is rolled back and run again. Strings it points to
 *	(the language, tag and rule names) belong to the configuration, the
 *	detector, the tags and the rules, which outlive the batch. A prep of
 *	another entry or mailbox is a bug, and aborts.
 *
 *	stage_store_status() maps a store return code to a stage result,
 *	taking over why (g_free) into job->why.
 *
 *	json_header() returns the first raw header field of that name the
 *	milter copied into the envelope ([milter] raw_headers), or NULL.
 */
#include <string.h>

#include "job.h"
#include "log.h"

void    job_init(struct job *job, struct pipeline *pl, const char *entry_id,
		 json_t *env, const char *raw, gsize raw_len, json_t *mailbox)
{
    memset(job, 0, sizeof(*job));
    job->pl = pl;
    job->entry_id = entry_id;
    job->env = env;
    job->raw = raw;
    job->raw_len = raw_len;
    job->qid = json_string_value(json_object_get(env, "queue_id"));
    if (job->qid == NULL || *job->qid == 0)
	job->qid = "NOQUEUE";
    job->mailbox_name = envelope_str(mailbox, "name");
    job->mailbox = config_mailbox(pl->cfg, job->mailbox_name);
    if (job->mailbox == NULL)
	msg_warn("%s: mailbox '%s' is no longer configured: ticket made with"
		 " defaults, no acknowledgement", job->qid, job->mailbox_name);
    job->dedupe_key = g_strdup_printf("%s/%s", envelope_str(env, "dedupe_key"),
				      job->mailbox_name);
    job->rules.acknowledge = -1;
}

void    job_clear(struct job *job)
{
    g_free(job->dedupe_key);
    g_free(job->number);
    g_free(job->why);
    store_ticket_info_clear(&job->ticket);
    store_ticket_info_clear(&job->link);
    rules_result_clear(&job->rules);
    g_free(job->rules_text);
    for (int i = 0; i < job->faq_n; i++)
	store_faq_match_clear(&job->faq[i]);
    job->faq_n = 0;
    g_clear_pointer(&job->tag_hits, g_array_unref);
    g_free(job->category_suggested);
    g_free(job->own);
    g_free(job->action_failed);
    g_free(job->action_note);
}

void    job_take_prepared(struct job *job, const struct job *prep)
{
    struct rules_result *r = &job->rules;

    g_assert(prep->prepared && strcmp(prep->entry_id, job->entry_id) == 0
	     && strcmp(prep->mailbox_name, job->mailbox_name) == 0);
    g_free(job->own);
    /* Found but empty is not "not found" (NULL), which would make a part look again. */
    job->own = prep->own ? g_malloc(MAX(prep->own_len, 1)) : NULL;
    if (prep->own)
	memcpy(job->own, prep->own, prep->own_len);
    job->own_len = prep->own_len;
    job->language = prep->language;
    g_clear_pointer(&job->tag_hits, g_array_unref);
    job->tag_hits = prep->tag_hits ? g_array_copy(prep->tag_hits) : NULL;
    job->sentiment = prep->sentiment;
    rules_result_clear(r);
    *r = prep->rules;
    r->matched = g_ptr_array_copy(prep->rules.matched, NULL, NULL);
    r->tags = g_ptr_array_copy(prep->rules.tags, NULL, NULL);
    r->notify = g_ptr_array_copy(prep->rules.notify, NULL, NULL);
    g_free(job->category_suggested);
    job->category_suggested = g_strdup(prep->category_suggested);
    job->category_confidence = prep->category_confidence;
    for (int i = 0; i < job->faq_n; i++)
	store_faq_match_clear(&job->faq[i]);
    for (int i = 0; i < prep->faq_n; i++) {
	job->faq[i] = prep->faq[i];
	job->faq[i].title = g_strdup(prep->faq[i].title);
	job->faq[i].url = g_strdup(prep->faq[i].url);
    }
    job->faq_n = prep->faq_n;
    job->faq_found = prep->faq_found;
    job->prepared = TRUE;
}

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
