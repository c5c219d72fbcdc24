/*
 * NAME
 *	test_mctx - unit tests of milter/mctx.c, without libmilter
 * DESCRIPTION
 *	Drives an mctx as the milter callbacks do (sender, recipients,
 *	header fields, body chunks, end of message) with configurations
 *	written into a private temporary directory, and checks what the
 *	module promises: a small message stays in memory; a large one goes
 *	to an unlinked spool file of mode 0600 and memory keeps none of it
 *	(never more than spool_threshold bytes, whatever raw_max_size),
 *	while the envelope is still built from all of the message and
 *	mctx_raw() gives the file as the original's source; a message over
 *	max_message_size is marked and, for a
 *	mailbox with "oversize = reject", to be refused; a spool file that
 *	cannot be made is an error the milter answers with 451.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "envelope.h"
#include "mctx.h"
#include "tap.h"

static char *tmpdir;

/* load - a configuration with these [milter] lines and two mailboxes */
static struct intake_config *load(const char *name, const char *milter)
{
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);
    g_autofree char *text = g_strdup_printf(
	"[milter]\n%s\n"
	"[mailbox support]\naddress = support@example.com\n"
	"[mailbox sales]\naddress = sales@example.com\noversize = reject\n", milter);
    g_autoptr(GError) err = NULL;
    GPtrArray *errors = NULL;
    struct intake_config *cfg;

    if (!g_file_set_contents(path, text, -1, &err))
	g_error("cannot write %s: %s", path, err->message);
    cfg = config_load(path, &errors);
    for (guint i = 0; errors && i < errors->len; i++)
	diag("  %s", (const char *) g_ptr_array_index(errors, i));
    if (errors)
	g_ptr_array_free(errors, TRUE);
    return cfg;
}

/*
 * feed - one message through mc as the callbacks would: a text body of
 * body_len bytes ("line NNNNNN\n" lines, then "THE END\n"), in chunks of
 * 64 KB as the MTA sends them.
 */
static void feed(struct mctx *mc, const char *rcpt, gsize body_len)
{
    GString *body = g_string_new(NULL);
    int     n = 0;

    mctx_reset(mc);
    mctx_set_queue_id(mc, "4QTEST");
    mctx_set_sender(mc, "<alice@example.org>");
    mctx_add_rcpt(mc, rcpt);
    mctx_add_header(mc, "From", "Alice <alice@example.org>", 0);
    mctx_add_header(mc, "Subject", "spool test", 0);
    mctx_add_header(mc, "Message-ID", "<spool@example.org>", 0);
    mctx_end_headers(mc);
    while (body->len + 20 < body_len)
	g_string_append_printf(body, "line %06d\r\n", n++);
    g_string_append(body, "THE END\r\n");
    for (gsize off = 0; off < body->len; off += 65536)
	mctx_add_body(mc, (const unsigned char *) body->str + off, MIN(65536, body->len - off));
    g_string_free(body, TRUE);
}

static void test_in_memory(void)
{
    g_autofree char *milter = g_strdup_printf("spool_directory = %s\nspool_threshold = 64K", tmpdir);
    struct intake_config *cfg = load("memory.conf", milter);
    struct mctx *mc;
    json_t *env;

    if (!ok(cfg != NULL, "memory: configuration loads"))
	return;
    mc = mctx_new(cfg);
    feed(mc, "<support@example.com>", 1000);
    ok(mc->spool_fd < 0, "memory: a 1 KB message is not spooled");
    is_int(mc->raw->len, (long long) mc->size, "memory: all of it held");
    {
	struct raw_source src;

	mctx_raw(mc, &src);
	ok(src.data == (const char *) mc->raw->data && src.fd < 0,
	   "memory: mctx_raw: the original in memory");
	is_int(src.len, (long long) mc->size, "memory: mctx_raw: all of it");
    }
    env = mctx_envelope(mc);
    if (ok(env != NULL, "memory: envelope built")) {
	is_str(envelope_str(env, "subject"), "spool test", "memory: subject");
	has_str(envelope_str(env, "text"), "THE END", "memory: text to the end");
	ok(json_is_false(json_object_get(env, "raw_truncated")), "memory: raw not truncated");
    }
    json_decref(env);
    ok(!mctx_oversize(mc), "memory: not oversize");
    mctx_free(mc);
    config_free(cfg);
}

