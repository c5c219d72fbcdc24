/*
 * NAME
 *	rules_match - which routing rules a mail matches, and what they set
 * SYNOPSIS
 *	#include "rules.h"
 *
 *	void	rules_eval(rules, env, mailbox, &result)
 *	void	rules_result_clear(&result)
 *	char	*rules_result_text(&result)
 * DESCRIPTION
 *	rules_eval() runs the rules (rules.c) in file order over an
 *	envelope (docs/envelope.md) for one of its mailboxes. A rule limited
 *	to other mailboxes is skipped. A rule matches when all (match = all)
 *	or any (match = any) of its conditions hold; each of its actions
 *	then overrides what an earlier rule set, tags and notify addresses
 *	add up, and stop = yes ends the evaluation. The result's strings are
 *	borrowed from the rules: keep the rules while the result is used.
 *
 *	The fields: sender is the customer's address (the envelope's
 *	customer, else the first From, else the envelope sender),
 *	sender_domain its part after the last "@", recipient any of the
 *	envelope recipients, To and Cc addresses, subject, body (the
 *	text), header:NAME any field of that name among the header fields
 *	the milter copies ([milter] raw_headers).
 *
 *	Linear time in what the sender controls: each text is searched in
 *	its first RULES_TEXT_MAX bytes only (cut at a character boundary),
 *	contains uses memmem() (glibc's two-way search: linear), case
 *	folding is done once per text and evaluation, and a regular
 *	expression (written by the administrator, compiled at load) runs
 *	over at most RULES_TEXT_MAX bytes; a match PCRE abandons at its
 *	match limit counts as no match (regex_errors, logged by the caller).
 *
 *	rules_result_text() says what matched and what it set, for the log,
 *	the ticket's rules column and intakectl rules test (g_free).
 */
#define _GNU_SOURCE			/* memmem */
#include <string.h>

#include "rules.h"

struct text {
    const char *s;
    gsize   len;
};

struct ctx {
    json_t *env;
    char   *sender;			/* lower case */
    struct text subject, body, sender_t, domain;
    GPtrArray *recipients;		/* char *, lower case */
    GHashTable *folded;			/* source pointer -> folded copy */
    guint   regex_errors;
};

/* cut - the first RULES_TEXT_MAX bytes of s, not ending inside a UTF-8 sequence */
static struct text cut(const char *s)
{
    struct text t = {s ? s : "", 0};

    t.len = strnlen(t.s, RULES_TEXT_MAX);
    while (t.len > 0 && t.len == RULES_TEXT_MAX && ((guchar) t.s[t.len] & 0xC0) == 0x80)
	t.len--;
    return t;
}

static struct text folded(struct ctx *cx, struct text t)
{
    char   *f = g_hash_table_lookup(cx->folded, t.s);

    if (f == NULL) {
	f = g_utf8_casefold(t.s, t.len);
	g_hash_table_insert(cx->folded, (gpointer) t.s, f);
    }
    return (struct text) {f, strlen(f)};
}

static gboolean test_text(struct ctx *cx, const struct rule_cond *c, struct text t)
{
    if (c->op == RO_REGEX) {
	g_autoptr(GError) err = NULL;
	gboolean yes = g_regex_match_full(c->re, t.s, t.len, 0, 0, NULL, &err);

	if (err)
	    cx->regex_errors++;
	return yes;
    }
    if (c->icase)
	t = folded(cx, t);
    if (c->op == RO_EQUALS)
	return t.len == strlen(c->value) && memcmp(t.s, c->value, t.len) == 0;
    return memmem(t.s, t.len, c->value, strlen(c->value)) != NULL;
}

static gboolean test_cond(struct ctx *cx, const struct rule_cond *c)
{
    gboolean yes = FALSE;

    switch (c->field) {
    case RF_SENDER:
	yes = test_text(cx, c, cx->sender_t);
	break;
    case RF_SENDER_DOMAIN:
	yes = test_text(cx, c, cx->domain);
	break;
    case RF_SUBJECT:
	yes = test_text(cx, c, cx->subject);
	break;
    case RF_BODY:
	yes = test_text(cx, c, cx->body);
	break;
    case RF_RECIPIENT:
	for (guint i = 0; !yes && i < cx->recipients->len; i++)
	    yes = test_text(cx, c, cut(g_ptr_array_index(cx->recipients, i)));
	break;
    case RF_HEADER:{
	    json_t *h;
	    size_t  i;

	    json_array_foreach(json_object_get(cx->env, "headers"), i, h) {
		const char *name = json_string_value(json_array_get(h, 0));
		const char *value = json_string_value(json_array_get(h, 1));

		if (name && value && g_ascii_strcasecmp(name, c->header) == 0
		    && (yes = test_text(cx, c, cut(value))))
		    break;
	    }
	    break;
	}
    }
    return c->negate ? !yes : yes;
}

static gboolean test_rule(struct ctx *cx, const struct rule *r)
{
    for (guint i = 0; i < r->conds->len; i++) {
	gboolean yes = test_cond(cx, g_ptr_array_index(r->conds, i));

	if (r->any && yes)
	    return TRUE;
	if (!r->any && !yes)
	    return FALSE;
    }
    return !r->any;
}

static void add_once(GPtrArray *a, const char *s)
{
    for (guint i = 0; i < a->len; i++)
	if (strcmp(g_ptr_array_index(a, i), s) == 0)
	    return;
    g_ptr_array_add(a, (gpointer) s);
}

