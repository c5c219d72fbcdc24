/*
 * NAME
 *	test_store - unit tests of the SQLite ticket store (worker/store_sqlite.c)
 * DESCRIPTION
 *	Loads a minimal intake.conf from a private temporary directory
 *	([store] path there, busy_timeout 100ms, one mailbox) and drives
 *	every store operation through store.h, checking results through the
 *	store and, where the store has no read function (schema version,
 *	journal mode, full-text index, counts), through a separate read-only
 *	SQLite connection. Each test_*() function is one topic; they run in
 *	order on one database, so later tests see the tickets of earlier ones.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <zstd.h>

#include "config.h"
#include "ctl_show.h"
#include "store.h"
#include "tap.h"

static char *tmpdir;
static struct intake_config *cfg;
static int year;				/* current UTC year */

/* ---------------------------------------------------------------- */
/*	Helpers								    */
/* ---------------------------------------------------------------- */

/* write_file - write text to tmpdir/name; newly allocated path */
static char *write_file(const char *name, const char *text)
{
    char   *path = g_build_filename(tmpdir, name, NULL);
    g_autoptr(GError) err = NULL;

    if (!g_file_set_contents(path, text, -1, &err))
	g_error("cannot write %s: %s", path, err->message);
    return path;
}


/* open_store - store_open() that must succeed (aborts the test otherwise) */
static struct store *open_store(const char *name)
{
    g_autofree char *why = NULL;
    struct store *st = store_open(cfg, &why);

    if (!ok(st != NULL, "%s: store_open", name)) {
	diag("  %s", why);
	tap_done();
	exit(1);
    }
    return st;
}

/*
 * sql_text - the first column of the first row of a query, newly
 * allocated ("" for NULL, NULL when there is no row), run on a private
 * read-only connection to the database file at path.
 */
static char *sql_text(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    char   *value = NULL;
    int     rc;

    if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)) != SQLITE_OK
	|| (rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL)) != SQLITE_OK) {
	diag("%s: %s: %s", path, sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return NULL;
    }
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
	const char *text = (const char *) sqlite3_column_text(s, 0);

	value = g_strdup(text ? text : "");
    } else if (rc != SQLITE_DONE) {
	diag("%s: %s: %s", path, sql, sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return value;
}

static long long sql_int(const char *path, const char *sql)
{
    g_autofree char *text = sql_text(path, sql);

    return text ? g_ascii_strtoll(text, NULL, 10) : -1;
}

/* json_str - a string member of a JSON object, or NULL */
static const char *json_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const char *const no_ids[] = {NULL};

/* A typical incoming mail; tests change what they need. */
static struct store_message message(const char *dedupe_key, const char *message_id,
				            const char *sender, const char *body)
{
    struct store_message m = {
	.direction = "in",
	.envelope_id = "env-1",
	.queue_id = "4XyZ1",
	.dedupe_key = dedupe_key,
	.message_id = message_id,
	.sender_name = "Alice Example",
	.sender_address = sender,
	.recipients = "[\"support@example.test\"]",
	.subject = "Printer on fire",
	.header_fields = "[[\"X-Priority\", \"1\"]]",
	.body = body,
	.thread_ids = no_ids,
    };

    return m;
}

static struct store_ticket ticket(const char *title, const char *customer)
{
    struct store_ticket t = {
	.mailbox = "support",
	.title = title,
	.category = "hardware",
	.priority = "high",
	.customer_name = "Alice Example",
	.customer_address = customer,
    };

    return t;
}

/* new_ticket - create_ticket() that is checked; returns the id, *number (g_free) */
static gint64 new_ticket(struct store *st, const char *title, const char *customer,
			         char **number)
{
    struct store_ticket t = ticket(title, customer);
    g_autofree char *why = NULL;
    gint64  id = 0;

    *number = NULL;
    if (!is_int(st->ops->create_ticket(st, &t, "INT", &id, number, &why), STORE_OK,
		"create_ticket '%s'", title))
	diag("  %s", why);
    return id;
}

/* ---------------------------------------------------------------- */
/*	Tests								    */
/* ---------------------------------------------------------------- */

/* The schema is created on first open, kept on reopen. */
static void test_schema(void)
{
    static const char *const tables[] = {
	"counters", "tickets", "messages", "attachments", "thread_ids", "parties",
	"outbox", "messages_fts", "autogen", "cases", "ticket_tags", "faq", "faq_fts", "ticket_faq",
	"category_docs", "category_terms", "projects", "tasks", "notes", "time_entries", "events",
	"sink_refs",
    };
    struct store *st = open_store("new database");

    is_int(sql_int(cfg->store_path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "user_version is the schema version");
    is_int(STORE_SCHEMA_VERSION, 8, "schema version 8");
    for (gsize i = 0; i < G_N_ELEMENTS(tables); i++) {
	g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM sqlite_schema"
					       " WHERE type = 'table' AND name = '%s'",
					       tables[i]);

	is_int(sql_int(cfg->store_path, sql), 1, "table %s exists", tables[i]);
    }
    {
	g_autofree char *mode = sql_text(cfg->store_path, "PRAGMA journal_mode");

	is_str(mode, "wal", "journal mode is WAL");
    }
    st = store_close(st);
    ok(st == NULL, "store_close returns NULL");
    st = open_store("reopened database");
    is_int(sql_int(cfg->store_path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "user_version unchanged by reopening");
    store_close(st);
}

/* open_elsewhere - store_open() on another path; NULL expected, *why returned */
static struct store *open_elsewhere(const char *path, char **why)
{
    char   *saved = cfg->store_path;
    struct store *st;

    cfg->store_path = (char *) path;
    st = store_open(cfg, why);
    cfg->store_path = saved;
    return st;
}

/*
 * What schema 5 added (FAQ entries, their index and triggers, ticket_faq;
 * sentiment; category suggestion; projects, tasks, notes, time entries), undone.
 */
/* What schema 7 added (branch classify2: the FAQ version), undone: back to schema 6. */
/* What schema 8 changed (messages_fts without positions), undone: back to schema 7. */
#define SCHEMA_8_UNDO \
    "DROP TABLE messages_fts; CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body," \
    " content='', tokenize='unicode61 remove_diacritics 2');"

#define SCHEMA_7_UNDO SCHEMA_8_UNDO \
    "DROP TRIGGER faq_version_ai; DROP TRIGGER faq_version_ad; DROP TRIGGER faq_version_au;" \
    "DELETE FROM counters WHERE name = 'faq-version';"

/* What schema 6 added (branch sinks: the event outbox), undone: back to schema 5. */
#define SCHEMA_6_UNDO SCHEMA_7_UNDO \
    "DROP TABLE events; DROP TABLE sink_refs; DELETE FROM counters WHERE name = 'event';"

#define SCHEMA_5_UNDO SCHEMA_6_UNDO \
    "DROP TABLE faq_fts; DROP TABLE faq; DROP TABLE ticket_faq;" \
    "ALTER TABLE tickets DROP COLUMN sentiment; ALTER TABLE tickets DROP COLUMN sentiment_score;" \
    "DROP TABLE category_docs; DROP TABLE category_terms; DROP INDEX tickets_confirmed;" \
    "DELETE FROM counters WHERE name = 'category-model';" \
    "ALTER TABLE tickets DROP COLUMN category_suggested;" \
    "ALTER TABLE tickets DROP COLUMN category_confidence;" \
    "ALTER TABLE tickets DROP COLUMN category_confirmed;" \
    "DROP TABLE time_entries; DROP TABLE notes; DROP TABLE tasks; DROP TABLE projects;"

/*
 * What schemas 5 and 4 added (routing, messages.full_text, compressed
 * originals and attachment references), undone: back to schema 3 (an empty
 * database: no raw to inflate).
 */
#define SCHEMA_4_UNDO SCHEMA_5_UNDO \
    "ALTER TABLE messages DROP COLUMN full_text;" \
    "DROP TABLE ticket_tags; DROP INDEX tickets_case; DROP INDEX tickets_queue;" \
    "ALTER TABLE tickets DROP COLUMN queue; ALTER TABLE tickets DROP COLUMN assignee;" \
    "ALTER TABLE tickets DROP COLUMN case_id; ALTER TABLE tickets DROP COLUMN rules;" \
    "DROP TABLE cases;" \
    "DROP TABLE blobs; ALTER TABLE attachments DROP COLUMN part;" \
    "ALTER TABLE attachments DROP COLUMN sha256; ALTER TABLE attachments DROP COLUMN blob_id;" \
    "ALTER TABLE messages DROP COLUMN mime_limits;"

/* What schemas 4 and 3 added, undone: back to schema 2 (the outbox keeps its wider CHECK). */
#define SCHEMA_3_UNDO SCHEMA_4_UNDO \
    "DROP TABLE autogen; DROP INDEX tickets_created;" \
    "DROP INDEX tickets_linked; DROP INDEX tickets_near;" \
    "ALTER TABLE tickets DROP COLUMN closed_at; ALTER TABLE tickets DROP COLUMN linked_to;" \
    "ALTER TABLE tickets DROP COLUMN link_reason; ALTER TABLE tickets DROP COLUMN sender_key;" \
    "ALTER TABLE tickets DROP COLUMN subject_key;"

/*
 * old_database - a database at path made by this version, then taken back
 * by sql (which ends by setting user_version) to an older schema, and
 * opened again (migrated); returns the store (store_close).
 */
static struct store *old_database(const char *path, const char *label, const char *sql)
{
    g_autofree char *migrated = g_strdup_printf("%s, migrated", label);
    sqlite3 *db = NULL;

    cfg->store_path = (char *) path;
    store_close(open_store(label));
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
	diag("cannot make %s: %s", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return open_store(migrated);
}

/*
 * Schema 2 -> 3 on a database holding data: a closed
 * ticket gets its closed_at from updated_at, an open one none.
 */
static void test_migrate_v2(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "v2.db", NULL);
    char   *saved = cfg->store_path;
    struct store *st = old_database(path, "v2 database", SCHEMA_3_UNDO
				    "INSERT INTO tickets(number, mailbox, status, title,"
				    " customer_address, created_at, updated_at) VALUES"
				    " ('INT-2026-000001', 'support', 'closed', 't', 'a@x.test',"
				    "  '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'),"
				    " ('INT-2026-000002', 'support', 'open', 't', 'a@x.test',"
				    "  '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z');"
				    "PRAGMA user_version = 2");

    is_int(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "v2 migrated: schema version %d", STORE_SCHEMA_VERSION);
    is_int(sql_int(path, "SELECT count(*) FROM tickets WHERE number = 'INT-2026-000001'"
		   " AND closed_at = '2026-02-01T00:00:00Z'"), 1,
	   "v2 migrated: a closed ticket's closed_at is its last update");
    is_int(sql_int(path, "SELECT count(*) FROM tickets WHERE closed_at IS NULL"), 1,
	   "v2 migrated: an open ticket has no closed_at");
    store_close(st);
    cfg->store_path = saved;
}

/*
 * inflated - messages.raw of row id, zstd-decompressed here, not by the
 * code under test (NULL: none, or not a frame).
 */
static GBytes *inflated(const char *path, gint64 id)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    GBytes *out = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
	&& sqlite3_prepare_v2(db, "SELECT raw FROM messages WHERE id = ?1", -1, &s,
			      NULL) == SQLITE_OK
	&& sqlite3_bind_int64(s, 1, id) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW
	&& sqlite3_column_type(s, 0) == SQLITE_BLOB) {
	const void *z = sqlite3_column_blob(s, 0);
	size_t  zlen = (size_t) sqlite3_column_bytes(s, 0);
	unsigned long long n = ZSTD_getFrameContentSize(z, zlen);

	if (n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN && n < (1 << 26)) {
	    void   *buf = g_malloc(n + 1);
	    size_t  got = ZSTD_decompress(buf, n, z, zlen);

	    if (!ZSTD_isError(got) && got == n)
		out = g_bytes_new_take(buf, n);
	    else
		g_free(buf);
	}
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

/*
 * Schema 3 -> 4 on a database holding tickets, messages (originals kept
 * as they came) and attachments stored decoded apart, two of them the
 * same bytes: afterwards every original reads back byte-identical from
 * its zstd frame, every attachment byte-identical through
 * ctl_attachment(), and identical contents are stored once.
 */
static void test_migrate_v3(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "v3.db", NULL);
    char   *saved = cfg->store_path;
    /* A raw with every byte value and a CR LF mail, as schema 3 stored them. */
    static const char mail[] = "From: a@x.test\r\nSubject: old\r\n\r\nold body\r\n";
    g_autofree char *blob_hex = NULL;
    GString *all = g_string_new(NULL);
    GString *sql = g_string_new(SCHEMA_4_UNDO);
    struct store *st;
    static const struct {
	gint64  id;
	const char *number;
	const char *content;		/* hex; NULL: listed, not stored */
    } atts[] = {
	{1, "INT-1", "25504446"}, {2, "INT-1", "00ff00ff0d0a"}, {3, "INT-2", "25504446"},
	{4, "INT-2", NULL}, {5, "INT-2", ""},
    };

    for (int i = 0; i < 256; i++)
	g_string_append_printf(all, "%02x", i);
    blob_hex = g_string_free(all, FALSE);
    g_string_append_printf(sql,
			   "INSERT INTO tickets(id, number, mailbox, status, title,"
			   " customer_address, created_at, updated_at) VALUES"
			   " (1, 'INT-1', 'support', 'new', 't', 'a@x', 'x', 'x'),"
			   " (2, 'INT-2', 'support', 'new', 't', 'a@x', 'x', 'x');"
			   "INSERT INTO messages(id, ticket_id, direction, subject, body, raw,"
			   " created_at) VALUES (1, 1, 'in', 's', 'Frobnicate the widget, café', x'%s',"
			   " 'x'), (2, 2, 'in', 's', 'b', CAST('%s' AS BLOB), 'x'),"
			   " (3, 2, 'out', 's', 'b', NULL, 'x');"
			   "UPDATE counters SET value = 3 WHERE name = 'fts-indexed';"
			   "INSERT INTO autogen(id, dedupe_key, mailbox, kind, envelope, raw,"
			   " created_at) VALUES(1, 'k', 'support', 'bounce', '{}', x'%s', 'x');",
			   blob_hex, mail, blob_hex);
    for (gsize i = 0; i < G_N_ELEMENTS(atts); i++)
	g_string_append_printf(sql, "INSERT INTO attachments(id, message_id, filename, size,"
			       " content, stored) VALUES(%" G_GINT64_FORMAT ", %d, 'f%zu', %zu,"
			       " %s%s%s, %d);", atts[i].id, atts[i].number[4] == '1' ? 1 : 2,
			       i, atts[i].content ? strlen(atts[i].content) / 2 : 99,
			       atts[i].content ? "x'" : "NULL", atts[i].content ? atts[i].content
			       : "", atts[i].content ? "'" : "", atts[i].content != NULL);
    g_string_append(sql, "PRAGMA user_version = 3");
    st = old_database(path, "v3 database", sql->str);
    g_string_free(sql, TRUE);

    is_int(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "v3 migrated: schema version %d", STORE_SCHEMA_VERSION);
    {
	g_autoptr(GBytes) one = inflated(path, 1);
	g_autoptr(GBytes) two = inflated(path, 2);
	gsize   len = 0;
	const guint8 *p = one ? g_bytes_get_data(one, &len) : NULL;
	gboolean same = len == 256;

	for (int i = 0; same && i < 256; i++)
	    same = p[i] == i;
	ok(same, "v3 migrated: a binary original byte-identical from its zstd frame");
	ok(two && g_bytes_get_size(two) == sizeof(mail) - 1
	   && memcmp(g_bytes_get_data(two, NULL), mail, sizeof(mail) - 1) == 0,
	   "v3 migrated: a mail's original byte-identical from its zstd frame");
    }
    is_int(sql_int(path, "SELECT count(*) FROM messages WHERE id = 3 AND raw IS NULL"), 1,
	   "v3 migrated: no original stays none");
    is_int(sql_int(path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'frobnicate'"
		   " AND rowid = 1"), 1, "v3 migrated: the old text indexed again (contentless)");
    is_int(sql_int(path, "SELECT count(*) FROM messages WHERE typeof(body) = 'blob'"), 3,
	   "v3 migrated: every text a zstd frame");
    {
	json_t *shown = NULL;
	g_autofree char *why = NULL;

	is_int(ctl_show_ticket(st, "INT-1", &shown, &why), STORE_OK, "v3 migrated: show_ticket");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(shown, "messages"),
								0), "body")),
	       "Frobnicate the widget, café", "v3 migrated: the text reads back the same");
	json_decref(shown);
    }
    {
	struct store_autogen_row row = {0};
	g_autofree char *why = NULL;
	gsize   len = 0;
	const guint8 *p;
	gboolean same;

	is_int(st->ops->load_autogen(st, 1, &row, &why), STORE_OK, "v3 migrated: load_autogen");
	p = row.raw ? g_bytes_get_data(row.raw, &len) : NULL;
	same = len == 256;
	for (int i = 0; same && i < 256; i++)
	    same = p[i] == i;
	ok(same, "v3 migrated: a kept mail's original byte-identical");
	store_autogen_row_clear(&row);
    }
    is_int(sql_int(path, "SELECT count(*) FROM blobs"), 3,
	   "v3 migrated: identical attachment contents stored once (3 blobs for 4 contents)");
    is_int(sql_int(path, "SELECT count(*) FROM attachments WHERE content IS NOT NULL"), 0,
	   "v3 migrated: no content left in attachments");
    for (gsize i = 0; i < G_N_ELEMENTS(atts); i++) {
	g_autoptr(GBytes) got = NULL;
	g_autofree char *why = NULL;
	int     rc = ctl_attachment(st, atts[i].number, atts[i].id, &got, &why);

	if (atts[i].content == NULL) {
	    is_int(rc, STORE_ERROR, "v3 migrated: attachment %" G_GINT64_FORMAT
		   " (not stored) still not stored", atts[i].id);
	    continue;
	}
	if (!is_int(rc, STORE_OK, "v3 migrated: attachment %" G_GINT64_FORMAT " reads back",
		    atts[i].id))
	    diag("  %s", why);
	{
	    gsize   len = 0;
	    const guint8 *p = got ? g_bytes_get_data(got, &len) : NULL;
	    GString *hex = g_string_new(NULL);

	    for (gsize k = 0; k < len; k++)
		g_string_append_printf(hex, "%02x", p[k]);
	    is_str(hex->str, atts[i].content, "v3 migrated: attachment %" G_GINT64_FORMAT
		   " byte-identical", atts[i].id);
	    g_string_free(hex, TRUE);
	}
    }
    store_close(st);
    cfg->store_path = saved;
}

