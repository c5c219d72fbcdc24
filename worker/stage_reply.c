/*
 * NAME
 *	stage_reply - record the acknowledgement a new ticket owes
 * SYNOPSIS
 *	enum stage_result stage_reply(job)
 * DESCRIPTION
 *	For a new ticket of a mailbox with acknowledge = yes, the reply is
 *	rendered (so is the "closed" notice to a follow-up that
 *	stage_thread.c refused under on_closed = refuse: job->refused, under
 *	the same rules), the reply is
 *	rendered from the mailbox's template in the ticket's language and
 *	recorded as owed, as its parts with a Message-ID of ours (reply.c),
 *	in the same transaction as the ticket; the worker's outbox thread
 *	builds the message and sends it. A relay that is down
 *	therefore never holds a ticket back, and a restart does not forget a
 *	reply. The reply is also kept as an outgoing message of the ticket,
 *	with its Message-ID, so that an answer to it threads.
 *
 *	Routing rules (job->rules, stage_classify.c) may choose another
 *	template, acknowledge in a mailbox with acknowledge = no, or refuse
 *	the acknowledgement of a new ticket (acknowledge = no: recorded as
 *	suppressed, the reason naming the rules).
 *
 *	Whether a reply may go, and to which address, is ack_policy()'s
 *	decision (ack_policy.c: auto-generated mail, the null sender, loops,
 *	no-reply and made-up addresses, our own addresses, failed SPF or
 *	DMARC by our own MTA's Authentication-Results; the envelope sender,
 *	or an aligned From/Reply-To with [mailbox] reply_to =
 *	from_if_aligned). Besides, no sender acknowledged (by any mailbox)
 *	within [smtp] reply_window gets another (two auto-responders cannot
 *	loop, and a mail to N mailboxes gets one acknowledgement; 0 turns
 *	this guard off, for tests and trusted senders only). The window is
 *	kept per sender under the address normalised as mailbox lookup
 *	does (addr_normalise(): case, [milter] recipient_delimiter
 *	extension), so VICTIM@ and victim+x@ are the sender victim@
 *	acknowledged before.
 *
 *	A refusal is logged with its reason and recorded with the ticket as
 *	a reply in state "suppressed" whose last_error is the reason
 *	(intakectl ticket shows it); such a row never counts for the window.
 *	The outbox may later suppress an owed reply too: the cap (ackcap.c).
 *
 *	Nothing a forger chose is echoed in a way that advertises: the From's
 *	display name is used only when the reply goes to the From's address,
 *	and a display name that looks like a link or an address is not used
 *	(the greeting names the address the reply goes to, the To header has
 *	no name: reply_safe_name()), and the quoted subject loses its reply/forward
 *	prefixes and is cut to SUBJECT_QUOTE_MAX characters
 *	(reply_quote_subject()).
 */
#include <string.h>

#include "ack_policy.h"
#include "addr.h"
#include "log.h"
#include "job.h"
#include "reply.h"
#include "ticketno.h"

/* Long enough to recognise one's mail, too short for an advertisement. */
#define SUBJECT_QUOTE_MAX 100

/*
 * stage_reply_suppress - log why the ticket gets no reply of this kind
 * ("ack", "action_failed", ...) and record it with the ticket (an outbox
 * row in state "suppressed"; to may be NULL when there is no usable
 * address).
 */
enum stage_result stage_reply_suppress(struct job *job, const char *kind, const char *to,
				       const char *why)
{
    struct store *st = job->pl->store;
    struct store_reply r = {0};
    g_autofree char *msgid = reply_new_message_id(job->pl->keys, job->number, job->mailbox->address);
    g_autoptr(GBytes) none = g_bytes_new_static("{}", 2);
    char   *err = NULL;
    int     rc;

    msg_info("%s: ticket %s: no %s: %s%s%s%s", job->qid, job->number,
	     strcmp(kind, "ack") == 0 ? "acknowledgement" : kind, why,
	     to ? " (reply address <" : "", to ? to : "", to ? ">)" : "");
    r.ticket_id = job->ticket_id;
    r.mailbox = job->mailbox->name;
    r.kind = kind;
    r.recipient = to ? to : "";
    r.message_id = msgid;
    r.content = none;
    r.state = "suppressed";
    r.error = why;
    rc = st->ops->queue_reply(st, &r, &err);
    return stage_store_status(rc, job, err);
}

