/*
 * NAME
 *	rt_rest - a small client of Request Tracker 5's REST2 API
 * SYNOPSIS
 *	#include "rt_rest.h"
 *
 *	struct rt_rest *rt_rest_new(url, token, timeout, tls_verify)
 *	struct rt_rest *rt_rest_free(rt)
 *	enum sink_result rt_rest_create(rt, t, id, answer)
 *	enum sink_result rt_rest_correspond(rt, id, text, att, natt, answer)
 *	enum sink_result rt_rest_find(rt, query, id, answer)
 *	enum sink_result rt_rest_status_of(http, curl_code)
 *	char	*rt_rest_query_number(cf_name, number)
 *	char	*rt_rest_subject_tag(number)
 *	char	*rt_rest_file_name(name)
 * DESCRIPTION
 *	The three requests the RT sink (sink_rt.c) makes, over libcurl, with
 *	"Authorization: token TOKEN": POST /REST/2.0/ticket (create: queue,
 *	requestor, subject, the text as text/plain, attachments base64 in
 *	JSON, optionally a custom field), POST /REST/2.0/ticket/ID/correspond
 *	and GET /REST/2.0/tickets?query=TICKETSQL (the lowest id found).
 *	url is RT's root (https://rt.example.com, or .../rt when RT lives
 *	under a path); timeout bounds each whole request in seconds.
 *
 *	Every answer of RT is hostile: at most RT_REST_MAX_ANSWER bytes are
 *	read (a longer answer aborts the transfer), the JSON is parsed by
 *	jansson and every field used is checked for its type; redirects are
 *	not followed (an http:// URL RT redirects to https:// is a
 *	configuration error, reported as such).
 *
 *	rt_rest_create() gives RT's ticket id (g_free) in *id on SINK_DONE;
 *	rt_rest_find() gives the lowest id of the tickets found or NULL when
 *	none matched. rt_rest_query_number() is the TicketSQL that finds
 *	Intake's ticket NUMBER (by custom field cf_name, or by the subject
 *	tag rt_rest_subject_tag() makes, "[Intake #NUMBER]"), NULL when
 *	number has a character no ticket number has (so nothing reaches
 *	TicketSQL unquoted); both g_free.
 * DIAGNOSTICS
 *	Each request returns SINK_DONE (2xx and an answer as expected),
 *	SINK_RETRY (no connection, a timeout, 408, 429, 5xx, or a 2xx whose
 *	answer cannot be read: a create that may have happened is found by
 *	the next try's search) or SINK_FAILED (any other status: 4xx, 3xx, a
 *	URL curl cannot use). *answer (g_free, always set) says what RT
 *	answered or what went wrong, printable and at most about 300 bytes,
 *	for `intakectl sinks status`.
 */
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>

#include "rt_rest.h"

struct rt_rest {
    char   *url;			/* without a trailing '/' */
    char   *auth;			/* "Authorization: token ..." */
    long    timeout;
    gboolean tls_verify;
};

/* What one request brought back. */
struct rt_reply {
    GString *body;
    gboolean cut;			/* more than RT_REST_MAX_ANSWER */
    long    http;
    CURLcode rc;
};

#define ANSWER_SHOWN	300

/* ---------------------------------------------------------------- */
/*	Client								    */
/* ---------------------------------------------------------------- */

struct rt_rest *rt_rest_new(const char *url, const char *token, long timeout, gboolean tls_verify)
{
    struct rt_rest *rt = g_new0(struct rt_rest, 1);
    gsize   n = strlen(url);

