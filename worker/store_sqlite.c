/*
 * NAME
 *	store_sqlite - the ticket store in an SQLite database: connection,
 *	schema version, transactions
 * SYNOPSIS
 *	#include "store.h"
 *
 *	const struct store_ops store_sqlite_ops;	(.name = "sqlite")
 * DESCRIPTION
 *	The SQLite backend of store.h, one database file ([store] path),
 *	in files with one job each that share sqlite_int.h: this one
 *	(open, close, migrations applied, transactions, durability,
 *	maintain: the WAL checkpoint), store_sqlite_sql.c (the schema and every statement),
 *	store_sqlite_util.c (bind/step/error helpers), store_sqlite_tickets.c
 *	(tickets, messages, parties, thread ids), store_sqlite_outbox.c
 *	(replies), store_sqlite_autogen.c (kept-apart auto-generated mail),
 *	store_sqlite_blob.c (the zstd originals, attachments read back),
 *	store_sqlite_fts.c (incoming text kept for the full-text index until commit),
 *	store_sqlite_reports.c (rows for intakectl) and store_sqlite_cases.c
 *	(what the routing rules decided: queue, assignee, case, tags);
 *	store_sqlite_api.c the read-only connection and rows of the HTTP API.
 *
 *	Each struct store is one connection with its own prepared
 *	statements, used by one thread at a time; the worker opens one for
 *	its pipeline thread and one for its reply thread. The connection
 *	runs in WAL mode, so readers never wait for the writer, with
 *	synchronous=FULL: once store_commit() returns, the tickets survive
 *	a power loss, and the worker may acknowledge the Redis entries.
 *	A connection of store_open_relaxed() runs with synchronous=NORMAL
 *	(the outbox's: a reply's state survives a crash, not a power loss).
 *	maintain() is a PASSIVE checkpoint of the WAL (maint.c's thread).
 *	Full-text indexing happens once per transaction, in commit.
 *	Foreign keys are enforced; a writer that finds the database locked
 *	waits up to [store] busy_timeout, then gets STORE_BUSY.
 *
 *	The schema version is PRAGMA user_version. Opening applies the
 *	missing steps of sq_migrations[] in one BEGIN IMMEDIATE transaction
 *	(so two processes that start together migrate once); a database
 *	made by a newer Intake is refused.
 * DIAGNOSTICS
 *	Every function returns STORE_OK, STORE_BUSY or STORE_ERROR as
 *	store.h says, with *why (g_free) naming the database path, the
 *	step that failed and sqlite3_errmsg(). SQLITE_BUSY, SQLITE_LOCKED,
 *	SQLITE_FULL, SQLITE_IOERR and SQLITE_CANTOPEN (and their extended
 *	codes) are STORE_BUSY; everything else is STORE_ERROR.
 *	rollback(), rollback_to() and close() cannot fail towards the
 *	caller; they log a warning when SQLite complains.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "log.h"
#include "sqlite_int.h"
#include "fts_tokenizer.h"

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
    /*
     * A batch of tickets with their originals is a few MB (64 tickets of
     * 24 KB mails, compressed): 16 MB keeps it and the indexes' hot pages
     * in memory. 32 MB made the worker's peak RSS 65 MB (target 64) for
     * no measurable gain: make bench, 5,000 envelopes, two runs: RSS 65.3
     * -> 46.7 and 65.6 -> 47.5 MB, CPU per ticket 1.11x and 0.92x (noise).
     */
    {"cache_size", "-16384", "-16384"},
    /* Checkpoint every 32 MB of WAL, not 4 MB: index pages rewritten by
     * several batches are copied to the database once. */
    {"wal_autocheckpoint", "8192", "8192"},
};

/*
 * sq_pragmas - set and check each of pragmas[]. Turning a new database to
 * WAL takes an exclusive lock and SQLite does not call the busy handler for
 * it: two processes (or threads) opening a new store at once get "database
 * is locked" at once. So a busy pragma is tried again, with a growing
 * pause, until busy_timeout_ms has passed, as the busy handler would.
 */
