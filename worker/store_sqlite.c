/*
 * NAME
 *	store_sqlite - the ticket store in an SQLite database
 * SYNOPSIS
 *	#include "store.h"
 *
 *	const struct store_ops store_sqlite_ops;	(.name = "sqlite")
 * DESCRIPTION
 *	The SQLite backend of store.h, one database file ([store] path).
 *	Each struct store is one connection with its own prepared
 *	statements, used by one thread at a time; the worker opens one for
 *	its pipeline thread and one for its reply thread. The connection
 *	runs in WAL mode, so readers never wait for the writer, with
 *	synchronous=FULL: once store_commit() returns, the tickets survive
 *	a power loss, and the worker may acknowledge the Redis entries.
 *	set_durability(FALSE) relaxes one connection to synchronous=NORMAL
 *	(the outbox's: a reply's state survives a crash, not a power loss).
 *	Full-text indexing happens once per transaction, in commit.
 *	Foreign keys are enforced; a writer that finds the database locked
 *	waits up to [store] busy_timeout, then gets STORE_BUSY.
 *
 *	The schema version is PRAGMA user_version. Opening applies the
 *	missing steps of migrations[] in one BEGIN IMMEDIATE transaction
 *	(so two processes that start together migrate once); a database
 *	made by a newer Intake is refused. Tables: counters (ticket
 *	sequence per year), tickets (with closed_at, set and cleared by
 *	set_status(); linked_to and link_reason, the ticket a new one was
 *	linked to by stage_thread.c; sender_key and subject_key, what
 *	find_near_duplicate() matches, indexed), messages (with messages_fts, an
 *	external-content FTS5 index of subject and body, brought up to date
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
 *	original; pruned by prune_autogen(), oldest first).
 *	Timestamps are ISO 8601 UTC text ("2026-11-23T19:00:00Z"); that
 *	fixed-width form sorts as time does, so replied_recently() compares
 *	text against an index.
 *
 *	create_ticket(), add_message(), queue_reply() and show_ticket() run
 *	inside their own savepoint, so each is all-or-nothing also outside
 *	store_begin()/store_commit(), and show_ticket() reads one snapshot.
 *
 *	Conventions beyond store.h: find_ticket(), find_by_message_ids()
 *	and find_near_duplicate() report "not found" as STORE_OK with
 *	info->id = 0 (find_near_duplicate() never matches an empty key);
 *	parties() lists at most 1000 addresses, the one asked about first
 *	when it is one (a ticket with more parties still finds its sender;
 *	same_domain sees the first thousand); they overwrite
 *	*info (pass it zeroed or cleared). next_reply() likewise overwrites
 *	*out. attempts counts tries, the one that sent a reply included:
 *	reply_state() adds one with every outcome it records (any state but
 *	"sending"), recover_replies() with the "unknown" it records for a
 *	try that was cut short. reply_state(..., "sending", ...)
 *	claims a reply: it succeeds only while the reply is owed, and
 *	returns STORE_BUSY when another worker took it first.
 *	replied_recently() matches the window key exactly as it was queued
 *	(the caller normalises it; without one, the recipient), across
 *	mailboxes, and counts replies in every state. list_tickets() with limit <= 0
 *	lists all. stats() also counts replies_sending, and the tickets
 *	created in the last 1, 5 and 15 minutes (tickets_last_1m, ...).
 * DIAGNOSTICS
 *	Every function returns STORE_OK, STORE_BUSY or STORE_ERROR as
 *	store.h says, with *why (g_free) naming the database path, the
 *	step that failed and sqlite3_errmsg(). SQLITE_BUSY, SQLITE_LOCKED,
 *	SQLITE_FULL, SQLITE_IOERR and SQLITE_CANTOPEN (and their extended
 *	codes) are STORE_BUSY; everything else is STORE_ERROR. A second
 *	message with a stored dedupe_key fails with "duplicate message".
 *	rollback(), rollback_to() and close() cannot fail towards the
 *	caller; they log a warning when SQLite complains.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "ticketno.h"

/* ---------------------------------------------------------------- */
/*	Schema								    */
/* ---------------------------------------------------------------- */

/*
 * migrations[v] takes a database from user_version v to v + 1. Append
 * steps, never edit one that has shipped, and raise STORE_SCHEMA_VERSION.
 */
static const char *const migrations[] = {
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
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == STORE_SCHEMA_VERSION);

/* ---------------------------------------------------------------- */
/*	Prepared statements						    */
/* ---------------------------------------------------------------- */

enum stmt {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
    S_OP_SAVEPOINT, S_OP_RELEASE, S_OP_ROLLBACK_TO,
    S_FIND_DUPLICATE, S_TICKET_BY_NUMBER, S_TICKET_BY_ID, S_THREAD_LOOKUP,
    S_IS_PARTY, S_PARTIES, S_NEAR_DUPLICATE, S_COUNTER_NEXT, S_TICKET_INSERT, S_PARTY_INSERT, S_SET_STATUS,
    S_TICKET_MAILBOX, S_MESSAGE_INSERT, S_FTS_INSERT, S_FTS_MARK, S_ATTACHMENT_INSERT,
    S_THREAD_INSERT, S_TICKET_TOUCH,
    S_REPLY_INSERT, S_REPLIED_RECENTLY, S_OUR_MESSAGE_ID, S_NEXT_REPLY, S_REPLY_STATE, S_REPLY_GET_STATE,
    S_RECOVER_REPLIES,
    S_LIST, S_LIST_MAILBOX, S_LIST_STATUS, S_LIST_MAILBOX_STATUS,
    S_SHOW_TICKET, S_SHOW_LINKED_FROM, S_SHOW_MESSAGES, S_SHOW_ATTACHMENTS, S_SHOW_REPLIES,
    S_STATS, S_OUR_REPLY, S_REPLY_BOUNCED, S_AUTOGEN_INSERT, S_AUTOGEN_LIST, S_AUTOGEN_SHOW,
    S_AUTOGEN_LOAD, S_AUTOGEN_IMPORTED, S_AUTOGEN_PRUNE, S_AUTOGEN_COUNTS,
    S_COUNT
};

struct stmt_def {
    const char *what;			/* for error messages */
    const char *sql;
};

#define TICKET_INFO_COLUMNS "id, number, mailbox, status, title, customer_address, closed_at"

/*
 * The list statements take ?1 mailbox, ?2 status, ?3 limit; each variant
 * names only the filters it uses, so that SQLite can pick the index.
 */
#define LIST_SQL(where) \
    "SELECT number, mailbox, status, title, customer_address AS customer," \
    " created_at, updated_at," \
    " (SELECT count(*) FROM messages m WHERE m.ticket_id = t.id) AS messages" \
    " FROM tickets t " where " ORDER BY t.id DESC LIMIT ?3"

