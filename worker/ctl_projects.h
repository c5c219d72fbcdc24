/* ctl_projects.h: intakectl project and intakectl task. See ctl_projects.c. */
#ifndef INTAKE_CTL_PROJECTS_H
#define INTAKE_CTL_PROJECTS_H

#include <glib.h>
#include "config.h"

int     ctl_projects(const struct intake_config *cfg, int argc, char **argv,
		     const char *project, gboolean json);

#endif