static void add_address(GPtrArray *a, const char *s)
{
    if (s && *s)
	g_ptr_array_add(a, g_ascii_strdown(s, -1));
}

static void ctx_init(struct ctx *cx, json_t *env)
{
    json_t *customer = json_object_get(env, "customer");
    const char *sender = json_string_value(json_object_get(customer, "address"));
    json_t *v;
    size_t  i;

    cx->env = env;
    if (sender == NULL || *sender == 0)
	sender = json_string_value(json_object_get(json_array_get(json_object_get(env, "from"),
								  0), "address"));
    if (sender == NULL || *sender == 0)
	sender = json_string_value(json_object_get(env, "sender"));
    cx->sender = g_ascii_strdown(sender ? sender : "", -1);
    cx->sender_t = cut(cx->sender);
    cx->domain = cut(strrchr(cx->sender, '@') ? strrchr(cx->sender, '@') + 1 : "");
    cx->subject = cut(json_string_value(json_object_get(env, "subject")));
    cx->body = cut(json_string_value(json_object_get(env, "text")));
    cx->recipients = g_ptr_array_new_with_free_func(g_free);
    json_array_foreach(json_object_get(env, "recipients"), i, v)
	add_address(cx->recipients, json_string_value(v));
    json_array_foreach(json_object_get(env, "to"), i, v)
	add_address(cx->recipients, json_string_value(json_object_get(v, "address")));
    json_array_foreach(json_object_get(env, "cc"), i, v)
	add_address(cx->recipients, json_string_value(json_object_get(v, "address")));
    cx->folded = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

static gboolean applies_to(const struct rule *r, const char *mailbox)
{
    if (r->mailboxes == NULL)
	return TRUE;
    for (int i = 0; mailbox && r->mailboxes[i]; i++)
	if (strcmp(r->mailboxes[i], mailbox) == 0)
	    return TRUE;
    return FALSE;
}

#define SET(field) if (r->field) out->field = r->field

void    rules_eval(const struct rules *rs, json_t *env, const char *mailbox,
		   struct rules_result *out)
{
    struct ctx cx = {0};

    memset(out, 0, sizeof(*out));
    out->matched = g_ptr_array_new();
    out->tags = g_ptr_array_new();
    out->notify = g_ptr_array_new();
    out->acknowledge = -1;
    if (rs == NULL || rs->list->len == 0)
	return;
    ctx_init(&cx, env);
    for (guint i = 0; i < rs->list->len; i++) {
	const struct rule *r = g_ptr_array_index(rs->list, i);

	if (!applies_to(r, mailbox) || !test_rule(&cx, r))
	    continue;
	g_ptr_array_add(out->matched, r->name);
	SET(queue);
	SET(assignee);
	SET(category);
	SET(priority);
	SET(type);
	SET(status);
	SET(case_name);
	SET(template_name);
	for (int t = 0; r->tags && r->tags[t]; t++)
	    add_once(out->tags, r->tags[t]);
	if (r->notify)
	    add_once(out->notify, r->notify);
	if (r->acknowledge >= 0)
	    out->acknowledge = r->acknowledge;
	if (r->note)
	    out->note = TRUE;
	if (r->stop)
	    break;
    }
    out->regex_errors = cx.regex_errors;
    g_free(cx.sender);
    g_ptr_array_free(cx.recipients, TRUE);
    g_hash_table_destroy(cx.folded);
}

void    rules_result_clear(struct rules_result *out)
{
    if (out->matched)
	g_ptr_array_free(out->matched, TRUE);
    if (out->tags)
	g_ptr_array_free(out->tags, TRUE);
    if (out->notify)
	g_ptr_array_free(out->notify, TRUE);
    memset(out, 0, sizeof(*out));
    out->acknowledge = -1;
}

static void join(GString *s, const char *label, GPtrArray *a)
{
    if (a->len == 0)
	return;
    g_string_append_printf(s, " %s=", label);
    for (guint i = 0; i < a->len; i++)
	g_string_append_printf(s, "%s%s", i ? "," : "", (char *) g_ptr_array_index(a, i));
}

#define SHOW(label, v) if (v) g_string_append_printf(s, " " label "=%s", v)

char   *rules_result_text(const struct rules_result *r)
{
    GString *s = g_string_new("rules");

    if (r->matched->len == 0) {
	g_string_append(s, " matched: none");
	return g_string_free(s, FALSE);
    }
    g_string_append(s, " matched:");
    for (guint i = 0; i < r->matched->len; i++)
	g_string_append_printf(s, " %s", (char *) g_ptr_array_index(r->matched, i));
    if (r->queue || r->assignee || r->category || r->priority || r->type || r->status
	|| r->case_name || r->template_name || r->tags->len || r->notify->len
	|| r->acknowledge >= 0 || r->note)
	g_string_append(s, "; set");
    SHOW("queue", r->queue);
    SHOW("assignee", r->assignee);
    SHOW("category", r->category);
    SHOW("priority", r->priority);
    SHOW("type", r->type);
    SHOW("status", r->status);
    SHOW("case", r->case_name);
    SHOW("template", r->template_name);
    join(s, "tags", r->tags);
    join(s, "notify", r->notify);
    if (r->acknowledge >= 0)
	g_string_append_printf(s, " acknowledge=%s", r->acknowledge ? "yes" : "no");
    if (r->note)
	g_string_append(s, " note=yes");
    return g_string_free(s, FALSE);
}
