/* durable.h: is Redis set up to keep accepted mail? See durable.c. */
#ifndef INTAKE_DURABLE_H
#define INTAKE_DURABLE_H

#include "config.h"
#include "redisq.h"

enum durable_state {
    DURABLE_UNKNOWN,			/* not checked yet, or settings unreadable */
    DURABLE_YES,			/* appendonly yes, always, noeviction */
    DURABLE_NO,				/* a setting that can lose accepted mail */
};

enum durable_state durable_assess(const char *appendonly, const char *appendfsync,
				  const char *policy, char **risks);
int     durable_check(struct redisq *rq, enum durable_state *state, char **risks,
		      char **why);

struct durable;

struct durable *durable_new(const struct intake_config *cfg);
struct durable *durable_free(struct durable *d);
int     durable_update(struct durable *d, struct redisq *rq, char **why);
int     durable_start(struct durable *d, struct redisq *rq);
enum durable_state durable_state(const struct durable *d);
int     durable_refuse(const struct durable *d);

#endif
