/*
 * NAME
 *	store_pg_events - the sinks' event outbox in the PostgreSQL ticket
 *	store, shared by several workers
 * SYNOPSIS
 *	#include "pg_int.h"
 * DESCRIPTION
 *	The store_ops of the sinks (docs/events.md, the contracts of
 *	store.h and store_sqlite_events.c): add_event, next_event,
 *	event_state, sink_status, sink_retry, prune_events, sink_ref_get,
 *	sink_ref_set, on the tables events and sink_refs (schema version 2,
 *	store_pg_schema.c).
 *
 *	add_event() runs in the caller's transaction (the ticket's) in a
 *	savepoint of its own. It first locks the ticket's row as an UPDATE
 *	would (the pipeline holds that lock already when it stored a
 *	message): the events of one ticket are then numbered and committed
 *	in the same order, so a sender never sees a later event of a ticket
 *	committed while an earlier one is still to come.
 *
 *	Several workers run a sender thread per sink, each on a connection
 *	of its own. next_event() leases the row it returns, as the outbox
 *	does (store_pg_outbox.c): in one committed statement it takes the
 *	oldest due pending row of the sink that nobody holds (FOR UPDATE
 *	SKIP LOCKED, lease expired or none) and whose ticket has no earlier
 *	row of that sink that is not sent, and writes this connection's
 *	name and an expiry into it. A row leased by another sender is still
 *	pending, so it holds back the later events of its ticket as a row
 *	waiting for its retry does: per ticket and sink, one event is in
 *	flight at a time, in order. A sender that asks while another
 *	commits its "sent" may see the old state and pass the ticket by
 *	this time; it never sees a later row as free too early.
 *
 *	event_state() needs the lease: a sender that stalled past it and
 *	lost the row to another records nothing over the other's work (the
 *	event went out twice, with the same event id: delivery is at least
 *	once, docs/events.md). A lease left by a dead worker expires after
 *	EVENT_LEASE_S and the row is due for all again.
 * DIAGNOSTICS
 *	As store_pg.c. event_state() without the lease is STORE_ERROR "not
 *	leased by this sender" (sink_sender.c logs it; the event is
 *	delivered again).
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/*
 * How long a sender holds an event: longer than one delivery (a sink
 * type makes a few requests per event, each bounded by [sink] timeout,
 * 30 s by default); a dead worker's event waits this long for another.
 */
#define EVENT_LEASE_S	300

int     pg_add_event(struct store *st, const struct store_event *ev, gint64 *id, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret;

    *id = 0;
    if ((ret = pg_op_begin(pg, why)) != STORE_OK)
	return ret;
    if (ev->ticket_id != 0)
	ret = pg_run(pg, "lock the event's ticket",
		     "SELECT 1 FROM tickets WHERE id = $1 FOR NO KEY UPDATE", NULL, why, "i",
		     ev->ticket_id);
    if (ret == STORE_OK
	&& (ret = pg_run(pg, "number the event", "SELECT nextval('event_ids')", &res, why,
			 NULL)) == STORE_OK) {
	*id = pg_int(res, 0, 0);
	PQclear(res);
    }
    for (int i = 0; ret == STORE_OK && ev->sinks && ev->sinks[i]; i++)
	ret = pg_run(pg, "insert event",
		     "INSERT INTO events(event_id, sink, type, ticket_id, number, mailbox,"
		     " message_row, payload, created_at) VALUES($1, $2, $3, $4,"
		     " coalesce($5, (SELECT number FROM tickets WHERE id = $4)),"
		     " coalesce($6, (SELECT mailbox FROM tickets WHERE id = $4)), $7, $8, now())",
		     NULL, why, "ittittit", *id, ev->sinks[i], ev->type, ev->ticket_id,
		     ev->number, ev->mailbox, ev->message_row, ev->payload);
    return pg_op_end(pg, ret, why);
}

