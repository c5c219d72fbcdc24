/*
 * NAME
 *	stage_classify - category, priority, type and language of a ticket
 * SYNOPSIS
 *	enum stage_result stage_classify(job)
 * DESCRIPTION
 *	For now the mailbox decides: its category, priority, type and
 *	customer language; the text's language, when detected
 *	(classify_lang.c), replaces the mailbox's. Routing rules, auto-tagging
 *	and category suggestions will refine job->* here, before the store
 *	stage writes the ticket.
 */
#include "classify_lang.h"
#include "job.h"

enum stage_result stage_classify(struct job *job)
{
    const struct mailbox *m = job->mailbox;

    job->category = m && m->category && *m->category ? m->category : NULL;
    job->priority = m ? m->priority : "normal";
    job->type = m && m->type && *m->type ? m->type : NULL;
    job->language = m ? m->language : "en";
    classify_lang(job);
    return STAGE_NEXT;
}
