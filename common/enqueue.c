/*
 * NAME
 *	enqueue - add an envelope to the stream
 * SYNOPSIS
 *	char   *enqueue_envelope(rq, stream, env, raw, &why)
 * DESCRIPTION
 *	enqueue_envelope() adds one entry to the stream with the fields of
 *	common/stream.h: the envelope version, the JSON without its text,
 *	the body text (UTF-8) and the first raw_size bytes of raw, the
 *	original message; see docs/envelope.md. It returns the
 *	entry id (g_free) once Redis has answered, or NULL and *why (g_free).
 *	Used by intake-milter and by every other way mail enters Intake.
 */
#include <string.h>
#include <glib.h>

#include "envelope.h"
#include "enqueue.h"
#include "stream.h"

char   *enqueue_envelope(struct redisq *rq, const char *stream, json_t *env,
			 const char *raw, char **why)
{
    const char *text;
    gsize   text_len;
    char   *json = envelope_encode(env, &text, &text_len);
    g_autofree char *v = g_strdup_printf("%d", ENVELOPE_VERSION);
    const char *argv[] = {"XADD", stream, "*", STREAM_VERSION, v, STREAM_ENVELOPE, json,
	STREAM_TEXT, text, STREAM_RAW, raw ? raw : ""};
    size_t  lens[] = {4, strlen(stream), 1, strlen(STREAM_VERSION), strlen(v),
	strlen(STREAM_ENVELOPE), 0, strlen(STREAM_TEXT), text_len, strlen(STREAM_RAW),
	raw ? envelope_raw_size(env) : 0};
    redisReply *r;
    char   *id = NULL;

    *why = NULL;
    if (json == NULL) {
	*why = g_strdup("cannot encode the envelope (out of memory?)");
	return NULL;
    }
    lens[6] = strlen(json);
    r = redisq_argv(rq, why, G_N_ELEMENTS(argv), argv, lens);
    if (r && r->type == REDIS_REPLY_STRING)
	id = g_strndup(r->str, r->len);
    else if (r)
	*why = g_strdup_printf("unexpected reply type %d to XADD", r->type);
    if (r)
	freeReplyObject(r);
    free(json);
    return id;
}
