/*
 * NAME
 *	store_pg - the ticket store in PostgreSQL: connection, schema
 *	version, transactions, statement helpers
 * SYNOPSIS
 *	#include "store.h"
 *
 *	const struct store_ops store_pg_ops;	(.name = "postgresql")

 * DESCRIPTION
 *	The PostgreSQL backend of store.h ([store] backend = postgresql),
 *	for several workers on several hosts sharing one database. Its
 *	files share pg_int.h: this one (connection, migrations,
 *	transactions), store_pg_util.c (statements, errors, result
 *	helpers), store_pg_schema.c (the schema),
 *	store_pg_tickets.c (tickets, messages, thread ids, routing),
 *	store_pg_outbox.c (replies with leases, kept-apart mail),
 *	store_pg_reports.c (rows for intakectl), store_pg_autogen.c (kept
 *	mail listed, shown, imported), store_pg_faq.c (FAQ entries and
 *	their full-text match), store_pg_model.c (the category model),
 *	store_pg_projects.c (projects, tasks, notes, time entries),
 *	store_pg_events.c (the sinks' events, leased per sender) and
 *	store_pg_api.c (the HTTP API's pages and search;
 *	store_open_readonly()).
 *
 *	Each struct store is one libpq connection ([store] conninfo; the
 *	password from [store] password_file, else libpq's own: PGPASSWORD,
 *	~/.pgpass), used by one thread at a time. It is never logged with
 *	its password: messages name the connection string with the
 *	password masked. A connection lost outside a transaction is made
 *	again at the next statement; lost inside one, the statement and
 *	the commit fail with STORE_BUSY: the worker rolls the batch back,
 *	leaves its stream entries unacknowledged and tries again, so a
 *	PostgreSQL restart loses and doubles nothing. Commits are
 *	synchronous on every connection, the relaxed one too: a reply's
 *	"sending" mark must survive a restart of the server, or it could be
 *	sent twice.
 *
 *	The schema version is intake_schema.version. Opening applies the
 *	missing steps of pg_migrations[] in one transaction holding an
 *	advisory lock (so that workers starting at once migrate once); a
 *	database made by a newer Intake is refused.
 * DIAGNOSTICS
 *	As store_pg_util.c says. rollback(), rollback_to() and close()
 *	log a warning when the server complains.
 */
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pg_int.h"

/* ---------------------------------------------------------------- */
/*	Open and close							    */
/* ---------------------------------------------------------------- */

/* masked - conninfo as it may be logged: any password replaced (g_free) */
static char *masked(const char *conninfo, char **why)
{
    char   *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    GString *s;

    if (opts == NULL) {
	g_autofree char *msg = pg_one_line(err);

	*why = g_strdup_printf("[store] conninfo: %s", msg);
	PQfreemem(err);
	return NULL;
    }
    s = g_string_new("postgresql:");
    for (PQconninfoOption *o = opts; o->keyword; o++)
	if (o->val && *o->val)
	    g_string_append_printf(s, " %s=%s", o->keyword,
				   strcmp(o->keyword, "password") == 0 ? "*****" : o->val);
    PQconninfoFree(opts);
    return g_string_free(s, FALSE);
}

/* read_password - the first line of [store] password_file (g_free) */
static int read_password(const char *path, char **password, char **why)
{
    g_autofree char *text = NULL;
    gsize   len = 0;
    GError *err = NULL;

    *password = NULL;
    if (path == NULL || *path == 0)
	return STORE_OK;
    if (!g_file_get_contents(path, &text, &len, &err)) {
	*why = g_strdup_printf("[store] password_file: %s", err->message);
	g_error_free(err);
	return STORE_ERROR;
    }
    if (len > 4096 || memchr(text, 0, len)) {
	*why = g_strdup_printf("[store] password_file %s: not a password (binary, or over"
			       " 4096 bytes)", path);
	return STORE_ERROR;
    }
    text[strcspn(text, "\r\n")] = 0;
    *password = g_steal_pointer(&text);
    return STORE_OK;
}

