/*
 * NAME
 *	template - acknowledgement templates, per mailbox and language
 * SYNOPSIS
 *	struct templates *templates_new(dir)
 *	int	templates_check(ts, name, language, &why)
 *	int	templates_render(ts, name, language, vars, &subject, &body, &why)
 *	struct templates *templates_free(ts)
 * DESCRIPTION
 *	A template is the file DIR/NAME.LANG.txt (falling back to
 *	DIR/NAME.en.txt, then DIR/NAME.txt): a "Subject:" line, an empty
 *	line, then the body, in UTF-8. "{{variable}}" is replaced by the
 *	variable's value (the names are in template_variables[]); "{{{{"
 *	writes "{{". Debian ships no C template engine (ctemplate is C++),
 *	and mustache-style substitution of known names is all a reply needs:
 *	GRegex does it.
 *
 *	Files are read once and cached. templates_check() loads a template
 *	and reports a missing file, a missing Subject line, invalid UTF-8
 *	and unknown variables as "FILE:LINE: ..." (for -t and at start).
 *	templates_render() fills in the variables and returns newly
 *	allocated subject and body. Values are inserted as they are; the
 *	reply builder is what keeps them out of header syntax.
 * DIAGNOSTICS
 *	-1 and *why (g_free) on error; 0 on success.
 */
#include <string.h>

#include "template.h"

const char *const template_variables[] = {
    "ticket_number", "ticket_tag", "subject", "customer_name", "customer_address",
    "mailbox", "mailbox_name", "mailbox_address", "date", NULL,
};

struct template {
    char   *path;
    char   *subject;
    char   *body;
};

struct templates {
    char   *dir;
    GHashTable *cache;			/* path -> struct template */
    GRegex *var;
    GMutex  lock;
};

static void template_free(gpointer p)
{
    struct template *t = p;

    g_free(t->path);
    g_free(t->subject);
    g_free(t->body);
    g_free(t);
}

struct templates *templates_new(const char *dir)
{
    struct templates *ts = g_new0(struct templates, 1);

    ts->dir = g_strdup(dir);
    ts->cache = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, template_free);
    /*
     * Any "{{name}}" is a variable, not only the lower-case names: a typo
     * such as {{Customer_Name}} or {{ticket-number}} is then reported as
     * an unknown variable instead of going out to customers verbatim.
     */
    ts->var = g_regex_new("\\{\\{\\{\\{|\\{\\{\\s*([^{}\\s]+)\\s*\\}\\}", G_REGEX_OPTIMIZE, 0,
			  NULL);
    g_mutex_init(&ts->lock);
    return ts;
}

struct templates *templates_free(struct templates *ts)
{
    if (ts == NULL)
	return NULL;
    g_hash_table_destroy(ts->cache);
    g_regex_unref(ts->var);
    g_mutex_clear(&ts->lock);
    g_free(ts->dir);
    g_free(ts);
    return NULL;
}

static int line_of(const char *text, const char *at)
{
    int     line = 1;

    for (const char *p = text; p < at; p++)
	if (*p == '\n')
	    line++;
    return line;
}

static struct template *parse(struct templates *ts, const char *path, char **why)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GMatchInfo) mi = NULL;
    struct template *t;
    const char *nl;
    gsize   len;

    if (!g_file_get_contents(path, &text, &len, &err)) {
	*why = g_strdup_printf("%s: %s", path, err->message);
	return NULL;
    }
    if (!g_utf8_validate(text, len, NULL)) {
	*why = g_strdup_printf("%s: not valid UTF-8", path);
	return NULL;
    }
    for (g_regex_match(ts->var, text, 0, &mi); g_match_info_matches(mi);
	 g_match_info_next(mi, NULL)) {
	g_autofree char *name = g_match_info_fetch(mi, 1);
	int     start;

	if (name && *name && !g_strv_contains(template_variables, name)) {
	    g_autofree char *known = g_strjoinv(", ", (char **) template_variables);

	    g_match_info_fetch_pos(mi, 0, &start, NULL);
	    *why = g_strdup_printf("%s:%d: unknown variable {{%s}} (known: %s)", path,
				   line_of(text, text + start), name, known);
	    return NULL;
	}
    }
    if (g_ascii_strncasecmp(text, "Subject:", 8) != 0 || (nl = strchr(text, '\n')) == NULL) {
	*why = g_strdup_printf("%s:1: the first line must be 'Subject: ...', then an"
			       " empty line, then the body", path);
	return NULL;
    }
    t = g_new0(struct template, 1);
    t->path = g_strdup(path);
    t->subject = g_strstrip(g_strndup(text + 8, nl - text - 8));
    nl++;
    if (*nl == '\r')
	nl++;
    if (*nl == '\n')
	nl++;
    t->body = g_strdup(nl);
    return t;
}

/* lookup - the cached template for name and language; NULL and *why */
static struct template *lookup(struct templates *ts, const char *name, const char *lang,
			       char **why)
{
    g_autofree char *f1 = g_strdup_printf("%s.%s.txt", name, lang ? lang : "en");
    g_autofree char *f2 = g_strdup_printf("%s.en.txt", name);
    g_autofree char *f3 = g_strdup_printf("%s.txt", name);
    const char *files[] = {f1, f2, f3};
    struct template *t = NULL;

    *why = NULL;
    if (strchr(name, '/') || (lang && strchr(lang, '/'))) {
	*why = g_strdup_printf("template name '%s' or language '%s' holds a '/'", name,
			       lang ? lang : "");
	return NULL;
    }
    g_mutex_lock(&ts->lock);
    for (gsize i = 0; i < G_N_ELEMENTS(files) && t == NULL; i++) {
	g_autofree char *path = g_build_filename(ts->dir, files[i], NULL);

	t = g_hash_table_lookup(ts->cache, path);
	if (t == NULL && g_file_test(path, G_FILE_TEST_EXISTS)) {
	    t = parse(ts, path, why);
	    if (t == NULL)
		break;
	    g_hash_table_insert(ts->cache, t->path, t);
	}
    }
    g_mutex_unlock(&ts->lock);
    if (t == NULL && *why == NULL)
	*why = g_strdup_printf("no template %s/%s (nor %s, %s)", ts->dir, f1, f2, f3);
    return t;
}

int     templates_check(struct templates *ts, const char *name, const char *language,
			char **why)
{
    return lookup(ts, name, language, why) ? 0 : -1;
}

struct fill {
    GHashTable *vars;
};

static gboolean fill_var(const GMatchInfo *mi, GString *out, gpointer data)
{
    struct fill *f = data;
    g_autofree char *name = g_match_info_fetch(mi, 1);
    const char *value;

    if (name == NULL || *name == 0) {
	g_string_append(out, "{{");
	return FALSE;
    }
    value = g_hash_table_lookup(f->vars, name);
    if (value)
	g_string_append(out, value);
    return FALSE;
}

int     templates_render(struct templates *ts, const char *name, const char *language,
			 GHashTable *vars, char **subject, char **body, char **why)
{
    struct template *t = lookup(ts, name, language, why);
    struct fill f = {vars};

    if (t == NULL)
	return -1;
    *subject = g_regex_replace_eval(ts->var, t->subject, -1, 0, 0, fill_var, &f, NULL);
    *body = g_regex_replace_eval(ts->var, t->body, -1, 0, 0, fill_var, &f, NULL);
    return 0;
}
