/*
 * test_sink: the sinks' parts that need no far end (docs/events.md).
 *   - the webhook signature: a vector computed apart (Python's hmac), and
 *     that it covers the timestamp and every byte of the body;
 *   - [sink NAME] sections: a valid file and what each key gets, a
 *     section given twice continuing (as config.c reads it), and a table
 *     of bad sections, each with the FILE:LINE error a postmaster sees;
 *   - sinks_wanting(): by event and mailbox;
 *   - the event outbox of the SQLite store and the event document:
 *     written only for the sinks that want it, read in order per ticket
 *     (a waiting event holds back its ticket only), states, retry,
 *     pruning, the far end's ids, the JSON the far end gets.
 */
#include <string.h>
#include <time.h>

#include <glib/gstdio.h>
#include <jansson.h>

#include "config.h"
#include "sink_webhook.h"
#include "sinks.h"
#include "store.h"
#include "tap.h"

static char *tmpdir;

static char *write_file(const char *name, const char *text)
{
    char   *path = g_build_filename(tmpdir, name, NULL);

    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
    return path;
}

#define BASE \
    "[store]\npath = tickets.db\nbusy_timeout = 1s\n\n" \
    "[mailbox support]\naddress = support@example.test\n\n" \
    "[mailbox sales]\naddress = sales@example.test\n\n"

/* load - config and sinks of BASE + text; *errors joined by "\n" (g_free) when NULL */
static struct sinks *load(const char *text, struct intake_config **cfgp, char **errors)
{
    g_autofree char *conf_text = g_strdup_printf(BASE "%s", text);
    g_autofree char *path = write_file("intake.conf", conf_text);
    g_autoptr(GPtrArray) errs = NULL;
    struct intake_config *cfg = config_load(path, &errs);
    struct sinks *s = NULL;

