/* outbox.h: the thread that sends owed replies. See outbox.c. */
#ifndef INTAKE_OUTBOX_H
#define INTAKE_OUTBOX_H

#include "config.h"

struct outbox;
struct sinks;

struct outbox *outbox_start(const struct intake_config *cfg, const struct sinks *sinks,
			    char **why);
void    outbox_kick(struct outbox *ob);
struct outbox *outbox_stop(struct outbox *ob);

#endif
