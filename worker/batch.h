/* batch.h: one read's entries through the pipeline and acknowledged. See batch.c. */
#ifndef INTAKE_BATCH_H
#define INTAKE_BATCH_H

#include <signal.h>
#include <glib.h>
#include "config.h"
#include "job.h"

struct preparer;
struct outbox;
struct sink_senders;
struct batch;

/* What a batch needs of the worker; all borrowed. */
struct batch_runner {
    const struct intake_config *cfg;
    struct queue *q;
    struct pipeline *pl;
    struct preparer *preparer;		/* NULL: the writer prepares each entry itself */
    struct worker_metrics *metrics;
    struct outbox *outbox;		/* NULL: none to wake */
    struct sink_senders *senders;
    volatile sig_atomic_t *stop;	/* set by SIGTERM: stop retrying */
    /* NULL, or called once before the batch's last commit, its preparing threads idle */
    void    (*before_commit) (void *context);
    void   *context;
};

struct batch *batch_start(const struct batch_runner *runner, GPtrArray *entries);
void    batch_finish(struct batch *batch);
struct batch *batch_drop(struct batch *batch);
char   *batch_autogen_summary(const struct pipeline *pl);
void    batch_pause_ms(int ms, volatile sig_atomic_t *stop);

#endif
