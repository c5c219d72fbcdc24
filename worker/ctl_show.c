/*
 * NAME
 *	ctl_show - the store's reports as intakectl's JSON
 * SYNOPSIS
 *	#include <string.h>

#include "ctl_show.h"
 *
 *	json_t *ctl_stats_json(s)
 *	int	ctl_stats(st, &out, &why)
 *	int	ctl_list_tickets(st, mailbox, status, limit, &out, &why)
 *	int	ctl_show_ticket(st, number, &out, &why)
 *	int	ctl_list_autogen(st, kind, mailbox, limit, &out, &why)
 *	int	ctl_show_autogen(st, id, &out, &why)
 *	int	ctl_list_cases(st, &out, &why)
 *	int	ctl_list_records(st, kind, project, &out, &why)
 *	int	ctl_show_record(st, kind, number, &out, &why)
 *	int	ctl_attachment(st, number, id, &content, &why)
 *	int	ctl_attachment_read(st, number, id, &meta, &content, &why)
 * DESCRIPTION
 *	The backend hands over rows (store.h); the JSON that intakectl
 *	prints, and scripts read, is shaped here, once for every backend.
 *	Each row becomes an object keyed by its column names, in column
 *	order; text that is not valid UTF-8 is repaired (a sender's bytes),
 *	null stays null. Columns kept as JSON text (a message's
 *	header_fields, a kept mail's envelope) are shown as JSON, or as text
 *	when they do not parse; an attachment's stored is a boolean.
 *	ctl_show_ticket() nests the rows of show_ticket(): the ticket's
 *	object gets linked_from, messages (each with its attachments) and
 *	replies and time_entries, in that order. ctl_show_record() nests a
 *	project's or task's rows the same way: its object gets tasks (a
 *	project's), notes and time_entries (a task's).
 *
 *	ctl_stats_json() names the counts "tickets", "messages",
 *	"replies_<state>" (store_reply_states[]), "tickets_last_1m", "_5m",
 *	"_15m" and "autogen" (an object of the kinds with mail kept).
 *
 *	ctl_attachment() reads attachment id (show_ticket's "id") of ticket
 *	number back: the content stored apart by an older schema, or the
 *	MIME part the milter listed, decoded from the stored original
 *	(parsed with the milter's limits, so that the parts count as it
 *	counted them), then checked against the SHA-256 the milter noted.
 *	This is the only decoding of attachments: the worker's write path
 *	stores references. *content is a new GBytes.
 *	ctl_attachment_read() is ctl_attachment() that also fills *meta
 *	(store_attachment_row_clear(); found FALSE: no such attachment)
 *	with the attachment's row, without its bytes: the HTTP API needs
 *	its name and type (api_attach.c).
 * DIAGNOSTICS
 *	The ctl_* functions return what the store op returned, with *out a
 *	new reference on STORE_OK and NULL otherwise (*why says why).
 */
#include "ctl_show.h"
#include "envelope.h"

/* value_json - one column of a row as JSON */
static json_t *value_json(const struct store_value *v)
{
    g_autofree char *valid = NULL;

    switch (v->type) {
    case STORE_INT:
	return json_integer(v->i);
    case STORE_REAL:
	return json_real(v->d);
    case STORE_TEXT:
	if (g_utf8_validate_len(v->text, v->len, NULL))
	    return json_stringn(v->text, v->len);
	valid = g_utf8_make_valid(v->text, v->len);
	return json_string(valid);
    default:
	return json_null();
    }
}

/* row_json - a row as an object keyed by column names */
static json_t *row_json(const struct store_row *row)
{
    json_t *obj = json_object();

    for (int i = 0; i < row->n; i++) {
	json_t *v = value_json(row->values + i);

	if (obj == NULL || v == NULL || json_object_set_new(obj, row->values[i].name, v) != 0)
	    g_error("ctl_show: out of memory");
    }
    return obj;
}

/* parse_member - a member stored as JSON text shown as JSON (left as text if it does not parse) */
static void parse_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    json_t *parsed = json_is_string(v) ? json_loads(json_string_value(v), 0, NULL) : NULL;

    if (parsed)
	json_object_set_new(obj, key, parsed);
}

