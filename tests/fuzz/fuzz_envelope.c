/*
 * NAME
 *	fuzz_envelope - fuzz target: a raw mail through envelope_build()
 * DESCRIPTION
 *	The input is one flag byte and a message as a sender could write
 *	it. Flag bit 0 chooses the way in:
 *
 *	0: envelope_build() directly, with the default limits (bit 1 clear)
 *	   or small ones (bit 1 set: a 2 KB text, a 4 KB raw copy, two
 *	   attachments), so that both the whole and the cut paths run;
 *	1: as intake-milter gets it: mctx_add_header() per header field
 *	   (continuation lines joined with LF, as libmilter hands them
 *	   over; bit 2: SMFIP_HDR_LEADSPC), mctx_end_headers(), the body in
 *	   chunks (bit 3: of 1 byte up to 64 KB, else 64 KB), then
 *	   mctx_envelope(), under a configuration with small limits.
 *
 *	Then what the worker does with it: envelope_encode(), then
 *	envelope_decode_parts() of the JSON and the text, which must accept
 *	every envelope the milter writes, then envelope_attachments() over
 *	the raw copy as it is kept, which must not return more contents
 *	than the envelope lists attachments.
 *
 *	With INTAKE_FUZZ_SAVE=DIR in the environment each envelope is also
 *	written to DIR as its JSON, a NUL byte and its text: the input of
 *	fuzz_decode, whose seeds tests/fuzz/run makes so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "mctx.h"
#include "fuzz.h"

#define MILTER_CHUNK	65535		/* libmilter's MILTER_CHUNK_SIZE */

static const char *const raw_headers[] = {
    "Auto-Submitted", "Precedence", "List-Id", "Return-Path", "X-Loop", "Content-Type", NULL,
};

/* The [milter] limits of the mctx path: small, to reach every cut. */
static const char conf_text[] =
    "[milter]\n"
    "max_message_size = 64K\n"
    "raw_max_size = 16K\n"
    "max_text_size = 2K\n"
    "max_recipients = 2\n"
    "max_headers = 40\n"
    "max_attachments = 3\n"
    "[mailbox support]\n"
    "address = support@example.com\n"
    "aliases = help@example.com\n"
    "[mailbox sales]\n"
    "address = sales@example.com\n"
    "catch_all = sales.example\n";

/* save - json NUL text into a new file of $INTAKE_FUZZ_SAVE, if set */
static void save(const char *json, const char *text, gsize text_len)
{
    static unsigned n;
    const char *dir = getenv("INTAKE_FUZZ_SAVE");
    g_autofree char *path = NULL;
    GString *s;

    if (dir == NULL || *dir == 0)
	return;
    path = g_strdup_printf("%s/envelope-%ld-%u", dir, (long) getpid(), n++);
    s = g_string_new(json);
    g_string_append_c(s, 0);
    g_string_append_len(s, text, (gssize) text_len);
    if (!g_file_set_contents(path, s->str, (gssize) s->len, NULL))
	fuzz_fail("cannot write %s", path);
    g_string_free(s, TRUE);
}

/* worker_side - what the worker does with an envelope and the raw copy */
static void worker_side(json_t *env, const char *raw, gsize raw_len, gsize max_raw)
{
    const char *text;
    gsize   text_len;
    g_autofree char *why = NULL;
    char   *json;
    json_t *dec;
    GPtrArray *contents;

    if (env == NULL || !json_is_object(env))
	fuzz_fail("envelope_build() returned no object");
    json = envelope_encode(env, ENVELOPE_VERSION, &text, &text_len);
    if (json == NULL)
	fuzz_fail("envelope_encode() returned NULL");
    save(json, text, text_len);
    dec = envelope_decode_parts(json, strlen(json), text, text_len, &why);
    free(json);
    if (dec == NULL)
	fuzz_fail("envelope_decode_parts() refuses what envelope_build() wrote: %s", why);
    contents = envelope_attachments(dec, raw, MIN(raw_len, max_raw));
    if (contents && contents->len > json_array_size(json_object_get(dec, "attachments")))
	fuzz_fail("envelope_attachments() returned %u contents for %zu attachments",
		  contents->len, json_array_size(json_object_get(dec, "attachments")));
    if (contents)
	g_ptr_array_unref(contents);
    json_decref(dec);
}

