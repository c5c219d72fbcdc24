/*
 * NAME
 *	redisq_connect - open a redisq's connection; the backoff after failures
 * SYNOPSIS
 *	#include "redisq_int.h"
 *
 *	int	redisq_connect(rq, &why)
 *	int	redisq_fail_connect(rq, &why, text)
 *	void	redisq_answered(rq)
 *	void	redisq_drop(rq)
 *	void	redisq_backoff_init(bo)
 *	void	redisq_backoff_clear(bo)
 * DESCRIPTION
 *	The connecting half of common/redisq.c (whose header comment
 *	describes the behaviour a caller sees).
 *
 *	redisq_connect() opens rq's connection, unless the (shared) backoff
 *	still runs: to [redis] server, or, with [redis] sentinels, to the
 *	master the sentinels name now (common/sentinel.c). Every connect asks
 *	them again, so a connection dropped for any reason (lost, READONLY,
 *	LOADING, a role that is not master) reaches the master of the moment:
 *	that is all "following a failover" takes. The server the sentinels
 *	named must say it is the master (ROLE) before the connection is
 *	used: a sentinel that has not seen the failover yet, or an old
 *	primary that came back before the sentinels turned it into a replica,
 *	would otherwise take writes that the next failover discards. Then
 *	AUTH and SELECT as configured. 0, or -1 and *why (g_free).
 *
 *	redisq_fail_connect() drops the connection and starts or doubles the
 *	backoff (100 ms to 1 s); *why = text; returns -1.
 *	redisq_answered() ends the backoff: the first reply on a new
 *	connection (a hung Redis still accepts connections).
 *	redisq_drop() closes the connection without touching the backoff.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "log.h"
#include "redisq_int.h"
#include "sentinel.h"

void    redisq_backoff_init(struct backoff *bo)
{
    g_mutex_init(&bo->lock);
    bo->next_try = 0;
    bo->backoff_ms = 0;
    bo->last_error = NULL;
}

void    redisq_backoff_clear(struct backoff *bo)
{
    g_free(bo->last_error);
    g_mutex_clear(&bo->lock);
}

void    redisq_drop(struct redisq *rq)
{
    /* Replies still to read would be read from the next connection: they are lost. */
    redisq_unread_lost(rq);
    if (rq->ctx) {
	redisFree(rq->ctx);
	rq->ctx = NULL;
    }
    rq->in_multi = FALSE;
}