/* Rows collected into an array. */
static void append_row(void *ctx, const struct store_row *row)
{
    json_array_append_new(ctx, row_json(row));
}

/* finish - *out the result on success, else NULL and the partial result dropped */
static int finish(int ret, json_t *result, json_t **out)
{
    if (ret == STORE_OK) {
	*out = result;
    } else {
	json_decref(result);
	*out = NULL;
    }
    return ret;
}

json_t *ctl_stats_json(const struct store_stats *s)
{
    json_t *obj = json_pack("{s:I,s:I}", "tickets", (json_int_t) s->tickets,
			    "messages", (json_int_t) s->messages);
    json_t *kinds = json_object();

    for (int i = 0; i < STORE_REPLY_STATES; i++) {
	g_autofree char *key = g_strconcat("replies_", store_reply_states[i], NULL);

	json_object_set_new(obj, key, json_integer(s->replies[i]));
    }
    json_object_set_new(obj, "tickets_last_1m", json_integer(s->tickets_last_1m));
    json_object_set_new(obj, "tickets_last_5m", json_integer(s->tickets_last_5m));
    json_object_set_new(obj, "tickets_last_15m", json_integer(s->tickets_last_15m));
    /* Kinds with mail kept, in the order of their names: {"bounce": 3, ...} */
    for (int k = 0; k < AUTOGEN_KINDS; k++)
	if (s->autogen[k] > 0)
	    json_object_set_new(kinds, autogen_kind_name(k), json_integer(s->autogen[k]));
    json_object_set_new(obj, "autogen", kinds);
    return obj;
}

int     ctl_stats(struct store *st, json_t **out, char **why)
{
    struct store_stats s;
    int     ret = st->ops->stats(st, &s, why);

    *out = ret == STORE_OK ? ctl_stats_json(&s) : NULL;
    return ret;
}

int     ctl_list_tickets(struct store *st, const char *mailbox, const char *status, int limit,
			 json_t **out, char **why)
{
    json_t *list = json_array();

    return finish(st->ops->list_tickets(st, mailbox, status, limit, append_row, list, why),
		  list, out);
}

/* The ticket being shown, and where its next attachment goes. */
struct shown {
    json_t *ticket;
    json_t *linked_from;
    json_t *messages;
    json_t *replies;
    json_t *faq;			/* the FAQ entries its acknowledgement suggested */
    json_t *time_entries;
    json_t *attachments;		/* of the last message; borrowed */
};

static void show_row(void *ctx, const struct store_row *row)
{
    struct shown *sh = ctx;
    json_t *obj = row_json(row);

    if (strcmp(row->kind, "ticket") == 0) {
	json_decref(sh->ticket);
	sh->ticket = obj;
    } else if (strcmp(row->kind, "linked_from") == 0) {
	json_array_append_new(sh->linked_from, obj);
    } else if (strcmp(row->kind, "message") == 0) {
	parse_member(obj, "header_fields");
	sh->attachments = json_array();
	json_object_set_new(obj, "attachments", sh->attachments);
	json_array_append_new(sh->messages, obj);
    } else if (strcmp(row->kind, "attachment") == 0 && sh->attachments) {
	json_object_set_new(obj, "stored",
			json_boolean(json_integer_value(json_object_get(obj, "stored"))));
	json_array_append_new(sh->attachments, obj);
    } else if (strcmp(row->kind, "reply") == 0) {
	json_array_append_new(sh->replies, obj);
    } else if (strcmp(row->kind, "faq") == 0) {
	json_array_append_new(sh->faq, obj);
    } else if (strcmp(row->kind, "time_entry") == 0) {
	json_array_append_new(sh->time_entries, obj);
    } else {
	g_error("ctl_show: show_ticket: unexpected row '%s'", row->kind);
    }
}

