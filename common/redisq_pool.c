/*
 * NAME
 *	redisq_pool - redisq connections shared by threads
 * SYNOPSIS
 *	#include "redisq.h"
 *
 *	struct redisq_pool *redisq_pool_new(cfg)
 *	struct redisq *redisq_pool_get(pool)
 *	void	redisq_pool_put(pool, rq)
 *	struct redisq_pool *redisq_pool_free(pool)
 * DESCRIPTION
 *	The pool of common/redisq.c (whose header comment describes it):
 *	its connections share one backoff.
 */
#include <glib.h>

#include "redisq_int.h"

struct redisq_pool {
    const struct intake_config *cfg;
    GMutex  lock;
    GPtrArray *idle;
    struct backoff bo;			/* shared by every connection of the pool */
};

struct redisq_pool *redisq_pool_new(const struct intake_config *cfg)
{
    struct redisq_pool *pool = g_new0(struct redisq_pool, 1);

    pool->cfg = cfg;
    g_mutex_init(&pool->lock);
    pool->idle = g_ptr_array_new();
    redisq_backoff_init(&pool->bo);
    return pool;
}

/* Every connection must have been given back: they point at pool->bo. */
struct redisq_pool *redisq_pool_free(struct redisq_pool *pool)
{
    if (pool == NULL)
	return NULL;
    for (guint i = 0; i < pool->idle->len; i++)
	redisq_free(g_ptr_array_index(pool->idle, i));
    g_ptr_array_free(pool->idle, TRUE);
    g_mutex_clear(&pool->lock);
    redisq_backoff_clear(&pool->bo);
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
    return rq ? rq : redisq_new_shared(pool->cfg, &pool->bo);
}

void    redisq_pool_put(struct redisq_pool *pool, struct redisq *rq)
{
    g_mutex_lock(&pool->lock);
    g_ptr_array_add(pool->idle, rq);
    g_mutex_unlock(&pool->lock);
}

