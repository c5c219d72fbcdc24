/*
 * NAME
 *	mctx - one SMTP connection's and message's state: the mail as the milter (or intakectl import) receives it
 * SYNOPSIS
 *	struct mctx *mctx_new(cfg)
 *	void	mctx_reset(mc)
 *	const struct mailbox *mctx_add_rcpt(mc, rcpt)
 *	void	mctx_add_header(mc, name, value, leadspc)
 *	void	mctx_end_headers(mc)
 *	void	mctx_add_body(mc, data, len)
 *	const char *mctx_spool_error(mc)
 *	gboolean mctx_oversize(mc)
 *	gboolean mctx_oversize_reject(mc)
 *	json_t *mctx_envelope(mc)
 *	void	mctx_raw(mc, &source)
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
 *
 *	Memory per SMTP session is bounded, whatever the message size and
 *	raw_max_size: up to spool_threshold bytes the message is held in
 *	memory; beyond, all of it (what memory held, then every byte after)
 *	goes to an unlinked file (mode 0600) in spool_directory and memory
 *	keeps none of it. GMime parses from the file, and the original's
 *	first raw_max_size bytes (the stream entry's "raw") are sent to Redis
 *	from it in pieces (mctx_raw(), enqueue_envelope(), which compresses
 *	them into the same file first). So a session
 *	holds at most spool_threshold bytes of message, plus what building
 *	the envelope takes (max_text_size of text, at most 1 MB and 10,000
 *	fields of header, the parser's part tree for at most max_mime_parts parts).
 *	With the defaults (spool_threshold 1M, max_text_size 1M) that is a
 *	few MB per session at most; measured (docs/design.md, raw_max_size
 *	10M), 50 sessions of a 10 MB mail at once take about 30 MB above
 *	idle in all (0.6 MB each), a 50 MB HTML mail 13 MB. A spool file
 *	that cannot be written is remembered (mctx_spool_error()): the
 *	milter then answers 451, never accepting a mail it could not read.
 *	Past max_recipients a recipient is still kept when it is a mailbox:
 *	those decide the tickets. The body hash always covers the whole body:
 *	it is part of the de-duplication key.
 *
 *	mctx_raw() tells where the original is (memory, or the spool file
 *	from offset 0) and how much of it, for enqueue_envelope().
 *	mctx_add_rcpt() records a recipient and returns its mailbox, if any.
 *	A [milter] collectors recipient has no mailbox yet (its headers
 *	choose one at end of message, common/forward.c) but counts in
 *	n_matched, so that the message is read; it is kept past
 *	max_recipients like a mailbox recipient.
 *	mctx_envelope() builds the envelope (a new reference), or returns
 *	NULL when the spool file failed. mctx_oversize() tells whether more
 *	than max_message_size bytes came; mctx_oversize_reject() whether
 *	such a mail is to be refused (one of its mailboxes says
 *	"oversize = reject").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "mctx.h"

struct mctx *mctx_new(const struct intake_config *cfg)
{
    struct mctx *mc = g_new0(struct mctx, 1);

    mc->cfg = cfg;
    mc->spool_fd = -1;
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
    g_clear_pointer(&mc->spool_error, g_free);
    if (mc->spool_fd >= 0)
	close(mc->spool_fd);
    mc->spool_fd = -1;
    mc->kept = 0;
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
    gboolean collector;

    if (mc->rcpts == NULL) {
	mc->rcpts = g_ptr_array_new_with_free_func(g_free);
	mc->matched = g_ptr_array_new();
    }
    m = config_match(mc->cfg, rcpt);
    collector = m == NULL && config_is_collector(mc->cfg, rcpt);
    /* Past the limit only mailbox recipients are kept: they decide the tickets. */
    if (mc->rcpts->len >= (guint) mc->cfg->max_recipients && m == NULL && !collector) {
	mc->rcpts_dropped++;
	return NULL;
    }
    g_ptr_array_add(mc->rcpts, strip_brackets(rcpt));
    g_ptr_array_add(mc->matched, (gpointer) m);
    if (m || collector)
	mc->n_matched++;
    return m;
}

/*
 * spool_open - an unlinked temporary file in spool_directory (O_TMPFILE
 * where the file system has it, else mkstemp() and unlink()), or -1 and
 * mc->spool_error.
 */
static int spool_open(struct mctx *mc)
{
    const char *dir = mc->cfg->spool_directory;
    int     fd = -1;

#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {
	g_autofree char *path = g_build_filename(dir, "intake-spool-XXXXXX", NULL);

	if ((fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600)) >= 0)
	    (void) unlink(path);
    }
    if (fd < 0)
	mc->spool_error = g_strdup_printf("cannot create a spool file in %s ([milter]"
					  " spool_directory): %s", dir, g_strerror(errno));
    return fd;
}

static void spool_write(struct mctx *mc, const void *data, gsize len)
{
    const char *p = data;

    while (len > 0 && mc->spool_error == NULL) {
	ssize_t n = write(mc->spool_fd, p, len);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0) {
	    mc->spool_error = g_strdup_printf("cannot write the spool file in %s ([milter]"
					      " spool_directory): %s", mc->cfg->spool_directory,
					      n < 0 ? g_strerror(errno) : "no space");
	    return;
	}
	p += n;
	len -= (gsize) n;
    }
}