static void direct(const char *raw, gsize len, int small)
{
    static const char *const rcpts[] = {"support@example.com", "other@example.org"};
    static struct mailbox support = {.name = "support", .address = "support@example.com",
    .active = TRUE};
    static const struct mailbox *const matched[] = {&support, NULL};
    struct envelope_limits lim = {
	.max_text = small ? 2048 : 1024 * 1024,
	.max_raw = small ? 4096 : 10 * 1024 * 1024,
	.max_attachments = small ? 2 : 250,
	.raw_headers = raw_headers,
    };
    struct envelope_input in = {
	.queue_id = "4QX1Z2abcd",
	.client_addr = "192.0.2.1",
	.client_name = "mail.example.org",
	.helo = "mail.example.org",
	.sender = "alice@example.org",
	.recipients = rcpts,
	.matched = matched,
	.n_recipients = 2,
	.raw = raw,
	.raw_len = len,
	.message_size = len,
    };
    json_t *env = envelope_build(&in, &lim);

    worker_side(env, raw, len, lim.max_raw);
    json_decref(env);
}

/* milter - feed the message as libmilter would, then build */
static void milter(const char *raw, gsize len, int leadspc, gsize chunk)
{
    struct intake_config *cfg = fuzz_config("envelope.conf", conf_text);
    struct mctx *mc = mctx_new(cfg);
    GString *name = g_string_new(NULL);
    GString *value = g_string_new(NULL);
    const char *p = raw, *end = raw + len;
    json_t *env;

    mctx_set_queue_id(mc, "4QX1Z2abcd");
    mctx_set_sender(mc, "<alice@example.org>");
    mctx_add_rcpt(mc, "<Support+Tag@Example.com>");
    mctx_add_rcpt(mc, "<x@sales.example>");
    mctx_add_rcpt(mc, "<other@example.org>");
    mctx_add_rcpt(mc, "<third@example.org>");

    /* Header fields up to an empty line or a line that is not one. */
    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	const char *eol = nl ? nl : end;
	const char *line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
	const char *colon;

	if ((*p == ' ' || *p == '\t') && name->len) {
	    g_string_append_c(value, '\n');
	    g_string_append_len(value, p, line_end - p);
	} else {
	    if (name->len) {
		mctx_add_header(mc, name->str, value->str, leadspc);
		g_string_truncate(name, 0);
	    }
	    colon = memchr(p, ':', (size_t) (line_end - p));
	    if (line_end == p || colon == NULL || colon == p || memchr(p, 0, line_end - p))
		break;
	    g_string_assign(name, "");
	    g_string_append_len(name, p, colon - p);
	    g_string_truncate(value, 0);
	    colon++;
	    if (!leadspc && colon < line_end && *colon == ' ')
		colon++;
	    g_string_append_len(value, colon, line_end - colon);
	    if (memchr(value->str, 0, value->len))
		g_string_truncate(value, strlen(value->str));
	}
	p = nl ? nl + 1 : end;
    }
    if (name->len && p >= end)
	mctx_add_header(mc, name->str, value->str, leadspc);
    mctx_end_headers(mc);
    /* The empty line ending the header is not part of the body. */
    if (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
	p += *p == '\n' ? 1 : 2;
    while (p < end) {
	gsize   n = MIN(chunk, (gsize) (end - p));

	mctx_add_body(mc, (const unsigned char *) p, n);
	p += n;
    }
    env = mctx_envelope(mc);
    worker_side(env, (const char *) mc->raw->data, mc->raw->len, (gsize) cfg->raw_max_size);
    json_decref(env);
    mctx_free(mc);
    g_string_free(name, TRUE);
    g_string_free(value, TRUE);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t flags;

    fuzz_init();
    if (size < 1)
	return 0;
    flags = data[0];
    data++, size--;
    if (flags & 1)
	milter((const char *) data, size, (flags & 4) != 0,
	       (flags & 8) ? 1 + (flags >> 4) * 4096 : MILTER_CHUNK);
    else
	direct((const char *) data, size, (flags & 2) != 0);
    return 0;
}
