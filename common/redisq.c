/*
 * NAME
 *	redisq - the one Redis connection helper of every Intake program
 * SYNOPSIS
 *	struct redisq *redisq_new(cfg)
 *	struct redisq *redisq_free(rq)
 *	redisReply *redisq_command(rq, &why, fmt, ...)
 *	redisReply *redisq_argv(rq, &why, argc, argv, lens)
 *	int	redisq_ok(rq)
 *	void	redisq_set_timeout(rq, ms)
 *	char   *redisq_describe(cfg)
 *
 *	struct redisq_pool *redisq_pool_new(cfg)
 *	struct redisq *redisq_pool_get(pool)
 *	void	redisq_pool_put(pool, rq)
 *	struct redisq_pool *redisq_pool_free(pool)
 * DESCRIPTION
 *	A redisq is one connection to the server named by [redis] server
 *	(HOST:PORT or unix:PATH), with the configured timeout on connect,
 *	read and write, AUTH and SELECT done on connect. It connects on first
 *	use and again after any connection error. After a failed connect it
 *	waits before the next attempt (backoff doubling from 100 ms to 1 s):
 *	within that time a command fails at once, so that a milter answers
 *	"try again later" quickly instead of holding the SMTP session for a
 *	timeout per message.
 *
 *	redisq_command() and redisq_argv() return the reply (owned by the
 *	caller: freeReplyObject()) or NULL with *why set (g_free) to a text
 *	fit for a log line. An error reply from the server is returned as a
 *	NULL with *why "server said: ...". A connection whose command failed
 *	on I/O is dropped: its state is unknown.
 *
 *	A pool hands out connections to threads: redisq_pool_get() takes an
 *	idle connection or makes a new one; redisq_pool_put() gives it back.
 *	The pool's lock is held only to take or give back, never during
 *	network I/O.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "log.h"
#include "redisq.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	1000

struct redisq {
    const struct intake_config *cfg;
    redisContext *ctx;
    gint64  next_try;			/* monotonic us: no connect before */
    int     backoff_ms;
    int     timeout_ms;			/* command timeout; 0: [redis] timeout */
    char   *last_error;
};

char   *redisq_describe(const struct intake_config *cfg)
{
    return g_strdup(cfg->redis_server);
}

struct redisq *redisq_new(const struct intake_config *cfg)
{
    struct redisq *rq = g_new0(struct redisq, 1);

    rq->cfg = cfg;
    return rq;
}

struct redisq *redisq_free(struct redisq *rq)
{
    if (rq == NULL)
	return NULL;
    if (rq->ctx)
	redisFree(rq->ctx);
    g_free(rq->last_error);
    g_free(rq);
    return NULL;
}

static void drop(struct redisq *rq)
{
    if (rq->ctx) {
	redisFree(rq->ctx);
	rq->ctx = NULL;
    }
}

static int fail_connect(struct redisq *rq, char **why, char *text)
{
    drop(rq);
    rq->backoff_ms = rq->backoff_ms ? MIN(rq->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
    rq->next_try = g_get_monotonic_time() + (gint64) rq->backoff_ms * 1000;
    g_free(rq->last_error);
    rq->last_error = g_strdup(text);
    *why = text;
    return -1;
}

static int connect_now(struct redisq *rq, char **why)
{
    const struct intake_config *cfg = rq->cfg;
    struct timeval tv = {cfg->redis_timeout_ms / 1000, (cfg->redis_timeout_ms % 1000) * 1000};
    g_autofree char *host = NULL;
    redisReply *r;

    if (rq->next_try && g_get_monotonic_time() < rq->next_try) {
	*why = g_strdup_printf("redis %s unavailable (%s); next attempt in %d ms",
			       cfg->redis_server, rq->last_error ? rq->last_error : "?",
			       (int) ((rq->next_try - g_get_monotonic_time()) / 1000));
	return -1;
    }
    if (g_str_has_prefix(cfg->redis_server, "unix:")) {
	rq->ctx = redisConnectUnixWithTimeout(cfg->redis_server + 5, tv);
    } else {
	const char *colon = strrchr(cfg->redis_server, ':');

	host = g_strndup(cfg->redis_server, colon - cfg->redis_server);
	rq->ctx = redisConnectWithTimeout(host, atoi(colon + 1), tv);
    }
    if (rq->ctx == NULL)
	return fail_connect(rq, why, g_strdup_printf("redis %s: out of memory", cfg->redis_server));
    if (rq->ctx->err)
	return fail_connect(rq, why, g_strdup_printf("redis %s: %s", cfg->redis_server,
						     rq->ctx->errstr));
    if (rq->timeout_ms) {
	tv.tv_sec = rq->timeout_ms / 1000;
	tv.tv_usec = (rq->timeout_ms % 1000) * 1000;
    }
    if (redisSetTimeout(rq->ctx, tv) != REDIS_OK)
	return fail_connect(rq, why, g_strdup_printf("redis %s: cannot set timeout: %s",
						     cfg->redis_server, rq->ctx->errstr));
    if (cfg->redis_password && *cfg->redis_password) {
	r = redisCommand(rq->ctx, "AUTH %s", cfg->redis_password);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    char   *t = g_strdup_printf("redis %s: AUTH failed: %s", cfg->redis_server,
				   r ? r->str : rq->ctx->errstr);

	    if (r)
		freeReplyObject(r);
	    return fail_connect(rq, why, t);
	}
	freeReplyObject(r);
    }
    if (cfg->redis_database) {
	r = redisCommand(rq->ctx, "SELECT %d", cfg->redis_database);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    char   *t = g_strdup_printf("redis %s: SELECT %d failed: %s", cfg->redis_server,
					cfg->redis_database, r ? r->str : rq->ctx->errstr);

	    if (r)
		freeReplyObject(r);
	    return fail_connect(rq, why, t);
	}
	freeReplyObject(r);
    }
    rq->backoff_ms = 0;
    rq->next_try = 0;
    return 0;
}

