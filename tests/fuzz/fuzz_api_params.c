/*
 * NAME
 *	fuzz_api_params - fuzz target: the HTTP API's parsers (worker/api_params.c)
 * DESCRIPTION
 *	The first byte chooses what reads the rest, as a client sends it:
 *	0 a query string (every parameter allowed), 1 a path, 2 a cursor,
 *	3 a since value, 4 a ticket number and an id, 5 a text cut by
 *	api_text_json(). What must hold: a refusal has a reason; what is
 *	accepted keeps its bounds (limit 1..500, values at most their size,
 *	no NUL or control character, valid UTF-8; segments without "/", "."
 *	or ".."); a cursor made from what was read reads back to the same
 *	id; a cut text is valid UTF-8 of at most its bound and the marker.
 */
#include <string.h>
#include <jansson.h>

#include "api_int.h"
#include "api_params.h"
#include "fuzz.h"

static void value_ok(const char *name, const char *v, gsize max)
{
    if (v == NULL)
	return;
    if (strlen(v) == 0 || strlen(v) > max || !g_utf8_validate(v, -1, NULL))
	fuzz_fail("api_params_parse(): %s of %zu bytes or not UTF-8", name, strlen(v));
    for (const char *p = v; *p; p++)
	if ((unsigned char) *p < 0x20 || *p == 0x7f)
	    fuzz_fail("api_params_parse(): a control character in %s", name);
}

static void query(const char *s)
{
    struct api_params p;
    g_autofree char *why = NULL;

    if (api_params_parse(s, 0x7f, &p, &why) < 0) {
	if (why == NULL || *why == 0)
	    fuzz_fail("api_params_parse() refused without a reason");
	return;
    }
    if (p.limit < 1 || p.limit > API_LIMIT_MAX || p.since < 0 || p.after < 0)
	fuzz_fail("api_params_parse(): limit %d, since or after out of range", p.limit);
    value_ok("mailbox", p.mailbox, API_VALUE_MAX);
    value_ok("status", p.status, API_VALUE_MAX);
    value_ok("cursor", p.cursor, API_VALUE_MAX);
    value_ok("q", p.q, API_Q_MAX);
    api_params_clear(&p);
}

static void path(const char *s)
{
    g_autofree char *why = NULL;
    char  **seg = api_path_split(s, &why);

    if (seg == NULL) {
	if (why == NULL)
	    fuzz_fail("api_path_split() refused without a reason");
	return;
    }
    for (int i = 0; seg[i]; i++)
	if (*seg[i] == 0 || strchr(seg[i], '/') || strchr(seg[i], '%')
	    || strcmp(seg[i], ".") == 0 || strcmp(seg[i], "..") == 0)
	    fuzz_fail("api_path_split() gave the segment '%s'", seg[i]);
    g_strfreev(seg);
}

static void cursor(const char *s)
{
    gint64  before = 0;
    g_autofree char *why = NULL;

    if (api_cursor_read(s, "tickets", "f", &before, &why)) {
	g_autofree char *again = api_cursor_make("tickets", "f", before);
	gint64  b2 = 0;
	g_autofree char *w2 = NULL;

	if (before < 1 || strcmp(again, s) != 0)
	    fuzz_fail("a cursor read as %" G_GINT64_FORMAT " is not the one made of it", before);
	if (!api_cursor_read(again, "tickets", "f", &b2, &w2) || b2 != before)
	    fuzz_fail("a cursor made does not read back");
    } else if (why == NULL) {
	fuzz_fail("api_cursor_read() refused without a reason");
    }
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *s = NULL;

    fuzz_init();
    if (size == 0)
	return 0;
    s = g_strndup((const char *) data + 1, size - 1);	/* up to the first NUL, as C reads it */
    switch (data[0]) {
    case 0:
	query(s);
	break;
    case 1:
	path(s);
	break;
    case 2:
	cursor(s);
	break;
    case 3:{
	    gint64  t = -1;

	    if (api_parse_since(s, &t) && (t < 0 || t > G_GINT64_CONSTANT(253402300799)))
		fuzz_fail("api_parse_since() gave %" G_GINT64_FORMAT, t);
	    break;
	}
    case 4:{
	    gint64  id = 0;

	    if (api_number_ok(s) && (strchr(s, '/') || strchr(s, '%') || strlen(s) > API_NUMBER_MAX))
		fuzz_fail("api_number_ok() took '%s'", s);
	    if (api_parse_id(s, &id) && (id < 1 || id > (G_GINT64_CONSTANT(1) << 53)))
		fuzz_fail("api_parse_id() gave %" G_GINT64_FORMAT, id);
	    break;
	}
    default:{
	    gboolean cut = FALSE;
	    gsize   max = data[0];
	    json_t *j = api_text_json((const char *) data + 1, size - 1, max, &cut);
	    const char *v = json_string_value(j);

	    if (v == NULL || !g_utf8_validate(v, -1, NULL)
		|| strlen(v) > max + strlen(API_TRUNCATED) + 3 * (size - 1))
		fuzz_fail("api_text_json() gave no string, or not UTF-8");
	    if (cut && strlen(v) > max + strlen(API_TRUNCATED))
		fuzz_fail("api_text_json() cut to %zu bytes, more than %zu and the marker",
			  strlen(v), (size_t) max);
	    json_decref(j);
	    break;
	}
    }
    return 0;
}
