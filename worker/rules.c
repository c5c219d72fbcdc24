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
 *	The file is read by cfgfile.c, which knows each section's and key's
 *	line (and finds a key given twice). rules_load() returns NULL when
 *	it added any error: a worker never runs with part of its rules.
 */
#include <string.h>

#include "cfgfile.h"
#include "rules.h"

/* What a new ticket's status may be: stage_store.c makes "new", a follow-up "open". */
static const char *const statuses[] = {"new", "open", "closed", NULL};

/* Keys of a rule section besides the conditions. */
static const char *const action_keys[] = {
    "mailboxes", "match", "queue", "assignee", "category", "priority", "type", "status",
    "tags", "case", "note", "acknowledge", "template", "notify", "stop", NULL,
};

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
static struct rule_cond *parse_cond(struct cfgfile *ld, const char *group, const char *key,
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
	cfgfile_error(ld, group, key, "unknown field '%s': use sender, sender_domain, recipient,"
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
	cfgfile_error(ld, group, key, "unknown operator '%s' in '%s': write FIELD [not]"
	      " equals|contains|regex[/i] VALUE", op, text);
	goto bad;
    }
    s = g_strchug(s);
    if (*s == 0 && c->op != RO_EQUALS) {
	cfgfile_error(ld, group, key, "'%s' has no value to look for", text);
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
	    cfgfile_error(ld, group, key, "regular expression '%s': %s", s, err->message);
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

static gboolean get_bool(struct cfgfile *ld, GKeyFile *kf, const char *group, const char *key,
			 int *out)
{
    g_autofree char *v = cfgfile_string(kf, group, key);

    if (v == NULL)
	return TRUE;
    if (g_ascii_strcasecmp(v, "yes") == 0 || g_ascii_strcasecmp(v, "true") == 0)
	*out = 1;
    else if (g_ascii_strcasecmp(v, "no") == 0 || g_ascii_strcasecmp(v, "false") == 0)
	*out = 0;
    else {
	cfgfile_error(ld, group, key, "'%s' is not yes or no", v);
	return FALSE;
    }
    return TRUE;
}

static gboolean one_of(const char *v, const char *const *allowed)
{
    for (int i = 0; allowed[i]; i++)
	if (strcmp(v, allowed[i]) == 0)
	    return TRUE;
    return FALSE;
}

static struct rule *parse_rule(struct cfgfile *ld, GKeyFile *kf, const char *group,
			       const struct intake_config *cfg)
{
    struct rule *r = g_new0(struct rule, 1);
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
    guint   before = ld->nerrors;
    int     any = 0, b;

    r->name = g_strstrip(g_strdup(group + 5));
    r->line = cfgfile_line(ld, group, NULL);
    r->conds = g_ptr_array_new_with_free_func(cond_free);
    r->acknowledge = -1;
    if (*r->name == 0)
	cfgfile_error(ld, group, NULL, "a rule needs a name: [rule NAME]");
    for (int i = 0; keys && keys[i]; i++) {
	const char *k = keys[i];

	if (strcmp(k, "if") == 0 || (strncmp(k, "if.", 3) == 0 && k[3])) {
	    g_autofree char *v = cfgfile_string(kf, group, k);
	    struct rule_cond *c = parse_cond(ld, group, k, v ? v : "");

	    if (c)
		g_ptr_array_add(r->conds, c);
	} else if (!one_of(k, action_keys)) {
	    cfgfile_error(ld, group, k, "unknown key: conditions are 'if' or 'if.LABEL', actions"
		  " are listed in docs/rules.md");
	}
    }
    if (r->conds->len == 0 && ld->nerrors == before)
	cfgfile_error(ld, group, NULL, "no condition: add 'if = FIELD OP VALUE' (a rule for every"
	      " mail: if = subject regex ^ ; see docs/rules.md)");
    {
	g_autofree char *m = cfgfile_string(kf, group, "match");

	if (m && strcmp(m, "any") == 0)
	    any = 1;
	else if (m && strcmp(m, "all") != 0)
	    cfgfile_error(ld, group, "match", "'%s' is not all or any", m);
	r->any = any;
    }
    r->mailboxes = cfgfile_list(kf, group, "mailboxes");
    for (int i = 0; r->mailboxes && r->mailboxes[i]; i++)
	if (cfg && config_mailbox(cfg, r->mailboxes[i]) == NULL)
	    cfgfile_error(ld, group, "mailboxes", "no [mailbox %s] in %s", r->mailboxes[i], cfg->path);
    r->queue = cfgfile_string(kf, group, "queue");
    r->assignee = cfgfile_string(kf, group, "assignee");
    r->category = cfgfile_string(kf, group, "category");
    r->type = cfgfile_string(kf, group, "type");
    r->priority = cfgfile_string(kf, group, "priority");
    if (r->priority && !one_of(r->priority, config_priorities)) {
	g_autofree char *list = g_strjoinv(", ", (char **) config_priorities);

	cfgfile_error(ld, group, "priority", "'%s' is not one of %s", r->priority, list);
    }
    r->status = cfgfile_string(kf, group, "status");
    if (r->status && !one_of(r->status, statuses)) {
	g_autofree char *list = g_strjoinv(", ", (char **) statuses);

	cfgfile_error(ld, group, "status", "'%s' is not one of %s", r->status, list);
    }
    r->tags = cfgfile_list(kf, group, "tags");
    r->case_name = cfgfile_string(kf, group, "case");
    r->template_name = cfgfile_string(kf, group, "template");
    if (r->template_name && (strchr(r->template_name, '/') || *r->template_name == '.'
			     || *r->template_name == 0))
	cfgfile_error(ld, group, "template", "'%s' is not a template name (a file name in [store]"
	      " templates, without .LANG.txt)", r->template_name);
    r->template_line = cfgfile_line(ld, group, "template");
    r->notify = cfgfile_string(kf, group, "notify");
    r->notify_line = cfgfile_line(ld, group, "notify");
    if (r->notify && (strchr(r->notify, '@') == NULL || strpbrk(r->notify, " \t<>,\"")))
	cfgfile_error(ld, group, "notify", "'%s' is not one address like agent@example.com",
	      r->notify);
    b = 0;
    if (get_bool(ld, kf, group, "note", &b))
	r->note = b;
    if (r->note && r->case_name == NULL)
	cfgfile_error(ld, group, "note", "a note goes on the newest ticket of a case: set 'case' too");
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
    struct cfgfile ld;
    g_autoptr(GKeyFile) kf = NULL;
    g_auto(GStrv) groups = NULL;

    rs->path = g_strdup(path ? path : "");
    rs->list = g_ptr_array_new_with_free_func(rule_free);
    if (path == NULL || *path == 0)
	return rs;
    if ((kf = cfgfile_load(&ld, path, "rule", cfg ? cfg->path : NULL, "rules", errors)))
	groups = g_key_file_get_groups(kf, NULL);
    for (int i = 0; groups && groups[i]; i++) {
	struct rule *r;

	if (strncmp(groups[i], "rule ", 5) != 0) {
	    cfgfile_error(&ld, groups[i], NULL, "unknown section: a rules file has [rule NAME]"
			  " sections only");
	    continue;
	}
	if ((r = parse_rule(&ld, kf, groups[i], cfg)) != NULL)
	    g_ptr_array_add(rs->list, r);
    }
    cfgfile_clear(&ld);
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
