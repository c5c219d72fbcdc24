/* sink_rt.h: the Request Tracker sink's keys, for `intakectl sinks keys`. See sink_rt.c. */
#ifndef INTAKE_SINK_RT_H
#define INTAKE_SINK_RT_H

#include <stdio.h>

void    sink_rt_dump_keys(FILE *out);	/* its keys and defaults (it_docs_config_keys) */

#endif
