/* metrics_http.h: the worker's HTTP server (/metrics, /api). See metrics_http.c. */
#ifndef INTAKE_METRICS_HTTP_H
#define INTAKE_METRICS_HTTP_H

#include "metrics.h"

/* Called on the server's thread before each scrape renders the registry. */
typedef void (*metrics_collect_fn) (void *data);

struct metrics_http;
struct api;

struct metrics_http *metrics_http_start(const char *listen, struct metrics *m,
					metrics_collect_fn collect, void *data, struct api *api,
					char **why);
struct metrics_http *metrics_http_stop(struct metrics_http *h);

#endif