static const struct stmt_def stmt_defs[S_COUNT] = {
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
	" link_reason, sender_key, subject_key)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, nullif(?12, 0), ?13, ?14,"
	" ?15)"},
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
	" body, raw, raw_truncated, note, created_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"},
    [S_FTS_INSERT] = {"index message text",
	"INSERT INTO messages_fts(rowid, subject, body)"
	" SELECT id, subject, body FROM messages"
	" WHERE id > (SELECT value FROM counters WHERE name = 'fts-indexed')"
	"   AND direction = 'in' ORDER BY id"},
    [S_FTS_MARK] = {"mark messages indexed",
	"UPDATE counters SET value = (SELECT coalesce(max(id), 0) FROM messages)"
	" WHERE name = 'fts-indexed'"},
    [S_ATTACHMENT_INSERT] = {"insert attachment",
	"INSERT INTO attachments(message_id, filename, content_type, content_id, size,"
	" content, stored) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
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
	" (SELECT o.number FROM tickets o WHERE o.id = t.linked_to) AS linked_to, link_reason"
	" FROM tickets t WHERE number = ?1"},
    [S_SHOW_LINKED_FROM] = {"show linked tickets",
	"SELECT number, link_reason FROM tickets WHERE linked_to = ?1 ORDER BY id"},
    [S_SHOW_MESSAGES] = {"show messages",
	"SELECT id, direction, sender_address AS sender, sender_name, message_id,"
	" subject, created_at, body, header_fields, note"
	" FROM messages WHERE ticket_id = ?1 ORDER BY id"},
    [S_SHOW_ATTACHMENTS] = {"show attachments",
	"SELECT filename, content_type, size, stored"
	" FROM attachments WHERE message_id = ?1 ORDER BY id"},
    [S_SHOW_REPLIES] = {"show replies",
	"SELECT kind, recipient, state, attempts, last_error, created_at, sent_at,"
	" message_id FROM outbox WHERE ticket_id = ?1 ORDER BY id"},
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
    [S_AUTOGEN_COUNTS] = {"count auto-generated mail",
	"SELECT kind, count(*) FROM autogen GROUP BY kind ORDER BY kind"},
};

/* One connection. */
struct sq {
    sqlite3 *db;
    char   *path;
    sqlite3_stmt *stmt[S_COUNT];
    int     last_rc;			/* result code of the last failure */
    gboolean in_txn;			/* between begin and commit/rollback */
};

#define SQ(st)	((struct sq *) (st)->impl)

/* ---------------------------------------------------------------- */
/*	Helpers								    */
/* ---------------------------------------------------------------- */

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and the null byte. */
#define ISO_TIME_SIZE	21
#define ISO_TIME_MAX	G_GINT64_CONSTANT(253402300799)	/* 9999-12-31T23:59:59Z */

/*
 * iso_time - format a Unix time as ISO 8601 UTC into buf; returns buf.
 * The time is clamped to years 1970..9999, where the text is fixed-width
 * and sorts as time does. *year (may be NULL) gets the year.
 */
static const char *iso_time(gint64 unix_time, char buf[ISO_TIME_SIZE], int *year)
{
    time_t  t = (time_t) CLAMP(unix_time, 0, ISO_TIME_MAX);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL
	|| strftime(buf, ISO_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) != ISO_TIME_SIZE - 1)
	g_error("iso_time: cannot format %" G_GINT64_FORMAT, unix_time);
    if (year)
	*year = tm.tm_year + 1900;
    return buf;
}

/* sq_transient - whether an SQLite result code is worth trying again later */
static gboolean sq_transient(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
	return TRUE;
    default:
	return FALSE;
    }
}

/*
 * sq_fail - report a failed SQLite call: *why names the database, the step
 * and SQLite's message; returns STORE_BUSY or STORE_ERROR.
 */
static int sq_fail(struct sq *sq, int rc, const char *what, char **why)
{
    sq->last_rc = rc;
    *why = g_strdup_printf("%s: %s: %s", sq->path, what,
			   sq->db ? sqlite3_errmsg(sq->db) : sqlite3_errstr(rc));
    return sq_transient(rc) ? STORE_BUSY : STORE_ERROR;
}

/*
 * sq_reset - make a statement ready for its next use and drop its
 * bindings (they may point into the caller's memory: SQLITE_STATIC).
 */
static void sq_reset(struct sq *sq, enum stmt id)
{
    /* sqlite3_reset() repeats the error of the last step, already reported. */
    (void) sqlite3_reset(sq->stmt[id]);
    (void) sqlite3_clear_bindings(sq->stmt[id]);	/* always SQLITE_OK */
}

/*
 * sq_bind - bind parameters ?1, ?2, ... of a statement, one argument per
 * letter of types: 't' const char * (NULL binds NULL), 'i' gint64 (cast
 * literals!), 'b' GBytes * (NULL binds NULL, empty binds an empty blob).
 * The values must stay valid until the statement is reset. On failure
 * the statement is reset.
 */
static int sq_bind(struct sq *sq, enum stmt id, char **why, const char *types, ...)
{
    sqlite3_stmt *s = sq->stmt[id];
    int     rc = SQLITE_OK;
    va_list ap;

    va_start(ap, types);
    for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
	switch (types[i]) {
	case 't':{
		const char *v = va_arg(ap, const char *);

		rc = v ? sqlite3_bind_text(s, i + 1, v, -1, SQLITE_STATIC)
		    : sqlite3_bind_null(s, i + 1);
		break;
	    }
	case 'i':
	    rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, gint64));
	    break;
	case 'b':{
		GBytes *v = va_arg(ap, GBytes *);
		gsize   len = 0;
		gconstpointer data = v ? g_bytes_get_data(v, &len) : NULL;

		if (v == NULL)
		    rc = sqlite3_bind_null(s, i + 1);
		else if (len == 0)
		    rc = sqlite3_bind_zeroblob(s, i + 1, 0);
		else
		    rc = sqlite3_bind_blob64(s, i + 1, data, len, SQLITE_STATIC);
		break;
	    }
	default:
	    g_assert_not_reached();
	}
    }
    va_end(ap);
    if (rc != SQLITE_OK) {
	int     ret = sq_fail(sq, rc, stmt_defs[id].what, why);

	sq_reset(sq, id);
	return ret;
    }
    return STORE_OK;
}

/*
 * sq_step - step a bound statement. *row (may be NULL) tells whether a
 * row waits; the caller reads it and calls sq_reset(). On failure the
 * statement is reset.
 */
static int sq_step(struct sq *sq, enum stmt id, gboolean *row, char **why)
{
    int     rc = sqlite3_step(sq->stmt[id]);
    int     ret;

    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
	if (row)
	    *row = (rc == SQLITE_ROW);
	return STORE_OK;
    }
    ret = sq_fail(sq, rc, stmt_defs[id].what, why);
    sq_reset(sq, id);
    return ret;
}

/* sq_run - step a bound statement that returns no rows, and reset it */
static int sq_run(struct sq *sq, enum stmt id, char **why)
{
    int     ret = sq_step(sq, id, NULL, why);

    sq_reset(sq, id);
    return ret;
}

/* sq_exec - run SQL text (statements that are not cached: open, migrations) */
static int sq_exec(struct sq *sq, const char *sql, const char *what, char **why)
{
    int     rc = sqlite3_exec(sq->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? STORE_OK : sq_fail(sq, rc, what, why);
}

/* sq_query_text - the first column of the first row of SQL text, newly allocated */
static int sq_query_text(struct sq *sq, const char *sql, char **value, char **why)
{
    sqlite3_stmt *s = NULL;
    int     rc = sqlite3_prepare_v2(sq->db, sql, -1, &s, NULL);
    int     ret = STORE_OK;

    *value = NULL;
    if (rc != SQLITE_OK)
	return sq_fail(sq, rc, sql, why);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
	*value = g_strdup((const char *) sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
	ret = sq_fail(sq, rc, sql, why);
    (void) sqlite3_finalize(s);			/* repeats the step's error */
    return ret;
}

/* col_strdup - a text column, newly allocated; NULL for SQL NULL */
static char *col_strdup(sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
	return NULL;
    return g_strdup((const char *) sqlite3_column_text(s, col));
}

/* json_text - a JSON string of n bytes of text, made valid UTF-8 if need be */
static json_t *json_text(const char *text, int n)
{
    g_autofree char *valid = NULL;

    if (text == NULL)
	return json_null();
    if (g_utf8_validate_len(text, n, NULL))
	return json_stringn(text, n);
    valid = g_utf8_make_valid(text, n);
    return json_string(valid);
}

/*
 * row_object - the current row as a JSON object, keyed by column names
 * (so SQL aliases choose the JSON names). Blobs are not expected.
 */
static json_t *row_object(sqlite3_stmt *s)
{
    json_t *obj = json_object();
    int     n = sqlite3_column_count(s);

    for (int i = 0; i < n; i++) {
	const char *name = sqlite3_column_name(s, i);
	json_t *v;

	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
	    v = json_integer(sqlite3_column_int64(s, i));
	    break;
	case SQLITE_FLOAT:
	    v = json_real(sqlite3_column_double(s, i));
	    break;
	case SQLITE_TEXT:{
		const char *text = (const char *) sqlite3_column_text(s, i);

		v = json_text(text, sqlite3_column_bytes(s, i));
		break;
	    }
	default:
	    v = json_null();
	    break;
	}
	if (name == NULL || v == NULL)
	    g_error("row_object: out of memory");
	json_object_set_new(obj, name, v);
    }
    return obj;
}

/* json_parse_member - a member stored as JSON text shown as JSON (left as text if it does not parse) */
static void json_parse_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    json_t *parsed = json_is_string(v) ? json_loads(json_string_value(v), 0, NULL) : NULL;

    if (parsed)
	json_object_set_new(obj, key, parsed);
}

