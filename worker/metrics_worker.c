/*
 * NAME
 *	metrics_worker - what intake-worker exports to Prometheus
 * SYNOPSIS
 *	#include "metrics_worker.h"
 *
 *	struct worker_metrics *worker_metrics_new(void)
 *	int	worker_metrics_listen(wm, cfg, &why)
 *	void	worker_metrics_unlisten(wm)
 *	struct worker_metrics *worker_metrics_free(wm)
 *
 *	void	worker_metrics_consumed(wm, n)
 *	void	worker_metrics_tickets(wm, created, followups, duplicates)
 *	void	worker_metrics_dead_letter(wm)
 *	void	worker_metrics_commit(wm, seconds)
 *	void	worker_metrics_stage(wm, stage, seconds)
 *	void	worker_metrics_classify(wm, part, seconds)
 *	void	worker_metrics_autogen(wm, kind, n)
 *	void	worker_metrics_reconnects(wm, n)
 *	void	worker_metrics_batch(wm, read)
 * DESCRIPTION
 *	The one definition of the worker's metric names, types, labels and
 *	help texts (docs/metrics.md describes each). worker_metrics_new()
 *	makes them, at 0, for the life of the process: a SIGHUP does not
 *	reset a counter.
 *
 *	The update functions are called by the consumer thread at the
 *	points where the fact is final: tickets, follow-ups and duplicates
 *	after the store transaction committed, consumed entries when
 *	acknowledged. Each takes a NULL wm and does nothing then (unit tests
 *	run the pipeline without metrics). worker_metrics_autogen() counts
 *	auto-generated mail kept apart, by the classifier's kind, once the
 *	transaction committed.
 *
 *	worker_metrics_listen() starts the worker's HTTP server on [http]
 *	listen, or its old name [metrics] listen (api_listen(); nothing when
 *	both are empty), with the read-only API of api.c beside /metrics
 *	([http] token_file), and a collector
 *	that, at each scrape, on the endpoint's thread and over connections
 *	of its own (never the consumer's), reads what lives elsewhere:
 *	the stream's length, pending entries and their oldest age, dead
 *	letters and consumers (worker/dlq.c), the milter's counts
 *	(common/mstats.c), both from Redis with SCRAPE_TIMEOUT_MS per
 *	command, so that a hung Redis delays a scrape by about that once
 *	(the connection's backoff fails the next commands at once); and the
 *	replies by state from the store. What cannot be read is left out of
 *	that scrape (intake_redis_up 0), never shown stale.
 *	worker_metrics_unlisten() stops the endpoint and closes those
 *	connections (before a reload, and at exit).
 * DIAGNOSTICS
 *	worker_metrics_listen() returns -1 and *why (g_free) when it cannot
 *	listen. A scrape that cannot reach Redis or the store is logged at
 *	debug level.
 */
#include <string.h>

#include "api.h"
#include "autogen.h"
#include "dlq.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "metrics_worker.h"
#include "mstats.h"
#include "store.h"

#define SCRAPE_TIMEOUT_MS 1000

/* Stage latency: the pipeline's stages take from tens of microseconds to a commit's fsync. */
static const double stage_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
/* A classify part takes from a microsecond (a hash lookup per word) to milliseconds. */
static const double classify_bounds[] = {0.000005, 0.00001, 0.000025, 0.00005, 0.0001,
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1};
static const double commit_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10};
static const double milter_bounds[] = {MSTATS_REDIS_BOUNDS};

/* The milter classifier's kinds (common/autogen.c); anything else is "other". */

/* Replies by state: the columns of the store's stats(). */
static const char *const reply_states[] = {"owed", "sending", "sent", "unknown", "failed", NULL};

struct worker_metrics {
    struct metrics *m;

    /* consumer thread */
    struct metric_family *consumed, *tickets, *followups, *duplicates, *dead_moved,
	   *commit, *stage, *autogen, *reconnects, *classify, *batches;

    /* scrape time */
    struct metric_family *redis_up, *stream_length, *pending, *pending_age, *dead_letters,
	   *consumers, *consumer_idle, *replies;
    struct metric_family *m_seen, *m_outcome, *m_tempfail, *m_bytes, *m_warnings, *m_redis;

