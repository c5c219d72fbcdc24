/*
 * NAME
 *	metrics_http - the worker's HTTP server: GET /metrics, and /api (libmicrohttpd)
 * SYNOPSIS
 *	#include "metrics_http.h"
 *
 *	struct metrics_http *metrics_http_start(listen, m, collect, data, api, &why)
 *	struct metrics_http *metrics_http_stop(h)
 * DESCRIPTION
 *	metrics_http_start() listens on listen ([http] listen, or its old
 *	name [metrics] listen: IPv4:PORT or [IPv6]:PORT, a numeric address:
 *	the endpoint is for a scraper on a known network, not for name
 *	resolution at start) with a pool of HTTP_THREADS libmicrohttpd
 *	threads. GET (and HEAD) of /metrics calls collect(data), then
 *	answers the registry in the Prometheus text format. A path under
 *	/api/ goes to api_handle() (api.c) with the URI as the client sent
 *	it (kept by the URI log callback before libmicrohttpd decodes
 *	anything: the API parses its own paths and parameters strictly);
 *	api may be NULL (no API: 404). Any other path is 404, any other
 *	method on /metrics 405. No HTTP is parsed here.
 *
 *	The pool lets a slow API request (a large attachment, a search)
 *	run beside a scrape. Scrapes themselves are serialised by a mutex:
 *	what collect uses (its own Redis connection, its own store
 *	connection) is for one thread at a time and never the consumer
 *	thread's. A scrape therefore waits for the previous one; collect
 *	must bound its own time (a Redis timeout).
 *
 *	Bounds: at most HTTP_MAX_CONNECTIONS connections, idle ones closed
 *	after HTTP_TIMEOUT_S, a response of at most HTTP_MAX_RESPONSE bytes
 *	(the registry is bounded by construction: this is a second fence).
 *
 *	metrics_http_stop() stops the thread, closes the socket and frees h;
 *	it accepts NULL and returns NULL.
 * DIAGNOSTICS
 *	metrics_http_start() returns NULL and *why (g_free), naming the
 *	address, when it cannot listen (address in use, not local). What
 *	libmicrohttpd reports later is logged as a warning.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "api.h"
#include "config.h"
#include "log.h"
#include "metrics_http.h"

#define HTTP_MAX_CONNECTIONS	16
#define HTTP_TIMEOUT_S		10
#define HTTP_MAX_RESPONSE	(4 * 1024 * 1024)
#define HTTP_THREADS		4
#define HTTP_URI_MAX		8192	/* bytes of a request's URI kept for the API */

#define CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
    struct MHD_Daemon *daemon;
    struct metrics *m;
    metrics_collect_fn collect;
    void   *data;
    struct api *api;			/* NULL: no API */
    GMutex  scrape;			/* one scrape at a time: collect's connections */
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text,
			      const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *) text,
							     MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (r == NULL)
	return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (allow)
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* answer_json - a constant JSON body (an API error that api.c cannot be asked to make) */
static enum MHD_Result answer_json(struct MHD_Connection *c, unsigned status, const char *json)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *) json,
							     MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (r == NULL)
	return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_size, void **con_cls)
{
    struct metrics_http *h = cls;
    struct MHD_Response *r;
    enum MHD_Result rc;
    GString *body;
    gsize   len;

    const char *raw = *con_cls;		/* the URI as sent (uri_kept()) */

    if (raw && (strncmp(raw, "/api/", 5) == 0 || strcmp(raw, "/api") == 0
		|| strncmp(raw, "/api?", 5) == 0)) {
	if (h->api)
	    return api_handle(h->api, c, raw, method);
	return answer(c, MHD_HTTP_NOT_FOUND, "not found: no API here ([http] token_file)\n",
		      NULL);
    }
    if (raw == NULL && strncmp(url, "/api", 4) == 0)
	return answer_json(c, MHD_HTTP_URI_TOO_LONG, "{\"error\":\"the URI is too long\"}");
    if (strcmp(url, "/metrics") != 0)
	return answer(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n", NULL);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
	return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
    g_mutex_lock(&h->scrape);
    if (h->collect)
	h->collect(h->data);
    body = metrics_render(h->m);
    g_mutex_unlock(&h->scrape);
    if (body->len > HTTP_MAX_RESPONSE) {
	msg_warn("metrics: a scrape of %zu bytes exceeds %d: answered 500", body->len,
		 HTTP_MAX_RESPONSE);
	g_string_free(body, TRUE);
	return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "response too large\n", NULL);
    }
    len = body->len;
    r = MHD_create_response_from_buffer(len, g_string_free(body, FALSE), MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
	return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* uri_kept - the URI as the client sent it, for the request's *con_cls (NULL: too long) */
static void *uri_kept(void *cls, const char *uri, struct MHD_Connection *c)
{
    return uri && strlen(uri) <= HTTP_URI_MAX ? g_strdup(uri) : NULL;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
    g_clear_pointer(con_cls, g_free);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    g_autofree char *text = g_strdup_vprintf(fmt, ap);

    g_strchomp(text);
    msg_warn("http server: %s", text);
}

struct metrics_http *metrics_http_start(const char *listen, struct metrics *m,
					metrics_collect_fn collect, void *data, struct api *api,
					char **why)
{
    struct sockaddr_storage ss;
    unsigned len;
    struct metrics_http *h;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (config_listen_address(listen, &ss, &len, why) < 0)
	return NULL;
    if (ss.ss_family == AF_INET6)
	flags |= MHD_USE_IPv6;
    h = g_new0(struct metrics_http, 1);
    h->m = m;
    h->collect = collect;
    h->data = data;
    h->api = api;
    g_mutex_init(&h->scrape);
    /* The port is given again for MHD; the address decides where it listens. */
    h->daemon = MHD_start_daemon(flags, ss.ss_family == AF_INET6
				 ? ntohs(((struct sockaddr_in6 *) &ss)->sin6_port)
				 : ntohs(((struct sockaddr_in *) &ss)->sin_port),
				 NULL, NULL, handle, h,
				 /* First, so that MHD reports nothing on stderr before it. */
				 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned) HTTP_MAX_CONNECTIONS,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_TIMEOUT_S,
				 MHD_OPTION_THREAD_POOL_SIZE, (unsigned) HTTP_THREADS,
				 MHD_OPTION_URI_LOG_CALLBACK, uri_kept, NULL,
				 MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
				 MHD_OPTION_END);
    if (h->daemon == NULL) {
	*why = g_strdup_printf("cannot listen on %s (address in use, or not an address of"
			       " this host?)", listen);
	g_mutex_clear(&h->scrape);
	g_free(h);
	return NULL;
    }
    return h;
}

struct metrics_http *metrics_http_stop(struct metrics_http *h)
{
    if (h == NULL)
	return NULL;
    MHD_stop_daemon(h->daemon);
    g_mutex_clear(&h->scrape);
    g_free(h);
    return NULL;
}
