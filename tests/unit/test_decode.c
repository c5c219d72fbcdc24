/*
 * NAME
 *	test_decode - text-less mail through the worker's decode stage and pipeline
 * DESCRIPTION
 *	Every person-written mail becomes a ticket, also one without any
 *	text: only an attachment, a scanned PDF as the whole message, an
 *	image, an S/MIME or PGP encrypted or signed-only message, a calendar
 *	invitation, an empty body. Each mail is built here, goes the way
 *	the milter and the queue send it (envelope_build() ->
 *	envelope_encode() -> the stream entry's fields as the queue reads
 *	them, queue_entry_new()) and through pipeline_entry() into a SQLite
 *	store; the test then reads the ticket back (store show_ticket) and
 *	checks its title, the message's text and its attachments.
 *
 *	The envelope must say what the milter found ("encrypted"); one with it and
 *	no text gets a text naming the encrypted attachment. An entry with
 *	no "text" field at all is still refused (a corrupt entry is not a
 *	text-less mail). Where the milter cut a mail (its envelope's marks),
 *	the message's note names the [milter] limit.
 *
 *	Acknowledgements are not this test's subject (and need templates):
 *	the mailbox has acknowledge = no.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "config.h"
#include "ctl_show.h"
#include "envelope.h"
#include "pipeline.h"
#include "queue.h"
#include "tap.h"
#include "zframe.h"
#include <sqlite3.h>

/* The header of every mail; the subject is each case's label. */
#define HDR \
    "From: Alice Example <alice@customer.example>\r\n" \
    "To: support@example.test\r\n" \
    "Subject: %s\r\n" \
    "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n" \
    "Message-ID: <%u@customer.example>\r\n" \
    "MIME-Version: 1.0\r\n"

/* An S/MIME message (RFC 8551) of the given smime-type: the whole body is smime.p7m. */
#define SMIME(type, b64) \
    "Content-Type: application/pkcs7-mime; smime-type=" type "; name=\"smime.p7m\"\r\n" \
    "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n" \
    "Content-Transfer-Encoding: base64\r\n\r\n" b64 "\r\n"

#define B64 "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK\r\n"

static const struct {
    const char *label;
    const char *mime;			/* after HDR: the MIME header fields and body */
    const char *encrypted;		/* the envelope's "encrypted" member, or NULL */
    const char *text;			/* the message's text in the ticket */
    const char *attachments[4];		/* file names, in order */
    gboolean older;			/* as from an older milter: no "encrypted" member */
} cases[] = {
    {"plain text (control)",
	"Content-Type: text/plain; charset=utf-8\r\n\r\nMy printer is on fire.\r\n",
    NULL, "My printer is on fire.", {NULL}},
    {"only an attachment",
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	"--b\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n"
	"Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\n" B64 "--b--\r\n",
    NULL, "", {"invoice.pdf"}},
    {"a scanned PDF as the whole message",
	"Content-Type: application/pdf; name=\"scan0001.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\n" B64,
    NULL, "", {"scan0001.pdf"}},
    {"an image, inline",
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	"--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQ==\r\n--b--\r\n",
    NULL, "", {"image.jpg"}},
    {"S/MIME encrypted",
	SMIME("enveloped-data", "MIAGCSqGSIb3DQEHA6CAMIACAQAxggE="),
    "smime", "[encrypted message (S/MIME): see the attachment smime.p7m]", {"smime.p7m"}},
    {"S/MIME encrypted, envelope without 'encrypted' (older milter)",
	SMIME("enveloped-data", "MIAGCSqGSIb3DQEHA6CAMIACAQAxggE="),
    "smime", "", {"smime.p7m"}, TRUE},
    {"S/MIME signed-only (opaque)",
	SMIME("signed-data", "MIAGCSqGSIb3DQEHAqCAMIACAQExDzA="),
    NULL, "", {"smime.p7m"}},
    {"PGP/MIME encrypted",
	"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
	" boundary=\"b\"\r\n\r\n"
	"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
	"--b\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
	"Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"
	"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA1234567890=\r\n-----END PGP MESSAGE-----\r\n"
	"--b--\r\n",
    "pgp", "[encrypted message (PGP): see the attachment encrypted.asc]",
    {"attachment-1.txt", "encrypted.asc"}},
    {"PGP/MIME signed-only",
	"Content-Type: multipart/signed; micalg=pgp-sha256;"
	" protocol=\"application/pgp-signature\"; boundary=\"s\"\r\n\r\n"
	"--s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned, not sealed.\r\n"
	"--s\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n"
	"-----BEGIN PGP SIGNATURE-----\r\n\r\niQEzBAEBCAAdFiEE=\r\n-----END PGP SIGNATURE-----\r\n"
	"--s--\r\n",
    NULL, "Signed, not sealed.", {"signature.asc"}},
    {"a calendar invitation",
	"Content-Type: text/calendar; method=REQUEST; charset=utf-8;"
	" name=\"invite.ics\"\r\n\r\n"
	"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Call\r\n"
	"END:VEVENT\r\nEND:VCALENDAR\r\n",
    NULL, "", {"invite.ics"}},
    {"an empty body", "Content-Type: text/plain\r\n\r\n", NULL, "", {NULL}},
    {"no body at all", "", NULL, "", {NULL}},
};

