/*
 * NAME
 *	rules - load and compile the routing rules file
 * SYNOPSIS
 *	#include "rules.h"
 *
 *	struct rules *rules_load(path, cfg, errors)
 *	struct rules *rules_free(rules)
 * DESCRIPTION
 *	rules_load() reads the file named by [worker] rules (docs/rules.md):
 *	GKeyFile "[rule NAME]" sections, kept in file order, each with
 *	conditions ("if" and "if.LABEL" keys: FIELD [not] OP[/i] VALUE) and
 *	actions. Every regular expression is compiled here, once, so that a
 *	mail never pays for it and a bad one is found by intake-worker -t.
 *	An empty path gives an empty rule set.
 *
 *	The mailboxes a rule names must be in cfg; priorities are those of
 *	[mailbox] priority. Templates named by rules are checked by
 *	checkconf.c (it knows the template directory).
 * DIAGNOSTICS
 *	One text per problem, added to errors (g_strdup'ed), as
 *	"FILE:LINE: [rule NAME] key 'KEY': what is wrong; what to do".
 *	GKeyFile keeps no line numbers, so one pass over the text indexes
 *	the line of every section and key first; the same pass finds what
 *	GKeyFile would silently accept (a key given twice: the last would
 *	win) or report without a line (a line that is no key, section or
 *	comment). rules_load() returns NULL when it added any error: a
 *	worker never runs with part of its rules.
 */
#include <string.h>

#include "rules.h"

/* What a new ticket's status may be: stage_store.c makes "new", a follow-up "open". */
static const char *const statuses[] = {"new", "open", "closed", NULL};

/* Keys of a rule section besides the conditions. */
static const char *const action_keys[] = {
    "mailboxes", "match", "queue", "assignee", "category", "priority", "type", "status",
    "tags", "case", "note", "acknowledge", "template", "notify", "stop", NULL,
};

struct loader {
    const char *path;
    GPtrArray *errors;
    GHashTable *lines;			/* "group" and "group\001key" -> line */
    guint   nerrors;
};

static int line_of(struct loader *ld, const char *group, const char *key)
{
    g_autofree char *k = key ? g_strdup_printf("%s\001%s", group, key) : g_strdup(group);

    return GPOINTER_TO_INT(g_hash_table_lookup(ld->lines, k));
}

static void G_GNUC_PRINTF(4, 5) error(struct loader *ld, const char *group, const char *key,
				       const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (key)
	g_ptr_array_add(ld->errors, g_strdup_printf("%s:%d: [%s] key '%s': %s", ld->path,
						    line_of(ld, group, key), group, key, what));
    else
	g_ptr_array_add(ld->errors, g_strdup_printf("%s:%d: [%s]: %s", ld->path,
						    line_of(ld, group, NULL), group, what));
    ld->nerrors++;
}

/*
 * index_lines - one pass: the line of each group and key, and the errors
 * GKeyFile would not give with a line number.
 */
static void index_lines(struct loader *ld, const char *text)
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
		g_ptr_array_add(ld->errors, g_strdup_printf("%s:%d: '%s' is not a section"
							    " header: write [rule NAME]",
							    ld->path, i + 1, s));
		ld->nerrors++;
		continue;
	    }
	    g_free(group);
	    group = g_strndup(s + 1, end - s - 1);
	    k = g_strdup(group);
	} else if ((eq = strchr(s, '=')) == NULL || group == NULL) {
	    g_ptr_array_add(ld->errors, g_strdup_printf("%s:%d: '%s' is %s", ld->path, i + 1, s,
							group ? "not KEY = VALUE"
							: "outside a [rule NAME] section"));
	    ld->nerrors++;
	    continue;
	} else {
	    *eq = 0;
	    k = g_strdup_printf("%s\001%s", group, g_strstrip(s));
	}
	if ((prev = GPOINTER_TO_INT(g_hash_table_lookup(ld->lines, k))) != 0) {
	    char   *sep = strchr(k, '\001');

	    g_ptr_array_add(ld->errors,
			    g_strdup_printf("%s:%d: %s%s%s is given again (first at line %d);"
					    " give each %s once", ld->path, i + 1,
					    sep ? "key '" : "section [", sep ? sep + 1 : k,
					    sep ? "'" : "]", prev, sep ? "key of a rule"
					    : "rule its own name"));
	    ld->nerrors++;
	    continue;
	}
	g_hash_table_insert(ld->lines, g_steal_pointer(&k), GINT_TO_POINTER(i + 1));
    }
}

