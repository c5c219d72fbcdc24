/*
 * NAME
 *	stage_decode - stream entry to envelope
 * SYNOPSIS
 *	json_t *stage_decode(entry, &why)
 * DESCRIPTION
 *	The first stage: the entry's "envelope" field is parsed and checked,
 *	with its "text" field put back in, by envelope_decode_parts() (the
 *	same module the milter writes it with).
 *	A text field that is there but empty (a mail with no text: only an
 *	attachment, an encrypted body) is an empty text, not a missing one
 *	(queue_entry_new() never gives NULL for a field that is there).
 *	The text is decompressed and the original's frame checked here
 *	(queue_entry_unpack(): in a preparing thread when there are any); an
 *	entry whose compressed fields cannot be read, or whose encoding this
 *	worker does not know, fails here with its reason.
 *	An entry with no envelope field, or one this worker cannot read,
 *	fails with the reason: it is retried and, after [worker]
 *	max_deliveries, kept in the dead-letter stream for a postmaster.
 */
#include "envelope.h"
#include "job.h"

json_t *stage_decode(struct queue_entry *e, char **why)
{
    if (queue_entry_unpack(e) < 0) {
	*why = g_strdup(e->error);
	return NULL;
    }
    if (e->envelope == NULL) {
	*why = g_strdup("stream entry has no 'envelope' field");
	return NULL;
    }
    return envelope_decode_parts(e->envelope, e->len, e->text, e->text_len, why);
}