    /* Thread-safe in Debian 12's libcurl 7.88; the sender threads need it done once. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    while (n > 0 && url[n - 1] == '/')
	n--;
    rt->url = g_strndup(url, n);
    rt->auth = g_strdup_printf("Authorization: token %s", token);
    rt->timeout = timeout;
    rt->tls_verify = tls_verify;
    return rt;
}

struct rt_rest *rt_rest_free(struct rt_rest *rt)
{
    if (rt) {
	g_free(rt->url);
	if (rt->auth)
	    memset(rt->auth, 0, strlen(rt->auth));
	g_free(rt->auth);
	g_free(rt);
    }
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	Status and answers						    */
/* ---------------------------------------------------------------- */

/*
 * rt_rest_status_of - what an HTTP status, or a transfer that got none
 * (http 0, curl's error in curl_code), means for the event: try again
 * later for what passes (no connection, timeouts, 408, 429, 5xx), give
 * up for what will not change by itself.
 */
enum sink_result rt_rest_status_of(long http, int curl_code)
{
    if (http == 0) {
	switch (curl_code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	    return SINK_FAILED;
	default:
	    return SINK_RETRY;
	}
    }
    if (http >= 200 && http < 300)
	return SINK_DONE;
    if (http == 408 || http == 429 || http >= 500)
	return SINK_RETRY;
    return SINK_FAILED;
}

/* A printable excerpt of what RT sent (its error message), g_free. */
static char *excerpt(const GString *body)
{
    GString *out = g_string_new(NULL);
    g_autofree char *valid = g_utf8_make_valid(body->str, body->len);

    for (const char *p = valid; *p && out->len < ANSWER_SHOWN; p = g_utf8_next_char(p)) {
	gunichar c = g_utf8_get_char(p);

	if (c < 0x20 || c == 0x7f)
	    g_string_append_c(out, ' ');
	else
	    g_string_append_unichar(out, c);
    }
    if (*valid && out->len >= ANSWER_SHOWN)
	g_string_append(out, "...");
    return g_string_free(out, FALSE);
}

/* What a failed request tells the postmaster, g_free. */
static char *reply_answer(const struct rt_reply *r)
{
    g_autofree char *text = excerpt(r->body);

    if (r->http == 0)
	return g_strdup_printf("RT not reached: %s", curl_easy_strerror(r->rc));
    if (r->cut)
	return g_strdup_printf("RT answered HTTP %ld with more than %d bytes", r->http,
			       RT_REST_MAX_ANSWER);
    return g_strdup_printf("RT answered HTTP %ld: %s", r->http, *text ? text : "(empty)");
}

/* ---------------------------------------------------------------- */
/*	One request							    */
/* ---------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct rt_reply *r = ctx;
    size_t  n = size * nmemb;

    /* Stop reading a long answer: memory stays bounded whatever RT sends. */
    if (r->body->len + n > RT_REST_MAX_ANSWER) {
	r->cut = TRUE;
	return 0;
    }
    g_string_append_len(r->body, data, n);
    return n;
}

/*
 * request - method (GET or POST) on url's path (escaped by the caller),
 * with body (JSON text, or NULL); fills r (r->body owned by the caller).
 */
static void request(struct rt_rest *rt, const char *method, const char *path, const char *body,
		    struct rt_reply *r)
{
    g_autofree char *url = g_strconcat(rt->url, path, NULL);
    struct curl_slist *hdr = NULL;
    CURL   *c = curl_easy_init();

    r->body = g_string_new(NULL);
    r->cut = FALSE;
    r->http = 0;
    if (c == NULL) {
	r->rc = CURLE_FAILED_INIT;
	return;
    }
    hdr = curl_slist_append(hdr, rt->auth);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    /* No "Expect: 100-continue" round trip before a large body. */
    hdr = curl_slist_append(hdr, "Expect:");
    if (body)
	hdr = curl_slist_append(hdr, "Content-Type: application/json; charset=utf-8");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, rt->timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, rt->timeout);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, rt->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, rt->tls_verify ? 2L : 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    if (body) {
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
    } else if (strcmp(method, "GET") != 0) {
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    r->rc = curl_easy_perform(c);
    /* A status line read before the transfer failed still counts (an answer cut off). */
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http);
    if (r->rc != CURLE_OK && !r->cut)
	r->http = 0;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
}

/* A ticket id as RT writes it: a string or a number of 1 to 18 digits; g_free or NULL. */
static char *ticket_id_of(json_t *v)
{
    const char *s;

    if (json_is_integer(v)) {
	if (json_integer_value(v) <= 0)
	    return NULL;
	return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    if (!json_is_string(v))
	return NULL;
    s = json_string_value(v);
    if (*s == '\0' || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s) || *s == '0')
	return NULL;
    return g_strdup(s);
}