/*
 * Schema 7 -> 8 on a database holding messages: the full-text index is
 * made again without positions (detail=column), every indexed message in
 * it, column filters answered; a later message is indexed at its commit.
 */
static void test_migrate_v7(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "v7.db", NULL);
    char   *saved = cfg->store_path;
    struct store_message m = message("support:<v7@client.example>", "v7@client.example",
				     "alice@example.test", "The quixotic printer smokes.");
    g_autofree char *number = NULL;
    g_autofree char *why = NULL;
    g_autofree char *ddl = NULL;
    struct store *st;
    gint64  id, mid = 0;
    sqlite3 *db = NULL;

    cfg->store_path = path;
    st = open_store("v7 database");
    is_int(st->ops->begin(st, &why), STORE_OK, "v7 database: begin");
    id = new_ticket(st, "Printer", "alice@example.test", &number);
    is_int(st->ops->add_message(st, id, &m, &mid, &why), STORE_OK, "v7 database: a message");
    is_int(st->ops->commit(st, &why), STORE_OK, "v7 database: commit");
    store_close(st);
    if (sqlite3_open(path, &db) != SQLITE_OK
	|| sqlite3_exec(db, SCHEMA_8_UNDO "PRAGMA user_version = 7", NULL, NULL, NULL) != SQLITE_OK)
	diag("cannot make %s: %s", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    is_int(sql_int(path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'quixotic'"),
	   0, "v7 database: its index (emptied here) does not have the message");
    st = open_store("v7 database, migrated");
    is_int(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "v7 migrated: schema version %d", STORE_SCHEMA_VERSION);
    ddl = sql_text(path, "SELECT sql FROM sqlite_master WHERE name = 'messages_fts'");
    has_str(ddl, "detail=column", "v7 migrated: the index keeps no positions");
    is_int(sql_int(path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'quixotic'"
		   " AND rowid = (SELECT max(id) FROM messages)"), 1,
	   "v7 migrated: the stored message indexed again from its text");
    is_int(sql_int(path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH"
		   " 'subject:printer'"), 1, "v7 migrated: a column filter answered");
    is_int(sql_int(path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH"
		   " 'subject:quixotic'"), 0, "v7 migrated: a body word is not in the subject");
    m = message("support:<v8@client.example>", "v8@client.example", "alice@example.test",
		"Now the scanner is quixotic too.");
    is_int(st->ops->begin(st, &why), STORE_OK, "v7 migrated: begin");
    is_int(st->ops->add_message(st, id, &m, &mid, &why), STORE_OK, "v7 migrated: a message");
    is_int(st->ops->commit(st, &why), STORE_OK, "v7 migrated: commit");
    is_int(sql_int(path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'quixotic'"),
	   2, "v7 migrated: a new message indexed at its commit");
    store_close(st);
    cfg->store_path = saved;
}

/*
 * Schema 6 -> 7 on a database holding FAQ entries: the FAQ version
 * exists and every change of an entry raises it.
 */
static void test_migrate_v6(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "v6.db", NULL);
    char   *saved = cfg->store_path;
    struct store *st = old_database(path, "v6 database", SCHEMA_7_UNDO
				    "INSERT INTO faq(collection, title, body, updated_at)"
				    " VALUES('c', 'Old entry', 'kept', 'x');"
				    "PRAGMA user_version = 6");
    struct store_faq e = {"c", "New entry", NULL, "body", NULL, NULL, NULL};
    gint64  v0 = -1, v1 = -1, v2 = -1, entries = -1, id = 0;
    gboolean found = FALSE;
    char   *why = NULL;

    is_int(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "v6 migrated: schema version %d", STORE_SCHEMA_VERSION);
    is_int(st->ops->faq_version(st, &v0, &entries, &why), STORE_OK, "v6 migrated: faq_version");
    is_int(entries, 1, "v6 migrated: the entry kept");
    is_int(st->ops->faq_put(st, &e, &id, &why), STORE_OK, "v6 migrated: faq_put");
    st->ops->faq_version(st, &v1, &entries, &why);
    ok(v1 != v0 && entries == 2, "v6 migrated: adding an entry changes the FAQ version");
    is_int(st->ops->faq_remove(st, id, &found, &why), STORE_OK, "v6 migrated: faq_remove");
    st->ops->faq_version(st, &v2, &entries, &why);
    ok(v2 != v1 && v2 != v0 && entries == 1,
       "v6 migrated: removing an entry changes the FAQ version again");
    g_free(why);
    store_close(st);
    cfg->store_path = saved;
}

/*
 * Schema 1 -> 2 on a database holding data: a message id registered for
 * two tickets keeps the first; an acknowledgement gets its window key.
 */
static void test_migrate_v1(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "v1.db", NULL);
    char   *saved = cfg->store_path;
    sqlite3 *db = NULL;
    /* Back to what schema 1 was, with what it let in. */
    struct store *st = old_database(path, "v1 database", SCHEMA_3_UNDO
				    "DROP INDEX thread_ids_first; DROP INDEX outbox_window;"
				    "ALTER TABLE outbox DROP COLUMN window_key;"
				    /* Schema 3 copies the outbox: its rows need their tickets. */
				    "INSERT INTO tickets(id, number, mailbox, status, title,"
				    " customer_address, created_at, updated_at) VALUES"
				    " (1, 'INT-1', 'support', 'new', 't', 'v@x', 'x', 'x'),"
				    " (2, 'INT-2', 'support', 'new', 't', 'v@x', 'x', 'x'),"
				    " (3, 'INT-3', 'sales', 'new', 't', 'v@x', 'x', 'x');"
				    "INSERT INTO thread_ids(msgid, ticket_id, mailbox) VALUES"
				    " ('victim@x', 1, 'support'), ('victim@x', 2, 'support'),"
				    " ('victim@x', 3, 'sales');"
				    "INSERT INTO outbox(ticket_id, mailbox, kind, recipient,"
				    " message_id, content, created_at) VALUES(1, 'support', 'ack',"
				    " 'Victim@X.test', 'a@intake', x'00', '2026-01-01T00:00:00Z');"
				    "PRAGMA user_version = 1");

    is_int(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "migrated: schema version %d", STORE_SCHEMA_VERSION);
    is_int(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'tickets_created'"), 1,
	   "migrated: tickets indexed by creation time");
    is_int(sql_int(path, "SELECT count(*) FROM thread_ids WHERE msgid = 'victim@x'"
		   " AND mailbox = 'support'"), 1, "migrated: a message id names one ticket");
    is_int(sql_int(path, "SELECT ticket_id FROM thread_ids WHERE msgid = 'victim@x'"
		   " AND mailbox = 'support'"), 1, "migrated: the first registration kept");
    is_int(sql_int(path, "SELECT count(*) FROM thread_ids WHERE mailbox = 'sales'"), 1,
	   "migrated: other mailboxes untouched");
    is_int(sql_int(path, "SELECT count(*) FROM outbox WHERE window_key = 'victim@x.test'"), 1,
	   "migrated: window key of an old reply");
    /* 2 -> 3: outbox copied into a table that knows "bounced", autogen made. */
    is_int(sql_int(path, "SELECT count(*) FROM outbox WHERE message_id = 'a@intake'"
		   " AND state = 'owed' AND kind = 'ack' AND created_at = '2026-01-01T00:00:00Z'"),
	   1, "migrated: the old reply kept in the new outbox");
    is_int(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index'"
		   " AND name IN ('outbox_due', 'outbox_recent', 'outbox_ticket', 'outbox_window')"),
	   4, "migrated: outbox indexes made again");
    is_int(sql_int(path, "SELECT count(*) FROM autogen"), 0, "migrated: autogen table, empty");
    ok(sqlite3_open(path, &db) == SQLITE_OK
       && sqlite3_exec(db, "UPDATE outbox SET state = 'suppressed'", NULL, NULL, NULL) == SQLITE_OK,
       "migrated to 3: state 'suppressed' allowed");
    sqlite3_close(db);
    store_close(st);
    cfg->store_path = saved;
}

/* 5 -> 6: the event outbox of the sinks, and its counter, made; tickets untouched. */
static void test_migrate_v5(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "v5.db", NULL);
    char   *saved = cfg->store_path;
    struct store *st = old_database(path, "v5 database", SCHEMA_6_UNDO
				    "INSERT INTO tickets(id, number, mailbox, status, title,"
				    " customer_address, created_at, updated_at) VALUES"
				    " (1, 'INT-1', 'support', 'new', 't', 'v@x', 'x', 'x');"
				    "PRAGMA user_version = 5");

    is_int(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "v5 migrated: schema version %d", STORE_SCHEMA_VERSION);
    is_int(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE name IN ('events',"
		   " 'sink_refs', 'events_due', 'events_ticket', 'events_sent')"), 5,
	   "v5 migrated: events and sink_refs, with their indexes");
    is_int(sql_int(path, "SELECT value FROM counters WHERE name = 'event'"), 0,
	   "v5 migrated: the event counter starts at 0");
    is_int(sql_int(path, "SELECT count(*) FROM tickets"), 1, "v5 migrated: the ticket kept");
    store_close(st);
    cfg->store_path = saved;
}

