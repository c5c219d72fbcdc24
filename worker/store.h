/*
 * store.h: the ticket store interface. A backend (store_sqlite*.c; later
 * PostgreSQL) fills in struct store_ops; store.c dispatches on
 * [store] backend. All functions return STORE_OK, or STORE_BUSY for a
 * transient failure (locked, disk full, connection lost: the caller
 * rolls back and tries again later) or STORE_ERROR for a permanent one;
 * *why then gets a text for the log (g_free).
 *
 * The interface is the write path, the reads the pipeline and the outbox
 * need (plain C structs), and a few reports. Writes happen between
 * store_begin() and store_commit(); inside, a job's writes can be undone
 * alone with store_savepoint()/store_release()/store_rollback_to()
 * (several envelopes share one transaction: one fsync for a batch).
 *
 * Reports return rows, never a presentation: stats() fills struct
 * store_stats; list_tickets(), show_ticket(), list_autogen() and
 * show_autogen() call a store_row_fn once per row, in order, with named
 * columns (listed at each op below; the names and their order are part
 * of the interface: intakectl's JSON keys are these names, shaped by
 * ctl_show.c). A row and its values are borrowed for the call. Columns
 * are integer, text (not necessarily valid UTF-8) or null. When a
 * report fails midway the callback has seen some rows: discard them.
 *
 * Durability and housekeeping are the backend's business: a connection
 * opened with store_open_relaxed() may lose its last commits to a power
 * loss (not to a crash of the process), and maintain() is called about
 * twice a second from a connection of its own (maint.c) and must never
 * wait for the writer.
 */
#ifndef INTAKE_STORE_H
#define INTAKE_STORE_H

#include <glib.h>
#include "autogen.h"
#include "config.h"

enum { STORE_OK = 0, STORE_BUSY = 1, STORE_ERROR = 2 };

#define STORE_SCHEMA_VERSION 8

/*
 * What of a message the full-text index holds, in every backend: the
 * first STORE_INDEX_SUBJECT_MAX bytes of its subject and the first
 * STORE_INDEX_TEXT_MAX bytes of its text (body), each cut by
 * store_index_len(). A sender decides how many distinct words a text
 * has: uncut, 1 MB of them costs SQLite's FTS5 some 20 MB for the row
 * and makes PostgreSQL refuse the row (a tsvector is at most 1 MB),
 * so the mail could never become a ticket. At most about three bytes of
 * vector per byte of text, these two stay below that limit. What is
 * stored and shown is never cut.
 */
#define STORE_INDEX_SUBJECT_MAX	(16 * 1024)
#define STORE_INDEX_TEXT_MAX	(256 * 1024)

struct store;

/* A new ticket. Strings are borrowed for the call. */
struct store_ticket {
    const char *mailbox;
    const char *title;
    const char *category;
    const char *priority;
    const char *type;
    const char *language;
    const char *customer_name;
    const char *customer_address;
    const char *status;			/* "new" */
    gint64  linked_to;			/* 0, or the ticket this one is linked to */
    const char *link_reason;		/* why (for intakectl ticket) */
    const char *sender_key;		/* addr_normalise()d customer: near-duplicates */
    const char *subject_key;		/* subject_key(): near-duplicates */
    const char *category_suggested;	/* classify_category.c; NULL: none */
    double  category_confidence;	/* its posterior probability, 0..1 */
    /*
     * The first mail's sentiment (classify_sentiment.c; NULL: not scored),
     * in the ticket's row from the start: a second statement (set_classes)
     * rewrote the row for it.
     */
    const char *sentiment;
    double  sentiment_score;
};

/* One row of the category model (nbayes.c): term NULL is the category's document count. */
struct store_model_row {
    const char *category;
    const char *term;
    gint64  count;
};

/* What the routing rules decided for a new ticket (worker/rules*.c). Borrowed for the call. */
struct store_routing {
    const char *queue;			/* NULL: none */
    const char *assignee;
    const char *case_name;		/* the case is made when it does not exist */
    const char *rules;			/* the rules that matched and what they set */
    const char *const *tags;		/* NULL-terminated, or NULL */
};

