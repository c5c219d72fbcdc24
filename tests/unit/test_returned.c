/*
 * NAME
 *	test_returned - unit tests of common/returned.c
 * DESCRIPTION
 *	Table-driven: texts through returned_scan() (the Message-ID, Status
 *	and Diagnostic-Code lines of plain-text bounces, quoted, folded,
 *	malformed, too long), then whole messages through returned_find():
 *	a Postfix DSN with message/delivery-status and text/rfc822-headers,
 *	one with the returned message as message/rfc822, an auto-reply that
 *	names nothing, and a bounce whose returned headers come after more
 *	text than the scan reads (not found: the bound holds).
 */
#include <string.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "returned.h"
#include "tap.h"

static const struct {
    const char *label;
    const char *text;
    const char *message_id;
    const char *status;
    const char *diagnostic;
} scans[] = {
    {"nothing", "Hello,\nI am away.\n", "", "", ""},
    {"qmail style", "Hi. This is the qmail-send program.\n\n--- Below this line is a copy"
	" of the message.\n\nReturn-Path: <>\nMessage-ID: <ack-1@intake.example>\n"
	"Subject: x\n", "ack-1@intake.example", "", ""},
    {"lower case, blanks before", "  message-id:   <a@b>\n", "a@b", "", ""},
    {"quoted with >", "> Message-Id: <q@b>\n", "q@b", "", ""},
    {"folded onto the next line", "Message-ID:\n <fold@b>\nX: y\n", "fold@b", "", ""},
    {"CRLF line ends", "Message-ID: <crlf@b>\r\nStatus: 5.1.1\r\n", "crlf@b", "5.1.1", ""},
    {"the first one wins", "Message-ID: <one@b>\nMessage-ID: <two@b>\n", "one@b", "", ""},
    {"no angle brackets: not taken", "Message-ID: bare@b\n", "", "", ""},
    {"blank inside: not taken", "Message-ID: <a b@c>\n", "", "", ""},
    {"empty <>: not taken", "Message-ID: <>\n", "", "", ""},
    {"too long: not taken", "Message-ID: <"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxx@b>\n", "", "", ""},
    {"In-Reply-To is not the returned id", "In-Reply-To: <irt@b>\n", "", "", ""},
    {"X-Message-ID is another field", "X-Message-ID: <x@b>\n", "", "", ""},
    {"DSN fields", "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@b\n"
	"Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <a@b>: User unknown\n",
	"", "5.1.1", "smtp; 550 5.1.1 <a@b>: User unknown"},
    {"delay warning status", "Status: 4.4.1\n", "", "4.4.1", ""},
    {"not a status code", "Status: failed\nStatus: 5.1\nStatus: 6.1.1\nStatus: 5.1.1.\n",
	"", "", ""},
    {"diagnostic with control characters", "Diagnostic-Code: smtp;\x01 550\tno\n", "", "",
	"smtp;  550 no"},
};

static void test_scan(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(scans); i++) {
	struct returned r = {{0}};

	returned_scan(scans[i].text, strlen(scans[i].text), &r);
	is_str(r.message_id, scans[i].message_id, "scan: %s: message id", scans[i].label);
	is_str(r.status, scans[i].status, "scan: %s: status", scans[i].label);
	is_str(r.diagnostic, scans[i].diagnostic, "scan: %s: diagnostic", scans[i].label);
    }
    {
	/* A diagnostic longer than kept: cut, still a C string. */
	g_autofree char *long_diag = g_strdup_printf("Diagnostic-Code: %0500d\n", 0);
	struct returned r = {{0}};

	returned_scan(long_diag, strlen(long_diag), &r);
	ok(strlen(r.diagnostic) > 0 && strlen(r.diagnostic) < RETURNED_DIAG_MAX,
	   "scan: a long diagnostic is cut to RETURNED_DIAG_MAX");
    }
}