    /* the endpoint and what only its thread uses */
    const struct intake_config *cfg;
    struct metrics_http *http;
    struct api *api;			/* the read-only API on the same server (api.c) */
    struct dlq *dlq;
    struct store *store;
    char   *mstats_key;
};

struct worker_metrics *worker_metrics_new(void)
{
    struct worker_metrics *wm = g_new0(struct worker_metrics, 1);
    struct metrics *m = wm->m = metrics_new();

#define FAMILY(type, name, help, label) metrics_family(m, type, name, help, label, NULL, 0)
#define HISTOGRAM(name, help, label, b) \
    metrics_family(m, METRIC_HISTOGRAM, name, help, label, b, G_N_ELEMENTS(b))
    wm->consumed = FAMILY(METRIC_COUNTER, "intake_envelopes_consumed_total",
			  "Stream entries processed and acknowledged.", NULL);
    wm->tickets = FAMILY(METRIC_COUNTER, "intake_tickets_created_total",
			 "Tickets created (committed to the store).", NULL);
    wm->followups = FAMILY(METRIC_COUNTER, "intake_followups_total",
			   "Mails added to an existing ticket (committed).", NULL);
    wm->duplicates = FAMILY(METRIC_COUNTER, "intake_duplicates_total",
			    "Mails found already stored (redelivered entries, MTA retries).",
			    NULL);
    wm->autogen = FAMILY(METRIC_COUNTER, "intake_autogenerated_total",
			 "Auto-generated mails kept apart (no ticket; committed), by the"
			 " milter classifier's kind.", "kind");
    wm->dead_moved = FAMILY(METRIC_COUNTER, "intake_dead_letters_total",
			    "Entries moved to the dead-letter stream by this worker.", NULL);
    wm->reconnects = FAMILY(METRIC_COUNTER, "intake_redis_reconnects_total",
			    "Connections the consumer made to Redis after its first.", NULL);
    wm->batches = FAMILY(METRIC_COUNTER, "intake_batches_total",
			 "Batches the consumer read, by when: after the last commit, or ahead,"
			 " while the last batch committed.", "read");
    wm->stage = HISTOGRAM("intake_stage_duration_seconds",
			  "Time one job spent in a pipeline stage.", "stage", stage_bounds);
    wm->classify = HISTOGRAM("intake_classify_duration_seconds",
			     "CPU time of the consumer thread in one part of the classify"
			     " stage, per job.", "part", classify_bounds);
    wm->commit = HISTOGRAM("intake_store_commit_duration_seconds",
			   "Time of a store transaction's commit (one per batch).", NULL,
			   commit_bounds);
    wm->redis_up = FAMILY(METRIC_GAUGE, "intake_redis_up",
			  "1 when this scrape could read the queue from Redis, else 0.", NULL);
    wm->stream_length = FAMILY(METRIC_GAUGE, "intake_stream_length",
			       "Entries in the envelope stream (not yet acknowledged).", NULL);
    wm->pending = FAMILY(METRIC_GAUGE, "intake_stream_pending",
			 "Entries delivered to a consumer and not yet acknowledged.", NULL);
    wm->pending_age = FAMILY(METRIC_GAUGE, "intake_stream_oldest_pending_age_seconds",
			     "Age of the oldest pending entry (0 when none is pending).", NULL);
    wm->dead_letters = FAMILY(METRIC_GAUGE, "intake_dead_letters",
			      "Entries in the dead-letter stream now.", NULL);
    wm->consumers = FAMILY(METRIC_GAUGE, "intake_consumers",
			   "Consumers known to the consumer group.", NULL);
    wm->consumer_idle = FAMILY(METRIC_GAUGE, "intake_consumer_idle_seconds",
			       "Time since the consumer last read from the stream.", "consumer");
    wm->replies = FAMILY(METRIC_GAUGE, "intake_replies",
			 "Acknowledgements in the store, by state.", "state");
    wm->m_seen = FAMILY(METRIC_COUNTER, "intake_milter_mails_seen_total",
			"Mails the milters decided on (all milters, from Redis).", NULL);
    wm->m_outcome = FAMILY(METRIC_COUNTER, "intake_milter_mails_total",
			   "Mails by the milter's decision: queued, untouched (no mailbox"
			   " recipient), rejected (too big).", "outcome");
    wm->m_tempfail = FAMILY(METRIC_COUNTER, "intake_milter_tempfails_total",
			    "Mails the milters answered 451, by reason.", "reason");
    wm->m_bytes = FAMILY(METRIC_COUNTER, "intake_milter_queued_bytes_total",
			 "Size of the mails queued by the milters.", NULL);
    wm->m_warnings = FAMILY(METRIC_COUNTER, "intake_milter_parse_warnings_total",
			    "Parser warnings in the envelopes the milters queued.", NULL);
    wm->m_redis = HISTOGRAM("intake_milter_redis_duration_seconds",
			    "Time the milter's XADD of an envelope took.", NULL, milter_bounds);
#undef FAMILY
#undef HISTOGRAM
    for (int k = AUTOGEN_HUMAN + 1; k < AUTOGEN_KINDS; k++)
	metrics_add(wm->autogen, autogen_kind_name(k), 0);
    metrics_add(wm->batches, "after", 0);
    metrics_add(wm->batches, "ahead", 0);
    return wm;
}

