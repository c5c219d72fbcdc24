/*
 * NAME
 *	test_filter - unit tests of worker/stage_filter.c
 * DESCRIPTION
 *	Table-driven: envelopes (sender, From, Reply-To and the raw header
 *	fields the milter copies) run through stage_filter(), and what it
 *	decides: auto-generated or not and why (RFC 3834 Auto-Submitted,
 *	Precedence, List-*, X-Autoreply, multipart/report, null sender,
 *	system senders), and who the customer is and where an
 *	acknowledgement would go. Whether it may be answered at all
 *	(X-Auto-Response-Suppress, X-Loop, ...) is test_ack_policy's.
 *
 *	Links the stages' objects (job.c, stage_filter.c) like every
 *	worker unit test.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "config.h"
#include "job.h"
#include "tap.h"

#define NULL_SENDER	"null envelope sender (a bounce or report)"
#define NO_SENDER	"\x01"		/* no "sender" member at all */

static const char conf_text[] =
"[mailbox support]\n"
"address = support@example.test\n"
"aliases = help@example.test\n";

static const struct {
    const char *label;
    const char *sender;
    const char *from_name;		/* NULL with from_addr NULL: no From */
    const char *from_addr;
    const char *reply_to;		/* NULL: no Reply-To */
    const char *headers[8];		/* name, value, name, value, ...; NULL ends */
    const char *autogen;		/* NULL: not auto-generated */
    const char *customer;		/* customer_address */
    const char *name;			/* customer_name */
    const char *reply_address;
} cases[] = {
    /* A person. */
    {"a normal person", "alice@customer.example", "Alice", "alice@customer.example", NULL,
	{"Precedence", "normal", "Content-Type", "text/plain; charset=utf-8"},
    NULL, "alice@customer.example", "Alice", "alice@customer.example"},
    {"no raw headers at all", "bob@customer.example", "", "bob@customer.example", NULL, {NULL},
    NULL, "bob@customer.example", "", "bob@customer.example"},

    /* The envelope sender. */
    {"null sender", "", "Alice", "alice@customer.example", NULL, {NULL},
    NULL_SENDER, "alice@customer.example", "Alice", "alice@customer.example"},
    {"no sender member", NO_SENDER, "Alice", "alice@customer.example", NULL, {NULL},
    NULL_SENDER, "alice@customer.example", "Alice", "alice@customer.example"},

    /* Auto-Submitted (RFC 3834) */
    {"Auto-Submitted: auto-replied", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", "auto-replied"},
    "Auto-Submitted", "a@c.example", "A", "a@c.example"},
    {"Auto-Submitted: auto-generated", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", "auto-generated"},
    "Auto-Submitted", "a@c.example", "A", "a@c.example"},
    {"Auto-Submitted: auto-notified", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", "auto-notified"},
    "Auto-Submitted", "a@c.example", "A", "a@c.example"},
    {"auto-submitted (name in lower case)", "a@c.example", "A", "a@c.example", NULL,
	{"auto-submitted", "Auto-Replied"},
    "Auto-Submitted", "a@c.example", "A", "a@c.example"},
    {"Auto-Submitted: no", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", "no"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"Auto-Submitted: No (comment)", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", "No (written by a person)"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"Auto-Submitted: NO with blanks", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", " \tNO "},
    NULL, "a@c.example", "A", "a@c.example"},
    {"Auto-Submitted: no(comment)", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", "no(person)"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"Auto-Submitted: notified (not \"no\")", "a@c.example", "A", "a@c.example", NULL,
	{"Auto-Submitted", "notified"},
    "Auto-Submitted", "a@c.example", "A", "a@c.example"},

    /* Precedence */
    {"Precedence: bulk", "a@c.example", "A", "a@c.example", NULL, {"Precedence", "bulk"},
    "Precedence", "a@c.example", "A", "a@c.example"},
    {"Precedence: list", "a@c.example", "A", "a@c.example", NULL, {"Precedence", "list"},
    "Precedence", "a@c.example", "A", "a@c.example"},
    {"Precedence: junk", "a@c.example", "A", "a@c.example", NULL, {"Precedence", "junk"},
    "Precedence", "a@c.example", "A", "a@c.example"},
    {"Precedence: auto_reply", "a@c.example", "A", "a@c.example", NULL,
	{"Precedence", "auto_reply"},
    "Precedence", "a@c.example", "A", "a@c.example"},
    {"Precedence: Bulk", "a@c.example", "A", "a@c.example", NULL, {"Precedence", " Bulk"},
    "Precedence", "a@c.example", "A", "a@c.example"},
    {"Precedence: normal", "a@c.example", "A", "a@c.example", NULL, {"Precedence", "normal"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"Precedence: urgent", "a@c.example", "A", "a@c.example", NULL, {"Precedence", "urgent"},
    NULL, "a@c.example", "A", "a@c.example"},

    /* Mailing lists */
    {"List-Id", "a@c.example", "A", "a@c.example", NULL,
	{"List-Id", "Users <users.lists.example>"},
    "mailing list", "a@c.example", "A", "a@c.example"},
    {"List-Post", "a@c.example", "A", "a@c.example", NULL,
	{"List-Post", "<mailto:users@lists.example>"},
    "mailing list", "a@c.example", "A", "a@c.example"},
    {"List-Unsubscribe", "a@c.example", "A", "a@c.example", NULL,
	{"List-Unsubscribe", "<https://c.example/u>"},
    "mailing list", "a@c.example", "A", "a@c.example"},
    {"list-id in lower case", "a@c.example", "A", "a@c.example", NULL,
	{"list-id", "<x.example>"},
    "mailing list", "a@c.example", "A", "a@c.example"},

    /* Autoresponders */
    {"X-Autoreply", "a@c.example", "A", "a@c.example", NULL, {"X-Autoreply", "yes"},
    "X-Autoreply", "a@c.example", "A", "a@c.example"},
    {"X-Autorespond", "a@c.example", "A", "a@c.example", NULL, {"X-Autorespond", "x"},
    "X-Autoreply", "a@c.example", "A", "a@c.example"},

    /* Reports */
    {"multipart/report", "a@c.example", "A", "a@c.example", NULL,
	{"Content-Type", "multipart/report; report-type=delivery-status; boundary=x"},
    "multipart/report", "a@c.example", "A", "a@c.example"},
    {"Multipart/Report", "a@c.example", "A", "a@c.example", NULL,
	{"Content-Type", "Multipart/Report; report-type=disposition-notification"},
    "multipart/report", "a@c.example", "A", "a@c.example"},
    {"multipart/mixed", "a@c.example", "A", "a@c.example", NULL,
	{"Content-Type", "multipart/mixed; boundary=x"},
    NULL, "a@c.example", "A", "a@c.example"},

    /* System senders, envelope sender or From */
    {"MAILER-DAEMON@x", "MAILER-DAEMON@mx.c.example", "", "alice@c.example", NULL, {NULL},
    "system sender", "alice@c.example", "", "alice@c.example"},
    {"postmaster@", "postmaster@c.example", "", "alice@c.example", NULL, {NULL},
    "system sender", "alice@c.example", "", "alice@c.example"},
    {"Postmaster@ in mixed case", "Postmaster@c.example", "", "alice@c.example", NULL, {NULL},
    "system sender", "alice@c.example", "", "alice@c.example"},
    {"noreply@", "noreply@shop.example", "Shop", "noreply@shop.example", NULL, {NULL},
    "system sender", "noreply@shop.example", "Shop", "noreply@shop.example"},
    {"no-reply@", "no-reply@shop.example", "", "no-reply@shop.example", NULL, {NULL},
    "system sender", "no-reply@shop.example", "", "no-reply@shop.example"},
    {"do-not-reply@", "do-not-reply@shop.example", "", "x@shop.example", NULL, {NULL},
    "system sender", "x@shop.example", "", "x@shop.example"},
    {"donotreply@", "x@shop.example", "", "DoNotReply@shop.example", NULL, {NULL},
    "system sender", "DoNotReply@shop.example", "", "DoNotReply@shop.example"},
    {"list-request@", "users-request@lists.example", "", "a@c.example", NULL, {NULL},
    "system sender", "a@c.example", "", "a@c.example"},
    {"bounce-123@", "bounce-123@mail.example", "", "news@shop.example", NULL, {NULL},
    "system sender", "news@shop.example", "", "news@shop.example"},
    {"bounces+abc@", "bounces+abc=c.example@mail.example", "", "news@shop.example", NULL, {NULL},
    "system sender", "news@shop.example", "", "news@shop.example"},
    {"bounce@", "bounce@mail.example", "", "news@shop.example", NULL, {NULL},
    "system sender", "news@shop.example", "", "news@shop.example"},
    {"majordomo@", "majordomo@lists.example", "", "a@c.example", NULL, {NULL},
    "system sender", "a@c.example", "", "a@c.example"},
    {"listserv@", "LISTSERV@lists.example", "", "a@c.example", NULL, {NULL},
    "system sender", "a@c.example", "", "a@c.example"},
    {"noreply in From only", "bounces@esp.example.net", "", "noreply@shop.example", NULL,
	{NULL},
    "system sender", "noreply@shop.example", "", "noreply@shop.example"},
    {"a person whose name has those words", "noreply.fan@c.example", "", "bounce.x@c.example",
	NULL, {NULL},
    NULL, "bounce.x@c.example", "", "bounce.x@c.example"},
    {"postmaster.smith@ is a person", "postmaster.smith@c.example", "", "postmaster.smith@c.example",
	NULL, {NULL},
    NULL, "postmaster.smith@c.example", "", "postmaster.smith@c.example"},

    /* May not be answered, but written by a person */
    {"X-Auto-Response-Suppress: All", "a@c.example", "A", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "All"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Auto-Response-Suppress: OOF", "a@c.example", "A", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "OOF"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Auto-Response-Suppress: DR, OOF, AutoReply", "a@c.example", "A", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "DR, OOF, AutoReply"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Auto-Response-Suppress: AutoReply", "a@c.example", "A", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "AutoReply"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Auto-Response-Suppress: DR, RN, NRN", "a@c.example", "A", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "DR, RN, NRN"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Auto-Response-Suppress: None", "a@c.example", "A", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "None"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"auto-generated and X-Auto-Response-Suppress", "a@c.example", "A", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "All", "Precedence", "bulk"},
    "Precedence", "a@c.example", "A", "a@c.example"},

    /* X-Loop */
    {"X-Loop: our mailbox", "a@c.example", "A", "a@c.example", NULL,
	{"X-Loop", "support@example.test"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Loop: our mailbox in <> and capitals", "a@c.example", "A", "a@c.example", NULL,
	{"X-Loop", " <Support@Example.TEST> "},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Loop: our alias, plus-addressed", "a@c.example", "A", "a@c.example", NULL,
	{"X-Loop", "help+x@example.test"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Loop: someone else's", "a@c.example", "A", "a@c.example", NULL,
	{"X-Loop", "helpdesk@other.example"},
    NULL, "a@c.example", "A", "a@c.example"},
    {"X-Loop: garbage", "a@c.example", "A", "a@c.example", NULL, {"X-Loop", ""},
    NULL, "a@c.example", "A", "a@c.example"},

    /* Who is the customer, where does a reply go */
    {"From and Reply-To", "mta-out@esp.example", "Alice", "alice@c.example", "team@c.example",
	{NULL},
    NULL, "alice@c.example", "Alice", "team@c.example"},
    {"Reply-To, no From", "mta-out@esp.example", NULL, NULL, "team@c.example", {NULL},
    NULL, "team@c.example", "Team", "team@c.example"},
    {"no From, no Reply-To: the envelope sender", "carol@c.example", NULL, NULL, NULL, {NULL},
    NULL, "carol@c.example", "", "carol@c.example"},
    {"nothing at all", "", NULL, NULL, NULL, {NULL},
    NULL_SENDER, "unknown", "", ""},
    {"From without an address", "", "Alice", "", NULL, {NULL},
    NULL_SENDER, "unknown", "Alice", ""},
};

static json_t *make_env(gsize i)
{
    json_t *env = json_object();
    json_t *headers = json_array();

    if (strcmp(cases[i].sender, NO_SENDER) != 0)
	json_object_set_new(env, "sender", json_string(cases[i].sender));
    if (cases[i].from_addr)
	json_object_set_new(env, "from", json_pack("[{s:s,s:s}, {s:s,s:s}]",
						   "name", cases[i].from_name,
						   "address", cases[i].from_addr,
						   "name", "Second",
						   "address", "second@c.example"));
    else
	json_object_set_new(env, "from", json_array());
    if (cases[i].reply_to)
	json_object_set_new(env, "reply_to", json_pack("[{s:s,s:s}]", "name", "Team",
						       "address", cases[i].reply_to));
    for (int j = 0; cases[i].headers[j]; j += 2)
	json_array_append_new(headers, json_pack("[s,s]", cases[i].headers[j],
						 cases[i].headers[j + 1]));
    json_object_set_new(env, "headers", headers);
    json_object_set_new(env, "queue_id", json_string("4ABCD1234"));
    return env;
}

static void test_filter(const struct intake_config *cfg)
{
    struct pipeline pl = {.cfg = cfg};

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	const char *label = cases[i].label;
	json_t *env = make_env(i);
	struct job job = {0};

	job.pl = &pl;
	job.env = env;
	job.entry_id = "1-0";
	job.qid = "4ABCD1234";
	job.mailbox_name = "support";
	job.mailbox = config_mailbox(cfg, "support");
	is_int(stage_filter(&job), STAGE_NEXT, "%s: STAGE_NEXT", label);
	is_str(job.autogen, cases[i].autogen, "%s: autogen", label);
	is_str(job.customer_address, cases[i].customer, "%s: customer_address", label);
	is_str(job.customer_name, cases[i].name, "%s: customer_name", label);
	is_str(job.reply_address, cases[i].reply_address, "%s: reply_address", label);
	json_decref(env);
    }
}

/* json_header: the first field of the name, without regard to case. */
static void test_json_header(void)
{
    json_t *env = json_pack("{s:[[s,s],[s,s],[s,s],[s],[i,s],s]}", "headers",
			    "X-A", "one", "x-a", "two", "X-B", "three", "X-C", 1, "x", "junk");

    is_str(json_header(env, "X-A"), "one", "json_header: the first of two");
    is_str(json_header(env, "x-b"), "three", "json_header: without regard to case");
    is_str(json_header(env, "X-C"), NULL, "json_header: a name without value is NULL");
    is_str(json_header(env, "X-D"), NULL, "json_header: a missing field is NULL");
    json_decref(env);
    env = json_object();
    is_str(json_header(env, "X-A"), NULL, "json_header: no headers member");
    json_decref(env);
}

int     main(void)
{
    struct intake_config *cfg = tap_config(conf_text);

    if (cfg == NULL)
	return tap_done();
    test_filter(cfg);
    test_json_header();
    config_free(cfg);
    return tap_done();
}
