/* rt_rest.h: a small client of Request Tracker 5's REST2 API. See rt_rest.c. */
#ifndef INTAKE_RT_REST_H
#define INTAKE_RT_REST_H

#include <glib.h>

#include "sink.h"

/* The most of an RT answer read; a longer one is cut off and not believed. */
#define RT_REST_MAX_ANSWER	(1024 * 1024)

struct rt_rest;

/* One file to attach: content is borrowed. */
struct rt_attachment {
    const char *filename;
    const char *content_type;
    GBytes *content;
};

/* A ticket to create: every field borrowed; cf_name NULL: no custom field. */
struct rt_ticket_new {
    const char *queue;
    const char *requestor;
    const char *subject;
    const char *text;
    const char *cf_name;
    const char *cf_value;
    const struct rt_attachment *att;
    guint   natt;
};

struct rt_rest *rt_rest_new(const char *url, const char *token, long timeout, gboolean tls_verify);
struct rt_rest *rt_rest_free(struct rt_rest *rt);
enum sink_result rt_rest_create(struct rt_rest *rt, const struct rt_ticket_new *t, char **id,
				char **answer);
enum sink_result rt_rest_correspond(struct rt_rest *rt, const char *id, const char *text,
				    const struct rt_attachment *att, guint natt, char **answer);
enum sink_result rt_rest_find(struct rt_rest *rt, const char *query, char **id, char **answer);
enum sink_result rt_rest_status_of(long http, int curl_code);
char   *rt_rest_query_number(const char *cf_name, const char *number);
char   *rt_rest_subject_tag(const char *number);
char   *rt_rest_file_name(const char *name);

#endif