struct worker_metrics *worker_metrics_free(struct worker_metrics *wm)
{
    if (wm == NULL)
	return NULL;
    worker_metrics_unlisten(wm);
    metrics_free(wm->m);
    g_free(wm);
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	Consumer thread							    */
/* ---------------------------------------------------------------- */

void    worker_metrics_consumed(struct worker_metrics *wm, guint n)
{
    if (wm)
	metrics_add(wm->consumed, NULL, n);
}

void    worker_metrics_tickets(struct worker_metrics *wm, guint created, guint followups,
			       guint duplicates)
{
    if (wm == NULL)
	return;
    metrics_add(wm->tickets, NULL, created);
    metrics_add(wm->followups, NULL, followups);
    metrics_add(wm->duplicates, NULL, duplicates);
}

void    worker_metrics_dead_letter(struct worker_metrics *wm)
{
    if (wm)
	metrics_add(wm->dead_moved, NULL, 1);
}

void    worker_metrics_commit(struct worker_metrics *wm, double seconds)
{
    if (wm)
	metrics_observe(wm->commit, NULL, seconds);
}

void    worker_metrics_stage(struct worker_metrics *wm, const char *stage, double seconds)
{
    if (wm)
	metrics_observe(wm->stage, stage, seconds);
}

void    worker_metrics_classify(struct worker_metrics *wm, const char *part, double seconds)
{
    if (wm)
	metrics_observe(wm->classify, part, seconds);
}

void    worker_metrics_autogen(struct worker_metrics *wm, const char *kind, guint n)
{
    if (wm && n)
	metrics_add(wm->autogen, kind, n);
}

void    worker_metrics_reconnects(struct worker_metrics *wm, guint n)
{
    if (wm && n)
	metrics_add(wm->reconnects, NULL, n);
}

void    worker_metrics_batch(struct worker_metrics *wm, const char *read)
{
    if (wm)
	metrics_add(wm->batches, read, 1);
}

/* ---------------------------------------------------------------- */
/*	Scrape time (the endpoint's thread)				    */
/* ---------------------------------------------------------------- */

static double number_or_0(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : 0;
}

static void collect_queue(struct worker_metrics *wm)
{
    json_t *st = NULL, *c;
    g_autofree char *why = NULL;
    size_t  i;

    metrics_clear(wm->consumer_idle);
    if (dlq_status(wm->dlq, &st, &why) < 0) {
	msg_debug("metrics: cannot read the queue from redis: %s", why);
	metrics_clear(wm->stream_length);
	metrics_clear(wm->pending);
	metrics_clear(wm->pending_age);
	metrics_clear(wm->dead_letters);
	metrics_clear(wm->consumers);
	metrics_set(wm->redis_up, NULL, 0);
	return;
    }
    metrics_set(wm->redis_up, NULL, 1);
    metrics_set(wm->stream_length, NULL, number_or_0(json_object_get(st, "length")));
    metrics_set(wm->pending, NULL, number_or_0(json_object_get(st, "pending")));
    metrics_set(wm->pending_age, NULL, number_or_0(json_object_get(st, "oldest_pending_age_s")));
    metrics_set(wm->dead_letters, NULL, number_or_0(json_object_get(st, "dead_letters")));
    metrics_set(wm->consumers, NULL, json_array_size(json_object_get(st, "consumers")));
    json_array_foreach(json_object_get(st, "consumers"), i, c)
	metrics_set(wm->consumer_idle, json_string_value(json_object_get(c, "name")),
		    number_or_0(json_object_get(c, "idle_s")));
    json_decref(st);
}

static void collect_milter(struct worker_metrics *wm)
{
    gint64  v[MSTAT_N];
    guint64 buckets[MSTATS_N_BOUNDS + 1];
    g_autofree char *why = NULL;

    if (mstats_read(dlq_redis(wm->dlq), wm->mstats_key, v, &why) < 0) {
	msg_debug("metrics: cannot read the milter's counts from redis: %s", why);
	return;
    }
    metrics_set(wm->m_seen, NULL, v[MSTAT_SEEN]);
    metrics_set(wm->m_outcome, "queued", v[MSTAT_QUEUED]);
    metrics_set(wm->m_outcome, "untouched", v[MSTAT_UNTOUCHED]);
    metrics_set(wm->m_outcome, "rejected", v[MSTAT_REJECTED]);
    for (int s = MSTAT_TEMPFAIL_FIRST; s <= MSTAT_TEMPFAIL_LAST; s++)
	metrics_set(wm->m_tempfail, mstats_tempfail_reason(s), v[s]);
    metrics_set(wm->m_bytes, NULL, v[MSTAT_BYTES]);
    metrics_set(wm->m_warnings, NULL, v[MSTAT_PARSE_WARNINGS]);
    for (int b = 0; b <= MSTATS_N_BOUNDS; b++)
	buckets[b] = MAX(0, v[MSTAT_REDIS_BUCKET + b]);
    metrics_set_histogram(wm->m_redis, NULL, buckets, MAX(0, v[MSTAT_REDIS_COUNT]),
			  v[MSTAT_REDIS_SUM_US] / 1e6);
}

static void collect_store(struct worker_metrics *wm)
{
    struct store_stats counts;
    g_autofree char *why = NULL;

    if (wm->store == NULL && (wm->store = store_open(wm->cfg, &why)) == NULL) {
	msg_debug("metrics: cannot open the store: %s", why);
	metrics_clear(wm->replies);
	return;
    }
    if (wm->store->ops->stats(wm->store, &counts, &why) != STORE_OK) {
	msg_debug("metrics: cannot count the replies: %s", why);
	metrics_clear(wm->replies);
	return;
    }
    for (int i = 0; reply_states[i]; i++)
	for (int s = 0; s < STORE_REPLY_STATES; s++)
	    if (strcmp(reply_states[i], store_reply_states[s]) == 0)
		metrics_set(wm->replies, reply_states[i], (double) counts.replies[s]);
}

static void collect(void *data)
{
    struct worker_metrics *wm = data;

    collect_queue(wm);
    collect_milter(wm);
    collect_store(wm);
}

int     worker_metrics_listen(struct worker_metrics *wm, const struct intake_config *cfg,
			      char **why)
{
    const char *listen = api_listen(cfg);

    *why = NULL;
    if (*listen == 0)
	return 0;
    if ((wm->api = api_new(cfg, why)) == NULL)
	return -1;
    wm->cfg = cfg;
    wm->dlq = dlq_new(cfg);
    dlq_set_timeout(wm->dlq, MIN(SCRAPE_TIMEOUT_MS, cfg->redis_timeout_ms));
    wm->mstats_key = mstats_key(cfg);
    if ((wm->http = metrics_http_start(listen, wm->m, collect, wm, wm->api, why)) == NULL) {
	worker_metrics_unlisten(wm);
	return -1;
    }
    msg_info("metrics: http://%s/metrics", listen);
    if (cfg->http_token_file && *cfg->http_token_file)
	msg_info("api: http://%s/api/v1/tickets (bearer tokens of %s)", listen,
		 cfg->http_token_file);
    return 0;
}

void    worker_metrics_unlisten(struct worker_metrics *wm)
{
    if (wm == NULL)
	return;
    wm->http = metrics_http_stop(wm->http);
    wm->api = api_free(wm->api);		/* after the server: no request is running */
    wm->dlq = dlq_free(wm->dlq);
    wm->store = store_close(wm->store);
    g_clear_pointer(&wm->mstats_key, g_free);
    wm->cfg = NULL;
}