/* What the classify stage found in a mail (classify_tags.c, classify_sentiment.c). Borrowed. */
struct store_classes {
    const char *const *tags;		/* keyword tags, NULL-terminated, or NULL */
    const char *sentiment;		/* negative, neutral, positive; NULL: not scored */
    double  sentiment_score;
};

struct store_attachment {
    const char *filename;
    const char *content_type;
    const char *content_id;
    gint64  size;
    gint64  part;			/* MIME part index in the original (envelope "part") */
    const char *sha256;			/* of the decoded content, hex; may be NULL */
    gboolean stored;			/* readable from the original (complete, kept) */
};

/*
 * An attachment read back (owned: store_attachment_row_clear()). Its
 * bytes: content if not NULL (stored apart by an older schema), else
 * MIME part "part" of raw (decoded by ctl_attachment()), else none.
 */
struct store_attachment_row {
    gboolean found;
    gint64  id;
    char   *filename;
    char   *content_type;
    gint64  size;
    gboolean stored;
    gint64  part;
    char   *sha256;				/* NULL: not known */
    char   *mime_limits;			/* the envelope's, JSON text; NULL: none */
    GBytes *content;
    GBytes *raw;
};

/*
 * A FAQ entry (faq_files.c, intakectl faq add). Borrowed for the call.
 * An entry read from a file names it (source_path) and its content's
 * SHA-256: storing it again replaces that file's entry.
 */
struct store_faq {
    const char *collection;
    const char *title;
    const char *url;			/* NULL: none */
    const char *body;
    const char *language;		/* NULL: suggested for a mail in any language */
    const char *source_path;		/* NULL: added by hand */
    const char *sha256;			/* hex; NULL: added by hand */
};

/* A FAQ entry suggested for a mail (owned: store_faq_match_clear()). */
struct store_faq_match {
    gint64  id;
    char   *title;
    char   *url;			/* NULL: none */
    double  score;			/* -bm25(): higher is better (docs/classify.md) */
};

/* One mail of a ticket. */
struct store_message {
    const char *direction;		/* "in" or "out" */
    const char *envelope_id;
    const char *queue_id;
    const char *dedupe_key;		/* unique per mailbox: decides duplicates */
    const char *message_id;		/* without <> */
    const char *sender_name;
    const char *sender_address;
    const char *recipients;		/* JSON array text */
    const char *subject;
    const char *header_fields;		/* JSON array of [name, value] */
    const char *body;			/* what the sender wrote now (quote.c) */
    const char *full_text;		/* with quoted history, signature; NULL: body is all */
    GBytes *text_zstd;			/* one checked zstd frame of body, or of full_text
					 * when there is one; NULL: neither came compressed */
    GBytes *raw;			/* may be NULL */
    GBytes *raw_zstd;			/* raw as one checked zstd frame, or NULL */
    gboolean raw_truncated;
    const char *note;			/* e.g. why attachments were not stored */
    const char *mime_limits;		/* the envelope's, JSON text: how raw's parts count */
    GPtrArray *attachments;		/* struct store_attachment *; may be NULL */
    const char *const *thread_ids;	/* message ids naming this mail: own, refs */
    gboolean not_party;			/* a machine's note: its sender is no party */
};

/* An owed reply, rendered (RFC 5322 text), recorded with the ticket. */
struct store_reply {
    gint64  ticket_id;
    const char *mailbox;
    const char *kind;			/* "ack" */
    const char *recipient;
    const char *message_id;		/* ours, without <> */
    GBytes *content;
    const char *window_key;		/* replied_recently() key; NULL: recipient */
    const char *state;			/* NULL: owed; "suppressed": not to be sent */
    const char *error;			/* why suppressed, or NULL */
};

/* A reply due for sending. */
struct store_outbox {
    gint64  id;
    gint64  ticket_id;
    char   *mailbox;
    char   *recipient;
    char   *message_id;
    GBytes *content;
    int     attempts;
};

/*
 * Auto-generated mail kept apart ([mailbox] import_autogenerated = no).
 * Strings are borrowed for the call; envelope is the envelope's JSON text.
 */
