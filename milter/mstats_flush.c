/*
 * NAME
 *	mstats_flush - intake-milter's thread that writes its counts to Redis
 * SYNOPSIS
 *	#include "mstats_flush.h"
 *
 *	void	mstats_flush_start(void)
 *	void	mstats_flush_stop(void)
 * DESCRIPTION
 *	Every FLUSH_INTERVAL_MS the thread adds the counts of common/mstats.c
 *	to Redis (mstats_flush()) over a connection of its own, following
 *	the current generation's configuration after a SIGHUP. The message
 *	path never waits for it: it only adds to atomic counters. Why the
 *	counts go to Redis rather than to an endpoint of the milter's own:
 *	docs/design.md, "Metrics".
 *
 *	mstats_flush_start() starts the thread once the first generation is
 *	installed; mstats_flush_stop() stops it after one last flush, and
 *	waits for it.
 * DIAGNOSTICS
 *	A failed flush is logged at debug level (the counts wait for the
 *	next one; Redis being away is reported by the message path already).
 */
#include "generation.h"
#include "log.h"
#include "mstats.h"
#include "mstats_flush.h"
#include "signals.h"

#define FLUSH_INTERVAL_MS 5000

static GThread *flush_thread;
static GMutex flush_lock;
static GCond flush_cond;
static gboolean flush_stop;
static struct generation *flush_gen;
static struct redisq *flush_rq;

static void flush_now(void)
{
    struct generation *now = generation_current();
    g_autofree char *key = NULL;
    g_autofree char *why = NULL;

    if (now == NULL)
	return;
    if (now != flush_gen) {
	redisq_free(flush_rq);
	generation_unref(flush_gen);
	flush_gen = now;
	flush_rq = redisq_new(now->cfg);
    } else {
	generation_unref(now);
    }
    key = mstats_key(flush_gen->cfg);
    if (mstats_flush(flush_rq, key, &why) < 0)
	msg_debug("cannot write the milter's counts to %s now: %s", key, why);
}

static gpointer flush_main(gpointer data)
{
    g_mutex_lock(&flush_lock);
    while (!flush_stop) {
	gint64  end = g_get_monotonic_time() + (gint64) FLUSH_INTERVAL_MS * 1000;

	while (!flush_stop && g_cond_wait_until(&flush_cond, &flush_lock, end))
	    continue;
	g_mutex_unlock(&flush_lock);
	flush_now();
	g_mutex_lock(&flush_lock);
    }
    g_mutex_unlock(&flush_lock);
    return NULL;
}

/* mstats_flush_start - the thread, with the signals libmilter waits for blocked */
void    mstats_flush_start(void)
{
    flush_thread = signals_thread_new("mstats", flush_main, NULL);
}

/* mstats_flush_stop - one last flush, then join; free what the thread holds */
void    mstats_flush_stop(void)
{
    g_mutex_lock(&flush_lock);
    flush_stop = TRUE;
    g_cond_signal(&flush_cond);
    g_mutex_unlock(&flush_lock);
    g_thread_join(flush_thread);
    flush_rq = redisq_free(flush_rq);
    flush_gen = generation_unref(flush_gen);
}
