/*
 * NAME
 *	test_forward - unit tests of forwarded and redirected mail (common/forward.c, srs.c)
 * DESCRIPTION
 *	Table-driven: SRS addresses and their originals (and near misses
 *	that must not decode); inline forward blocks of the common mailers
 *	and languages (and text that only looks like one); the customer of
 *	a mail, rule by rule (From, a redirect's Resent-From, Reply-To,
 *	Sender, SRS, staff forwards attached and inline, a stranger's
 *	forward); the original recipient that chooses a mailbox for a
 *	collector recipient, and that cannot add a mailbox to a mail to
 *	another one. Then the same through envelope_build() (the
 *	"customer" member and a mailbox's "original_recipient"), the
 *	configuration keys' errors, and the bounds: a forward block past
 *	FORWARD_TEXT_MAX is not looked at, and megabytes of marker lines
 *	take linear time.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "config.h"
#include "envelope.h"
#include "forward.h"
#include "srs.h"
#include "tap.h"

static char *tmpdir;

/* conf - an intake.conf of the given extra lines, loaded; errors in *errors when not NULL */
static struct intake_config *conf(const char *extra, GPtrArray **errors)
{
    g_autofree char *path = g_build_filename(tmpdir, "intake.conf", NULL);
    g_autofree char *text = g_strdup_printf(
	"[milter]\ncollectors = tickets@intake.example\n"
	"staff = alice@company.example, @staff.company.example\n"
	"[redis]\nserver = unix:/nonexistent\n"
	"[mailbox support]\naddress = support@intake.example\naliases = help@intake.example\n"
	"forwarded_from = info@company.example, kontakt@company.example\n"
	"[mailbox sales]\naddress = sales@intake.example\n"
	"forwarded_from = sales@company.example\n%s", extra ? extra : "");
    g_autoptr(GPtrArray) local = NULL;

    if (!g_file_set_contents(path, text, -1, NULL))
	return NULL;
    return config_load(path, errors ? errors : &local);
}

static GMimeMessage *parse(const char *raw)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(raw, strlen(raw));
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

    g_object_unref(p);
    g_object_unref(s);
    return m;
}

/* ---------------------------------------------------------------- */

static const struct {
    const char *in;
    const char *want;			/* NULL: not SRS */
} srs_cases[] = {
    {"SRS0=HHH=TT=example.org=jane@forwarder.example", "jane@example.org"},
    {"<SRS0=a1b2=2Q=example.org=jane@forwarder.example>", "jane@example.org"},
    {"srs0+a1b2=2Q=example.org=jane@forwarder.example", "jane@example.org"},
    {"SRS0-a1b2=2Q=example.org=jane@forwarder.example", "jane@example.org"},
    /* The original local part may hold "=" and "+". */
    {"SRS0=x=AB=example.org=a=b+c@fw.example", "a=b+c@example.org"},
    /* A second forwarder: SRS1 names the first, then the SRS0 part. */
    {"SRS1=HHH=first.example==HHH=TT=example.org=jane@second.example", "jane@example.org"},
    {"SRS1+abc=first.example=+def=TT=example.org=jane@second.example", "jane@example.org"},
    /* Near misses. */
    {"jane@example.org", NULL},
    {"SRS0@forwarder.example", NULL},
    {"SRS0=HHH=TT=example.org@forwarder.example", NULL},	/* no local part */
    {"SRS0=HHH=TTT=example.org=jane@forwarder.example", NULL},	/* timestamp of 3 */
    {"SRS0==TT=example.org=jane@forwarder.example", NULL},	/* no hash */
    {"SRS0=HHH=TT==jane@forwarder.example", NULL},		/* no domain */
    {"SRS0=HHH=TT=exa mple.org=jane@forwarder.example", NULL},
    {"SRS0=HHH=TT=ex@mple.org=jane@forwarder.example", NULL},
    {"SRS2=HHH=TT=example.org=jane@forwarder.example", NULL},
    {"SRS1=HHH=first.example=HHH=TT=example.org=jane@second.example", NULL},
    {"SRS0=HHH=TT=example.org=jane", NULL},			/* no "@" */
    {"", NULL},
    {"<>", NULL},
};

static void test_srs(void)
{
    g_autofree char *longer = g_strdup_printf("SRS0=HHH=TT=example.org=%0600d@fw.example", 0);

    for (gsize i = 0; i < G_N_ELEMENTS(srs_cases); i++) {
	g_autofree char *got = srs_decode(srs_cases[i].in);

	if (srs_cases[i].want)
	    is_str(got, srs_cases[i].want, "srs_decode(\"%s\")", srs_cases[i].in);
	else
	    ok(got == NULL, "srs_decode(\"%s\") is not SRS (got %s)", srs_cases[i].in,
	       got ? got : "NULL");
    }
    ok(srs_decode(NULL) == NULL, "srs_decode(NULL)");
    ok(srs_decode(longer) == NULL, "srs_decode() of more than 512 bytes: not an address");
}

