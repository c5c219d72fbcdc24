/* sink_webhook.h: the webhook sink's signature, for its tests. See sink_webhook.c. */
#ifndef INTAKE_SINK_WEBHOOK_H
#define INTAKE_SINK_WEBHOOK_H

#include <stdio.h>
#include <glib.h>

#define SINK_WEBHOOK_SIGNATURE_HEADER "Intake-Signature"

char   *sink_webhook_signature(GBytes *secret, gint64 timestamp, const char *body, gsize len);
void    sink_webhook_dump_keys(FILE *out);	/* its keys and defaults (it_docs_config_keys) */

#endif