/* ticket_info_from_row - fill *info from TICKET_INFO_COLUMNS */
static void ticket_info_from_row(sqlite3_stmt *s, struct store_ticket_info *info)
{
    info->id = sqlite3_column_int64(s, 0);
    info->number = col_strdup(s, 1);
    info->mailbox = col_strdup(s, 2);
    info->status = col_strdup(s, 3);
    info->title = col_strdup(s, 4);
    info->customer_address = col_strdup(s, 5);
    info->closed_at = 0;
    if (sqlite3_column_type(s, 6) == SQLITE_TEXT) {
	g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(
				      (const char *) sqlite3_column_text(s, 6), NULL);

	if (t)
	    info->closed_at = g_date_time_to_unix(t);
    }
}

/*
 * op_begin/op_end - run one store operation of several statements inside
 * the savepoint store_op: all of it or none. op_end() takes the result
 * of the operation; on failure it undoes the operation and returns that
 * result (*why already set), else it releases the savepoint.
 */
static int op_begin(struct sq *sq, char **why)
{
    return sq_run(sq, S_OP_SAVEPOINT, why);
}

static int op_end(struct sq *sq, int ret, char **why)
{
    char   *undo_why = NULL;

    if (ret == STORE_OK && (ret = sq_run(sq, S_OP_RELEASE, why)) == STORE_OK)
	return STORE_OK;
    /* After some errors SQLite has rolled back the whole transaction already. */
    if (!sqlite3_get_autocommit(sq->db)
	&& (sq_run(sq, S_OP_ROLLBACK_TO, &undo_why) != STORE_OK
	    || sq_run(sq, S_OP_RELEASE, &undo_why) != STORE_OK)) {
	msg_warn("%s", undo_why);
	g_free(undo_why);
    }
    return ret;
}

/* ---------------------------------------------------------------- */
/*	Open and close							    */
/* ---------------------------------------------------------------- */

/* Connection settings: set, then read back to be sure they took. */
static const struct {
    const char *name;
    const char *value;
    const char *expect;
} pragmas[] = {
    {"journal_mode", "WAL", "wal"},
    {"synchronous", "FULL", "2"},
    {"foreign_keys", "ON", "1"},
    /* A batch of tickets with their originals is several MB: keep it in memory. */
    {"cache_size", "-32768", "-32768"},
    /* Checkpoint every 32 MB of WAL, not 4 MB: index pages rewritten by
     * several batches are copied to the database once. */
    {"wal_autocheckpoint", "8192", "8192"},
};

static int sq_pragmas(struct sq *sq, char **why)
{
    for (gsize i = 0; i < G_N_ELEMENTS(pragmas); i++) {
	g_autofree char *set = g_strdup_printf("PRAGMA %s = %s", pragmas[i].name,
					       pragmas[i].value);
	g_autofree char *get = g_strdup_printf("PRAGMA %s", pragmas[i].name);
	g_autofree char *value = NULL;
	int     ret;

	if ((ret = sq_exec(sq, set, set, why)) != STORE_OK
	    || (ret = sq_query_text(sq, get, &value, why)) != STORE_OK)
	    return ret;
	if (g_strcmp0(value, pragmas[i].expect) != 0) {
	    *why = g_strdup_printf("%s: %s did not take effect (got '%s'); is the"
				   " file system local, and SQLite complete?",
				   sq->path, set, value ? value : "");
	    return STORE_ERROR;
	}
    }
    return STORE_OK;
}

static int sq_user_version(struct sq *sq, int *version, char **why)
{
    g_autofree char *value = NULL;
    int     ret = sq_query_text(sq, "PRAGMA user_version", &value, why);

    if (ret == STORE_OK)
	*version = value ? atoi(value) : 0;
    return ret;
}

static int sq_too_new(struct sq *sq, int version, char **why)
{
    *why = g_strdup_printf("%s: database schema version %d is newer than this"
			   " intake-worker (%d); upgrade intake",
			   sq->path, version, STORE_SCHEMA_VERSION);
    return STORE_ERROR;
}

/*
 * sq_migrate - bring the schema to STORE_SCHEMA_VERSION. The version is
 * read again once the write lock is held: another process may have
 * migrated while this one waited.
 */
static int sq_migrate(struct sq *sq, char **why)
{
    int     from, version, ret;

    if ((ret = sq_user_version(sq, &version, why)) != STORE_OK)
	return ret;
    if (version > STORE_SCHEMA_VERSION)
	return sq_too_new(sq, version, why);
    if (version == STORE_SCHEMA_VERSION)
	return STORE_OK;

    if ((ret = sq_exec(sq, "BEGIN IMMEDIATE", "begin schema migration", why)) != STORE_OK)
	return ret;
    if ((ret = sq_user_version(sq, &version, why)) != STORE_OK)
	goto undo;
    if (version > STORE_SCHEMA_VERSION) {
	ret = sq_too_new(sq, version, why);
	goto undo;
    }
    if (version == STORE_SCHEMA_VERSION)	/* done by another process meanwhile */
	goto undo;				/* ret is STORE_OK: nothing to undo */
    for (from = version; from < STORE_SCHEMA_VERSION; from++) {
	g_autofree char *what = g_strdup_printf("schema migration %d to %d", from, from + 1);

	if ((ret = sq_exec(sq, migrations[from], what, why)) != STORE_OK)
	    goto undo;
    }
    {
	g_autofree char *set = g_strdup_printf("PRAGMA user_version = %d", STORE_SCHEMA_VERSION);

	if ((ret = sq_exec(sq, set, "set schema version", why)) != STORE_OK)
	    goto undo;
    }
    if ((ret = sq_exec(sq, "COMMIT", "commit schema migration", why)) != STORE_OK)
	goto undo;
    if (version == 0)
	msg_info("%s: created the ticket store (schema version %d)", sq->path,
		 STORE_SCHEMA_VERSION);
    else
	msg_info("%s: migrated the ticket store from schema version %d to %d",
		 sq->path, version, STORE_SCHEMA_VERSION);
    return STORE_OK;

undo:
    if (!sqlite3_get_autocommit(sq->db)
	&& sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
	msg_warn("%s: rollback of schema migration: %s", sq->path, sqlite3_errmsg(sq->db));
    return ret;
}

/* sq_free - finalize the statements, close the connection, free */
static void sq_free(struct sq *sq)
{
    int     rc;

    for (int i = 0; i < S_COUNT; i++)
	(void) sqlite3_finalize(sq->stmt[i]);	/* repeats the last step's error */
    /* Rolls back a transaction still open. */
    if ((rc = sqlite3_close(sq->db)) != SQLITE_OK)
	msg_warn("%s: close: %s", sq->path, sqlite3_errstr(rc));
    g_free(sq->path);
    g_free(sq);
}

/*
 * sq_check_modes - warn about store files others may read. The daemons
 * run under umask 077, but a database copied in, restored from a backup
 * or made by intakectl under a looser umask keeps its mode; it holds
 * customers' mail, so say which file and how to fix it.
 */
static void sq_check_modes(const struct sq *sq)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", NULL};

    for (int i = 0; suffixes[i]; i++) {
	g_autofree char *file = g_strconcat(sq->path, suffixes[i], NULL);
	struct stat sb;

	if (stat(file, &sb) == 0 && (sb.st_mode & S_IRWXO))
	    msg_warn("%s: mode %04o lets every user of this host read the tickets:"
		     " chmod o-rwx %s (and check the directory's mode)", file,
		     (unsigned) (sb.st_mode & 07777), file);
    }
}