/* ---------------------------------------------------------------- */

static const struct {
    const char *what;
    const char *text;
    const char *name;			/* NULL: no block found */
    const char *address;
} inline_cases[] = {
    {"Gmail", "FYI, see below.\n\n---------- Forwarded message ---------\n"
     "From: Jane Doe <jane@example.org>\nDate: Mon, 30 Nov 2026 at 10:00\n"
     "Subject: Printer\nTo: <alice@company.example>\n\nIt is broken.\n",
     "Jane Doe", "jane@example.org"},
    {"Gmail (de)", "---------- Weitergeleitete Nachricht ---------\n"
     "Von: Jörg Über <joerg@example.de>\nDate: Mo., 30. Nov. 2026\n", "Jörg Über",
     "joerg@example.de"},
    {"Thunderbird: Subject and Date before From", "\n-------- Forwarded Message --------\n"
     "Subject: \tPrinter\nDate: \tMon, 30 Nov 2026\nFrom: \tJane Doe <jane@example.org>\n"
     "To: \talice@company.example\n", "Jane Doe", "jane@example.org"},
    {"Outlook with [mailto:]", "Please handle.\n\n-----Original Message-----\n"
     "From: Doe, Jane [mailto:jane@example.org] \nSent: Monday, November 30, 2026 10:00 AM\n"
     "To: Alice\nSubject: Printer\n", "Doe, Jane", "jane@example.org"},
    {"Outlook (de)", "-----Ursprüngliche Nachricht-----\nVon: Jane Doe <jane@example.org>\n"
     "Gesendet: Montag, 30. November 2026 10:00\n", "Jane Doe", "jane@example.org"},
    {"Outlook, a rule of underscores, text from HTML", "See below\n\n"
     "________________________________\nFrom: \"Doe, Jane\" <jane@example.org<mailto:jane@example.org>>\n"
     "Sent: Monday\n", "Doe, Jane", "jane@example.org"},
    {"Apple Mail: an empty line after the marker", "Begin forwarded message:\n\n"
     "From: Jane Doe <jane@example.org>\nSubject: Printer\n", "Jane Doe", "jane@example.org"},
    {"Apple Mail (de)", "Anfang der weitergeleiteten Nachricht:\n\nVon: jane@example.org\n",
     "", "jane@example.org"},
    {"Thunderbird (fr), \"De :\"", "-------- Message transféré --------\nSujet : Imprimante\n"
     "Date : Mon, 30 Nov 2026\nDe : Jeanne Dupont <jeanne@example.fr>\n", "Jeanne Dupont",
     "jeanne@example.fr"},
    {"Outlook (fr)", "-----Message d'origine-----\nDe : jeanne@example.fr\nEnvoyé : lundi\n", "",
     "jeanne@example.fr"},
    {"Spanish", "---------- Mensaje reenviado ---------\nDe: Juana <juana@example.es>\n", "Juana",
     "juana@example.es"},
    {"Italian", "---------- Messaggio inoltrato ---------\nDa: Gianna <gianna@example.it>\n",
     "Gianna", "gianna@example.it"},
    {"Dutch", "---------- Doorgestuurd bericht ---------\nVan: Jan <jan@example.nl>\n", "Jan",
     "jan@example.nl"},
    {"quoted forward", "> ---------- Forwarded message ---------\n> From: Jane <jane@example.org>\n",
     "Jane", "jane@example.org"},
    {"bold from HTML", "---------- Forwarded message ---------\n*From:* *Jane Doe* <jane@example.org>\n",
     "Jane Doe", "jane@example.org"},
    {"CRLF lines", "---------- Forwarded message ---------\r\nFrom: Jane <jane@example.org>\r\n",
     "Jane", "jane@example.org"},
    /* A colleague's forward inside: the first sender that is neither staff nor ours. */
    {"staff forward of a staff forward", "---------- Forwarded message ---------\n"
     "From: Bob <bob@staff.company.example>\nDate: x\n\nsee below\n\n"
     "---------- Forwarded message ---------\nFrom: Jane <jane@example.org>\n", "Jane",
     "jane@example.org"},
    {"forward of our own acknowledgement", "-----Original Message-----\n"
     "From: Support <support@intake.example>\n\n-----Original Message-----\n"
     "From: jane@example.org\n", "", "jane@example.org"},
    /* Not forwards. */
    {"no marker", "From: Jane <jane@example.org>\nI write about ...\n", NULL, NULL},
    {"a marker and no From", "---------- Forwarded message ---------\nSubject: x\n\nHello\n",
     NULL, NULL},
    {"From after the block's end", "---------- Forwarded message ---------\nSubject: x\n\n"
     "From: Jane <jane@example.org>\n", NULL, NULL},
    {"From too far below", "---------- Forwarded message ---------\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
     "From: Jane <jane@example.org>\n", NULL, NULL},
    {"From without an address", "---------- Forwarded message ---------\nFrom: Jane Doe\n",
     NULL, NULL},
    {"From with a domain without a dot", "---------- Forwarded message ---------\n"
     "From: jane@localhost\n", NULL, NULL},
    {"a marker word inside a sentence", "This is the original message I sent.\n"
     "From: Jane <jane@example.org>\n", NULL, NULL},
    {"only the staff member", "---------- Forwarded message ---------\n"
     "From: Alice <alice@company.example>\n", NULL, NULL},
    {"a line of dashes", "----------\nFrom: Jane <jane@example.org>\n", NULL, NULL},
    {"", "", NULL, NULL},
};

