/*
 * NAME
 *	store_pg_tickets - tickets, messages, parties, thread ids and
 *	routing in the PostgreSQL ticket store
 * SYNOPSIS
 *	#include "pg_int.h"
 * DESCRIPTION
 *	The store_ops that find and write tickets, as store_sqlite_tickets.c
 *	and store_sqlite_cases.c describe them (same contracts), and
 *	pg_add_thread_id(), which store_pg_outbox.c uses too.
 *
 *	Several workers write at once, so:
 *	- a ticket number comes from the year's counters row, incremented
 *	  by an upsert that keeps the row locked to the end of the
 *	  transaction: numbers are unique, and a ticket rolled back
 *	  returns its number;
 *	- a message is inserted with ON CONFLICT (dedupe_key) DO NOTHING:
 *	  when another worker's transaction stored the same mail meanwhile
 *	  (a stream entry claimed from a worker thought dead), the insert
 *	  waits for that transaction and then inserts nothing; this one
 *	  fails with STORE_BUSY, is rolled back whole (with the ticket it
 *	  made) and, tried again, finds the mail a duplicate. So one mail
 *	  makes one ticket whichever worker gets there first;
 *	- follow-ups to one ticket from two workers both lock the ticket
 *	  row (updated_at) and are stored in the order they got it; a
 *	  deadlock between two batches is broken by PostgreSQL and is a
 *	  STORE_BUSY retry for one of them.
 *	A message's fts column is its subject and body in the text search
 *	configuration of its ticket's language (pg_ts_lang[] below, when
 *	the server has it; else 'simple').
 * DIAGNOSTICS
 *	As store_pg.c.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "pg_int.h"
#include "ticketno.h"
#include "zframe.h"

#define TICKET_INFO_COLUMNS \
    "id, number, mailbox, status, title, customer_address," \
    " extract(epoch FROM closed_at)::bigint, assignee, queue"

/* ISO 639-1 codes of [worker] languages and PostgreSQL's text search configurations. */
static const char *const pg_ts_lang[][2] = {
    {"da", "danish"}, {"de", "german"}, {"en", "english"}, {"es", "spanish"},
    {"fi", "finnish"}, {"fr", "french"}, {"hu", "hungarian"}, {"it", "italian"},
    {"nb", "norwegian"}, {"nl", "dutch"}, {"no", "norwegian"}, {"pt", "portuguese"},
    {"ro", "romanian"}, {"ru", "russian"}, {"sv", "swedish"}, {"tr", "turkish"},
};

/* pg_ts_config - the text search configuration of a language (store_pg_schema.c) */
const char *pg_ts_config(const char *language)
{
    for (gsize i = 0; language && i < G_N_ELEMENTS(pg_ts_lang); i++)
	if (strcmp(pg_ts_lang[i][0], language) == 0)
	    return pg_ts_lang[i][1];
    return "simple";
}

/*
 * pg_index_chars - how many characters of text (NULL: none) the fts
 * vector takes: store_index_len()'s cut in bytes, counted as PostgreSQL's
 * left() counts (the text is valid UTF-8: PostgreSQL took it as text).
 */
gint64  pg_index_chars(const char *text, size_t max)
{
    return text ? g_utf8_strlen(text, (gssize) store_index_len(text, strlen(text), max)) : 0;
}

/* ticket_info - the first row of a TICKET_INFO_COLUMNS result (PQclear'ed), or info->id = 0 */
static int ticket_info(int ret, PGresult *res, struct store_ticket_info *info)
{
    memset(info, 0, sizeof(*info));
    if (ret == STORE_OK && PQntuples(res) > 0) {
	info->id = pg_int(res, 0, 0);
	info->number = pg_strdup(res, 0, 1);
	info->mailbox = pg_strdup(res, 0, 2);
	info->status = pg_strdup(res, 0, 3);
	info->title = pg_strdup(res, 0, 4);
	info->customer_address = pg_strdup(res, 0, 5);
	info->closed_at = pg_int(res, 0, 6);
	info->assignee = pg_strdup(res, 0, 7);
	info->queue = pg_strdup(res, 0, 8);
    }
    PQclear(res);
    return ret;
}

