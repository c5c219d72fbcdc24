/*
 * NAME
 *	store_sqlite_tickets - tickets, messages, parties and thread ids in
 *	the SQLite ticket store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 * DESCRIPTION
 *	The store_ops that find and write tickets: find_duplicate,
 *	find_ticket, find_by_message_ids, is_party, parties,
 *	find_near_duplicate, create_ticket, set_status, add_message; and
 *	sq_add_thread_id(), which store_sqlite_outbox.c uses too.
 *
 *	create_ticket() and add_message() run inside their own savepoint,
 *	so each is all-or-nothing also outside store_begin()/store_commit().
 *
 *	find_ticket(), find_by_message_ids() and find_near_duplicate()
 *	report "not found" as STORE_OK with info->id = 0
 *	(find_near_duplicate() never matches an empty key); parties()
 *	lists at most 1000 addresses, the one asked about first when it is
 *	one (a ticket with more parties still finds its sender;
 *	same_domain sees the first thousand); they overwrite *info (pass it
 *	zeroed or cleared).
 * DIAGNOSTICS
 *	As store_sqlite.c. A second message with a stored dedupe_key fails
 *	with "duplicate message".
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "sqlite_int.h"
#include "ticketno.h"

/* ticket_info_from_row - fill *info from TICKET_INFO_COLUMNS */
static void ticket_info_from_row(sqlite3_stmt *s, struct store_ticket_info *info)
{
    info->id = sqlite3_column_int64(s, 0);
    info->number = col_strdup(s, 1);
    info->mailbox = col_strdup(s, 2);
    info->status = col_strdup(s, 3);
    info->title = col_strdup(s, 4);
    info->customer_address = col_strdup(s, 5);
    info->closed_at = 0;
    if (sqlite3_column_type(s, 6) == SQLITE_TEXT) {
	g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(
				      (const char *) sqlite3_column_text(s, 6), NULL);

	if (t)
	    info->closed_at = g_date_time_to_unix(t);
    }
    info->assignee = col_strdup(s, 7);
    info->queue = col_strdup(s, 8);
}


/* ---------------------------------------------------------------- */
/*	Tickets								    */
/* ---------------------------------------------------------------- */

int     sq_find_duplicate(struct store *st, const char *dedupe_key,
			  gint64 *ticket_id, char **number, char **why)
{
    struct sq *sq = SQ(st);
    gboolean row = FALSE;
    int     ret;

    *ticket_id = 0;
    *number = NULL;
    if (dedupe_key == NULL)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_FIND_DUPLICATE, why, "t", dedupe_key)) != STORE_OK
	|| (ret = sq_step(sq, S_FIND_DUPLICATE, &row, why)) != STORE_OK)
	return ret;
    if (row) {
	*ticket_id = sqlite3_column_int64(sq->stmt[S_FIND_DUPLICATE], 0);
	*number = col_strdup(sq->stmt[S_FIND_DUPLICATE], 1);
    }
    sq_reset(sq, S_FIND_DUPLICATE);
    return STORE_OK;
}

/* ticket_lookup - run a TICKET_INFO_COLUMNS query bound already; info->id = 0: none */
static int ticket_lookup(struct sq *sq, enum stmt id, struct store_ticket_info *info,
			         char **why)
{
    gboolean row = FALSE;
    int     ret;

    memset(info, 0, sizeof(*info));
    if ((ret = sq_step(sq, id, &row, why)) != STORE_OK)
	return ret;
    if (row)
	ticket_info_from_row(sq->stmt[id], info);
    sq_reset(sq, id);
    return STORE_OK;
}

int     sq_find_ticket(struct store *st, const char *number,
		       struct store_ticket_info *info, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    memset(info, 0, sizeof(*info));
    if ((ret = sq_bind(sq, S_TICKET_BY_NUMBER, why, "t", number)) != STORE_OK)
	return ret;
    return ticket_lookup(sq, S_TICKET_BY_NUMBER, info, why);
}

/* sq_case_ticket - the newest open ticket of a case (branch rules: a rule's note = yes) */
int     sq_case_ticket(struct store *st, const char *name,
		       struct store_ticket_info *info, char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    memset(info, 0, sizeof(*info));
    if ((ret = sq_bind(sq, S_CASE_TICKET, why, "t", name)) != STORE_OK)
	return ret;
    return ticket_lookup(sq, S_CASE_TICKET, info, why);
}

int     sq_find_by_message_ids(struct store *st, const char *mailbox,
			       const char *const *ids,
			       struct store_ticket_info *info, char **why)
{
    struct sq *sq = SQ(st);
    gint64  best = 0;
    gboolean row = FALSE;
    int     ret;