/* What cannot be opened is refused with a message that says why. */
static void test_refused(void)
{
    g_autofree char *missing = g_build_filename(tmpdir, "no-such-dir", "tickets.db", NULL);
    g_autofree char *newer = g_build_filename(tmpdir, "newer.db", NULL);
    g_autofree char *why = NULL;
    struct store *st;
    sqlite3 *db = NULL;

    st = open_elsewhere(missing, &why);
    ok(st == NULL, "missing directory: refused");
    has_str(why, missing, "missing directory: message names the path");
    has_str(why, "does not exist", "missing directory: message says what is wrong");
    ok(!g_file_test(missing, G_FILE_TEST_EXISTS), "missing directory: nothing created");
    store_close(st);
    g_clear_pointer(&why, g_free);

    if (sqlite3_open(newer, &db) != SQLITE_OK
	|| sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) != SQLITE_OK)
	diag("cannot make %s: %s", newer, sqlite3_errmsg(db));
    sqlite3_close(db);
    st = open_elsewhere(newer, &why);
    ok(st == NULL, "newer schema: refused");
    {
	g_autofree char *want = g_strdup_printf("database schema version 99 is newer than"
						" this intake-worker (%d); upgrade intake",
						STORE_SCHEMA_VERSION);

	has_str(why, want, "newer schema: message");
    }
    has_str(why, newer, "newer schema: message names the path");
    is_int(sql_int(newer, "PRAGMA user_version"), 99, "newer schema: database untouched");
    store_close(st);
}

/* Numbers count per year from 1; lookups by number; status changes. */
static void test_tickets(struct store *st)
{
    g_autofree char *n1 = NULL;
    g_autofree char *n2 = NULL;
    g_autofree char *want1 = g_strdup_printf("INT-%04d-000001", year);
    g_autofree char *want2 = g_strdup_printf("INT-%04d-000002", year);
    g_autofree char *why = NULL;
    struct store_ticket_info info = {0};
    gint64  id1, id2;

    id1 = new_ticket(st, "Printer on fire", "Alice@Example.TEST", &n1);
    id2 = new_ticket(st, "Second", "carol@example.test", &n2);
    is_str(n1, want1, "first ticket number");
    is_str(n2, want2, "second ticket number");
    ok(id1 > 0 && id2 > id1, "ticket ids ascend");

    is_int(st->ops->find_ticket(st, n1, &info, &why), STORE_OK, "find_ticket");
    is_int(info.id, id1, "find_ticket: id");
    is_str(info.number, n1, "find_ticket: number");
    is_str(info.mailbox, "support", "find_ticket: mailbox");
    is_str(info.status, "new", "find_ticket: status defaults to new");
    is_str(info.title, "Printer on fire", "find_ticket: title");
    is_str(info.customer_address, "Alice@Example.TEST", "find_ticket: customer as given");
    store_ticket_info_clear(&info);

    is_int(st->ops->find_ticket(st, "INT-1999-000001", &info, &why), STORE_OK,
	   "find_ticket, unknown number: OK");
    is_int(info.id, 0, "find_ticket, unknown number: id 0");
    store_ticket_info_clear(&info);

    is_int(st->ops->set_status(st, id2, "open", &why), STORE_OK, "set_status");
    st->ops->find_ticket(st, n2, &info, &why);
    is_str(info.status, "open", "set_status: status changed");
    store_ticket_info_clear(&info);
    is_int(st->ops->set_status(st, 999999, "open", &why), STORE_ERROR,
	   "set_status, no such ticket: error");
    has_str(why, "no ticket", "set_status, no such ticket: message");
}

/*
 * Branch thread2: closed_at follows the status, parties() lists who wrote
 * in, a ticket links to another (show_ticket both ways), and
 * find_near_duplicate() finds the newest open ticket of a sender and
 * subject key updated since a time, nothing closed or older.
 */
static void test_links(struct store *st)
{
    g_autofree char *n1 = NULL;
    g_autofree char *n2 = NULL;
    g_autofree char *why = NULL;
    g_auto(GStrv) parties = NULL;
    struct store_ticket t = ticket("Printer", "Alice@Example.test");
    struct store_ticket_info info = {0};
    struct store_message m = message("support:<links-1@x>", "links-1@x", "Bob@Example.test",
				     "me too");
    json_t *shown = NULL;
    gint64  id1 = 0, id2 = 0, now = g_get_real_time() / G_USEC_PER_SEC;

    t.sender_key = "alice@example.test";
    t.subject_key = "printer";
    is_int(st->ops->create_ticket(st, &t, "INT", &id1, &n1, &why), STORE_OK, "links: ticket 1");
    st->ops->add_message(st, id1, &m, NULL, &why);
    is_int(st->ops->parties(st, id1, NULL, &parties, &why), STORE_OK, "parties");
    ok(parties && g_strv_length(parties) == 2 && strcmp(parties[0], "alice@example.test") == 0
       && strcmp(parties[1], "bob@example.test") == 0, "parties: customer and writer, lower case");
    g_strfreev(parties);
    st->ops->parties(st, id1, "BOB@example.test", &parties, &why);
    ok(parties && g_strv_length(parties) == 2 && strcmp(parties[0], "bob@example.test") == 0,
       "parties: the one asked about first (a ticket of more than 1000 still finds it)");

    st->ops->find_near_duplicate(st, "support", "alice@example.test", "printer", now - 60, &info,
				 &why);
    is_int(info.id, id1, "find_near_duplicate: the open ticket of sender and subject");
    store_ticket_info_clear(&info);
    st->ops->find_near_duplicate(st, "support", "alice@example.test", "scanner", now - 60,
				 &info, &why);
    is_int(info.id, 0, "find_near_duplicate: another subject: none");
    st->ops->find_near_duplicate(st, "support", "carol@example.test", "printer", now - 60,
				 &info, &why);
    is_int(info.id, 0, "find_near_duplicate: another sender: none");
    st->ops->find_near_duplicate(st, "sales", "alice@example.test", "printer", now - 60, &info,
				 &why);
    is_int(info.id, 0, "find_near_duplicate: another mailbox: none");
    st->ops->find_near_duplicate(st, "support", "alice@example.test", "printer", now + 3600,
				 &info, &why);
    is_int(info.id, 0, "find_near_duplicate: not updated since: none");
    st->ops->find_near_duplicate(st, "support", "alice@example.test", "", now - 60, &info, &why);
    is_int(info.id, 0, "find_near_duplicate: empty subject key: never");

    is_int(st->ops->set_status(st, id1, "closed", &why), STORE_OK, "links: close ticket 1");
    st->ops->find_ticket(st, n1, &info, &why);
    ok(info.closed_at >= now - 5 && info.closed_at <= now + 5, "closed_at: set when closed");
    store_ticket_info_clear(&info);
    st->ops->find_near_duplicate(st, "support", "alice@example.test", "printer", now - 60, &info,
				 &why);
    is_int(info.id, 0, "find_near_duplicate: a closed ticket: none");
    st->ops->set_status(st, id1, "open", &why);
    st->ops->find_ticket(st, n1, &info, &why);
    is_int(info.closed_at, 0, "closed_at: cleared when reopened");
    store_ticket_info_clear(&info);

    t = ticket("Printer", "mallory@evil.test");
    t.linked_to = id1;
    t.link_reason = "the sender is not a party of the ticket (thread_trust = strict)";
    is_int(st->ops->create_ticket(st, &t, "INT", &id2, &n2, &why), STORE_OK, "links: ticket 2");
    is_int(ctl_show_ticket(st, n2, &shown, &why), STORE_OK, "show_ticket of the linked");
    is_str(json_string_value(json_object_get(shown, "linked_to")), n1, "show_ticket: linked_to");
    is_str(json_string_value(json_object_get(shown, "link_reason")), t.link_reason,
	   "show_ticket: link_reason");
    json_decref(shown);
    ctl_show_ticket(st, n1, &shown, &why);
    is_str(json_string_value(json_object_get(json_array_get(json_object_get(shown, "linked_from"),
							  0), "number")), n2,
	   "show_ticket: linked_from of the other");
    ok(json_is_null(json_object_get(shown, "linked_to")), "show_ticket: not linked: null");
    json_decref(shown);
}

/* A follow-up (branch lang): its new text as the body, the whole text beside it. */
/*
 * last_message_field - field of the last message of ticket number as
 * intakectl --json shows it (g_free), NULL when show_ticket fails or it
 * has none
 */
static char *last_message_field(struct store *st, const char *number, const char *field)
{
    json_t *shown = NULL;
    g_autofree char *why = NULL;
    json_t *msgs;
    char   *value;

    if (!is_int(ctl_show_ticket(st, number, &shown, &why), STORE_OK, "show_ticket %s", number))
	return NULL;
    msgs = json_object_get(shown, "messages");
    value = g_strdup(json_string_value(json_object_get(json_array_get(msgs,
								      json_array_size(msgs) - 1),
						       field)));
    json_decref(shown);
    return value;
}

static void test_full_text(struct store *st)
{
    g_autofree char *number = NULL;
    g_autofree char *why = NULL;
    struct store_message f = message("support:<ft@client.example>", "ft@client.example",
				     "alice@example.test", "Still smoking.");
    gint64  id, fid = 0;

    f.full_text = "Still smoking.\n\nOn Tue, 1 Dec 2026 Support wrote:\n> Hello\n";
    id = new_ticket(st, "Printer", "alice@example.test", &number);
    is_int(st->ops->add_message(st, id, &f, &fid, &why), STORE_OK, "add_message, full_text");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages WHERE"
		   " hex(substr(full_text, 1, 4)) = '28B52FFD'"), 1,
	   "full_text kept beside the body, as a zstd frame");
    {
	g_autofree char *full = last_message_field(st, number, "full_text");
	g_autofree char *body = last_message_field(st, number, "body");

	is_str(full, f.full_text, "full_text read back whole");
	is_str(body, "Still smoking.", "body read back");
    }
}

/*
 * What the full-text index takes (store.h, STORE_INDEX_TEXT_MAX): cuts
 * at a word's end or a character's start, and a message whose subject and
 * text are longer than the index takes: the words at their starts found,
 * those at their ends not, the text read back whole.
 */
static void test_index_cut(struct store *st)
{
    g_autofree char *number = NULL;
    g_autofree char *why = NULL;
    GString *body = g_string_new("zebrafirst");
    GString *subject = g_string_new("zebratitle");
    gint64  id, mid = 0;

    is_int((int) store_index_len("abc def", 7, 7), 7, "store_index_len: all of a short text");
    is_int((int) store_index_len("abc defgh", 9, 6), 4, "store_index_len: cut after a space");
    is_int((int) store_index_len("abcdefgh", 8, 5), 5, "store_index_len: no space: at the limit");
    is_int((int) store_index_len("\xc3\xa9\xc3\xa9\xc3\xa9", 6, 3), 2,
	   "store_index_len: never inside a UTF-8 character");
    while (body->len < STORE_INDEX_TEXT_MAX + 4096)
	g_string_append_printf(body, " w%x", (unsigned) body->len);
    g_string_append(body, " zebralast");
    while (subject->len < STORE_INDEX_SUBJECT_MAX + 100)
	g_string_append(subject, " subjectword");
    g_string_append(subject, " zebrasubjectlast");
    {
	struct store_message m = message("support:<long@client.example>", "long@client.example",
					 "alice@example.test", body->str);

	m.subject = subject->str;
	is_int(st->ops->begin(st, &why), STORE_OK, "index cut: begin");
	id = new_ticket(st, "A long text", "alice@example.test", &number);
	is_int(st->ops->add_message(st, id, &m, &mid, &why), STORE_OK,
	       "index cut: a message of %zu bytes of text", body->len);
	is_int(st->ops->commit(st, &why), STORE_OK, "index cut: commit");
    }
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'body:zebrafirst'"), 1, "index cut: the text's first word found");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'zebralast'"), 0, "index cut: its word past STORE_INDEX_TEXT_MAX not");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'subject:zebratitle'"), 1, "index cut: the subject's first word found");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'zebrasubjectlast'"), 0,
	   "index cut: its word past STORE_INDEX_SUBJECT_MAX not");
    {
	g_autofree char *text = last_message_field(st, number, "body");

	is_str(text, body->str, "index cut: the text read back whole");
    }
    g_string_free(body, TRUE);
    g_string_free(subject, TRUE);
}

/* temp_files - how many of this process's open files are SQLite's temporary ones (unlinked
 * etilqs_* files: a statement journal that left memory) */
static int temp_files(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    const char *name;
    int     n = 0;

    while (d && (name = g_dir_read_name(d)) != NULL) {
	g_autofree char *path = g_build_filename("/proc/self/fd", name, NULL);
	g_autofree char *target = g_file_read_link(path, NULL);

	n += target && strstr(target, "etilqs_") != NULL;
    }
    return n;
}

/*
 * A batch as the worker writes it: one transaction, each entry in a savepoint, a ticket
 * and a 24 KB message with 100 thread ids each (FTS5 flushes its terms at every savepoint). The savepoints'
 * journal stays in memory (store_sqlite.c, STMTJRNL_SPILL): with SQLite's 64 KiB default it
 * became a temporary file that every later entry of the batch wrote its pages to.
 */
static void test_statement_journal(struct store *st)
{
    g_autofree char *why = NULL;
    int     failed = 0, during = 0;

    is_int(st->ops->begin(st, &why), STORE_OK, "batch: begin");
    for (int i = 0; i < 64; i++) {
	g_autofree char *number = NULL;
	g_autofree char *key = g_strdup_printf("support:<batch-%d@client.example>", i);
	g_autofree char *msgid = g_strdup_printf("batch-%d@client.example", i);
	GString *body = g_string_new(NULL);
	struct store_message m;
	gint64  id, mid;

	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

	while (body->len < 24 * 1024)
	    g_string_append_printf(body, "w%xq%d ", (unsigned) (body->len * 2654435761u), i);
	/* A long References field: its ids land all over the index the earlier entries of
	 * the batch filled, so each savepoint changes many pages that were there before it. */
	for (unsigned j = 0; j < 100; j++)
	    g_ptr_array_add(ids, g_strdup_printf("%08x.%d@refs.example",
						 (unsigned) ((i * 100 + j) * 2654435761u), i));
	g_ptr_array_add(ids, NULL);
	m = message(key, msgid, "alice@example.test", body->str);
	m.thread_ids = (const char *const *) ids->pdata;
	failed += st->ops->savepoint(st, &why) != STORE_OK;
	id = new_ticket(st, "A batch", "alice@example.test", &number);
	failed += st->ops->add_message(st, id, &m, &mid, &why) != STORE_OK;
	failed += st->ops->release(st, &why) != STORE_OK;
	during += temp_files();
	g_string_free(body, TRUE);
    }
    is_int(failed, 0, "batch: 64 entries, each in a savepoint");
    is_int(during, 0, "batch: no statement journal left memory (no etilqs_ file open)");
    is_int(st->ops->commit(st, &why), STORE_OK, "batch: commit");
}

