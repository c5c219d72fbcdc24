/* dlq.h: the queue and its dead letters as intakectl shows them. See dlq.c. */
#ifndef INTAKE_DLQ_H
#define INTAKE_DLQ_H

#include <glib.h>
#include <jansson.h>
#include "config.h"
#include "redisq.h"

struct dlq;

struct dlq *dlq_new(const struct intake_config *cfg);
struct dlq *dlq_free(struct dlq *d);
void    dlq_set_timeout(struct dlq *d, int ms);
struct redisq *dlq_redis(struct dlq *d);
int     dlq_status(struct dlq *d, json_t **out, char **why);
int     dlq_list(struct dlq *d, int limit, json_t **out, char **why);
int     dlq_show(struct dlq *d, const char *id, json_t **out, char **why);
int     dlq_retry(struct dlq *d, const char *id, char **new_id, char **why);
int     dlq_purge(struct dlq *d, const char *id, gint64 *count, char **why);

#endif