static void test_inline(const struct intake_config *cfg)
{
    for (gsize i = 0; i < G_N_ELEMENTS(inline_cases); i++) {
	g_autofree char *name = NULL;
	g_autofree char *address = NULL;
	const char *t = inline_cases[i].text;
	gboolean found = forward_inline_from(cfg, t, strlen(t), &name, &address);

	if (inline_cases[i].address == NULL) {
	    ok(!found && name == NULL && address == NULL, "inline: %s: no forward block (got %s)",
	       inline_cases[i].what, address ? address : "none");
	    continue;
	}
	ok(found, "inline: %s: found", inline_cases[i].what);
	is_str(address, inline_cases[i].address, "inline: %s: address", inline_cases[i].what);
	is_str(name, inline_cases[i].name, "inline: %s: name", inline_cases[i].what);
    }
}

/* ---------------------------------------------------------------- */

#define JANE_ATTACHED \
    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n" \
    "Content-Type: text/plain\n\nPlease handle.\n--b\nContent-Type: message/rfc822\n\n" \
    "From: Jane Doe <jane@example.org>\nSubject: Printer\n\nIt is broken.\n--b--\n"
#define JANE_INLINE \
    "Please handle.\n\n---------- Forwarded message ---------\nFrom: Jane Doe <jane@example.org>\n"

