/*
 * NAME
 *	ctl_migrate - intakectl migrate-store: copy an SQLite ticket store
 *	into PostgreSQL
 * SYNOPSIS
 *	#include "ctl_migrate.h"
 *
 *	int	ctl_migrate(config_path, argc, argv)
 * DESCRIPTION
 *	intakectl [-c FILE] migrate-store --to CONNINFO [--password-file F]
 *	[--merge] [--batch N] copies the SQLite store that FILE names
 *	([store] path) into the PostgreSQL database CONNINFO names, table
 *	by table in the order of their references: cases, tickets,
 *	messages (body and full text unpacked from their zstd frames into
 *	PostgreSQL's text, the original's frame copied as it is),
 *	attachments (references into the original: part and SHA-256),
 *	thread ids, parties, tags, FAQ entries and the suggestions made of
 *	them, the outbox, the kept-apart auto-generated mail, projects,
 *	tasks, their notes, time entries, the events to sinks and each
 *	sink's ids of tickets. Ticket numbers are kept, and each year's
 *	ticket counter is raised to at least SQLite's, so that the next
 *	ticket gets a number after the migrated ones; the event ids'
 *	sequence likewise, so that no sink sees an id twice.
 *
 *	What is copied, table by table, is ctl_migrate_tables.c.
 *	Opening the target through store_open() applies the PostgreSQL
 *	schema; the rows are then written on that connection (pg_int.h).
 *	Two tables of the migration's own record what was done, keyed by
 *	the source (the SQLite file's absolute path):
 *	intake_migrated maps each copied row's SQLite id to its
 *	PostgreSQL id, and intake_migrate_progress holds, per table, the
 *	last SQLite key copied. Rows go in batches of N keys (ids; for the
 *	tables without one, ticket ids), each batch one transaction with
 *	its map rows and its progress: a run killed anywhere leaves whole
 *	batches, and a rerun starts after the last one. Running it again
 *	after it finished copies nothing.
 *
 *	A target holding tickets that did not come from this source (a
 *	worker already wrote there, or another store was migrated) is
 *	refused unless --merge: the copy would then interleave two
 *	histories, and a ticket number or dedupe key present in both makes
 *	the run fail at that row.
 *
 *	At the end the rows of each table are counted on both sides (in
 *	PostgreSQL those that came from this source) and printed; any
 *	difference is an error, but for more rows in a table without ids
 *	(thread ids, parties, tags): a worker on PostgreSQL may have added
 *	some to a migrated ticket since.
 *
 *	Not copied: the category model (intakectl train makes it again
 *	from the migrated tickets whose category was confirmed) and
 *	attachment contents stored apart by schemas before 4 that have no
 *	part number (blobs). The worker must be stopped while the store is
 *	copied: rows it writes meanwhile would
 *	be missed by a batch already done.
 * DIAGNOSTICS
 *	Messages on stderr naming the table and the SQLite id; exit
 *	status 0 when the copy is complete and the counts agree, 1
 *	otherwise, 2 for a usage error.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "config.h"
#include "ctl_migrate.h"
#include "ctl_migrate_int.h"
#include "pg_int.h"
#include "zframe.h"

/* A message's text unpacked from its frame is refused above this: hostile input, bounded memory. */
#define MIGRATE_TEXT_CAP	(256u << 20)

struct migrate {
    sqlite3 *db;
    struct store *st;
    struct pg *pg;
    char   *source;			/* the SQLite file's absolute path */
    gint64  batch;
    GHashTable *maps;			/* table name -> (SQLite id -> PostgreSQL id) */
};

/* ---------------------------------------------------------------- */
/*	Helpers								    */
/* ---------------------------------------------------------------- */

static void fail(const char *what, char *why)
{
    fprintf(stderr, "intakectl migrate-store: %s: %s\n", what, why ? why : "failed");
    g_free(why);
}

static GHashTable *map_of(struct migrate *mg, const char *table)
{
    GHashTable *h = g_hash_table_lookup(mg->maps, table);

    if (h == NULL) {
	h = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	g_hash_table_insert(mg->maps, (gpointer) table, h);
    }
    return h;
}

