/* mstats.h: the milter's counts, kept in a Redis hash. See mstats.c. */
#ifndef INTAKE_MSTATS_H
#define INTAKE_MSTATS_H

#include <glib.h>
#include "config.h"
#include "redisq.h"

/* Upper bounds (seconds) of the buckets of the milter's Redis latency. */
#define MSTATS_REDIS_BOUNDS 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
#define MSTATS_N_BOUNDS 12

enum mstat {
    MSTAT_SEEN, MSTAT_QUEUED, MSTAT_UNTOUCHED, MSTAT_REJECTED, MSTAT_BYTES,
    MSTAT_PARSE_WARNINGS,
    MSTAT_TEMPFAIL_REDIS, MSTAT_TEMPFAIL_NOT_DURABLE, MSTAT_TEMPFAIL_ENVELOPE,
    MSTAT_TEMPFAIL_SPOOL, MSTAT_TEMPFAIL_INTERNAL,
    MSTAT_REDIS_BUCKET,			/* MSTATS_N_BOUNDS + 1 buckets from here */
    MSTAT_REDIS_SUM_US = MSTAT_REDIS_BUCKET + MSTATS_N_BOUNDS + 1,
    MSTAT_REDIS_COUNT,
    MSTAT_N,
};

/* The first and last tempfail reasons, and the reason's name (label value). */
#define MSTAT_TEMPFAIL_FIRST MSTAT_TEMPFAIL_REDIS
#define MSTAT_TEMPFAIL_LAST MSTAT_TEMPFAIL_INTERNAL

const char *mstats_field(enum mstat s);
const char *mstats_tempfail_reason(enum mstat s);
char   *mstats_key(const struct intake_config *cfg);
void    mstats_add(enum mstat s, gint64 n);
void    mstats_redis_observe(gint64 us);
int     mstats_flush(struct redisq *rq, const char *key, char **why);
int     mstats_read(struct redisq *rq, const char *key, gint64 values[MSTAT_N], char **why);

#endif