    memset(info, 0, sizeof(*info));
    for (int i = 0; ids && ids[i]; i++) {
	if (*ids[i] == 0)
	    continue;
	if ((ret = sq_bind(sq, S_THREAD_LOOKUP, why, "tt", ids[i], mailbox)) != STORE_OK
	    || (ret = sq_step(sq, S_THREAD_LOOKUP, &row, why)) != STORE_OK)
	    return ret;
	if (row)
	    best = MAX(best, sqlite3_column_int64(sq->stmt[S_THREAD_LOOKUP], 0));
	sq_reset(sq, S_THREAD_LOOKUP);
    }
    if (best == 0)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_TICKET_BY_ID, why, "i", best)) != STORE_OK)
	return ret;
    return ticket_lookup(sq, S_TICKET_BY_ID, info, why);
}

int     sq_is_party(struct store *st, gint64 ticket_id, const char *address,
		    gboolean *yes, char **why)
{
    struct sq *sq = SQ(st);
    g_autofree char *lower = address ? g_ascii_strdown(address, -1) : NULL;
    gboolean row = FALSE;
    int     ret;

    *yes = FALSE;
    if (lower == NULL)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_IS_PARTY, why, "it", ticket_id, lower)) != STORE_OK
	|| (ret = sq_step(sq, S_IS_PARTY, &row, why)) != STORE_OK)
	return ret;
    *yes = row;
    sq_reset(sq, S_IS_PARTY);
    return STORE_OK;
}

int     sq_parties(struct store *st, gint64 ticket_id, const char *first,
		   char ***addresses, char **why)
{
    struct sq *sq = SQ(st);
    g_autofree char *lower = first ? g_ascii_strdown(first, -1) : NULL;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    gboolean row = FALSE;
    int     ret;

    *addresses = NULL;
    if ((ret = sq_bind(sq, S_PARTIES, why, "it", ticket_id, lower)) != STORE_OK)
	return ret;
    while ((ret = sq_step(sq, S_PARTIES, &row, why)) == STORE_OK && row)
	g_ptr_array_add(list, col_strdup(sq->stmt[S_PARTIES], 0));
    sq_reset(sq, S_PARTIES);
    if (ret != STORE_OK)
	return ret;
    g_ptr_array_add(list, NULL);
    *addresses = (char **) g_ptr_array_free(g_steal_pointer(&list), FALSE);
    return STORE_OK;
}

int     sq_find_near_duplicate(struct store *st, const char *mailbox,
			       const char *sender_key, const char *subject_key,
			       gint64 since_unix, struct store_ticket_info *info,
			       char **why)
{
    struct sq *sq = SQ(st);
    char    since[ISO_TIME_SIZE];
    int     ret;

    memset(info, 0, sizeof(*info));
    if (sender_key == NULL || *sender_key == 0 || subject_key == NULL || *subject_key == 0)
	return STORE_OK;
    iso_time(since_unix, since, NULL);
    if ((ret = sq_bind(sq, S_NEAR_DUPLICATE, why, "tttt", mailbox, sender_key, subject_key,
		       since)) != STORE_OK)
	return ret;
    return ticket_lookup(sq, S_NEAR_DUPLICATE, info, why);
}

/* add_party - record a (lower-cased) address as a party of a ticket */
static int add_party(struct sq *sq, gint64 ticket_id, const char *address, char **why)
{
    g_autofree char *lower = NULL;
    int     ret;

    if (address == NULL || *address == 0)
	return STORE_OK;
    lower = g_ascii_strdown(address, -1);
    if ((ret = sq_bind(sq, S_PARTY_INSERT, why, "it", ticket_id, lower)) != STORE_OK)
	return ret;
    return sq_run(sq, S_PARTY_INSERT, why);
}

/* add_thread_id - record a message id that names a ticket */
int     sq_add_thread_id(struct sq *sq, const char *msgid, gint64 ticket_id,
			 const char *mailbox, char **why)
{
    int     ret;

    if (msgid == NULL || *msgid == 0)
	return STORE_OK;
    if ((ret = sq_bind(sq, S_THREAD_INSERT, why, "tit", msgid, ticket_id, mailbox)) != STORE_OK)
	return ret;
    return sq_run(sq, S_THREAD_INSERT, why);
}

