/*
 * NAME
 *	test_rt_rest - unit tests of worker/rt_rest.c against a fake RT
 * DESCRIPTION
 *	A tiny HTTP server in a thread of the test (loopback, one connection
 *	per case) plays RT: each case of the table says what it answers
 *	(status, body, a body of megabytes, an answer cut short, no answer
 *	at all) and what the client must make of it (SINK_DONE with which
 *	ticket id, SINK_RETRY, SINK_FAILED, words of the answer). The
 *	requests the server read are checked too: the token header, the path
 *	and query, the JSON body with the attachment's bytes in base64. Then
 *	the status table, a refused connection, the TicketSQL made from
 *	ticket numbers, hostile ones included, and the errors of the keys of
 *	a [sink NAME] with type = rt (through sinks_load(), as the worker
 *	reads them).
 */
#define _GNU_SOURCE			/* strcasestr */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "rt_rest.h"
#include "sinks.h"
#include "tap.h"

/* ---------------------------------------------------------------- */
/*	The fake RT							    */
/* ---------------------------------------------------------------- */

enum how { ANSWER, HUGE, SHORT, SILENT };

struct fake {
    int     lfd;
    int     port;
    enum how how;
    int     status;
    const char *body;
    GString *request;			/* what the client sent */
    GThread *thread;
};

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
	ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

	if (w <= 0)
	    return;				/* the client hung up: fine */
	p += w;
	n -= (size_t) w;
    }
}

/* Read the request: head, then Content-Length bytes (bounded: 16 MB). */
static void read_request(int fd, GString *req)
{
    char    buf[65536];
    gssize  want = -1;

    while (req->len < 16 * 1024 * 1024) {
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	const char *end;

	if (n <= 0)
	    return;
	g_string_append_len(req, buf, n);
	if (want < 0 && (end = strstr(req->str, "\r\n\r\n")) != NULL) {
	    const char *cl = strcasestr(req->str, "\r\nContent-Length:");

	    want = (end - req->str) + 4 + (cl && cl < end ? atol(cl + 17) : 0);
	}
	if (want >= 0 && (gssize) req->len >= want)
	    return;
    }
}

static gpointer fake_run(gpointer p)
{
    struct fake *f = p;
    int     fd = accept(f->lfd, NULL, NULL);
    g_autofree char *head = NULL;
    char    buf[256];

    if (fd < 0)
	return NULL;
    read_request(fd, f->request);
    switch (f->how) {
    case ANSWER:
	head = g_strdup_printf("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			       "Content-Length: %zu\r\nConnection: close\r\n\r\n", f->status,
			       strlen(f->body));
	send_all(fd, head, strlen(head));
	send_all(fd, f->body, strlen(f->body));
	break;
    case HUGE:
	/* 64 MB announced; the client must stop reading long before. */
	head = g_strdup_printf("HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			       f->status, 64 * 1024 * 1024);
	send_all(fd, head, strlen(head));
	memset(buf, '[', sizeof(buf));
	for (int i = 0; i < 64 * 1024 * 1024 / (int) sizeof(buf); i++) {
	    if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) <= 0)
		break;
	}
	break;
    case SHORT:
	head = g_strdup_printf("HTTP/1.1 %d X\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
			       "{\"id\":", f->status);
	send_all(fd, head, strlen(head));
	break;
    case SILENT:
	/* Answer nothing until the client gives up and closes. */
	while (recv(fd, buf, sizeof(buf), 0) > 0)
	    ;
	break;
    }
    close(fd);
    return NULL;
}

static void fake_start(struct fake *f, enum how how, int status, const char *body)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *) &sa, sizeof(sa)) != 0
	|| listen(f->lfd, 1) != 0 || getsockname(f->lfd, (struct sockaddr *) &sa, &len) != 0) {
	diag("fake RT: %s", strerror(errno));
	exit(1);
    }
    f->port = ntohs(sa.sin_port);
    f->how = how;
    f->status = status;
    f->body = body;
    f->request = g_string_new(NULL);
    f->thread = g_thread_new("fake-rt", fake_run, f);
}

