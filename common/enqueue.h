/* enqueue.h: add an envelope to the stream. See enqueue.c. */
#ifndef INTAKE_ENQUEUE_H
#define INTAKE_ENQUEUE_H

#include <jansson.h>
#include "redisq.h"

char   *enqueue_envelope(struct redisq *rq, const char *stream, json_t *env,
			 const char *raw, char **why);

#endif
