/*
 * NAME
 *	mstats - the milter's counts, added up in a Redis hash
 * SYNOPSIS
 *	#include "mstats.h"
 *
 *	void	mstats_add(stat, n)
 *	void	mstats_redis_observe(microseconds)
 *	int	mstats_flush(rq, key, &why)
 *	int	mstats_read(rq, key, values, &why)
 *	char   *mstats_key(cfg)
 *	const char *mstats_field(stat)
 *	const char *mstats_tempfail_reason(stat)
 * DESCRIPTION
 *	The milter counts what it does (mails seen, queued, accepted
 *	untouched, rejected, tempfailed and why, bytes, parser warnings, the
 *	latency of its XADD) in process memory with atomic additions:
 *	mstats_add() and mstats_redis_observe() are all the per-message path
 *	pays. A thread of the milter (milter/mstats_flush.c) calls
 *	mstats_flush() every few seconds: it adds each count not yet
 *	written to the hash mstats_key() ("[redis] stream" + ":milter") with
 *	HINCRBY, and takes it off what is owed only once Redis answered.
 *	The hash adds up every milter process and survives their restarts,
 *	so its fields are counters in Prometheus's sense. The worker reads
 *	it with mstats_read() at scrape time (values[] by enum mstat; a
 *	missing field is 0) and exports it (worker/metrics_worker.c,
 *	docs/metrics.md).
 *
 *	XXX A flush whose reply is lost after Redis applied it is tried again
 *	and counted twice; the counts are for monitoring, not accounting.
 *
 *	mstats_field() is a stat's field name in the hash (one definition for
 *	writer and reader); mstats_tempfail_reason() the reason of a
 *	MSTAT_TEMPFAIL_* stat, as a label value.
 * DIAGNOSTICS
 *	mstats_flush() and mstats_read() return 0, or -1 and *why (g_free).
 */
#include <string.h>

#include "mstats.h"

static const double bounds[] = {MSTATS_REDIS_BOUNDS};

G_STATIC_ASSERT(G_N_ELEMENTS(bounds) == MSTATS_N_BOUNDS);

/* Owed to the hash: added by the milter's threads, taken off by a flush. */
static gint64 owed[MSTAT_N];

static const char *const names[MSTAT_REDIS_BUCKET] = {
    [MSTAT_SEEN] = "seen",
    [MSTAT_QUEUED] = "queued",
    [MSTAT_UNTOUCHED] = "untouched",
    [MSTAT_REJECTED] = "rejected",
    [MSTAT_BYTES] = "bytes",
    [MSTAT_PARSE_WARNINGS] = "parse_warnings",
    [MSTAT_TEMPFAIL_REDIS] = "tempfail_redis",
    [MSTAT_TEMPFAIL_NOT_DURABLE] = "tempfail_not_durable",
    [MSTAT_TEMPFAIL_ENVELOPE] = "tempfail_envelope",
    [MSTAT_TEMPFAIL_SPOOL] = "tempfail_spool",
    [MSTAT_TEMPFAIL_INTERNAL] = "tempfail_internal",
};

static const char *const bucket_names[MSTATS_N_BOUNDS + 1] = {
    "redis_le_0.0005", "redis_le_0.001", "redis_le_0.0025", "redis_le_0.005", "redis_le_0.01",
    "redis_le_0.025", "redis_le_0.05", "redis_le_0.1", "redis_le_0.25", "redis_le_0.5",
    "redis_le_1", "redis_le_2.5", "redis_le_inf",
};

const char *mstats_field(enum mstat s)
{
    if (s < MSTAT_REDIS_BUCKET)
	return names[s];
    if (s < MSTAT_REDIS_SUM_US)
	return bucket_names[s - MSTAT_REDIS_BUCKET];
    return s == MSTAT_REDIS_SUM_US ? "redis_sum_us" : "redis_count";
}

const char *mstats_tempfail_reason(enum mstat s)
{
    return mstats_field(s) + strlen("tempfail_");
}

char   *mstats_key(const struct intake_config *cfg)
{
    return g_strconcat(cfg->redis_stream, ":milter", NULL);
}

void    mstats_add(enum mstat s, gint64 n)
{
    __atomic_fetch_add(&owed[s], n, __ATOMIC_RELAXED);
}

void    mstats_redis_observe(gint64 us)
{
    int     i;

    for (i = 0; i < MSTATS_N_BOUNDS && us > bounds[i] * 1e6; i++)
	continue;
    mstats_add(MSTAT_REDIS_BUCKET + i, 1);
    mstats_add(MSTAT_REDIS_SUM_US, us);
    mstats_add(MSTAT_REDIS_COUNT, 1);
}

/*
 * mstats_flush - HINCRBY what is owed, field by field; a field leaves
 * the debt only when its HINCRBY was answered, so nothing counted while
 * Redis is away is lost (it is written on a later flush).
 */
int     mstats_flush(struct redisq *rq, const char *key, char **why)
{
    *why = NULL;
    for (int s = 0; s < MSTAT_N; s++) {
	gint64  n = __atomic_load_n(&owed[s], __ATOMIC_RELAXED);
	char    num[32];
	redisReply *r;

	if (n == 0)
	    continue;
	g_snprintf(num, sizeof(num), "%" G_GINT64_FORMAT, n);
	if ((r = redisq_run(rq, why, "HINCRBY", key, mstats_field(s), num, NULL)) == NULL)
	    return -1;
	freeReplyObject(r);
	__atomic_fetch_sub(&owed[s], n, __ATOMIC_RELAXED);
    }
    return 0;
}

int     mstats_read(struct redisq *rq, const char *key, gint64 values[MSTAT_N], char **why)
{
    redisReply *r;

    memset(values, 0, sizeof(gint64) * MSTAT_N);
    if ((r = redisq_run(rq, why, "HGETALL", key, NULL)) == NULL)
	return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
	const redisReply *k = r->element[i], *v = r->element[i + 1];

	if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
	    continue;
	for (int s = 0; s < MSTAT_N; s++) {
	    if (strcmp(k->str, mstats_field(s)) == 0) {
		values[s] = g_ascii_strtoll(v->str, NULL, 10);
		break;
	    }
	}
    }
    freeReplyObject(r);
    return 0;
}