static const struct {
    const char *what;
    const char *headers;		/* the header block, \n separated, ending in \n */
    const char *body;			/* MIME headers and body after the header block */
    const char *sender;
    const char *address, *name, *how, *by;	/* by: NULL none */
} customer_cases[] = {
    {"From", "From: Jane Doe <jane@example.org>\nSubject: x\n", "\nhello\n",
     "jane@example.org", "jane@example.org", "Jane Doe", "from", NULL},
    {"From, forwarded by a server with SRS", "From: Jane <jane@example.org>\n", "\nhello\n",
     "SRS0=abc=TT=example.org=jane@fw.example", "jane@example.org", "Jane", "from", NULL},
    {"From beats Reply-To", "From: jane@example.org\nReply-To: other@example.org\n", "\nx\n",
     "jane@example.org", "jane@example.org", "", "from", NULL},
    {"a redirect keeps From; Resent-From redirected it",
     "Resent-From: Info <info@company.example>\nResent-To: support@intake.example\n"
     "From: Jane <jane@example.org>\n", "\nhello\n", "info@company.example",
     "jane@example.org", "Jane", "from", "info@company.example"},
    {"Resent-From of the author herself", "Resent-From: JANE@example.org\n"
     "From: Jane <jane@example.org>\n", "\nhello\n", "jane@example.org", "jane@example.org",
     "Jane", "from", NULL},
    {"no From: Reply-To", "Reply-To: Jane <jane@example.org>\n", "\nx\n", "bounce@fw.example",
     "jane@example.org", "Jane", "reply-to", NULL},
    {"no From, no Reply-To: Sender", "Sender: Jane <jane@example.org>\n", "\nx\n",
     "bounce@fw.example", "jane@example.org", "Jane", "sender", NULL},
    {"no author field: SRS envelope sender", "Subject: x\n", "\nx\n",
     "SRS1=x=first.example==y=TT=example.org=jane@second.example", "jane@example.org", "",
     "srs", NULL},
    {"no author field: envelope sender", "Subject: x\n", "\nx\n", "jane@example.org",
     "jane@example.org", "", "envelope", NULL},
    {"no author field, null sender", "Subject: x\n", "\nx\n", "", "", "", "none", NULL},
    {"staff forward as attachment", "From: Alice <alice@company.example>\nSubject: Fwd: Printer\n",
     JANE_ATTACHED, "alice@company.example", "jane@example.org", "Jane Doe",
     "forwarded-attachment", "alice@company.example"},
    {"staff forward as a base64 attachment (GMime leaves it opaque)",
     "From: Alice <alice@company.example>\n",
     "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
     "Content-Type: text/plain\n\nsee\n--b\nContent-Type: message/rfc822\n"
     "Content-Transfer-Encoding: base64\n\n"
     "RnJvbTogRGF2ZSA8ZGF2ZUBjdXN0LnRlc3Q+ClN1YmplY3Q6IGhpCgpib2R5Cg==\n--b--\n",
     "alice@company.example", "dave@cust.test", "Dave", "forwarded-attachment",
     "alice@company.example"},
    {"staff forward inline", "From: Alice <alice@company.example>\nSubject: Fwd: Printer\n",
     "\n" JANE_INLINE, "alice@company.example", "jane@example.org", "Jane Doe",
     "forwarded-inline", "alice@company.example"},
    {"staff by domain, extension and case", "From: Bob <Bob+x@STAFF.company.example>\n",
     "\n" JANE_INLINE, "bob@staff.company.example", "jane@example.org", "Jane Doe",
     "forwarded-inline", "Bob+x@STAFF.company.example"},
    {"staff mail without a forward: staff is the customer",
     "From: Alice <alice@company.example>\n", "\nOur own printer is broken.\n",
     "alice@company.example", "alice@company.example", "Alice", "from", NULL},
    {"a stranger's forward block: the stranger stays the customer",
     "From: Mallory <mallory@example.net>\n", "\n" JANE_INLINE, "mallory@example.net",
     "mallory@example.net", "Mallory", "from", NULL},
    {"a stranger's attached message: the stranger stays the customer",
     "From: Mallory <mallory@example.net>\n", JANE_ATTACHED, "mallory@example.net",
     "mallory@example.net", "Mallory", "from", NULL},
    {"a subdomain of a staff domain is no staff", "From: x@evil.staff.company.example\n",
     "\n" JANE_INLINE, "x@evil.staff.company.example", "x@evil.staff.company.example", "",
     "from", NULL},
    {"staff forwarding a colleague's mail only: staff stays",
     "From: Alice <alice@company.example>\n",
     "\n---------- Forwarded message ---------\nFrom: Bob <bob@staff.company.example>\n",
     "alice@company.example", "alice@company.example", "Alice", "from", NULL},
};

static void test_customer(const struct intake_config *cfg)
{
    for (gsize i = 0; i < G_N_ELEMENTS(customer_cases); i++) {
	g_autofree char *raw = g_strconcat(customer_cases[i].headers, customer_cases[i].body,
					   NULL);
	GMimeMessage *msg = parse(raw);
	struct forward_customer c;
	const char *text = strstr(raw, "\n\n") + 2;

	forward_customer(cfg, msg, customer_cases[i].sender, text, &c);
	is_str(c.address, customer_cases[i].address, "customer: %s: address",
	       customer_cases[i].what);
	is_str(c.name, customer_cases[i].name, "customer: %s: name", customer_cases[i].what);
	is_str(c.how, customer_cases[i].how, "customer: %s: how", customer_cases[i].what);
	if (customer_cases[i].by)
	    is_str(c.by, customer_cases[i].by, "customer: %s: by", customer_cases[i].what);
	else
	    ok(c.by == NULL, "customer: %s: no by (got %s)", customer_cases[i].what,
	       c.by ? c.by : "NULL");
	forward_customer_clear(&c);
	g_object_unref(msg);
    }
}

/* ---------------------------------------------------------------- */

