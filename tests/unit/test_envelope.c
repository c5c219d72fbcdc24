/*
 * NAME
 *	test_envelope - unit and corpus tests of common/envelope.c
 * SYNOPSIS
 *	test_envelope [unit|corpus]
 * DESCRIPTION
 *	Part one builds envelopes from messages written here, each aimed at
 *	one rule of envelope_build(): body choice, header decoding (RFC 2047,
 *	RFC 2231, raw 8-bit), attachments and their names, limits, broken
 *	input, de-duplication, and the envelope_decode() round trip. Most
 *	cases are a table: a message and the envelope members it must give.
 *
 *	Part two runs every message of the corpus (directory $INTAKE_CORPUS,
 *	default ../shared/corpus) through envelope_build() and
 *	envelope_decode(), and compares subject, sender address and
 *	attachment file names with the parse/ expectations. Each field must
 *	agree for at least 95% of the messages; every disagreement is
 *	printed as a "#" line.
 *
 *	Without an argument both parts run. Exit status: 0 all passed, 1
 *	something failed, 77 the corpus was not found (and part one, if run,
 *	passed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <gmime/gmime.h>

#include "config.h"
#include "envelope.h"
#include "html.h"
#include "mime.h"
#include "tap.h"

/* ---------------------------------------------------------------- */
/*	Helpers								    */
/* ---------------------------------------------------------------- */

static struct mailbox mb_support = {.name = "support", .address = "support@example.com",
.active = TRUE};
static struct mailbox mb_sales = {.name = "sales", .address = "sales@example.com",
.active = TRUE};

static const char *const default_raw_headers[] = {
    "Auto-Submitted", "Precedence", "List-Id", "List-Unsubscribe", "List-Post",
    "X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond", "Return-Path",
    "Delivered-To", "X-Original-To", "Resent-To", "Resent-From", "X-Loop", "X-Intake-Id",
    NULL,
};

static struct envelope_limits default_limits(void)
{
    struct envelope_limits lim = {
	.max_text = 1024 * 1024,
	.max_raw = 10 * 1024 * 1024,
	.max_attachments = 250,
	.raw_headers = default_raw_headers,
    };

    return lim;
}

/* build_len - envelope of raw[0..len) sent to support@example.com */
static json_t *build_len(const char *raw, gsize len, const struct envelope_limits *lim)
{
    static const char *const rcpts[] = {"support@example.com"};
    static const struct mailbox *const matched[] = {&mb_support};
    struct envelope_limits dl = default_limits();
    struct envelope_input in = {
	.queue_id = "4QX1Z2abcd",
	.client_addr = "192.0.2.1",
	.client_name = "mail.example.org",
	.helo = "mail.example.org",
	.sender = "alice@example.org",
	.recipients = rcpts,
	.matched = matched,
	.n_recipients = 1,
	.raw = raw,
	.raw_len = len,
	.message_size = len,
    };

    return envelope_build(&in, lim ? lim : &dl);
}

static json_t *build(const char *raw, const struct envelope_limits *lim)
{
    return build_len(raw, strlen(raw), lim);
}

/*
 * jpath - member of a JSON value by a path such as "from[0].address",
 * "mailboxes[1].recipients[0]" or "headers[0][1]"; NULL when absent.
 */
static json_t *jpath(json_t *root, const char *path)
{
    const char *p = path;
    json_t *cur = root;

    while (cur && *p) {
	if (*p == '.') {
	    p++;
	} else if (*p == '[') {
	    char   *end;
	    long    idx = strtol(p + 1, &end, 10);

	    if (*end != ']')
		return NULL;
	    cur = json_array_get(cur, (size_t) idx);
	    p = end + 1;
	} else {
	    size_t  n = strcspn(p, ".[");
	    g_autofree char *key = g_strndup(p, n);

	    cur = json_object_get(cur, key);
	    p += n;
	}
    }
    return cur;
}

static const char *jpath_str(json_t *root, const char *path)
{
    return json_string_value(jpath(root, path));
}

/* roundtrip - the envelope as the worker reads it, or NULL (why printed) */
static json_t *roundtrip(json_t *env)
{
    char   *text = json_dumps(env, JSON_COMPACT);
    char   *why = NULL;
    json_t *back;

    if (text == NULL) {
	diag("json_dumps failed (invalid UTF-8 in a string?)");
	return NULL;
    }
    back = envelope_decode(text, strlen(text), &why);
    if (back == NULL)
	diag("envelope_decode: %s", why);
    g_free(why);
    free(text);
    return back;
}

/* ---------------------------------------------------------------- */
/*	Table: a message and what its envelope must hold		    */
/* ---------------------------------------------------------------- */

enum op {
    END, EQ, HAS, LACKS, PREFIX, INT, ISNULL, ISTRUE, ISFALSE, LEN, MAXLEN, ISSTR,
};

struct check {
    enum op op;
    const char *path;
    const char *s;			/* EQ, HAS, LACKS, PREFIX */
    long long n;			/* INT, LEN (array size), MAXLEN (string bytes) */
};

struct env_case {
    const char *name;
    const char *raw;
    struct check checks[32];		/* ends at the first END */
};

#define HDR \
    "From: Alice Example <alice@example.org>\n" \
    "To: Support <support@example.com>\n" \
    "Date: Tue, 02 Jan 2024 10:00:00 +0100\n" \
    "Message-ID: <case@example.org>\n" \
    "MIME-Version: 1.0\n"

