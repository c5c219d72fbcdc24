/*
 * NAME
 *	store_pg - the ticket store in PostgreSQL: connection, schema
 *	version, transactions, statement helpers
 * SYNOPSIS
 *	#include "store.h"
 *
 *	const struct store_ops store_pg_ops;	(.name = "postgresql")
 *
 *	#include "pg_int.h"
 *
 *	int	pg_run(pg, what, sql, &res, &why, types, ...)
 *	int	pg_op_begin(pg, &why)
 *	int	pg_op_end(pg, ret, &why)
 *	char	*pg_strdup(res, row, col)
 *	gint64	pg_int(res, row, col)
 *	GBytes	*pg_bytea(res, row, col)
 *	void	pg_emit_row(res, row, kind, fn, ctx)
 *	void	pg_emit_rows(res, kind, fn, ctx)
 * DESCRIPTION
 *	The PostgreSQL backend of store.h ([store] backend = postgresql),
 *	for several workers on several hosts sharing one database. Its
 *	files share pg_int.h: this one (connection, migrations,
 *	transactions, helpers), store_pg_schema.c (the schema),
 *	store_pg_tickets.c (tickets, messages, thread ids, routing),
 *	store_pg_outbox.c (replies with leases, kept-apart mail) and
 *	store_pg_reports.c (rows for intakectl).
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
 *
 *	pg_run() sends one statement with parameters described by types:
 *	t text (const char *, NULL: null), i gint64, d double (NaN: null),
 *	b GBytes * (bytea, sent binary; NULL: null), B gboolean. *res,
 *	when res is not NULL, is the result (PQclear). pg_op_begin() and
 *	pg_op_end() make an operation of several statements all or
 *	nothing, inside the caller's transaction (a savepoint) or outside
 *	it (a transaction of its own).
 * DIAGNOSTICS
 *	SQLSTATE classes 08 (connection), 40 (serialization failure,
 *	deadlock), 53 (resources), 57 (server shutting down or starting),
 *	58 (I/O), 55P03 (lock not available) and 25P02 (an earlier error
 *	aborted the transaction) are STORE_BUSY; everything else is
 *	STORE_ERROR. rollback(), rollback_to() and close() log.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pg_int.h"

/* Type oids of pg_type (catalog/pg_type_d.h is a server header). */
#define PG_BOOLOID	16
#define PG_INT8OID	20
#define PG_INT2OID	21
#define PG_INT4OID	23
#define PG_FLOAT4OID	700
#define PG_FLOAT8OID	701
#define PG_NUMERICOID	1700

/* Parameters of one statement, at most. */
#define PG_MAX_PARAMS	24

/* ---------------------------------------------------------------- */
/*	Statements							    */
/* ---------------------------------------------------------------- */

/* is_transient - whether a SQLSTATE says "try again" */
static gboolean is_transient(const char *state)
{
    static const char *const classes[] = {"08", "40", "53", "57", "58", NULL};

    if (state == NULL)
	return TRUE;				/* libpq's own: the connection broke */
    for (int i = 0; classes[i]; i++)
	if (strncmp(state, classes[i], 2) == 0)
	    return TRUE;
    return strcmp(state, "55P03") == 0 || strcmp(state, "25P02") == 0;
}

/* one_line - libpq's message without its trailing newline (g_free) */
static char *one_line(const char *msg)
{
    char   *s = g_strdup(msg ? msg : "(no message)");

    g_strchomp(s);
    for (char *p = s; *p; p++)
	if (*p == '\n')
	    *p = ' ';
    return s;
}

/*
 * pg_ready - a usable connection, outside a transaction made again if
 * it broke (the server restarted). Inside a transaction a broken
 * connection is the transaction lost: STORE_BUSY.
 */
static int pg_ready(struct pg *pg, const char *what, char **why)
{
    if (PQstatus(pg->conn) == CONNECTION_OK)
	return STORE_OK;
    if (!pg->in_txn) {
	PQreset(pg->conn);
	if (PQstatus(pg->conn) == CONNECTION_OK) {
	    msg_info("%s: connected again", pg->display);
	    return STORE_OK;
	}
    }
    g_autofree char *msg = one_line(PQerrorMessage(pg->conn));

    *why = g_strdup_printf("%s: %s: %s%s", pg->display, what,
			   pg->in_txn ? "connection lost in the transaction: " : "", msg);
    return STORE_BUSY;
}