int     pg_find_duplicate(struct store *st, const char *dedupe_key,
			  gint64 *ticket_id, char **number, char **why)
{
    PGresult *res = NULL;
    int     ret;

    *ticket_id = 0;
    *number = NULL;
    if (dedupe_key == NULL)
	return STORE_OK;
    if ((ret = pg_run(PG(st), "look up dedupe key",
		      "SELECT t.id, t.number FROM messages m JOIN tickets t ON t.id = m.ticket_id"
		      " WHERE m.dedupe_key = $1", &res, why, "t", dedupe_key)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0) {
	*ticket_id = pg_int(res, 0, 0);
	*number = pg_strdup(res, 0, 1);
    }
    PQclear(res);
    return STORE_OK;
}

int     pg_find_ticket(struct store *st, const char *number,
		       struct store_ticket_info *info, char **why)
{
    PGresult *res = NULL;
    int     ret = pg_run(PG(st), "look up ticket",
			 "SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE number = $1",
			 &res, why, "t", number);

    return ticket_info(ret, res, info);
}

int     pg_case_ticket(struct store *st, const char *name,
		       struct store_ticket_info *info, char **why)
{
    PGresult *res = NULL;
    int     ret = pg_run(PG(st), "look up case ticket",
			 "SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE case_id ="
			 " (SELECT id FROM cases WHERE name = $1) AND status <> 'closed'"
			 " ORDER BY id DESC LIMIT 1", &res, why, "t", name);

    return ticket_info(ret, res, info);
}

/* The ticket any of ids names in mailbox; of several, the newest (as SQLite's). */
int     pg_find_by_message_ids(struct store *st, const char *mailbox,
			       const char *const *ids,
			       struct store_ticket_info *info, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    gint64  best = 0;
    int     ret;

    memset(info, 0, sizeof(*info));
    for (int i = 0; ids && ids[i]; i++) {
	if (*ids[i] == 0)
	    continue;
	if ((ret = pg_run(pg, "look up message id",
			  "SELECT ticket_id FROM thread_ids WHERE msgid = $1 AND mailbox = $2",
			  &res, why, "tt", ids[i], mailbox)) != STORE_OK)
	    return ret;
	if (PQntuples(res) > 0)
	    best = MAX(best, pg_int(res, 0, 0));
	PQclear(res);
    }
    if (best == 0)
	return STORE_OK;
    ret = pg_run(pg, "look up ticket", "SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE id = $1",
		 &res, why, "i", best);
    return ticket_info(ret, res, info);
}

int     pg_is_party(struct store *st, gint64 ticket_id, const char *address,
		    gboolean *yes, char **why)
{
    g_autofree char *lower = address ? g_ascii_strdown(address, -1) : NULL;
    PGresult *res = NULL;
    int     ret;

    *yes = FALSE;
    if (lower == NULL)
	return STORE_OK;
    if ((ret = pg_run(PG(st), "look up party",
		      "SELECT 1 FROM parties WHERE ticket_id = $1 AND address = $2",
		      &res, why, "it", ticket_id, lower)) != STORE_OK)
	return ret;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return STORE_OK;
}

int     pg_parties(struct store *st, gint64 ticket_id, const char *first,
		   char ***addresses, char **why)
{
    g_autofree char *lower = first ? g_ascii_strdown(first, -1) : NULL;
    PGresult *res = NULL;
    char  **list;
    int     ret, n;

    *addresses = NULL;
    if ((ret = pg_run(PG(st), "list parties",
		      "SELECT address FROM parties WHERE ticket_id = $1"
		      " ORDER BY address IS DISTINCT FROM $2, address LIMIT 1000",
		      &res, why, "it", ticket_id, lower)) != STORE_OK)
	return ret;
    n = PQntuples(res);
    list = g_new0(char *, n + 1);
    for (int i = 0; i < n; i++)
	list[i] = pg_strdup(res, i, 0);
    PQclear(res);
    *addresses = list;
    return STORE_OK;
}

int     pg_find_near_duplicate(struct store *st, const char *mailbox,
			       const char *sender_key, const char *subject_key,
			       gint64 since_unix, struct store_ticket_info *info,
			       char **why)
{
    PGresult *res = NULL;
    int     ret;

    memset(info, 0, sizeof(*info));
    if (sender_key == NULL || *sender_key == 0 || subject_key == NULL || *subject_key == 0)
	return STORE_OK;
    ret = pg_run(PG(st), "look up near-duplicate",
		 "SELECT " TICKET_INFO_COLUMNS " FROM tickets WHERE mailbox = $1"
		 " AND sender_key = $2 AND subject_key = $3 AND status <> 'closed'"
		 " AND updated_at >= to_timestamp($4) ORDER BY id DESC LIMIT 1",
		 &res, why, "ttti", mailbox, sender_key, subject_key, since_unix);
    return ticket_info(ret, res, info);
}

/* add_party - record a (lower-cased) address as a party of a ticket */
static int add_party(struct pg *pg, gint64 ticket_id, const char *address, char **why)
{
    g_autofree char *lower = NULL;

    if (address == NULL || *address == 0)
	return STORE_OK;
    lower = g_ascii_strdown(address, -1);
    return pg_run(pg, "insert party", "INSERT INTO parties(ticket_id, address) VALUES($1, $2)"
		  " ON CONFLICT DO NOTHING", NULL, why, "it", ticket_id, lower);
}

/*
 * pg_add_thread_id - record a message id that names a ticket; the first
 * registration in a mailbox wins (store_sqlite_sql.c says why).
 */
int     pg_add_thread_id(struct pg *pg, const char *msgid, gint64 ticket_id,
			 const char *mailbox, char **why)
{
    if (msgid == NULL || *msgid == 0)
	return STORE_OK;
    return pg_run(pg, "insert message id", "INSERT INTO thread_ids(msgid, ticket_id, mailbox)"
		  " VALUES($1, $2, $3) ON CONFLICT DO NOTHING", NULL, why, "tit", msgid,
		  ticket_id, mailbox);
}

static int create_ticket(struct pg *pg, const struct store_ticket *t, const char *num_prefix,
			         int year, gint64 *id, char **number, char **why)
{
    g_autofree char *name = g_strdup_printf("ticket-%04d", year);
    PGresult *res = NULL;
    gint64  seq;
    int     ret;

    if ((ret = pg_run(pg, "count tickets", "INSERT INTO counters(name, value) VALUES($1, 1)"
		      " ON CONFLICT(name) DO UPDATE SET value = counters.value + 1"
		      " RETURNING value", &res, why, "t", name)) != STORE_OK)
	return ret;
    seq = pg_int(res, 0, 0);
    PQclear(res);
    *number = ticketno_format(num_prefix, year, seq);
    if ((ret = pg_run(pg, "insert ticket",
		      "INSERT INTO tickets(number, mailbox, status, title, category, priority, type,"
		      " language, customer_name, customer_address, created_at, updated_at, linked_to,"
		      " link_reason, sender_key, subject_key, category_suggested,"
		      " category_confidence, sentiment, sentiment_score) VALUES($1, $2, $3, $4, $5,"
		      " $6, $7, $8, $9, $10, now(), now(), nullif($11::bigint, 0), $12, $13, $14,"
		      " $15, $16, $17, $18) RETURNING id",
		      &res, why, "ttttttttttittttdtd", *number, t->mailbox,
		      t->status ? t->status : "new", t->title ? t->title : "", t->category,
		      t->priority, t->type, t->language, t->customer_name, t->customer_address,
		      t->linked_to, t->link_reason, t->sender_key, t->subject_key,
		      t->category_suggested,
		      t->category_suggested ? t->category_confidence : NAN, t->sentiment,
		      t->sentiment ? t->sentiment_score : NAN)) != STORE_OK)
	return ret;
    *id = pg_int(res, 0, 0);
    PQclear(res);
    return add_party(pg, *id, t->customer_address, why);
}

int     pg_create_ticket(struct store *st, const struct store_ticket *t,
			 const char *prefix, gint64 *id, char **number, char **why)
{
    struct pg *pg = PG(st);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *num = NULL;
    int     ret;

    *id = 0;
    *number = NULL;
    if ((ret = pg_op_begin(pg, why)) != STORE_OK)
	return ret;
    ret = create_ticket(pg, t, prefix ? prefix : st->cfg->ticket_prefix,
			g_date_time_get_year(now), id, &num, why);
    if ((ret = pg_op_end(pg, ret, why)) != STORE_OK) {
	*id = 0;
	return ret;
    }
    *number = g_steal_pointer(&num);
    return STORE_OK;
}

int     pg_set_status(struct store *st, gint64 ticket_id, const char *status, char **why)
{
    struct pg *pg = PG(st);
    PGresult *res = NULL;
    int     ret, changed;

    if ((ret = pg_run(pg, "set ticket status",
		      "UPDATE tickets SET status = $2, updated_at = now(),"
		      " closed_at = CASE WHEN $2 = 'closed' THEN now() END WHERE id = $1",
		      &res, why, "it", ticket_id, status)) != STORE_OK)
	return ret;
    changed = atoi(PQcmdTuples(res));
    PQclear(res);
    if (changed == 0) {
	*why = g_strdup_printf("%s: set status: no ticket with id %" G_GINT64_FORMAT,
			       pg->display, ticket_id);
	return STORE_ERROR;
    }
    return STORE_OK;
}

/* add_attachments - references into the original (part index, SHA-256), as SQLite's */
static int add_attachments(struct pg *pg, gint64 message_id, GPtrArray *attachments,
			           char **why)
{
    int     ret;

    for (guint i = 0; attachments && i < attachments->len; i++) {
	const struct store_attachment *a = g_ptr_array_index(attachments, i);

	if ((ret = pg_run(pg, "insert attachment",
			  "INSERT INTO attachments(message_id, filename, content_type, content_id,"
			  " size, stored, part, sha256) VALUES($1, $2, $3, $4, $5, $6,"
			  " nullif($7::bigint, 0), $8)", NULL, why, "itttiBit", message_id,
			  a->filename ? a->filename : "", a->content_type, a->content_id, a->size,
			  a->stored && a->part > 0, a->part, a->sha256)) != STORE_OK)
	    return ret;
    }
    return STORE_OK;
}

/*
 * insert_message - the messages row with its full-text vector. Inserting
 * nothing for a dedupe key that is stored already means another worker
 * committed the mail since find_duplicate(): STORE_BUSY, so that the
 * whole transaction is tried again and finds it.
 */
static int insert_message(struct pg *pg, gint64 ticket_id, const char *language,
			          const struct store_message *m, gint64 *message_id, char **why)
{
    g_autoptr(GBytes) raw = NULL;
    PGresult *res = NULL;
    int     ret;

    /* The original as one zstd frame, as SQLite keeps it (store_pg_schema.c). */
    if (m->raw_zstd) {
	raw = g_bytes_ref(m->raw_zstd);
    } else if (m->raw) {
	gsize   len, packed_len = 0;
	gconstpointer p = g_bytes_get_data(m->raw, &len);
	char   *packed = zframe_pack(p, len, &packed_len);

	raw = g_bytes_new_take(packed, packed_len);
    }
    if ((ret = pg_run(pg, "insert message",
		      "INSERT INTO messages(ticket_id, direction, envelope_id, queue_id, dedupe_key,"
		      " message_id, sender_name, sender_address, recipients, subject, header_fields,"
		      " body, raw, raw_truncated, note, mime_limits, full_text, fts, created_at)"
		      " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
		      " $16, $17, CASE WHEN $2 = 'in' THEN " PG_FTS_VECTOR("$18", "$10", "$19", "$12",
							       "$20") " END,"
		      " now()) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
		      &res, why, "itttttttttttbBttttii", ticket_id, m->direction, m->envelope_id,
		      m->queue_id, m->dedupe_key, m->message_id, m->sender_name,
		      m->sender_address, m->recipients, m->subject, m->header_fields, m->body,
		      raw, m->raw_truncated != 0, m->note, m->mime_limits, m->full_text,
		      pg_ts_config(language), pg_index_chars(m->subject, STORE_INDEX_SUBJECT_MAX),
		      pg_index_chars(m->body, STORE_INDEX_TEXT_MAX))) != STORE_OK)
	return ret;
    if (PQntuples(res) == 0) {
	PQclear(res);
	*why = g_strdup_printf("%s: duplicate message: dedupe key '%s' was stored by another"
			       " transaction meanwhile (try again)", pg->display, m->dedupe_key);
	return STORE_BUSY;
    }
    *message_id = pg_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

static int add_message(struct pg *pg, gint64 ticket_id, const struct store_message *m,
		               gint64 *id, char **why)
{
    g_autofree char *mailbox = NULL;
    g_autofree char *language = NULL;
    PGresult *res = NULL;
    int     ret;

    /* Locks the ticket row: follow-ups from several workers queue here, in order. */
    if ((ret = pg_run(pg, "update ticket", "UPDATE tickets SET updated_at = now()"
		      " WHERE id = $1 RETURNING mailbox, language", &res, why, "i",
		      ticket_id)) != STORE_OK)
	return ret;
    if (PQntuples(res) > 0) {
	mailbox = pg_strdup(res, 0, 0);
	language = pg_strdup(res, 0, 1);
    }
    PQclear(res);
    if (mailbox == NULL) {
	*why = g_strdup_printf("%s: no ticket with id %" G_GINT64_FORMAT, pg->display, ticket_id);
	return STORE_ERROR;
    }
    if ((ret = insert_message(pg, ticket_id, language, m, id, why)) != STORE_OK
	|| (ret = add_attachments(pg, *id, m->attachments, why)) != STORE_OK
	|| (ret = pg_add_thread_id(pg, m->message_id, ticket_id, mailbox, why)) != STORE_OK)
	return ret;
    for (int i = 0; m->thread_ids && m->thread_ids[i]; i++)
	if ((ret = pg_add_thread_id(pg, m->thread_ids[i], ticket_id, mailbox, why)) != STORE_OK)
	    return ret;
    /* Only those who write in are parties: an outgoing sender is us, a note's a machine. */
    if (m->direction && strcmp(m->direction, "out") != 0 && !m->not_party)
	return add_party(pg, ticket_id, m->sender_address, why);
    return STORE_OK;
}

int     pg_add_message(struct store *st, gint64 ticket_id,
		       const struct store_message *m, gint64 *message_id, char **why)
{
    struct pg *pg = PG(st);
    gint64  id = 0;
    int     ret;

    if (message_id)
	*message_id = 0;
    if ((ret = pg_op_begin(pg, why)) != STORE_OK)
	return ret;
    ret = add_message(pg, ticket_id, m, &id, why);
    if ((ret = pg_op_end(pg, ret, why)) == STORE_OK && message_id)
	*message_id = id;
    return ret;
}

/* ---------------------------------------------------------------- */
/*	Routing and classes (store_sqlite_cases.c's contracts)		    */
/* ---------------------------------------------------------------- */

static int add_tags(struct pg *pg, gint64 ticket_id, const char *const *tags, char **why)
{
    int     ret;

    for (int i = 0; tags && tags[i]; i++)
	if ((ret = pg_run(pg, "insert tag", "INSERT INTO ticket_tags(ticket_id, tag)"
			  " VALUES($1, $2) ON CONFLICT DO NOTHING", NULL, why, "it",
			  ticket_id, tags[i])) != STORE_OK)
	    return ret;
    return STORE_OK;
}

static int set_routing(struct pg *pg, gint64 ticket_id, const struct store_routing *r,
		               char **why)
{
    int     ret;

    if (r->case_name
	&& (ret = pg_run(pg, "insert case", "INSERT INTO cases(name) VALUES($1)"
			 " ON CONFLICT(name) DO NOTHING", NULL, why, "t",
			 r->case_name)) != STORE_OK)
	return ret;
    if ((ret = pg_run(pg, "set ticket routing",
		      "UPDATE tickets SET queue = $2, assignee = $3, rules = $4,"
		      " case_id = (SELECT id FROM cases WHERE name = $5) WHERE id = $1",
		      NULL, why, "itttt", ticket_id, r->queue, r->assignee, r->rules,
		      r->case_name)) != STORE_OK)
	return ret;
    return add_tags(pg, ticket_id, r->tags, why);
}

/* A case made (or retitled) by hand, intakectl case add: store_sqlite_cases.c's contract. */
int     pg_add_case(struct store *st, const char *name, const char *title, char **why)
{
    int     ret;

    if ((ret = pg_op_begin(PG(st), why)) != STORE_OK)
	return ret;
    return pg_op_end(PG(st), pg_run(PG(st), "add case", "INSERT INTO cases(name, title)"
				    " VALUES($1, $2) ON CONFLICT(name) DO UPDATE"
				    " SET title = EXCLUDED.title", NULL, why, "tt", name, title),
		     why);
}

int     pg_set_routing(struct store *st, gint64 ticket_id, const struct store_routing *r,
		       char **why)
{
    int     ret;

    if ((ret = pg_op_begin(PG(st), why)) != STORE_OK)
	return ret;
    return pg_op_end(PG(st), set_routing(PG(st), ticket_id, r, why), why);
}

static int set_classes(struct pg *pg, gint64 ticket_id, const struct store_classes *c,
		               char **why)
{
    int     ret;

    if ((ret = add_tags(pg, ticket_id, c->tags, why)) != STORE_OK || c->sentiment == NULL)
	return ret;
    return pg_run(pg, "set ticket sentiment", "UPDATE tickets SET sentiment = $2,"
		  " sentiment_score = $3 WHERE id = $1", NULL, why, "itd", ticket_id,
		  c->sentiment, c->sentiment_score);
}

int     pg_set_classes(struct store *st, gint64 ticket_id, const struct store_classes *c,
		       char **why)
{
    int     ret;

    if ((ret = pg_op_begin(PG(st), why)) != STORE_OK)
	return ret;
    return pg_op_end(PG(st), set_classes(PG(st), ticket_id, c, why), why);
}

int     pg_set_ticket_faq(struct store *st, gint64 ticket_id,
			  const struct store_faq_match *m, int n, char **why)
{
    struct pg *pg = PG(st);
    int     ret;

    if ((ret = pg_op_begin(pg, why)) != STORE_OK)
	return ret;
    for (int i = 0; i < n && ret == STORE_OK; i++)
	ret = pg_run(pg, "record FAQ suggestion",
		     "INSERT INTO ticket_faq(ticket_id, rank, faq_id, title, url, score)"
		     " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(ticket_id, rank) DO UPDATE SET"
		     " faq_id = excluded.faq_id, title = excluded.title, url = excluded.url,"
		     " score = excluded.score", NULL, why, "iiittd", ticket_id, (gint64) i + 1,
		     m[i].id, m[i].title ? m[i].title : "", m[i].url, m[i].score);
    return pg_op_end(pg, ret, why);
}
