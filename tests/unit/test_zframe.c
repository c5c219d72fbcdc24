/*
 * NAME
 *	test_zframe - unit tests of common/zframe.c
 * DESCRIPTION
 *	Round trips through zframe_pack() and zframe_unpack() (empty, short,
 *	text, random bytes) and through zframe_pack_file() (a spool file of
 *	several 64 KB pieces, and an empty one: the frame after the data,
 *	the data untouched); then what a reader must refuse before
 *	allocating or with a reason: bytes that are no frame, a frame that
 *	does not state its size, one whose header claims 100 GB, one past
 *	the cap by a byte, a truncated frame, bytes after a frame, and a
 *	frame with a damaged byte (its checksum).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <zstd.h>

#include "tap.h"
#include "zframe.h"

/* text - n bytes of mail-like text */
static char *text(gsize n)
{
    GString *s = g_string_sized_new(n + 64);

    for (guint i = 0; s->len < n; i++)
	g_string_append_printf(s, "Line %u: the printer on floor %u is on fire again.\r\n", i,
			       i % 7);
    g_string_truncate(s, n);
    return g_string_free(s, FALSE);
}

static char *random_bytes(gsize n)
{
    char   *b = g_malloc(n);

    for (gsize i = 0; i < n; i++)
	b[i] = (char) g_random_int_range(0, 256);
    return b;
}

static void round_trip(const char *label, const char *data, gsize len)
{
    gsize   zlen, back_len = 0;
    g_autofree char *z = zframe_pack(data, len, &zlen);
    g_autofree char *why = NULL;
    g_autofree char *back = zframe_unpack(z, zlen, len, &back_len, &why);

    ok(back != NULL, "%s: unpacks (%s)", label, why ? why : "ok");
    ok(back && back_len == len && memcmp(back, data, len) == 0, "%s: the same %zu bytes",
       label, (size_t) len);
    ok(back && back[back_len] == 0, "%s: NUL after the content", label);
    back_len = 0;
    ok(zframe_check(z, zlen, len, &back_len, &why) == 0 && back_len == len,
       "%s: checked without unpacking, %zu bytes (%s)", label, (size_t) back_len,
       why ? why : "ok");
}

/* refused - zframe_unpack() of src refuses with a reason containing want */
static void refused(const char *label, const void *src, gsize len, gsize cap, const char *want)
{
    g_autofree char *why = NULL;
    gsize   n = 0;
    char   *out = zframe_unpack(src, len, cap, &n, &why);

    ok(out == NULL, "%s: refused", label);
    has_str(why, want, "%s: says why", label);
    g_free(out);
    g_clear_pointer(&why, g_free);
    ok(zframe_check(src, len, cap, &n, &why) < 0, "%s: refused by the check", label);
    has_str(why, want, "%s: the check says why", label);
}

static void test_round_trips(void)
{
    g_autofree char *t = text(5700);
    g_autofree char *r = random_bytes(200000);
    gsize   zlen;
    g_autofree char *z = zframe_pack(t, 5700, &zlen);

    round_trip("empty", "", 0);
    round_trip("one byte", "x", 1);
    round_trip("5.7 KB of text", t, 5700);
    round_trip("200 KB of random bytes", r, 200000);
    ok(zlen < 5700 / 4, "text compresses (%zu bytes of 5700)", (size_t) zlen);
}

/* test_pack_file - a file of len + extra bytes, its first len packed after them all */
static void test_pack_file(const char *label, gsize len, gsize extra)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "test-zframe-XXXXXX", NULL);
    int     fd = g_mkstemp(path);
    g_autofree char *t = text(len + extra);
    g_autofree char *why = NULL;
    g_autofree char *frame = NULL;	/* one byte more: nothing after the frame */
    g_autofree char *back = NULL;
    g_autofree char *head = g_malloc(len + extra + 1);
    gsize   zlen = 0, back_len = 0;

    g_assert(fd >= 0);
    g_unlink(path);
    g_assert(write(fd, t, len + extra) == (ssize_t) (len + extra));
    if (!ok(zframe_pack_file(fd, len, len + extra, &zlen, &why) == 0, "%s: packed (%s)", label,
	    why ? why : "ok")) {
	close(fd);
	return;
    }
    frame = g_malloc(zlen + 1);
    ok(pread(fd, frame, zlen + 1, (off_t) (len + extra)) == (ssize_t) zlen,
       "%s: frame after the data, to the end of the file", label);
    ok(pread(fd, head, len + extra, 0) == (ssize_t) (len + extra)
       && memcmp(head, t, len + extra) == 0, "%s: data untouched", label);
    back = zframe_unpack(frame, zlen, len, &back_len, &why);
    ok(back && back_len == len && memcmp(back, t, len) == 0, "%s: unpacks to the data (%s)",
       label, why ? why : "ok");
    ok(zlen < len / 4 + 64, "%s: %zu bytes packed to %zu", label, (size_t) len, (size_t) zlen);
    close(fd);
}