static int sq_open(struct store *st, char **why)
{
    struct sq *sq = g_new0(struct sq, 1);
    g_autofree char *dir = NULL;
    int     rc, ret;

    sq->path = g_strdup(st->cfg->store_path);
    dir = g_path_get_dirname(sq->path);
    if (!sqlite3_threadsafe()) {
	*why = g_strdup_printf("%s: this SQLite library is built without thread support",
			       sq->path);
	ret = STORE_ERROR;
	goto fail;
    }
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
	*why = g_strdup_printf("%s: directory %s does not exist; create it, writable by"
			       " the user intake-worker runs as ([store] path)",
			       sq->path, dir);
	ret = STORE_ERROR;
	goto fail;
    }
    /* One connection per thread: SQLite's own mutexes are not needed. */
    rc = sqlite3_open_v2(sq->path, &sq->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
			 | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
	ret = sq_fail(sq, rc, "cannot open the ticket store", why);
	goto fail;
    }
    if ((rc = sqlite3_extended_result_codes(sq->db, 1)) != SQLITE_OK
	|| (rc = sqlite3_busy_timeout(sq->db, st->cfg->store_busy_timeout_ms)) != SQLITE_OK) {
	ret = sq_fail(sq, rc, "configure connection", why);
	goto fail;
    }
    if ((ret = sq_pragmas(sq, why)) != STORE_OK || (ret = sq_migrate(sq, why)) != STORE_OK)
	goto fail;
    sq_check_modes(sq);				/* -wal and -shm exist from here on */
    for (int i = 0; i < S_COUNT; i++) {
	rc = sqlite3_prepare_v3(sq->db, stmt_defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
				&sq->stmt[i], NULL);
	if (rc != SQLITE_OK) {
	    g_autofree char *what = g_strdup_printf("prepare \"%s\"", stmt_defs[i].sql);

	    ret = sq_fail(sq, rc, what, why);
	    goto fail;
	}
    }
    st->impl = sq;
    return STORE_OK;

fail:
    sq_free(sq);
    return ret;
}

static void sq_close(struct store *st)
{
    if (st->impl)
	sq_free(SQ(st));
    st->impl = NULL;
}

/* ---------------------------------------------------------------- */
/*	Transactions							    */
/* ---------------------------------------------------------------- */

static int sq_begin(struct store *st, char **why)
{
    struct sq *sq = SQ(st);
    int     ret = sq_run(sq, S_BEGIN, why);

    if (ret == STORE_OK)
	sq->in_txn = TRUE;
    return ret;
}

static int sq_commit(struct store *st, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if (!sq->in_txn) {
	*why = g_strdup_printf("%s: commit without begin", sq->path);
	return STORE_ERROR;
    }

    /*
     * After some errors (disk full, I/O) SQLite rolls the whole transaction
     * back by itself. A COMMIT would then fail as "no transaction is
     * active"; say what happened instead, as a transient failure.
     */
    if (sqlite3_get_autocommit(sq->db)) {
	sq->in_txn = FALSE;
	*why = g_strdup_printf("%s: the transaction was rolled back after an earlier error",
			       sq->path);
	return STORE_BUSY;
    }
    /*
     * Full-text indexing happens here, once per transaction, not as each
     * message is added: FTS5 flushes its pending terms at every SAVEPOINT,
     * and the pipeline takes one per job, so indexing message by message
     * wrote one index segment per message (a sixth of the worker's time,
     * and ever more segments to merge). Messages of jobs rolled back to
     * their savepoint are gone by now and are not indexed. Outgoing
     * messages are automatic acknowledgements (template text) for now:
     * XXX index agents' replies too once the store has them.
     */
    if ((ret = sq_run(sq, S_FTS_INSERT, why)) != STORE_OK
	|| (ret = sq_run(sq, S_FTS_MARK, why)) != STORE_OK)
	return ret;
    ret = sq_run(sq, S_COMMIT, why);
    if (ret == STORE_OK || sqlite3_get_autocommit(sq->db))
	sq->in_txn = FALSE;
    return ret;
}

static void sq_rollback(struct store *st)
{
    struct sq *sq = SQ(st);
    char   *why = NULL;

    sq->in_txn = FALSE;
    if (sqlite3_get_autocommit(sq->db))
	return;					/* nothing open */
    if (sq_run(sq, S_ROLLBACK, &why) != STORE_OK) {
	msg_warn("%s", why);
	g_free(why);
    }
}

static int sq_savepoint(struct store *st, char **why)
{
    return sq_run(SQ(st), S_SAVEPOINT, why);
}

static int sq_release(struct store *st, char **why)
{
    return sq_run(SQ(st), S_RELEASE, why);
}

static void sq_rollback_to(struct store *st)
{
    struct sq *sq = SQ(st);
    char   *why = NULL;

    if (sqlite3_get_autocommit(sq->db))
	return;					/* SQLite already undid everything */
    if (sq_run(sq, S_ROLLBACK_TO, &why) != STORE_OK || sq_run(sq, S_RELEASE, &why) != STORE_OK) {
	msg_warn("%s", why);
	g_free(why);
    }
}

/* ---------------------------------------------------------------- */
/*	Tickets								    */
/* ---------------------------------------------------------------- */

static int sq_find_duplicate(struct store *st, const char *dedupe_key,
			             gint64 *ticket_id, char **number, char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *ticket_id = 0;
    *number = NULL;
    if (dedupe_key == NULL)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_FIND_DUPLICATE, why, "t", dedupe_key)) != STORE_OK
	|| (ret = sq_step(sq, S_FIND_DUPLICATE, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	*ticket_id = sqlite3_column_int64(sq->stmt[S_FIND_DUPLICATE], 0);
	*number = col_strdup(sq->stmt[S_FIND_DUPLICATE], 1);
    }
    sq_reset(sq, S_FIND_DUPLICATE);
    return STORE_OK;
}

/* ticket_lookup - run a TICKET_INFO_COLUMNS query bound already; info->id = 0: none */
static int ticket_lookup(struct sq *sq, enum stmt id, struct store_ticket_info *info,
			         char **why)
{
    gboolean row = FALSE;
    int     ret;

    memset(info, 0, sizeof(*info));
    if ((ret = sq_step(sq, id, &row, why)) != STORE_OK)
	return ret;
    if (row)
	ticket_info_from_row(sq->stmt[id], info);
    sq_reset(sq, id);
    return STORE_OK;
}

static int sq_find_ticket(struct store *st, const char *number,
			          struct store_ticket_info *info, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    memset(info, 0, sizeof(*info));
    if ((ret = sq_bind(sq, S_TICKET_BY_NUMBER, why, "t", number)) != STORE_OK)
	return ret;
    return ticket_lookup(sq, S_TICKET_BY_NUMBER, info, why);
}

static int sq_find_by_message_ids(struct store *st, const char *mailbox,
				          const char *const *ids,
				          struct store_ticket_info *info, char **why)
{
    struct sq *sq = SQ(st);
    gint64  best = 0;
    gboolean row = FALSE;
    int     ret;

