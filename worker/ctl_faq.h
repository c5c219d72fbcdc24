/* ctl_faq.h: intakectl faq. See ctl_faq.c. */
#ifndef INTAKE_CTL_FAQ_H
#define INTAKE_CTL_FAQ_H

#include <glib.h>

int     ctl_faq(const char *config_path, gboolean json, int argc, char **argv);

#endif
