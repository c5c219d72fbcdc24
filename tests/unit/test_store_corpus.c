/*
 * NAME
 *	test_store_corpus - every attachment of the corpus, read back from
 *	the stored original
 * SYNOPSIS
 *	test_store_corpus
 * DESCRIPTION
 *	Each message of the corpus (directory $INTAKE_CORPUS, default
 *	../shared/corpus) goes through envelope_build() with the default
 *	[milter] limits, as the milter sends it, and is stored as the
 *	worker stores it (stage_store_attachments(): references into the
 *	original). Then every attachment is read back with ctl_attachment(),
 *	as intakectl attachment does, from the compressed original: its
 *	bytes must have the SHA-256 and size the milter's walk noted, and
 *	equal what envelope_attachments() (the decoder the worker used
 *	before schema 4) makes of the same original.
 *
 *	TAP on stdout; exit status 0 when all passed, 77 when the corpus is
 *	not there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "config.h"
#include "ctl_show.h"
#include "envelope.h"
#include "job.h"
#include "store.h"
#include "tap.h"

/* Counts over the corpus, and what went wrong (diag). */
struct tally {
    int     messages;
    int     attachments;
    int     read_back;
    GPtrArray *bad;
};

/* check_message - store one message, read its attachments back */
static void check_message(struct store *st, const struct intake_config *cfg, const char *rel,
			  const char *raw, gsize len, struct tally *t)
{
    static const char *const rcpts[] = {"support@example.test"};
    const struct mailbox *matched[] = {config_mailbox(cfg, "support")};
    struct envelope_limits lim;
    struct envelope_input in = {
	.queue_id = "4QX1Z2abcd", .client_addr = "192.0.2.1", .client_name = "mx.example.org",
	.helo = "mx.example.org", .sender = "alice@example.org", .recipients = rcpts,
	.matched = matched, .n_recipients = 1, .raw = raw, .raw_len = len,
	.message_size = len,
    };
    json_t *env, *shown = NULL, *shown_atts, *a;
    g_autoptr(GPtrArray) atts = NULL;
    g_autoptr(GPtrArray) old = NULL;
    g_autofree char *number = NULL;
    g_autofree char *limits = NULL;
    g_autofree char *dedupe = g_strdup_printf("corpus:%s", rel);
    g_autoptr(GBytes) rawb = g_bytes_new_static(raw, len);
    struct store_ticket tk = {.mailbox = "support", .title = rel,
			      .customer_address = "alice@example.org"};
    struct store_message m = {.direction = "in", .dedupe_key = dedupe, .subject = rel,
			      .body = "", .sender_address = "alice@example.org", .raw = rawb};
    char   *why = NULL;
    gint64  tid = 0;
    size_t  i;
    gboolean whole;

    envelope_limits_from_config(&lim, cfg);
    env = envelope_build(&in, &lim);
    t->messages++;
    if (json_array_size(json_object_get(env, "attachments")) == 0) {
	json_decref(env);
	return;
    }
    whole = !json_is_true(json_object_get(env, "raw_truncated"));
    atts = stage_store_attachments(env, whole);
    limits = json_dumps(json_object_get(env, "mime_limits"), JSON_COMPACT);
    m.attachments = atts;
    m.mime_limits = limits;
    if (st->ops->create_ticket(st, &tk, "COR", &tid, &number, &why) != STORE_OK
	|| st->ops->add_message(st, tid, &m, NULL, &why) != STORE_OK
	|| ctl_show_ticket(st, number, &shown, &why) != STORE_OK) {
	g_ptr_array_add(t->bad, g_strdup_printf("%s: cannot store: %s", rel, why));
	g_free(why);
	json_decref(env);
	return;
    }
    old = envelope_attachments(env, raw, len);
    shown_atts = json_object_get(json_array_get(json_object_get(shown, "messages"), 0),
				 "attachments");
    json_array_foreach(json_object_get(env, "attachments"), i, a) {
	const char *want = json_string_value(json_object_get(a, "sha256"));
	gint64  id = json_integer_value(json_object_get(json_array_get(shown_atts, i), "id"));
	g_autoptr(GBytes) got = NULL;
	g_autofree char *sum = NULL;
	GBytes *before = old && i < old->len ? g_ptr_array_index(old, i) : NULL;

	t->attachments++;
	if (!whole)
	    continue;
	if (ctl_attachment(st, number, id, &got, &why) != STORE_OK) {
	    g_ptr_array_add(t->bad, g_strdup_printf("%s: attachment %zu: %s", rel, i, why));
	    g_clear_pointer(&why, g_free);
	    continue;
	}
	sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, got);
	if (want == NULL || strcmp(sum, want) != 0
	    || (gint64) g_bytes_get_size(got) != json_integer_value(json_object_get(a, "size")))
	    g_ptr_array_add(t->bad, g_strdup_printf("%s: attachment %zu (%s): SHA-256 %s, size"
						    " %zu; the milter saw %s", rel, i,
						    envelope_str(a, "filename"), sum,
						    g_bytes_get_size(got), want ? want : "none"));
	else if (before == NULL || !g_bytes_equal(before, got))
	    g_ptr_array_add(t->bad, g_strdup_printf("%s: attachment %zu: differs from"
						    " envelope_attachments()", rel, i));
	else
	    t->read_back++;
    }
    json_decref(shown);
    json_decref(env);
}