static redisReply *check_reply(struct redisq *rq, redisReply *r, char **why)
{
    if (r == NULL) {
	*why = g_strdup_printf("redis %s: %s", rq->cfg->redis_server,
			       rq->ctx->errstr[0] ? rq->ctx->errstr : "connection lost");
	/* Retry the connection soon, but not in a tight loop. */
	fail_connect(rq, why, *why);
	return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
	*why = g_strdup_printf("redis %s: server said: %.*s", rq->cfg->redis_server,
			       (int) MIN(r->len, 500), r->str);
	freeReplyObject(r);
	return NULL;
    }
    return r;
}

redisReply *redisq_command(struct redisq *rq, char **why, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    *why = NULL;
    if (rq->ctx == NULL && connect_now(rq, why) < 0)
	return NULL;
    va_start(ap, fmt);
    r = redisvCommand(rq->ctx, fmt, ap);
    va_end(ap);
    return check_reply(rq, r, why);
}

redisReply *redisq_argv(struct redisq *rq, char **why, int argc, const char **argv,
			const size_t *lens)
{
    redisReply *r;

    *why = NULL;
    if (rq->ctx == NULL && connect_now(rq, why) < 0)
	return NULL;
    r = redisCommandArgv(rq->ctx, argc, argv, lens);
    return check_reply(rq, r, why);
}

/* redisq_set_timeout - a longer command timeout, for blocking reads */
void    redisq_set_timeout(struct redisq *rq, int ms)
{
    rq->timeout_ms = ms;
    if (rq->ctx) {
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	redisSetTimeout(rq->ctx, tv);
    }
}

int     redisq_ok(struct redisq *rq)
{
    return rq->ctx != NULL;
}

/* ---------------------------------------------------------------- */
/*	Pool								    */
/* ---------------------------------------------------------------- */

struct redisq_pool {
    const struct intake_config *cfg;
    GMutex  lock;
    GPtrArray *idle;
    /* Shared backoff: after one connection fails, others fail fast too. */
};

struct redisq_pool *redisq_pool_new(const struct intake_config *cfg)
{
    struct redisq_pool *pool = g_new0(struct redisq_pool, 1);

    pool->cfg = cfg;
    g_mutex_init(&pool->lock);
    pool->idle = g_ptr_array_new();
    return pool;
}

struct redisq_pool *redisq_pool_free(struct redisq_pool *pool)
{
    if (pool == NULL)
	return NULL;
    for (guint i = 0; i < pool->idle->len; i++)
	redisq_free(g_ptr_array_index(pool->idle, i));
    g_ptr_array_free(pool->idle, TRUE);
    g_mutex_clear(&pool->lock);
    g_free(pool);
    return NULL;
}

struct redisq *redisq_pool_get(struct redisq_pool *pool)
{
    struct redisq *rq = NULL;

    g_mutex_lock(&pool->lock);
    if (pool->idle->len > 0)
	rq = g_ptr_array_steal_index(pool->idle, pool->idle->len - 1);
    g_mutex_unlock(&pool->lock);
    return rq ? rq : redisq_new(pool->cfg);
}

void    redisq_pool_put(struct redisq_pool *pool, struct redisq *rq)
{
    g_mutex_lock(&pool->lock);
    g_ptr_array_add(pool->idle, rq);
    g_mutex_unlock(&pool->lock);
}
