/*
 * NAME
 *	batch - one read's entries through the pipeline, committed, then acknowledged
 * SYNOPSIS
 *	#include "batch.h"
 *
 *	struct batch *batch_start(runner, entries)
 *	void	batch_finish(batch)
 *	struct batch *batch_drop(batch)
 *	char   *batch_autogen_summary(pl)
 *	void	batch_pause_ms(ms, stop)
 * DESCRIPTION
 *	A batch is the writer's side of intake-worker for the entries of
 *	one read (struct queue_entry *; the batch takes a reference to the
 *	array, whose free function frees them).
 *
 *	batch_start() moves entries delivered too often to the dead-letter
 *	stream, reloads the category model and the FAQ entries if the store
 *	has newer ones (classify_refresh(): no preparing thread works at that
 *	moment), and hands the rest to the preparing threads (prepare.c),
 *	which start on them at once. The runner is copied: it borrows
 *	everything from the worker (intake-worker.c), which makes one per
 *	read, since outbox and senders change on reload.
 *
 *	batch_finish() runs the entries through the pipeline (pipeline.c) in
 *	stream order, in one store transaction that is retried with backoff
 *	while the store is busy. Only after the commit are the entries
 *	acknowledged; then the outbox and the sink senders are woken, and
 *	the batch is freed once every preparation of it is done.
 *
 *	Just before the batch's last commit, every entry has run, so every
 *	preparation of the batch is done and the preparing threads are idle.
 *	There batch_finish() calls the runner's before_commit (once; not
 *	again when the commit is retried): the worker reads the next batch
 *	and starts it, so that the threads prepare it while this one
 *	commits and is acknowledged (before, they waited for the commit, and
 *	the next batch began with nothing prepared). From that call on the
 *	pipeline's threads_reading belongs to the next batch. The next batch
 *	is read before this one is acknowledged; a crash in between leaves
 *	both pending, and the store's de-duplication key makes the second
 *	pass of this one a no-op, as for any crash before an acknowledgement.
 *
 *	batch_drop() frees a batch that was started and will not be run
 *	(SIGTERM came after it was read ahead): it waits for its
 *	preparations; its entries stay pending, delivered again at the next
 *	start. It returns NULL and takes NULL.
 *
 *	batch_autogen_summary() is the log's count of auto-generated mail
 *	kept apart or noted since start (g_free).
 *
 *	batch_pause_ms() sleeps ms milliseconds, in steps of 50, and returns
 *	early once *stop is set (SIGTERM).
 */
#include <string.h>

#include "batch.h"
#include "log.h"
#include "metrics_worker.h"
#include "outbox.h"
#include "pipeline.h"
#include "prepare.h"
#include "sink_sender.h"

struct batch {
    struct batch_runner br;		/* a copy */
    GPtrArray *entries;			/* a reference: the read's entries */
    GPtrArray *work;			/* those the pipeline runs, in stream order */
    GPtrArray *done;			/* ids acknowledged without running (deleted) */
    struct prepare_batch *prep;		/* NULL: no preparing threads */
    guint   kept_before;		/* autogen_total() at the start */
    gboolean handed_over;		/* before_commit ran: threads_reading is the next's */
};

void    batch_pause_ms(int ms, volatile sig_atomic_t *stop)
{
    for (int waited = 0; waited < ms && !*stop; waited += 50)
	g_usleep(50 * 1000);
}

/* dead_letter - move an entry delivered too often; TRUE: entry handled */
static gboolean dead_letter(struct batch_runner *br, struct queue_entry *e)
{
    g_autofree char *error = NULL;
    g_autofree char *why = NULL;

    if (e->deliveries <= br->cfg->worker_max_deliveries)
	return FALSE;
    error = queue_last_error(br->q, e->id);
    if (error == NULL)
	error = g_strdup_printf("delivered %" G_GINT64_FORMAT " times without success",
				e->deliveries);
    if (queue_dead_letter(br->q, e, error, &why) < 0) {
	msg_warn("entry %s: cannot move to the dead-letter stream: %s", e->id, why);
	return TRUE;
    }
    worker_metrics_dead_letter(br->metrics);
    msg_warn("entry %s: moved to dead-letter stream %s after %" G_GINT64_FORMAT
	     " deliveries: %s", e->id, br->cfg->redis_dead_stream, e->deliveries, error);
    return TRUE;
}

