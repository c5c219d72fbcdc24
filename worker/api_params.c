/*
 * NAME
 *	api_params - strict parsing of the HTTP API's paths, parameters and cursors
 * SYNOPSIS
 *	#include "api_params.h"
 *
 *	int	api_params_parse(query, allowed, &p, &why)
 *	void	api_params_clear(&p)
 *	char	*api_decode(s, len, plus_is_space, &why)
 *	gboolean api_parse_id(s, &id)
 *	gboolean api_number_ok(s)
 *	gboolean api_parse_since(s, &unix_time)
 *	char	**api_path_split(path, &why)
 *	char	*api_cursor_make(kind, filter, before)
 *	gboolean api_cursor_read(cursor, kind, filter, &before, &why)
 * DESCRIPTION
 *	Everything here reads what a client sent, so everything is refused
 *	rather than guessed: a parameter the route does not allow, one given
 *	twice, one without "=", an empty value, a percent sign not followed
 *	by two hex digits, an encoded NUL or control character, bytes that
 *	are not UTF-8 once decoded, a value over its bound. Each function
 *	runs in time linear in its input and allocates at most its size.
 *
 *	api_params_parse() reads a raw query string (without the "?"; NULL
 *	or "" for none) into p; allowed is the set of enum api_param the
 *	route takes. limit is 1..API_LIMIT_MAX (API_LIMIT_DEFAULT when not
 *	given), since an RFC 3339 time or Unix seconds (api_parse_since()),
 *	after a message id, q at most API_Q_MAX bytes, the others at most
 *	API_VALUE_MAX. "+" is a space (form encoding). Names are compared
 *	as sent: an encoded name is an unknown one. It returns 0, or -1 and
 *	*why (g_free), the text of a 400 answer; p is then cleared.
 *	api_params_clear() frees what p holds.
 *
 *	api_decode() percent-decodes len bytes of s as above: a new string,
 *	or NULL and *why.
 *
 *	api_parse_id() takes a decimal id 1..2^53 (what a JSON number keeps
 *	exactly) without sign, spaces or leading zeros. api_number_ok() says
 *	whether s can be a ticket number (PREFIX-YYYY-NNNNNN: letters,
 *	digits, "-", "_" and ".", at least one digit, at most
 *	API_NUMBER_MAX bytes; a [store] ticket_prefix with other characters
 *	cannot be reached through the API). api_parse_since() takes YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)
 *	or Unix seconds, up to 9999-12-31.
 *
 *	api_path_split() splits a raw path ("/api/v1/tickets") into its
 *	segments (g_strfreev): only letters, digits, "-", "_", "." and "/"
 *	are allowed (so no percent-encoding at all: "..%2f" cannot become a
 *	separator later), no empty segment ("//", a trailing "/"), no "."
 *	or ".." segment. NULL and *why otherwise.
 *
 *	api_cursor_make() makes the opaque cursor of a keyset page: the
 *	base64url text (no padding) of {"v":1,"k":KIND,"f":F,"b":BEFORE},
 *	F the first 16 hex digits of the SHA-256 of filter (the query's
 *	other parameters, as the caller writes them), so that a cursor of
 *	one list given to another list or query is told apart.
 *	api_cursor_read() takes one back: TRUE and *before, or FALSE and
 *	*why for a malformed cursor, or one of another kind or query. A
 *	cursor is not secret and not signed: it only says where a page
 *	starts, and whoever holds a token may read every page anyway.
 * DIAGNOSTICS
 *	Texts in *why name the parameter and what is expected.
 */
#include <string.h>
#include <jansson.h>

#include "api_params.h"

#define ID_MAX		(G_GINT64_CONSTANT(1) << 53)
#define UNIX_MAX	G_GINT64_CONSTANT(253402300799)	/* 9999-12-31T23:59:59Z */
#define CURSOR_MAX	256				/* bytes of a cursor's text */

static const struct {
    const char *name;
    enum api_param bit;
} params[] = {
    {"mailbox", API_P_MAILBOX}, {"status", API_P_STATUS}, {"since", API_P_SINCE},
    {"limit", API_P_LIMIT}, {"cursor", API_P_CURSOR}, {"q", API_P_Q}, {"after", API_P_AFTER},
};

