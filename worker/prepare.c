/*
 * NAME
 *	prepare - decode and classify a batch's entries in a pool of threads, ahead of the writer
 * SYNOPSIS
 *	#include "prepare.h"
 *
 *	struct preparer *preparer_new(pl, threads, &why)
 *	struct preparer *preparer_free(p)
 *
 *	struct prepare_batch *prepare_batch_new(p, entries)
 *	const struct prepared *prepare_batch_wait(b, entry)
 *	gboolean prepare_batch_idle(b)
 *	struct prepare_batch *prepare_batch_free(b)
 * DESCRIPTION
 *	More than half of a ticket's CPU time is work that needs no store:
 *	parsing the envelope, finding the customer's own lines, detecting
 *	the language, keyword tags, sentiment, the routing rules. The
 *	worker's one writer thread did it between its SQL statements, so one
 *	core was busy and the other idle. A preparer is a pool of [worker]
 *	prepare_threads threads that does that part for every entry of a
 *	batch as soon as it is read, while the writer stores the entries
 *	already prepared.
 *
 *	preparer_new() starts the threads (threads > 0); pl is the worker's
 *	pipeline, whose configuration, language detector, tags, lexicons,
 *	rules, category model, FAQ entries in memory and metrics the
 *	threads read (never its store). The writer reloads the model and
 *	the FAQ entries only before it hands a batch to the pool
 *	(classify_refresh(), batch.c). preparer_free() waits for the
 *	threads to end; it returns NULL and takes NULL.
 *
 *	prepare_batch_new() hands every entry of entries (struct
 *	queue_entry *, kept by the caller until prepare_batch_free()) to the
 *	pool, in order; the pool takes them first come, first served, so
 *	the first entries are ready first. With p NULL (prepare_threads = 0)
 *	it returns NULL and the writer does everything itself, as before
 *	the pool. For each entry the thread runs stage_decode() and, for
 *	each mailbox the envelope names that is configured, job_init() and
 *	classify_prepare() on a job of its own (stage_classify.c): the very
 *	code the writer runs when there is no preparation.
 *
 *	prepare_batch_wait() returns entry's preparation, waiting while a
 *	thread is still at it (a condition variable: no polling); NULL when
 *	b is NULL or the entry is not of the batch. The writer calls it in
 *	stream order, just before it runs the entry (pipeline_entry()), so it
 *	waits only for an entry that is not prepared yet. A preparation is
 *	only read, never changed, by the writer: a batch rolled back and
 *	retried (the store was busy) uses it again.
 *
 *	prepare_batch_idle() is TRUE when every entry of b is prepared (or
 *	b is NULL): no thread works for b any more. The writer asks it
 *	before it hands the next read to the pool while it commits this
 *	batch (batch.c): only a pool idle between two batches may see the
 *	category model and the FAQ entries reloaded.
 *
 *	prepare_batch_free() waits until every entry of the batch is
 *	prepared, then frees the preparations, and returns NULL. So once
 *	it returned no thread works for that batch: the worker reloads
 *	(SIGHUP) and exits (SIGTERM) only when no batch is left, so what
 *	the threads read (the configuration, rules, tags, lexicons) never
 *	changes under them.
 *
 *	Who owns what, when: an entry's envelope (a jansson object, whose
 *	reference counts are not atomic), and its text and original, which
 *	stage_decode() decompresses (queue_entry_unpack()), belong to its
 *	thread until the preparation is marked done under the batch's lock,
 *	and to the writer from the moment prepare_batch_wait() saw it done;
 *	no two threads touch them at once. Each thread writes only its own entry's
 *	preparation. Every other object a thread reads is shared and only
 *	read while the pool runs: docs/design.md, "The worker's threads",
 *	lists each and why that is safe.
 *
 *	The wall time of each entry's preparation goes to
 *	intake_stage_duration_seconds{stage="prepare"}, the time the writer
 *	waited for it (0 when it was ready) to stage="prepare_wait": when
 *	the writer waits much, more threads would help. The CPU time of each
 *	classify part goes to intake_classify_duration_seconds, measured in
 *	the preparing thread (docs/metrics.md).
 * DIAGNOSTICS
 *	preparer_new(): NULL and *why (g_free) when the threads cannot be
 *	started. An entry that does not decode is prepared as such (env
 *	NULL, why): the writer fails it as it would have.
 */
#include <string.h>

#include "envelope.h"
#include "log.h"
#include "metrics_worker.h"
#include "prepare.h"

struct preparer {
    struct pipeline *pl;
    GThreadPool *pool;
};

/* One entry of a batch, as the pool gets it. */
struct item {
    struct prepare_batch *batch;
    struct queue_entry *e;
    struct prepared p;
    gboolean done;			/* under batch->lock */
};

struct prepare_batch {
    struct preparer *preparer;
    GMutex  lock;
    GCond   done_cond;			/* an item became done */
    guint   left;			/* items not yet done, under lock */
    guint   n;
    struct item *items;
    GHashTable *by_entry;		/* struct queue_entry * -> struct item * */
};

