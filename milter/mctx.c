/*
 * NAME
 *	mctx - one SMTP connection's and message's state in intake-milter
 * SYNOPSIS
 *	struct mctx *mctx_new(cfg)
 *	void	mctx_reset(mc)
 *	const struct mailbox *mctx_add_rcpt(mc, rcpt)
 *	void	mctx_add_header(mc, name, value, leadspc)
 *	void	mctx_end_headers(mc)
 *	void	mctx_add_body(mc, data, len)
 *	json_t *mctx_envelope(mc)
 *	struct mctx *mctx_free(mc)
 * DESCRIPTION
 *	This module holds what the milter callbacks learn about a connection
 *	and its current message, with no libmilter in sight, so that unit
 *	tests can drive it. The milter allocates one mctx per connection (in
 *	negotiate) and frees it in close; mctx_reset() forgets the message
 *	(at MAIL FROM, after end of message, in abort).
 *
 *	The message is rebuilt as it came: header lines with CRLF, the empty
 *	line, the body. What a sender controls is bounded: recipients beyond
 *	max_recipients are not recorded (counted), header fields beyond
 *	max_headers are dropped (counted in "headers_dropped" and in the
 *	size), and bytes beyond max_message_size are counted but not kept.
 *	Past max_recipients a recipient is still kept when it is a mailbox:
 *	those decide the tickets. The body hash always covers the whole body:
 *	it is part of the de-duplication key.
 *
 *	mctx_add_rcpt() records a recipient and returns its mailbox, if any.
 *	mctx_envelope() builds the envelope (a new reference).
 */
#include <string.h>

#include "envelope.h"
#include "mctx.h"

struct mctx *mctx_new(const struct intake_config *cfg)
{
    struct mctx *mc = g_new0(struct mctx, 1);

    mc->cfg = cfg;
    return mc;
}

void    mctx_reset(struct mctx *mc)
{
    g_clear_pointer(&mc->queue_id, g_free);
    g_clear_pointer(&mc->sender, g_free);
    g_clear_pointer(&mc->rcpts, g_ptr_array_unref);
    g_clear_pointer(&mc->matched, g_ptr_array_unref);
    g_clear_pointer(&mc->raw, g_byte_array_unref);
    g_clear_pointer(&mc->body_sum, g_checksum_free);
    mc->n_matched = 0;
    mc->rcpts_dropped = 0;
    mc->headers_dropped = 0;
    mc->size = 0;
    mc->n_headers = 0;
}

struct mctx *mctx_free(struct mctx *mc)
{
    if (mc == NULL)
	return NULL;
    mctx_reset(mc);
    g_free(mc->client_addr);
    g_free(mc->client_name);
    g_free(mc->helo);
    g_free(mc);
    return NULL;
}

const char *mctx_qid(const struct mctx *mc)
{
    return mc->queue_id ? mc->queue_id : "NOQUEUE";
}

void    mctx_set_queue_id(struct mctx *mc, const char *qid)
{
    if (qid && *qid && (mc->queue_id == NULL || strcmp(mc->queue_id, qid) != 0)) {
	g_free(mc->queue_id);
	mc->queue_id = g_strndup(qid, 64);
    }
}

static char *strip_brackets(const char *addr)
{
    gsize   len;

    if (addr == NULL)
	return g_strdup("");
    if (*addr == '<')
	addr++;
    len = strlen(addr);
    if (len > 0 && addr[len - 1] == '>')
	len--;
    return g_strndup(addr, MIN(len, 512));
}

void    mctx_set_sender(struct mctx *mc, const char *sender)
{
    g_free(mc->sender);
    mc->sender = strip_brackets(sender);
}

const struct mailbox *mctx_add_rcpt(struct mctx *mc, const char *rcpt)
{
    const struct mailbox *m;

    if (mc->rcpts == NULL) {
	mc->rcpts = g_ptr_array_new_with_free_func(g_free);
	mc->matched = g_ptr_array_new();
    }
    m = config_match(mc->cfg, rcpt);
    /* Past the limit only mailbox recipients are kept: they decide the tickets. */
    if (mc->rcpts->len >= (guint) mc->cfg->max_recipients && m == NULL) {
	mc->rcpts_dropped++;
	return NULL;
    }
    g_ptr_array_add(mc->rcpts, strip_brackets(rcpt));
    g_ptr_array_add(mc->matched, (gpointer) m);
    if (m)
	mc->n_matched++;
    return m;
}

static void append(struct mctx *mc, const void *data, gsize len)
{
    gsize   room;

    mc->size += len;
    if (mc->raw == NULL)
	mc->raw = g_byte_array_sized_new(8192);
    room = (gsize) mc->cfg->max_message_size > mc->raw->len
	? (gsize) mc->cfg->max_message_size - mc->raw->len : 0;
    g_byte_array_append(mc->raw, data, (guint) MIN(len, room));
}

void    mctx_add_header(struct mctx *mc, const char *name, const char *value, int leadspc)
{
    GString *line;

    if (++mc->n_headers > mc->cfg->max_headers) {
	/* Counted, not kept: "size" is what arrived. */
	mc->size += strlen(name) + strlen(value) + 4;
	mc->headers_dropped++;
	return;
    }
    line = g_string_new(name);
    g_string_append_c(line, ':');
    if (!leadspc)
	g_string_append_c(line, ' ');
    /* Folded lines come with bare LF: keep the message in CRLF form. */
    for (const char *p = value; *p; p++) {
	if (*p == '\n' && (p == value || p[-1] != '\r'))
	    g_string_append_c(line, '\r');
	g_string_append_c(line, *p);
    }
    g_string_append(line, "\r\n");
    append(mc, line->str, line->len);
    g_string_free(line, TRUE);
}

void    mctx_end_headers(struct mctx *mc)
{
    append(mc, "\r\n", 2);
    mc->body_sum = g_checksum_new(G_CHECKSUM_SHA256);
}

void    mctx_add_body(struct mctx *mc, const unsigned char *data, size_t len)
{
    if (mc->body_sum == NULL)
	mc->body_sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(mc->body_sum, data, len);
    append(mc, data, len);
}

json_t *mctx_envelope(struct mctx *mc)
{
    struct envelope_limits lim;
    struct envelope_input in = {0};
    json_t *env;

    if (mc->body_sum == NULL)
	mc->body_sum = g_checksum_new(G_CHECKSUM_SHA256);
    envelope_limits_from_config(&lim, mc->cfg);
    in.queue_id = mc->queue_id;
    in.client_addr = mc->client_addr;
    in.client_name = mc->client_name;
    in.helo = mc->helo;
    in.sender = mc->sender;
    in.recipients = mc->rcpts ? (const char *const *) mc->rcpts->pdata : NULL;
    in.matched = mc->matched ? (const struct mailbox *const *) mc->matched->pdata : NULL;
    in.n_recipients = mc->rcpts ? mc->rcpts->len : 0;
    in.raw = mc->raw ? (const char *) mc->raw->data : "";
    in.raw_len = mc->raw ? mc->raw->len : 0;
    in.message_size = mc->size;
    in.body_sha256 = g_checksum_get_string(mc->body_sum);
    env = envelope_build(&in, &lim);
    if (mc->rcpts_dropped)
	json_object_set_new(env, "recipients_dropped", json_integer(mc->rcpts_dropped));
    if (mc->headers_dropped)
	json_object_set_new(env, "headers_dropped", json_integer(mc->headers_dropped));
    return env;
}