/* Messages with attachments and thread ids; duplicates; parties. */
static void test_messages(struct store *st)
{
    static const char *const refs[] = {"ref-1@client.example", "ref-2@client.example", NULL};
    static const char *const later_refs[] = {"ref-2@client.example", NULL};
    static const char *const unknown[] = {"nobody@nowhere", "", NULL};
    g_autofree char *number = NULL;
    g_autofree char *n3 = NULL;
    g_autofree char *dup_number = NULL;
    g_autofree char *why = NULL;
    static const char mail[] = "From: a\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	"Content-Type: text/plain\r\n\r\nbody\r\n--b\r\n"
	"Content-Type: application/pdf; name=invoice.pdf\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgLi4u\r\n--b--\r\n";
    g_autofree char *pdf_sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     "%PDF-1.4 ...", 12);
    g_autoptr(GBytes) raw = g_bytes_new_static(mail, sizeof(mail) - 1);
    g_autoptr(GBytes) got = NULL;
    json_t *shown = NULL;
    struct store_attachment a1 = {"invoice.pdf", "application/pdf", "cid-1", 12, 1,
				  pdf_sum, TRUE};
    struct store_attachment a2 = {"huge.iso", "application/octet-stream", NULL, 1 << 30, 3,
				  NULL, FALSE};
    g_autoptr(GPtrArray) atts = g_ptr_array_new();
    struct store_message m = message("support:<m1@client.example>", "m1@client.example",
				     "Alice@Example.test", "The printer is smoking. Frobnicator café.");
    struct store_ticket_info info = {0};
    gint64  id, mid = 0, mid2 = 0, dup_id = -1;
    gboolean yes = FALSE;

    g_ptr_array_add(atts, &a1);
    g_ptr_array_add(atts, &a2);
    m.attachments = atts;
    m.thread_ids = refs;
    m.raw = raw;
    m.note = "huge.iso not stored: larger than max_attachment_size";

    id = new_ticket(st, "Printer on fire again", "alice@example.test", &number);
    is_int(st->ops->add_message(st, id, &m, &mid, &why), STORE_OK, "add_message");
    ok(mid > 0, "add_message: message id");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM attachments WHERE stored = 1"), 1,
	   "one attachment stored");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM attachments WHERE stored = 0"
		   " AND content IS NULL AND size = 1073741824"), 1,
	   "one attachment listed only");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages WHERE full_text IS NULL"),
	   1, "no full_text: the body is all of it");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM attachments WHERE content IS NOT NULL"
		   " OR blob_id IS NOT NULL"), 0, "attachments: references, no copy of the bytes");
    {
	g_autofree char *magic = sql_text(cfg->store_path, "SELECT hex(substr(raw, 1, 4))"
					  " FROM messages ORDER BY id DESC");

	is_str(magic, "28B52FFD", "raw kept as a zstd frame");
    }
    is_int(ctl_show_ticket(st, number, &shown, &why), STORE_OK, "show_ticket, attachments");
    {
	json_t *atts_shown = json_object_get(json_array_get(json_object_get(shown, "messages"), 0),
					     "attachments");
	gint64  aid = json_integer_value(json_object_get(json_array_get(atts_shown, 0), "id"));
	gint64  bid = json_integer_value(json_object_get(json_array_get(atts_shown, 1), "id"));
	gsize   len = 0;

	is_str(json_string_value(json_object_get(json_array_get(atts_shown, 0), "sha256")),
	       pdf_sum, "show_ticket: an attachment's sha256");
	is_int(ctl_attachment(st, number, aid, &got, &why), STORE_OK,
	       "ctl_attachment: decoded from the stored original");
	ok(got && g_bytes_get_size(got) == 12
	   && memcmp(g_bytes_get_data(got, &len), "%PDF-1.4 ...", 12) == 0,
	   "ctl_attachment: the attachment's bytes");
	g_clear_pointer(&why, g_free);
	g_clear_pointer(&got, g_bytes_unref);
	is_int(ctl_attachment(st, number, bid, &got, &why), STORE_ERROR,
	       "ctl_attachment: listed, not stored: an error");
	has_str(why, "not stored", "ctl_attachment: says it is not stored");
	g_clear_pointer(&why, g_free);
	is_int(ctl_attachment(st, number, 999999, &got, &why), STORE_ERROR,
	       "ctl_attachment: no such attachment");
	has_str(why, "has no attachment 999999", "ctl_attachment: names the id");
	g_clear_pointer(&why, g_free);
	json_decref(shown);
    }

    is_int(st->ops->find_duplicate(st, "support:<m1@client.example>", &dup_id, &dup_number,
				   &why), STORE_OK, "find_duplicate");
    is_int(dup_id, id, "find_duplicate: ticket id");
    is_str(dup_number, number, "find_duplicate: ticket number");
    g_clear_pointer(&dup_number, g_free);
    is_int(st->ops->find_duplicate(st, "support:<other@x>", &dup_id, &dup_number, &why),
	   STORE_OK, "find_duplicate, new key: OK");
    is_int(dup_id, 0, "find_duplicate, new key: ticket id 0");
    ok(dup_number == NULL, "find_duplicate, new key: no number");

    is_int(st->ops->add_message(st, id, &m, &mid2, &why), STORE_ERROR,
	   "add_message, same dedupe key: error");
    has_str(why, "duplicate", "add_message, same dedupe key: says duplicate");
    g_clear_pointer(&why, g_free);
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages"), 1,
	   "add_message, same dedupe key: nothing half-stored (messages)");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM attachments"), 2,
	   "add_message, same dedupe key: nothing half-stored (attachments)");

    is_int(st->ops->add_message(st, 999999, &m, &mid2, &why), STORE_ERROR,
	   "add_message, no such ticket: error");
    g_clear_pointer(&why, g_free);

    /* Threading: own Message-ID and references name the ticket. */
    is_int(st->ops->find_by_message_ids(st, "support", refs, &info, &why), STORE_OK,
	   "find_by_message_ids");
    is_str(info.number, number, "find_by_message_ids: by reference");
    store_ticket_info_clear(&info);
    {
	const char *const own[] = {"m1@client.example", NULL};

	st->ops->find_by_message_ids(st, "support", own, &info, &why);
	is_str(info.number, number, "find_by_message_ids: by own Message-ID");
	store_ticket_info_clear(&info);
    }
    is_int(st->ops->find_by_message_ids(st, "sales", refs, &info, &why), STORE_OK,
	   "find_by_message_ids, other mailbox: OK");
    is_int(info.id, 0, "find_by_message_ids, other mailbox: none");
    store_ticket_info_clear(&info);
    st->ops->find_by_message_ids(st, "support", unknown, &info, &why);
    is_int(info.id, 0, "find_by_message_ids, unknown ids: none");
    store_ticket_info_clear(&info);

    /*
     * First registration wins: a later ticket naming one of the ids, or
     * reusing the Message-ID of the first ticket's mail (steering), does
     * not take it over; its own new Message-ID names it.
     */
    {
	static const char *const stolen[] = {"m1@client.example", NULL};
	gint64  id3 = new_ticket(st, "Follow-up", "mallory@example.test", &n3);
	struct store_message m3 = message("support:<m3@client.example>", "m3@client.example",
					  "mallory@example.test", "again");
	struct store_message m5 = message("support:<m1@client.example>@2",
					  "m1@client.example", "mallory@example.test", "steer");

	m5.subject = "Steering";
	m3.thread_ids = later_refs;
	is_int(st->ops->add_message(st, id3, &m3, NULL, &why), STORE_OK,
	       "add_message, no message id wanted");
	st->ops->find_by_message_ids(st, "support", refs, &info, &why);
	is_str(info.number, number, "find_by_message_ids: first registration wins (reference)");
	store_ticket_info_clear(&info);
	{
	    const char *const own3[] = {"m3@client.example", NULL};

	    st->ops->find_by_message_ids(st, "support", own3, &info, &why);
	    is_str(info.number, n3, "find_by_message_ids: a new Message-ID names the new ticket");
	    store_ticket_info_clear(&info);
	}
	is_int(st->ops->add_message(st, id3, &m5, NULL, &why), STORE_OK,
	       "add_message reusing another ticket's Message-ID: stored");
	st->ops->find_by_message_ids(st, "support", stolen, &info, &why);
	is_str(info.number, number, "reused Message-ID: still names the first ticket");
	store_ticket_info_clear(&info);
	is_int(sql_int(cfg->store_path, "SELECT count(*) FROM thread_ids"
		       " WHERE msgid = 'm1@client.example'"), 1,
	       "reused Message-ID: registered once");
	is_int(sql_int(cfg->store_path, "SELECT count(*) FROM thread_ids"
		       " WHERE msgid = 'ref-2@client.example'"), 1,
	       "reference named by two tickets: registered once");
    }

    /* Parties: customer and senders, case-insensitive. */
    st->ops->is_party(st, id, "ALICE@example.TEST", &yes, &why);
    ok(yes, "is_party: customer, other case");
    st->ops->is_party(st, id, "bob@example.test", &yes, &why);
    ok(!yes, "is_party: stranger");
    {
	struct store_message m4 = message("support:<m4@client.example>", "m4@client.example",
					  "Bob@Example.test", "me too");

	st->ops->add_message(st, id, &m4, NULL, &why);
	st->ops->is_party(st, id, "bob@EXAMPLE.test", &yes, &why);
	ok(yes, "is_party: sender of a later message");
    }
    {
	/* Our own acknowledgement does not make the mailbox a party. */
	g_autofree char *n6 = NULL;
	gint64  id6 = new_ticket(st, "Acknowledged", "carol@example.test", &n6);
	struct store_message out = message(NULL, "ack-x@intake", "Support@Example.test", "ack");

	out.direction = "out";
	out.subject = "Acknowledgement";
	is_int(st->ops->add_message(st, id6, &out, NULL, &why), STORE_OK,
	       "add_message, outgoing");
	st->ops->is_party(st, id6, "support@example.test", &yes, &why);
	ok(!yes, "is_party: the sender of an outgoing message is not a party");
    }
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM parties WHERE address <> lower(address)"),
	   0, "parties are stored lower case");
}

/* Savepoints undo one job of a transaction; rollback undoes all. */
/*
 * big_job - one job of test_index_kept(): in a savepoint, a ticket and its message, whose
 * text is word and then big; released, or rolled back to the savepoint unless keep. The
 * number of steps that failed.
 */
static int big_job(struct store *st, const char *name, int i, const char *word,
		   const char *big, gboolean keep)
{
    g_autofree char *key = g_strdup_printf("support:<%s-%d@client.example>", name, i);
    g_autofree char *mid = g_strdup_printf("%s-%d@client.example", name, i);
    g_autofree char *text = g_strdup_printf("%s %s", word, big);
    g_autofree char *number = NULL;
    g_autofree char *why = NULL;
    struct store_message m = message(key, mid, "hal@example.test", text);
    int     failed = 0;

    m.subject = "Index test";		/* test_fts() counts the printers */
    failed += st->ops->savepoint(st, &why) != STORE_OK;
    failed += st->ops->add_message(st, new_ticket(st, name, "hal@example.test", &number),
				   &m, NULL, &why) != STORE_OK;
    if (keep)
	failed += st->ops->release(st, &why) != STORE_OK;
    else
	st->ops->rollback_to(st);
    return failed;
}

/*
 * test_index_kept - the text waiting for the full-text index (store_sqlite_fts.c): a
 * batch of large texts goes into the index ahead of the commit (more than 4 MB kept),
 * and a job rolled back after that, or the whole transaction, leaves nothing indexed;
 * a message added outside a transaction is indexed at once.
 */
static void test_index_kept(struct store *st)
{
    g_autoptr(GString) big = g_string_new(NULL);
    g_autofree char *why = NULL;
    int     failed = 0;

    while (big->len < STORE_INDEX_TEXT_MAX)
	g_string_append(big, "filler words of a long mail ");
    is_int(st->ops->begin(st, &why), STORE_OK, "index kept: begin");
    for (int i = 0; i < 24; i++) {
	g_autofree char *word = g_strdup_printf("bigword%c", 'a' + i);

	failed += big_job(st, "big", i, word, big->str, i < 23);
    }
    is_int(failed, 0, "index kept: 24 jobs of %zu bytes of text each", big->len);
    is_int(st->ops->commit(st, &why), STORE_OK, "index kept: commit");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'bigworda OR bigwordp OR bigwordw'"), 3,
	   "index kept: the first, a middle and the last job kept are indexed");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'bigwordx'"), 0, "index kept: the job rolled back is not");

    is_int(st->ops->begin(st, &why), STORE_OK, "index kept: begin again");
    for (int i = 0; i < 20; i++)
	failed += big_job(st, "gone", i, "goneword", big->str, TRUE);
    st->ops->rollback(st);
    is_int(failed, 0, "index kept: 20 more jobs, then the transaction rolled back");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'goneword'"), 0, "index kept: nothing of them indexed");

    {
	g_autofree char *number = NULL;
	struct store_message m = message("support:<alone@client.example>", "alone@client.example",
					 "hal@example.test", "aloneword");

	m.subject = "Index test";

	is_int(st->ops->add_message(st, new_ticket(st, "Alone", "hal@example.test", &number), &m,
				    NULL, &why), STORE_OK, "index kept: a message outside a transaction");
	is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		       " MATCH 'aloneword'"), 1, "index kept: it is indexed at once");
    }
}

