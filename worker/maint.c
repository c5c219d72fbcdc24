/*
 * NAME
 *	maint - background store maintenance of intake-worker
 * SYNOPSIS
 *	struct maint *maint_start(cfg, &why)
 *	struct maint *maint_stop(m)
 * DESCRIPTION
 *	A thread with its own store connection that checkpoints the SQLite
 *	WAL twice a second (PASSIVE: it never waits for, nor blocks, the
 *	pipeline's writes). Without it the pipeline thread copies the WAL
 *	into the database itself whenever a commit crosses the auto-
 *	checkpoint size, and that work (a tenth of its time, measured with
 *	make bench) then delays tickets instead of using the second core.
 *	The auto-checkpoint stays as a backstop should this thread fall
 *	behind.
 * DIAGNOSTICS
 *	maint_start() returns NULL and *why when the store cannot be opened;
 *	failed checkpoints are logged (at most once a minute).
 */
#include "log.h"
#include "maint.h"
#include "store.h"

#define MAINT_INTERVAL_MS 500

struct maint {
    struct store *store;
    GThread *thread;
    GMutex  lock;
    GCond   cond;
    gboolean stop;
};

static gpointer maint_main(gpointer p)
{
    struct maint *m = p;
    gint64  last_warning = 0;

    g_mutex_lock(&m->lock);
    while (!m->stop) {
	gint64  until = g_get_monotonic_time() + MAINT_INTERVAL_MS * 1000;
	char   *why = NULL;

	g_mutex_unlock(&m->lock);
	if (m->store->ops->checkpoint(m->store, &why) != STORE_OK) {
	    if (g_get_monotonic_time() - last_warning > 60 * G_USEC_PER_SEC) {
		msg_warn("store maintenance: %s", why);
		last_warning = g_get_monotonic_time();
	    }
	    g_free(why);
	}
	g_mutex_lock(&m->lock);
	while (!m->stop && g_cond_wait_until(&m->cond, &m->lock, until))
	    ;
    }
    g_mutex_unlock(&m->lock);
    return NULL;
}

struct maint *maint_start(const struct intake_config *cfg, char **why)
{
    struct maint *m = g_new0(struct maint, 1);

    if ((m->store = store_open(cfg, why)) == NULL) {
	g_free(m);
	return NULL;
    }
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    m->thread = g_thread_new("maint", maint_main, m);
    return m;
}

struct maint *maint_stop(struct maint *m)
{
    if (m == NULL)
	return NULL;
    g_mutex_lock(&m->lock);
    m->stop = TRUE;
    g_cond_signal(&m->cond);
    g_mutex_unlock(&m->lock);
    g_thread_join(m->thread);
    store_close(m->store);
    g_mutex_clear(&m->lock);
    g_cond_clear(&m->cond);
    g_free(m);
    return NULL;
}
