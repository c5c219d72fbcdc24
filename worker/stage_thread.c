/*
 * NAME
 *	stage_thread - is this mail a follow-up of a ticket, and may it be?
 * SYNOPSIS
 *	enum stage_result stage_thread(job)
 * DESCRIPTION
 *	A mail names a ticket by, in this order:
 *	1) a ticket number of this system in its subject ([#INT-...]);
 *	2) a signed Message-ID of ours in In-Reply-To or References
 *	   (msgid.c: trusted without a lookup, cannot be forged; a ticket of
 *	   the same mailbox only);
 *	3) a message id of a ticket of the same mailbox in In-Reply-To or
 *	   References (the thread_ids table: the ids of stored mails, their
 *	   references, our replies; the first ticket to register an id keeps
 *	   it).
 *	Each ticket named is weighed in that order; the first that the mail
 *	may write into takes it. Whether it may is the mailbox's
 *	thread_trust (thread_policy.c: strict, same_domain, open) against
 *	the ticket's parties: ticket numbers are sequential and guessable,
 *	message ids are copied around, and even a signature only proves the
 *	id is ours, not that the sender belongs to the ticket. A mail that
 *	names a ticket it may not write into becomes a new ticket linked to
 *	the first such ticket (job->link), and the log says why.
 *
 *	A ticket that is closed: thread_on_closed() with the mailbox's
 *	on_closed and reopen_days decides. The follow-up reopens it
 *	(job->reopen), is added without reopening it (an out-of-office
 *	reply, envelope autogen.kind "autoreply", or a thank-you,
 *	thread_is_thanks() of the text), becomes a new ticket linked to it,
 *	or (refuse) is added as a note while the sender is told
 *	(job->refused: stage_reply.c sends the "closed" template).
 *
 *	A mail that names no ticket is a near-duplicate when the mailbox has
 *	a merge_window: the same sender (addr_normalise()) wrote a ticket
 *	of the same subject (subject_key(): prefixes, white space, case)
 *	that is not closed and was updated within the window. It is added to
 *	that ticket with a note.
 *
 *	Mail whose sender claims to be one of our own mailbox addresses or
 *	aliases (config_match()) is not threaded at all: we never write in
 *	to a ticket, so such mail is forged (or a loop), and threading it
 *	would let anyone write into a ticket "as support" by quoting its
 *	number. It becomes a new ticket, and the log says so (warning).
 *
 *	job->ticket is filled in for a follow-up, with job->thread_how
 *	saying what found it and job->thread_note (or NULL) what the
 *	message's note says.
 */
#include <string.h>

#include "addr.h"
#include "log.h"
#include "job.h"
#include "subject.h"
#include "thread_policy.h"
#include "ticketno.h"

/* What weighing one named ticket came to. */
enum weigh { WEIGH_NEXT, WEIGH_ATTACH, WEIGH_NEW };

/* The policy of the job's mailbox; its defaults when it is no longer configured. */
#define TRUST(job)	((job)->mailbox ? (job)->mailbox->thread_trust : "strict")
#define ON_CLOSED(job)	((job)->mailbox ? (job)->mailbox->on_closed : "reopen")
#define REOPEN_DAYS(job) ((job)->mailbox ? (job)->mailbox->reopen_days : 30)

/* link_to - remember the first ticket the mail named but may not join */
static void link_to(struct job *job, struct store_ticket_info *info, const char *why)
{
    if (job->link.id == 0) {
	job->link = *info;
	job->link_reason = why;
	memset(info, 0, sizeof(*info));
    }
}

/*
 * weigh - may the mail join the ticket info (found by how)? On
 * WEIGH_ATTACH the job owns info's strings (job->ticket); otherwise info
 * is cleared or handed to job->link.
 */
static enum weigh weigh(struct job *job, struct store_ticket_info *info, const char *how,
			        int *rc)
{
    struct store *st = job->pl->store;
    g_auto(GStrv) parties = NULL;
    const char *why = NULL;
    char   *err = NULL;

    *rc = st->ops->parties(st, info->id, job->customer_address, &parties, &err);
    if (*rc != STORE_OK) {
	stage_store_status(*rc, job, err);
	store_ticket_info_clear(info);
	return WEIGH_NEXT;
    }
    if (!thread_may_write(TRUST(job), job->customer_address, (const char *const *) parties,
			  &why)) {
	msg_info("%s: %s names ticket %s but %s may not write into it: %s", job->qid, how,
		 info->number, job->customer_address, why);
	link_to(job, info, why);
	store_ticket_info_clear(info);
	return WEIGH_NEXT;
    }
    if (g_strcmp0(info->status, "closed") == 0) {
	const char *kind = envelope_str(json_object_get(job->env, "autogen"), "kind");
	gboolean quiet = g_strcmp0(kind, "autoreply") == 0
	    || thread_is_thanks(envelope_str(job->env, "text"));

	switch (thread_on_closed(ON_CLOSED(job), REOPEN_DAYS(job), info->closed_at,
				 g_get_real_time() / G_USEC_PER_SEC, quiet, &why)) {
	case CLOSED_REOPEN:
	    job->reopen = TRUE;
	    break;
	case CLOSED_KEEP:
	    job->thread_note = why;
	    break;
	case CLOSED_REFUSE:
	    job->refused = TRUE;
	    job->thread_note = why;
	    break;
	case CLOSED_NEW:
	    msg_info("%s: %s names closed ticket %s: %s: new ticket linked to it", job->qid,
		     how, info->number, why);
	    link_to(job, info, why);
	    store_ticket_info_clear(info);
	    return WEIGH_NEW;
	}
    }
    job->ticket = *info;
    memset(info, 0, sizeof(*info));
    job->thread_how = how;
    return WEIGH_ATTACH;
}

