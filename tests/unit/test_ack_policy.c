/*
 * NAME
 *	test_ack_policy - unit tests of worker/ack_policy.c and common/srs.c
 * DESCRIPTION
 *	Table-driven: envelopes (sender, From, Reply-To, the raw header
 *	fields the milter copies, the classifier's verdict) and a mailbox go
 *	through ack_policy(); each row says whether an acknowledgement may
 *	go, to which address, or why not. Then the pieces it is made of:
 *	the no-reply table, DMARC relaxed alignment by the Public Suffix
 *	List, Authentication-Results parsing, SRS decoding.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <jansson.h>

#include "ack_policy.h"
#include "config.h"
#include "srs.h"
#include "tap.h"

static const char conf_text[] =
"[worker]\n"
"authserv_id = mx.example.test, mx2.example.test\n"
"[mailbox support]\n"
"address = support@example.test\n"
"aliases = help@example.test\n"
"[mailbox aligned]\n"
"address = aligned@example.test\n"
"reply_to = from_if_aligned\n"
"[mailbox lenient]\n"
"address = lenient@example.test\n"
"ack_on_auth_fail = yes\n";

/* The reasons, as ack_policy() words them (a prefix is enough). */
#define AUTOGEN		"auto-generated mail (the milter's"
#define NULLSENDER	"null envelope sender"
#define XARS		"X-Auto-Response-Suppress"
#define LOOP		"X-Loop names one of our mailboxes"
#define OWNID		"its Message-ID is one of our own replies'"
#define MADEUP		"its From was made up by an MTA"
#define UNUSABLE	"the reply address is not a plain mail address"
#define OURS		"the reply address is one of our own mailboxes"
#define NOREPLY		"the reply address is a no-reply address"
#define RT_NOREPLY	"Reply-To names a no-reply address"
#define SPF		"our MTA's Authentication-Results say spf=fail"
#define DMARC		"our MTA's Authentication-Results say dmarc=fail"

#define AR "Authentication-Results"

