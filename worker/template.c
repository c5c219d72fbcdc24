/*
 * NAME
 *	template - acknowledgement templates, per mailbox and language
 * SYNOPSIS
 *	struct templates *templates_new(dir)
 *	int	templates_check(ts, name, language, &why)
 *	int	templates_render(ts, name, language, vars, &subject, &body, &why)
 *	int	templates_render_html(ts, name, language, vars, &html, &why)
 *	struct templates *templates_free(ts)
 * DESCRIPTION
 *	A template is the file DIR/NAME.LANG.txt (falling back to
 *	DIR/NAME.en.txt, then DIR/NAME.txt): a "Subject:" line, an empty
 *	line, then the body, in UTF-8. "{{variable}}" is replaced by the
 *	variable's value (the names are in template_variables[], and
 *	faq.N.title, faq.N.url, faq.N.score: faq_variable()); "{{{{"
 *	writes "{{"; "{{#if variable}}...{{else}}...{{/if}}" shows a part
 *	when the variable is set and not empty (docs/templates.md). Debian
 *	ships no C template engine (ctemplate is C++), and mustache-style
 *	substitution of known names with conditionals is all a reply needs:
 *	one linear scanner (expand()) does it, for checking and rendering.
 *
 *	DIR/NAME.LANG.html beside the chosen .txt file is its HTML
 *	alternative (the whole file is the body, same syntax); values are
 *	HTML-escaped there.
 *
 *	Files are read once and cached. templates_check() loads a template
 *	(and its HTML alternative) and reports a missing file, a missing
 *	Subject line, invalid UTF-8, unknown variables and unbalanced
 *	conditionals as "FILE:LINE: ..." (for -t and at start).
 *	templates_render() fills in the variables and returns newly
 *	allocated subject and body; templates_render_html() the HTML
 *	alternative, or NULL when there is none. Values are inserted as
 *	they are (escaped in HTML) and never read again as template text;
 *	the reply builder is what keeps them out of header syntax.
 * DIAGNOSTICS
 *	-1 and *why (g_free) on error; 0 on success.
 */
#include <string.h>

#include "config.h"
#include "template.h"

const char *const template_variables[] = {
    "ticket_number", "ticket_tag", "subject", "customer_name", "customer_address",
    "mailbox", "mailbox_name", "mailbox_address", "date", "category", "priority",
    "language", "ticket_url", "sentiment", "action", "action_target", "action_reason",
    "duration", "time_summary", "queue", "assignee", "excerpt", NULL,
};

/* {{#if}} inside {{#if}}: deeper is a template nobody can read. */
#define TEMPLATE_MAX_DEPTH 8

struct template {
    char   *path;
    char   *subject;
    char   *body;
    int     body_line;			/* line of the file where the body starts */
    char   *html_path;			/* the same name with .html, if there is one */
    char   *html;			/* its text: the HTML alternative; NULL: none */
};

struct templates {
    char   *dir;
    GHashTable *cache;			/* path -> struct template */
    GMutex  lock;
};

static void template_free(gpointer p)
{
    struct template *t = p;

    g_free(t->path);
    g_free(t->subject);
    g_free(t->body);
    g_free(t->html_path);
    g_free(t->html);
    g_free(t);
}

struct templates *templates_new(const char *dir)
{
    struct templates *ts = g_new0(struct templates, 1);

    ts->dir = g_strdup(dir);
    ts->cache = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, template_free);
    g_mutex_init(&ts->lock);
    return ts;
}

struct templates *templates_free(struct templates *ts)
{
    if (ts == NULL)
	return NULL;
    g_hash_table_destroy(ts->cache);
    g_mutex_clear(&ts->lock);
    g_free(ts->dir);
    g_free(ts);
    return NULL;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/*
 * A tag: "{{NAME}}", "{{#if NAME}}", "{{else}}", "{{/if}}", white space
 * allowed inside the braces. Any word without braces and white space is
 * a NAME, so that a typo ({{Customer_Name}}, {{ticket-number}}) is
 * reported as an unknown variable instead of going out verbatim.
 */
enum tag_kind { TAG_NONE, TAG_VAR, TAG_IF, TAG_ELSE, TAG_ENDIF };

struct tag {
    enum tag_kind kind;
    const char *name;			/* TAG_VAR, TAG_IF */
    size_t  name_len;
    const char *end;			/* after the closing "}}" */
};

/* word - the run of characters at p that are neither braces nor white space */
static size_t word(const char *p)
{
    size_t  n = 0;

    while (p[n] && p[n] != '{' && p[n] != '}' && !is_space((unsigned char) p[n]))
	n++;
    return n;
}

/* tag_at - the tag that starts at p ("{{"), or TAG_NONE; bounded by the tag's length */
static struct tag tag_at(const char *p)
{
    struct tag t = {TAG_NONE, NULL, 0, NULL};
    const char *q = p + 2;
    size_t  n;

