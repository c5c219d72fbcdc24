/*
 * NAME
 *	test_autogen - unit tests of the auto-generated mail classifier
 * DESCRIPTION
 *	Table-driven: each row is a mail built here (header fields, envelope
 *	sender, top-level content type, body's first lines) and the kind and
 *	rule common/autogen.c must give, one or more rows a signal, with the
 *	near misses a person's mail has (a forwarded bounce, an Outlook rule's
 *	X-Auto-Response-Suppress, "Auto-Submitted: no", a reply whose subject
 *	says "out of office"). Then the same through GMime and the envelope
 *	(the "autogen" member), and a message at the input bounds.
 *	The corpus figures are test_autogen_corpus (tests/tools/autogen-report.c).
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "autogen.h"
#include "envelope.h"
#include "tap.h"

static const struct {
    const char *headers;		/* "Name: value" lines, \n separated */
    const char *sender;			/* NULL: unknown */
    const char *ctype;
    const char *report_type;
    int     dsn_part;
    const char *text;
    const char *want;			/* kind */
    const char *reason;			/* a part of the reason */
} cases[] = {
    /* Persons. */
    {"From: Anna <anna@example.org>\nSubject: Printer broken", "anna@example.org",
     "text/plain", NULL, 0, "Hello, the printer on floor 2 is broken.", "human", "no machine"},
    {"From: anna@example.org\nSubject: FW: Invoice 42\nX-Auto-Response-Suppress: All",
     "anna@example.org", NULL, NULL, 0, "-----Original Message-----", "human", "no machine"},
    {"From: anna@example.org\nSubject: FW: Undeliverable: Invoice 42\nX-Auto-Response-Suppress: OOF",
     "anna@example.org", NULL, NULL, 0, "Can you check why this bounced?", "human", ""},
    {"From: anna@example.org\nSubject: Re: Out of office until Monday?", "anna@example.org",
     NULL, NULL, 0, "No, I'm back on Friday.", "human", ""},
    {"From: anna@example.org\nSubject: Vacation request", "anna@example.org", NULL, NULL, 0,
     "I would like to take next week off.", "human", ""},
    {"From: anna@example.org\nSubject: Out of office\nAuto-Submitted: no", "anna@example.org",
     NULL, NULL, 0, "", "human", "Auto-Submitted: no"},
    {"From: anna@example.org\nSubject: AW: Anfrage [#123]", "anna@example.org", NULL, NULL, 0,
     "die Beantwortung Ihrer Anfrage wird sich leider noch etwas verzoegern", "human", ""},
    /* A help desk's customers write about parcels in a bounce's words. */
    {"From: anna@example.org\nSubject: Delivery failed - order 123", "anna@example.org", NULL,
     NULL, 0, "The courier was unable to deliver my parcel, it was returned to sender.",
     "human", ""},
    {"From: anna@example.org\nSubject: Paket unzustellbar", "anna@example.org", NULL, NULL, 0,
     "Mein Paket wurde als unzustellbar zurückgeschickt.", "human", ""},
    /* A person quoting an auto-reply below their own lines. */
    {"From: anna@example.org\nSubject: Your system answers me", "anna@example.org", NULL, NULL,
     0, "Hello,\n\nI wrote twice.\nNobody answers.\nAll I get is this:\nPlease help.\n"
     "> This is an automatic reply. We are closed.", "human", ""},
    /* Bounces. */
    {"From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail Returned to Sender", "",
     "multipart/report", "delivery-status", 1, "", "bounce", "report-type=delivery-status"},
    {"From: x@example.org\nSubject: hi", "x@example.org", "multipart/mixed", NULL, 1, "",
     "bounce", "message/delivery-status"},
    {"From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nAuto-Submitted: auto-replied\n"
     "Subject: Mail delivery failed: returning message to sender", "", NULL, NULL, 0,
     "This message was created automatically by mail delivery software.", "bounce", "MAILER-DAEMON"},
    {"From: relay@example.org\nX-Failed-Recipients: bob@example.net\nSubject: x",
     "relay@example.org", NULL, NULL, 0, "", "bounce", "X-Failed-Recipients"},
    {"From: Postmaster <postmaster@example.org>\nSubject: Unzustellbar: Angebot", NULL, NULL,
     NULL, 0, "", "bounce", "postmaster"},
    {"From: system@example.org\nSubject: failure notice", "bounce@example.org", NULL, NULL, 0,
     "Hi. This is the qmail-send program at example.org.", "bounce", "subject"},
    {"From: system@example.org\nSubject: Notice", "bounce@example.org", NULL, NULL, 0,
     "Hi. This is the qmail-send program at example.org.", "bounce", "first lines"},
    {"From: system@example.org\nSubject: Mail", "", "multipart/mixed", NULL, 0,
     "Your mail sent on: Thu, 29 Apr 2013", "bounce", "null envelope sender"},
    {"From: system@example.org\nPrecedence: bulk\nSubject: Warning: bob - User unknown!",
     "system@example.org", NULL, NULL, 0, "bob - no such user here.", "bounce", "machine header"},
    {"From: x@example.org\nSubject: Onbestelbaar: offerte", "x@example.org", NULL, NULL, 0, "",
     "bounce", "onbestelbaar"},
    {"From: x@example.org\nSubject: Olevererbart: offert", "x@example.org", NULL, NULL, 0, "",
     "bounce", "olevererbart"},
    {"From: x@example.org\nSubject: Niedostarczalne: oferta", "x@example.org", NULL, NULL, 0, "",
     "bounce", "niedostarczalne"},
    {"From: x@example.org\nSubject: Non remis : offre", "x@example.org", NULL, NULL, 0, "",
     "bounce", "non remis"},
    {"From: x@example.org\nSubject: No se puede entregar: oferta", "x@example.org", NULL, NULL,
     0, "", "bounce", "no se puede entregar"},
    {"From: x@example.org\nSubject: Kan ikke leveres: tilbud", "x@example.org", NULL, NULL, 0,
     "", "bounce", "kan ikke leveres"},
    /* Auto-replies. */
    {"From: bob@example.org\nAuto-Submitted: auto-replied\nSubject: Re: Offer", "",
     NULL, NULL, 0, "I am away.", "autoreply", "auto-replied"},
    {"From: bob@example.org\nX-Autoreply: yes\nSubject: Re: Offer", "bob@example.org",
     NULL, NULL, 0, "", "autoreply", "X-Autoreply"},
    {"From: bob@example.org\nX-Autorespond: yes\nSubject: Offer", "bob@example.org",
     NULL, NULL, 0, "", "autoreply", "X-Autorespond"},
    {"From: bob@example.org\nPrecedence: auto_reply\nSubject: Offer", "bob@example.org",
     NULL, NULL, 0, "", "autoreply", "auto_reply"},
    {"From: bob@example.org\nX-Autogenerated: Reply\nSubject: Offer", "bob@example.org",
     NULL, NULL, 0, "", "autoreply", "X-Autogenerated"},
    {"From: bob@example.org\nSubject: Automatic reply: Offer\nX-Auto-Response-Suppress: All",
     "bob@example.org", NULL, NULL, 0, "", "autoreply", "automatic reply"},
    {"From: bob@example.org\nSubject: Out of Office AutoReply: Offer", "bob@example.org",
     NULL, NULL, 0, "", "autoreply", "out of office"},
    {"From: bob@example.org\nSubject: Abwesenheitsnotiz: Angebot", "bob@example.org", NULL,
     NULL, 0, "", "autoreply", "abwesenheitsnotiz"},
    {"From: bob@example.org\nSubject: Autosvar: Tilbud", "bob@example.org", NULL, NULL, 0, "",
     "autoreply", "autosvar"},
    {"From: bob@example.org\nSubject: Automatiskt svar: Offert", "bob@example.org", NULL, NULL,
     0, "", "autoreply", "automatiskt svar"},
    {"From: bob@example.org\nSubject: Automatisch antwoord: Offerte", "bob@example.org", NULL,
     NULL, 0, "", "autoreply", "automatisch antwoord"},
    {"From: bob@example.org\nSubject: Odpowiedź automatyczna: Oferta", "bob@example.org",
     NULL, NULL, 0, "", "autoreply", "odpowiedź automatyczna"},
    {"From: bob@example.org\nSubject: Réponse automatique : Offre", "bob@example.org", NULL,
     NULL, 0, "", "autoreply", "réponse automatique"},
    {"From: bob@example.org\nSubject: Respuesta automática: Oferta", "bob@example.org", NULL,
     NULL, 0, "", "autoreply", "respuesta automática"},
    {"From: bob@example.org\nSubject: Re: Offer", "", NULL, NULL, 0,
     "I am out of the office until Monday.", "autoreply", "machine header"},
    {"From: bob@example.org\nSubject: Offer\nX-Auto-Response-Suppress: All",
     "bob@example.org", NULL, NULL, 0, "Ik ben afwezig tot maandag.", "autoreply", "afwezig"},
    {"From: bob@example.org\nSubject: Re: Offer\nX-Auto-Response-Suppress: All",
     "bob@example.org", NULL, NULL, 0, "Ik ben afwezig tot maandag.", "human", ""},
    {"From: bob@example.org\nSubject: Offer", "bob@example.org", NULL, NULL, 0,
     "Dies ist eine automatische Antwort. Ich bin bis Montag nicht im Büro.", "autoreply",
     "first lines"},
    {"From: no_reply@example.org\nSubject: Empfangsbestätigung: Antrag",
     "MAILER-DAEMON", NULL, NULL, 0, "Vielen Dank für Ihre Nachricht.", "autoreply", "auto-reply wording"},
    /* Lists. */
    {"From: carl@example.org\nList-Id: <dev.lists.example.org>\nSubject: [dev] patch",
     "dev-bounces@lists.example.org", NULL, NULL, 0, "", "list", "List-Id"},
    {"From: carl@example.org\nList-Unsubscribe: <mailto:u@example.org>\nSubject: News",
     "carl@example.org", NULL, NULL, 0, "", "list", "List-Unsubscribe"},
    {"From: carl@example.org\nList-Post: <mailto:dev@example.org>\nSubject: x",
     "carl@example.org", NULL, NULL, 0, "", "list", "List-Post"},
    {"From: carl@example.org\nMailing-List: contact dev-help@example.org; run by ezmlm\nSubject: x",
     "carl@example.org", NULL, NULL, 0, "", "list", "Mailing-List"},
    {"From: carl@example.org\nX-Mailing-List: dev@example.org\nSubject: x",
     "carl@example.org", NULL, NULL, 0, "", "list", "X-Mailing-List"},
    {"From: carl@example.org\nPrecedence: bulk\nSubject: Our spring offers",
     "carl@example.org", NULL, NULL, 0, "", "list", "Precedence"},
    {"From: carl@example.org\nFeedback-ID: 1:news:example\nSubject: Our spring offers",
     "carl@example.org", NULL, NULL, 0, "", "list", "Feedback-ID"},
    /* A list carrying an out-of-office: the auto-reply wins. */
    {"From: bob@example.org\nList-Id: <team.example.org>\nSubject: Out of Office: Offer",
     "team-bounces@example.org", NULL, NULL, 0, "", "autoreply", "out of office"},
    /* Other machine mail. */
    {"From: cron@example.org\nAuto-Submitted: auto-generated\nSubject: Backup done",
     "cron@example.org", NULL, NULL, 0, "", "system", "Auto-Submitted"},
    {"From: app@example.org\nX-Loop: app@example.org\nSubject: Ticket updated",
     "app@example.org", NULL, NULL, 0, "", "system", "X-Loop"},
    {"From: bob@example.org\nSubject: Read: Offer", "bob@example.org", "multipart/report",
     "disposition-notification", 0, "", "system", "multipart/report"},
};

