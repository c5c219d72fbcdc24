/*
 * NAME
 *	store_pg_outbox - replies and kept-apart mail in the PostgreSQL
 *	ticket store, shared by several workers
 * SYNOPSIS
 *	#include "pg_int.h"
 * DESCRIPTION
 *	The reply store_ops of store_sqlite_outbox.c (same contracts), made
 *	safe for several workers sending from one outbox, and keep_autogen
 *	and prune_autogen.
 *
 *	A reply is leased before it is sent. next_reply() takes the oldest
 *	owed reply nobody holds (FOR UPDATE SKIP LOCKED: workers asking at
 *	once get different replies, none waits) and writes this
 *	connection's name (lease_owner) and an expiry (lease_until, longer
 *	than one SMTP dialogue) into it, in one committed statement.
 *	reply_state(id, "sending") succeeds only while this connection
 *	still holds an unexpired lease of a reply still owed; the outbox
 *	sends only when that mark committed (outbox.c). So a reply is handed
 *	to the relay at most once, whatever dies: a worker that stalls past
 *	its lease loses the reply to another and cannot mark it; a worker
 *	whose "sending" mark fails (PostgreSQL restarting) does not send;
 *	a lease left by a dead worker expires and the reply is owed to all
 *	again. Every other state change needs the lease too (a worker that
 *	lost it records nothing over another's work).
 *
 *	recover_replies() and next_reply() call a reply "unknown" when it is
 *	"sending" under an expired lease: its worker died between the mark
 *	and the relay's answer (the SQLite store's one-worker assumption,
 *	"every sending reply is ours and dead", does not hold here: a
 *	sending reply under a live lease belongs to a running worker).
 *
 *	replied_recently() takes a transaction-scoped advisory lock on the
 *	window key first: two workers deciding about the same sender at
 *	once are serialised, and the second, once the first committed,
 *	sees its reply (the acknowledgement window is shared through the
 *	database, docs/design.md).
 * DIAGNOSTICS
 *	As store_pg.c. A state change without the lease is STORE_ERROR
 *	"not leased by this worker" (outbox.c logs it and moves on).
 */
#include <string.h>

#include "log.h"
#include "pg_int.h"
#include "zframe.h"

int     pg_queue_reply(struct store *st, const struct store_reply *r, char **why)
{
    struct pg *pg = PG(st);
    int     ret;

    if ((ret = pg_op_begin(pg, why)) != STORE_OK)
	return ret;
    if ((ret = pg_run(pg, "queue reply",
		      "INSERT INTO outbox(ticket_id, mailbox, kind, recipient, message_id, content,"
		      " created_at, window_key, state, last_error)"
		      " VALUES($1, $2, $3, $4, $5, $6, now(), $7, $8, $9)", NULL, why, "ittttbttt",
		      r->ticket_id, r->mailbox, r->kind, r->recipient, r->message_id,
		      r->content, r->window_key ? r->window_key : r->recipient,
		      r->state ? r->state : "owed", r->error)) == STORE_OK && r->state == NULL)
	/* An answer to the reply names it in In-Reply-To: thread it. */
	ret = pg_add_thread_id(pg, r->message_id, r->ticket_id, r->mailbox, why);
    return pg_op_end(pg, ret, why);
}

int     pg_replied_recently(struct store *st, const char *window_key, gint64 since_unix,
			    gboolean *yes, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret;

    *yes = FALSE;
    if ((pg->in_txn && (ret = pg_run(pg, "lock acknowledgement window",
				     "SELECT pg_advisory_xact_lock(hashtextextended($1, 7400))",
				     NULL, why, "t", window_key)) != STORE_OK)
	|| (ret = pg_run(pg, "look up recent replies",
			 "SELECT 1 FROM outbox WHERE window_key = $1"
			 " AND created_at >= to_timestamp($2) AND state <> 'suppressed' LIMIT 1",
			 &res, why, "ti", window_key, since_unix)) != STORE_OK)
	return ret;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return STORE_OK;
}