/* references - In-Reply-To, then References (newest first), not empty */
static GPtrArray *references(json_t *env)
{
    GPtrArray *ids = g_ptr_array_new();
    json_t *refs = json_object_get(env, "references");
    size_t  n = json_array_size(refs);

    if (*envelope_str(env, "in_reply_to"))
	g_ptr_array_add(ids, (gpointer) envelope_str(env, "in_reply_to"));
    for (size_t i = n; i > 0; i--) {
	const char *r = json_string_value(json_array_get(refs, i - 1));

	if (r && *r)
	    g_ptr_array_add(ids, (gpointer) r);
    }
    return ids;
}

/* by_signed_reference - the first reference that is a verified id of ours */
static enum weigh by_signed_reference(struct job *job, GPtrArray *ids, int *rc)
{
    struct store *st = job->pl->store;
    struct store_ticket_info info = {0};
    char   *why = NULL;

    *rc = STORE_OK;
    gboolean told = FALSE;

    for (guint i = 0; i < ids->len; i++) {
	const char *ref = g_ptr_array_index(ids, i);
	g_autofree char *number = msgid_verify(job->pl->keys, ref);

	if (number == NULL) {
	    /* Once per mail: a forger may send a thousand. */
	    if (!told && job->pl->keys && g_str_has_prefix(ref, "i1.")) {
		msg_info("%s: reference <%.120s> has the form of our Message-IDs but its"
			 " signature does not verify (forged, or signed with a secret rotated"
			 " out): not trusted", job->qid, ref);
		told = TRUE;
	    }
	    continue;
	}
	if ((*rc = st->ops->find_ticket(st, number, &info, &why)) != STORE_OK) {
	    stage_store_status(*rc, job, why);
	    return WEIGH_NEXT;
	}
	if (info.id == 0 || info.id == job->link.id || strcmp(info.mailbox, job->mailbox_name) != 0) {
	    store_ticket_info_clear(&info);
	    continue;
	}
	return weigh(job, &info, "signed reference", rc);
    }
    return WEIGH_NEXT;
}

/* near_duplicate - a recent open ticket of the same sender and subject */
static enum stage_result near_duplicate(struct job *job)
{
    const struct mailbox *m = job->mailbox;
    struct store *st = job->pl->store;
    g_autofree char *sender = addr_normalise(job->customer_address,
					     job->pl->cfg->recipient_delimiter);
    g_autofree char *subject = subject_key(envelope_str(job->env, "subject"));
    gint64  since = g_get_real_time() / G_USEC_PER_SEC - m->merge_window_ms / 1000;
    char   *why = NULL;
    int     rc;

    rc = st->ops->find_near_duplicate(st, job->mailbox_name, sender, subject, since,
				      &job->ticket, &why);
    if (rc != STORE_OK)
	return stage_store_status(rc, job, why);
    if (job->ticket.id) {
	job->thread_how = "near-duplicate";
	job->thread_note = "merged as a near-duplicate: same sender and subject within"
	    " [mailbox] merge_window";
	msg_info("%s: same sender <%s> and subject as open ticket %s within merge_window:"
		 " merged into it", job->qid, job->customer_address, job->ticket.number);
    }
    return STAGE_NEXT;
}

enum stage_result stage_thread(struct job *job)
{
    struct store *st = job->pl->store;
    g_autofree char *number = ticketno_find(job->pl->cfg->ticket_prefix,
					    envelope_str(job->env, "subject"));
    g_autoptr(GPtrArray) ids = references(job->env);
    struct store_ticket_info info = {0};
    enum weigh w = WEIGH_NEXT;
    char   *why = NULL;
    int     rc = STORE_OK;

    if (config_match(job->pl->cfg, job->customer_address)) {
	msg_warn("%s: sender %s claims to be one of our mailboxes: not threaded%s%s,"
		 " new ticket (forged or looping mail)", job->qid, job->customer_address,
		 number ? " by subject number " : "", number ? number : "");
	return STAGE_NEXT;
    }
    if (number) {
	rc = st->ops->find_ticket(st, number, &info, &why);
	if (rc != STORE_OK)
	    return stage_store_status(rc, job, why);
	if (info.id)
	    w = weigh(job, &info, "ticket number in subject", &rc);
	if (rc != STORE_OK)
	    return rc == STORE_BUSY ? STAGE_RETRY : STAGE_FAIL;
    }
    if (w == WEIGH_NEXT && ids->len) {
	w = by_signed_reference(job, ids, &rc);
	if (rc != STORE_OK)
	    return rc == STORE_BUSY ? STAGE_RETRY : STAGE_FAIL;
    }
    if (w == WEIGH_NEXT && ids->len) {
	g_ptr_array_add(ids, NULL);
	rc = st->ops->find_by_message_ids(st, job->mailbox_name,
					  (const char *const *) ids->pdata, &info, &why);
	if (rc != STORE_OK)
	    return stage_store_status(rc, job, why);
	if (info.id && info.id != job->link.id)	/* weighed already: once is enough */
	    w = weigh(job, &info, "In-Reply-To/References", &rc);
	store_ticket_info_clear(&info);
	if (rc != STORE_OK)
	    return rc == STORE_BUSY ? STAGE_RETRY : STAGE_FAIL;
    }
    if (w == WEIGH_ATTACH || job->link.id)
	return STAGE_NEXT;
    if (job->mailbox && job->mailbox->merge_window_ms > 0)
	return near_duplicate(job);
    return STAGE_NEXT;
}