/* next_seq - the next ticket sequence number of a year */
static int next_seq(struct sq *sq, int year, gint64 *seq, char **why)
{
    g_autofree char *name = g_strdup_printf("ticket-%04d", year);
    gboolean row = FALSE;
    int     ret;

    if ((ret = sq_bind(sq, S_COUNTER_NEXT, why, "t", name)) != STORE_OK
	|| (ret = sq_step(sq, S_COUNTER_NEXT, &row, why)) != STORE_OK)
	return ret;
    /* RETURNING: the change is made by the first step; reset ends it. */
    if (row)
	*seq = sqlite3_column_int64(sq->stmt[S_COUNTER_NEXT], 0);
    sq_reset(sq, S_COUNTER_NEXT);
    if (!row) {
	*why = g_strdup_printf("%s: counter %s returned no value", sq->path, name);
	return STORE_ERROR;
    }
    return STORE_OK;
}

int     sq_create_ticket(struct store *st, const struct store_ticket *t,
			 const char *prefix, gint64 *id, char **number, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    g_autofree char *num = NULL;
    gint64  seq = 0;
    int     year, ret;

    *id = 0;
    *number = NULL;
    iso_time(time(NULL), now, &year);
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    if ((ret = next_seq(sq, year, &seq, why)) != STORE_OK)
	goto out;
    num = ticketno_format(prefix ? prefix : st->cfg->ticket_prefix, year, seq);
    if ((ret = sq_bind(sq, S_TICKET_INSERT, why, "tttttttttttittttdtd", num, t->mailbox,
		       t->status ? t->status : "new", t->title ? t->title : "",
		       t->category, t->priority, t->type, t->language,
		       t->customer_name, t->customer_address, now, t->linked_to,
		       t->link_reason, t->sender_key, t->subject_key, t->category_suggested,
		       t->category_suggested ? t->category_confidence : NAN, t->sentiment,
		       t->sentiment ? t->sentiment_score : NAN)) != STORE_OK
	|| (ret = sq_run(sq, S_TICKET_INSERT, why)) != STORE_OK)
	goto out;
    *id = sqlite3_last_insert_rowid(sq->db);
    ret = add_party(sq, *id, t->customer_address, why);

out:
    if ((ret = op_end(sq, ret, why)) != STORE_OK) {
	*id = 0;
	return ret;
    }
    *number = g_steal_pointer(&num);
    return STORE_OK;
}

