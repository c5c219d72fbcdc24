/*
 * NAME
 *	test_metrics - unit tests of worker/metrics.c
 * DESCRIPTION
 *	The exact text a registry renders: HELP and TYPE lines, a counter
 *	without labels present at 0 from the start, gauges set and added,
 *	label values with a backslash, a quote and a newline escaped (and
 *	the help text's backslash and newline), a histogram's cumulative
 *	buckets with +Inf, _sum and _count (a value on a bound counts in
 *	that bucket), a histogram replaced by counts kept elsewhere, a
 *	cleared family that keeps only its HELP and TYPE, and a family
 *	given more label values than METRICS_MAX_SERIES (they fold into
 *	"other", the output stays bounded). Also: four threads adding to
 *	one counter lose no addition.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "metrics.h"
#include "tap.h"

static void test_render(void)
{
    struct metrics *m = metrics_new();
    static const double bounds[] = {0.1, 1};
    const guint64 counts[] = {1, 2, 3};
    struct metric_family *c = metrics_family(m, METRIC_COUNTER, "t_total", "Things\\done\nhere.",
					     NULL, NULL, 0);
    struct metric_family *g = metrics_family(m, METRIC_GAUGE, "t_gauge", "A gauge.", "state",
					     NULL, 0);
    struct metric_family *h = metrics_family(m, METRIC_HISTOGRAM, "t_seconds", "Time.", "stage",
					     bounds, 2);
    struct metric_family *h2 = metrics_family(m, METRIC_HISTOGRAM, "t2_seconds", "Time 2.",
					      NULL, bounds, 2);
    GString *out = metrics_render(m);

    is_str(out->str,
	   "# HELP t_total Things\\\\done\\nhere.\n# TYPE t_total counter\nt_total 0\n"
	   "# HELP t_gauge A gauge.\n# TYPE t_gauge gauge\n"
	   "# HELP t_seconds Time.\n# TYPE t_seconds histogram\n"
	   "# HELP t2_seconds Time 2.\n# TYPE t2_seconds histogram\n"
	   "t2_seconds_bucket{le=\"0.1\"} 0\nt2_seconds_bucket{le=\"1\"} 0\n"
	   "t2_seconds_bucket{le=\"+Inf\"} 0\nt2_seconds_sum 0\nt2_seconds_count 0\n",
	   "fresh registry: an unlabelled counter and histogram at 0, labelled families empty");
    g_string_free(out, TRUE);

    metrics_add(c, NULL, 2);
    metrics_add(c, NULL, 1);
    metrics_set(g, "a\"b\\c\nd", 7.5);
    metrics_add(g, "ok", 1);
    metrics_add(g, "ok", -3);
    metrics_observe(h, "store", 0.05);
    metrics_observe(h, "store", 0.1);		/* on the bound: in its bucket */
    metrics_observe(h, "store", 5);
    metrics_set_histogram(h2, NULL, counts, 6, 2.5);
    out = metrics_render(m);
    is_str(out->str,
	   "# HELP t_total Things\\\\done\\nhere.\n# TYPE t_total counter\nt_total 3\n"
	   "# HELP t_gauge A gauge.\n# TYPE t_gauge gauge\n"
	   "t_gauge{state=\"a\\\"b\\\\c\\nd\"} 7.5\nt_gauge{state=\"ok\"} -2\n"
	   "# HELP t_seconds Time.\n# TYPE t_seconds histogram\n"
	   "t_seconds_bucket{stage=\"store\",le=\"0.1\"} 2\n"
	   "t_seconds_bucket{stage=\"store\",le=\"1\"} 2\n"
	   "t_seconds_bucket{stage=\"store\",le=\"+Inf\"} 3\n"
	   "t_seconds_sum{stage=\"store\"} 5.1500000000000004\n"
	   "t_seconds_count{stage=\"store\"} 3\n"
	   "# HELP t2_seconds Time 2.\n# TYPE t2_seconds histogram\n"
	   "t2_seconds_bucket{le=\"0.1\"} 1\nt2_seconds_bucket{le=\"1\"} 3\n"
	   "t2_seconds_bucket{le=\"+Inf\"} 6\nt2_seconds_sum 2.5\nt2_seconds_count 6\n",
	   "counters, gauges with escaped label values, cumulative histogram buckets");
    g_string_free(out, TRUE);

    metrics_clear(g);
    out = metrics_render(m);
    ok(strstr(out->str, "# TYPE t_gauge gauge\n# HELP t_seconds") != NULL,
       "a cleared gauge keeps HELP and TYPE, no series");
    g_string_free(out, TRUE);
    metrics_free(m);
}

static void test_bounded(void)
{
    struct metrics *m = metrics_new();
    struct metric_family *g = metrics_family(m, METRIC_COUNTER, "many_total", "Many.", "v",
					     NULL, 0);
    GString *out;
    int     lines = 0;

    for (int i = 0; i < 1000; i++) {
	char    v[16];

	g_snprintf(v, sizeof(v), "v%d", i);
	metrics_add(g, v, 1);
    }
    out = metrics_render(m);
    for (const char *p = out->str; (p = strchr(p, '\n')); p++)
	lines++;
    is_int(lines, 2 + METRICS_MAX_SERIES, "1000 label values: HELP, TYPE and %d series",
	   METRICS_MAX_SERIES);
    has_str(out->str, "many_total{v=\"other\"} 937\n",
	    "values beyond the cap add up in \"other\" (1000 - 63)");
    g_string_free(out, TRUE);
    metrics_free(m);
}

static gpointer adder(gpointer p)
{
    for (int i = 0; i < 10000; i++)
	metrics_add(p, NULL, 1);
    return NULL;
}

static void test_threads(void)
{
    struct metrics *m = metrics_new();
    struct metric_family *c = metrics_family(m, METRIC_COUNTER, "n_total", "N.", NULL, NULL, 0);
    GThread *t[4];
    GString *out;

    for (int i = 0; i < 4; i++)
	t[i] = g_thread_new("adder", adder, c);
    for (int i = 0; i < 4; i++)
	g_thread_join(t[i]);
    out = metrics_render(m);
    has_str(out->str, "n_total 40000\n", "4 threads x 10000 additions: 40000");
    g_string_free(out, TRUE);
    metrics_free(m);
}

int     main(void)
{
    test_render();
    test_bounded();
    test_threads();
    return tap_done();
}
