/*
 * NAME
 *	stage_notify - tell the addresses routing rules name, and the
 *	ticket's assignee, about a mail
 * SYNOPSIS
 *	enum stage_result stage_notify(job)
 * DESCRIPTION
 *	For each address a matching rule's notify names (job->rules,
 *	stage_classify.c), and for the ticket's assignee when it is a mail
 *	address and the mailbox has notify_assignee = yes (the assignee the
 *	rules just chose for a new ticket, the stored one for a follow-up),
 *	a notification is queued in the outbox (kind "notify"), rendered
 *	from the template "notify" in the ticket's language, for a new
 *	ticket and for a follow-up alike: an agent routed to a customer
 *	hears of each mail. Each address is notified once per mail; an
 *	assignee who wrote the mail, or that is one of our own addresses,
 *	is not. The notification carries the ticket's summary: number,
 *	subject, customer, queue, assignee, priority and the first lines of
 *	what the sender wrote now (excerpt(): at most EXCERPT_LINES lines
 *	and EXCERPT_MAX bytes). The outbox thread sends it
 *	like an acknowledgement; intakectl ticket lists it with the replies.
 *	Its Message-ID names the ticket (queue_reply registers it), so an
 *	agent's answer to it lands on the ticket.
 *
 *	A notification is never counted in the customers' reply window
 *	(its window key is its own Message-ID), and mail that made no
 *	ticket (a duplicate, mail kept apart, a mailbox action done)
 *	notifies nobody. A template
 *	that does not render is logged and the mail goes on: the ticket
 *	matters more than the notification (intake-worker -t checks the
 *	template beforehand).
 */
#include <string.h>

#include "ack_policy.h"
#include "envelope.h"
#include "job.h"
#include "log.h"
#include "quote.h"
#include "reply.h"
#include "ticketno.h"

#define EXCERPT_LINES	5
#define EXCERPT_MAX	600

/* excerpt - the first lines of what the sender wrote now, indented (g_free) */
static char *excerpt(json_t *env)
{
    const char *text = envelope_str(env, "text");
    enum quote_cut how;
    size_t  len = quote_new_text(text, strlen(text), &how);
    GString *out = g_string_new(NULL);
    const char *p = text, *end = text + MIN(len, (size_t) EXCERPT_MAX);
    int     lines = 0;

    while (p < end && lines < EXCERPT_LINES) {
	const char *eol = memchr(p, '\n', end - p);
	const char *stop = eol ? eol : end;

	if (stop > p && stop[-1] == '\r')
	    stop--;
	if (stop > p || lines > 0) {
	    g_string_append(out, "    ");
	    g_string_append_len(out, p, stop - p);
	    g_string_append_c(out, '\n');
	    lines++;
	}
	p = eol ? eol + 1 : end;
    }
    {
	char   *valid = g_utf8_make_valid(out->str, out->len);	/* a cut may split a character */

	g_string_free(out, TRUE);
	return valid;
    }
}

/* recipients - the rules' notify addresses, then the assignee (borrowed), each once */
static GPtrArray *recipients(struct job *job)
{
    GPtrArray *to = g_ptr_array_new();
    GPtrArray *rules = job->rules.notify;
    const char *assignee = job->is_new ? job->rules.assignee : job->ticket.assignee;

    for (guint i = 0; rules && i < rules->len; i++)
	g_ptr_array_add(to, g_ptr_array_index(rules, i));
    if (assignee == NULL || job->mailbox == NULL || !job->mailbox->notify_assignee
	|| strchr(assignee, '@') == NULL || ack_no_reply_address(assignee)
	|| g_ascii_strcasecmp(assignee, job->customer_address) == 0
	|| config_match(job->pl->cfg, assignee))
	return to;
    for (guint i = 0; i < to->len; i++)
	if (g_ascii_strcasecmp(g_ptr_array_index(to, i), assignee) == 0)
	    return to;
    g_ptr_array_add(to, (gpointer) assignee);
    return to;
}

enum stage_result stage_notify(struct job *job)
{
    const struct mailbox *m = job->mailbox;
    struct store *st = job->pl->store;
    g_autoptr(GPtrArray) to = NULL;
    g_autofree char *text = NULL;
    const char *queue, *assignee;

    if (job->ticket_id == 0 || m == NULL)
	return STAGE_NEXT;
    to = recipients(job);
    if (to->len == 0)
	return STAGE_NEXT;
    text = excerpt(job->env);
    queue = job->is_new ? job->rules.queue : job->ticket.queue;
    assignee = job->is_new ? job->rules.assignee : job->ticket.assignee;
    for (guint i = 0; i < to->len; i++) {
	const char *addr = g_ptr_array_index(to, i);
	g_autofree char *tag = ticketno_tag(job->number);
	g_autofree char *quoted = reply_quote_subject(envelope_str(job->env, "subject"), 100);
	g_autofree char *name = reply_safe_name(job->customer_name);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *date = g_date_time_format(now, "%Y-%m-%d %H:%M UTC");
	g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *subject = NULL, *body = NULL, *msgid = NULL, *json = NULL;
	g_autoptr(GBytes) content = NULL;
	struct reply_spec spec = {0};
	struct store_reply r = {0};
	char   *why = NULL;
	int     rc;

	g_hash_table_insert(vars, "ticket_number", job->number);
	g_hash_table_insert(vars, "ticket_tag", tag);
	g_hash_table_insert(vars, "subject", *quoted ? quoted : "(no subject)");
	g_hash_table_insert(vars, "customer_name", name ? name : (char *) job->customer_address);
	g_hash_table_insert(vars, "customer_address", (gpointer) job->customer_address);
	g_hash_table_insert(vars, "mailbox", m->name);
	g_hash_table_insert(vars, "mailbox_name", m->display_name && *m->display_name
			    ? m->display_name : m->address);
	g_hash_table_insert(vars, "mailbox_address", m->address);
	g_hash_table_insert(vars, "date", date);
	g_hash_table_insert(vars, "queue", (gpointer) (queue ? queue : "-"));
	g_hash_table_insert(vars, "assignee", (gpointer) (assignee ? assignee : "-"));
	g_hash_table_insert(vars, "priority", (gpointer) (job->priority ? job->priority : "-"));
	g_hash_table_insert(vars, "category", (gpointer) (job->category ? job->category : ""));
	g_hash_table_insert(vars, "excerpt", text);
	if (templates_render(job->pl->templates, "notify", job->language, vars, &subject, &body,
			     &why) < 0) {
	    msg_error("%s: ticket %s: no notification to <%s>: %s", job->qid, job->number,
		      addr, why);
	    g_free(why);
	    continue;
	}
	msgid = reply_new_message_id(job->pl->keys, job->number, m->address);
	spec.from_name = m->display_name;
	spec.from_address = m->address;
	spec.to_address = addr;
	spec.subject = subject;
	spec.body = body;
	spec.ticket_number = job->number;
	spec.message_id = msgid;
	json = reply_spec_encode(&spec);
	content = g_bytes_new(json, strlen(json));
	r.ticket_id = job->ticket_id;
	r.mailbox = m->name;
	r.kind = "notify";
	r.recipient = addr;
	r.message_id = msgid;
	r.content = content;
	r.window_key = msgid;
	if ((rc = st->ops->queue_reply(st, &r, &why)) != STORE_OK)
	    return stage_store_status(rc, job, why);
	job->pl->replies_queued++;
	msg_info("%s: ticket %s: notification to <%s> owed (message-id <%s>)", job->qid,
		 job->number, addr, msgid);
    }
    return STAGE_NEXT;
}
