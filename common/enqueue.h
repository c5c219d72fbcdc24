/* enqueue.h: add an envelope to the stream. See enqueue.c. */
#ifndef INTAKE_ENQUEUE_H
#define INTAKE_ENQUEUE_H

#include <glib.h>
#include <jansson.h>
#include "redisq.h"

/* Where the original message's bytes are: in memory, or else in a file from offset 0. */
struct raw_source {
    const char *data;			/* non-NULL: the bytes, in memory */
    int     fd;				/* with data NULL: a file read with pread() (and */
					/* written after len: see enqueue.c) */
    gsize   len;			/* bytes there (at least the envelope's raw_size) */
};

char   *enqueue_envelope(struct redisq *rq, const char *stream, json_t *env,
			 const struct raw_source *raw, gboolean zstd, char **why);
int     enqueue_wait(struct redisq *rq, const struct intake_config *cfg, char **why);

#endif
