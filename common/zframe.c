/*
 * NAME
 *	zframe - the zstd frames of a stream entry
 * SYNOPSIS
 *	#include "zframe.h"
 *
 *	char   *zframe_pack(src, len, &out_len)
 *	int	zframe_pack_file(fd, len, at, &out_len, &why)
 *	char   *zframe_unpack(src, len, cap, &out_len, &why)
 *	int	zframe_check(src, len, cap, &out_len, &why)
 * DESCRIPTION
 *	With [milter] stream_compression = zstd the "raw" and "text" fields
 *	of a stream entry are each one zstd frame (docs/envelope.md): mail
 *	is text, and the corpus's entries take 0.60x the Redis memory they
 *	take uncompressed (4.9 KB against 8.1 KB; make bench).
 *	Every frame states its content size and carries a checksum.
 *
 *	zframe_pack() compresses len bytes at src into one frame (g_free,
 *	*out_len bytes), at level ZFRAME_LEVEL: level 1 takes 24 us for a
 *	5 KB mail here, level 3 30 us, for 1% less. Contexts are kept on a
 *	shelf for the next message, whichever thread sends it: making one
 *	clears some hundreds of KB of tables, which costs more than a mail.
 *	The shelf holds as many as were ever in use at once; it is a static
 *	list, not thread-local storage, because libmilter's threads can be
 *	alive when the process exits and LeakSanitizer then reports their
 *	thread-local contexts as leaked.
 *
 *	zframe_pack_file() compresses the first len bytes of file fd (read
 *	with pread()) and writes the frame with pwrite() at offset at (at
 *	least len), *out_len bytes: a spooled mail's original is compressed
 *	from its spool file into the same file, 64 KB at a time, so that
 *	memory holds neither it nor its frame (a context of its own, 1.4 MB
 *	with its window at level 1 for a large input, freed at once: a
 *	smaller window saves little, the tables take most).
 *
 *	zframe_unpack() reads one frame (exactly len bytes: nothing before or
 *	after it) into a new buffer (g_free, *out_len bytes plus a NUL). It
 *	refuses, before allocating, a frame that does not state its size or
 *	states more than cap, and then any frame whose content is not that
 *	size or fails its checksum: a corrupt or hostile entry makes the
 *	reader allocate at most cap bytes.
 *
 *	zframe_check() makes the same checks as zframe_unpack(), including
 *	the content's size and checksum, without keeping the content: it
 *	decompresses PIECE bytes at a time into a buffer it reuses, and
 *	gives the content's size in *out_len. The worker checks an original
 *	that it stores as the frame it came in this way: a batch no longer
 *	holds every original decompressed, up to [milter] raw_max_size
 *	each. Its context's buffer is the smaller of the frame's window and
 *	its content (zstd's choice), so at most cap bytes, whatever window a
 *	hostile frame asks for; a context that grew past KEEP_DCTX for a
 *	large original is freed, not shelved.
 * DIAGNOSTICS
 *	zframe_pack() cannot fail (out of memory ends the process, as in
 *	GLib). The others return NULL or -1 with *why (g_free).
 */
#include <errno.h>
#include <unistd.h>
#include <zstd.h>

#include "zframe.h"

#define PIECE	(64 * 1024)
#define KEEP_DCTX (1024 * 1024)	/* zframe_check(): a context larger is not shelved */

/* One shelf of spare contexts per kind, each taken for one call. */
static GMutex shelf_lock;
static GSList *spare_cctx;
static GSList *spare_dctx;
static GSList *spare_check_dctx;	/* zframe_check()'s, set to stream */

/* take - a spare context from *shelf, or NULL */
static void *take(GSList **shelf)
{
    void   *ctx = NULL;

    g_mutex_lock(&shelf_lock);
    if (*shelf) {
	ctx = (*shelf)->data;
	*shelf = g_slist_delete_link(*shelf, *shelf);
    }
    g_mutex_unlock(&shelf_lock);
    return ctx;
}

/* put_back - return ctx to *shelf for the next call */
static void put_back(GSList **shelf, void *ctx)
{
    g_mutex_lock(&shelf_lock);
    *shelf = g_slist_prepend(*shelf, ctx);
    g_mutex_unlock(&shelf_lock);
}

/* params - a context set for one frame: level, size stated, checksum */
static ZSTD_CCtx *params(ZSTD_CCtx *c)
{
    if (c == NULL)
	g_error("zstd: out of memory");
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, ZFRAME_LEVEL);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    return c;
}

char   *zframe_pack(const void *src, gsize len, gsize *out_len)
{
    ZSTD_CCtx *c = take(&spare_cctx);
    size_t  bound = ZSTD_compressBound(len);
    char   *out;
    size_t  n;

    if (c == NULL)
	c = ZSTD_createCCtx();
    params(c);
    out = g_malloc(bound);
    n = ZSTD_compress2(c, out, bound, src, len);
    /* Only out of memory makes zstd fail with a bound-sized buffer. */
    if (ZSTD_isError(n))
	g_error("zstd: %s", ZSTD_getErrorName(n));
    put_back(&spare_cctx, c);
    *out_len = n;
    return g_realloc(out, n);
}

/* write_all - len bytes of buf to fd at offset off; -1 and errno */
static int write_all(int fd, const char *buf, size_t len, off_t off)
{
    while (len > 0) {
	ssize_t n = pwrite(fd, buf, len, off);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0)
	    return -1;
	buf += n;
	len -= (size_t) n;
	off += n;
    }
    return 0;
}

