/*
 * NAME
 *	store - open the configured ticket store backend
 * SYNOPSIS
 *	struct store *store_open(cfg, &why)
 *	struct store *store_open_relaxed(cfg, &why)
 *	struct store *store_open_readonly(cfg, &why)
 *	struct store *store_close(st)
 *	void	store_ticket_info_clear(info)
 *	void	store_outbox_clear(out)
 *	void	store_autogen_row_clear(row)
 *	void	store_our_reply_clear(r)
 *
 *	void	store_attachment_row_clear(row)
 *	void	store_faq_match_clear(m)
 *	void	store_event_row_clear(row)
 *
 *	int	store_unsupported(st, op, &why)
 *	gboolean store_exists(cfg)
 *
 *	size_t	store_index_len(text, len, max)
 * DESCRIPTION
 *	store_open() picks the backend named by [store] backend and opens
 *	it (creating or migrating the schema). Callers then use st->ops.
 *	NULL and *why (g_free) when it cannot be opened.
 *	store_open_relaxed() opens a connection whose commits survive a
 *	crash of the process but not a power loss (the outbox's: two
 *	fsyncs per reply would hold the lock the pipeline needs).
 *	store_open_readonly() opens a connection that cannot write (the
 *	HTTP API's: SQLite mode=ro and query_only), never creates or
 *	migrates the schema (a store the worker has not made yet is an
 *	error) and reads without blocking the writer (WAL).
 *
 *	A backend leaves the ops it does not support NULL (the PostgreSQL
 *	store: FAQ, category model, projects, kept-mail reports); callers
 *	test the pointer and report store_unsupported(): STORE_ERROR with
 *	"OP: not supported by the NAME store".
 *
 *	store_index_len() is how many of the len bytes of text the
 *	full-text index takes (STORE_INDEX_TEXT_MAX, store.h): all of them
 *	up to max; beyond, a cut at most max bytes long that ends where a
 *	word does (white space within the last INDEX_CUT_SLACK bytes),
 *	or else at the start of a UTF-8 character: never half a word or a
 *	character in the index.
 */
#include <string.h>

#include "store.h"

#define INDEX_CUT_SLACK	256		/* store_index_len(): how far back to look for a space */

static const struct store_ops *const backends[] = {&store_sqlite_ops, &store_pg_ops, NULL};

const char *const store_reply_states[STORE_REPLY_STATES] = {
    [STORE_REPLY_OWED] = "owed", [STORE_REPLY_SENDING] = "sending",
    [STORE_REPLY_SENT] = "sent", [STORE_REPLY_UNKNOWN] = "unknown",
    [STORE_REPLY_FAILED] = "failed", [STORE_REPLY_BOUNCED] = "bounced",
    [STORE_REPLY_SUPPRESSED] = "suppressed",
};

static struct store *open_backend(const struct intake_config *cfg, gboolean relaxed,
				  gboolean readonly, char **why)
{
    for (int i = 0; backends[i]; i++) {
	if (strcmp(backends[i]->name, cfg->store_backend) == 0) {
	    struct store *st = g_new0(struct store, 1);

	    st->ops = backends[i];
	    st->cfg = cfg;
	    st->relaxed = relaxed;
	    st->readonly = readonly;
	    if (st->ops->open(st, why) != STORE_OK) {
		g_free(st);
		return NULL;
	    }
	    return st;
	}
    }
    *why = g_strdup_printf("unknown store backend '%s'", cfg->store_backend);
    return NULL;
}

struct store *store_open(const struct intake_config *cfg, char **why)
{
    return open_backend(cfg, FALSE, FALSE, why);
}

struct store *store_open_relaxed(const struct intake_config *cfg, char **why)
{
    return open_backend(cfg, TRUE, FALSE, why);
}

struct store *store_open_readonly(const struct intake_config *cfg, char **why)
{
    return open_backend(cfg, FALSE, TRUE, why);
}

struct store *store_close(struct store *st)
{
    if (st) {
	st->ops->close(st);
	g_free(st);
    }
    return NULL;
}

void    store_ticket_info_clear(struct store_ticket_info *info)
{
    g_clear_pointer(&info->number, g_free);
    g_clear_pointer(&info->mailbox, g_free);
    g_clear_pointer(&info->status, g_free);
    g_clear_pointer(&info->title, g_free);
    g_clear_pointer(&info->customer_address, g_free);
    g_clear_pointer(&info->assignee, g_free);
    g_clear_pointer(&info->queue, g_free);
    info->id = 0;
}

void    store_outbox_clear(struct store_outbox *out)
{
    g_clear_pointer(&out->mailbox, g_free);
    g_clear_pointer(&out->recipient, g_free);
    g_clear_pointer(&out->message_id, g_free);
    g_clear_pointer(&out->content, g_bytes_unref);
    out->id = out->ticket_id = 0;
    out->attempts = 0;
}

void    store_autogen_row_clear(struct store_autogen_row *row)
{
    g_clear_pointer(&row->mailbox, g_free);
    g_clear_pointer(&row->envelope, g_free);
    g_clear_pointer(&row->raw, g_bytes_unref);
    g_clear_pointer(&row->imported_number, g_free);
}

void    store_our_reply_clear(struct store_our_reply *r)
{
    g_clear_pointer(&r->number, g_free);
    g_clear_pointer(&r->kind, g_free);
    g_clear_pointer(&r->message_id, g_free);
    g_clear_pointer(&r->state, g_free);
}

void    store_attachment_row_clear(struct store_attachment_row *row)
{
    g_clear_pointer(&row->filename, g_free);
    g_clear_pointer(&row->content_type, g_free);
    g_clear_pointer(&row->sha256, g_free);
    g_clear_pointer(&row->mime_limits, g_free);
    g_clear_pointer(&row->content, g_bytes_unref);
    g_clear_pointer(&row->raw, g_bytes_unref);
    row->found = FALSE;
}

void    store_faq_match_clear(struct store_faq_match *m)
{
    g_clear_pointer(&m->title, g_free);
    g_clear_pointer(&m->url, g_free);
    m->id = 0;
    m->score = 0;
}

void    store_event_row_clear(struct store_event_row *row)
{
    g_clear_pointer(&row->sink, g_free);
    g_clear_pointer(&row->type, g_free);
    g_clear_pointer(&row->number, g_free);
    g_clear_pointer(&row->mailbox, g_free);
    g_clear_pointer(&row->payload, g_free);
    g_clear_pointer(&row->created_at, g_free);
    memset(row, 0, sizeof(*row));
}

int     store_unsupported(const struct store *st, const char *op, char **why)
{
    *why = g_strdup_printf("%s: not supported by the %s store", op, st->ops->name);
    return STORE_ERROR;
}

gboolean store_exists(const struct intake_config *cfg)
{
    if (strcmp(cfg->store_backend, "sqlite") != 0)
	return TRUE;
    return g_file_test(cfg->store_path, G_FILE_TEST_EXISTS);
}

size_t  store_index_len(const char *text, size_t len, size_t max)
{
    size_t  cut, i;

    if (len <= max)
	return len;
    /* text[cut] is the first byte left out: a character starts there. */
    for (cut = max; cut > 0 && ((unsigned char) text[cut] & 0xC0) == 0x80; cut--)
	 /* void */ ;
    for (i = cut; i > 0 && cut - i < INDEX_CUT_SLACK; i--)
	if (g_ascii_isspace(text[i - 1]))
	    return i;
    return cut;
}