static void fake_stop(struct fake *f)
{
    g_thread_join(f->thread);
    close(f->lfd);
    g_string_free(f->request, TRUE);
}

static struct rt_rest *client(const struct fake *f, long timeout)
{
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/", f->port);

    return rt_rest_new(url, "1-2-abcdef", timeout, TRUE);
}

/* The JSON body of the request the fake read (new reference), or NULL. */
static json_t *request_json(const GString *req)
{
    const char *b = strstr(req->str, "\r\n\r\n");

    return b ? json_loads(b + 4, 0, NULL) : NULL;
}

/* ---------------------------------------------------------------- */
/*	Create: RT's answers and what they mean				    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *name;
    enum how how;
    int     status;
    const char *body;
    enum sink_result want;
    const char *want_id;		/* on SINK_DONE */
    const char *want_answer;		/* a part of *answer */
} create_cases[] = {
    {"created, id a string", ANSWER, 201, "{\"type\":\"ticket\",\"id\":\"42\",\"_url\":\"x\"}",
     SINK_DONE, "42", "ticket 42 created"},
    {"created, id a number", ANSWER, 201, "{\"id\":7}", SINK_DONE, "7", "7"},
    {"201, not JSON", ANSWER, 201, "<html>proxy login</html>", SINK_RETRY, NULL, "no JSON"},
    {"201, empty", ANSWER, 201, "", SINK_RETRY, NULL, "no JSON"},
    {"201, JSON array", ANSWER, 201, "[1,2]", SINK_RETRY, NULL, "another JSON value"},
    {"201, id of the wrong type", ANSWER, 201, "{\"id\":[1]}", SINK_RETRY, NULL,
     "without a ticket id"},
    {"201, id not a number", ANSWER, 201, "{\"id\":\"42; DROP\"}", SINK_RETRY, NULL,
     "without a ticket id"},
    {"201, id negative", ANSWER, 201, "{\"id\":-3}", SINK_RETRY, NULL, "without a ticket id"},
    {"201, id with too many digits", ANSWER, 201, "{\"id\":\"1234567890123456789\"}",
     SINK_RETRY, NULL, "without a ticket id"},
    {"201, no id", ANSWER, 201, "{\"type\":\"ticket\"}", SINK_RETRY, NULL, "without a ticket id"},
    {"201, duplicate keys", ANSWER, 201, "{\"id\":\"1\",\"id\":\"2\"}", SINK_RETRY, NULL,
     "no JSON"},
    {"201, deeply nested", ANSWER, 201, NULL, SINK_RETRY, NULL, "no JSON"},
    {"201, 64 MB", HUGE, 201, NULL, SINK_RETRY, NULL, "more than"},
    {"200 cut short", SHORT, 200, NULL, SINK_RETRY, NULL, "not reached"},
    {"500", ANSWER, 500, "Internal Server Error", SINK_RETRY, NULL, "HTTP 500"},
    {"503", ANSWER, 503, "", SINK_RETRY, NULL, "(empty)"},
    {"429", ANSWER, 429, "{\"message\":\"slow down\"}", SINK_RETRY, NULL, "slow down"},
    {"408", ANSWER, 408, "", SINK_RETRY, NULL, "HTTP 408"},
    {"400 with RT's message", ANSWER, 400, "{\"message\":\"Could not create ticket. Queue not set\"}",
     SINK_FAILED, NULL, "Queue not set"},
    {"401", ANSWER, 401, "{\"message\":\"Unauthorized\"}", SINK_FAILED, NULL, "HTTP 401"},
    {"403", ANSWER, 403, "", SINK_FAILED, NULL, "HTTP 403"},
    {"404", ANSWER, 404, "not here", SINK_FAILED, NULL, "not here"},
    {"302 (redirects are not followed)", ANSWER, 302, "", SINK_FAILED, NULL, "HTTP 302"},
    {"400, 64 MB", HUGE, 400, NULL, SINK_FAILED, NULL, "more than"},
    {"400, control characters", ANSWER, 400, "bad\r\nX-Evil: 1\x1b[2J", SINK_FAILED, NULL,
     "bad  X-Evil: 1 [2J"},
    {"no answer within the timeout", SILENT, 0, NULL, SINK_RETRY, NULL, "not reached"},
};