/* fail_connect - drop the connection, start or double the backoff; *why = text */
int     redisq_fail_connect(struct redisq *rq, char **why, char *text)
{
    struct backoff *bo = rq->bo;

    redisq_drop(rq);
    g_mutex_lock(&bo->lock);
    bo->backoff_ms = bo->backoff_ms ? MIN(bo->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
    bo->next_try = g_get_monotonic_time() + (gint64) bo->backoff_ms * 1000;
    g_free(bo->last_error);
    bo->last_error = g_strdup(text);
    g_mutex_unlock(&bo->lock);
    *why = text;
    return -1;
}

/* sentinels_time - ms that asking every sentinel may take */
static int sentinels_time(const struct intake_config *cfg)
{
    return cfg->redis_sentinels ? (int) g_strv_length(cfg->redis_sentinels)
	* cfg->redis_sentinel_timeout_ms : 0;
}

/*
 * may_connect - 0 when this connection may try to connect now; -1 and
 * *why while the (shared) backoff runs. After a failure, the one caller
 * that finds the backoff over pushes it on by a connect timeout: it is
 * the probe, the others keep failing at once until it has an answer.
 */
static int may_connect(struct redisq *rq, char **why)
{
    struct backoff *bo = rq->bo;
    gint64  now = g_get_monotonic_time();
    int     rc = 0;

    g_mutex_lock(&bo->lock);
    if (bo->next_try && now < bo->next_try) {
	*why = g_strdup_printf("redis %s unavailable (%s); next attempt in %d ms",
			       rq->where, bo->last_error ? bo->last_error : "?",
			       (int) ((bo->next_try - now) / 1000));
	rc = -1;
    } else if (bo->backoff_ms) {
	/* The probe may ask every sentinel before it connects. */
	bo->next_try = now + (gint64) (rq->cfg->redis_timeout_ms + bo->backoff_ms
				       + sentinels_time(rq->cfg)) * 1000;
    }
    g_mutex_unlock(&bo->lock);
    return rc;
}

/*
 * open_socket - connect rq->ctx to [redis] server, or to the master the
 * sentinels name now; rq->where names it. 0, or -1 and *text (g_free).
 */
static int open_socket(struct redisq *rq, struct timeval tv, char **text)
{
    const struct intake_config *cfg = rq->cfg;
    g_autofree char *host = NULL;
    int     port;

    if (cfg->redis_sentinels && cfg->redis_sentinels[0]) {
	if (sentinel_find_master(cfg, &host, &port, text) < 0)
	    return -1;
	g_free(rq->where);
	rq->where = g_strdup_printf("%s:%d (master %s)", host, port, cfg->redis_master_name);
	rq->ctx = redisConnectWithTimeout(host, port, tv);
    } else if (g_str_has_prefix(cfg->redis_server, "unix:")) {
	rq->ctx = redisConnectUnixWithTimeout(cfg->redis_server + 5, tv);
    } else {
	const char *colon = strrchr(cfg->redis_server, ':');

	host = g_strndup(cfg->redis_server, colon - cfg->redis_server);
	rq->ctx = redisConnectWithTimeout(host, atoi(colon + 1), tv);
    }
    if (rq->ctx == NULL || rq->ctx->err) {
	*text = g_strdup_printf("redis %s: %s", rq->where,
				rq->ctx ? rq->ctx->errstr : "out of memory");
	return -1;
    }
    return 0;
}

/* setup - AUTH, SELECT, ROLE on a new connection: 0, or -1 and *text (g_free) */
static int setup(struct redisq *rq, char **text)
{
    const struct intake_config *cfg = rq->cfg;
    g_autofree char *err = NULL;
    redisReply *r;

    if (cfg->redis_password && *cfg->redis_password) {
	r = redisCommand(rq->ctx, "AUTH %s", cfg->redis_password);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    *text = g_strdup_printf("redis %s: AUTH failed: %s", rq->where,
				    r ? r->str : rq->ctx->errstr);
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	freeReplyObject(r);
    }
    if (cfg->redis_database) {
	r = redisCommand(rq->ctx, "SELECT %d", cfg->redis_database);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    *text = g_strdup_printf("redis %s: SELECT %d failed: %s", rq->where,
				    cfg->redis_database, r ? r->str : rq->ctx->errstr);
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	freeReplyObject(r);
    }
    if (cfg->redis_sentinels && cfg->redis_sentinels[0]
	&& sentinel_check_role(rq->ctx, cfg->redis_timeout_ms, &err) < 0) {
	*text = g_strdup_printf("redis %s: %s", rq->where, err);
	return -1;
    }
    return 0;
}

int     redisq_connect(struct redisq *rq, char **why)
{
    const struct intake_config *cfg = rq->cfg;
    struct timeval tv = {cfg->redis_timeout_ms / 1000, (cfg->redis_timeout_ms % 1000) * 1000};
    char   *text = NULL;

    if (may_connect(rq, why) < 0)
	return -1;
    if (open_socket(rq, tv, &text) < 0)
	return redisq_fail_connect(rq, why, text);
    if (rq->timeout_ms) {
	tv.tv_sec = rq->timeout_ms / 1000;
	tv.tv_usec = (rq->timeout_ms % 1000) * 1000;
    }
    if (redisSetTimeout(rq->ctx, tv) != REDIS_OK)
	return redisq_fail_connect(rq, why, g_strdup_printf("redis %s: cannot set timeout: %s",
							    rq->where, rq->ctx->errstr));
    if (setup(rq, &text) < 0)
	return redisq_fail_connect(rq, why, text);
    /* A hung Redis still accepts connections: only a reply ends the backoff. */
    rq->fresh = TRUE;
    rq->connects++;
    return 0;
}

/* answered - a fresh connection's first reply ends the backoff */
void    redisq_answered(struct redisq *rq)
{
    rq->fresh = FALSE;
    g_mutex_lock(&rq->bo->lock);
    rq->bo->backoff_ms = 0;
    rq->bo->next_try = 0;
    g_clear_pointer(&rq->bo->last_error, g_free);
    g_mutex_unlock(&rq->bo->lock);
}

