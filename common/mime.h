/* mime.h: MIME parsing, text and attachments for the envelope. See mime.c. */
#ifndef INTAKE_MIME_H
#define INTAKE_MIME_H

#include <glib.h>
#include <jansson.h>
#include <gmime/gmime.h>

/* The most a configuration may allow (common/config.c checks against these). */
#define MIME_PARTS_CEILING	10000
#define MIME_DEPTH_CEILING	100
/* Defaults of max_mime_parts and max_mime_depth, also for limits left 0. */
#define MIME_PARTS_DEFAULT	1000
#define MIME_DEPTH_DEFAULT	20

struct mime_limits {
    gsize   max_text;			/* bytes of text kept */
    guint   max_attachments;		/* attachments listed */
    guint   max_parts;			/* MIME parts parsed */
    guint   max_depth;			/* MIME nesting parsed */
};

struct mime_cut {
    gboolean cut;			/* the parser saw only a prefix */
    gint64  offset;			/* where it was cut */
    const char *why;			/* "parts", "depth", "boundary" (static) */
    gboolean header_cut;		/* header text past the bounds dropped */
    gboolean filler_cut;		/* prologue or epilogue past 2 MB dropped */
    const char *repaired;		/* NULL, "boundary" or "text" (mime_repair.c) */
};

struct mime_body {
    char   *text;			/* clean UTF-8, never NULL (g_free) */
    const char *text_from;		/* "plain", "html", "message", "none" (static) */
    gboolean text_truncated;
    json_t *attachments;		/* new reference */
    gboolean attachments_truncated;
    const char *encrypted;		/* "pgp", "smime" or NULL (static) */
};

char   *mime_clean_text(const char *s, gssize len, gsize max, int one_line,
			gboolean *cut);
json_t *mime_json_line(const char *s, gsize max);
GMimeMessage *mime_parse(GMimeStream *stream, GMimeParserOptions *opts,
			 guint max_parts, guint max_depth, struct mime_cut *cut);
void    mime_body_read(GMimeMessage *msg, const struct mime_limits *lim,
		       struct mime_body *body);
void    mime_body_clear(struct mime_body *body);
void    mime_body_from_message(GMimeMessage *msg, const struct mime_limits *lim,
			       struct mime_body *body);
GPtrArray *mime_attachment_contents(GMimeMessage *msg, json_t *attachments);

#endif