/* run_case - split the "Name: value" lines and classify. */
static void run_case(size_t i)
{
    g_auto(GStrv) lines = g_strsplit(cases[i].headers, "\n", -1);
    struct autogen_header hdrs[16];
    g_autofree char *names = NULL;
    size_t  n = 0;
    struct autogen_verdict v;
    struct autogen_input in;

    for (char **l = lines; *l && n < G_N_ELEMENTS(hdrs); l++) {
	char   *colon = strchr(*l, ':');

	if (colon == NULL)
	    continue;
	*colon = 0;
	hdrs[n].name = *l;
	hdrs[n].value = colon + 1 + strspn(colon + 1, " ");
	n++;
    }
    in = (struct autogen_input) {hdrs, n, cases[i].sender, cases[i].ctype, cases[i].report_type,
	cases[i].dsn_part, cases[i].text};
    autogen_classify(&in, &v);
    is_str(autogen_kind_name(v.kind), cases[i].want, "case %zu: %s", i, cases[i].want);
    has_str(v.reason, cases[i].reason, "case %zu: reason \"%s\"", i, v.reason);
}

static json_t *build(const char *raw, const char *sender)
{
    const char *rcpts[] = {"support@example.test"};
    struct envelope_input in = {0};
    struct envelope_limits lim = {64 * 1024, 1024 * 1024, 10, 0, 0, NULL};

    in.sender = sender;
    in.recipients = rcpts;
    in.n_recipients = 1;
    in.raw = raw;
    in.raw_len = strlen(raw);
    in.message_size = in.raw_len;
    return envelope_build(&in, &lim);
}

