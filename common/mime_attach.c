/*
 * NAME
 *	mime_attach - the attachments of a message
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	GPtrArray *mime_attachment_contents(msg, attachments)
 *
 *	#include "mime_int.h"
 *
 *	void	mime_walk_parts(&walk, obj, parent, depth)
 *	const char *mime_encryption(obj)
 * DESCRIPTION
 *	mime_attachment_contents() returns the decoded contents of the parts
 *	listed in attachments (the envelope's list), in the list's order,
 *	found by their "part" index: a GBytes per entry, NULL where the part
 *	is not (or no longer) in msg. Free with g_ptr_array_unref().
 *
 *	Private to common/mime*.c: mime_walk_parts() walks the parts under
 *	obj but the body (walk->body), numbering them as the envelope's
 *	"part" index does. Further inline text/plain parts go to
 *	walk->extra_text (mime_body_read()); other parts that are not the
 *	body's other rendering are attachments: listed in walk->attachments
 *	(name, type, decoded size and SHA-256, Content-ID, disposition), or, with
 *	walk->wanted, their decoded contents put in walk->contents. It notes
 *	the first encryption it meets (mime_encryption()) in walk->encrypted.
 */
#include <string.h>

#include "mime_int.h"

#define MAX_FILENAME	255

/* ---------------------------------------------------------------- */
/*	Attachments							    */
/* ---------------------------------------------------------------- */

static const char *sensible_extension(GMimeContentType *ct)
{
    static const char *const map[][2] = {
	{"text/plain", ".txt"}, {"text/html", ".html"}, {"text/calendar", ".ics"},
	{"text/csv", ".csv"}, {"application/pdf", ".pdf"}, {"image/png", ".png"},
	{"image/jpeg", ".jpg"}, {"image/jpg", ".jpg"}, {"image/gif", ".gif"},
	{"message/delivery-status", ".txt"}, {"text/rfc822-headers", ".txt"},
	{"message/disposition-notification", ".txt"}, {"application/zip", ".zip"},
	{"application/pgp-signature", ".asc"}, {"application/pkcs7-signature", ".p7s"},
	{"application/x-pkcs7-signature", ".p7s"}, {"application/pgp-encrypted", ".txt"},
	{"application/pkcs7-mime", ".p7m"}, {"application/x-pkcs7-mime", ".p7m"},
    };
    const char *type = g_mime_content_type_get_media_type(ct);
    const char *sub = g_mime_content_type_get_media_subtype(ct);

    for (gsize i = 0; i < G_N_ELEMENTS(map); i++) {
	const char *slash = strchr(map[i][0], '/');

	if (g_ascii_strncasecmp(map[i][0], type, (gsize) (slash - map[i][0])) == 0
	    && strlen(type) == (gsize) (slash - map[i][0])
	    && g_ascii_strcasecmp(slash + 1, sub) == 0)
	    return map[i][1];
    }
    return ".bin";
}

/*
 * described_name - a file name from Content-Description (Postfix bounces
 * say "Delivery report", "Undelivered Message"), or NULL. Newly allocated.
 */
static char *described_name(GMimeObject *obj, const char *ext)
{
    const char *desc = g_mime_object_get_header(obj, "Content-Description");
    char   *s;

    if (desc == NULL)
	return NULL;
    s = mime_clean_text(desc, -1, MAX_FILENAME - strlen(ext), 1, NULL);
    g_strdelimit(s, "/\\:*?\"<>|", '_');
    if (*s == 0) {
	g_free(s);
	return NULL;
    }
    if (strlen(s) >= strlen(ext)
	&& g_ascii_strcasecmp(s + strlen(s) - strlen(ext), ext) == 0)
	return s;
    {
	char   *named = g_strconcat(s, ext, NULL);

	g_free(s);
	return named;
    }
}