struct store_autogen {
    const char *dedupe_key;		/* unique: a redelivery adds nothing */
    const char *mailbox;
    const char *kind;			/* autoreply, bounce, list, system */
    const char *reason;
    const char *queue_id;
    const char *sender;			/* the customer address the filter chose */
    const char *subject;
    const char *date;			/* the mail's Date, ISO 8601, or NULL */
    const char *envelope;
    GBytes *raw;			/* may be NULL */
    GBytes *raw_zstd;			/* raw as one checked zstd frame, or NULL: stored as is */
};

/* A kept mail read back for import (owned: store_autogen_row_clear()). */
struct store_autogen_row {
    gint64  id;
    char   *mailbox;
    char   *envelope;
    GBytes *raw;			/* NULL: none kept */
    gint64  imported_ticket;		/* 0: not imported yet */
    char   *imported_number;
};

/* One of our outgoing replies, found by its Message-ID (owned: store_our_reply_clear()). */
struct store_our_reply {
    gint64  id;				/* 0: not ours */
    gint64  ticket_id;
    char   *number;
    char   *kind;				/* "ack" */
    char   *message_id;			/* the one of ids that matched */
    char   *state;
};

struct store_ticket_info {
    gint64  id;
    char   *number;
    char   *mailbox;
    char   *status;
    char   *title;
    char   *customer_address;
    gint64  closed_at;			/* Unix time; 0: not closed, or not known */
    char   *assignee;			/* the routing rules'; NULL: none */
    char   *queue;
};

/* Projects and their tasks (docs/actions.md): records made by intakectl, numbered PRJ-N, TSK-N. */
enum store_record { STORE_PROJECT, STORE_TASK };

/* A note on a project or a task: one of the ids is set. Borrowed for the call. */
struct store_note {
    gint64  project_id;
    gint64  task_id;
    const char *dedupe_key;		/* unique: a redelivery adds nothing */
    const char *author;			/* the sender's address */
    const char *subject;
    const char *body;
    const char *message_id;		/* the mail's, without <>; may be NULL */
};

/* Time spent on a ticket or a task: one of the ids is set. Borrowed for the call. */
struct store_time_entry {
    gint64  ticket_id;
    gint64  task_id;
    int     minutes;			/* > 0 */
    const char *summary;
    const char *author;
    const char *dedupe_key;		/* unique: a redelivery adds nothing */
    const char *message_id;		/* may be NULL */
};

/* Replies by state; store_reply_states[] names them (store.c). */
enum store_reply_state {
    STORE_REPLY_OWED, STORE_REPLY_SENDING, STORE_REPLY_SENT, STORE_REPLY_UNKNOWN,
    STORE_REPLY_FAILED, STORE_REPLY_BOUNCED, STORE_REPLY_SUPPRESSED,
};
#define STORE_REPLY_STATES (STORE_REPLY_SUPPRESSED + 1)
extern const char *const store_reply_states[STORE_REPLY_STATES];

/* What stats() counts. */
struct store_stats {
    gint64  tickets;
    gint64  messages;
    gint64  replies[STORE_REPLY_STATES];
    gint64  tickets_last_1m;		/* tickets created in the last minute */
    gint64  tickets_last_5m;
    gint64  tickets_last_15m;
    gint64  autogen[AUTOGEN_KINDS];	/* mail kept apart, by kind */
};

/*
 * An event for the sinks (branch sinks, docs/events.md), written in the
 * ticket's transaction: one row per sink named. Borrowed for the call.
 */
struct store_event {
    const char *type;			/* "ticket.created", ... (sinks.h) */
    gint64  ticket_id;			/* 0: none (autogen.kept) */
    const char *number;			/* NULL: the ticket's, looked up */
    const char *mailbox;
    gint64  message_row;		/* the message it is about (show_ticket's id); 0: none */
    const char *payload;		/* JSON text: the event's ticket, message, ... (sink_event.c) */
    const char *const *sinks;		/* NULL-terminated, at least one */
};

/* An event due for one sink (owned: store_event_row_clear()). */
struct store_event_row {
    gint64  row;			/* this sink's row: event_state() */
    gint64  id;				/* the event id, the same for every sink */
    char   *sink;
    char   *type;
    gint64  ticket_id;
    char   *number;
    char   *mailbox;
    gint64  message_row;
    char   *payload;
    char   *created_at;			/* ISO 8601 UTC */
    int     attempts;
};

