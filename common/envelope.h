/* envelope.h: the JSON envelope between milter and worker. See envelope.c, envelope_codec.c. */
#ifndef INTAKE_ENVELOPE_H
#define INTAKE_ENVELOPE_H

#include <glib.h>
#include <jansson.h>
#include <gmime/gmime.h>
#include "config.h"

/* Version 2: the entry's text and raw may be zstd frames (its enc field); docs/envelope.md. */
#define ENVELOPE_VERSION 2
#define ENVELOPE_VERSION_PLAIN 1	/* written with stream_compression = none */

struct envelope_input {
    const struct intake_config *cfg;	/* collectors, staff, our addresses (common/forward.c); NULL: none */
    const char *queue_id;		/* MTA queue id, or NULL */
    const char *client_addr;
    const char *client_name;
    const char *helo;
    const char *sender;			/* envelope sender, "" for <> */
    const char *const *recipients;	/* all envelope recipients */
    const struct mailbox *const *matched;	/* per recipient, NULL if none */
    guint   n_recipients;
    const char *raw;			/* the original as held in memory: all of */
    gsize   raw_len;			/* it, or at least its first max_raw bytes */
    GMimeStream *stream;		/* the message to parse; NULL: raw */
    gsize   kept_len;			/* bytes in stream (with stream only) */
    gsize   message_size;		/* bytes received in all */
    const char *body_sha256;		/* of the whole body; NULL: from raw */
};

struct envelope_limits {
    gsize   max_text;
    gsize   max_raw;
    guint   max_attachments;
    guint   max_parts;			/* MIME parts parsed */
    guint   max_depth;			/* MIME nesting parsed */
    const char *const *raw_headers;
};

void    envelope_init(void);
void    envelope_limits_from_config(struct envelope_limits *lim,
				    const struct intake_config *cfg);
json_t *envelope_build(const struct envelope_input *in,
		       const struct envelope_limits *lim);
char   *envelope_encode(json_t *env, int version, const char **text, gsize *text_len);
json_t *envelope_decode(const char *json, gsize len, char **why);
json_t *envelope_decode_parts(const char *json, gsize len, const char *text,
			      gsize text_len, char **why);
gsize   envelope_raw_size(json_t *env);
GMimeMessage *envelope_raw_message(const char *raw, gsize len);
GPtrArray *envelope_attachments(json_t *env, const char *raw, gsize len);

/* Accessors that never return NULL for a missing string: "" instead. */
const char *envelope_str(json_t *obj, const char *key);

#endif