/* case_index - the index of the case with that label (the test's own table: it exists) */
static gsize case_index(const char *label)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
	if (strcmp(cases[i].label, label) == 0)
	    return i;
    g_error("no case '%s'", label);
}

static struct intake_config *cfg;
static char *tmpdir;

static char *write_file(const char *name, const char *text)
{
    char   *path = g_build_filename(tmpdir, name, NULL);

    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
    return path;
}

static struct queue_entry *entry_patched(gsize i, const char *patch,
					 gboolean with_text);

/* entry_of - the stream entry the milter would write for case i, as the queue reads it */
static struct queue_entry *entry_of(gsize i, gboolean with_text)
{
    return entry_patched(i, NULL, with_text);
}

/* entry_patched - entry_of(), with the members of the JSON text patch set in the envelope */
static struct queue_entry *entry_patched(gsize i, const char *patch,
					 gboolean with_text)
{
    g_autofree char *raw = g_strdup_printf(HDR "%s", cases[i].label, (unsigned) i,
					   cases[i].mime);
    static const char *const rcpts[] = {"support@example.test"};
    const struct mailbox *matched[] = {config_mailbox(cfg, "support")};
    struct envelope_limits lim;
    struct envelope_input in = {
	.queue_id = "4QX1Z2abcd", .client_addr = "192.0.2.1", .client_name = "mx.example",
	.helo = "mx.example", .sender = "alice@customer.example", .recipients = rcpts,
	.matched = matched, .n_recipients = 1, .raw = raw, .raw_len = strlen(raw),
	.message_size = strlen(raw),
    };
    GPtrArray *fields = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    const char *text;
    gsize   text_len;
    json_t *env;
    char   *json;

    envelope_limits_from_config(&lim, cfg);
    env = envelope_build(&in, &lim);
    /* What the milter says of encryption; an older milter said nothing. */
    is_str(envelope_str(env, "encrypted"), cases[i].encrypted ? cases[i].encrypted : "",
	   "%s: envelope's 'encrypted'", cases[i].label);
    if (cases[i].older)
	json_object_del(env, "encrypted");
    if (patch) {
	json_t *p = json_loads(patch, 0, NULL);

	g_assert(p != NULL);
	json_object_update(env, p);
	json_decref(p);
    }
    json = envelope_encode(env, ENVELOPE_VERSION_PLAIN, &text, &text_len);
    /* The fields as common/enqueue.c writes them and hiredis hands them back. */
    g_ptr_array_add(fields, g_bytes_new("v", 1));
    g_ptr_array_add(fields, g_bytes_new("1", 1));
    g_ptr_array_add(fields, g_bytes_new("envelope", 8));
    g_ptr_array_add(fields, g_bytes_new(json, strlen(json)));
    if (with_text) {
	g_ptr_array_add(fields, g_bytes_new("text", 4));
	g_ptr_array_add(fields, g_bytes_new(text, text_len));
    }
    g_ptr_array_add(fields, g_bytes_new("raw", 3));
    g_ptr_array_add(fields, g_bytes_new(raw, strlen(raw)));
    free(json);
    json_decref(env);
    return queue_entry_new("1-1", fields, cfg);
}

