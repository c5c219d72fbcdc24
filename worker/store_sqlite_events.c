/*
 * NAME
 *	store_sqlite_events - the sinks' event outbox in the SQLite ticket store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 * DESCRIPTION
 *	The store_ops of the sinks (docs/events.md): add_event, next_event,
 *	event_state, sink_status, sink_retry, prune_events, sink_ref_get,
 *	sink_ref_set, on the tables events and sink_refs (schema 6,
 *	store_sqlite_sql.c).
 *
 *	add_event() runs in the caller's transaction (the ticket's: an
 *	event exists exactly when its ticket's change does) inside its own
 *	savepoint: the next value of counter "event" is the event id, and
 *	each sink named gets a row of its own, so that one sink's progress
 *	never waits on another's.
 *
 *	next_event() is the order: of one sink, the oldest pending row due
 *	by now whose ticket has no earlier row (of that sink) that is not
 *	sent. A row that waits for its retry therefore holds back the later
 *	events of its ticket, and only those: other tickets go on. A failed
 *	row holds them back too, until intakectl sinks retry. autogen.kept
 *	has no ticket (0) and is never held back.
 *
 *	next_event() walks the sink's pending rows in id order (index
 *	events_due: sink, state, id) and stops at the first that is due and
 *	not held back: after an outage the backlog drains in time linear in
 *	its size, not a sort of the backlog per event.
 *
 *	The statements are few and run once per event: they are prepared
 *	per call here instead of joining the connection's table in
 *	sqlite_int.h, which would make this file's schema a condition of
 *	opening any store.
 * DIAGNOSTICS
 *	As store_sqlite.c.
 */
#include <string.h>
#include <time.h>

#include "sqlite_int.h"

/* prepare - SQL text as a statement (sqlite3_finalize() it); STORE_OK or *why */
static int prepare(struct sq *sq, const char *sql, const char *what, sqlite3_stmt **s,
		   char **why)
{
    int     rc = sqlite3_prepare_v2(sq->db, sql, -1, s, NULL);

    return rc == SQLITE_OK ? STORE_OK : sq_fail(sq, rc, what, why);
}

/* finish - step a statement that returns no row, then finalize it */
static int finish(struct sq *sq, sqlite3_stmt *s, const char *what, char **why)
{
    int     rc = sqlite3_step(s);
    int     ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : sq_fail(sq, rc, what, why);

    sqlite3_finalize(s);
    return ret;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
	sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
	sqlite3_bind_null(s, i);
}

int     sq_add_event(struct store *st, const struct store_event *ev, gint64 *id, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    char    now[ISO_TIME_SIZE];
    int     ret, rc;

    *id = 0;
    iso_time(time(NULL), now, NULL);
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    if ((ret = prepare(sq, "UPDATE counters SET value = value + 1 WHERE name = 'event'"
		       " RETURNING value", "number the event", &s, why)) == STORE_OK) {
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
	    *id = sqlite3_column_int64(s, 0);
	else
	    ret = sq_fail(sq, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "number the event", why);
	sqlite3_finalize(s);
    }
    for (int i = 0; ret == STORE_OK && ev->sinks && ev->sinks[i]; i++) {
	if ((ret = prepare(sq, "INSERT INTO events(event_id, sink, type, ticket_id, number,"
			   " mailbox, message_row, payload, created_at) VALUES(?1, ?2, ?3, ?4,"
			   " coalesce(?5, (SELECT number FROM tickets WHERE id = ?4)),"
			   " coalesce(?6, (SELECT mailbox FROM tickets WHERE id = ?4)), ?7, ?8, ?9)",
			   "insert event", &s, why)) != STORE_OK)
	    break;
	sqlite3_bind_int64(s, 1, *id);
	bind_text(s, 2, ev->sinks[i]);
	bind_text(s, 3, ev->type);
	sqlite3_bind_int64(s, 4, ev->ticket_id);
	bind_text(s, 5, ev->number);
	bind_text(s, 6, ev->mailbox);
	sqlite3_bind_int64(s, 7, ev->message_row);
	bind_text(s, 8, ev->payload);
	bind_text(s, 9, now);
	ret = finish(sq, s, "insert event", why);
    }
    return op_end(sq, ret, why);
}

