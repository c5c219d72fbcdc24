/*
 * NAME
 *	store_pg_projects - projects, tasks, their notes and time entries
 *	in the PostgreSQL store
 * SYNOPSIS
 *	#include "pg_int.h"
 *
 *	int	pg_add_record(st, kind, project, title, &number, &why)
 *	int	pg_find_record(st, kind, number, &id, &why)
 *	int	pg_add_note(st, note, &added, &why)
 *	int	pg_add_time_entry(st, entry, &added, &why)
 *	int	pg_list_records(st, kind, project, fn, ctx, &why)
 *	int	pg_show_record(st, kind, number, fn, ctx, &why)
 * DESCRIPTION
 *	The store_ops of docs/actions.md, as store_sqlite_projects.c. A
 *	project is numbered PRJ-N and a task TSK-N, N its id, taken from
 *	the id's sequence inside the INSERT: unlike SQLite's max(id) + 1,
 *	a sequence never gives one number to two workers (a rolled-back
 *	insert leaves a gap, which numbers may have). pg_add_note() and
 *	pg_add_time_entry() write nothing for a dedupe key written before
 *	(*added FALSE): a redelivered mail, or the same mail at two
 *	workers, adds one row. pg_show_record() reads one snapshot.
 * DIAGNOSTICS
 *	As store_pg_util.c; "no project N" or "no task N" (STORE_ERROR) when
 *	the record named does not exist.
 */
#include <stdlib.h>

#include "pg_int.h"

static const char *kind_name(enum store_record kind)
{
    return kind == STORE_PROJECT ? "project" : "task";
}

int     pg_add_record(struct store *st, enum store_record kind, const char *project,
		      const char *title, char **number, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *number = NULL;
    ret = kind == STORE_PROJECT
	? pg_run(PG(st), "add project",
		 "INSERT INTO projects(id, number, title, created_at)"
		 " SELECT n.id, 'PRJ-' || n.id, $1, now()"
		 " FROM (SELECT nextval(pg_get_serial_sequence('projects', 'id')) AS id) n"
		 " RETURNING number", &res, why, "t", title)
	: pg_run(PG(st), "add task",
		 "INSERT INTO tasks(id, project_id, number, title, created_at)"
		 " SELECT n.id, p.id, 'TSK-' || n.id, $2, now() FROM projects p,"
		 " LATERAL (SELECT nextval(pg_get_serial_sequence('tasks', 'id')) AS id) n"
		 " WHERE p.number = $1 RETURNING number", &res, why, "tt", project, title);
    if (ret != STORE_OK)
	return ret;
    if (PQntuples(res) > 0)
	*number = pg_strdup(res, 0, 0);
    PQclear(res);
    if (*number == NULL) {			/* only a task's INSERT ... SELECT can make no row */
	*why = g_strdup_printf("no project %s", project);
	return STORE_ERROR;
    }
    return STORE_OK;
}

