/*
 * NAME
 *	sinks - the registry of sink types and what a type may ask of the store
 * SYNOPSIS
 *	#include "sinks.h"
 *
 *	const struct sink_type *sink_type_find(name)
 *	char	*sink_type_names(void)
 *	struct sink_ctx *sink_ctx_new(st, sink)
 *	struct sink_ctx *sink_ctx_free(ctx)
 *
 *	int	sink_ref_get(ctx, ticket_id, &ref, &why)
 *	int	sink_ref_set(ctx, ticket_id, ref, &why)
 *	int	sink_attachment(ctx, number, attachment_id, &content, &why)
 * DESCRIPTION
 *	The registry is every type this build has: webhook always, rt when
 *	sink_rt.c is linked (a weak reference, so that the type can land on
 *	its own branch without touching this file). sink_type_find() is NULL
 *	for a name the build lacks; sink_type_names() lists the ones it has
 *	for error texts (g_free).
 *
 *	A sink_ctx is a sender thread's store connection and its sink's
 *	name: a type keeps the far end's id of a ticket with sink_ref_set()
 *	and finds it again with sink_ref_get() (*ref NULL: none yet), and
 *	reads an attachment's content (sink_attachment(): ctl_attachment(),
 *	the one decoding of stored originals) by the id the event names.
 * DIAGNOSTICS
 *	STORE_OK, STORE_BUSY or STORE_ERROR with *why (g_free), as store.h;
 *	STORE_ERROR "not supported by this store" when the backend has no
 *	such op.
 */
#include <string.h>

#include "ctl_show.h"
#include "sinks.h"

/* sink_rt.c (branch rt) may not be linked: its address is then NULL. */
extern const struct sink_type sink_rt __attribute__((weak));

struct sink_ctx {
    struct store *st;
    char   *sink;
};

static const struct sink_type *registry(int i)
{
    const struct sink_type *const types[] = {&sink_webhook, &sink_rt};

    return i < (int) G_N_ELEMENTS(types) ? types[i] : NULL;
}
#define REGISTRY_SIZE 2

const struct sink_type *sink_type_find(const char *name)
{
    for (int i = 0; i < REGISTRY_SIZE; i++) {
	const struct sink_type *t = registry(i);

	if (t && strcmp(t->name, name) == 0)
	    return t;
    }
    return NULL;
}

char   *sink_type_names(void)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < REGISTRY_SIZE; i++) {
	const struct sink_type *t = registry(i);

	if (t)
	    g_string_append_printf(s, "%s%s", s->len ? ", " : "", t->name);
    }
    return g_string_free(s, FALSE);
}

struct sink_ctx *sink_ctx_new(struct store *st, const char *sink)
{
    struct sink_ctx *ctx = g_new0(struct sink_ctx, 1);

    ctx->st = st;
    ctx->sink = g_strdup(sink);
    return ctx;
}

struct sink_ctx *sink_ctx_free(struct sink_ctx *ctx)
{
    if (ctx) {
	g_free(ctx->sink);
	g_free(ctx);
    }
    return NULL;
}

static int unsupported(struct sink_ctx *ctx, char **why)
{
    *why = g_strdup_printf("sink %s: not supported by the %s store", ctx->sink,
			   ctx->st->ops->name);
    return STORE_ERROR;
}

int     sink_ref_get(struct sink_ctx *ctx, gint64 ticket_id, char **ref, char **why)
{
    *ref = NULL;
    if (ctx->st->ops->sink_ref_get == NULL)
	return unsupported(ctx, why);
    return ctx->st->ops->sink_ref_get(ctx->st, ctx->sink, ticket_id, ref, why);
}

int     sink_ref_set(struct sink_ctx *ctx, gint64 ticket_id, const char *ref, char **why)
{
    if (ctx->st->ops->sink_ref_set == NULL)
	return unsupported(ctx, why);
    return ctx->st->ops->sink_ref_set(ctx->st, ctx->sink, ticket_id, ref, why);
}

int     sink_attachment(struct sink_ctx *ctx, const char *ticket_number, gint64 attachment_id,
			GBytes **content, char **why)
{
    *content = NULL;
    return ctl_attachment(ctx->st, ticket_number, attachment_id, content, why);
}
