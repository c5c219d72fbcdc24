/* ctl_rules.h: intakectl rules test and intakectl case. See ctl_rules.c. */
#ifndef INTAKE_CTL_RULES_H
#define INTAKE_CTL_RULES_H

#include "config.h"

int     ctl_rules(const struct intake_config *cfg, int argc, char **argv, const char *mailbox,
		  gboolean json);
int     ctl_case(const struct intake_config *cfg, int argc, char **argv, gboolean json);

#endif