static const struct env_case env_cases[] = {
    {"plain text mail",
	"From: Alice Example <alice@example.org>\n"
	"To: Support <support@example.com>\n"
	"Cc: bob@example.org, \"Carol C.\" <carol@example.org>\n"
	"Reply-To: replies@example.org\n"
	"Subject: Printer on fire\n"
	"Date: Tue, 02 Jan 2024 10:00:00 +0100\n"
	"Message-ID: <plain-1@example.org>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Hello,\n"
	"the printer is on fire.\n",
	{{INT, "v", .n = ENVELOPE_VERSION}, {ISSTR, "id"}, {EQ, "queue_id", "4QX1Z2abcd"},
	    {EQ, "client.addr", "192.0.2.1"}, {EQ, "sender", "alice@example.org"},
	    {EQ, "recipients[0]", "support@example.com"}, {EQ, "mailboxes[0].name", "support"},
	    {EQ, "subject", "Printer on fire"}, {EQ, "from[0].name", "Alice Example"},
	    {EQ, "from[0].address", "alice@example.org"}, {EQ, "to[0].address", "support@example.com"},
	    {LEN, "cc", .n = 2}, {EQ, "cc[1].name", "Carol C."}, {EQ, "cc[0].address", "bob@example.org"},
	    {EQ, "reply_to[0].address", "replies@example.org"},
	    {EQ, "date", "2024-01-02T09:00:00Z"}, {EQ, "message_id", "plain-1@example.org"},
	    {EQ, "text", "Hello,\nthe printer is on fire.\n"}, {EQ, "text_from", "plain"},
	    {ISFALSE, "text_truncated"}, {LEN, "attachments", .n = 0},
	    {ISFALSE, "attachments_truncated"}, {ISNULL, "in_reply_to"}, {LEN, "references", .n = 0}}},
    {"CRLF line ends",
	"From: alice@example.org\r\n"
	"Subject: CRLF\r\n"
	"Message-ID: <crlf@example.org>\r\n"
	"\r\n"
	"line one\r\n"
	"line two\r\n",
	{{EQ, "subject", "CRLF"}, {EQ, "message_id", "crlf@example.org"},
	    {EQ, "text", "line one\nline two\n"}, {EQ, "text_from", "plain"}}},
    {"multipart/alternative: the text part is the body, the HTML is not an attachment",
	HDR
	"Subject: Alternative\n"
	"Content-Type: multipart/alternative; boundary=\"alt\"\n"
	"\n"
	"--alt\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Plain version.\n"
	"--alt\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<html><body><p>HTML <b>version</b>.</p></body></html>\n"
	"--alt--\n",
	{{EQ, "text_from", "plain"}, {HAS, "text", "Plain version."}, {LACKS, "text", "HTML"},
	    {LEN, "attachments", .n = 0}}},
    {"multipart/alternative with the HTML first",
	HDR
	"Subject: Alternative\n"
	"Content-Type: multipart/alternative; boundary=\"alt\"\n"
	"\n"
	"--alt\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<p>HTML version.</p>\n"
	"--alt\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Plain version.\n"
	"--alt--\n",
	{{EQ, "text_from", "plain"}, {HAS, "text", "Plain version."}, {LEN, "attachments", .n = 0}}},
    {"HTML only: text made from HTML, script and style dropped",
	HDR
	"Subject: HTML only\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<html><head><title>Page title</title><style>p { color: red }</style>\n"
	"<script>alert('head');</script></head>\n"
	"<body><p>Hello <b>world</b>,</p><script type=\"text/javascript\">evil();</script>\n"
	"<ul><li>first</li><li>second</li></ul><p>Caf&eacute; &amp; more</p></body></html>\n",
	{{EQ, "text_from", "html"}, {HAS, "text", "Hello world,"}, {HAS, "text", "- first\n- second"},
	    {HAS, "text", "Caf\xc3\xa9 & more"}, {LACKS, "text", "alert"}, {LACKS, "text", "evil"},
	    {LACKS, "text", "color"}, {LACKS, "text", "Page title"}, {LACKS, "text", "<"},
	    {LEN, "attachments", .n = 0}}},
    {"HTML only, quoted-printable latin1",
	HDR
	"Subject: HTML latin1\n"
	"Content-Type: text/html; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"<p>Gr=FC=DFe aus K=F6ln</p>\n",
	{{EQ, "text_from", "html"}, {EQ, "text", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln"}}},
    {"multipart/related HTML with an inline image keeping its Content-ID",
	HDR
	"Subject: Inline image\n"
	"Content-Type: multipart/related; boundary=\"rel\"; type=\"text/html\"\n"
	"\n"
	"--rel\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<p>See <img src=\"cid:logo@example.org\"> here</p>\n"
	"--rel\n"
	"Content-Type: image/png\n"
	"Content-Transfer-Encoding: base64\n"
	"Content-ID: <logo@example.org>\n"
	"Content-Disposition: inline\n"
	"\n"
	"iVBORw0KGgo=\n"
	"--rel--\n",
	{{EQ, "text_from", "html"}, {HAS, "text", "See"}, {LEN, "attachments", .n = 1},
	    {EQ, "attachments[0].content_id", "logo@example.org"},
	    {EQ, "attachments[0].content_type", "image/png"},
	    {EQ, "attachments[0].disposition", "inline"},
	    {INT, "attachments[0].size", .n = 8}}},
    {"alternative inside mixed, with a PDF",
	HDR
	"Subject: Report\n"
	"Content-Type: multipart/mixed; boundary=\"mix\"\n"
	"\n"
	"--mix\n"
	"Content-Type: multipart/alternative; boundary=\"alt\"\n"
	"\n"
	"--alt\n"
	"Content-Type: text/plain\n"
	"\n"
	"Report attached.\n"
	"--alt\n"
	"Content-Type: text/html\n"
	"\n"
	"<p>Report attached.</p>\n"
	"--alt--\n"
	"--mix\n"
	"Content-Type: application/pdf; name=\"report.pdf\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"JVBERi0xLjQK\n"
	"--mix--\n",
	{{EQ, "text_from", "plain"}, {HAS, "text", "Report attached."}, {LEN, "attachments", .n = 1},
	    {EQ, "attachments[0].filename", "report.pdf"},
	    {EQ, "attachments[0].content_type", "application/pdf"},
	    {INT, "attachments[0].size", .n = 9}, {EQ, "attachments[0].disposition", "attachment"},
	    {ISNULL, "attachments[0].content_id"}}},
    {"RFC 2047 subject and From name: UTF-8 Q, ISO-8859-1 B",
	"From: =?ISO-8859-1?B?Suly9G1l?= <jerome@example.org>\n"
	"Subject: =?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?=\n"
	"Message-ID: <rfc2047-1@example.org>\n"
	"\n"
	"body\n",
	{{EQ, "subject", "Caf\xc3\xa9 cr\xc3\xa8me"}, {EQ, "from[0].name", "J\xc3\xa9r\xc3\xb4me"},
	    {EQ, "from[0].address", "jerome@example.org"}}},
    {"RFC 2047 subject and From name: UTF-8 B, ISO-8859-1 Q, two words",
	"From: =?iso-8859-1?q?Fran=E7ois?= =?iso-8859-1?q?_M=FCller?= <fm@example.org>\n"
	"Subject: =?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\n"
	"Message-ID: <rfc2047-2@example.org>\n"
	"\n"
	"body\n",
	{{EQ, "subject", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln"},
	    {EQ, "from[0].name", "Fran\xc3\xa7ois M\xc3\xbcller"},
	    {EQ, "from[0].address", "fm@example.org"}}},
    {"RFC 2047: words split across a folded line, mixed with plain text",
	"From: alice@example.org\n"
	"Subject: Re: =?UTF-8?Q?=E2=82=AC_100?=\n"
	" =?UTF-8?Q?_invoice?= (urgent)\n"
	"\n"
	"body\n",
	{{EQ, "subject", "Re: \xe2\x82\xac 100 invoice (urgent)"}}},
    {"RFC 2047: adjacent B words, the first with padding (GMime issue 133)",
	"From: =?UTF-8?B?U3NzxZsgTGHFgmFsYQ==?= =?UTF-8?B?bGFsYQ==?= <s@example.org>\n"
	"Subject: =?UTF-8?B?SGVsbG8=?=\n"
	" =?UTF-8?B?IHdvcmxk?=\n"
	"Cc: =?UTF-8?B?4oI=?= =?UTF-8?B?rA==?= <euro@example.org>\n"
	"\n"
	"body\n",
	{{EQ, "subject", "Hello world"}, {EQ, "from[0].name", "Sss\xc5\x9b La\xc5\x82" "alalala"},
	    {EQ, "from[0].address", "s@example.org"},
	    {EQ, "cc[0].name", "\xe2\x82\xac"}}},		/* one character split across two words */
    {"addresses of repeated To and Cc fields are all kept, groups flattened",
	"From: alice@example.org\n"
	"To: a@example.com\n"
	"To: B <b@example.com>, c@example.com\n"
	"Cc: Team: d@example.com, \"E\" <e@example.com>;, f@example.com\n"
	"Subject: many\n"
	"\n"
	"body\n",
	{{LEN, "to", .n = 3}, {EQ, "to[1].name", "B"}, {EQ, "to[2].address", "c@example.com"},
	    {LEN, "cc", .n = 3}, {EQ, "cc[1].name", "E"}, {EQ, "cc[2].address", "f@example.com"}}},
    {"RFC 2231 file name (UTF-8, percent-encoded)",
	HDR
	"Subject: Rates\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"See attached.\n"
	"--b\n"
	"Content-Type: application/pdf\n"
	"Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"JVBERi0xLjQK\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"Content-Disposition: attachment;\n"
	" filename*0*=UTF-8''%C3%BC;\n"
	" filename*1=ber.txt\n"
	"\n"
	"continued name\n"
	"--b--\n",
	{{EQ, "text", "See attached."}, {LEN, "attachments", .n = 2},
	    {EQ, "attachments[0].filename", "\xe2\x82\xac rates.pdf"},
	    {EQ, "attachments[1].filename", "\xc3\xbc" "ber.txt"},
	    {EQ, "attachments[1].content_type", "text/plain"}}},
    {"RFC 2047 file name in Content-Disposition and in Content-Type name",
	HDR
	"Subject: Names\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"Two files.\n"
	"--b\n"
	"Content-Type: application/vnd.ms-powerpoint\n"
	"Content-Disposition: attachment; filename=\"=?UTF-8?B?UHLDpHNlbnRhdGlvbi5wcHQ=?=\"\n"
	"\n"
	"x\n"
	"--b\n"
	"Content-Type: application/octet-stream; name=\"=?ISO-8859-1?Q?r=E9sum=E9=2Edoc?=\"\n"
	"\n"
	"y\n"
	"--b--\n",
	{{LEN, "attachments", .n = 2}, {EQ, "attachments[0].filename", "Pr\xc3\xa4sentation.ppt"},
	    {EQ, "attachments[1].filename", "r\xc3\xa9sum\xc3\xa9.doc"}}},
    {"attachment without any name gets a made-up one with a sensible extension",
	HDR
	"Subject: Nameless\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"Body.\n"
	"--b\n"
	"Content-Type: application/pdf\n"
	"Content-Disposition: attachment\n"
	"\n"
	"%PDF\n"
	"--b\n"
	"Content-Type: application/x-unheard-of\n"
	"\n"
	"?\n"
	"--b--\n",
	{{LEN, "attachments", .n = 2}, {PREFIX, "attachments[0].filename", "attachment-"},
	    {HAS, "attachments[0].filename", ".pdf"}, {HAS, "attachments[1].filename", ".bin"}}},
    {"file name with a path and control characters is kept on one line",
	HDR
	"Subject: Path\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"Body.\n"
	"--b\n"
	"Content-Type: application/octet-stream\n"
	"Content-Disposition: attachment; filename*=UTF-8''a%0Ab%09c.txt\n"
	"\n"
	"x\n"
	"--b--\n",
	{{LEN, "attachments", .n = 1}, {LACKS, "attachments[0].filename", "\n"},
	    {LACKS, "attachments[0].filename", "\t"}}},
    {"message/rfc822 attachment is named after its subject",
	HDR
	"Subject: Fwd: complaint\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"Forwarding this.\n"
	"--b\n"
	"Content-Type: message/rfc822\n"
	"Content-Disposition: attachment\n"
	"\n"
	"From: customer@example.net\n"
	"Subject: =?UTF-8?Q?Order_12/34:_where_is_it=3F?=\n"
	"Message-ID: <inner@example.net>\n"
	"\n"
	"Where is my order?\n"
	"--b--\n",
	{{EQ, "subject", "Fwd: complaint"}, {EQ, "text", "Forwarding this."},
	    {LEN, "attachments", .n = 1}, {EQ, "attachments[0].content_type", "message/rfc822"},
	    {EQ, "attachments[0].filename", "Order 12_34: where is it?.eml"},
	    {EQ, "message_id", "case@example.org"}}},
    {"message/rfc822 attachment without a subject",
	HDR
	"Subject: Fwd\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"See inner.\n"
	"--b\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: customer@example.net\n"
	"\n"
	"No subject here.\n"
	"--b--\n",
	{{LEN, "attachments", .n = 1}, {EQ, "attachments[0].filename", "message.eml"}}},
    {"message/rfc822 attachment with its own file name",
	HDR
	"Subject: Fwd\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"See inner.\n"
	"--b\n"
	"Content-Type: message/rfc822\n"
	"Content-Disposition: attachment; filename=\"original.eml\"\n"
	"\n"
	"From: customer@example.net\n"
	"Subject: Inner subject\n"
	"\n"
	"Inner body.\n"
	"--b--\n",
	{{LEN, "attachments", .n = 1}, {EQ, "attachments[0].filename", "original.eml"}}},
    {"bounce parts are named from Content-Description",
	"From: MAILER-DAEMON@example.net (Mail Delivery System)\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n"
	"\n"
	"--r\n"
	"Content-Description: Notification\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"I'm sorry to have to inform you that your message could not be delivered.\n"
	"--r\n"
	"Content-Description: Delivery report\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.net\n"
	"\n"
	"Final-Recipient: rfc822; nobody@example.net\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"--r\n"
	"Content-Description: Undelivered Message\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: alice@example.org\n"
	"To: nobody@example.net\n"
	"\n"
	"hello\n"
	"--r\n"
	"Content-Description: Undelivered Message Headers\n"
	"Content-Type: text/rfc822-headers\n"
	"\n"
	"From: alice@example.org\n"
	"--r--\n",
	{{HAS, "text", "could not be delivered"}, {LEN, "attachments", .n = 3},
	    {EQ, "attachments[0].filename", "Delivery report.txt"},
	    {EQ, "attachments[1].filename", "Undelivered Message.eml"},
	    {EQ, "attachments[2].filename", "Undelivered Message Headers.txt"},
	    {EQ, "from[0].address", "MAILER-DAEMON@example.net"}}},
    {"8-bit latin1 bytes in raw headers become valid UTF-8",
	"From: J\xe9r\xf4me Dupr\xe9 <jerome@example.org>\n"
	"Subject: Caf\xe9 cr\xe8me \xe0 la carte\n"
	"Message-ID: <8bit@example.org>\n"
	"\n"
	"body\n",
	{{EQ, "subject", "Caf\xc3\xa9 cr\xc3\xa8me \xc3\xa0 la carte"},
	    {EQ, "from[0].name", "J\xc3\xa9r\xc3\xb4me Dupr\xc3\xa9"},
	    {EQ, "from[0].address", "jerome@example.org"}}},
    {"8-bit UTF-8 bytes in raw headers are kept",
	"From: \xc3\x89milie <emilie@example.org>\n"
	"Subject: \xe2\x82\xac 5 refund\n"
	"\n"
	"body\n",
	{{EQ, "subject", "\xe2\x82\xac 5 refund"}, {EQ, "from[0].name", "\xc3\x89milie"}}},
    {"missing Message-ID: null, envelope still built",
	"From: alice@example.org\n"
	"Subject: No id\n"
	"\n"
	"body\n",
	{{ISNULL, "message_id"}, {EQ, "subject", "No id"}, {EQ, "text", "body\n"},
	    {ISSTR, "dedupe_key"}}},
    {"missing Subject: empty string, envelope still decodes",
	"From: alice@example.org\n"
	"Message-ID: <nosubject@example.org>\n"
	"\n"
	"body\n",
	{{EQ, "subject", ""}, {EQ, "text", "body\n"}}},
    {"unknown charset: text kept as far as it is UTF-8",
	HDR
	"Subject: =?x-klingon?Q?tlhIngan?= Hol\n"
	"Content-Type: text/plain; charset=x-klingon\n"
	"Content-Transfer-Encoding: 8bit\n"
	"\n"
	"plain ascii text, caf\xe9\n",
	{{ISSTR, "subject"}, {HAS, "subject", "Hol"},
	    {EQ, "text", "plain ascii text, caf\xc3\xa9\n"}}},
    {"text/plain without charset holding 8-bit latin1 bytes",
	"From: alice@example.org\n"
	"Subject: no charset\n"
	"\n"
	"caf\xe9 au lait\n",
	{{EQ, "text", "caf\xc3\xa9 au lait\n"}}},
    {"text/plain without charset holding UTF-8",
	"From: alice@example.org\n"
	"Subject: no charset\n"
	"\n"
	"caf\xc3\xa9 au lait\n",
	{{EQ, "text", "caf\xc3\xa9 au lait\n"}}},
    {"alternative whose plain text is white space only: the HTML is the text",
	"From: alice@example.org\n"
	"Subject: alt\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/alternative; boundary=b\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	" \xc2\xa0\n"
	"\n"
	"--b\n"
	"Content-Type: multipart/related; boundary=r\n"
	"\n"
	"--r\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<p>The printer is on fire.</p>\n"
	"--r\n"
	"Content-Type: image/png\n"
	"Content-ID: <i1>\n"
	"\n"
	"x\n"
	"--r--\n"
	"--b--\n",
	{{EQ, "text_from", "html"}, {EQ, "text", "The printer is on fire."},
	    {LEN, "attachments", .n = 1}}},
    {"text labelled base64 that is not: read as it is",
	"From: alice@example.org\n"
	"Subject: b64\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"Gr\xc3\xbc\xc3\x9f" "e, the printer is on fire.\n",
	{{EQ, "text", "Gr\xc3\xbc\xc3\x9f" "e, the printer is on fire.\n"}}},
    {"base64 with a stray byte is still base64",
	"From: alice@example.org\n"
	"Subject: b64\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"VGhlIHByaW50ZXIgaXMgb24gZmlyZSwgYWdhaW4uIFBsZWFzZSBzZW5kIHNvbWVib2R5Lg==\n"
	"-\n",
	{{EQ, "text", "The printer is on fire, again. Please send somebody."}}},
    /* A mail that is a forwarded attachment only (common/mime_message.c). */
    {"a forwarded attachment without a word: its text, as a client forwards inline",
	"From: Jane <jane@client.test>\n"
	"Subject: Fwd: invoice wrong\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=b\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"\n"
	"--b\n"
	"Content-Type: message/rfc822\n"
	"Content-Disposition: attachment; filename=\"invoice.eml\"\n"
	"\n"
	"From: Billing <billing@vendor.test>\n"
	"To: jane@client.test\n"
	"Date: Tue, 1 Dec 2026 10:00:00 +0100\n"
	"Subject: =?utf-8?q?Rechnung_f=C3=BCr_Dezember?=\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Amount: 100 EUR.\n"
	"--b--\n",
	{{EQ, "text_from", "message"},
	    {EQ, "text", "---------- Forwarded message ---------\nFrom: Billing <billing@vendor.test>\n"
		"Date: Tue, 01 Dec 2026 10:00 +0100\nSubject: Rechnung f\xc3\xbcr Dezember\n"
		"To: jane@client.test\n\nAmount: 100 EUR."},
	    {LEN, "attachments", .n = 1}, {EQ, "customer.address", "jane@client.test"}}},
    {"a forwarded attachment beside the sender's own words: the words are the text",
	"From: jane@client.test\n"
	"Subject: wrong invoice\n"
	"Content-Type: multipart/mixed; boundary=fw\n"
	"\n"
	"--fw\n"
	"Content-Type: text/plain\n"
	"\n"
	"This one is wrong.\n"
	"--fw\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: billing@vendor.test\n"
	"Subject: invoice\n"
	"\n"
	"Amount: 100 EUR.\n"
	"--fw--\n",
	{{EQ, "text_from", "plain"}, {EQ, "text", "This one is wrong."}}},
    {"a delivery report without a text part: what it returns is not its text",
	"From: MAILER-DAEMON@mx.example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Auto-Submitted: auto-replied\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n"
	"\n"
	"--b\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Final-Recipient: rfc822; gone@example.org\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"--b\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: support@example.com\n"
	"Subject: [#INT-2026-000001] Re: help\n"
	"\n"
	"We received your mail.\n"
	"--b--\n",
	{{EQ, "text", ""}, {EQ, "text_from", "none"}}},
    /* Multiparts whose content does not use their boundary (common/mime_repair.c). */
    {"a multipart without a boundary parameter: parts found by their first --line",
	"From: alice@example.org\n"
	"Subject: printer\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed\n"
	"\n"
	"This is a multi-part message in MIME format.\n"
	"--abc\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"The printer is on fire.\n"
	"--abc\n"
	"Content-Type: application/pdf; name=\"photo.pdf\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"JVBERi0xLjQK\n"
	"--abc--\n",
	{{EQ, "text", "The printer is on fire."}, {EQ, "text_from", "plain"},
	    {LEN, "attachments", .n = 1}, {EQ, "attachments[0].filename", "photo.pdf"},
	    {INT, "attachments[0].size", .n = 9},
	    {HAS, "warnings[1].item", "does not use its boundary"}}},
    {"a declared boundary the content does not use: its parts still read",
	"From: alice@example.org\n"
	"Subject: printer\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/alternative; boundary=\"declared\"\n"
	"\n"
	"--used\n"
	"Content-Type: text/plain\n"
	"\n"
	"Plain words.\n"
	"--used\n"
	"Content-Type: text/html\n"
	"\n"
	"<p>HTML words.</p>\n"
	"--used--\n",
	{{EQ, "text", "Plain words."}, {LEN, "attachments", .n = 0}}},
    {"a delivery report without a boundary stays a delivery report, with its text",
	"From: postmaster@mx.example.org\n"
	"Subject: failure notice\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status\n"
	"\n"
	"Your message could not be delivered.\n",
	{{EQ, "autogen.kind", "bounce"}, {HAS, "autogen.reason", "multipart/report"},
	    {EQ, "text", "Your message could not be delivered.\n"}}},
    {"plain words under a multipart Content-Type, a dashed line among them: all text",
	"From: alice@example.org\n"
	"Subject: no parts\n"
	"Content-Type: multipart/mixed; boundary=b\n"
	"\n"
	"Hello,\n"
	"----------\n"
	"the printer is on fire.\n",
	{{EQ, "text", "Hello,\n----------\nthe printer is on fire.\n"},
	    {HAS, "warnings[1].item", "read as plain text"}}},
    /* Address fields GMime makes no address of (common/addrlist.c). */
    {"From of a web form: a name, then the bare address",
	"From: Jane Doe jane@example.org\n"
	"To: Support support@example.com\n"
	"Subject: form\n"
	"\n"
	"hi\n",
	{{EQ, "from[0].name", "Jane Doe"}, {EQ, "from[0].address", "jane@example.org"},
	    {EQ, "to[0].address", "support@example.com"}, {EQ, "customer.how", "from"},
	    {EQ, "customer.address", "jane@example.org"}}},
    {"From: a quoted name, the address in brackets, a sentence's full stop",
	"From: \"=?utf-8?q?J=C3=B6rg?=\" [joerg@example.org].\n"
	"Subject: form\n"
	"\n"
	"hi\n",
	{{EQ, "from[0].name", "J\xc3\xb6rg"}, {EQ, "from[0].address", "joerg@example.org"}}},
    {"From: a name only, no address anywhere",
	"From: Jane Doe\n"
	"Subject: form\n"
	"\n"
	"hi\n",
	{{LEN, "from", .n = 0}, {EQ, "customer.how", "envelope"}}},
    {"From: no loose address of an '@' without a dotted domain",
	"From: Jane jane@localhost or @example.org\n"
	"Subject: form\n"
	"\n"
	"hi\n",
	{{LEN, "from", .n = 0}}},
    /* Declared charsets that are read UTF-8 first, windows-1252 for the rest (common/mime.c). */
    {"charset=us-ascii holding 8-bit latin1 bytes: kept, not dropped",
	"From: alice@example.org\n"
	"Subject: us-ascii\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"caf\xe9 au lait\n",
	{{EQ, "text", "caf\xc3\xa9 au lait\n"}}},
    {"charset=us-ascii holding UTF-8",
	"From: alice@example.org\n"
	"Subject: us-ascii\n"
	"Content-Type: text/plain; charset=US-ASCII\n"
	"\n"
	"caf\xc3\xa9 \xe2\x82\xac\n",
	{{EQ, "text", "caf\xc3\xa9 \xe2\x82\xac\n"}}},
    {"charset=utf-8 with a stray latin1 byte: that byte alone read as windows-1252",
	"From: alice@example.org\n"
	"Subject: utf-8\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"caf\xc3\xa9 na\xefve\n",
	{{EQ, "text", "caf\xc3\xa9 na\xc3\xafve\n"}}},
    {"charset=iso-8859-1 with windows-1252's euro sign and quotes",
	"From: alice@example.org\n"
	"Subject: latin1\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"=80 100, =93quoted=94 =96 caf=E9, =81\n",
	{{EQ, "text", "\xe2\x82\xac 100, \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x93 caf\xc3\xa9,"
	    " \xef\xbf\xbd\n"}}},
    {"charset=iso-8859-1 holding UTF-8",
	"From: alice@example.org\n"
	"Subject: latin1\n"
	"Content-Type: text/plain; charset=\"ISO-8859-1\"\n"
	"\n"
	"Gr\xc3\xbc\xc3\x9f" "e\n",
	{{EQ, "text", "Gr\xc3\xbc\xc3\x9f" "e\n"}}},
    {"HTML charset=us-ascii holding 8-bit latin1 bytes",
	"From: alice@example.org\n"
	"Subject: html us-ascii\n"
	"Content-Type: text/html; charset=us-ascii\n"
	"\n"
	"<p>caf\xe9 \x80 5</p>\n",
	{{EQ, "text_from", "html"}, {EQ, "text", "caf\xc3\xa9 \xe2\x82\xac 5"}}},
    {"header fields in ISO-8859-1 keep windows-1252's euro sign and quotes (Q, B, raw 8-bit)",
	"From: =?iso-8859-1?Q?J=F6rg_=80?= <joerg@example.org>\n"
	"To: =?ISO-8859-1?B?k0RlbW+U?= <support@example.com>\n"
	"Subject: =?latin1?q?=80_100?= \x93raw\x94 =?iso-8859-1*de?Q?caf=E9?=\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"\n"
	"hi\n",
	{{EQ, "from[0].name", "J\xc3\xb6rg \xe2\x82\xac"},
	    {EQ, "to[0].name", "\xe2\x80\x9c" "Demo\xe2\x80\x9d"},
	    {EQ, "subject", "\xe2\x82\xac 100 \xe2\x80\x9craw\xe2\x80\x9d caf\xc3\xa9"}}},
    {"raw 8-bit Subject of a mail whose text is ISO-2022-JP: read as Shift_JIS (CP932)",
	"From: a@example.jp\n"
	"Subject: \x83\x63\x81\x5b\x83\x8b\n"
	"Content-Type: text/plain; charset=iso-2022-jp\n"
	"\n"
	"hi\n",
	{{EQ, "subject", "\xe3\x83\x84\xe3\x83\xbc\xe3\x83\xab"}}},
    {"Shift_JIS read as CP932: circled numbers kept, a backslash stays one (text, Subject)",
	"From: a@example.jp\n"
	"Subject: =?shift_jis?B?h0CHQQ==?=\n"
	"Content-Type: text/plain; charset=Shift_JIS\n"
	"Content-Transfer-Encoding: 8bit\n"
	"\n"
	"\x83\x74\x83\x40\x83\x43\x83\x8b C:\\temp \x87\x40\n",
	{{EQ, "subject", "\xe2\x91\xa0\xe2\x91\xa1"},
	    {EQ, "text", "\xe3\x83\x95\xe3\x82\xa1\xe3\x82\xa4\xe3\x83\xab C:\\temp \xe2\x91\xa0\n"}}},
    {"EUC-KR and ks_c_5601-1987 read as CP949: syllables outside KS X 1001 kept",
	"From: a@example.kr\n"
	"Subject: =?ks_c_5601-1987?B?jGM=?=\n"
	"Content-Type: text/plain; charset=euc-kr\n"
	"Content-Transfer-Encoding: 8bit\n"
	"\n"
	"\x8c\x63\xb9\xe6\xb0\xa2\xc7\xcf\n",
	{{EQ, "subject", "\xeb\x98\xa0"},
	    {EQ, "text", "\xeb\x98\xa0\xeb\xb0\xa9\xea\xb0\x81\xed\x95\x98\n"}}},
    {"x-mac-roman read as MACINTOSH, which iconv knows",
	"From: a@example.org\n"
	"Subject: mac\n"
	"Content-Type: text/plain; charset=x-mac-roman\n"
	"\n"
	"Gr\x9f\xa7" "e\n",
	{{EQ, "text", "Gr\xc3\xbc\xc3\x9f" "e\n"}}},
    {"HTML without a charset parameter: its <meta> tag names the charset",
	"From: a@example.ru\n"
	"Subject: meta\n"
	"Content-Type: text/html\n"
	"\n"
	"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
	"</head><body><p>\xc7\xe4\xf0\xe0\xe2\xf1\xf2\xe2\xf3\xe9\xf2\xe5</p></body></html>\n",
	{{EQ, "text", "\xd0\x97\xd0\xb4\xd1\x80\xd0\xb0\xd0\xb2\xd1\x81\xd1\x82\xd0\xb2\xd1\x83\xd0\xb9\xd1\x82\xd0\xb5"}, {EQ, "text_from", "html"}}},
    {"HTML <meta charset> found after quoted-printable is undone",
	"From: a@example.ru\n"
	"Subject: meta\n"
	"Content-Type: text/html\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"<meta charset=3D'WINDOWS-1251'><p>=C7=E4=F0=E0=E2=F1=F2=E2=F3=E9=F2=E5</p>\n",
	{{EQ, "text", "\xd0\x97\xd0\xb4\xd1\x80\xd0\xb0\xd0\xb2\xd1\x81\xd1\x82\xd0\xb2\xd1\x83\xd0\xb9\xd1\x82\xd0\xb5"}}},
    {"HTML whose <meta> says UTF-16 (it cannot: it is read as ASCII) is read as UTF-8",
	"From: a@example.org\n"
	"Subject: meta\n"
	"Content-Type: text/html\n"
	"\n"
	"<meta charset=\"utf-16\"><p>Gr\xc3\xbc\xc3\x9f" "e</p>\n",
	{{EQ, "text", "Gr\xc3\xbc\xc3\x9f" "e"}}},
    {"HTML whose charset parameter and <meta> tag differ: the parameter wins",
	"From: a@example.ru\n"
	"Subject: meta\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<meta charset=\"koi8-r\"><p>\xd0\x97\xd0\xb4\xd1\x80\xd0\xb0\xd0\xb2\xd1\x81\xd1\x82\xd0\xb2\xd1\x83\xd0\xb9\xd1\x82\xd0\xb5</p>\n",
	{{EQ, "text", "\xd0\x97\xd0\xb4\xd1\x80\xd0\xb0\xd0\xb2\xd1\x81\xd1\x82\xd0\xb2\xd1\x83\xd0\xb9\xd1\x82\xd0\xb5"}}},
    {"charset=iso-8859-15 still converted by iconv (its euro sign is 0xA4)",
	"From: alice@example.org\n"
	"Subject: latin9\n"
	"Content-Type: text/plain; charset=iso-8859-15\n"
	"\n"
	"\xa4 5\n",
	{{EQ, "text", "\xe2\x82\xac 5\n"}}},
    {"control characters in the body are blanked, tabs and newlines kept",
	"From: alice@example.org\n"
	"Subject: controls\n"
	"\n"
	"a\x01" "b\x1b[31mc\td\n",
	{{EQ, "text", "a b [31mc\td\n"}}},
    {"broken MIME: closing boundary missing",
	HDR
	"Subject: Broken\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"First part.\n"
	"--b\n"
	"Content-Type: application/pdf; name=\"cut.pdf\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"JVBERi0xLjQK\n",
	{{EQ, "subject", "Broken"}, {HAS, "text", "First part."}, {LEN, "attachments", .n = 1},
	    {EQ, "attachments[0].filename", "cut.pdf"}}},
    {"broken MIME: boundary never appears",
	HDR
	"Subject: No parts\n"
	"Content-Type: multipart/mixed; boundary=\"nowhere\"\n"
	"\n"
	"Just text, no parts at all.\n",
	{{EQ, "subject", "No parts"}, {ISSTR, "text"}, {ISSTR, "dedupe_key"}}},
    {"broken MIME: multipart without a boundary parameter",
	HDR
	"Subject: No boundary\n"
	"Content-Type: multipart/mixed\n"
	"\n"
	"--x\n"
	"Content-Type: text/plain\n"
	"\n"
	"text\n"
	"--x--\n",
	{{EQ, "subject", "No boundary"}, {ISSTR, "text"}}},
    {"broken MIME: bad base64 and unknown transfer encoding",
	HDR
	"Subject: Bad encodings\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"Content-Transfer-Encoding: x-uuencode-ish\n"
	"\n"
	"text\n"
	"--b\n"
	"Content-Type: image/png\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"!!!! not base64 ####\n"
	"--b--\n",
	{{EQ, "subject", "Bad encodings"}, {ISSTR, "text"}, {LEN, "attachments", .n = 1}}},
    {"garbage: no header at all",
	"\x01\x02\x03 this is not a mail \xff\xfe\n\n\n\x00 more",
	{{ISSTR, "subject"}, {ISSTR, "text"}, {LEN, "from", .n = 0}, {ISSTR, "dedupe_key"}}},
    {"garbage: header line without a colon, then no body",
	"this is not a header\nneither is this",
	{{ISSTR, "subject"}, {ISSTR, "text"}}},
    {"mbox From_ line is skipped",
	"From alice@example.org Tue Jan  2 10:00:00 2024\n"
	"From: alice@example.org\n"
	"Subject: mbox\n"
	"\n"
	"body\n",
	{{EQ, "subject", "mbox"}, {EQ, "from[0].address", "alice@example.org"}}},
    {"In-Reply-To and References",
	"From: alice@example.org\n"
	"Subject: Re: Re: question\n"
	"Message-ID: <reply-3@example.org>\n"
	"In-Reply-To: <reply-2@example.com>\n"
	"References: <orig-1@example.org>\n"
	" <reply-2@example.com>\n"
	"\n"
	"body\n",
	{{EQ, "in_reply_to", "reply-2@example.com"}, {LEN, "references", .n = 2},
	    {EQ, "references[0]", "orig-1@example.org"}, {EQ, "references[1]", "reply-2@example.com"}}},
    {"In-Reply-To with comments and text around the id",
	"From: alice@example.org\n"
	"Subject: Re: question\n"
	"In-Reply-To: Your message of Tue, 2 Jan 2024 <orig-1@example.org> (sent)\n"
	"References: <a@x.example> junk <b@y.example>\n"
	"\n"
	"body\n",
	{{EQ, "in_reply_to", "orig-1@example.org"}, {LEN, "references", .n = 2},
	    {EQ, "references[1]", "b@y.example"}}},
    {"References separated by commas and semicolons",
	"From: alice@example.org\n"
	"Subject: Re: question\n"
	"In-Reply-To: <c@z.example>, <d@z.example>\n"
	"References: <a@x.example>,\n"
	" <b@y.example>; <c@z.example>\n"
	"\n"
	"body\n",
	{{EQ, "in_reply_to", "c@z.example"}, {LEN, "references", .n = 3},
	    {EQ, "references[0]", "a@x.example"}, {EQ, "references[2]", "c@z.example"}}},
    {"only the configured raw header fields are copied",
	"Return-Path: <bounce@example.org>\n"
	"Received: from mx.example.org by mx.example.com\n"
	"From: alice@example.org\n"
	"Subject: Out of office\n"
	"auto-submitted: auto-replied\n"
	"Precedence: bulk\n"
	"X-Mailer: Something\n"
	"List-Id: Support list\n"
	" <support.lists.example.org>\n"
	"X-Spam: no\n"
	"\n"
	"I am away.\n",
	{{LEN, "headers", .n = 4}, {EQ, "headers[0][0]", "Return-Path"},
	    {EQ, "headers[0][1]", "<bounce@example.org>"},
	    {EQ, "headers[1][0]", "auto-submitted"}, {EQ, "headers[1][1]", "auto-replied"},
	    {EQ, "headers[2][0]", "Precedence"}, {EQ, "headers[2][1]", "bulk"},
	    {EQ, "headers[3][0]", "List-Id"},
	    {EQ, "headers[3][1]", "Support list <support.lists.example.org>"}}},
    /* Mail with no text body still makes a complete envelope (issue 6). */
    {"attachment only: a scanned PDF, no text part",
	HDR "Subject: scan\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	"--b\nContent-Type: application/pdf; name=\"scan-0001.pdf\"\n"
	"Content-Disposition: attachment; filename=\"scan-0001.pdf\"\n"
	"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcfsj6IK\n--b--\n",
	{{EQ, "text", ""}, {EQ, "text_from", "none"}, {ISFALSE, "text_truncated"},
	    {LEN, "attachments", NULL, 1}, {EQ, "attachments[0].filename", "scan-0001.pdf"},
	    {EQ, "attachments[0].content_type", "application/pdf"},
	    {INT, "attachments[0].size", NULL, 15}, {ISFALSE, "mime_truncated"}}},
    {"a single image as the whole message",
	HDR "Subject: photo\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n"
	"/9j/4AAQSkZJRgABAQ==\n",
	{{EQ, "text", ""}, {EQ, "text_from", "none"}, {LEN, "attachments", NULL, 1},
	    {EQ, "attachments[0].filename", "image.jpg"}, {EQ, "subject", "photo"}}},
    {"S/MIME encrypted (application/pkcs7-mime, enveloped-data)",
	HDR "Subject: secret\n"
	"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\n"
	"Content-Disposition: attachment; filename=\"smime.p7m\"\n"
	"Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\n",
	{{EQ, "text", ""}, {EQ, "text_from", "none"}, {EQ, "encrypted", "smime"},
	    {LEN, "attachments", NULL, 1}, {EQ, "attachments[0].filename", "smime.p7m"}}},
    {"S/MIME signed-data is not encrypted",
	HDR "Subject: signed opaque\n"
	"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=\"smime.p7m\"\n"
	"Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\n",
	{{EQ, "text", ""}, {ISNULL, "encrypted"}, {LEN, "attachments", NULL, 1}}},
    {"PGP/MIME encrypted (multipart/encrypted)",
	HDR "Subject: pgp\n"
	"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"e\"\n\n"
	"--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
	"--e\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n"
	"-----BEGIN PGP MESSAGE-----\n\nhQEMA1x2\n-----END PGP MESSAGE-----\n--e--\n",
	{{EQ, "text", ""}, {EQ, "text_from", "none"}, {EQ, "encrypted", "pgp"},
	    {LEN, "attachments", NULL, 2}, {EQ, "attachments[1].filename", "encrypted.asc"}}},
    {"inline PGP message in a text part",
	HDR "Subject: inline pgp\n\n-----BEGIN PGP MESSAGE-----\n\nhQEMA1x2\n"
	"-----END PGP MESSAGE-----\n",
	{{PREFIX, "text", "-----BEGIN PGP MESSAGE-----"}, {EQ, "text_from", "plain"},
	    {EQ, "encrypted", "pgp"}, {LEN, "attachments", NULL, 0}}},
    {"signed only (multipart/signed, PGP): the signed text is the body",
	HDR "Subject: signed\n"
	"Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\";"
	" boundary=\"s\"\n\n"
	"--s\nContent-Type: text/plain; charset=utf-8\n\nSigned hello.\n"
	"--s\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n"
	"-----BEGIN PGP SIGNATURE-----\n\niQEz\n-----END PGP SIGNATURE-----\n--s--\n",
	{{EQ, "text", "Signed hello."}, {EQ, "text_from", "plain"}, {ISNULL, "encrypted"},
	    {LEN, "attachments", NULL, 1}, {EQ, "attachments[0].filename", "signature.asc"}}},
    {"signed only (S/MIME): the signature is an attachment",
	HDR "Subject: smime signed\n"
	"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;"
	" boundary=\"s\"\n\n"
	"--s\nContent-Type: text/plain\n\nHello from Outlook.\n"
	"--s\nContent-Type: application/pkcs7-signature\nContent-Transfer-Encoding: base64\n\n"
	"MIAGCSqGSIb3DQEHAqCAMIACAQEx\n--s--\n",
	{{EQ, "text", "Hello from Outlook."}, {ISNULL, "encrypted"}, {LEN, "attachments", NULL, 1},
	    {PREFIX, "attachments[0].filename", "attachment-"},
	    {HAS, "attachments[0].filename", ".p7s"}}},
    {"calendar invitation only (text/calendar)",
	HDR "Subject: Invitation: call\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\n\n"
	"BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nSUMMARY:call\nEND:VEVENT\nEND:VCALENDAR\n",
	{{EQ, "text", ""}, {EQ, "text_from", "none"}, {LEN, "attachments", NULL, 1},
	    {EQ, "attachments[0].content_type", "text/calendar"},
	    {HAS, "attachments[0].filename", ".ics"}}},
    {"calendar invitation beside a text part",
	HDR "Subject: Invitation\nContent-Type: multipart/alternative; boundary=\"a\"\n\n"
	"--a\nContent-Type: text/plain\n\nYou are invited.\n"
	"--a\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n--a--\n",
	{{EQ, "text", "You are invited."}, {LEN, "attachments", NULL, 1},
	    {EQ, "attachments[0].content_type", "text/calendar"}}},
    {"empty body",
	HDR "Subject: nothing\n\n",
	{{EQ, "text", ""}, {EQ, "text_from", "plain"}, {LEN, "attachments", NULL, 0},
	    {ISFALSE, "text_truncated"}}},
    {"C1 control characters leave subject, names and file names",
	"From: =?utf-8?B?QWxpY2XChUV2aWw=?= <alice@example.org>\n"
	"Subject: =?utf-8?B?SGVsbG/Cm1sySndvcmxk?=\n"
	"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
	"--b\nContent-Type: text/plain; charset=utf-8\n\nA\xc2\x9b" "31mB\n"
	"--b\nContent-Type: application/octet-stream\n"
	"Content-Disposition: attachment; filename*=utf-8''a%C2%85b.txt\n\nx\n--b--\n",
	{{EQ, "subject", "Hello [2Jworld"}, {EQ, "from[0].name", "Alice Evil"},
	    {EQ, "attachments[0].filename", "a b.txt"}, {EQ, "text", "A 31mB"}}},
};

/* diag_got - "got: VALUE" on one line */
static void diag_got(const char *s)
{
    g_autofree char *shown = s ? g_strescape(s, NULL) : NULL;

    diag("got: %s", shown ? shown : "(not a string)");
}

static void run_check(json_t *env, const struct env_case *c, const struct check *k)
{
    json_t *v = jpath(env, k->path);
    const char *s = json_string_value(v);
    g_autofree char *want = k->s ? g_strescape(k->s, NULL) : NULL;	/* for the test name */

    switch (k->op) {
    case END:
	break;
    case EQ:
	is_str(s, k->s, "%s: %s", c->name, k->path);
	break;
    case HAS:
	has_str(s, k->s, "%s: %s has '%s'", c->name, k->path, want);
	break;
    case LACKS:
	if (!ok(s != NULL && strstr(s, k->s) == NULL, "%s: %s lacks '%s'", c->name, k->path, want))
	    diag_got(s);
	break;
    case PREFIX:
	if (!ok(s != NULL && g_str_has_prefix(s, k->s), "%s: %s starts with '%s'", c->name,
		k->path, want))
	    diag_got(s);
	break;
    case INT:
	if (!ok(json_is_integer(v), "%s: %s is an integer", c->name, k->path))
	    break;
	is_int(json_integer_value(v), k->n, "%s: %s = %lld", c->name, k->path, k->n);
	break;
    case ISNULL:
	ok(json_is_null(v), "%s: %s is null", c->name, k->path);
	break;
    case ISTRUE:
	ok(json_is_true(v), "%s: %s is true", c->name, k->path);
	break;
    case ISFALSE:
	ok(json_is_false(v), "%s: %s is false", c->name, k->path);
	break;
    case LEN:
	if (!is_int(json_is_array(v) ? (long long) json_array_size(v) : -1, k->n,
		    "%s: %s has %lld entries", c->name, k->path, k->n) && v) {
	    char   *d = json_dumps(v, JSON_COMPACT);

	    diag("got: %s", d ? d : "?");
	    free(d);
	}
	break;
    case MAXLEN:
	ok(s && strlen(s) <= (size_t) k->n, "%s: %s is at most %lld bytes", c->name, k->path, k->n);
	break;
    case ISSTR:
	ok(json_is_string(v), "%s: %s is a string", c->name, k->path);
	break;
    }
}

static void test_table(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(env_cases); i++) {
	const struct env_case *c = &env_cases[i];
	json_t *env = build(c->raw, NULL);
	json_t *back;

	if (!ok(env != NULL, "%s: envelope built", c->name))
	    continue;
	for (const struct check *k = c->checks; k->op != END; k++)
	    run_check(env, c, k);
	back = roundtrip(env);
	ok(back != NULL && json_equal(back, env), "%s: envelope_decode() gives it back", c->name);
	json_decref(back);
	json_decref(env);
    }
}

/* ---------------------------------------------------------------- */
/*	Cases that need their own input or limits			    */
/* ---------------------------------------------------------------- */

static void test_nul_bytes(void)
{
    static const char raw[] = "From: alice@example.org\nSubject: nul\n\nbefore\0after\n";
    json_t *env = build_len(raw, sizeof(raw) - 1, NULL);
    const char *text = jpath_str(env, "text");

    ok(json_is_string(json_object_get(env, "subject")), "NUL bytes: envelope built");
    has_str(text, "before", "NUL bytes: text before the NUL kept");
    has_str(text, "after", "NUL bytes: text after the NUL kept");
    is_int(json_integer_value(json_object_get(env, "raw_size")), sizeof(raw) - 1,
	   "NUL bytes: raw keeps every byte");
    json_decref(env);
}

static void test_empty(void)
{
    json_t *env = build_len("", 0, NULL);
    json_t *back;

    if (!ok(env != NULL, "empty input: envelope built"))
	return;
    is_str(jpath_str(env, "subject"), "", "empty input: subject is empty");
    is_str(jpath_str(env, "text"), "", "empty input: text is empty");
    is_str(jpath_str(env, "text_from"), "none", "empty input: text_from none");
    ok(json_is_null(json_object_get(env, "message_id")), "empty input: no message_id");
    is_int(json_array_size(json_object_get(env, "from")), 0, "empty input: no From");
    is_int(json_integer_value(json_object_get(env, "size")), 0, "empty input: size 0");
    is_int(envelope_raw_size(env), 0, "empty input: raw_size 0");
    ok(json_object_get(env, "raw") == NULL, "empty input: the original is not in the JSON");
    back = roundtrip(env);
    ok(back != NULL, "empty input: envelope_decode() accepts it");
    json_decref(back);
    json_decref(env);
}

static void test_huge_subject(void)
{
    GString *raw = g_string_new("From: alice@example.org\nSubject: ");
    json_t *env;
    const char *s;

    for (int i = 0; i < 50000; i++)
	g_string_append(raw, "\xc3\xa9");		/* 2 bytes each */
    g_string_append(raw, "\n\nbody\n");
    env = build(raw->str, NULL);
    s = jpath_str(env, "subject");
    ok(s != NULL && strlen(s) > 1000 && strlen(s) <= 2000,
       "huge subject: cut to at most 2000 bytes (got %zu)", s ? strlen(s) : 0);
    ok(s != NULL && g_utf8_validate(s, -1, NULL) && strlen(s) % 2 == 0,
       "huge subject: cut at a character boundary");
    is_str(jpath_str(env, "text"), "body\n", "huge subject: body still found");
    json_decref(env);
    g_string_free(raw, TRUE);
}

static void test_text_limit(void)
{
    struct envelope_limits lim = default_limits();
    GString *raw = g_string_new("From: alice@example.org\nSubject: long\n\n");
    json_t *env;
    const char *t;

    for (int i = 0; i < 1000; i++)
	g_string_append(raw, "\xe2\x82\xac");		/* 3 bytes each */
    lim.max_text = 100;
    env = build(raw->str, &lim);
    t = jpath_str(env, "text");
    ok(t && strlen(t) <= 100 && strlen(t) >= 97, "text limit: text cut to max_text (got %zu)",
       t ? strlen(t) : 0);
    ok(t && g_utf8_validate(t, -1, NULL) && strlen(t) % 3 == 0,
       "text limit: cut at a character boundary");
    ok(json_is_true(json_object_get(env, "text_truncated")), "text limit: text_truncated");
    json_decref(env);

    lim.max_text = 3000;
    env = build(raw->str, &lim);
    ok(json_is_false(json_object_get(env, "text_truncated")),
       "text limit: exactly max_text bytes is not truncated");
    is_int(strlen(jpath_str(env, "text")), 3000, "text limit: all 3000 bytes kept");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* The same for text made from HTML. */
    raw = g_string_new("From: alice@example.org\nSubject: long\nContent-Type: text/html\n\n<p>");
    for (int i = 0; i < 500; i++)
	g_string_append(raw, "word ");
    g_string_append(raw, "</p>\n");
    lim.max_text = 100;
    env = build(raw->str, &lim);
    t = jpath_str(env, "text");
    ok(t && strlen(t) <= 100, "text limit: HTML text cut to max_text (got %zu)", t ? strlen(t) : 0);
    ok(json_is_true(json_object_get(env, "text_truncated")), "text limit: HTML text_truncated");
    is_str(jpath_str(env, "text_from"), "html", "text limit: text from html");
    json_decref(env);
    g_string_free(raw, TRUE);
}

static void test_attachment_limit(void)
{
    struct envelope_limits lim = default_limits();
    GString *raw = g_string_new(HDR "Subject: many\n"
				"Content-Type: multipart/mixed; boundary=\"b\"\n\n"
				"--b\nContent-Type: text/plain\n\nBody.\n");
    json_t *env;

    for (int i = 0; i < 5; i++)
	g_string_append_printf(raw, "--b\nContent-Type: application/octet-stream\n"
			       "Content-Disposition: attachment; filename=\"f%d.bin\"\n\n%d\n", i, i);
    g_string_append(raw, "--b--\n");

    lim.max_attachments = 2;
    env = build(raw->str, &lim);
    is_int(json_array_size(json_object_get(env, "attachments")), 2,
	   "max_attachments 2 of 5: two kept");
    is_str(jpath_str(env, "attachments[1].filename"), "f1.bin", "max_attachments: the first ones kept");
    ok(json_is_true(json_object_get(env, "attachments_truncated")),
       "max_attachments: attachments_truncated");
    json_decref(env);

    lim.max_attachments = 5;
    env = build(raw->str, &lim);
    is_int(json_array_size(json_object_get(env, "attachments")), 5, "max_attachments 5 of 5: all kept");
    ok(json_is_false(json_object_get(env, "attachments_truncated")),
       "max_attachments 5 of 5: not truncated");
    json_decref(env);

    lim.max_attachments = 0;
    env = build(raw->str, &lim);
    is_int(json_array_size(json_object_get(env, "attachments")), 0, "max_attachments 0: none kept");
    ok(json_is_true(json_object_get(env, "attachments_truncated")), "max_attachments 0: truncated");
    is_str(jpath_str(env, "text"), "Body.", "max_attachments 0: text still there");
    json_decref(env);
    g_string_free(raw, TRUE);
}

static void test_raw_limit(void)
{
    struct envelope_limits lim = default_limits();
    GString *raw = g_string_new("From: alice@example.org\nSubject: raw\n\n");
    json_t *env;

    while (raw->len < 500)
	g_string_append(raw, "0123456789\n");
    lim.max_raw = 100;
    env = build(raw->str, &lim);
    ok(json_is_true(json_object_get(env, "raw_truncated")), "raw limit: raw_truncated");
    is_int(json_integer_value(json_object_get(env, "raw_size")), 100, "raw limit: raw_size = max_raw");
    is_int(json_integer_value(json_object_get(env, "size")), raw->len, "raw limit: size is the whole");
    ok(json_is_false(json_object_get(env, "truncated")), "raw limit: the message itself was whole");
    is_int(envelope_raw_size(env), 100, "raw limit: envelope_raw_size() = max_raw");
    is_str(jpath_str(env, "subject"), "raw", "raw limit: parsed from the whole message");
    json_decref(env);

    lim.max_raw = raw->len;
    env = build(raw->str, &lim);
    ok(json_is_false(json_object_get(env, "raw_truncated")), "raw limit: exactly max_raw is whole");
    json_decref(env);

    /* The milter held only part of a bigger message. */
    {
	static const char *const rcpts[] = {"support@example.com"};
	static const struct mailbox *const matched[] = {&mb_support};
	struct envelope_input in = {
	    .sender = "", .recipients = rcpts, .matched = matched, .n_recipients = 1,
	    .raw = raw->str, .raw_len = 200, .message_size = 5000000,
	};

	lim = default_limits();
	env = envelope_build(&in, &lim);
	is_int(json_integer_value(json_object_get(env, "size")), 5000000, "cut message: size as received");
	is_int(json_integer_value(json_object_get(env, "raw_size")), 200, "cut message: raw_size as held");
	ok(json_is_true(json_object_get(env, "truncated")), "cut message: truncated");
	ok(json_is_true(json_object_get(env, "raw_truncated")), "cut message: raw_truncated");
	is_str(jpath_str(env, "sender"), "", "null sender is \"\"");
	json_decref(env);
    }
    g_string_free(raw, TRUE);
}

static void test_two_mailboxes(void)
{
    static const char *const rcpts[] = {"support@example.com", "Sales@Example.com",
	"help+x@example.com", "stranger@example.net"};
    static const struct mailbox *const matched[] = {&mb_support, &mb_sales, &mb_support, NULL};
    static const char raw[] = "From: alice@example.org\nSubject: two\n\nbody\n";
    struct envelope_limits lim = default_limits();
    struct envelope_input in = {
	.sender = "alice@example.org", .recipients = rcpts, .matched = matched,
	.n_recipients = 4, .raw = raw, .raw_len = sizeof(raw) - 1, .message_size = sizeof(raw) - 1,
    };
    json_t *env = envelope_build(&in, &lim);
    char   *d = json_dumps(json_object_get(env, "mailboxes"), JSON_COMPACT | JSON_SORT_KEYS);

    is_int(json_array_size(json_object_get(env, "recipients")), 4, "two mailboxes: all 4 recipients");
    is_str(d, "[{\"name\":\"support\",\"recipients\":[\"support@example.com\",\"help+x@example.com\"]},"
	   "{\"name\":\"sales\",\"recipients\":[\"Sales@Example.com\"]}]",
	   "two mailboxes: one entry per mailbox, recipients grouped, unmatched left out");
    free(d);
    json_decref(env);

    /* No recipient matched: the worker must refuse it. */
    in.matched = (const struct mailbox *const[]) {NULL, NULL, NULL, NULL};
    env = envelope_build(&in, &lim);
    d = json_dumps(env, JSON_COMPACT);
    {
	char   *why = NULL;
	json_t *back = envelope_decode(d, strlen(d), &why);

	ok(back == NULL && why && strstr(why, "mailbox"), "no matched mailbox: envelope_decode refuses (%s)",
	   why ? why : "accepted");
	json_decref(back);
	g_free(why);
    }
    free(d);
    json_decref(env);
}

static void test_dedupe(void)
{
    static const char a[] =
	"Received: from a.example.org by mx1.example.com; Tue, 2 Jan 2024 10:00:01 +0100\n"
	"From: alice@example.org\nSubject: dup\nDate: Tue, 02 Jan 2024 10:00:00 +0100\n"
	"Message-ID: <dup@example.org>\n\nsame body\n";
    static const char b[] =
	"Received: from b.example.org by mx2.example.com; Tue, 2 Jan 2024 10:03:17 +0100\n"
	"Received: from a.example.org by b.example.org; Tue, 2 Jan 2024 10:00:01 +0100\n"
	"From: alice@example.org\nSubject: dup\nDate: Tue, 02 Jan 2024 10:00:00 +0100\n"
	"Message-ID: <dup@example.org>\n\nsame body\n";
    static const char c[] =
	"Received: from a.example.org by mx1.example.com; Tue, 2 Jan 2024 10:00:01 +0100\n"
	"From: alice@example.org\nSubject: dup\nDate: Tue, 02 Jan 2024 10:00:00 +0100\n"
	"Message-ID: <dup@example.org>\n\nanother body\n";
    json_t *ea = build(a, NULL), *eb = build(b, NULL), *ec = build(c, NULL);
    const char *ka = jpath_str(ea, "dedupe_key"), *kb = jpath_str(eb, "dedupe_key"),
	*kc = jpath_str(ec, "dedupe_key");

    ok(ka && strlen(ka) == 64, "dedupe_key is a SHA-256 in hex");
    is_str(kb, ka, "dedupe_key: same message, different Received headers: equal");
    ok(ka && kc && strcmp(ka, kc) != 0, "dedupe_key: different bodies: different");
    is_str(jpath_str(eb, "body_sha256"), jpath_str(ea, "body_sha256"),
	   "body_sha256: equal for the same body");
    ok(strcmp(jpath_str(ea, "id"), jpath_str(eb, "id")) != 0, "id: every envelope has its own");
    json_decref(ea);
    json_decref(eb);
    json_decref(ec);
}

static void test_decode(void)
{
    static const char raw[] = HDR "Subject: round trip\nIn-Reply-To: <x@y.example>\n\nbody\n";
    json_t *env = build(raw, NULL);
    char   *text = json_dumps(env, JSON_COMPACT);
    char   *why = NULL;
    json_t *back = envelope_decode(text, strlen(text), &why);

    ok(back != NULL && json_equal(back, env), "decode: round trip of a built envelope");
    json_decref(back);

    /* The original travels beside the JSON: all of it is kept. */
    {
	GMimeMessage *msg = envelope_raw_message(raw, envelope_raw_size(env));

	is_int(envelope_raw_size(env), sizeof(raw) - 1, "envelope_raw_size: the whole message");
	ok(msg != NULL, "envelope_raw_message: parses the original");
	is_str(msg ? g_mime_message_get_subject(msg) : NULL, "round trip",
	       "envelope_raw_message: its subject");
	ok(envelope_raw_message(NULL, 0) == NULL, "envelope_raw_message: NULL without one");
	if (msg)
	    g_object_unref(msg);
    }
    free(text);

    static const struct {
	const char *name;
	const char *text;		/* NULL: from the built envelope, changed */
	const char *del;		/* member to delete */
	const char *set_v;		/* "v" replaced by this JSON */
	const char *why;		/* part of the reason */
    } bad[] = {
	{"not JSON", "{\"v\": 1, ", NULL, NULL, "not JSON"},
	{"empty text", "", NULL, NULL, "not JSON"},
	{"not an object", "[1, 2, 3]", NULL, NULL, "not a JSON object"},
	{"wrong version", NULL, NULL, "3", "version 3 is not 1 to 2"},
	{"version as a string", NULL, NULL, "\"1\"", "version"},
	{"missing version", NULL, "v", NULL, "version"},
	{"missing subject", NULL, "subject", NULL, "'subject'"},
	{"missing dedupe_key", NULL, "dedupe_key", NULL, "'dedupe_key'"},
	{"missing mailboxes", NULL, "mailboxes", NULL, "'mailboxes'"},
	{"missing attachments", NULL, "attachments", NULL, "'attachments'"},
	{"subject not a string", NULL, NULL, NULL, "'subject'"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
	char   *t;

	if (bad[i].text) {
	    t = g_strdup(bad[i].text);
	} else {
	    json_t *copy = json_deep_copy(env);
	    char   *j;

	    if (bad[i].del)
		json_object_del(copy, bad[i].del);
	    else if (bad[i].set_v)
		json_object_set_new(copy, "v", json_loads(bad[i].set_v, JSON_DECODE_ANY, NULL));
	    else
		json_object_set_new(copy, "subject", json_integer(5));
	    j = json_dumps(copy, JSON_COMPACT);
	    t = g_strdup(j);
	    free(j);
	    json_decref(copy);
	}
	why = NULL;
	back = envelope_decode(t, strlen(t), &why);
	ok(back == NULL, "decode rejects: %s", bad[i].name);
	has_str(why, bad[i].why, "decode rejects: %s: the reason says so", bad[i].name);
	json_decref(back);
	g_free(why);
	g_free(t);
    }
    json_decref(env);
}

static void test_limits_from_config(void)
{
    const char *path = "conf/intake.conf";
    GPtrArray *errors = NULL;
    struct intake_config *cfg;
    struct envelope_limits lim;

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
	skip("conf/intake.conf not found (run from the project root)");
	return;
    }
    cfg = config_load(path, &errors);
    g_ptr_array_free(errors, TRUE);
    if (!ok(cfg != NULL, "limits: conf/intake.conf loads"))
	return;
    envelope_limits_from_config(&lim, cfg);
    is_int(lim.max_text, cfg->max_text_size, "limits: max_text from max_text_size");
    is_int(lim.max_raw, cfg->raw_max_size, "limits: max_raw from raw_max_size");
    is_int(lim.max_attachments, cfg->max_attachments, "limits: max_attachments");
    ok(lim.raw_headers == (const char *const *) cfg->raw_headers, "limits: raw_headers");
    config_free(cfg);
}

/* ---------------------------------------------------------------- */
/*	Hostile input: cut where it should be, and marked		    */
/* ---------------------------------------------------------------- */

/*
 * cpu_seconds - CPU time of this process so far. The hostile cases print
 * what they took (diagnostics, not assertions: speed and memory goals
 * live in make bench, parts 4 and 5); what they assert is the shape of
 * the result (cut where the limits say, marked, the rest kept).
 */
static double cpu_seconds(void)
{
    return (double) clock() / CLOCKS_PER_SEC;
}

static gboolean has_warning(json_t *env, const char *text)
{
    json_t *w;
    size_t  i;

    json_array_foreach(json_object_get(env, "warnings"), i, w) {
	if (strstr(envelope_str(w, "item"), text))
	    return TRUE;
    }
    return FALSE;
}

/* append_parts - n attachments p0.bin ... of the multipart of boundary b, and its end */
static void append_parts(GString *raw, int n, const char *b)
{
    for (int i = 0; i < n; i++)
	g_string_append_printf(raw, "--%s\nContent-Type: application/octet-stream\n"
			       "Content-Disposition: attachment; filename=\"p%d.bin\"\n\n%d\n",
			       b, i, i);
    g_string_append_printf(raw, "--%s--\n", b);
}

static void test_many_parts(void)
{
    struct envelope_limits lim = default_limits();
    GString *raw = g_string_new(HDR "Subject: parts\n"
				"Content-Type: multipart/mixed; boundary=\"b\"\n\n"
				"--b\nContent-Type: text/plain\n\nBody.\n");
    double  t0;
    json_t *env;

    for (int i = 0; i < 1000000; i++)
	g_string_append(raw, "--b\n\n");
    g_string_append(raw, "--b--\n");
    t0 = cpu_seconds();
    env = build_len(raw->str, raw->len, &lim);
    diag("a million empty parts: built in linear time (%.2f s CPU)",
       cpu_seconds() - t0);
    ok(json_is_true(json_object_get(env, "mime_truncated")), "a million empty parts: mime_truncated");
    ok(has_warning(env, "max_mime_parts"), "a million empty parts: a warning names max_mime_parts");
    is_str(jpath_str(env, "text"), "Body.", "a million empty parts: the text is there");
    is_int(json_integer_value(json_object_get(env, "size")), (long long) raw->len,
	   "a million empty parts: size is all of it");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* The cut is at part max_parts + 1: exactly max_parts are parsed. */
    raw = g_string_new(HDR "Subject: parts\nContent-Type: multipart/mixed; boundary=\"b\"\n\n");
    append_parts(raw, 30, "b");
    lim.max_parts = 10;
    env = build(raw->str, &lim);
    is_int(json_array_size(json_object_get(env, "attachments")), 10,
	   "max_mime_parts 10 of 30: ten parts parsed");
    is_str(jpath_str(env, "attachments[9].filename"), "p9.bin", "max_mime_parts: the first ones");
    ok(json_is_true(json_object_get(env, "mime_truncated")), "max_mime_parts 10 of 30: mime_truncated");
    json_decref(env);
    /* Lines that look like boundaries of a part that is not a multipart are text. */
    {
	GString *text = g_string_new(HDR "Subject: dashes\nContent-Type: text/plain; boundary=\"x\"\n\n");
	json_t *e;

	for (int i = 0; i < 30; i++)
	    g_string_append(text, "--x\n");
	e = build(text->str, &lim);
	ok(json_is_false(json_object_get(e, "mime_truncated")),
	   "max_mime_parts: '--x' lines of a text/plain part are not parts");
	json_decref(e);
	g_string_free(text, TRUE);
    }
    lim.max_parts = 30;
    env = build(raw->str, &lim);
    is_int(json_array_size(json_object_get(env, "attachments")), 30,
	   "max_mime_parts 30 of 30: all parsed");
    ok(json_is_false(json_object_get(env, "mime_truncated")),
       "max_mime_parts 30 of 30: not mime_truncated");
    json_decref(env);
    g_string_free(raw, TRUE);
}

static void test_deep_nesting(void)
{
    struct envelope_limits lim = default_limits();
    GString *raw = g_string_new(HDR "Subject: deep\n");
    json_t *env;

    for (int i = 0; i < 5000; i++)
	g_string_append_printf(raw, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
    g_string_append(raw, "Content-Type: text/plain\n\nDeep inside.\n");
    env = build(raw->str, &lim);
    ok(json_is_true(json_object_get(env, "mime_truncated")), "5000 nested multiparts: mime_truncated");
    ok(has_warning(env, "max_mime_depth"), "5000 nested multiparts: a warning names max_mime_depth");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* Attached messages nest too. */
    raw = g_string_new(HDR "Subject: deep messages\n");
    for (int i = 0; i < 5000; i++)
	g_string_append(raw, "Content-Type: message/rfc822\n\nSubject: inner\n");
    g_string_append(raw, "\nInnermost.\n");
    env = build(raw->str, &lim);
    ok(json_is_true(json_object_get(env, "mime_truncated")), "5000 nested messages: mime_truncated");
    is_str(jpath_str(env, "subject"), "deep messages", "5000 nested messages: the outer subject");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* Within the limit nothing is cut. */
    raw = g_string_new(HDR "Subject: nested\n");
    for (int i = 0; i < 5; i++)
	g_string_append_printf(raw, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
    g_string_append(raw, "Content-Type: text/plain\n\nFive deep.\n");
    for (int i = 4; i >= 0; i--)
	g_string_append_printf(raw, "--b%d--\n", i);
    lim.max_depth = 5;
    env = build(raw->str, &lim);
    ok(json_is_false(json_object_get(env, "mime_truncated")), "5 nested of max 5: not cut");
    is_str(jpath_str(env, "text"), "Five deep.", "5 nested of max 5: the text");
    json_decref(env);
    lim.max_depth = 4;
    env = build(raw->str, &lim);
    ok(json_is_true(json_object_get(env, "mime_truncated")), "5 nested of max 4: cut");
    json_decref(env);
    g_string_free(raw, TRUE);
}

static void test_encoded_word_flood(void)
{
    GString *raw = g_string_new("From: alice@example.org\n");
    double  t0;
    json_t *env;

    /* 2 MB of unterminated encoded words: quadratic in GMime 3.2.13. */
    for (int f = 0; f < 20; f++) {
	g_string_append(raw, "To: ");
	for (int i = 0; i < 15000; i++)
	    g_string_append(raw, "=?a?B? ");
	g_string_append(raw, "\n");
    }
    g_string_append(raw, "Subject: flood\n\nhi\n");
    t0 = cpu_seconds();
    env = build(raw->str, NULL);
    diag("2 MB of encoded words in To: linear time (%.2f s CPU)",
       cpu_seconds() - t0);
    ok(json_is_array(json_object_get(env, "to")), "encoded-word flood: to is a list");
    has_str(jpath_str(env, "text"), "hi", "encoded-word flood: the text is there");
    ok(json_is_true(json_object_get(env, "mime_truncated")) && has_warning(env, "header fields"),
       "encoded-word flood: over 1 MB, the rest of the header is dropped, and it says so");
    {
	json_t *back = roundtrip(env);

	ok(back != NULL, "encoded-word flood: envelope_decode() accepts it");
	json_decref(back);
    }
    json_decref(env);
    g_string_free(raw, TRUE);

    /* The same in a part's header (a file name) and an attached message's. */
    raw = g_string_new(HDR "Subject: part flood\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
		       "--b\nContent-Type: text/plain\n\nBody.\n"
		       "--b\nContent-Type: application/octet-stream\n"
		       "Content-Disposition: attachment; filename=\"");
    for (int i = 0; i < 14000; i++)	/* 98 KB: a field the parser sees whole */
	g_string_append(raw, "=?a?B? ");
    g_string_append(raw, ".txt\"\n\nx\n--b\nContent-Type: message/rfc822\n\nSubject: ");
    for (int i = 0; i < 14000; i++)
	g_string_append(raw, "=?a?B? ");
    g_string_append(raw, "\n\ninner\n--b--\n");
    t0 = cpu_seconds();
    env = build(raw->str, NULL);
    diag("encoded words in part headers: linear time (%.2f s CPU)",
       cpu_seconds() - t0);
    is_str(jpath_str(env, "text"), "Body.", "encoded words in part headers: the text");
    is_int(json_array_size(json_object_get(env, "attachments")), 2,
	   "encoded words in part headers: both attachments listed");
    ok(json_is_false(json_object_get(env, "mime_truncated")),
       "encoded words in part headers: under 1 MB nothing is dropped");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* Words that do end are decoded as before, next to the flood. */
    raw = g_string_new("From: alice@example.org\nSubject: =?utf-8?B?R3LDvMOfZQ==?= =?a?B? =?a?B?\n\nx\n");
    env = build(raw->str, NULL);
    has_str(jpath_str(env, "subject"), "Grüße", "encoded-word flood: a real word still decoded");
    json_decref(env);
    g_string_free(raw, TRUE);
}

/*
 * Header text GMime would hold whole, several times over: the parser sees
 * at most 100 KB of a field, 1 MB and 10,000 fields of header in all,
 * 10,000 address separators, 200 parameters a field and 10,000 in all;
 * groups nest at most 8 deep. Full-size figures
 * (10 MB each) are in docs/design.md, from tests/tools/hostile-gen.py.
 */
static void test_header_bounds(void)
{
    GString *raw;
    json_t *env;
    GPtrArray *contents;
    double  t0;

    /* One Subject of 300 KB, no fold: cut, the rest of the mail is there. */
    raw = g_string_new(HDR "Subject: ");
    for (int i = 0; i < 300 * 1024; i++)
	g_string_append_c(raw, 'a');
    g_string_append(raw, "\nCc: bob@example.org\n\nhi\n");
    env = build(raw->str, NULL);
    ok(strlen(jpath_str(env, "subject")) == 2000, "long field: the subject, cut");
    is_str(jpath_str(env, "cc[0].address"), "bob@example.org",
	   "long field: the field after it is read");
    is_str(jpath_str(env, "text"), "hi\n", "long field: the text");
    ok(json_is_true(json_object_get(env, "mime_truncated")) && has_warning(env, "header fields"),
       "long field: cut, and the envelope says so");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* More fields than the parser takes, in a header without an end. */
    raw = g_string_new(HDR "Subject: many\n");
    for (int i = 0; i < 12000; i++)
	g_string_append(raw, "X-F: v\n");
    env = build(raw->str, NULL);
    is_str(jpath_str(env, "subject"), "many", "many fields: the first ones are read");
    ok(json_is_true(json_object_get(env, "mime_truncated")),
       "many fields: over 10,000, cut, and the envelope says so");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* Addresses: GMime parses them all when it reads the header. */
    raw = g_string_new(HDR "Subject: addresses\nCc: ");
    for (int i = 0; i < 12000; i++)
	g_string_append(raw, "a@b,");
    g_string_append(raw, "\n\nhi\n");
    t0 = cpu_seconds();
    env = build(raw->str, NULL);
    diag("addresses: linear time (%.2f s CPU)", cpu_seconds() - t0);
    is_int(json_array_size(json_object_get(env, "cc")), 500, "addresses: cc, at most 500");
    is_str(jpath_str(env, "to[0].address"), "support@example.com", "addresses: to, read");
    ok(json_is_true(json_object_get(env, "mime_truncated")), "addresses: over 10,000, cut");
    json_decref(env);
    g_string_free(raw, TRUE);
    raw = g_string_new(HDR "Reply-To: ");
    for (int i = 0; i < 9000; i++)
	g_string_append(raw, "g:");			/* groups in groups: GMime recurses */
    g_string_append(raw, "x@y\nSubject: groups\n\nhi\n");
    env = build(raw->str, NULL);
    is_str(jpath_str(env, "subject"), "groups", "groups 9,000 deep: no crash, the header read");
    ok(json_is_false(json_object_get(env, "mime_truncated")), "groups 9,000 deep: nothing cut");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* Past the 1 MB, a part's fields are left out, and nothing else changes. */
    raw = g_string_new(HDR "Subject: spent\nContent-Type: multipart/mixed; boundary=b\n");
    for (int f = 0; f < 12; f++) {
	g_string_append(raw, "X-Filler: ");
	for (int i = 0; i < 99 * 1024; i++)
	    g_string_append_c(raw, 'f');
	g_string_append_c(raw, '\n');
    }
    g_string_append(raw, "\n--b\nContent-Type: text/plain\nX-A: 1\nX-B: 2\n\nBody.\n--b--\n");
    env = build(raw->str, NULL);
    is_str(jpath_str(env, "text"), "Body.", "header budget spent: the part's text as it was");
    ok(json_is_true(json_object_get(env, "mime_truncated")), "header budget spent: it says so");
    json_decref(env);
    g_string_free(raw, TRUE);
    /* A digest's part without a Content-Type is an attached message: its header too. */
    raw = g_string_new(HDR "Subject: digest\nContent-Type: multipart/digest; boundary=b\n\n"
		       "--b\n\nSubject: inner\nTo: ");
    for (int i = 0; i < 12000; i++)
	g_string_append(raw, "a@b,");
    g_string_append(raw, "\n\nbody\n--b--\n");
    env = build(raw->str, NULL);
    is_str(jpath_str(env, "attachments[0].filename"), "inner.eml",
	   "digest: its part is an attached message");
    ok(json_is_true(json_object_get(env, "mime_truncated")),
       "digest: the attached message's header is bounded too");
    json_decref(env);
    g_string_free(raw, TRUE);
    /* Parameters: GMime compares each name with every other of its field. */
    raw = g_string_new(HDR "Subject: parameters\n");
    for (int f = 0; f < 10; f++) {
	g_string_append(raw, "Content-Type: text/plain");
	for (int i = 0; i < 3000; i++)
	    g_string_append_printf(raw, "; p%d=v", i);
	g_string_append_c(raw, '\n');
    }
    g_string_append(raw, "\nhi\n");
    t0 = cpu_seconds();
    env = build(raw->str, NULL);
    diag("parameters: 10 fields of 3,000, %.2f s CPU", cpu_seconds() - t0);
    is_str(jpath_str(env, "text"), "hi\n", "parameters: the text");
    ok(json_is_true(json_object_get(env, "mime_truncated")), "parameters: over 200 a field, cut");
    json_decref(env);
    g_string_free(raw, TRUE);
    /* A part's header over the bounds: the worker finds the same parts. */
    raw = g_string_new(HDR "Subject: part\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
		       "--b\nContent-Type: text/plain\n\nBody.\n"
		       "--b\nContent-Type: application/octet-stream; name=\"");
    for (int i = 0; i < 200 * 1024; i++)
	g_string_append_c(raw, 'n');
    g_string_append(raw, "\"\n\nONE\n--b\nContent-Type: application/octet-stream;"
		    " name=\"two.bin\"\n\nTWO\n--b--\n");
    env = build(raw->str, NULL);
    is_str(jpath_str(env, "text"), "Body.", "long part field: the text");
    is_str(jpath_str(env, "attachments[1].filename"), "two.bin",
	   "long part field: the attachment after it");
    contents = envelope_attachments(env, raw->str, raw->len);
    ok(contents && contents->len == 2 && g_ptr_array_index(contents, 1)
       && memcmp(g_bytes_get_data(g_ptr_array_index(contents, 1), NULL), "TWO", 3) == 0,
       "long part field: the worker reads the same attachments back");
    if (contents)
	g_ptr_array_unref(contents);
    json_decref(env);
    g_string_free(raw, TRUE);
}

/*
 * Encoded words that each name another charset: glibc loads and unloads
 * a converter module per word unless one of that charset stays open.
 */
static void test_charset_words(void)
{
    static const char *const words[] = {"=?iso-8859-1?q?caf=E9?=", "=?koi8-r?q?=C1?=",
	"=?windows-1251?q?=E0?=", "=?iso-8859-7?q?=E1?=", "=?x-no-such?q?x?="};
    GString *raw = g_string_new("From: alice@example.org\nSubject: ");
    json_t *env;
    double  t0;

    for (int i = 0; i < 4000; i++) {
	g_string_append(raw, words[i % G_N_ELEMENTS(words)]);
	g_string_append_c(raw, ' ');
    }
    g_string_append(raw, "\n\nbody\n");
    t0 = cpu_seconds();
    env = build(raw->str, NULL);
    diag("words in many charsets: %.2f s CPU", cpu_seconds() - t0);
    has_str(jpath_str(env, "subject"), "caf\xc3\xa9\xd0\xb0\xd0\xb0\xce\xb1",
	    "words in many charsets: each decoded from its charset");
    json_decref(env);
    g_string_free(raw, TRUE);
}

/*
 * HTML that libxml2 would buffer or stack without bound goes through a
 * lexer first (common/html.c): comments left out, tags cut at 16 KB,
 * script and style passed as they are, nesting deeper than 1024 stops.
 */
static void test_html_bounds(void)
{
    GString *html;
    char   *text;

    text = html_to_text("<p>a<!-- c <b>x</b> -->b<!---->c<!DOCTYPE x>d</p>", 50, 1000);
    is_str(text, "abcd", "html lexer: comments left out, the text around them kept");
    g_free(text);

    html = g_string_new("<p>a<!-- ");
    for (int i = 0; i < 100000; i++)
	g_string_append(html, "x - -> ");
    text = html_to_text(html->str, html->len, 1000);
    is_str(text, "a", "html lexer: a comment never closed hides the rest, as in a browser");
    g_free(text);
    g_string_free(html, TRUE);

    html = g_string_new("<p title=\"");
    for (int i = 0; i < 100000; i++)
	g_string_append(html, "a>'<");
    g_string_append(html, "\" class=x>after</p><p>more</p>");
    text = html_to_text(html->str, html->len, 1000);
    is_str(text, "after\n\nmore", "html lexer: a 400 KB attribute is cut, the text after it kept");
    g_free(text);
    g_string_free(html, TRUE);

    text = html_to_text("<script>if (a<b) x = '<!--';</SCRIPT >after<style>p{}</style>", 62,
			1000);
    is_str(text, "after", "html lexer: '<' and '<!--' in a script start nothing");
    g_free(text);

    /* Runs of text broken every 16 KB (common/html.c, TEXT_RUN): no entity or character split. */
    {
	GString *want = g_string_new(NULL);

	html = g_string_new("<p>");
	for (int i = 0; i < 20000; i++) {	/* 140 KB, white space every 7 KB */
	    g_string_append(html, i % 1000 == 999 ? "&amp;\xc3\xa9 " : "&amp;\xc3\xa9");
	    g_string_append(want, i % 1000 == 999 ? "&\xc3\xa9 " : "&\xc3\xa9");
	}
	for (int i = 0; i < 20000; i++) {	/* 120 KB without white space or an entity */
	    g_string_append(html, "\xe2\x82\xac\xc3\xa9x");
	    g_string_append(want, "\xe2\x82\xac\xc3\xa9x");
	}
	g_string_append(html, "</p>");
	text = html_to_text(html->str, html->len, 1024 * 1024);
	ok(text && strcmp(text, want->str) == 0, "html lexer: 260 KB of text without a tag comes"
	   " out whole: entities and characters intact (%zu bytes, want %zu)",
	   text ? strlen(text) : 0, want->len);
	g_free(text);
	g_string_free(html, TRUE);
	g_string_free(want, TRUE);
    }
    html = g_string_new("<p>a</p><script>");
    for (int i = 0; i < 100000; i++)		/* 1.2 MB of script */
	g_string_append(html, "if (a<b) x--;");
    g_string_append(html, "</script><p>after</p>");
    text = html_to_text(html->str, html->len, 1000);
    is_str(text, "a\n\nafter", "html lexer: 1.2 MB of script left out, the text after it kept");
    g_free(text);
    g_string_free(html, TRUE);

    html = g_string_new("<p>top</p>");
    for (int i = 0; i < 12000; i++)		/* more than one piece for the parser */
	g_string_append(html, "<b><i>");
    g_string_append(html, "deep");
    {
	struct html_text *h = html_text_new(1000);
	gboolean more = html_text_feed(h, html->str, html->len);

	text = html_text_finish(h);
	ok(!more, "html lexer: nesting deeper than 1024 stops the parser");
	is_str(text, "top", "html lexer: the text before it is kept");
	g_free(text);
    }
    g_string_free(html, TRUE);
}

/*
 * Boundaries the pre-scan must see to count parts: declared after 1 KB
 * of other parameters, in any of the forms GMime reads, or longer than
 * 1,000 characters.
 */
static void test_hidden_boundaries(void)
{
    struct envelope_limits lim = default_limits();
    GString *raw = g_string_new(HDR "Subject: hidden\nContent-Type: multipart/mixed; p=\"");
    json_t *env;

    for (int i = 0; i < 2000; i++)
	g_string_append_c(raw, 'a');
    g_string_append(raw, "\"; boundary=b\n\n--b\nContent-Type: text/plain\n\nBody.\n");
    append_parts(raw, 30, "b");
    lim.max_parts = 10;
    env = build(raw->str, &lim);
    is_int(json_array_size(json_object_get(env, "attachments")), 9,
	   "boundary after 2 KB of parameters: still max_mime_parts parts parsed");
    ok(has_warning(env, "max_mime_parts"), "boundary after 2 KB of parameters: it says so");
    json_decref(env);
    g_string_free(raw, TRUE);
    /* However the boundary is written, the pre-scan reads it as GMime does. */
    {
	static const char *const declared[][2] = {	/* the field, the boundary */
	    {"Content-Type: multipart/mixed; boundary*=us-ascii''b", "b"},	/* RFC 2231 */
	    {"Content-Type: multipart/mixed; boundary*0=b", "b"},
	    {"Content-Type : multipart/mixed; boundary=b", "b"},	/* blank before ':' */
	    {"Content-Type:\n multipart/mixed;\n boundary=b", "b"},	/* folded */
	    {"Content-Type: multipart/mixed; boundary = b", "b"},
	    {"Content-Type: multipart/mixed; boundary=\"=?us-ascii?q?b?=\"", "b"},	/* encoded */
	    {"content-type: Multipart/Mixed;\tBOUNDARY=\"b\"", "b"},
	    {"Content-Type: multipart/mixed; boundary=\"b  \"", "b  "},	/* white space */
	    {"Content-Type: multipart/mixed; boundary=\"\"", ""},
	    {"Content-Type: multipart/mixed; boundary=\"  \"", "  "},
	};

	char   *shown;

	for (gsize k = 0; k < G_N_ELEMENTS(declared); k++) {
	    raw = g_string_new(HDR "Subject: declared\n");
	    g_string_append_printf(raw, "%s\n\n--%s\nContent-Type: text/plain\n\nBody.\n",
				   declared[k][0], declared[k][1]);
	    append_parts(raw, 30, declared[k][1]);
	    env = build(raw->str, &lim);
	    shown = g_strescape(declared[k][0], NULL);
	    is_int(json_array_size(json_object_get(env, "attachments")), 9,
		   "boundary declared as '%s': max_mime_parts parts parsed", shown);
	    g_free(shown);
	    json_decref(env);
	    g_string_free(raw, TRUE);
	}
    }

    raw = g_string_new(HDR "Subject: long\nContent-Type: multipart/mixed; boundary=\"");
    for (int i = 0; i < 1100; i++)
	g_string_append_c(raw, 'B');
    g_string_append(raw, "\"\n\nno parts\n");
    env = build(raw->str, NULL);
    is_str(jpath_str(env, "subject"), "long", "boundary of 1,100 characters: the header read");
    ok(json_is_true(json_object_get(env, "mime_truncated")) && has_warning(env, "boundary longer"),
       "boundary of 1,100 characters: its content not parsed, and it says so");
    json_decref(env);
    g_string_free(raw, TRUE);
}

static void test_big_bodies(void)
{
    struct envelope_limits lim = default_limits();
    GString *raw = g_string_new("From: alice@example.org\nSubject: big\nContent-Type: text/html\n\n");
    json_t *env;
    const char *t;

    for (int i = 0; i < 100000; i++)		/* 4 MB */
	g_string_append(raw, "<p>hello <b>world</b> more text</p>\n");
    lim.max_text = 64 * 1024;
    env = build_len(raw->str, raw->len, &lim);
    t = jpath_str(env, "text");
    ok(t && strlen(t) <= lim.max_text && strlen(t) > lim.max_text / 2,
       "4 MB of HTML: text cut at max_text (%zu bytes)", t ? strlen(t) : 0);
    ok(json_is_true(json_object_get(env, "text_truncated")), "4 MB of HTML: text_truncated");
    has_str(t, "hello world more text", "4 MB of HTML: readable text");
    json_decref(env);
    g_string_free(raw, TRUE);

    raw = g_string_new("From: alice@example.org\nSubject: big\nContent-Transfer-Encoding: base64\n\n");
    for (int i = 0; i < 80000; i++)		/* 4 MB of base64 */
	g_string_append(raw, "cGxhaW4gdGV4dCBsaW5lIG9mIGEgbG9uZyBtYWlsIGJvZHkK\n");
    env = build_len(raw->str, raw->len, &lim);
    t = jpath_str(env, "text");
    ok(t && strlen(t) <= lim.max_text && strlen(t) > lim.max_text - 64,
       "4 MB of base64 text: text cut at max_text (%zu bytes)", t ? strlen(t) : 0);
    ok(json_is_true(json_object_get(env, "text_truncated")), "4 MB of base64 text: text_truncated");
    ok(t && g_str_has_prefix(t, "plain text line of a long mail body\n"),
       "4 MB of base64 text: decoded");
    json_decref(env);
    g_string_free(raw, TRUE);
}

/* filler_prologue - the prologue GMime keeps of msg's top multipart: its length */
static gsize filler_prologue(const char *raw, gsize len)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
    GMimeParserOptions *opts = g_mime_parser_options_new();
    struct mime_cut cut;
    GMimeMessage *msg = mime_parse(stream, opts, 1000, 20, &cut);
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    const char *p = top && GMIME_IS_MULTIPART(top)
	? g_mime_multipart_get_prologue(GMIME_MULTIPART(top)) : NULL;
    gsize   n = p ? strlen(p) : 0;

    if (msg)
	g_object_unref(msg);
    g_mime_parser_options_free(opts);
    g_object_unref(stream);
    return n;
}

/*
 * Text outside a multipart's parts (its prologue, its epilogue, all of a
 * multipart without a usable boundary) is held by GMime in memory: the
 * parser sees 2 MB of it in all (common/mime_parse.c, FILLER_MAX).
 */
static void test_filler_bound(void)
{
    GString *raw = g_string_new("From: alice@example.org\nSubject: filler\nMIME-Version: 1.0\n"
				"Content-Type: multipart/mixed; boundary=b\n\n");
    json_t *env;
    gsize   n;

    for (int i = 0; i < 100000; i++)		/* 3.2 MB of preamble */
	g_string_append(raw, "preamble words that go on and on\n");
    g_string_append(raw, "--b\nContent-Type: text/plain\n\nThe printer is on fire.\n"
		    "--b\nContent-Type: application/pdf; name=\"a.pdf\"\n\nPDF\n--b--\n");
    n = filler_prologue(raw->str, raw->len);
    ok(n > 1024 * 1024 && n <= 2 * 1024 * 1024, "3 MB of preamble: the parser keeps at most 2 MB"
       " of it (%zu bytes)", n);
    for (int i = 0; i < 100000; i++)		/* 3.2 MB of epilogue */
	g_string_append(raw, "epilogue words that go on and on\n");
    env = build_len(raw->str, raw->len, NULL);
    is_str(jpath_str(env, "text"), "The printer is on fire.",
	   "3 MB of preamble and epilogue: the part after the preamble is the text");
    is_int((long long) json_array_size(json_object_get(env, "attachments")), 1,
	   "3 MB of preamble and epilogue: the attachment after it listed");
    ok(json_is_true(json_object_get(env, "mime_truncated")),
       "3 MB of preamble and epilogue: mime_truncated");
    json_decref(env);
    g_string_free(raw, TRUE);

    /* Without a boundary: the parts found in the 2 MB kept (mime_repair.c). */
    raw = g_string_new("From: alice@example.org\nSubject: filler\nMIME-Version: 1.0\n"
		       "Content-Type: multipart/mixed\n\n--q\nContent-Type: text/plain\n\nHello.\n"
		       "--q\nContent-Type: text/csv; name=\"big.csv\"\n\n");
    for (int i = 0; i < 100000; i++)		/* 3.2 MB of one attachment */
	g_string_append(raw, "1,2,3,4,5,6,7,8,9,10,11,12,13,14\n");
    g_string_append(raw, "--q--\n");
    env = build_len(raw->str, raw->len, NULL);
    is_str(jpath_str(env, "text"), "Hello.", "3 MB without a boundary: the first part's text");
    ok(json_is_true(json_object_get(env, "mime_truncated")),
       "3 MB without a boundary: mime_truncated (the attachment is cut at 2 MB)");
    json_decref(env);
    g_string_free(raw, TRUE);
}

static void test_attachments_by_part(void)
{
    static const char raw[] = HDR "Subject: three\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
	"--b\nContent-Type: text/plain\n\nBody.\n"
	"--b\nContent-Type: application/octet-stream; name=\"one.bin\"\n\nONE\n"
	"--b\nContent-Type: application/octet-stream; name=\"two.bin\"\n\nTWO\n"
	"--b\nContent-Type: application/octet-stream; name=\"three.bin\"\n\nTHREE\n--b--\n";
    json_t *env = build(raw, NULL);
    GPtrArray *contents;
    gsize   n;

    /* A reader that dropped the first one still gets the right bytes for the others. */
    json_array_remove(json_object_get(env, "attachments"), 0);
    contents = envelope_attachments(env, raw, strlen(raw));
    if (ok(contents && contents->len == 2, "attachments by part: one content per listed attachment")) {
	const char *two = g_bytes_get_data(g_ptr_array_index(contents, 0), &n);

	ok(n >= 3 && memcmp(two, "TWO", 3) == 0, "attachments by part: the first listed is two.bin's");
	ok(g_ptr_array_index(contents, 1) != NULL
	   && memcmp(g_bytes_get_data(g_ptr_array_index(contents, 1), NULL), "THREE", 5) == 0,
	   "attachments by part: the second listed is three.bin's");
    }
    if (contents)
	g_ptr_array_unref(contents);
    /* A part the message does not have gets no content. */
    json_object_set_new(json_array_get(json_object_get(env, "attachments"), 0), "part",
			json_integer(99));
    contents = envelope_attachments(env, raw, strlen(raw));
    ok(contents && contents->len == 2 && g_ptr_array_index(contents, 0) == NULL,
       "attachments by part: no part 99, no content");
    if (contents)
	g_ptr_array_unref(contents);
    json_decref(env);
    /* A repaired multipart (mime_repair.c): the worker finds the part the milter listed. */
    {
	static const char bad[] = HDR "Subject: x\nContent-Type: multipart/mixed\n\n"
	    "--q\nContent-Type: text/plain\n\nBody.\n"
	    "--q\nContent-Type: application/octet-stream; name=\"one.bin\"\n\nONE\n--q--\n";

	env = build(bad, NULL);
	contents = envelope_attachments(env, bad, strlen(bad));
	ok(contents && contents->len == 1 && g_ptr_array_index(contents, 0)
	   && memcmp(g_bytes_get_data(g_ptr_array_index(contents, 0), NULL), "ONE", 3) == 0,
	   "attachments by part: a part of a repaired multipart is read back");
	if (contents)
	    g_ptr_array_unref(contents);
	json_decref(env);
    }
    /* The worker parses with the milter's limits: the parts listed, no more. */
    {
	struct envelope_limits lim = default_limits();
	GString *many = g_string_new(HDR "Subject: many\nContent-Type: multipart/mixed; boundary=b\n\n");

	append_parts(many, 30, "b");
	lim.max_parts = 10;
	env = build(many->str, &lim);
	is_int(json_integer_value(jpath(env, "mime_limits.parts")), 10,
	       "attachments by part: the envelope names the milter's max_mime_parts");
	contents = envelope_attachments(env, many->str, many->len);
	ok(contents && contents->len == 10 && g_ptr_array_index(contents, 9)
	   && memcmp(g_bytes_get_data(g_ptr_array_index(contents, 9), NULL), "9", 1) == 0,
	   "attachments by part: the worker reads back the ten the milter listed");
	if (contents)
	    g_ptr_array_unref(contents);
	json_decref(env);
	g_string_free(many, TRUE);
    }
}

static void run_unit(void)
{
    test_table();
    test_nul_bytes();
    test_empty();
    test_huge_subject();
    test_text_limit();
    test_attachment_limit();
    test_raw_limit();
    test_two_mailboxes();
    test_dedupe();
    test_decode();
    test_limits_from_config();
    test_many_parts();
    test_deep_nesting();
    test_encoded_word_flood();
    test_big_bodies();
    test_attachments_by_part();
    test_header_bounds();
    test_charset_words();
    test_filler_bound();
    test_html_bounds();
    test_hidden_boundaries();
}

/* ---------------------------------------------------------------- */
/*	Corpus								    */
/* ---------------------------------------------------------------- */

struct tally {
    const char *what;
    int     match, total;
    GPtrArray *misses;			/* "file: expected 'x', got 'y'" */
};

static void tally_add(struct tally *t, int matched, const char *file, const char *want,
		      const char *got)
{
    t->total++;
    if (matched)
	t->match++;
    else
	g_ptr_array_add(t->misses, g_strdup_printf("%s: expected '%s', got '%s'", file,
						   want ? want : "(none)", got ? got : "(none)"));
}

/*
 * same_text - want equals got, where a U+FFFD in want (the source parser
 * met a byte it could not decode) stands for any one character of got.
 */
static int same_text(const char *want, const char *got)
{
    if (!g_utf8_validate(want, -1, NULL) || !g_utf8_validate(got, -1, NULL))
	return strcmp(want, got) == 0;
    while (*want && *got) {
	gunichar w = g_utf8_get_char(want);

	if (w != 0xFFFD && w != g_utf8_get_char(got))
	    return 0;
	want = g_utf8_next_char(want);
	got = g_utf8_next_char(got);
    }
    return *want == 0 && *got == 0;
}

static char *trimmed(const char *s)
{
    return g_strstrip(g_strdup(s ? s : ""));
}

/* compare_expected - tally one parse/ expectation against its envelope */
static void compare_expected(const char *exp_path, const char *rel, json_t *env,
			     struct tally *subj, struct tally *from, struct tally *att)
{
    json_error_t jerr;
    json_t *exp = json_load_file(exp_path, 0, &jerr);
    json_t *fields = json_object_get(exp, "fields");
    json_t *v;

    if (!json_is_object(fields)) {
	diag("%s: cannot read expectations: %s", exp_path, jerr.text);
	json_decref(exp);
	return;
    }
    if ((v = json_object_get(fields, "subject")) != NULL && json_is_string(v)) {
	g_autofree char *want = trimmed(json_string_value(v));
	g_autofree char *got = trimmed(jpath_str(env, "subject"));

	tally_add(subj, same_text(want, got), rel, want, got);
    }
    if (json_array_size(v = json_object_get(fields, "from")) > 0) {
	const char *want = jpath_str(v, "[0].address");
	const char *got = jpath_str(env, "from[0].address");

	if (want)
	    tally_add(from, got && g_ascii_strcasecmp(want, got) == 0, rel, want, got);
    }
    if (json_is_array(v = json_object_get(fields, "attachments"))) {
	size_t  i;
	json_t *a;

	json_array_foreach(v, i, a) {
	    const char *want = json_string_value(json_object_get(a, "filename"));
	    json_t *envatt = json_object_get(env, "attachments");
	    int     found = 0;
	    size_t  j;
	    json_t *b;
	    GString *names;

	    if (json_is_true(json_object_get(a, "zammad_html_alternative_of_body")) || want == NULL)
		continue;
	    json_array_foreach(envatt, j, b) {
		const char *got = json_string_value(json_object_get(b, "filename"));

		if (got && same_text(want, got))
		    found = 1;
	    }
	    names = g_string_new(NULL);
	    json_array_foreach(envatt, j, b)
		g_string_append_printf(names, "%s%s", j ? ", " : "",
				  json_string_value(json_object_get(b, "filename")));
	    tally_add(att, found, rel, want, json_array_size(envatt) ? names->str : NULL);
	    g_string_free(names, TRUE);
	}
    }
    json_decref(exp);
}

static int report_tally(struct tally *t)
{
    double  pct = t->total ? 100.0 * t->match / t->total : 100.0;
    int     good = pct >= 95.0;

    printf("# %s: %d/%d (%.1f%%)\n", t->what, t->match, t->total, pct);
    for (guint i = 0; i < t->misses->len; i++)
	printf("#   mismatch %s\n", (const char *) g_ptr_array_index(t->misses, i));
    ok(good, "corpus: %s agree for at least 95%% (%d/%d)", t->what, t->match, t->total);
    g_ptr_array_free(t->misses, TRUE);
    return good;
}

/*
 * load_threading - threading.derived.tsv as file -> row (strv: message_id,
 * in_reply_to, references), or NULL when the corpus has none.
 */
static GHashTable *load_threading(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "threading.derived.tsv", NULL);
    g_autofree char *text = NULL;
    GHashTable *rows;
    char  **lines;

    if (!g_file_get_contents(path, &text, NULL, NULL))
	return NULL;
    rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_strfreev);
    lines = g_strsplit(text, "\n", -1);
    for (int i = 1; lines[i]; i++) {		/* line 0 names the columns */
	char  **cols = g_strsplit(lines[i], "\t", 4);

	if (g_strv_length(cols) == 4) {
	    char  **row = g_new0(char *, 4);

	    for (int j = 0; j < 3; j++)
		row[j] = g_strdup(g_strstrip(cols[j + 1]));
	    g_hash_table_replace(rows, g_strdup(cols[0]), row);
	}
	g_strfreev(cols);
    }
    g_strfreev(lines);
    return rows;
}

/* compare_threading - tally message_id, in_reply_to, references against a derived row */
static void compare_threading(char **row, const char *rel, json_t *env, struct tally *t)
{
    const char *mid = jpath_str(env, "message_id");
    const char *irt = jpath_str(env, "in_reply_to");
    g_autofree char *want_mid = NULL, *want_irt = NULL, *got_mid = NULL, *got_irt = NULL;
    GString *refs = g_string_new(NULL);
    size_t  i;
    json_t *v;

    /* Derived values are "<id>" tokens: compare in that form. */
    want_mid = g_strdup(row[0]);
    got_mid = mid ? g_strdup_printf("<%s>", mid) : g_strdup("");
    want_irt = g_strndup(row[1], strcspn(row[1], " "));
    got_irt = irt ? g_strdup_printf("<%s>", irt) : g_strdup("");
    json_array_foreach(json_object_get(env, "references"), i, v)
	g_string_append_printf(refs, "%s<%s>", i ? " " : "", json_string_value(v));
    tally_add(&t[0], strcmp(want_mid, got_mid) == 0, rel, want_mid, got_mid);
    tally_add(&t[1], strcmp(want_irt, got_irt) == 0, rel, want_irt, got_irt);
    tally_add(&t[2], strcmp(row[2], refs->str) == 0, rel, row[2], refs->str);
    g_string_free(refs, TRUE);
}

/* run_corpus - 0 done, 77 corpus not found */
static int run_corpus(void)
{
    const char *dir = g_getenv("INTAKE_CORPUS");
    GPtrArray *files;
    struct tally subj = {"subjects", 0, 0, g_ptr_array_new_with_free_func(g_free)};
    struct tally from = {"senders", 0, 0, g_ptr_array_new_with_free_func(g_free)};
    struct tally att = {"attachment filenames", 0, 0, g_ptr_array_new_with_free_func(g_free)};
    struct tally thr[3] = {
	{"threading (derived): message_id", 0, 0, g_ptr_array_new_with_free_func(g_free)},
	{"threading (derived): in_reply_to", 0, 0, g_ptr_array_new_with_free_func(g_free)},
	{"threading (derived): references", 0, 0, g_ptr_array_new_with_free_func(g_free)},
    };
    GHashTable *threading;
    GPtrArray *bad = g_ptr_array_new_with_free_func(g_free);
    int     n_messages = 0, n_expected = 0;
    gsize   dirlen;

    if (dir == NULL || *dir == 0)
	dir = "../shared/corpus";
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
	printf("skipped: corpus not found (%s)\n", dir);
	g_ptr_array_free(subj.misses, TRUE);
	g_ptr_array_free(from.misses, TRUE);
	g_ptr_array_free(att.misses, TRUE);
	for (int k = 0; k < 3; k++)
	    g_ptr_array_free(thr[k].misses, TRUE);
	g_ptr_array_free(bad, TRUE);
	return 77;
    }
    threading = load_threading(dir);
    dirlen = strlen(dir);
    files = tap_corpus_files(dir);

    for (guint i = 0; i < files->len; i++) {
	const char *path = g_ptr_array_index(files, i);
	const char *rel = path + dirlen + (path[dirlen] == '/');
	g_autofree char *raw = NULL;
	g_autofree char *exp_path = NULL;
	gsize   len;
	json_t *env, *back;

	if (!g_file_get_contents(path, &raw, &len, NULL)) {
	    g_ptr_array_add(bad, g_strdup_printf("%s: cannot read", rel));
	    continue;
	}
	n_messages++;
	env = build_len(raw, len, NULL);
	back = roundtrip(env);
	if (back == NULL)
	    g_ptr_array_add(bad, g_strdup_printf("%s: envelope does not decode", rel));
	json_decref(back);

	exp_path = g_strconcat(path, ".expected.json", NULL);
	if (g_str_has_prefix(rel, "parse/") && g_file_test(exp_path, G_FILE_TEST_EXISTS)) {
	    n_expected++;
	    compare_expected(exp_path, rel, env, &subj, &from, &att);
	}
	if (threading && g_hash_table_lookup(threading, rel))
	    compare_threading(g_hash_table_lookup(threading, rel), rel, env, thr);
	json_decref(env);
    }
    g_ptr_array_free(files, TRUE);

    for (guint i = 0; i < bad->len; i++)
	diag("%s", (const char *) g_ptr_array_index(bad, i));
    ok(n_messages > 0 && bad->len == 0, "corpus: all %d messages give an envelope that decodes",
       n_messages);
    ok(n_expected > 0, "corpus: %d messages with expected parse results", n_expected);
    g_ptr_array_free(bad, TRUE);
    report_tally(&subj);
    report_tally(&from);
    report_tally(&att);
    if (threading) {
	/* A sanity check only: the corpus derived these with a simple tokeniser. */
	for (int k = 0; k < 3; k++)
	    report_tally(&thr[k]);
	g_hash_table_destroy(threading);
    } else {
	skip("threading.derived.tsv not in the corpus");
	for (int k = 0; k < 3; k++)
	    g_ptr_array_free(thr[k].misses, TRUE);
    }
    return 0;
}

/*
 * The Makefile builds this file twice: test_envelope runs the unit part,
 * test_corpus (-DTEST_CORPUS) the corpus part, so that a missing corpus
 * skips only what needs it.
 */
#ifdef TEST_CORPUS
#define DEFAULT_PART "corpus"
#else
#define DEFAULT_PART "unit"
#endif

int     main(int argc, char **argv)
{
    const char *part = argc > 1 ? argv[1] : DEFAULT_PART;
    int     corpus = 0;
    int     status;

    if (strcmp(part, "all") && strcmp(part, "unit") && strcmp(part, "corpus")) {
	fprintf(stderr, "usage: %s [unit|corpus]\n", argv[0]);
	return 2;
    }
    envelope_init();
    if (strcmp(part, "corpus") != 0)
	run_unit();
    if (strcmp(part, "unit") != 0)
	corpus = run_corpus();
    status = tap_done();
    g_mime_shutdown();
    return status != 0 ? status : corpus;
}
