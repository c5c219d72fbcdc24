/*
 * NAME
 *	envelope_codec - the envelope as the queue carries it
 * SYNOPSIS
 *	#include "envelope.h"
 *
 *	char   *envelope_encode(env, version, &text, &text_len)
 *	json_t *envelope_decode(json, len, &why)
 *	json_t *envelope_decode_parts(json, len, text, text_len, &why)
 *	gsize	envelope_raw_size(env)
 *	const char *envelope_str(obj, key)
 * DESCRIPTION
 *	envelope_encode() writes the envelope for the queue: the JSON
 *	without its "text" member and with "v" version (malloc'ed, free()),
 *	and the text apart
 *	(*text points into env). The text is the biggest member, and jansson
 *	reads and writes long strings slowly (about 37 MB/s here): as a
 *	field of its own it costs a copy.
 *
 *	envelope_decode_parts() parses and checks an envelope read from the
 *	queue, putting the text given apart back in as "text";
 *	envelope_decode() reads one whose JSON holds its text. They return
 *	NULL and a reason (g_free) for what is not an envelope this version
 *	understands: versions 1 and 2 have the same JSON (2 says how the
 *	entry's other fields may be encoded, which the queue's reader undid).
 *
 *	envelope_raw_size() reads "raw_size", the bytes of the original
 *	that travel beside the envelope. envelope_str() is a member's string,
 *	"" when it is missing or not a string.
 */
#include <string.h>

#include "envelope.h"

char   *envelope_encode(json_t *env, int version, const char **text, gsize *text_len)
{
    json_t *t = json_incref(json_object_get(env, "text"));
    json_t *v = json_incref(json_object_get(env, "v"));
    char   *json;

    *text = t ? json_string_value(t) : "";
    *text_len = t ? json_string_length(t) : 0;
    json_object_del(env, "text");
    json_object_set_new(env, "v", json_integer(version));
    json = json_dumps(env, JSON_COMPACT);
    if (t)
	json_object_set_new(env, "text", t);	/* gives back our reference */
    if (v)
	json_object_set_new(env, "v", v);
    return json;
}

json_t *envelope_decode(const char *json, gsize len, char **why)
{
    return envelope_decode_parts(json, len, NULL, 0, why);
}

json_t *envelope_decode_parts(const char *text_json, gsize len, const char *body,
			      gsize body_len, char **why)
{
    json_error_t err;
    json_t *env = json_loadb(text_json, len, 0, &err);
    static const char *const strings[] = {"id", "dedupe_key", "subject", "text", NULL};
    static const char *const arrays[] = {"recipients", "mailboxes", "from", "to", "cc",
    "reply_to", "references", "attachments", "headers", NULL};
    json_int_t v;

    if (env == NULL) {
	*why = g_strdup_printf("not JSON: %s at line %d column %d", err.text,
			       err.line, err.column);
	return NULL;
    }
    if (!json_is_object(env)) {
	*why = g_strdup("not a JSON object");
	goto bad;
    }
    if (body) {
	/* The text travels beside the JSON: valid UTF-8 from the milter. */
	if (g_utf8_validate_len(body, body_len, NULL)) {
	    json_object_set_new_nocheck(env, "text", json_stringn_nocheck(body, body_len));
	} else {
	    g_autofree char *valid = g_utf8_make_valid(body, body_len);

	    json_object_set_new_nocheck(env, "text", json_string_nocheck(valid));
	}
    }
    v = json_integer_value(json_object_get(env, "v"));
    if (v < ENVELOPE_VERSION_PLAIN || v > ENVELOPE_VERSION) {
	*why = g_strdup_printf("envelope version %" JSON_INTEGER_FORMAT " is not %d to %d"
			       " (is this worker older than the milter?)", v,
			       ENVELOPE_VERSION_PLAIN, ENVELOPE_VERSION);
	goto bad;
    }
    for (int i = 0; strings[i]; i++)
	if (!json_is_string(json_object_get(env, strings[i]))) {
	    *why = g_strdup_printf("member '%s' is missing or not a string", strings[i]);
	    goto bad;
	}
    for (int i = 0; arrays[i]; i++)
	if (!json_is_array(json_object_get(env, arrays[i]))) {
	    *why = g_strdup_printf("member '%s' is missing or not an array", arrays[i]);
	    goto bad;
	}
    if (json_array_size(json_object_get(env, "mailboxes")) == 0) {
	*why = g_strdup("no mailbox named");
	goto bad;
    }
    return env;
bad:
    json_decref(env);
    return NULL;
}

gsize   envelope_raw_size(json_t *env)
{
    json_int_t n = json_integer_value(json_object_get(env, "raw_size"));

    return n > 0 ? (gsize) n : 0;
}

const char *envelope_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}
