/* stream.h: the fields of a stream entry and of a dead letter. See stream.c. */
#ifndef INTAKE_STREAM_H
#define INTAKE_STREAM_H

#include <stddef.h>
#include <hiredis/hiredis.h>

/* An envelope's entry in [redis] stream (docs/envelope.md). */
#define STREAM_VERSION	"v"		/* ENVELOPE_VERSION, decimal */
#define STREAM_ENVELOPE	"envelope"	/* the JSON, without its text */
#define STREAM_TEXT	"text"		/* the body text, UTF-8 */
#define STREAM_RAW	"raw"		/* the original message, binary */
#define STREAM_ENC	"enc"		/* absent, or STREAM_ENC_ZSTD: text and raw are zstd frames */
#define STREAM_ENC_ZSTD	"zstd"
#define STREAM_RETRY_OF	"retry_of"	/* set by dlq retry: the dead letter's id */

/* A dead letter in [redis] dead_stream: these, then the entry's own fields. */
#define DEAD_ENTRY	"entry"		/* the entry's id in the stream */
#define DEAD_ERROR	"error"
#define DEAD_DELIVERIES	"deliveries"
#define DEAD_FAILED_AT	"failed_at"	/* ISO 8601, UTC */
#define DEAD_CONSUMER	"consumer"

extern const char *const stream_dead_fields[];

int     stream_is_dead_field(const char *name);
const char *stream_reply_field(const redisReply *fields, const char *name, size_t *len);

#endif