/*
 * notice - what the server says besides results: libpq would print it on
 * stderr. Warnings go to the log; notices ("already exists, skipping")
 * are for an interactive user, not for a daemon's log.
 */
static void notice(void *arg, const char *message)
{
    struct pg *pg = arg;

    if (strncmp(message, "NOTICE:", 7) != 0 && strncmp(message, "INFO:", 5) != 0
	&& strncmp(message, "DEBUG", 5) != 0) {
	g_autofree char *msg = pg_one_line(message);

	msg_warn("%s: %s", pg->display, msg);
    }
}

static void pg_free(struct pg *pg)
{
    if (pg->conn)
	PQfinish(pg->conn);
    if (pg->password)
	memset(pg->password, 0, strlen(pg->password));
    g_free(pg->password);
    g_free(pg->conninfo);
    g_free(pg->display);
    g_free(pg->lease_owner);
    g_free(pg);
}

static int pg_too_new(struct pg *pg, int version, char **why)
{
    *why = g_strdup_printf("%s: database schema version %d is newer than this"
			   " intake (%d); upgrade intake", pg->display, version,
			   pg_schema_version);
    return STORE_ERROR;
}

/*
 * pg_migrate - bring the schema to pg_schema_version, under an advisory
 * lock held to the end of the transaction: a second worker starting at
 * once waits, then finds the schema done.
 */
static int pg_migrate(struct pg *pg, char **why)
{
    PGresult *res = NULL;
    int     version = 0, ret;

    if ((ret = pg_run(pg, "begin schema migration", "BEGIN", NULL, why, NULL)) != STORE_OK)
	return ret;
    if ((ret = pg_run(pg, "lock schema", "SELECT pg_advisory_xact_lock(7400215441)",
		      NULL, why, NULL)) != STORE_OK
	|| (ret = pg_run(pg, "make schema table",
			 "CREATE TABLE IF NOT EXISTS intake_schema(version integer NOT NULL)",
			 NULL, why, NULL)) != STORE_OK
	|| (ret = pg_run(pg, "read schema version", "SELECT max(version) FROM intake_schema",
			 &res, why, NULL)) != STORE_OK)
	goto undo;
    version = (int) pg_int(res, 0, 0);
    PQclear(res);
    if (version > pg_schema_version) {
	ret = pg_too_new(pg, version, why);
	goto undo;
    }
    for (int from = version; from < pg_schema_version; from++) {
	g_autofree char *what = g_strdup_printf("schema migration %d to %d", from, from + 1);
	PGresult *r = PQexec(pg->conn, pg_migrations[from]);

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
	    g_autofree char *msg = pg_one_line(PQresultErrorMessage(r));

	    *why = g_strdup_printf("%s: %s: %s", pg->display, what, msg);
	    PQclear(r);
	    ret = STORE_ERROR;
	    goto undo;
	}
	PQclear(r);
    }
    if (version < pg_schema_version
	&& ((ret = pg_run(pg, "set schema version", "DELETE FROM intake_schema", NULL, why,
			  NULL)) != STORE_OK
	    || (ret = pg_run(pg, "set schema version",
			     "INSERT INTO intake_schema(version) VALUES($1)", NULL, why, "i",
			     (gint64) pg_schema_version)) != STORE_OK))
	goto undo;
    if ((ret = pg_run(pg, "commit schema migration", "COMMIT", NULL, why, NULL)) != STORE_OK)
	return ret;
    if (version < pg_schema_version)
	msg_info("%s: %s the ticket store (schema version %d)", pg->display,
		 version ? "migrated" : "created", pg_schema_version);
    return STORE_OK;

undo:
    PQclear(PQexec(pg->conn, "ROLLBACK"));
    return ret;
}