static const struct {
    const char *label;
    const char *mailbox;
    const char *sender;
    const char *from;			/* From address; NULL: no From */
    const char *reply_to;		/* NULL: no Reply-To */
    const char *headers[8];		/* raw fields: name, value, ...; NULL ends */
    const char *kind;			/* autogen.kind; NULL: no member */
    gboolean own_id;
    const char *why;			/* NULL: may be answered */
    const char *to;			/* where to, when it may (NULL when refused) */
} cases[] = {
    /* Where it goes: the envelope sender (RFC 3834 section 4), whatever From says. */
    {"a person", "support", "alice@customer.example", "alice@customer.example", NULL,
	{"From", "Alice <alice@customer.example>"}, "human", FALSE,
    NULL, "alice@customer.example"},
    {"forged From: the envelope sender gets it", "support", "spammer@bad.example",
	"victim@victim.example", NULL, {NULL}, "human", FALSE,
    NULL, "spammer@bad.example"},
    {"Reply-To ignored by default", "support", "alice@customer.example",
	"alice@customer.example", "victim@victim.example", {NULL}, "human", FALSE,
    NULL, "alice@customer.example"},
    {"no autogen member (an older milter)", "support", "a@c.example", "a@c.example", NULL,
	{NULL}, NULL, FALSE, NULL, "a@c.example"},

    /* from_if_aligned */
    {"aligned: same domain, From used", "aligned", "bounces-x@c.example",
	"alice@c.example", NULL, {NULL}, "human", FALSE, NULL, "alice@c.example"},
    {"aligned: same organisational domain", "aligned", "b@mail.c.example",
	"alice@c.example", NULL, {NULL}, "human", FALSE, NULL, "alice@c.example"},
    {"aligned: sub-domains of one organisation", "aligned", "b@mx.shop.co.uk",
	"alice@eu.shop.co.uk", NULL, {NULL}, "human", FALSE, NULL, "alice@eu.shop.co.uk"},
    {"aligned: case of the domain", "aligned", "b@C.Example", "alice@c.example", NULL,
	{NULL}, "human", FALSE, NULL, "alice@c.example"},
    {"aligned: Reply-To before From", "aligned", "b@c.example", "alice@c.example",
	"team@c.example", {NULL}, "human", FALSE, NULL, "team@c.example"},
    {"not aligned: another domain, the envelope sender", "aligned", "spammer@bad.example",
	"victim@victim.example", NULL, {NULL}, "human", FALSE, NULL, "spammer@bad.example"},
    {"not aligned: a public suffix is no organisation", "aligned", "a@attacker.co.uk",
	"victim@victim.co.uk", NULL, {NULL}, "human", FALSE, NULL, "a@attacker.co.uk"},
    {"not aligned: a Reply-To elsewhere", "aligned", "b@c.example", "alice@c.example",
	"victim@victim.example", {NULL}, "human", FALSE, NULL, "b@c.example"},
    {"not aligned: a lookalike suffix", "aligned", "a@c.example", "v@evilc.example", NULL,
	{NULL}, "human", FALSE, NULL, "a@c.example"},
    {"aligned through SRS0", "aligned", "SRS0=HHH=TT=c.example=alice@fwd.example",
	"alice@c.example", NULL, {NULL}, "human", FALSE, NULL, "alice@c.example"},
    {"aligned through SRS1", "aligned",
	"SRS1=HHH=fwd1.example==HHH=TT=c.example=alice@fwd2.example",
	"alice@c.example", NULL, {NULL}, "human", FALSE, NULL, "alice@c.example"},
    {"SRS of another domain: the forwarder's address", "aligned",
	"SRS0=HHH=TT=bad.example=x@fwd.example", "victim@victim.example", NULL, {NULL},
    "human", FALSE, NULL, "SRS0=HHH=TT=bad.example=x@fwd.example"},

    /* Auto-generated and looping mail. */
    {"classifier: autoreply", "support", "a@c.example", "a@c.example", NULL, {NULL},
    "autoreply", FALSE, AUTOGEN, NULL},
    {"classifier: bounce", "support", "a@c.example", "a@c.example", NULL, {NULL},
    "bounce", FALSE, AUTOGEN, NULL},
    {"classifier: list", "support", "a@c.example", "a@c.example", NULL, {NULL},
    "list", FALSE, AUTOGEN, NULL},
    {"null sender", "support", "", "a@c.example", NULL, {NULL}, "human", FALSE,
    NULLSENDER, NULL},
    {"null sender with from_if_aligned", "aligned", "", "a@c.example", NULL, {NULL}, "human", FALSE, NULLSENDER, NULL},
    {"X-Auto-Response-Suppress: All", "support", "a@c.example", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "All"}, "human", FALSE, XARS, NULL},
    {"X-Auto-Response-Suppress: DR, OOF", "support", "a@c.example", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "DR, OOF"}, "human", FALSE, XARS, NULL},
    {"X-Auto-Response-Suppress: DR only", "support", "a@c.example", "a@c.example", NULL,
	{"X-Auto-Response-Suppress", "DR"}, "human", FALSE, NULL, "a@c.example"},
    {"X-Loop names our mailbox", "support", "a@c.example", "a@c.example", NULL,
	{"X-Loop", "Support@Example.test"}, "human", FALSE, LOOP, NULL},
    {"X-Loop names our alias, second field", "support", "a@c.example", "a@c.example", NULL,
	{"X-Loop", "other@x.example", "X-Loop", "help@example.test"}, "human", FALSE,
    LOOP, NULL},
    {"X-Loop of someone else", "support", "a@c.example", "a@c.example", NULL,
	{"X-Loop", "other@x.example"}, "human", FALSE, NULL, "a@c.example"},
    {"our own Message-ID came back", "support", "a@c.example", "a@c.example", NULL,
	{NULL}, "human", TRUE, OWNID, NULL},

    /* Addresses an MTA made up. */
    {"From: a bare word", "support", "a@c.example", "winner@mx.intake.test", NULL,
	{"From", "winner"}, "human", FALSE, MADEUP, NULL},
    {"From: only an encoded word", "support", "a@c.example",
	"=?utf-8?q?WIN_NOW?=@mx.intake.test", NULL,
	{"From", "=?utf-8?q?WIN_NOW?="}, "human", FALSE, MADEUP, NULL},
    {"From address an encoded word (no raw field)", "support", "a@c.example",
	"=?utf-8?q?WIN?=@mx.intake.test", NULL, {NULL}, "human", FALSE, MADEUP, NULL},
    {"From with a name and an address", "support", "a@c.example", "a@c.example", NULL,
	{"From", "=?utf-8?q?J=C3=B6rg?= <a@c.example>"}, "human", FALSE, NULL,
    "a@c.example"},

    /* The reply address. */
    {"sender is our mailbox", "support", "support@example.test", "a@c.example", NULL,
	{NULL}, "human", FALSE, OURS, NULL},
    {"sender is our alias with an extension", "support", "HELP+x@example.test",
	"a@c.example", NULL, {NULL}, "human", FALSE, OURS, NULL},
    {"aligned From is another mailbox of ours", "aligned", "x@example.test",
	"support@example.test", NULL, {NULL}, "human", FALSE, OURS, NULL},
    {"sender not a plain address", "support", "a b@c.example", "a@c.example", NULL, {NULL},
    "human", FALSE, UNUSABLE, NULL},
    {"sender noreply@", "support", "noreply@shop.example", "a@c.example", NULL, {NULL},
    "human", FALSE, NOREPLY, NULL},
    {"sender No-Reply+x@", "support", "No-Reply+x@shop.example", "a@c.example", NULL,
	{NULL}, "human", FALSE, NOREPLY, NULL},
    {"sender do-not-reply@", "support", "do-not-reply@shop.example", "a@c.example", NULL,
	{NULL}, "human", FALSE, NOREPLY, NULL},
    {"sender MAILER-DAEMON@", "support", "MAILER-DAEMON@mx.example", "a@c.example", NULL,
	{NULL}, "human", FALSE, NOREPLY, NULL},
    {"sender bounces+x=y@", "support", "bounces+x=y@list.example", "a@c.example", NULL,
	{NULL}, "human", FALSE, NOREPLY, NULL},
    {"sender list-request@", "support", "users-request@list.example", "a@c.example", NULL,
	{NULL}, "human", FALSE, NOREPLY, NULL},
    {"sender postmaster.smith@ is a person", "support", "postmaster.smith@c.example",
	"a@c.example", NULL, {NULL}, "human", FALSE, NULL, "postmaster.smith@c.example"},
    {"Reply-To noreply@ (envelope mode)", "support", "a@c.example", "a@c.example",
	"noreply@c.example", {NULL}, "human", FALSE, RT_NOREPLY, NULL},
    {"Reply-To noreply@ (aligned)", "aligned", "a@c.example", "a@c.example",
	"noreply@c.example", {NULL}, "human", FALSE, NOREPLY, NULL},

    /* Authentication-Results: only ours count, the topmost of ours decides. */
    {"ours: spf=fail", "support", "a@c.example", "a@c.example", NULL,
	{AR, "mx.example.test; spf=fail smtp.mailfrom=a@c.example"}, "human", FALSE,
    SPF, NULL},
    {"ours: dmarc=fail", "support", "a@c.example", "a@c.example", NULL,
	{AR, "mx.example.test 1; spf=pass; dkim=none; dmarc=fail (p=reject) header.from=c.example"},
    "human", FALSE, DMARC, NULL},
    {"ours, second id: SPF/1 = FAIL", "support", "a@c.example", "a@c.example", NULL,
	{AR, "MX2.example.test; SPF/1 = FAIL"}, "human", FALSE, SPF, NULL},
    {"ours: spf=pass", "support", "a@c.example", "a@c.example", NULL,
	{AR, "mx.example.test; spf=pass smtp.mailfrom=a@c.example; dmarc=pass"}, "human",
    FALSE, NULL, "a@c.example"},
    {"ours: spf=softfail is no fail", "support", "a@c.example", "a@c.example", NULL,
	{AR, "mx.example.test; spf=softfail"}, "human", FALSE, NULL, "a@c.example"},
    {"ours: fail only in a comment", "support", "a@c.example", "a@c.example", NULL,
	{AR, "mx.example.test; spf=pass (was: spf=fail; dmarc=fail) smtp.mailfrom=a@c.example"},
    "human", FALSE, NULL, "a@c.example"},
    {"forged id: spf=fail ignored", "support", "a@c.example", "a@c.example", NULL,
	{AR, "mx.attacker.example; spf=fail"}, "human", FALSE, NULL, "a@c.example"},
    {"id as a prefix of ours is not ours", "support", "a@c.example", "a@c.example", NULL,
	{AR, "mx.example.test.evil; spf=fail"}, "human", FALSE, NULL, "a@c.example"},
    {"topmost of ours passes, a lower one of ours fails", "support", "a@c.example",
	"a@c.example", NULL,
	{AR, "mx.attacker.example; spf=fail", AR, "mx.example.test; spf=pass",
	 AR, "mx.example.test; spf=fail"}, "human", FALSE, NULL, "a@c.example"},
    {"ack_on_auth_fail = yes", "lenient", "a@c.example", "a@c.example", NULL,
	{AR, "mx.example.test; spf=fail"}, "human", FALSE, NULL, "a@c.example"},
};

