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
 *	- faq.fts is a generated tsvector (title A, body D) with a GIN
 *	  index, in place of SQLite's FTS5 table and its triggers
 *	  (store_pg_faq.c computes bm25() from it as FTS5 does).
 *	- projects and tasks are numbered from their id sequences.
 *	- events (version 2) has the outbox's lease columns: several
 *	  workers each run a sender per sink (store_pg_events.c).
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

    /*
     * 2 -> 3 (branch pgparity): what the SQLite store's steps 3 to 5 added
     * and the first schema here left out, so that every store op works on
     * PostgreSQL: an index of autogen by kind (intakectl autogen list);
     * FAQ entries (store_pg_faq.c) with their tsvector, a generated column
     * (title weight A, body D, configuration 'simple': case folded, no
     * stemmer, as SQLite's FTS5 without the diacritics folding, which
     * needs the unaccent extension) with a GIN index, and their number
     * of distinct words (bm25's length); the category
     * model (store_pg_model.c) and its version counter; projects, tasks,
     * notes and time entries (store_pg_projects.c), numbered from their
     * ids' sequences (PRJ-N, TSK-N: unique across workers, a rolled-back
     * insert leaves a gap). Columns as store_sqlite_sql.c describes them.
     */
    "CREATE INDEX autogen_kind ON autogen(kind, mailbox);"
    "CREATE TABLE faq("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  collection text NOT NULL,"
    "  title text NOT NULL,"
    "  url text,"
    "  body text NOT NULL,"
    "  language text,"
    "  source_path text UNIQUE,"
    "  sha256 text,"
    "  updated_at timestamptz NOT NULL,"
    "  fts tsvector GENERATED ALWAYS AS"
    "    (setweight(to_tsvector('simple'::regconfig, title), 'A')"
    "     || setweight(to_tsvector('simple'::regconfig, body), 'D')) STORED,"
    "  words integer GENERATED ALWAYS AS"
    "    (length(to_tsvector('simple'::regconfig, title)"
    "     || to_tsvector('simple'::regconfig, body))) STORED);"
    "CREATE INDEX faq_collection ON faq(collection);"
    "CREATE INDEX faq_fts ON faq USING gin(fts);"
    "CREATE INDEX tickets_confirmed ON tickets(mailbox) WHERE category_confirmed;"
    "CREATE TABLE category_docs("
    "  category text PRIMARY KEY,"
    "  docs bigint NOT NULL);"
    "CREATE TABLE category_terms("
    "  category text NOT NULL,"
    "  term text NOT NULL,"
    "  count bigint NOT NULL,"
    "  PRIMARY KEY(category, term));"
    "INSERT INTO counters(name, value) VALUES('category-model', 0)"
    "  ON CONFLICT(name) DO NOTHING;"
    "CREATE TABLE projects("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  number text NOT NULL UNIQUE,"
    "  title text NOT NULL,"
    "  status text NOT NULL DEFAULT 'open',"
    "  created_at timestamptz NOT NULL);"
    "CREATE TABLE tasks("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  project_id bigint NOT NULL REFERENCES projects(id),"
    "  number text NOT NULL UNIQUE,"
    "  title text NOT NULL,"
    "  status text NOT NULL DEFAULT 'open',"
    "  created_at timestamptz NOT NULL);"
    "CREATE INDEX tasks_project ON tasks(project_id);"
    "CREATE TABLE notes("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  project_id bigint REFERENCES projects(id),"
    "  task_id bigint REFERENCES tasks(id),"
    "  dedupe_key text NOT NULL UNIQUE,"
    "  author text NOT NULL,"
    "  subject text,"
    "  body text NOT NULL,"
    "  message_id text,"
    "  created_at timestamptz NOT NULL,"
    "  CHECK ((project_id IS NULL) <> (task_id IS NULL)));"
    "CREATE INDEX notes_project ON notes(project_id);"
    "CREATE INDEX notes_task ON notes(task_id);"
    "CREATE TABLE time_entries("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  ticket_id bigint REFERENCES tickets(id),"
    "  task_id bigint REFERENCES tasks(id),"
    "  minutes integer NOT NULL CHECK (minutes > 0),"
    "  summary text NOT NULL,"
    "  author text NOT NULL,"
    "  dedupe_key text NOT NULL UNIQUE,"
    "  message_id text,"
    "  created_at timestamptz NOT NULL,"
    "  CHECK ((ticket_id IS NULL) <> (task_id IS NULL)));"
    "CREATE INDEX time_entries_ticket ON time_entries(ticket_id);"
    "CREATE INDEX time_entries_task ON time_entries(task_id);",
};

const int pg_schema_version = G_N_ELEMENTS(pg_migrations);
