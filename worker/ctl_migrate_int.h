/*
 * ctl_migrate_int.h: what ctl_migrate.c (how rows are copied) and
 * ctl_migrate_tables.c (which rows, in which order) share. Nothing else
 * includes it.
 */
#ifndef INTAKE_CTL_MIGRATE_INT_H
#define INTAKE_CTL_MIGRATE_INT_H

#include <glib.h>

#define MIGRATE_MAX_COLS	32

/*
 * The kinds of a column, in the order of the SQLite SELECT; the first
 * column is always the key ('k': the id, or the ticket id for tables
 * without one) and is not a parameter.
 */
enum {
    COL_TEXT = 't',			/* as text (numbers and 0/1 booleans too) */
    COL_BLOB = 'b',			/* bytea */
    COL_ZTEXT = 'z',			/* a zstd frame of text: the text */
    COL_TICKET = 'T',			/* a ticket id: its PostgreSQL id */
    COL_MESSAGE = 'M',			/* a message id */
    COL_CASE = 'C',			/* a case id */
    COL_PROJECT = 'P',			/* a project id */
    COL_TASK = 'K',			/* a task id */
    COL_FAQ = 'F',			/* a FAQ entry's id; 0 when it was removed before */
    COL_TSCONF = 'L',			/* a language: its text search configuration */
    COL_SUBJECT_CHARS = 's',		/* text: the characters the fts vector takes of it */
    COL_TEXT_CHARS = 'x',		/* a zstd frame of text: the same (pg_index_chars()) */
};

struct migrate_table {
    const char *name;			/* in both databases */
    const char *key;			/* the SQLite column the batches range over */
    const char *select;			/* SQLite; ?1 < key <= ?2, ordered by key */
    const char *cols;			/* one kind per selected column */
    const char *insert;			/* PostgreSQL; RETURNING id when mapped */
    gboolean mapped;			/* ids recorded in intake_migrated */
};

extern const struct migrate_table migrate_tables[];
extern const gsize migrate_n_tables;
extern const char *const migrate_schema[];
extern const gsize migrate_n_schema;

#endif