int     sq_set_status(struct store *st, gint64 ticket_id, const char *status, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_SET_STATUS, why, "itt", ticket_id, status, now)) != STORE_OK
	|| (ret = sq_run(sq, S_SET_STATUS, why)) != STORE_OK)
	return ret;
    if (sqlite3_changes(sq->db) == 0) {
	*why = g_strdup_printf("%s: set status: no ticket with id %" G_GINT64_FORMAT,
			       sq->path, ticket_id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

/* ticket_mailbox - the mailbox of a ticket (newly allocated); an error if none */
static int ticket_mailbox(struct sq *sq, gint64 ticket_id, char **mailbox, char **why)
{
    gboolean row = FALSE;
    int     ret;

    *mailbox = NULL;
    if ((ret = sq_bind(sq, S_TICKET_MAILBOX, why, "i", ticket_id)) != STORE_OK
	|| (ret = sq_step(sq, S_TICKET_MAILBOX, &row, why)) != STORE_OK)
	return ret;
    if (row)
	*mailbox = col_strdup(sq->stmt[S_TICKET_MAILBOX], 0);
    sq_reset(sq, S_TICKET_MAILBOX);
    if (*mailbox == NULL) {
	*why = g_strdup_printf("%s: no ticket with id %" G_GINT64_FORMAT, sq->path, ticket_id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

/*
 * add_attachments - the attachments of a new message: references into
 * its original (part index, SHA-256), no copy of their bytes.
 */
static int add_attachments(struct sq *sq, gint64 message_id, GPtrArray *attachments,
			           char **why)
{
    int     ret;

    for (guint i = 0; attachments && i < attachments->len; i++) {
	const struct store_attachment *a = g_ptr_array_index(attachments, i);

	if ((ret = sq_bind(sq, S_ATTACHMENT_INSERT, why, "itttiiit", message_id,
			   a->filename ? a->filename : "", a->content_type,
			   a->content_id, a->size, (gint64) (a->stored && a->part > 0),
			   a->part, a->sha256)) != STORE_OK
	    || (ret = sq_run(sq, S_ATTACHMENT_INSERT, why)) != STORE_OK)
	    return ret;
    }
    return STORE_OK;
}

/*
 * insert_message - the messages row and its full-text index entry. The
 * UNIQUE dedupe_key is the last guard against storing a mail twice.
 */
static int insert_message(struct sq *sq, gint64 ticket_id, const struct store_message *m,
			          const char *now, gint64 *message_id, char **why)
{
    g_autoptr(GBytes) raw = NULL;
    g_autoptr(GBytes) body = NULL;
    g_autoptr(GBytes) full_text = NULL;
    int     ret;

    /*
     * The original and the text, compressed: see store_sqlite_blob.c.
     * An original that came compressed (one frame that stated its size
     * and passed its checksum: worker/queue.c) is kept as it came: zstd
     * was a third of the worker's CPU, most of it compressing originals
     * a second time. The milter's level 1 costs some 4% more bytes.
     */
    if (m->raw_zstd) {
	raw = g_bytes_ref(m->raw_zstd);
    } else if (m->raw) {
	gsize   len;
	gconstpointer p = g_bytes_get_data(m->raw, &len);

	raw = sq_compress(sq, p, len);
    }
    /* So is the text, when it came as a frame (m->text_zstd: of the whole text). */
    if (m->body && m->text_zstd && m->full_text == NULL)
	body = g_bytes_ref(m->text_zstd);
    else if (m->body)
	body = sq_compress(sq, m->body, strlen(m->body));
    if (m->full_text && m->text_zstd)
	full_text = g_bytes_ref(m->text_zstd);
    else if (m->full_text)
	full_text = sq_compress(sq, m->full_text, strlen(m->full_text));
    if ((ret = sq_bind(sq, S_MESSAGE_INSERT, why, "ittttttttttbbitttb", ticket_id,
		       m->direction, m->envelope_id, m->queue_id, m->dedupe_key,
		       m->message_id, m->sender_name, m->sender_address, m->recipients,
		       m->subject, m->header_fields, body, raw,
		       (gint64) (m->raw_truncated != 0), m->note, now,
		       m->mime_limits, full_text)) != STORE_OK)
	return ret;
    if ((ret = sq_run(sq, S_MESSAGE_INSERT, why)) != STORE_OK) {
	if (sq->last_rc == SQLITE_CONSTRAINT_UNIQUE && strstr(*why, "messages.dedupe_key")) {
	    g_free(*why);
	    *why = g_strdup_printf("%s: duplicate message: dedupe key '%s' is stored already",
				   sq->path, m->dedupe_key);
	}
	return ret;
    }
    *message_id = sqlite3_last_insert_rowid(sq->db);
    return STORE_OK;
}

/* indexed - whether messages_fts takes m: incoming mail (see sq_commit()) */
static gboolean indexed(const struct store_message *m)
{
    return m->direction && strcmp(m->direction, "in") == 0;
}

int     sq_add_message(struct store *st, gint64 ticket_id,
		       const struct store_message *m, gint64 *message_id, char **why)
{
    struct sq *sq = SQ(st);
    g_autofree char *mailbox = NULL;
    char    now[ISO_TIME_SIZE];
    gint64  id = 0;
    int     ret;

    if (message_id)
	*message_id = 0;
    iso_time(time(NULL), now, NULL);
    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    if ((ret = ticket_mailbox(sq, ticket_id, &mailbox, why)) != STORE_OK
	|| (ret = insert_message(sq, ticket_id, m, now, &id, why)) != STORE_OK
	|| (ret = add_attachments(sq, id, m->attachments, why)) != STORE_OK
	|| (ret = sq_add_thread_id(sq, m->message_id, ticket_id, mailbox, why)) != STORE_OK)
	goto out;
    for (int i = 0; m->thread_ids && m->thread_ids[i]; i++)
	if ((ret = sq_add_thread_id(sq, m->thread_ids[i], ticket_id, mailbox, why)) != STORE_OK)
	    goto out;
    /* Only those who write in are parties: an outgoing sender is us, a note's a machine. */
    if ((m->direction && strcmp(m->direction, "out") != 0 && !m->not_party
	 && (ret = add_party(sq, ticket_id, m->sender_address, why)) != STORE_OK)
	|| (ret = sq_bind(sq, S_TICKET_TOUCH, why, "it", ticket_id, now)) != STORE_OK)
	goto out;
    ret = sq_run(sq, S_TICKET_TOUCH, why);
    /*
     * An incoming message's text goes into the full-text index at commit
     * (store_sqlite_fts.c), kept once the operation is in; outside a
     * transaction, now, as part of the operation.
     */
    if (ret == STORE_OK && !sq->in_txn && indexed(m)) {
	sq_fts_keep(sq, id, m->subject, m->body);
	ret = sq_fts_flush(sq, why);
    }

out:
    if ((ret = op_end(sq, ret, why)) == STORE_OK && message_id)
	*message_id = id;
    if (ret == STORE_OK && sq->in_txn && indexed(m))
	sq_fts_keep(sq, id, m->subject, m->body);
    return ret;
}
