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
 *
 *	Once an hour (and at start) it deletes auto-generated mail kept
 *	apart longer than [store] autogen_keep_days (0: never), at most
 *	PRUNE_BATCH rows per transaction so that the pipeline never waits
 *	long for the write lock; a busy store is tried again next time.
 *	Sink events delivered longer than [store] events_keep_days ago go
 *	the same way (pending and failed ones stay: they are owed).
 * DIAGNOSTICS
 *	maint_start() returns NULL and *why when the store cannot be opened;
 *	failed checkpoints are logged (at most once a minute).
 */
#include "log.h"
#include "maint.h"
#include "store.h"

#define MAINT_INTERVAL_MS 500
#define PRUNE_INTERVAL_S 3600
#define PRUNE_BATCH	500

/* A store op that deletes at most limit rows older than before (Unix time). */
typedef int (*prune_fn) (struct store *st, gint64 before_unix, int limit, int *deleted,
			 char **why);

/*
 * prune - one round of deleting what fn deletes, kept longer than
 * keep_days, in batches of a transaction each; what names it for the
 * log and key is its [store] key. A backend without fn has nothing to
 * do. FALSE when the store failed.
 */
static gboolean prune(struct store *st, prune_fn fn, int keep_days, const char *what,
		      const char *key, char **why)
{
    gint64  before = g_get_real_time() / G_USEC_PER_SEC - (gint64) keep_days * 86400;
    int     deleted = 0, total = 0;

    if (fn == NULL)
	return TRUE;
    do {
	if (st->ops->begin(st, why) != STORE_OK)
	    return FALSE;
	if (fn(st, before, PRUNE_BATCH, &deleted, why) != STORE_OK
	    || st->ops->commit(st, why) != STORE_OK) {
	    st->ops->rollback(st);
	    return FALSE;
	}
	total += deleted;
    } while (deleted == PRUNE_BATCH);
    if (total)
	msg_info("store maintenance: %d %s kept longer than [store] %s (%d) deleted",
		 total, what, key, keep_days);
    return TRUE;
}

struct maint {
    struct store *store;
    int     keep_days;			/* [store] autogen_keep_days */
    int     events_keep_days;		/* [store] events_keep_days */
    GThread *thread;
    GMutex  lock;
    GCond   cond;
    gboolean stop;
};

static gpointer maint_main(gpointer p)
{
    struct maint *m = p;
    gint64  last_warning = 0;
    gint64  next_prune = 0;		/* monotonic; 0: at start */

    g_mutex_lock(&m->lock);
    while (!m->stop) {
	gint64  until = g_get_monotonic_time() + MAINT_INTERVAL_MS * 1000;
	char   *why = NULL;

	g_mutex_unlock(&m->lock);
	if (m->store->ops->maintain(m->store, &why) != STORE_OK) {
	    if (g_get_monotonic_time() - last_warning > 60 * G_USEC_PER_SEC) {
		msg_warn("store maintenance: %s", why);
		last_warning = g_get_monotonic_time();
	    }
	    g_free(why);
	    why = NULL;
	}
	if ((m->keep_days > 0 || m->events_keep_days > 0)
	    && g_get_monotonic_time() >= next_prune) {
	    if (m->keep_days > 0
		&& !prune(m->store, m->store->ops->prune_autogen, m->keep_days,
			  "auto-generated mails", "autogen_keep_days", &why)) {
		msg_warn("store maintenance: pruning kept auto-generated mail: %s (tried"
			 " again in an hour)", why);
		g_clear_pointer(&why, g_free);
	    }
	    if (m->events_keep_days > 0
		&& !prune(m->store, m->store->ops->prune_events, m->events_keep_days,
			  "sent sink events", "events_keep_days", &why)) {
		msg_warn("store maintenance: pruning sent sink events: %s (tried again in an"
			 " hour)", why);
		g_clear_pointer(&why, g_free);
	    }
	    next_prune = g_get_monotonic_time() + (gint64) PRUNE_INTERVAL_S * G_USEC_PER_SEC;
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
    m->keep_days = cfg->store_autogen_keep_days;
    m->events_keep_days = cfg->store_events_keep_days;
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