static void test_spooled(void)
{
    g_autofree char *milter = g_strdup_printf("spool_directory = %s\nspool_threshold = 64K\n"
					      "raw_max_size = 100K\nmax_text_size = 2M\n"
					      "max_message_size = 10M", tmpdir);
    struct intake_config *cfg = load("spool.conf", milter);
    struct mctx *mc;
    struct stat st;
    json_t *env;
    int     fd;

    if (!ok(cfg != NULL, "spool: configuration loads"))
	return;
    mc = mctx_new(cfg);
    feed(mc, "<support@example.com>", 1024 * 1024);
    fd = mc->spool_fd;
    if (!ok(fd >= 0, "spool: a 1 MB message over a 64 KB threshold is spooled"))
	goto out;
    ok(fstat(fd, &st) == 0 && st.st_nlink == 0, "spool: the file has no name (unlinked)");
    is_int(st.st_mode & 0777, 0600, "spool: mode 0600");
    is_int(st.st_size, (long long) mc->size, "spool: the file holds the whole message");
    ok(mc->raw == NULL, "spool: memory holds none of it (not even raw_max_size bytes)");
    {
	struct raw_source src;
	char    head[32] = "";

	mctx_raw(mc, &src);
	ok(src.data == NULL && src.fd == fd, "spool: mctx_raw: the spool file");
	is_int(src.len, (long long) mc->size, "spool: mctx_raw: all of it");
	ok(pread(src.fd, head, 5, 0) == 5 && memcmp(head, "From:", 5) == 0,
	   "spool: mctx_raw: the file begins with the first header line");
    }
    env = mctx_envelope(mc);
    if (ok(env != NULL, "spool: envelope built")) {
	/* The end of the text is past what memory holds: it was parsed from the file. */
	has_str(envelope_str(env, "text"), "THE END", "spool: text from the spool file, to its end");
	is_str(envelope_str(env, "message_id"), "spool@example.org", "spool: header fields");
	is_int(envelope_raw_size(env), 100 * 1024, "spool: raw_size is raw_max_size");
	ok(json_is_true(json_object_get(env, "raw_truncated")), "spool: raw_truncated");
	ok(json_is_false(json_object_get(env, "truncated")), "spool: not truncated (all parsed)");
    }
    json_decref(env);
    mctx_reset(mc);
    ok(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "spool: reset closes the file");
    is_int(mc->spool_fd, -1, "spool: reset forgets it");
out:
    mctx_free(mc);
    config_free(cfg);
}

/*
 * The bound itself: a 3 MB message, raw_max_size 10 MB, spool_threshold
 * 64 KB; after every chunk the memory copy is at most the threshold, and
 * gone once the file took over. The file holds byte for byte what came.
 */
static void test_memory_bound(void)
{
    g_autofree char *milter = g_strdup_printf("spool_directory = %s\nspool_threshold = 64K\n"
					      "raw_max_size = 10M\nmax_message_size = 20M", tmpdir);
    struct intake_config *cfg = load("bound.conf", milter);
    GChecksum *sent = g_checksum_new(G_CHECKSUM_SHA256);
    GChecksum *filed = g_checksum_new(G_CHECKSUM_SHA256);
    static unsigned char chunk[65536];
    const char *head = "Subject: bound\r\n\r\n";
    unsigned char buf[65536];
    gsize   most = 0;
    gsize   off = 0;
    gboolean spooled_then_memory = FALSE;
    struct raw_source src;
    struct mctx *mc;
    ssize_t n;

    if (!ok(cfg != NULL, "bound: configuration loads"))
	goto out;
    mc = mctx_new(cfg);
    mctx_add_rcpt(mc, "<support@example.com>");
    mctx_add_header(mc, "Subject", "bound", 0);
    mctx_end_headers(mc);
    /* What mctx rebuilds: the header line in CRLF form, the empty line. */
    g_checksum_update(sent, (const guchar *) head, strlen(head));
    for (int i = 0; i < 48; i++) {
	/* Different bytes per chunk: a misplaced piece changes the hash. */
	memset(chunk, 'a' + i % 26, sizeof(chunk));
	chunk[sizeof(chunk) - 1] = '\n';
	mctx_add_body(mc, chunk, sizeof(chunk));
	g_checksum_update(sent, chunk, sizeof(chunk));
	if (mc->raw)
	    most = MAX(most, mc->raw->len);
	if (mc->raw && mc->spool_fd >= 0)
	    spooled_then_memory = TRUE;
    }
    ok(most <= 64 * 1024, "bound: at most spool_threshold bytes ever in memory (%zu)", most);
    ok(mc->spool_fd >= 0 && mc->raw == NULL && !spooled_then_memory,
       "bound: once spooled, none of it in memory");
    mctx_raw(mc, &src);
    is_int(src.len, (long long) (48 * 65536 + strlen(head)), "bound: mctx_raw: all 3 MB at hand");
    while ((n = pread(src.fd, buf, sizeof(buf), (off_t) off)) > 0) {
	g_checksum_update(filed, buf, (gsize) n);
	off += (gsize) n;
    }
    is_int(off, (long long) src.len, "bound: the file holds that much");
    is_str(g_checksum_get_string(filed), g_checksum_get_string(sent),
	   "bound: the file is what came, byte for byte (SHA-256)");
    mctx_free(mc);
out:
    g_checksum_free(sent);
    g_checksum_free(filed);
    config_free(cfg);
}