    memset(info, 0, sizeof(*info));
    for (int i = 0; ids && ids[i]; i++) {
	if (*ids[i] == 0)
	    continue;
	if ((ret = sq_bind(sq, S_THREAD_LOOKUP, why, "tt", ids[i], mailbox)) != STORE_OK
	    || (ret = sq_step(sq, S_THREAD_LOOKUP, &row, why)) != STORE_OK)
	    return ret;
	if (row)
	    best = MAX(best, sqlite3_column_int64(sq->stmt[S_THREAD_LOOKUP], 0));
	sq_reset(sq, S_THREAD_LOOKUP);
    }
    if (best == 0)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_TICKET_BY_ID, why, "i", best)) != STORE_OK)
	return ret;
    return ticket_lookup(sq, S_TICKET_BY_ID, info, why);
}

static int sq_is_party(struct store *st, gint64 ticket_id, const char *address,
		               gboolean *yes, char **why)
{
    struct sq *sq = SQ(st);
    g_autofree char *lower = address ? g_ascii_strdown(address, -1) : NULL;
    gboolean row = FALSE;
    int     ret;

    *yes = FALSE;
    if (lower == NULL)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_IS_PARTY, why, "it", ticket_id, lower)) != STORE_OK
	|| (ret = sq_step(sq, S_IS_PARTY, &row, why)) != STORE_OK)
	return ret;
    *yes = row;
    sq_reset(sq, S_IS_PARTY);
    return STORE_OK;
}

static int sq_parties(struct store *st, gint64 ticket_id, const char *first,
		              char ***addresses, char **why)
{
    struct sq *sq = SQ(st);
    g_autofree char *lower = first ? g_ascii_strdown(first, -1) : NULL;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    gboolean row = FALSE;
    int     ret;

    *addresses = NULL;
    if ((ret = sq_bind(sq, S_PARTIES, why, "it", ticket_id, lower)) != STORE_OK)
	return ret;
    while ((ret = sq_step(sq, S_PARTIES, &row, why)) == STORE_OK && row)
	g_ptr_array_add(list, col_strdup(sq->stmt[S_PARTIES], 0));
    sq_reset(sq, S_PARTIES);
    if (ret != STORE_OK)
	return ret;
    g_ptr_array_add(list, NULL);
    *addresses = (char **) g_ptr_array_free(g_steal_pointer(&list), FALSE);
    return STORE_OK;
}

static int sq_find_near_duplicate(struct store *st, const char *mailbox,
				          const char *sender_key, const char *subject_key,
				          gint64 since_unix, struct store_ticket_info *info,
				          char **why)
{
    struct sq *sq = SQ(st);
    char    since[ISO_TIME_SIZE];
    int     ret;

    memset(info, 0, sizeof(*info));
    if (sender_key == NULL || *sender_key == 0 || subject_key == NULL || *subject_key == 0)
	return STORE_OK;
    iso_time(since_unix, since, NULL);
    if ((ret = sq_bind(sq, S_NEAR_DUPLICATE, why, "tttt", mailbox, sender_key, subject_key,
		       since)) != STORE_OK)
	return ret;
    return ticket_lookup(sq, S_NEAR_DUPLICATE, info, why);
}

/* add_party - record a (lower-cased) address as a party of a ticket */
static int add_party(struct sq *sq, gint64 ticket_id, const char *address, char **why)
{
    g_autofree char *lower = NULL;
    int     ret;

    if (address == NULL || *address == 0)
	return STORE_OK;
    lower = g_ascii_strdown(address, -1);
    if ((ret = sq_bind(sq, S_PARTY_INSERT, why, "it", ticket_id, lower)) != STORE_OK)
	return ret;
    return sq_run(sq, S_PARTY_INSERT, why);
}

/* add_thread_id - record a message id that names a ticket */
static int add_thread_id(struct sq *sq, const char *msgid, gint64 ticket_id,
			         const char *mailbox, char **why)
{
    int     ret;

    if (msgid == NULL || *msgid == 0)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_THREAD_INSERT, why, "tit", msgid, ticket_id, mailbox)) != STORE_OK)
	return ret;
    return sq_run(sq, S_THREAD_INSERT, why);
}

/* next_seq - the next ticket sequence number of a year */
static int next_seq(struct sq *sq, int year, gint64 *seq, char **why)
{
    g_autofree char *name = g_strdup_printf("ticket-%04d", year);
    gboolean row = FALSE;
    int     ret;

    if ((ret = sq_bind(sq, S_COUNTER_NEXT, why, "t", name)) != STORE_OK
	|| (ret = sq_step(sq, S_COUNTER_NEXT, &row, why)) != STORE_OK)
	return ret;
    /* RETURNING: the change is made by the first step; reset ends it. */
    if (row)
	*seq = sqlite3_column_int64(sq->stmt[S_COUNTER_NEXT], 0);
    sq_reset(sq, S_COUNTER_NEXT);
    if (!row) {
	*why = g_strdup_printf("%s: counter %s returned no value", sq->path, name);
	return STORE_ERROR;
    }
    return STORE_OK;
}

static int sq_create_ticket(struct store *st, const struct store_ticket *t,
			            const char *prefix, gint64 *id, char **number, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    g_autofree char *num = NULL;
    gint64  seq = 0;
    int     year, ret;

    *id = 0;
    *number = NULL;
    iso_time(time(NULL), now, &year);
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    if ((ret = next_seq(sq, year, &seq, why)) != STORE_OK)
	goto out;
    num = ticketno_format(prefix ? prefix : st->cfg->ticket_prefix, year, seq);
    if ((ret = sq_bind(sq, S_TICKET_INSERT, why, "tttttttttttittt", num, t->mailbox,
		       t->status ? t->status : "new", t->title ? t->title : "",
		       t->category, t->priority, t->type, t->language,
		       t->customer_name, t->customer_address, now, t->linked_to,
		       t->link_reason, t->sender_key, t->subject_key)) != STORE_OK
	|| (ret = sq_run(sq, S_TICKET_INSERT, why)) != STORE_OK)
	goto out;
    *id = sqlite3_last_insert_rowid(sq->db);
    ret = add_party(sq, *id, t->customer_address, why);

out:
    if ((ret = op_end(sq, ret, why)) != STORE_OK) {
	*id = 0;
	return ret;
    }
    *number = g_steal_pointer(&num);
    return STORE_OK;
}