static const struct {
    const char *what;
    const char *headers;
    const char *want;			/* mailbox name: NULL none */
    const char *only;			/* only this mailbox may be chosen; NULL any (a collector) */
    const char *address, *field;
} original_cases[] = {
    {"X-Original-To of a forwarding Postfix",
     "X-Original-To: info@company.example\nDelivered-To: info@company.example\n"
     "To: Company <info@company.example>\n", "support", NULL, "info@company.example",
     "X-Original-To"},
    {"X-Original-To beats To", "X-Original-To: sales@company.example\n"
     "To: info@company.example\n", "sales", NULL, "sales@company.example", "X-Original-To"},
    {"the newest X-Original-To that is a mailbox's", "X-Original-To: relay@fw.example\n"
     "X-Original-To: sales@company.example\n", "sales", NULL, "sales@company.example",
     "X-Original-To"},
    {"Delivered-To", "Delivered-To: Kontakt@Company.Example\nTo: x@example.org\n", "support",
     NULL, "Kontakt@Company.Example", "Delivered-To"},
    {"Resent-To of a redirect", "Resent-To: sales@company.example\nTo: x@example.org\n",
     "sales", NULL, "sales@company.example", "Resent-To"},
    {"To with an extension", "To: Jane <x@example.org>, info+urgent@company.example\n",
     "support", NULL, "info+urgent@company.example", "To"},
    {"Cc", "To: x@example.org\nCc: sales@intake.example\n", "sales", NULL,
     "sales@intake.example", "Cc"},
    {"a group in To", "To: team: a@example.org, sales@company.example;\n", "sales", NULL,
     "sales@company.example", "To"},
    {"the first mailbox named, whatever comes after", "To: x@example.org, info@company.example\n"
     "Cc: sales@company.example\nDelivered-To: kontakt@company.example\n", "support", NULL,
     "kontakt@company.example", "Delivered-To"},
    {"... and with want, that mailbox's first", "To: x@example.org, info@company.example\n"
     "Cc: sales@company.example\n", "sales", "sales", "sales@company.example", "Cc"},
    {"nothing of ours", "To: x@example.org\nDelivered-To: y@example.org\n", NULL, NULL, NULL,
     NULL},
    /* A mail to support@: a forged X-Original-To cannot make it sales's. */
    {"a header cannot add a mailbox", "X-Original-To: sales@company.example\n"
     "To: info@company.example\n", "support", "support", "info@company.example", "To"},
    {"a header naming only another mailbox", "X-Original-To: sales@company.example\n",
     NULL, "support", NULL, NULL},
};

static void test_original(const struct intake_config *cfg)
{
    for (gsize i = 0; i < G_N_ELEMENTS(original_cases); i++) {
	g_autofree char *raw = g_strconcat(original_cases[i].headers, "Subject: x\n\nx\n", NULL);
	GMimeMessage *msg = parse(raw);
	const struct mailbox *only = original_cases[i].only
	    ? config_mailbox(cfg, original_cases[i].only) : NULL;
	GPtrArray *found = forward_original_recipients(cfg, msg);
	const struct forward_original *o = forward_original_of(found, only);

	is_str(o ? o->mailbox->name : NULL, original_cases[i].want, "original: %s: mailbox",
	       original_cases[i].what);
	is_str(o ? o->address : NULL, original_cases[i].address, "original: %s: address",
	       original_cases[i].what);
	is_str(o ? o->field : NULL, original_cases[i].field, "original: %s: field",
	       original_cases[i].what);
	g_ptr_array_unref(found);
	g_object_unref(msg);
    }
}

/* ---------------------------------------------------------------- */

static json_t *build(const struct intake_config *cfg, const char *raw, const char *sender,
		     const char *const *rcpts, guint n)
{
    const struct mailbox *matched[8] = {0};
    struct envelope_input in = {0};
    struct envelope_limits lim = {64 * 1024, 1024 * 1024, 10, 0, 0, NULL};

    for (guint i = 0; i < n; i++)
	matched[i] = config_match(cfg, rcpts[i]);
    in.cfg = cfg;
    in.sender = sender;
    in.recipients = rcpts;
    in.matched = matched;
    in.n_recipients = n;
    in.raw = raw;
    in.raw_len = strlen(raw);
    in.message_size = in.raw_len;
    return envelope_build(&in, &lim);
}