int     sq_next_event(struct store *st, const char *sink, gint64 now_unix,
		      struct store_event_row *out, gboolean *found, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    int     ret, rc;

    memset(out, 0, sizeof(*out));
    *found = FALSE;
    if ((ret = prepare(sq, "SELECT id, event_id, sink, type, ticket_id, number, mailbox,"
		       " message_row, payload, created_at, attempts FROM events e"
		       " WHERE sink = ?1 AND state = 'pending' AND next_try <= ?2"
		       " AND (ticket_id = 0 OR NOT EXISTS (SELECT 1 FROM events p"
		       "  WHERE p.sink = e.sink AND p.ticket_id = e.ticket_id AND p.id < e.id"
		       "  AND p.state <> 'sent'))"
		       " ORDER BY id LIMIT 1", "find the next event", &s, why)) != STORE_OK)
	return ret;
    bind_text(s, 1, sink);
    sqlite3_bind_int64(s, 2, now_unix);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
	out->row = sqlite3_column_int64(s, 0);
	out->id = sqlite3_column_int64(s, 1);
	out->sink = col_strdup(s, 2);
	out->type = col_strdup(s, 3);
	out->ticket_id = sqlite3_column_int64(s, 4);
	out->number = col_strdup(s, 5);
	out->mailbox = col_strdup(s, 6);
	out->message_row = sqlite3_column_int64(s, 7);
	out->payload = col_strdup(s, 8);
	out->created_at = col_strdup(s, 9);
	out->attempts = sqlite3_column_int(s, 10);
	*found = TRUE;
    } else if (rc != SQLITE_DONE) {
	ret = sq_fail(sq, rc, "find the next event", why);
    }
    sqlite3_finalize(s);
    return ret;
}

int     sq_event_state(struct store *st, gint64 row, const char *state, const char *answer,
		       gint64 next_try_unix, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    char    now[ISO_TIME_SIZE];
    int     ret;

    if (strcmp(state, "sent") != 0 && strcmp(state, "failed") != 0
	&& strcmp(state, "pending") != 0) {
	*why = g_strdup_printf("event state '%s': expected sent, failed or pending", state);
	return STORE_ERROR;
    }
    iso_time(time(NULL), now, NULL);
    if ((ret = prepare(sq, "UPDATE events SET state = ?2, last_answer = ?3, next_try = ?4,"
		       " attempts = attempts + 1, last_try = ?5,"
		       " sent_at = CASE WHEN ?2 = 'sent' THEN ?5 END WHERE id = ?1",
		       "record an event's outcome", &s, why)) != STORE_OK)
	return ret;
    sqlite3_bind_int64(s, 1, row);
    bind_text(s, 2, state);
    bind_text(s, 3, answer);
    sqlite3_bind_int64(s, 4, next_try_unix);
    bind_text(s, 5, now);
    return finish(sq, s, "record an event's outcome", why);
}

/* emit - the current row of s as a store_row of kind */
static void emit(sqlite3_stmt *s, const char *kind, store_row_fn fn, void *ctx)
{
    struct store_value v[8];
    struct store_row r = {.kind = kind, .values = v, .n = sqlite3_column_count(s)};

    g_assert(r.n <= (int) G_N_ELEMENTS(v));
    memset(v, 0, sizeof(v));
    for (int i = 0; i < r.n; i++) {
	v[i].name = sqlite3_column_name(s, i);
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
	    v[i].type = STORE_INT;
	    v[i].i = sqlite3_column_int64(s, i);
	    break;
	case SQLITE_NULL:
	    v[i].type = STORE_NULL;
	    break;
	default:
	    v[i].type = STORE_TEXT;
	    v[i].text = (const char *) sqlite3_column_text(s, i);
	    v[i].len = (size_t) sqlite3_column_bytes(s, i);
	    break;
	}
    }
    fn(ctx, &r);
}