static void map_put(GHashTable *h, gint64 src, gint64 dst)
{
    g_hash_table_replace(h, g_memdup2(&src, sizeof(src)), g_memdup2(&dst, sizeof(dst)));
}

/* load_map - what earlier runs copied of a table from this source */
static int load_map(struct migrate *mg, const char *table, char **why)
{
    GHashTable *h = map_of(mg, table);
    PGresult *res;
    int     ret;

    if ((ret = pg_run(mg->pg, "read the migration map", "SELECT src_id, dst_id FROM"
		      " intake_migrated WHERE source = $1 AND kind = $2", &res, why, "tt",
		      mg->source, table)) != STORE_OK)
	return ret;
    for (int r = 0; r < PQntuples(res); r++)
	map_put(h, pg_int(res, r, 0), pg_int(res, r, 1));
    PQclear(res);
    return STORE_OK;
}

static gint64 sq_int(struct migrate *mg, const char *sql, char **why)
{
    sqlite3_stmt *stmt = NULL;
    gint64  v = -1;

    if (sqlite3_prepare_v2(mg->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
	*why = g_strdup_printf("SQLite: %s", sqlite3_errmsg(mg->db));
	return -1;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW)
	v = sqlite3_column_int64(stmt, 0);
    else
	*why = g_strdup_printf("SQLite: %s", sqlite3_errmsg(mg->db));
    sqlite3_finalize(stmt);
    return v;
}

/* ---------------------------------------------------------------- */
/*	Copying								    */
/* ---------------------------------------------------------------- */

/* ref_table - the table whose ids a reference column of kind holds */
static const char *ref_table(int kind)
{
    switch (kind) {
    case COL_TICKET:
	return "tickets";
    case COL_MESSAGE:
	return "messages";
    case COL_CASE:
	return "cases";
    case COL_PROJECT:
	return "projects";
    case COL_TASK:
	return "tasks";
    default:
	return "faq";
    }
}

/*
 * unpack_text - the text of column c of stmt, a zstd frame (NUL-terminated,
 * g_free); NULL with *why naming the row when it does not unpack or holds
 * a NUL byte.
 */
static char *unpack_text(const struct migrate_table *t, sqlite3_stmt *stmt, int c, gint64 key,
			         char **why)
{
    gsize   len = 0;
    char   *err = NULL;
    char   *text = zframe_unpack(sqlite3_column_blob(stmt, c),
				 (gsize) sqlite3_column_bytes(stmt, c), MIGRATE_TEXT_CAP, &len,
				 &err);

    if (text == NULL) {
	*why = g_strdup_printf("%s id %" G_GINT64_FORMAT ": column %s: %s", t->name, key,
			       sqlite3_column_name(stmt, c), err);
	g_free(err);
    } else if (memchr(text, 0, len)) {
	*why = g_strdup_printf("%s id %" G_GINT64_FORMAT ": column %s holds a NUL byte, which"
			       " PostgreSQL text cannot", t->name, key, sqlite3_column_name(stmt, c));
	g_free(text);
	text = NULL;
    }
    return text;
}

/*
 * copy_row - insert the current row of stmt into the target; the new id
 * into the table's map when it is mapped. STORE_ERROR names the row.
 */
static int copy_row(struct migrate *mg, const struct migrate_table *t, sqlite3_stmt *stmt, char **why)
{
    const char *values[MIGRATE_MAX_COLS];
    int     lengths[MIGRATE_MAX_COLS], formats[MIGRATE_MAX_COLS];
    char   *owned[MIGRATE_MAX_COLS];
    int     n = (int) strlen(t->cols) - 1, ret = STORE_OK;
    gint64  key = sqlite3_column_int64(stmt, 0);
    PGresult *res;

    g_assert(n <= MIGRATE_MAX_COLS);
    for (int i = 0; i < n; i++) {
	int     c = i + 1;
	gboolean null = sqlite3_column_type(stmt, c) == SQLITE_NULL;

	owned[i] = NULL;
	values[i] = NULL;
	lengths[i] = formats[i] = 0;
	switch (t->cols[c]) {
	case COL_TEXT:
	    /* SQLite's text of a REAL has 15 digits: a score would not come back equal. */
	    if (sqlite3_column_type(stmt, c) == SQLITE_FLOAT)
		values[i] = owned[i] = g_strdup_printf("%.17g", sqlite3_column_double(stmt, c));
	    else
		values[i] = null ? NULL : (const char *) sqlite3_column_text(stmt, c);
	    break;
	case COL_BLOB:
	    if (!null) {
		values[i] = sqlite3_column_blob(stmt, c);
		lengths[i] = sqlite3_column_bytes(stmt, c);
		if (values[i] == NULL)
		    values[i] = "";		/* an empty blob */
		formats[i] = 1;
	    }
	    break;
	case COL_ZTEXT:
	    if (!null && (values[i] = owned[i] = unpack_text(t, stmt, c, key, why)) == NULL)
		ret = STORE_ERROR;
	    break;
	case COL_SUBJECT_CHARS:
	    values[i] = owned[i] = g_strdup_printf("%" G_GINT64_FORMAT,
						   pg_index_chars((const char *)
								  sqlite3_column_text(stmt, c),
								  STORE_INDEX_SUBJECT_MAX));
	    break;
	case COL_TEXT_CHARS:{
		/* The body's column failed already: *why says so, and is not replaced. */
		g_autofree char *text = null || ret != STORE_OK ? NULL
		    : unpack_text(t, stmt, c, key, why);

		if (!null && text == NULL)
		    ret = STORE_ERROR;		/* (already, or now with *why) */
		values[i] = owned[i] = g_strdup_printf("%" G_GINT64_FORMAT,
						       pg_index_chars(text, STORE_INDEX_TEXT_MAX));
		break;
	    }
	case COL_TICKET:
	case COL_MESSAGE:
	case COL_CASE:
	case COL_PROJECT:
	case COL_TASK:
	case COL_FAQ:{
		const char *ref = ref_table(t->cols[c]);
		gint64  src = sqlite3_column_int64(stmt, c);
		gint64 *dst;

		if (null || src == 0)
		    break;
		dst = g_hash_table_lookup(map_of(mg, ref), &src);
		/* A suggestion keeps its title and URL; the entry may be gone since. */
		if (dst == NULL && t->cols[c] == COL_FAQ) {
		    values[i] = "0";
		    break;
		}
		if (dst == NULL) {
		    *why = g_strdup_printf("%s id %" G_GINT64_FORMAT ": %s names %s id %"
					   G_GINT64_FORMAT ", which was not copied (the SQLite"
					   " store is inconsistent)", t->name, key,
					   sqlite3_column_name(stmt, c), ref, src);
		    ret = STORE_ERROR;
		    break;
		}
		values[i] = owned[i] = g_strdup_printf("%" G_GINT64_FORMAT, *dst);
		break;
	    }
	case COL_TSCONF:
	    values[i] = pg_ts_config(null ? NULL : (const char *) sqlite3_column_text(stmt, c));
	    break;
	default:
	    g_error("ctl_migrate: unknown column kind '%c'", t->cols[c]);
	}
    }
    if (ret == STORE_OK) {
	res = PQexecParams(mg->pg->conn, t->insert, n, NULL, values, lengths, formats, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
	    g_autofree char *msg = pg_one_line(PQresultErrorMessage(res));

	    *why = g_strdup_printf("%s id %" G_GINT64_FORMAT ": %s", t->name, key, msg);
	    ret = STORE_ERROR;
	} else if (t->mapped) {
	    gint64  dst = pg_int(res, 0, 0);

	    map_put(map_of(mg, t->name), key, dst);
	    ret = pg_run(mg->pg, "record the copy", "INSERT INTO intake_migrated(source, kind,"
			 " src_id, dst_id) VALUES($1, $2, $3, $4)", NULL, why, "ttii",
			 mg->source, t->name, key, dst);
	}
	PQclear(res);
    }
    for (int i = 0; i < n; i++)
	g_free(owned[i]);
    return ret;
}

/* copy_batch - the rows with lo < key <= hi, and the progress, in one transaction */
static int copy_batch(struct migrate *mg, const struct migrate_table *t, sqlite3_stmt *stmt,
		              gint64 lo, gint64 hi, int *copied, char **why)
{
    int     ret, rc;

    if ((ret = mg->st->ops->begin(mg->st, why)) != STORE_OK)
	return ret;
    sqlite3_reset(stmt);
    sqlite3_bind_int64(stmt, 1, lo);
    sqlite3_bind_int64(stmt, 2, hi);
    while (ret == STORE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
	ret = copy_row(mg, t, stmt, why);
	*copied += 1;
    }
    if (ret == STORE_OK && rc != SQLITE_DONE) {
	*why = g_strdup_printf("SQLite: %s: %s", t->name, sqlite3_errmsg(mg->db));
	ret = STORE_ERROR;
    }
    if (ret == STORE_OK)
	ret = pg_run(mg->pg, "record the progress", "INSERT INTO intake_migrate_progress(source,"
		     " tbl, last_key) VALUES($1, $2, $3) ON CONFLICT(source, tbl) DO UPDATE"
		     " SET last_key = EXCLUDED.last_key", NULL, why, "tti", mg->source, t->name,
		     hi);
    if (ret == STORE_OK)
	return mg->st->ops->commit(mg->st, why);
    mg->st->ops->rollback(mg->st);
    return ret;
}

/* copy_table - every batch after the recorded progress */
static int copy_table(struct migrate *mg, const struct migrate_table *t, char **why)
{
    g_autofree char *max_sql = g_strdup_printf("SELECT coalesce(max(%s), 0) FROM %s",
					       strcmp(t->key, "m.id") == 0 ? "id" : t->key, t->name);
    sqlite3_stmt *stmt = NULL;
    PGresult *res;
    gint64  last = 0, max;
    int     ret, copied = 0;

    if ((max = sq_int(mg, max_sql, why)) < 0)
	return STORE_ERROR;
    if ((ret = pg_run(mg->pg, "read the progress", "SELECT last_key FROM"
		      " intake_migrate_progress WHERE source = $1 AND tbl = $2", &res, why,
		      "tt", mg->source, t->name)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0)
	last = pg_int(res, 0, 0);
    PQclear(res);
    if (t->mapped && (ret = load_map(mg, t->name, why)) != STORE_OK)
	return ret;
    if (sqlite3_prepare_v2(mg->db, t->select, -1, &stmt, NULL) != SQLITE_OK) {
	*why = g_strdup_printf("SQLite: %s: %s", t->name, sqlite3_errmsg(mg->db));
	return STORE_ERROR;
    }
    /* One kind per selected column (ctl_migrate_tables.c): a miscount would shift every value. */
    if (sqlite3_column_count(stmt) != (int) strlen(t->cols)) {
	*why = g_strdup_printf("%s: %d columns selected, %zu kinds (ctl_migrate_tables.c)",
			       t->name, sqlite3_column_count(stmt), strlen(t->cols));
	sqlite3_finalize(stmt);
	return STORE_ERROR;
    }
    while (ret == STORE_OK && last < max) {
	gint64  hi = last > max - mg->batch ? max : last + mg->batch;

	if ((ret = copy_batch(mg, t, stmt, last, hi, &copied, why)) == STORE_OK)
	    last = hi;
    }
    sqlite3_finalize(stmt);
    if (ret == STORE_OK)
	printf("copied %-12s %d rows\n", t->name, copied);
    return ret;
}

/*
 * advance_counters - each year's ticket counter at least SQLite's, so
 * that a new ticket's number comes after the migrated ones.
 */
static int advance_counters(struct migrate *mg, char **why)
{
    sqlite3_stmt *stmt = NULL;
    int     ret = STORE_OK, rc;
    gint64  events;

    if (sqlite3_prepare_v2(mg->db, "SELECT name, value FROM counters WHERE name LIKE"
			   " 'ticket-%' ORDER BY name", -1, &stmt, NULL) != SQLITE_OK) {
	*why = g_strdup_printf("SQLite: counters: %s", sqlite3_errmsg(mg->db));
	return STORE_ERROR;
    }
    while (ret == STORE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
	ret = pg_run(mg->pg, "advance the ticket counter", "INSERT INTO counters(name, value)"
		     " VALUES($1, $2) ON CONFLICT(name) DO UPDATE"
		     " SET value = greatest(counters.value, EXCLUDED.value)", NULL, why, "ti",
		     (const char *) sqlite3_column_text(stmt, 0), sqlite3_column_int64(stmt, 1));
    if (ret == STORE_OK && rc != SQLITE_DONE) {
	*why = g_strdup_printf("SQLite: counters: %s", sqlite3_errmsg(mg->db));
	ret = STORE_ERROR;
    }
    sqlite3_finalize(stmt);
    /* The next event's id after every copied one: a sink takes it as an idempotency key. */
    if (ret == STORE_OK && (events = sq_int(mg, "SELECT coalesce(max(value), 0) FROM counters"
					    " WHERE name = 'event'", why)) < 0)
	ret = STORE_ERROR;
    if (ret == STORE_OK && events > 0)
	ret = pg_run(mg->pg, "advance the event ids", "SELECT setval('event_ids',"
		     " greatest((SELECT last_value FROM event_ids), $1::bigint))", NULL, why, "i",
		     events);
    return ret;
}

/* verify - count each table on both sides; 0: they agree */
static int verify(struct migrate *mg, char **why)
{
    int     differ = 0;

    for (gsize i = 0; i < migrate_n_tables; i++) {
	const struct migrate_table *t = migrate_tables + i;
	g_autofree char *sq_sql = g_strdup_printf("SELECT count(*) FROM %s", t->name);
	g_autofree char *pg_sql = t->mapped
	    ? g_strdup_printf("SELECT count(*) FROM intake_migrated m JOIN %s d ON d.id ="
			      " m.dst_id WHERE m.source = $1 AND m.kind = '%s'", t->name, t->name)
	    : g_strdup_printf("SELECT count(*) FROM %s d JOIN intake_migrated m ON"
			      " m.kind = 'tickets' AND m.dst_id = d.ticket_id"
			      " WHERE m.source = $1", t->name);
	gint64  sq_n, pg_n;
	PGresult *res;

	if ((sq_n = sq_int(mg, sq_sql, why)) < 0)
	    return -1;
	if (pg_run(mg->pg, "count", pg_sql, &res, why, "t", mg->source) != STORE_OK)
	    return -1;
	pg_n = pg_int(res, 0, 0);
	PQclear(res);
	/*
	 * A mapped table's count is exact. The others are counted by
	 * ticket: a worker on PostgreSQL may have added rows to a migrated
	 * ticket since (a follow-up's parties and message ids), so only
	 * fewer is a difference.
	 */
	if (sq_n == pg_n)
	    printf("verify %-12s sqlite %" G_GINT64_FORMAT " postgresql %" G_GINT64_FORMAT "\n",
		   t->name, sq_n, pg_n);
	else if (!t->mapped && pg_n > sq_n)
	    printf("verify %-12s sqlite %" G_GINT64_FORMAT " postgresql %" G_GINT64_FORMAT
		   " (%" G_GINT64_FORMAT " added to migrated tickets since)\n", t->name, sq_n,
		   pg_n, pg_n - sq_n);
	else
	    printf("verify %-12s sqlite %" G_GINT64_FORMAT " postgresql %" G_GINT64_FORMAT
		   "  DIFFERENT\n", t->name, sq_n, pg_n);
	differ += sq_n != pg_n && (t->mapped || pg_n < sq_n);
    }
    if (differ)
	*why = g_strdup_printf("%d table(s) differ", differ);
    return differ;
}

/* foreign_tickets - tickets in the target that did not come from this source */
static int foreign_tickets(struct migrate *mg, gint64 *n, char **why)
{
    PGresult *res;
    int     ret;

    if ((ret = pg_run(mg->pg, "count the target's tickets", "SELECT count(*) FROM tickets t"
		      " WHERE NOT EXISTS (SELECT 1 FROM intake_migrated m WHERE m.source = $1"
		      " AND m.kind = 'tickets' AND m.dst_id = t.id)", &res, why, "t",
		      mg->source)) != STORE_OK)
	return ret;
    *n = pg_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

/* ---------------------------------------------------------------- */
/*	The command							    */
/* ---------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr, "usage: intakectl [-c FILE] migrate-store --to CONNINFO"
	    " [--password-file FILE] [--merge] [--batch N]\n");
    return 2;
}

static int migrate(struct migrate *mg, gboolean merge)
{
    char   *why = NULL;
    gint64  foreign = 0;

    for (gsize i = 0; i < migrate_n_schema; i++) {
	if (pg_run(mg->pg, "make the migration's tables", migrate_schema[i], NULL, &why, NULL)
	    != STORE_OK) {
	    fail("target", why);
	    return 1;
	}
    }
    if (foreign_tickets(mg, &foreign, &why) != STORE_OK) {
	fail("target", why);
	return 1;
    }
    if (foreign > 0 && !merge) {
	fprintf(stderr, "intakectl migrate-store: the target holds %" G_GINT64_FORMAT " tickets"
		" that did not come from %s; refusing to mix them in (--merge to do it anyway)\n",
		foreign, mg->source);
	return 1;
    }
    /* Cases and tickets first: every later table refers to them. */
    for (gsize i = 0; i < migrate_n_tables; i++) {
	if (copy_table(mg, migrate_tables + i, &why) != STORE_OK) {
	    fail(migrate_tables[i].name, why);
	    return 1;
	}
    }
    if (advance_counters(mg, &why) != STORE_OK) {
	fail("counters", why);
	return 1;
    }
    if (verify(mg, &why) != 0) {
	fail("verify", why);
	return 1;
    }
    printf("migrate-store: complete\n");
    return 0;
}

int     ctl_migrate(const char *config_path, int argc, char **argv)
{
    static const struct option opts[] = {
	{"to", required_argument, NULL, 't'},
	{"password-file", required_argument, NULL, 'p'},
	{"merge", no_argument, NULL, 'm'},
	{"batch", required_argument, NULL, 'b'},
	{0},
    };
    const char *to = NULL, *password_file = "";
    gboolean merge = FALSE;
    struct intake_config *cfg, target;
    struct migrate mg = {.batch = 500};
    GPtrArray *errors = NULL;
    char   *why = NULL, *end;
    int     c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
	if (c == 't')
	    to = optarg;
	else if (c == 'p')
	    password_file = optarg;
	else if (c == 'm')
	    merge = TRUE;
	else if (c == 'b') {
	    mg.batch = g_ascii_strtoll(optarg, &end, 10);
	    if (*end || mg.batch < 1 || mg.batch > 1000000)
		return usage();
	} else
	    return usage();
    }
    if (to == NULL || optind != argc)
	return usage();
    if ((cfg = config_load(config_path, &errors)) == NULL) {
	for (guint i = 0; errors && i < errors->len; i++)
	    fprintf(stderr, "%s\n", (char *) g_ptr_array_index(errors, i));
	if (errors)
	    g_ptr_array_unref(errors);
	return 1;
    }
    if (strcmp(cfg->store_backend, "sqlite") != 0) {
	fprintf(stderr, "intakectl migrate-store: %s: [store] backend is %s; the source must"
		" be an SQLite store\n", config_path, cfg->store_backend);
	config_free(cfg);
	return 1;
    }
    if ((mg.source = realpath(cfg->store_path, NULL)) == NULL
	|| sqlite3_open_v2(mg.source, &mg.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
	fprintf(stderr, "intakectl migrate-store: %s: %s\n", cfg->store_path,
		mg.db ? sqlite3_errmsg(mg.db) : g_strerror(errno));
	sqlite3_close(mg.db);
	free(mg.source);
	config_free(cfg);
	return 1;
    }
    sqlite3_busy_timeout(mg.db, 10000);
    /* The target: the same configuration with the PostgreSQL store. */
    target = *cfg;
    target.store_backend = "postgresql";
    target.store_conninfo = (char *) to;
    target.store_password_file = (char *) password_file;
    if ((mg.st = store_open(&target, &why)) == NULL) {
	fail("target", why);
	rc = 1;
    } else if (strcmp(mg.st->ops->name, "postgresql") != 0) {
	fprintf(stderr, "intakectl migrate-store: the target is not PostgreSQL\n");
	rc = 1;
    } else {
	mg.pg = PG(mg.st);
	mg.maps = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					(GDestroyNotify) g_hash_table_unref);
	rc = migrate(&mg, merge);
	g_hash_table_unref(mg.maps);
    }
    if (mg.st)
	store_close(mg.st);
    sqlite3_close(mg.db);
    free(mg.source);
    config_free(cfg);
    return rc;
}