static void test_transactions(struct store *st)
{
    g_autofree char *na = NULL;
    g_autofree char *nb = NULL;
    g_autofree char *nc = NULL;
    g_autofree char *nd = NULL;
    g_autofree char *why = NULL;
    struct store_ticket_info info = {0};
    struct store_message m = message("support:<job-a@client.example>", "job-a@client.example",
				     "dave@example.test", "job a");
    struct store_message mb = message("support:<job-b@client.example>", "job-b@client.example",
				      "erin@example.test", NULL);
    struct store_message mc = message("support:<job-c@client.example>", "job-c@client.example",
				      "frank@example.test", NULL);
    gint64  idb = 0, idc = 0;

    is_int(st->ops->begin(st, &why), STORE_OK, "begin");
    is_int(st->ops->savepoint(st, &why), STORE_OK, "savepoint, job A");
    st->ops->add_message(st, new_ticket(st, "Job A", "dave@example.test", &na), &m, NULL, &why);
    is_int(st->ops->release(st, &why), STORE_OK, "release, job A");

    is_int(st->ops->savepoint(st, &why), STORE_OK, "savepoint, job B");
    mb.body = "jobbeeword";
    mb.subject = mc.subject = "Index test";	/* test_fts() counts the printers */
    st->ops->add_message(st, new_ticket(st, "Job B", "erin@example.test", &nb), &mb, &idb, &why);
    st->ops->rollback_to(st);

    is_int(st->ops->savepoint(st, &why), STORE_OK, "savepoint, job C");
    mc.body = "jobceeword";
    is_int(st->ops->add_message(st, new_ticket(st, "Job C", "frank@example.test", &nc), &mc,
				&idc, &why), STORE_OK, "job C's message");
    is_int(st->ops->release(st, &why), STORE_OK, "release, job C");
    is_int(st->ops->commit(st, &why), STORE_OK, "commit");
    /* Job C's message took the id job B's had: B's text must not be indexed under it. */
    is_int(idc, idb, "job C's message has the id job B's had (SQLite gives it again)");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE messages_fts"
		   " MATCH 'jobbeeword'"), 0, "job B's text is not in the full-text index");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts f JOIN messages m"
		   " ON m.id = f.rowid WHERE messages_fts MATCH 'jobceeword'"
		   " AND m.dedupe_key = 'support:<job-c@client.example>'"), 1,
	   "job C's text is, under job C's message");

    st->ops->find_ticket(st, na, &info, &why);
    is_str(info.title, "Job A", "job A kept");
    store_ticket_info_clear(&info);
    st->ops->find_ticket(st, nc, &info, &why);
    is_str(info.title, "Job C", "job C kept");
    store_ticket_info_clear(&info);
    is_str(nc, nb, "job B undone, its number counter too (no gap)");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM tickets WHERE title = 'Job B'"), 0,
	   "job B undone");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM messages"
		   " WHERE dedupe_key = 'support:<job-a@client.example>'"), 1,
	   "job A's message kept");

    st->ops->begin(st, &why);
    new_ticket(st, "Rolled back", "gina@example.test", &nd);
    st->ops->rollback(st);
    st->ops->find_ticket(st, nd, &info, &why);
    is_int(info.id, 0, "rollback undoes the transaction");
    store_ticket_info_clear(&info);
    test_index_kept(st);
    st->ops->rollback(st);
    ok(1, "rollback without a transaction is harmless");
    is_int(st->ops->commit(st, &why), STORE_ERROR, "commit without begin: error");
    g_clear_pointer(&why, g_free);
}

/* A suppressed reply: recorded, never sent, not counted by the window. */
static void test_suppressed(struct store *st)
{
    g_autofree char *number = NULL;
    g_autofree char *why = NULL;
    g_autoptr(GBytes) none = g_bytes_new_static("{}", 2);
    gint64  now = time(NULL);
    gint64  id = new_ticket(st, "Suppressed", "jack@example.test", &number);
    struct store_reply r3 = {id, "support", "ack", "jack@example.test", "ack-3@intake", none,
	NULL, "suppressed", "null envelope sender"};
    gboolean yes = FALSE;
    json_t *t = NULL;

    is_int(st->ops->queue_reply(st, &r3, &why), STORE_OK, "queue_reply: suppressed");
    st->ops->replied_recently(st, "jack@example.test", now - 60, &yes, &why);
    ok(!yes, "replied_recently: a suppressed reply does not count");
    st->ops->our_message_id(st, "ack-3@intake", &yes, &why);
    ok(yes, "our_message_id: a suppressed reply's id is ours");
    st->ops->our_message_id(st, "customer@example.test", &yes, &why);
    ok(!yes, "our_message_id: another id is not");
    is_int(ctl_show_ticket(st, number, &t, &why), STORE_OK, "show_ticket: suppressed");
    is_str(json_string_value(json_object_get(json_array_get(json_object_get(t, "replies"), 0),
					     "state")), "suppressed", "show_ticket: state suppressed");
    is_str(json_string_value(json_object_get(json_array_get(json_object_get(t, "replies"), 0),
					     "last_error")), "null envelope sender",
	   "show_ticket: the reason");
    json_decref(t);
}

/* The outbox: owed -> sending -> sent; retry; recovery after a crash. */
static void test_outbox(struct store *st)
{
    g_autofree char *number = NULL;
    g_autofree char *why = NULL;
    g_autoptr(GBytes) ack1 = g_bytes_new_static("Subject: ack 1\r\n\r\nThanks\r\n", 27);
    g_autoptr(GBytes) ack2 = g_bytes_new_static("Subject: ack 2\r\n\r\nThanks\r\n", 27);
    gint64  now = time(NULL);
    gint64  id = new_ticket(st, "Outbox", "henry@example.test", &number);
    struct store_reply r1 = {id, "support", "ack", "henry@example.test", "ack-1@intake", ack1};
    struct store_reply r2 = {id, "support", "ack", "henry@example.test", "ack-2@intake", ack2};
    struct store_outbox out = {0};
    struct store_ticket_info info = {0};
    gboolean found = FALSE, yes = FALSE;
    gint64  first;
    int     ambiguous = -1;

    is_int(st->ops->queue_reply(st, &r1, &why), STORE_OK, "queue_reply");
    is_int(st->ops->next_reply(st, now, &out, &found, &why), STORE_OK, "next_reply");
    ok(found, "next_reply: found the owed reply");
    first = out.id;
    is_int(out.ticket_id, id, "next_reply: ticket id");
    is_str(out.mailbox, "support", "next_reply: mailbox");
    is_str(out.recipient, "henry@example.test", "next_reply: recipient");
    is_str(out.message_id, "ack-1@intake", "next_reply: message id");
    ok(out.content && g_bytes_equal(out.content, ack1), "next_reply: content");
    is_int(out.attempts, 0, "next_reply: no attempts yet");
    store_outbox_clear(&out);

    st->ops->replied_recently(st, "henry@example.test", now - 60, &yes, &why);
    ok(yes, "replied_recently: within the window");
    st->ops->replied_recently(st, "henry@example.test", now + 3600, &yes, &why);
    ok(!yes, "replied_recently: not after the window start");
    st->ops->replied_recently(st, "ivy@example.test", now - 60, &yes, &why);
    ok(!yes, "replied_recently: other recipient");
    /* The answer to an acknowledgement finds its ticket. */
    {
	const char *const ids[] = {"ack-1@intake", NULL};

	st->ops->find_by_message_ids(st, "support", ids, &info, &why);
	is_str(info.number, number, "find_by_message_ids: by a queued reply's Message-ID");
	store_ticket_info_clear(&info);
    }

    /* The worker dies while sending. */
    is_int(st->ops->reply_state(st, first, "sending", NULL, 0, &why), STORE_OK,
	   "reply_state sending");
    st->ops->next_reply(st, now, &out, &found, &why);
    ok(!found, "next_reply: a reply being sent is not due");
    store_outbox_clear(&out);
    is_int(st->ops->reply_state(st, first, "sending", NULL, 0, &why), STORE_BUSY,
	   "reply_state sending twice: taken");
    g_clear_pointer(&why, g_free);
    is_int(st->ops->recover_replies(st, &ambiguous, &why), STORE_OK, "recover_replies");
    is_int(ambiguous, 1, "recover_replies: one ambiguous reply");
    is_int(sql_int(cfg->store_path, "SELECT attempts FROM outbox"
		   " WHERE message_id = 'ack-1@intake'"), 1,
	   "recover_replies: the try cut short is counted");
    {
	g_autofree char *state = sql_text(cfg->store_path, "SELECT state FROM outbox"
					  " WHERE message_id = 'ack-1@intake'");

	is_str(state, "unknown", "recover_replies: state unknown");
    }
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM outbox WHERE state = 'unknown'"), 1,
	   "recover_replies: one row unknown");
    st->ops->next_reply(st, now + 86400, &out, &found, &why);
    ok(!found, "next_reply: an unknown reply is never sent again");
    store_outbox_clear(&out);
    st->ops->recover_replies(st, &ambiguous, &why);
    is_int(ambiguous, 0, "recover_replies again: nothing");

    /* A retry later. */
    st->ops->queue_reply(st, &r2, &why);
    st->ops->next_reply(st, now, &out, &found, &why);
    ok(found && strcmp(out.message_id, "ack-2@intake") == 0, "next_reply: second reply");
    st->ops->reply_state(st, out.id, "sending", NULL, 0, &why);
    is_int(st->ops->reply_state(st, out.id, "owed", "451 4.3.0 try later", now + 600, &why),
	   STORE_OK, "reply_state owed with next_try");
    store_outbox_clear(&out);
    st->ops->next_reply(st, now, &out, &found, &why);
    ok(!found, "next_reply: not before next_try");
    store_outbox_clear(&out);
    st->ops->next_reply(st, now + 600, &out, &found, &why);
    ok(found, "next_reply: at next_try");
    is_int(out.attempts, 1, "next_reply: one attempt counted");
    st->ops->reply_state(st, out.id, "sending", NULL, 0, &why);
    is_int(st->ops->reply_state(st, out.id, "sent", NULL, 0, &why), STORE_OK,
	   "reply_state sent");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM outbox WHERE state = 'sent'"
		   " AND sent_at LIKE '____-__-__T__:__:__Z' AND attempts = 2"), 1,
	   "sent: sent_at set, the try that sent it counted (2 attempts)");
    is_int(st->ops->reply_state(st, out.id, "sending", NULL, 0, &why), STORE_BUSY,
	   "reply_state: a sent reply cannot be sent again");
    g_clear_pointer(&why, g_free);
    is_int(st->ops->reply_state(st, out.id, "bogus", NULL, 0, &why), STORE_ERROR,
	   "reply_state: unknown state refused");
    g_clear_pointer(&why, g_free);
    is_int(st->ops->reply_state(st, 999999, "failed", "x", 0, &why), STORE_ERROR,
	   "reply_state: no such reply");
    has_str(why, "no reply", "reply_state: no such reply: message");
    store_outbox_clear(&out);

    st->ops->next_reply(st, now + 86400, &out, &found, &why);
    ok(!found, "next_reply: nothing left");
    store_outbox_clear(&out);
}

/*
 * Auto-generated mail kept apart: once per dedupe key, listed newest first
 * with filters, shown with its envelope, loaded with its original,
 * imported once, pruned by age; counted by kind in stats().
 */
