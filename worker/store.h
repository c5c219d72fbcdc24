/*
 * store.h: the ticket store interface. A backend (store_sqlite.c; later
 * PostgreSQL) fills in struct store_ops; store.c dispatches on
 * [store] backend. All functions return STORE_OK, or STORE_BUSY for a
 * transient failure (locked, disk full, connection lost: the caller
 * rolls back and tries again later) or STORE_ERROR for a permanent one;
 * *why then gets a text for the log (g_free).
 *
 * Writes happen between store_begin() and store_commit(); inside, a
 * job's writes can be undone alone with store_savepoint()/
 * store_release()/store_rollback_to() (several envelopes share one
 * transaction: one fsync for a batch).
 */
#ifndef INTAKE_STORE_H
#define INTAKE_STORE_H

#include <glib.h>
#include <jansson.h>
#include "config.h"

enum { STORE_OK = 0, STORE_BUSY = 1, STORE_ERROR = 2 };

#define STORE_SCHEMA_VERSION 3

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
};

struct store_attachment {
    const char *filename;
    const char *content_type;
    const char *content_id;
    gint64  size;
    GBytes *content;			/* NULL: listed, not stored */
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
    const char *body;
    GBytes *raw;			/* may be NULL */
    gboolean raw_truncated;
    const char *note;			/* e.g. why attachments were not stored */
    GPtrArray *attachments;		/* struct store_attachment *; may be NULL */
    const char *const *thread_ids;	/* message ids naming this mail: own, refs */
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

struct store_ticket_info {
    gint64  id;
    char   *number;
    char   *mailbox;
    char   *status;
    char   *title;
    char   *customer_address;
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
    int     (*recover_replies) (struct store *st, int *ambiguous, char **why);
    int     (*list_tickets) (struct store *st, const char *mailbox, const char *status,
			     int limit, json_t **out, char **why);
    int     (*show_ticket) (struct store *st, const char *number, json_t **out, char **why);
    int     (*stats) (struct store *st, json_t **out, char **why);
    int     (*set_durability) (struct store *st, gboolean full, char **why);
    int     (*checkpoint) (struct store *st, char **why);
};

struct store {
    const struct store_ops *ops;
    const struct intake_config *cfg;
    void   *impl;
};

struct store *store_open(const struct intake_config *cfg, char **why);
struct store *store_close(struct store *st);
void    store_ticket_info_clear(struct store_ticket_info *info);
void    store_outbox_clear(struct store_outbox *out);

extern const struct store_ops store_sqlite_ops;

#endif
