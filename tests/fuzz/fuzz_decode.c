/*
 * NAME
 *	fuzz_decode - fuzz target: envelope_decode_parts() of a stream entry
 * DESCRIPTION
 *	The input is a stream entry's "envelope" field (JSON), optionally a
 *	NUL byte and its "text" field, as the worker reads them from Redis
 *	(stage_decode.c): anything that reaches the stream, a dead letter
 *	retried by hand included, must be refused with a reason or accepted.
 *	An accepted envelope is then read as the stages read it: strings
 *	through envelope_str() (never NULL), the raw size, and the text,
 *	which must be valid UTF-8 whatever bytes came in.
 */
#include <string.h>

#include "envelope.h"
#include "fuzz.h"

static const char *const keys[] = {
    "id", "dedupe_key", "subject", "text", "message_id", "in_reply_to", "date", "sender",
    "queue_id", NULL,
};

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *) data;
    const char *nul = memchr(data, 0, size);
    g_autofree char *why = NULL;
    json_t *env;

    fuzz_init();
    if (nul)
	env = envelope_decode_parts(json, (gsize) (nul - json), nul + 1,
				    size - (gsize) (nul - json) - 1, &why);
    else
	env = envelope_decode(json, size, &why);
    if (env == NULL) {
	if (why == NULL || *why == 0)
	    fuzz_fail("envelope_decode_parts() refused without a reason");
	return 0;
    }
    for (int i = 0; keys[i]; i++)
	if (envelope_str(env, keys[i]) == NULL)
	    fuzz_fail("envelope_str(\"%s\") is NULL", keys[i]);
    if (nul && !g_utf8_validate(envelope_str(env, "text"), -1, NULL))
	fuzz_fail("the text put back is not valid UTF-8");
    (void) envelope_raw_size(env);
    json_decref(env);
    return 0;
}