    *errors = NULL;
    if (cfg == NULL) {
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
    if (cfgp)
	*cfgp = cfg;
    else
	config_free(cfg);
    return s;
}

static void test_signature(void)
{
    g_autoptr(GBytes) secret = g_bytes_new_static("whsec-test", 10);
    g_autofree char *sig = sink_webhook_signature(secret, 1700000000, "{\"id\":1}", 8);
    g_autofree char *later = sink_webhook_signature(secret, 1700000001, "{\"id\":1}", 8);
    g_autofree char *other = sink_webhook_signature(secret, 1700000000, "{\"id\":2}", 8);
    g_autoptr(GBytes) secret2 = g_bytes_new_static("whsec-tesu", 10);
    g_autofree char *key2 = sink_webhook_signature(secret2, 1700000000, "{\"id\":1}", 8);
    g_autofree char *cut = sink_webhook_signature(secret, 1700000000, "{\"id\":1}", 7);

    /* python3: hmac.new(b'whsec-test', b'1700000000.{"id":1}', hashlib.sha256).hexdigest() */
    is_str(sig, "t=1700000000,v1=5c7c76af77af443a710729c69dbfac6394ac5b78aa21a360d1cd2a71077fc9cf",
	   "signature: HMAC-SHA256 of TIMESTAMP.BODY, as Python's hmac computes it");
    ok(strcmp(sig + 13, later + 13) != 0, "signature: covers the timestamp");
    ok(strcmp(sig, other) != 0, "signature: covers the body");
    ok(strcmp(sig, key2) != 0, "signature: depends on the secret");
    ok(strcmp(sig, cut) != 0, "signature: covers the body's last byte (length, not NUL)");
}

static void test_config_valid(void)
{
    struct intake_config *cfg = NULL;
    g_autofree char *errors = NULL;
    g_autofree char *secret = write_file("secret", "s3cret\n");
    g_autofree char *text = g_strdup_printf(
	"[sink desk]\ntype = webhook\nurl = https://desk.example/hook\nsecret_file = %s\n"
	"mailboxes = sales\nevents = ticket.created, reply.failed\nretry_min = 5s\n"
	"retry_max = 2m\ntimeout = 1m\ninline_max = 200k\n\n"
	"[sink all]\ntype = webhook\nurl = http://127.0.0.1:9/x\nsecret_file = %s\n\n"
	"[worker]\nconsumer = x\n\n"
	"[sink all]\ntls_verify = no\n", secret, secret);
    struct sinks *s = load(text, &cfg, &errors);
    const struct sink_conf *desk, *all;

    if (!ok(s != NULL, "a valid file with two sinks loads")) {
	diag("%s", errors);
	config_free(cfg);
	return;
    }
    is_int(s->list->len, 2, "two sinks, [sink all] given twice being one");
    desk = g_ptr_array_index(s->list, 0);
    all = g_ptr_array_index(s->list, 1);
    is_str(desk->name, "desk", "first sink: its name");
    is_str(desk->type->name, "webhook", "first sink: type webhook");
    ok(desk->mailboxes && g_strv_length(desk->mailboxes) == 1
       && strcmp(desk->mailboxes[0], "sales") == 0, "mailboxes = sales");
    is_int(desk->events, (1 << SINK_EV_TICKET_CREATED) | (1 << SINK_EV_REPLY_FAILED),
	   "events = ticket.created, reply.failed");
    is_int(desk->retry_min_s, 5, "retry_min 5s");
    is_int(desk->retry_max_s, 120, "retry_max 2m");
    is_int(desk->timeout_s, 60, "timeout 1m");
    ok(all->mailboxes == NULL, "defaults: every mailbox");
    is_int(all->events, (1 << SINK_EVENT_KINDS) - 1, "defaults: all five events");
    is_int(all->retry_min_s, 10, "defaults: retry_min 10s");
    is_int(all->retry_max_s, 3600, "defaults: retry_max 1h");
    is_int(all->timeout_s, 30, "defaults: timeout 30s");
    {
	g_autofree const char **w1 = sinks_wanting(s, SINK_EV_TICKET_CREATED, "sales");
	g_autofree const char **w2 = sinks_wanting(s, SINK_EV_TICKET_CREATED, "support");
	g_autofree const char **w3 = sinks_wanting(s, SINK_EV_MESSAGE_ADDED, "sales");
	g_autofree char *j1 = w1 ? g_strjoinv(",", (char **) w1) : NULL;
	g_autofree char *j2 = w2 ? g_strjoinv(",", (char **) w2) : NULL;
	g_autofree char *j3 = w3 ? g_strjoinv(",", (char **) w3) : NULL;

	is_str(j1, "desk,all", "wanting ticket.created of sales: both");
	is_str(j2, "all", "wanting ticket.created of support: all only (desk serves sales)");
	is_str(j3, "all", "wanting message.added of sales: all only (desk wants two events)");
    }
    {
	struct sinks empty = {.list = g_ptr_array_new()};

	ok(sinks_wanting(&empty, SINK_EV_TICKET_CREATED, "sales") == NULL,
	   "no sink wants it: NULL");
	ok(!sinks_want(&empty, SINK_EV_TICKET_CREATED, "sales"), "sinks_want: none, FALSE");
	ok(!sinks_want(NULL, SINK_EV_TICKET_CREATED, "sales"), "sinks_want: no sinks, FALSE");
	g_ptr_array_free(empty.list, TRUE);
    }
    {
	/* sinks_want() says yes exactly when sinks_wanting() names a sink, for every event,
	 * for a mailbox a sink names, one none names, and none. */
	const char *mailboxes[] = {"sales", "support", NULL};
	int     differ = 0;

	for (int k = 0; k < SINK_EVENT_KINDS; k++)
	    for (size_t i = 0; i < G_N_ELEMENTS(mailboxes); i++) {
		g_autofree const char **w = sinks_wanting(s, k, mailboxes[i]);

		differ += (w != NULL) != sinks_want(s, k, mailboxes[i]);
	    }
	is_int(differ, 0, "sinks_want() agrees with sinks_wanting() for every event and mailbox");
    }
    sinks_free(s);
    config_free(cfg);
}

/* Bad sections: BASE is 10 lines, so a sink's first line is line 11. */
static const struct {
    const char *text;			/* "%s": the secret file's path */
    const char *want;			/* part of the errors */
} bad[] = {
    {"[sink a]\nurl = http://x/\nsecret_file = %s\n", "intake.conf:11: [sink a]: no key 'type'"},
    {"[sink a]\ntype = smtp\n", "intake.conf:12: [sink a] key 'type': expected one of webhook"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\ncolour = red\n",
	"intake.conf:15: [sink a] key 'colour': unknown key"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\nevents = ticket.closed\n",
	"intake.conf:15: [sink a] key 'events': expected ticket.created, message.added,"
	" ticket.reopened, autogen.kept, reply.failed or all, got 'ticket.closed'"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\nmailboxes = support, billing\n",
	"intake.conf:15: [sink a] key 'mailboxes': no [mailbox billing]"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\nretry_min = soon\n",
	"intake.conf:15: [sink a] key 'retry_min': expected a duration such as 30s"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\nretry_min = 1h\nretry_max = 1m\n",
	"intake.conf:16: [sink a] key 'retry_max': 60s is less than retry_min (3600s)"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\ntimeout = 8d\n",
	"intake.conf:15: [sink a] key 'timeout': expected a duration"},
    {"[sink a]\ntype = webhook\nsecret_file = %s\n", "intake.conf:11: [sink a]: no key 'url'"},
    {"[sink a]\ntype = webhook\nurl = ftp://x/\nsecret_file = %s\n",
	"intake.conf:13: [sink a] key 'url': expected an http:// or https:// URL, got 'ftp://x/'"},
    {"[sink a]\ntype = webhook\nurl = http://x/\n", "intake.conf:11: [sink a]: no key 'secret_file'"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = /nonexistent/secret\n",
	"intake.conf:14: [sink a] key 'secret_file': Failed to open file"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s.empty\n",
	"intake.conf:14: [sink a] key 'secret_file': "},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\ninline_max = lots\n",
	"intake.conf:15: [sink a] key 'inline_max': expected a size in bytes"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\ntls_verify = maybe\n",
	"intake.conf:15: [sink a] key 'tls_verify': expected yes or no, got 'maybe'"},
    {"[sink a]\ntype = webhook\nurl = http://x/\nsecret_file = %s\nca_file = /nonexistent/ca\n",
	"intake.conf:15: [sink a] key 'ca_file': no such file '/nonexistent/ca'"},
    {"[sink a b]\ntype = webhook\nurl = http://x/\nsecret_file = %s\n",
	"intake.conf:11: [sink a b]: a sink name is 1 to 64 letters"},
};

