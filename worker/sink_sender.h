/* sink_sender.h: one thread per sink delivering its events. See sink_sender.c. */
#ifndef INTAKE_SINK_SENDER_H
#define INTAKE_SINK_SENDER_H

#include "config.h"
#include "sinks.h"

struct sink_senders;

struct sink_senders *sink_senders_start(const struct intake_config *cfg,
					const struct sinks *sinks, char **why);
void    sink_senders_kick(struct sink_senders *ss);
struct sink_senders *sink_senders_stop(struct sink_senders *ss);

#endif