int     pg_our_message_id(struct store *st, const char *message_id, gboolean *yes,
			  char **why)
{
    PGresult *res = NULL;
    int     ret;

    *yes = FALSE;
    if ((ret = pg_run(PG(st), "look up our message ids",
		      "SELECT 1 FROM outbox WHERE message_id = $1", &res, why, "t",
		      message_id)) != STORE_OK)
	return ret;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return STORE_OK;
}

/* recover - "sending" under an expired lease: its worker died mid-send */
static int recover(struct pg *pg, int *ambiguous, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *ambiguous = 0;
    if ((ret = pg_run(pg, "recover replies",
		      "UPDATE outbox SET state = 'unknown', attempts = attempts + 1,"
		      " lease_owner = NULL, lease_until = NULL,"
		      " last_error = 'the worker stopped while sending: not known whether the relay"
		      " took it, so it is not sent again'"
		      " WHERE state = 'sending' AND (lease_until IS NULL OR lease_until < now())",
		      &res, why, NULL)) != STORE_OK)
	return ret;
    *ambiguous = atoi(PQcmdTuples(res));
    PQclear(res);
    return STORE_OK;
}

int     pg_recover_replies(struct store *st, int *ambiguous, char **why)
{
    return recover(PG(st), ambiguous, why);
}

