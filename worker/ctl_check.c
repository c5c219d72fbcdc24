/*
 * NAME
 *	ctl_check - intakectl check: Intake's health for Nagios, Icinga and
 *	other users of the monitoring-plugins interface
 * SYNOPSIS
 *	int	ctl_check(config_path, argc, argv)
 *
 *	intakectl [-c FILE] check [--pending-age W,C] [--stream W,C]
 *		[--dead-letters W,C] [--owed-replies W,C]
 * DESCRIPTION
 *	Reads, like intakectl status, the age of the oldest pending entry
 *	(seconds), the stream's length, the dead letters and the replies the
 *	store owes, and compares each with its thresholds: a value at or
 *	above C is CRITICAL, else at or above W a WARNING. Defaults (see
 *	thresholds[] below and docs/metrics.md): pending age 300,900 s,
 *	stream 1000,10000, dead letters 1,100, owed replies 100,1000.
 *
 *	It prints one line in the monitoring-plugins format, the values
 *	beyond a threshold first, then the performance data:
 *
 *	    INTAKE WARNING - stream 1500 (>= 1000) ... | pending_age=12s;300;900;0 stream=1500;...
 *
 *	and exits 0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN: the
 *	configuration cannot be read, Redis does not answer within [redis]
 *	timeout, the store cannot be read, or bad usage). A store that does
 *	not exist yet owes no reply. argv[0] is the word "check".
 * DIAGNOSTICS
 *	Everything goes to standard output in that one line (a monitoring
 *	system shows only it); usage errors also to standard error.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_check.h"
#include "dlq.h"
#include "store.h"

enum { STATE_OK, STATE_WARNING, STATE_CRITICAL, STATE_UNKNOWN };

static const char *const state_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

struct threshold {
    const char *option;			/* --OPTION W,C */
    const char *label;			/* in the text */
    const char *perf;			/* performance data label */
    const char *unit;			/* performance data unit */
    gint64  warn, crit;
    gint64  value;
};

static int unknown(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int unknown(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* One line: a monitoring system shows the first line only. */
    g_strdelimit(text, "\n|", ' ');
    printf("INTAKE UNKNOWN - %s\n", text);
    return STATE_UNKNOWN;
}

/* parse_pair - "W,C" with 0 <= W <= C; 0 or -1 */
static int parse_pair(const char *text, gint64 *warn, gint64 *crit)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    guint64 w, c;

    if (g_strv_length(parts) != 2
	|| !g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXINT64, &w, NULL)
	|| !g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXINT64, &c, NULL) || w > c)
	return -1;
    *warn = w;
    *crit = c;
    return 0;
}

/* owed_replies - replies the store owes; a store not made yet owes none */
static int owed_replies(const struct intake_config *cfg, gint64 *owed, char **why)
{
    struct store *st;
    struct store_stats counts;

    *owed = 0;
    if (!store_exists(cfg))
	return 0;
    if ((st = store_open(cfg, why)) == NULL)
	return -1;
    if (st->ops->stats(st, &counts, why) != STORE_OK) {
	store_close(st);
	return -1;
    }
    *owed = counts.replies[STORE_REPLY_OWED];
    store_close(st);
    return 0;
}

int     ctl_check(const char *config_path, int argc, char **argv)
{
    struct threshold th[] = {
	{"pending-age", "pending age", "pending_age", "s", 300, 900},
	{"stream", "stream", "stream", "", 1000, 10000},
	{"dead-letters", "dead letters", "dead_letters", "", 1, 100},
	{"owed-replies", "owed replies", "owed_replies", "", 100, 1000},
    };
    static const struct option opts[] = {
	{"pending-age", required_argument, NULL, 0},
	{"stream", required_argument, NULL, 1},
	{"dead-letters", required_argument, NULL, 2},
	{"owed-replies", required_argument, NULL, 3},
	{"config", required_argument, NULL, 'c'},
	{0},
    };
    g_autoptr(GPtrArray) errors = NULL;
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GString) perf = g_string_new(NULL);
    g_autofree char *why = NULL;
    struct intake_config *cfg;
    struct dlq *q;
    json_t *st = NULL;
    int     c, state = STATE_OK;

    optind = 0;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
	if (c == 'c') {
	    config_path = optarg;
	} else if (c >= 0 && c < (int) G_N_ELEMENTS(th)) {
	    if (parse_pair(optarg, &th[c].warn, &th[c].crit) < 0) {
		fprintf(stderr, "intakectl check: --%s: expected WARN,CRIT (integers, WARN <="
			" CRIT), got '%s'\n", th[c].option, optarg);
		return unknown("bad usage: --%s %s", th[c].option, optarg);
	    }
	} else {
	    fprintf(stderr, "usage: intakectl [-c FILE] check [--pending-age W,C] [--stream W,C]"
		    " [--dead-letters W,C] [--owed-replies W,C]\n");
	    return unknown("bad usage: unknown option (usage on standard error)");
	}
    }
    if (optind != argc)
	return unknown("bad usage: unexpected '%s'", argv[optind]);

    if ((cfg = config_load(config_path, &errors)) == NULL)
	return unknown("%s", errors && errors->len ? (char *) g_ptr_array_index(errors, 0)
		       : config_path);
    q = dlq_new(cfg);
    if (dlq_status(q, &st, &why) < 0) {
	dlq_free(q);
	c = unknown("cannot read the queue: %s", why);
	config_free(cfg);
	return c;
    }
    dlq_free(q);
    th[0].value = (gint64) (json_is_number(json_object_get(st, "oldest_pending_age_s"))
			    ? json_number_value(json_object_get(st, "oldest_pending_age_s")) : 0);
    th[1].value = json_integer_value(json_object_get(st, "length"));
    th[2].value = json_integer_value(json_object_get(st, "dead_letters"));
    json_decref(st);
    g_clear_pointer(&why, g_free);
    if (owed_replies(cfg, &th[3].value, &why) < 0) {
	c = unknown("cannot read the ticket store: %s", why);
	config_free(cfg);
	return c;
    }
    config_free(cfg);

    /* Values beyond a threshold first, so that a narrow display shows them. */
    for (int pass = 0; pass < 2; pass++) {
	for (guint i = 0; i < G_N_ELEMENTS(th); i++) {
	    const struct threshold *t = &th[i];
	    int     s = t->value >= t->crit ? STATE_CRITICAL
		: t->value >= t->warn ? STATE_WARNING : STATE_OK;

	    if ((pass == 0) != (s != STATE_OK))
		continue;
	    state = MAX(state, s);
	    g_string_append_printf(text, "%s%s %" G_GINT64_FORMAT "%s", text->len ? ", " : "",
				   t->label, t->value, t->unit);
	    if (s != STATE_OK)
		g_string_append_printf(text, " (>= %" G_GINT64_FORMAT ")",
				       s == STATE_CRITICAL ? t->crit : t->warn);
	}
    }
    for (guint i = 0; i < G_N_ELEMENTS(th); i++)
	g_string_append_printf(perf, "%s%s=%" G_GINT64_FORMAT "%s;%" G_GINT64_FORMAT ";%"
			       G_GINT64_FORMAT ";0", i ? " " : "", th[i].perf, th[i].value,
			       th[i].unit, th[i].warn, th[i].crit);
    printf("INTAKE %s - %s | %s\n", state_names[state], text->str, perf->str);
    return state;
}