/*
 * run_transaction - process entries in one store transaction, retrying
 * the whole of it while the store is busy; acknowledge what committed.
 * Each entry in stream order, with its preparation from the batch (waited
 * for when not done yet), the same one again on a retry. The batch's last
 * transaction calls before_commit, once.
 */
static void run_transaction(struct batch *b, GPtrArray *todo, GPtrArray *done, gboolean last)
{
    struct batch_runner *br = &b->br;
    const struct store_ops *ops = br->pl->store->ops;
    guint   already = done->len;		/* gone entries, acknowledged too */
    int     backoff = 100;
    /* What the batch counted, undone when it is rolled back (and counted once committed). */
    guint   created = br->pl->tickets_created, added = br->pl->messages_added;
    guint   dups = br->pl->duplicates;
    guint   kept[AUTOGEN_KINDS], notes = br->pl->autogen_notes;

    memcpy(kept, br->pl->autogen_kept, sizeof(kept));
    for (;;) {
	char   *why = NULL;
	gboolean retry = FALSE;
	gint64  t0;

	g_ptr_array_set_size(done, already);
	br->pl->tickets_created = created;
	br->pl->messages_added = added;
	br->pl->duplicates = dups;
	memcpy(br->pl->autogen_kept, kept, sizeof(kept));
	br->pl->autogen_notes = notes;
	br->pl->replies_queued = 0;
	if (ops->begin(br->pl->store, &why) != STORE_OK) {
	    retry = TRUE;
	} else {
	    for (guint i = 0; i < todo->len && !retry; i++) {
		struct queue_entry *e = g_ptr_array_index(todo, i);
		enum pipe_result r = pipeline_entry(br->pl, e, prepare_batch_wait(b->prep, e),
						    &why);
		char   *w2 = NULL;

		switch (r) {
		case PIPE_OK:
		    g_ptr_array_add(done, e->id);
		    break;
		case PIPE_FAIL:
		    msg_warn("entry %s: cannot be processed (delivery %" G_GINT64_FORMAT
			     " of at most %d): %s", e->id, e->deliveries,
			     br->cfg->worker_max_deliveries, why);
		    if (queue_note_error(br->q, e->id, why, &w2) < 0) {
			msg_warn("entry %s: cannot note the error: %s", e->id, w2);
			g_free(w2);
		    }
		    g_clear_pointer(&why, g_free);
		    break;
		case PIPE_RETRY:
		    retry = TRUE;
		    break;
		}
	    }
	    /* Every entry ran, so every preparation is done: the threads may take the next. */
	    if (!retry && last && br->before_commit && !b->handed_over
		&& prepare_batch_idle(b->prep)) {
		b->handed_over = TRUE;
		br->pl->threads_reading = FALSE;
		br->before_commit(br->context);
	    }
	    t0 = g_get_monotonic_time();
	    if (!retry && ops->commit(br->pl->store, &why) != STORE_OK)
		retry = TRUE;
	    else if (!retry)
		worker_metrics_commit(br->metrics, (g_get_monotonic_time() - t0) / 1e6);
	    if (retry)
		ops->rollback(br->pl->store);
	}
	if (!retry)
	    break;
	msg_warn("store busy, batch of %u rolled back, retrying in %d ms: %s", todo->len,
		 backoff, why ? why : "?");
	g_free(why);
	batch_pause_ms(backoff, br->stop);
	backoff = MIN(backoff * 2, 10000);
	if (*br->stop) {
	    msg_info("stopping with %u entries unprocessed: they stay pending", todo->len);
	    return;
	}
    }

    /* Committed: now, and only now, the entries may go. */
    worker_metrics_tickets(br->metrics, br->pl->tickets_created - created,
			   br->pl->messages_added - added, br->pl->duplicates - dups);
    for (int k = AUTOGEN_HUMAN + 1; k < AUTOGEN_KINDS; k++)
	worker_metrics_autogen(br->metrics, autogen_kind_name(k), br->pl->autogen_kept[k] - kept[k]);
    /* Counted when sent: a refusal that comes back later is logged (queue_ack()). */
    if (done->len && queue_ack(br->q, (const char *const *) done->pdata, done->len) == 0)
	worker_metrics_consumed(br->metrics, done->len);
    if (br->pl->replies_queued && br->outbox)
	outbox_kick(br->outbox);
    sink_senders_kick(br->senders);
}

