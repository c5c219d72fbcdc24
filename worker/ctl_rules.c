/*
 * NAME
 *	ctl_rules - intakectl rules test, intakectl case
 * SYNOPSIS
 *	#include "ctl_rules.h"
 *
 *	int	ctl_rules(cfg, argc, argv, mailbox, json)
 *	int	ctl_case(cfg, argc, argv, json)
 * DESCRIPTION
 *	"rules test FILE.eml": the envelope of the mail is built as the
 *	milter builds it (import_feed.c gives it to common/mctx.c and
 *	common/envelope.c, as intakectl import does; nothing is queued),
 *	for the mailbox of --mailbox (default: the first mailbox of the
 *	configuration, whose address is the envelope recipient); then the
 *	rules of [worker] rules run over it (rules_match.c) and each rule
 *	is listed: matched, no match, not for this mailbox, or not
 *	evaluated (after a rule with stop = yes), followed by what the
 *	matching rules set. A rules file with errors prints them, as
 *	intake-worker -t does.
 *
 *	"case add NAME [TITLE]" makes a case (or gives it a new title);
 *	"case list" lists the cases with their ticket count and newest
 *	ticket. Rules attach tickets to cases by name (case = NAME).
 * DIAGNOSTICS
 *	0 on success, 1 on an error (on stderr), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rules.h"
#include "ctl_show.h"
#include "envelope.h"
#include "import.h"
#include "rules.h"
#include "store.h"

struct tested {
    const struct rules *rules;
    const char *mailbox;
    gboolean json;
    gboolean seen;
};

static const char *verdict(const struct rule *r, const struct rules_result *res,
			   const char *mailbox, const char **stopped_by)
{
    if (*stopped_by)
	return "not evaluated (stop)";
    if (r->mailboxes && !g_strv_contains((const char *const *) r->mailboxes, mailbox))
	return "not for this mailbox";
    for (guint i = 0; i < res->matched->len; i++) {
	if (g_ptr_array_index(res->matched, i) == r->name) {
	    if (r->stop)
		*stopped_by = r->name;
	    return "matched";
	}
    }
    return "no match";
}

static void inspect(void *ctx, json_t *env)
{
    struct tested *t = ctx;
    struct rules_result res;
    g_autofree char *text = NULL;
    const char *stopped_by = NULL;
    json_t *out = json_object(), *list = json_array();

    t->seen = TRUE;
    rules_eval(t->rules, env, t->mailbox, &res);
    text = rules_result_text(&res);
    for (guint i = 0; i < t->rules->list->len; i++) {
	const struct rule *r = g_ptr_array_index(t->rules->list, i);
	const char *v = verdict(r, &res, t->mailbox, &stopped_by);

	json_array_append_new(list, json_pack("{s:s, s:i, s:s}", "rule", r->name,
					      "line", r->line, "result", v));
	if (!t->json)
	    printf("%s:%d: [rule %s] %s\n", t->rules->path, r->line, r->name, v);
    }
    if (t->json) {
	char   *s;

	json_object_set_new(out, "mailbox", json_string(t->mailbox));
	json_object_set_new(out, "rules", list);
	json_object_set_new(out, "summary", json_string(text));
	json_object_set_new(out, "regex_gave_up", json_integer(res.regex_errors));
	s = json_dumps(out, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
    } else {
	json_decref(list);
	printf("mailbox %s: %s\n", t->mailbox, text);
	if (res.regex_errors)
	    printf("warning: %u regular expression match(es) gave up (PCRE's backtracking"
		   " limit) and counted as no match\n", res.regex_errors);
    }
    json_decref(out);
    rules_result_clear(&res);
}

static int rules_test(const struct intake_config *cfg, const char *file, const char *mailbox,
		      gboolean json)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    struct rules *rs = rules_load(cfg->worker_rules, cfg, errors);
    struct import_feed_settings set = {0};
    struct tested t = {rs, NULL, json, FALSE};
    struct import_feed *feed;
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    char   *why = NULL;
    gsize   len;
    int     rc;

    for (guint i = 0; i < errors->len; i++)
	fprintf(stderr, "%s\n", (char *) g_ptr_array_index(errors, i));
    if (rs == NULL)
	return 1;
    if (*rs->path == 0)
	fprintf(stderr, "intakectl: rules test: no [worker] rules in %s: no rule can match\n",
		cfg->path);
    set.mailbox = mailbox ? config_mailbox(cfg, mailbox)
	: cfg->mailboxes->len ? g_ptr_array_index(cfg->mailboxes, 0) : NULL;
    if (set.mailbox == NULL) {
	fprintf(stderr, "intakectl: rules test: %s%s%s in %s\n",
		mailbox ? "no [mailbox " : "no mailbox", mailbox ? mailbox : "",
		mailbox ? "]" : "", cfg->path);
	rules_free(rs);
	return 1;
    }
    if (!g_file_get_contents(file, &data, &len, &err)) {
	fprintf(stderr, "intakectl: rules test: %s\n", err->message);
	rules_free(rs);
	return 1;
    }
    envelope_init();			/* GMime, as the milter starts it */
    t.mailbox = set.mailbox->name;
    set.cfg = cfg;
    set.source = "rules-test";
    set.dry_run = TRUE;
    set.inspect = inspect;
    set.inspect_ctx = &t;
    if ((feed = import_feed_new(&set, &why)) == NULL) {
	fprintf(stderr, "intakectl: rules test: %s\n", why);
	g_free(why);
	rules_free(rs);
	return 1;
    }
    import_feed_begin(feed, file);
    import_feed_data(feed, data, len);
    rc = import_feed_end(feed);
    import_feed_free(feed);
    g_mime_shutdown();
    rules_free(rs);
    if (rc < 0 || !t.seen) {
	fprintf(stderr, "intakectl: rules test: %s: no mail could be read from it\n", file);
	return 1;
    }
    return 0;
}