enum stage_result stage_reply(struct job *job)
{
    const struct intake_config *cfg = job->pl->cfg;
    const struct mailbox *m = job->mailbox;
    struct store *st = job->pl->store;
    g_autofree char *to = NULL;
    g_autofree char *subject = NULL;
    g_autofree char *body = NULL;
    g_autofree char *msgid = NULL;
    g_autofree char *tag = NULL;
    g_autofree char *recipients = NULL;
    g_autofree char *window_key = NULL;
    g_autofree char *name = NULL;
    g_autofree char *quoted = NULL;
    g_autofree char *url = NULL;
    const char *template_name;
    g_autofree char *html = NULL;
    g_autoptr(GHashTable) vars = NULL;
    g_autoptr(GPtrArray) faq_strings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GBytes) content = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *date = g_date_time_format(now, "%Y-%m-%d %H:%M UTC");
    struct reply_spec spec = {0};
    struct store_reply r = {0};
    struct store_message out = {0};
    const char *thread_ids[2] = {NULL, NULL};
    gboolean recent = FALSE;
    gint64  row = 0;
    char   *why = NULL;
    int     rc;

    /*
     * A new ticket owes an acknowledgement; a refused follow-up (stage_thread.c) a notice.
     * A mail whose mailbox action failed got the failure notice instead (stage_action.c).
     */
    if (job->action_failed)
	return STAGE_NEXT;
    if (!(job->is_new || job->refused) || m == NULL
	|| !(m->acknowledge || (job->is_new && job->rules.acknowledge == 1)))
	return STAGE_NEXT;
    if (job->is_new && job->rules.acknowledge == 0) {
	g_autofree char *because = g_strdup_printf("a routing rule says acknowledge = no (%s)",
						   job->rules_text);

	return stage_reply_suppress(job, "ack", NULL, because);
    }
    /* The operator's choice, not a refusal: logged, no outbox row. */
    if (json_is_false(json_object_get(json_object_get(job->env, "import"), "acknowledge"))) {
	msg_info("%s: ticket %s: no acknowledgement: imported (intakectl import without"
		 " --acknowledge)", job->qid, job->number);
	return STAGE_NEXT;
    }
    {
	struct ack_request rq = {job->env, cfg, m, FALSE};
	const char *own = envelope_str(job->env, "message_id");
	const char *refusal;

	if (own && *own && (rc = st->ops->our_message_id(st, own, &rq.own_message_id, &why))
	    != STORE_OK)
	    return stage_store_status(rc, job, why);
	if ((refusal = ack_policy(&rq, &to)) != NULL)
	    return stage_reply_suppress(job, "ack", to, refusal);
    }
    if ((window_key = addr_normalise(to, cfg->recipient_delimiter)) == NULL)
	return stage_reply_suppress(job, "ack", to, "the reply address is not a plain mail address");
    if (cfg->reply_window_ms > 0) {
	rc = st->ops->replied_recently(st, window_key,
			  g_get_real_time() / G_USEC_PER_SEC - cfg->reply_window_ms / 1000,
				       &recent, &why);
	if (rc != STORE_OK)
	    return stage_store_status(rc, job, why);
    }
    if (recent)
	return stage_reply_suppress(job, "ack", to, "this sender was acknowledged within [smtp] reply_window");

    tag = ticketno_tag(job->number);
    vars = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(vars, "ticket_number", job->number);
    g_hash_table_insert(vars, "ticket_tag", tag);
    quoted = reply_quote_subject(envelope_str(job->env, "subject"), SUBJECT_QUOTE_MAX);
    g_hash_table_insert(vars, "subject", *quoted ? quoted : "(no subject)");
    /* The From's name belongs to the From's address: not to an envelope sender elsewhere. */
    if (g_ascii_strcasecmp(to, job->customer_address) == 0)
	name = reply_safe_name(job->customer_name);
    g_hash_table_insert(vars, "customer_name", name ? name : to);
    g_hash_table_insert(vars, "customer_address", (gpointer) job->customer_address);
    g_hash_table_insert(vars, "mailbox", m->name);
    g_hash_table_insert(vars, "mailbox_name", m->display_name ? m->display_name : m->address);
    g_hash_table_insert(vars, "mailbox_address", m->address);
    g_hash_table_insert(vars, "date", date);
    g_hash_table_insert(vars, "category", (gpointer) (job->category ? job->category : ""));
    g_hash_table_insert(vars, "priority", (gpointer) (job->priority ? job->priority : ""));
    g_hash_table_insert(vars, "language", (gpointer) (job->language ? job->language : ""));
    g_hash_table_insert(vars, "sentiment",
			(gpointer) (job->sentiment.label ? job->sentiment.label : ""));
    if (*m->ticket_url)
	url = g_strconcat(m->ticket_url, job->number, NULL);
    g_hash_table_insert(vars, "ticket_url", url ? url : "");
    /* faq.N.title, faq.N.url, faq.N.score (classify_faq.c); unset ones are empty. */
    for (int i = 0; i < job->faq_n; i++) {
	const struct store_faq_match *f = &job->faq[i];
	char   *k[3] = {g_strdup_printf("faq.%d.title", i + 1),
	    g_strdup_printf("faq.%d.url", i + 1), g_strdup_printf("faq.%d.score", i + 1)};
	char   *score = g_strdup_printf("%.2f", f->score);

	g_hash_table_insert(vars, k[0], f->title);
	g_hash_table_insert(vars, k[1], f->url ? f->url : "");
	g_hash_table_insert(vars, k[2], score);
	g_ptr_array_add(faq_strings, k[0]);
	g_ptr_array_add(faq_strings, k[1]);
	g_ptr_array_add(faq_strings, k[2]);
	g_ptr_array_add(faq_strings, score);
    }
    /* The closed-ticket notice, else a rule's template, else the mailbox's. */
    template_name = job->refused ? "closed"
	: job->rules.template_name ? job->rules.template_name : m->template_name;
    if (templates_render(job->pl->templates, template_name, job->language, vars,
			 &subject, &body, &why) < 0) {
	msg_error("%s: ticket %s: no acknowledgement: %s", job->qid, job->number, why);
	g_free(why);
	return STAGE_NEXT;
    }
    /* An HTML alternative when NAME.LANG.html is beside the text (template.c). */
    if (templates_render_html(job->pl->templates, template_name,
			      job->language, vars, &html, &why) < 0) {
	msg_error("%s: ticket %s: no acknowledgement: %s", job->qid, job->number, why);
	g_free(why);
	return STAGE_NEXT;
    }
    /* The number belongs in the subject, whatever the template says. */
    if (strstr(subject, tag) == NULL) {
	char   *s = g_strdup_printf("%s %s", tag, subject);

	g_free(subject);
	subject = s;
    }
    spec.from_name = m->display_name;
    spec.from_address = m->address;
    spec.to_name = name;
    spec.to_address = to;
    spec.subject = subject;
    spec.body = body;
    spec.html = html;
    spec.in_reply_to = json_string_value(json_object_get(job->env, "message_id"));
    spec.references = json_object_get(job->env, "references");
    spec.ticket_number = job->number;
    msgid = reply_new_message_id(job->pl->keys, job->number, m->address);
    spec.message_id = msgid;
    {
	/* Its parts: the outbox thread builds the message when it sends it. */
	char   *json = reply_spec_encode(&spec);

	content = g_bytes_new_take(json, strlen(json));
    }

    r.ticket_id = job->ticket_id;
    r.mailbox = m->name;
    r.kind = job->refused ? "closed" : "ack";
    r.recipient = to;
    r.message_id = msgid;
    r.content = content;
    r.window_key = window_key;
    rc = st->ops->queue_reply(st, &r, &why);
    if (rc != STORE_OK)
	return stage_store_status(rc, job, why);

    {
	json_t *list = json_pack("[s]", to);

	recipients = json_dumps(list, JSON_COMPACT);
	json_decref(list);
    }
    thread_ids[0] = msgid;
    out.direction = "out";
    out.message_id = msgid;
    out.sender_name = m->display_name;
    out.sender_address = m->address;
    out.recipients = recipients;
    out.subject = subject;
    out.header_fields = "[]";
    out.body = body;
    out.raw = NULL;			/* the outbox row holds the message as sent */
    out.note = job->refused ? "automatic notice: the ticket is closed" : "automatic acknowledgement";
    out.thread_ids = thread_ids;
    rc = st->ops->add_message(st, job->ticket_id, &out, &row, &why);
    if (rc != STORE_OK)
	return stage_store_status(rc, job, why);
    job->pl->replies_queued++;
    msg_info("%s: ticket %s: acknowledgement to <%s> owed (message-id <%s>)", job->qid,
	     job->number, to, msgid);
    return STAGE_NEXT;
}
