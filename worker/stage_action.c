/*
 * NAME
 *	stage_action - a mailbox's note or time entry instead of a ticket
 * SYNOPSIS
 *	enum stage_result stage_action(job)
 *	enum stage_result stage_action_notice(job)
 * DESCRIPTION
 *	stage_action() runs for a mailbox whose action (docs/actions.md)
 *	is not "ticket", between classify and store. The ticket, project
 *	or task is the one whose number the subject names ([#INT-...],
 *	[#PRJ-N], [#TSK-N]); a time entry may name a ticket or a task.
 *	Who may write: [milter] staff (recognised by the From address, as
 *	common/forward.c recognises a staff forward) for every action, and
 *	for ticket_note also the ticket's own party under the mailbox's
 *	thread_trust (thread_policy.c): nobody writes into another
 *	customer's ticket. Mail whose sender claims one of our own
 *	addresses, and auto-generated mail, is never an action.
 *
 *	ticket_note: the mail becomes a message of the ticket with a note
 *	(stage_store_note(): its sender does not become a party, the
 *	status is left alone). time_entry: the first line of what the
 *	sender wrote now (quote.c) is read by timeentry_parse(), and the
 *	minutes and summary are written on the ticket or task.
 *	project_note, task_note: the text is a note of the project or task.
 *	Each is written once per dedupe key (stage_store_seen() and the
 *	store's unique keys): a redelivered mail adds nothing and confirms
 *	nothing. The job then ends (STAGE_DONE): no acknowledgement.
 *
 *	With [mailbox] action_confirm = yes the sender is told of a done
 *	ticket_note or time entry on a ticket (template "action_done",
 *	outbox kind "action_done", in the same transaction as the write).
 *	A project's or task's note, or a task's time entry, is not
 *	confirmed: the outbox holds replies of tickets.
 *
 *	When the action cannot be done (no number, no such record, the
 *	sender may not write, the first line is no time entry) the mail is
 *	not lost: it goes on to stage_store as a new ticket whose message
 *	note says why (job->action_failed, job->action_note), and
 *	stage_action_notice(), after the store, queues template
 *	"action_failed" to the sender instead of the acknowledgement.
 *
 *	Both notices pass ack_policy() (auto-generated mail, the null
 *	sender, loops, no-reply and made-up addresses, our own addresses,
 *	failed SPF/DMARC); a refusal is recorded as a suppressed outbox row.
 *	A failure notice also counts in and respects [smtp] reply_window
 *	(it may go to a stranger or a machine); a confirmation goes to a
 *	sender who passed the check above and is not windowed. The outbox
 *	applies the caps (ackcap.c) to both.
 * DIAGNOSTICS
 *	Store failures as every stage (stage_store_status()); a template
 *	that does not render is logged and the mail goes on.
 */
#include <string.h>

#include "ack_policy.h"
#include "addr.h"
#include "envelope.h"
#include "job.h"
#include "log.h"
#include "quote.h"
#include "reply.h"
#include "thread_policy.h"
#include "ticketno.h"
#include "timeentry.h"

#define SUBJECT_QUOTE_MAX 100

/* What the subject named, found in the store. */
struct target {
    const char *kind;			/* "ticket", "project", "task" */
    char   *number;
    gint64  id;				/* 0: not found */
    struct store_ticket_info ticket;	/* kind "ticket" */
};

static void target_clear(struct target *t)
{
    g_free(t->number);
    store_ticket_info_clear(&t->ticket);
}

/* author - who wrote: the staff member who forwarded the mail, else its customer */
static const char *author(const struct job *job)
{
    json_t *customer = json_object_get(job->env, "customer");
    const char *by = json_string_value(json_object_get(customer, "by"));

    if (by && g_str_has_prefix(envelope_str(customer, "how"), "forwarded"))
	return by;
    return job->customer_address;
}

/* new_text - what the sender wrote now: without quoted history and signature (g_free) */
static char *new_text(const struct job *job)
{
    const char *text = envelope_str(job->env, "text");
    enum quote_cut how;

    return g_strndup(text, quote_new_text(text, strlen(text), &how));
}

/* duration_text - minutes as "1h30m" (g_free) */
static char *duration_text(int minutes)
{
    if (minutes < 60)
	return g_strdup_printf("%dm", minutes);
    if (minutes % 60 == 0)
	return g_strdup_printf("%dh", minutes / 60);
    return g_strdup_printf("%dh%02dm", minutes / 60, minutes % 60);
}

