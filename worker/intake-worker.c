/*
 * NAME
 *	intake-worker - turn queued envelopes into tickets
 * SYNOPSIS
 *	intake-worker [-f] [-v] [-c FILE]
 *	intake-worker -t [-c FILE]
 * DESCRIPTION
 *	Consumes the envelope stream as a member of the consumer group
 *	[worker] group, under the name [worker] consumer (default: the host
 *	name, so that a restarted worker finds its own pending entries).
 *
 *	On start it first reads its own pending entries (given to it before
 *	a crash), then new ones, waiting up to [worker] block for them. Every
 *	[worker] claim_interval it takes over entries that another consumer
 *	has held for longer than [worker] claim_idle (that consumer died).
 *
 *	Entries are processed in batches of up to [worker] batch, in one
 *	store transaction (one fsync per batch), each entry in its own
 *	savepoint. [worker] prepare_threads threads (worker/prepare.c)
 *	decode and classify a batch's entries while this thread, the
 *	writer, stores them in stream order. Only after the transaction
 *	committed are the entries acknowledged and deleted from the stream
 *	(worker/batch.c: this file reads, batch.c runs what was read).
 *	A crash anywhere before that leaves them pending: they are delivered
 *	again and the store's de-duplication key makes the second pass a
 *	no-op.
 *
 *	An entry that cannot be processed stays pending (its error is noted
 *	in Redis) and is delivered again after claim_idle; once delivered
 *	more than [worker] max_deliveries times it moves to the dead-letter
 *	stream with its error (intakectl dlq). A transient store failure
 *	(locked, disk full) is not the entry's fault: the batch is rolled
 *	back and retried with backoff, without counting a delivery.
 *
 *	With [http] listen (or its old name [metrics] listen) set it serves
 *	Prometheus metrics at http://LISTEN/metrics from threads of their own
 *	(worker/metrics_worker.c, docs/metrics.md), and with [http] token_file
 *	the read-only API under /api/v1/ (worker/api.c); the counters are
 *	updated at the points where a fact is final (tickets after the
 *	commit, entries once acknowledged).
 *
 *	At start and every [redis] durable_check_interval it checks Redis's
 *	persistence settings (common/durable.c) and warns about any that can
 *	lose accepted mail; with [redis] require_durable = yes it does not
 *	start on them, but once running it goes on draining whatever it
 *	hears. Redis at maxmemory does not stop it draining (worker/queue.c).
 *
 *	Each [sink NAME] gets a thread that delivers the ticket events the
 *	pipeline wrote (worker/sink_sender.c, docs/events.md); they are woken
 *	after each commit, as the outbox is, and never hold the pipeline up.
 *
 *	-c FILE	configuration (default /etc/intake/intake.conf)
 *	-f	stay in the foreground (for systemd); otherwise detach
 *	-t	check the configuration, templates and store directory
 *		(config_check() with worker_config_check()), exit 0 or 1
 *	-v	verbose logging
 *
 *	Under a backlog the next batch is read just before this one's
 *	commit (read_ahead(), batch.c), so that the preparing threads work
 *	while the writer commits; own pending entries and claims are read
 *	by the main loop only, after a commit.
 *
 *	Signals are acted on between batches only, when the preparing
 *	threads are idle. SIGTERM and SIGINT: finish the batch in hand,
 *	then exit; a batch read ahead is not run, its entries stay pending
 *	for the next start. SIGHUP: once a batch read ahead has run (it was
 *	read under the configuration in force), read the configuration, the
 *	routing rules, the keyword tags, the sinks and the sentiment
 *	lexicons again (all kept as they were if the new configuration,
 *	rules or tags file or a [sink NAME] has errors).
 *	At start and on SIGHUP the FAQ entries of [worker] faq_directory
 *	are read again (faq_files.c; a file with an error is logged and its
 *	entry kept as it was).
 *
 *	Started as root, the worker writes its pid file and then becomes
 *	[worker] user for good (common/daemon.c), before it opens the store:
 *	the store's files belong to that user. Under umask 077 nothing it
 *	creates is readable by others.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "batch.h"
#include "checkconf.h"
#include "classify_category.h"
#include "classify_faq.h"
#include "classify_lang.h"
#include "daemon.h"
#include "durable.h"
#include "envelope.h"
#include "faq_files.h"
#include "log.h"
#include "maint.h"
#include "metrics_worker.h"
#include "outbox.h"
#include "sink_sender.h"
#include "pipeline.h"
#include "prepare.h"
#include "msgid.h"
#include "queue.h"
#include "rules.h"
#include "redisq.h"
#include "sentinel.h"
#include "classify_sentiment.h"
#include "classify_tags.h"

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_hup;

struct worker {
    const char *path;
    struct intake_config *cfg;
    char   *consumer;
    struct queue *q;
    struct durable *durable;		/* Redis's persistence settings */
    gint64  durable_next;		/* monotonic ms: check them again */
    struct pipeline pl;
    struct preparer *preparer;		/* [worker] prepare_threads; NULL: 0, the writer does all */
    struct outbox *outbox;
    struct maint *maint;
    struct sinks *sinks;		/* pl.sinks; replaced only by sinks that load */
    struct sink_senders *senders;	/* a thread per sink */
    struct msgid_keys *keys;		/* pl.keys */
    struct rules *rules;		/* pl.rules; replaced only by rules that load */
    struct tags *tags;			/* pl.tags; replaced only by tags that load */
    struct sentiment *sentiment;	/* pl.sentiment; NULL: no lexicon */
    struct worker_metrics *metrics;	/* for the life of the process */
    guint64 connects;			/* the consumer connection's, counted */
    gboolean pending;			/* own pending entries still to read */
    gint64  last_claim;			/* monotonic ms of the last claim that found all */
    struct batch *next;			/* read ahead, being prepared; NULL: none */
};