static int pg_open(struct store *st, char **why)
{
    struct pg *pg = g_new0(struct pg, 1);
    const char *keys[4] = {"dbname", NULL, NULL, NULL};
    const char *values[4] = {NULL, NULL, NULL, NULL};
    g_autofree char *options = NULL;
    int     ret, n = 1;

    pg->conninfo = g_strdup(st->cfg->store_conninfo ? st->cfg->store_conninfo : "");
    if ((pg->display = masked(pg->conninfo, why)) == NULL) {
	ret = STORE_ERROR;
	goto fail;
    }
    if ((ret = read_password(st->cfg->store_password_file, &pg->password, why)) != STORE_OK)
	goto fail;
    values[0] = pg->conninfo;
    if (pg->password) {
	keys[n] = "password";
	values[n++] = pg->password;
    }
    if (st->readonly) {
	if ((options = pg_readonly_options(pg->conninfo, why)) == NULL) {
	    ret = STORE_ERROR;
	    goto fail;
	}
	keys[n] = "options";
	values[n++] = options;
    }
    pg->conn = PQconnectdbParams(keys, values, 1);
    if (pg->conn == NULL)
	g_error("libpq: out of memory");
    PQsetNoticeProcessor(pg->conn, notice, pg);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
	g_autofree char *msg = pg_one_line(PQerrorMessage(pg->conn));

	*why = g_strdup_printf("%s: cannot connect: %s", pg->display, msg);
	ret = STORE_BUSY;
	goto fail;
    }
    /* A read-only connection (the API's) reads what the workers made, as it is. */
    if ((ret = st->readonly ? pg_check_schema(pg, why) : pg_migrate(pg, why)) != STORE_OK)
	goto fail;
    {
	g_autofree char *uuid = g_uuid_string_random();

	pg->lease_owner = g_strdup_printf("%s/%d/%s", g_get_host_name(), (int) getpid(), uuid);
    }
    /*
     * A lease covers what outbox.c does from taking a reply to the dot
     * (the cap check, building, connecting, sending: each bounded by
     * [smtp] timeout); a dead worker's reply waits this long for another.
     */
    pg->lease_s = 2 * (st->cfg->smtp_timeout_ms / 1000) + 10;
    st->impl = pg;
    return STORE_OK;

fail:
    pg_free(pg);
    return ret;
}

static void pg_close(struct store *st)
{
    if (st->impl)
	pg_free(PG(st));
    st->impl = NULL;
}

/* ---------------------------------------------------------------- */
/*	Transactions							    */
/* ---------------------------------------------------------------- */

static int pg_begin(struct store *st, char **why)
{
    struct pg *pg = PG(st);
    int     ret = pg_run(pg, "begin transaction", "BEGIN", NULL, why, NULL);

    if (ret == STORE_OK)
	pg->in_txn = TRUE;
    return ret;
}

/*
 * pg_commit - PostgreSQL answers COMMIT of a transaction an error has
 * aborted with "ROLLBACK", not an error: that is a failure here, or the
 * worker would acknowledge entries that were never stored. A connection
 * lost during COMMIT leaves it unknown whether it took: STORE_BUSY, and
 * the retry finds what did by the dedupe keys.
 */
static int pg_commit(struct store *st, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret;

    if (!pg->in_txn) {
	*why = g_strdup_printf("%s: commit without begin", pg->display);
	return STORE_ERROR;
    }
    ret = pg_run(pg, "commit", "COMMIT", &res, why, NULL);
    pg->in_txn = FALSE;
    if (ret != STORE_OK)
	return ret;
    if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
	*why = g_strdup_printf("%s: the transaction was rolled back after an earlier error",
			       pg->display);
	ret = STORE_BUSY;
    }
    PQclear(res);
    return ret;
}

static void pg_rollback(struct store *st)
{
    struct pg *pg = PG(st);
    char   *why = NULL;

    if (!pg->in_txn)
	return;
    if (PQstatus(pg->conn) == CONNECTION_OK
	&& pg_run(pg, "rollback", "ROLLBACK", NULL, &why, NULL) != STORE_OK) {
	msg_warn("%s", why);
	g_free(why);
    }
    pg->in_txn = FALSE;				/* a lost connection rolled back by itself */
}

