/*
 * NAME
 *	test_api - unit tests of the HTTP API's parsers (worker/api_params.c, api.c)
 * DESCRIPTION
 *	Table-driven, hostile input first: query strings (unknown, repeated,
 *	empty and encoded parameters, "+" and "%20", %00 and control
 *	characters, broken and overlong percent escapes, bytes that are not
 *	UTF-8, limits out of range, huge and negative numbers, overlong
 *	values); paths ("..", "%2f", "//", a trailing "/"); ticket numbers
 *	and ids; since in RFC 3339 and Unix seconds (offsets, fractions, Feb
 *	30, year 10000); cursors made and read back, and cursors that are
 *	malformed, tampered with, padded, of another list or another query;
 *	and texts cut at a character boundary with the marker.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <jansson.h>

#include "api_int.h"
#include "api_params.h"
#include "tap.h"

#define ALL (API_P_MAILBOX | API_P_STATUS | API_P_SINCE | API_P_LIMIT | API_P_CURSOR)

/* ---------------------------------------------------------------- */
/*	Query strings							    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *query;
    unsigned allowed;
    const char *want;			/* "mailbox|status|limit|since|q|after", or NULL: refused */
    const char *why;			/* a part of the refusal */
} query_cases[] = {
    {NULL, ALL, "-|-|50|0|-|0", NULL},
    {"", ALL, "-|-|50|0|-|0", NULL},
    {"mailbox=support&status=new&limit=10", ALL, "support|new|10|0|-|0", NULL},
    {"limit=1", ALL, "-|-|1|0|-|0", NULL},
    {"limit=500", ALL, "-|-|500|0|-|0", NULL},
    {"since=1700000000", ALL, "-|-|50|1700000000|-|0", NULL},
    {"since=2023-11-14T22:13:20Z", ALL, "-|-|50|1700000000|-|0", NULL},
    {"mailbox=sup%70ort", ALL, "support|-|50|0|-|0", NULL},
    {"q=printer+broken", API_P_Q, "-|-|50|0|printer broken|0", NULL},
    {"q=printer%20broken", API_P_Q, "-|-|50|0|printer broken|0", NULL},
    {"q=%C3%BCber", API_P_Q, "-|-|50|0|\xc3\xbc" "ber|0", NULL},
    {"q=a%2Bb", API_P_Q, "-|-|50|0|a+b|0", NULL},
    {"after=12", API_P_AFTER, "-|-|50|0|-|12", NULL},
    /* refused */
    {"limit=0", ALL, NULL, "'limit': expected 1 to 500"},
    {"limit=501", ALL, NULL, "'limit'"},
    {"limit=-1", ALL, NULL, "'limit'"},
    {"limit=+5", ALL, NULL, "'limit'"},
    {"limit=05", ALL, NULL, "'limit'"},
    {"limit=99999999999999999999999999", ALL, NULL, "'limit'"},
    {"limit=1e2", ALL, NULL, "'limit'"},
    {"limit=%35", ALL, "-|-|5|0|-|0", NULL},	/* an encoded digit is a digit */
    {"limit=10&limit=20", ALL, NULL, "given twice"},
    {"mailbox=a&mailbox=a", ALL, NULL, "given twice"},
    {"foo=1", ALL, NULL, "unknown parameter 'foo'"},
    {"Mailbox=support", ALL, NULL, "unknown parameter"},
    {"mail%62ox=support", ALL, NULL, "unknown parameter"},
    {"q=x", ALL, NULL, "unknown parameter 'q'"},		/* not allowed on this route */
    {"limit", ALL, NULL, "no '='"},
    {"limit=", ALL, NULL, "is empty"},
    {"&limit=5", ALL, NULL, "unknown parameter"},
    {"limit=5&", ALL, NULL, "ends with '&'"},
    {"limit=5&&status=new", ALL, NULL, "unknown parameter"},
    {"mailbox=%00", ALL, NULL, "NUL or control"},
    {"mailbox=a%0d%0aX-Injected:%201", ALL, NULL, "NUL or control"},
    {"mailbox=%7f", ALL, NULL, "NUL or control"},
    {"mailbox=%", ALL, NULL, "two hex digits"},
    {"mailbox=%4", ALL, NULL, "two hex digits"},
    {"mailbox=%zz", ALL, NULL, "two hex digits"},
    {"mailbox=%%41", ALL, NULL, "two hex digits"},
    {"mailbox=%ff%fe", ALL, NULL, "not UTF-8"},
    {"mailbox=%c0%af", ALL, NULL, "not UTF-8"},		/* overlong "/" */
    {"mailbox=a b", ALL, NULL, "must be percent-encoded"},
    {"mailbox=\xc3\xbc", ALL, NULL, "must be percent-encoded"},
    {"since=yesterday", ALL, NULL, "'since'"},
    {"since=-1", ALL, NULL, "'since'"},
    {"since=99999999999999999999", ALL, NULL, "'since'"},
    {"since=2026-02-30T00:00:00Z", ALL, NULL, "'since'"},
    {"after=0", API_P_AFTER, NULL, "'after'"},
    {"after=-3", API_P_AFTER, NULL, "'after'"},
    {"after=9007199254740993", API_P_AFTER, NULL, "'after'"},	/* 2^53 + 1 */
    {"limit=5", 0, NULL, "unknown parameter 'limit'"},		/* a route without parameters */
};

