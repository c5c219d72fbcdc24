/*
 * NAME
 *	store_sqlite_blob - originals compressed, attachments read back
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	GBytes	*sq_compress(sq, data, len)
 *	GBytes	*sq_decompress(sq, data, len, what, &why)
 *	void	sq_free_codecs(sq)
 *	int	sq_register_functions(sq, &why)
 *	GBytes	*sq_column_unzstd(sq, stmt, col, what, id, &why)
 *	int	sq_load_attachment(st, number, id, &out, &why)
 * DESCRIPTION
 *	The original of every message (messages.raw; a kept-apart
 *	auto-generated mail's too, autogen.raw) and its text
 *	(messages.body, which the full-text index, contentless, does not
 *	hold) are each one zstd frame:
 *	mail is text, and even base64 attachments lose their quarter of
 *	encoding overhead, so the original, which holds every attachment,
 *	is the only copy of them (an attachment row names its MIME part,
 *	decoded when read: ctl_attachment()). Content stored apart, the
 *	decoded attachments of databases older than schema 4, moved into
 *	blobs (one row per SHA-256, zstd too) by the migration.
 *
 *	sq_compress() compresses at level 3 (zstd's default: about 300 MB/s
 *	on one core here, a small part of a ticket's cost). sq_decompress()
 *	takes one frame whose header states its size and refuses one that
 *	claims more than SQ_MAX_DECOMPRESSED: a damaged or foreign row
 *	must not make a reader allocate without bound. Both keep their zstd
 *	context in the connection (sq_free_codecs() frees them).
 *
 *	sq_register_functions() gives the connection intake_zstd(blob),
 *	intake_unzstd(blob) (the text of a frame; an error for anything
 *	else) and intake_sha256(blob) (lower-case hex): schema step 4 moves
 *	old rows over with them, the statements read bodies with
 *	intake_unzstd(). intake_unzstd(blob, max) and intake_cut(text, max)
 *	give what of the text the full-text index takes (store_index_len(),
 *	max STORE_INDEX_TEXT_MAX or STORE_INDEX_SUBJECT_MAX). NULL gives NULL.
 *
 *	sq_load_attachment() reads one attachment of a ticket by its id (as
 *	intakectl ticket lists it): out->found is FALSE if the ticket has no
 *	such attachment.
 * DIAGNOSTICS
 *	As store_sqlite.c; a row that does not decompress is STORE_ERROR
 *	naming the database, the row and zstd's reason.
 */
#include <string.h>
#include <zstd.h>

#include "sqlite_int.h"

#define ZSTD_LEVEL	3

GBytes *sq_compress(struct sq *sq, const void *data, size_t len)
{
    size_t  bound = ZSTD_compressBound(len);
    void   *out;
    size_t  n;

    /*
     * One context per connection (one thread uses it): ZSTD_compress()
     * would allocate and clear some hundreds of KB of tables per call,
     * which cost more than compressing a mail.
     */
    if (sq->zc == NULL && (sq->zc = ZSTD_createCCtx()) == NULL)
	g_error("zstd: out of memory");
    out = g_malloc(bound);
    n = ZSTD_compressCCtx(sq->zc, out, bound, data, len, ZSTD_LEVEL);
    /* Only out of memory makes zstd fail with a bound-sized buffer. */
    if (ZSTD_isError(n))
	g_error("zstd: %s", ZSTD_getErrorName(n));
    return g_bytes_new_take(g_realloc(out, n ? n : 1), n);
}

GBytes *sq_decompress(struct sq *sq, const void *data, size_t len, const char *what,
		              char **why)
{
    unsigned long long size = ZSTD_getFrameContentSize(data, len);
    void   *out;
    size_t  n;

    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
	*why = g_strdup_printf("%s is not a zstd frame of known size (damaged?)", what);
	return NULL;
    }
    if (size > SQ_MAX_DECOMPRESSED) {
	*why = g_strdup_printf("%s claims %llu bytes decompressed, more than %llu", what,
			       size, (unsigned long long) SQ_MAX_DECOMPRESSED);
	return NULL;
    }
    if (sq->zd == NULL && (sq->zd = ZSTD_createDCtx()) == NULL)
	g_error("zstd: out of memory");
    out = g_malloc(size ? size : 1);
    n = ZSTD_decompressDCtx(sq->zd, out, size, data, len);
    if (ZSTD_isError(n) || n != size) {
	*why = g_strdup_printf("%s does not decompress: %s", what,
			       ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
	g_free(out);
	return NULL;
    }
    return g_bytes_new_take(out, n);
}

void    sq_free_codecs(struct sq *sq)
{
    ZSTD_freeCCtx(sq->zc);			/* NULL is fine */
    ZSTD_freeDCtx(sq->zd);
    sq->zc = NULL;
    sq->zd = NULL;
}

/* ---------------------------------------------------------------- */
/*	SQL functions for the migration					    */
/* ---------------------------------------------------------------- */

static void fn_zstd(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    GBytes *z;
    gsize   len;
    const void *p;

    (void) argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
	sqlite3_result_null(ctx);
	return;
    }
    p = sqlite3_value_blob(argv[0]);
    z = sq_compress(sqlite3_user_data(ctx), p, (size_t) sqlite3_value_bytes(argv[0]));
    p = g_bytes_get_data(z, &len);
    sqlite3_result_blob64(ctx, p, len, SQLITE_TRANSIENT);
    g_bytes_unref(z);
}