/* attachment_name - the decoded file name, or a sensible one made up */
static char *attachment_name(GMimeObject *obj, int index)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *name = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) : NULL;
    char   *clean;

    if (name == NULL)			/* message/rfc822 is not a GMimePart */
	name = g_mime_object_get_content_disposition_parameter(obj, "filename");
    if (name == NULL)
	name = g_mime_content_type_get_parameter(ct, "name");
    if (name && *name) {
	clean = mime_clean_text(name, -1, MAX_FILENAME, 1, NULL);
	if (*clean)
	    return clean;
	g_free(clean);
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
	GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
	const char *subject = inner ? g_mime_message_get_subject(inner) : NULL;

	if (subject && *subject) {
	    g_autofree char *s = mime_clean_text(subject, -1, MAX_FILENAME - 4, 1, NULL);

	    g_strdelimit(s, "/\\", '_');
	    if (*s)
		return g_strconcat(s, ".eml", NULL);
	}
	if ((clean = described_name(obj, ".eml")) != NULL)
	    return clean;
	return g_strdup("message.eml");
    }
    /* An unnamed image (an inline picture, mostly) is "image.png". */
    if (g_mime_content_type_is_type(ct, "image", "*")) {
	const char *ext = sensible_extension(ct);

	if (strcmp(ext, ".bin") == 0) {
	    g_autofree char *sub = g_ascii_strdown(g_mime_content_type_get_media_subtype(ct), 20);

	    g_strdelimit(sub, "/\\. ", '_');
	    return g_strconcat("image.", sub, NULL);
	}
	return g_strconcat("image", ext, NULL);
    }
    /* Otherwise the Content-ID's local part names it, as it names it in the HTML. */
    {
	const char *cid = g_mime_object_get_content_id(obj);

	if (cid && *cid) {
	    g_autofree char *local = g_strndup(cid, strcspn(cid, "@"));

	    clean = mime_clean_text(local, -1, MAX_FILENAME, 1, NULL);
	    g_strdelimit(clean, "/\\", '_');
	    if (*clean && strcmp(clean, ".") != 0 && strcmp(clean, "..") != 0)
		return clean;
	    g_free(clean);
	}
    }
    if ((clean = described_name(obj, sensible_extension(ct))) != NULL)
	return clean;
    return g_strdup_printf("attachment-%d%s", index, sensible_extension(ct));
}

/* write_content - the decoded content of a part (or an attached message) */
static gint64 write_content(GMimeObject *obj, GMimeStream *to)
{
    gint64  size = -1;

    if (GMIME_IS_PART(obj)) {
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

	if (w)
	    size = g_mime_data_wrapper_write_to_stream(w, to);
    } else {
	size = g_mime_object_write_to_stream(obj, NULL, to);
    }
    return size < 0 ? 0 : size;
}

/*
 * decoded_size - the decoded size of a part and, in *sha256 (hex, newly
 * allocated), its SHA-256: the one walk that lists the part also names
 * its content, so that the worker stores a reference into the original
 * and a reader can check what it decodes from there (and the store can
 * recognise identical attachments) without a second parse.
 */
static gint64 decoded_size(GMimeObject *obj, char **sha256)
{
    GMimeStream *null = g_mime_stream_null_new();
    GMimeStream *filtered = g_mime_stream_filter_new(null);
    GMimeFilter *sum = g_mime_filter_checksum_new(G_CHECKSUM_SHA256);
    gint64  size;

    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), sum);
    (void) write_content(obj, filtered);
    g_mime_stream_flush(filtered);
    /* What reached the end, not what a filter's write returned (a message part's headers). */
    size = (gint64) GMIME_STREAM_NULL(null)->written;
    *sha256 = g_mime_filter_checksum_get_string(GMIME_FILTER_CHECKSUM(sum));
    g_object_unref(sum);
    g_object_unref(filtered);
    g_object_unref(null);
    return size;
}

/* mime_encryption - "pgp" or "smime" for an encrypted part, else NULL */
const char *mime_encryption(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    if (GMIME_IS_MULTIPART_ENCRYPTED(obj) || g_mime_content_type_is_type(ct, "multipart", "encrypted")) {
	const char *proto = g_mime_content_type_get_parameter(ct, "protocol");

	return proto && (strstr(proto, "pkcs7") || strstr(proto, "PKCS7")) ? "smime" : "pgp";
    }
    if (g_mime_content_type_is_type(ct, "application", "pkcs7-mime")
	|| g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime")) {
	const char *type = g_mime_content_type_get_parameter(ct, "smime-type");

	/* signed-data is signed only; no smime-type: as good as enveloped. */
	if (type == NULL || g_ascii_strcasecmp(type, "enveloped-data") == 0
	    || g_ascii_strcasecmp(type, "authEnveloped-data") == 0)
	    return "smime";
    }
    if (g_mime_content_type_is_type(ct, "application", "pgp-encrypted"))
	return "pgp";
    return NULL;
}

