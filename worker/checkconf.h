/* checkconf.h: the worker's part of the configuration check. See checkconf.c. */
#ifndef INTAKE_CHECKCONF_H
#define INTAKE_CHECKCONF_H

#include "config.h"

void    worker_config_check(const struct intake_config *cfg, GPtrArray *errors);

#endif