static int sq_set_status(struct store *st, gint64 ticket_id, const char *status, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_SET_STATUS, why, "itt", ticket_id, status, now)) != STORE_OK
	|| (ret = sq_run(sq, S_SET_STATUS, why)) != STORE_OK)
	return ret;
    if (sqlite3_changes(sq->db) == 0) {
	*why = g_strdup_printf("%s: set status: no ticket with id %" G_GINT64_FORMAT,
			       sq->path, ticket_id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

/* ticket_mailbox - the mailbox of a ticket (newly allocated); an error if none */
static int ticket_mailbox(struct sq *sq, gint64 ticket_id, char **mailbox, char **why)
{
    gboolean row = FALSE;
    int     ret;

    *mailbox = NULL;
    if ((ret = sq_bind(sq, S_TICKET_MAILBOX, why, "i", ticket_id)) != STORE_OK
	|| (ret = sq_step(sq, S_TICKET_MAILBOX, &row, why)) != STORE_OK)
	return ret;
    if (row)
	*mailbox = col_strdup(sq->stmt[S_TICKET_MAILBOX], 0);
    sq_reset(sq, S_TICKET_MAILBOX);
    if (*mailbox == NULL) {
	*why = g_strdup_printf("%s: no ticket with id %" G_GINT64_FORMAT, sq->path, ticket_id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

/* add_attachments - the attachments of a new message */
static int add_attachments(struct sq *sq, gint64 message_id, GPtrArray *attachments,
			           char **why)
{
    int     ret;

    for (guint i = 0; attachments && i < attachments->len; i++) {
	const struct store_attachment *a = g_ptr_array_index(attachments, i);

	if ((ret = sq_bind(sq, S_ATTACHMENT_INSERT, why, "itttibi", message_id,
			   a->filename ? a->filename : "", a->content_type,
			   a->content_id, a->size, a->content,
			   (gint64) (a->content != NULL))) != STORE_OK
	    || (ret = sq_run(sq, S_ATTACHMENT_INSERT, why)) != STORE_OK)
	    return ret;
    }
    return STORE_OK;
}

/*
 * insert_message - the messages row and its full-text index entry. The
 * UNIQUE dedupe_key is the last guard against storing a mail twice.
 */
static int insert_message(struct sq *sq, gint64 ticket_id, const struct store_message *m,
			          const char *now, gint64 *message_id, char **why)
{
    int     ret;

    if ((ret = sq_bind(sq, S_MESSAGE_INSERT, why, "itttttttttttbitt", ticket_id,
		       m->direction, m->envelope_id, m->queue_id, m->dedupe_key,
		       m->message_id, m->sender_name, m->sender_address, m->recipients,
		       m->subject, m->header_fields, m->body, m->raw,
		       (gint64) (m->raw_truncated != 0), m->note, now)) != STORE_OK)
	return ret;
    if ((ret = sq_run(sq, S_MESSAGE_INSERT, why)) != STORE_OK) {
	if (sq->last_rc == SQLITE_CONSTRAINT_UNIQUE && strstr(*why, "messages.dedupe_key")) {
	    g_free(*why);
	    *why = g_strdup_printf("%s: duplicate message: dedupe key '%s' is stored already",
				   sq->path, m->dedupe_key);
	}
	return ret;
    }
    *message_id = sqlite3_last_insert_rowid(sq->db);
    /* Indexed for full-text search at commit: see sq_commit(). */
    return STORE_OK;
}

static int sq_add_message(struct store *st, gint64 ticket_id,
			          const struct store_message *m, gint64 *message_id, char **why)
{
    struct sq *sq = SQ(st);
    g_autofree char *mailbox = NULL;
    char    now[ISO_TIME_SIZE];
    gint64  id = 0;
    int     ret;

    if (message_id)
	*message_id = 0;
    iso_time(time(NULL), now, NULL);
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    if ((ret = ticket_mailbox(sq, ticket_id, &mailbox, why)) != STORE_OK
	|| (ret = insert_message(sq, ticket_id, m, now, &id, why)) != STORE_OK
	|| (ret = add_attachments(sq, id, m->attachments, why)) != STORE_OK
	|| (ret = add_thread_id(sq, m->message_id, ticket_id, mailbox, why)) != STORE_OK)
	goto out;
    for (int i = 0; m->thread_ids && m->thread_ids[i]; i++)
	if ((ret = add_thread_id(sq, m->thread_ids[i], ticket_id, mailbox, why)) != STORE_OK)
	    goto out;
    /* Only those who write in are parties: an outgoing sender is us, a note's a machine. */
    if ((m->direction && strcmp(m->direction, "out") != 0 && !m->not_party
	 && (ret = add_party(sq, ticket_id, m->sender_address, why)) != STORE_OK)
	|| (ret = sq_bind(sq, S_TICKET_TOUCH, why, "it", ticket_id, now)) != STORE_OK)
	goto out;
    ret = sq_run(sq, S_TICKET_TOUCH, why);

out:
    if ((ret = op_end(sq, ret, why)) == STORE_OK && message_id)
	*message_id = id;
    return ret;
}

/* ---------------------------------------------------------------- */
/*	Replies								    */
/* ---------------------------------------------------------------- */

static int sq_queue_reply(struct store *st, const struct store_reply *r, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    iso_time(time(NULL), now, NULL);
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    if ((ret = sq_bind(sq, S_REPLY_INSERT, why, "ittttbtttt", r->ticket_id, r->mailbox,
		       r->kind, r->recipient, r->message_id, r->content, now,
		       r->window_key ? r->window_key : r->recipient,
		       r->state ? r->state : "owed", r->error)) == STORE_OK
	&& (ret = sq_run(sq, S_REPLY_INSERT, why)) == STORE_OK && r->state == NULL)
	/* An answer to the reply names it in In-Reply-To: thread it. */
	ret = add_thread_id(sq, r->message_id, r->ticket_id, r->mailbox, why);
    return op_end(sq, ret, why);
}

static int sq_replied_recently(struct store *st, const char *window_key, gint64 since_unix,
			               gboolean *yes, char **why)
{
    struct sq *sq = SQ(st);
    char    since[ISO_TIME_SIZE];
    gboolean row = FALSE;
    int     ret;

    *yes = FALSE;
    iso_time(since_unix, since, NULL);
    if ((ret = sq_bind(sq, S_REPLIED_RECENTLY, why, "tt", window_key, since)) != STORE_OK
	|| (ret = sq_step(sq, S_REPLIED_RECENTLY, &row, why)) != STORE_OK)
	return ret;
    *yes = row;
    sq_reset(sq, S_REPLIED_RECENTLY);
    return STORE_OK;
}

static int sq_our_message_id(struct store *st, const char *message_id, gboolean *yes,
			     char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *yes = FALSE;
    if ((ret = sq_bind(sq, S_OUR_MESSAGE_ID, why, "t", message_id)) != STORE_OK
	|| (ret = sq_step(sq, S_OUR_MESSAGE_ID, &row, why)) != STORE_OK)
	return ret;
    *yes = row;
    sq_reset(sq, S_OUR_MESSAGE_ID);
    return STORE_OK;
}

static int sq_next_reply(struct store *st, gint64 now_unix, struct store_outbox *out,
			         gboolean *found, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_NEXT_REPLY];
    gboolean row = FALSE;
    int     ret;

    memset(out, 0, sizeof(*out));
    *found = FALSE;
    if ((ret = sq_bind(sq, S_NEXT_REPLY, why, "i", now_unix)) != STORE_OK
	|| (ret = sq_step(sq, S_NEXT_REPLY, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	const void *content = sqlite3_column_blob(s, 5);

	out->id = sqlite3_column_int64(s, 0);
	out->ticket_id = sqlite3_column_int64(s, 1);
	out->mailbox = col_strdup(s, 2);
	out->recipient = col_strdup(s, 3);
	out->message_id = col_strdup(s, 4);
	out->content = g_bytes_new(content, sqlite3_column_bytes(s, 5));
	out->attempts = sqlite3_column_int(s, 6);
	*found = TRUE;
    }
    sq_reset(sq, S_NEXT_REPLY);
    return STORE_OK;
}

/* The states reply_state() sets; "bounced" is reply_bounced()'s. */
static const char *const reply_states[] = {"owed", "sending", "sent", "failed", "unknown",
    "suppressed", NULL};

static int sq_reply_state(struct store *st, gint64 id, const char *state,
			          const char *error, gint64 next_try_unix, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    g_autofree char *current = NULL;
    gboolean row = FALSE;
    int     ret;

    if (state == NULL || !g_strv_contains(reply_states, state)) {
	*why = g_strdup_printf("%s: reply %" G_GINT64_FORMAT ": unknown state '%s'",
			       sq->path, id, state ? state : "(null)");
	return STORE_ERROR;
    }
    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_REPLY_STATE, why, "ittit", id, state, error, next_try_unix,
		       now)) != STORE_OK
	|| (ret = sq_run(sq, S_REPLY_STATE, why)) != STORE_OK)
	return ret;
    if (sqlite3_changes(sq->db) > 0)
	return STORE_OK;

    /* Nothing changed: no such reply, or another worker claimed it. */
    if ((ret = sq_bind(sq, S_REPLY_GET_STATE, why, "i", id)) != STORE_OK
	|| (ret = sq_step(sq, S_REPLY_GET_STATE, &row, why)) != STORE_OK)
	return ret;
    if (row)
	current = col_strdup(sq->stmt[S_REPLY_GET_STATE], 0);
    sq_reset(sq, S_REPLY_GET_STATE);
    if (current == NULL) {
	*why = g_strdup_printf("%s: no reply with id %" G_GINT64_FORMAT, sq->path, id);
	return STORE_ERROR;
    }
    *why = g_strdup_printf("%s: reply %" G_GINT64_FORMAT " is %s, no longer owed:"
			   " another worker took it", sq->path, id, current);
    return STORE_BUSY;
}

/*
 * XXX With several workers on one database, a worker that starts marks
 * the replies that another, running worker is sending right now as
 * unknown too. One worker per database is the supported setup.
 */
static int sq_recover_replies(struct store *st, int *ambiguous, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    *ambiguous = 0;
    if ((ret = sq_run(sq, S_RECOVER_REPLIES, why)) != STORE_OK)
	return ret;
    *ambiguous = sqlite3_changes(sq->db);
    return STORE_OK;
}

static int sq_find_our_reply(struct store *st, const char *const *ids,
			             struct store_our_reply *out, char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_OUR_REPLY];
    gboolean row = FALSE;
    int     ret;

    memset(out, 0, sizeof(*out));
    for (int i = 0; ids && ids[i] && out->id == 0; i++) {
	if (*ids[i] == 0)
	    continue;
	if ((ret = sq_bind(sq, S_OUR_REPLY, why, "t", ids[i])) != STORE_OK
	    || (ret = sq_step(sq, S_OUR_REPLY, &row, why)) != STORE_OK)
	    return ret;
	if (row) {
	    out->id = sqlite3_column_int64(s, 0);
	    out->ticket_id = sqlite3_column_int64(s, 1);
	    out->number = col_strdup(s, 2);
	    out->state = col_strdup(s, 3);
	    out->kind = col_strdup(s, 4);
	    out->message_id = g_strdup(ids[i]);
	}
	sq_reset(sq, S_OUR_REPLY);
    }
    return STORE_OK;
}

static int sq_reply_bounced(struct store *st, gint64 id, const char *diagnostic, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_REPLY_BOUNCED, why, "it", id, diagnostic)) != STORE_OK)
	return ret;
    return sq_run(sq, S_REPLY_BOUNCED, why);
}

