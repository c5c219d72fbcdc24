/*
 * NAME
 *	store_sqlite_reports - what intakectl reads from the SQLite ticket
 *	store: ticket lists, a ticket shown whole, counts
 * SYNOPSIS
 *	#include "sqlite_int.h"
 * DESCRIPTION
 *	The store_ops list_tickets, show_ticket and stats. show_ticket()
 *	runs inside its own savepoint, so it reads one snapshot.
 *	list_tickets() with limit <= 0 lists all. stats() also counts
 *	replies_sending, and the tickets created in the last 1, 5 and 15
 *	minutes (tickets_last_1m, ...).
 * DIAGNOSTICS
 *	As store_sqlite.c.
 */
#include <string.h>

#include "sqlite_int.h"

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
json_t *row_object(sqlite3_stmt *s)
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
void    json_parse_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    json_t *parsed = json_is_string(v) ? json_loads(json_string_value(v), 0, NULL) : NULL;

    if (parsed)
	json_object_set_new(obj, key, parsed);
}


/* ---------------------------------------------------------------- */
/*	Reports								    */
/* ---------------------------------------------------------------- */

/*
 * collect_rows - step a bound statement to its end; each row becomes an
 * object of *array (made if NULL). The statement is reset.
 */
int     collect_rows(struct sq *sq, enum stmt id, json_t **array, char **why)
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
int     collect_list(struct sq *sq, enum stmt id, json_t **out, char **why)
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

int     sq_list_tickets(struct store *st, const char *mailbox, const char *status,
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

int     sq_show_ticket(struct store *st, const char *number, json_t **out, char **why)
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

int     sq_stats(struct store *st, json_t **out, char **why)
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