static void on_signal(int sig)
{
    if (sig == SIGHUP)
	got_hup = 1;
    else
	got_term = 1;
}

/* pause_ms - sleep, but wake for SIGTERM */
static void pause_ms(int ms)
{
    batch_pause_ms(ms, &got_term);
}

/* ---------------------------------------------------------------- */
/*	Batches								    */
/* ---------------------------------------------------------------- */

static void read_ahead(void *context);

/* runner - what a batch borrows of the worker as it is now */
static struct batch_runner runner(struct worker *w)
{
    struct batch_runner br = {w->cfg, w->q, &w->pl, w->preparer, w->metrics, w->outbox,
	w->senders, &got_term, read_ahead, w};

    return br;
}

/* count_connects - connections to Redis made since the last look; the first is no reconnect */
static void count_connects(struct worker *w)
{
    guint64 n = redisq_connects(queue_redis(w->q));

    if (n > w->connects)
	worker_metrics_reconnects(w->metrics, n - MAX(w->connects, 1));
    w->connects = n;
}

/* claim_due - time to take over what other consumers hold too long */
static gboolean claim_due(const struct worker *w)
{
    return g_get_monotonic_time() / 1000 - w->last_claim >= w->cfg->worker_claim_interval_ms;
}

/*
 * read_ahead - a batch's before_commit (batch.c): the next read's entries
 * handed to the preparing threads, idle at that moment, so that they
 * prepare while the writer commits. Only a read of new entries, without
 * waiting: not while own pending entries are gone over or a claim is due
 * (the main loop reads those), nor once a signal waits, whose reload or
 * exit needs no batch left. A failed read is the main loop's to retry.
 */
static void read_ahead(void *context)
{
    struct worker *w = context;
    g_autoptr(GPtrArray) entries = NULL;
    g_autofree char *why = NULL;
    struct batch_runner br;

    if (w->next || w->preparer == NULL || w->pending || got_term || got_hup || claim_due(w))
	return;
    entries = g_ptr_array_new_with_free_func(queue_entry_free);
    if (queue_read(w->q, FALSE, w->cfg->worker_batch, -1, entries, &why) < 0) {
	msg_warn("queue: reading ahead: %s", why);
	return;
    }
    count_connects(w);
    if (entries->len == 0)
	return;
    worker_metrics_batch(w->metrics, "ahead");
    br = runner(w);
    w->next = batch_start(&br, entries);
}