/* Parse a 2xx answer as a JSON object; NULL and *answer when it is none. */
static json_t *answer_object(const struct rt_reply *r, char **answer)
{
    json_error_t err;
    json_t *root;
    g_autofree char *text = NULL;

    if (r->cut) {
	*answer = reply_answer(r);
	return NULL;
    }
    root = json_loadb(r->body->str, r->body->len, JSON_REJECT_DUPLICATES, &err);
    if (json_is_object(root))
	return root;
    json_decref(root);
    text = excerpt(r->body);
    *answer = g_strdup_printf("RT answered HTTP %ld with no JSON object (%s): %s", r->http,
			      root ? "another JSON value" : err.text, *text ? text : "(empty)");
    return NULL;
}

/*
 * rt_rest_file_name - a file name as RT 5.0's REST2 needs it, g_free.
 * XXX RT (5.0.3, lib/RT/REST2/Resource/Ticket.pm and Message.pm) puts
 * the JSON FileName, already characters, into a MIME header, and
 * RT::Util::mime_recommended_filename() then decodes that header as
 * UTF-8 bytes once more: "ciële.txt" became "ci\ufffdle.txt". So the
 * name's UTF-8 bytes are sent as the characters U+0000..U+00FF, which
 * that second decoding turns back into the name. Drop when RT decodes
 * the name once (the tests compare names: tests/rt/check_rt_tickets.sh).
 */
char   *rt_rest_file_name(const char *name)
{
    char   *out = g_convert(name, -1, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);

    return out ? out : g_strdup("attachment");
}

/* The attachments as REST2 takes them: FileName, FileType, FileContent (base64). */
static json_t *attachments_json(const struct rt_attachment *att, guint natt)
{
    json_t *a = json_array();

    for (guint i = 0; i < natt; i++) {
	gsize   n = 0;
	const guchar *data = g_bytes_get_data(att[i].content, &n);
	g_autofree char *b64 = g_base64_encode(data ? data : (const guchar *) "", n);
	g_autofree char *name = rt_rest_file_name(att[i].filename);

	json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "FileName", name,
					   "FileType", att[i].content_type, "FileContent", b64));
    }
    return a;
}

/* ---------------------------------------------------------------- */
/*	The requests							    */
/* ---------------------------------------------------------------- */

enum sink_result rt_rest_create(struct rt_rest *rt, const struct rt_ticket_new *t, char **id,
				char **answer)
{
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Queue", t->queue,
			    "Requestor", t->requestor, "Subject", t->subject,
			    "Content", t->text, "ContentType", "text/plain");
    g_autofree char *body = NULL;
    struct rt_reply r;
    enum sink_result res;
    json_t *root;

    *id = NULL;
    if (req == NULL) {
	*answer = g_strdup("cannot build the request: a field is not UTF-8");
	return SINK_FAILED;
    }
    if (t->natt > 0)
	json_object_set_new(req, "Attachments", attachments_json(t->att, t->natt));
    if (t->cf_name)
	json_object_set_new(req, "CustomFields", json_pack("{s:s}", t->cf_name, t->cf_value));
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (body == NULL) {
	*answer = g_strdup("cannot build the request: a field is not UTF-8");
	return SINK_FAILED;
    }
    request(rt, "POST", "/REST/2.0/ticket", body, &r);
    res = rt_rest_status_of(r.http, r.rc);
    if (res != SINK_DONE) {
	*answer = reply_answer(&r);
    } else if ((root = answer_object(&r, answer)) == NULL) {
	res = SINK_RETRY;
    } else {
	*id = ticket_id_of(json_object_get(root, "id"));
	if (*id == NULL) {
	    g_autofree char *text = excerpt(r.body);

	    *answer = g_strdup_printf("RT answered HTTP %ld without a ticket id: %s", r.http,
				      text);
	    res = SINK_RETRY;
	} else {
	    *answer = g_strdup_printf("RT ticket %s created", *id);
	}
	json_decref(root);
    }
    g_string_free(r.body, TRUE);
    return res;
}

