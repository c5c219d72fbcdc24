/*
 * redisq_int.h: what redisq.c, redisq_connect.c, redisq_send.c and redisq_pool.c share;
 * private to them (the connection's fields are no one else's business).
 */
#ifndef INTAKE_REDISQ_INT_H
#define INTAKE_REDISQ_INT_H

#include <glib.h>
#include <hiredis/hiredis.h>
#include "config.h"
#include "redisq.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	1000

/* When the next connect may be tried; one per connection, or one per pool. */
struct backoff {
    GMutex  lock;
    gint64  next_try;			/* monotonic us: no connect before */
    int     backoff_ms;			/* 0: the last connect succeeded */
    char   *last_error;
};

struct redisq {
    const struct intake_config *cfg;
    redisContext *ctx;
    struct backoff *bo;			/* &own, or the pool's */
    struct backoff own;
    int     timeout_ms;			/* command timeout; 0: [redis] timeout */
    gboolean fresh;			/* connected, no reply yet */
    gboolean in_multi;			/* MULTI answered, no EXEC or DISCARD yet */
    guint64 connects;			/* connections made (metrics: reconnects) */
    char    code[32];			/* first word of the last error reply */
    char   *where;			/* the server in log lines: [redis] server, or the */
					/* master the sentinels named (redisq_connect.c) */
    /* The last redisq_send(), until redisq_collect() (redisq.c). */
    guint   sent;			/* its commands (0: nothing to collect) */
    guint   unread;			/* of them, replies not read yet */
    guint   sent_good;			/* succeeded, from the first, of those read */
    char   *sent_why;			/* the first failure's text */
};

void    redisq_backoff_init(struct backoff *bo);
void    redisq_backoff_clear(struct backoff *bo);
struct redisq *redisq_new_shared(const struct intake_config *cfg, struct backoff *bo);
void    redisq_drop(struct redisq *rq);

/* redisq.c */
int     redisq_ready(struct redisq *rq, char **why, gboolean *reused);
redisReply *redisq_check_reply(struct redisq *rq, redisReply *r, char **why);
int     redisq_resend_unsent(struct redisq *rq, gboolean reused, int attempt, int err);

/* redisq_send.c */
void    redisq_read_unread(struct redisq *rq);
void    redisq_unread_lost(struct redisq *rq);
int     redisq_fail_connect(struct redisq *rq, char **why, char *text);
int     redisq_connect(struct redisq *rq, char **why);
void    redisq_answered(struct redisq *rq);

#endif