/* process_batch - the entries of one read (batch.c), with what the worker has now */
static void process_batch(struct worker *w, GPtrArray *entries)
{
    struct batch_runner br = runner(w);

    worker_metrics_batch(w->metrics, "after");
    batch_finish(batch_start(&br, entries));
}

/* ---------------------------------------------------------------- */
/*	Start, reload, stop						    */
/* ---------------------------------------------------------------- */


static void worker_stop(struct worker *w);
static void sync_faq(struct worker *w);

/*
 * check_durable - ask Redis for its persistence settings (durable.c logs
 * what is wrong); again every [redis] durable_check_interval, or after
 * 5 s while Redis does not answer. The worker goes on draining whatever
 * it hears: stopping would leave the mail in the unsafe place longer.
 */
static void check_durable(struct worker *w)
{
    g_autofree char *why = NULL;
    gint64  now = g_get_monotonic_time() / 1000;

    if (durable_update(w->durable, queue_redis(w->q), &why) < 0) {
	msg_debug("cannot check redis's persistence settings now: %s", why);
	w->durable_next = now + MIN(5000, w->cfg->redis_durable_check_ms);
    } else {
	w->durable_next = now + w->cfg->redis_durable_check_ms;
    }
}

/*
 * load_rules - the routing rules of cfg, or NULL with every error logged
 * (file, line, rule and key: rules.c).
 */
static struct rules *load_rules(const struct intake_config *cfg)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    struct rules *rs = rules_load(cfg->worker_rules, cfg, errors);

    for (guint i = 0; i < errors->len; i++)
	msg_error("%s", (char *) g_ptr_array_index(errors, i));
    if (rs && rs->list->len)
	msg_info("routing rules: %u from %s", rs->list->len, rs->path);
    return rs;
}

/*
 * load_tags - the keyword tags of cfg, or NULL with every error logged
 * (file, line, tag and key: classify_tags.c).
 */
static struct tags *load_tags(const struct intake_config *cfg)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    struct tags *ts = tags_load(cfg->worker_tags, cfg, errors);

    for (guint i = 0; i < errors->len; i++)
	msg_error("%s", (char *) g_ptr_array_index(errors, i));
    if (ts && tags_count(ts))
	msg_info("keyword tags: %u from %s", tags_count(ts), tags_path(ts));
    return ts;
}

/*
 * load_sinks - the [sink NAME] sections of cfg (an empty list: none), or
 * NULL with every error logged (file, line, sink and key: sink_config.c).
 */
static struct sinks *load_sinks(const struct intake_config *cfg)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    struct sinks *s = sinks_load(cfg, errors);

    for (guint i = 0; i < errors->len; i++)
	msg_error("%s", (char *) g_ptr_array_index(errors, i));
    return s;
}

/* start_sentiment - the lexicons; without them a warning and no sentiment, never a stop. */
static void start_sentiment(struct worker *w)
{
    char   *why = NULL;

    if (*w->cfg->sentiment_lexicons == 0)
	return;
    w->sentiment = sentiment_new(w->cfg->sentiment_lexicons,
				 (const char *const *) w->cfg->languages, &why);
    if (w->sentiment == NULL) {
	msg_warn("%s: [worker] sentiment_lexicons: %s; tickets get no sentiment", w->path, why);
	g_free(why);
    } else {
	msg_info("sentiment lexicons: %s from %s", sentiment_languages(w->sentiment),
		 w->cfg->sentiment_lexicons);
    }
    w->pl.sentiment = w->sentiment;
}