/* autogen_total - auto-generated mail kept apart or noted since start */
static guint autogen_total(const struct pipeline *pl)
{
    guint   n = pl->autogen_notes;

    for (int k = 0; k < AUTOGEN_KINDS; k++)
	n += pl->autogen_kept[k];
    return n;
}

/* batch_autogen_summary - "autoreply=1 bounce=2 list=0 system=0, 1 noted on tickets" (g_free) */
char   *batch_autogen_summary(const struct pipeline *pl)
{
    GString *s = g_string_new(NULL);

    for (int k = AUTOGEN_HUMAN + 1; k < AUTOGEN_KINDS; k++)
	g_string_append_printf(s, "%s%s=%u", s->len ? " " : "", autogen_kind_name(k),
			       pl->autogen_kept[k]);
    g_string_append_printf(s, ", %u noted on tickets", pl->autogen_notes);
    return g_string_free(s, FALSE);
}

/*
 * batch_start - the entries of one read: dead letters moved, the rest
 * handed to the preparing threads
 */
struct batch *batch_start(const struct batch_runner *br, GPtrArray *entries)
{
    struct batch *b = g_new0(struct batch, 1);

    b->br = *br;
    b->entries = g_ptr_array_ref(entries);
    b->work = g_ptr_array_new();
    b->done = g_ptr_array_new();
    b->kept_before = autogen_total(br->pl);
    for (guint i = 0; i < entries->len && !*br->stop; i++) {
	struct queue_entry *e = g_ptr_array_index(entries, i);

	if (dead_letter(&b->br, e))
	    continue;
	if (e->fields->len == 0)		/* deleted while pending */
	    g_ptr_array_add(b->done, e->id);
	else
	    g_ptr_array_add(b->work, e);
    }
    /*
     * The category model and the FAQ entries the preparing threads read are
     * reloaded (if the store has newer ones) now, while no thread runs, and
     * not again until every preparation of the batch is done.
     */
    classify_refresh(br->pl);
    /* The preparing threads start on every entry now, while the writer stores the first. */
    b->prep = prepare_batch_new(br->preparer, b->work);
    br->pl->threads_reading = b->prep != NULL;
    return b;
}

/* batch_free - a batch's preparations (once done) and arrays freed; NULL */
static struct batch *batch_free(struct batch *b)
{
    b->prep = prepare_batch_free(b->prep);
    if (!b->handed_over)
	b->br.pl->threads_reading = FALSE;
    g_ptr_array_free(b->done, TRUE);
    g_ptr_array_free(b->work, TRUE);
    g_ptr_array_unref(b->entries);
    g_free(b);
    return NULL;
}

/*
 * batch_finish - the batch run, committed, acknowledged and freed. Entries
 * delivered before (the worker died while it held them, or they failed)
 * each get a transaction of their own: should one of them crash the
 * worker again, the others are already committed and do not climb
 * towards max_deliveries with it. New entries share one transaction (one
 * fsync for all), the batch's last.
 */
void    batch_finish(struct batch *b)
{
    g_autoptr(GPtrArray) fresh = g_ptr_array_new();
    struct batch_runner *br = &b->br;

    for (guint i = 0; i < b->work->len && !*br->stop; i++) {
	struct queue_entry *e = g_ptr_array_index(b->work, i);

	if (e->deliveries > 1) {
	    g_autoptr(GPtrArray) one = g_ptr_array_new();

	    g_ptr_array_add(one, e);
	    run_transaction(b, one, b->done, FALSE);
	    g_ptr_array_set_size(b->done, 0);
	} else {
	    g_ptr_array_add(fresh, e);
	}
    }
    if (fresh->len || b->done->len)
	run_transaction(b, fresh, b->done, TRUE);
    /* The batch summary: auto-generated mail makes no ticket, so the log counts it. */
    if (autogen_total(br->pl) != b->kept_before) {
	g_autofree char *kept = batch_autogen_summary(br->pl);

	msg_info("auto-generated mail kept apart since start: %s", kept);
    }
    /*
     * Waits for every preparation still running (SIGTERM came mid-batch):
     * once no batch is left the preparing threads are idle, and only then do
     * a SIGHUP's reload (which frees what they read) and SIGTERM's exit
     * happen (intake-worker.c).
     */
    batch_free(b);
}

struct batch *batch_drop(struct batch *b)
{
    if (b == NULL)
	return NULL;
    msg_info("stopping: %u entries read ahead stay pending", b->entries->len);
    return batch_free(b);
}
