/*
 * pg_int.h: what the files of the PostgreSQL store backend share, and
 * nothing else includes (store_pg*.c), but for ctl_migrate.c (intakectl
 * migrate-store), which writes rows of this schema on a connection the
 * store opened. See store_pg.c.
 *
 * One struct store is one libpq connection (struct pg). Statements are
 * sent with parameters (PQexecParams: no SQL is built from values);
 * pg_run() turns a failed statement into STORE_BUSY (connection lost,
 * serialization failure, deadlock, server shutting down or out of
 * resources: the caller rolls back and tries again) or STORE_ERROR,
 * with a *why naming the server (password masked) and the step.
 */
#ifndef INTAKE_PG_INT_H
#define INTAKE_PG_INT_H

#include <libpq-fe.h>
#include "store.h"

/* One connection. */
struct pg {
    PGconn *conn;
    char   *display;			/* conninfo with any password masked: for messages */
    char   *password;			/* from [store] password_file; NULL: libpq's own */
    char   *conninfo;
    char   *lease_owner;		/* this connection's name on outbox leases */
    gint64  lease_s;			/* how long a lease holds, seconds */
    gboolean in_txn;			/* between begin and commit/rollback */
};

#define PG(st)	((struct pg *) (st)->impl)

/* Timestamps are timestamptz; reports give them as store.h's ISO 8601 UTC text. */
#define PG_ISO(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The largest original a zstd frame read back may unpack to: no mail is larger. */
#define PG_MAX_DECOMPRESSED	((gsize) 1 << 31)	/* 2 GiB */

/* store_pg_schema.c */
extern const char *const pg_migrations[];
extern const int pg_schema_version;

/* store_pg_util.c */
int     pg_run(struct pg *pg, const char *what, const char *sql, PGresult **res,
	       char **why, const char *types, ...);
int     pg_op_begin(struct pg *pg, char **why);
int     pg_op_end(struct pg *pg, int ret, char **why);
char   *pg_one_line(const char *msg);
char   *pg_strdup(const PGresult *res, int row, int col);
gint64  pg_int(const PGresult *res, int row, int col);
GBytes *pg_bytea(const PGresult *res, int row, int col);
GBytes *pg_original(const PGresult *res, int row, int col, const char *display,
		    const char *what, gint64 id, char **why);
void    pg_emit_row(const PGresult *res, int row, const char *kind, store_row_fn fn,
		    void *ctx);
void    pg_emit_rows(const PGresult *res, const char *kind, store_row_fn fn, void *ctx);

/* store_pg_tickets.c */
int     pg_find_duplicate(struct store *, const char *, gint64 *, char **, char **);
int     pg_find_ticket(struct store *, const char *, struct store_ticket_info *, char **);
int     pg_find_by_message_ids(struct store *, const char *, const char *const *,
			       struct store_ticket_info *, char **);
int     pg_is_party(struct store *, gint64, const char *, gboolean *, char **);
int     pg_parties(struct store *, gint64, const char *, char ***, char **);
int     pg_find_near_duplicate(struct store *, const char *, const char *, const char *,
			       gint64, struct store_ticket_info *, char **);
int     pg_create_ticket(struct store *, const struct store_ticket *, const char *, gint64 *,
			 char **, char **);
int     pg_set_status(struct store *, gint64, const char *, char **);
int     pg_add_message(struct store *, gint64, const struct store_message *, gint64 *,
		       char **);
int     pg_add_thread_id(struct pg *pg, const char *msgid, gint64 ticket_id,
			 const char *mailbox, char **why);
int     pg_case_ticket(struct store *, const char *, struct store_ticket_info *, char **);
int     pg_set_routing(struct store *, gint64, const struct store_routing *, char **);
int     pg_set_classes(struct store *, gint64, const struct store_classes *, char **);
int     pg_add_case(struct store *, const char *, const char *, char **);
const char *pg_ts_config(const char *language);
gint64  pg_index_chars(const char *text, size_t max);

/*
 * The fts vector of an incoming message, as the worker
 * (store_pg_tickets.c) and intakectl migrate-store write it: CONF the
 * name of a text search configuration (pg_ts_config(), 'simple' where
 * the server has none), SUBJECT and BODY text parameters, SUBJECT_CHARS
 * and BODY_CHARS how many characters of each the index takes
 * (pg_index_chars(): store.h, STORE_INDEX_TEXT_MAX). All are "$N".
 */