/* Through GMime and the envelope: a DSN, an encoded auto-reply subject, a person. */
static void through_envelope(void)
{
    static const char dsn[] =
	"From: MAILER-DAEMON@mx.example.org\r\nTo: a@example.test\r\nSubject: x\r\n"
	"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
	" boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsorry\r\n--b\r\n"
	"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
	"Final-Recipient: rfc822; a@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n";
    static const char nested[] =
	"From: gw@example.org\r\nTo: a@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"i\"\r\n\r\n"
	"--i\r\nContent-Type: text/plain\r\n\r\nx\r\n--i\r\n"
	"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n--i--\r\n--o--\r\n";
    static const char oof[] =
	"From: bob@example.org\r\nTo: a@example.test\r\n"
	"Subject: =?UTF-8?Q?Automatische_Antwort:_Angebot?=\r\n\r\nBin weg.\r\n";
    static const char person[] =
	"From: anna@example.org\r\nTo: a@example.test\r\nSubject: Printer\r\n"
	"X-Auto-Response-Suppress: All\r\n\r\nHello, the printer is broken.\r\n";
    json_t *env;

    env = build(dsn, "");
    is_str(envelope_str(json_object_get(env, "autogen"), "kind"), "bounce", "envelope: DSN is a bounce");
    has_str(envelope_str(json_object_get(env, "autogen"), "reason"), "delivery-status",
	    "envelope: reason names the report");
    json_decref(env);
    env = build(nested, "gw@example.org");
    is_str(envelope_str(json_object_get(env, "autogen"), "kind"), "bounce",
	   "envelope: a delivery-status part inside multipart/mixed is found");
    json_decref(env);
    env = build(oof, "bob@example.org");
    is_str(envelope_str(json_object_get(env, "autogen"), "kind"), "autoreply",
	   "envelope: an RFC 2047 subject is read decoded");
    json_decref(env);
    env = build(person, "anna@example.org");
    is_str(envelope_str(json_object_get(env, "autogen"), "kind"), "human",
	   "envelope: X-Auto-Response-Suppress alone is a person");
    json_decref(env);
    env = build("", NULL);
    is_str(envelope_str(json_object_get(env, "autogen"), "kind"), "human",
	   "envelope: an empty message still has a verdict");
    json_decref(env);
}