static json_t *make_env(gsize i)
{
    json_t *env = json_object();
    json_t *headers = json_array();

    json_object_set_new(env, "sender", json_string(cases[i].sender));
    json_object_set_new(env, "from", cases[i].from
			? json_pack("[{s:s,s:s}]", "name", "", "address", cases[i].from)
			: json_array());
    json_object_set_new(env, "reply_to", cases[i].reply_to
			? json_pack("[{s:s,s:s}]", "name", "", "address", cases[i].reply_to)
			: json_array());
    for (int j = 0; cases[i].headers[j]; j += 2)
	json_array_append_new(headers, json_pack("[s,s]", cases[i].headers[j],
						 cases[i].headers[j + 1]));
    json_object_set_new(env, "headers", headers);
    if (cases[i].kind)
	json_object_set_new(env, "autogen", json_pack("{s:s,s:s}", "kind", cases[i].kind,
						      "reason", "test"));
    return env;
}

static void test_policy(const struct intake_config *cfg)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	json_t *env = make_env(i);
	struct ack_request rq = {env, cfg, config_mailbox(cfg, cases[i].mailbox),
	    cases[i].own_id};
	g_autofree char *to = NULL;
	const char *why;

	if (!ok(rq.mailbox != NULL, "%s: mailbox %s configured", cases[i].label, cases[i].mailbox)) {
	    json_decref(env);
	    continue;
	}
	why = ack_policy(&rq, &to);
	if (cases[i].why) {
	    has_str(why, cases[i].why, "%s: refused: %s", cases[i].label, cases[i].why);
	} else {
	    is_str(why, NULL, "%s: may be answered", cases[i].label);
	    is_str(to, cases[i].to, "%s: to", cases[i].label);
	}
	json_decref(env);
    }
}

