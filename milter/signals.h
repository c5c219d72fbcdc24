/* signals.h: intake-milter's signal handling and reload. See signals.c. */
#ifndef INTAKE_SIGNALS_H
#define INTAKE_SIGNALS_H

int     signals_run_milter(const char *config_path);

#endif