enum sink_result rt_rest_correspond(struct rt_rest *rt, const char *id, const char *text,
				    const struct rt_attachment *att, guint natt, char **answer)
{
    json_t *req = json_pack("{s:s, s:s}", "Content", text, "ContentType", "text/plain");
    g_autofree char *body = NULL;
    g_autofree char *path = NULL;
    struct rt_reply r;
    enum sink_result res;

    if (req == NULL) {
	*answer = g_strdup("cannot build the request: the text is not UTF-8");
	return SINK_FAILED;
    }
    if (natt > 0)
	json_object_set_new(req, "Attachments", attachments_json(att, natt));
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (body == NULL) {
	*answer = g_strdup("cannot build the request: a field is not UTF-8");
	return SINK_FAILED;
    }
    /* id came from RT or from our store: digits only, or no request at all. */
    if (*id == '\0' || strspn(id, "0123456789") != strlen(id)) {
	*answer = g_strdup_printf("RT ticket id '%s' is not a number", id);
	return SINK_FAILED;
    }
    path = g_strdup_printf("/REST/2.0/ticket/%s/correspond", id);
    request(rt, "POST", path, body, &r);
    res = rt_rest_status_of(r.http, r.rc);
    /* The answer (a list of messages) says nothing we need: a 2xx is enough. */
    if (res == SINK_DONE)
	*answer = g_strdup_printf("correspondence added to RT ticket %s", id);
    else
	*answer = reply_answer(&r);
    g_string_free(r.body, TRUE);
    return res;
}

enum sink_result rt_rest_find(struct rt_rest *rt, const char *query, char **id, char **answer)
{
    CURL   *c = curl_easy_init();
    char   *q = c ? curl_easy_escape(c, query, 0) : NULL;
    g_autofree char *path = NULL;
    struct rt_reply r;
    enum sink_result res;
    json_t *root;

    *id = NULL;
    if (q == NULL) {
	if (c)
	    curl_easy_cleanup(c);
	*answer = g_strdup("cannot build the search: out of memory");
	return SINK_RETRY;
    }
    path = g_strdup_printf("/REST/2.0/tickets?query=%s&orderby=id&order=ASC&per_page=1", q);
    curl_free(q);
    curl_easy_cleanup(c);
    request(rt, "GET", path, NULL, &r);
    res = rt_rest_status_of(r.http, r.rc);
    if (res != SINK_DONE) {
	*answer = reply_answer(&r);
    } else if ((root = answer_object(&r, answer)) == NULL) {
	res = SINK_RETRY;
    } else {
	json_t *items = json_object_get(root, "items");

	if (!json_is_array(items)) {
	    *answer = g_strdup_printf("RT answered HTTP %ld to a search without \"items\"", r.http);
	    res = SINK_RETRY;
	} else if (json_array_size(items) == 0) {
	    *answer = g_strdup("no RT ticket found");
	} else if ((*id = ticket_id_of(json_object_get(json_array_get(items, 0), "id"))) == NULL) {
	    *answer = g_strdup("RT found a ticket without a usable id");
	    res = SINK_RETRY;
	} else {
	    *answer = g_strdup_printf("RT ticket %s found", *id);
	}
	json_decref(root);
    }
    g_string_free(r.body, TRUE);
    return res;
}

/* ---------------------------------------------------------------- */
/*	Finding Intake's number in RT					    */
/* ---------------------------------------------------------------- */

/* What a ticket number may hold (ticketno.c: PREFIX-YEAR-SEQ; a prefix may hold . and +). */
static gboolean number_ok(const char *number)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+-_";

    return number && *number && strlen(number) <= 64 && strspn(number, ok) == strlen(number);
}

char   *rt_rest_subject_tag(const char *number)
{
    return number_ok(number) ? g_strdup_printf("[Intake #%s]", number) : NULL;
}

char   *rt_rest_query_number(const char *cf_name, const char *number)
{
    if (!number_ok(number))
	return NULL;
    /* LIKE in TicketSQL matches within the subject; "]" ends the number. */
    if (cf_name == NULL || *cf_name == '\0')
	return g_strdup_printf("Subject LIKE '[Intake #%s]'", number);
    return g_strdup_printf("'CF.{%s}' = '%s'", cf_name, number);
}