static int worker_start(struct worker *w)
{
    char   *why = NULL;
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);

    w->consumer = g_strdup(*w->cfg->worker_consumer ? w->cfg->worker_consumer
			   : g_get_host_name());
    w->q = queue_new(w->cfg, w->consumer);
    w->durable = durable_new(w->cfg);
    if (durable_start(w->durable, queue_redis(w->q)) < 0) {
	worker_stop(w);
	return -1;
    }
    w->durable_next = 0;		/* again soon: Redis may not have answered */
    w->connects = 0;
    w->pl.cfg = w->cfg;
    w->pl.metrics = w->metrics;
    w->pl.templates = templates_new(w->cfg->templates_dir);
    w->pl.rules = w->rules;
    w->pl.tags = w->tags;
    start_sentiment(w);
    if (w->cfg->languages && *w->cfg->languages
	&& (w->pl.lang = lang_detector_new((const char *const *) w->cfg->languages,
					   TEXTCAT_DATADIR, &why)) == NULL) {
	msg_error("%s: [worker] languages: %s", w->path, why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    w->pl.category = category_classifier_new();
    w->pl.faq = faq_memory_new();
    /* After the detector, tags, lexicons and rules it reads; worker_stop() ends it before them. */
    if (w->cfg->worker_prepare_threads > 0
	&& (w->preparer = preparer_new(&w->pl, w->cfg->worker_prepare_threads, &why)) == NULL) {
	msg_error("%s: [worker] prepare_threads: %s", w->path, why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    worker_config_check(w->cfg, problems);
    for (guint i = 0; i < problems->len; i++)
	msg_warn("%s", (char *) g_ptr_array_index(problems, i));
    if (problems->len)
	msg_warn("%u configuration problem(s): mailboxes with a bad template send no"
		 " acknowledgement", problems->len);
    if ((w->pl.store = store_open(w->cfg, &why)) == NULL) {
	msg_error("cannot open the ticket store: %s", why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    sync_faq(w);
    /* Made here, the first time, by the worker's user: see msgid.c. */
    if ((w->keys = msgid_keys_load(w->cfg->msgid_secret_file, w->cfg->msgid_secret_file_old,
				   TRUE, &why)) == NULL) {
	msg_error("%s: [worker] message_id_secret_file: %s", w->cfg->path, why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    w->pl.keys = w->keys;
    if ((w->maint = maint_start(w->cfg, &why)) == NULL) {
	msg_error("cannot start store maintenance: %s", why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    if ((w->outbox = outbox_start(w->cfg, w->sinks, &why)) == NULL) {
	msg_error("cannot start the outbox: %s", why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    w->pl.sinks = w->sinks;
    if ((w->senders = sink_senders_start(w->cfg, w->sinks, &why)) == NULL) {
	msg_error("cannot start the sinks: %s", why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    if (worker_metrics_listen(w->metrics, w->cfg, &why) < 0) {
	msg_error("%s: [http]: %s", w->path, why);
	g_free(why);
	worker_stop(w);
	return -1;
    }
    return 0;
}

/* sync_faq - the store's FAQ entries from [worker] faq_directory; a failure is only logged */
static void sync_faq(struct worker *w)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    struct faq_sync_counts n;
    char   *why = NULL;

    if (!*w->cfg->faq_directory)
	return;
    if (faq_sync(w->pl.store, w->cfg->faq_directory, &n, errors, &why) != STORE_OK) {
	msg_error("FAQ entries not read again, the stored ones stay: %s", why);
	g_free(why);
	return;
    }
    for (guint i = 0; i < errors->len; i++)
	msg_warn("FAQ entry not read, the stored one (if any) stays: %s",
		 (char *) g_ptr_array_index(errors, i));
    msg_info("FAQ %s: %d added, %d updated, %d unchanged, %d removed, %d failed",
	     w->cfg->faq_directory, n.added, n.updated, n.unchanged, n.removed, n.failed);
}

static void worker_stop(struct worker *w)
{
    w->preparer = preparer_free(w->preparer);	/* idle: called between batches only */
    worker_metrics_unlisten(w->metrics);
    w->senders = sink_senders_stop(w->senders);
    w->pl.sinks = NULL;
    w->outbox = outbox_stop(w->outbox);
    w->maint = maint_stop(w->maint);
    w->q = queue_free(w->q);
    w->durable = durable_free(w->durable);
    w->pl.store = store_close(w->pl.store);
    w->pl.templates = templates_free(w->pl.templates);
    w->pl.lang = lang_detector_free(w->pl.lang);
    w->pl.sentiment = NULL;
    w->sentiment = sentiment_free(w->sentiment);
    w->pl.category = category_classifier_free(w->pl.category);
    w->pl.faq = faq_memory_free(w->pl.faq);
    w->pl.keys = NULL;
    w->keys = msgid_keys_free(w->keys);
    g_clear_pointer(&w->consumer, g_free);
}

static void reload(struct worker *w)
{
    struct intake_config *fresh = config_reload(w->path);
    struct rules *rules;
    struct tags *tags;
    struct sinks *sinks;

    if (fresh == NULL)
	return;
    /* A rules file with an error must not leave the worker without rules. */
    if ((rules = load_rules(fresh)) == NULL) {
	msg_error("SIGHUP: %s: [worker] rules %s has errors: the configuration and rules in"
		  " force are kept; fix the file and send SIGHUP again", w->path,
		  fresh->worker_rules);
	config_free(fresh);
	return;
    }
    if ((tags = load_tags(fresh)) == NULL) {
	msg_error("SIGHUP: %s: [worker] tags %s has errors: the configuration, rules and tags"
		  " in force are kept; fix the file and send SIGHUP again", w->path,
		  fresh->worker_tags);
	rules_free(rules);
	config_free(fresh);
	return;
    }
    if ((sinks = load_sinks(fresh)) == NULL) {
	msg_error("SIGHUP: %s: a [sink NAME] has errors: the configuration, rules, tags and"
		  " sinks in force are kept; fix the file and send SIGHUP again", w->path);
	tags_free(tags);
	rules_free(rules);
	config_free(fresh);
	return;
    }
    rules_free(w->rules);
    w->rules = rules;
    tags_free(w->tags);
    w->tags = tags;
    worker_stop(w);
    sinks_free(w->sinks);
    w->sinks = sinks;
    config_free(w->cfg);
    w->cfg = fresh;
    if (worker_start(w) < 0)
	msg_fatal("SIGHUP: cannot start with the new configuration");
    msg_info("SIGHUP: configuration %s read again (%u mailboxes)", w->path,
	     w->cfg->mailboxes->len);
    sentinel_announce(w->cfg, "SIGHUP");
}

/* not_starting - what main() had set up before a start that failed, undone; 1 */
static int not_starting(struct worker *w)
{
    w->sinks = sinks_free(w->sinks);
    w->rules = rules_free(w->rules);
    w->tags = tags_free(w->tags);
    w->metrics = worker_metrics_free(w->metrics);
    daemon_pid_file_remove(w->cfg->worker_pid_file);
    config_free(w->cfg);
    return 1;
}

int     main(int argc, char **argv)
{
    struct worker w = {0};
    struct sigaction sa = {0};
    struct daemon_opts opt;
    struct daemon_user user;
    g_autofree char *why = NULL;
    int     redis_errors = 0;

    daemon_options(argc, argv, "intake-worker", &opt);
    w.path = opt.config;
    if (opt.test)
	return config_check(w.path, worker_config_check, stdout, stderr);

    /* Tickets, spool and dead letters are customers' mail: nothing we create is world-readable. */
    umask(077);
    w.cfg = config_load_or_exit(w.path);
    if (daemon_user_lookup(w.cfg->worker_user, &user, &why) < 0)
	msg_fatal("%s: [worker] key 'user': %s", w.path, why);	/* deleted since loading */
    log_open("intake-worker", w.cfg->worker_log, w.cfg->worker_log_facility);
    log_set_verbose(opt.verbose);
    envelope_init();

    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!opt.foreground)
	daemon_detach(w.cfg->worker_log);
    daemon_pid_file(w.cfg->worker_pid_file);
    {
	g_autofree char *where = g_strdup_printf("%s: [worker] key 'user'", w.path);

	/* Before the store is opened: its files belong to the worker's user. */
	daemon_become(&user, where);
	daemon_user_free(&user);
    }
    w.metrics = worker_metrics_new();
    if ((w.rules = load_rules(w.cfg)) == NULL) {
	msg_error("%s: [worker] rules %s has errors: not starting", w.path, w.cfg->worker_rules);
	return not_starting(&w);
    }
    if ((w.tags = load_tags(w.cfg)) == NULL) {
	msg_error("%s: [worker] tags %s has errors: not starting", w.path, w.cfg->worker_tags);
	return not_starting(&w);
    }
    if ((w.sinks = load_sinks(w.cfg)) == NULL) {
	msg_error("%s: a [sink NAME] has errors: not starting", w.path);
	return not_starting(&w);
    }
    if (worker_start(&w) < 0)
	return not_starting(&w);
    {
	g_autofree char *redis = redisq_describe(w.cfg);

	msg_info("starting: consumer %s of group %s on %s stream %s, store %s %s",
		 w.consumer, w.cfg->worker_group, redis, w.cfg->redis_stream,
		 w.cfg->store_backend,
		 strcmp(w.cfg->store_backend, "sqlite") == 0 ? w.cfg->store_path
		 : "([store] conninfo)");
    }
    sentinel_announce(w.cfg, "starting");

    /* Own pending entries first: what this consumer held when it stopped. */
    for (w.pending = TRUE; !got_term;) {
	g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(queue_entry_free);
	g_autofree char *why = NULL;
	gint64  now = g_get_monotonic_time() / 1000;
	int     rc = 0;

	if (now >= w.durable_next)
	    check_durable(&w);
	if (w.next) {
	    /* Read ahead before the last commit: run before a SIGHUP's reload (SIGTERM: below). */
	    batch_finish(g_steal_pointer(&w.next));
	    continue;
	}
	if (got_hup) {
	    got_hup = 0;
	    reload(&w);
	    w.pending = TRUE;
	}
	if (w.pending) {
	    rc = queue_read(w.q, TRUE, w.cfg->worker_batch, 0, entries, &why);
	    if (rc == 0 && entries->len == 0)
		w.pending = FALSE;
	} else if (claim_due(&w)) {
	    rc = queue_claim(w.q, w.cfg->worker_claim_idle_ms, w.cfg->worker_batch, entries, &why);
	    if (rc == 0 && entries->len < (guint) w.cfg->worker_batch)
		w.last_claim = now;
	} else {
	    rc = queue_read(w.q, FALSE, w.cfg->worker_batch, w.cfg->worker_block_ms, entries, &why);
	}
	if (rc < 0) {
	    if (redis_errors++ % 30 == 0)
		msg_warn("queue: %s", why);
	    pause_ms(MIN(100 * redis_errors, 2000));
	    continue;
	}
	if (redis_errors) {
	    g_autofree char *redis = redisq_describe(w.cfg);

	    msg_info("queue: redis %s answers again", redis);
	    redis_errors = 0;
	}
	count_connects(&w);
	if (entries->len)
	    process_batch(&w, entries);
    }
    /* SIGTERM after a read ahead: its entries stay pending for the next start. */
    w.next = batch_drop(w.next);
    {
	g_autofree char *kept = batch_autogen_summary(&w.pl);

	msg_info("stopping: %u tickets created, %u follow-ups, %u duplicates ignored;"
		 " auto-generated mail kept apart: %s", w.pl.tickets_created,
		 w.pl.messages_added, w.pl.duplicates, kept);
    }
    worker_stop(&w);
    w.sinks = sinks_free(w.sinks);
    w.rules = rules_free(w.rules);
    w.tags = tags_free(w.tags);
    w.metrics = worker_metrics_free(w.metrics);
    daemon_pid_file_remove(w.cfg->worker_pid_file);
    config_free(w.cfg);
    g_mime_shutdown();
    return 0;
}