static void test_autogen(struct store *st)
{
    g_autofree char *why = NULL;
    g_autofree char *number = NULL;
    static const char raw_text[] = "Subject: Out of office\r\n\r\naway\r\n";
    g_autoptr(GBytes) raw = g_bytes_new_static(raw_text, sizeof(raw_text) - 1);
    struct store_autogen a = {
	.dedupe_key = "k-ooo/support", .mailbox = "support", .kind = "autoreply",
	.reason = "header Auto-Submitted", .queue_id = "4Q1", .sender = "bob@c.test",
	.subject = "Out of office", .date = "2026-11-30T10:00:00Z",
	.envelope = "{\"subject\":\"Out of office\",\"text\":\"away\"}", .raw = raw,
    };
    struct store_autogen b = a;
    struct store_autogen_row row = {0};
    json_t *list = NULL, *show = NULL, *stats = NULL;
    gboolean added = FALSE;
    gint64  first, tid;
    int     deleted = -1;

    is_int(st->ops->keep_autogen(st, &a, &added, &why), STORE_OK, "keep_autogen");
    ok(added, "keep_autogen: added");
    first = sql_int(cfg->store_path, "SELECT id FROM autogen WHERE dedupe_key = 'k-ooo/support'");
    is_int(st->ops->keep_autogen(st, &a, &added, &why), STORE_OK,
	   "keep_autogen again (a redelivery)");
    ok(!added, "keep_autogen again: nothing added");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM autogen"), 1,
	   "keep_autogen again: one row");
    b.dedupe_key = "k-bounce/sales";
    b.mailbox = "sales";
    b.kind = "bounce";
    b.raw = NULL;
    b.date = NULL;
    st->ops->keep_autogen(st, &b, &added, &why);
    ok(added, "keep_autogen: a second mail");

    ctl_list_autogen(st, NULL, NULL, 0, &list, &why);
    is_int(json_array_size(list), 2, "list_autogen: all");
    is_str(json_str(json_array_get(list, 0), "kind"), "bounce", "list_autogen: newest first");
    is_str(json_str(json_array_get(list, 1), "reason"), "header Auto-Submitted",
	   "list_autogen: reason");
    is_str(json_str(json_array_get(list, 1), "sender"), "bob@c.test", "list_autogen: sender");
    json_decref(list);
    ctl_list_autogen(st, "autoreply", NULL, 0, &list, &why);
    ok(json_array_size(list) == 1 && g_strcmp0(json_str(json_array_get(list, 0), "kind"),
					       "autoreply") == 0, "list_autogen --kind");
    json_decref(list);
    ctl_list_autogen(st, NULL, "sales", 0, &list, &why);
    ok(json_array_size(list) == 1 && g_strcmp0(json_str(json_array_get(list, 0), "mailbox"),
					       "sales") == 0, "list_autogen --mailbox");
    json_decref(list);
    ctl_list_autogen(st, "autoreply", "sales", 0, &list, &why);
    is_int(json_array_size(list), 0, "list_autogen: both filters");
    json_decref(list);
    ctl_list_autogen(st, NULL, NULL, 1, &list, &why);
    is_int(json_array_size(list), 1, "list_autogen: limit");
    json_decref(list);

    is_int(ctl_show_autogen(st, first, &show, &why), STORE_OK, "show_autogen");
    is_str(json_str(json_object_get(show, "envelope"), "text"), "away",
	   "show_autogen: the envelope as JSON");
    is_str(json_str(show, "queue_id"), "4Q1", "show_autogen: queue id");
    json_decref(show);
    show = NULL;
    is_int(ctl_show_autogen(st, 999999, &show, &why), STORE_ERROR,
	   "show_autogen: no such row");
    has_str(why, "999999", "show_autogen: no such row: message names it");
    ok(show == NULL, "show_autogen: no such row: nothing returned");
    g_clear_pointer(&why, g_free);

    is_int(st->ops->load_autogen(st, first, &row, &why), STORE_OK, "load_autogen");
    is_int(row.id, first, "load_autogen: id");
    is_str(row.mailbox, "support", "load_autogen: mailbox");
    ok(row.raw && g_bytes_equal(row.raw, raw), "load_autogen: the original");
    {
	g_autofree char *magic = sql_text(cfg->store_path, "SELECT hex(substr(raw, 1, 4))"
					  " FROM autogen WHERE raw IS NOT NULL LIMIT 1");

	is_str(magic, "28B52FFD", "keep_autogen: the original kept as a zstd frame");
    }
    is_int(row.imported_ticket, 0, "load_autogen: not imported");
    store_autogen_row_clear(&row);
    st->ops->load_autogen(st, 999999, &row, &why);
    is_int(row.id, 0, "load_autogen: no such row: id 0");

    tid = new_ticket(st, "Imported", "bob@c.test", &number);
    is_int(st->ops->autogen_imported(st, first, tid, &why), STORE_OK, "autogen_imported");
    st->ops->load_autogen(st, first, &row, &why);
    ok(row.imported_ticket == tid && g_strcmp0(row.imported_number, number) == 0,
       "load_autogen: imported, with the ticket number");
    store_autogen_row_clear(&row);
    is_int(st->ops->autogen_imported(st, first, tid, &why), STORE_ERROR,
	   "autogen_imported twice: refused");
    has_str(why, "imported already", "autogen_imported twice: message");
    g_clear_pointer(&why, g_free);
    ctl_list_autogen(st, "autoreply", NULL, 0, &list, &why);
    is_str(json_str(json_array_get(list, 0), "imported_as"), number,
	   "list_autogen: imported_as names the ticket");
    json_decref(list);

    is_int(ctl_stats(st, &stats, &why), STORE_OK, "stats");
    is_int(json_integer_value(json_object_get(json_object_get(stats, "autogen"), "bounce")), 1,
	   "stats: kept mail by kind (bounce)");
    is_int(json_integer_value(json_object_get(json_object_get(stats, "autogen"), "autoreply")), 1,
	   "stats: kept mail by kind (autoreply)");
    json_decref(stats);

    is_int(st->ops->prune_autogen(st, time(NULL) - 86400, 100, &deleted, &why), STORE_OK,
	   "prune_autogen: older than a day");
    is_int(deleted, 0, "prune_autogen: today's mail stays");
    st->ops->prune_autogen(st, time(NULL) + 86400, 1, &deleted, &why);
    is_int(deleted, 1, "prune_autogen: at most limit rows");
    st->ops->prune_autogen(st, time(NULL) + 86400, 100, &deleted, &why);
    is_int(deleted, 1, "prune_autogen: the rest");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM autogen"), 0, "prune_autogen: none left");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM tickets WHERE number = (SELECT number"
		   " FROM tickets WHERE id = (SELECT max(id) FROM tickets))"), 1,
	   "prune_autogen: the imported ticket stays");
}

/*
 * Our own replies found by Message-ID, and marked bounced; a note's
 * sender does not become a party of the ticket.
 */
static void test_bounced(struct store *st)
{
    g_autofree char *why = NULL;
    g_autofree char *number = NULL;
    g_autoptr(GBytes) ack = g_bytes_new_static("x", 1);
    gint64  tid = new_ticket(st, "Bounced", "kim@c.test", &number);
    struct store_reply r = {tid, "support", "ack", "kim@c.test", "ack-b@intake", ack};
    struct store_reply owed = {tid, "support", "ack", "kim@c.test", "ack-o@intake", ack};
    struct store_our_reply ours = {0};
    struct store_message note = message("k-note/support", "dsn-1@mx", "MAILER-DAEMON@mx.c.test",
					"returned");
    gint64  rid, oid, row = 0;
    gboolean party = TRUE;

    st->ops->queue_reply(st, &r, &why);
    st->ops->queue_reply(st, &owed, &why);
    rid = sql_int(cfg->store_path, "SELECT id FROM outbox WHERE message_id = 'ack-b@intake'");
    oid = sql_int(cfg->store_path, "SELECT id FROM outbox WHERE message_id = 'ack-o@intake'");
    st->ops->reply_state(st, rid, "sending", NULL, 0, &why);
    st->ops->reply_state(st, rid, "sent", NULL, 0, &why);

    is_int(st->ops->find_our_reply(st, (const char *const[]) {"", "someone@else",
				   "ack-b@intake", NULL}, &ours, &why), STORE_OK,
	   "find_our_reply");
    is_int(ours.id, rid, "find_our_reply: the reply whose id is listed");
    is_int(ours.ticket_id, tid, "find_our_reply: its ticket");
    is_str(ours.number, number, "find_our_reply: ticket number");
    is_str(ours.message_id, "ack-b@intake", "find_our_reply: which id matched");
    is_str(ours.kind, "ack", "find_our_reply: kind");
    is_str(ours.state, "sent", "find_our_reply: state");
    store_our_reply_clear(&ours);
    st->ops->find_our_reply(st, (const char *const[]) {"someone@else", NULL}, &ours, &why);
    is_int(ours.id, 0, "find_our_reply: a stranger's id is not ours");
    st->ops->find_our_reply(st, NULL, &ours, &why);
    is_int(ours.id, 0, "find_our_reply: no ids");

    is_int(st->ops->reply_bounced(st, rid, "bounce of our acknowledgement: 5.1.1", &why),
	   STORE_OK, "reply_bounced");
    {
	g_autofree char *state = sql_text(cfg->store_path, "SELECT state || ' ' || last_error"
					  " FROM outbox WHERE message_id = 'ack-b@intake'");

	is_str(state, "bounced bounce of our acknowledgement: 5.1.1",
	       "reply_bounced: state and diagnostic");
    }
    st->ops->reply_bounced(st, oid, "forged", &why);
    {
	g_autofree char *state = sql_text(cfg->store_path, "SELECT state FROM outbox"
					  " WHERE message_id = 'ack-o@intake'");

	is_str(state, "owed", "reply_bounced: a reply not sent yet is not marked");
    }
    {
	json_t *stats = NULL;

	ctl_stats(st, &stats, &why);
	is_int(json_integer_value(json_object_get(stats, "replies_bounced")), 1,
	       "stats: replies_bounced");
	json_decref(stats);
    }

    note.not_party = TRUE;
    note.note = "bounce of our acknowledgement <ack-b@intake>";
    is_int(st->ops->add_message(st, tid, &note, &row, &why), STORE_OK, "add_message: a note");
    st->ops->is_party(st, tid, "MAILER-DAEMON@mx.c.test", &party, &why);
    ok(!party, "a note's sender is not a party of the ticket");
}

/* list_tickets, show_ticket and stats as JSON. */
static void test_reports(struct store *st)
{
    g_autofree char *why = NULL;
    g_autofree char *number = NULL;
    json_t *list = NULL, *show = NULL, *stats = NULL;
    json_t *msg, *att;
    long long tickets = sql_int(cfg->store_path, "SELECT count(*) FROM tickets");

    is_int(ctl_list_tickets(st, NULL, NULL, 0, &list, &why), STORE_OK, "list_tickets");
    is_int(json_array_size(list), tickets, "list_tickets: all tickets");
    is_str(json_str(json_array_get(list, 0), "title"), "Outbox", "list_tickets: newest first");
    json_decref(list);

    ctl_list_tickets(st, "support", "open", 10, &list, &why);
    is_int(json_array_size(list), 1, "list_tickets: by mailbox and status");
    is_str(json_str(json_array_get(list, 0), "title"), "Second", "list_tickets: the open one");
    json_decref(list);

    ctl_list_tickets(st, NULL, "new", 2, &list, &why);
    is_int(json_array_size(list), 2, "list_tickets: limit");
    json_decref(list);
    ctl_list_tickets(st, "sales", NULL, 0, &list, &why);
    is_int(json_array_size(list), 0, "list_tickets: other mailbox: empty");
    json_decref(list);

    ctl_list_tickets(st, "support", NULL, 0, &list, &why);
    for (size_t i = 0; i < json_array_size(list); i++) {
	json_t *t = json_array_get(list, i);

	if (g_strcmp0(json_str(t, "title"), "Printer on fire again") == 0) {
	    number = g_strdup(json_str(t, "number"));
	    is_str(json_str(t, "customer"), "alice@example.test", "list_tickets: customer");
	    is_str(json_str(t, "mailbox"), "support", "list_tickets: mailbox");
	    is_str(json_str(t, "status"), "new", "list_tickets: status");
	    is_int(json_integer_value(json_object_get(t, "messages")), 2,
		   "list_tickets: message count");
	    ok(json_str(t, "created_at") && json_str(t, "updated_at"), "list_tickets: times");
	}
    }
    json_decref(list);

    is_int(ctl_show_ticket(st, number, &show, &why), STORE_OK, "show_ticket");
    is_str(json_str(show, "number"), number, "show_ticket: number");
    is_str(json_str(show, "priority"), "high", "show_ticket: priority");
    is_str(json_str(show, "customer_name"), "Alice Example", "show_ticket: customer name");
    ok(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$",
			    json_str(show, "created_at"), 0, 0), "show_ticket: ISO 8601 UTC time");
    is_int(json_array_size(json_object_get(show, "messages")), 2, "show_ticket: two messages");
    msg = json_array_get(json_object_get(show, "messages"), 0);
    is_str(json_str(msg, "direction"), "in", "show_ticket: message direction");
    is_str(json_str(msg, "sender"), "Alice@Example.test", "show_ticket: message sender");
    is_str(json_str(msg, "subject"), "Printer on fire", "show_ticket: message subject");
    has_str(json_str(msg, "body"), "smoking", "show_ticket: message body");
    ok(json_is_array(json_object_get(msg, "header_fields")),
       "show_ticket: header_fields parsed");
    is_str(json_string_value(json_array_get(json_array_get(json_object_get(msg, "header_fields"),
							   0), 0)), "X-Priority",
	   "show_ticket: header field name");
    is_int(json_array_size(json_object_get(msg, "attachments")), 2,
	   "show_ticket: two attachments");
    att = json_array_get(json_object_get(msg, "attachments"), 0);
    is_str(json_str(att, "filename"), "invoice.pdf", "show_ticket: attachment filename");
    is_str(json_str(att, "content_type"), "application/pdf", "show_ticket: content type");
    is_int(json_integer_value(json_object_get(att, "size")), 12, "show_ticket: size");
    ok(json_is_true(json_object_get(att, "stored")), "show_ticket: stored true");
    att = json_array_get(json_object_get(msg, "attachments"), 1);
    ok(json_is_false(json_object_get(att, "stored")), "show_ticket: listed only: stored false");
    is_int(json_array_size(json_object_get(show, "replies")), 0, "show_ticket: no replies");
    json_decref(show);
    show = NULL;

    ctl_list_tickets(st, NULL, NULL, 1, &list, &why);
    ctl_show_ticket(st, json_str(json_array_get(list, 0), "number"), &show, &why);
    {
	json_t *replies = json_object_get(show, "replies");
	json_t *r = json_array_get(replies, 1);

	is_int(json_array_size(replies), 2, "show_ticket: replies");
	is_str(json_str(json_array_get(replies, 0), "state"), "unknown",
	       "show_ticket: first reply unknown");
	has_str(json_str(json_array_get(replies, 0), "last_error"), "not sent again",
		"show_ticket: unknown reply explained");
	is_str(json_str(r, "state"), "sent", "show_ticket: second reply sent");
	is_str(json_str(r, "kind"), "ack", "show_ticket: reply kind");
	is_str(json_str(r, "recipient"), "henry@example.test", "show_ticket: reply recipient");
	is_str(json_str(r, "message_id"), "ack-2@intake", "show_ticket: reply message id");
	is_str(json_str(r, "last_error"), NULL, "show_ticket: no error after success");
	is_int(json_integer_value(json_object_get(r, "attempts")), 2,
	       "show_ticket: attempts (the failed try and the one that sent it)");
	ok(json_str(r, "sent_at") != NULL, "show_ticket: sent_at");
    }
    json_decref(show);
    json_decref(list);
    show = NULL;

    is_int(ctl_show_ticket(st, "INT-1999-000042", &show, &why), STORE_ERROR,
	   "show_ticket, unknown number: error");
    is_str(why, "no ticket INT-1999-000042", "show_ticket, unknown number: message");
    ok(show == NULL, "show_ticket, unknown number: no JSON");
    g_clear_pointer(&why, g_free);

    is_int(ctl_stats(st, &stats, &why), STORE_OK, "stats");
    is_int(json_integer_value(json_object_get(stats, "tickets")), tickets, "stats: tickets");
    is_int(json_integer_value(json_object_get(stats, "messages")),
	   sql_int(cfg->store_path, "SELECT count(*) FROM messages"), "stats: messages");
    is_int(json_integer_value(json_object_get(stats, "replies_owed")), 0, "stats: owed");
    is_int(json_integer_value(json_object_get(stats, "replies_sent")), 1, "stats: sent");
    is_int(json_integer_value(json_object_get(stats, "replies_unknown")), 1, "stats: unknown");
    is_int(json_integer_value(json_object_get(stats, "replies_failed")), 0, "stats: failed");
    json_decref(stats);
}