static const char postfix_dsn[] =
"From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\n"
"To: support@example.test\r\n"
"Subject: Undelivered Mail Returned to Sender\r\n"
"Auto-Submitted: auto-replied\r\n"
"MIME-Version: 1.0\r\n"
"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
"\r\n"
"--B\r\n"
"Content-Type: text/plain\r\n"
"\r\n"
"This is the mail system at host mx.example.\r\n"
"\r\n"
"--B\r\n"
"Content-Type: message/delivery-status\r\n"
"\r\n"
"Reporting-MTA: dns; mx.example\r\n"
"\r\n"
"Final-Recipient: rfc822; kim@c.test\r\n"
"Action: failed\r\n"
"Status: 5.1.1\r\n"
"Diagnostic-Code: smtp; 550 5.1.1 <kim@c.test>: Recipient address rejected\r\n"
"\r\n"
"--B\r\n"
"Content-Type: text/rfc822-headers\r\n"
"\r\n"
"From: Support <support@example.test>\r\n"
"Message-ID: <ack-7@intake.example>\r\n"
"Subject: [#INT-2026-000001] We got your mail\r\n"
"\r\n"
"--B--\r\n";

static const char rfc822_dsn[] =
"From: postmaster@mx.example\r\n"
"Subject: Delivery Status Notification (Failure)\r\n"
"MIME-Version: 1.0\r\n"
"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
"\r\n"
"--B\r\n"
"Content-Type: text/plain\r\n"
"\r\n"
"Delivery failed.\r\n"
"--B\r\n"
"Content-Type: message/rfc822\r\n"
"\r\n"
"From: support@example.test\r\n"
"Message-ID: <ack-8@intake.example>\r\n"
"Subject: x\r\n"
"\r\n"
"Message-ID: <not-this@inner.example>\r\n"
"--B--\r\n";

static const char out_of_office[] =
"From: bob@c.test\r\n"
"Subject: Out of office\r\n"
"In-Reply-To: <ack-9@intake.example>\r\n"
"\r\n"
"I am away until Monday.\r\n";

static GMimeMessage *parse(const char *text)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}

static void find_one(const char *label, const char *text, const char *body_text,
		     const char *message_id, const char *status, const char *diag_part)
{
    GMimeMessage *msg = parse(text);
    json_t *r = returned_find(msg, body_text);

    if (message_id == NULL) {
	ok(r == NULL, "find: %s: nothing found", label);
    } else {
	is_str(json_string_value(json_object_get(r, "message_id")), message_id,
	       "find: %s: message id", label);
	is_str(json_string_value(json_object_get(r, "status")), status, "find: %s: status",
	       label);
	if (diag_part)
	    has_str(json_string_value(json_object_get(r, "diagnostic")), diag_part,
		    "find: %s: diagnostic", label);
    }
    json_decref(r);
    g_clear_object(&msg);
}

static void test_find(void)
{
    GString *late = g_string_new("Subject: x\r\n\r\n");

    find_one("Postfix DSN", postfix_dsn, "This is the mail system at host mx.example.",
	     "ack-7@intake.example", "5.1.1", "Recipient address rejected");
    find_one("message/rfc822 returned", rfc822_dsn, "Delivery failed.",
	     "ack-8@intake.example", NULL, NULL);
    find_one("auto-reply: nothing returned", out_of_office, "I am away until Monday.",
	     NULL, NULL, NULL);
    find_one("no message, text only", "", "Message-ID: <t@b>\n", "t@b", NULL, NULL);
    /* Past the bytes the scan reads, a Message-ID line is not looked for. */
    for (int i = 0; i < 70000 / 64; i++)
	g_string_append(late, "filler filler filler filler filler filler filler filler fil\r\n");
    g_string_append(late, "Message-ID: <late@b>\r\n");
    find_one("a Message-ID after 64 KB of text", late->str, late->str, NULL, NULL, NULL);
    g_string_free(late, TRUE);
}

int     main(void)
{
    g_mime_init();
    test_scan();
    test_find();
    g_mime_shutdown();
    return tap_done();
}
