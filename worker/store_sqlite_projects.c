/*
 * NAME
 *	store_sqlite_projects - projects, tasks, their notes and time
 *	entries in the SQLite store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	int	sq_add_record(st, kind, project, title, &number, &why)
 *	int	sq_find_record(st, kind, number, &id, &why)
 *	int	sq_add_note(st, note, &added, &why)
 *	int	sq_add_time_entry(st, entry, &added, &why)
 *	int	sq_list_records(st, kind, project, fn, ctx, &why)
 *	int	sq_show_record(st, kind, number, fn, ctx, &why)
 * DESCRIPTION
 *	The store_ops of docs/actions.md. A project is numbered PRJ-N and
 *	a task TSK-N, N one more than the highest id so far, inside the
 *	INSERT (one statement: two writers cannot take the same number).
 *	sq_add_note() and sq_add_time_entry() write nothing for a dedupe key
 *	written before (*added FALSE): a redelivered mail adds nothing.
 *	The reports give the rows store.h lists, from one snapshot.
 * DIAGNOSTICS
 *	As store_sqlite.c; "no project N" or "no task N" (STORE_ERROR) when
 *	the record named does not exist.
 */
#include <time.h>

#include "sqlite_int.h"

static const char *kind_name(enum store_record kind)
{
    return kind == STORE_PROJECT ? "project" : "task";
}

int     sq_add_record(struct store *st, enum store_record kind, const char *project,
		      const char *title, char **number, char **why)
{
    struct sq *sq = SQ(st);
    enum stmt id = kind == STORE_PROJECT ? S_PROJECT_INSERT : S_TASK_INSERT;
    char    now[ISO_TIME_SIZE];
    gboolean row = FALSE;
    int     ret;

    *number = NULL;
    iso_time(time(NULL), now, NULL);
    ret = kind == STORE_PROJECT ? sq_bind(sq, id, why, "tt", title, now)
	: sq_bind(sq, id, why, "ttt", project, title, now);
    if (ret != STORE_OK || (ret = sq_step(sq, id, &row, why)) != STORE_OK)
	return ret;
    if (row)
	*number = col_strdup(sq->stmt[id], 0);
    sq_reset(sq, id);
    if (!row) {				/* only a task's INSERT ... SELECT can make no row */
	*why = g_strdup_printf("no project %s", project);
	return STORE_ERROR;
    }
    return STORE_OK;
}

int     sq_find_record(struct store *st, enum store_record kind, const char *number,
		       gint64 *id, char **why)
{
    struct sq *sq = SQ(st);
    enum stmt s = kind == STORE_PROJECT ? S_PROJECT_ID : S_TASK_ID;
    gboolean row = FALSE;
    int     ret;

    *id = 0;
    if ((ret = sq_bind(sq, s, why, "t", number)) != STORE_OK
	|| (ret = sq_step(sq, s, &row, why)) != STORE_OK)
	return ret;
    if (row)
	*id = sqlite3_column_int64(sq->stmt[s], 0);
    sq_reset(sq, s);
    return STORE_OK;
}

/* run_insert - run an INSERT ... ON CONFLICT DO NOTHING bound already; *added: a row was made */
static int run_insert(struct sq *sq, enum stmt id, gboolean *added, char **why)
{
    int     ret = sq_run(sq, id, why);

    *added = ret == STORE_OK && sqlite3_changes(sq->db) > 0;
    return ret;
}

int     sq_add_note(struct store *st, const struct store_note *n, gboolean *added,
		    char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    *added = FALSE;
    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_NOTE_INSERT, why, "iitttttt", n->project_id, n->task_id,
		       n->dedupe_key, n->author, n->subject, n->body, n->message_id, now))
	!= STORE_OK)
	return ret;
    return run_insert(sq, S_NOTE_INSERT, added, why);
}

int     sq_add_time_entry(struct store *st, const struct store_time_entry *e,
			  gboolean *added, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    *added = FALSE;
    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_TIME_INSERT, why, "iiittttt", e->ticket_id, e->task_id,
		       (gint64) e->minutes, e->summary, e->author, e->dedupe_key,
		       e->message_id, now)) != STORE_OK)
	return ret;
    return run_insert(sq, S_TIME_INSERT, added, why);
}

int     sq_list_records(struct store *st, enum store_record kind, const char *project,
			store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if (kind == STORE_PROJECT)
	return sq_emit_rows(sq, S_PROJECT_LIST, "project", fn, ctx, why);
    if ((ret = sq_bind(sq, S_TASK_LIST, why, "t", project)) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_TASK_LIST, "task", fn, ctx, why);
}

/* show_record - the body of sq_show_record(), inside its savepoint */
static int show_record(struct sq *sq, enum store_record kind, const char *number,
		       store_row_fn fn, void *ctx, char **why)
{
    enum stmt s = kind == STORE_PROJECT ? S_PROJECT_SHOW : S_TASK_SHOW;
    gint64  id = 0;
    gboolean row = FALSE;
    int     ret;

    if ((ret = sq_bind(sq, s, why, "t", number)) != STORE_OK
	|| (ret = sq_step(sq, s, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	id = sqlite3_column_int64(sq->stmt[s], 0);
	sq_emit_row(sq, s, kind_name(kind), fn, ctx);
    }
    sq_reset(sq, s);
    if (!row) {
	*why = g_strdup_printf("no %s %s", kind_name(kind), number);
	return STORE_ERROR;
    }
    if (kind == STORE_PROJECT) {
	if ((ret = sq_bind(sq, S_PROJECT_TASKS, why, "i", id)) != STORE_OK
	    || (ret = sq_emit_rows(sq, S_PROJECT_TASKS, "task", fn, ctx, why)) != STORE_OK)
	    return ret;
	if ((ret = sq_bind(sq, S_NOTES_SHOW, why, "ii", id, (gint64) 0)) != STORE_OK)
	    return ret;
	return sq_emit_rows(sq, S_NOTES_SHOW, "note", fn, ctx, why);
    }
    if ((ret = sq_bind(sq, S_NOTES_SHOW, why, "ii", (gint64) 0, id)) != STORE_OK
	|| (ret = sq_emit_rows(sq, S_NOTES_SHOW, "note", fn, ctx, why)) != STORE_OK
	|| (ret = sq_bind(sq, S_TIME_SHOW, why, "ii", (gint64) 0, id)) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_TIME_SHOW, "time_entry", fn, ctx, why);
}

int     sq_show_record(struct store *st, enum store_record kind, const char *number,
		       store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    return op_end(sq, show_record(sq, kind, number, fn, ctx, why), why);
}