static void test_envelope(const struct intake_config *cfg)
{
    static const char forwarded[] =
	"X-Original-To: sales@company.example\nDelivered-To: sales@company.example\n"
	"From: Jane Doe <jane@example.org>\nTo: sales@company.example\nSubject: Offer\n"
	"Message-ID: <1@example.org>\n\nPlease send an offer.\n";
    static const char staff[] =
	"From: Alice <alice@company.example>\nTo: support@intake.example\nSubject: Fwd: x\n"
	"\n" JANE_INLINE;
    static const char nothing[] = "From: jane@example.org\nTo: x@example.org\nSubject: x\n\nx\n";
    const char *collector[] = {"<tickets@intake.example>"};
    const char *direct[] = {"support@intake.example"};
    const char *two[] = {"support@intake.example", "help@intake.example"};
    const char *mixed[] = {"tickets@intake.example", "support@intake.example"};
    json_t *env, *mb, *c;

    env = build(cfg, forwarded, "SRS0=h=TT=example.org=jane@fw.example", collector, 1);
    mb = json_array_get(json_object_get(env, "mailboxes"), 0);
    is_int((long long) json_array_size(json_object_get(env, "mailboxes")), 1,
	   "envelope: collector recipient: one mailbox");
    is_str(envelope_str(mb, "name"), "sales", "envelope: collector: the mailbox X-Original-To names");
    is_str(envelope_str(mb, "original_recipient"), "sales@company.example",
	   "envelope: collector: original_recipient");
    is_str(envelope_str(mb, "original_field"), "X-Original-To", "envelope: collector: original_field");
    is_str(json_string_value(json_array_get(json_object_get(mb, "recipients"), 0)),
	   "<tickets@intake.example>", "envelope: collector: its envelope recipient is listed");
    c = json_object_get(env, "customer");
    is_str(envelope_str(c, "address"), "jane@example.org", "envelope: customer address");
    is_str(envelope_str(c, "name"), "Jane Doe", "envelope: customer name");
    is_str(envelope_str(c, "how"), "from", "envelope: customer how");
    ok(json_object_get(c, "by") == NULL, "envelope: no by");
    json_decref(env);

    /* The same mail sent to support@ directly: X-Original-To cannot make it sales's. */
    env = build(cfg, forwarded, "jane@example.org", direct, 1);
    mb = json_array_get(json_object_get(env, "mailboxes"), 0);
    is_int((long long) json_array_size(json_object_get(env, "mailboxes")), 1,
	   "envelope: to support@ with X-Original-To of sales: one mailbox");
    is_str(envelope_str(mb, "name"), "support", "envelope: ... support, not sales");
    ok(json_object_get(mb, "original_recipient") == NULL,
       "envelope: ... no original_recipient of another mailbox");
    json_decref(env);

    env = build(cfg, staff, "alice@company.example", direct, 1);
    c = json_object_get(env, "customer");
    is_str(envelope_str(c, "address"), "jane@example.org", "envelope: staff forward: customer");
    is_str(envelope_str(c, "how"), "forwarded-inline", "envelope: staff forward: how");
    is_str(envelope_str(c, "by"), "alice@company.example", "envelope: staff forward: by");
    json_decref(env);

    env = build(cfg, nothing, "jane@example.org", collector, 1);
    is_int((long long) json_array_size(json_object_get(env, "mailboxes")), 0,
	   "envelope: collector, no header names a mailbox: no mailbox");
    json_decref(env);

    /* Two aliases of one mailbox: one entry naming both. */
    env = build(cfg, nothing, "jane@example.org", two, 2);
    is_int((long long) json_array_size(json_object_get(env, "mailboxes")), 1,
	   "envelope: two addresses of support: one mailbox");
    is_int((long long) json_array_size(json_object_get(json_array_get(
		json_object_get(env, "mailboxes"), 0), "recipients")), 2,
	   "envelope: ... with both recipients");
    json_decref(env);

    /* A collector whose headers name the mailbox also addressed directly: one entry. */
    env = build(cfg, "From: j@example.org\nTo: info@company.example\n\nx\n", "j@example.org",
		mixed, 2);
    is_int((long long) json_array_size(json_object_get(env, "mailboxes")), 1,
	   "envelope: collector and direct recipient of support: one mailbox");
    json_decref(env);

    /* The customer's name is decoded as the envelope's From is (GMime's B-word bug). */
    env = build(cfg, "From: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <j@example.org>\n"
		"Subject: x\n\nx\n", "j@example.org", direct, 1);
    is_str(envelope_str(json_object_get(env, "customer"), "name"),
	   envelope_str(json_array_get(json_object_get(env, "from"), 0), "name"),
	   "envelope: the customer's name is the From name of the envelope");
    is_str(envelope_str(json_object_get(env, "customer"), "name"), "Hello world",
	   "envelope: ... \"Hello world\", past GMime's B-word bug");
    json_decref(env);

    /* Without a configuration (tools, old callers): the rules that need none. */
    {
	struct envelope_input in = {0};
	struct envelope_limits lim = {64 * 1024, 1024 * 1024, 10, 0, 0, NULL};

	in.sender = "SRS0=h=TT=example.org=jane@fw.example";
	in.raw = "Subject: x\n\nx\n";
	in.raw_len = strlen(in.raw);
	in.message_size = in.raw_len;
	env = envelope_build(&in, &lim);
	is_str(envelope_str(json_object_get(env, "customer"), "address"), "jane@example.org",
	       "envelope without configuration: SRS sender decoded");
	json_decref(env);
    }
}

/* ---------------------------------------------------------------- */