/*
 * Routing (branch rules): set_routing() records queue, assignee, case
 * (made when missing), tags once each and the rules text; case_ticket()
 * finds the newest open ticket of a case; add_case() retitles;
 * list_cases() counts.
 */
static void test_routing(struct store *st)
{
    g_autofree char *n1 = NULL, *n2 = NULL, *why = NULL;
    const char *tags[] = {"vip", "acme", "vip", NULL};
    struct store_routing r = {"key-accounts", "kim", "ACME-1", "rules matched: acme", tags};
    struct store_ticket_info info = {0};
    json_t *shown = NULL, *cases = NULL;
    gint64  id1 = new_ticket(st, "routed 1", "r@acme.test", &n1);
    gint64  id2 = new_ticket(st, "routed 2", "r@acme.test", &n2);

    is_int(st->ops->case_ticket(st, "ACME-1", &info, &why), STORE_OK, "routing: no case yet");
    is_int(info.id, 0, "routing: an unknown case has no ticket");
    is_int(st->ops->set_routing(st, id1, &r, &why), STORE_OK, "routing: set on ticket 1");
    is_int(st->ops->set_routing(st, id2, &r, &why), STORE_OK, "routing: set on ticket 2");
    is_int(ctl_show_ticket(st, n1, &shown, &why), STORE_OK, "routing: show_ticket");
    is_str(json_string_value(json_object_get(shown, "queue")), "key-accounts", "routing: queue");
    is_str(json_string_value(json_object_get(shown, "assignee")), "kim", "routing: assignee");
    is_str(json_string_value(json_object_get(shown, "case")), "ACME-1", "routing: case made");
    is_str(json_string_value(json_object_get(shown, "tags")), "acme,vip",
	   "routing: tags once each, sorted");
    is_str(json_string_value(json_object_get(shown, "rules")), "rules matched: acme",
	   "routing: which rules matched");
    json_decref(shown);
    is_int(st->ops->case_ticket(st, "ACME-1", &info, &why), STORE_OK, "routing: case ticket");
    is_str(info.number, n2, "routing: the newest ticket of the case");
    store_ticket_info_clear(&info);
    is_int(st->ops->set_status(st, id2, "closed", &why), STORE_OK, "routing: close ticket 2");
    st->ops->case_ticket(st, "ACME-1", &info, &why);
    is_str(info.number, n1, "routing: a closed ticket is skipped");
    store_ticket_info_clear(&info);
    is_int(st->ops->add_case(st, "ACME-1", "ACME migration", &why), STORE_OK,
	   "routing: add_case of an existing case");
    is_int(st->ops->add_case(st, "EMPTY", NULL, &why), STORE_OK, "routing: add_case");
    is_int(ctl_list_cases(st, &cases, &why), STORE_OK, "routing: list_cases");
    is_int(json_array_size(cases), 2, "routing: two cases");
    is_str(json_string_value(json_object_get(json_array_get(cases, 0), "title")),
	   "ACME migration", "routing: retitled");
    is_int(json_integer_value(json_object_get(json_array_get(cases, 0), "tickets")), 2,
	   "routing: ACME-1 has two tickets");
    is_str(json_string_value(json_object_get(json_array_get(cases, 0), "newest")), n2,
	   "routing: its newest ticket");
    is_int(json_integer_value(json_object_get(json_array_get(cases, 1), "tickets")), 0,
	   "routing: EMPTY has none");
    json_decref(cases);
}

/*
 * Classes (branch tags): set_classes() adds keyword tags to a ticket's
 * (rules' tags and earlier mails' kept, none twice) and sets its
 * sentiment; a mail not scored leaves the sentiment as it was.
 */
static void test_classes(struct store *st)
{
    g_autofree char *n1 = NULL, *why = NULL;
    const char *rule_tags[] = {"vip", NULL};
    const char *first[] = {"billing", "vip", NULL};
    const char *second[] = {"refund", "billing", NULL};
    struct store_routing r = {NULL, NULL, NULL, "rules matched: vip", rule_tags};
    struct store_classes c1 = {first, "negative", -0.25};
    struct store_classes c2 = {second, NULL, 0};
    struct store_classes c3 = {NULL, "positive", 0.5};
    gint64  id1 = new_ticket(st, "classified", "c@acme.test", &n1);
    json_t *shown = NULL, *list = NULL, *row;
    size_t  i;

    is_int(st->ops->set_routing(st, id1, &r, &why), STORE_OK, "classes: a rule's tag");
    is_int(st->ops->set_classes(st, id1, &c1, &why), STORE_OK, "classes: first mail");
    is_int(st->ops->set_classes(st, id1, &c2, &why), STORE_OK, "classes: a follow-up");
    is_int(ctl_show_ticket(st, n1, &shown, &why), STORE_OK, "classes: show_ticket");
    is_str(json_string_value(json_object_get(shown, "tags")), "billing,refund,vip",
	   "classes: tags add up, once each");
    is_str(json_string_value(json_object_get(shown, "sentiment")), "negative",
	   "classes: a mail not scored keeps the sentiment");
    ok(json_real_value(json_object_get(shown, "sentiment_score")) == -0.25,
       "classes: the score is a JSON number");
    json_decref(shown);
    is_int(st->ops->set_classes(st, id1, &c3, &why), STORE_OK, "classes: a positive follow-up");
    ctl_list_tickets(st, NULL, NULL, 0, &list, &why);
    json_array_foreach(list, i, row)
	if (strcmp(json_str(row, "number"), n1) == 0) {
	    is_str(json_str(row, "sentiment"), "positive", "classes: the newest mail's, listed");
	    ok(json_real_value(json_object_get(row, "sentiment_score")) == 0.5,
	       "classes: with its score");
	}
    json_decref(list);
    /* A new ticket's first sentiment comes with its row (create_ticket), no set_classes. */
    {
	g_autofree char *n2 = NULL;
	struct store_ticket t = ticket("scored", "d@acme.test");
	gint64  id2 = 0;

	t.sentiment = "positive";
	t.sentiment_score = 0.75;
	is_int(st->ops->create_ticket(st, &t, "INT", &id2, &n2, &why), STORE_OK,
	       "classes: a ticket made with its sentiment");
	is_int(ctl_show_ticket(st, n2, &shown, &why), STORE_OK, "classes: show it");
	is_str(json_string_value(json_object_get(shown, "sentiment")), "positive",
	       "classes: the sentiment is the ticket's from the start");
	ok(json_real_value(json_object_get(shown, "sentiment_score")) == 0.75,
	   "classes: with its score");
	json_decref(shown);
    }
}

static void count_kind(void *ctx, const struct store_row *row)
{
    g_string_append_printf(ctx, "%s%s", ((GString *) ctx)->len ? "," : "", row->kind);
}

/* Category suggestion: suggestion on a new ticket, confirmed categories, the model. */
static void test_category(struct store *st)
{
    g_autofree char *number = NULL, *why = NULL;
    g_autoptr(GString) rows = g_string_new(NULL);
    struct store_ticket t = ticket("category", "c@x.test");
    struct store_message m = message("cat-1", "cat-1@x", "c@x.test", "The invoice is wrong.");
    const struct store_model_row model[] = {
	{"billing", NULL, 2}, {"login", NULL, 1}, {"billing", "invoic", 2},
    };
    json_t *shown = NULL;
    gint64  id = 0, v0 = -1, v1 = -1;

    t.category_suggested = "billing";
    t.category_confidence = 0.75;
    is_int(st->ops->create_ticket(st, &t, "INT", &id, &number, &why), STORE_OK,
	   "category: ticket with a suggestion");
    is_int(st->ops->add_message(st, id, &m, NULL, &why), STORE_OK, "category: its mail");
    ctl_show_ticket(st, number, &shown, &why);
    is_str(json_string_value(json_object_get(shown, "category_suggested")), "billing",
	   "category: suggestion shown");
    ok(fabs(json_number_value(json_object_get(shown, "category_confidence")) - 0.75) < 1e-9,
       "category: confidence shown as a number");
    is_int(json_integer_value(json_object_get(shown, "category_confirmed")), 0,
	   "category: not confirmed");
    json_decref(shown);
    st->ops->training_docs(st, NULL, 0, count_kind, rows, &why);
    is_str(rows->str, "", "category: no confirmed ticket, no training document");
    is_int(st->ops->set_category(st, id, "billing", &why), STORE_OK, "category: confirm");
    ctl_show_ticket(st, number, &shown, &why);
    is_str(json_string_value(json_object_get(shown, "category")), "billing",
	   "category: set by a person");
    is_int(json_integer_value(json_object_get(shown, "category_confirmed")), 1,
	   "category: confirmed");
    json_decref(shown);
    is_int(st->ops->training_docs(st, "support", 0, count_kind, rows, &why), STORE_OK,
	   "category: training_docs");
    is_str(rows->str, "doc", "category: one training document");
    g_string_truncate(rows, 0);
    st->ops->training_docs(st, "sales", 0, count_kind, rows, &why);
    is_str(rows->str, "", "category: none of another mailbox");
    is_int(st->ops->model_version(st, &v0, &why), STORE_OK, "category: model_version");
    is_int(st->ops->save_model(st, model, G_N_ELEMENTS(model), &why), STORE_OK,
	   "category: save_model");
    st->ops->model_version(st, &v1, &why);
    is_int(v1, v0 + 1, "category: saving raises the version");
    is_int(st->ops->load_model(st, count_kind, rows, &why), STORE_OK, "category: load_model");
    is_str(rows->str, "docs,docs,term", "category: documents, then terms");
    g_string_truncate(rows, 0);
    st->ops->save_model(st, model, 1, &why);
    st->ops->load_model(st, count_kind, rows, &why);
    is_str(rows->str, "docs", "category: saving replaces the model");
}

/* Rows of show_ticket(): kinds in order, and typed, named columns. */
static void record_row(void *ctx, const struct store_row *row)
{
    count_kind(ctx, row);
    if (strcmp(row->kind, "ticket") == 0) {
	is_int(row->n, 26, "rows: the ticket row has 26 columns (5 of the routing rules,"
	       " 2 of sentiment, 3 of category suggestion)");
	is_str(row->values[0].name, "id", "rows: first column id");
	is_int(row->values[0].type, STORE_INT, "rows: id is an integer");
	is_str(row->values[1].name, "number", "rows: then number");
	is_int(row->values[1].type, STORE_TEXT, "rows: number is text");
	is_int(row->values[14].type, STORE_NULL, "rows: linked_to null when not linked");
    }
}

/* The reports as rows, under ctl_show.c; stats() as a struct. */
static void test_report_rows(struct store *st)
{
    g_autofree char *why = NULL;
    g_autoptr(GString) kinds = g_string_new(NULL);
    json_t *list = NULL;
    struct store_stats s;
    const char *number = NULL;
    json_t *row;
    size_t  i;

    /* The ticket of test_reports(): two messages, the first with two attachments. */
    ctl_list_tickets(st, "support", NULL, 0, &list, &why);
    json_array_foreach(list, i, row)
	if (json_integer_value(json_object_get(row, "messages")) == 2)
	    number = json_str(row, "number");
    is_int(st->ops->show_ticket(st, number, record_row, kinds, &why), STORE_OK,
	   "rows: show_ticket");
    is_str(kinds->str, "ticket,message,attachment,attachment,message",
	   "rows: the ticket, then each message followed by its attachments");
    json_decref(list);

    is_int(st->ops->stats(st, &s, &why), STORE_OK, "stats as a struct");
    is_int(s.tickets, sql_int(cfg->store_path, "SELECT count(*) FROM tickets"),
	   "stats: tickets");
    is_int(s.replies[STORE_REPLY_SENT],
	   sql_int(cfg->store_path, "SELECT count(*) FROM outbox WHERE state = 'sent'"),
	   "stats: replies by state");
    is_str(store_reply_states[STORE_REPLY_SUPPRESSED], "suppressed", "reply states named");
    is_int(st->ops->maintain(st, &why), STORE_OK, "maintain");
}

/* The full-text index follows add_message. */
static void test_fts(void)
{
    static const struct {
	const char *match;
	long long count;
    } cases[] = {
	{"frobnicator", 1},		/* a body word */
	{"FROBNICATOR", 1},		/* case folded */
	{"cafe", 1},			/* diacritics removed */
	{"subject:printer", 4},		/* every message of the tests so far has it */
	{"body:printer", 1},		/* only the first body has it */
	{"nonexistentword", 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM messages_fts"
					       " WHERE messages_fts MATCH '%s'", cases[i].match);

	is_int(sql_int(cfg->store_path, sql), cases[i].count, "fts: MATCH '%s'",
	       cases[i].match);
    }
    {
	g_autofree char *dedupe = sql_text(cfg->store_path,
					   "SELECT m.dedupe_key FROM messages_fts f"
					   " JOIN messages m ON m.id = f.rowid"
					   " WHERE messages_fts MATCH 'smoking'");

	is_str(dedupe, "support:<m1@client.example>", "fts: rowid is the message id");
    }
}

/* The acknowledgement window: by the caller's key, across mailboxes. */
static void test_window(struct store *st)
{
    g_autoptr(GBytes) ack = g_bytes_new_static("x", 1);
    g_autofree char *number = NULL;
    g_autofree char *why = NULL;
    gint64  now = time(NULL);
    struct store_reply r = {new_ticket(st, "Window", "ivy@example.test", &number), "sales",
			    "ack", "Ivy+Shop@Example.test", "ack-w@intake", ack,
			    "ivy@example.test"};
    gboolean yes = TRUE;

    st->ops->replied_recently(st, "ivy@example.test", now - 60, &yes, &why);
    ok(!yes, "replied_recently: nothing queued for the key yet");
    is_int(st->ops->queue_reply(st, &r, &why), STORE_OK, "queue_reply with a window key");
    st->ops->replied_recently(st, "ivy@example.test", now - 60, &yes, &why);
    ok(yes, "replied_recently: by window key, whatever mailbox queued it");
    st->ops->replied_recently(st, "Ivy+Shop@Example.test", now - 60, &yes, &why);
    ok(!yes, "replied_recently: the key, not the recipient, is looked up");
    is_int(sql_int(cfg->store_path, "SELECT count(*) FROM outbox"
		   " WHERE recipient = 'Ivy+Shop@Example.test'"), 1,
	   "queue_reply: recipient kept as given");
}

