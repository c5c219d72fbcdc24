/* ctl_check.h: intakectl check, a monitoring-plugins check. See ctl_check.c. */
#ifndef INTAKE_CTL_CHECK_H
#define INTAKE_CTL_CHECK_H

int     ctl_check(const char *config_path, int argc, char **argv);

#endif
