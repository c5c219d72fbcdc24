/*
 * NAME
 *	metrics - counters, gauges and histograms in the Prometheus text format
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	struct metrics *metrics_new(void)
 *	struct metric_family *metrics_family(m, type, name, help, label, bounds, n_bounds)
 *	void	metrics_add(family, label_value, v)
 *	void	metrics_set(family, label_value, v)
 *	void	metrics_observe(family, label_value, v)
 *	void	metrics_set_histogram(family, label_value, counts, count, sum)
 *	void	metrics_clear(family)
 *	GString *metrics_render(m)
 *	struct metrics *metrics_free(m)
 * DESCRIPTION
 *	A registry of metric families, each a name, a help text, a type and
 *	at most one label (label NULL: one series without labels). A family
 *	belongs to the registry; the caller keeps the pointer that
 *	metrics_family() returned and updates the family through it.
 *
 *	metrics_add() adds v to a counter or gauge (the series is created at
 *	0), metrics_set() sets it (a gauge; or a counter whose value comes
 *	from elsewhere, such as the milter's counts in Redis).
 *	metrics_observe() counts v into a histogram's buckets, whose upper
 *	bounds (ascending, +Inf implied) were given to metrics_family();
 *	metrics_set_histogram() replaces a histogram series with counts
 *	kept elsewhere (per bucket, not cumulative; n_bounds + 1 of them).
 *	metrics_clear() drops a family's series (a gauge whose source did not
 *	answer: no value is better than a stale one).
 *
 *	Label values come from the program, never from a sender; still, a
 *	family holds at most METRICS_MAX_SERIES series and folds any further
 *	value into "other", so that memory and the response stay bounded.
 *	Label values are escaped as the text format requires.
 *
 *	metrics_render() returns (caller's, g_string_free) the exposition in
 *	the Prometheus text format 0.0.4: HELP and TYPE lines, then the
 *	series, families in the order they were made.
 *
 *	Thread safety: one mutex guards the registry; updates take it for a
 *	few instructions, a render for the time of formatting.
 */
#include <math.h>
#include <string.h>

#include "metrics.h"

struct series {
    char   *label_value;		/* NULL: the family has no label */
    double  value;			/* counter, gauge */
    guint64 *buckets;			/* histogram: n_bounds + 1, not cumulative */
    guint64 count;
    double  sum;
};

struct metric_family {
    struct metrics *m;
    enum metric_type type;
    char   *name;
    char   *help;
    char   *label;
    double *bounds;
    int     n_bounds;
    GPtrArray *series;			/* struct series, in order of creation */
};

struct metrics {
    GMutex  lock;
    GPtrArray *families;
};

static void series_free(gpointer p)
{
    struct series *s = p;

    g_free(s->label_value);
    g_free(s->buckets);
    g_free(s);
}

static void family_free(gpointer p)
{
    struct metric_family *f = p;

    g_free(f->name);
    g_free(f->help);
    g_free(f->label);
    g_free(f->bounds);
    g_ptr_array_free(f->series, TRUE);
    g_free(f);
}

struct metrics *metrics_new(void)
{
    struct metrics *m = g_new0(struct metrics, 1);

    g_mutex_init(&m->lock);
    m->families = g_ptr_array_new_with_free_func(family_free);
    return m;
}

struct metrics *metrics_free(struct metrics *m)
{
    if (m == NULL)
	return NULL;
    g_ptr_array_free(m->families, TRUE);
    g_mutex_clear(&m->lock);
    g_free(m);
    return NULL;
}

/* series_get - the series of label_value, made when missing; lock held */
static struct series *series_get(struct metric_family *f, const char *label_value)
{
    struct series *s;

    if (f->label == NULL)
	label_value = NULL;
    else if (label_value == NULL)
	label_value = "";
    for (guint i = 0; i < f->series->len; i++) {
	s = g_ptr_array_index(f->series, i);
	if (g_strcmp0(s->label_value, label_value) == 0)
	    return s;
    }
    if (f->series->len >= METRICS_MAX_SERIES - 1 && g_strcmp0(label_value, "other") != 0)
	return series_get(f, "other");
    s = g_new0(struct series, 1);
    s->label_value = g_strdup(label_value);
    if (f->type == METRIC_HISTOGRAM)
	s->buckets = g_new0(guint64, f->n_bounds + 1);
    g_ptr_array_add(f->series, s);
    return s;
}

/*
 * metrics_family - a new family. label NULL: one series, shown at 0 from
 * the start (a counter that has not moved yet is still there, so that
 * rate() and absent() work from the first scrape). bounds: a histogram's
 * bucket upper bounds, ascending, without +Inf.
 */
struct metric_family *metrics_family(struct metrics *m, enum metric_type type,
				     const char *name, const char *help, const char *label,
				     const double *bounds, int n_bounds)
{
    struct metric_family *f = g_new0(struct metric_family, 1);

    f->m = m;
    f->type = type;
    f->name = g_strdup(name);
    f->help = g_strdup(help);
    f->label = g_strdup(label);
    if (type == METRIC_HISTOGRAM) {
	f->bounds = g_memdup2(bounds, sizeof(double) * n_bounds);
	f->n_bounds = n_bounds;
    }
    f->series = g_ptr_array_new_with_free_func(series_free);
    g_mutex_lock(&m->lock);
    if (label == NULL && type != METRIC_GAUGE)
	series_get(f, NULL);
    g_ptr_array_add(m->families, f);
    g_mutex_unlock(&m->lock);
    return f;
}

