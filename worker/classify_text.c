/*
 * NAME
 *	classify_text - the lines a customer wrote, found once for every classify part
 * SYNOPSIS
 *	#include "classify_text.h"
 *
 *	void	classify_own_lines(job)
 *	const char *classify_own(job, max, &len, &scratch)
 * DESCRIPTION
 *	Language, tags, sentiment, category and FAQ all read the lines the
 *	customer wrote now (quote_own_lines(): no quoted history, our
 *	marker or the signature), each at most so many bytes. Each part used
 *	to find them itself: one scan of a long quoted history per part.
 *
 *	classify_own_lines() finds them once, the first CLASSIFY_OWN_MAX
 *	bytes, into job->own (freed by job_clear()); stage_classify.c calls
 *	it before the parts.
 *
 *	classify_own() gives a part the first max bytes of them (*len):
 *	job->own when it was found, *scratch NULL; otherwise (a part called
 *	alone, as by a unit test) they are found into *scratch (g_free), as
 *	each part did before. Both are the same bytes: quote_own_lines()
 *	into a smaller buffer gives a prefix of what it gives into a larger
 *	one (it copies lines in order and stops when the buffer is full).
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>

#include "classify_text.h"
#include "envelope.h"
#include "job.h"
#include "quote.h"

void    classify_own_lines(struct job *job)
{
    const char *text;

    if (job->own)
	return;
    text = envelope_str(job->env, "text");
    job->own = g_malloc(CLASSIFY_OWN_MAX);
    job->own_len = quote_own_lines(text, strlen(text), job->own, CLASSIFY_OWN_MAX);
    /*
     * Kept as long as the job (a preparation lives until its batch is
     * done: 64 entries, each mailbox's job): only what was found, not
     * 64 KB each.
     */
    job->own = g_realloc(job->own, MAX(job->own_len, 1));
}

const char *classify_own(struct job *job, size_t max, size_t *len, char **scratch)
{
    const char *text;

    *scratch = NULL;
    if (job->own) {
	*len = MIN(job->own_len, max);
	return job->own;
    }
    text = envelope_str(job->env, "text");
    *scratch = g_malloc(max ? max : 1);
    *len = quote_own_lines(text, strlen(text), *scratch, max);
    return *scratch;
}