/* run_entry - pipeline_entry() in a transaction of its own */
static enum pipe_result run_entry(struct pipeline *pl, struct queue_entry *e, char **why)
{
    const struct store_ops *ops = pl->store->ops;
    enum pipe_result r;
    char   *w = NULL;

    if (ops->begin(pl->store, &w) != STORE_OK) {
	*why = w;
	return PIPE_RETRY;
    }
    r = pipeline_entry(pl, e, NULL, why);
    if (r == PIPE_OK && ops->commit(pl->store, &w) != STORE_OK) {
	*why = w;
	return PIPE_RETRY;
    }
    if (r != PIPE_OK)
	ops->rollback(pl->store);
    return r;
}

/* newest_ticket - show_ticket() of the newest ticket, or NULL */
static json_t *newest_ticket(struct store *st)
{
    json_t *list = NULL, *t = NULL;
    char   *why = NULL;

    if (ctl_list_tickets(st, NULL, NULL, 1, &list, &why) != STORE_OK
	|| json_array_size(list) != 1
	|| ctl_show_ticket(st, envelope_str(json_array_get(list, 0), "number"), &t,
			   &why) != STORE_OK) {
	diag("cannot read the newest ticket: %s", why ? why : "none");
	g_free(why);
	t = NULL;
    }
    json_decref(list);
    return t;
}

static void test_cases(struct pipeline *pl)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	struct queue_entry *e = entry_of(i, TRUE);
	guint   before = pl->tickets_created;
	char   *why = NULL;
	g_autofree char *body = NULL;
	json_t *t, *msg, *atts;
	gsize   n = 0;

	if (!is_int(run_entry(pl, e, &why), PIPE_OK, "%s: processed", cases[i].label))
	    diag("  %s", why ? why : "");
	g_free(why);
	queue_entry_free(e);
	if (!is_int(pl->tickets_created - before, 1, "%s: one new ticket", cases[i].label))
	    continue;
	if (!ok((t = newest_ticket(pl->store)) != NULL, "%s: ticket readable", cases[i].label))
	    continue;
	is_str(envelope_str(t, "title"), cases[i].label, "%s: title", cases[i].label);
	is_int(json_array_size(json_object_get(t, "messages")), 1, "%s: one message",
	       cases[i].label);
	msg = json_array_get(json_object_get(t, "messages"), 0);
	body = g_strstrip(g_strdup(envelope_str(msg, "body")));
	is_str(body, cases[i].text,
	       "%s: text", cases[i].label);
	atts = json_object_get(msg, "attachments");
	while (cases[i].attachments[n]) {
	    json_t *a = json_array_get(atts, n);

	    is_str(a ? envelope_str(a, "filename") : "(none)", cases[i].attachments[n],
		   "%s: attachment %zu", cases[i].label, n + 1);
	    ok(a && json_is_true(json_object_get(a, "stored")), "%s: attachment %zu stored",
	       cases[i].label, n + 1);
	    n++;
	}
	is_int(json_array_size(atts), n, "%s: %zu attachments", cases[i].label, n);
	json_decref(t);
    }
}

/* The same mail again: a duplicate, no second ticket. */
static void test_duplicate(struct pipeline *pl)
{
    struct queue_entry *e = entry_of(case_index("only an attachment"), TRUE);
    guint   before = pl->tickets_created, dup = pl->duplicates;
    char   *why = NULL;

    is_int(run_entry(pl, e, &why), PIPE_OK, "text-less duplicate: processed");
    is_int(pl->tickets_created - before, 0, "text-less duplicate: no second ticket");
    is_int(pl->duplicates - dup, 1, "text-less duplicate: counted as duplicate");
    g_free(why);
    queue_entry_free(e);
}

