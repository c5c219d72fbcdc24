/*
 * NAME
 *	store_sqlite_sql - the SQL of the SQLite ticket store: schema
 *	migrations and prepared statements
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	const char *const sq_migrations[STORE_SCHEMA_VERSION];
 *	const struct stmt_def sq_stmt_defs[S_COUNT];
 * DESCRIPTION
 *	Tables: counters (ticket
 *	sequence per year), tickets (with closed_at, set and cleared by
 *	set_status(); linked_to and link_reason, the ticket a new one was
 *	linked to by stage_thread.c; sender_key and subject_key, what
 *	find_near_duplicate() matches, indexed), messages (with messages_fts, a
 *	contentless FTS5 index of subject and body, brought up to date
 *	at each commit; messages are never deleted or updated), attachments,
 *	thread_ids (message ids naming a ticket: those of stored mails,
 *	their references, and the Message-ID of every queued reply, so that
 *	an answer to an acknowledgement finds its ticket; first registration
 *	wins: a message id already naming a ticket of the mailbox is not
 *	registered for another, so a new mail reusing a victim's Message-ID
 *	cannot steer the victim's follow-ups to its own ticket), parties
 *	(lower-cased addresses of everyone who wrote in to a ticket; the
 *	sender of an outgoing message is us, never a party: a forged mail
 *	from our own address must not pass the sender check) and
 *	outbox (replies: owed -> sending -> sent, back to owed for a retry,
 *	failed for good, or unknown when a worker died while sending;
 *	bounced when a bounce naming its Message-ID came back, with the
 *	diagnostic in last_error; suppressed, with the reason in
 *	last_error, when Intake chose not to send it: never counted by
 *	replied_recently(); our_message_id() asks whether a message id is
 *	one of these rows) and autogen (auto-generated mail kept apart
 *	instead of ticketed, once per dedupe key, with its envelope and
 *	original; pruned by prune_autogen(), oldest first), faq (FAQ
 *	entries, with faq_fts, an FTS5 index of title and body kept by
 *	triggers), ticket_faq (the entries a ticket's acknowledgement
 *	suggested), category_docs and category_terms (the category model),
 *	projects, tasks, notes and time_entries (docs/actions.md:
 *	store_sqlite_projects.c). The
 *	original of a message is zstd-compressed and its attachments are
 *	MIME parts of it (blobs holds, once per SHA-256, what older
 *	schemas stored apart): store_sqlite_blob.c.
 *	Timestamps are ISO 8601 UTC text ("2026-11-23T19:00:00Z"); that
 *	fixed-width form sorts as time does, so replied_recently() compares
 *	text against an index.
 *
 *	All statements are one table here, beside the schema they depend
 *	on, and not one per file: sqlite_int.h says why.
 */
#include "faq_index.h"
#include "sqlite_int.h"

/* What messages_fts takes of a message (store.h, STORE_INDEX_TEXT_MAX). */
#define FTS_SUBJECT "intake_cut(subject, " G_STRINGIFY(STORE_INDEX_SUBJECT_MAX) ")"
#define FTS_BODY "intake_unzstd(body, " G_STRINGIFY(STORE_INDEX_TEXT_MAX) ")"

/* ---------------------------------------------------------------- */

/*
 * migrations[v] takes a database from user_version v to v + 1. Append
 * steps, never edit one that has shipped, and raise STORE_SCHEMA_VERSION.
 */
