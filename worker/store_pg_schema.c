/*
 * NAME
 *	store_pg_schema - the schema of the PostgreSQL ticket store, as
 *	versioned migrations
 * SYNOPSIS
 *	#include "pg_int.h"
 *
 *	const char *const pg_migrations[pg_schema_version];
 *	const int pg_schema_version;
 * DESCRIPTION
 *	pg_migrations[v] takes a database from version v to v + 1
 *	(intake_schema holds the version; store_pg.c applies the steps
 *	under an advisory lock, so workers that start together migrate
 *	once). Append steps, never edit one that has shipped. The version
 *	is this backend's own: the SQLite schema's steps (store_sqlite_sql.c)
 *	carry history this one never had.
 *
 *	The tables are the SQLite store's (store_sqlite_sql.c describes
 *	each column), in PostgreSQL's types: ids are identity columns,
 *	times timestamptz, originals bytea. What differs, and why:
 *	- messages.body and full_text are text, not zstd frames: TOAST
 *	  compresses large values by itself, and the full-text index needs
 *	  the text. messages.raw is the same zstd frame as SQLite's (the
 *	  milter's frame as it came, or zframe_pack()), so an original
 *	  costs the same on either backend.
 *	- messages.fts is a tsvector of subject and body in the text search
 *	  configuration of the ticket's language (pg_ts_config, 'simple'
 *	  when PostgreSQL has none), with a GIN index.
 *	- outbox.lease_owner and lease_until: a worker that took an owed
 *	  reply (FOR UPDATE SKIP LOCKED) holds it until lease_until; it may
 *	  mark it "sending" only while it still holds the lease
 *	  (store_pg_outbox.c), so two workers never send one reply.
 *	- counters holds the ticket number sequence per year, as in SQLite:
 *	  the row is locked by the UPDATE until the transaction ends, so
 *	  numbers are unique across workers and a rolled-back ticket leaves
 *	  no gap.
 *	- events (version 2) has the outbox's lease columns: several
 *	  workers each run a sender per sink (store_pg_events.c).
 *	Only the tables the PostgreSQL store's operations use are made;
 *	FAQ, the category model and projects are not supported by it yet.
 */
#include "pg_int.h"