/* An entry without a text field is corrupt, not text-less: it still fails. */
static void test_no_text_field(struct pipeline *pl)
{
    struct queue_entry *e = entry_of(case_index("plain text (control)"), FALSE);
    char   *why = NULL;

    ok(e->text == NULL, "entry without text field: text is NULL");
    is_int(run_entry(pl, e, &why), PIPE_FAIL, "entry without text field: fails");
    has_str(why, "member 'text' is missing", "entry without text field: says why");
    g_free(why);
    queue_entry_free(e);

    /* and an empty text field is there, empty */
    e = entry_of(case_index("an empty body"), TRUE);
    ok(e->text != NULL && e->text_len == 0, "empty text field: \"\", not NULL");
    queue_entry_free(e);
}

/* Where the milter cut a mail, the message's note says so, naming the limit. */
static void test_cut(struct pipeline *pl)
{
    static const struct {
	const char *label;
	const char *patch;
	const char *note[3];
    } cut[] = {
	{"nothing cut", "{}", {NULL}},
	{"message over max_message_size",
	    "{\"truncated\": true, \"size\": 60000000, \"raw_truncated\": true}",
	{"(60000000 bytes) was larger than [milter] max_message_size",
	 "kept up to [milter] raw_max_size"}},
	{"text cut", "{\"text_truncated\": true}", {"text was cut at [milter] max_text_size"}},
	{"parts not listed", "{\"attachments_truncated\": true, \"headers_dropped\": 7}",
	{"more parts than [milter] max_attachments", "7 header fields beyond [milter] max_headers"}},
	{"MIME structure cut", "{\"mime_truncated\": true}",
	{"[milter] max_mime_parts or max_mime_depth", "kept in the original but not parsed"}},
    };
    json_t *t, *msg;
    char   *why = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(cut); i++) {
	g_autofree char *label = g_strdup_printf("cut: %s", cut[i].label);
	json_t *patch = json_pack("{s:s, s:s+, s:s+}", "subject", label,
				  "message_id", "cut", cut[i].label, "dedupe_key", "cut", cut[i].label);
	json_t *marks = json_loads(cut[i].patch, 0, NULL);
	char   *text;
	struct queue_entry *e;

	json_object_update(patch, marks);
	text = json_dumps(patch, JSON_COMPACT);
	e = entry_patched(case_index("plain text (control)"), text, TRUE);
	free(text);
	json_decref(marks);
	json_decref(patch);
	is_int(run_entry(pl, e, &why), PIPE_OK, "%s: processed", label);
	g_clear_pointer(&why, g_free);
	queue_entry_free(e);
	if (!ok((t = newest_ticket(pl->store)) != NULL, "%s: ticket", label))
	    continue;
	is_str(envelope_str(t, "title"), label, "%s: its ticket", label);
	msg = json_array_get(json_object_get(t, "messages"), 0);
	if (cut[i].note[0] == NULL)
	    ok(json_is_null(json_object_get(msg, "note")), "%s: no note", label);
	for (int k = 0; cut[i].note[k]; k++)
	    has_str(envelope_str(msg, "note"), cut[i].note[k], "%s: note", label);
	json_decref(t);
    }
}

/*
 * packed - the entry's fields as a milter with stream_compression = zstd
 * writes them: v 2, text and raw each a zstd frame, enc. raw_frame (with
 * its length) replaces the raw field's frame; enc NULL leaves enc out.
 */
