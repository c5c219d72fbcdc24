/*
 * NAME
 *	test_projects - unit tests of worker/store_sqlite_projects.c
 * DESCRIPTION
 *	Projects and tasks through the store interface and ctl_show.c's
 *	JSON: numbers PRJ-N and TSK-N, a task of an unknown project refused
 *	by name, find_record(), a note and a time entry written once per
 *	dedupe key (the second insert adds nothing and says so), a
 *	zero-minute entry refused by the schema, the reports of list and
 *	show, and show of an unknown record.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <jansson.h>

#include "config.h"
#include "ctl_show.h"
#include "store.h"
#include "tap.h"

int     main(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("intake-test-projects-XXXXXX", &err);
    g_autofree char *text = NULL, *p1 = NULL, *p2 = NULL, *t1 = NULL, *t9 = NULL, *why = NULL;
    struct intake_config *cfg;
    struct store *st;
    struct store_note n = {0};
    struct store_time_entry e = {0};
    gboolean added = FALSE;
    gint64  task_id = -1, none = -1;
    json_t *j = NULL;

    if (!ok(dir != NULL, "temporary directory"))
	return tap_done();
    text = g_strdup_printf("[store]\npath = %s/t.db\n[mailbox support]\n"
			   "address = support@example.test\n", dir);
    if ((cfg = tap_config(text)) == NULL || (st = store_open(cfg, &why)) == NULL) {
	ok(0, "store_open: %s", why ? why : "no configuration");
	return tap_done();
    }

    is_int(st->ops->add_record(st, STORE_PROJECT, NULL, "Fleet", &p1, &why), STORE_OK,
	   "add project");
    is_str(p1, "PRJ-1", "the first project is PRJ-1");
    is_int(st->ops->add_record(st, STORE_PROJECT, NULL, "Other", &p2, &why), STORE_OK,
	   "add a second project");
    is_str(p2, "PRJ-2", "... PRJ-2");
    is_int(st->ops->add_record(st, STORE_TASK, "PRJ-1", "Toner", &t1, &why), STORE_OK,
	   "add a task of PRJ-1");
    is_str(t1, "TSK-1", "the first task is TSK-1");
    is_int(st->ops->add_record(st, STORE_TASK, "PRJ-9", "Nowhere", &t9, &why), STORE_ERROR,
	   "a task of an unknown project is refused");
    is_str(why, "no project PRJ-9", "... naming it");
    ok(t9 == NULL, "... and no number is returned");
    g_clear_pointer(&why, g_free);

    is_int(st->ops->find_record(st, STORE_TASK, "TSK-1", &task_id, &why), STORE_OK,
	   "find_record TSK-1");
    ok(task_id > 0, "TSK-1 has an id");
    is_int(st->ops->find_record(st, STORE_PROJECT, "PRJ-7", &none, &why), STORE_OK,
	   "find_record PRJ-7");
    is_int(none, 0, "PRJ-7 does not exist: id 0");

    n.task_id = task_id;
    n.dedupe_key = "k-note";
    n.author = "staff@company.test";
    n.subject = "[#TSK-1] supplier";
    n.body = "Supplier answers Friday.";
    is_int(st->ops->add_note(st, &n, &added, &why), STORE_OK, "add_note");
    ok(added, "the note is added");
    is_int(st->ops->add_note(st, &n, &added, &why), STORE_OK, "add_note again (a redelivery)");
    ok(!added, "the same dedupe key adds nothing");

    e.task_id = task_id;
    e.minutes = 45;
    e.summary = "Ordered toner";
    e.author = "staff@company.test";
    e.dedupe_key = "k-time";
    is_int(st->ops->add_time_entry(st, &e, &added, &why), STORE_OK, "add_time_entry");
    ok(added, "the time entry is added");
    is_int(st->ops->add_time_entry(st, &e, &added, &why), STORE_OK, "add_time_entry again");
    ok(!added, "the same dedupe key adds nothing");
    e.minutes = 0;
    e.dedupe_key = "k-zero";
    is_int(st->ops->add_time_entry(st, &e, &added, &why), STORE_ERROR,
	   "a zero-minute entry is refused by the schema");
    g_clear_pointer(&why, g_free);

    is_int(ctl_show_record(st, STORE_TASK, "TSK-1", &j, &why), STORE_OK, "show TSK-1");
    is_int(json_integer_value(json_object_get(j, "minutes")), 45, "TSK-1: 45 minutes");
    is_str(json_string_value(json_object_get(j, "project")), "PRJ-1", "TSK-1: of PRJ-1");
    is_int(json_array_size(json_object_get(j, "notes")), 1, "TSK-1: one note");
    is_int(json_array_size(json_object_get(j, "time_entries")), 1, "TSK-1: one time entry");
    json_decref(j);
    is_int(ctl_show_record(st, STORE_PROJECT, "PRJ-1", &j, &why), STORE_OK, "show PRJ-1");
    is_int(json_array_size(json_object_get(j, "tasks")), 1, "PRJ-1: one task");
    is_int(json_array_size(json_object_get(j, "notes")), 0, "PRJ-1: no note (shown as [])");
    json_decref(j);
    is_int(ctl_list_records(st, STORE_TASK, "PRJ-2", &j, &why), STORE_OK, "list tasks of PRJ-2");
    is_int(json_array_size(j), 0, "PRJ-2 has no task");
    json_decref(j);
    is_int(ctl_list_records(st, STORE_PROJECT, NULL, &j, &why), STORE_OK, "list projects");
    is_int(json_array_size(j), 2, "two projects");
    is_int(json_integer_value(json_object_get(json_array_get(j, 0), "tasks")), 1,
	   "PRJ-1 counts its task");
    json_decref(j);
    is_int(ctl_show_record(st, STORE_TASK, "TSK-9", &j, &why), STORE_ERROR, "show TSK-9");
    is_str(why, "no task TSK-9", "... there is none");
    ok(j == NULL, "... and no result");

    store_close(st);
    config_free(cfg);
    tap_remove_tree(dir);
    return tap_done();
}
