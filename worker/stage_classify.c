/*
 * NAME
 *	stage_classify - category, priority, type, language and routing of a ticket
 * SYNOPSIS
 *	enum stage_result stage_classify(job)
 * DESCRIPTION
 *	The mailbox gives the defaults: its category, priority, type and
 *	customer language; the text's language, when detected
 *	(classify_lang.c), replaces the mailbox's. Keywords in what the
 *	customer wrote give tags (classify_tags.c) and its words a sentiment
 *	in the ticket's language (classify_sentiment.c), both stored on the
 *	ticket by stage_store.c, for follow-ups too. Then the routing rules
 *	(rules_match.c, docs/rules.md) may override category, priority,
 *	type and the new ticket's status, and decide queue, assignee, case,
 *	tags, the acknowledgement and its template (job->rules: stage_store.c
 *	and stage_reply.c act on them). A rule's note = yes makes a mail that
 *	is no follow-up a message of its case's newest open ticket instead
 *	of a new ticket (when the case has none, a ticket is made).
 *	After the rules, the category model suggests a new ticket's
 *	category (classify_category.c), which becomes the category when the
 *	mailbox trusts it that far and no rule set one.
 *	Last, a mail that makes a new ticket gets its FAQ suggestions
 *	(classify_faq.c, docs/classify.md).
 *
 *	This stage only dispatches: what matches is rules_match.c's job.
 *	What the rules decided is logged here, for every mail a rule
 *	matches, and kept for the ticket (job->rules_text).
 */
#include "classify_category.h"
#include "classify_faq.h"
#include "classify_lang.h"
#include "classify_tags.h"
#include "job.h"
#include "log.h"

static enum stage_result classify_rules(struct job *job);

enum stage_result stage_classify(struct job *job)
{
    enum stage_result res = classify_rules(job);

    return res == STAGE_NEXT ? classify_faq(job) : res;
}

/* classify_rules - the mailbox's defaults, the language, the routing rules */
static enum stage_result classify_rules(struct job *job)
{
    const struct mailbox *m = job->mailbox;
    struct rules_result *r = &job->rules;

    job->category = m && m->category && *m->category ? m->category : NULL;
    job->priority = m ? m->priority : "normal";
    job->type = m && m->type && *m->type ? m->type : NULL;
    job->language = m ? m->language : "en";
    classify_lang(job);
    g_clear_pointer(&job->tag_hits, g_array_unref);
    classify_tags(job);
    classify_sentiment(job);
    job->status = "new";

    rules_result_clear(r);
    rules_eval(job->pl->rules, job->env, job->mailbox_name, r);
    classify_category(job);
    if (r->regex_errors)
	msg_warn("%s: mailbox %s: %u regular expression match(es) of %s gave up (PCRE's"
		 " match limit): counted as no match; simplify the rule's regex",
		 job->qid, job->mailbox_name, r->regex_errors, job->pl->rules->path);
    if (r->matched->len == 0)
	return STAGE_NEXT;
    job->rules_text = rules_result_text(r);
    msg_info("%s: mailbox %s: %s", job->qid, job->mailbox_name, job->rules_text);
    if (r->category)
	job->category = r->category;
    if (r->priority)
	job->priority = r->priority;
    if (r->type)
	job->type = r->type;
    if (r->status)
	job->status = r->status;
    if (r->note && r->case_name && job->ticket.id == 0) {
	struct store *st = job->pl->store;
	char   *why = NULL;
	int     rc = st->ops->case_ticket(st, r->case_name, &job->ticket, &why);

	if (rc != STORE_OK)
	    return stage_store_status(rc, job, why);
	if (job->ticket.id) {
	    job->thread_how = "a rule's note on the newest ticket of its case";
	    store_ticket_info_clear(&job->link);
	}
    }
    return STAGE_NEXT;
}
