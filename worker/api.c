/*
 * NAME
 *	api - the worker's read-only HTTP API: routes, bearer tokens, errors
 * SYNOPSIS
 *	#include "api.h"
 *
 *	const char *api_listen(cfg)
 *	void	api_config_check(cfg, errors)
 *	struct api *api_new(cfg, &why)
 *	struct api *api_free(a)
 *	enum MHD_Result api_handle(a, connection, uri, method)
 *
 *	#include "api_int.h"	(the API's own files)
 *
 *	void	api_error(out, status, fmt, ...)
 *	void	api_store_error(out, ret, what, why)
 *	json_t	*api_value_json(value, max)
 *	json_t	*api_text_json(text, len, max, &cut)
 * DESCRIPTION
 *	The API lives on the worker's HTTP server (metrics_http.c, [http]
 *	listen), beside /metrics: GET /api/v1/tickets, /api/v1/tickets/NUMBER,
 *	/api/v1/tickets/NUMBER/attachments/ID and /api/v1/search, described
 *	in docs/api.openapi.yaml. api_listen() is the server's address:
 *	[http] listen, or its old name [metrics] listen when that is empty.
 *
 *	api_config_check() is the worker's configuration check of [http]
 *	(checkconf.c): the token file loads, and [http] listen and its old
 *	name are not both set to different addresses.
 *
 *	api_new() reads [http] token_file: one bearer token per line (blank
 *	lines and lines starting with "#" skipped), each at least
 *	TOKEN_MIN bytes of printable ASCII. Only their SHA-256 digests are
 *	kept, and a presented token is hashed and compared with every one
 *	of them in constant time (no early exit: how long a refusal takes
 *	says nothing about how much of a token was right). Without a token
 *	file there is no API: every /api path is 404 with a JSON error. The
 *	file is read again when the worker reopens the server (SIGHUP).
 *
 *	api_handle() answers one request whose raw URI (as sent, before
 *	libmicrohttpd decoded anything) is uri: a path under /api/. The
 *	order is fixed so that nothing is said to a client without a token:
 *	API off (404), method (405 unless GET or HEAD), token (401 with
 *	WWW-Authenticate), then path (api_params.c: 400 for percent-encoding
 *	or dot segments, 404 for no such route), then the route's handler.
 *	Every 4xx and 5xx has a body {"error": "TEXT"}; a response is JSON
 *	of at most API_RESPONSE_MAX bytes (handlers cut long texts and cap
 *	lists) or an attachment's bytes.
 *
 *	Requests run on the server's thread pool, several at once; each
 *	takes a read-only store connection (store_open_readonly(): it never
 *	waits for or blocks the writer) from a small pool, opened when none
 *	is idle and kept for the next request, closed after a failure.
 *	api_free() closes them; the server must be stopped first.
 *
 *	api_error() sets a reply's status and error text.
 *	api_store_error() turns a failed store op into 503 (STORE_BUSY:
 *	try again) or 500; what the store said is logged, not shown.
 *	api_text_json() makes a JSON string of len bytes of text, repaired
 *	to UTF-8 and cut at a character boundary to at most max bytes plus
 *	API_TRUNCATED (*cut says so; cut may be NULL); api_value_json() does
 *	that for a column of a store row (integers and null as they are).
 * DIAGNOSTICS
 *	api_new() returns NULL and *why (g_free) when the token file cannot
 *	be read or holds a token that is too short. A refused request is
 *	logged at debug level, a store failure as a warning.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "api_int.h"
#include "log.h"

#define TOKEN_MIN	16		/* bytes of a token: 128 bits as hex and more */
#define TOKEN_FILE_MAX	(64 * 1024)
#define TOKENS_MAX	256
#define DIGEST_LEN	32		/* SHA-256 */
#define CONNECTIONS_IDLE_MAX 8		/* store connections kept between requests */

struct api {
    const struct intake_config *cfg;
    guint8 (*digests)[DIGEST_LEN];
    int     ntokens;			/* 0 and digests NULL: no token file, no API */
    GMutex  lock;			/* idle */
    GPtrArray *idle;			/* struct store * */
};

/* ---------------------------------------------------------------- */
/*	Tokens								    */
/* ---------------------------------------------------------------- */

const char *api_listen(const struct intake_config *cfg)
{
    if (cfg->http_listen && *cfg->http_listen)
	return cfg->http_listen;
    return cfg->metrics_listen ? cfg->metrics_listen : "";
}

