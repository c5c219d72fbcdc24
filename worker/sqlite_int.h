/*
 * sqlite_int.h: what the files of the SQLite store backend share, and
 * nothing else includes (store_sqlite*.c). See store_sqlite.c.
 *
 * One connection is a struct sq with every statement of enum stmt
 * prepared at open. The statements are one table (store_sqlite_sql.c,
 * beside the schema they depend on) rather than one per file: the
 * connection prepares them all at open, so a statement that no longer
 * fits the schema fails there, not at its first use, and each file
 * names the statements it runs by enum. Helpers (store_sqlite_util.c)
 * bind, step and reset them and turn SQLite errors into STORE_BUSY or
 * STORE_ERROR with a *why naming the database and the step.
 */
#ifndef INTAKE_SQLITE_INT_H
#define INTAKE_SQLITE_INT_H

#include <sqlite3.h>
#include "store.h"

enum stmt {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
    S_OP_SAVEPOINT, S_OP_RELEASE, S_OP_ROLLBACK_TO,
    S_FIND_DUPLICATE, S_TICKET_BY_NUMBER, S_TICKET_BY_ID, S_THREAD_LOOKUP,
    S_IS_PARTY, S_PARTIES, S_NEAR_DUPLICATE, S_COUNTER_NEXT, S_TICKET_INSERT, S_PARTY_INSERT, S_SET_STATUS,
    S_TICKET_MAILBOX, S_MESSAGE_INSERT, S_FTS_INSERT, S_FTS_MARK, S_ATTACHMENT_INSERT,
    S_THREAD_INSERT, S_TICKET_TOUCH,
    S_REPLY_INSERT, S_REPLIED_RECENTLY, S_OUR_MESSAGE_ID, S_NEXT_REPLY, S_REPLY_STATE, S_REPLY_GET_STATE,
    S_RECOVER_REPLIES,
    S_LIST, S_LIST_MAILBOX, S_LIST_STATUS, S_LIST_MAILBOX_STATUS,
    S_SHOW_TICKET, S_SHOW_LINKED_FROM, S_SHOW_MESSAGES, S_SHOW_ATTACHMENTS, S_SHOW_REPLIES,
    S_STATS, S_OUR_REPLY, S_REPLY_BOUNCED, S_AUTOGEN_INSERT, S_AUTOGEN_LIST, S_AUTOGEN_SHOW,
    S_AUTOGEN_LOAD, S_AUTOGEN_IMPORTED, S_AUTOGEN_PRUNE, S_AUTOGEN_COUNTS,
    S_CASE_ENSURE, S_CASE_ADD, S_CASE_LIST, S_CASE_TICKET, S_ROUTING_SET, S_TAG_INSERT, S_SENTIMENT_SET,
    S_LOAD_ATTACHMENT,
    S_FAQ_PUT, S_FAQ_REMOVE, S_FAQ_LIST, S_FAQ_MATCH, S_FAQ_OPTIMIZE, S_TICKET_FAQ_INSERT, S_SHOW_FAQ,
    S_SET_CATEGORY, S_TRAINING_DOCS, S_MODEL_CLEAR_DOCS, S_MODEL_CLEAR_TERMS, S_MODEL_DOCS_INSERT,
    S_MODEL_TERM_INSERT, S_MODEL_BUMP, S_MODEL_VERSION, S_MODEL_LOAD_DOCS, S_MODEL_LOAD_TERMS,
    S_PROJECT_INSERT, S_TASK_INSERT, S_PROJECT_ID, S_TASK_ID, S_NOTE_INSERT, S_TIME_INSERT,
    S_PROJECT_LIST, S_TASK_LIST, S_PROJECT_SHOW, S_TASK_SHOW, S_PROJECT_TASKS, S_NOTES_SHOW,
    S_TIME_SHOW,
    /* branch api: store_sqlite_api.c */
    S_API_TICKETS, S_API_SEARCH,
    /* branch classify2: the FAQ in memory (faq_index.c), store_sqlite_faq.c */
    S_FAQ_VERSION, S_FAQ_LOAD,
    S_COUNT
};

struct stmt_def {
    const char *what;			/* for error messages */
    const char *sql;
};

/* store_sqlite_sql.c */
extern const char *const sq_migrations[];	/* STORE_SCHEMA_VERSION steps */
extern const struct stmt_def sq_stmt_defs[S_COUNT];

/* One connection. */
struct sq {
    sqlite3 *db;
    char   *path;
    sqlite3_stmt *stmt[S_COUNT];
    int     last_rc;			/* result code of the last failure */
    gboolean in_txn;			/* between begin and commit/rollback */
    struct ZSTD_CCtx_s *zc;		/* made at first use, reused: store_sqlite_blob.c */
    struct ZSTD_DCtx_s *zd;
    struct fts_tokenizer *fts;		/* made at first search: store_sqlite_api.c */
    /* Text for messages_fts at commit: store_sqlite_fts.c. */
    GArray *fts_rows;			/* kept rows, in the order added */
    guint   fts_mark;			/* fts_rows->len at the job's savepoint */
    gsize   fts_bytes;			/* text kept in fts_rows */
};