static void test_oversize(void)
{
    g_autofree char *milter = g_strdup_printf("spool_directory = %s\nspool_threshold = 16K\n"
					      "max_message_size = 32K\nraw_max_size = 1M", tmpdir);
    struct intake_config *cfg = load("oversize.conf", milter);
    struct mctx *mc;
    json_t *env;

    if (!ok(cfg != NULL, "oversize: configuration loads"))
	return;
    mc = mctx_new(cfg);
    feed(mc, "<support@example.com>", 200 * 1024);
    ok(mctx_oversize(mc), "oversize: 200 KB over a 32 KB max_message_size");
    ok(!mctx_oversize_reject(mc), "oversize: mailbox with oversize = ticket takes it");
    ok(mc->kept == 32 * 1024, "oversize: max_message_size bytes kept (%zu)", mc->kept);
    env = mctx_envelope(mc);
    if (ok(env != NULL, "oversize: envelope built")) {
	ok(json_is_true(json_object_get(env, "truncated")), "oversize: truncated");
	ok(json_is_true(json_object_get(env, "raw_truncated")),
	   "oversize: raw_truncated (attachments listed, not stored)");
	is_int(json_integer_value(json_object_get(env, "size")), (long long) mc->size,
	       "oversize: size is all that came");
	has_str(envelope_str(env, "text"), "line 000000", "oversize: the text kept");
	{
	    json_t *w;
	    size_t  i;
	    int     said = 0;

	    json_array_foreach(json_object_get(env, "warnings"), i, w)
		said |= strstr(envelope_str(w, "item"), "max_message_size") != NULL;
	    ok(said, "oversize: a warning says so");
	}
    }
    json_decref(env);

    feed(mc, "<sales@example.com>", 200 * 1024);
    ok(mctx_oversize_reject(mc), "oversize: mailbox with oversize = reject refuses it");
    feed(mc, "<sales@example.com>", 1024);
    ok(!mctx_oversize_reject(mc), "oversize: a small mail to that mailbox is taken");
    mctx_free(mc);
    config_free(cfg);
}

static void test_spool_failure(void)
{
    g_autofree char *milter = g_strdup_printf("spool_directory = %s/missing\n"
					      "spool_threshold = 1K", tmpdir);
    struct intake_config *cfg = load("nospool.conf", milter);
    struct mctx *mc;

    if (!ok(cfg != NULL, "spool failure: configuration loads"))
	return;
    mc = mctx_new(cfg);
    feed(mc, "<support@example.com>", 8192);
    ok(mctx_spool_error(mc) != NULL, "spool failure: an error is kept");
    has_str(mctx_spool_error(mc), "spool_directory", "spool failure: it names the key");
    has_str(mctx_spool_error(mc), "missing", "spool failure: and the directory");
    ok(mctx_envelope(mc) == NULL, "spool failure: no envelope (the milter answers 451)");
    mctx_reset(mc);
    ok(mctx_spool_error(mc) == NULL, "spool failure: reset forgets it");
    mctx_free(mc);
    config_free(cfg);
}

/*
 * Recipients as long as an SMTP command line: up to max_recipients are
 * recorded, and mailbox recipients all and whole (the milter removes
 * those of a "deliver = no" mailbox by their exact address); an address
 * over 512 bytes is no mailbox's (common/addr.c).
 */
