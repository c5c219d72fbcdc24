/*
 * NAME
 *	cfgfile - read a worker's GKeyFile file with line numbers for its errors
 * SYNOPSIS
 *	#include "cfgfile.h"
 *
 *	GKeyFile *cfgfile_load(cf, path, section, cfg_path, key, errors)
 *	void	cfgfile_clear(cf)
 *	int	cfgfile_line(cf, group, key)
 *	void	cfgfile_error(cf, group, key, fmt, ...)
 *	char	*cfgfile_string(kf, group, key)
 *	char	**cfgfile_list(kf, group, key)
 * DESCRIPTION
 *	The routing rules (rules.c) and the keyword tags (classify_tags.c)
 *	are GKeyFile files of "[SECTION NAME]" groups, named by a [worker]
 *	key. GKeyFile keeps no line numbers, so cfgfile_load() indexes the
 *	line of every group and key in one pass over the text first; the same
 *	pass finds what GKeyFile would silently accept (a key given twice: the
 *	last would win) or report without a line (a line that is no key,
 *	section or comment). It returns the parsed file, or NULL when the
 *	file cannot be read, is not UTF-8 or has such an error; cf stays
 *	usable for cfgfile_error() until cfgfile_clear().
 *
 *	cfgfile_string() is a key's value, stripped (g_free), or NULL;
 *	cfgfile_list() its comma-separated items, stripped, empty ones left
 *	out (g_strfreev), or NULL.
 * DIAGNOSTICS
 *	One text per problem, added to errors (g_strdup'ed), as
 *	"FILE:LINE: [SECTION NAME] key 'KEY': what is wrong; what to do";
 *	cf->nerrors counts them.
 */
#include <string.h>

#include "cfgfile.h"

int     cfgfile_line(struct cfgfile *cf, const char *group, const char *key)
{
    g_autofree char *k = key ? g_strdup_printf("%s\001%s", group, key) : g_strdup(group);

    return GPOINTER_TO_INT(g_hash_table_lookup(cf->lines, k));
}

void    cfgfile_error(struct cfgfile *cf, const char *group, const char *key,
		      const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (key)
	g_ptr_array_add(cf->errors, g_strdup_printf("%s:%d: [%s] key '%s': %s", cf->path,
						    cfgfile_line(cf, group, key), group, key,
						    what));
    else
	g_ptr_array_add(cf->errors, g_strdup_printf("%s:%d: [%s]: %s", cf->path,
						    cfgfile_line(cf, group, NULL), group, what));
    cf->nerrors++;
}

/*
 * index_lines - one pass: the line of each group and key, and the errors
 * GKeyFile would not give with a line number.
 */
static void index_lines(struct cfgfile *cf, const char *text)
{
    g_auto(GStrv) lines = g_strsplit_set(text, "\n", -1);
    g_autofree char *group = NULL;

    for (int i = 0; lines[i]; i++) {
	char   *s = g_strstrip(lines[i]);
	char   *eq;
	g_autofree char *k = NULL;
	int     prev;

	if (*s == 0 || *s == '#')
	    continue;
	if (*s == '[') {
	    char   *end = strrchr(s, ']');

	    if (end == NULL || end[1]) {
		g_ptr_array_add(cf->errors, g_strdup_printf("%s:%d: '%s' is not a section"
							    " header: write [%s NAME]",
							    cf->path, i + 1, s, cf->section));
		cf->nerrors++;
		continue;
	    }
	    g_free(group);
	    group = g_strndup(s + 1, end - s - 1);
	    k = g_strdup(group);
	} else if ((eq = strchr(s, '=')) == NULL || group == NULL) {
	    g_ptr_array_add(cf->errors, group
			    ? g_strdup_printf("%s:%d: '%s' is not KEY = VALUE", cf->path, i + 1, s)
			    : g_strdup_printf("%s:%d: '%s' is outside a [%s NAME] section",
					      cf->path, i + 1, s, cf->section));
	    cf->nerrors++;
	    continue;
	} else {
	    *eq = 0;
	    k = g_strdup_printf("%s\001%s", group, g_strstrip(s));
	}
	if ((prev = GPOINTER_TO_INT(g_hash_table_lookup(cf->lines, k))) != 0) {
	    char   *sep = strchr(k, '\001');

	    g_ptr_array_add(cf->errors,
			    sep ? g_strdup_printf("%s:%d: key '%s' is given again (first at line"
						  " %d); give each key of a %s once", cf->path,
						  i + 1, sep + 1, prev, cf->section)
			    : g_strdup_printf("%s:%d: section [%s] is given again (first at line"
					      " %d); give each %s its own name", cf->path, i + 1, k,
					      prev, cf->section));
	    cf->nerrors++;
	    continue;
	}
	g_hash_table_insert(cf->lines, g_steal_pointer(&k), GINT_TO_POINTER(i + 1));
    }
}

GKeyFile *cfgfile_load(struct cfgfile *cf, const char *path, const char *section,
		       const char *cfg_path, const char *key, GPtrArray *errors)
{
    g_autoptr(GKeyFile) kf = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    gsize   len;

    memset(cf, 0, sizeof(*cf));
    cf->path = path;
    cf->section = section;
    cf->errors = errors;
    cf->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!g_file_get_contents(path, &text, &len, &err)) {
	g_ptr_array_add(errors, g_strdup_printf("%s: [worker] key '%s': %s",
						cfg_path ? cfg_path : "intake.conf", key,
						err->message));
	cf->nerrors++;
	return NULL;
    }
    if (strlen(text) != len || !g_utf8_validate(text, len, NULL)) {
	g_ptr_array_add(errors, g_strdup_printf("%s: not UTF-8 text (or has a NUL byte)", path));
	cf->nerrors++;
	return NULL;
    }
    index_lines(cf, text);
    kf = g_key_file_new();
    if (cf->nerrors == 0 && !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &err)) {
	g_ptr_array_add(errors, g_strdup_printf("%s: %s", path, err->message));
	cf->nerrors++;
    }
    return cf->nerrors ? NULL : g_steal_pointer(&kf);
}

void    cfgfile_clear(struct cfgfile *cf)
{
    g_clear_pointer(&cf->lines, g_hash_table_destroy);
}

char   *cfgfile_string(GKeyFile *kf, const char *group, const char *key)
{
    char   *v = g_key_file_get_string(kf, group, key, NULL);

    return v ? g_strstrip(v) : NULL;
}

char  **cfgfile_list(GKeyFile *kf, const char *group, const char *key)
{
    g_autofree char *v = cfgfile_string(kf, group, key);
    g_auto(GStrv) parts = NULL;
    GPtrArray *out;

    if (v == NULL)
	return NULL;
    parts = g_strsplit_set(v, ",", -1);
    out = g_ptr_array_new();
    for (int i = 0; parts[i]; i++) {
	char   *p = g_strstrip(parts[i]);

	if (*p)
	    g_ptr_array_add(out, g_strdup(p));
    }
    g_ptr_array_add(out, NULL);
    return (char **) g_ptr_array_free(out, FALSE);
}
