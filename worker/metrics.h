/* metrics.h: a small registry of counters, gauges and histograms. See metrics.c. */
#ifndef INTAKE_METRICS_H
#define INTAKE_METRICS_H

#include <glib.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* Series per family beyond which label values are folded into "other". */
#define METRICS_MAX_SERIES 64

struct metrics;
struct metric_family;

struct metrics *metrics_new(void);
struct metrics *metrics_free(struct metrics *m);
struct metric_family *metrics_family(struct metrics *m, enum metric_type type,
				     const char *name, const char *help, const char *label,
				     const double *bounds, int n_bounds);
void    metrics_add(struct metric_family *f, const char *label_value, double v);
void    metrics_set(struct metric_family *f, const char *label_value, double v);
void    metrics_observe(struct metric_family *f, const char *label_value, double v);
void    metrics_set_histogram(struct metric_family *f, const char *label_value,
			      const guint64 *counts, guint64 count, double sum);
void    metrics_clear(struct metric_family *f);
GString *metrics_render(struct metrics *m);

#endif