static void cond_free(gpointer p)
{
    struct rule_cond *c = p;

    g_free(c->key);
    g_free(c->header);
    g_free(c->value);
    if (c->re)
	g_regex_unref(c->re);
    g_free(c);
}

static void rule_free(gpointer p)
{
    struct rule *r = p;

    g_free(r->name);
    g_strfreev(r->mailboxes);
    g_ptr_array_free(r->conds, TRUE);
    g_free(r->queue);
    g_free(r->assignee);
    g_free(r->category);
    g_free(r->priority);
    g_free(r->type);
    g_free(r->status);
    g_strfreev(r->tags);
    g_free(r->case_name);
    g_free(r->template_name);
    g_free(r->notify);
    g_free(r);
}

/* parse_cond - "FIELD [not] OP[/i] VALUE"; NULL after an error. */
static struct rule_cond *parse_cond(struct loader *ld, const char *group, const char *key,
				    const char *text)
{
    static const struct {
	const char *name;
	enum rule_field field;
    } fields[] = {
	{"sender", RF_SENDER}, {"sender_domain", RF_SENDER_DOMAIN},
	{"recipient", RF_RECIPIENT}, {"subject", RF_SUBJECT}, {"body", RF_BODY},
    };
    g_autofree char *copy = g_strdup(text);
    struct rule_cond *c = g_new0(struct rule_cond, 1);
    char   *s = g_strchug(copy), *word, *op;
    gboolean found = FALSE;

    c->key = g_strdup(key);
    word = s;
    s += strcspn(s, " \t");
    if (*s)
	*s++ = 0;
    if (g_ascii_strncasecmp(word, "header:", 7) == 0 && word[7]) {
	c->field = RF_HEADER;
	c->header = g_strdup(word + 7);
	found = TRUE;
    }
    for (size_t i = 0; !found && i < G_N_ELEMENTS(fields); i++) {
	if (g_ascii_strcasecmp(word, fields[i].name) == 0) {
	    c->field = fields[i].field;
	    found = TRUE;
	}
    }
    if (!found) {
	error(ld, group, key, "unknown field '%s': use sender, sender_domain, recipient,"
	      " subject, body or header:NAME", word);
	goto bad;
    }
    s = g_strchug(s);
    op = s;
    s += strcspn(s, " \t");
    if (*s)
	*s++ = 0;
    if (g_ascii_strcasecmp(op, "not") == 0) {
	c->negate = TRUE;
	s = g_strchug(s);
	op = s;
	s += strcspn(s, " \t");
	if (*s)
	    *s++ = 0;
    }
    {
	size_t  n = strlen(op);

	if (n > 2 && strcmp(op + n - 2, "/i") == 0) {
	    c->icase = TRUE;
	    op[n - 2] = 0;
	}
    }
    if (g_ascii_strcasecmp(op, "equals") == 0)
	c->op = RO_EQUALS;
    else if (g_ascii_strcasecmp(op, "contains") == 0)
	c->op = RO_CONTAINS;
    else if (g_ascii_strcasecmp(op, "regex") == 0)
	c->op = RO_REGEX;
    else {
	error(ld, group, key, "unknown operator '%s' in '%s': write FIELD [not]"
	      " equals|contains|regex[/i] VALUE", op, text);
	goto bad;
    }
    s = g_strchug(s);
    if (*s == 0 && c->op != RO_EQUALS) {
	error(ld, group, key, "'%s' has no value to look for", text);
	goto bad;
    }
    /* Addresses and domains are compared without regard to case (RFC 5321 in practice). */
    if (c->field == RF_SENDER || c->field == RF_SENDER_DOMAIN || c->field == RF_RECIPIENT)
	c->icase = TRUE;
    if (c->op == RO_REGEX) {
	g_autoptr(GError) err = NULL;

	c->value = g_strdup(s);
	c->re = g_regex_new(s, G_REGEX_OPTIMIZE | (c->icase ? G_REGEX_CASELESS : 0), 0, &err);
	if (c->re == NULL) {
	    error(ld, group, key, "regular expression '%s': %s", s, err->message);
	    goto bad;
	}
    } else {
	c->value = c->icase ? g_utf8_casefold(s, -1) : g_strdup(s);
    }
    return c;
  bad:
    cond_free(c);
    return NULL;
}

