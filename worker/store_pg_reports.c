/*
 * NAME
 *	store_pg_reports - rows for intakectl from the PostgreSQL ticket
 *	store
 * SYNOPSIS
 *	#include "pg_int.h"
 * DESCRIPTION
 *	list_tickets, show_ticket, stats and load_attachment, with the
 *	rows, columns and order store.h names (the same as the SQLite
 *	store's, so that intakectl prints either alike). Times are ISO 8601
 *	UTC text (PG_ISO), booleans 0 or 1. show_ticket() reads every part
 *	in one REPEATABLE READ snapshot. A ticket has no time entries here
 *	(projects and time entries are not supported by this backend).
 *	load_attachment() gives the zstd original decompressed (at most
 *	PG_MAX_DECOMPRESSED bytes), for ctl_attachment() to cut the part
 *	from.
 * DIAGNOSTICS
 *	As store_pg.c; a damaged original is STORE_ERROR naming the row.
 */
#include <string.h>

#include "pg_int.h"


/* run_rows - one statement, each row handed to fn as kind */
static int run_rows(struct pg *pg, const char *what, const char *sql, const char *kind,
		            store_row_fn fn, void *ctx, char **why, gint64 id)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(pg, what, sql, &res, why, "i", id)) != STORE_OK)
	return ret;
    pg_emit_rows(res, kind, fn, ctx);
    PQclear(res);
    return STORE_OK;
}

int     pg_list_tickets(struct store *st, const char *mailbox, const char *status,
			int limit, store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(PG(st), "list tickets",
		      "SELECT number, mailbox, status, title, customer_address AS customer,"
		      " " PG_ISO("created_at") " AS created_at,"
		      " " PG_ISO("updated_at") " AS updated_at,"
		      " (SELECT count(*) FROM messages m WHERE m.ticket_id = t.id) AS messages,"
		      " sentiment, sentiment_score FROM tickets t"
		      " WHERE ($1::text IS NULL OR mailbox = $1) AND ($2::text IS NULL OR status = $2)"
		      " ORDER BY t.id DESC LIMIT $3", &res, why, "tti", mailbox, status,
		      (gint64) (limit > 0 ? limit : G_MAXINT64))) != STORE_OK)
	return ret;
    pg_emit_rows(res, "ticket", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

/* Rows "case": store_sqlite_sql.c's S_CASE_LIST, names in byte order as SQLite sorts them. */
int     pg_list_cases(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(PG(st), "list cases",
		      "SELECT c.name, c.title, " PG_ISO("c.created_at") " AS created_at,"
		      " (SELECT count(*) FROM tickets t WHERE t.case_id = c.id) AS tickets,"
		      " (SELECT t.number FROM tickets t WHERE t.case_id = c.id"
		      "   ORDER BY t.id DESC LIMIT 1) AS newest"
		      " FROM cases c ORDER BY c.name COLLATE \"C\"", &res, why, "")) != STORE_OK)
	return ret;
    pg_emit_rows(res, "case", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

static int show_messages(struct pg *pg, gint64 ticket_id, store_row_fn fn, void *ctx,
			         char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(pg, "show messages",
		      "SELECT id, direction, sender_address AS sender, sender_name, message_id,"
		      " subject, " PG_ISO("created_at") " AS created_at, body, header_fields, note,"
		      " full_text FROM messages WHERE ticket_id = $1 ORDER BY id", &res, why, "i",
		      ticket_id)) != STORE_OK)
	return ret;
    for (int r = 0; r < PQntuples(res) && ret == STORE_OK; r++) {
	/* One row at a time: each message is followed by its attachments. */
	pg_emit_row(res, r, "message", fn, ctx);
	ret = run_rows(pg, "show attachments",
		       "SELECT id, filename, content_type, size, stored, sha256"
		       " FROM attachments WHERE message_id = $1 ORDER BY id", "attachment",
		       fn, ctx, why, pg_int(res, r, 0));
    }
    PQclear(res);
    return ret;
}

static int show_ticket(struct pg *pg, const char *number, store_row_fn fn, void *ctx,
		               char **why)
{
    PGresult *res = NULL;
    gint64  id;
    int     ret;

    if ((ret = pg_run(pg, "show ticket",
		      "SELECT id, number, mailbox, status, title, category, priority, type, language,"
		      " customer_name, customer_address, " PG_ISO("created_at") " AS created_at,"
		      " " PG_ISO("updated_at") " AS updated_at, " PG_ISO("closed_at") " AS closed_at,"
		      " (SELECT o.number FROM tickets o WHERE o.id = t.linked_to) AS linked_to,"
		      " link_reason, queue, assignee,"
		      " (SELECT c.name FROM cases c WHERE c.id = t.case_id) AS \"case\","
		      " (SELECT string_agg(tag, ',' ORDER BY tag) FROM ticket_tags"
		      "   WHERE ticket_id = t.id) AS tags, rules, sentiment, sentiment_score,"
		      " category_suggested, category_confidence, category_confirmed"
		      " FROM tickets t WHERE number = $1", &res, why, "t", number)) != STORE_OK)
	return ret;
    if (PQntuples(res) == 0) {
	PQclear(res);
	*why = g_strdup_printf("no ticket %s", number);
	return STORE_ERROR;
    }
    id = pg_int(res, 0, 0);
    pg_emit_rows(res, "ticket", fn, ctx);
    PQclear(res);
    if ((ret = run_rows(pg, "show linked tickets", "SELECT number, link_reason FROM tickets"
			" WHERE linked_to = $1 ORDER BY id", "linked_from", fn, ctx, why,
			id)) != STORE_OK
	|| (ret = show_messages(pg, id, fn, ctx, why)) != STORE_OK
	|| (ret = run_rows(pg, "show replies",
			   "SELECT kind, recipient, state, attempts, last_error,"
			   " " PG_ISO("created_at") " AS created_at, " PG_ISO("sent_at")
			   " AS sent_at, message_id FROM outbox WHERE ticket_id = $1 ORDER BY id",
			   "reply", fn, ctx, why, id)) != STORE_OK)
	return ret;
    if ((ret = run_rows(pg, "show FAQ suggestions",
			"SELECT rank, faq_id, title, url,"
			" to_char(score, 'FM999999990.00') AS score"
			" FROM ticket_faq WHERE ticket_id = $1 ORDER BY rank", "faq", fn, ctx, why,
			id)) != STORE_OK)
	return ret;
    return run_rows(pg, "show time entries",
		    "SELECT id, minutes, summary, author, message_id, " PG_ISO("created_at")
		    " AS created_at FROM time_entries WHERE ticket_id = $1 ORDER BY id",
		    "time_entry", fn, ctx, why, id);
}

