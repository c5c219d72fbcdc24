/*
 * NAME
 *	stream - the fields of a stream entry and of a dead letter
 * SYNOPSIS
 *	#include "stream.h"
 *
 *	STREAM_VERSION, STREAM_ENVELOPE, STREAM_TEXT, STREAM_RAW, STREAM_ENC,
 *	STREAM_ENC_ZSTD, STREAM_RETRY_OF
 *	DEAD_ENTRY, DEAD_ERROR, DEAD_DELIVERIES, DEAD_FAILED_AT, DEAD_CONSUMER
 *
 *	const char *const stream_dead_fields[]
 *	int	stream_is_dead_field(name)
 *	const char *stream_reply_field(fields, name, &len)
 * DESCRIPTION
 *	The one definition of the field names that the milter writes
 *	(common/enqueue.c), the worker reads (worker/queue.c) and the
 *	dead-letter stream adds (worker/queue.c, worker/dlq.c); the
 *	envelope's own JSON is common/envelope.c's.
 *
 *	stream_dead_fields is the NULL-terminated list of the fields a dead
 *	letter has in front of the entry's own; stream_is_dead_field() tells
 *	whether name is one of them (dlq retry leaves them out).
 *
 *	stream_reply_field() finds the string value of field name in a
 *	[name, value, ...] array reply of XRANGE/XREADGROUP; NULL when the
 *	reply is not such an array or has no such field. The value points
 *	into the reply; *len (when len is not NULL) is its length, since a
 *	value may hold NUL bytes.
 */
#include <string.h>
#include <glib.h>

#include "stream.h"

const char *const stream_dead_fields[] = {DEAD_ENTRY, DEAD_ERROR, DEAD_DELIVERIES,
DEAD_FAILED_AT, DEAD_CONSUMER, NULL};

int     stream_is_dead_field(const char *name)
{
    return g_strv_contains(stream_dead_fields, name);
}

const char *stream_reply_field(const redisReply *fields, const char *name, size_t *len)
{
    if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
	return NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
	const redisReply *k = fields->element[i];
	const redisReply *v = fields->element[i + 1];

	if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0
	    && v->type == REDIS_REPLY_STRING) {
	    if (len)
		*len = v->len;
	    return v->str;
	}
    }
    return NULL;
}
