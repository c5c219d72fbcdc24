/*
 * NAME
 *	stage_classify - category, priority, type, language and routing of a ticket
 * SYNOPSIS
 *	enum stage_result stage_classify(job)
 *	void	classify_prepare(job)
 *	void	classify_refresh(pl)
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
 *	The lines the customer wrote now (quote_own_lines(): no quoted
 *	history, our marker or the signature) are found once, up to
 *	CLASSIFY_OWN_MAX bytes (classify_own_lines()), and each part reads the
 *	prefix it reads at most (classify_own()). A reply over a long quoted
 *	history cost one scan of it per part before.
 *
 *	classify_prepare() is the part that needs no store: own lines,
 *	language, tags, sentiment, the rules' evaluation (a pure function
 *	of the envelope and the mailbox), the suggested category and the
 *	FAQ suggestions from memory. A preparing thread runs it for each
 *	job of an entry ahead of the writer (prepare.c), and the writer's
 *	job takes the result (job_take_prepared()); without a preparation
 *	(imports, unit tests, [worker] prepare_threads = 0) stage_classify()
 *	runs it itself: one code path either way. The writer's part after
 *	the thread stage is what needs the store or its verdict: a
 *	follow-up's suggestions dropped, the category applied, a FAQ match
 *	memory could not answer asked of the store.
 *
 *	classify_refresh() reloads the category model and the FAQ entries
 *	in memory when the store has newer ones. The preparing threads read
 *	both, so the writer calls it before a batch goes to them (batch.c),
 *	and the classify stage before it classifies a job itself unless a
 *	batch's threads are running (pl->threads_reading).
 *
 *	This stage only dispatches: what matches is rules_match.c's job.
 *	What the rules decided is logged here, for every mail a rule
 *	matches, and kept for the ticket (job->rules_text).
 *
 *	The CPU time of the thread that does each part (text: finding the own
 *	lines; language, tags, sentiment, rules, category and faq in the
 *	preparing thread when there is one; faq once more in the writer
 *	when memory could not answer and the store did) goes to the metric
 *	intake_classify_duration_seconds (docs/metrics.md): make bench
 *	prints it per ticket, so that the cost of classification is seen
 *	where it is spent. CPU time, not wall time: on a shared machine a
 *	part that was preempted would look expensive.
 */
#include <string.h>
#include <time.h>

#include "classify_category.h"
#include "classify_faq.h"
#include "classify_lang.h"
#include "classify_sentiment.h"
#include "classify_tags.h"
#include "classify_text.h"
#include "job.h"
#include "log.h"
#include "metrics_worker.h"
#include "stem.h"

/* Every part reads a prefix of job->own. */
G_STATIC_ASSERT(LANG_MAX_BYTES <= CLASSIFY_OWN_MAX && TAGS_TEXT_MAX <= CLASSIFY_OWN_MAX
		&& SENTIMENT_TEXT_MAX <= CLASSIFY_OWN_MAX && STEM_MAX_BYTES <= CLASSIFY_OWN_MAX
		&& FAQ_MAX_BYTES <= CLASSIFY_OWN_MAX);

static enum stage_result classify_rules(struct job *job);

/* cpu_now - CPU seconds of the calling thread (the writer's, or a preparing thread's) */
static double cpu_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
	return 0;
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* part_done - the time since *t0 to the metric of part; *t0 becomes now */
static void part_done(struct job *job, const char *part, double *t0)
{
    double  t1;

    if (job->pl->metrics == NULL)
	return;
    t1 = cpu_now();
    worker_metrics_classify(job->pl->metrics, part, t1 - *t0);
    *t0 = t1;
}

enum stage_result stage_classify(struct job *job)
{
    enum stage_result res = classify_rules(job);
    gboolean asked;
    double  t0;

    if (res != STAGE_NEXT)
	return res;
    t0 = job->pl->metrics ? cpu_now() : 0;
    res = classify_faq(job, &asked);
    /* The writer's share only when it asked the store (memory could not answer). */
    if (asked)
	part_done(job, "faq", &t0);
    return res;
}

/*
 * classify_refresh - the category model and the FAQ entries in memory
 * reloaded from the store if they changed there; only while no preparing
 * thread reads them (between batches, or pl->threads_reading FALSE)
 */
void    classify_refresh(struct pipeline *pl)
{
    g_assert(!pl->threads_reading);
    classify_category_refresh(pl);
    if (pl->cfg->faq_max > 0)
	faq_memory_refresh(pl->faq, pl->store);
}

/*
 * classify_prepare - the part that needs no store: the own lines, the
 * language (the mailbox's unless detected), tags, sentiment, what the
 * routing rules decide, the suggested category and the FAQ suggestions
 * from memory (for every mail: whether it makes a new ticket is not
 * known yet). The writer's job does it here, unless a
 * preparing thread did it for the same entry and mailbox (prepare.c,
 * job_take_prepared()); the job must have passed job_init() only.
 */
void    classify_prepare(struct job *job)
{
    const struct mailbox *m = job->mailbox;
    struct rules_result *r = &job->rules;
    double  t0 = job->pl->metrics ? cpu_now() : 0;

    job->language = m ? m->language : "en";
    /* Not for a worker with none of the parts that read them (the category without a model
     * returns before reading; with one it finds them itself, once). */
    if (job->pl->lang || tags_count(job->pl->tags) || job->pl->sentiment
	|| job->pl->cfg->faq_max > 0)
	classify_own_lines(job);
    part_done(job, "text", &t0);
    classify_lang(job);
    part_done(job, "language", &t0);
    g_clear_pointer(&job->tag_hits, g_array_unref);
    classify_tags(job);
    part_done(job, "tags", &t0);
    classify_sentiment(job);
    part_done(job, "sentiment", &t0);
    rules_result_clear(r);
    rules_eval(job->pl->rules, job->env, job->mailbox_name, r);
    part_done(job, "rules", &t0);
    classify_category_suggest(job);
    part_done(job, "category", &t0);
    classify_faq_prepare(job);
    part_done(job, "faq", &t0);
    if (r->regex_errors)
	msg_warn("%s: mailbox %s: %u regular expression match(es) of %s gave up (PCRE's"
		 " match limit): counted as no match; simplify the rule's regex",
		 job->qid, job->mailbox_name, r->regex_errors, job->pl->rules->path);
    job->prepared = TRUE;
}

/* classify_rules - the mailbox's defaults, the prepared part, the category, the rules applied */
static enum stage_result classify_rules(struct job *job)
{
    const struct mailbox *m = job->mailbox;
    struct rules_result *r = &job->rules;

    if (!job->prepared) {
	if (!job->pl->threads_reading)
	    classify_refresh(job->pl);
	classify_prepare(job);
    }
    job->category = m && m->category && *m->category ? m->category : NULL;
    job->priority = m ? m->priority : "normal";
    job->type = m && m->type && *m->type ? m->type : NULL;
    job->status = "new";
    classify_category(job);
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