static void test_config_errors(void)
{
    g_autofree char *secret = write_file("secret", "s3cret\n");
    g_autofree char *empty = write_file("secret.empty", "\n");

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
	g_autofree char *text = g_strdup_printf(bad[i].text, secret);
	g_autofree char *errors = NULL;
	struct sinks *s = load(text, NULL, &errors);

	if (!ok(s == NULL, "bad section %zu refused", i))
	    sinks_free(s);
	has_str(errors, bad[i].want, "bad section %zu: the error says where and what", i);
    }
    {
	g_autofree char *errors = NULL;
	struct intake_config *cfg = NULL;
	struct sinks *s = load("", &cfg, &errors);

	ok(s != NULL && s->list->len == 0, "no [sink NAME]: an empty list");
	sinks_free(s);
	config_free(cfg);
    }
}

struct status_rows {
    GString *text;
};

static void status_row(void *ctx, const struct store_row *row)
{
    GString *s = ctx;

    for (int i = 0; i < row->n; i++) {
	const struct store_value *v = row->values + i;

	if (strcmp(v->name, "sink") == 0)
	    g_string_append_printf(s, "%.*s:", (int) v->len, v->text);
	else if (strcmp(v->name, "pending") == 0 || strcmp(v->name, "failed") == 0
		 || strcmp(v->name, "sent") == 0)
	    g_string_append_printf(s, " %s=%" G_GINT64_FORMAT, v->name, v->i);
	else if (strcmp(v->name, "last_answer") == 0 && v->type == STORE_TEXT)
	    g_string_append_printf(s, " [%.*s]", (int) v->len, v->text);
    }
    g_string_append(s, ";");
}

