/*
 * NAME
 *	store_pg_autogen - reports and import of the auto-generated mail
 *	kept apart, in the PostgreSQL store
 * SYNOPSIS
 *	#include "pg_int.h"
 *
 *	int	pg_list_autogen(st, kind, mailbox, limit, fn, ctx, &why)
 *	int	pg_show_autogen(st, id, fn, ctx, &why)
 *	int	pg_load_autogen(st, id, &row, &why)
 *	int	pg_autogen_imported(st, id, ticket_id, &why)
 * DESCRIPTION
 *	The store_ops of intakectl autogen list, show and import, as
 *	store_sqlite_autogen.c (keeping and pruning are store_pg_outbox.c's).
 *	pg_load_autogen() unpacks the original (a zstd frame, as kept by
 *	pg_keep_autogen()). pg_autogen_imported() marks a kept mail imported
 *	only if nobody did before: two imports of one mail at once make one
 *	mark, the other fails.
 * DIAGNOSTICS
 *	As store_pg_util.c; "no kept auto-generated mail with id N",
 *	"kept mail N is gone or imported already" (STORE_ERROR).
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

int     pg_list_autogen(struct store *st, const char *kind, const char *mailbox,
			int limit, store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(PG(st), "list auto-generated mail",
		      "SELECT a.id, a.mailbox, a.kind, a.reason, a.sender, a.subject, a.date,"
		      " " PG_ISO("a.created_at") " AS received_at, t.number AS imported_as"
		      " FROM autogen a LEFT JOIN tickets t ON t.id = a.imported_ticket"
		      " WHERE ($1::text IS NULL OR a.kind = $1)"
		      " AND ($2::text IS NULL OR a.mailbox = $2) ORDER BY a.id DESC LIMIT $3",
		      &res, why, "tti", kind, mailbox,
		      (gint64) (limit > 0 ? limit : G_MAXINT64))) != STORE_OK)
	return ret;
    pg_emit_rows(res, "autogen", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

int     pg_show_autogen(struct store *st, gint64 id, store_row_fn fn, void *ctx, char **why)
{
    PGresult *res = NULL;
    int     ret;

    if ((ret = pg_run(PG(st), "show auto-generated mail",
		      "SELECT a.id, a.mailbox, a.kind, a.reason, a.queue_id, a.sender, a.subject,"
		      " a.date, " PG_ISO("a.created_at") " AS received_at, t.number AS imported_as,"
		      " a.envelope FROM autogen a LEFT JOIN tickets t ON t.id = a.imported_ticket"
		      " WHERE a.id = $1", &res, why, "i", id)) != STORE_OK)
	return ret;
    if (PQntuples(res) == 0) {
	PQclear(res);
	*why = g_strdup_printf("no kept auto-generated mail with id %" G_GINT64_FORMAT, id);
	return STORE_ERROR;
    }
    pg_emit_rows(res, "autogen", fn, ctx);
    PQclear(res);
    return STORE_OK;
}

int     pg_load_autogen(struct store *st, gint64 id, struct store_autogen_row *out,
			char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret;

    memset(out, 0, sizeof(*out));
    if ((ret = pg_run(pg, "read auto-generated mail",
		      "SELECT a.id, a.mailbox, a.envelope, a.raw, a.imported_ticket, t.number"
		      " FROM autogen a LEFT JOIN tickets t ON t.id = a.imported_ticket"
		      " WHERE a.id = $1", &res, why, "i", id)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0) {
	out->id = pg_int(res, 0, 0);
	out->mailbox = pg_strdup(res, 0, 1);
	out->envelope = pg_strdup(res, 0, 2);
	out->imported_ticket = pg_int(res, 0, 4);
	out->imported_number = pg_strdup(res, 0, 5);
	if (!PQgetisnull(res, 0, 3)
	    && (out->raw = pg_original(res, 0, 3, pg->display, "kept mail", id, why)) == NULL)
	    ret = STORE_ERROR;
    }
    PQclear(res);
    if (ret != STORE_OK)
	store_autogen_row_clear(out);
    return ret;
}

int     pg_autogen_imported(struct store *st, gint64 id, gint64 ticket_id, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    gboolean changed;
    int     ret;

    if ((ret = pg_run(pg, "mark auto-generated mail imported",
		      "UPDATE autogen SET imported_ticket = $2"
		      " WHERE id = $1 AND imported_ticket IS NULL", &res, why, "ii", id,
		      ticket_id)) != STORE_OK)
	return ret;
    changed = atoi(PQcmdTuples(res)) > 0;
    PQclear(res);
    if (!changed) {
	*why = g_strdup_printf("%s: kept mail %" G_GINT64_FORMAT " is gone or imported already",
			       pg->display, id);
	return STORE_ERROR;
    }
    return STORE_OK;
}