/* Two connections, as the pipeline and reply threads have. */
static void test_two_connections(struct store *st)
{
    struct store *st2 = open_store("second connection");
    g_autofree char *n1 = NULL;
    g_autofree char *n2 = NULL;
    g_autofree char *n3 = NULL;
    g_autofree char *why = NULL;
    struct store_ticket_info info = {0};
    gint64  t0, elapsed_ms;
    int     ret;

    new_ticket(st, "Committed", "judy@example.test", &n1);
    st2->ops->find_ticket(st2, n1, &info, &why);
    is_str(info.title, "Committed", "second connection sees committed data");
    store_ticket_info_clear(&info);

    is_int(st->ops->begin(st, &why), STORE_OK, "first connection: begin");
    new_ticket(st, "Uncommitted", "kim@example.test", &n2);
    st2->ops->find_ticket(st2, n2, &info, &why);
    is_int(info.id, 0, "second connection does not see uncommitted data");
    store_ticket_info_clear(&info);

    t0 = g_get_monotonic_time();
    ret = st2->ops->begin(st2, &why);
    elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
    is_int(ret, STORE_BUSY, "second connection: begin while the first writes: STORE_BUSY");
    has_str(why, cfg->store_path, "STORE_BUSY: message names the database");
    ok(elapsed_ms >= 50 && elapsed_ms < 2000,
       "STORE_BUSY after about busy_timeout (100ms): %lld ms", (long long) elapsed_ms);
    g_clear_pointer(&why, g_free);
    st2->ops->rollback(st2);
    {
	struct store_ticket t = ticket("Blocked", "leo@example.test");
	gint64  id = -1;

	is_int(st2->ops->create_ticket(st2, &t, "INT", &id, &n3, &why), STORE_BUSY,
	       "second connection: create_ticket without begin: STORE_BUSY");
	ok(id == 0 && n3 == NULL, "STORE_BUSY: no ticket returned");
	g_clear_pointer(&why, g_free);
    }

    is_int(st->ops->commit(st, &why), STORE_OK, "first connection: commit");
    st2->ops->find_ticket(st2, n2, &info, &why);
    is_str(info.title, "Uncommitted", "second connection sees it after commit");
    store_ticket_info_clear(&info);
    is_int(st2->ops->begin(st2, &why), STORE_OK, "second connection: begin after commit");
    st2->ops->rollback(st2);
    store_close(st2);
}

/* Connections opened from several threads at once, on a new store (WAL switch, schema). */
static gpointer open_close_thread(gpointer data)
{
    g_autofree char *why = NULL;
    struct store *st = store_open(cfg, &why);

    if (st == NULL)
	return g_steal_pointer(&why);
    store_close(st);
    return NULL;
}

static void test_threads(void)
{
    GThread *threads[16];
    int     failed = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(threads); i++)
	threads[i] = g_thread_new("open", open_close_thread, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(threads); i++) {
	char   *why = g_thread_join(threads[i]);

	if (why) {
	    diag("  %s", why);
	    failed++;
	    g_free(why);
	}
    }
    is_int(failed, 0, "16 threads open and close a new store at once");
}

/*
 * Branch api: a read-only connection (store_open_readonly()) pages through
 * every ticket newest first with no gap and no duplicate, filters by
 * mailbox and time, searches the full-text index, refuses every write
 * and a query that is not quoted words, and neither sees nor waits for a writer's
 * open transaction; on a path with no store it fails with a reason.
 */
struct ro_page {
    gint64  last;
    int     rows;
    gboolean descending;
    GString *numbers;
};

static void ro_row(void *ctx, const struct store_row *row)
{
    struct ro_page *p = ctx;
    gint64  id = row->values[0].i;

    if (p->rows++ && id >= p->last)
	p->descending = FALSE;
    p->last = id;
    g_string_append_len(p->numbers, row->values[1].text, row->values[1].len);
    g_string_append_c(p->numbers, ' ');
}

/*
 * The index keeps no positions, so FTS5 refuses a phrase of several tokens.
 * A word that GLib calls letters throughout (api_search.c cuts q with
 * g_unichar_isalnum) can still be two tokens to unicode61, whose tables
 * are Unicode 6.1's: U+19B0, a New Tai Lue vowel sign, is one such
 * separator. Every such word must be searched as its tokens, never
 * refused: each code point GLib calls a letter or digit is tried between
 * two words of the index, in queries of 200 words.
 */
static void test_search_words(struct store *ro)
{
    struct ro_page plain = {.descending = TRUE, .numbers = g_string_new(NULL)};
    struct ro_page split = {.descending = TRUE, .numbers = g_string_new(NULL)};
    struct ro_page none = {.descending = TRUE, .numbers = g_string_new(NULL)};
    g_autofree char *why = NULL;
    GString *q = g_string_new(NULL);
    int     refused = 0, tried = 0, words = 0;
    gunichar first_refused = 0;

    is_int(ro->ops->search_messages(ro, "\"smoking\"", 0, 100, ro_row, &plain, &why),
	   STORE_OK, "search: smoking");
    is_int(ro->ops->search_messages(ro, "\"smoking\xe1\xa6\xb0smoking\"", 0, 100, ro_row,
				    &split, &why), STORE_OK,
	   "search: a word that unicode61 cuts in two (U+19B0 inside) is answered");
    ok(split.rows > 0, "  with hits");
    is_str(split.numbers->str, plain.numbers->str, "  the hits of its tokens");
    is_int(ro->ops->search_messages(ro, "\"\xe1\xa6\xb0\"", 0, 100, ro_row, &none, &why),
	   STORE_OK, "search: a word without a token is answered");
    is_int(none.rows, 0, "  without hits");
    for (gunichar c = 1; c <= 0x10FFFF; c++) {
	if (!g_unichar_validate(c) || !g_unichar_isalnum(c))
	    continue;
	g_string_append(q, words ? " \"smoking" : "\"smoking");
	g_string_append_unichar(q, c);
	g_string_append(q, "smoking\"");
	if (++words < 200 && c < 0x10FFFF)
	    continue;
	tried++;
	g_clear_pointer(&why, g_free);
	if (ro->ops->search_messages(ro, q->str, 0, 1, ro_row, &none, &why) != STORE_OK) {
	    if (refused++ == 0) {
		first_refused = c;
		diag("  %s", why ? why : "no reason");
	    }
	}
	g_string_truncate(q, 0);
	words = 0;
    }
    is_int(refused, 0, "search: no word of GLib's letters and digits refused (%d queries;"
	   " first refused batch ends at U+%04X)", tried, first_refused);
    g_string_free(q, TRUE);
    g_string_free(plain.numbers, TRUE);
    g_string_free(split.numbers, TRUE);
    g_string_free(none.numbers, TRUE);
}

static void test_readonly(struct store *st)
{
    g_autofree char *why = NULL;
    g_autofree char *want = NULL;
    g_autofree char *number = NULL;
    struct store *ro = store_open_readonly(cfg, &why);
    struct ro_page all = {.descending = TRUE, .numbers = g_string_new(NULL)};
    struct ro_page pg = {.descending = TRUE, .numbers = g_string_new(NULL)};
    struct store_page q = {.limit = 3};
    int     pages = 0, total;

    if (!ok(ro != NULL, "store_open_readonly")) {
	diag("  %s", why);
	return;
    }
    ok(ro->ops->page_tickets != NULL && ro->ops->search_messages != NULL,
       "the SQLite backend has the API's ops");
    total = sql_int(cfg->store_path, "SELECT count(*) FROM tickets");
    want = sql_text(cfg->store_path, "SELECT group_concat(number, ' ') || ' ' FROM"
		    " (SELECT number FROM tickets ORDER BY id DESC)");
    /* Pages of 3, each from below the last id of the one before. */
    do {
	pg.rows = 0;
	q.before = pages ? pg.last : 0;
	if (!is_int(ro->ops->page_tickets(ro, &q, ro_row, &pg, &why), STORE_OK, "page_tickets"))
	    break;
    } while (pg.rows == q.limit && ++pages < 1000);
    is_str(pg.numbers->str, want, "pages of 3: every ticket once, newest first (%d tickets)",
	   total);
    ok(pg.descending, "ids descend across pages");
    q = (struct store_page) {.limit = 1000, .mailbox = "nosuch"};
    is_int(ro->ops->page_tickets(ro, &q, ro_row, &all, &why), STORE_OK, "page_tickets mailbox");
    is_int(all.rows, 0, "a mailbox without tickets: no row");
    q = (struct store_page) {.limit = 1000, .since = time(NULL) + 86400};
    is_int(ro->ops->page_tickets(ro, &q, ro_row, &all, &why), STORE_OK, "page_tickets since");
    is_int(all.rows, 0, "since tomorrow: no row");
    q = (struct store_page) {.limit = 1000, .since = 1};
    is_int(ro->ops->page_tickets(ro, &q, ro_row, &all, &why), STORE_OK, "page_tickets all");
    is_int(all.rows, total, "since 1970: every ticket");
    g_string_free(all.numbers, TRUE);
    g_string_free(pg.numbers, TRUE);

    all = (struct ro_page) {.descending = TRUE, .numbers = g_string_new(NULL)};
    is_int(ro->ops->search_messages(ro, "\"smoking\"", 0, 100, ro_row, &all, &why), STORE_OK,
	   "search_messages");
    is_int(all.rows, sql_int(cfg->store_path, "SELECT count(*) FROM messages_fts WHERE"
			     " messages_fts MATCH '\"smoking\"'"), "search: the index's hits");
    ok(all.rows > 0 && all.descending, "search: hits found, newest first");
    g_string_free(all.numbers, TRUE);
    g_clear_pointer(&why, g_free);
    is_int(ro->ops->search_messages(ro, "\"unclosed", 0, 10, ro_row, &all, &why), STORE_ERROR,
	   "search: a query that is not quoted words is STORE_ERROR");
    test_search_words(ro);

    g_clear_pointer(&why, g_free);
    {
	g_autofree char *before = sql_text(cfg->store_path, "SELECT status FROM tickets WHERE id = 1");
	int     ret = ro->ops->set_status(ro, 1, "closed", &why);
	g_autofree char *after = sql_text(cfg->store_path, "SELECT status FROM tickets WHERE id = 1");

	ok(ret != STORE_OK && why && strstr(why, "readonly"), "a write on it fails: %s",
	   why ? why : "no reason");
	is_str(after, before, "and changes nothing");
    }
    g_clear_pointer(&why, g_free);

    /* A writer's open transaction: not seen, not waited for (busy_timeout is 100ms here). */
    is_int(st->ops->begin(st, &why), STORE_OK, "writer: begin");
    new_ticket(st, "Uncommitted", "u@example.test", &number);
    all = (struct ro_page) {.descending = TRUE, .numbers = g_string_new(NULL)};
    q = (struct store_page) {.limit = 1000};
    is_int(ro->ops->page_tickets(ro, &q, ro_row, &all, &why), STORE_OK,
	   "page_tickets while the writer holds a transaction");
    is_int(all.rows, total, "the uncommitted ticket is not seen");
    g_string_free(all.numbers, TRUE);
    st->ops->rollback(st);
    store_close(ro);

    {
	g_autofree char *saved = cfg->store_path;
	g_autofree char *w = NULL;

	cfg->store_path = g_build_filename(tmpdir, "none.db", NULL);
	ro = store_open_readonly(cfg, &w);
	ok(ro == NULL && w && strstr(w, "no ticket store yet"), "no store yet: %s",
	   w ? w : "opened");
	ok(!g_file_test(cfg->store_path, G_FILE_TEST_EXISTS), "and nothing was created");
	store_close(ro);
	g_free(cfg->store_path);
	cfg->store_path = g_steal_pointer(&saved);
    }
}

int     main(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *conf = NULL;
    g_autofree char *fresh = NULL;
    GPtrArray *errors = NULL;
    struct store *st;
    int     status;

    year = g_date_time_get_year(now);
    tmpdir = g_dir_make_tmp("intake-test-store-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    conf = write_file("intake.conf",
		      "[store]\n"
		      "path = tickets.db\n"
		      "busy_timeout = 100ms\n"
		      "\n"
		      "[mailbox support]\n"
		      "address = support@example.test\n");
    cfg = config_load(conf, &errors);
    if (!ok(cfg != NULL, "config_load")) {
	for (guint i = 0; errors && i < errors->len; i++)
	    diag("  %s", (const char *) g_ptr_array_index(errors, i));
	if (errors)
	    g_ptr_array_unref(errors);
	return tap_done();
    }

    test_schema();
    test_refused();
    test_migrate_v1();
    test_migrate_v6();
    test_migrate_v7();
    test_migrate_v2();
    test_migrate_v3();
    test_migrate_v5();
    st = open_store("working connection");
    test_tickets(st);
    test_messages(st);
    test_transactions(st);
    test_outbox(st);
    test_reports(st);
    test_report_rows(st);
    test_fts();
    test_window(st);
    test_autogen(st);
    test_bounced(st);
    test_two_connections(st);
    test_suppressed(st);
    test_links(st);
    test_routing(st);
    test_classes(st);
    test_category(st);
    test_full_text(st);
    test_index_cut(st);
    test_statement_journal(st);
    test_readonly(st);
    store_close(st);

    /* Concurrent first opens of a new database: one creates, the others wait. */
    fresh = g_build_filename(tmpdir, "fresh.db", NULL);
    g_free(cfg->store_path);
    cfg->store_path = g_strdup(fresh);
    cfg->store_busy_timeout_ms = 10000;		/* the default: creating the schema takes time */
    test_threads();
    is_int(sql_int(fresh, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	   "threads: schema created once");

    config_free(cfg);
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    status = tap_done();
    return status;
}