/* One column of a report row. */
struct store_value {
    const char *name;
    enum { STORE_NULL, STORE_INT, STORE_TEXT, STORE_REAL } type;
    gint64  i;				/* STORE_INT */
    double  d;				/* STORE_REAL */
    const char *text;			/* STORE_TEXT: len bytes, not null-terminated */
    size_t  len;
};

/* A report row: which rows (show_ticket() sends several kinds) and its columns. */
struct store_row {
    const char *kind;
    const struct store_value *values;
    int     n;
};

typedef void (*store_row_fn) (void *ctx, const struct store_row *row);

/* Which tickets page_tickets() returns (branch api). Borrowed for the call. */
struct store_page {
    const char *mailbox;		/* NULL: any */
    const char *status;			/* NULL: any */
    gint64  since;			/* created at or after (Unix time); 0: any */
    gint64  before;			/* ids below this; 0: from the newest */
    int     limit;			/* > 0 */
};

struct store_ops {
    const char *name;
    int     (*open) (struct store *st, char **why);
    void    (*close) (struct store *st);
    int     (*begin) (struct store *st, char **why);
    int     (*commit) (struct store *st, char **why);
    void    (*rollback) (struct store *st);
    int     (*savepoint) (struct store *st, char **why);
    int     (*release) (struct store *st, char **why);
    void    (*rollback_to) (struct store *st);
    int     (*find_duplicate) (struct store *st, const char *dedupe_key,
			       gint64 *ticket_id, char **number, char **why);
    int     (*find_ticket) (struct store *st, const char *number,
			    struct store_ticket_info *info, char **why);
    int     (*find_by_message_ids) (struct store *st, const char *mailbox,
				    const char *const *ids,
				    struct store_ticket_info *info, char **why);
    int     (*is_party) (struct store *st, gint64 ticket_id, const char *address,
			 gboolean *yes, char **why);
    /* The parties of a ticket, lower case, first (if a party) first; NULL-terminated (g_strfreev). */
    int     (*parties) (struct store *st, gint64 ticket_id, const char *first,
			    char ***addresses, char **why);
    /* The newest ticket of mailbox, not closed, of sender_key and subject_key, updated since. */
    int     (*find_near_duplicate) (struct store *st, const char *mailbox,
				    const char *sender_key, const char *subject_key,
				    gint64 since_unix, struct store_ticket_info *info,
				    char **why);
    int     (*create_ticket) (struct store *st, const struct store_ticket *t,
			      const char *prefix, gint64 *id, char **number, char **why);
    int     (*set_status) (struct store *st, gint64 ticket_id, const char *status,
			   char **why);
    int     (*add_message) (struct store *st, gint64 ticket_id,
			    const struct store_message *m, gint64 *message_id, char **why);
    int     (*queue_reply) (struct store *st, const struct store_reply *r, char **why);
    /* Any reply, of any mailbox, queued under window_key since then? */
    int     (*replied_recently) (struct store *st, const char *window_key,
				 gint64 since_unix, gboolean *yes, char **why);
    int     (*next_reply) (struct store *st, gint64 now_unix, struct store_outbox *out,
			   gboolean *found, char **why);
    int     (*reply_state) (struct store *st, gint64 id, const char *state,
			    const char *error, gint64 next_try_unix, char **why);
    /* Is message_id the Message-ID of a reply of ours (any state)? */
    int     (*our_message_id) (struct store *st, const char *message_id, gboolean *yes,
			       char **why);
    int     (*recover_replies) (struct store *st, int *ambiguous, char **why);
    /* Our reply with one of these Message-IDs (without <>); out->id = 0: none. */
    int     (*find_our_reply) (struct store *st, const char *const *ids,
			       struct store_our_reply *out, char **why);
    /* A sent (or unknown, failed) reply came back: state bounced, the diagnostic kept. */
    int     (*reply_bounced) (struct store *st, gint64 id, const char *diagnostic,
			      char **why);
    /* Keep an auto-generated mail; *added FALSE: its dedupe key is kept already. */
    int     (*keep_autogen) (struct store *st, const struct store_autogen *a,
			     gboolean *added, char **why);
    /*
     * Rows "autogen": id, mailbox, kind, reason, sender, subject, date,
     * received_at, imported_as (a ticket number or null); newest first,
     * kind and mailbox NULL: any; limit <= 0: all.
     */
    int     (*list_autogen) (struct store *st, const char *kind, const char *mailbox,
			     int limit, store_row_fn fn, void *ctx, char **why);
    /* One row "autogen": id, mailbox, kind, reason, queue_id, sender, subject, date,
     * received_at, imported_as, envelope (JSON text); STORE_ERROR if there is none. */
    int     (*show_autogen) (struct store *st, gint64 id, store_row_fn fn, void *ctx,
			     char **why);
    /* out->id = 0: no such row. */
    int     (*load_autogen) (struct store *st, gint64 id, struct store_autogen_row *out,
			     char **why);
    int     (*autogen_imported) (struct store *st, gint64 id, gint64 ticket_id, char **why);
    /* Delete at most limit kept mails received before then; *deleted says how many. */
    int     (*prune_autogen) (struct store *st, gint64 before_unix, int limit,
			      int *deleted, char **why);
    /*
     * Rows "ticket": number, mailbox, status, title, customer, created_at,
     * updated_at, messages (their count); newest first, mailbox and status
     * NULL: any; limit <= 0: all.
     */
    int     (*list_tickets) (struct store *st, const char *mailbox, const char *status,
			     int limit, store_row_fn fn, void *ctx, char **why);
    /*
     * One snapshot of a ticket, STORE_ERROR "no ticket N" if there is none.
     * Rows in this order: "ticket" (id, number, mailbox, status, title,
     * category, priority, type, language, customer_name, customer_address,
     * created_at, updated_at, closed_at, linked_to (a number or null),
     * link_reason, queue, assignee, case, tags (comma-separated), rules,
     * sentiment, sentiment_score,
     * category_suggested, category_confidence (real, 0..1, or null),
     * category_confirmed (0 or 1));
     * "linked_from" (number, link_reason) for each ticket
     * linked to it; for each message "message" (id, direction, sender,
     * sender_name, message_id, subject, created_at, body, header_fields (JSON
     * text), note, full_text (null: body is all of the text)) followed by its "attachment"
     * rows (id, filename, content_type, size, stored (0 or 1), sha256 (hex or null));
     * "reply" (kind, recipient, state, attempts,
     * last_error, created_at, sent_at, message_id) for each reply;
     * "faq" (rank, faq_id, title, url, score) for each FAQ entry its
     * acknowledgement suggested; "time_entry" (id, minutes, summary,
     * author, message_id, created_at) for each time entry.
     */
    int     (*show_ticket) (struct store *st, const char *number, store_row_fn fn, void *ctx,
			    char **why);
    int     (*stats) (struct store *st, struct store_stats *out, char **why);
    /* Routing rules (branch rules): queue, assignee, case, tags of a new ticket. */
    int     (*set_routing) (struct store *st, gint64 ticket_id, const struct store_routing *r,
			    char **why);
    /*
     * Keyword tags added to a ticket's tags (none removed) and, when scored,
     * the sentiment of its newest mail (classify stage; new tickets and
     * follow-ups).
     */
    int     (*set_classes) (struct store *st, gint64 ticket_id, const struct store_classes *c,
			    char **why);
    /* The newest ticket of a case that is not closed; info->id = 0: none. */
    int     (*case_ticket) (struct store *st, const char *name,
			    struct store_ticket_info *info, char **why);
    /* Make a case, or give an existing one a new title. */
    int     (*add_case) (struct store *st, const char *name, const char *title, char **why);
    /* Rows "case": name, title, created_at, tickets (their count), newest (a number). */
    int     (*list_cases) (struct store *st, store_row_fn fn, void *ctx, char **why);
    /*
     * Projects and tasks (docs/actions.md). add_record(): a project
     * (project NULL) or a task of project; *number is its PRJ-N or TSK-N
     * (g_free); STORE_ERROR "no project N". find_record(): *id = 0: none.
     */
    int     (*add_record) (struct store *st, enum store_record kind, const char *project,
			   const char *title, char **number, char **why);
    int     (*find_record) (struct store *st, enum store_record kind, const char *number,
			    gint64 *id, char **why);
    /* *added FALSE: its dedupe key is written already. */
    int     (*add_note) (struct store *st, const struct store_note *n, gboolean *added,
			 char **why);
    int     (*add_time_entry) (struct store *st, const struct store_time_entry *e,
			       gboolean *added, char **why);
    /*
     * Rows "project" (number, title, status, created_at, tasks, notes: their
     * counts), or rows "task" (number, project, title, status, created_at,
     * minutes: their sum) of project (NULL: of all), in the order made.
     */
    int     (*list_records) (struct store *st, enum store_record kind, const char *project,
			     store_row_fn fn, void *ctx, char **why);
    /*
     * One snapshot; STORE_ERROR "no project N" or "no task N". A project:
     * "project" (id, number, title, status, created_at), a "task" (number,
     * title, status, created_at) for each task, a "note" (id, author,
     * subject, body, message_id, created_at) for each note. A task: "task"
     * (id, number, project, title, status, created_at, minutes), its
     * "note" rows, a "time_entry" (as show_ticket's) for each time entry.
     */
    int     (*show_record) (struct store *st, enum store_record kind, const char *number,
			    store_row_fn fn, void *ctx, char **why);
    /* Attachment id (show_ticket's) of ticket number; out->found FALSE: none. */
    int     (*load_attachment) (struct store *st, const char *number, gint64 id,
				struct store_attachment_row *out, char **why);
    /*
     * FAQ suggestions (branch faq, classify_faq.c). faq_put() adds an
     * entry, or replaces the one of f->source_path; *id is its id.
     */
    int     (*faq_put) (struct store *st, const struct store_faq *f, gint64 *id, char **why);
    int     (*faq_remove) (struct store *st, gint64 id, gboolean *found, char **why);
    /* After entries changed: make lookups fast again (SQLite: merge the index's segments). */
    int     (*faq_optimize) (struct store *st, char **why);
    /* Rows "faq": id, collection, title, url, language, source_path, sha256, updated_at. */
    int     (*list_faq) (struct store *st, store_row_fn fn, void *ctx, char **why);
    /*
     * At most max entries (best first) matching query (FTS5 syntax: the
     * caller built it, classify_faq.c), of collection (NULL: any), of
     * language or none, scoring at least min_score; *n says how many
     * of out are filled (owned).
     */
    int     (*faq_match) (struct store *st, const char *query, const char *collection,
			  const char *language, double min_score, int max,
			  struct store_faq_match *out, int *n, char **why);
    /* What a new ticket's acknowledgement suggested: m[0..n), best first. */
    int     (*set_ticket_faq) (struct store *st, gint64 ticket_id,
			       const struct store_faq_match *m, int n, char **why);
    /* Housekeeping, from a connection of its own, about twice a second (SQLite: checkpoint). */
    int     (*maintain) (struct store *st, char **why);
    /* Category suggestion (classify_category.c, ctl_train.c). A person's category: confirmed. */
    int     (*set_category) (struct store *st, gint64 ticket_id, const char *category,
			     char **why);
    /*
     * Rows "doc": category, language, subject, body (of the first mail in)
     * of the tickets whose category is confirmed, newest first; mailbox
     * NULL: any; at most limit.
     */
    int     (*training_docs) (struct store *st, const char *mailbox, int limit,
			      store_row_fn fn, void *ctx, char **why);
    /* Replace the category model by these rows; all or nothing; raises its version. */
    int     (*save_model) (struct store *st, const struct store_model_row *rows, gsize n,
			   char **why);
    /* A number that changes whenever save_model() ran. */
    int     (*model_version) (struct store *st, gint64 *version, char **why);
    /* Rows "docs" (category, docs), then "term" (category, term, count). */
    int     (*load_model) (struct store *st, store_row_fn fn, void *ctx, char **why);