int     pg_run(struct pg *pg, const char *what, const char *sql, PGresult **res,
	               char **why, const char *types, ...)
{
    const char *values[PG_MAX_PARAMS];
    int     lengths[PG_MAX_PARAMS], formats[PG_MAX_PARAMS];
    char   *owned[PG_MAX_PARAMS];
    int     n = types ? (int) strlen(types) : 0, ret;
    PGresult *r;
    ExecStatusType status;
    va_list ap;

    if (res)
	*res = NULL;
    g_assert(n <= PG_MAX_PARAMS);
    if ((ret = pg_ready(pg, what, why)) != STORE_OK)
	return ret;
    va_start(ap, types);
    for (int i = 0; i < n; i++) {
	owned[i] = NULL;
	lengths[i] = formats[i] = 0;
	switch (types[i]) {
	case 't':
	    values[i] = va_arg(ap, const char *);
	    break;
	case 'i':
	    values[i] = owned[i] = g_strdup_printf("%" G_GINT64_FORMAT, va_arg(ap, gint64));
	    break;
	case 'd':{
		double  d = va_arg(ap, double);

		values[i] = isfinite(d) ? (owned[i] = g_strdup_printf("%.17g", d)) : NULL;
		break;
	    }
	case 'B':
	    values[i] = va_arg(ap, gboolean) ? "true" : "false";
	    break;
	case 'b':{
		GBytes *b = va_arg(ap, GBytes *);
		gsize   len = 0;

		values[i] = b ? g_bytes_get_data(b, &len) : NULL;
		if (b && values[i] == NULL)
		    values[i] = "";		/* an empty GBytes */
		lengths[i] = (int) len;
		formats[i] = 1;
		break;
	    }
	default:
	    g_error("pg_run: unknown parameter type '%c'", types[i]);
	}
    }
    va_end(ap);
    r = PQexecParams(pg->conn, sql, n, NULL, values, lengths, formats, 0);
    for (int i = 0; i < n; i++)
	g_free(owned[i]);
    status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
	if (res)
	    *res = r;
	else
	    PQclear(r);
	return STORE_OK;
    }
    {
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	g_autofree char *msg = one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));

	ret = is_transient(state) || PQstatus(pg->conn) != CONNECTION_OK ? STORE_BUSY
	    : STORE_ERROR;
	*why = g_strdup_printf("%s: %s: %s%s%s", pg->display, what, msg,
			       state ? " (SQLSTATE " : "", state ? state : "");
	if (state) {
	    char   *full = g_strconcat(*why, ")", NULL);

	    g_free(*why);
	    *why = full;
	}
    }
    PQclear(r);
    return ret;
}

int     pg_op_begin(struct pg *pg, char **why)
{
    return pg_run(pg, "begin", pg->in_txn ? "SAVEPOINT store_op" : "BEGIN", NULL, why, NULL);
}

/* pg_op_end - keep (ret STORE_OK) or undo an operation; returns ret, or the failure to keep */
int     pg_op_end(struct pg *pg, int ret, char **why)
{
    char   *w2 = NULL;

    if (ret == STORE_OK)
	return pg_run(pg, "commit", pg->in_txn ? "RELEASE store_op" : "COMMIT", NULL, why, NULL);
    if (pg->in_txn) {
	if (pg_run(pg, "undo", "ROLLBACK TO store_op", NULL, &w2, NULL) != STORE_OK
	    || pg_run(pg, "undo", "RELEASE store_op", NULL, &w2, NULL) != STORE_OK) {
	    msg_warn("%s", w2);
	    g_free(w2);
	}
    } else if (PQstatus(pg->conn) == CONNECTION_OK
	       && pg_run(pg, "undo", "ROLLBACK", NULL, &w2, NULL) != STORE_OK) {
	msg_warn("%s", w2);
	g_free(w2);
    }
    return ret;
}