static void test_create(void)
{
    static const guchar pdf[] = "%PDF-1.4\0\xff\xfe binary";
    g_autoptr(GBytes) content = g_bytes_new_static(pdf, sizeof(pdf));
    struct rt_attachment att = {"report.pdf", "application/pdf", content};
    struct rt_ticket_new t = {
	.queue = "Support", .requestor = "alice@example.test",
	.subject = "[Intake #INT-2026-000001] Printer", .text = "It is broken.\nAgain.",
	.att = &att, .natt = 1,
    };
    g_autofree char *nested = NULL;
    GString *n = g_string_new(NULL);

    /* Nesting deeper than jansson's limit (2048). */
    for (int i = 0; i < 5000; i++)
	g_string_append_c(n, '[');
    nested = g_string_free(n, FALSE);

    for (gsize i = 0; i < G_N_ELEMENTS(create_cases); i++) {
	struct fake f;
	struct rt_rest *rt;
	g_autofree char *id = NULL;
	g_autofree char *answer = NULL;
	enum sink_result res;
	gint64  t0 = g_get_monotonic_time();

	fake_start(&f, create_cases[i].how, create_cases[i].status,
		   create_cases[i].body ? create_cases[i].body : nested);
	rt = client(&f, create_cases[i].how == SILENT ? 1 : 10);
	res = rt_rest_create(rt, &t, &id, &answer);
	rt_rest_free(rt);
	fake_stop(&f);
	is_int(res, create_cases[i].want, "create, %s: result", create_cases[i].name);
	is_str(id, create_cases[i].want_id, "create, %s: id", create_cases[i].name);
	has_str(answer, create_cases[i].want_answer, "create, %s: answer", create_cases[i].name);
	ok(answer && strlen(answer) < 400, "create, %s: answer bounded (%zu bytes)",
	   create_cases[i].name, answer ? strlen(answer) : 0);
	if (create_cases[i].how == SILENT)
	    ok(g_get_monotonic_time() - t0 < 8 * G_USEC_PER_SEC, "create, %s: gave up in time",
	       create_cases[i].name);
    }
}