static int hexval(char c)
{
    return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

char   *api_decode(const char *s, gsize len, gboolean plus_is_space, char **why)
{
    GString *out = g_string_sized_new(len);

    for (gsize i = 0; i < len; i++) {
	unsigned char c = s[i];

	if (c == '%') {
	    if (len - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
		*why = g_strdup("a '%' that is not followed by two hex digits");
		goto fail;
	    }
	    c = (unsigned char) (hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
	    i += 2;
	} else if (c == '+' && plus_is_space) {
	    c = ' ';
	} else if (c <= 0x20 || c >= 0x7f) {
	    *why = g_strdup("a byte that must be percent-encoded");
	    goto fail;
	}
	if (c < 0x20 || c == 0x7f) {
	    *why = g_strdup("an encoded NUL or control character");
	    goto fail;
	}
	g_string_append_c(out, (char) c);
    }
    if (!g_utf8_validate_len(out->str, out->len, NULL)) {
	*why = g_strdup("bytes that are not UTF-8 once decoded");
	goto fail;
    }
    return g_string_free(out, FALSE);

fail:
    g_string_free(out, TRUE);
    return NULL;
}

gboolean api_parse_id(const char *s, gint64 *id)
{
    gint64  v = 0;
    gsize   n = strlen(s);

    if (n == 0 || n > 16 || s[0] == '0')
	return FALSE;
    for (gsize i = 0; i < n; i++) {
	if (!g_ascii_isdigit(s[i]))
	    return FALSE;
	v = v * 10 + (s[i] - '0');		/* 16 digits fit a gint64 */
    }
    if (v > ID_MAX)
	return FALSE;
    *id = v;
    return TRUE;
}

gboolean api_number_ok(const char *s)
{
    gsize   n = strlen(s);
    gboolean digit = FALSE;

    if (n == 0 || n > API_NUMBER_MAX)
	return FALSE;
    for (gsize i = 0; i < n; i++) {
	if (g_ascii_isdigit(s[i]))
	    digit = TRUE;
	else if (!g_ascii_isalpha(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
	    return FALSE;
    }
    return digit;
}

/* digits - n decimal digits at s, as a number; -1 if they are not all digits */
static int digits(const char *s, int n)
{
    int     v = 0;

    for (int i = 0; i < n; i++) {
	if (!g_ascii_isdigit(s[i]))
	    return -1;
	v = v * 10 + (s[i] - '0');
    }
    return v;
}

gboolean api_parse_since(const char *s, gint64 *unix_time)
{
    gsize   n = strlen(s), i;
    int     y, mo, d, h, mi, sec, off = 0;
    g_autoptr(GTimeZone) utc = NULL;
    g_autoptr(GDateTime) dt = NULL;

    if (n > 0 && n <= 12 && g_ascii_isdigit(s[0])) {
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 0, UNIX_MAX, &v, NULL) || (s[0] == '0' && n > 1))
	    return FALSE;
	*unix_time = (gint64) v;
	return TRUE;
    }
    /* YYYY-MM-DDTHH:MM:SS: 19 bytes, then [.frac], then Z or +HH:MM */
    if (n < 20 || n > 40 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't')
	|| s[13] != ':' || s[16] != ':')
	return FALSE;
    if ((y = digits(s, 4)) < 1 || (mo = digits(s + 5, 2)) < 1 || mo > 12
	|| (d = digits(s + 8, 2)) < 1 || d > 31 || (h = digits(s + 11, 2)) < 0 || h > 23
	|| (mi = digits(s + 14, 2)) < 0 || mi > 59 || (sec = digits(s + 17, 2)) < 0 || sec > 60)
	return FALSE;
    i = 19;
    if (s[i] == '.') {
	gsize   start = ++i;

	while (i < n && g_ascii_isdigit(s[i]))
	    i++;
	if (i == start || i - start > 9)
	    return FALSE;
    }
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
	off = 0;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
	int     oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);

	if (oh < 0 || oh > 23 || om < 0 || om > 59)
	    return FALSE;
	off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
    } else {
	return FALSE;
    }
    utc = g_time_zone_new_utc();
    /* GDateTime checks the day of the month (Feb 30 is refused); a leap second counts as :59. */
    if ((dt = g_date_time_new(utc, y, mo, d, h, mi, MIN(sec, 59))) == NULL)
	return FALSE;
    *unix_time = g_date_time_to_unix(dt) - off;
    return *unix_time >= 0 && *unix_time <= UNIX_MAX;
}

