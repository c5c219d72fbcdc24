/*
 * NAME
 *	ctl_migrate_tables - what intakectl migrate-store copies: per table
 *	the SQLite SELECT, the PostgreSQL INSERT and how each column is
 *	carried over
 * SYNOPSIS
 *	#include "ctl_migrate_int.h"
 *
 *	const struct migrate_table migrate_tables[migrate_n_tables];
 *	const char *const migrate_schema[migrate_n_schema];
 * DESCRIPTION
 *	migrate_tables is in the order of the references: cases and
 *	tickets, FAQ entries, projects and tasks before what names them. The SQLite columns are those of
 *	store_sqlite_sql.c, the PostgreSQL ones those of
 *	store_pg_schema.c; a column either schema adds must be added here.
 *	migrate_schema makes the migration's own tables in the target
 *	(ctl_migrate.c says what they hold).
 */
#include "ctl_migrate_int.h"
#include "pg_int.h"

const struct migrate_table migrate_tables[] = {
    {"cases", "id", "SELECT id, name, title, created_at FROM cases"
	" WHERE id > ?1 AND id <= ?2 ORDER BY id", "kttt",
	/* A case of the same name in the target (--merge) is that case. */
	"INSERT INTO cases(name, title, created_at) VALUES($1, $2, $3::timestamptz)"
	" ON CONFLICT(name) DO UPDATE SET name = EXCLUDED.name RETURNING id", TRUE},
    {"tickets", "id", "SELECT id, number, mailbox, status, title, category, priority, type,"
	" language, customer_name, customer_address, created_at, updated_at, closed_at,"
	" linked_to, link_reason, sender_key, subject_key, queue, assignee, case_id, rules,"
	" sentiment, sentiment_score, category_suggested, category_confidence,"
	" category_confirmed FROM tickets WHERE id > ?1 AND id <= ?2 ORDER BY id",
	"kttttttttttttTttttttCtttttt",
	"INSERT INTO tickets(number, mailbox, status, title, category, priority, type,"
	" language, customer_name, customer_address, created_at, updated_at, closed_at,"
	" linked_to, link_reason, sender_key, subject_key, queue, assignee, case_id, rules,"
	" sentiment, sentiment_score, category_suggested, category_confidence,"
	" category_confirmed) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
	" $11::timestamptz, $12::timestamptz, $13::timestamptz, $14, $15, $16, $17, $18, $19,"
	" $20, $21, $22, $23, $24, $25, $26) RETURNING id", TRUE},
    {"messages", "m.id", "SELECT m.id, m.ticket_id, m.direction, m.envelope_id, m.queue_id,"
	" m.dedupe_key, m.message_id, m.sender_name, m.sender_address, m.recipients, m.subject,"
	" m.header_fields, m.body, m.full_text, m.raw, m.raw_truncated, m.note, m.mime_limits,"
	" m.created_at, t.language, m.subject, m.body FROM messages m"
	" JOIN tickets t ON t.id = m.ticket_id"
	" WHERE m.id > ?1 AND m.id <= ?2 ORDER BY m.id", "kTttttttttttzzbttttLsx",
	/* fts as store_pg_tickets.c makes it: incoming mail only, in the ticket's language. */
	"INSERT INTO messages(ticket_id, direction, envelope_id, queue_id, dedupe_key,"
	" message_id, sender_name, sender_address, recipients, subject, header_fields, body,"
	" full_text, raw, raw_truncated, note, mime_limits, created_at, fts) VALUES($1, $2,"
	" $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::timestamptz,"
	" CASE WHEN $2 = 'in' THEN " PG_FTS_VECTOR("$19", "$10", "$20", "$12", "$21")
	" END) RETURNING id", TRUE},
    {"attachments", "id", "SELECT id, message_id, filename, content_type, content_id, size,"
	" stored, part, sha256 FROM attachments WHERE id > ?1 AND id <= ?2 ORDER BY id",
	"kMttttttt",
	"INSERT INTO attachments(message_id, filename, content_type, content_id, size, stored,"
	" part, sha256) VALUES($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id", TRUE},
    {"thread_ids", "ticket_id", "SELECT ticket_id, msgid, ticket_id, mailbox FROM thread_ids"
	" WHERE ticket_id > ?1 AND ticket_id <= ?2 ORDER BY ticket_id", "ktTt",
	"INSERT INTO thread_ids(msgid, ticket_id, mailbox) VALUES($1, $2, $3)"
	" ON CONFLICT DO NOTHING", FALSE},
    {"parties", "ticket_id", "SELECT ticket_id, ticket_id, address FROM parties"
	" WHERE ticket_id > ?1 AND ticket_id <= ?2 ORDER BY ticket_id", "kTt",
	"INSERT INTO parties(ticket_id, address) VALUES($1, $2) ON CONFLICT DO NOTHING", FALSE},
    {"ticket_tags", "ticket_id", "SELECT ticket_id, ticket_id, tag FROM ticket_tags"
	" WHERE ticket_id > ?1 AND ticket_id <= ?2 ORDER BY ticket_id", "kTt",
	"INSERT INTO ticket_tags(ticket_id, tag) VALUES($1, $2) ON CONFLICT DO NOTHING", FALSE},
    /* FAQ entries: those of a faq_directory (source_path) are the same entry in a merge. */
    {"faq", "id", "SELECT id, collection, title, url, body, language, source_path, sha256,"
	" updated_at FROM faq WHERE id > ?1 AND id <= ?2 ORDER BY id", "ktttttttt",
	"INSERT INTO faq(collection, title, url, body, language, source_path, sha256, updated_at)"
	" VALUES($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) ON CONFLICT(source_path)"
	" DO UPDATE SET source_path = EXCLUDED.source_path RETURNING id", TRUE},
    {"ticket_faq", "ticket_id", "SELECT ticket_id, ticket_id, rank, faq_id, title, url, score"
	" FROM ticket_faq WHERE ticket_id > ?1 AND ticket_id <= ?2 ORDER BY ticket_id",
	"kTtFttt",
	"INSERT INTO ticket_faq(ticket_id, rank, faq_id, title, url, score)"
	" VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING", FALSE},
    {"outbox", "id", "SELECT id, ticket_id, mailbox, kind, recipient, message_id, content,"
	" state, attempts, next_try, last_error, window_key, created_at, sent_at FROM outbox"
	" WHERE id > ?1 AND id <= ?2 ORDER BY id", "kTttttbttttttt",
	"INSERT INTO outbox(ticket_id, mailbox, kind, recipient, message_id, content, state,"
	" attempts, next_try, last_error, window_key, created_at, sent_at) VALUES($1, $2, $3,"
	" $4, $5, $6, $7, $8, $9, $10, $11, $12::timestamptz, $13::timestamptz) RETURNING id",
	TRUE},
    {"autogen", "id", "SELECT id, dedupe_key, mailbox, kind, reason, queue_id, sender, subject,"
	" date, envelope, raw, imported_ticket, created_at FROM autogen"
	" WHERE id > ?1 AND id <= ?2 ORDER BY id", "ktttttttttbTt",
	"INSERT INTO autogen(dedupe_key, mailbox, kind, reason, queue_id, sender, subject, date,"
	" envelope, raw, imported_ticket, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8,"
	" $9, $10, $11, $12::timestamptz) RETURNING id", TRUE},
    /* Projects and tasks (intakectl project/task add): one of the same number is that one. */
    {"projects", "id", "SELECT id, number, title, status, created_at FROM projects"
	" WHERE id > ?1 AND id <= ?2 ORDER BY id", "ktttt",
	"INSERT INTO projects(number, title, status, created_at) VALUES($1, $2, $3,"
	" $4::timestamptz) ON CONFLICT(number) DO UPDATE SET number = EXCLUDED.number"
	" RETURNING id", TRUE},
    {"tasks", "id", "SELECT id, project_id, number, title, status, created_at FROM tasks"
	" WHERE id > ?1 AND id <= ?2 ORDER BY id", "kPtttt",
	"INSERT INTO tasks(project_id, number, title, status, created_at) VALUES($1, $2, $3, $4,"
	" $5::timestamptz) ON CONFLICT(number) DO UPDATE SET number = EXCLUDED.number"
	" RETURNING id", TRUE},
    {"notes", "id", "SELECT id, project_id, task_id, dedupe_key, author, subject, body,"
	" message_id, created_at FROM notes WHERE id > ?1 AND id <= ?2 ORDER BY id", "kPKtttttt",
	"INSERT INTO notes(project_id, task_id, dedupe_key, author, subject, body, message_id,"
	" created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) RETURNING id", TRUE},
    {"time_entries", "id", "SELECT id, ticket_id, task_id, minutes, summary, author,"
	" dedupe_key, message_id, created_at FROM time_entries WHERE id > ?1 AND id <= ?2"
	" ORDER BY id", "kTKtttttt",
	"INSERT INTO time_entries(ticket_id, task_id, minutes, summary, author, dedupe_key,"
	" message_id, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8::timestamptz)"
	" RETURNING id", TRUE},
    /*
     * Events to sinks, sent or still owed (docs/events.md), with their
     * event ids (a sink's idempotency key; ctl_migrate.c advances the
     * target's sequence past them), and each sink's id of a ticket.
     * Ticket and message 0: the event is about none.
     */
    {"events", "id", "SELECT id, event_id, sink, type, ticket_id, number, mailbox, message_row,"
	" payload, state, attempts, next_try, last_answer, last_try, created_at, sent_at"
	" FROM events WHERE id > ?1 AND id <= ?2 ORDER BY id", "ktttTttMtttttttt",
	"INSERT INTO events(event_id, sink, type, ticket_id, number, mailbox, message_row,"
	" payload, state, attempts, next_try, last_answer, last_try, created_at, sent_at)"
	" VALUES($1, $2, $3, coalesce($4::bigint, 0), $5, $6, coalesce($7::bigint, 0), $8, $9,"
	" $10, $11, $12, $13::timestamptz, $14::timestamptz, $15::timestamptz) RETURNING id",
	TRUE},
    {"sink_refs", "ticket_id", "SELECT ticket_id, sink, ticket_id, ref FROM sink_refs"
	" WHERE ticket_id > ?1 AND ticket_id <= ?2 ORDER BY ticket_id", "ktTt",
	"INSERT INTO sink_refs(sink, ticket_id, ref) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
	FALSE},
};

const gsize migrate_n_tables = G_N_ELEMENTS(migrate_tables);

/* The migration's own record in the target (see the DESCRIPTION); one statement each (libpq). */
const char *const migrate_schema[] = {
    "CREATE TABLE IF NOT EXISTS intake_migrated("
    "  source text NOT NULL, kind text NOT NULL,"
    "  src_id bigint NOT NULL, dst_id bigint NOT NULL,"
    "  PRIMARY KEY(source, kind, src_id))",
    "CREATE INDEX IF NOT EXISTS intake_migrated_dst ON intake_migrated(kind, dst_id)",
    "CREATE TABLE IF NOT EXISTS intake_migrate_progress("
    "  source text NOT NULL, tbl text NOT NULL, last_key bigint NOT NULL,"
    "  PRIMARY KEY(source, tbl))",
};

const gsize migrate_n_schema = G_N_ELEMENTS(migrate_schema);