static void add_attachment(struct walk_state *ws, GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    if (ws->wanted) {
	gpointer pos;

	if (g_hash_table_lookup_extended(ws->wanted, GINT_TO_POINTER(ws->index), NULL, &pos)) {
	    GByteArray *bytes = g_byte_array_new();
	    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(bytes);

	    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	    write_content(obj, mem);
	    g_object_unref(mem);
	    g_ptr_array_index(ws->contents, GPOINTER_TO_UINT(pos)) =
		g_byte_array_free_to_bytes(bytes);
	}
	return;
    }
    if (json_array_size(ws->attachments) >= ws->max_attachments) {
	ws->attachments_truncated = TRUE;
	return;
    }

    g_autofree char *name = attachment_name(obj, ws->index);
    g_autofree char *type = g_mime_content_type_get_mime_type(ct);
    const char *cid = g_mime_object_get_content_id(obj);
    const char *disp = g_mime_object_get_disposition(obj);
    g_autofree char *sha256 = NULL;
    gint64  size = decoded_size(obj, &sha256);

    json_array_append_new(ws->attachments,
			  json_pack("{s:o,s:o,s:I,s:o,s:o,s:i,s:s}",
				    "filename", mime_json_line(name, MAX_FILENAME),
				    "content_type", mime_json_line(type, 255),
				    "size", (json_int_t) size,
				    "content_id", cid ? mime_json_line(cid, 255) : json_null(),
				    "disposition", mime_json_line(disp ? disp : "attachment", 32),
				    "part", ws->index, "sha256", sha256));
}

void    mime_walk_parts(struct walk_state *ws, GMimeObject *obj, GMimeObject *parent, int depth)
{
    GMimeContentType *ct;
    GMimeContentType *pct = parent ? g_mime_object_get_content_type(parent) : NULL;

    if (obj == NULL || depth > MAX_WALK_DEPTH)
	return;
    if (ws->encrypted == NULL)
	ws->encrypted = mime_encryption(obj);
    if (GMIME_IS_MULTIPART(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);

	for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
	    mime_walk_parts(ws, g_mime_multipart_get_part(mp, i), obj, depth + 1);
	return;
    }
    if (obj == ws->body)
	return;
    ct = g_mime_object_get_content_type(obj);
    ws->index++;

    /* The other rendering of the body is not an attachment. */
    if (ws->body && pct && g_mime_content_type_is_type(pct, "multipart", "alternative")
	&& (mime_is_text(obj, "html") || mime_is_text(obj, "plain")))
	return;
    if (ws->body && GMIME_IS_TEXT_PART(obj) && !mime_is_attachment(obj)
	&& g_mime_content_type_is_type(ct, "text", "plain")
	&& g_mime_content_type_is_type(g_mime_object_get_content_type(ws->body), "text", "plain")) {
	if (ws->extra_text && !ws->text_more && ws->text_room > 2) {
	    GString *t = g_string_new(NULL);

	    ws->text_room -= 2;
	    ws->text_more = mime_part_text_append(obj, t, &ws->text_room);
	    if (t->len > 0) {
		g_string_append(ws->extra_text, "\n\n");
		g_string_append_len(ws->extra_text, t->str, (gssize) t->len);
	    } else {
		ws->text_room += 2;
	    }
	    g_string_free(t, TRUE);
	} else if (ws->extra_text) {
	    ws->text_more = TRUE;
	}
	return;
    }
    if (ws->body && pct && g_mime_content_type_is_type(pct, "multipart", "related")
	&& mime_is_text(obj, "html"))
	return;
    add_attachment(ws, obj);
}

GPtrArray *mime_attachment_contents(GMimeMessage *msg, json_t *attachments)
{
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    struct walk_state ws = {0};
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    json_t *a;
    size_t  i;

    g_ptr_array_set_size(out, (guint) json_array_size(attachments));
    ws.wanted = g_hash_table_new(NULL, NULL);
    ws.contents = out;
    json_array_foreach(attachments, i, a) {
	json_int_t part = json_integer_value(json_object_get(a, "part"));

	if (part > 0 && part <= G_MAXINT)
	    g_hash_table_insert(ws.wanted, GINT_TO_POINTER((int) part), GUINT_TO_POINTER(i));
    }
    ws.body = mime_pick_body(top, 0);
    if (top && top != ws.body)
	mime_walk_parts(&ws, top, NULL, 0);
    g_hash_table_destroy(ws.wanted);
    return out;
}