int     main(void)
{
    const char *dir = g_getenv("INTAKE_CORPUS");
    g_autoptr(GError) err = NULL;
    g_autofree char *tmpdir = NULL;
    g_autofree char *conf = NULL;
    g_autofree char *db = NULL;
    GPtrArray *errors = NULL;
    GPtrArray *files;
    struct intake_config *cfg;
    struct tally t = {0, 0, 0, g_ptr_array_new_with_free_func(g_free)};
    struct store *st;
    char   *why = NULL;
    int     whole_attachments = 0;

    if (dir == NULL || *dir == 0)
	dir = "../shared/corpus";
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
	printf("skipped: corpus not found (%s)\n", dir);
	g_ptr_array_unref(t.bad);
	return 77;
    }
    envelope_init();
    if ((tmpdir = g_dir_make_tmp("intake-test-store-corpus-XXXXXX", &err)) == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    conf = g_build_filename(tmpdir, "intake.conf", NULL);
    db = g_build_filename(tmpdir, "tickets.db", NULL);
    if (!g_file_set_contents(conf, "[store]\npath = tickets.db\n\n"
			     "[mailbox support]\naddress = support@example.test\n", -1, &err)) {
	fprintf(stderr, "cannot write %s: %s\n", conf, err->message);
	return 1;
    }
    cfg = config_load(conf, &errors);
    if (!ok(cfg != NULL, "config_load")) {
	for (guint i = 0; errors && i < errors->len; i++)
	    diag("  %s", (const char *) g_ptr_array_index(errors, i));
	return tap_done();
    }
    if (!ok((st = store_open(cfg, &why)) != NULL, "store_open")) {
	diag("  %s", why);
	return tap_done();
    }
    files = tap_corpus_files(dir);
    for (guint i = 0; i < files->len; i++) {
	const char *path = g_ptr_array_index(files, i);
	g_autofree char *raw = NULL;
	gsize   len;

	if (!g_file_get_contents(path, &raw, &len, NULL)) {
	    g_ptr_array_add(t.bad, g_strdup_printf("%s: cannot read", path));
	    continue;
	}
	check_message(st, cfg, path + strlen(dir) + 1, raw, len, &t);
    }
    g_ptr_array_unref(files);
    for (guint i = 0; i < t.bad->len; i++)
	diag("%s", (const char *) g_ptr_array_index(t.bad, i));
    whole_attachments = t.read_back + (int) t.bad->len;
    ok(t.messages > 300, "corpus: %d messages", t.messages);
    ok(t.attachments > 100, "corpus: %d attachments listed by the milter", t.attachments);
    ok(t.bad->len == 0 && t.read_back > 0,
       "corpus: %d of %d attachments read back from the stored original with the milter's"
       " SHA-256 and size", t.read_back, whole_attachments);
    store_close(st);
    g_ptr_array_unref(t.bad);
    config_free(cfg);
    (void) g_unlink(db);
    {
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);

	(void) g_unlink(wal);
	(void) g_unlink(shm);
    }
    (void) g_unlink(conf);
    (void) g_rmdir(tmpdir);
    return tap_done();
}