static void append(struct mctx *mc, const void *data, gsize len)
{
    gsize   max = (gsize) mc->cfg->max_message_size;
    gsize   n;

    mc->size += len;
    if (mc->raw == NULL && mc->spool_fd < 0)
	mc->raw = g_byte_array_sized_new(8192);
    n = MIN(len, max > mc->kept ? max - mc->kept : 0);
    if (n == 0 || mc->spool_error)
	return;
    /* Past the threshold, the whole message goes to a file and leaves memory. */
    if (mc->spool_fd < 0 && mc->kept + n > (gsize) mc->cfg->spool_threshold) {
	if ((mc->spool_fd = spool_open(mc)) < 0)
	    return;
	spool_write(mc, mc->raw->data, mc->raw->len);
	g_clear_pointer(&mc->raw, g_byte_array_unref);
    }
    if (mc->spool_fd >= 0)
	spool_write(mc, data, n);
    else
	g_byte_array_append(mc->raw, data, (guint) n);
    mc->kept += n;
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

const char *mctx_spool_error(const struct mctx *mc)
{
    return mc->spool_error;
}

gboolean mctx_oversize(const struct mctx *mc)
{
    return mc->size > (gsize) mc->cfg->max_message_size;
}

gboolean mctx_oversize_reject(const struct mctx *mc)
{
    if (!mctx_oversize(mc) || mc->matched == NULL)
	return FALSE;
    for (guint i = 0; i < mc->matched->len; i++) {
	const struct mailbox *m = g_ptr_array_index(mc->matched, i);

	if (m && g_strcmp0(m->oversize, "reject") == 0)
	    return TRUE;
    }
    return FALSE;
}

void    mctx_raw(const struct mctx *mc, struct raw_source *src)
{
    src->data = mc->spool_fd < 0 ? (mc->raw ? (const char *) mc->raw->data : "") : NULL;
    src->fd = mc->spool_fd;
    src->len = mc->kept;
}

json_t *mctx_envelope(struct mctx *mc)
{
    struct envelope_limits lim;
    struct envelope_input in = {0};
    GMimeStream *stream = NULL;
    void   *map = MAP_FAILED;
    json_t *env;

    if (mc->spool_error)
	return NULL;
    if (mc->body_sum == NULL)
	mc->body_sum = g_checksum_new(G_CHECKSUM_SHA256);
    envelope_limits_from_config(&lim, mc->cfg);
    if (mc->spool_fd >= 0) {
	/* A stream of its own on the file: GMime closes what it owns. */
	int     fd = dup(mc->spool_fd);

	if (fd < 0) {
	    mc->spool_error = g_strdup_printf("cannot read the spool file: %s",
					      g_strerror(errno));
	    return NULL;
	}
	stream = g_mime_stream_fs_new_with_bounds(fd, 0, (gint64) mc->kept);
	in.stream = stream;
	in.kept_len = mc->kept;

	/*
	 * The envelope looks at the original's first bytes too (which
	 * charset it declares) and takes raw_size from its length: a
	 * read-only map of the file gives it all of it, and only the pages
	 * it reads come into memory (file pages, which the kernel can drop).
	 */
	map = mmap(NULL, mc->kept, PROT_READ, MAP_SHARED, mc->spool_fd, 0);
	if (map == MAP_FAILED) {
	    mc->spool_error = g_strdup_printf("cannot map the spool file in %s ([milter]"
					      " spool_directory): %s", mc->cfg->spool_directory,
					      g_strerror(errno));
	    g_object_unref(stream);
	    return NULL;
	}
	in.raw = map;
	in.raw_len = mc->kept;
    } else {
	in.raw = mc->raw ? (const char *) mc->raw->data : "";
	in.raw_len = mc->raw ? mc->raw->len : 0;
    }
    in.cfg = mc->cfg;
    in.queue_id = mc->queue_id;
    in.client_addr = mc->client_addr;
    in.client_name = mc->client_name;
    in.helo = mc->helo;
    in.sender = mc->sender;
    in.recipients = mc->rcpts ? (const char *const *) mc->rcpts->pdata : NULL;
    in.matched = mc->matched ? (const struct mailbox *const *) mc->matched->pdata : NULL;
    in.n_recipients = mc->rcpts ? mc->rcpts->len : 0;
    in.message_size = mc->size;
    in.body_sha256 = g_checksum_get_string(mc->body_sum);
    env = envelope_build(&in, &lim);
    if (stream)
	g_object_unref(stream);
    if (map != MAP_FAILED)
	munmap(map, mc->kept);
    if (mc->rcpts_dropped)
	json_object_set_new(env, "recipients_dropped", json_integer(mc->rcpts_dropped));
    if (mc->headers_dropped)
	json_object_set_new(env, "headers_dropped", json_integer(mc->headers_dropped));
    return env;
}