    while (is_space((unsigned char) *q))
	q++;
    if ((n = word(q)) == 0)
	return t;
    if (n == 3 && memcmp(q, "#if", 3) == 0 && is_space((unsigned char) q[3])) {
	q += 3;
	while (is_space((unsigned char) *q))
	    q++;
	if ((n = word(q)) == 0)
	    return t;
	t.kind = TAG_IF;
    } else if (n == 4 && memcmp(q, "else", 4) == 0) {
	t.kind = TAG_ELSE;
    } else if (n == 3 && memcmp(q, "/if", 3) == 0) {
	t.kind = TAG_ENDIF;
    } else {
	t.kind = TAG_VAR;
    }
    t.name = q;
    t.name_len = n;
    q += n;
    while (is_space((unsigned char) *q))
	q++;
    if (q[0] != '}' || q[1] != '}') {
	t.kind = TAG_NONE;
	return t;
    }
    t.end = q + 2;
    return t;
}

/*
 * faq_variable - "faq.N.title", "faq.N.url" or "faq.N.score", N from 1 to
 * CONFIG_FAQ_MAX: the FAQ entries suggested for the mail (classify_faq.c).
 */
static int faq_variable(const char *name, size_t n)
{
    static const char *const fields[] = {"title", "url", "score"};

    if (n < 6 || memcmp(name, "faq.", 4) != 0 || name[4] < '1'
	|| name[4] > '0' + CONFIG_FAQ_MAX || name[5] != '.')
	return 0;
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
	if (n - 6 == strlen(fields[i]) && memcmp(name + 6, fields[i], n - 6) == 0)
	    return 1;
    return 0;
}

static int known_variable(const char *name, size_t n)
{
    for (int i = 0; template_variables[i]; i++)
	if (strlen(template_variables[i]) == n && memcmp(template_variables[i], name, n) == 0)
	    return 1;
    return faq_variable(name, n);
}

/* value - the variable's value, "" when unset */
static const char *value(GHashTable *vars, const char *name, size_t n)
{
    char    key[64];
    const char *v;

    if (vars == NULL || n >= sizeof(key))
	return "";
    memcpy(key, name, n);
    key[n] = 0;
    v = g_hash_table_lookup(vars, key);
    return v ? v : "";
}

/*
 * expand - one pass over text: "{{{{" writes "{{", a variable its value
 * (never scanned again: a value holding "{{" stays as it is), a
 * conditional part appears when its variable is set and not empty
 * ({{else}}: when not). out NULL: check only. Linear in the text and the
 * values written. -1 and *why "PATH:LINE: ..." on an unknown variable or
 * an unbalanced or too deep {{#if}}; line is the file's line of text.
 * html: values are escaped (g_markup_escape_text(): & < > " '), so that
 * a customer's name cannot add markup to the HTML alternative.
 */
static int expand(const char *text, int line, const char *path, GHashTable *vars, int html,
		  GString *out, char **why)
{
    struct {
	int     on;			/* the part is shown */
	int     seen_else;
	int     line;
    } stack[TEMPLATE_MAX_DEPTH];
    int     depth = 0;
    int     showing = 1;
    const char *p = text;

    while (*p) {
	struct tag t;

	if (*p == '\n')
	    line++;
	if (p[0] == '{' && p[1] == '{' && p[2] == '{' && p[3] == '{') {
	    if (out && showing)
		g_string_append(out, "{{");
	    p += 4;
	    continue;
	}
	if (p[0] != '{' || p[1] != '{' || (t = tag_at(p)).kind == TAG_NONE) {
	    if (out && showing)
		g_string_append_c(out, *p);
	    p++;
	    continue;
	}
	switch (t.kind) {
	case TAG_VAR:
	case TAG_IF:
	    if (!known_variable(t.name, t.name_len)) {
		g_autofree char *known = g_strjoinv(", ", (char **) template_variables);

		*why = g_strdup_printf("%s:%d: unknown variable {{%s%.*s}} (known: %s,"
				       " faq.N.title, faq.N.url, faq.N.score with N 1 to "
				       G_STRINGIFY(CONFIG_FAQ_MAX) ")", path,
				       line, t.kind == TAG_IF ? "#if " : "", (int) t.name_len,
				       t.name, known);
		return -1;
	    }
	    if (t.kind == TAG_VAR) {
		if (out && showing && html) {
		    g_autofree char *e = g_markup_escape_text(value(vars, t.name, t.name_len), -1);

		    g_string_append(out, e);
		} else if (out && showing) {
		    g_string_append(out, value(vars, t.name, t.name_len));
		}
		break;
	    }
	    if (depth == TEMPLATE_MAX_DEPTH) {
		*why = g_strdup_printf("%s:%d: {{#if}} nested deeper than %d", path, line,
				       TEMPLATE_MAX_DEPTH);
		return -1;
	    }
	    stack[depth].on = *value(vars, t.name, t.name_len) != 0;
	    stack[depth].seen_else = 0;
	    stack[depth].line = line;
	    depth++;
	    break;
	case TAG_ELSE:
	    if (depth == 0 || stack[depth - 1].seen_else) {
		*why = g_strdup_printf("%s:%d: {{else}} without {{#if}}", path, line);
		return -1;
	    }
	    stack[depth - 1].on = !stack[depth - 1].on;
	    stack[depth - 1].seen_else = 1;
	    break;
	case TAG_ENDIF:
	    if (depth == 0) {
		*why = g_strdup_printf("%s:%d: {{/if}} without {{#if}}", path, line);
		return -1;
	    }
	    depth--;
	    break;
	case TAG_NONE:
	    break;
	}
	showing = 1;
	for (int i = 0; i < depth; i++)
	    showing &= stack[i].on;
	p = t.end;
    }
    if (depth > 0) {
	*why = g_strdup_printf("%s:%d: {{#if}} is not closed by {{/if}}", path,
			       stack[depth - 1].line);
	return -1;
    }
    return 0;
}

static struct template *parse(const char *path, char **why)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    struct template *t;
    const char *nl;
    gsize   len;
    int     line = 2;

