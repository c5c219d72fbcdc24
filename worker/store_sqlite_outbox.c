/*
 * NAME
 *	store_sqlite_outbox - replies in the SQLite ticket store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 * DESCRIPTION
 *	The store_ops of the outbox: queue_reply, replied_recently,
 *	our_message_id, next_reply, reply_state, recover_replies,
 *	find_our_reply, reply_bounced.
 *
 *	queue_reply() runs inside its own savepoint (the row and its
 *	thread id, or neither). next_reply() overwrites *out. attempts
 *	counts tries, the one that sent a reply included: reply_state()
 *	adds one with every outcome it records (any state but "sending"),
 *	recover_replies() with the "unknown" it records for a try that was
 *	cut short. reply_state(..., "sending", ...) claims a reply: it
 *	succeeds only while the reply is owed, and returns STORE_BUSY when
 *	another worker took it first. replied_recently() matches the
 *	window key exactly as it was queued (the caller normalises it;
 *	without one, the recipient), across mailboxes, and counts replies
 *	in every state but suppressed.
 * DIAGNOSTICS
 *	As store_sqlite.c.
 */
#include <string.h>
#include <time.h>

#include "sqlite_int.h"

/* ---------------------------------------------------------------- */
/*	Replies								    */
/* ---------------------------------------------------------------- */

int     sq_queue_reply(struct store *st, const struct store_reply *r, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    iso_time(time(NULL), now, NULL);
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    if ((ret = sq_bind(sq, S_REPLY_INSERT, why, "ittttbtttt", r->ticket_id, r->mailbox,
		       r->kind, r->recipient, r->message_id, r->content, now,
		       r->window_key ? r->window_key : r->recipient,
		       r->state ? r->state : "owed", r->error)) == STORE_OK
	&& (ret = sq_run(sq, S_REPLY_INSERT, why)) == STORE_OK && r->state == NULL)
	/* An answer to the reply names it in In-Reply-To: thread it. */
	ret = sq_add_thread_id(sq, r->message_id, r->ticket_id, r->mailbox, why);
    return op_end(sq, ret, why);
}

int     sq_replied_recently(struct store *st, const char *window_key, gint64 since_unix,
			    gboolean *yes, char **why)
{
    struct sq *sq = SQ(st);
    char    since[ISO_TIME_SIZE];
    gboolean row = FALSE;
    int     ret;

    *yes = FALSE;
    iso_time(since_unix, since, NULL);
    if ((ret = sq_bind(sq, S_REPLIED_RECENTLY, why, "tt", window_key, since)) != STORE_OK
	|| (ret = sq_step(sq, S_REPLIED_RECENTLY, &row, why)) != STORE_OK)
	return ret;
    *yes = row;
    sq_reset(sq, S_REPLIED_RECENTLY);
    return STORE_OK;
}

int     sq_our_message_id(struct store *st, const char *message_id, gboolean *yes,
			  char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *yes = FALSE;
    if ((ret = sq_bind(sq, S_OUR_MESSAGE_ID, why, "t", message_id)) != STORE_OK
	|| (ret = sq_step(sq, S_OUR_MESSAGE_ID, &row, why)) != STORE_OK)
	return ret;
    *yes = row;
    sq_reset(sq, S_OUR_MESSAGE_ID);
    return STORE_OK;
}

