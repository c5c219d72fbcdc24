/*
 * NAME
 *	store_sqlite_fts - incoming messages' text kept for the full-text
 *	index until the transaction commits
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	void	sq_fts_keep(sq, message_id, subject, body)
 *	int	sq_fts_mark(sq, &why)
 *	void	sq_fts_undo(sq)
 *	void	sq_fts_forget(sq)
 *	int	sq_fts_flush(sq, &why)
 * DESCRIPTION
 *	messages_fts is contentless (its terms only). An incoming message is
 *	indexed at commit, not as it is added: FTS5 flushes its pending
 *	terms at every SAVEPOINT, and the pipeline takes one per job, so
 *	indexing message by message wrote one index segment per message (a
 *	sixth of the worker's time, and ever more segments to merge). Until
 *	then what the index takes of the message waits here, as the writer
 *	had it: reading it back from the stored row at commit decompressed
 *	every body a second time, on the writer's path.
 *
 *	sq_fts_keep() keeps a copy of what the index takes of a message
 *	whose row is in (store.h: STORE_INDEX_SUBJECT_MAX and
 *	STORE_INDEX_TEXT_MAX, cut by store_index_len()). sq_fts_mark() is
 *	called as a job's savepoint is taken, sq_fts_undo() when the job is
 *	rolled back to it: what was kept since goes with the job's rows.
 *	sq_fts_forget() drops everything kept (the transaction is rolled
 *	back, or the connection closed). sq_fts_flush() adds everything kept
 *	to messages_fts, in the open transaction, and forgets it: sq_commit()
 *	calls it, and sq_fts_mark() does when more than FTS_KEEP_MAX bytes
 *	are kept, so that a batch of large texts writes a few more segments
 *	rather than holding all its texts twice (the index rows it writes
 *	then are undone with the transaction, as the messages' rows).
 * DIAGNOSTICS
 *	sq_fts_mark() and sq_fts_flush() return STORE_OK, or STORE_BUSY or
 *	STORE_ERROR with *why (g_free).
 */
#include <string.h>

#include "sqlite_int.h"

/* Bytes of text kept before they go into the index ahead of the commit. */
#define FTS_KEEP_MAX	(4 * 1024 * 1024)

struct fts_row {
    gint64  id;				/* messages.id, messages_fts.rowid */
    char   *subject;			/* what the index takes of each */
    char   *body;
};

static void fts_row_clear(gpointer data)
{
    struct fts_row *r = data;

    g_free(r->subject);
    g_free(r->body);
}

/* cut - a copy of what the index takes of text (NULL: NULL) */
static char *cut(const char *text, size_t max, gsize *bytes)
{
    size_t  len;

    if (text == NULL)
	return NULL;
    len = store_index_len(text, strlen(text), max);
    *bytes += len;
    return g_strndup(text, len);
}

void    sq_fts_keep(struct sq *sq, gint64 message_id, const char *subject, const char *body)
{
    struct fts_row r = {.id = message_id};

    if (sq->fts_rows == NULL) {
	sq->fts_rows = g_array_new(FALSE, FALSE, sizeof(struct fts_row));
	g_array_set_clear_func(sq->fts_rows, fts_row_clear);
    }
    r.subject = cut(subject, STORE_INDEX_SUBJECT_MAX, &sq->fts_bytes);
    r.body = cut(body, STORE_INDEX_TEXT_MAX, &sq->fts_bytes);
    g_array_append_val(sq->fts_rows, r);
}

int     sq_fts_flush(struct sq *sq, char **why)
{
    int     ret;

    for (guint i = 0; sq->fts_rows && i < sq->fts_rows->len; i++) {
	struct fts_row *r = &g_array_index(sq->fts_rows, struct fts_row, i);

	if ((ret = sq_bind(sq, S_FTS_INSERT, why, "itt", r->id, r->subject, r->body)) != STORE_OK
	    || (ret = sq_run(sq, S_FTS_INSERT, why)) != STORE_OK)
	    return ret;
    }
    sq_fts_forget(sq);
    return STORE_OK;
}

int     sq_fts_mark(struct sq *sq, char **why)
{
    int     ret;

    if (sq->fts_bytes > FTS_KEEP_MAX && (ret = sq_fts_flush(sq, why)) != STORE_OK)
	return ret;
    sq->fts_mark = sq->fts_rows ? sq->fts_rows->len : 0;
    return STORE_OK;
}

void    sq_fts_undo(struct sq *sq)
{
    if (sq->fts_rows == NULL || sq->fts_rows->len <= sq->fts_mark)
	return;
    for (guint i = sq->fts_mark; i < sq->fts_rows->len; i++) {
	struct fts_row *r = &g_array_index(sq->fts_rows, struct fts_row, i);

	sq->fts_bytes -= (r->subject ? strlen(r->subject) : 0) + (r->body ? strlen(r->body) : 0);
    }
    g_array_set_size(sq->fts_rows, sq->fts_mark);
}

void    sq_fts_forget(struct sq *sq)
{
    if (sq->fts_rows)
	g_array_set_size(sq->fts_rows, 0);
    sq->fts_mark = 0;
    sq->fts_bytes = 0;
}