static void digest(const char *text, gsize len, guint8 out[DIGEST_LEN])
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    gsize   n = DIGEST_LEN;

    g_checksum_update(sum, (const guchar *) text, len);
    g_checksum_get_digest(sum, out, &n);
    g_checksum_free(sum);
}

/* load_tokens - the digests of the token file's tokens; 0, or -1 and *why */
static int load_tokens(struct api *a, const char *path, char **why)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) err = NULL;
    struct stat sb;
    gsize   len;

    if (stat(path, &sb) < 0) {
	*why = g_strdup_printf("%s: %s", path, g_strerror(errno));
	return -1;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size > TOKEN_FILE_MAX) {
	*why = g_strdup_printf("%s: not a regular file of at most %d bytes",
			       path, TOKEN_FILE_MAX);
	return -1;
    }
    if (!g_file_get_contents(path, &text, &len, &err)) {
	*why = g_strdup_printf("%s", err->message);
	return -1;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO))
	msg_warn("[http] token_file %s: mode %04o lets others read the API's tokens:"
		 " chmod 600 %s", path, (unsigned) (sb.st_mode & 07777), path);
    lines = g_strsplit(text, "\n", TOKENS_MAX + 1);
    a->digests = g_malloc0(sizeof(*a->digests) * TOKENS_MAX);
    for (int i = 0; lines[i]; i++) {
	char   *t = g_strstrip(lines[i]);
	gsize   n = strlen(t);

	if (n == 0 || t[0] == '#')
	    continue;
	if (a->ntokens == TOKENS_MAX || i == TOKENS_MAX) {
	    *why = g_strdup_printf("%s: more than %d lines", path,
				   TOKENS_MAX);
	    return -1;
	}
	for (gsize k = 0; k < n; k++)
	    if (t[k] <= 0x20 || t[k] >= 0x7f) {
		*why = g_strdup_printf("%s:%d: a token is printable ASCII"
				       " without spaces", path, i + 1);
		return -1;
	    }
	if (n < TOKEN_MIN) {
	    *why = g_strdup_printf("%s:%d: a token of %zu bytes is too"
				   " short (at least %d; e.g. openssl rand -hex 32)", path,
				   i + 1, n, TOKEN_MIN);
	    return -1;
	}
	digest(t, n, a->digests[a->ntokens++]);
    }
    if (a->ntokens == 0) {
	*why = g_strdup_printf("%s holds no token", path);
	return -1;
    }
    return 0;
}

/* token_ok - whether the Authorization header carries one of the tokens; constant time */
static gboolean token_ok(const struct api *a, const char *header)
{
    guint8  d[DIGEST_LEN];
    unsigned match = 0;
    const char *t;

    if (header == NULL || g_ascii_strncasecmp(header, "Bearer ", 7) != 0)
	return FALSE;
    for (t = header + 7; *t == ' '; t++)
	;
    if (*t == 0 || strlen(t) > 4096)
	return FALSE;
    digest(t, strlen(t), d);
    for (int i = 0; i < a->ntokens; i++) {
	unsigned diff = 0;

	for (int k = 0; k < DIGEST_LEN; k++)
	    diff |= a->digests[i][k] ^ d[k];
	match |= (diff == 0);
    }
    return match != 0;
}

void    api_config_check(const struct intake_config *cfg, GPtrArray *errors)
{
    if (cfg->http_listen && *cfg->http_listen && cfg->metrics_listen && *cfg->metrics_listen
	&& strcmp(cfg->http_listen, cfg->metrics_listen) != 0)
	g_ptr_array_add(errors, g_strdup_printf("%s: [metrics] key 'listen' is the old name of"
						" [http] listen, and they differ: keep [http]"
						" listen only", cfg->path));
    if (cfg->http_token_file && *cfg->http_token_file) {
	g_autofree char *why = NULL;
	struct api *a = api_new(cfg, &why);

	if (a == NULL)
	    g_ptr_array_add(errors, g_strdup_printf("%s: [http] key 'token_file': %s",
						    cfg->path, why));
	api_free(a);
    }
}

struct api *api_new(const struct intake_config *cfg, char **why)
{
    struct api *a = g_new0(struct api, 1);

    a->cfg = cfg;
    g_mutex_init(&a->lock);
    a->idle = g_ptr_array_new();
    if (cfg->http_token_file && *cfg->http_token_file
	&& load_tokens(a, cfg->http_token_file, why) < 0)
	return api_free(a);
    return a;
}