#define PG_FTS_VECTOR(conf, subject, subject_chars, body, body_chars) \
    "to_tsvector(coalesce((SELECT c.oid::regconfig FROM pg_ts_config c" \
    " WHERE c.cfgname = " conf "), 'simple'::regconfig), left(coalesce(" subject ", ''), " \
    subject_chars "::int) || ' ' || left(coalesce(" body ", ''), " body_chars "::int))"
int     pg_set_ticket_faq(struct store *, gint64, const struct store_faq_match *, int, char **);

/* store_pg_outbox.c */
int     pg_queue_reply(struct store *, const struct store_reply *, char **);
int     pg_replied_recently(struct store *, const char *, gint64, gboolean *, char **);
int     pg_next_reply(struct store *, gint64, struct store_outbox *, gboolean *, char **);
int     pg_reply_state(struct store *, gint64, const char *, const char *, gint64, char **);
int     pg_our_message_id(struct store *, const char *, gboolean *, char **);
int     pg_recover_replies(struct store *, int *, char **);
int     pg_find_our_reply(struct store *, const char *const *, struct store_our_reply *,
			  char **);
int     pg_reply_bounced(struct store *, gint64, const char *, char **);
int     pg_keep_autogen(struct store *, const struct store_autogen *, gboolean *, char **);
int     pg_prune_autogen(struct store *, gint64, int, int *, char **);

/* store_pg_reports.c */
int     pg_list_tickets(struct store *, const char *, const char *, int, store_row_fn, void *,
			char **);
int     pg_show_ticket(struct store *, const char *, store_row_fn, void *, char **);
int     pg_list_cases(struct store *, store_row_fn, void *, char **);
int     pg_stats(struct store *, struct store_stats *, char **);
int     pg_load_attachment(struct store *, const char *, gint64, struct store_attachment_row *,
			   char **);

/* store_pg_faq.c (branch pgparity) */
int     pg_faq_put(struct store *, const struct store_faq *, gint64 *, char **);
int     pg_faq_remove(struct store *, gint64, gboolean *, char **);
int     pg_faq_optimize(struct store *, char **);
int     pg_list_faq(struct store *, store_row_fn, void *, char **);
int     pg_faq_match(struct store *, const char *, const char *, const char *, double, int,
		     struct store_faq_match *, int *, char **);

/* store_pg_model.c (branch pgparity) */
int     pg_set_category(struct store *, gint64, const char *, char **);
int     pg_training_docs(struct store *, const char *, int, store_row_fn, void *, char **);
int     pg_save_model(struct store *, const struct store_model_row *, gsize, char **);
int     pg_model_version(struct store *, gint64 *, char **);
int     pg_load_model(struct store *, store_row_fn, void *, char **);

/* store_pg_projects.c (branch pgparity) */
int     pg_add_record(struct store *, enum store_record, const char *, const char *, char **,
		      char **);
int     pg_find_record(struct store *, enum store_record, const char *, gint64 *, char **);
int     pg_add_note(struct store *, const struct store_note *, gboolean *, char **);
int     pg_add_time_entry(struct store *, const struct store_time_entry *, gboolean *,
			  char **);
int     pg_list_records(struct store *, enum store_record, const char *, store_row_fn, void *,
			char **);
int     pg_show_record(struct store *, enum store_record, const char *, store_row_fn, void *,
		       char **);

/* store_pg_autogen.c (branch pgparity) */
int     pg_list_autogen(struct store *, const char *, const char *, int, store_row_fn, void *,
			char **);
int     pg_show_autogen(struct store *, gint64, store_row_fn, void *, char **);
int     pg_load_autogen(struct store *, gint64, struct store_autogen_row *, char **);
int     pg_autogen_imported(struct store *, gint64, gint64, char **);

/* store_pg_events.c */
int     pg_add_event(struct store *, const struct store_event *, gint64 *, char **);
int     pg_next_event(struct store *, const char *, gint64, struct store_event_row *,
		      gboolean *, char **);
int     pg_event_state(struct store *, gint64, const char *, const char *, gint64, char **);
int     pg_sink_status(struct store *, store_row_fn, void *, char **);
int     pg_sink_retry(struct store *, const char *, gint64, int *, char **);
int     pg_prune_events(struct store *, gint64, int, int *, char **);
int     pg_sink_ref_get(struct store *, const char *, gint64, char **, char **);
int     pg_sink_ref_set(struct store *, const char *, gint64, const char *, char **);

/* store_pg_api.c */
char   *pg_readonly_options(const char *conninfo, char **why);
int     pg_check_schema(struct pg *pg, char **why);
int     pg_page_tickets(struct store *, const struct store_page *, store_row_fn, void *,
			char **);
int     pg_search_messages(struct store *, const char *, gint64, int, store_row_fn, void *,
			   char **);

#endif