const char *const pg_migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE counters("
    "  name text PRIMARY KEY,"
    "  value bigint NOT NULL);"
    "CREATE TABLE cases("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  name text NOT NULL UNIQUE,"
    "  title text,"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE tickets("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  number text NOT NULL UNIQUE,"
    "  mailbox text NOT NULL,"
    "  status text NOT NULL,"
    "  title text NOT NULL,"
    "  category text, priority text, type text, language text,"
    "  customer_name text,"
    "  customer_address text NOT NULL,"
    "  created_at timestamptz NOT NULL,"
    "  updated_at timestamptz NOT NULL,"
    "  closed_at timestamptz,"
    "  linked_to bigint REFERENCES tickets(id),"
    "  link_reason text, sender_key text, subject_key text,"
    "  queue text, assignee text, case_id bigint REFERENCES cases(id), rules text,"
    "  sentiment text, sentiment_score double precision,"
    "  category_suggested text, category_confidence double precision,"
    "  category_confirmed boolean NOT NULL DEFAULT false);"
    "CREATE INDEX tickets_mailbox_status ON tickets(mailbox, status);"
    "CREATE INDEX tickets_linked ON tickets(linked_to);"
    "CREATE INDEX tickets_near ON tickets(mailbox, sender_key, subject_key);"
    "CREATE INDEX tickets_created ON tickets(created_at);"
    "CREATE INDEX tickets_case ON tickets(case_id);"
    "CREATE TABLE messages("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  ticket_id bigint NOT NULL REFERENCES tickets(id),"
    "  direction text NOT NULL CHECK (direction IN ('in', 'out')),"
    "  envelope_id text, queue_id text,"
    "  dedupe_key text UNIQUE,"
    "  message_id text, sender_name text, sender_address text,"
    "  recipients text, subject text, header_fields text,"
    "  body text, full_text text,"
    "  raw bytea,"
    "  raw_truncated boolean NOT NULL DEFAULT false,"
    "  note text, mime_limits text,"
    "  fts tsvector,"
    "  created_at timestamptz NOT NULL);"
    "CREATE INDEX messages_ticket ON messages(ticket_id);"
    "CREATE INDEX messages_fts ON messages USING gin(fts);"
    "CREATE TABLE attachments("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  message_id bigint NOT NULL REFERENCES messages(id),"
    "  filename text NOT NULL, content_type text, content_id text,"
    "  size bigint NOT NULL,"
    "  stored boolean NOT NULL,"
    "  part bigint, sha256 text);"
    "CREATE INDEX attachments_message ON attachments(message_id);"
    "CREATE TABLE thread_ids("
    "  msgid text NOT NULL,"
    "  ticket_id bigint NOT NULL REFERENCES tickets(id),"
    "  mailbox text NOT NULL,"
    "  PRIMARY KEY(msgid, ticket_id),"
    "  UNIQUE(msgid, mailbox));"
    "CREATE TABLE parties("
    "  ticket_id bigint NOT NULL REFERENCES tickets(id),"
    "  address text NOT NULL,"
    "  PRIMARY KEY(ticket_id, address));"
    "CREATE TABLE ticket_tags("
    "  ticket_id bigint NOT NULL REFERENCES tickets(id),"
    "  tag text NOT NULL,"
    "  PRIMARY KEY(ticket_id, tag));"
    "CREATE INDEX ticket_tags_tag ON ticket_tags(tag);"
    "CREATE TABLE ticket_faq("
    "  ticket_id bigint NOT NULL REFERENCES tickets(id),"
    "  rank integer NOT NULL, faq_id bigint NOT NULL,"
    "  title text NOT NULL, url text, score double precision NOT NULL,"
    "  PRIMARY KEY(ticket_id, rank));"
    "CREATE TABLE outbox("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  ticket_id bigint NOT NULL REFERENCES tickets(id),"
    "  mailbox text NOT NULL, kind text NOT NULL, recipient text NOT NULL,"
    "  message_id text NOT NULL UNIQUE,"
    "  content bytea NOT NULL,"
    "  state text NOT NULL DEFAULT 'owed'"
    "    CHECK (state IN ('owed', 'sending', 'sent', 'failed', 'unknown', 'bounced',"
    "      'suppressed')),"
    "  attempts integer NOT NULL DEFAULT 0,"
    "  next_try bigint NOT NULL DEFAULT 0,"
    "  last_error text,"
    "  window_key text,"
    "  lease_owner text,"
    "  lease_until timestamptz,"
    "  created_at timestamptz NOT NULL,"
    "  sent_at timestamptz);"
    "CREATE INDEX outbox_due ON outbox(state, next_try);"
    "CREATE INDEX outbox_ticket ON outbox(ticket_id);"
    "CREATE INDEX outbox_window ON outbox(window_key, created_at);"
    "CREATE TABLE autogen("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  dedupe_key text NOT NULL UNIQUE,"
    "  mailbox text NOT NULL, kind text NOT NULL, reason text, queue_id text,"
    "  sender text, subject text, date text,"
    "  envelope text NOT NULL,"
    "  raw bytea,"
    "  imported_ticket bigint REFERENCES tickets(id),"
    "  created_at timestamptz NOT NULL);"
    "CREATE INDEX autogen_created ON autogen(created_at);",
    /*
     * 1 -> 2 (branch pgsinks, docs/events.md): the sinks' event outbox,
     * one row per event and sink (store_pg_events.c), and the far end's
     * id of a ticket per sink. Event ids come from a sequence, not the
     * SQLite store's counter row: a row lock held to each ticket's
     * commit would serialise the workers. lease_owner and lease_until
     * are the outbox's: the sender that took a row holds it.
     */
    "CREATE SEQUENCE event_ids;"
    "CREATE TABLE events("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  event_id bigint NOT NULL,"
    "  sink text NOT NULL,"
    "  type text NOT NULL,"
    "  ticket_id bigint NOT NULL DEFAULT 0,"
    "  number text,"
    "  mailbox text,"
    "  message_row bigint NOT NULL DEFAULT 0,"
    "  payload text NOT NULL,"
    "  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),"
    "  attempts integer NOT NULL DEFAULT 0,"
    "  next_try bigint NOT NULL DEFAULT 0,"
    "  last_answer text,"
    "  last_try timestamptz,"
    "  lease_owner text,"
    "  lease_until timestamptz,"
    "  created_at timestamptz NOT NULL,"
    "  sent_at timestamptz,"
    "  UNIQUE(sink, event_id));"
    "CREATE INDEX events_due ON events(sink, state, id);"
    "CREATE INDEX events_ticket ON events(sink, ticket_id, id);"
    "CREATE INDEX events_sent ON events(sent_at) WHERE state = 'sent';"
    "CREATE TABLE sink_refs("
    "  sink text NOT NULL,"
    "  ticket_id bigint NOT NULL,"
    "  ref text NOT NULL,"
    "  PRIMARY KEY(sink, ticket_id));",
};

const int pg_schema_version = G_N_ELEMENTS(pg_migrations);
