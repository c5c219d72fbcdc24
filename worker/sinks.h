/*
 * sinks.h: the worker's sinks (docs/events.md): the [sink NAME] sections
 * (sink_config.c), the registry of types and the sender's context
 * (sinks.c), the events written with a ticket (sink_event.c) and the
 * sender threads (sink_sender.c). A type's own interface is sink.h.
 */
#ifndef INTAKE_SINKS_H
#define INTAKE_SINKS_H

#include <glib.h>
#include <jansson.h>
#include "config.h"
#include "sink.h"
#include "store.h"

/* The events a sink may want, in docs/events.md's order; sink_event_names[] names them. */
enum sink_event_kind {
    SINK_EV_TICKET_CREATED, SINK_EV_MESSAGE_ADDED, SINK_EV_TICKET_REOPENED,
    SINK_EV_AUTOGEN_KEPT, SINK_EV_REPLY_FAILED,
};
#define SINK_EVENT_KINDS (SINK_EV_REPLY_FAILED + 1)
extern const char *const sink_event_names[SINK_EVENT_KINDS];

#define SINK_EVENT_VERSION 1		/* "version" of the event JSON (docs/events.md) */

/* One [sink NAME] section. */
struct sink_conf {
    char   *name;
    const struct sink_type *type;
    void   *state;			/* the type's configure() */
    char  **mailboxes;			/* NULL: all */
    guint   events;			/* bit (1 << enum sink_event_kind) per event wanted */
    int     retry_min_s;		/* backoff after the first RETRY */
    int     retry_max_s;		/* doubling stops here */
    int     timeout_s;			/* one delivery, all of it */
};

struct sinks {
    GPtrArray *list;			/* struct sink_conf *, in the file's order */
};

/* sinks.c */
const struct sink_type *sink_type_find(const char *name);
char   *sink_type_names(void);		/* "webhook, rt" (g_free) */
struct sink_ctx *sink_ctx_new(struct store *st, const char *sink);
struct sink_ctx *sink_ctx_free(struct sink_ctx *ctx);

/* sink_config.c */
extern const char *const sink_common_keys[];
struct sinks *sinks_load(const struct intake_config *cfg, GPtrArray *errors);
struct sinks *sinks_free(struct sinks *s);
void    sinks_dump_keys(FILE *out);
int     sink_key_duration(GKeyFile *kf, const char *group, const char *key);
const char **sinks_wanting(const struct sinks *s, enum sink_event_kind kind,
			   const char *mailbox);
gboolean sinks_want(const struct sinks *s, enum sink_event_kind kind, const char *mailbox);

/* sink_event.c */
int     sink_event_emit(struct store *st, const struct sinks *s, enum sink_event_kind kind,
			gint64 ticket_id, const char *number, const char *mailbox,
			gint64 message_row, json_t *payload, char **why);
json_t *sink_event_message(json_t *env, const char *text);
json_t *sink_event_ticket(const char *number, const char *mailbox, const char *subject,
			  const char *status, const char *requestor);
char   *sink_event_json(struct store *st, const struct store_event_row *row, char **why);

#endif