/* What the client sends to create a ticket: checked on the request the fake read. */
static void test_create_request(void)
{
    static const guchar pdf[] = "%PDF-1.4\0\xff\xfe binary";
    g_autoptr(GBytes) content = g_bytes_new_static(pdf, sizeof(pdf));
    struct rt_attachment att = {"report.pdf", "application/pdf", content};
    struct rt_ticket_new t = {
	.queue = "Support", .requestor = "alice@example.test",
	.subject = "Printer \xc3\xa9", .text = "It is broken.", .att = &att, .natt = 1,
	.cf_name = "Intake number", .cf_value = "INT-2026-000001",
    };
    struct fake f;
    struct rt_rest *rt;
    g_autofree char *id = NULL;
    g_autofree char *answer = NULL;
    g_autofree guchar *got = NULL;
    gsize   got_len = 0;
    json_t *req, *a;

    fake_start(&f, ANSWER, 201, "{\"id\":\"5\"}");
    rt = client(&f, 10);
    is_int(rt_rest_create(rt, &t, &id, &answer), SINK_DONE, "create request: done");
    rt_rest_free(rt);
    g_thread_join(f.thread);
    ok(g_str_has_prefix(f.request->str, "POST /REST/2.0/ticket HTTP/1.1\r\n"),
       "create request: POST /REST/2.0/ticket (base URL's trailing / dropped)");
    has_str(f.request->str, "\r\nAuthorization: token 1-2-abcdef\r\n", "create request: token");
    has_str(f.request->str, "\r\nContent-Type: application/json", "create request: JSON");
    req = request_json(f.request);
    ok(req != NULL, "create request: the body is JSON");
    is_str(json_string_value(json_object_get(req, "Queue")), "Support", "create request: Queue");
    is_str(json_string_value(json_object_get(req, "Requestor")), "alice@example.test",
	   "create request: Requestor");
    is_str(json_string_value(json_object_get(req, "Subject")), "Printer \xc3\xa9",
	   "create request: Subject (UTF-8)");
    is_str(json_string_value(json_object_get(req, "ContentType")), "text/plain",
	   "create request: ContentType");
    is_str(json_string_value(json_object_get(json_object_get(req, "CustomFields"),
					     "Intake number")), "INT-2026-000001",
	   "create request: the custom field");
    a = json_array_get(json_object_get(req, "Attachments"), 0);
    is_str(json_string_value(json_object_get(a, "FileName")), "report.pdf",
	   "create request: FileName");
    is_str(json_string_value(json_object_get(a, "FileType")), "application/pdf",
	   "create request: FileType");
    if (json_is_string(json_object_get(a, "FileContent")))
	got = g_base64_decode(json_string_value(json_object_get(a, "FileContent")), &got_len);
    ok(got_len == sizeof(pdf) && memcmp(got, pdf, sizeof(pdf)) == 0,
       "create request: FileContent decodes to the attachment's bytes (NUL and 0xff included)");
    json_decref(req);
    close(f.lfd);
    g_string_free(f.request, TRUE);
}

