/*
 * job.h: what the worker's stages share. See job.c.
 *
 * An entry of the stream is decoded into an envelope (stage_decode.c);
 * each mailbox the envelope names becomes one job, which passes the
 * stages in order: filter (auto-generated? may it be answered?) ->
 * autogen (a note on our ticket, kept apart, or on to a ticket) ->
 * thread (follow-up of a ticket?) -> classify -> action (a mailbox's
 * note or time entry instead of a ticket) -> store -> action notice ->
 * reply -> notify. A stage returns STAGE_NEXT to
 * go on, STAGE_DONE when the job needs nothing more (a duplicate, say),
 * STAGE_RETRY for a transient failure (the batch is rolled back and
 * tried again) or STAGE_FAIL for a permanent one (the entry stays
 * pending, is delivered again, and goes to the dead-letter stream after
 * [worker] max_deliveries).
 *
 * This header sits below the stages and below pipeline.c, which runs
 * them: a stage includes this file, never pipeline.h.
 */
#ifndef INTAKE_JOB_H
#define INTAKE_JOB_H

#include <glib.h>
#include <jansson.h>
#include "autogen.h"
#include "classify_sentiment.h"
#include "config.h"
#include "msgid.h"
#include "envelope.h"
#include "queue.h"
#include "rules.h"
#include "store.h"
#include "template.h"

struct worker_metrics;
struct lang_detector;
struct tags;
struct category_classifier;
struct faq_memory;
struct sinks;

enum stage_result { STAGE_NEXT, STAGE_DONE, STAGE_RETRY, STAGE_FAIL };

/* What every job of the worker shares: config, store, counters. */
struct pipeline {
    const struct intake_config *cfg;
    struct store *store;
    struct templates *templates;
    const struct rules *rules;		/* routing rules; NULL: none */
    struct lang_detector *lang;		/* NULL: no detection, the mailbox's language */
    const struct tags *tags;		/* keyword tags; NULL: none */
    const struct sentiment *sentiment;	/* lexicons; NULL: no sentiment */
    struct category_classifier *category;	/* NULL: no category suggestion */
    const struct msgid_keys *keys;	/* signs our Message-IDs; NULL: unsigned */
    guint   replies_queued;		/* in the current batch */
    guint   tickets_created;
    guint   messages_added;
    guint   duplicates;
    guint   autogen_kept[AUTOGEN_KINDS];	/* kept apart, by enum autogen_kind */
    guint   autogen_notes;		/* bounces, auto-replies noted on our ticket */
    struct worker_metrics *metrics;	/* NULL: not counted (unit tests) */
    const struct sinks *sinks;		/* [sink NAME] (sinks.h); NULL: no events */
    struct faq_memory *faq;		/* FAQ entries in memory (classify_faq.c); NULL: the store's */
    gboolean threads_reading;		/* a batch's preparing threads read the category model
					 * and the FAQ entries: no reload (batch.c) */
};

struct job {
    struct pipeline *pl;
    const char *entry_id;
    json_t *env;			/* borrowed */
    const char *raw;			/* the original message, or NULL */
    gsize   raw_len;
    const char *raw_zstd;		/* raw as the milter compressed it, or NULL */
    gsize   raw_zstd_len;
    const char *text;			/* the entry's text as it came (unpacked), or NULL */
    gsize   text_len;
    const char *text_zstd;		/* that text as the milter compressed it, or NULL */
    gsize   text_zstd_len;
    const char *qid;			/* MTA queue id, for the log */
    const char *mailbox_name;
    const struct mailbox *mailbox;	/* NULL: no longer configured */
    char   *dedupe_key;			/* envelope's key + mailbox */

    /* filter */
    const char *autogen_kind;		/* the milter's verdict, NULL: human */
    const char *autogen;		/* why it is auto-generated, or NULL */
    gboolean keep_apart;		/* auto-generated, not to be ticketed */
    gboolean importing;			/* intakectl autogen import: ticket it */

    /* who wrote */
    const char *customer_name;
    const char *customer_address;

    /* thread */
    struct store_ticket_info ticket;	/* .id != 0: a follow-up */
    const char *thread_how;
    gboolean reopen;			/* the follow-up reopens the closed ticket */
    gboolean refused;			/* on_closed = refuse: note on it, notice owed */
    const char *thread_note;		/* the message's note (static text), or NULL */
    struct store_ticket_info link;	/* .id != 0: the new ticket is linked to it */
    const char *link_reason;		/* static text */

    /* classify */
    const char *category;
    const char *priority;
    const char *type;
    const char *language;
    const char *status;			/* of a new ticket: "new" unless a rule says */
    struct rules_result rules;		/* what the routing rules decided */
    char   *rules_text;			/* rules_result_text(), NULL: no rule matched */
    struct store_faq_match faq[CONFIG_FAQ_MAX];	/* FAQ suggestions, best first (classify_faq.c) */
    int     faq_n;
    gboolean faq_found;			/* faq and faq_n found in memory (classify_faq_prepare()) */
    GArray *tag_hits;			/* struct tag_hit, NULL: no keyword tags */
    struct sentiment_result sentiment;	/* .label NULL: not scored */
    char   *category_suggested;		/* classify_category.c; NULL: none */
    double  category_confidence;	/* its posterior probability */
    char   *own;			/* the customer's own lines: classify_text.c */
    size_t  own_len;
    gboolean prepared;			/* own lines, language, tags, sentiment, rules,
					 * category and FAQ are done: classify_prepare(),
					 * or job_take_prepared() */

    /* action (stage_action.c): a mailbox whose action is not "ticket" */
    char   *action_failed;		/* why the action could not be done: kept as a ticket */
    char   *action_note;		/* the kept ticket's message note (job->thread_note) */

    /* store */
    gboolean is_new;
    gint64  ticket_id;
    char   *number;

    char   *why;			/* STAGE_RETRY, STAGE_FAIL */
};

typedef enum stage_result (*stage_fn) (struct job *job);

enum stage_result stage_filter(struct job *job);
enum stage_result stage_autogen(struct job *job);
enum stage_result stage_thread(struct job *job);
enum stage_result stage_classify(struct job *job);
void    classify_prepare(struct job *job);	/* its part that needs no store (prepare.c) */
void    classify_refresh(struct pipeline *pl);	/* the model and FAQ reloaded, threads idle */
enum stage_result stage_action(struct job *job);	/* branch actions: docs/actions.md */
enum stage_result stage_action_notice(struct job *job);
enum stage_result stage_store(struct job *job);
enum stage_result stage_store_seen(struct job *job);
GPtrArray *stage_store_attachments(json_t *env, gboolean whole);	/* for store.h */
enum stage_result stage_store_note(struct job *job, gint64 ticket_id, const char *number,
				   const char *note);
enum stage_result stage_reply(struct job *job);
enum stage_result stage_reply_suppress(struct job *job, const char *kind, const char *to,
				       const char *why);
enum stage_result stage_notify(struct job *job);	/* routing rules' notify (branch rules) */

json_t *stage_decode(struct queue_entry *e, char **why);

void    job_init(struct job *job, struct pipeline *pl, const char *entry_id,
		 json_t *env, const char *raw, gsize raw_len, json_t *mailbox);
void    job_clear(struct job *job);
void    job_take_prepared(struct job *job, const struct job *prep);
enum stage_result stage_store_status(int rc, struct job *job, char *why);
const char *json_header(json_t *env, const char *name);

#endif