static void test_recipients(void)
{
    g_autofree char *milter = g_strdup_printf("spool_directory = %s\nmax_recipients = 10",
					      tmpdir);
    struct intake_config *cfg = load("rcpt.conf", milter);
    GString *addr = g_string_new(NULL);
    struct mctx *mc;
    json_t *env;

    if (!ok(cfg != NULL, "recipients: configuration loads"))
	return;
    mc = mctx_new(cfg);
    mctx_set_sender(mc, "<alice@example.org>");
    for (int i = 0; i < 1000; i++) {
	g_string_printf(addr, "<x%04d", i);
	while (addr->len < 1990)
	    g_string_append_c(addr, 'y');
	g_string_append(addr, "@example.org>");
	mctx_add_rcpt(mc, addr->str);
    }
    g_string_assign(addr, "<support+");
    while (addr->len < 1500)
	g_string_append_c(addr, 'z');
    g_string_append(addr, "@example.com>");
    ok(mctx_add_rcpt(mc, addr->str) == NULL, "recipients: a 1500-byte address is no mailbox's");
    g_string_assign(addr, "<support+");
    while (addr->len < 490)
	g_string_append_c(addr, 'z');
    g_string_append(addr, "@example.com>");
    ok(mctx_add_rcpt(mc, addr->str) != NULL, "recipients: a 500-byte mailbox address matches");
    is_int(mc->rcpts->len, 11, "recipients: max_recipients kept, and the mailbox one");
    is_int(strlen(g_ptr_array_index(mc->rcpts, 10)), (long long) addr->len - 2,
	   "recipients: the mailbox address kept whole, for the milter to remove it");
    mctx_add_header(mc, "Subject", "many", 0);
    mctx_end_headers(mc);
    mctx_add_body(mc, (const unsigned char *) "hi\r\n", 4);
    env = mctx_envelope(mc);
    if (ok(env != NULL, "recipients: envelope built")) {
	is_int(json_integer_value(json_object_get(env, "recipients_dropped")), 991,
	       "recipients: the others counted");
	ok(strlen(json_string_value(json_array_get(json_object_get(
		   json_array_get(json_object_get(env, "mailboxes"), 0), "recipients"), 0)))
	   <= 512, "recipients: at most 512 bytes of an address in the envelope");
    }
    json_decref(env);
    g_string_free(addr, TRUE);
    mctx_free(mc);
    config_free(cfg);
}

/*
 * A [milter] collectors recipient has no mailbox at RCPT but makes the
 * message read (n_matched), is kept past max_recipients, and its mailbox
 * is the one the headers name (common/forward.c).
 */
static void test_collector(void)
{
    g_autofree char *milter = g_strdup_printf("spool_directory = %s\nmax_recipients = 2\n"
					      "collectors = tickets@example.com", tmpdir);
    struct intake_config *cfg = load("collector.conf", milter);
    struct mctx *mc;
    json_t *env, *mb;

    if (!ok(cfg != NULL, "collector: configuration loads"))
	return;
    mc = mctx_new(cfg);
    mctx_set_sender(mc, "<alice@example.org>");
    mctx_add_rcpt(mc, "<a@example.org>");
    mctx_add_rcpt(mc, "<b@example.org>");
    mctx_add_rcpt(mc, "<c@example.org>");
    is_int(mc->n_matched, 0, "collector: other recipients are not counted");
    ok(mctx_add_rcpt(mc, "<Tickets+x@Example.com>") == NULL, "collector: no mailbox at RCPT");
    is_int(mc->n_matched, 1, "collector: but counted, so that the message is read");
    is_int(mc->rcpts->len, 3, "collector: kept past max_recipients");
    mctx_add_header(mc, "X-Original-To", "sales@example.com", 0);
    mctx_add_header(mc, "Subject", "fwd", 0);
    mctx_end_headers(mc);
    mctx_add_body(mc, (const unsigned char *) "hi\r\n", 4);
    env = mctx_envelope(mc);
    mb = json_array_get(json_object_get(env, "mailboxes"), 0);
    is_int((long long) json_array_size(json_object_get(env, "mailboxes")), 1,
	   "collector: one mailbox in the envelope");
    is_str(envelope_str(mb, "name"), "sales", "collector: the one X-Original-To names");
    is_str(envelope_str(mb, "original_field"), "X-Original-To", "collector: found in X-Original-To");
    json_decref(env);
    mctx_free(mc);
    config_free(cfg);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;

    envelope_init();
    tmpdir = g_dir_make_tmp("intake-test-mctx-XXXXXX", &err);
    if (tmpdir == NULL)
	g_error("cannot make a temporary directory: %s", err->message);
    test_in_memory();
    test_spooled();
    test_memory_bound();
    test_oversize();
    test_spool_failure();
    test_recipients();
    test_collector();
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