/* index_max - the max argument of intake_unzstd() and intake_cut(): none is G_MAXSIZE */
static size_t index_max(int argc, sqlite3_value **argv)
{
    sqlite3_int64 max = argc > 1 ? sqlite3_value_int64(argv[1]) : -1;

    return max < 0 ? G_MAXSIZE : (size_t) max;
}

/*
 * intake_unzstd(blob [, max]): the text a frame of intake_zstd() holds (a
 * message's body); with max, what of it the full-text index takes
 * (store_index_len()).
 */
static void fn_unzstd(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    g_autofree char *why = NULL;
    GBytes *text;
    gsize   len;
    const void *p;

    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
	sqlite3_result_null(ctx);
	return;
    }
    p = sqlite3_value_blob(argv[0]);
    if ((text = sq_decompress(sqlite3_user_data(ctx), p ? p : "",
			      (size_t) sqlite3_value_bytes(argv[0]),
			      "intake_unzstd: the value", &why)) == NULL) {
	sqlite3_result_error(ctx, why, -1);
	return;
    }
    p = g_bytes_get_data(text, &len);
    len = store_index_len(p, len, index_max(argc, argv));
    sqlite3_result_text64(ctx, len ? p : "", len, SQLITE_TRANSIENT, SQLITE_UTF8);
    g_bytes_unref(text);
}

/* intake_cut(text, max): what of text the full-text index takes (store_index_len()) */
static void fn_cut(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *p;

    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
	sqlite3_result_null(ctx);
	return;
    }
    p = sqlite3_value_text(argv[0]);
    sqlite3_result_text64(ctx, p ? (const char *) p : "",
			  store_index_len((const char *) p, (size_t) sqlite3_value_bytes(argv[0]),
					  index_max(argc, argv)),
			  SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void fn_sha256(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    g_autofree char *hex = NULL;
    const void *p;

    (void) argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
	sqlite3_result_null(ctx);
	return;
    }
    p = sqlite3_value_blob(argv[0]);
    hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, p ? p : (const void *) "",
				      (gsize) sqlite3_value_bytes(argv[0]));
    sqlite3_result_text(ctx, hex, -1, SQLITE_TRANSIENT);
}

int     sq_register_functions(struct sq *sq, char **why)
{
    int     flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
    int     rc;

    if ((rc = sqlite3_create_function(sq->db, "intake_zstd", 1, flags, sq, fn_zstd, NULL,
				      NULL)) != SQLITE_OK
	|| (rc = sqlite3_create_function(sq->db, "intake_unzstd", 1, flags, sq, fn_unzstd,
					 NULL, NULL)) != SQLITE_OK
	|| (rc = sqlite3_create_function(sq->db, "intake_unzstd", 2, flags, sq, fn_unzstd,
					 NULL, NULL)) != SQLITE_OK
	|| (rc = sqlite3_create_function(sq->db, "intake_cut", 2, flags, NULL, fn_cut,
					 NULL, NULL)) != SQLITE_OK
	|| (rc = sqlite3_create_function(sq->db, "intake_sha256", 1, flags, NULL, fn_sha256,
					 NULL, NULL)) != SQLITE_OK)
	return sq_fail(sq, rc, "register SQL functions", why);
    return STORE_OK;
}

/* ---------------------------------------------------------------- */
/*	Reading an attachment back					    */
/* ---------------------------------------------------------------- */

/*
 * sq_column_unzstd - blob column col of s, decompressed; NULL for SQL NULL
 * (*why untouched) or on error (*why says which row: what, id).
 */
GBytes *sq_column_unzstd(struct sq *sq, sqlite3_stmt *s, int col, const char *what,
			 gint64 id, char **why)
{
    g_autofree char *label = NULL;
    const void *p;

    if (sqlite3_column_type(s, col) == SQLITE_NULL)
	return NULL;
    p = sqlite3_column_blob(s, col);
    label = g_strdup_printf("%s: %s %" G_GINT64_FORMAT, sq->path, what, id);
    return sq_decompress(sq, p ? p : "", (size_t) sqlite3_column_bytes(s, col), label, why);
}

int     sq_load_attachment(struct store *st, const char *number, gint64 id,
			           struct store_attachment_row *out, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_LOAD_ATTACHMENT];
    gboolean row = FALSE;
    int     ret;

    memset(out, 0, sizeof(*out));
    if ((ret = sq_bind(sq, S_LOAD_ATTACHMENT, why, "ti", number, id)) != STORE_OK
	|| (ret = sq_step(sq, S_LOAD_ATTACHMENT, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	out->found = TRUE;
	out->id = sqlite3_column_int64(s, 0);
	out->filename = col_strdup(s, 1);
	out->content_type = col_strdup(s, 2);
	out->size = sqlite3_column_int64(s, 3);
	out->stored = sqlite3_column_int64(s, 4) != 0;
	out->part = sqlite3_column_int64(s, 5);
	out->sha256 = col_strdup(s, 6);
	out->mime_limits = col_strdup(s, 9);
	/* Content stored apart wins; else the original, if the part is in it. */
	if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
	    if ((out->content = sq_column_unzstd(sq, s, 7, "content of attachment", id,
						 why)) == NULL)
		ret = STORE_ERROR;
	} else if (out->stored
		   && (out->raw = sq_column_unzstd(sq, s, 8, "original of attachment", id,
						   why)) == NULL
		   && sqlite3_column_type(s, 8) != SQLITE_NULL) {
	    ret = STORE_ERROR;
	}
    }
    sq_reset(sq, S_LOAD_ATTACHMENT);
    if (ret != STORE_OK)
	store_attachment_row_clear(out);
    return ret;
}
