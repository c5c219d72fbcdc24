/*
 * NAME
 *	outbox - send the replies the store says are owed
 * SYNOPSIS
 *	struct outbox *outbox_start(cfg, sinks, &why)
 *	void	outbox_kick(ob)
 *	struct outbox *outbox_stop(ob)
 * DESCRIPTION
 *	A thread of intake-worker with its own store connection and SMTP
 *	client. It builds owed replies from their recorded parts (reply.c)
 *	and sends them one by one, oldest first, recording each outcome:
 *	- sent: the relay answered 250 after the data;
 *	- owed again, with the error and a next try [smtp] retry_interval
 *	  later, when the relay was unreachable or answered 4xx (while the
 *	  relay is unreachable the thread waits instead of trying every
 *	  reply);
 *	- failed, for a 5xx: it is not retried; the sinks that want it get
 *	  a reply.failed event, written with the state (docs/events.md);
 *	- unknown, when the data was sent but no answer came;
 *	- suppressed, not sent, when it would exceed the acknowledgement cap
 *	  (ackcap.c: per minute and per day, per mailbox and in total,
 *	  shared by all workers through Redis). Such a reply is dropped, not
 *	  deferred: an acknowledgement hours late tells the customer little,
 *	  and a flood held back would leave with the next window.
 *	When Redis cannot say whether the cap allows it, the reply stays
 *	owed, with a next try [smtp] retry_interval later: not sending is
 *	the safe side.
 *	Just before the end-of-data dot the reply is marked "sending": if
 *	the worker dies from then until the answer is recorded, the next
 *	start finds it "sending" and calls it "unknown" instead of sending
 *	it again. When the mark fails (the store unreachable, or, with
 *	several workers on PostgreSQL, the reply's lease lost to another)
 *	the data is aborted before the dot: not sent, still owed. An acknowledgement therefore goes out at most once; the
 *	window in which one can be lost to a crash is one SMTP round trip.
 *
 *	outbox_kick() wakes the thread after the pipeline committed new
 *	replies; outbox_stop() lets it finish the reply in hand and joins it.
 * DIAGNOSTICS
 *	outbox_start() returns NULL and *why when the store cannot be
 *	opened. Every outcome is logged with the ticket's reply id.
 */
#include "ackcap.h"
#include "log.h"
#include "outbox.h"
#include "sinks.h"
#include "reply.h"
#include "smtp.h"
#include "store.h"

struct outbox {
    const struct intake_config *cfg;
    const struct sinks *sinks;		/* reply.failed goes to those that want it */
    struct store *store;
    struct smtp *smtp;
    struct ackcap *cap;
    GThread *thread;
    GMutex  lock;
    GCond   cond;
    gboolean stop;
    gboolean kicked;
};

struct sending {
    struct outbox *ob;
    gint64  id;
    char   *why;			/* why it could not be marked "sending" */
};

/*
 * mark_sending - record "sending" before the dot. When that fails the
 * reply is not sent: with several workers it may be another's now (its
 * lease expired: store_pg_outbox.c), and a mark that did not reach the
 * store could not stop a second sending after a crash.
 */
static gboolean mark_sending(void *arg)
{
    struct sending *s = arg;

    if (s->ob->store->ops->reply_state(s->ob->store, s->id, "sending", NULL, 0,
				       &s->why) != STORE_OK)
	return FALSE;
    return TRUE;
}

/* wait_a_while - sleep until kicked, stopped or ms passed */
static void wait_a_while(struct outbox *ob, gint64 ms)
{
    gint64  until = g_get_monotonic_time() + ms * 1000;

    g_mutex_lock(&ob->lock);
    while (!ob->stop && !ob->kicked)
	if (!g_cond_wait_until(&ob->cond, &ob->lock, until))
	    break;
    ob->kicked = FALSE;
    g_mutex_unlock(&ob->lock);
}

static gboolean stopping(struct outbox *ob)
{
    gboolean s;

    g_mutex_lock(&ob->lock);
    s = ob->stop;
    g_mutex_unlock(&ob->lock);
    return s;
}

