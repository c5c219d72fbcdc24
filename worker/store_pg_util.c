/*
 * NAME
 *	store_pg_util - statements, errors and results of the PostgreSQL
 *	ticket store
 * SYNOPSIS
 *	#include "pg_int.h"
 *
 *	int	pg_run(pg, what, sql, &res, &why, types, ...)
 *	int	pg_op_begin(pg, &why)
 *	int	pg_op_end(pg, ret, &why)
 *	char	*pg_one_line(msg)
 *	char	*pg_strdup(res, row, col)
 *	gint64	pg_int(res, row, col)
 *	GBytes	*pg_bytea(res, row, col)
 *	GBytes	*pg_original(res, row, col, display, what, id, &why)
 *	void	pg_emit_row(res, row, kind, fn, ctx)
 *	void	pg_emit_rows(res, kind, fn, ctx)
 * DESCRIPTION
 *	pg_run() sends one statement with parameters described by types:
 *	t text (const char *, NULL: null), i gint64, d double (NaN: null),
 *	b GBytes * (bytea, sent binary; NULL: null), B gboolean. *res,
 *	when res is not NULL, is the result (PQclear). pg_op_begin() and
 *	pg_op_end() make an operation of several statements all or
 *	nothing, inside the caller's transaction (a savepoint) or outside
 *	it (a transaction of its own).
 *	pg_one_line() is a libpq message on one line (g_free).
 * DIAGNOSTICS
 *	SQLSTATE classes 08 (connection), 40 (serialization failure,
 *	deadlock), 53 (resources), 57 (server shutting down or starting),
 *	58 (I/O), 55P03 (lock not available) and 25P02 (an earlier error
 *	aborted the transaction) are STORE_BUSY; everything else is
 *	STORE_ERROR; *why names the server (password masked), the step
 *	and PostgreSQL's message with its SQLSTATE.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "pg_int.h"
#include "zframe.h"

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
char   *pg_one_line(const char *msg)
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
    g_autofree char *msg = pg_one_line(PQerrorMessage(pg->conn));

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
	g_autofree char *msg = pg_one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));

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

/*
 * pg_original - a stored original (one zstd frame in a bytea column),
 * unpacked; NULL and *why naming what (e.g. "attachment") and id.
 */
GBytes *pg_original(const PGresult *res, int row, int col, const char *display,
		    const char *what, gint64 id, char **why)
{
    g_autoptr(GBytes) frame = pg_bytea(res, row, col);
    gsize   len, raw_len = 0;
    gconstpointer p = g_bytes_get_data(frame, &len);
    char   *w2 = NULL;
    char   *raw = zframe_unpack(p, len, PG_MAX_DECOMPRESSED, &raw_len, &w2);

    if (raw == NULL) {
	*why = g_strdup_printf("%s: original of %s %" G_GINT64_FORMAT ": %s", display, what, id,
			       w2);
	g_free(w2);
	return NULL;
    }
    return g_bytes_new_take(raw, raw_len);
}