int     ctl_show_ticket(struct store *st, const char *number, json_t **out, char **why)
{
    struct shown sh = {
	.linked_from = json_array(), .messages = json_array(), .replies = json_array(),
	.faq = json_array(), .time_entries = json_array(),
    };
    int     ret = st->ops->show_ticket(st, number, show_row, &sh, why);

    if (ret == STORE_OK && sh.ticket == NULL) {
	*why = g_strdup_printf("no ticket %s", number);
	ret = STORE_ERROR;
    }
    if (ret == STORE_OK) {
	json_object_set_new(sh.ticket, "linked_from", sh.linked_from);
	json_object_set_new(sh.ticket, "messages", sh.messages);
	json_object_set_new(sh.ticket, "replies", sh.replies);
	json_object_set_new(sh.ticket, "faq", sh.faq);
	json_object_set_new(sh.ticket, "time_entries", sh.time_entries);
    } else {
	json_decref(sh.linked_from);
	json_decref(sh.messages);
	json_decref(sh.replies);
	json_decref(sh.faq);
	json_decref(sh.time_entries);
    }
    return finish(ret, sh.ticket, out);
}

int     ctl_list_autogen(struct store *st, const char *kind, const char *mailbox, int limit,
			 json_t **out, char **why)
{
    json_t *list = json_array();

    if (st->ops->list_autogen == NULL)
	return finish(store_unsupported(st, "autogen list", why), list, out);
    return finish(st->ops->list_autogen(st, kind, mailbox, limit, append_row, list, why),
		  list, out);
}

/* Cases of the routing rules (branch rules), by name. */
int     ctl_list_cases(struct store *st, json_t **out, char **why)
{
    json_t *list = json_array();

    if (st->ops->list_cases == NULL)
	return finish(store_unsupported(st, "case list", why), list, out);
    return finish(st->ops->list_cases(st, append_row, list, why), list, out);
}

/* One kept mail: its row with the envelope parsed back. */
static void autogen_row(void *ctx, const struct store_row *row)
{
    json_t **obj = ctx;

    json_decref(*obj);
    *obj = row_json(row);
    parse_member(*obj, "envelope");
}

int     ctl_show_autogen(struct store *st, gint64 id, json_t **out, char **why)
{
    json_t *obj = NULL;
    int     ret = st->ops->show_autogen ? st->ops->show_autogen(st, id, autogen_row, &obj, why)
	: store_unsupported(st, "autogen show", why);

    if (ret == STORE_OK && obj == NULL) {
	*why = g_strdup_printf("no kept auto-generated mail with id %" G_GINT64_FORMAT, id);
	ret = STORE_ERROR;
    }
    return finish(ret, obj, out);
}

/* part_content - MIME part "part" of the original, as the milter numbered it, or NULL */
static GBytes *part_content(const struct store_attachment_row *a)
{
    json_t *env = json_pack("{s:[{s:I}]}", "attachments", "part", (json_int_t) a->part);
    g_autoptr(GPtrArray) contents = NULL;
    json_t *limits = a->mime_limits ? json_loads(a->mime_limits, 0, NULL) : NULL;
    gsize   len;
    const char *raw = g_bytes_get_data(a->raw, &len);
    GBytes *out = NULL;

    if (limits)
	json_object_set_new(env, "mime_limits", limits);
    envelope_init();				/* once per process; any reader may come first */
    contents = envelope_attachments(env, raw, len);
    if (contents && contents->len == 1 && g_ptr_array_index(contents, 0))
	out = g_bytes_ref(g_ptr_array_index(contents, 0));
    json_decref(env);
    return out;
}

int     ctl_attachment_read(struct store *st, const char *number, gint64 id,
			    struct store_attachment_row *meta, GBytes **content, char **why)
{
    struct store_attachment_row a = {0};
    int     ret = st->ops->load_attachment(st, number, id, &a, why);
    GBytes *out = NULL;