static char *get_string(GKeyFile *kf, const char *group, const char *key)
{
    char   *v = g_key_file_get_string(kf, group, key, NULL);

    return v ? g_strstrip(v) : NULL;
}

static gboolean get_bool(struct loader *ld, GKeyFile *kf, const char *group, const char *key,
			 int *out)
{
    g_autofree char *v = get_string(kf, group, key);

    if (v == NULL)
	return TRUE;
    if (g_ascii_strcasecmp(v, "yes") == 0 || g_ascii_strcasecmp(v, "true") == 0)
	*out = 1;
    else if (g_ascii_strcasecmp(v, "no") == 0 || g_ascii_strcasecmp(v, "false") == 0)
	*out = 0;
    else {
	error(ld, group, key, "'%s' is not yes or no", v);
	return FALSE;
    }
    return TRUE;
}

static char **get_list(GKeyFile *kf, const char *group, const char *key)
{
    g_autofree char *v = get_string(kf, group, key);
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

static gboolean one_of(const char *v, const char *const *allowed)
{
    for (int i = 0; allowed[i]; i++)
	if (strcmp(v, allowed[i]) == 0)
	    return TRUE;
    return FALSE;
}

static struct rule *parse_rule(struct loader *ld, GKeyFile *kf, const char *group,
			       const struct intake_config *cfg)
{
    struct rule *r = g_new0(struct rule, 1);
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
    guint   before = ld->nerrors;
    int     any = 0, b;

    r->name = g_strstrip(g_strdup(group + 5));
    r->line = line_of(ld, group, NULL);
    r->conds = g_ptr_array_new_with_free_func(cond_free);
    r->acknowledge = -1;
    if (*r->name == 0)
	error(ld, group, NULL, "a rule needs a name: [rule NAME]");
    for (int i = 0; keys && keys[i]; i++) {
	const char *k = keys[i];

	if (strcmp(k, "if") == 0 || (strncmp(k, "if.", 3) == 0 && k[3])) {
	    g_autofree char *v = get_string(kf, group, k);
	    struct rule_cond *c = parse_cond(ld, group, k, v ? v : "");

	    if (c)
		g_ptr_array_add(r->conds, c);
	} else if (!one_of(k, action_keys)) {
	    error(ld, group, k, "unknown key: conditions are 'if' or 'if.LABEL', actions"
		  " are listed in docs/rules.md");
	}
    }
    if (r->conds->len == 0 && ld->nerrors == before)
	error(ld, group, NULL, "no condition: add 'if = FIELD OP VALUE' (a rule for every"
	      " mail: if = subject regex ^ ; see docs/rules.md)");
    {
	g_autofree char *m = get_string(kf, group, "match");

	if (m && strcmp(m, "any") == 0)
	    any = 1;
	else if (m && strcmp(m, "all") != 0)
	    error(ld, group, "match", "'%s' is not all or any", m);
	r->any = any;
    }
    r->mailboxes = get_list(kf, group, "mailboxes");
    for (int i = 0; r->mailboxes && r->mailboxes[i]; i++)
	if (cfg && config_mailbox(cfg, r->mailboxes[i]) == NULL)
	    error(ld, group, "mailboxes", "no [mailbox %s] in %s", r->mailboxes[i], cfg->path);
    r->queue = get_string(kf, group, "queue");
    r->assignee = get_string(kf, group, "assignee");
    r->category = get_string(kf, group, "category");
    r->type = get_string(kf, group, "type");
    r->priority = get_string(kf, group, "priority");
    if (r->priority && !one_of(r->priority, config_priorities)) {
	g_autofree char *list = g_strjoinv(", ", (char **) config_priorities);

	error(ld, group, "priority", "'%s' is not one of %s", r->priority, list);
    }
    r->status = get_string(kf, group, "status");
    if (r->status && !one_of(r->status, statuses)) {
	g_autofree char *list = g_strjoinv(", ", (char **) statuses);

	error(ld, group, "status", "'%s' is not one of %s", r->status, list);
    }
    r->tags = get_list(kf, group, "tags");
    r->case_name = get_string(kf, group, "case");
    r->template_name = get_string(kf, group, "template");
    if (r->template_name && (strchr(r->template_name, '/') || *r->template_name == '.'
			     || *r->template_name == 0))
	error(ld, group, "template", "'%s' is not a template name (a file name in [store]"
	      " templates, without .LANG.txt)", r->template_name);
    r->template_line = line_of(ld, group, "template");
    r->notify = get_string(kf, group, "notify");
    r->notify_line = line_of(ld, group, "notify");
    if (r->notify && (strchr(r->notify, '@') == NULL || strpbrk(r->notify, " \t<>,\"")))
	error(ld, group, "notify", "'%s' is not one address like agent@example.com",
	      r->notify);
    b = 0;
    if (get_bool(ld, kf, group, "note", &b))
	r->note = b;
    if (r->note && r->case_name == NULL)
	error(ld, group, "note", "a note goes on the newest ticket of a case: set 'case' too");
    b = 0;
    if (get_bool(ld, kf, group, "stop", &b))
	r->stop = b;
    (void) get_bool(ld, kf, group, "acknowledge", &r->acknowledge);
    if (ld->nerrors != before) {
	rule_free(r);
	return NULL;
    }
    return r;
}

struct rules *rules_load(const char *path, const struct intake_config *cfg, GPtrArray *errors)
{
    struct rules *rs = g_new0(struct rules, 1);
    struct loader ld = {path, errors, NULL, 0};
    g_autoptr(GKeyFile) kf = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) groups = NULL;
    gsize   len;

    rs->path = g_strdup(path ? path : "");
    rs->list = g_ptr_array_new_with_free_func(rule_free);
    if (path == NULL || *path == 0)
	return rs;
    if (!g_file_get_contents(path, &text, &len, &err)) {
	g_ptr_array_add(errors, g_strdup_printf("%s: [worker] key 'rules': %s",
						cfg ? cfg->path : "intake.conf", err->message));
	return rules_free(rs);
    }
    if (strlen(text) != len || !g_utf8_validate(text, len, NULL)) {
	g_ptr_array_add(errors, g_strdup_printf("%s: not UTF-8 text (or has a NUL byte)", path));
	return rules_free(rs);
    }
    ld.lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    index_lines(&ld, text);
    kf = g_key_file_new();
    if (ld.nerrors == 0 && !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &err)) {
	g_ptr_array_add(errors, g_strdup_printf("%s: %s", path, err->message));
	ld.nerrors++;
    }
    if (ld.nerrors == 0)
	groups = g_key_file_get_groups(kf, NULL);
    for (int i = 0; groups && groups[i]; i++) {
	struct rule *r;

	if (strncmp(groups[i], "rule ", 5) != 0) {
	    error(&ld, groups[i], NULL, "unknown section: a rules file has [rule NAME]"
		  " sections only");
	    continue;
	}
	if ((r = parse_rule(&ld, kf, groups[i], cfg)) != NULL)
	    g_ptr_array_add(rs->list, r);
    }
    g_hash_table_destroy(ld.lines);
    return ld.nerrors ? rules_free(rs) : rs;
}

struct rules *rules_free(struct rules *rs)
{
    if (rs) {
	g_ptr_array_free(rs->list, TRUE);
	g_free(rs->path);
	g_free(rs);
    }
    return NULL;
}
