/* mime_int.h: private to common/mime*.c. See mime.c, mime_attach.c, mime_message.c, mime_repair.c. */
#ifndef INTAKE_MIME_INT_H
#define INTAKE_MIME_INT_H

#include "mime.h"

#define READ_PIECE	16384		/* bytes read from a stream at a time */
#define MAX_WALK_DEPTH	(MIME_DEPTH_CEILING + 10)

/* One walk over a message's parts: mime_body_read(), mime_attachment_contents(). */
struct walk_state {
    GMimeObject *body;
    GString *extra_text;		/* further inline text parts, or NULL */
    gsize   text_room;			/* bytes extra_text may still take */
    gboolean text_more;			/* text was left out */
    json_t *attachments;		/* listed, or NULL */
    guint   max_attachments;
    gboolean attachments_truncated;
    GHashTable *wanted;			/* part index -> position, or NULL */
    GPtrArray *contents;		/* GBytes per wanted position */
    const char *encrypted;
    int     index;
};

/* mime.c */
gboolean mime_is_attachment(GMimeObject *obj);
gboolean mime_is_text(GMimeObject *obj, const char *subtype);
GMimeObject *mime_pick_body(GMimeObject *obj, int depth);
gboolean mime_part_text_append(GMimeObject *obj, GString *out, gsize *room);
gboolean mime_blank(const char *s);

/* mime_parse.c, mime_repair.c */
GMimeMessage *mime_parse_limited(GMimeStream *stream, GMimeParserOptions *opts,
				 guint max_parts, guint max_depth, struct mime_cut *cut);
const char *mime_repair(GMimeMessage *msg, GMimeParserOptions *opts, guint max_parts,
			guint max_depth, struct mime_cut *cut);

/* mime_attach.c */
void    mime_walk_parts(struct walk_state *ws, GMimeObject *obj, GMimeObject *parent,
			int depth);
const char *mime_encryption(GMimeObject *obj);

#endif
