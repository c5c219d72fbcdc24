/* ctl_sinks.h: intakectl sinks status|retry|keys. See ctl_sinks.c. */
#ifndef INTAKE_CTL_SINKS_H
#define INTAKE_CTL_SINKS_H

#include <glib.h>
#include "config.h"

int     ctl_sinks(const struct intake_config *cfg, int argc, char **argv, gboolean json);
int     ctl_sinks_keys(void);

#endif
