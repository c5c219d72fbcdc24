/* signals.h: intake-milter's signal handling and reload. See signals.c. */
#ifndef INTAKE_SIGNALS_H
#define INTAKE_SIGNALS_H

#include <glib.h>

int     signals_run_milter(const char *config_path);
GThread *signals_thread_new(const char *name, GThreadFunc fn, gpointer data);

#endif