/*
 * fail - the action cannot be done: the mail goes on to be kept as a new
 * ticket whose note says why, and stage_action_notice() tells the sender.
 */
static enum stage_result fail(struct job *job, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static enum stage_result fail(struct job *job, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    job->action_failed = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    job->action_note = g_strdup_printf("Mailbox action %s failed: %s. Kept as a ticket;"
				       " the sender is told", job->mailbox->action,
				       job->action_failed);
    store_ticket_info_clear(&job->ticket);	/* never a follow-up: a ticket of its own */
    job->reopen = job->refused = FALSE;
    job->thread_how = NULL;
    job->thread_note = job->action_note;
    msg_info("%s: mailbox %s: action %s failed: %s: kept as a ticket", job->qid,
	     job->mailbox_name, job->mailbox->action, job->action_failed);
    return STAGE_NEXT;
}

/*
 * notice - queue template (kind the same name) to the sender of the job's
 * ticket job->number: the failure notice or the confirmation. vars holds
 * the action's own variables; the common ones are added here.
 */
static enum stage_result notice(struct job *job, const char *template, GHashTable *vars)
{
    const struct intake_config *cfg = job->pl->cfg;
    const struct mailbox *m = job->mailbox;
    struct store *st = job->pl->store;
    gboolean failure = strcmp(template, "action_failed") == 0;
    struct ack_request rq = {job->env, cfg, m, FALSE};
    const char *own = envelope_str(job->env, "message_id");
    const char *refusal;
    g_autofree char *to = NULL, *window = NULL, *tag = NULL, *quoted = NULL, *name = NULL;
    g_autofree char *subject = NULL, *body = NULL, *msgid = NULL, *json = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *date = g_date_time_format(now, "%Y-%m-%d %H:%M UTC");
    g_autoptr(GBytes) content = NULL;
    struct reply_spec spec = {0};
    struct store_reply r = {0};
    gboolean recent = FALSE;
    char   *why = NULL;
    int     rc;

    if (own && *own && (rc = st->ops->our_message_id(st, own, &rq.own_message_id, &why))
	!= STORE_OK)
	return stage_store_status(rc, job, why);
    if ((refusal = ack_policy(&rq, &to)) != NULL)
	return stage_reply_suppress(job, template, to, refusal);
    msgid = reply_new_message_id(job->pl->keys, job->number, m->address);
    if (failure) {
	if ((window = addr_normalise(to, cfg->recipient_delimiter)) == NULL)
	    return stage_reply_suppress(job, template, to,
					"the reply address is not a plain mail address");
	if (cfg->reply_window_ms > 0
	    && (rc = st->ops->replied_recently(st, window, g_get_real_time() / G_USEC_PER_SEC
					       - cfg->reply_window_ms / 1000, &recent, &why))
	    != STORE_OK)
	    return stage_store_status(rc, job, why);
	if (recent)
	    return stage_reply_suppress(job, template, to,
				"this sender was answered within [smtp] reply_window");
    }
    tag = ticketno_tag(job->number);
    quoted = reply_quote_subject(envelope_str(job->env, "subject"), SUBJECT_QUOTE_MAX);
    if (g_ascii_strcasecmp(to, job->customer_address) == 0)
	name = reply_safe_name(job->customer_name);
    /* vars owns its values (g_free): the action's own were made for it. */
    g_hash_table_insert(vars, "ticket_number", g_strdup(job->number));
    g_hash_table_insert(vars, "ticket_tag", g_strdup(tag));
    g_hash_table_insert(vars, "subject", g_strdup(*quoted ? quoted : "(no subject)"));
    g_hash_table_insert(vars, "customer_name", g_strdup(name ? name : to));
    g_hash_table_insert(vars, "customer_address", g_strdup(job->customer_address));
    g_hash_table_insert(vars, "mailbox", g_strdup(m->name));
    g_hash_table_insert(vars, "mailbox_name",
			g_strdup(m->display_name && *m->display_name ? m->display_name
				 : m->address));
    g_hash_table_insert(vars, "mailbox_address", g_strdup(m->address));
    g_hash_table_insert(vars, "date", g_strdup(date));
    g_hash_table_insert(vars, "action", g_strdup(m->action));
    if (templates_render(job->pl->templates, template, job->language, vars, &subject, &body,
			 &why) < 0) {
	msg_error("%s: ticket %s: no %s: %s", job->qid, job->number, template, why);
	g_free(why);
	return STAGE_NEXT;
    }
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
    spec.in_reply_to = own;
    spec.references = json_object_get(job->env, "references");
    spec.ticket_number = job->number;
    spec.message_id = msgid;
    json = reply_spec_encode(&spec);
    content = g_bytes_new(json, strlen(json));
    r.ticket_id = job->ticket_id;
    r.mailbox = m->name;
    r.kind = template;
    r.recipient = to;
    r.message_id = msgid;
    r.content = content;
    r.window_key = failure ? window : msgid;
    if ((rc = st->ops->queue_reply(st, &r, &why)) != STORE_OK)
	return stage_store_status(rc, job, why);
    job->pl->replies_queued++;
    msg_info("%s: ticket %s: %s to <%s> owed (message-id <%s>)", job->qid, job->number,
	     template, to, msgid);
    return STAGE_NEXT;
}

/*
 * find_target - the record the subject names for the mailbox's action;
 * t->id = 0 and a reason (static, or in *reason: g_free) when there is none.
 */
static int find_target(struct job *job, struct target *t, char **reason, char **why)
{
    struct store *st = job->pl->store;
    const char *action = job->mailbox->action;
    const char *subject = envelope_str(job->env, "subject");
    int     rc;

    /* A ticket's number first: a time entry names a ticket or a task. */
    if (strcmp(action, "ticket_note") == 0 || strcmp(action, "time_entry") == 0) {
	t->kind = "ticket";
	t->number = ticketno_find(job->pl->cfg->ticket_prefix, subject);
    }
    if (t->number == NULL && strcmp(action, "ticket_note") != 0) {
	t->kind = strcmp(action, "project_note") == 0 ? "project" : "task";
	t->number = ticketno_find_record(strcmp(t->kind, "project") == 0 ? "PRJ" : "TSK",
					 subject);
    }
    if (t->number == NULL) {
	const char *prefix = job->pl->cfg->ticket_prefix;

	if (strcmp(action, "ticket_note") == 0)
	    *reason = g_strdup_printf("the subject names no ticket number such as"
				      " [#%s-2026-000123]", prefix);
	else if (strcmp(action, "time_entry") == 0)
	    *reason = g_strdup_printf("the subject names no ticket or task number such as"
				      " [#%s-2026-000123] or [#TSK-12]", prefix);
	else
	    *reason = g_strdup_printf("the subject names no %s number such as [#%s-12]",
				      t->kind, strcmp(t->kind, "project") == 0 ? "PRJ" : "TSK");
	return STORE_OK;
    }
    if (strcmp(t->kind, "ticket") == 0) {
	rc = st->ops->find_ticket(st, t->number, &t->ticket, why);
	t->id = t->ticket.id;
    } else if (st->ops->find_record == NULL) {
	rc = store_unsupported(st, "projects and tasks", why);
    } else {
	rc = st->ops->find_record(st, strcmp(t->kind, "task") == 0 ? STORE_TASK : STORE_PROJECT,
				  t->number, &t->id, why);
    }
    if (rc == STORE_OK && t->id == 0)
	*reason = g_strdup_printf("there is no %s %s", t->kind, t->number);
    return rc;
}

/* may_write - may the author write into the target? NULL: yes; else a reason (g_free) */
static int may_write(struct job *job, const struct target *t, const char *who, char **reason,
		     char **why)
{
    struct store *st = job->pl->store;
    g_auto(GStrv) parties = NULL;
    const char *no = NULL;
    int     rc;

    if (config_is_staff(job->pl->cfg, who))
	return STORE_OK;
    if (strcmp(job->mailbox->action, "ticket_note") != 0) {
	*reason = g_strdup_printf("only [milter] staff may write a %s, and %s is not staff",
				  job->mailbox->action, who);
	return STORE_OK;
    }
    if ((rc = st->ops->parties(st, t->id, who, &parties, why)) != STORE_OK)
	return rc;
    if (!thread_may_write(job->mailbox->thread_trust, who, (const char *const *) parties, &no))
	*reason = g_strdup_printf("%s may not write into ticket %s: %s", who, t->number, no);
    return STORE_OK;
}

/* write_action - do the action on the target; *added FALSE: done before (a redelivery) */
static enum stage_result write_action(struct job *job, const struct target *t, const char *who,
				      GHashTable *vars, gboolean *added)
{
    struct store *st = job->pl->store;
    const char *action = job->mailbox->action;
    g_autofree char *text = new_text(job);
    const char *msgid = json_string_value(json_object_get(job->env, "message_id"));
    char   *why = NULL;
    int     rc;

    *added = TRUE;
    if (strcmp(action, "ticket_note") == 0) {
	g_autofree char *note = g_strdup_printf("Note by mail from %s (mailbox %s, action"
						" ticket_note)", who, job->mailbox_name);

	return stage_store_note(job, t->id, t->number, note);
    }
    if (strcmp(action, "time_entry") == 0) {
	struct store_time_entry e = {0};
	g_autofree char *summary = NULL;
	const char *bad = timeentry_parse(text, strlen(text), &e.minutes, &summary);

	if (bad)
	    return fail(job, "%s", bad);
	if (strcmp(t->kind, "ticket") == 0)
	    e.ticket_id = t->id;
	else
	    e.task_id = t->id;
	e.summary = summary;
	e.author = who;
	e.dedupe_key = job->dedupe_key;
	e.message_id = msgid;
	rc = st->ops->add_time_entry ? st->ops->add_time_entry(st, &e, added, &why)
	    : store_unsupported(st, "time entries", &why);
	if (rc == STORE_OK && *added)
	    msg_info("%s: %s %s: time entry %d minutes by <%s>: %s", job->qid, t->kind,
		     t->number, e.minutes, who, summary);
	g_hash_table_insert(vars, "duration", duration_text(e.minutes));
	g_hash_table_insert(vars, "time_summary", g_steal_pointer(&summary));
    } else {
	struct store_note n = {0};

	if (strcmp(t->kind, "project") == 0)
	    n.project_id = t->id;
	else
	    n.task_id = t->id;
	n.dedupe_key = job->dedupe_key;
	n.author = who;
	n.subject = envelope_str(job->env, "subject");
	n.body = text;
	n.message_id = msgid;
	rc = st->ops->add_note ? st->ops->add_note(st, &n, added, &why)
	    : store_unsupported(st, "notes", &why);
	if (rc == STORE_OK && *added)
	    msg_info("%s: %s %s: note by <%s> added", job->qid, t->kind, t->number, who);
    }
    return stage_store_status(rc, job, why);
}

enum stage_result stage_action(struct job *job)
{
    const struct mailbox *m = job->mailbox;
    const char *who;
    struct target t = {0};
    g_autofree char *reason = NULL;
    g_autoptr(GHashTable) vars = NULL;
    enum stage_result r;
    gboolean added = TRUE;
    char   *why = NULL;
    int     rc;

    if (m == NULL || strcmp(m->action, "ticket") == 0)
	return STAGE_NEXT;
    if ((r = stage_store_seen(job)) != STAGE_NEXT)
	return r;
    who = author(job);
    if (job->autogen)
	return fail(job, "auto-generated mail (%s) is not an action", job->autogen);
    if (config_match(job->pl->cfg, who))
	return fail(job, "the sender claims to be one of our own addresses");
    rc = find_target(job, &t, &reason, &why);
    if (rc == STORE_OK && reason == NULL)
	rc = may_write(job, &t, who, &reason, &why);
    if (rc != STORE_OK) {
	target_clear(&t);
	return stage_store_status(rc, job, why);
    }
    if (reason) {
	target_clear(&t);
	return fail(job, "%s", reason);
    }
    vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "action_target", g_strdup(t.number));
    r = write_action(job, &t, who, vars, &added);
    if (r != STAGE_NEXT || job->action_failed) {
	target_clear(&t);
	return r;
    }
    if (!added) {
	msg_info("%s: mailbox %s: this mail's %s is written already: nothing to do", job->qid,
		 job->mailbox_name, m->action);
	job->pl->duplicates++;
	target_clear(&t);
	return STAGE_DONE;
    }
    if (m->action_confirm && strcmp(t.kind, "ticket") == 0) {
	job->ticket_id = t.id;
	g_free(job->number);
	job->number = g_strdup(t.number);
	r = notice(job, "action_done", vars);
    } else if (m->action_confirm) {
	msg_info("%s: %s %s: not confirmed (the outbox holds replies of tickets only)",
		 job->qid, t.kind, t.number);
    }
    target_clear(&t);
    return r == STAGE_NEXT ? STAGE_DONE : r;
}

enum stage_result stage_action_notice(struct job *job)
{
    g_autoptr(GHashTable) vars = NULL;

    if (job->action_failed == NULL || job->ticket_id == 0 || job->mailbox == NULL)
	return STAGE_NEXT;
    vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(vars, "action_reason", g_strdup(job->action_failed));
    return notice(job, "action_failed", vars);
}