static void test_query(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(query_cases); i++) {
	struct api_params p;
	g_autofree char *why = NULL;
	int     ret = api_params_parse(query_cases[i].query, query_cases[i].allowed, &p, &why);

	if (query_cases[i].want) {
	    g_autofree char *got = ret == 0
		? g_strdup_printf("%s|%s|%d|%" G_GINT64_FORMAT "|%s|%" G_GINT64_FORMAT,
				  p.mailbox ? p.mailbox : "-", p.status ? p.status : "-",
				  p.limit, p.since, p.q ? p.q : "-", p.after)
		: g_strdup_printf("refused: %s", why);

	    is_str(got, query_cases[i].want, "query '%s'", query_cases[i].query
		   ? query_cases[i].query : "(none)");
	    api_params_clear(&p);
	} else {
	    ok(ret < 0 && p.mailbox == NULL && p.q == NULL, "query '%s' refused",
	       query_cases[i].query);
	    has_str(why ? why : "", query_cases[i].why, "query '%s': why", query_cases[i].query);
	}
    }
}

/* Values over their bounds, and a query string over its bound. */
static void test_query_bounds(void)
{
    struct api_params p;
    g_autofree char *why = NULL;
    GString *q = g_string_new("mailbox=");

    for (int i = 0; i < API_VALUE_MAX; i++)
	g_string_append_c(q, 'a');
    ok(api_params_parse(q->str, ALL, &p, &why) == 0 && strlen(p.mailbox) == API_VALUE_MAX,
       "a value of API_VALUE_MAX bytes is taken");
    api_params_clear(&p);
    g_string_append_c(q, 'a');
    g_clear_pointer(&why, g_free);
    ok(api_params_parse(q->str, ALL, &p, &why) < 0 && strstr(why, "longer than"),
       "a value of API_VALUE_MAX + 1 bytes is refused");
    g_clear_pointer(&why, g_free);
    /* Encoded, the same value is three times as long on the wire: it counts decoded. */
    g_string_assign(q, "q=");
    for (int i = 0; i <= API_Q_MAX; i++)
	g_string_append(q, "%41");
    ok(api_params_parse(q->str, API_P_Q, &p, &why) < 0 && strstr(why, "'q' is longer"),
       "q of API_Q_MAX + 1 decoded bytes is refused");
    g_clear_pointer(&why, g_free);
    g_string_assign(q, "limit=5");
    while (q->len <= API_QUERY_MAX)
	g_string_append(q, "&limit=5");
    ok(api_params_parse(q->str, ALL, &p, &why) < 0 && strstr(why, "query string is longer"),
       "a query string over API_QUERY_MAX is refused before it is parsed");
    g_string_free(q, TRUE);
}

/* ---------------------------------------------------------------- */
/*	Paths, numbers, ids, times					    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *path;
    const char *want;			/* segments joined by ",", or NULL: refused */
} path_cases[] = {
    {"/api/v1/tickets", "api,v1,tickets"},
    {"/api/v1/tickets/INT-2026-000001/attachments/3", "api,v1,tickets,INT-2026-000001,attachments,3"},
    {"/api/v1/tickets/..", NULL},
    {"/api/v1/tickets/../../etc/passwd", NULL},
    {"/api/v1/tickets/..%2f..%2fetc", NULL},
    {"/api/v1/tickets/%2e%2e", NULL},
    {"/api/v1/tickets/./x", NULL},
    {"/api//v1/tickets", NULL},
    {"/api/v1/tickets/", NULL},
    {"api/v1/tickets", NULL},
    {"", NULL},
    {"/api/v1/tick ets", NULL},
    {"/api/v1/tickets\\x", NULL},
    {"/api/v1/tickets;x", NULL},
};