    if (!g_file_get_contents(path, &text, &len, &err)) {
	*why = g_strdup_printf("%s: %s", path, err->message);
	return NULL;
    }
    if (!g_utf8_validate(text, len, NULL)) {
	*why = g_strdup_printf("%s: not valid UTF-8", path);
	return NULL;
    }
    if (g_ascii_strncasecmp(text, "Subject:", 8) != 0 || (nl = strchr(text, '\n')) == NULL) {
	/* An unknown variable is the more useful report, where there is one. */
	if (expand(text, 1, path, NULL, 0, NULL, why) < 0)
	    return NULL;
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
    if (*nl == '\n') {
	nl++;
	line++;
    }
    t->body = g_strdup(nl);
    t->body_line = line;
    /* Checked now, so that -t finds what rendering would. */
    if (expand(t->subject, 1, path, NULL, 0, NULL, why) < 0
	|| expand(t->body, t->body_line, path, NULL, 0, NULL, why) < 0) {
	template_free(t);
	return NULL;
    }
    /* NAME.LANG.html beside NAME.LANG.txt: the HTML alternative, all of it body. */
    if (g_str_has_suffix(path, ".txt")) {
	g_autofree char *stem = g_strndup(path, strlen(path) - 4);

	t->html_path = g_strconcat(stem, ".html", NULL);
	if (!g_file_test(t->html_path, G_FILE_TEST_EXISTS)) {
	    g_clear_pointer(&t->html_path, g_free);
	} else if (!g_file_get_contents(t->html_path, &t->html, &len, &err)) {
	    *why = g_strdup_printf("%s: %s", t->html_path, err->message);
	    template_free(t);
	    return NULL;
	} else if (!g_utf8_validate(t->html, len, NULL)) {
	    *why = g_strdup_printf("%s: not valid UTF-8", t->html_path);
	    template_free(t);
	    return NULL;
	} else if (expand(t->html, 1, t->html_path, NULL, 1, NULL, why) < 0) {
	    template_free(t);
	    return NULL;
	}
    }
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
	    t = parse(path, why);
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

int     templates_render(struct templates *ts, const char *name, const char *language,
			 GHashTable *vars, char **subject, char **body, char **why)
{
    struct template *t = lookup(ts, name, language, why);
    GString *s, *b;

    *subject = *body = NULL;
    if (t == NULL)
	return -1;
    s = g_string_new(NULL);
    b = g_string_new(NULL);
    /* Checked at load: cannot fail now, but an error is an error. */
    if (expand(t->subject, 1, t->path, vars, 0, s, why) < 0
	|| expand(t->body, t->body_line, t->path, vars, 0, b, why) < 0) {
	g_string_free(s, TRUE);
	g_string_free(b, TRUE);
	return -1;
    }
    *subject = g_string_free(s, FALSE);
    *body = g_string_free(b, FALSE);
    return 0;
}

int     templates_render_html(struct templates *ts, const char *name, const char *language,
			      GHashTable *vars, char **html, char **why)
{
    struct template *t = lookup(ts, name, language, why);
    GString *h;

    *html = NULL;
    if (t == NULL)
	return -1;
    if (t->html == NULL)
	return 0;
    h = g_string_new(NULL);
    if (expand(t->html, 1, t->html_path, vars, 1, h, why) < 0) {
	g_string_free(h, TRUE);
	return -1;
    }
    *html = g_string_free(h, FALSE);
    return 0;
}
