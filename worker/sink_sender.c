/*
 * NAME
 *	sink_sender - deliver each sink's events, one thread per sink
 * SYNOPSIS
 *	#include "sink_sender.h"
 *
 *	struct sink_senders *sink_senders_start(cfg, sinks, &why)
 *	void	sink_senders_kick(ss)
 *	struct sink_senders *sink_senders_stop(ss)
 * DESCRIPTION
 *	Each [sink NAME] gets a thread of intake-worker with its own store
 *	connection (a relaxed one, as the outbox's: an outcome lost to a
 *	power failure only means the event goes out again). The thread asks
 *	the store for the sink's next event (next_event(): in order per
 *	ticket), builds its document (sink_event.c), hands it to the type's
 *	deliver() and records the outcome with the far end's answer:
 *	- sent (SINK_DONE);
 *	- pending again (SINK_RETRY), next try retry_min * 2^attempts later,
 *	  at most retry_max; the thread then pauses retry_min before the
 *	  sink's next event, since the far end is likely down for all of
 *	  them;
 *	- failed (SINK_FAILED, or an event that cannot be built): it holds
 *	  back the later events of its ticket until intakectl sinks retry.
 *	The outcome is recorded after the far end answered: when the worker
 *	dies in between, the event goes out again on the next start, with
 *	the same id. Delivery is therefore at least once; the event id is
 *	the far end's idempotency key.
 *
 *	Sinks never wait for each other, nor the pipeline or the outbox for
 *	them: a sink that keeps failing only piles up its own rows.
 *
 *	sink_senders_kick() wakes the threads after the pipeline committed
 *	(they also look every POLL_MS by themselves: a retry comes due, or
 *	another process wrote events). sink_senders_stop() lets each thread
 *	finish the delivery in hand (at most the sink's timeout) and joins
 *	them.
 * DIAGNOSTICS
 *	sink_senders_start() returns NULL and *why when a store connection
 *	cannot be opened. Every outcome is logged with the sink, the event
 *	id, its type, the ticket and the far end's answer.
 */
#include "log.h"
#include "sink_sender.h"

#define POLL_MS		1000
#define BACKOFF_SHIFT_MAX 20

struct sink_senders;

struct sender {
    struct sink_senders *ss;
    const struct sink_conf *sc;
    struct store *store;
    struct sink_ctx *ctx;
    GThread *thread;
};

struct sink_senders {
    GPtrArray *senders;			/* struct sender * */
    GMutex  lock;
    GCond   cond;
    gboolean stop;
    guint64 kicks;
};

static gboolean stopping(struct sink_senders *ss)
{
    gboolean stop;

    g_mutex_lock(&ss->lock);
    stop = ss->stop;
    g_mutex_unlock(&ss->lock);
    return stop;
}

/* wait_ms - until stop, ms passed, or (seen not NULL) a kick after *seen */
static void wait_ms(struct sink_senders *ss, const guint64 *seen, int ms)
{
    gint64  until = g_get_monotonic_time() + (gint64) ms * 1000;

    g_mutex_lock(&ss->lock);
    while (!ss->stop && (seen == NULL || ss->kicks == *seen)
	   && g_cond_wait_until(&ss->cond, &ss->lock, until))
	;
    g_mutex_unlock(&ss->lock);
}

static guint64 kicks(struct sink_senders *ss)
{
    guint64 k;

    g_mutex_lock(&ss->lock);
    k = ss->kicks;
    g_mutex_unlock(&ss->lock);
    return k;
}

/* record - the outcome of one try; a busy store is waited out, the outcome must not be lost */
static void record(struct sender *s, const struct store_event_row *row, const char *state,
		   const char *answer, gint64 next_try)
{
    char   *why = NULL;

    while (s->store->ops->event_state(s->store, row->row, state, answer, next_try, &why)
	   == STORE_BUSY && !stopping(s->ss)) {
	msg_warn("sink %s: event %" G_GINT64_FORMAT ": cannot record '%s' yet: %s",
		 s->sc->name, row->id, state, why);
	g_clear_pointer(&why, g_free);
	wait_ms(s->ss, NULL, 1000);
    }
    if (why) {
	msg_error("sink %s: event %" G_GINT64_FORMAT ": cannot record '%s': %s (it will be"
		  " delivered again)", s->sc->name, row->id, state, why);
	g_free(why);
    }
}

/* backoff_s - the wait before try attempts + 1 */
static gint64 backoff_s(const struct sink_conf *sc, int attempts)
{
    gint64  d = (gint64) sc->retry_min_s << MIN(MAX(attempts, 0), BACKOFF_SHIFT_MAX);

    return MIN(d, (gint64) sc->retry_max_s);
}