static int pg_savepoint(struct store *st, char **why)
{
    return pg_run(PG(st), "savepoint", "SAVEPOINT job", NULL, why, NULL);
}

static int pg_release(struct store *st, char **why)
{
    return pg_run(PG(st), "release savepoint", "RELEASE job", NULL, why, NULL);
}

static void pg_rollback_to(struct store *st)
{
    struct pg *pg = PG(st);
    char   *why = NULL;

    if (PQstatus(pg->conn) != CONNECTION_OK)
	return;					/* the commit will say so */
    if (pg_run(pg, "rollback to savepoint", "ROLLBACK TO job", NULL, &why, NULL) != STORE_OK
	|| pg_run(pg, "release savepoint", "RELEASE job", NULL, &why, NULL) != STORE_OK) {
	msg_warn("%s", why);
	g_free(why);
    }
}

/* pg_maintain - nothing to do: autovacuum is the server's housekeeping */
static int pg_maintain(struct store *st, char **why)
{
    return STORE_OK;
}

/*
 * Operations left NULL are not supported by this backend (the FAQ in
 * memory: faq_version, faq_load; the store's FTS query answers each
 * mail): their callers say so. Sinks and the HTTP API work as on SQLite.
 */
const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .find_duplicate = pg_find_duplicate,
    .find_ticket = pg_find_ticket,
    .find_by_message_ids = pg_find_by_message_ids,
    .is_party = pg_is_party,
    .parties = pg_parties,
    .find_near_duplicate = pg_find_near_duplicate,
    .create_ticket = pg_create_ticket,
    .set_status = pg_set_status,
    .add_message = pg_add_message,
    .queue_reply = pg_queue_reply,
    .replied_recently = pg_replied_recently,
    .next_reply = pg_next_reply,
    .reply_state = pg_reply_state,
    .our_message_id = pg_our_message_id,
    .recover_replies = pg_recover_replies,
    .find_our_reply = pg_find_our_reply,
    .reply_bounced = pg_reply_bounced,
    .keep_autogen = pg_keep_autogen,
    .prune_autogen = pg_prune_autogen,
    .list_tickets = pg_list_tickets,
    .show_ticket = pg_show_ticket,
    .stats = pg_stats,
    .set_routing = pg_set_routing,
    .add_case = pg_add_case,
    .list_cases = pg_list_cases,
    .set_classes = pg_set_classes,
    .case_ticket = pg_case_ticket,
    .load_attachment = pg_load_attachment,
    .set_ticket_faq = pg_set_ticket_faq,
    .maintain = pg_maintain,
    /* The SQLite store's other operations (branch pgparity). */
    .list_autogen = pg_list_autogen,
    .show_autogen = pg_show_autogen,
    .load_autogen = pg_load_autogen,
    .autogen_imported = pg_autogen_imported,
    .add_record = pg_add_record,
    .find_record = pg_find_record,
    .add_note = pg_add_note,
    .add_time_entry = pg_add_time_entry,
    .list_records = pg_list_records,
    .show_record = pg_show_record,
    .faq_put = pg_faq_put,
    .faq_remove = pg_faq_remove,
    .faq_optimize = pg_faq_optimize,
    .list_faq = pg_list_faq,
    .faq_match = pg_faq_match,
    .set_category = pg_set_category,
    .training_docs = pg_training_docs,
    .save_model = pg_save_model,
    .model_version = pg_model_version,
    .load_model = pg_load_model,
    .page_tickets = pg_page_tickets,
    .search_messages = pg_search_messages,
    .add_event = pg_add_event,
    .next_event = pg_next_event,
    .event_state = pg_event_state,
    .sink_status = pg_sink_status,
    .sink_retry = pg_sink_retry,
    .prune_events = pg_prune_events,
    .sink_ref_get = pg_sink_ref_get,
    .sink_ref_set = pg_sink_ref_set,
};
