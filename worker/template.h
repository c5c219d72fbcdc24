/* template.h: acknowledgement templates. See template.c. */
#ifndef INTAKE_TEMPLATE_H
#define INTAKE_TEMPLATE_H

#include <glib.h>

struct templates;

struct templates *templates_new(const char *dir);
struct templates *templates_free(struct templates *ts);
int     templates_check(struct templates *ts, const char *name, const char *language,
			char **why);
int     templates_render(struct templates *ts, const char *name, const char *language,
			 GHashTable *vars, char **subject, char **body, char **why);

int     templates_render_html(struct templates *ts, const char *name, const char *language,
			      GHashTable *vars, char **html, char **why);

extern const char *const template_variables[];

#endif
