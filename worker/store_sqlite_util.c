/*
 * NAME
 *	store_sqlite_util - statement helpers of the SQLite ticket store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 * DESCRIPTION
 *	Binding, stepping and resetting the prepared statements of a
 *	connection; turning an SQLite result code into STORE_BUSY or
 *	STORE_ERROR with a *why; ISO 8601 times; op_begin()/op_end(), the
 *	savepoint that makes one store operation all-or-nothing.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sqlite_int.h"

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and the null byte. */
#define ISO_TIME_SIZE	21
#define ISO_TIME_MAX	G_GINT64_CONSTANT(253402300799)	/* 9999-12-31T23:59:59Z */

/*
 * iso_time - format a Unix time as ISO 8601 UTC into buf; returns buf.
 * The time is clamped to years 1970..9999, where the text is fixed-width
 * and sorts as time does. *year (may be NULL) gets the year.
 */
const char *iso_time(gint64 unix_time, char buf[ISO_TIME_SIZE], int *year)
{
    time_t  t = (time_t) CLAMP(unix_time, 0, ISO_TIME_MAX);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL
	|| strftime(buf, ISO_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) != ISO_TIME_SIZE - 1)
	g_error("iso_time: cannot format %" G_GINT64_FORMAT, unix_time);
    if (year)
	*year = tm.tm_year + 1900;
    return buf;
}

/* sq_transient - whether an SQLite result code is worth trying again later */
gboolean sq_transient(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
	return TRUE;
    default:
	return FALSE;
    }
}

/*
 * sq_fail - report a failed SQLite call: *why names the database, the step
 * and SQLite's message; returns STORE_BUSY or STORE_ERROR.
 */
int     sq_fail(struct sq *sq, int rc, const char *what, char **why)
{
    sq->last_rc = rc;
    *why = g_strdup_printf("%s: %s: %s", sq->path, what,
			   sq->db ? sqlite3_errmsg(sq->db) : sqlite3_errstr(rc));
    return sq_transient(rc) ? STORE_BUSY : STORE_ERROR;
}

/*
 * sq_reset - make a statement ready for its next use and drop its
 * bindings (they may point into the caller's memory: SQLITE_STATIC).
 */
void    sq_reset(struct sq *sq, enum stmt id)
{
    /* sqlite3_reset() repeats the error of the last step, already reported. */
    (void) sqlite3_reset(sq->stmt[id]);
    (void) sqlite3_clear_bindings(sq->stmt[id]);	/* always SQLITE_OK */
}

/*
 * sq_bind - bind parameters ?1, ?2, ... of a statement, one argument per
 * letter of types: 't' const char * (NULL binds NULL), 'i' gint64 (cast
 * literals!), 'd' double, 'b' GBytes * (NULL binds NULL, empty binds an empty blob).
 * The values must stay valid until the statement is reset. On failure
 * the statement is reset.
 */
int     sq_bind(struct sq *sq, enum stmt id, char **why, const char *types, ...)
{
    sqlite3_stmt *s = sq->stmt[id];
    int     rc = SQLITE_OK;
    va_list ap;

    va_start(ap, types);
    for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
	switch (types[i]) {
	case 't':{
		const char *v = va_arg(ap, const char *);

		rc = v ? sqlite3_bind_text(s, i + 1, v, -1, SQLITE_STATIC)
		    : sqlite3_bind_null(s, i + 1);
		break;
	    }
	case 'i':
	    rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, gint64));
	    break;
	case 'd':{				/* a double; NaN: null */
		double  v = va_arg(ap, double);

		rc = isnan(v) ? sqlite3_bind_null(s, i + 1) : sqlite3_bind_double(s, i + 1, v);
		break;
	    }
	case 'b':{
		GBytes *v = va_arg(ap, GBytes *);
		gsize   len = 0;
		gconstpointer data = v ? g_bytes_get_data(v, &len) : NULL;

		if (v == NULL)
		    rc = sqlite3_bind_null(s, i + 1);
		else if (len == 0)
		    rc = sqlite3_bind_zeroblob(s, i + 1, 0);
		else
		    rc = sqlite3_bind_blob64(s, i + 1, data, len, SQLITE_STATIC);
		break;
	    }
	default:
	    g_assert_not_reached();
	}
    }
    va_end(ap);
    if (rc != SQLITE_OK) {
	int     ret = sq_fail(sq, rc, sq_stmt_defs[id].what, why);

	sq_reset(sq, id);
	return ret;
    }
    return STORE_OK;
}

/*
 * sq_step - step a bound statement. *row (may be NULL) tells whether a
 * row waits; the caller reads it and calls sq_reset(). On failure the
 * statement is reset.
 */
int     sq_step(struct sq *sq, enum stmt id, gboolean *row, char **why)
{
    int     rc = sqlite3_step(sq->stmt[id]);
    int     ret;

    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
	if (row)
	    *row = (rc == SQLITE_ROW);
	return STORE_OK;
    }
    ret = sq_fail(sq, rc, sq_stmt_defs[id].what, why);
    sq_reset(sq, id);
    return ret;
}

/* sq_run - step a bound statement that returns no rows, and reset it */
int     sq_run(struct sq *sq, enum stmt id, char **why)
{
    int     ret = sq_step(sq, id, NULL, why);

    sq_reset(sq, id);
    return ret;
}

/* sq_exec - run SQL text (statements that are not cached: open, migrations) */
int     sq_exec(struct sq *sq, const char *sql, const char *what, char **why)
{
    int     rc = sqlite3_exec(sq->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? STORE_OK : sq_fail(sq, rc, what, why);
}

/* sq_query_text - the first column of the first row of SQL text, newly allocated */
int     sq_query_text(struct sq *sq, const char *sql, char **value, char **why)
{
    sqlite3_stmt *s = NULL;
    int     rc = sqlite3_prepare_v2(sq->db, sql, -1, &s, NULL);
    int     ret = STORE_OK;

    *value = NULL;
    if (rc != SQLITE_OK)
	return sq_fail(sq, rc, sql, why);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
	*value = g_strdup((const char *) sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
	ret = sq_fail(sq, rc, sql, why);
    (void) sqlite3_finalize(s);			/* repeats the step's error */
    return ret;
}

/* col_strdup - a text column, newly allocated; NULL for SQL NULL */
char   *col_strdup(sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
	return NULL;
    return g_strdup((const char *) sqlite3_column_text(s, col));
}

/*
 * op_begin/op_end - run one store operation of several statements inside
 * the savepoint store_op: all of it or none. op_end() takes the result
 * of the operation; on failure it undoes the operation and returns that
 * result (*why already set), else it releases the savepoint.
 */
int     op_begin(struct sq *sq, char **why)
{
    return sq_run(sq, S_OP_SAVEPOINT, why);
}

int     op_end(struct sq *sq, int ret, char **why)
{
    char   *undo_why = NULL;

    if (ret == STORE_OK && (ret = sq_run(sq, S_OP_RELEASE, why)) == STORE_OK)
	return STORE_OK;
    /* After some errors SQLite has rolled back the whole transaction already. */
    if (!sqlite3_get_autocommit(sq->db)
	&& (sq_run(sq, S_OP_ROLLBACK_TO, &undo_why) != STORE_OK
	    || sq_run(sq, S_OP_RELEASE, &undo_why) != STORE_OK)) {
	msg_warn("%s", undo_why);
	g_free(undo_why);
    }
    return ret;
}