static void test_no_reply(void)
{
    static const struct {
	const char *addr;
	gboolean no_reply;
    } t[] = {
	{"noreply@x.example", TRUE}, {"NoReply-billing@x.example", TRUE},
	{"no_reply@x.example", TRUE}, {"donotreply@x.example", TRUE},
	{"do_not_reply@x.example", TRUE}, {"mailer-daemon@x.example", TRUE},
	{"postmaster@x.example", TRUE}, {"bounce@x.example", TRUE},
	{"bounce-123-abc@x.example", TRUE}, {"nobody@x.example", TRUE},
	{"majordomo@x.example", TRUE}, {"users-request@x.example", TRUE},
	{"alice@x.example", FALSE}, {"replyto@x.example", FALSE},
	{"bob.bounce@x.example", FALSE}, {"request@x.example", FALSE},
	{"postmasters@x.example", FALSE}, {"noreply.example@gmail.example", TRUE},
	{"", FALSE}, {NULL, FALSE},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(t); i++)
	is_int(ack_no_reply_address(t[i].addr), t[i].no_reply, "no-reply address '%s': %s",
	       t[i].addr ? t[i].addr : "(null)", t[i].no_reply ? "yes" : "no");
}

static void test_aligned(void)
{
    static const struct {
	const char *a, *b;
	gboolean aligned;
    } t[] = {
	{"c.example", "c.example", TRUE}, {"mail.c.example", "c.example", TRUE},
	{"a.b.c.example", "x.c.example", TRUE}, {"EU.Shop.co.uk", "shop.co.uk", TRUE},
	{"shop.co.uk", "other.co.uk", FALSE}, {"co.uk", "co.uk", TRUE},
	{"c.example", "d.example", FALSE}, {"evilc.example", "c.example", FALSE},
	{"x.github.io", "y.github.io", FALSE}, {"", "c.example", FALSE},
	{NULL, "c.example", FALSE},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(t); i++)
	is_int(ack_aligned(t[i].a, t[i].b), t[i].aligned, "aligned '%s' '%s': %s",
	       t[i].a ? t[i].a : "(null)", t[i].b, t[i].aligned ? "yes" : "no");
}