static void test_events(void)
{
    struct intake_config *cfg = NULL;
    g_autofree char *errors = NULL;
    g_autofree char *secret = write_file("secret", "s3cret\n");
    g_autofree char *text = g_strdup_printf(
	"[sink a]\ntype = webhook\nurl = http://127.0.0.1:9/\nsecret_file = %s\n\n"
	"[sink b]\ntype = webhook\nurl = http://127.0.0.1:9/\nsecret_file = %s\n"
	"events = message.added\n", secret, secret);
    struct sinks *s = load(text, &cfg, &errors);
    struct store *st;
    char   *why = NULL;
    gint64  t1, t2, m1;
    g_autofree char *n1 = NULL;
    g_autofree char *n2 = NULL;
    struct store_ticket t = {.mailbox = "support", .title = "Printer", .customer_address = "a@x.test",
	.status = "new", .sender_key = "a@x.test", .subject_key = "printer"};
    static const char *const no_ids[] = {NULL};
    struct store_message m = {.direction = "in", .dedupe_key = "k1", .message_id = "m1@x",
	.sender_address = "a@x.test", .recipients = "[]", .subject = "Printer",
	.header_fields = "[]", .body = "It burns.", .thread_ids = no_ids};
    struct store_event_row row = {0};
    gboolean found;
    int     n;

    if (!ok(s != NULL, "events: config loads")) {
	diag("%s", errors);
	config_free(cfg);
	return;
    }
    if (!ok((st = store_open(cfg, &why)) != NULL, "events: store opens")) {
	diag("%s", why);
	sinks_free(s);
	config_free(cfg);
	return;
    }
    ok(st->ops->begin(st, &why) == STORE_OK
       && st->ops->create_ticket(st, &t, "T", &t1, &n1, &why) == STORE_OK
       && st->ops->add_message(st, t1, &m, &m1, &why) == STORE_OK
       && sink_event_emit(st, s, SINK_EV_TICKET_CREATED, t1, n1, "support", m1,
			  json_pack("{s:o,s:{s:s}}", "ticket",
				    sink_event_ticket(n1, "support", "Printer", "new", "a@x.test"),
				    "message", "text", "It burns."), &why) == STORE_OK
       && (t.title = "Second", t.subject_key = "second",
	   st->ops->create_ticket(st, &t, "T", &t2, &n2, &why)) == STORE_OK
       && sink_event_emit(st, s, SINK_EV_TICKET_CREATED, t2, n2, "support", 0,
			  json_pack("{s:{}}", "ticket"), &why) == STORE_OK
       && sink_event_emit(st, s, SINK_EV_MESSAGE_ADDED, t1, n1, "support", 0,
			  json_pack("{s:{}}", "ticket"), &why) == STORE_OK
       && st->ops->commit(st, &why) == STORE_OK, "events written with two tickets: %s",
       why ? why : "");

    /* a: created(t1) #1, created(t2) #2, added(t1) #3; b: added(t1) #3 only. */
    ok(st->ops->next_event(st, "a", time(NULL), &row, &found, &why) == STORE_OK && found,
       "next_event a: one is due");
    is_int(row.id, 1, "next_event a: the oldest, event 1");
    is_str(row.type, "ticket.created", "event 1: ticket.created");
    is_str(row.number, n1, "event 1: the ticket's number");
    {
	g_autofree char *doc = sink_event_json(st, &row, &why);
	json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;

	ok(j != NULL, "event document: JSON");
	is_int(json_integer_value(json_object_get(j, "id")), 1, "document: id");
	is_str(json_string_value(json_object_get(j, "type")), "ticket.created", "document: type");
	is_int(json_integer_value(json_object_get(j, "version")), SINK_EVENT_VERSION,
	       "document: version");
	ok(json_string_value(json_object_get(j, "created")) != NULL
	   && g_str_has_suffix(json_string_value(json_object_get(j, "created")), "Z"),
	   "document: created, UTC");
	is_str(json_string_value(json_object_get(json_object_get(j, "ticket"), "number")), n1,
	       "document: ticket.number");
	is_str(json_string_value(json_object_get(json_object_get(j, "message"), "text")),
	       "It burns.", "document: message.text from the payload");
	ok(json_is_array(json_object_get(json_object_get(j, "message"), "attachments")),
	   "document: message.attachments, from the store");
	json_decref(j);
    }
    ok(st->ops->event_state(st, row.row, "pending", "HTTP 503", time(NULL) + 3600, &why)
       == STORE_OK, "event 1: pending again, next try in an hour");
    store_event_row_clear(&row);
    ok(st->ops->next_event(st, "a", time(NULL), &row, &found, &why) == STORE_OK && found,
       "next_event a: another is due");
    is_int(row.id, 2, "while event 1 waits, event 3 (same ticket) waits too: event 2 is next");
    ok(st->ops->event_state(st, row.row, "sent", "HTTP 200", 0, &why) == STORE_OK,
       "event 2 sent");
    store_event_row_clear(&row);
    ok(st->ops->next_event(st, "a", time(NULL), &row, &found, &why) == STORE_OK && !found,
       "next_event a: nothing due (event 3 waits for event 1)");
    ok(st->ops->next_event(st, "b", time(NULL), &row, &found, &why) == STORE_OK && found
       && row.id == 3, "next_event b: event 3 (b does not wait for a)");
    ok(st->ops->event_state(st, row.row, "failed", "HTTP 400", 0, &why) == STORE_OK,
       "b: event 3 failed");
    store_event_row_clear(&row);
    ok(st->ops->next_event(st, "a", time(NULL) + 7200, &row, &found, &why) == STORE_OK && found
       && row.id == 1 && row.attempts == 1, "a: event 1 due after its next try, one attempt");
    ok(st->ops->event_state(st, row.row, "sent", "HTTP 200", 0, &why) == STORE_OK,
       "event 1 sent");
    store_event_row_clear(&row);
    ok(st->ops->next_event(st, "a", time(NULL), &row, &found, &why) == STORE_OK && found
       && row.id == 3, "a: event 3 follows event 1");
    store_event_row_clear(&row);
    {
	GString *got = g_string_new(NULL);

	ok(st->ops->sink_status(st, status_row, got, &why) == STORE_OK, "sink_status");
	is_str(got->str, "a: pending=1 failed=0 sent=2 [HTTP 200];b: pending=0 failed=1 sent=0"
	       " [HTTP 400];", "sink_status: counts and the newest answer per sink");
	g_string_free(got, TRUE);
    }
    ok(st->ops->sink_retry(st, "b", 99, &n, &why) == STORE_OK && n == 0,
       "sink_retry b 99: no such failed event");
    ok(st->ops->sink_retry(st, "b", 3, &n, &why) == STORE_OK && n == 1,
       "sink_retry b 3: pending again");
    ok(st->ops->next_event(st, "b", time(NULL), &row, &found, &why) == STORE_OK && found
       && row.id == 3, "b: event 3 due again at once");
    store_event_row_clear(&row);
    ok(st->ops->prune_events(st, time(NULL) - 60, 100, &n, &why) == STORE_OK && n == 0,
       "prune_events: nothing sent a minute before now");
    ok(st->ops->prune_events(st, time(NULL) + 60, 1, &n, &why) == STORE_OK && n == 1,
       "prune_events: at most limit sent events");
    ok(st->ops->prune_events(st, time(NULL) + 60, 100, &n, &why) == STORE_OK && n == 1,
       "prune_events: the other sent one, never a pending one");
    {
	g_autofree char *ref = NULL;
	g_autofree char *ref2 = NULL;

	ok(st->ops->sink_ref_get(st, "a", t1, &ref, &why) == STORE_OK && ref == NULL,
	   "sink_ref_get: none yet");
	ok(st->ops->sink_ref_set(st, "a", t1, "RT-17", &why) == STORE_OK
	   && st->ops->sink_ref_set(st, "a", t1, "RT-18", &why) == STORE_OK
	   && st->ops->sink_ref_get(st, "a", t1, &ref2, &why) == STORE_OK,
	   "sink_ref_set twice");
	is_str(ref2, "RT-18", "sink_ref_get: the last one set");
    }
    if (why)
	diag("%s", why);
    store_close(st);
    sinks_free(s);
    config_free(cfg);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;

    tmpdir = g_dir_make_tmp("intake-test-sink-XXXXXX", &err);
    if (tmpdir == NULL)
	g_error("cannot make a temporary directory: %s", err->message);
    test_signature();
    test_config_valid();
    test_config_errors();
    test_events();
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
