/* durable_watch.h: the milter's Redis persistence check thread. See durable_watch.c. */
#ifndef INTAKE_DURABLE_WATCH_H
#define INTAKE_DURABLE_WATCH_H

#include <glib.h>
#include "config.h"

int     durable_watch_first(const struct intake_config *cfg);
void    durable_watch_start(void);
gboolean durable_watch_refused(void);
void    durable_watch_stop(void);

#endif