    *content = NULL;
    if (ret != STORE_OK)
	return ret;
    if (!a.found) {
	*why = g_strdup_printf("ticket %s has no attachment %" G_GINT64_FORMAT
			       " (intakectl ticket %s lists them)", number, id, number);
	ret = STORE_ERROR;
    } else if (a.content) {
	out = g_bytes_ref(a.content);
    } else if (a.raw == NULL || a.part <= 0) {
	*why = g_strdup_printf("attachment %" G_GINT64_FORMAT " (%s) of ticket %s is listed"
			       " but not stored (the original was cut or missing: see the"
			       " message's note)", id, a.filename, number);
	ret = STORE_ERROR;
    } else if ((out = part_content(&a)) == NULL) {
	*why = g_strdup_printf("attachment %" G_GINT64_FORMAT " (%s) of ticket %s: MIME part"
			       " %" G_GINT64_FORMAT " is not in the stored original", id,
			       a.filename, number, a.part);
	ret = STORE_ERROR;
    }
    if (ret == STORE_OK && a.sha256) {
	gsize   len;
	gconstpointer p = g_bytes_get_data(out, &len);
	g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, p ? p : "", len);

	if (strcmp(sum, a.sha256) != 0) {
	    *why = g_strdup_printf("attachment %" G_GINT64_FORMAT " (%s) of ticket %s: what"
				   " the stored original yields (SHA-256 %s) is not what the"
				   " milter saw (%s); the database may be damaged", id,
				   a.filename, number, sum, a.sha256);
	    g_clear_pointer(&out, g_bytes_unref);
	    ret = STORE_ERROR;
	}
    }
    /* The original and a copy stored apart are not needed any more: only the metadata. */
    g_clear_pointer(&a.content, g_bytes_unref);
    g_clear_pointer(&a.raw, g_bytes_unref);
    *meta = a;
    *content = out;
    return ret;
}

int     ctl_attachment(struct store *st, const char *number, gint64 id, GBytes **content,
		       char **why)
{
    struct store_attachment_row a = {0};
    int     ret = ctl_attachment_read(st, number, id, &a, content, why);

    store_attachment_row_clear(&a);
    return ret;
}

/* Projects or tasks (docs/actions.md), in the order made. */
int     ctl_list_records(struct store *st, enum store_record kind, const char *project,
			 json_t **out, char **why)
{
    json_t *list = json_array();

    if (st->ops->list_records == NULL)
	return finish(store_unsupported(st, "projects and tasks", why), list, out);
    return finish(st->ops->list_records(st, kind, project, append_row, list, why), list, out);
}

/* A project or task being shown: its first row, then arrays by row kind. */
struct shown_record {
    const char *kind;
    json_t *record;
};

static void record_row(void *ctx, const struct store_row *row)
{
    struct shown_record *sh = ctx;
    json_t *obj = row_json(row);
    json_t *list;
    const char *key;

    if (sh->record == NULL && strcmp(row->kind, sh->kind) == 0) {
	sh->record = obj;
	return;
    }
    if (sh->record == NULL)
	g_error("ctl_show: show_record: row '%s' before the record", row->kind);
    key = strcmp(row->kind, "task") == 0 ? "tasks" : strcmp(row->kind, "note") == 0 ? "notes"
	: strcmp(row->kind, "time_entry") == 0 ? "time_entries" : NULL;
    if (key == NULL)
	g_error("ctl_show: show_record: unexpected row '%s'", row->kind);
    if ((list = json_object_get(sh->record, key)) == NULL) {
	list = json_array();
	json_object_set_new(sh->record, key, list);
    }
    json_array_append_new(list, obj);
}

int     ctl_show_record(struct store *st, enum store_record kind, const char *number,
			json_t **out, char **why)
{
    struct shown_record sh = {kind == STORE_PROJECT ? "project" : "task", NULL};
    int     ret = st->ops->show_record ? st->ops->show_record(st, kind, number, record_row, &sh, why)
	: store_unsupported(st, "projects and tasks", why);

    if (ret == STORE_OK && sh.record) {
	/* Empty lists are shown too: a script need not test for the key. */
	const char *const keys[] = {kind == STORE_PROJECT ? "tasks" : "time_entries", "notes"};

	for (int i = 0; i < 2; i++)
	    if (json_object_get(sh.record, keys[i]) == NULL)
		json_object_set_new(sh.record, keys[i], json_array());
    }
    return finish(ret, sh.record, out);
}