int     pg_show_ticket(struct store *st, const char *number, store_row_fn fn, void *ctx,
		       char **why)
{
    struct pg *pg = PG(st);
    int     ret;

    if (pg->in_txn)
	return show_ticket(pg, number, fn, ctx, why);
    /* One snapshot: every part as of one moment. */
    if ((ret = pg_run(pg, "begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
		      why, NULL)) != STORE_OK)
	return ret;
    pg->in_txn = TRUE;
    ret = show_ticket(pg, number, fn, ctx, why);
    pg->in_txn = FALSE;
    return pg_op_end(pg, ret, why);
}

int     pg_stats(struct store *st, struct store_stats *out, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     col = 0, ret;

    memset(out, 0, sizeof(*out));
    /* The counts in the order of struct store_stats. */
    if ((ret = pg_run(pg, "count",
		      "SELECT (SELECT count(*) FROM tickets),"
		      " (SELECT count(*) FROM messages),"
		      " count(*) FILTER (WHERE state = 'owed'),"
		      " count(*) FILTER (WHERE state = 'sending'),"
		      " count(*) FILTER (WHERE state = 'sent'),"
		      " count(*) FILTER (WHERE state = 'unknown'),"
		      " count(*) FILTER (WHERE state = 'failed'),"
		      " count(*) FILTER (WHERE state = 'bounced'),"
		      " count(*) FILTER (WHERE state = 'suppressed'),"
		      " (SELECT count(*) FROM tickets WHERE created_at >= now() - interval '1 minute'),"
		      " (SELECT count(*) FROM tickets WHERE created_at >= now() - interval '5 minutes'),"
		      " (SELECT count(*) FROM tickets WHERE created_at >= now() - interval '15 minutes')"
		      " FROM outbox", &res, why, NULL)) != STORE_OK)
	return ret;
    G_STATIC_ASSERT(STORE_REPLY_STATES == 7);
    out->tickets = pg_int(res, 0, col++);
    out->messages = pg_int(res, 0, col++);
    for (int i = 0; i < STORE_REPLY_STATES; i++)
	out->replies[i] = pg_int(res, 0, col++);
    out->tickets_last_1m = pg_int(res, 0, col++);
    out->tickets_last_5m = pg_int(res, 0, col++);
    out->tickets_last_15m = pg_int(res, 0, col++);
    g_assert(col == PQnfields(res));
    PQclear(res);
    if ((ret = pg_run(pg, "count auto-generated mail",
		      "SELECT kind, count(*) FROM autogen GROUP BY kind", &res, why,
		      NULL)) != STORE_OK)
	return ret;
    for (int r = 0; r < PQntuples(res); r++) {
	int     kind = autogen_kind_parse(PQgetvalue(res, r, 0));

	if (kind >= 0)
	    out->autogen[kind] = pg_int(res, r, 1);
    }
    PQclear(res);
    return STORE_OK;
}

int     pg_load_attachment(struct store *st, const char *number, gint64 id,
			   struct store_attachment_row *out, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret;

    memset(out, 0, sizeof(*out));
    if ((ret = pg_run(pg, "read attachment",
		      "SELECT a.id, a.filename, a.content_type, a.size, a.stored, a.part, a.sha256,"
		      " m.raw, m.mime_limits FROM attachments a"
		      " JOIN messages m ON m.id = a.message_id JOIN tickets t ON t.id = m.ticket_id"
		      " WHERE t.number = $1 AND a.id = $2", &res, why, "ti", number,
		      id)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0) {
	out->found = TRUE;
	out->id = pg_int(res, 0, 0);
	out->filename = pg_strdup(res, 0, 1);
	out->content_type = pg_strdup(res, 0, 2);
	out->size = pg_int(res, 0, 3);
	out->stored = *PQgetvalue(res, 0, 4) == 't';
	out->part = pg_int(res, 0, 5);
	out->sha256 = pg_strdup(res, 0, 6);
	out->mime_limits = pg_strdup(res, 0, 8);
	if (out->stored && !PQgetisnull(res, 0, 7)
	    && (out->raw = pg_original(res, 0, 7, pg->display, "attachment", id, why)) == NULL)
	    ret = STORE_ERROR;
    }
    PQclear(res);
    if (ret != STORE_OK)
	store_attachment_row_clear(out);
    return ret;
}
