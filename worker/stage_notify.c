/*
 * NAME
 *	stage_notify - tell the addresses routing rules name about a mail
 * SYNOPSIS
 *	enum stage_result stage_notify(job)
 * DESCRIPTION
 *	For each address a matching rule's notify names (job->rules,
 *	stage_classify.c), a notification is queued in the outbox (kind
 *	"notify"), rendered from the template "notify" in the ticket's
 *	language, for a new ticket and for a follow-up alike: an agent
 *	routed to a customer hears of each mail. The outbox thread sends it
 *	like an acknowledgement; intakectl ticket lists it with the replies.
 *	Its Message-ID names the ticket (queue_reply registers it), so an
 *	agent's answer to it lands on the ticket.
 *
 *	A notification is never counted in the customers' reply window
 *	(its window key is its own Message-ID), and mail that made no
 *	ticket (a duplicate, mail kept apart) notifies nobody. A template
 *	that does not render is logged and the mail goes on: the ticket
 *	matters more than the notification (intake-worker -t checks the
 *	template beforehand).
 */
#include <string.h>

#include "envelope.h"
#include "job.h"
#include "log.h"
#include "reply.h"
#include "ticketno.h"

enum stage_result stage_notify(struct job *job)
{
    const struct mailbox *m = job->mailbox;
    GPtrArray *to = job->rules.notify;
    struct store *st = job->pl->store;

    if (to == NULL || to->len == 0 || job->ticket_id == 0 || m == NULL)
	return STAGE_NEXT;
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
