/*
 * NAME
 *	stage_decode - stream entry to envelope
 * SYNOPSIS
 *	json_t *stage_decode(text, len, &why)
 * DESCRIPTION
 *	The first stage: the entry's "envelope" field is parsed and checked
 *	by envelope_decode() (the same module the milter writes it with).
 *	An entry with no envelope field, or one this worker cannot read,
 *	fails with the reason: it is retried and, after [worker]
 *	max_deliveries, kept in the dead-letter stream for a postmaster.
 */
#include "envelope.h"
#include "pipeline.h"

json_t *stage_decode(const char *text, gsize len, char **why)
{
    if (text == NULL) {
	*why = g_strdup("stream entry has no 'envelope' field");
	return NULL;
    }
    return envelope_decode(text, len, why);
}
