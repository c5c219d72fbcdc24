/*
 * sink.h: the interface of a sink type (docs/events.md): where ticket
 * events go. A type (sink_webhook.c, sink_rt.c) reads its own keys of a
 * [sink NAME] section and delivers one event at a time; the sender
 * thread of each sink (sinks.c) owns the order, the retries and the
 * store. Fixed: the webhook and the Request Tracker types are written
 * against exactly this.
 */
#ifndef INTAKE_SINK_H
#define INTAKE_SINK_H

#include <glib.h>
#include "cfgfile.h"

enum sink_result { SINK_DONE, SINK_RETRY, SINK_FAILED };  /* delivered / try later / give up (kept as failed, `intakectl sinks retry` re-queues) */
struct sink_event {
    gint64      id;            /* the event id: the idempotency key the far end sees */
    const char *type;          /* "ticket.created", "message.added", "ticket.reopened", "autogen.kept", "reply.failed" */
    gint64      ticket_id;     /* 0 for autogen.kept */
    const char *ticket_number; /* Intake's number, e.g. "2026-000123", or NULL */
    const char *mailbox;
    const char *json;          /* the event as documented in docs/events.md (UTF-8 JSON text) */
};
struct sink_ctx;               /* the sender thread's own store connection, opaque */
/* the far end's id for one of our tickets (e.g. the RT ticket id), kept per sink and ticket */
int sink_ref_get(struct sink_ctx *ctx, gint64 ticket_id, char **ref /* g_free, NULL: none */, char **why);
int sink_ref_set(struct sink_ctx *ctx, gint64 ticket_id, const char *ref, char **why);
/* an attachment's decoded content, by the id the event JSON names (store op load_attachment) */
int sink_attachment(struct sink_ctx *ctx, const char *ticket_number, gint64 attachment_id,
                    GBytes **content, char **why);
struct sink_type {
    const char *name;                  /* the value of `type =` */
    const char *const *keys;           /* keys of its own in [sink NAME], NULL-terminated */
    /* read its keys of [sink NAME] (worker/cfgfile.c for errors with FILE:LINE); NULL + cfgfile_error on bad config */
    void   *(*configure)(GKeyFile *kf, const char *group, struct cfgfile *cf);
    /* deliver one event; *answer (g_free) is the far end's answer or the error, shown by `intakectl sinks status` */
    enum sink_result (*deliver)(void *state, struct sink_ctx *ctx, const struct sink_event *ev, char **answer);
    void    (*free)(void *state);
};
extern const struct sink_type sink_webhook, sink_rt;   /* the registry in worker/sinks.c lists both */

#endif