/* ---------------------------------------------------------------- */
/*	Auto-generated mail kept apart					    */
/* ---------------------------------------------------------------- */

static int collect_rows(struct sq *sq, enum stmt id, json_t **array, char **why);
static int collect_list(struct sq *sq, enum stmt id, json_t **out, char **why);

static int sq_keep_autogen(struct store *st, const struct store_autogen *a,
			           gboolean *added, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    *added = FALSE;
    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_AUTOGEN_INSERT, why, "tttttttttbt", a->dedupe_key, a->mailbox,
		       a->kind, a->reason, a->queue_id, a->sender, a->subject, a->date,
		       a->envelope, a->raw, now)) != STORE_OK
	|| (ret = sq_run(sq, S_AUTOGEN_INSERT, why)) != STORE_OK)
	return ret;
    *added = sqlite3_changes(sq->db) > 0;
    return STORE_OK;
}

static int sq_list_autogen(struct store *st, const char *kind, const char *mailbox,
			           int limit, json_t **out, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    *out = NULL;
    if ((ret = sq_bind(sq, S_AUTOGEN_LIST, why, "tti", kind, mailbox,
		       (gint64) (limit > 0 ? limit : -1))) != STORE_OK)
	return ret;
    return collect_list(sq, S_AUTOGEN_LIST, out, why);
}

/*
 * sq_show_autogen - the row, its envelope parsed back into "envelope"
 * (left as text if it does not parse); *out NULL and an error when
 * there is no such row.
 */
static int sq_show_autogen(struct store *st, gint64 id, json_t **out, char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *out = NULL;
    if ((ret = sq_bind(sq, S_AUTOGEN_SHOW, why, "i", id)) != STORE_OK
	|| (ret = sq_step(sq, S_AUTOGEN_SHOW, &row, why)) != STORE_OK)
	return ret;
    if (row)
	*out = row_object(sq->stmt[S_AUTOGEN_SHOW]);
    sq_reset(sq, S_AUTOGEN_SHOW);
    if (*out == NULL) {
	*why = g_strdup_printf("no kept auto-generated mail with id %" G_GINT64_FORMAT, id);
	return STORE_ERROR;
    }
    json_parse_member(*out, "envelope");
    return STORE_OK;
}