int     pg_find_record(struct store *st, enum store_record kind, const char *number,
		       gint64 *id, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *id = 0;
    ret = kind == STORE_PROJECT
	? pg_run(PG(st), "look up project", "SELECT id FROM projects WHERE number = $1", &res,
		 why, "t", number)
	: pg_run(PG(st), "look up task", "SELECT id FROM tasks WHERE number = $1", &res, why,
		 "t", number);
    if (ret != STORE_OK)
	return ret;
    if (PQntuples(res) > 0)
	*id = pg_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

/* added - whether the INSERT ... ON CONFLICT DO NOTHING of res made a row (clears res) */
static gboolean added_row(PGresult *res)
{
    gboolean added = atoi(PQcmdTuples(res)) > 0;

    PQclear(res);
    return added;
}

int     pg_add_note(struct store *st, const struct store_note *n, gboolean *added,
		    char **why)
{
    PGresult *res = NULL;
    int     ret;

    *added = FALSE;
    if ((ret = pg_run(PG(st), "add note",
		      "INSERT INTO notes(project_id, task_id, dedupe_key, author, subject, body,"
		      " message_id, created_at) VALUES(nullif($1::bigint, 0), nullif($2::bigint, 0),"
		      " $3, $4, $5, $6, $7, now()) ON CONFLICT(dedupe_key) DO NOTHING", &res, why,
		      "iittttt", n->project_id, n->task_id, n->dedupe_key, n->author, n->subject,
		      n->body, n->message_id)) != STORE_OK)
	return ret;
    *added = added_row(res);
    return STORE_OK;
}

int     pg_add_time_entry(struct store *st, const struct store_time_entry *e,
			  gboolean *added, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *added = FALSE;
    if ((ret = pg_run(PG(st), "add time entry",
		      "INSERT INTO time_entries(ticket_id, task_id, minutes, summary, author,"
		      " dedupe_key, message_id, created_at) VALUES(nullif($1::bigint, 0),"
		      " nullif($2::bigint, 0), $3, $4, $5, $6, $7, now())"
		      " ON CONFLICT(dedupe_key) DO NOTHING", &res, why, "iiitttt", e->ticket_id,
		      e->task_id, (gint64) e->minutes, e->summary, e->author, e->dedupe_key,
		      e->message_id)) != STORE_OK)
	return ret;
    *added = added_row(res);
    return STORE_OK;
}

/* The minutes of a task: one definition for the list and the show. */
#define TASK_MINUTES \
    "(SELECT coalesce(sum(minutes), 0) FROM time_entries e WHERE e.task_id = t.id)::bigint"

/* rows - the rows of one statement about record id ($1), handed to fn as kind */
static int rows(struct pg *pg, const char *what, const char *sql, const char *kind,
		store_row_fn fn, void *ctx, char **why, gint64 id)
{
    PGresult *res = NULL;
    int     ret = pg_run(pg, what, sql, &res, why, "i", id);

    if (ret == STORE_OK)
	pg_emit_rows(res, kind, fn, ctx);
    PQclear(res);
    return ret;
}

int     pg_list_records(struct store *st, enum store_record kind, const char *project,
			store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if (kind == STORE_PROJECT) {
	if ((ret = pg_run(PG(st), "list projects",
		    "SELECT p.number, p.title, p.status, " PG_ISO("p.created_at") " AS created_at,"
		    " (SELECT count(*) FROM tasks t WHERE t.project_id = p.id) AS tasks,"
		    " (SELECT count(*) FROM notes n WHERE n.project_id = p.id) AS notes"
		    " FROM projects p ORDER BY p.id", &res, why, NULL)) != STORE_OK)
	    return ret;
	pg_emit_rows(res, "project", fn, ctx);
	PQclear(res);
	return STORE_OK;
    }
    if ((ret = pg_run(PG(st), "list tasks",
		"SELECT t.number, p.number AS project, t.title, t.status,"
		" " PG_ISO("t.created_at") " AS created_at, " TASK_MINUTES " AS minutes"
		" FROM tasks t JOIN projects p ON p.id = t.project_id"
		" WHERE $1::text IS NULL OR p.number = $1 ORDER BY t.id", &res, why, "t",
		project)) != STORE_OK)
	return ret;
    pg_emit_rows(res, "task", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

#define NOTE_COLUMNS \
    "id, author, subject, body, message_id, " PG_ISO("created_at") " AS created_at"
#define TIME_COLUMNS \
    "id, minutes, summary, author, message_id, " PG_ISO("created_at") " AS created_at"

/* show_record - the body of pg_show_record(), in one snapshot */
static int show_record(struct pg *pg, enum store_record kind, const char *number,
		       store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    gint64  id;
    int     ret;

    ret = kind == STORE_PROJECT
	? pg_run(pg, "show project", "SELECT id, number, title, status,"
		 " " PG_ISO("created_at") " AS created_at FROM projects WHERE number = $1",
		 &res, why, "t", number)
	: pg_run(pg, "show task", "SELECT t.id, t.number, p.number AS project, t.title,"
		 " t.status, " PG_ISO("t.created_at") " AS created_at, " TASK_MINUTES
		 " AS minutes FROM tasks t JOIN projects p ON p.id = t.project_id"
		 " WHERE t.number = $1", &res, why, "t", number);
    if (ret != STORE_OK)
	return ret;
    if (PQntuples(res) == 0) {
	PQclear(res);
	*why = g_strdup_printf("no %s %s", kind_name(kind), number);
	return STORE_ERROR;
    }
    id = pg_int(res, 0, 0);
    pg_emit_rows(res, kind_name(kind), fn, ctx);
    PQclear(res);
    if (kind == STORE_PROJECT) {
	if ((ret = rows(pg, "show project tasks", "SELECT number, title, status,"
			" " PG_ISO("created_at") " AS created_at FROM tasks WHERE project_id = $1"
			" ORDER BY id", "task", fn, ctx, why, id)) != STORE_OK)
	    return ret;
	return rows(pg, "show notes", "SELECT " NOTE_COLUMNS " FROM notes WHERE project_id = $1"
		    " ORDER BY id", "note", fn, ctx, why, id);
    }
    if ((ret = rows(pg, "show notes", "SELECT " NOTE_COLUMNS " FROM notes WHERE task_id = $1"
		    " ORDER BY id", "note", fn, ctx, why, id)) != STORE_OK)
	return ret;
    return rows(pg, "show time entries", "SELECT " TIME_COLUMNS " FROM time_entries"
		" WHERE task_id = $1 ORDER BY id", "time_entry", fn, ctx, why, id);
}

int     pg_show_record(struct store *st, enum store_record kind, const char *number,
		       store_row_fn fn, void *ctx, char **why)
{
    struct pg *pg = PG(st);
    int     ret;

    if (pg->in_txn)
	return show_record(pg, kind, number, fn, ctx, why);
    if ((ret = pg_run(pg, "begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
		      why, NULL)) != STORE_OK)
	return ret;
    pg->in_txn = TRUE;
    ret = show_record(pg, kind, number, fn, ctx, why);
    pg->in_txn = FALSE;
    if (ret != STORE_OK) {
	if (PQstatus(pg->conn) == CONNECTION_OK)
	    PQclear(PQexec(pg->conn, "ROLLBACK"));
	return ret;
    }
    return pg_run(pg, "end read", "COMMIT", NULL, why, NULL);
}