static void test_config(void)
{
    static const struct {
	const char *extra;
	const char *error;
    } bad[] = {
	{"[milter]\nstaff = alice\n", "key 'staff': 'alice' is not a valid mail address or @domain"},
	{"[milter]\nstaff = @\n", "key 'staff': '@' is not a valid mail address or @domain"},
	{"[milter]\ncollectors = support@intake.example\n",
	 "key 'collectors': address 'support@intake.example' belongs to [mailbox support]"},
	{"[mailbox other]\naddress = other@intake.example\nforwarded_from = info@company.example\n",
	 "[mailbox other] key 'forwarded_from': address 'info@company.example' already belongs"
	 " to [mailbox support]"},
	{"[mailbox other]\naddress = other@intake.example\nforwarded_from = info\n",
	 "key 'forwarded_from': 'info' is not a valid mail address"},
    };
    struct intake_config *cfg;

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
	g_autoptr(GPtrArray) errors = NULL;
	g_autofree char *all = NULL;

	cfg = conf(bad[i].extra, &errors);
	ok(cfg == NULL, "config: refused: %s", bad[i].error);
	g_ptr_array_add(errors, NULL);
	all = g_strjoinv("\n", (char **) errors->pdata);
	has_str(all, bad[i].error, "config: error names file, line and key");
	config_free(cfg);
    }
    cfg = conf(NULL, NULL);
    ok(cfg != NULL, "config: collectors, staff, forwarded_from load");
    ok(config_is_collector(cfg, "<Tickets+x@INTAKE.example>"), "config: collector, case and extension ignored");
    ok(!config_is_collector(cfg, "support@intake.example"), "config: a mailbox is no collector");
    ok(config_is_staff(cfg, "ALICE@company.example"), "config: staff address");
    ok(config_is_staff(cfg, "anyone@staff.company.example"), "config: staff @domain");
    ok(!config_is_staff(cfg, "bob@company.example"), "config: an address of the domain of a staff address is none");
    ok(!config_is_staff(cfg, "@staff.company.example"), "config: a bare @domain is no staff address");
    is_str(config_match(cfg, "info@company.example") ? config_match(cfg, "info@company.example")->name
	   : NULL, "support", "config: forwarded_from matches like an alias");
    config_free(cfg);
}

/* ---------------------------------------------------------------- */

static void test_bounds(const struct intake_config *cfg)
{
    GString *t = g_string_new(NULL);
    g_autofree char *name = NULL;
    g_autofree char *address = NULL;
    gint64  t0;
    double  secs;

    while (t->len < FORWARD_TEXT_MAX)
	g_string_append(t, "filler text of a long mail\n");
    g_string_append(t, JANE_INLINE);
    ok(!forward_inline_from(cfg, t->str, t->len, &name, &address),
       "bounds: a forward block past FORWARD_TEXT_MAX is not looked at");

    /* Hostile: markers and From lines of staff over and over, and one long line. */
    g_string_truncate(t, 0);
    while (t->len < 8 * 1024 * 1024)
	g_string_append(t, "-----Original Message-----\nFrom: a@staff.company.example\nSubject: x\n");
    t0 = g_get_monotonic_time();
    ok(!forward_inline_from(cfg, t->str, t->len, &name, &address),
       "bounds: 8 MB of staff forward blocks: none found");
    g_string_truncate(t, 0);
    g_string_append(t, "---------- Forwarded message ---------\nFrom: ");
    while (t->len < 8 * 1024 * 1024)
	g_string_append(t, "aaaaaaaa@@");
    ok(!forward_inline_from(cfg, t->str, t->len, &name, &address),
       "bounds: a From line of 8 MB of \"@\": none found");
    secs = (g_get_monotonic_time() - t0) / 1e6;
    diag("bounds: both hostile texts took %.3f s (only the first %d KB are read)", secs,
	 FORWARD_TEXT_MAX / 1024);
    g_string_free(t, TRUE);
}


/* ---------------------------------------------------------------- */
/*	The corpus							    */
/* ---------------------------------------------------------------- */

static void corpus_files(const char *dir, GPtrArray *out)
{
    GDir   *d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d)) != NULL) {
	char   *path = g_build_filename(dir, name, NULL);

	if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
	    corpus_files(path, out);
	    g_free(path);
	} else if (g_str_has_suffix(name, ".json") || g_str_has_suffix(name, ".tsv")
		   || g_str_has_suffix(name, ".md"))
	    g_free(path);
	else
	    g_ptr_array_add(out, path);
    }
    if (d)
	g_dir_close(d);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * test_corpus - every mail of the corpus twice through envelope_build():
 * as a stranger's (the customer must be its From, whatever it quotes or
 * attaches), and as if its From were staff (the forwarded senders found
 * are printed, and each must be an address written in the mail). Also
 * counts the fields this module reads.
 */