int     sq_sink_status(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    int     ret, rc;

    /* The last answer is the newest try's: what the far end says now. */
    if ((ret = prepare(sq, "SELECT sink,"
		       " sum(state = 'pending') AS pending, sum(state = 'failed') AS failed,"
		       " sum(state = 'sent') AS sent,"
		       " min(CASE WHEN state = 'pending' THEN created_at END) AS oldest_pending,"
		       " (SELECT last_answer FROM events l WHERE l.sink = e.sink AND"
		       "  l.last_try IS NOT NULL ORDER BY l.last_try DESC, l.id DESC LIMIT 1)"
		       "  AS last_answer,"
		       " max(last_try) AS last_try"
		       " FROM events e GROUP BY sink ORDER BY sink", "sink status", &s,
		       why)) != STORE_OK)
	return ret;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
	emit(s, "sink", fn, ctx);
    if (rc != SQLITE_DONE)
	ret = sq_fail(sq, rc, "sink status", why);
    sqlite3_finalize(s);
    return ret;
}

int     sq_sink_retry(struct store *st, const char *sink, gint64 event_id, int *requeued,
		      char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    int     ret, rc;

    *requeued = 0;
    if ((ret = prepare(sq, "UPDATE events SET state = 'pending', next_try = 0"
		       " WHERE sink = ?1 AND state = 'failed' AND (?2 = 0 OR event_id = ?2)",
		       "re-queue failed events", &s, why)) != STORE_OK)
	return ret;
    bind_text(s, 1, sink);
    sqlite3_bind_int64(s, 2, event_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
	*requeued = sqlite3_changes(sq->db);
    else
	ret = sq_fail(sq, rc, "re-queue failed events", why);
    sqlite3_finalize(s);
    return ret;
}

int     sq_prune_events(struct store *st, gint64 before_unix, int limit, int *deleted,
			char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    char    before[ISO_TIME_SIZE];
    int     ret, rc;

    *deleted = 0;
    iso_time(before_unix, before, NULL);
    if ((ret = prepare(sq, "DELETE FROM events WHERE id IN (SELECT id FROM events"
		       " WHERE state = 'sent' AND sent_at < ?1 LIMIT ?2)",
		       "prune sent events", &s, why)) != STORE_OK)
	return ret;
    bind_text(s, 1, before);
    sqlite3_bind_int(s, 2, limit);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
	*deleted = sqlite3_changes(sq->db);
    else
	ret = sq_fail(sq, rc, "prune sent events", why);
    sqlite3_finalize(s);
    return ret;
}

int     sq_sink_ref_get(struct store *st, const char *sink, gint64 ticket_id, char **ref,
			char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    int     ret, rc;

    *ref = NULL;
    if ((ret = prepare(sq, "SELECT ref FROM sink_refs WHERE sink = ?1 AND ticket_id = ?2",
		       "look up the far end's ticket", &s, why)) != STORE_OK)
	return ret;
    bind_text(s, 1, sink);
    sqlite3_bind_int64(s, 2, ticket_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
	*ref = col_strdup(s, 0);
    else if (rc != SQLITE_DONE)
	ret = sq_fail(sq, rc, "look up the far end's ticket", why);
    sqlite3_finalize(s);
    return ret;
}

int     sq_sink_ref_set(struct store *st, const char *sink, gint64 ticket_id, const char *ref,
			char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = NULL;
    int     ret;

    if ((ret = prepare(sq, "INSERT INTO sink_refs(sink, ticket_id, ref) VALUES(?1, ?2, ?3)"
		       " ON CONFLICT(sink, ticket_id) DO UPDATE SET ref = excluded.ref",
		       "keep the far end's ticket", &s, why)) != STORE_OK)
	return ret;
    bind_text(s, 1, sink);
    sqlite3_bind_int64(s, 2, ticket_id);
    bind_text(s, 3, ref);
    return finish(sq, s, "keep the far end's ticket", why);
}