int     zframe_pack_file(int fd, gsize len, gsize at, gsize *out_len, char **why)
{
    ZSTD_CCtx *c = params(ZSTD_createCCtx());
    size_t  out_size = ZSTD_CStreamOutSize();
    g_autofree char *in = g_malloc(MIN(MAX(len, 1), PIECE));
    g_autofree char *out = g_malloc(out_size);
    gsize   off = 0;
    off_t   wrote = (off_t) at;
    int     rc = 0;

    ZSTD_CCtx_setPledgedSrcSize(c, len);
    do {
	ssize_t n = 0;
	ZSTD_inBuffer ib;
	size_t  left;

	if (len > off && (n = pread(fd, in, MIN(len - off, PIECE), (off_t) off)) <= 0) {
	    if (n < 0 && errno == EINTR)
		continue;
	    *why = g_strdup_printf("cannot read the message to compress: %s",
				   n < 0 ? g_strerror(errno) : "file shorter than expected");
	    rc = -1;
	    break;
	}
	off += (gsize) n;
	ib = (ZSTD_inBuffer) {in, (size_t) n, 0};
	do {
	    ZSTD_outBuffer ob = {out, out_size, 0};

	    left = ZSTD_compressStream2(c, &ob, &ib, off == len ? ZSTD_e_end : ZSTD_e_continue);
	    if (ZSTD_isError(left))
		g_error("zstd: %s", ZSTD_getErrorName(left));
	    if (write_all(fd, out, ob.pos, wrote) < 0) {
		*why = g_strdup_printf("cannot write the compressed message: %s",
				       g_strerror(errno));
		rc = -1;
		break;
	    }
	    wrote += (off_t) ob.pos;
	} while (ib.pos < ib.size || (off == len && left > 0));
    } while (rc == 0 && off < len);
    ZSTD_freeCCtx(c);
    *out_len = (gsize) wrote - at;
    return rc;
}

/* frame_ok - one frame of exactly len bytes that states its size, at most cap; or *why */
static gboolean frame_ok(const void *src, gsize len, gsize cap, unsigned long long *out_size,
			 char **why)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, len);
    size_t  frame = ZSTD_findFrameCompressedSize(src, len);

    if (size == ZSTD_CONTENTSIZE_ERROR) {
	*why = g_strdup("not a zstd frame");
	return FALSE;
    }
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
	*why = g_strdup("the zstd frame does not state its size");
	return FALSE;
    }
    if (size > cap) {
	*why = g_strdup_printf("the zstd frame holds %llu bytes, more than the limit of %zu",
			       size, (size_t) cap);
	return FALSE;
    }
    if (ZSTD_isError(frame) || frame != len) {
	*why = g_strdup_printf("the zstd frame is %s", ZSTD_isError(frame) ? "truncated"
			       : "followed by other bytes");
	return FALSE;
    }
    *out_size = size;
    return TRUE;
}

char   *zframe_unpack(const void *src, gsize len, gsize cap, gsize *out_len, char **why)
{
    unsigned long long size;
    ZSTD_DCtx *d;
    char   *out;
    size_t  n;

    if (!frame_ok(src, len, cap, &size, why))
	return NULL;
    if ((d = take(&spare_dctx)) == NULL && (d = ZSTD_createDCtx()) == NULL)
	g_error("zstd: out of memory");
    out = g_malloc((gsize) size + 1);
    n = ZSTD_decompressDCtx(d, out, (size_t) size, src, len);
    put_back(&spare_dctx, d);
    if (ZSTD_isError(n) || n != size) {
	*why = g_strdup_printf("the zstd frame is corrupt: %s",
			       ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short content");
	g_free(out);
	return NULL;
    }
    out[n] = 0;
    *out_len = n;
    return out;
}

int     zframe_check(const void *src, gsize len, gsize cap, gsize *out_len, char **why)
{
    unsigned long long size;
    ZSTD_inBuffer in = {src, len, 0};
    g_autofree char *piece = NULL;
    ZSTD_DCtx *d;
    gsize   total = 0;
    size_t  left = 1;

    if (!frame_ok(src, len, cap, &size, why))
	return -1;
    if ((d = take(&spare_check_dctx)) == NULL && (d = ZSTD_createDCtx()) == NULL)
	g_error("zstd: out of memory");
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    piece = g_malloc(PIECE);
    while (left != 0 && !ZSTD_isError(left) && total <= size) {
	ZSTD_outBuffer out = {piece, PIECE, 0};

	left = ZSTD_decompressStream(d, &out, &in);
	total += out.pos;
	if (left != 0 && in.pos == in.size && out.pos < PIECE)
	    break;				/* input used up, frame not ended */
    }
    if (ZSTD_sizeof_DCtx(d) > KEEP_DCTX)
	ZSTD_freeDCtx(d);			/* a large window's buffer: not kept */
    else
	put_back(&spare_check_dctx, d);
    if (ZSTD_isError(left) || left != 0 || total != size) {
	*why = g_strdup_printf("the zstd frame is corrupt: %s",
			       ZSTD_isError(left) ? ZSTD_getErrorName(left) : "short content");
	return -1;
    }
    *out_len = total;
    return 0;
}