/* deliver_one - build, deliver and record row */
static void deliver_one(struct sender *s, const struct store_event_row *row)
{
    const struct sink_conf *sc = s->sc;
    g_autofree char *json = NULL;
    g_autofree char *answer = NULL;
    struct sink_event ev = {0};
    enum sink_result res;
    gint64  delay;
    char   *why = NULL;

    if ((json = sink_event_json(s->store, row, &why)) == NULL) {
	msg_error("sink %s: event %" G_GINT64_FORMAT " (%s, ticket %s): cannot be built: %s",
		  sc->name, row->id, row->type, row->number ? row->number : "-", why);
	record(s, row, "failed", why, 0);
	g_free(why);
	return;
    }
    ev.id = row->id;
    ev.type = row->type;
    ev.ticket_id = row->ticket_id;
    ev.ticket_number = row->number;
    ev.mailbox = row->mailbox;
    ev.json = json;
    res = sc->type->deliver(sc->state, s->ctx, &ev, &answer);
    switch (res) {
    case SINK_DONE:
	record(s, row, "sent", answer, 0);
	msg_info("sink %s: event %" G_GINT64_FORMAT " (%s, ticket %s) delivered: %s", sc->name,
		 row->id, row->type, row->number ? row->number : "-", answer ? answer : "");
	break;
    case SINK_RETRY:
	delay = backoff_s(sc, row->attempts);
	record(s, row, "pending", answer, g_get_real_time() / G_USEC_PER_SEC + delay);
	msg_warn("sink %s: event %" G_GINT64_FORMAT " (%s, ticket %s) deferred, next try in %"
		 G_GINT64_FORMAT "s: %s", sc->name, row->id, row->type,
		 row->number ? row->number : "-", delay, answer ? answer : "");
	/* The far end is likely down for every event: do not try them all now. */
	wait_ms(s->ss, NULL, sc->retry_min_s * 1000);
	break;
    case SINK_FAILED:
	record(s, row, "failed", answer, 0);
	msg_error("sink %s: event %" G_GINT64_FORMAT " (%s, ticket %s) refused for good (later"
		  " events of the ticket wait; intakectl sinks retry %s sends it again): %s",
		  sc->name, row->id, row->type, row->number ? row->number : "-", sc->name,
		  answer ? answer : "");
	break;
    }
}

static gpointer sender_main(gpointer p)
{
    struct sender *s = p;

    while (!stopping(s->ss)) {
	struct store_event_row row = {0};
	guint64 seen = kicks(s->ss);
	gboolean found = FALSE;
	char   *why = NULL;
	int     rc;

	rc = s->store->ops->next_event(s->store, s->sc->name, g_get_real_time() / G_USEC_PER_SEC,
				       &row, &found, &why);
	if (rc != STORE_OK) {
	    msg_warn("sink %s: cannot read the next event: %s", s->sc->name, why);
	    g_free(why);
	    wait_ms(s->ss, &seen, POLL_MS);
	    continue;
	}
	if (!found) {
	    wait_ms(s->ss, &seen, POLL_MS);
	    continue;
	}
	deliver_one(s, &row);
	store_event_row_clear(&row);
    }
    return NULL;
}

struct sink_senders *sink_senders_start(const struct intake_config *cfg,
					const struct sinks *sinks, char **why)
{
    struct sink_senders *ss = g_new0(struct sink_senders, 1);

    g_mutex_init(&ss->lock);
    g_cond_init(&ss->cond);
    ss->senders = g_ptr_array_new();
    for (guint i = 0; sinks && i < sinks->list->len; i++) {
	struct sender *s = g_new0(struct sender, 1);

	s->ss = ss;
	s->sc = g_ptr_array_index(sinks->list, i);
	if ((s->store = store_open_relaxed(cfg, why)) == NULL) {
	    g_free(s);
	    return sink_senders_stop(ss);
	}
	if (s->store->ops->next_event == NULL) {
	    *why = g_strdup_printf("[sink %s]: the %s store keeps no events", s->sc->name,
				   s->store->ops->name);
	    store_close(s->store);
	    g_free(s);
	    return sink_senders_stop(ss);
	}
	s->ctx = sink_ctx_new(s->store, s->sc->name);
	g_ptr_array_add(ss->senders, s);
    }
    for (guint i = 0; i < ss->senders->len; i++) {
	struct sender *s = g_ptr_array_index(ss->senders, i);
	g_autofree char *name = g_strdup_printf("sink-%.10s", s->sc->name);

	s->thread = g_thread_new(name, sender_main, s);
	msg_info("sink %s (%s): delivering events", s->sc->name, s->sc->type->name);
    }
    return ss;
}

void    sink_senders_kick(struct sink_senders *ss)
{
    if (ss == NULL)
	return;
    g_mutex_lock(&ss->lock);
    ss->kicks++;
    g_cond_broadcast(&ss->cond);
    g_mutex_unlock(&ss->lock);
}

struct sink_senders *sink_senders_stop(struct sink_senders *ss)
{
    if (ss == NULL)
	return NULL;
    g_mutex_lock(&ss->lock);
    ss->stop = TRUE;
    g_cond_broadcast(&ss->cond);
    g_mutex_unlock(&ss->lock);
    for (guint i = 0; i < ss->senders->len; i++) {
	struct sender *s = g_ptr_array_index(ss->senders, i);

	if (s->thread)
	    g_thread_join(s->thread);
	s->ctx = sink_ctx_free(s->ctx);
	s->store = store_close(s->store);
	g_free(s);
    }
    g_ptr_array_free(ss->senders, TRUE);
    g_mutex_clear(&ss->lock);
    g_cond_clear(&ss->cond);
    g_free(ss);
    return NULL;
}