static void record(struct outbox *ob, gint64 id, const char *state, const char *error,
		   gint64 next_try)
{
    char   *why = NULL;

    /* A busy database is waited out: the outcome must not be lost. */
    while (ob->store->ops->reply_state(ob->store, id, state, error, next_try, &why) == STORE_BUSY
	   && !stopping(ob)) {
	msg_warn("reply %" G_GINT64_FORMAT ": cannot record '%s' yet: %s", id, state, why);
	g_clear_pointer(&why, g_free);
	wait_a_while(ob, 1000);
    }
    if (why) {
	msg_error("reply %" G_GINT64_FORMAT ": cannot record '%s': %s", id, state, why);
	g_free(why);
    }
}

/*
 * give_up - the reply failed for good: its state "failed" and the sinks'
 * reply.failed event (docs/events.md) in one transaction, so that a help
 * desk hears of every acknowledgement that did not go out, once.
 */
static void give_up(struct outbox *ob, const struct store_outbox *r, const char *error)
{
    struct store *st = ob->store;
    char   *why = NULL;

    for (;;) {
	json_t *payload = json_object();
	json_t *reply = json_object();
	int     rc;

	json_object_set_new(reply, "recipient", json_string(r->recipient));
	json_object_set_new(reply, "message_id", json_string(r->message_id));
	json_object_set_new(reply, "attempts", json_integer(r->attempts + 1));
	json_object_set_new(reply, "error", error ? json_string(error) : json_null());
	json_object_set_new(payload, "reply", reply);
	if ((rc = st->ops->begin(st, &why)) == STORE_OK
	    && (rc = st->ops->reply_state(st, r->id, "failed", error, 0, &why)) == STORE_OK
	    && (rc = sink_event_emit(st, ob->sinks, SINK_EV_REPLY_FAILED, r->ticket_id, NULL,
				     r->mailbox, 0, g_steal_pointer(&payload), &why)) == STORE_OK
	    && (rc = st->ops->commit(st, &why)) == STORE_OK)
	    return;
	json_decref(payload);
	if (rc != STORE_OK)
	    st->ops->rollback(st);
	if (rc != STORE_BUSY || stopping(ob)) {
	    msg_error("reply %" G_GINT64_FORMAT ": cannot record 'failed': %s", r->id, why);
	    g_free(why);
	    return;
	}
	msg_warn("reply %" G_GINT64_FORMAT ": cannot record 'failed' yet: %s", r->id, why);
	g_clear_pointer(&why, g_free);
	wait_a_while(ob, 1000);
    }
}

