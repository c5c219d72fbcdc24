/*
 * NAME
 *	enqueue - add an envelope to the stream
 * SYNOPSIS
 *	char   *enqueue_envelope(rq, stream, env, raw, &why)
 * DESCRIPTION
 *	enqueue_envelope() adds one entry to the stream with the fields of
 *	common/stream.h: the envelope version, the JSON without its text,
 *	the body text (UTF-8) and the first raw_size bytes of the original
 *	message, read from raw (NULL: none); see docs/envelope.md. It
 *	returns the entry id (g_free) once Redis has answered, or NULL and
 *	*why (g_free). Used by intake-milter and by every other way mail
 *	enters Intake.
 *
 *	The original is the one field that grows with the message (up to
 *	raw_max_size): held in memory it is passed to hiredis like the
 *	others; in a file (a milter's spool file) it is streamed to Redis
 *	in pieces (redisq_argv_tail()), so that neither this process nor
 *	hiredis ever holds it whole.
 *
 *	An XADD is sent again (by redisq.c) only when not a byte of it
 *	left; one whose reply was lost fails: Redis may have added the entry,
 *	and the sender's retry plus the worker's de-duplication by dedupe key
 *	keep one ticket.
 */
#include <string.h>
#include <glib.h>

#include "envelope.h"
#include "enqueue.h"
#include "stream.h"

char   *enqueue_envelope(struct redisq *rq, const char *stream, json_t *env,
			 const struct raw_source *raw, char **why)
{
    const char *text;
    gsize   text_len;
    char   *json = envelope_encode(env, &text, &text_len);
    g_autofree char *v = g_strdup_printf("%d", ENVELOPE_VERSION);
    const char *argv[] = {"XADD", stream, "*", STREAM_VERSION, v, STREAM_ENVELOPE, json,
	STREAM_TEXT, text, STREAM_RAW, raw && raw->data ? raw->data : ""};
    size_t  lens[] = {4, strlen(stream), 1, strlen(STREAM_VERSION), strlen(v),
	strlen(STREAM_ENVELOPE), 0, strlen(STREAM_TEXT), text_len, strlen(STREAM_RAW),
	raw ? envelope_raw_size(env) : 0};
    size_t  raw_len = lens[G_N_ELEMENTS(lens) - 1];
    redisReply *r;
    char   *id = NULL;

    *why = NULL;
    if (json == NULL) {
	*why = g_strdup("cannot encode the envelope (out of memory?)");
	return NULL;
    }
    if (raw && raw_len > raw->len) {
	/* A caller's bug: never send what is not there. */
	*why = g_strdup_printf("internal error: raw_size %zu, but only %zu bytes of the"
			       " original at hand", raw_len, (size_t) raw->len);
	free(json);
	return NULL;
    }
    lens[6] = strlen(json);
    if (raw && raw->data == NULL)
	r = redisq_argv_tail(rq, why, G_N_ELEMENTS(argv) - 1, argv, lens, raw->fd, raw_len);
    else
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
