/*
 * NAME
 *	ctl_sinks - intakectl sinks: where the events stand
 * SYNOPSIS
 *	#include "ctl_sinks.h"
 *
 *	int	ctl_sinks(cfg, argc, argv, json)
 *	int	ctl_sinks_keys(void)
 * DESCRIPTION
 *	"sinks status" prints, per sink, the events pending and failed, the
 *	ones sent (until [store] events_keep_days prunes them), when the
 *	oldest pending one was written, and the far end's last answer with
 *	its time: a table, or with --json an array of objects of those names
 *	(sink, pending, failed, sent, oldest_pending, last_answer, last_try).
 *	A sink configured in [sink NAME] that has no events yet is listed
 *	with zeros; a sink with events that is no longer configured is
 *	listed too (its events wait for it). "sinks retry NAME [EVENT_ID]"
 *	makes the sink's failed events (or the one) pending again, to be
 *	sent at once by the running worker. "sinks keys" prints the keys
 *	every [sink NAME] has and their defaults, as config-defaults prints
 *	the others (it_docs_config_keys).
 * DIAGNOSTICS
 *	Exit 0; 1 when the store fails or nothing was re-queued (the text
 *	says why); 2 for a bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_sinks.h"
#include "sinks.h"
#include "store.h"

int     ctl_sinks_keys(void)
{
    sinks_dump_keys(stdout);
    return 0;
}

/* add_row - a "sink" row as an object in the array ctx */
static void add_row(void *ctx, const struct store_row *row)
{
    json_t *obj = json_object();

    for (int i = 0; i < row->n; i++) {
	const struct store_value *v = row->values + i;
	g_autofree char *t = NULL;

	switch (v->type) {
	case STORE_INT:
	    json_object_set_new(obj, v->name, json_integer(v->i));
	    break;
	case STORE_TEXT:
	    t = g_utf8_make_valid(v->text, (gssize) v->len);
	    json_object_set_new(obj, v->name, json_string(t));
	    break;
	case STORE_REAL:
	    json_object_set_new(obj, v->name, json_real(v->d));
	    break;
	default:
	    json_object_set_new(obj, v->name, json_null());
	}
    }
    json_array_append_new(ctx, obj);
}

/* configured - the names of the [sink NAME] sections of cfg, in order (g_strfreev) */
static char **configured(const struct intake_config *cfg)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_auto(GStrv) groups = NULL;
    GPtrArray *names = g_ptr_array_new();

    if (g_key_file_load_from_file(kf, cfg->path, G_KEY_FILE_NONE, NULL)
	&& (groups = g_key_file_get_groups(kf, NULL)) != NULL)
	for (int i = 0; groups[i]; i++)
	    if (g_str_has_prefix(groups[i], "sink "))
		g_ptr_array_add(names, g_strdup(groups[i] + 5));
    g_ptr_array_add(names, NULL);
    return (char **) g_ptr_array_free(names, FALSE);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "-";
}

static int status(struct store *st, const struct intake_config *cfg, gboolean json)
{
    json_t *rows = json_array();
    g_auto(GStrv) names = configured(cfg);
    char   *why = NULL;
    json_t *r;
    size_t  i;

    if (st->ops->sink_status(st, add_row, rows, &why) != STORE_OK) {
	fprintf(stderr, "intakectl: sinks status: %s\n", why);
	g_free(why);
	json_decref(rows);
	return 1;
    }
    for (int n = 0; names[n]; n++) {
	gboolean seen = FALSE;

	json_array_foreach(rows, i, r)
	    seen = seen || strcmp(str(r, "sink"), names[n]) == 0;
	if (!seen)
	    json_array_append_new(rows, json_pack("{s:s,s:i,s:i,s:i,s:n,s:n,s:n}", "sink",
						  names[n], "pending", 0, "failed", 0, "sent",
						  0, "oldest_pending", "last_answer",
						  "last_try"));
    }
    if (json) {
	char   *s = json_dumps(rows, JSON_INDENT(2));

	printf("%s\n", s);
	free(s);
    } else {
	printf("%-16s %8s %8s %8s  %-20s  %s\n", "SINK", "PENDING", "FAILED", "SENT",
	       "OLDEST PENDING", "LAST ANSWER");
	json_array_foreach(rows, i, r)
	    printf("%-16s %8" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT " %8"
		   JSON_INTEGER_FORMAT "  %-20s  %s%s%s\n", str(r, "sink"),
		   json_integer_value(json_object_get(r, "pending")),
		   json_integer_value(json_object_get(r, "failed")),
		   json_integer_value(json_object_get(r, "sent")), str(r, "oldest_pending"),
		   str(r, "last_answer"), json_object_get(r, "last_try")
		   && !json_is_null(json_object_get(r, "last_try")) ? " at " : "",
		   json_string_value(json_object_get(r, "last_try"))
		   ? json_string_value(json_object_get(r, "last_try")) : "");
    }
    json_decref(rows);
    return 0;
}

static int retry(struct store *st, const char *sink, const char *event)
{
    gint64  id = 0;
    int     n = 0;
    char   *why = NULL;

    if (event) {
	char   *end;

	id = g_ascii_strtoll(event, &end, 10);
	if (*event == 0 || *end || id <= 0) {
	    fprintf(stderr, "intakectl: sinks retry: '%s' is no event id (a number)\n", event);
	    return 2;
	}
    }
    if (st->ops->begin(st, &why) != STORE_OK
	|| st->ops->sink_retry(st, sink, id, &n, &why) != STORE_OK
	|| st->ops->commit(st, &why) != STORE_OK) {
	st->ops->rollback(st);
	fprintf(stderr, "intakectl: sinks retry: %s\n", why);
	g_free(why);
	return 1;
    }
    if (n == 0) {
	fprintf(stderr, "intakectl: sinks retry: sink %s has no failed event%s%s (intakectl"
		" sinks status)\n", sink, event ? " " : "s", event ? event : "");
	return 1;
    }
    printf("sink %s: %d failed event%s pending again\n", sink, n, n == 1 ? "" : "s");
    return 0;
}

int     ctl_sinks(const struct intake_config *cfg, int argc, char **argv, gboolean json)
{
    struct store *st;
    char   *why = NULL;
    int     rc;

    if (argc < 1 || !((strcmp(argv[0], "status") == 0 && argc == 1)
		      || (strcmp(argv[0], "retry") == 0 && (argc == 2 || argc == 3)))) {
	fprintf(stderr, "usage: intakectl [--json] sinks status | sinks retry NAME [EVENT_ID]\n");
	return 2;
    }
    if ((st = store_open(cfg, &why)) == NULL) {
	fprintf(stderr, "intakectl: %s\n", why);
	g_free(why);
	return 1;
    }
    if (st->ops->sink_status == NULL || st->ops->sink_retry == NULL) {
	fprintf(stderr, "intakectl: sinks: the %s store keeps no events\n", st->ops->name);
	store_close(st);
	return 1;
    }
    if (strcmp(argv[0], "status") == 0)
	rc = status(st, cfg, json);
    else
	rc = retry(st, argv[1], argc == 3 ? argv[2] : NULL);
    store_close(st);
    return rc;
}
