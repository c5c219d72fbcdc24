/* cfgfile.h: line numbers and errors for the worker's GKeyFile files (rules, tags). See cfgfile.c. */
#ifndef INTAKE_CFGFILE_H
#define INTAKE_CFGFILE_H

#include <glib.h>

struct cfgfile {
    const char *path;
    const char *section;		/* "rule", "tag": for the texts of errors */
    GPtrArray *errors;			/* borrowed: g_strdup'ed texts are added */
    GHashTable *lines;			/* "group" and "group\001key" -> line */
    guint   nerrors;
};

GKeyFile *cfgfile_load(struct cfgfile *cf, const char *path, const char *section,
		       const char *cfg_path, const char *key, GPtrArray *errors);
void    cfgfile_clear(struct cfgfile *cf);
int     cfgfile_line(struct cfgfile *cf, const char *group, const char *key);
void    cfgfile_error(struct cfgfile *cf, const char *group, const char *key,
		      const char *fmt, ...) G_GNUC_PRINTF(4, 5);
char   *cfgfile_string(GKeyFile *kf, const char *group, const char *key);
char  **cfgfile_list(GKeyFile *kf, const char *group, const char *key);

#endif