static int sq_load_autogen(struct store *st, gint64 id, struct store_autogen_row *out,
			           char **why)
{
    struct sq *sq = SQ(st);
    sqlite3_stmt *s = sq->stmt[S_AUTOGEN_LOAD];
    gboolean row = FALSE;
    int     ret;

    memset(out, 0, sizeof(*out));
    if ((ret = sq_bind(sq, S_AUTOGEN_LOAD, why, "i", id)) != STORE_OK
	|| (ret = sq_step(sq, S_AUTOGEN_LOAD, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	out->id = sqlite3_column_int64(s, 0);
	out->mailbox = col_strdup(s, 1);
	out->envelope = col_strdup(s, 2);
	if (sqlite3_column_type(s, 3) != SQLITE_NULL)
	    out->raw = g_bytes_new(sqlite3_column_blob(s, 3), sqlite3_column_bytes(s, 3));
	out->imported_ticket = sqlite3_column_int64(s, 4);
	out->imported_number = col_strdup(s, 5);
    }
    sq_reset(sq, S_AUTOGEN_LOAD);
    return STORE_OK;
}

static int sq_autogen_imported(struct store *st, gint64 id, gint64 ticket_id, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = sq_bind(sq, S_AUTOGEN_IMPORTED, why, "ii", id, ticket_id)) != STORE_OK
	|| (ret = sq_run(sq, S_AUTOGEN_IMPORTED, why)) != STORE_OK)
	return ret;
    if (sqlite3_changes(sq->db) == 0) {
	*why = g_strdup_printf("%s: kept mail %" G_GINT64_FORMAT " is gone or imported already",
			       sq->path, id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

static int sq_prune_autogen(struct store *st, gint64 before_unix, int limit, int *deleted,
			            char **why)
{
    struct sq *sq = SQ(st);
    char    before[ISO_TIME_SIZE];
    int     ret;

    *deleted = 0;
    iso_time(before_unix, before, NULL);
    if ((ret = sq_bind(sq, S_AUTOGEN_PRUNE, why, "ti", before, (gint64) limit)) != STORE_OK
	|| (ret = sq_run(sq, S_AUTOGEN_PRUNE, why)) != STORE_OK)
	return ret;
    *deleted = sqlite3_changes(sq->db);
    return STORE_OK;
}

/* ---------------------------------------------------------------- */
/*	Reports								    */
/* ---------------------------------------------------------------- */

/*
 * collect_rows - step a bound statement to its end; each row becomes an
 * object of *array (made if NULL). The statement is reset.
 */
static int collect_rows(struct sq *sq, enum stmt id, json_t **array, char **why)
{
    gboolean row = FALSE;
    int     ret;

    if (*array == NULL)
	*array = json_array();
    while ((ret = sq_step(sq, id, &row, why)) == STORE_OK && row)
	json_array_append_new(*array, row_object(sq->stmt[id]));
    sq_reset(sq, id);
    return ret;
}

/* collect_list - the rows of a bound statement as a new array in *out; NULL on failure */
static int collect_list(struct sq *sq, enum stmt id, json_t **out, char **why)
{
    json_t *array = NULL;
    int     ret;

    if ((ret = collect_rows(sq, id, &array, why)) != STORE_OK) {
	json_decref(array);
	return ret;
    }
    *out = array;
    return STORE_OK;
}

static int sq_list_tickets(struct store *st, const char *mailbox, const char *status,
			           int limit, json_t **out, char **why)
{
    static const enum stmt variant[] = {
	S_LIST, S_LIST_MAILBOX, S_LIST_STATUS, S_LIST_MAILBOX_STATUS,
    };
    struct sq *sq = SQ(st);
    enum stmt id = variant[(mailbox ? 1 : 0) | (status ? 2 : 0)];
    int     ret;

    *out = NULL;
    if ((ret = sq_bind(sq, id, why, "tti", mailbox, status,
		       (gint64) (limit > 0 ? limit : -1))) != STORE_OK)
	return ret;
    return collect_list(sq, id, out, why);
}

/* show_messages - the messages of a ticket with their attachments */
static int show_messages(struct sq *sq, gint64 ticket_id, json_t *messages, char **why)
{
    size_t  i;
    json_t *msg;
    int     ret;

    if ((ret = sq_bind(sq, S_SHOW_MESSAGES, why, "i", ticket_id)) != STORE_OK
	|| (ret = collect_rows(sq, S_SHOW_MESSAGES, &messages, why)) != STORE_OK)
	return ret;
    json_array_foreach(messages, i, msg) {
	json_t *attachments = json_array();
	json_t *att;
	size_t  j;

	json_parse_member(msg, "header_fields");
	json_object_set_new(msg, "attachments", attachments);
	if ((ret = sq_bind(sq, S_SHOW_ATTACHMENTS, why, "i",
			   (gint64) json_integer_value(json_object_get(msg, "id")))) != STORE_OK
	    || (ret = collect_rows(sq, S_SHOW_ATTACHMENTS, &attachments, why)) != STORE_OK)
	    return ret;
	json_array_foreach(attachments, j, att)
	    json_object_set_new(att, "stored",
			      json_boolean(json_integer_value(json_object_get(att, "stored"))));
    }
    return STORE_OK;
}

/* show_ticket - the body of sq_show_ticket(), inside its savepoint */
static int show_ticket(struct sq *sq, const char *number, json_t **out, char **why)
{
    json_t *ticket = NULL;
    json_t *messages = json_array();
    json_t *replies = json_array();
    json_t *linked = json_array();
    gint64  id;
    gboolean row = FALSE;
    int     ret;

    if ((ret = sq_bind(sq, S_SHOW_TICKET, why, "t", number)) != STORE_OK
	|| (ret = sq_step(sq, S_SHOW_TICKET, &row, why)) != STORE_OK)
	goto out;
    if (row)
	ticket = row_object(sq->stmt[S_SHOW_TICKET]);
    sq_reset(sq, S_SHOW_TICKET);
    if (ticket == NULL) {
	*why = g_strdup_printf("no ticket %s", number);
	ret = STORE_ERROR;
	goto out;
    }
    id = json_integer_value(json_object_get(ticket, "id"));
    if ((ret = sq_bind(sq, S_SHOW_LINKED_FROM, why, "i", id)) != STORE_OK
	|| (ret = collect_rows(sq, S_SHOW_LINKED_FROM, &linked, why)) != STORE_OK)
	goto out;
    json_object_set(ticket, "linked_from", linked);
    if ((ret = show_messages(sq, id, messages, why)) != STORE_OK
	|| (ret = sq_bind(sq, S_SHOW_REPLIES, why, "i", id)) != STORE_OK
	|| (ret = collect_rows(sq, S_SHOW_REPLIES, &replies, why)) != STORE_OK)
	goto out;
    json_object_set(ticket, "messages", messages);
    json_object_set(ticket, "replies", replies);
    *out = g_steal_pointer(&ticket);

out:
    json_decref(ticket);
    json_decref(messages);
    json_decref(replies);
    json_decref(linked);
    return ret;
}

static int sq_show_ticket(struct store *st, const char *number, json_t **out, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    *out = NULL;
    /* One savepoint: all parts come from one snapshot of the database. */
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    ret = op_end(sq, show_ticket(sq, number, out, why), why);
    if (ret != STORE_OK && *out) {
	json_decref(*out);
	*out = NULL;
    }
    return ret;
}

static int sq_stats(struct store *st, json_t **out, char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *out = NULL;
    if ((ret = sq_step(sq, S_STATS, &row, why)) != STORE_OK)
	return ret;
    if (row)
	*out = row_object(sq->stmt[S_STATS]);
    sq_reset(sq, S_STATS);
    if (*out == NULL) {
	*why = g_strdup_printf("%s: count: no result", sq->path);
	return STORE_ERROR;
    }
    /* Kept auto-generated mail by kind: {"bounce": 3, ...} */
    {
	json_t *kinds = json_object();

	json_object_set_new(*out, "autogen", kinds);
	while ((ret = sq_step(sq, S_AUTOGEN_COUNTS, &row, why)) == STORE_OK && row) {
	    sqlite3_stmt *s = sq->stmt[S_AUTOGEN_COUNTS];

	    json_object_set_new(kinds, (const char *) sqlite3_column_text(s, 0),
				json_integer(sqlite3_column_int64(s, 1)));
	}
	sq_reset(sq, S_AUTOGEN_COUNTS);
	if (ret != STORE_OK) {
	    json_decref(*out);
	    *out = NULL;
	    return ret;
	}
    }
    return STORE_OK;
}

/*
 * sq_set_durability - synchronous=FULL (default) or NORMAL for this
 * connection. With NORMAL a commit survives the death of the process
 * (it is in the WAL, in the kernel's page cache) but not a power loss.
 */
static int sq_set_durability(struct store *st, gboolean full, char **why)
{
    struct sq *sq = SQ(st);
    const char *sql = full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";

    return sq_exec(sq, sql, sql, why);
}

/*
 * sq_checkpoint - copy what the WAL holds into the database, without
 * waiting for (or blocking) the writer: a background thread calls this so
 * that the writer's commits seldom reach wal_autocheckpoint themselves.
 */
static int sq_checkpoint(struct store *st, char **why)
{
    struct sq *sq = SQ(st);
    int     rc = sqlite3_wal_checkpoint_v2(sq->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
	return STORE_OK;
    *why = g_strdup_printf("%s: checkpoint: %s", sq->path, sqlite3_errmsg(sq->db));
    return STORE_BUSY;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .find_duplicate = sq_find_duplicate,
    .find_ticket = sq_find_ticket,
    .find_by_message_ids = sq_find_by_message_ids,
    .is_party = sq_is_party,
    .parties = sq_parties,
    .find_near_duplicate = sq_find_near_duplicate,
    .create_ticket = sq_create_ticket,
    .set_status = sq_set_status,
    .add_message = sq_add_message,
    .queue_reply = sq_queue_reply,
    .replied_recently = sq_replied_recently,
    .next_reply = sq_next_reply,
    .reply_state = sq_reply_state,
    .our_message_id = sq_our_message_id,
    .recover_replies = sq_recover_replies,
    .find_our_reply = sq_find_our_reply,
    .reply_bounced = sq_reply_bounced,
    .keep_autogen = sq_keep_autogen,
    .list_autogen = sq_list_autogen,
    .show_autogen = sq_show_autogen,
    .load_autogen = sq_load_autogen,
    .autogen_imported = sq_autogen_imported,
    .prune_autogen = sq_prune_autogen,
    .list_tickets = sq_list_tickets,
    .show_ticket = sq_show_ticket,
    .stats = sq_stats,
    .set_durability = sq_set_durability,
    .checkpoint = sq_checkpoint,
};
