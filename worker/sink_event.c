/*
 * NAME
 *	sink_event - the events the sinks deliver (docs/events.md)
 * SYNOPSIS
 *	#include "sinks.h"
 *
 *	int	sink_event_emit(st, sinks, kind, ticket_id, number, mailbox,
 *				message_row, payload, &why)
 *	json_t	*sink_event_ticket(number, mailbox, subject, status, requestor)
 *	json_t	*sink_event_message(env, text)
 *	char	*sink_event_json(st, row, &why)
 * DESCRIPTION
 *	An event is written in two halves. sink_event_emit(), called by a
 *	stage inside the ticket's transaction, stores what is known then
 *	and may change later (the ticket's status and subject, the mail's
 *	text as the ticket shows it) as the payload, for each sink that
 *	wants kind for mailbox (none: nothing is written; a store without
 *	the event ops: nothing either). It steals payload.
 *	sink_event_json(), called by the sender, makes the document the far
 *	end gets: id, type, version, created, then the payload's members,
 *	and the message's attachments as the store lists them (ids that the
 *	API and sink_attachment() take): a row's id is only known after the
 *	message is written, and the list never changes, so it is read at
 *	delivery rather than copied into every event.
 *
 *	sink_event_ticket() and sink_event_message() build the payload's
 *	"ticket" and "message" objects (the latter from the envelope: the
 *	message id, from, to, cc, subject, date, and text, the mail's text
 *	as stored).
 * DIAGNOSTICS
 *	sink_event_emit() returns the store's result with *why;
 *	sink_event_json() NULL and *why when the payload is no JSON object or
 *	the ticket cannot be read.
 */
#include <string.h>

#include "ctl_show.h"
#include "envelope.h"
#include "sinks.h"

int     sink_event_emit(struct store *st, const struct sinks *s, enum sink_event_kind kind,
			gint64 ticket_id, const char *number, const char *mailbox,
			gint64 message_row, json_t *payload, char **why)
{
    g_autofree const char **names = sinks_wanting(s, kind, mailbox);
    g_autofree char *text = NULL;
    struct store_event ev = {0};
    gint64  id;
    int     ret;

    if (names == NULL || st->ops->add_event == NULL) {
	json_decref(payload);
	return STORE_OK;
    }
    text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    if (text == NULL) {
	*why = g_strdup_printf("%s event: cannot encode it", sink_event_names[kind]);
	return STORE_ERROR;
    }
    ev.type = sink_event_names[kind];
    ev.ticket_id = ticket_id;
    ev.number = number;
    ev.mailbox = mailbox;
    ev.message_row = message_row;
    ev.payload = text;
    ev.sinks = names;
    ret = st->ops->add_event(st, &ev, &id, why);
    return ret;
}

json_t *sink_event_ticket(const char *number, const char *mailbox, const char *subject,
			  const char *status, const char *requestor)
{
    json_t *t = json_object();

    json_object_set_new(t, "number", number ? json_string(number) : json_null());
    json_object_set_new(t, "mailbox", mailbox ? json_string(mailbox) : json_null());
    json_object_set_new(t, "subject", subject ? json_string(subject) : json_null());
    json_object_set_new(t, "status", status ? json_string(status) : json_null());
    json_object_set_new(t, "requestor", requestor ? json_string(requestor) : json_null());
    return t;
}

/* copy_or_null - a deep copy of env's member key, or JSON null */
static json_t *copy_or_null(json_t *env, const char *key)
{
    json_t *v = json_object_get(env, key);

    return v ? json_deep_copy(v) : json_null();
}

json_t *sink_event_message(json_t *env, const char *text)
{
    json_t *m = json_object();

    json_object_set_new(m, "message_id", copy_or_null(env, "message_id"));
    json_object_set_new(m, "from", copy_or_null(env, "from"));
    json_object_set_new(m, "to", copy_or_null(env, "to"));
    json_object_set_new(m, "cc", copy_or_null(env, "cc"));
    json_object_set_new(m, "subject", copy_or_null(env, "subject"));
    json_object_set_new(m, "date", copy_or_null(env, "date"));
    json_object_set_new(m, "text", text ? json_string(text) : json_null());
    return m;
}

/* attachments - the store's attachments of message row, as events show them */
static json_t *attachments(struct store *st, const char *number, gint64 message_row,
			   char **why)
{
    json_t *ticket = NULL;
    json_t *msg, *a, *out;
    size_t  i, j;

    if (ctl_show_ticket(st, number, &ticket, why) != STORE_OK)
	return NULL;
    out = json_array();
    json_array_foreach(json_object_get(ticket, "messages"), i, msg) {
	if (json_integer_value(json_object_get(msg, "id")) != message_row)
	    continue;
	json_array_foreach(json_object_get(msg, "attachments"), j, a) {
	    json_t *e = json_object();

	    json_object_set_new(e, "id", copy_or_null(a, "id"));
	    json_object_set_new(e, "filename", copy_or_null(a, "filename"));
	    json_object_set_new(e, "content_type", copy_or_null(a, "content_type"));
	    json_object_set_new(e, "size", copy_or_null(a, "size"));
	    json_object_set_new(e, "sha256", copy_or_null(a, "sha256"));
	    json_array_append_new(out, e);
	}
    }
    json_decref(ticket);
    return out;
}

char   *sink_event_json(struct store *st, const struct store_event_row *row, char **why)
{
    json_error_t jerr;
    json_t *payload = json_loads(row->payload ? row->payload : "", 0, &jerr);
    json_t *doc, *msg;
    const char *key;
    json_t *v;
    char   *out;

    if (!json_is_object(payload)) {
	*why = g_strdup_printf("event %" G_GINT64_FORMAT ": the stored payload is not a JSON"
			       " object: %s", row->id, payload ? "" : jerr.text);
	json_decref(payload);
	return NULL;
    }
    doc = json_object();
    json_object_set_new(doc, "id", json_integer(row->id));
    json_object_set_new(doc, "type", json_string(row->type));
    json_object_set_new(doc, "version", json_integer(SINK_EVENT_VERSION));
    json_object_set_new(doc, "created", json_string(row->created_at));
    /* reply.failed knows the ticket by id only: the store looked up its number. */
    if (json_object_get(payload, "ticket") == NULL && row->ticket_id)
	json_object_set_new(doc, "ticket", sink_event_ticket(row->number, row->mailbox, NULL,
							     NULL, NULL));
    json_object_foreach(payload, key, v)
	json_object_set(doc, key, v);
    json_decref(payload);
    if ((msg = json_object_get(doc, "message")) != NULL && json_is_object(msg)) {
	json_t *atts = json_array();

	if (row->message_row && row->number) {
	    json_decref(atts);
	    if ((atts = attachments(st, row->number, row->message_row, why)) == NULL) {
		json_decref(doc);
		return NULL;
	    }
	}
	json_object_set_new(msg, "attachments", atts);
    }
    out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (out == NULL)
	*why = g_strdup_printf("event %" G_GINT64_FORMAT ": cannot encode it", row->id);
    return out;
}