static struct queue_entry *packed(struct queue_entry *plain, const char *enc,
				  const void *raw_frame, gsize raw_frame_len)
{
    GPtrArray *fields = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    gsize   zlen;
    char   *z;
    struct queue_entry *e;

    g_ptr_array_add(fields, g_bytes_new("v", 1));
    g_ptr_array_add(fields, g_bytes_new("2", 1));
    g_ptr_array_add(fields, g_bytes_new("envelope", 8));
    g_ptr_array_add(fields, g_bytes_new(plain->envelope, plain->len));
    z = zframe_pack(plain->text, plain->text_len, &zlen);
    g_ptr_array_add(fields, g_bytes_new("text", 4));
    g_ptr_array_add(fields, g_bytes_new_take(z, zlen));
    if (enc) {
	g_ptr_array_add(fields, g_bytes_new("enc", 3));
	g_ptr_array_add(fields, g_bytes_new(enc, strlen(enc)));
    }
    z = raw_frame ? g_memdup2(raw_frame, raw_frame_len)
	: zframe_pack(plain->raw, plain->raw_len, &zlen);
    g_ptr_array_add(fields, g_bytes_new("raw", 3));
    g_ptr_array_add(fields, g_bytes_new_take(z, raw_frame ? raw_frame_len : zlen));
    e = queue_entry_new("1-2", fields, cfg);
    queue_entry_free(plain);
    return e;
}

/*
 * Compressed entries (version 2) become the same ticket as plain ones;
 * one whose frames cannot be read (corrupt, claiming more than
 * raw_max_size, an unknown enc) fails with the reason.
 */
