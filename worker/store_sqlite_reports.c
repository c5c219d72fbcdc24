/*
 * NAME
 *	store_sqlite_reports - the rows intakectl reads from the SQLite
 *	ticket store: ticket lists, a ticket shown whole, counts
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	int	sq_emit_rows(sq, id, kind, fn, ctx, &why)
 *	void	sq_emit_row(sq, id, kind, fn, ctx)
 * DESCRIPTION
 *	The store_ops list_tickets, show_ticket and stats, with the rows and
 *	columns store.h lists; the column names are the SQL's (aliases
 *	choose them). show_ticket() runs inside its own savepoint, so it
 *	reads one snapshot. stats() counts kept-apart mail of the kinds
 *	autogen.c names (a row of another kind is not counted).
 *
 *	sq_emit_rows() steps a bound statement to its end and hands each
 *	row to fn (store_sqlite_autogen.c uses it too); sq_emit_row() hands
 *	over the current row.
 * DIAGNOSTICS
 *	As store_sqlite.c.
 */
#include <string.h>

#include "sqlite_int.h"

/* Wider than the widest report row (show_ticket's "ticket" has 26 columns). */
#define MAX_COLUMNS 32

void    sq_emit_row(struct sq *sq, enum stmt id, const char *kind, store_row_fn fn, void *ctx)
{
    sqlite3_stmt *s = sq->stmt[id];
    struct store_value v[MAX_COLUMNS];
    struct store_row row = {.kind = kind, .values = v, .n = sqlite3_column_count(s)};

    g_assert(row.n <= MAX_COLUMNS);
    memset(v, 0, sizeof(v));
    for (int i = 0; i < row.n; i++) {
	v[i].name = sqlite3_column_name(s, i);
	if (v[i].name == NULL)
	    g_error("%s: %s: out of memory", sq->path, sq_stmt_defs[id].what);
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
	    v[i].type = STORE_INT;
	    v[i].i = sqlite3_column_int64(s, i);
	    break;
	case SQLITE_TEXT:
	    v[i].type = STORE_TEXT;
	    v[i].text = (const char *) sqlite3_column_text(s, i);
	    v[i].len = sqlite3_column_bytes(s, i);
	    break;
	case SQLITE_FLOAT:
	    v[i].type = STORE_REAL;
	    v[i].d = sqlite3_column_double(s, i);
	    break;
	default:				/* no report selects a blob */
	    v[i].type = STORE_NULL;
	    break;
	}
    }
    fn(ctx, &row);
}

int     sq_emit_rows(struct sq *sq, enum stmt id, const char *kind, store_row_fn fn,
		     void *ctx, char **why)
{
    gboolean row = FALSE;
    int     ret;

    while ((ret = sq_step(sq, id, &row, why)) == STORE_OK && row)
	sq_emit_row(sq, id, kind, fn, ctx);
    sq_reset(sq, id);
    return ret;
}

int     sq_list_tickets(struct store *st, const char *mailbox, const char *status,
			int limit, store_row_fn fn, void *ctx, char **why)
{
    static const enum stmt variant[] = {
	S_LIST, S_LIST_MAILBOX, S_LIST_STATUS, S_LIST_MAILBOX_STATUS,
    };
    struct sq *sq = SQ(st);
    enum stmt id = variant[(mailbox ? 1 : 0) | (status ? 2 : 0)];
    int     ret;

    if ((ret = sq_bind(sq, id, why, "tti", mailbox, status,
		       (gint64) (limit > 0 ? limit : -1))) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, id, "ticket", fn, ctx, why);
}

/* show_messages - each message of a ticket, followed by its attachments */
static int show_messages(struct sq *sq, gint64 ticket_id, store_row_fn fn, void *ctx,
			         char **why)
{
    gboolean row = FALSE;
    int     ret;

    if ((ret = sq_bind(sq, S_SHOW_MESSAGES, why, "i", ticket_id)) != STORE_OK)
	return ret;
    while ((ret = sq_step(sq, S_SHOW_MESSAGES, &row, why)) == STORE_OK && row) {
	sq_emit_row(sq, S_SHOW_MESSAGES, "message", fn, ctx);
	if ((ret = sq_bind(sq, S_SHOW_ATTACHMENTS, why, "i",
			   sqlite3_column_int64(sq->stmt[S_SHOW_MESSAGES], 0))) != STORE_OK
	    || (ret = sq_emit_rows(sq, S_SHOW_ATTACHMENTS, "attachment", fn, ctx,
				   why)) != STORE_OK)
	    break;
    }
    sq_reset(sq, S_SHOW_MESSAGES);
    return ret;
}