static void test_refusals(void)
{
    g_autofree char *t = text(100000);
    gsize   zlen;
    g_autofree char *z = zframe_pack(t, 100000, &zlen);
    g_autofree char *more = g_malloc(zlen + 1);
    g_autofree char *bad = g_memdup2(z, zlen);
    /* A frame header claiming 100 GB (single segment, 8-byte size), then an empty last block. */
    guint64 huge = G_GUINT64_CONSTANT(100000000000);
    guchar  claim[4 + 1 + 8 + 3] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0};
    ZSTD_CCtx *c = ZSTD_createCCtx();
    char    sizeless[256];
    ZSTD_outBuffer ob = {sizeless, sizeof(sizeless), 0};
    ZSTD_inBuffer ib = {"hello", 5, 0};

    for (int i = 0; i < 8; i++)
	claim[5 + i] = (guchar) (huge >> (8 * i));
    claim[13] = 0x01;				/* last block, raw, 0 bytes */
    refused("not a frame", "hello, world", 12, 1000, "not a zstd frame");
    refused("nothing", "", 0, 1000, "not a zstd frame");
    refused("frame claiming 100 GB", claim, sizeof(claim), 10 * 1024 * 1024,
	    "holds 100000000000 bytes, more than the limit of 10485760");
    refused("one byte past the cap", z, zlen, 99999, "more than the limit of 99999");
    refused("truncated", z, zlen - 5, 100000, "truncated");
    refused("truncated to its header", z, 6, 100000, "");
    memcpy(more, z, zlen);
    more[zlen] = 'x';
    refused("a byte after the frame", more, zlen + 1, 100000, "followed by other bytes");
    bad[zlen / 2] ^= 0x55;
    refused("a damaged byte", bad, zlen, 100000, "corrupt");
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    g_assert(ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end) == 0);
    ZSTD_freeCCtx(c);
    refused("a frame without its size", sizeless, ob.pos, 1000, "does not state its size");
}

/*
 * test_window - a frame of 5 bytes that asks for a window of 1 GB is read
 * like any other (zstd sizes its buffer by the content, not the window);
 * a large original is read in pieces, its checksum checked
 */
static void test_window(void)
{
    /* magic; 4-byte content size, no single segment; window 2^(10+20); size 5; raw last block */
    static const guchar frame[] = {0x28, 0xb5, 0x2f, 0xfd, 0x80, 20 << 3, 5, 0, 0, 0,
	(5 << 3) | 1, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    g_autofree char *why = NULL;
    gsize   n = 0;

    ok(zframe_check(frame, sizeof(frame), 1000, &n, &why) == 0 && n == 5,
       "a frame of 5 bytes asking for a 1 GB window: checked (%s)", why ? why : "ok");
    g_clear_pointer(&why, g_free);
    /* A larger original, checked in pieces: the same size and checksum as unpacked. */
    {
	g_autofree char *t = text(3 * 1024 * 1024 + 17);
	gsize   zlen;
	g_autofree char *z = zframe_pack(t, 3 * 1024 * 1024 + 17, &zlen);

	ok(zframe_check(z, zlen, 10 * 1024 * 1024, &n, &why) == 0 && n == 3 * 1024 * 1024 + 17,
	   "3 MB checked in pieces (%s)", why ? why : "ok");
	z[zlen - 2] ^= 0x01;			/* in the checksum */
	g_clear_pointer(&why, g_free);
	ok(zframe_check(z, zlen, 10 * 1024 * 1024, &n, &why) < 0,
	   "its checksum damaged: refused by the check");
	has_str(why, "corrupt", "as corrupt");
    }
}

int     main(void)
{
    test_round_trips();
    test_pack_file("spool file of 300 KB", 300000, 0);
    test_pack_file("spool file of 64 KB", 64 * 1024, 0);
    test_pack_file("empty spool file", 0, 0);
    test_pack_file("first 100 KB of 150 KB", 100000, 50000);
    test_refusals();
    test_window();
    return tap_done();
}