void    api_params_clear(struct api_params *p)
{
    g_clear_pointer(&p->mailbox, g_free);
    g_clear_pointer(&p->status, g_free);
    g_clear_pointer(&p->q, g_free);
    g_clear_pointer(&p->cursor, g_free);
    p->seen = 0;
    p->since = p->after = 0;
    p->limit = API_LIMIT_DEFAULT;
}

/* param_set - one decoded value into p; 0, or -1 and *why */
static int param_set(struct api_params *p, enum api_param bit, const char *name, char *value,
		     char **why)
{
    gsize   len = strlen(value);
    guint64 n;

    if (len == 0) {
	*why = g_strdup_printf("parameter '%s' is empty", name);
	goto fail;
    }
    if (len > (bit == API_P_Q ? API_Q_MAX : API_VALUE_MAX)) {
	*why = g_strdup_printf("parameter '%s' is longer than %d bytes", name,
			       bit == API_P_Q ? API_Q_MAX : API_VALUE_MAX);
	goto fail;
    }
    switch (bit) {
    case API_P_MAILBOX:
	p->mailbox = value;
	return 0;
    case API_P_STATUS:
	p->status = value;
	return 0;
    case API_P_Q:
	p->q = value;
	return 0;
    case API_P_CURSOR:
	p->cursor = value;
	return 0;
    case API_P_LIMIT:
	if (value[0] == '0' || !g_ascii_string_to_unsigned(value, 10, 1, API_LIMIT_MAX, &n, NULL)) {
	    *why = g_strdup_printf("parameter 'limit': expected 1 to %d, got '%.20s'",
				   API_LIMIT_MAX, value);
	    goto fail;
	}
	p->limit = (int) n;
	break;
    case API_P_SINCE:
	if (!api_parse_since(value, &p->since)) {
	    *why = g_strdup_printf("parameter 'since': expected an RFC 3339 time"
				   " (2026-12-01T10:00:00Z) or Unix seconds, got '%.40s'", value);
	    goto fail;
	}
	break;
    case API_P_AFTER:
	if (!api_parse_id(value, &p->after)) {
	    *why = g_strdup_printf("parameter 'after': expected a message id, got '%.20s'",
				   value);
	    goto fail;
	}
	break;
    }
    g_free(value);
    return 0;

fail:
    g_free(value);
    return -1;
}

int     api_params_parse(const char *query, unsigned allowed, struct api_params *p, char **why)
{
    const char *s = query ? query : "";
    gsize   n = strlen(s);

    memset(p, 0, sizeof(*p));
    p->limit = API_LIMIT_DEFAULT;
    if (n > API_QUERY_MAX) {
	*why = g_strdup_printf("the query string is longer than %d bytes", API_QUERY_MAX);
	return -1;
    }
    while (*s) {
	const char *amp = strchr(s, '&');
	gsize   len = amp ? (gsize) (amp - s) : strlen(s);
	const char *eq = memchr(s, '=', len);
	gsize   nlen = eq ? (gsize) (eq - s) : len;
	enum api_param bit = 0;
	const char *name = NULL;
	char   *value;
	g_autofree char *vwhy = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(params); i++)
	    if (strlen(params[i].name) == nlen && memcmp(params[i].name, s, nlen) == 0) {
		bit = params[i].bit;
		name = params[i].name;
	    }
	if (bit == 0 || !(allowed & bit)) {
	    g_autofree char *shown = api_decode(s, MIN(nlen, 40), FALSE, &vwhy);

	    *why = shown && *shown ? g_strdup_printf("unknown parameter '%s'", shown)
		: g_strdup("unknown parameter");
	    goto fail;
	}
	if (eq == NULL) {
	    *why = g_strdup_printf("parameter '%s' has no '=' and value", name);
	    goto fail;
	}
	if (p->seen & bit) {
	    *why = g_strdup_printf("parameter '%s' is given twice", name);
	    goto fail;
	}
	p->seen |= bit;
	if ((value = api_decode(eq + 1, len - nlen - 1, TRUE, &vwhy)) == NULL) {
	    *why = g_strdup_printf("parameter '%s': %s", name, vwhy);
	    goto fail;
	}
	if (param_set(p, bit, name, value, why) < 0)
	    goto fail;
	if (amp == NULL)
	    break;
	s = amp + 1;
	if (*s == 0) {
	    *why = g_strdup("the query string ends with '&'");
	    goto fail;
	}
    }
    return 0;