/* ---------------------------------------------------------------- */
/*	Search and correspond						    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *name;
    int     status;
    const char *body;
    enum sink_result want;
    const char *want_id;
} find_cases[] = {
    {"one found", 200, "{\"count\":1,\"items\":[{\"type\":\"ticket\",\"id\":\"17\"}],\"total\":1}",
     SINK_DONE, "17"},
    {"none found", 200, "{\"count\":0,\"items\":[],\"total\":0}", SINK_DONE, NULL},
    {"items not a list", 200, "{\"items\":\"17\"}", SINK_RETRY, NULL},
    {"no items", 200, "{\"count\":1}", SINK_RETRY, NULL},
    {"item without id", 200, "{\"items\":[{\"type\":\"ticket\"}]}", SINK_RETRY, NULL},
    {"item not an object", 200, "{\"items\":[17]}", SINK_RETRY, NULL},
    {"not JSON", 200, "Search results", SINK_RETRY, NULL},
    {"500", 500, "{}", SINK_RETRY, NULL},
    {"400 (bad query)", 400, "{\"message\":\"Wrong query\"}", SINK_FAILED, NULL},
};

static void test_find(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(find_cases); i++) {
	struct fake f;
	struct rt_rest *rt;
	g_autofree char *id = NULL;
	g_autofree char *answer = NULL;
	enum sink_result res;

	fake_start(&f, ANSWER, find_cases[i].status, find_cases[i].body);
	rt = client(&f, 10);
	res = rt_rest_find(rt, "Subject LIKE '[Intake #INT-2026-000001]'", &id, &answer);
	rt_rest_free(rt);
	g_thread_join(f.thread);
	is_int(res, find_cases[i].want, "find, %s: result", find_cases[i].name);
	is_str(id, find_cases[i].want_id, "find, %s: id", find_cases[i].name);
	ok(answer != NULL, "find, %s: an answer (%s)", find_cases[i].name, answer);
	if (i == 0) {
	    ok(g_str_has_prefix(f.request->str, "GET /REST/2.0/tickets?query=Subject%20LIKE%20%27"
				"%5BIntake%20%23INT-2026-000001%5D%27&"),
	       "find: the TicketSQL is escaped into the query string");
	    has_str(f.request->str, "orderby=id&order=ASC", "find: the oldest ticket first");
	}
	close(f.lfd);
	g_string_free(f.request, TRUE);
    }
}

static void test_correspond(void)
{
    static const guchar png[] = "\x89PNG\r\n\x1a\n\0\0";
    g_autoptr(GBytes) content = g_bytes_new_static(png, sizeof(png));
    struct rt_attachment att = {"a.png", "image/png", content};
    struct {
	int     status;
	const char *body;
	enum sink_result want;
    } cases[] = {
	{201, "[\"Correspondence added\"]", SINK_DONE},
	{200, "not JSON: the body is not needed", SINK_DONE},
	{404, "{\"message\":\"Resource does not exist\"}", SINK_FAILED},
	{502, "", SINK_RETRY},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	struct fake f;
	struct rt_rest *rt;
	g_autofree char *answer = NULL;
	json_t *req;

	fake_start(&f, ANSWER, cases[i].status, cases[i].body);
	rt = client(&f, 10);
	is_int(rt_rest_correspond(rt, "42", "Thanks, now it works.", &att, 1, &answer),
	       cases[i].want, "correspond, HTTP %d: result", cases[i].status);
	rt_rest_free(rt);
	g_thread_join(f.thread);
	ok(g_str_has_prefix(f.request->str, "POST /REST/2.0/ticket/42/correspond HTTP/1.1\r\n"),
	   "correspond, HTTP %d: path", cases[i].status);
	req = request_json(f.request);
	is_str(json_string_value(json_object_get(req, "Content")), "Thanks, now it works.",
	       "correspond, HTTP %d: Content", cases[i].status);
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(req,
	       "Attachments"), 0), "FileContent")), "iVBORw0KGgoAAAA=",
	       "correspond, HTTP %d: the attachment in base64", cases[i].status);
	json_decref(req);
	close(f.lfd);
	g_string_free(f.request, TRUE);
    }
}

/* Nothing reaches RT for an id that is not a number; nothing listens there anyway. */
static void test_bad_input(void)
{
    struct rt_rest *rt = rt_rest_new("http://127.0.0.1:1", "t", 2, TRUE);
    g_autofree char *a1 = NULL;
    g_autofree char *a2 = NULL;
    g_autofree char *a3 = NULL;
    g_autofree char *id = NULL;
    struct rt_ticket_new t = {.queue = "Q", .requestor = "a@b", .subject = "bad \xff UTF-8",
			      .text = "x"};

    is_int(rt_rest_correspond(rt, "42/../../queue/1", "x", NULL, 0, &a1), SINK_FAILED,
	   "correspond: an id with a path is refused");
    has_str(a1, "not a number", "correspond: says why");
    is_int(rt_rest_create(rt, &t, &id, &a2), SINK_FAILED, "create: a subject not UTF-8 is refused");
    is_int(rt_rest_find(rt, "id = 1", &id, &a3), SINK_RETRY, "find: connection refused: retry");
    has_str(a3, "not reached", "find: connection refused: says so");
    rt_rest_free(rt);
    rt = rt_rest_new("ftp://127.0.0.1", "t", 2, TRUE);
    g_clear_pointer(&a3, g_free);
    is_int(rt_rest_find(rt, "id = 1", &id, &a3), SINK_FAILED, "find: an ftp:// URL: failed");
    rt_rest_free(rt);
}

/* ---------------------------------------------------------------- */
/*	Status table, TicketSQL						    */
/* ---------------------------------------------------------------- */

