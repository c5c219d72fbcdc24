/* api.h: the worker's read-only HTTP API (/api/v1/...). See api.c. */
#ifndef INTAKE_API_H
#define INTAKE_API_H

#include <microhttpd.h>
#include "config.h"

struct api;

const char *api_listen(const struct intake_config *cfg);
void    api_config_check(const struct intake_config *cfg, GPtrArray *errors);
struct api *api_new(const struct intake_config *cfg, char **why);
struct api *api_free(struct api *a);
enum MHD_Result api_handle(struct api *a, struct MHD_Connection *c, const char *uri,
			   const char *method);

#endif
