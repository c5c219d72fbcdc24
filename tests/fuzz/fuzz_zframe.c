/*
 * NAME
 *	fuzz_zframe - fuzz target: zframe_unpack() of a stream entry's field
 * DESCRIPTION
 *	The first byte chooses: 0 (and anything but 1), the rest is a
 *	stream entry's "text" or "raw" field as a worker reads it with enc
 *	zstd (worker/queue.c), unpacked with a cap of 1 MB; 1, the rest is
 *	packed by zframe_pack() and unpacked again. What must hold: a
 *	refusal has a reason; what is accepted is at most the cap, has the
 *	NUL after it, and packs and unpacks to itself; a round trip gives
 *	the input back.
 */
#include <string.h>

#include "fuzz.h"
#include "zframe.h"

#define CAP	(1024 * 1024)

/* again - data packed and unpacked must be data */
static void again(const char *data, gsize len)
{
    gsize   zlen, n = 0;
    g_autofree char *z = zframe_pack(data, len, &zlen);
    g_autofree char *why = NULL;
    g_autofree char *back = zframe_unpack(z, zlen, len, &n, &why);

    if (back == NULL)
	fuzz_fail("a frame of zframe_pack() refused: %s", why);
    if (n != len || memcmp(back, data, len) != 0)
	fuzz_fail("zframe_pack() then zframe_unpack() gave other bytes");
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *) data + 1;
    g_autofree char *why = NULL;
    g_autofree char *out = NULL;
    gsize   n = 0;

    fuzz_init();
    if (size == 0)
	return 0;
    if (data[0] == 1) {
	again(in, size - 1);
	return 0;
    }
    out = zframe_unpack(in, size - 1, CAP, &n, &why);
    if (out == NULL) {
	if (why == NULL || *why == 0)
	    fuzz_fail("zframe_unpack() refused without a reason");
	return 0;
    }
    if (n > CAP || out[n] != 0)
	fuzz_fail("zframe_unpack() gave %zu bytes, cap %d, or no NUL after them", (size_t) n,
		  CAP);
    again(out, n);
    return 0;
}
