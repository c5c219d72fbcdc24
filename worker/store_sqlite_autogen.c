/*
 * NAME
 *	store_sqlite_autogen - auto-generated mail kept apart in the SQLite
 *	ticket store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 * DESCRIPTION
 *	The store_ops of the autogen table: keep_autogen (once per dedupe
 *	key), load_autogen, autogen_imported, prune_autogen (oldest first,
 *	at most limit rows), list_autogen and show_autogen.
 * DIAGNOSTICS
 *	As store_sqlite.c.
 */
#include <string.h>
#include <time.h>

#include "sqlite_int.h"

/* ---------------------------------------------------------------- */
/*	Auto-generated mail kept apart					    */
/* ---------------------------------------------------------------- */

int     sq_keep_autogen(struct store *st, const struct store_autogen *a,
			gboolean *added, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    g_autoptr(GBytes) raw = NULL;
    int     ret;

    *added = FALSE;
    iso_time(time(NULL), now, NULL);
    /* Compressed as a message's original is (store_sqlite_blob.c), or as it came. */
    if (a->raw_zstd) {
	raw = g_bytes_ref(a->raw_zstd);
    } else if (a->raw) {
	gsize   len;
	gconstpointer p = g_bytes_get_data(a->raw, &len);

	raw = sq_compress(sq, p, len);
    }
    if ((ret = sq_bind(sq, S_AUTOGEN_INSERT, why, "tttttttttbt", a->dedupe_key, a->mailbox,
		       a->kind, a->reason, a->queue_id, a->sender, a->subject, a->date,
		       a->envelope, raw, now)) != STORE_OK
	|| (ret = sq_run(sq, S_AUTOGEN_INSERT, why)) != STORE_OK)
	return ret;
    *added = sqlite3_changes(sq->db) > 0;
    return STORE_OK;
}

int     sq_list_autogen(struct store *st, const char *kind, const char *mailbox,
			int limit, store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_AUTOGEN_LIST, why, "tti", kind, mailbox,
		       (gint64) (limit > 0 ? limit : -1))) != STORE_OK)
	return ret;
    return sq_emit_rows(sq, S_AUTOGEN_LIST, "autogen", fn, ctx, why);
}

/* sq_show_autogen - the row; an error when there is none */
int     sq_show_autogen(struct store *st, gint64 id, store_row_fn fn, void *ctx, char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    if ((ret = sq_bind(sq, S_AUTOGEN_SHOW, why, "i", id)) != STORE_OK
	|| (ret = sq_step(sq, S_AUTOGEN_SHOW, &row, why)) != STORE_OK)
	return ret;
    if (row)
	sq_emit_row(sq, S_AUTOGEN_SHOW, "autogen", fn, ctx);
    sq_reset(sq, S_AUTOGEN_SHOW);
    if (!row) {
	*why = g_strdup_printf("no kept auto-generated mail with id %" G_GINT64_FORMAT, id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

int     sq_load_autogen(struct store *st, gint64 id, struct store_autogen_row *out,
			char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_AUTOGEN_LOAD];
    gboolean row = FALSE;
    int     ret;

    memset(out, 0, sizeof(*out));
    if ((ret = sq_bind(sq, S_AUTOGEN_LOAD, why, "i", id)) != STORE_OK
	|| (ret = sq_step(sq, S_AUTOGEN_LOAD, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	out->id = sqlite3_column_int64(s, 0);
	out->mailbox = col_strdup(s, 1);
	out->envelope = col_strdup(s, 2);
	if ((out->raw = sq_column_unzstd(sq, s, 3, "original of kept mail", out->id,
					 why)) == NULL && sqlite3_column_type(s, 3) != SQLITE_NULL)
	    ret = STORE_ERROR;
	out->imported_ticket = sqlite3_column_int64(s, 4);
	out->imported_number = col_strdup(s, 5);
    }
    sq_reset(sq, S_AUTOGEN_LOAD);
    if (ret != STORE_OK)
	store_autogen_row_clear(out);
    return ret;
}

int     sq_autogen_imported(struct store *st, gint64 id, gint64 ticket_id, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_AUTOGEN_IMPORTED, why, "ii", id, ticket_id)) != STORE_OK
	|| (ret = sq_run(sq, S_AUTOGEN_IMPORTED, why)) != STORE_OK)
	return ret;
    if (sqlite3_changes(sq->db) == 0) {
	*why = g_strdup_printf("%s: kept mail %" G_GINT64_FORMAT " is gone or imported already",
			       sq->path, id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

int     sq_prune_autogen(struct store *st, gint64 before_unix, int limit, int *deleted,
			 char **why)
{
    struct sq *sq = SQ(st);
    char    before[ISO_TIME_SIZE];
    int     ret;

    *deleted = 0;
    iso_time(before_unix, before, NULL);
    if ((ret = sq_bind(sq, S_AUTOGEN_PRUNE, why, "ti", before, (gint64) limit)) != STORE_OK
	|| (ret = sq_run(sq, S_AUTOGEN_PRUNE, why)) != STORE_OK)
	return ret;
    *deleted = sqlite3_changes(sq->db);
    return STORE_OK;
}