    /*
     * Read-only HTTP API (branch api, worker/api*.c), on a connection of
     * store_open_readonly(); NULL: the backend has no API. Keyset pages,
     * newest first: rows with an id below before (0: from the newest),
     * at most limit of them.
     *
     * page_tickets(): rows "ticket" (id, number, mailbox, status, title,
     * customer, created_at, updated_at, messages: their count) of q's
     * mailbox and status (NULL: any) created at or after q->since (Unix
     * time; 0: any).
     *
     * search_messages(): rows "hit" (id: the message's, number, mailbox,
     * status, subject, sender, created_at) of the incoming messages
     * whose subject or text hold every word of query: words in double
     * quotes, separated by spaces (api_search.c builds it). STORE_ERROR
     * for a query that is not that, or that the index refuses.
     */
    int     (*page_tickets) (struct store *st, const struct store_page *q, store_row_fn fn,
			     void *ctx, char **why);
    int     (*search_messages) (struct store *st, const char *query, gint64 before, int limit,
				store_row_fn fn, void *ctx, char **why);
    /*
     * Sinks (branch sinks, docs/events.md): the event outbox, read by one
     * sender thread per sink (sink_sender.c). A backend without them
     * leaves them NULL: no events are written. add_event(): *id is the
     * event id. next_event(): the oldest pending row of sink due by now
     * whose ticket has no earlier row of that sink not sent yet. event_state():
     * "sent", "failed" or "pending" again (next_try), one attempt more,
     * the far end's answer kept. sink_status(): rows "sink" (sink,
     * pending, failed, sent, oldest_pending, last_answer, last_try), one per
     * sink with rows. sink_retry(): failed rows of sink (event_id 0: all)
     * pending again now. prune_events(): at most limit sent rows sent
     * before then. sink_ref_get(): *ref NULL: none.
     */
    int     (*add_event) (struct store *st, const struct store_event *ev, gint64 *id,
			  char **why);
    int     (*next_event) (struct store *st, const char *sink, gint64 now_unix,
			   struct store_event_row *out, gboolean *found, char **why);
    int     (*event_state) (struct store *st, gint64 row, const char *state,
			    const char *answer, gint64 next_try_unix, char **why);
    int     (*sink_status) (struct store *st, store_row_fn fn, void *ctx, char **why);
    int     (*sink_retry) (struct store *st, const char *sink, gint64 event_id,
			   int *requeued, char **why);
    int     (*prune_events) (struct store *st, gint64 before_unix, int limit, int *deleted,
			     char **why);
    int     (*sink_ref_get) (struct store *st, const char *sink, gint64 ticket_id,
			     char **ref, char **why);
    int     (*sink_ref_set) (struct store *st, const char *sink, gint64 ticket_id,
			     const char *ref, char **why);