static void test_packed(struct pipeline *pl)
{
    static const char patch[] = "{\"subject\": \"packed\", \"message_id\": \"packed\","
	" \"dedupe_key\": \"packed\", \"v\": 2}";
    gsize   at = case_index("only an attachment");
    struct queue_entry *e = packed(entry_patched(at, patch, TRUE), "zstd", NULL, 0);
    struct queue_entry *plain = entry_patched(at, patch, TRUE);
    /* A frame header claiming 100 GB (single segment, 8-byte size), then an empty last block. */
    static const guchar claim[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0x00, 0xe8, 0x76, 0x48, 0x17,
	0, 0, 0, 0x01, 0, 0};
    char   *why = NULL;
    json_t *t, *msg;

    ok(e->packed && e->unpacked_text == NULL && e->raw_zstd == NULL,
       "packed: read, not unpacked yet (the first stage does it, off the reading thread)");
    is_int(queue_entry_unpack(e), 0, "packed: queue_entry_unpack");
    is_int(queue_entry_unpack(e), 0, "packed: queue_entry_unpack again: nothing more to do");
    ok(e->error == NULL && e->text_len == plain->text_len
       && memcmp(e->text, plain->text, plain->text_len) == 0,
       "packed: the text reads back as it was (%s)", e->error ? e->error : "ok");
    {
	gsize   n = 0;
	g_autofree char *why2 = NULL;
	g_autofree char *back = e->raw_zstd ? zframe_unpack(e->raw_zstd, e->raw_zstd_len,
							     plain->raw_len, &n, &why2) : NULL;

	ok(e->raw == NULL && e->raw_len == plain->raw_len && back && n == plain->raw_len
	   && memcmp(back, plain->raw, n) == 0,
	   "packed: the original checked, kept only as its frame, which holds it (%s)",
	   why2 ? why2 : "ok");
    }
    queue_entry_free(plain);
    is_int(run_entry(pl, e, &why), PIPE_OK, "packed: processed (%s)", why ? why : "ok");
    g_clear_pointer(&why, g_free);
    queue_entry_free(e);
    if (ok((t = newest_ticket(pl->store)) != NULL, "packed: ticket")) {
	msg = json_array_get(json_object_get(t, "messages"), 0);
	is_str(envelope_str(t, "title"), "packed", "packed: its ticket");
	has_str(envelope_str(msg, "body"), cases[at].text, "packed: its text");
	ok(json_is_true(json_object_get(json_array_get(json_object_get(msg, "attachments"), 0),
					"stored")), "packed: its attachment, from the original");
	json_decref(t);
    }

    /*
     * The text's frame is stored as it came (not compressed a second time)
     * and reads back as the text.
     */
    at = case_index("plain text (control)");
    e = packed(entry_patched(at, "{\"subject\": \"packed text\", \"message_id\": \"packed-text\","
			    " \"dedupe_key\": \"packed-text\", \"v\": 2}", TRUE), "zstd", NULL, 0);
    is_int(queue_entry_unpack(e), 0, "packed text: queue_entry_unpack");
    {
	g_autofree char *frame = g_memdup2(e->text_zstd, e->text_zstd_len);
	gsize   frame_len = e->text_zstd_len;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	g_autofree char *path = g_build_filename(tmpdir, "tickets.db", NULL);

	ok(frame != NULL, "packed text: the entry keeps the text's frame");
	is_int(run_entry(pl, e, &why), PIPE_OK, "packed text: processed (%s)", why ? why : "ok");
	g_clear_pointer(&why, g_free);
	if (ok(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
	       && sqlite3_prepare_v2(db, "SELECT body FROM messages ORDER BY id DESC LIMIT 1", -1,
				     &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW,
	       "packed text: its message row"))
	    ok(frame && (gsize) sqlite3_column_bytes(q, 0) == frame_len
	       && memcmp(sqlite3_column_blob(q, 0), frame, frame_len) == 0,
	       "packed text: the body is the milter's frame, byte for byte");
	sqlite3_finalize(q);
	sqlite3_close(db);
    }
    queue_entry_free(e);
    if (ok((t = newest_ticket(pl->store)) != NULL, "packed text: ticket")) {
	msg = json_array_get(json_object_get(t, "messages"), 0);
	has_str(envelope_str(msg, "body"), cases[at].text, "packed text: the text reads back");
	json_decref(t);
    }

    at = case_index("only an attachment");
    e = packed(entry_patched(at, patch, TRUE), "zstd", claim, sizeof(claim));
    is_int(run_entry(pl, e, &why), PIPE_FAIL, "raw claiming 100 GB: fails");
    has_str(why, "field 'raw': the zstd frame holds 100000000000 bytes, more than the limit",
	    "raw claiming 100 GB: says why");
    has_str(why, "[milter] raw_max_size", "raw claiming 100 GB: names the limit");
    g_clear_pointer(&why, g_free);
    queue_entry_free(e);

    e = packed(entry_patched(at, patch, TRUE), "zstd", "\x28\xb5\x2f\xfd\x20\x05", 6);
    is_int(run_entry(pl, e, &why), PIPE_FAIL, "truncated raw: fails");
    has_str(why, "field 'raw': the zstd frame is truncated", "truncated raw: says why");
    g_clear_pointer(&why, g_free);
    queue_entry_free(e);

    e = packed(entry_patched(at, patch, TRUE), "lz4", NULL, 0);
    is_int(run_entry(pl, e, &why), PIPE_FAIL, "unknown enc: fails");
    has_str(why, "unknown encoding 'lz4'", "unknown enc: says why");
    g_clear_pointer(&why, g_free);
    queue_entry_free(e);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;
    GPtrArray *errors = NULL;
    struct pipeline pl = {0};
    char   *conf, *why = NULL;
    int     status;

    envelope_init();
    tmpdir = g_dir_make_tmp("intake-test-decode-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    conf = write_file("intake.conf",
		      "[worker]\nlog = stderr\n"
		      "[store]\npath = tickets.db\n"
		      "[mailbox support]\naddress = support@example.test\nacknowledge = no\n");
    cfg = config_load(conf, &errors);
    if (!ok(cfg != NULL, "config_load")) {
	for (guint i = 0; errors && i < errors->len; i++)
	    diag("  %s", (const char *) g_ptr_array_index(errors, i));
	return tap_done();
    }
    pl.cfg = cfg;
    pl.store = store_open(cfg, &why);
    if (!ok(pl.store != NULL, "store_open")) {
	diag("  %s", why);
	return tap_done();
    }

    test_cases(&pl);
    test_duplicate(&pl);
    test_no_text_field(&pl);
    test_cut(&pl);
    test_packed(&pl);

    store_close(pl.store);
    config_free(cfg);
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    g_free(conf);
    status = tap_done();
    return status;
}