static void test_corpus(struct intake_config *cfg)
{
    const char *dir = g_getenv("INTAKE_CORPUS");
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    char  **saved = cfg->staff;
    guint   n = 0, with_from = 0, stranger_bad = 0, attached = 0, inl = 0, invented = 0;
    guint   n_xot = 0, n_dt = 0, n_resent = 0, n_srs = 0, n_nofrom = 0;
    const char *rcpts[] = {"support@intake.example"};

    if (dir == NULL || *dir == 0)
	dir = "../shared/corpus";
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
	skip("corpus not found (%s)", dir);
	return;
    }
    corpus_files(dir, files);
    g_ptr_array_sort(files, cmp_str);
    for (guint i = 0; i < files->len; i++) {
	const char *path = g_ptr_array_index(files, i);
	const char *rel = path + strlen(dir) + 1;
	g_autofree char *raw = NULL;
	g_autofree char *low = NULL;
	g_autofree char *domain = NULL;
	gsize   len;
	json_t *env, *from, *c;
	const char *addr, *at, *how;
	const struct mailbox *matched[1] = {NULL};
	struct envelope_input in = {0};
	struct envelope_limits lim = {1024 * 1024, 10 * 1024 * 1024, 250, 0, 0, NULL};

	if (!g_file_get_contents(path, &raw, &len, NULL))
	    continue;
	n++;
	low = g_ascii_strdown(raw, MIN(len, 64 * 1024));
	n_xot += strstr(low, "\nx-original-to:") != NULL;
	n_dt += strstr(low, "\ndelivered-to:") != NULL;
	n_resent += strstr(low, "\nresent-from:") != NULL;
	n_srs += strstr(low, "srs0=") != NULL || strstr(low, "srs1=") != NULL;
	in.cfg = cfg;
	in.sender = "";
	in.recipients = rcpts;
	in.matched = matched;
	in.n_recipients = 1;
	in.raw = raw;
	in.raw_len = len;
	in.message_size = len;

	/* As a stranger's mail. */
	cfg->staff = saved;
	env = envelope_build(&in, &lim);
	from = json_array_get(json_object_get(env, "from"), 0);
	c = json_object_get(env, "customer");
	if (from) {
	    with_from++;
	    if (strcmp(envelope_str(c, "address"), envelope_str(from, "address")) != 0
		|| strcmp(envelope_str(c, "how"), "from") != 0) {
		stranger_bad++;
		diag("corpus: %s: customer %s (%s), From %s", rel, envelope_str(c, "address"),
		     envelope_str(c, "how"), envelope_str(from, "address"));
	    }
	} else
	    n_nofrom++;
	addr = from ? envelope_str(from, "address") : "";
	at = strrchr(addr, '@');
	domain = at && at[1] ? g_strdup_printf("@%s", at + 1) : NULL;
	json_decref(env);
	if (domain == NULL)
	    continue;

	/* As if its From were staff. */
	cfg->staff = (char *[]) {domain, NULL};
	env = envelope_build(&in, &lim);
	c = json_object_get(env, "customer");
	how = envelope_str(c, "how");
	if (g_str_has_prefix(how, "forwarded")) {
	    g_autofree char *caddr = g_ascii_strdown(envelope_str(c, "address"), -1);
	    gboolean found = g_strstr_len(low, -1, caddr) != NULL;

	    attached += strcmp(how, "forwarded-attachment") == 0;
	    inl += strcmp(how, "forwarded-inline") == 0;
	    /* Decoded text (base64 parts) may hold what the raw mail does not show. */
	    if (!found && strstr(envelope_str(env, "text"), envelope_str(c, "address")) == NULL
		&& strcmp(how, "forwarded-inline") == 0) {
		invented++;
		diag("corpus: %s: forwarded sender %s is nowhere in the mail", rel, caddr);
	    }
	    diag("corpus: %s: as staff's: %s <%s> (%s)", rel, envelope_str(c, "name"),
		 envelope_str(c, "address"), how);
	}
	json_decref(env);
    }
    cfg->staff = saved;
    diag("corpus: %u mails, %u with From, %u without; X-Original-To in %u, Delivered-To in %u,"
	 " Resent-From in %u, an SRS address in %u", n, with_from, n_nofrom, n_xot, n_dt,
	 n_resent, n_srs);
    diag("corpus: as if from staff: %u forwarded as attachment, %u inline", attached, inl);
    ok(n > 0, "corpus: %u mails read", n);
    is_int(stranger_bad, 0, "corpus: a stranger's mail is always its From's ticket (%u with From)",
	   with_from);
    is_int(invented, 0, "corpus: every forwarded sender found is written in the mail");
}

int     main(void)
{
    struct intake_config *cfg;

    envelope_init();
    tmpdir = g_dir_make_tmp("test_forward.XXXXXX", NULL);
    cfg = conf(NULL, NULL);
    if (cfg == NULL) {
	ok(0, "the test configuration loads");
	return tap_done();
    }
    test_srs();
    test_inline(cfg);
    test_customer(cfg);
    test_original(cfg);
    test_envelope(cfg);
    test_config();
    test_bounds(cfg);
    test_corpus(cfg);
    config_free(cfg);
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