int     sq_next_reply(struct store *st, gint64 now_unix, struct store_outbox *out,
		      gboolean *found, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_NEXT_REPLY];
    gboolean row = FALSE;
    int     ret;

    memset(out, 0, sizeof(*out));
    *found = FALSE;
    if ((ret = sq_bind(sq, S_NEXT_REPLY, why, "i", now_unix)) != STORE_OK
	|| (ret = sq_step(sq, S_NEXT_REPLY, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	const void *content = sqlite3_column_blob(s, 5);

	out->id = sqlite3_column_int64(s, 0);
	out->ticket_id = sqlite3_column_int64(s, 1);
	out->mailbox = col_strdup(s, 2);
	out->recipient = col_strdup(s, 3);
	out->message_id = col_strdup(s, 4);
	out->content = g_bytes_new(content, sqlite3_column_bytes(s, 5));
	out->attempts = sqlite3_column_int(s, 6);
	*found = TRUE;
    }
    sq_reset(sq, S_NEXT_REPLY);
    return STORE_OK;
}

/* The states reply_state() sets; "bounced" is reply_bounced()'s. */
static const char *const reply_states[] = {"owed", "sending", "sent", "failed", "unknown",
    "suppressed", NULL};

int     sq_reply_state(struct store *st, gint64 id, const char *state,
		       const char *error, gint64 next_try_unix, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    g_autofree char *current = NULL;
    gboolean row = FALSE;
    int     ret;

    if (state == NULL || !g_strv_contains(reply_states, state)) {
	*why = g_strdup_printf("%s: reply %" G_GINT64_FORMAT ": unknown state '%s'",
			       sq->path, id, state ? state : "(null)");
	return STORE_ERROR;
    }
    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_REPLY_STATE, why, "ittit", id, state, error, next_try_unix,
		       now)) != STORE_OK
	|| (ret = sq_run(sq, S_REPLY_STATE, why)) != STORE_OK)
	return ret;
    if (sqlite3_changes(sq->db) > 0)
	return STORE_OK;

    /* Nothing changed: no such reply, or another worker claimed it. */
    if ((ret = sq_bind(sq, S_REPLY_GET_STATE, why, "i", id)) != STORE_OK
	|| (ret = sq_step(sq, S_REPLY_GET_STATE, &row, why)) != STORE_OK)
	return ret;
    if (row)
	current = col_strdup(sq->stmt[S_REPLY_GET_STATE], 0);
    sq_reset(sq, S_REPLY_GET_STATE);
    if (current == NULL) {
	*why = g_strdup_printf("%s: no reply with id %" G_GINT64_FORMAT, sq->path, id);
	return STORE_ERROR;
    }
    *why = g_strdup_printf("%s: reply %" G_GINT64_FORMAT " is %s, no longer owed:"
			   " another worker took it", sq->path, id, current);
    return STORE_BUSY;
}

/*
 * XXX With several workers on one database, a worker that starts marks
 * the replies that another, running worker is sending right now as
 * unknown too. One worker per database is the supported setup.
 */
int     sq_recover_replies(struct store *st, int *ambiguous, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    *ambiguous = 0;
    if ((ret = sq_run(sq, S_RECOVER_REPLIES, why)) != STORE_OK)
	return ret;
    *ambiguous = sqlite3_changes(sq->db);
    return STORE_OK;
}

int     sq_find_our_reply(struct store *st, const char *const *ids,
			  struct store_our_reply *out, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_OUR_REPLY];
    gboolean row = FALSE;
    int     ret;

    memset(out, 0, sizeof(*out));
    for (int i = 0; ids && ids[i] && out->id == 0; i++) {
	if (*ids[i] == 0)
	    continue;
	if ((ret = sq_bind(sq, S_OUR_REPLY, why, "t", ids[i])) != STORE_OK
	    || (ret = sq_step(sq, S_OUR_REPLY, &row, why)) != STORE_OK)
	    return ret;
	if (row) {
	    out->id = sqlite3_column_int64(s, 0);
	    out->ticket_id = sqlite3_column_int64(s, 1);
	    out->number = col_strdup(s, 2);
	    out->state = col_strdup(s, 3);
	    out->kind = col_strdup(s, 4);
	    out->message_id = g_strdup(ids[i]);
	}
	sq_reset(sq, S_OUR_REPLY);
    }
    return STORE_OK;
}

int     sq_reply_bounced(struct store *st, gint64 id, const char *diagnostic, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_REPLY_BOUNCED, why, "it", id, diagnostic)) != STORE_OK)
	return ret;
    return sq_run(sq, S_REPLY_BOUNCED, why);
}
