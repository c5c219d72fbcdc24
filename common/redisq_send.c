/*
 * NAME
 *	redisq_send - commands whose replies are read later
 * SYNOPSIS
 *	#include "redisq.h"
 *
 *	int	redisq_send(rq, &why, n, cmds)
 *	guint	redisq_collect(rq, &why)
 * DESCRIPTION
 *	redisq_send() writes n commands at once and leaves their replies to
 *	be read later; redisq_collect() tells how many of them, from the
 *	first, succeeded. Any other command on the connection reads them
 *	first (redisq_ready() calls redisq_read_unread()) and keeps their
 *	outcome for redisq_collect(); replies that can no longer be read (the
 *	connection dropped) count as failed (redisq_unread_lost()).
 */
#include <errno.h>

#include "redisq_int.h"

/*
 * redisq_read_unread - the replies of the last redisq_send() not read yet, read
 * now and their outcome kept for redisq_collect(). Before any other
 * command on the connection: its reply comes after them.
 */
void    redisq_read_unread(struct redisq *rq)
{
    while (rq->unread > 0 && rq->ctx) {
	guint   i = rq->sent - rq->unread--;
	gboolean first = rq->sent_why == NULL;	/* no failure before this reply */
	char   *w = NULL;
	void   *r = NULL;

	if (redisGetReply(rq->ctx, &r) != REDIS_OK)
	    r = NULL;
	/* On I/O failure the connection is dropped and the replies left are lost. */
	if ((r = redisq_check_reply(rq, r, &w)) != NULL) {
	    if (rq->sent_good == i)
		rq->sent_good++;
	    freeReplyObject(r);
	}
	if (w && first) {			/* this failure's text, not "lost" */
	    g_free(rq->sent_why);
	    rq->sent_why = w;
	} else {
	    g_free(w);
	}
    }
    redisq_unread_lost(rq);
}

/* redisq_unread_lost - replies that can no longer be read (the connection is going) */
void    redisq_unread_lost(struct redisq *rq)
{
    if (rq->unread == 0)
	return;
    if (rq->sent_why == NULL)
	rq->sent_why = g_strdup_printf("redis %s: the connection closed before %u of %u"
				       " replies were read", rq->where, rq->unread, rq->sent);
    rq->unread = 0;
}

/*
 * redisq_send - cmds[0..n-1] written at once; their replies are read
 * later: by redisq_collect(), or before the next command on the
 * connection, which keeps their outcome for redisq_collect(). For what a
 * caller may learn late: the acknowledgement of a committed batch, whose
 * round trip (with appendfsync always, Redis's fsync of its AOF) need not
 * hold up the next batch. Redis runs them in the order sent, and once it
 * has read them whether or not anyone reads the replies. The outcome of
 * an earlier send not collected is dropped. 0, or -1 and *why when the
 * commands could not all be written (the connection is then dropped: the
 * server may have run some of them).
 */
int     redisq_send(struct redisq *rq, char **why, guint n, const struct redisq_cmd *cmds)
{
    g_autoptr(GString) req = g_string_new(NULL);

    *why = NULL;
    if (rq->ctx)
	redisq_read_unread(rq);
    rq->sent = rq->unread = rq->sent_good = 0;
    g_clear_pointer(&rq->sent_why, g_free);
    for (guint i = 0; i < n; i++) {
	char   *cmd = NULL;
	int     len = redisFormatCommandArgv(&cmd, cmds[i].argc, (const char **) cmds[i].argv,
					     cmds[i].lens);

	if (len < 0) {
	    *why = g_strdup_printf("redis %s: cannot format a command (out of memory)",
				   rq->where);
	    return -1;
	}
	g_string_append_len(req, cmd, len);
	redisFreeCommand(cmd);
    }
    for (int attempt = 0;; attempt++) {
	gboolean reused;
	int     done = 0;

	if (redisq_ready(rq, why, &reused) < 0)
	    return -1;
	if (redisAppendFormattedCommand(rq->ctx, req->str, req->len) != REDIS_OK) {
	    redisq_check_reply(rq, NULL, why);
	    return -1;
	}
	if (redisBufferWrite(rq->ctx, &done) != REDIS_OK) {
	    int     err = errno;

	    if (rq->ctx->err == REDIS_ERR_IO && redisq_resend_unsent(rq, reused, attempt, err))
		continue;
	    redisq_check_reply(rq, NULL, why);
	    return -1;
	}
	/* The rest, now: nothing else would write it before the replies are read. */
	while (!done)
	    if (redisBufferWrite(rq->ctx, &done) != REDIS_OK) {
		redisq_check_reply(rq, NULL, why);
		return -1;
	    }
	rq->sent = rq->unread = n;
	return 0;
    }
}

/*
 * redisq_collect - the outcome of the last redisq_send(): how many of its
 * commands, from the first, succeeded (*why: the first failure's text),
 * their replies read now if they were not before. Once per send.
 */
guint   redisq_collect(struct redisq *rq, char **why)
{
    guint   good;

    redisq_read_unread(rq);
    good = rq->sent_good;
    *why = rq->sent_why;
    rq->sent_why = NULL;
    rq->sent = rq->sent_good = 0;
    return good;
}