static void test_path(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(path_cases); i++) {
	g_autofree char *why = NULL;
	char  **seg = api_path_split(path_cases[i].path, &why);
	g_autofree char *got = seg ? g_strjoinv(",", seg) : NULL;

	if (path_cases[i].want)
	    is_str(got, path_cases[i].want, "path '%s'", path_cases[i].path);
	else
	    ok(seg == NULL && why != NULL, "path '%s' refused (%s)", path_cases[i].path,
	       why ? why : "taken");
	g_strfreev(seg);
    }
    {
	GString *p = g_string_new("/api");

	while (p->len <= 512)
	    g_string_append(p, "/x");
	g_autofree char *why = NULL;

	ok(api_path_split(p->str, &why) == NULL, "a path over 512 bytes is refused");
	g_string_free(p, TRUE);
    }
}

static const struct {
    const char *s;
    gboolean number;			/* api_number_ok() */
    gint64  id;				/* api_parse_id(); 0: refused */
} token_cases[] = {
    {"INT-2026-000123", TRUE, 0},
    {"ACME_X-1999-42", TRUE, 0},
    {"A.B-2026-000007", TRUE, 0},
    {"INT", FALSE, 0},					/* no digit */
    {"", FALSE, 0},
    {"INT-2026-00012/3", FALSE, 0},
    {"INT-2026-000123%00", FALSE, 0},
    {"INT 2026", FALSE, 0},
    {"1", TRUE, 1},
    {"42", TRUE, 42},
    {"9007199254740992", TRUE, G_GINT64_CONSTANT(9007199254740992)},	/* 2^53 */
    {"9007199254740993", TRUE, 0},
    {"99999999999999999999999", TRUE, 0},
    {"0", TRUE, 0},
    {"007", TRUE, 0},
    {"-1", TRUE, 0},
    {"+1", FALSE, 0},
    {"1.0", TRUE, 0},
    {"0x10", TRUE, 0},
    {"12a", TRUE, 0},
};

static void test_tokens(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(token_cases); i++) {
	gint64  id = 0;
	gboolean got = api_parse_id(token_cases[i].s, &id);

	ok(api_number_ok(token_cases[i].s) == token_cases[i].number, "api_number_ok('%s') %s",
	   token_cases[i].s, token_cases[i].number ? "TRUE" : "FALSE");
	if (token_cases[i].id)
	    ok(got && id == token_cases[i].id, "api_parse_id('%s') = %" G_GINT64_FORMAT,
	       token_cases[i].s, token_cases[i].id);
	else
	    ok(!got, "api_parse_id('%s') refused", token_cases[i].s);
    }
    {
	char    big[API_NUMBER_MAX + 2];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ok(!api_number_ok(big), "a ticket number over API_NUMBER_MAX bytes is refused");
	big[API_NUMBER_MAX] = 0;
	ok(api_number_ok(big), "a ticket number of API_NUMBER_MAX bytes is taken");
    }
}

static const struct {
    const char *s;
    gint64  want;			/* -1: refused */
} since_cases[] = {
    {"0", 0},
    {"1700000000", 1700000000},
    {"253402300799", G_GINT64_CONSTANT(253402300799)},
    {"253402300800", -1},
    {"2023-11-14T22:13:20Z", 1700000000},
    {"2023-11-14t22:13:20z", 1700000000},
    {"2023-11-14T22:13:20.123456Z", 1700000000},
    {"2023-11-15T00:13:20+02:00", 1700000000},
    {"2023-11-14T20:13:20-02:00", 1700000000},
    {"2024-02-29T00:00:00Z", 1709164800},
    {"2023-02-29T00:00:00Z", -1},
    {"2026-02-30T00:00:00Z", -1},
    {"2026-13-01T00:00:00Z", -1},
    {"2026-12-01T24:00:00Z", -1},
    {"2026-12-01T10:00:00", -1},				/* no offset */
    {"2026-12-01 10:00:00Z", -1},
    {"2026-12-01T10:00:00.Z", -1},
    {"2026-12-01T10:00:00.1234567890Z", -1},
    {"2026-12-01T10:00:00+2:00", -1},
    {"2026-12-01T10:00:00+02:00junk", -1},
    {"2026-12-01", -1},
    {"10000-01-01T00:00:00Z", -1},
    {"-1", -1},
    {"01", -1},
    {"1e9", -1},
    {"", -1},
};

static void test_since(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(since_cases); i++) {
	gint64  t = -1;
	gboolean got = api_parse_since(since_cases[i].s, &t);

	if (since_cases[i].want >= 0)
	    ok(got && t == since_cases[i].want, "since '%s' = %" G_GINT64_FORMAT " (got %"
	       G_GINT64_FORMAT ")", since_cases[i].s, since_cases[i].want, t);
	else
	    ok(!got, "since '%s' refused", since_cases[i].s);
    }
}

/* ---------------------------------------------------------------- */
/*	Cursors								    */
/* ---------------------------------------------------------------- */