struct api *api_free(struct api *a)
{
    if (a == NULL)
	return NULL;
    for (guint i = 0; i < a->idle->len; i++)
	store_close(g_ptr_array_index(a->idle, i));
    g_ptr_array_free(a->idle, TRUE);
    g_mutex_clear(&a->lock);
    g_free(a->digests);
    g_free(a);
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	Store connections						    */
/* ---------------------------------------------------------------- */

static struct store *conn_take(struct api *a, char **why)
{
    struct store *st = NULL;

    g_mutex_lock(&a->lock);
    if (a->idle->len)
	st = g_ptr_array_steal_index_fast(a->idle, a->idle->len - 1);
    g_mutex_unlock(&a->lock);
    return st ? st : store_open_readonly(a->cfg, why);
}

static void conn_give(struct api *a, struct store *st, gboolean failed)
{
    if (!failed) {
	g_mutex_lock(&a->lock);
	if (a->idle->len < CONNECTIONS_IDLE_MAX) {
	    g_ptr_array_add(a->idle, st);
	    st = NULL;
	}
	g_mutex_unlock(&a->lock);
    }
    store_close(st);
}

/* ---------------------------------------------------------------- */
/*	Replies								    */
/* ---------------------------------------------------------------- */

void    api_error(struct api_reply *out, unsigned status, const char *fmt, ...)
{
    va_list ap;

    out->status = status;
    g_free(out->error);
    va_start(ap, fmt);
    out->error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

void    api_store_error(struct api_reply *out, int ret, const char *what, const char *why)
{
    msg_warn("api: %s: %s", what, why ? why : "failed");
    if (ret == STORE_BUSY)
	api_error(out, MHD_HTTP_SERVICE_UNAVAILABLE, "the ticket store is busy: try again");
    else
	api_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "the ticket store failed: see the"
		  " worker's log");
}

json_t *api_text_json(const char *text, gsize len, gsize max, gboolean *cut)
{
    g_autofree char *valid = NULL;
    const char *end;
    json_t *v;

    if (!g_utf8_validate_len(text, len, NULL)) {
	valid = g_utf8_make_valid(text, len);
	text = valid;
	len = strlen(valid);
    }
    if (cut)
	*cut = len > max;
    if (len <= max)
	return json_stringn(text, len);
    /* Back to the start of the character that crosses max. */
    end = g_utf8_find_prev_char(text, text + max + 1);
    {
	GString *g = g_string_new_len(text, end ? end - text : 0);

	g_string_append(g, API_TRUNCATED);
	v = json_stringn(g->str, g->len);
	g_string_free(g, TRUE);
    }
    return v;
}

json_t *api_value_json(const struct store_value *v, gsize max)
{
    switch (v->type) {
    case STORE_INT:
	return json_integer(v->i);
    case STORE_REAL:
	return json_real(v->d);
    case STORE_TEXT:
	return api_text_json(v->text, v->len, max, NULL);
    default:
	return json_null();
    }
}

static void reply_clear(struct api_reply *r)
{
    json_decref(r->json);
    g_clear_pointer(&r->bytes, g_bytes_unref);
    g_clear_pointer(&r->content_type, g_free);
    g_clear_pointer(&r->filename, g_free);
    g_clear_pointer(&r->error, g_free);
}

/* disposition - Content-Disposition of an attachment: an ASCII name and the UTF-8 one (RFC 6266) */
static char *disposition(const char *filename)
{
    GString *ascii = g_string_new(NULL);
    g_autofree char *enc = g_uri_escape_string(filename ? filename : "", NULL, FALSE);
    char   *out;

    for (const char *p = filename ? filename : ""; *p && ascii->len < 200; p++)
	g_string_append_c(ascii, g_ascii_isalnum(*p) || strchr("._- ", *p) ? *p : '_');
    if (ascii->len == 0)
	g_string_assign(ascii, "attachment");
    out = g_strdup_printf("attachment; filename=\"%s\"; filename*=UTF-8''%.600s", ascii->str,
			  enc);
    g_string_free(ascii, TRUE);
    return out;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body,
				 const char *extra_name, const char *extra_value)
{
    char   *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
    struct MHD_Response *r;
    enum MHD_Result rc;

    if (text && strlen(text) > API_RESPONSE_MAX) {
	msg_warn("api: a response of %zu bytes exceeds %d: answered 500", strlen(text),
		 API_RESPONSE_MAX);
	free(text);
	text = g_strdup("{\"error\":\"response too large\"}");
	status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	g_free(text);
    } else if (text) {
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	free(text);
    } else {
	return MHD_NO;
    }
    if (r == NULL)
	return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (extra_name)
	MHD_add_response_header(r, extra_name, extra_value);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *text,
				  const char *extra_name, const char *extra_value)
{
    json_t *body = json_pack("{s:s}", "error", text);
    enum MHD_Result rc = body ? send_json(c, status, body, extra_name, extra_value) : MHD_NO;

    json_decref(body);
    return rc;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct api_reply *out)
{
    struct MHD_Response *r;
    enum MHD_Result rc;
    g_autofree char *disp = NULL;
    gsize   len;
    gconstpointer data;

    if (out->status >= 400 || (out->json == NULL && out->bytes == NULL))
	return send_error(c, out->status >= 400 ? out->status : 500,
			  out->error ? out->error : "internal error", NULL, NULL);
    if (out->json)
	return send_json(c, out->status ? out->status : MHD_HTTP_OK, out->json, NULL, NULL);
    data = g_bytes_get_data(out->bytes, &len);
    /* The bytes stay in out->bytes until the response is queued; MHD copies them. */
    r = MHD_create_response_from_buffer(len, (void *) (data ? data : ""), MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
	return MHD_NO;
    disp = disposition(out->filename);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---------------------------------------------------------------- */
/*	Routes								    */
/* ---------------------------------------------------------------- */

/* route - call the handler of r's path; 404 when there is none */
static void route(struct api_req *r, struct api_reply *out)
{
    char  **s = r->seg;
    guint   n = g_strv_length(s);

    if (n < 3 || strcmp(s[0], "api") != 0 || strcmp(s[1], "v1") != 0) {
	api_error(out, MHD_HTTP_NOT_FOUND, "no such resource: the API is under /api/v1/");
    } else if (strcmp(s[2], "tickets") == 0 && n == 3) {
	api_tickets_list(r, out);
    } else if (strcmp(s[2], "tickets") == 0 && n == 4) {
	api_ticket_show(r, s[3], out);
    } else if (strcmp(s[2], "tickets") == 0 && n == 6 && strcmp(s[4], "attachments") == 0) {
	api_attachment(r, s[3], s[5], out);
    } else if (strcmp(s[2], "search") == 0 && n == 3) {
	api_search(r, out);
    } else {
	api_error(out, MHD_HTTP_NOT_FOUND, "no such resource (docs/api.openapi.yaml lists them)");
    }
}

enum MHD_Result api_handle(struct api *a, struct MHD_Connection *c, const char *uri,
			   const char *method)
{
    struct api_reply out = {0};
    struct api_req r = {.cfg = a->cfg};
    g_autofree char *path = NULL;
    g_autofree char *why = NULL;
    const char *q = strchr(uri, '?');
    enum MHD_Result rc;

    if (a->ntokens == 0)
	return send_error(c, MHD_HTTP_NOT_FOUND, "the API is off ([http] token_file is not"
			  " set)", NULL, NULL);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
	return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: the API is"
			  " read-only (GET, HEAD)", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (!token_ok(a, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_AUTHORIZATION))) {
	gboolean given = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_AUTHORIZATION) != NULL;

	msg_debug("api: %s: %s token", uri, given ? "a wrong" : "no");
	return send_error(c, MHD_HTTP_UNAUTHORIZED, given ? "the bearer token is not valid"
			  : "a bearer token is required (Authorization: Bearer TOKEN)",
			  MHD_HTTP_HEADER_WWW_AUTHENTICATE, given
			  ? "Bearer realm=\"intake\", error=\"invalid_token\""
			  : "Bearer realm=\"intake\"");
    }
    path = q ? g_strndup(uri, q - uri) : g_strdup(uri);
    r.query = q ? q + 1 : NULL;
    if (r.query && strlen(r.query) > API_QUERY_MAX)
	return send_error(c, MHD_HTTP_URI_TOO_LONG, "the query string is too long", NULL, NULL);
    if ((r.seg = api_path_split(path, &why)) == NULL)
	return send_error(c, MHD_HTTP_BAD_REQUEST, why, NULL, NULL);
    if ((r.st = conn_take(a, &why)) == NULL) {
	api_store_error(&out, STORE_BUSY, "open the store read-only", why);
    } else {
	route(&r, &out);
	conn_give(a, r.st, out.status >= 500);
    }
    if (out.status >= 400)
	msg_debug("api: %s: %u %s", uri, out.status, out.error ? out.error : "");
    rc = send_reply(c, &out);
    reply_clear(&out);
    g_strfreev(r.seg);
    return rc;
}