    /*
     * The FAQ in memory (branch classify2, faq_index.c, classify_faq.c);
     * NULL: the worker asks faq_match() for every mail. faq_version():
     * a number that changes whenever an entry is added, changed or
     * removed (by any process), and how many entries there are.
     * faq_load(): rows "faq" (id, collection, title, url, language,
     * body), by id.
     */
    int     (*faq_version) (struct store *st, gint64 *version, gint64 *entries, char **why);
    int     (*faq_load) (struct store *st, store_row_fn fn, void *ctx, char **why);
};

struct store {
    const struct store_ops *ops;
    const struct intake_config *cfg;
    gboolean relaxed;			/* store_open_relaxed() */
    void   *impl;
    gboolean readonly;			/* store_open_readonly() (branch api) */
};

struct store *store_open(const struct intake_config *cfg, char **why);
/* FALSE: surely nothing stored yet (an SQLite file not made); a server's database may hold tickets. */
gboolean store_exists(const struct intake_config *cfg);
/* A backend may leave an op NULL (not supported): STORE_ERROR "OP: not supported by the B store". */
int     store_unsupported(const struct store *st, const char *op, char **why);
struct store *store_open_relaxed(const struct intake_config *cfg, char **why);
struct store *store_open_readonly(const struct intake_config *cfg, char **why);
struct store *store_close(struct store *st);
void    store_ticket_info_clear(struct store_ticket_info *info);
void    store_outbox_clear(struct store_outbox *out);
void    store_autogen_row_clear(struct store_autogen_row *row);
void    store_our_reply_clear(struct store_our_reply *r);
void    store_attachment_row_clear(struct store_attachment_row *row);
void    store_faq_match_clear(struct store_faq_match *m);
void    store_event_row_clear(struct store_event_row *row);
size_t  store_index_len(const char *text, size_t len, size_t max);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;	/* branch pg: store_pg*.c */

#endif