fail:
    api_params_clear(p);
    return -1;
}

char  **api_path_split(const char *path, char **why)
{
    gsize   n = strlen(path);
    char  **seg;

    if (n == 0 || path[0] != '/' || n > 512) {
	*why = g_strdup("the path must start with '/' and be at most 512 bytes");
	return NULL;
    }
    for (gsize i = 0; i < n; i++)
	if (!g_ascii_isalnum(path[i]) && !strchr("-_./", path[i])) {
	    *why = g_strdup(path[i] == '%' ? "percent-encoding is not accepted in the path"
			    : "a character that a path of this API cannot hold");
	    return NULL;
	}
    seg = g_strsplit(path + 1, "/", 16);
    for (int i = 0; seg[i]; i++)
	if (*seg[i] == 0 || strcmp(seg[i], ".") == 0 || strcmp(seg[i], "..") == 0
	    || strchr(seg[i], '/')) {
	    *why = g_strdup("an empty, '.' or '..' segment in the path");
	    g_strfreev(seg);
	    return NULL;
	}
    return seg;
}

/* filter_hash - the first 16 hex digits of the SHA-256 of filter (owned) */
static char *filter_hash(const char *filter)
{
    char   *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, filter, -1);

    sum[16] = 0;
    return sum;
}

/* base64url without padding, from GLib's base64 */
static char *b64url(const char *data, gsize len)
{
    char   *s = g_base64_encode((const guchar *) data, len);

    g_strdelimit(s, "+", '-');
    g_strdelimit(s, "/", '_');
    if (strchr(s, '='))
	*strchr(s, '=') = 0;
    return s;
}

char   *api_cursor_make(const char *kind, const char *filter, gint64 before)
{
    g_autofree char *f = filter_hash(filter);
    json_t *obj = json_pack("{s:i,s:s,s:s,s:I}", "v", 1, "k", kind, "f", f,
			    "b", (json_int_t) before);
    char   *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char   *out;

    if (text == NULL)
	g_error("api_cursor_make: out of memory");
    out = b64url(text, strlen(text));
    free(text);
    json_decref(obj);
    return out;
}

gboolean api_cursor_read(const char *cursor, const char *kind, const char *filter,
			 gint64 *before, char **why)
{
    gsize   n = strlen(cursor), len;
    g_autofree char *std = NULL;
    g_autofree guchar *raw = NULL;
    g_autofree char *again = NULL;
    g_autofree char *f = NULL;
    json_t *obj = NULL, *b;
    gboolean ok = FALSE;

    if (n == 0 || n > CURSOR_MAX || n % 4 == 1)
	goto malformed;
    for (gsize i = 0; i < n; i++)
	if (!g_ascii_isalnum(cursor[i]) && cursor[i] != '-' && cursor[i] != '_')
	    goto malformed;
    std = g_strnfill(n + (4 - n % 4) % 4, '=');
    memcpy(std, cursor, n);
    g_strdelimit(std, "-", '+');
    g_strdelimit(std, "_", '/');
    raw = g_base64_decode(std, &len);
    /* One text per cursor: trailing bits that base64 ignores make another text. */
    again = b64url((const char *) raw, len);
    if (strcmp(again, cursor) != 0 || memchr(raw, 0, len))
	goto malformed;
    obj = json_loadb((const char *) raw, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(obj) || json_object_size(obj) != 4
	|| json_integer_value(json_object_get(obj, "v")) != 1
	|| !json_is_string(json_object_get(obj, "k"))
	|| !json_is_string(json_object_get(obj, "f"))
	|| !json_is_integer(b = json_object_get(obj, "b"))
	|| json_integer_value(b) < 1 || json_integer_value(b) > ID_MAX)
	goto malformed;
    f = filter_hash(filter);
    if (strcmp(json_string_value(json_object_get(obj, "k")), kind) != 0
	|| strcmp(json_string_value(json_object_get(obj, "f")), f) != 0) {
	*why = g_strdup("parameter 'cursor' belongs to another list or query: repeat the"
			" query's other parameters unchanged with its cursor");
	goto done;
    }
    *before = json_integer_value(b);
    ok = TRUE;
    goto done;

malformed:
    *why = g_strdup("parameter 'cursor' is malformed: use the next_cursor of a response as is");
done:
    json_decref(obj);
    return ok;
}