static void test_cursor(void)
{
    static const gint64 ids[] = {1, 2, 999, G_GINT64_CONSTANT(9007199254740992)};
    g_autofree char *c = NULL;
    g_autofree char *why = NULL;
    gint64  before = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
	g_autofree char *cur = api_cursor_make("tickets", "=support\n\n0", ids[i]);
	gint64  b = 0;
	g_autofree char *w = NULL;

	ok(api_cursor_read(cur, "tickets", "=support\n\n0", &b, &w) && b == ids[i],
	   "cursor of id %" G_GINT64_FORMAT " read back", ids[i]);
	ok(strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
	   == strlen(cur), "cursor '%s' is base64url without padding", cur);
    }
    c = api_cursor_make("tickets", "f", 77);
    ok(!api_cursor_read(c, "search", "f", &before, &why) && strstr(why, "another list"),
       "a ticket list's cursor given to the search is refused");
    g_clear_pointer(&why, g_free);
    ok(!api_cursor_read(c, "tickets", "g", &before, &why) && strstr(why, "another list"),
       "a cursor of other filters is refused");
    g_clear_pointer(&why, g_free);
    {
	/* Every one-character change of a cursor is refused or reads the id it says. */
	int     wrong = 0;

	for (gsize i = 0; i < strlen(c); i++) {
	    g_autofree char *t = g_strdup(c);
	    gint64  b = 0;
	    g_autofree char *w = NULL;

	    t[i] = t[i] == 'A' ? 'B' : 'A';
	    if (api_cursor_read(t, "tickets", "f", &b, &w) && b == 77)
		wrong++;
	}
	is_int(wrong, 0, "no altered cursor reads as the original");
    }
    {
	static const char *const bad[] = {
	    "", "=", "abc=", "a", "!!!!", "eyJ2IjoxfQ", "eyJ2IjoxfQ==", "bnVsbA",
	    "W10", /* [] */
	    "eyJ2IjoxLCJrIjoidGlja2V0cyIsImYiOiIxMjM0NTY3ODkwMTIzNDU2IiwiYiI6LTF9",  /* b -1 */
	};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
	    g_autofree char *w = NULL;

	    ok(!api_cursor_read(bad[i], "tickets", "f", &before, &w) && strstr(w, "malformed"),
	       "malformed cursor '%s' refused", bad[i]);
	}
    }
    {
	/* A cursor with duplicate keys, one of another version, and one far too long. */
	const char *json[] = {
	    "{\"b\":5,\"b\":6,\"f\":\"x\",\"k\":\"tickets\"}",
	    "{\"b\":5,\"f\":\"x\",\"k\":\"tickets\",\"v\":2}",
	    "{\"b\":5.5,\"f\":\"x\",\"k\":\"tickets\",\"v\":1}",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(json); i++) {
	    g_autofree char *b64 = g_base64_encode((const guchar *) json[i], strlen(json[i]));
	    g_autofree char *w = NULL;

	    g_strdelimit(b64, "+", '-');
	    g_strdelimit(b64, "/", '_');
	    if (strchr(b64, '='))
		*strchr(b64, '=') = 0;
	    ok(!api_cursor_read(b64, "tickets", "f", &before, &w), "cursor of %s refused",
	       json[i]);
	}
	{
	    g_autofree char *lng = g_strnfill(4000, 'A');
	    g_autofree char *w = NULL;

	    ok(!api_cursor_read(lng, "tickets", "f", &before, &w), "a 4000-byte cursor refused");
	}
    }
}

/* ---------------------------------------------------------------- */
/*	Cut texts							    */
/* ---------------------------------------------------------------- */

static void test_text(void)
{
    gboolean cut = FALSE;
    json_t *j = api_text_json("hello", 5, 10, &cut);

    is_str(json_string_value(j), "hello", "a short text is kept");
    ok(!cut, "and not marked cut");
    json_decref(j);
    /* "aü" is 3 bytes: cut at 2 must not split the ü. */
    j = api_text_json("a\xc3\xbc" "b", 4, 2, &cut);
    is_str(json_string_value(j), "a" API_TRUNCATED, "cut at a character boundary, marked");
    ok(cut, "marked cut");
    json_decref(j);
    j = api_text_json("a\xff" "b", 3, 100, &cut);
    ok(j && g_utf8_validate(json_string_value(j), -1, NULL), "bytes not UTF-8 are repaired");
    json_decref(j);
    j = api_text_json("abc\0def", 7, 100, &cut);
    ok(j != NULL && strncmp(json_string_value(j), "abc", 3) == 0
       && g_utf8_validate(json_string_value(j), -1, NULL), "a text with a NUL stays a JSON string");
    json_decref(j);
}

int     main(void)
{
    test_query();
    test_query_bounds();
    test_path();
    test_tokens();
    test_since();
    test_cursor();
    test_text();
    return tap_done();
}