/* Bounds: 100,000 header fields and a 1 MB subject; only the first are read. */
static void bounds(void)
{
    enum {N = 100000};
    struct autogen_header *hdrs = g_new(struct autogen_header, N);
    char   *subject = g_malloc(1024 * 1024 + 1);
    struct autogen_verdict v;
    struct autogen_input in = {hdrs, N, "x@example.org", NULL, NULL, 0, NULL};

    memset(subject, 'a', 1024 * 1024);
    subject[1024 * 1024] = 0;
    for (size_t i = 0; i < N; i++)
	hdrs[i] = (struct autogen_header) {"X-Filler", "x"};
    hdrs[0] = (struct autogen_header) {"Subject", subject};
    hdrs[N - 1] = (struct autogen_header) {"List-Id", "<late.example.org>"};
    autogen_classify(&in, &v);
    is_str(autogen_kind_name(v.kind), "human", "bounds: a header past the first 300 is not read");
    /* A sender's text never reaches the reason: it is logged. */
    hdrs[0] = (struct autogen_header) {"Subject", "Out of office <script>evil</script>"};
    autogen_classify(&in, &v);
    ok(strstr(v.reason, "evil") == NULL, "bounds: the reason holds no sender text (%s)", v.reason);
    g_free(subject);
    g_free(hdrs);
}

int     main(void)
{
    envelope_init();
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
	run_case(i);
    through_envelope();
    bounds();
    return tap_done();
}