void    metrics_add(struct metric_family *f, const char *label_value, double v)
{
    if (f == NULL)
	return;
    g_mutex_lock(&f->m->lock);
    series_get(f, label_value)->value += v;
    g_mutex_unlock(&f->m->lock);
}

void    metrics_set(struct metric_family *f, const char *label_value, double v)
{
    if (f == NULL)
	return;
    g_mutex_lock(&f->m->lock);
    series_get(f, label_value)->value = v;
    g_mutex_unlock(&f->m->lock);
}

void    metrics_observe(struct metric_family *f, const char *label_value, double v)
{
    struct series *s;
    int     i;

    if (f == NULL)
	return;
    g_mutex_lock(&f->m->lock);
    s = series_get(f, label_value);
    for (i = 0; i < f->n_bounds && v > f->bounds[i]; i++)
	continue;
    s->buckets[i]++;
    s->count++;
    s->sum += v;
    g_mutex_unlock(&f->m->lock);
}

void    metrics_set_histogram(struct metric_family *f, const char *label_value,
			      const guint64 *counts, guint64 count, double sum)
{
    struct series *s;

    if (f == NULL)
	return;
    g_mutex_lock(&f->m->lock);
    s = series_get(f, label_value);
    memcpy(s->buckets, counts, sizeof(guint64) * (f->n_bounds + 1));
    s->count = count;
    s->sum = sum;
    g_mutex_unlock(&f->m->lock);
}

void    metrics_clear(struct metric_family *f)
{
    if (f == NULL)
	return;
    g_mutex_lock(&f->m->lock);
    g_ptr_array_set_size(f->series, 0);
    g_mutex_unlock(&f->m->lock);
}

/* ---------------------------------------------------------------- */
/*	The text format							    */
/* ---------------------------------------------------------------- */

/* number - a sample value as the text format writes it (no locale) */
static void number(GString *out, double v)
{
    char    buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (isinf(v))
	g_string_append(out, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
	g_string_append(out, "NaN");
    else if (v == floor(v) && fabs(v) < 1e15)
	g_string_append_printf(out, "%.0f", v);
    else
	g_string_append(out, g_ascii_dtostr(buf, sizeof(buf), v));
}

/* escaped - text with backslash, newline (and in label values the quote) escaped */
static void escaped(GString *out, const char *s, gboolean quote)
{
    for (; *s; s++) {
	if (*s == '\\')
	    g_string_append(out, "\\\\");
	else if (*s == '\n')
	    g_string_append(out, "\\n");
	else if (*s == '"' && quote)
	    g_string_append(out, "\\\"");
	else
	    g_string_append_c(out, *s);
    }
}

/* sample - NAME{label="v",le="b"} value */
static void sample(GString *out, const struct metric_family *f, const char *suffix,
		   const struct series *s, const char *le, double v)
{
    g_string_append(out, f->name);
    g_string_append(out, suffix);
    if (s->label_value || le) {
	g_string_append_c(out, '{');
	if (s->label_value) {
	    g_string_append_printf(out, "%s=\"", f->label);
	    escaped(out, s->label_value, TRUE);
	    g_string_append_c(out, '"');
	}
	if (le)
	    g_string_append_printf(out, "%sle=\"%s\"", s->label_value ? "," : "", le);
	g_string_append_c(out, '}');
    }
    g_string_append_c(out, ' ');
    number(out, v);
    g_string_append_c(out, '\n');
}

static void render_family(GString *out, const struct metric_family *f)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};

    g_string_append_printf(out, "# HELP %s ", f->name);
    escaped(out, f->help, FALSE);
    g_string_append_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
    for (guint i = 0; i < f->series->len; i++) {
	const struct series *s = g_ptr_array_index(f->series, i);
	guint64 cumulative = 0;

	if (f->type != METRIC_HISTOGRAM) {
	    sample(out, f, "", s, NULL, s->value);
	    continue;
	}
	for (int b = 0; b <= f->n_bounds; b++) {
	    char    le[G_ASCII_DTOSTR_BUF_SIZE];

	    cumulative += s->buckets[b];
	    if (b < f->n_bounds)
		g_ascii_formatd(le, sizeof(le), "%g", f->bounds[b]);
	    else
		g_strlcpy(le, "+Inf", sizeof(le));
	    sample(out, f, "_bucket", s, le, (double) cumulative);
	}
	sample(out, f, "_sum", s, NULL, s->sum);
	sample(out, f, "_count", s, NULL, (double) s->count);
    }
}

GString *metrics_render(struct metrics *m)
{
    GString *out = g_string_sized_new(8192);

    g_mutex_lock(&m->lock);
    for (guint i = 0; i < m->families->len; i++)
	render_family(out, g_ptr_array_index(m->families, i));
    g_mutex_unlock(&m->lock);
    return out;
}