const char *const sq_migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE counters("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL);"
    "CREATE TABLE tickets("
    "  id INTEGER PRIMARY KEY,"
    "  number TEXT NOT NULL UNIQUE,"
    "  mailbox TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  category TEXT,"
    "  priority TEXT,"
    "  type TEXT,"
    "  language TEXT,"
    "  customer_name TEXT,"
    "  customer_address TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"
    "CREATE INDEX tickets_mailbox_status ON tickets(mailbox, status);"
    "CREATE INDEX tickets_customer ON tickets(customer_address);"
    "CREATE TABLE messages("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
    "  envelope_id TEXT,"
    "  queue_id TEXT,"
    "  dedupe_key TEXT UNIQUE,"
    "  message_id TEXT,"
    "  sender_name TEXT,"
    "  sender_address TEXT,"
    "  recipients TEXT,"
    "  subject TEXT,"
    "  header_fields TEXT,"
    "  body TEXT,"
    "  raw BLOB,"
    "  raw_truncated INTEGER NOT NULL DEFAULT 0,"
    "  note TEXT,"
    "  created_at TEXT NOT NULL);"
    "CREATE INDEX messages_ticket ON messages(ticket_id);"
    "CREATE TABLE attachments("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
    "  filename TEXT NOT NULL,"
    "  content_type TEXT,"
    "  content_id TEXT,"
    "  size INTEGER NOT NULL,"
    "  content BLOB,"
    "  stored INTEGER NOT NULL);"
    "CREATE INDEX attachments_message ON attachments(message_id);"
    "CREATE TABLE thread_ids("
    "  msgid TEXT NOT NULL,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  mailbox TEXT NOT NULL,"
    "  PRIMARY KEY(msgid, ticket_id));"
    "CREATE TABLE parties("
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  address TEXT NOT NULL,"
    "  PRIMARY KEY(ticket_id, address)) WITHOUT ROWID;"
    "CREATE TABLE outbox("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  mailbox TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  message_id TEXT NOT NULL UNIQUE,"
    "  content BLOB NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'owed'"
    "    CHECK (state IN ('owed', 'sending', 'sent', 'failed', 'unknown')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_try INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  created_at TEXT NOT NULL,"
    "  sent_at TEXT);"
    "CREATE INDEX outbox_due ON outbox(state, next_try);"
    "CREATE INDEX outbox_recent ON outbox(mailbox, recipient, created_at);"
    "CREATE INDEX outbox_ticket ON outbox(ticket_id);"
    "CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body,"
    "  content='messages', content_rowid='id',"
    "  tokenize='unicode61 remove_diacritics 2');"
    /* Messages above this id are not in messages_fts yet (see sq_commit). */
    "INSERT INTO counters(name, value) VALUES('fts-indexed', 0);",

    /*
     * 1 -> 2: the acknowledgement window is kept per sender across
     * mailboxes, under the normalised address (window_key), so that case
     * variants and a mail to N mailboxes get one reply; and a message id
     * names the ticket that registered it first in a mailbox (a new mail
     * reusing a victim's Message-ID must not steer the victim's
     * follow-ups): older duplicates are dropped, keeping the first.
     */
    "ALTER TABLE outbox ADD COLUMN window_key TEXT;"
    "UPDATE outbox SET window_key = lower(recipient);"
    "CREATE INDEX outbox_window ON outbox(window_key, created_at);"
    "DELETE FROM thread_ids WHERE rowid NOT IN"
    "  (SELECT min(rowid) FROM thread_ids GROUP BY msgid, mailbox);"
    "CREATE UNIQUE INDEX thread_ids_first ON thread_ids(msgid, mailbox);",

    /*
     * 2 -> 3: auto-generated mail that makes no ticket ([mailbox]
     * import_autogenerated = no) is kept apart in autogen, once per
     * dedupe key, until [store] autogen_keep_days; a reply of ours that
     * came back is "bounced"; a reply not sent on purpose (a refusal of
     * ack_policy.c or the acknowledgement cap) is kept as "suppressed"
     * with the reason in last_error, so that intakectl ticket shows why
     * a customer got no acknowledgement. SQLite cannot change a CHECK
     * constraint, so outbox is copied into a new table (its columns
     * named: a later step that adds an outbox column adds it after).
     * Tickets learn when they were closed (closed_at: a follow-up reopens
     * one only within [mailbox] reopen_days), the ticket a new one is
     * linked to and why (a stranger quoting a number, a follow-up to a
     * ticket closed long ago), and the keys that find a near-duplicate
     * (normalised sender and subject); and tickets are found by creation
     * time, so that intakectl status counts the tickets of the last
     * minutes (its throughput) without reading the whole table.
     */
    "CREATE TABLE autogen("
    "  id INTEGER PRIMARY KEY,"
    "  dedupe_key TEXT NOT NULL UNIQUE,"
    "  mailbox TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  reason TEXT,"
    "  queue_id TEXT,"
    "  sender TEXT,"
    "  subject TEXT,"
    "  date TEXT,"
    "  envelope TEXT NOT NULL,"
    "  raw BLOB,"
    "  imported_ticket INTEGER REFERENCES tickets(id),"
    "  created_at TEXT NOT NULL);"
    "CREATE INDEX autogen_created ON autogen(created_at);"
    "CREATE INDEX autogen_kind ON autogen(kind, mailbox);"
    "CREATE TABLE outbox_new("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  mailbox TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  message_id TEXT NOT NULL UNIQUE,"
    "  content BLOB NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'owed'"
    "    CHECK (state IN ('owed', 'sending', 'sent', 'failed', 'unknown', 'bounced',"
    "      'suppressed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_try INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  created_at TEXT NOT NULL,"
    "  sent_at TEXT,"
    "  window_key TEXT);"
    "INSERT INTO outbox_new(id, ticket_id, mailbox, kind, recipient, message_id, content,"
    "  state, attempts, next_try, last_error, created_at, sent_at, window_key)"
    "  SELECT id, ticket_id, mailbox, kind, recipient, message_id, content,"
    "  state, attempts, next_try, last_error, created_at, sent_at, window_key FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_new RENAME TO outbox;"
    "CREATE INDEX outbox_due ON outbox(state, next_try);"
    "CREATE INDEX outbox_recent ON outbox(mailbox, recipient, created_at);"
    "CREATE INDEX outbox_ticket ON outbox(ticket_id);"
    "CREATE INDEX outbox_window ON outbox(window_key, created_at);"
    "ALTER TABLE tickets ADD COLUMN closed_at TEXT;"
    "UPDATE tickets SET closed_at = updated_at WHERE status = 'closed';"
    "ALTER TABLE tickets ADD COLUMN linked_to INTEGER REFERENCES tickets(id);"
    "ALTER TABLE tickets ADD COLUMN link_reason TEXT;"
    "ALTER TABLE tickets ADD COLUMN sender_key TEXT;"
    "ALTER TABLE tickets ADD COLUMN subject_key TEXT;"
    "CREATE INDEX tickets_linked ON tickets(linked_to);"
    "CREATE INDEX tickets_near ON tickets(mailbox, sender_key, subject_key);"
    "CREATE INDEX tickets_created ON tickets(created_at);",

    /*
     * 3 -> 4: what the routing
     * rules (worker/rules*.c) decided for a new ticket: its queue and
     * assignee, its case (cases: the CRM's sharing rule, all mail from or
     * to an address goes to one case; made by intakectl case add or by
     * the first rule naming it), the rules that matched (rules_result_text():
     * an agent sees why) and its tags, a table of their own so that a tag
     * finds its tickets. And a follow-up's body is what its sender wrote
     * now (quote.c: without quoted history and signature); the whole text
     * is kept beside it in messages.full_text, NULL when the body is all
     * of it (every older row).
     *
     * And each original is stored once, as a zstd
     * frame (store_sqlite_blob.c), and an attachment is a reference into
     * it (a kept-apart auto-generated mail's original is compressed too):
     * its MIME part index (the milter's "part"), the SHA-256 of its
     * decoded content (the milter's "sha256", checked when it is read
     * back) and the message's MIME limits, so that the parts are numbered
     * as the milter numbered them. Contents stored apart before this step
     * (decoded, one copy per attachment) move into blobs, one row per
     * SHA-256, compressed; identical attachments are stored once.
     */
    "CREATE TABLE cases("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  title TEXT,"
    "  created_at TEXT NOT NULL);"
    "ALTER TABLE tickets ADD COLUMN queue TEXT;"
    "ALTER TABLE tickets ADD COLUMN assignee TEXT;"
    "ALTER TABLE tickets ADD COLUMN case_id INTEGER REFERENCES cases(id);"
    "ALTER TABLE tickets ADD COLUMN rules TEXT;"
    "CREATE INDEX tickets_case ON tickets(case_id);"
    "CREATE INDEX tickets_queue ON tickets(queue, status);"
    "CREATE TABLE ticket_tags("
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  tag TEXT NOT NULL,"
    "  PRIMARY KEY(ticket_id, tag)) WITHOUT ROWID;"
    "CREATE INDEX ticket_tags_tag ON ticket_tags(tag);"
    "ALTER TABLE messages ADD COLUMN full_text TEXT;"
    "CREATE TABLE blobs("
    "  id INTEGER PRIMARY KEY,"
    "  sha256 TEXT NOT NULL UNIQUE,"
    "  size INTEGER NOT NULL,"
    "  content BLOB NOT NULL);"
    "ALTER TABLE attachments ADD COLUMN part INTEGER;"
    "ALTER TABLE attachments ADD COLUMN sha256 TEXT;"
    /* blob_id names a blobs row; no REFERENCES clause, so that a test can drop it. */
    "ALTER TABLE attachments ADD COLUMN blob_id INTEGER;"
    "ALTER TABLE messages ADD COLUMN mime_limits TEXT;"
    "INSERT OR IGNORE INTO blobs(sha256, size, content)"
    "  SELECT intake_sha256(content), length(CAST(content AS BLOB)), intake_zstd(content)"
    "  FROM attachments WHERE content IS NOT NULL ORDER BY id;"
    "UPDATE attachments SET sha256 = intake_sha256(content),"
    "  blob_id = (SELECT b.id FROM blobs b WHERE b.sha256 = intake_sha256(attachments.content)),"
    "  content = NULL WHERE content IS NOT NULL;"
    "UPDATE messages SET raw = intake_zstd(raw) WHERE raw IS NOT NULL;"
    "UPDATE autogen SET raw = intake_zstd(raw) WHERE raw IS NOT NULL;"
    /*
     * The text is stored once: the full-text index becomes contentless
     * (its terms only; a search yields message ids) and messages.body a
     * zstd frame, read through intake_unzstd(). What was indexed is
     * indexed again, from the text as it was; later messages at commit.
     */
    "DROP TABLE messages_fts;"
    "CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body, content='',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "INSERT INTO messages_fts(rowid, subject, body)"
    "  SELECT id, subject, body FROM messages WHERE direction = 'in'"
    "  AND id <= (SELECT value FROM counters WHERE name = 'fts-indexed') ORDER BY id;"
    "UPDATE messages SET body = intake_zstd(body) WHERE body IS NOT NULL;",

    /*
     * 4 -> 5: classification (docs/classify.md). The sentiment of a
     * ticket's newest mail (classify_sentiment.c): its label and score
     * (valence per word); keyword tags go into ticket_tags beside the
     * rules' tags. FAQ suggestions (worker/classify_faq.c).
     * faq holds the entries, each in a collection (a subfolder of [worker]
     * faq_directory, or intakectl faq add --collection); source_path and
     * sha256 are the file's (NULL: added by hand), so faq sync replaces a
     * changed file's entry and removes a deleted one's. faq_fts indexes
     * title and body with external content (the text is stored once, in
     * faq), kept up to date by the triggers, SQLite's documented pattern
     * for an external content table; the tokenizer is the one of
     * messages_fts (diacritics folded: "Passwort zurücksetzen" matches
     * "zurucksetzen"; no stemmer, since Porter's is English only).
     * ticket_faq keeps what a new ticket's acknowledgement suggested, with
     * the title and URL as sent (the entry may change or go later).
     * Category suggestion (worker/classify_category.c): a new ticket's
     * suggested category and its confidence (the posterior probability, 0..1); category_confirmed = 1
     * when a person set the category (intakectl set-category): those
     * tickets are what intakectl train learns from. The model: per
     * category its training documents, per (category, term) the number
     * of them containing the stemmed term; counters 'category-model' is
     * raised at each save, so a worker sees that it changed.
     * Mailbox actions (docs/actions.md): projects and their tasks,
     * made by intakectl, numbered PRJ-N and TSK-N (N their id: a subject
     * names them as [#PRJ-N]); notes on a project or a task (mail to a
     * mailbox with action = project_note or task_note) and time entries
     * on a ticket or a task (action = time_entry). A note or a time entry
     * is written once per dedupe key (the envelope's key + mailbox, as a
     * message's): a redelivered mail adds nothing.
     */
    "CREATE TABLE faq("
    "  id INTEGER PRIMARY KEY,"
    "  collection TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  url TEXT,"
    "  body TEXT NOT NULL,"
    "  language TEXT,"
    "  source_path TEXT UNIQUE,"
    "  sha256 TEXT,"
    "  updated_at TEXT NOT NULL);"
    "CREATE INDEX faq_collection ON faq(collection);"
    "CREATE VIRTUAL TABLE faq_fts USING fts5(title, body, content='faq', content_rowid='id',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER faq_ai AFTER INSERT ON faq BEGIN"
    "  INSERT INTO faq_fts(rowid, title, body) VALUES(new.id, new.title, new.body); END;"
    "CREATE TRIGGER faq_ad AFTER DELETE ON faq BEGIN"
    "  INSERT INTO faq_fts(faq_fts, rowid, title, body)"
    "  VALUES('delete', old.id, old.title, old.body); END;"
    "CREATE TRIGGER faq_au AFTER UPDATE ON faq BEGIN"
    "  INSERT INTO faq_fts(faq_fts, rowid, title, body)"
    "  VALUES('delete', old.id, old.title, old.body);"
    "  INSERT INTO faq_fts(rowid, title, body) VALUES(new.id, new.title, new.body); END;"
    "CREATE TABLE ticket_faq("
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  rank INTEGER NOT NULL,"
    "  faq_id INTEGER NOT NULL,"
    "  title TEXT NOT NULL,"
    "  url TEXT,"
    "  score REAL NOT NULL,"
    "  PRIMARY KEY(ticket_id, rank)) WITHOUT ROWID;"
    "ALTER TABLE tickets ADD COLUMN sentiment TEXT;"
    "ALTER TABLE tickets ADD COLUMN sentiment_score REAL;"
    "ALTER TABLE tickets ADD COLUMN category_suggested TEXT;"
    "ALTER TABLE tickets ADD COLUMN category_confidence REAL;"
    "ALTER TABLE tickets ADD COLUMN category_confirmed INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX tickets_confirmed ON tickets(mailbox) WHERE category_confirmed;"
    "CREATE TABLE category_docs("
    "  category TEXT PRIMARY KEY,"
    "  docs INTEGER NOT NULL);"
    "CREATE TABLE category_terms("
    "  category TEXT NOT NULL,"
    "  term TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  PRIMARY KEY(category, term)) WITHOUT ROWID;"
    "INSERT INTO counters(name, value) VALUES('category-model', 0);"
    "CREATE TABLE projects("
    "  id INTEGER PRIMARY KEY,"
    "  number TEXT NOT NULL UNIQUE,"
    "  title TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'open',"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE tasks("
    "  id INTEGER PRIMARY KEY,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id),"
    "  number TEXT NOT NULL UNIQUE,"
    "  title TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'open',"
    "  created_at TEXT NOT NULL);"
    "CREATE INDEX tasks_project ON tasks(project_id);"
    "CREATE TABLE notes("
    "  id INTEGER PRIMARY KEY,"
    "  project_id INTEGER REFERENCES projects(id),"
    "  task_id INTEGER REFERENCES tasks(id),"
    "  dedupe_key TEXT NOT NULL UNIQUE,"
    "  author TEXT NOT NULL,"
    "  subject TEXT,"
    "  body TEXT NOT NULL,"
    "  message_id TEXT,"
    "  created_at TEXT NOT NULL,"
    "  CHECK ((project_id IS NULL) <> (task_id IS NULL)));"
    "CREATE INDEX notes_project ON notes(project_id);"
    "CREATE INDEX notes_task ON notes(task_id);"
    "CREATE TABLE time_entries("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER REFERENCES tickets(id),"
    "  task_id INTEGER REFERENCES tasks(id),"
    "  minutes INTEGER NOT NULL CHECK (minutes > 0),"
    "  summary TEXT NOT NULL,"
    "  author TEXT NOT NULL,"
    "  dedupe_key TEXT NOT NULL UNIQUE,"
    "  message_id TEXT,"
    "  created_at TEXT NOT NULL,"
    "  CHECK ((ticket_id IS NULL) <> (task_id IS NULL)));"
    "CREATE INDEX time_entries_ticket ON time_entries(ticket_id);"
    "CREATE INDEX time_entries_task ON time_entries(task_id);",
    /*
     * 5 -> 6 (branch sinks, docs/events.md): the event outbox, one row per
     * event and sink (event_id is the event's, the same for every sink:
     * the idempotency key), and the far end's id of a ticket per sink.
     */
    "CREATE TABLE events("
    "  id INTEGER PRIMARY KEY,"
    "  event_id INTEGER NOT NULL,"
    "  sink TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  ticket_id INTEGER NOT NULL DEFAULT 0,"
    "  number TEXT,"
    "  mailbox TEXT,"
    "  message_row INTEGER NOT NULL DEFAULT 0,"
    "  payload TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_try INTEGER NOT NULL DEFAULT 0,"
    "  last_answer TEXT,"
    "  last_try TEXT,"
    "  created_at TEXT NOT NULL,"
    "  sent_at TEXT,"
    "  UNIQUE(sink, event_id));"
    "CREATE INDEX events_due ON events(sink, state, id);"
    "CREATE INDEX events_ticket ON events(sink, ticket_id, id);"
    "CREATE INDEX events_sent ON events(sent_at) WHERE state = 'sent';"
    "CREATE TABLE sink_refs("
    "  sink TEXT NOT NULL,"
    "  ticket_id INTEGER NOT NULL,"
    "  ref TEXT NOT NULL,"
    "  PRIMARY KEY(sink, ticket_id)) WITHOUT ROWID;"
    "INSERT INTO counters(name, value) VALUES('event', 0);",

    /*
     * 6 -> 7: the FAQ in memory (worker/faq_index.c). counters
     * 'faq-version' is raised by every change of faq, so that a worker
     * holding the entries in memory sees that intakectl faq add, remove
     * or sync (another process) changed them with one row read.
     */
    "INSERT INTO counters(name, value) VALUES('faq-version', 0);"
    "CREATE TRIGGER faq_version_ai AFTER INSERT ON faq BEGIN"
    "  UPDATE counters SET value = value + 1 WHERE name = 'faq-version'; END;"
    "CREATE TRIGGER faq_version_ad AFTER DELETE ON faq BEGIN"
    "  UPDATE counters SET value = value + 1 WHERE name = 'faq-version'; END;"
    "CREATE TRIGGER faq_version_au AFTER UPDATE ON faq BEGIN"
    "  UPDATE counters SET value = value + 1 WHERE name = 'faq-version'; END;",

    /*
     * 7 -> 8: messages_fts keeps which column a term is in, not where
     * (detail=column). Every search is of single words (api_search.c:
     * each a quoted word, no phrase or NEAR), which need no positions;
     * column filters (subject:) still work. Without the positions the
     * index is built in half the time: it is built by the one writer
     * thread at each commit, a fifth of the writer's time with positions
     * (make bench, section 2; docs/design.md). What was indexed is indexed
     * again, from the stored text.
     */
    "DROP TABLE messages_fts;"
    "CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body, content='', detail=column,"
    "  tokenize='unicode61 remove_diacritics 2');"
    "INSERT INTO messages_fts(rowid, subject, body)"
    "  SELECT id, " FTS_SUBJECT ", " FTS_BODY " FROM messages WHERE direction = 'in'"
    "  AND id <= (SELECT value FROM counters WHERE name = 'fts-indexed') ORDER BY id;",
};


/* A step missing here would be a NULL at run time: count them now. */
G_STATIC_ASSERT(G_N_ELEMENTS(sq_migrations) == STORE_SCHEMA_VERSION);

/* ---------------------------------------------------------------- */
/*	Prepared statements						    */
/* ---------------------------------------------------------------- */

#define TICKET_INFO_COLUMNS \
    "id, number, mailbox, status, title, customer_address, closed_at, assignee, queue"

/*
 * The list statements take ?1 mailbox, ?2 status, ?3 limit; each variant
 * names only the filters it uses, so that SQLite can pick the index.
 */
#define LIST_SQL(where) \
    "SELECT number, mailbox, status, title, customer_address AS customer," \
    " created_at, updated_at," \
    " (SELECT count(*) FROM messages m WHERE m.ticket_id = t.id) AS messages," \
    " sentiment, sentiment_score" \
    " FROM tickets t " where " ORDER BY t.id DESC LIMIT ?3"

const struct stmt_def sq_stmt_defs[S_COUNT] = {
    [S_BEGIN] = {"begin transaction", "BEGIN IMMEDIATE"},
    [S_COMMIT] = {"commit", "COMMIT"},
    [S_ROLLBACK] = {"rollback", "ROLLBACK"},
    [S_SAVEPOINT] = {"savepoint", "SAVEPOINT job"},
    [S_RELEASE] = {"release savepoint", "RELEASE job"},
    [S_ROLLBACK_TO] = {"rollback to savepoint", "ROLLBACK TO job"},
    [S_OP_SAVEPOINT] = {"savepoint", "SAVEPOINT store_op"},
    [S_OP_RELEASE] = {"release savepoint", "RELEASE store_op"},
    [S_OP_ROLLBACK_TO] = {"rollback to savepoint", "ROLLBACK TO store_op"},
    [S_FIND_DUPLICATE] = {"look up dedupe key",
	"SELECT t.id, t.number FROM messages m JOIN tickets t ON t.id = m.ticket_id"
	" WHERE m.dedupe_key = ?1"},
    [S_TICKET_BY_NUMBER] = {"look up ticket",
	"SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE number = ?1"},
    [S_TICKET_BY_ID] = {"look up ticket",
	"SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE id = ?1"},
    [S_THREAD_LOOKUP] = {"look up message id",
	"SELECT ticket_id FROM thread_ids WHERE msgid = ?1 AND mailbox = ?2"},
    [S_IS_PARTY] = {"look up party",
	"SELECT 1 FROM parties WHERE ticket_id = ?1 AND address = ?2"},
    [S_PARTIES] = {"list parties",
	"SELECT address FROM parties WHERE ticket_id = ?1 ORDER BY address <> ?2, address"
	" LIMIT 1000"},
    [S_NEAR_DUPLICATE] = {"look up near-duplicate",
	"SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE mailbox = ?1 AND sender_key = ?2"
	" AND subject_key = ?3 AND status <> 'closed' AND updated_at >= ?4"
	" ORDER BY id DESC LIMIT 1"},
    [S_COUNTER_NEXT] = {"count tickets",
	"INSERT INTO counters(name, value) VALUES(?1, 1)"
	" ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value"},
    [S_TICKET_INSERT] = {"insert ticket",
	"INSERT INTO tickets(number, mailbox, status, title, category, priority, type,"
	" language, customer_name, customer_address, created_at, updated_at, linked_to,"
	" link_reason, sender_key, subject_key, category_suggested, category_confidence,"
	" sentiment, sentiment_score)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, nullif(?12, 0), ?13, ?14,"
	" ?15, ?16, ?17, ?18, ?19)"},
    [S_PARTY_INSERT] = {"insert party",
	"INSERT OR IGNORE INTO parties(ticket_id, address) VALUES(?1, ?2)"},
    [S_SET_STATUS] = {"set ticket status",
	"UPDATE tickets SET status = ?2, updated_at = ?3,"
	" closed_at = CASE WHEN ?2 = 'closed' THEN ?3 END WHERE id = ?1"},
    [S_TICKET_MAILBOX] = {"look up ticket",
	"SELECT mailbox FROM tickets WHERE id = ?1"},
    [S_MESSAGE_INSERT] = {"insert message",
	"INSERT INTO messages(ticket_id, direction, envelope_id, queue_id, dedupe_key,"
	" message_id, sender_name, sender_address, recipients, subject, header_fields,"
	" body, raw, raw_truncated, note, created_at, mime_limits, full_text)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"},
    [S_FTS_INSERT] = {"index message text",
	"INSERT INTO messages_fts(rowid, subject, body) VALUES(?1, ?2, ?3)"},
    [S_FTS_MARK] = {"mark messages indexed",
	"UPDATE counters SET value = (SELECT coalesce(max(id), 0) FROM messages)"
	" WHERE name = 'fts-indexed'"},
    [S_ATTACHMENT_INSERT] = {"insert attachment",
	"INSERT INTO attachments(message_id, filename, content_type, content_id, size,"
	" stored, part, sha256) VALUES(?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, 0), ?8)"},
    [S_THREAD_INSERT] = {"insert message id",
	"INSERT OR IGNORE INTO thread_ids(msgid, ticket_id, mailbox) VALUES(?1, ?2, ?3)"},
    [S_TICKET_TOUCH] = {"update ticket",
	"UPDATE tickets SET updated_at = ?2 WHERE id = ?1"},
    [S_REPLY_INSERT] = {"queue reply",
	"INSERT INTO outbox(ticket_id, mailbox, kind, recipient, message_id, content,"
	" created_at, window_key, state, last_error)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
    [S_REPLIED_RECENTLY] = {"look up recent replies",
	"SELECT 1 FROM outbox WHERE window_key = ?1 AND created_at >= ?2"
	" AND state <> 'suppressed' LIMIT 1"},
    [S_OUR_MESSAGE_ID] = {"look up our message ids",
	"SELECT 1 FROM outbox WHERE message_id = ?1"},
    [S_NEXT_REPLY] = {"look up owed replies",
	"SELECT id, ticket_id, mailbox, recipient, message_id, content, attempts"
	" FROM outbox WHERE state = 'owed' AND next_try <= ?1 ORDER BY id LIMIT 1"},
    [S_REPLY_STATE] = {"update reply",
	"UPDATE outbox SET state = ?2, last_error = ?3, next_try = ?4,"
	" attempts = attempts + (?2 <> 'sending'),"
	" sent_at = CASE WHEN ?2 = 'sent' THEN ?5 ELSE sent_at END"
	" WHERE id = ?1 AND (?2 <> 'sending' OR state = 'owed')"},
    [S_REPLY_GET_STATE] = {"look up reply",
	"SELECT state FROM outbox WHERE id = ?1"},
    [S_RECOVER_REPLIES] = {"recover replies",
	"UPDATE outbox SET state = 'unknown', attempts = attempts + 1,"
	" last_error = 'the worker stopped while sending: not known whether the relay"
	" took it, so it is not sent again'"
	" WHERE state = 'sending'"},
    [S_LIST] = {"list tickets", LIST_SQL("")},
    [S_LIST_MAILBOX] = {"list tickets", LIST_SQL("WHERE mailbox = ?1")},
    [S_LIST_STATUS] = {"list tickets", LIST_SQL("WHERE status = ?2")},
    [S_LIST_MAILBOX_STATUS] = {"list tickets",
	LIST_SQL("WHERE mailbox = ?1 AND status = ?2")},
    [S_SHOW_TICKET] = {"show ticket",
	"SELECT id, number, mailbox, status, title, category, priority, type, language,"
	" customer_name, customer_address, created_at, updated_at, closed_at,"
	" (SELECT o.number FROM tickets o WHERE o.id = t.linked_to) AS linked_to, link_reason,"
	" queue, assignee, (SELECT c.name FROM cases c WHERE c.id = t.case_id) AS \"case\","
	" (SELECT group_concat(tag, ',') FROM (SELECT tag FROM ticket_tags WHERE ticket_id = t.id"
	"   ORDER BY tag)) AS tags, rules, sentiment, sentiment_score, category_suggested,"
	" category_confidence, category_confirmed"
	" FROM tickets t WHERE number = ?1"},
    [S_SHOW_LINKED_FROM] = {"show linked tickets",
	"SELECT number, link_reason FROM tickets WHERE linked_to = ?1 ORDER BY id"},
    [S_SHOW_MESSAGES] = {"show messages",
	"SELECT id, direction, sender_address AS sender, sender_name, message_id,"
	" subject, created_at, intake_unzstd(body) AS body, header_fields, note,"
	" intake_unzstd(full_text) AS full_text"
	" FROM messages WHERE ticket_id = ?1 ORDER BY id"},
    [S_SHOW_ATTACHMENTS] = {"show attachments",
	"SELECT id, filename, content_type, size, stored, sha256"
	" FROM attachments WHERE message_id = ?1 ORDER BY id"},
    [S_LOAD_ATTACHMENT] = {"read attachment",
	"SELECT a.id, a.filename, a.content_type, a.size, a.stored, a.part, a.sha256,"
	" b.content, m.raw, m.mime_limits FROM attachments a"
	" JOIN messages m ON m.id = a.message_id JOIN tickets t ON t.id = m.ticket_id"
	" LEFT JOIN blobs b ON b.id = a.blob_id WHERE t.number = ?1 AND a.id = ?2"},
    [S_SHOW_REPLIES] = {"show replies",
	"SELECT kind, recipient, state, attempts, last_error, created_at, sent_at,"
	" message_id FROM outbox WHERE ticket_id = ?1 ORDER BY id"},
    /* The counts in the order of struct store_stats (sq_stats() reads them by position). */
    [S_STATS] = {"count",
	"SELECT (SELECT count(*) FROM tickets) AS tickets,"
	" (SELECT count(*) FROM messages) AS messages,"
	" (SELECT count(*) FROM outbox WHERE state = 'owed') AS replies_owed,"
	" (SELECT count(*) FROM outbox WHERE state = 'sending') AS replies_sending,"
	" (SELECT count(*) FROM outbox WHERE state = 'sent') AS replies_sent,"
	" (SELECT count(*) FROM outbox WHERE state = 'unknown') AS replies_unknown,"
	" (SELECT count(*) FROM outbox WHERE state = 'failed') AS replies_failed,"
	" (SELECT count(*) FROM outbox WHERE state = 'bounced') AS replies_bounced,"
	" (SELECT count(*) FROM outbox WHERE state = 'suppressed') AS replies_suppressed,"
	/* Throughput (intakectl status): created_at is ISO 8601 UTC, sorting as time does. */
	" (SELECT count(*) FROM tickets WHERE created_at >="
	"   strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 minutes')) AS tickets_last_1m,"
	" (SELECT count(*) FROM tickets WHERE created_at >="
	"   strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-5 minutes')) AS tickets_last_5m,"
	" (SELECT count(*) FROM tickets WHERE created_at >="
	"   strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-15 minutes')) AS tickets_last_15m"},

    [S_OUR_REPLY] = {"look up our reply",
	"SELECT o.id, o.ticket_id, t.number, o.state, o.kind FROM outbox o"
	" JOIN tickets t ON t.id = o.ticket_id WHERE o.message_id = ?1"},
    /* A reply still owed (or being sent) has not gone: a "bounce" of it is not one. */
    [S_REPLY_BOUNCED] = {"mark reply bounced",
	"UPDATE outbox SET state = 'bounced', last_error = ?2"
	" WHERE id = ?1 AND state IN ('sent', 'unknown', 'failed', 'bounced')"},
    [S_AUTOGEN_INSERT] = {"keep auto-generated mail",
	"INSERT INTO autogen(dedupe_key, mailbox, kind, reason, queue_id, sender, subject,"
	" date, envelope, raw, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	" ON CONFLICT(dedupe_key) DO NOTHING"},
    /* ?1 kind, ?2 mailbox (NULL: any), ?3 limit */
    [S_AUTOGEN_LIST] = {"list auto-generated mail",
	"SELECT a.id, a.mailbox, a.kind, a.reason, a.sender, a.subject, a.date,"
	" a.created_at AS received_at, t.number AS imported_as FROM autogen a"
	" LEFT JOIN tickets t ON t.id = a.imported_ticket"
	" WHERE (?1 IS NULL OR a.kind = ?1) AND (?2 IS NULL OR a.mailbox = ?2)"
	" ORDER BY a.id DESC LIMIT ?3"},
    [S_AUTOGEN_SHOW] = {"show auto-generated mail",
	"SELECT a.id, a.mailbox, a.kind, a.reason, a.queue_id, a.sender, a.subject, a.date,"
	" a.created_at AS received_at, t.number AS imported_as, a.envelope"
	" FROM autogen a LEFT JOIN tickets t ON t.id = a.imported_ticket WHERE a.id = ?1"},
    [S_AUTOGEN_LOAD] = {"read auto-generated mail",
	"SELECT a.id, a.mailbox, a.envelope, a.raw, coalesce(a.imported_ticket, 0), t.number"
	" FROM autogen a LEFT JOIN tickets t ON t.id = a.imported_ticket WHERE a.id = ?1"},
    [S_AUTOGEN_IMPORTED] = {"mark auto-generated mail imported",
	"UPDATE autogen SET imported_ticket = ?2 WHERE id = ?1 AND imported_ticket IS NULL"},
    [S_AUTOGEN_PRUNE] = {"prune auto-generated mail",
	"DELETE FROM autogen WHERE id IN (SELECT id FROM autogen WHERE created_at < ?1"
	" ORDER BY created_at LIMIT ?2)"},
    /* Routing rules (branch rules): a new ticket's queue, assignee, case, tags. */
    [S_CASE_ENSURE] = {"insert case",
	"INSERT INTO cases(name, created_at) VALUES(?1, ?2) ON CONFLICT(name) DO NOTHING"},
    [S_CASE_ADD] = {"add case",
	"INSERT INTO cases(name, title, created_at) VALUES(?1, ?2, ?3)"
	" ON CONFLICT(name) DO UPDATE SET title = excluded.title"},
    [S_CASE_LIST] = {"list cases",
	"SELECT c.name, c.title, c.created_at,"
	" (SELECT count(*) FROM tickets t WHERE t.case_id = c.id) AS tickets,"
	" (SELECT t.number FROM tickets t WHERE t.case_id = c.id ORDER BY t.id DESC LIMIT 1)"
	" AS newest FROM cases c ORDER BY c.name"},
    [S_CASE_TICKET] = {"look up case ticket",
	"SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE case_id ="
	" (SELECT id FROM cases WHERE name = ?1) AND status <> 'closed'"
	" ORDER BY id DESC LIMIT 1"},
    [S_ROUTING_SET] = {"set ticket routing",
	"UPDATE tickets SET queue = ?2, assignee = ?3, rules = ?4,"
	" case_id = (SELECT id FROM cases WHERE name = ?5) WHERE id = ?1"},
    [S_TAG_INSERT] = {"insert tag",
	"INSERT OR IGNORE INTO ticket_tags(ticket_id, tag) VALUES(?1, ?2)"},
    /* FAQ suggestions (branch faq): store_sqlite_faq.c. */
    [S_FAQ_PUT] = {"store FAQ entry",
	"INSERT INTO faq(collection, title, url, body, language, source_path, sha256, updated_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(source_path) DO UPDATE SET"
	" collection = excluded.collection, title = excluded.title, url = excluded.url,"
	" body = excluded.body, language = excluded.language, sha256 = excluded.sha256,"
	" updated_at = excluded.updated_at RETURNING id"},
    [S_FAQ_REMOVE] = {"remove FAQ entry", "DELETE FROM faq WHERE id = ?1"},
    [S_FAQ_LIST] = {"list FAQ entries",
	"SELECT id, collection, title, url, language, source_path, sha256, updated_at"
	" FROM faq ORDER BY collection, id"},
    /*
     * ?1 the FTS5 query, ?2 collection (NULL: any), ?3 language (an entry
     * without one fits any), ?4 the least score, ?5 how many. The score is
     * -bm25() with the title weighing twice the body: higher is better.
     */
    [S_FAQ_MATCH] = {"match FAQ entries",
	"SELECT f.id, f.title, f.url, -m.r FROM"
	" (SELECT rowid, bm25(faq_fts, " G_STRINGIFY(FAQ_TITLE_WEIGHT) ", "
	G_STRINGIFY(FAQ_BODY_WEIGHT) ") AS r FROM faq_fts WHERE faq_fts MATCH ?1) m"
	" JOIN faq f ON f.id = m.rowid"
	" WHERE (?2 IS NULL OR f.collection = ?2)"
	" AND (f.language IS NULL OR ?3 IS NULL OR f.language = ?3) AND -m.r >= ?4"
	" ORDER BY m.r, f.id LIMIT ?5"},
    /*
     * One b-tree segment per insert until FTS5's automerge catches up: a
     * lookup reads every segment of each term. Merged into one after a
     * change, a lookup among 1,000 entries took a third of the time
     * (docs/classify.md, "Cost").
     */
    [S_FAQ_OPTIMIZE] = {"merge the FAQ index", "INSERT INTO faq_fts(faq_fts) VALUES('optimize')"},
    [S_TICKET_FAQ_INSERT] = {"record FAQ suggestion",
	"INSERT OR REPLACE INTO ticket_faq(ticket_id, rank, faq_id, title, url, score)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
    [S_SHOW_FAQ] = {"show FAQ suggestions",
	"SELECT rank, faq_id, title, url, printf('%.2f', score) AS score FROM ticket_faq"
	" WHERE ticket_id = ?1"
	" ORDER BY rank"},
    [S_SENTIMENT_SET] = {"set ticket sentiment",
	"UPDATE tickets SET sentiment = ?2, sentiment_score = ?3 WHERE id = ?1"},
    [S_AUTOGEN_COUNTS] = {"count auto-generated mail",
	"SELECT kind, count(*) FROM autogen GROUP BY kind ORDER BY kind"},
    /* Category suggestion (store_sqlite_model.c). */
    [S_SET_CATEGORY] = {"set ticket category",
	"UPDATE tickets SET category = ?2, category_confirmed = 1, updated_at = ?3 WHERE id = ?1"},
    /* ?1 mailbox (NULL: any), ?2 limit: confirmed tickets, newest first, their first mail */
    [S_TRAINING_DOCS] = {"read training tickets",
	"SELECT t.category, t.language, m.subject, intake_unzstd(m.body) AS body"
	" FROM tickets t JOIN messages m ON m.id = (SELECT min(id) FROM messages"
	"   WHERE ticket_id = t.id AND direction = 'in')"
	" WHERE t.category_confirmed AND t.category IS NOT NULL AND t.category <> ''"
	" AND (?1 IS NULL OR t.mailbox = ?1) ORDER BY t.id DESC LIMIT ?2"},
    [S_MODEL_CLEAR_DOCS] = {"clear category model", "DELETE FROM category_docs"},
    [S_MODEL_CLEAR_TERMS] = {"clear category model", "DELETE FROM category_terms"},
    [S_MODEL_DOCS_INSERT] = {"save category model",
	"INSERT INTO category_docs(category, docs) VALUES(?1, ?2)"},
    [S_MODEL_TERM_INSERT] = {"save category model",
	"INSERT INTO category_terms(category, term, count) VALUES(?1, ?2, ?3)"},
    [S_MODEL_BUMP] = {"save category model",
	"UPDATE counters SET value = value + 1 WHERE name = 'category-model'"},
    [S_MODEL_VERSION] = {"look up category model",
	"SELECT value FROM counters WHERE name = 'category-model'"},
    [S_MODEL_LOAD_DOCS] = {"read category model",
	"SELECT category, docs FROM category_docs ORDER BY category"},
    [S_MODEL_LOAD_TERMS] = {"read category model",
	"SELECT category, term, count FROM category_terms"},
    /* Projects, tasks, their notes and time entries (branch actions: store_sqlite_projects.c). */
    [S_PROJECT_INSERT] = {"add project",
	"INSERT INTO projects(number, title, created_at)"
	" VALUES('PRJ-' || (SELECT coalesce(max(id), 0) + 1 FROM projects), ?1, ?2)"
	" RETURNING number"},
    [S_TASK_INSERT] = {"add task",
	"INSERT INTO tasks(project_id, number, title, created_at)"
	" SELECT p.id, 'TSK-' || (SELECT coalesce(max(id), 0) + 1 FROM tasks), ?2, ?3"
	" FROM projects p WHERE p.number = ?1 RETURNING number"},
    [S_PROJECT_ID] = {"look up project", "SELECT id FROM projects WHERE number = ?1"},
    [S_TASK_ID] = {"look up task", "SELECT id FROM tasks WHERE number = ?1"},
    [S_NOTE_INSERT] = {"add note",
	"INSERT INTO notes(project_id, task_id, dedupe_key, author, subject, body, message_id,"
	" created_at) VALUES(nullif(?1, 0), nullif(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8)"
	" ON CONFLICT(dedupe_key) DO NOTHING"},
    [S_TIME_INSERT] = {"add time entry",
	"INSERT INTO time_entries(ticket_id, task_id, minutes, summary, author, dedupe_key,"
	" message_id, created_at) VALUES(nullif(?1, 0), nullif(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8)"
	" ON CONFLICT(dedupe_key) DO NOTHING"},
    [S_PROJECT_LIST] = {"list projects",
	"SELECT p.number, p.title, p.status, p.created_at,"
	" (SELECT count(*) FROM tasks t WHERE t.project_id = p.id) AS tasks,"
	" (SELECT count(*) FROM notes n WHERE n.project_id = p.id) AS notes"
	" FROM projects p ORDER BY p.id"},
    [S_TASK_LIST] = {"list tasks",
	"SELECT t.number, p.number AS project, t.title, t.status, t.created_at,"
	" (SELECT coalesce(sum(minutes), 0) FROM time_entries e WHERE e.task_id = t.id)"
	" AS minutes FROM tasks t JOIN projects p ON p.id = t.project_id"
	" WHERE ?1 IS NULL OR p.number = ?1 ORDER BY t.id"},
    [S_PROJECT_SHOW] = {"show project",
	"SELECT id, number, title, status, created_at FROM projects WHERE number = ?1"},
    [S_TASK_SHOW] = {"show task",
	"SELECT t.id, t.number, p.number AS project, t.title, t.status, t.created_at,"
	" (SELECT coalesce(sum(minutes), 0) FROM time_entries e WHERE e.task_id = t.id)"
	" AS minutes FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.number = ?1"},
    [S_PROJECT_TASKS] = {"show project tasks",
	"SELECT number, title, status, created_at FROM tasks WHERE project_id = ?1 ORDER BY id"},
    [S_NOTES_SHOW] = {"show notes",
	"SELECT id, author, subject, body, message_id, created_at FROM notes"
	" WHERE project_id = ?1 OR task_id = ?2 ORDER BY id"},
    [S_TIME_SHOW] = {"show time entries",
	"SELECT id, minutes, summary, author, message_id, created_at FROM time_entries"
	" WHERE ticket_id = ?1 OR task_id = ?2 ORDER BY id"},
    /*
     * The read-only API (branch api, store_sqlite_api.c): keyset pages
     * newest first. "id < ?4" is a range of the rowid, so a page costs its
     * rows (plus those the filters skip), never an OFFSET's.
     * ?1 mailbox, ?2 status (NULL: any), ?3 created at or after (ISO
     * text, as created_at is written), ?4 ids below, ?5 the limit.
     */
    [S_API_TICKETS] = {"page tickets",
	"SELECT id, number, mailbox, status, title, customer_address AS customer,"
	" created_at, updated_at,"
	" (SELECT count(*) FROM messages m WHERE m.ticket_id = t.id) AS messages"
	" FROM tickets t WHERE t.id < ?4 AND (?1 IS NULL OR mailbox = ?1)"
	" AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR created_at >= ?3)"
	" ORDER BY t.id DESC LIMIT ?5"},
    /* ?1 the FTS5 query, ?2 message ids below, ?3 the limit. The index is contentless:
     * it yields message ids, the rest is read from messages and tickets. */
    [S_API_SEARCH] = {"search messages",
	"SELECT m.id, t.number, t.mailbox, t.status, m.subject,"
	" m.sender_address AS sender, m.created_at"
	" FROM (SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH ?1"
	"   AND rowid < ?2 ORDER BY rowid DESC LIMIT ?3) f"
	" JOIN messages m ON m.id = f.id JOIN tickets t ON t.id = m.ticket_id"
	" ORDER BY m.id DESC"},
    /* The FAQ in memory (faq_index.c): its version (migration 6 -> 7) and the entries' count. */
    [S_FAQ_VERSION] = {"FAQ version",
	"SELECT (SELECT value FROM counters WHERE name = 'faq-version'),"
	" (SELECT count(*) FROM faq)"},
    [S_FAQ_LOAD] = {"load FAQ entries",
	"SELECT id, collection, title, url, language, body FROM faq ORDER BY id"},
};