static void test_status(void)
{
    static const struct {
	long    http;
	int     curl;
	enum sink_result want;
    } cases[] = {
	{200, 0, SINK_DONE}, {201, 0, SINK_DONE}, {204, 0, SINK_DONE},
	{301, 0, SINK_FAILED}, {400, 0, SINK_FAILED}, {401, 0, SINK_FAILED},
	{403, 0, SINK_FAILED}, {404, 0, SINK_FAILED}, {409, 0, SINK_FAILED},
	{422, 0, SINK_FAILED}, {408, 0, SINK_RETRY}, {429, 0, SINK_RETRY},
	{500, 0, SINK_RETRY}, {502, 0, SINK_RETRY}, {503, 0, SINK_RETRY},
	{504, 0, SINK_RETRY}, {100, 0, SINK_FAILED},
	{0, CURLE_COULDNT_CONNECT, SINK_RETRY}, {0, CURLE_OPERATION_TIMEDOUT, SINK_RETRY},
	{0, CURLE_COULDNT_RESOLVE_HOST, SINK_RETRY}, {0, CURLE_GOT_NOTHING, SINK_RETRY},
	{0, CURLE_URL_MALFORMAT, SINK_FAILED}, {0, CURLE_UNSUPPORTED_PROTOCOL, SINK_FAILED},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
	is_int(rt_rest_status_of(cases[i].http, cases[i].curl), cases[i].want,
	       "status %ld, curl %d", cases[i].http, cases[i].curl);
}

/* File names as RT 5.0.3's REST2 needs them (rt_rest.c says why). */
static void test_file_name(void)
{
    static const struct {
	const char *name;
	const char *want;
    } cases[] = {
	{"report.pdf", "report.pdf"},
	{"ci\xc3\xable.txt", "ci\xc3\x83\xc2\xabl" "e.txt"},
	{"\xe2\x82\xac.txt", "\xc3\xa2\xc2\x82\xc2\xac.txt"},
	{"", ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	g_autofree char *got = rt_rest_file_name(cases[i].name);

	is_str(got, cases[i].want, "file name %zu: its UTF-8 bytes as characters", i);
    }
}

static void test_query(void)
{
    static const struct {
	const char *field;
	const char *number;
	const char *want;
    } cases[] = {
	{NULL, "INT-2026-000123", "Subject LIKE '[Intake #INT-2026-000123]'"},
	{"", "INT-2026-000123", "Subject LIKE '[Intake #INT-2026-000123]'"},
	{"Intake number", "A.B+-2026-000007", "'CF.{Intake number}' = 'A.B+-2026-000007'"},
	{NULL, "INT-1' OR id > '0", NULL},
	{"F", "x\\' OR 1=1", NULL},
	{NULL, "", NULL},
	{NULL, NULL, NULL},
	{NULL, "INT-2026-%", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	g_autofree char *q = rt_rest_query_number(cases[i].field, cases[i].number);

	is_str(q, cases[i].want, "query for '%s'", cases[i].number ? cases[i].number : "(null)");
    }
}

/* ---------------------------------------------------------------- */
/*	Configuration							    */
/* ---------------------------------------------------------------- */

#define BASE \
    "[store]\npath = tickets.db\n\n" \
    "[mailbox support]\naddress = support@example.test\n\n" \
    "[mailbox sales]\naddress = sales@example.test\n\n"

/* load - the sinks of BASE + text in dir; *errors joined by "\n" (g_free) when NULL */
static struct sinks *load(const char *dir, const char *text, char **errors)
{
    g_autofree char *conf = g_strdup_printf(BASE "%s", text);
    g_autofree char *path = g_build_filename(dir, "intake.conf", NULL);
    g_autoptr(GPtrArray) errs = NULL;
    struct intake_config *cfg;
    struct sinks *s;

    *errors = NULL;
    g_file_set_contents(path, conf, -1, NULL);
    if ((cfg = config_load(path, &errs)) == NULL) {
	g_ptr_array_add(errs, NULL);
	*errors = g_strjoinv("\n", (char **) errs->pdata);
	return NULL;
    }
    g_clear_pointer(&errs, g_ptr_array_unref);
    errs = g_ptr_array_new_with_free_func(g_free);
    if ((s = sinks_load(cfg, errs)) == NULL) {
	g_ptr_array_add(errs, NULL);
	*errors = g_strjoinv("\n", (char **) errs->pdata);
    }
    config_free(cfg);
    return s;
}

static void test_config(void)
{
    static const struct {
	const char *text;		/* after "[sink r]\ntype = rt\n" (lines 10, 11) */
	const char *want;		/* NULL: accepted; else a part of the errors */
    } cases[] = {
	{"url = https://rt.example.com\ntoken_file = token\n", NULL},
	{"url = http://rt/\ntoken_file = token\nqueue = Support\nmailbox_queues = support:Support, "
	 "sales : Sales Team\ntls_verify = no\nnumber_field = Intake number\ntimeout = 5s\n", NULL},
	{"token_file = token\n", "intake.conf:10: [sink r]: no key 'url'"},
	{"url = ftp://rt/\ntoken_file = token\n",
	 "intake.conf:12: [sink r] key 'url': expected an http:// or https:// URL, got 'ftp://rt/'"},
	{"url = http://rt/\n", "intake.conf:10: [sink r]: no key 'token_file'"},
	{"url = http://rt/\ntoken_file = /nonexistent/token\n",
	 "intake.conf:13: [sink r] key 'token_file': "},
	{"url = http://rt/\ntoken_file = token.empty\n",
	 "intake.conf:13: [sink r] key 'token_file': "},
	{"url = http://rt/\ntoken_file = token.space\n",
	 "key 'token_file': " },
	{"url = http://rt/\ntoken_file = token.big\n", "more than 4096 bytes"},
	{"url = http://rt/\ntoken_file = token\nmailbox_queues = support\n",
	 "intake.conf:14: [sink r] key 'mailbox_queues': expected MAILBOX:QUEUE items"},
	{"url = http://rt/\ntoken_file = token\nmailbox_queues = support:A, support:B\n",
	 "key 'mailbox_queues': mailbox 'support' given twice"},
	{"url = http://rt/\ntoken_file = token\nmailbox_queues = :Support\n",
	 "key 'mailbox_queues': expected MAILBOX:QUEUE"},
	{"url = http://rt/\ntoken_file = token\ntls_verify = maybe\n",
	 "intake.conf:14: [sink r] key 'tls_verify': expected yes or no, got 'maybe'"},
	{"url = http://rt/\ntoken_file = token\nnumber_field = a}' OR '1\n",
	 "intake.conf:14: [sink r] key 'number_field': expected a custom field's name"},
	{"url = http://rt/\ntoken_file = token\nsecret_file = token\n",
	 "key 'secret_file': unknown key"},
    };
    g_autofree char *dir = g_dir_make_tmp("test_rt_rest.XXXXXX", NULL);
    g_autofree char *big = g_strnfill(5000, 'a');
    g_autofree char *tok = g_build_filename(dir, "token", NULL);
    g_autofree char *empty = g_build_filename(dir, "token.empty", NULL);
    g_autofree char *space = g_build_filename(dir, "token.space", NULL);
    g_autofree char *bigf = g_build_filename(dir, "token.big", NULL);

    g_file_set_contents(tok, "1-14-abcdef0123\nsecond line ignored\n", -1, NULL);
    g_file_set_contents(empty, "\n", -1, NULL);
    g_file_set_contents(space, "1-14 abc\r\nX-Evil: 1\n", -1, NULL);
    g_file_set_contents(bigf, big, -1, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	g_autofree char *text = g_strdup_printf("[sink r]\ntype = rt\n%s", cases[i].text);
	g_autofree char *errors = NULL;
	struct sinks *s = load(dir, text, &errors);

	if (cases[i].want == NULL) {
	    if (!ok(s != NULL, "config %zu accepted", i))
		diag("%s", errors);
	} else {
	    ok(s == NULL, "config %zu refused", i);
	    has_str(errors, cases[i].want, "config %zu: the error says where and what", i);
	}
	sinks_free(s);
    }
    tap_remove_tree(dir);
}

int     main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_status();
    test_query();
    test_file_name();
    test_config();
    test_create();
    test_create_request();
    test_find();
    test_correspond();
    test_bad_input();
    return tap_done();
}