char   *pg_strdup(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : g_strdup(PQgetvalue(res, row, col));
}

gint64  pg_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : g_ascii_strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* pg_bytea - a bytea column of a text-format result (NULL: null) */
GBytes *pg_bytea(const PGresult *res, int row, int col)
{
    size_t  len = 0;
    unsigned char *p;
    GBytes *b;

    if (PQgetisnull(res, row, col))
	return NULL;
    if ((p = PQunescapeBytea((const unsigned char *) PQgetvalue(res, row, col), &len)) == NULL)
	g_error("PQunescapeBytea: out of memory");
    b = g_bytes_new(p, len);
    PQfreemem(p);
    return b;
}

/* pg_emit_row - row r of res as a store_row of kind, columns named as the result's */
void    pg_emit_row(const PGresult *res, int r, const char *kind, store_row_fn fn, void *ctx)
{
    int     nf = PQnfields(res);
    g_autofree struct store_value *v = g_new0(struct store_value, nf ? nf : 1);
    struct store_row row = {kind, v, nf};

    for (int c = 0; c < nf; c++) {
	const char *s = PQgetvalue(res, r, c);

	v[c].name = PQfname(res, c);
	if (PQgetisnull(res, r, c)) {
	    v[c].type = STORE_NULL;
	    continue;
	}
	switch (PQftype(res, c)) {
	case PG_INT2OID:
	case PG_INT4OID:
	case PG_INT8OID:
	    v[c].type = STORE_INT;
	    v[c].i = g_ascii_strtoll(s, NULL, 10);
	    break;
	case PG_BOOLOID:
	    v[c].type = STORE_INT;
	    v[c].i = *s == 't';
	    break;
	case PG_FLOAT4OID:
	case PG_FLOAT8OID:
	case PG_NUMERICOID:
	    v[c].type = STORE_REAL;
	    v[c].d = g_ascii_strtod(s, NULL);
	    break;
	default:
	    v[c].type = STORE_TEXT;
	    v[c].text = s;
	    v[c].len = PQgetlength(res, r, c);
	}
    }
    fn(ctx, &row);
}

void    pg_emit_rows(const PGresult *res, const char *kind, store_row_fn fn, void *ctx)
{
    for (int r = 0; r < PQntuples(res); r++)
	pg_emit_row(res, r, kind, fn, ctx);
}

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
	g_autofree char *msg = one_line(err);

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
	g_autofree char *msg = one_line(message);

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
	    g_autofree char *msg = one_line(PQresultErrorMessage(r));

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
    const char *keys[3] = {"dbname", NULL, NULL};
    const char *values[3] = {NULL, NULL, NULL};
    int     ret;

    pg->conninfo = g_strdup(st->cfg->store_conninfo ? st->cfg->store_conninfo : "");
    if ((pg->display = masked(pg->conninfo, why)) == NULL) {
	ret = STORE_ERROR;
	goto fail;
    }
    if ((ret = read_password(st->cfg->store_password_file, &pg->password, why)) != STORE_OK)
	goto fail;
    values[0] = pg->conninfo;
    if (pg->password) {
	keys[1] = "password";
	values[1] = pg->password;
    }
    pg->conn = PQconnectdbParams(keys, values, 1);
    if (pg->conn == NULL)
	g_error("libpq: out of memory");
    PQsetNoticeProcessor(pg->conn, notice, pg);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
	g_autofree char *msg = one_line(PQerrorMessage(pg->conn));

	*why = g_strdup_printf("%s: cannot connect: %s", pg->display, msg);
	ret = STORE_BUSY;
	goto fail;
    }
    if ((ret = pg_migrate(pg, why)) != STORE_OK)
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
 * Operations left NULL are not supported by this backend yet (FAQ, the
 * category model, projects, kept-apart mail reports): their callers say so.
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
    .set_classes = pg_set_classes,
    .case_ticket = pg_case_ticket,
    .load_attachment = pg_load_attachment,
    .set_ticket_faq = pg_set_ticket_faq,
    .maintain = pg_maintain,
};