/* prepare_entry - decode e and classify each configured mailbox's job; in a pool thread */
static void prepare_entry(struct pipeline *pl, struct queue_entry *e, struct prepared *p)
{
    gint64  t0 = g_get_monotonic_time();
    json_t *mb;
    size_t  i;

    p->entry_id = e->id;
    p->jobs = g_ptr_array_new();
    if ((p->env = stage_decode(e, &p->why)) == NULL)
	return;
    json_array_foreach(json_object_get(p->env, "mailboxes"), i, mb) {
	struct job *job = NULL;

	/* One no longer configured is left to the writer, whose job_init() logs it once. */
	if (config_mailbox(pl->cfg, envelope_str(mb, "name"))) {
	    job = g_new(struct job, 1);
	    job_init(job, pl, e->id, p->env, e->raw, e->raw_len, mb);
	    classify_prepare(job);
	}
	g_ptr_array_add(p->jobs, job);
    }
    worker_metrics_stage(pl->metrics, "prepare", (g_get_monotonic_time() - t0) / 1e6);
}

/* prepared_clear - what prepare_entry() made, freed */
static void prepared_clear(struct prepared *p)
{
    for (guint i = 0; p->jobs && i < p->jobs->len; i++) {
	struct job *job = g_ptr_array_index(p->jobs, i);

	if (job) {
	    job_clear(job);
	    g_free(job);
	}
    }
    if (p->jobs)
	g_ptr_array_free(p->jobs, TRUE);
    g_free(p->why);
    json_decref(p->env);
    memset(p, 0, sizeof(*p));
}

/* work - the pool's function: one item prepared, then marked done for the writer */
static void work(gpointer data, gpointer user_data)
{
    struct item *it = data;
    struct preparer *pr = user_data;
    struct prepare_batch *b = it->batch;

    prepare_entry(pr->pl, it->e, &it->p);
    /* The unlock publishes the preparation (and hands the envelope over) to the writer. */
    g_mutex_lock(&b->lock);
    it->done = TRUE;
    b->left--;
    g_cond_broadcast(&b->done_cond);
    g_mutex_unlock(&b->lock);
}

struct preparer *preparer_new(struct pipeline *pl, int threads, char **why)
{
    struct preparer *p = g_new0(struct preparer, 1);
    GError *err = NULL;

    g_assert(threads > 0);
    p->pl = pl;
    /* Exclusive: the threads start now and stay, so that a push never fails on a thread. */
    if ((p->pool = g_thread_pool_new(work, p, threads, TRUE, &err)) == NULL) {
	*why = g_strdup_printf("cannot start %d preparing thread(s): %s", threads,
			       err ? err->message : "unknown error");
	g_clear_error(&err);
	g_free(p);
	return NULL;
    }
    return p;
}

struct preparer *preparer_free(struct preparer *p)
{
    if (p == NULL)
	return NULL;
    /* Batches are freed before, so nothing is queued; wait for the threads to end. */
    g_thread_pool_free(p->pool, FALSE, TRUE);
    g_free(p);
    return NULL;
}

struct prepare_batch *prepare_batch_new(struct preparer *p, GPtrArray *entries)
{
    struct prepare_batch *b;

    if (p == NULL || entries->len == 0)
	return NULL;
    b = g_new0(struct prepare_batch, 1);
    b->preparer = p;
    g_mutex_init(&b->lock);
    g_cond_init(&b->done_cond);
    b->n = b->left = entries->len;
    b->items = g_new0(struct item, b->n);
    b->by_entry = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < b->n; i++) {
	b->items[i].batch = b;
	b->items[i].e = g_ptr_array_index(entries, i);
	g_hash_table_insert(b->by_entry, (gpointer) b->items[i].e, &b->items[i]);
    }
    /* Only now: an item a thread finishes must find the batch complete. */
    for (guint i = 0; i < b->n; i++) {
	GError *err = NULL;

	if (!g_thread_pool_push(p->pool, &b->items[i], &err)) {
	    /* Not expected of an exclusive pool; prepared here then, in the writer. */
	    msg_warn("entry %s: cannot hand it to a preparing thread (%s): prepared by the"
		     " writer", b->items[i].e->id, err ? err->message : "unknown error");
	    g_clear_error(&err);
	    work(&b->items[i], p);
	}
    }
    return b;
}

const struct prepared *prepare_batch_wait(struct prepare_batch *b, const struct queue_entry *e)
{
    struct item *it;

    gint64  t0 = g_get_monotonic_time();

    if (b == NULL || (it = g_hash_table_lookup(b->by_entry, e)) == NULL)
	return NULL;
    g_mutex_lock(&b->lock);
    while (!it->done)
	g_cond_wait(&b->done_cond, &b->lock);
    g_mutex_unlock(&b->lock);
    worker_metrics_stage(b->preparer->pl->metrics, "prepare_wait",
			 (g_get_monotonic_time() - t0) / 1e6);
    return &it->p;
}

gboolean prepare_batch_idle(struct prepare_batch *b)
{
    gboolean idle;

    if (b == NULL)
	return TRUE;
    g_mutex_lock(&b->lock);
    idle = b->left == 0;
    g_mutex_unlock(&b->lock);
    return idle;
}

struct prepare_batch *prepare_batch_free(struct prepare_batch *b)
{
    if (b == NULL)
	return NULL;
    /* Entries the writer did not get to (SIGTERM, a failed read) are still being prepared. */
    g_mutex_lock(&b->lock);
    while (b->left)
	g_cond_wait(&b->done_cond, &b->lock);
    g_mutex_unlock(&b->lock);
    for (guint i = 0; i < b->n; i++)
	prepared_clear(&b->items[i].p);
    g_free(b->items);
    g_hash_table_destroy(b->by_entry);
    g_cond_clear(&b->done_cond);
    g_mutex_clear(&b->lock);
    g_free(b);
    return NULL;
}
