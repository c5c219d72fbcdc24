/*
 * NAME
 *	fuzz_reply - fuzz target: reply_spec_decode() and reply_build()
 * DESCRIPTION
 *	The input is a reply record as the outbox reads it from the store
 *	(JSON: names, addresses, subject, body, message ids, references, all
 *	of which but the mailbox's come from a customer's mail). Properties:
 *	a record that decodes survives reply_spec_encode() and decoding
 *	again unchanged; a built reply is CRLF-only and its header holds
 *	exactly the fields reply_build() writes, each at most once (nothing
 *	a customer wrote became a header field of its own).
 */
#include <string.h>

#include "reply.h"
#include "fuzz.h"

static const char *const fields[] = {
    "From", "To", "Subject", "Date", "Message-Id", "In-Reply-To", "References",
    "Auto-Submitted", "X-Auto-Response-Suppress", "X-Loop", "X-Intake-Ticket",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", NULL,
};

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_roundtrip(const struct reply_spec *spec)
{
    char   *text = reply_spec_encode(spec);
    struct reply_spec again;
    g_autofree char *why = NULL;
    json_t *o;

    if (text == NULL)
	fuzz_fail("reply_spec_encode() returned NULL");
    o = reply_spec_decode(text, strlen(text), &again, &why);
    if (o == NULL)
	fuzz_fail("reply_spec_decode() refuses what reply_spec_encode() wrote: %s", why);
    if (!same(spec->from_name, again.from_name) || !same(spec->from_address, again.from_address)
	|| !same(spec->to_name, again.to_name) || !same(spec->to_address, again.to_address)
	|| !same(spec->subject, again.subject) || !same(spec->body, again.body)
	|| !same(spec->in_reply_to, again.in_reply_to)
	|| !same(spec->ticket_number, again.ticket_number)
	|| !same(spec->message_id, again.message_id))
	fuzz_fail("a reply record does not survive encode and decode");
    json_decref(o);
    free(text);
}

/* check_header - every header line is CRLF-ended and a known field, once */
static void check_header(const char *msg, gsize len)
{
    int     seen[G_N_ELEMENTS(fields)] = {0};
    const char *p = msg, *end = msg + len;

    for (const char *q = msg; q < end; q++)
	if (*q == '\n' && (q == msg || q[-1] != '\r'))
	    fuzz_fail("bare LF at offset %td", q - msg);
    while (p < end) {
	const char *eol = g_strstr_len(p, end - p, "\r\n");
	const char *colon;
	int     i;

	if (eol == NULL)
	    fuzz_fail("the header does not end");
	if (eol == p)
	    return;				/* the empty line */
	if (*p == ' ' || *p == '\t') {
	    p = eol + 2;
	    continue;
	}
	colon = memchr(p, ':', eol - p);
	if (colon == NULL)
	    fuzz_fail("header line without a colon: %.*s", (int) (eol - p), p);
	for (i = 0; fields[i]; i++)
	    if ((size_t) (colon - p) == strlen(fields[i])
		&& g_ascii_strncasecmp(p, fields[i], colon - p) == 0)
		break;
	if (fields[i] == NULL)
	    fuzz_fail("unexpected header field: %.*s", (int) (eol - p), p);
	if (seen[i]++)
	    fuzz_fail("header field %s twice", fields[i]);
	p = eol + 2;
    }
    fuzz_fail("no empty line after the header");
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reply_spec spec;
    g_autofree char *why = NULL;
    g_autofree char *id = NULL;
    json_t *o;
    GBytes *msg;

    fuzz_init();
    o = reply_spec_decode((const char *) data, size, &spec, &why);
    if (o == NULL) {
	if (why == NULL)
	    fuzz_fail("reply_spec_decode() refused without a reason");
	return 0;
    }
    check_roundtrip(&spec);
    msg = reply_build(&spec, &id, &why);
    if (msg) {
	gsize   len;
	const char *text = g_bytes_get_data(msg, &len);

	if (id == NULL)
	    fuzz_fail("reply_build() returned no Message-ID");
	check_header(text, len);
	g_bytes_unref(msg);
    } else if (why == NULL) {
	fuzz_fail("reply_build() failed without a reason");
    }
    json_decref(o);
    return 0;
}
