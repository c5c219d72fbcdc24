/*
 * NAME
 *	ctl_projects - intakectl project, intakectl task
 * SYNOPSIS
 *	#include "ctl_projects.h"
 *
 *	int	ctl_projects(cfg, argc, argv, project, json)
 * DESCRIPTION
 *	argv[0] is "project" or "task" (docs/actions.md):
 *	"project add TITLE" makes a project and prints its number (PRJ-N);
 *	"task add --project PRJ-N TITLE" makes a task of it (TSK-N);
 *	"project list", "task list [--project PRJ-N]" list them in the
 *	order made; "project show PRJ-N" shows a project with its tasks and
 *	notes, "task show TSK-N" a task with its notes and time entries.
 *	--json prints the store's rows as ctl_show.c shapes them.
 * DIAGNOSTICS
 *	0 on success, 1 on an error (on stderr: "no project PRJ-9"), 2 on
 *	bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_projects.h"
#include "ctl_show.h"
#include "envelope.h"
#include "store.h"

static int usage(void)
{
    fprintf(stderr, "usage: intakectl [-c FILE] [--json] project add TITLE | list | show PRJ-N\n"
	    "       intakectl [-c FILE] [--json] task add --project PRJ-N TITLE"
	    " | list [--project PRJ-N] | show TSK-N\n");
    return 2;
}

static void print_json(json_t *v)
{
    char   *s = json_dumps(v, JSON_INDENT(2));

    printf("%s\n", s);
    free(s);
}

static const char *str(json_t *obj, const char *key)
{
    return envelope_str(obj, key);
}

/* print_list - one line per project or task */
static void print_list(enum store_record kind, json_t *list)
{
    json_t *r;
    size_t  i;

    json_array_foreach(list, i, r) {
	if (kind == STORE_PROJECT)
	    printf("%s\t%s\t%" JSON_INTEGER_FORMAT " tasks\t%" JSON_INTEGER_FORMAT " notes\t%s\n",
		   str(r, "number"), str(r, "status"),
		   json_integer_value(json_object_get(r, "tasks")),
		   json_integer_value(json_object_get(r, "notes")), str(r, "title"));
	else
	    printf("%s\t%s\t%s\t%" JSON_INTEGER_FORMAT " min\t%s\n", str(r, "number"),
		   str(r, "project"), str(r, "status"),
		   json_integer_value(json_object_get(r, "minutes")), str(r, "title"));
    }
}

/* print_record - a project or task, then its tasks, notes, time entries */
static void print_record(enum store_record kind, json_t *r)
{
    json_t *e;
    size_t  i;

    printf("%s  %s\nstatus    %s\ncreated   %s\n", str(r, "number"), str(r, "title"),
	   str(r, "status"), str(r, "created_at"));
    if (kind == STORE_TASK)
	printf("project   %s\ntime      %" JSON_INTEGER_FORMAT " minutes\n", str(r, "project"),
	       json_integer_value(json_object_get(r, "minutes")));
    json_array_foreach(json_object_get(r, "tasks"), i, e)
	printf("task      %s  %s  %s\n", str(e, "number"), str(e, "status"), str(e, "title"));
    json_array_foreach(json_object_get(r, "time_entries"), i, e)
	printf("time      %" JSON_INTEGER_FORMAT " min  %s  %s  %s\n",
	       json_integer_value(json_object_get(e, "minutes")), str(e, "created_at"),
	       str(e, "author"), str(e, "summary"));
    json_array_foreach(json_object_get(r, "notes"), i, e)
	printf("\n--- note %" JSON_INTEGER_FORMAT " from %s at %s: %s\n%s\n",
	       json_integer_value(json_object_get(e, "id")), str(e, "author"),
	       str(e, "created_at"), str(e, "subject"), str(e, "body"));
}

int     ctl_projects(const struct intake_config *cfg, int argc, char **argv,
		     const char *project, gboolean json)
{
    enum store_record kind = strcmp(argv[0], "project") == 0 ? STORE_PROJECT : STORE_TASK;
    const char *verb = argc > 1 ? argv[1] : "";
    g_autofree char *number = NULL;
    json_t *out = NULL;
    struct store *st;
    char   *why = NULL;
    int     rc;

    if (!((strcmp(verb, "add") == 0 && argc == 3 && *argv[2]
	   && (kind == STORE_PROJECT) == (project == NULL))
	  || (strcmp(verb, "list") == 0 && argc == 2 && (kind == STORE_TASK || !project))
	  || (strcmp(verb, "show") == 0 && argc == 3 && project == NULL)))
	return usage();
    if ((st = store_open(cfg, &why)) == NULL) {
	fprintf(stderr, "intakectl: %s: %s\n", argv[0], why);
	g_free(why);
	return 1;
    }
    if (strcmp(verb, "add") == 0)
	rc = st->ops->add_record ? st->ops->add_record(st, kind, project, argv[2], &number, &why)
	    : store_unsupported(st, "projects and tasks", &why);
    else if (strcmp(verb, "list") == 0)
	rc = ctl_list_records(st, kind, project, &out, &why);
    else
	rc = ctl_show_record(st, kind, argv[2], &out, &why);
    store_close(st);
    if (rc != STORE_OK) {
	fprintf(stderr, "intakectl: %s %s: %s\n", argv[0], verb, why);
	g_free(why);
	return 1;
    }
    if (number && json) {
	out = json_pack("{s:s}", "number", number);
	print_json(out);
    } else if (number) {
	printf("%s\n", number);
    } else if (json) {
	print_json(out);
    } else if (strcmp(verb, "list") == 0) {
	print_list(kind, out);
    } else {
	print_record(kind, out);
    }
    json_decref(out);
    return 0;
}
