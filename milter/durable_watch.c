/*
 * NAME
 *	durable_watch - intake-milter's thread that checks Redis's persistence
 * SYNOPSIS
 *	#include "durable_watch.h"
 *
 *	int	durable_watch_first(cfg)
 *	void	durable_watch_start(void)
 *	gboolean durable_watch_refused(void)
 *	void	durable_watch_stop(void)
 * DESCRIPTION
 *	Redis's persistence settings are checked by a thread of their own (at
 *	start, then every [redis] durable_check_interval; the check itself is
 *	common/durable.c), never on the per-message path: that reads one
 *	atomic flag, through durable_watch_refused().
 *
 *	durable_watch_first() checks once, before the milter listens, with
 *	cfg. It returns -1 when the milter must not start ([redis]
 *	require_durable = yes and settings that lose mail, or Redis did not
 *	answer), else 0.
 *
 *	durable_watch_start() starts the thread, after durable_watch_first()
 *	and once the first generation (generation.c) is installed. After a
 *	SIGHUP the check follows the new generation's configuration (its
 *	Redis server, interval and require_durable).
 *
 *	durable_watch_refused() is TRUE while mail must be answered 451
 *	(require_durable and settings not known to be durable: see
 *	check_durable()). Any thread may call it.
 *
 *	durable_watch_stop() stops the thread, waits for it and frees what
 *	it holds, its reference to a generation included.
 * DIAGNOSTICS
 *	common/durable.c logs the settings that can lose mail, and why the
 *	milter does not start on them.
 */
#include "durable.h"
#include "durable_watch.h"
#include "generation.h"
#include "log.h"
#include "redisq.h"
#include "signals.h"

static struct durable *durable;		/* the check thread's, after start */
static struct generation *durable_gen;	/* whose configuration durable follows */
static struct redisq *durable_rq;
static gint durable_refused;		/* atomic: require_durable and not durable */
static GThread *check_thread;
static GMutex check_lock;
static GCond check_cond;
static gboolean check_stop;

/* durable_watch_first - the check at start: 0, or -1 when the milter must not start */
int     durable_watch_first(const struct intake_config *cfg)
{
    struct redisq *rq = redisq_new(cfg);
    int     refuse;

    durable = durable_new(cfg);
    refuse = durable_start(durable, rq);
    redisq_free(rq);
    if (refuse < 0) {
	durable = durable_free(durable);
	return -1;
    }
    g_atomic_int_set(&durable_refused, durable_refuse(durable));
    return 0;
}

/* durable_watch_refused - whether mail is to be answered 451 now */
gboolean durable_watch_refused(void)
{
    return g_atomic_int_get(&durable_refused) != 0;
}

/*
 * check_durable - check now; returns the time until the next check (ms).
 * With require_durable, mail is refused until an answer says "durable";
 * when Redis does not answer, the last answer stands (XADD fails anyway).
 * After a SIGHUP the check follows the new generation's configuration
 * (its Redis server, interval and require_durable).
 */
static int check_durable(void)
{
    g_autofree char *why = NULL;
    struct generation *now = generation_current();
    int     rc;

    if (now != durable_gen) {
	durable_free(durable);
	redisq_free(durable_rq);
	generation_unref(durable_gen);
	durable_gen = now;
	durable = durable_new(now->cfg);
	durable_rq = redisq_new(now->cfg);
    } else {
	generation_unref(now);
    }
    rc = durable_update(durable, durable_rq, &why);
    g_atomic_int_set(&durable_refused, durable_refuse(durable));
    if (rc < 0) {
	msg_debug("cannot check redis's persistence settings now: %s", why);
	return MIN(5000, durable_gen->cfg->redis_durable_check_ms);
    }
    return durable_gen->cfg->redis_durable_check_ms;
}

static gpointer check_main(gpointer data)
{
    g_mutex_lock(&check_lock);
    while (!check_stop) {
	gint64  end;

	g_mutex_unlock(&check_lock);
	end = g_get_monotonic_time() + (gint64) check_durable() * 1000;
	g_mutex_lock(&check_lock);
	while (!check_stop && g_cond_wait_until(&check_cond, &check_lock, end))
	    continue;
    }
    g_mutex_unlock(&check_lock);
    return NULL;
}

/*
 * durable_watch_start - the check thread, with the signals libmilter
 * waits for blocked: they are for the main thread (signals.c).
 */
void    durable_watch_start(void)
{
    durable_gen = generation_current();
    durable_rq = redisq_new(durable_gen->cfg);
    check_thread = signals_thread_new("durable", check_main, NULL);
}

/* durable_watch_stop - stop and join the thread; free what it holds */
void    durable_watch_stop(void)
{
    g_mutex_lock(&check_lock);
    check_stop = TRUE;
    g_cond_signal(&check_cond);
    g_mutex_unlock(&check_lock);
    g_thread_join(check_thread);
    durable = durable_free(durable);
    durable_rq = redisq_free(durable_rq);
    durable_gen = generation_unref(durable_gen);
}
