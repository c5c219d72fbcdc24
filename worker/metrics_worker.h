/* metrics_worker.h: intake-worker's metrics. See metrics_worker.c. */
#ifndef INTAKE_METRICS_WORKER_H
#define INTAKE_METRICS_WORKER_H

#include "config.h"

struct worker_metrics;

struct worker_metrics *worker_metrics_new(void);
struct worker_metrics *worker_metrics_free(struct worker_metrics *wm);
int     worker_metrics_listen(struct worker_metrics *wm, const struct intake_config *cfg,
			      char **why);
void    worker_metrics_unlisten(struct worker_metrics *wm);

void    worker_metrics_consumed(struct worker_metrics *wm, guint n);
void    worker_metrics_tickets(struct worker_metrics *wm, guint created, guint followups,
			       guint duplicates);
void    worker_metrics_dead_letter(struct worker_metrics *wm);
void    worker_metrics_commit(struct worker_metrics *wm, double seconds);
void    worker_metrics_stage(struct worker_metrics *wm, const char *stage, double seconds);
void    worker_metrics_classify(struct worker_metrics *wm, const char *part, double seconds);
void    worker_metrics_autogen(struct worker_metrics *wm, const char *kind, guint n);
void    worker_metrics_reconnects(struct worker_metrics *wm, guint n);
void    worker_metrics_batch(struct worker_metrics *wm, const char *read);

#endif