static gpointer outbox_main(gpointer p)
{
    struct outbox *ob = p;
    const struct store_ops *ops = ob->store->ops;
    gint64  retry_s = MAX(1, ob->cfg->smtp_retry_interval_ms / 1000);

    while (!stopping(ob)) {
	struct store_outbox r = {0};
	struct sending s = {ob, 0};
	gint64  now = g_get_real_time() / G_USEC_PER_SEC;
	gboolean found = FALSE;
	char   *why = NULL;
	enum smtp_result res;

	if (ops->next_reply(ob->store, now, &r, &found, &why) != STORE_OK) {
	    msg_warn("outbox: %s", why);
	    g_free(why);
	    wait_a_while(ob, 1000);
	    continue;
	}
	if (!found) {
	    wait_a_while(ob, ob->cfg->smtp_retry_interval_ms);
	    continue;
	}
	s.id = r.id;
	switch (ackcap_take(ob->cap, r.mailbox, now, &why)) {
	case ACKCAP_OK:
	    break;
	case ACKCAP_OVER:
	    record(ob, r.id, "suppressed", why, 0);
	    msg_warn("reply %" G_GINT64_FORMAT ": to <%s> not sent: %s", r.id, r.recipient, why);
	    g_free(why);
	    store_outbox_clear(&r);
	    continue;
	case ACKCAP_UNAVAILABLE:
	    record(ob, r.id, "owed", why, now + retry_s);
	    msg_warn("reply %" G_GINT64_FORMAT ": to <%s> deferred, next try in %" G_GINT64_FORMAT
		     "s: cannot check the acknowledgement cap: %s", r.id, r.recipient, retry_s, why);
	    g_free(why);
	    store_outbox_clear(&r);
	    wait_a_while(ob, ob->cfg->smtp_retry_interval_ms);
	    continue;
	}
	{
	    struct reply_spec spec;
	    gsize   len;
	    const char *data = g_bytes_get_data(r.content, &len);
	    json_t *parts = reply_spec_decode(data, len, &spec, &why);
	    g_autofree char *built_id = NULL;
	    GBytes *message = parts ? reply_build(&spec, &built_id, &why) : NULL;

	    json_decref(parts);
	    if (message == NULL) {
		give_up(ob, &r, why);
		msg_error("reply %" G_GINT64_FORMAT ": cannot be built: %s", r.id, why);
		g_free(why);
		store_outbox_clear(&r);
		continue;
	    }
	    res = smtp_send(ob->smtp, r.recipient, message, mark_sending, &s, &why);
	    g_bytes_unref(message);
	}
	switch (res) {
	case SMTP_SENT:
	    record(ob, r.id, "sent", NULL, 0);
	    msg_info("reply %" G_GINT64_FORMAT ": sent to <%s> via %s (message-id <%s>)",
		     r.id, r.recipient, ob->cfg->smtp_relay, r.message_id);
	    break;
	case SMTP_TEMPORARY:
	    record(ob, r.id, "owed", why, now + retry_s);
	    msg_warn("reply %" G_GINT64_FORMAT ": to <%s> deferred, next try in %" G_GINT64_FORMAT
		     "s: %s", r.id, r.recipient, retry_s, why);
	    /* The relay is likely down for the others too: wait. */
	    wait_a_while(ob, ob->cfg->smtp_retry_interval_ms);
	    break;
	case SMTP_PERMANENT:
	    give_up(ob, &r, why);
	    msg_error("reply %" G_GINT64_FORMAT ": to <%s> refused for good: %s", r.id,
		      r.recipient, why);
	    break;
	case SMTP_AMBIGUOUS:
	    record(ob, r.id, "unknown", why, 0);
	    msg_error("reply %" G_GINT64_FORMAT ": to <%s> may or may not have been taken"
		      " (not sent again): %s", r.id, r.recipient, why);
	    break;
	case SMTP_WITHDRAWN:
	    /* Nothing to record: it is still owed, to whoever holds it next. */
	    msg_warn("reply %" G_GINT64_FORMAT ": to <%s> not sent: cannot mark it as"
		     " sending: %s", r.id, r.recipient, s.why ? s.why : "?");
	    g_clear_pointer(&s.why, g_free);
	    wait_a_while(ob, ob->cfg->smtp_retry_interval_ms);
	    break;
	}
	g_free(why);
	store_outbox_clear(&r);
    }
    return NULL;
}

struct outbox *outbox_start(const struct intake_config *cfg, const struct sinks *sinks,
			    char **why)
{
    struct outbox *ob = g_new0(struct outbox, 1);
    int     ambiguous = 0;

    ob->cfg = cfg;
    ob->sinks = sinks;
    /*
     * Two commits per reply (sending, sent) with an fsync each would hold
     * the write lock the ticket pipeline needs. A reply's state survives a
     * crash of the worker without them; only a power loss could lose the
     * last marks, and then a reply may be sent a second time.
     */
    if ((ob->store = store_open_relaxed(cfg, why)) == NULL) {
	g_free(ob);
	return NULL;
    }
    if (ob->store->ops->recover_replies(ob->store, &ambiguous, why) != STORE_OK) {
	store_close(ob->store);
	g_free(ob);
	return NULL;
    }
    if (ambiguous)
	msg_warn("outbox: %d replies were being handed to the relay when the worker"
		 " stopped; marked 'unknown', not sent again (intakectl ticket shows them)",
		 ambiguous);
    ob->smtp = smtp_new(cfg);
    ob->cap = ackcap_new(cfg);
    g_mutex_init(&ob->lock);
    g_cond_init(&ob->cond);
    ob->thread = g_thread_new("outbox", outbox_main, ob);
    return ob;
}

void    outbox_kick(struct outbox *ob)
{
    g_mutex_lock(&ob->lock);
    ob->kicked = TRUE;
    g_cond_signal(&ob->cond);
    g_mutex_unlock(&ob->lock);
}

struct outbox *outbox_stop(struct outbox *ob)
{
    if (ob == NULL)
	return NULL;
    g_mutex_lock(&ob->lock);
    ob->stop = TRUE;
    g_cond_signal(&ob->cond);
    g_mutex_unlock(&ob->lock);
    g_thread_join(ob->thread);
    smtp_free(ob->smtp);
    ackcap_free(ob->cap);
    store_close(ob->store);
    g_mutex_clear(&ob->lock);
    g_cond_clear(&ob->cond);
    g_free(ob);
    return NULL;
}