#define SQ(st)	((struct sq *) (st)->impl)

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and the null byte. */
#define ISO_TIME_SIZE	21
#define ISO_TIME_MAX	G_GINT64_CONSTANT(253402300799)	/* 9999-12-31T23:59:59Z */

/* store_sqlite_fts.c */
void    sq_fts_keep(struct sq *sq, gint64 message_id, const char *subject, const char *body);
int     sq_fts_mark(struct sq *sq, char **why);
void    sq_fts_undo(struct sq *sq);
void    sq_fts_forget(struct sq *sq);
int     sq_fts_flush(struct sq *sq, char **why);

/* store_sqlite_util.c */
const char *iso_time(gint64 unix_time, char buf[ISO_TIME_SIZE], int *year);
int     sq_fail(struct sq *sq, int rc, const char *what, char **why);
void    sq_reset(struct sq *sq, enum stmt id);
int     sq_bind(struct sq *sq, enum stmt id, char **why, const char *types, ...);
int     sq_step(struct sq *sq, enum stmt id, gboolean *row, char **why);
int     sq_run(struct sq *sq, enum stmt id, char **why);
int     sq_exec(struct sq *sq, const char *sql, const char *what, char **why);
int     sq_query_text(struct sq *sq, const char *sql, char **value, char **why);
char   *col_strdup(sqlite3_stmt *s, int col);
int     op_begin(struct sq *sq, char **why);
int     op_end(struct sq *sq, int ret, char **why);


/* store_sqlite_tickets.c */
int     sq_find_duplicate(struct store *st, const char *dedupe_key, gint64 *ticket_id,
		char **number, char **why);
int     sq_find_ticket(struct store *st, const char *number, struct store_ticket_info *info,
		char **why);
int     sq_find_by_message_ids(struct store *st, const char *mailbox,
		const char *const *ids, struct store_ticket_info *info, char **why);
int     sq_is_party(struct store *st, gint64 ticket_id, const char *address, gboolean *yes,
		char **why);
int     sq_parties(struct store *st, gint64 ticket_id, const char *first, char ***addresses,
		char **why);
int     sq_find_near_duplicate(struct store *st, const char *mailbox,
		const char *sender_key, const char *subject_key, gint64 since_unix,
		struct store_ticket_info *info, char **why);
int     sq_add_thread_id(struct sq *sq, const char *msgid, gint64 ticket_id,
		const char *mailbox, char **why);
int     sq_create_ticket(struct store *st, const struct store_ticket *t, const char *prefix,
		gint64 *id, char **number, char **why);
int     sq_set_status(struct store *st, gint64 ticket_id, const char *status, char **why);
int     sq_add_message(struct store *st, gint64 ticket_id, const struct store_message *m,
		gint64 *message_id, char **why);

/* store_sqlite_outbox.c */
int     sq_queue_reply(struct store *st, const struct store_reply *r, char **why);
int     sq_replied_recently(struct store *st, const char *window_key, gint64 since_unix,
		gboolean *yes, char **why);
int     sq_our_message_id(struct store *st, const char *message_id, gboolean *yes,
		char **why);
int     sq_next_reply(struct store *st, gint64 now_unix, struct store_outbox *out,
		gboolean *found, char **why);
int     sq_reply_state(struct store *st, gint64 id, const char *state, const char *error,
		gint64 next_try_unix, char **why);
int     sq_recover_replies(struct store *st, int *ambiguous, char **why);
int     sq_find_our_reply(struct store *st, const char *const *ids,
		struct store_our_reply *out, char **why);
int     sq_reply_bounced(struct store *st, gint64 id, const char *diagnostic, char **why);

/* store_sqlite_autogen.c */
int     sq_keep_autogen(struct store *st, const struct store_autogen *a, gboolean *added,
			char **why);
int     sq_list_autogen(struct store *st, const char *kind, const char *mailbox, int limit,
			store_row_fn fn, void *ctx, char **why);
int     sq_show_autogen(struct store *st, gint64 id, store_row_fn fn, void *ctx, char **why);
int     sq_load_autogen(struct store *st, gint64 id, struct store_autogen_row *out,
			char **why);
int     sq_autogen_imported(struct store *st, gint64 id, gint64 ticket_id, char **why);
int     sq_prune_autogen(struct store *st, gint64 before_unix, int limit, int *deleted,
			 char **why);

/* store_sqlite_blob.c */
#define SQ_MAX_DECOMPRESSED	(G_GUINT64_CONSTANT(1) << 31)	/* 2 GiB: no mail is larger */
GBytes *sq_compress(struct sq *sq, const void *data, size_t len);
GBytes *sq_decompress(struct sq *sq, const void *data, size_t len, const char *what,
		      char **why);