int     ctl_rules(const struct intake_config *cfg, int argc, char **argv, const char *mailbox,
		  gboolean json)
{
    if (argc != 2 || strcmp(argv[0], "test") != 0) {
	fprintf(stderr, "usage: intakectl [-c FILE] [--json] rules test FILE.eml"
		" [--mailbox M]\n");
	return 2;
    }
    return rules_test(cfg, argv[1], mailbox, json);
}

int     ctl_case(const struct intake_config *cfg, int argc, char **argv, gboolean json)
{
    struct store *st;
    json_t *list = NULL;
    char   *why = NULL;
    int     rc;

    if (!((argc == 1 && strcmp(argv[0], "list") == 0)
	  || ((argc == 2 || argc == 3) && strcmp(argv[0], "add") == 0 && *argv[1]))) {
	fprintf(stderr, "usage: intakectl [-c FILE] case add NAME [TITLE]\n"
		"       intakectl [-c FILE] [--json] case list\n");
	return 2;
    }
    if ((st = store_open(cfg, &why)) == NULL) {
	fprintf(stderr, "intakectl: case: %s\n", why);
	g_free(why);
	return 1;
    }
    if (strcmp(argv[0], "add") == 0)
	rc = st->ops->add_case ? st->ops->add_case(st, argv[1], argc == 3 ? argv[2] : NULL, &why)
	    : store_unsupported(st, "case add", &why);
    else
	rc = ctl_list_cases(st, &list, &why);
    store_close(st);
    if (rc != STORE_OK) {
	fprintf(stderr, "intakectl: case %s: %s\n", argv[0], why);
	g_free(why);
	return 1;
    }
    if (list && json) {
	char   *s = json_dumps(list, JSON_INDENT(2));

	printf("%s\n", s);
	free(s);
    } else if (list) {
	json_t *c;
	size_t  i;

	json_array_foreach(list, i, c) {
	    printf("%s\t%" JSON_INTEGER_FORMAT " tickets\t%s\t%s\n",
		   json_string_value(json_object_get(c, "name")),
		   json_integer_value(json_object_get(c, "tickets")),
		   json_string_value(json_object_get(c, "newest")) ?: "-",
		   json_string_value(json_object_get(c, "title")) ?: "");
	}
    }
    json_decref(list);
    return 0;
}
