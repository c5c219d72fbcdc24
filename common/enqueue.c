/*
 * NAME
 *	enqueue - add an envelope to the stream
 * SYNOPSIS
 *	char   *enqueue_envelope(rq, stream, env, raw, zstd, &why)
 *	int	enqueue_wait(rq, cfg, &why)
 * DESCRIPTION
 *	enqueue_envelope() adds one entry to the stream with the fields of
 *	common/stream.h: the envelope version, the JSON without its text,
 *	the body text (UTF-8) and the first raw_size bytes of the original
 *	message, read from raw (NULL: none); see docs/envelope.md. With zstd
 *	([milter] stream_compression = zstd) the text and the original are
 *	each one zstd frame (common/zframe.c), the entry says so in its
 *	field "enc" and is version 2; without, it is version 1, which every
 *	worker reads. It returns the entry id (g_free) once Redis has
 *	answered, or NULL and *why (g_free). Used by intake-milter and by
 *	every other way mail enters Intake.
 *
 *	The original is the one field that grows with the message (up to
 *	raw_max_size): held in memory it is passed to hiredis like the
 *	others; in a file (a milter's spool file) it is streamed to Redis
 *	in pieces (redisq_argv_tail()), so that neither this process nor
 *	hiredis ever holds it whole. Compressed, its frame is first written
 *	into the same file after its raw->len bytes (zframe_pack_file()),
 *	and sent from there: Redis must be told a field's length before it.
 *
 *	An XADD is sent again (by redisq.c) only when not a byte of it
 *	left; one whose reply was lost fails: Redis may have added the entry,
 *	and the sender's retry plus the worker's de-duplication by dedupe key
 *	keep one ticket.
 *
 *	enqueue_wait() is sent right after a successful enqueue_envelope()
 *	on the same connection when [redis] wait_replicas is above 0 (the
 *	milter does): "WAIT wait_replicas wait_timeout" returns once that
 *	many replicas have acknowledged every write of this connection, or
 *	at the timeout with how many did. 0 when enough did; -1 and *why
 *	(g_free) when fewer did or WAIT failed: the entry is in the primary,
 *	but a failover now could lose it, so the mail must not be accepted
 *	(the sender's retry may add it twice: the worker keeps one ticket).
 *	After too few acknowledgements the connection is closed: the server
 *	may be a primary the sentinels have already replaced (it goes on
 *	taking writes until they turn it into a replica, seconds later), and
 *	the next connect asks them again. See docs/design.md, "Highly available Redis". The connection's read
 *	timeout is [redis] timeout plus wait_timeout for this command.
 */
#include <string.h>
#include <glib.h>

#include "envelope.h"
#include "enqueue.h"
#include "stream.h"
#include "zframe.h"

char   *enqueue_envelope(struct redisq *rq, const char *stream, json_t *env,
			 const struct raw_source *raw, gboolean zstd, char **why)
{
    const char *text;
    gsize   text_len;
    char   *json = envelope_encode(env, zstd ? ENVELOPE_VERSION : ENVELOPE_VERSION_PLAIN,
				   &text, &text_len);
    g_autofree char *v = g_strdup_printf("%d", zstd ? ENVELOPE_VERSION
					 : ENVELOPE_VERSION_PLAIN);
    g_autofree char *ztext = NULL;
    g_autofree char *zraw = NULL;
    gsize   raw_len = raw ? envelope_raw_size(env) : 0;
    const char *raw_data = raw && raw->data ? raw->data : "";
    const char *argv[] = {"XADD", stream, "*", STREAM_VERSION, v, STREAM_ENVELOPE, json,
	STREAM_TEXT, text, STREAM_ENC, STREAM_ENC_ZSTD, STREAM_RAW, raw_data};
    size_t  lens[G_N_ELEMENTS(argv)];
    int     argc = G_N_ELEMENTS(argv);
    off_t   tail_off = 0;
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
    if (zstd) {
	argv[8] = ztext = zframe_pack(text, text_len, &text_len);
	if (raw == NULL || raw->data)
	    argv[12] = zraw = zframe_pack(raw_data, raw_len, &raw_len);
	else if (zframe_pack_file(raw->fd, raw_len, raw->len, &raw_len, why) == 0)
	    tail_off = (off_t) raw->len;
	else {
	    free(json);
	    return NULL;
	}
    } else {
	/* enc is the one field of version 2 alone: the raw field moves over it. */
	argv[9] = argv[11];
	argv[10] = argv[12];
	argc -= 2;
    }
    for (int i = 0; i < argc; i++)	/* text and raw (binary) have theirs */
	lens[i] = i == 8 ? text_len : i == argc - 1 ? raw_len : strlen(argv[i]);
    if (raw && raw->data == NULL)
	r = redisq_argv_tail(rq, why, argc - 1, argv, lens, raw->fd, tail_off, raw_len);
    else
	r = redisq_argv(rq, why, argc, argv, lens);
    if (r && r->type == REDIS_REPLY_STRING)
	id = g_strndup(r->str, r->len);
    else if (r)
	*why = g_strdup_printf("unexpected reply type %d to XADD", r->type);
    if (r)
	freeReplyObject(r);
    free(json);
    return id;
}

int     enqueue_wait(struct redisq *rq, const struct intake_config *cfg, char **why)
{
    g_autofree char *n = g_strdup_printf("%d", cfg->redis_wait_replicas);
    g_autofree char *ms = g_strdup_printf("%d", cfg->redis_wait_timeout_ms);
    redisReply *r;
    int     rc = -1;

    *why = NULL;
    redisq_set_timeout(rq, cfg->redis_timeout_ms + cfg->redis_wait_timeout_ms);
    r = redisq_run(rq, why, "WAIT", n, ms, NULL);
    redisq_set_timeout(rq, cfg->redis_timeout_ms);
    if (r == NULL)
	return -1;
    if (r->type != REDIS_REPLY_INTEGER)
	*why = g_strdup_printf("unexpected reply type %d to WAIT", r->type);
    else if (r->integer < cfg->redis_wait_replicas) {
	*why = g_strdup_printf("redis: only %lld of %d replicas acknowledged the entry within"
			       " %d ms ([redis] wait_replicas)", r->integer,
			       cfg->redis_wait_replicas, cfg->redis_wait_timeout_ms);
	/* A primary that lost its replicas may be a deposed one: ask the sentinels again. */
	redisq_disconnect(rq);
    } else
	rc = 0;
    freeReplyObject(r);
    return rc;
}