static int sq_pragmas(struct sq *sq, int busy_timeout_ms, char **why)
{
    for (gsize i = 0; i < G_N_ELEMENTS(pragmas); i++) {
	g_autofree char *set = g_strdup_printf("PRAGMA %s = %s", pragmas[i].name,
					       pragmas[i].value);
	g_autofree char *get = g_strdup_printf("PRAGMA %s", pragmas[i].name);
	g_autofree char *value = NULL;
	gint64  give_up = g_get_monotonic_time() + (gint64) busy_timeout_ms * 1000;
	gulong  pause_us = 1000;
	int     ret;

	while ((ret = sq_exec(sq, set, set, why)) == STORE_BUSY
	       && g_get_monotonic_time() < give_up) {
	    g_clear_pointer(why, g_free);
	    g_usleep(pause_us);
	    pause_us = MIN(pause_us * 2, 100000);
	}
	if (ret != STORE_OK || (ret = sq_query_text(sq, get, &value, why)) != STORE_OK)
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

	if ((ret = sq_exec(sq, sq_migrations[from], what, why)) != STORE_OK)
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
    sq_free_codecs(sq);
    fts_tokenizer_free(sq->fts);
    sq_fts_forget(sq);
    if (sq->fts_rows)
	g_array_free(sq->fts_rows, TRUE);
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

/*
 * sq_set_durability - synchronous=FULL (default) or NORMAL for this
 * connection. With NORMAL a commit survives the death of the process
 * (it is in the WAL, in the kernel's page cache) but not a power loss.
 */
static int sq_set_durability(struct sq *sq, gboolean full, char **why)
{
    const char *sql = full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";

    return sq_exec(sq, sql, sql, why);
}

/*
 * sq_maintain - copy what the WAL holds into the database, without
 * waiting for (or blocking) the writer: a background thread calls this so
 * that the writer's commits seldom reach wal_autocheckpoint themselves.
 */
static int sq_maintain(struct store *st, char **why)
{
    struct sq *sq = SQ(st);
    int     rc = sqlite3_wal_checkpoint_v2(sq->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
	return STORE_OK;
    *why = g_strdup_printf("%s: checkpoint: %s", sq->path, sqlite3_errmsg(sq->db));
    return STORE_BUSY;
}

/*
 * A statement journal (what a SAVEPOINT needs to roll back: the pages it
 * changed, as they were) stays in memory up to STMTJRNL_SPILL bytes, and
 * only beyond that goes to a temporary file. The worker runs every entry
 * in a savepoint of the batch's transaction; SQLite's 64 KiB default was
 * exceeded by some entry of nearly every batch, and once a journal is a
 * file it is not truncated when the savepoint is released, so every
 * later entry of the batch wrote its pages there: two thirds of the
 * writer's pwrite() calls went to /var/tmp/etilqs_* (strace, make bench's
 * mails). In memory it is emptied at each release, so 4 MB bounds one
 * entry's, not the batch's. A process-wide setting, which SQLite takes
 * only before it is initialised: made once, before the first connection
 * (the read-only one of the HTTP API may come first). Refused (SQLite
 * initialised already by another user in the process): only slower.
 */
#define STMTJRNL_SPILL	(4 * 1024 * 1024)

static gpointer configure_sqlite(gpointer unused)
{
    (void) sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMTJRNL_SPILL);
    return NULL;
}

static int sq_open(struct store *st, char **why)
{
    static GOnce configured = G_ONCE_INIT;
    struct sq *sq = g_new0(struct sq, 1);
    g_autofree char *dir = NULL;
    int     rc, ret;

    /* Before any connection, the read-only one too: the first open initialises SQLite. */
    g_once(&configured, configure_sqlite, NULL);
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
    if (st->readonly) {
	if ((ret = sq_open_readonly(st, sq, why)) != STORE_OK)
	    goto fail;
	goto prepare;
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
    if ((ret = sq_pragmas(sq, st->cfg->store_busy_timeout_ms, why)) != STORE_OK
	|| (ret = sq_register_functions(sq, why)) != STORE_OK
	|| (ret = sq_migrate(sq, why)) != STORE_OK
	|| (st->relaxed && (ret = sq_set_durability(sq, FALSE, why)) != STORE_OK))
	goto fail;
    sq_check_modes(sq);				/* -wal and -shm exist from here on */
prepare:
    for (int i = 0; i < S_COUNT; i++) {
	rc = sqlite3_prepare_v3(sq->db, sq_stmt_defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
				&sq->stmt[i], NULL);
	if (rc != SQLITE_OK) {
	    g_autofree char *what = g_strdup_printf("prepare \"%s\"", sq_stmt_defs[i].sql);

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

    sq_fts_forget(sq);
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
     * The incoming messages of the transaction go into the full-text
     * index here, once (store_sqlite_fts.c); those of jobs rolled back to
     * their savepoint were forgotten with them. 'fts-indexed' still says
     * up to which message the index is complete (schema migrations that
     * rebuild the index read it). Outgoing messages are automatic
     * acknowledgements (template text) for now:
     * XXX index agents' replies too once the store has them.
     */
    if ((ret = sq_fts_flush(sq, why)) != STORE_OK
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
    sq_fts_forget(sq);
    if (sqlite3_get_autocommit(sq->db))
	return;					/* nothing open */
    if (sq_run(sq, S_ROLLBACK, &why) != STORE_OK) {
	msg_warn("%s", why);
	g_free(why);
    }
}

static int sq_savepoint(struct store *st, char **why)
{
    int     ret = sq_fts_mark(SQ(st), why);

    return ret != STORE_OK ? ret : sq_run(SQ(st), S_SAVEPOINT, why);
}

static int sq_release(struct store *st, char **why)
{
    return sq_run(SQ(st), S_RELEASE, why);
}

static void sq_rollback_to(struct store *st)
{
    struct sq *sq = SQ(st);
    char   *why = NULL;

    sq_fts_undo(sq);
    if (sqlite3_get_autocommit(sq->db))
	return;					/* SQLite already undid everything */
    if (sq_run(sq, S_ROLLBACK_TO, &why) != STORE_OK || sq_run(sq, S_RELEASE, &why) != STORE_OK) {
	msg_warn("%s", why);
	g_free(why);
    }
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
    .set_routing = sq_set_routing,
    .set_classes = sq_set_classes,
    .case_ticket = sq_case_ticket,
    .add_case = sq_add_case,
    .list_cases = sq_list_cases,
    .load_attachment = sq_load_attachment,
    .faq_put = sq_faq_put,
    .faq_remove = sq_faq_remove,
    .list_faq = sq_list_faq,
    .faq_optimize = sq_faq_optimize,
    .faq_match = sq_faq_match,
    .set_ticket_faq = sq_set_ticket_faq,
    .add_record = sq_add_record,
    .find_record = sq_find_record,
    .add_note = sq_add_note,
    .add_time_entry = sq_add_time_entry,
    .list_records = sq_list_records,
    .show_record = sq_show_record,
    .maintain = sq_maintain,
    .set_category = sq_set_category,
    .training_docs = sq_training_docs,
    .save_model = sq_save_model,
    .model_version = sq_model_version,
    .load_model = sq_load_model,
    .page_tickets = sq_page_tickets,
    .search_messages = sq_search_messages,
    /* sinks (branch sinks): store_sqlite_events.c */
    .add_event = sq_add_event,
    .next_event = sq_next_event,
    .event_state = sq_event_state,
    .sink_status = sq_sink_status,
    .sink_retry = sq_sink_retry,
    .prune_events = sq_prune_events,
    .sink_ref_get = sq_sink_ref_get,
    .sink_ref_set = sq_sink_ref_set,
    /* the FAQ in memory (branch classify2): store_sqlite_faq.c */
    .faq_version = sq_faq_version,
    .faq_load = sq_faq_load,
};