int     pg_next_reply(struct store *st, gint64 now_unix, struct store_outbox *out,
		      gboolean *found, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret, ambiguous = 0;

    memset(out, 0, sizeof(*out));
    *found = FALSE;
    if ((ret = recover(pg, &ambiguous, why)) != STORE_OK)
	return ret;
    if (ambiguous)
	msg_warn("outbox: %d replies were being sent by a worker that stopped; marked"
		 " 'unknown', not sent again", ambiguous);
    if ((ret = pg_run(pg, "lease owed reply",
		      "UPDATE outbox SET lease_owner = $2,"
		      " lease_until = now() + make_interval(secs => $3)"
		      " WHERE id = (SELECT id FROM outbox WHERE state = 'owed' AND next_try <= $1"
		      "   AND (lease_until IS NULL OR lease_until < now())"
		      "   ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
		      " RETURNING id, ticket_id, mailbox, recipient, message_id, content, attempts",
		      &res, why, "iti", now_unix, pg->lease_owner, pg->lease_s)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0) {
	out->id = pg_int(res, 0, 0);
	out->ticket_id = pg_int(res, 0, 1);
	out->mailbox = pg_strdup(res, 0, 2);
	out->recipient = pg_strdup(res, 0, 3);
	out->message_id = pg_strdup(res, 0, 4);
	out->content = pg_bytea(res, 0, 5);
	out->attempts = (int) pg_int(res, 0, 6);
	*found = TRUE;
    }
    PQclear(res);
    return STORE_OK;
}

static const char *const reply_states[] = {"owed", "sending", "sent", "failed", "unknown",
    "suppressed", NULL};

/*
 * pg_reply_state - "sending" renews the lease of a reply still owed and
 * held by us; any other state ends it. Nothing changed: we do not hold it.
 */
int     pg_reply_state(struct store *st, gint64 id, const char *state,
		       const char *error, gint64 next_try_unix, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret, changed;

    if (state == NULL || !g_strv_contains(reply_states, state)) {
	*why = g_strdup_printf("%s: reply %" G_GINT64_FORMAT ": unknown state '%s'",
			       pg->display, id, state ? state : "(null)");
	return STORE_ERROR;
    }
    if (strcmp(state, "sending") == 0)
	ret = pg_run(pg, "mark reply sending",
		     "UPDATE outbox SET state = 'sending', last_error = $2,"
		     " lease_until = now() + make_interval(secs => $4)"
		     " WHERE id = $1 AND state = 'owed' AND lease_owner = $3"
		     " AND lease_until > now()", &res, why, "itti", id, error,
		     pg->lease_owner, pg->lease_s);
    else
	ret = pg_run(pg, "update reply",
		     "UPDATE outbox SET state = $2, last_error = $3, next_try = $4,"
		     " attempts = attempts + 1, lease_owner = NULL, lease_until = NULL,"
		     " sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END"
		     " WHERE id = $1 AND lease_owner = $5 AND state IN ('owed', 'sending')",
		     &res, why, "ittit", id, state, error, next_try_unix, pg->lease_owner);
    if (ret != STORE_OK)
	return ret;
    changed = atoi(PQcmdTuples(res));
    PQclear(res);
    if (changed > 0)
	return STORE_OK;
    *why = g_strdup_printf("%s: reply %" G_GINT64_FORMAT ": not leased by this worker (its"
			   " lease expired, or another worker took it): not marked %s",
			   pg->display, id, state);
    return STORE_ERROR;
}

int     pg_find_our_reply(struct store *st, const char *const *ids,
			  struct store_our_reply *out, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret;

    memset(out, 0, sizeof(*out));
    for (int i = 0; ids && ids[i] && out->id == 0; i++) {
	if (*ids[i] == 0)
	    continue;
	if ((ret = pg_run(pg, "look up our reply",
			  "SELECT o.id, o.ticket_id, t.number, o.state, o.kind FROM outbox o"
			  " JOIN tickets t ON t.id = o.ticket_id WHERE o.message_id = $1",
			  &res, why, "t", ids[i])) != STORE_OK)
	    return ret;
	if (PQntuples(res) > 0) {
	    out->id = pg_int(res, 0, 0);
	    out->ticket_id = pg_int(res, 0, 1);
	    out->number = pg_strdup(res, 0, 2);
	    out->state = pg_strdup(res, 0, 3);
	    out->kind = pg_strdup(res, 0, 4);
	    out->message_id = g_strdup(ids[i]);
	}
	PQclear(res);
    }
    return STORE_OK;
}

int     pg_reply_bounced(struct store *st, gint64 id, const char *diagnostic, char **why)
{
    /* A reply still owed (or being sent) has not gone: a "bounce" of it is not one. */
    return pg_run(PG(st), "mark reply bounced",
		  "UPDATE outbox SET state = 'bounced', last_error = $2"
		  " WHERE id = $1 AND state IN ('sent', 'unknown', 'failed', 'bounced')",
		  NULL, why, "it", id, diagnostic);
}

int     pg_keep_autogen(struct store *st, const struct store_autogen *a,
			gboolean *added, char **why)
{
    g_autoptr(GBytes) raw = NULL;
    PGresult *res = NULL;
    int     ret;

    *added = FALSE;
    if (a->raw_zstd) {
	raw = g_bytes_ref(a->raw_zstd);
    } else if (a->raw) {
	gsize   len, packed_len = 0;
	gconstpointer p = g_bytes_get_data(a->raw, &len);
	char   *packed = zframe_pack(p, len, &packed_len);

	raw = g_bytes_new_take(packed, packed_len);
    }
    if ((ret = pg_run(PG(st), "keep auto-generated mail",
		      "INSERT INTO autogen(dedupe_key, mailbox, kind, reason, queue_id, sender,"
		      " subject, date, envelope, raw, created_at) VALUES($1, $2, $3, $4, $5, $6,"
		      " $7, $8, $9, $10, now()) ON CONFLICT(dedupe_key) DO NOTHING",
		      &res, why, "tttttttttb", a->dedupe_key, a->mailbox, a->kind, a->reason,
		      a->queue_id, a->sender, a->subject, a->date, a->envelope, raw)) != STORE_OK)
	return ret;
    *added = atoi(PQcmdTuples(res)) > 0;
    PQclear(res);
    return STORE_OK;
}

int     pg_prune_autogen(struct store *st, gint64 before_unix, int limit, int *deleted,
			 char **why)
{
    PGresult *res = NULL;
    int     ret;

    *deleted = 0;
    if ((ret = pg_run(PG(st), "prune auto-generated mail",
		      "DELETE FROM autogen WHERE id IN (SELECT id FROM autogen"
		      " WHERE created_at < to_timestamp($1) ORDER BY created_at LIMIT $2)",
		      &res, why, "ii", before_unix, (gint64) limit)) != STORE_OK)
	return ret;
    *deleted = atoi(PQcmdTuples(res));
    PQclear(res);
    return STORE_OK;
}