int     pg_next_event(struct store *st, const char *sink, gint64 now_unix,
		      struct store_event_row *out, gboolean *found, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret;

    memset(out, 0, sizeof(*out));
    *found = FALSE;
    if ((ret = pg_run(pg, "lease the next event",
		      "UPDATE events SET lease_owner = $3,"
		      " lease_until = now() + make_interval(secs => $4)"
		      " WHERE id = (SELECT id FROM events e"
		      "   WHERE sink = $1 AND state = 'pending' AND next_try <= $2"
		      "   AND (lease_until IS NULL OR lease_until < now())"
		      "   AND (ticket_id = 0 OR NOT EXISTS (SELECT 1 FROM events p"
		      "     WHERE p.sink = e.sink AND p.ticket_id = e.ticket_id AND p.id < e.id"
		      "     AND p.state <> 'sent'))"
		      "   ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
		      " RETURNING id, event_id, sink, type, ticket_id, number, mailbox, message_row,"
		      " payload, " PG_ISO("created_at") ", attempts",
		      &res, why, "titi", sink, now_unix, pg->lease_owner,
		      (gint64) EVENT_LEASE_S)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0) {
	out->row = pg_int(res, 0, 0);
	out->id = pg_int(res, 0, 1);
	out->sink = pg_strdup(res, 0, 2);
	out->type = pg_strdup(res, 0, 3);
	out->ticket_id = pg_int(res, 0, 4);
	out->number = pg_strdup(res, 0, 5);
	out->mailbox = pg_strdup(res, 0, 6);
	out->message_row = pg_int(res, 0, 7);
	out->payload = pg_strdup(res, 0, 8);
	out->created_at = pg_strdup(res, 0, 9);
	out->attempts = (int) pg_int(res, 0, 10);
	*found = TRUE;
    }
    PQclear(res);
    return STORE_OK;
}

int     pg_event_state(struct store *st, gint64 row, const char *state, const char *answer,
		       gint64 next_try_unix, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret, changed;

    if (state == NULL || (strcmp(state, "sent") != 0 && strcmp(state, "failed") != 0
			  && strcmp(state, "pending") != 0)) {
	*why = g_strdup_printf("event state '%s': expected sent, failed or pending",
			       state ? state : "(null)");
	return STORE_ERROR;
    }
    if ((ret = pg_run(pg, "record an event's outcome",
		      "UPDATE events SET state = $2, last_answer = $3, next_try = $4,"
		      " attempts = attempts + 1, last_try = now(),"
		      " sent_at = CASE WHEN $2 = 'sent' THEN now() END,"
		      " lease_owner = NULL, lease_until = NULL"
		      " WHERE id = $1 AND state = 'pending' AND lease_owner = $5",
		      &res, why, "ittit", row, state, answer, next_try_unix,
		      pg->lease_owner)) != STORE_OK)
	return ret;
    changed = atoi(PQcmdTuples(res));
    PQclear(res);
    if (changed > 0)
	return STORE_OK;
    *why = g_strdup_printf("%s: event row %" G_GINT64_FORMAT ": not leased by this sender (its"
			   " lease expired, or another worker took it): not marked %s",
			   pg->display, row, state);
    return STORE_ERROR;
}

int     pg_sink_status(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    /* The last answer is the newest try's: what the far end says now. */
    if ((ret = pg_run(PG(st), "sink status",
		      "SELECT sink,"
		      " count(*) FILTER (WHERE state = 'pending') AS pending,"
		      " count(*) FILTER (WHERE state = 'failed') AS failed,"
		      " count(*) FILTER (WHERE state = 'sent') AS sent,"
		      " " PG_ISO("min(created_at) FILTER (WHERE state = 'pending')")
		      "  AS oldest_pending,"
		      " (SELECT last_answer FROM events l WHERE l.sink = e.sink AND"
		      "  l.last_try IS NOT NULL ORDER BY l.last_try DESC, l.id DESC LIMIT 1)"
		      "  AS last_answer,"
		      " " PG_ISO("max(last_try)") " AS last_try"
		      " FROM events e GROUP BY sink ORDER BY sink", &res, why, NULL)) != STORE_OK)
	return ret;
    pg_emit_rows(res, "sink", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

int     pg_sink_retry(struct store *st, const char *sink, gint64 event_id, int *requeued,
		      char **why)
{
    PGresult *res = NULL;
    int     ret;

    *requeued = 0;
    if ((ret = pg_run(PG(st), "re-queue failed events",
		      "UPDATE events SET state = 'pending', next_try = 0,"
		      " lease_owner = NULL, lease_until = NULL"
		      " WHERE sink = $1 AND state = 'failed' AND ($2::bigint = 0 OR event_id = $2)",
		      &res, why, "ti", sink, event_id)) != STORE_OK)
	return ret;
    *requeued = atoi(PQcmdTuples(res));
    PQclear(res);
    return STORE_OK;
}

int     pg_prune_events(struct store *st, gint64 before_unix, int limit, int *deleted,
			char **why)
{
    PGresult *res = NULL;
    int     ret;

    *deleted = 0;
    if ((ret = pg_run(PG(st), "prune sent events",
		      "DELETE FROM events WHERE id IN (SELECT id FROM events"
		      " WHERE state = 'sent' AND sent_at < to_timestamp($1) LIMIT $2)",
		      &res, why, "ii", before_unix, (gint64) MAX(limit, 0))) != STORE_OK)
	return ret;
    *deleted = atoi(PQcmdTuples(res));
    PQclear(res);
    return STORE_OK;
}

int     pg_sink_ref_get(struct store *st, const char *sink, gint64 ticket_id, char **ref,
			char **why)
{
    PGresult *res = NULL;
    int     ret;

    *ref = NULL;
    if ((ret = pg_run(PG(st), "look up the far end's ticket",
		      "SELECT ref FROM sink_refs WHERE sink = $1 AND ticket_id = $2",
		      &res, why, "ti", sink, ticket_id)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0)
	*ref = pg_strdup(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

int     pg_sink_ref_set(struct store *st, const char *sink, gint64 ticket_id, const char *ref,
			char **why)
{
    return pg_run(PG(st), "keep the far end's ticket",
		  "INSERT INTO sink_refs(sink, ticket_id, ref) VALUES($1, $2, $3)"
		  " ON CONFLICT(sink, ticket_id) DO UPDATE SET ref = excluded.ref",
		  NULL, why, "tit", sink, ticket_id, ref);
}