/* show_ticket - the body of sq_show_ticket(), inside its savepoint */
static int show_ticket(struct sq *sq, const char *number, store_row_fn fn, void *ctx,
		               char **why)
{
    gint64  id = 0;
    gboolean row = FALSE;
    int     ret;

    if ((ret = sq_bind(sq, S_SHOW_TICKET, why, "t", number)) != STORE_OK
	|| (ret = sq_step(sq, S_SHOW_TICKET, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	id = sqlite3_column_int64(sq->stmt[S_SHOW_TICKET], 0);
	sq_emit_row(sq, S_SHOW_TICKET, "ticket", fn, ctx);
    }
    sq_reset(sq, S_SHOW_TICKET);
    if (!row) {
	*why = g_strdup_printf("no ticket %s", number);
	return STORE_ERROR;
    }
    if ((ret = sq_bind(sq, S_SHOW_LINKED_FROM, why, "i", id)) != STORE_OK
	|| (ret = sq_emit_rows(sq, S_SHOW_LINKED_FROM, "linked_from", fn, ctx, why)) != STORE_OK
	|| (ret = show_messages(sq, id, fn, ctx, why)) != STORE_OK
	|| (ret = sq_bind(sq, S_SHOW_REPLIES, why, "i", id)) != STORE_OK
	|| (ret = sq_emit_rows(sq, S_SHOW_REPLIES, "reply", fn, ctx, why)) != STORE_OK
	|| (ret = sq_bind(sq, S_SHOW_FAQ, why, "i", id)) != STORE_OK
	|| (ret = sq_emit_rows(sq, S_SHOW_FAQ, "faq", fn, ctx, why)) != STORE_OK
	|| (ret = sq_bind(sq, S_TIME_SHOW, why, "ii", id, (gint64) 0)) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_TIME_SHOW, "time_entry", fn, ctx, why);
}

int     sq_show_ticket(struct store *st, const char *number, store_row_fn fn, void *ctx,
		       char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    /* One savepoint: all parts come from one snapshot of the database. */
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    return op_end(sq, show_ticket(sq, number, fn, ctx, why), why);
}

int     sq_stats(struct store *st, struct store_stats *out, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_STATS];
    gboolean row = FALSE;
    int     col = 0, ret;

    memset(out, 0, sizeof(*out));
    if ((ret = sq_step(sq, S_STATS, &row, why)) != STORE_OK)
	return ret;
    /* S_STATS selects the counts in the order of struct store_stats. */
    if (row) {
	out->tickets = sqlite3_column_int64(s, col++);
	out->messages = sqlite3_column_int64(s, col++);
	for (int i = 0; i < STORE_REPLY_STATES; i++)
	    out->replies[i] = sqlite3_column_int64(s, col++);
	out->tickets_last_1m = sqlite3_column_int64(s, col++);
	out->tickets_last_5m = sqlite3_column_int64(s, col++);
	out->tickets_last_15m = sqlite3_column_int64(s, col++);
	g_assert(col == sqlite3_column_count(s));
    }
    sq_reset(sq, S_STATS);
    if (!row) {
	*why = g_strdup_printf("%s: count: no result", sq->path);
	return STORE_ERROR;
    }
    s = sq->stmt[S_AUTOGEN_COUNTS];
    while ((ret = sq_step(sq, S_AUTOGEN_COUNTS, &row, why)) == STORE_OK && row) {
	int     kind = autogen_kind_parse((const char *) sqlite3_column_text(s, 0));

	if (kind >= 0)
	    out->autogen[kind] = sqlite3_column_int64(s, 1);
    }
    sq_reset(sq, S_AUTOGEN_COUNTS);
    return ret;
}