static void test_auth(void)
{
    static char *ids[] = {"mx.example.test", NULL};
    static char *none[] = {NULL};
    static const struct {
	const char *value;
	const char *failed;
    } t[] = {
	{"mx.example.test; spf=fail", "spf"},
	{"mx.example.test; dkim=pass; dmarc=fail", "dmarc"},
	{"  mx.example.test  ;  spf = fail", "spf"},
	{"(comment) mx.example.test; spf=fail", "spf"},
	{"mx.example.test; none", NULL},
	{"mx.example.test", NULL},
	{"mx.example.test; spf=failing", NULL},
	{"mx.example.test; xspf=fail", NULL},
	{"mx.example.test; spf=pass \"quoted; spf=fail\"", NULL},
	{"mx.example.test; spf=pass (unclosed; dmarc=fail", NULL},
	{"", NULL},
	{"other.example; spf=fail", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(t); i++) {
	json_t *env = json_pack("{s:[[s,s]]}", "headers", "Authentication-Results", t[i].value);

	is_str(ack_auth_failure(env, ids), t[i].failed, "Authentication-Results '%s'",
	       t[i].value);
	json_decref(env);
    }
    {
	json_t *env = json_pack("{s:[[s,s]]}", "headers", "Authentication-Results",
				"mx.example.test; spf=fail");

	is_str(ack_auth_failure(env, none), NULL, "Authentication-Results: no authserv_id, no verdict");
	json_decref(env);
    }
}

static void test_srs(void)
{
    static const struct {
	const char *in;
	const char *out;
    } t[] = {
	{"SRS0=HHH=TT=c.example=alice@fwd.example", "alice@c.example"},
	{"srs0=HHH=TT=c.example=alice@fwd.example", "alice@c.example"},
	{"SRS0+HHH=TT=c.example=alice@fwd.example", "alice@c.example"},
	{"SRS0-HHH=TT=c.example=alice@fwd.example", "alice@c.example"},
	{"SRS0=HHH=TT=c.example=a=b@fwd.example", "a=b@c.example"},
	{"SRS1=HHH=fwd1.example==HHH=TT=c.example=alice@fwd2.example", "alice@c.example"},
	{"SRS0=HHH=TT=c.example@fwd.example", NULL},
	{"SRS0=HHH=TT==alice@fwd.example", NULL},
	{"SRS0=HHH=TT=c.example=@fwd.example", NULL},
	{"SRS1=HHH=fwd1.example=HHH=TT=c.example=alice@fwd2.example", NULL},
	{"SRS2=HHH=TT=c.example=alice@fwd.example", NULL},
	{"SRS0=HHH=TT=c.example=alice", NULL},
	{"alice@c.example", NULL},
	{"SRS0", NULL},
	{"", NULL},
	{NULL, NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(t); i++) {
	g_autofree char *got = srs_decode(t[i].in);

	is_str(got, t[i].out, "srs_decode '%s'", t[i].in ? t[i].in : "(null)");
    }
    {
	/* Linear: a long local part of '=' costs one pass. */
	GString *s = g_string_new("SRS1=");

	for (int i = 0; i < 200000; i++)
	    g_string_append_c(s, '=');
	g_string_append(s, "@fwd.example");
	{
	    gint64  t0 = g_get_monotonic_time();
	    g_autofree char *got = srs_decode(s->str);

	    ok(g_get_monotonic_time() - t0 < G_USEC_PER_SEC, "srs_decode: 200,000 '=' in under a second");
	    (void) got;
	}
	g_string_free(s, TRUE);
    }
}

int     main(void)
{
    struct intake_config *cfg = tap_config(conf_text);

    if (cfg == NULL)
	return tap_done();
    test_policy(cfg);
    test_no_reply();
    test_aligned();
    test_auth();
    test_srs();
    config_free(cfg);
    return tap_done();
}
