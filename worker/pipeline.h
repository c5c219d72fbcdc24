/*
 * pipeline.h: run a stream entry through the worker's stages. See
 * pipeline.c; what the stages share is in job.h.
 */
#ifndef INTAKE_PIPELINE_H
#define INTAKE_PIPELINE_H

#include "job.h"
#include "prepare.h"

enum pipe_result { PIPE_OK, PIPE_RETRY, PIPE_FAIL };

enum pipe_result pipeline_entry(struct pipeline *pl, struct queue_entry *e,
				const struct prepared *prep, char **why);
enum pipe_result pipeline_import(struct pipeline *pl, json_t *env, const char *raw,
				 gsize raw_len, const char *mailbox, gint64 *ticket_id,
				 char **number, char **why);

#endif