void    sq_free_codecs(struct sq *sq);
int     sq_register_functions(struct sq *sq, char **why);
GBytes *sq_column_unzstd(struct sq *sq, sqlite3_stmt *s, int col, const char *what,
			 gint64 id, char **why);
int     sq_load_attachment(struct store *st, const char *number, gint64 id,
			   struct store_attachment_row *out, char **why);

/* store_sqlite_reports.c */
void    sq_emit_row(struct sq *sq, enum stmt id, const char *kind, store_row_fn fn,
		    void *ctx);
int     sq_emit_rows(struct sq *sq, enum stmt id, const char *kind, store_row_fn fn,
		     void *ctx, char **why);
int     sq_list_tickets(struct store *st, const char *mailbox, const char *status, int limit,
			store_row_fn fn, void *ctx, char **why);
int     sq_show_ticket(struct store *st, const char *number, store_row_fn fn, void *ctx,
		       char **why);
int     sq_set_routing(struct store *st, gint64 ticket_id, const struct store_routing *r,
		       char **why);
int     sq_set_classes(struct store *st, gint64 ticket_id, const struct store_classes *c,
		       char **why);
int     sq_case_ticket(struct store *st, const char *name, struct store_ticket_info *info,
		       char **why);
int     sq_add_case(struct store *st, const char *name, const char *title, char **why);
int     sq_list_cases(struct store *st, store_row_fn fn, void *ctx, char **why);
int     sq_stats(struct store *st, struct store_stats *out, char **why);

/* store_sqlite_faq.c */
int     sq_faq_put(struct store *st, const struct store_faq *f, gint64 *id, char **why);
int     sq_faq_remove(struct store *st, gint64 id, gboolean *found, char **why);
int     sq_list_faq(struct store *st, store_row_fn fn, void *ctx, char **why);
int     sq_faq_optimize(struct store *st, char **why);
int     sq_faq_match(struct store *st, const char *query, const char *collection,
		     const char *language, double min_score, int max,
		     struct store_faq_match *out, int *n, char **why);
int     sq_set_ticket_faq(struct store *st, gint64 ticket_id, const struct store_faq_match *m,
			  int n, char **why);
/* store_sqlite_model.c */
int     sq_set_category(struct store *st, gint64 ticket_id, const char *category, char **why);
int     sq_training_docs(struct store *st, const char *mailbox, int limit, store_row_fn fn,
			 void *ctx, char **why);
int     sq_save_model(struct store *st, const struct store_model_row *rows, gsize n,
		      char **why);
int     sq_model_version(struct store *st, gint64 *version, char **why);
int     sq_faq_version(struct store *st, gint64 *version, gint64 *entries, char **why);
int     sq_faq_load(struct store *st, store_row_fn fn, void *ctx, char **why);
int     sq_load_model(struct store *st, store_row_fn fn, void *ctx, char **why);
/* store_sqlite_projects.c */
int     sq_add_record(struct store *st, enum store_record kind, const char *project,
		      const char *title, char **number, char **why);
int     sq_find_record(struct store *st, enum store_record kind, const char *number,
		       gint64 *id, char **why);
int     sq_add_note(struct store *st, const struct store_note *n, gboolean *added,
		    char **why);
int     sq_add_time_entry(struct store *st, const struct store_time_entry *e,
			  gboolean *added, char **why);
int     sq_list_records(struct store *st, enum store_record kind, const char *project,
			store_row_fn fn, void *ctx, char **why);
int     sq_show_record(struct store *st, enum store_record kind, const char *number,
		       store_row_fn fn, void *ctx, char **why);

/* store_sqlite_api.c (branch api) */
int     sq_open_readonly(struct store *st, struct sq *sq, char **why);
int     sq_page_tickets(struct store *st, const struct store_page *q, store_row_fn fn,
			void *ctx, char **why);
int     sq_search_messages(struct store *st, const char *query, gint64 before, int limit,
			   store_row_fn fn, void *ctx, char **why);
/* store_sqlite_events.c (branch sinks) */
int     sq_add_event(struct store *st, const struct store_event *ev, gint64 *id, char **why);
int     sq_next_event(struct store *st, const char *sink, gint64 now_unix,
		      struct store_event_row *out, gboolean *found, char **why);
int     sq_event_state(struct store *st, gint64 row, const char *state, const char *answer,
		       gint64 next_try_unix, char **why);
int     sq_sink_status(struct store *st, store_row_fn fn, void *ctx, char **why);
int     sq_sink_retry(struct store *st, const char *sink, gint64 event_id, int *requeued,
		      char **why);
int     sq_prune_events(struct store *st, gint64 before_unix, int limit, int *deleted,
			char **why);
int     sq_sink_ref_get(struct store *st, const char *sink, gint64 ticket_id, char **ref,
			char **why);
int     sq_sink_ref_set(struct store *st, const char *sink, gint64 ticket_id, const char *ref,
			char **why);

#endif
