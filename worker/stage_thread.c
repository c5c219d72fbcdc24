/*
 * NAME
 *	stage_thread - is this mail a follow-up of a ticket?
 * SYNOPSIS
 *	enum stage_result stage_thread(job)
 * DESCRIPTION
 *	A mail is added to an existing ticket, instead of opening a new one,
 *	when
 *	1) its subject carries a ticket number of this system ([#INT-...])
 *	   and its sender is already on that ticket (wrote to it, or is its
 *	   customer): a stranger quoting someone else's number gets a ticket
 *	   of their own, and cannot write into another customer's ticket;
 *	2) otherwise, its In-Reply-To or References name a message of a
 *	   ticket of the same mailbox (message ids are not guessable, and
 *	   our acknowledgements are recorded with theirs).
 *	job->ticket is filled in for a follow-up.
 *
 *	Mail whose sender claims to be one of our own mailbox addresses or
 *	aliases (config_match()) is not threaded at all: we never write in
 *	to a ticket, so such mail is forged (or a loop), and threading it
 *	would let anyone write into a ticket "as support" by quoting its
 *	number. It becomes a new ticket, and the log says so (warning).
 */
#include "log.h"
#include "job.h"
#include "ticketno.h"

enum stage_result stage_thread(struct job *job)
{
    struct store *st = job->pl->store;
    g_autofree char *number = ticketno_find(job->pl->cfg->ticket_prefix,
					    envelope_str(job->env, "subject"));
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    char   *why = NULL;
    json_t *ref;
    size_t  i;
    int     rc;

    if (config_match(job->pl->cfg, job->customer_address)) {
	msg_warn("%s: sender %s claims to be one of our mailboxes: not threaded%s%s,"
		 " new ticket (forged or looping mail)", job->qid, job->customer_address,
		 number ? " by subject number " : "", number ? number : "");
	return STAGE_NEXT;
    }
    if (number) {
	gboolean party = FALSE;

	rc = st->ops->find_ticket(st, number, &job->ticket, &why);
	if (rc != STORE_OK)
	    return stage_store_status(rc, job, why);
	if (job->ticket.id) {
	    rc = st->ops->is_party(st, job->ticket.id, job->customer_address, &party, &why);
	    if (rc != STORE_OK)
		return stage_store_status(rc, job, why);
	    if (party) {
		job->thread_how = "ticket number in subject";
		return STAGE_NEXT;
	    }
	    msg_info("%s: subject names ticket %s but %s is not on it: new ticket",
		     job->qid, number, job->customer_address);
	    store_ticket_info_clear(&job->ticket);
	}
    }
    if (json_is_string(json_object_get(job->env, "in_reply_to")))
	g_ptr_array_add(ids, (gpointer) envelope_str(job->env, "in_reply_to"));
    json_array_foreach(json_object_get(job->env, "references"), i, ref)
	if (json_is_string(ref))
	g_ptr_array_add(ids, (gpointer) json_string_value(ref));
    if (ids->len) {
	g_ptr_array_add(ids, NULL);
	rc = st->ops->find_by_message_ids(st, job->mailbox_name,
					  (const char *const *) ids->pdata, &job->ticket, &why);
	if (rc != STORE_OK)
	    return stage_store_status(rc, job, why);
	if (job->ticket.id)
	    job->thread_how = "In-Reply-To/References";
    }
    return STAGE_NEXT;
}
