/* prepare.h: the worker's preparing threads: decode and classify ahead of the writer. See prepare.c. */
#ifndef INTAKE_PREPARE_H
#define INTAKE_PREPARE_H

#include <glib.h>
#include <jansson.h>
#include "job.h"
#include "queue.h"

struct preparer;
struct prepare_batch;

/* What was prepared for one stream entry; read by the writer once prepare_batch_wait() returned it. */
struct prepared {
    const char *entry_id;		/* the entry's (borrowed from it) */
    json_t *env;			/* the decoded envelope; NULL: it failed, why says why */
    char   *why;
    GPtrArray *jobs;			/* struct job *, one per member of env's "mailboxes", in
					 * order; NULL for a mailbox no longer configured */
};

struct preparer *preparer_new(struct pipeline *pl, int threads, char **why);
struct preparer *preparer_free(struct preparer *p);

struct prepare_batch *prepare_batch_new(struct preparer *p, GPtrArray *entries);
const struct prepared *prepare_batch_wait(struct prepare_batch *b, const struct queue_entry *e);
gboolean prepare_batch_idle(struct prepare_batch *b);
struct prepare_batch *prepare_batch_free(struct prepare_batch *b);

#endif
