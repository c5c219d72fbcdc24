/*
 * NAME
 *	generation - intake-milter's reference-counted configurations
 * SYNOPSIS
 *	#include "generation.h"
 *
 *	struct generation *generation_new(cfg)
 *	void	generation_install(g)
 *	struct generation *generation_current(void)
 *	struct generation *generation_unref(g)
 * DESCRIPTION
 *	A generation is one configuration and the Redis pool made from it.
 *	libmilter runs each SMTP connection in a thread of its own, and a
 *	connection holds pointers into its configuration (mailboxes matched
 *	at RCPT are used at end of message), so a SIGHUP cannot free the old
 *	configuration while connections use it. Each connection takes a
 *	reference to the current generation when it opens and drops it when it
 *	closes; SIGHUP installs a new current generation and drops the old
 *	one's reference; the last user frees it. The durability check thread
 *	(durable_watch.c) holds a reference the same way.
 *
 *	generation_new() makes a generation of cfg, which it takes, with one
 *	reference owned by the caller.
 *
 *	generation_install() makes g current, taking the caller's reference,
 *	and drops the reference of the generation that was current. main()
 *	installs the first generation before the milter starts, and NULL
 *	after it stopped; no generation_current() may come before the first
 *	or after the last.
 *
 *	generation_current() returns a new reference to the current
 *	generation, for the caller to drop with generation_unref().
 *
 *	generation_unref() drops a reference (g may be NULL); the last one
 *	frees the generation, its configuration and its pool. It returns NULL.
 * DIAGNOSTICS
 *	None: nothing here can fail but memory allocation, which aborts.
 */
#include "generation.h"

G_LOCK_DEFINE_STATIC(current);
static struct generation *current;	/* under the lock "current" */

/* generation_new - one reference, owned by the caller; takes cfg */
struct generation *generation_new(struct intake_config *cfg)
{
    struct generation *g = g_new0(struct generation, 1);

    g->refs = 1;
    g->cfg = cfg;
    g->pool = redisq_pool_new(cfg);
    return g;
}

/* generation_unref - drop a reference; the last one frees; returns NULL */
struct generation *generation_unref(struct generation *g)
{
    if (g && g_atomic_int_dec_and_test(&g->refs)) {
	redisq_pool_free(g->pool);
	config_free(g->cfg);
	g_free(g);
    }
    return NULL;
}

/* generation_current - a new reference to the current generation */
struct generation *generation_current(void)
{
    struct generation *g;

    G_LOCK(current);
    g = current;
    g_assert(g != NULL);
    g_atomic_int_inc(&g->refs);
    G_UNLOCK(current);
    return g;
}

/* generation_install - make g (whose reference it takes; NULL at exit) current */
void    generation_install(struct generation *g)
{
    struct generation *old;

    G_LOCK(current);
    old = current;
    current = g;
    G_UNLOCK(current);
    generation_unref(old);
}
