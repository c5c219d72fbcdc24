/*
 * NAME
 *	test_rules - unit tests of worker/rules.c and worker/rules_match.c
 * DESCRIPTION
 *	Table-driven. conditions[]: one rule with one condition over one
 *	envelope (sender, recipients, To/Cc, subject, body, raw header
 *	fields), and whether it matches: each field, each operator,
 *	"not", the /i flag, addresses compared without case. Then rule
 *	sets: all and any, mailboxes, file order (later actions override,
 *	tags add up once each), stop; bad files and the error each gives
 *	(file, line, rule, key); and hostile sizes: text past RULES_TEXT_MAX
 *	is not searched, a catastrophic regex over it gives up instead of
 *	hanging, a multi-byte character at the cut is not split.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "config.h"
#include "rules.h"
#include "tap.h"

static const char conf_text[] =
"[mailbox support]\n"
"address = support@example.test\n"
"\n"
"[mailbox sales]\n"
"address = sales@example.test\n";

static char *tmpdir;
static const struct intake_config *cfg;

/* load - rules from text; errors (may be NULL) get the loader's texts */
static struct rules *load(const char *text, GPtrArray *errors)
{
    g_autofree char *path = g_build_filename(tmpdir, "rules.conf", NULL);
    g_autoptr(GPtrArray) own = g_ptr_array_new_with_free_func(g_free);
    struct rules *rs;

    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
    rs = rules_load(path, cfg, errors ? errors : own);
    for (guint i = 0; errors == NULL && i < own->len; i++)
	diag("%s", (char *) g_ptr_array_index(own, i));
    g_remove(path);
    return rs;
}

static json_t *envelope(const char *sender, const char *subject, const char *body)
{
    return json_pack("{s:s, s:[s, s], s:[{s:s, s:s}], s:[{s:s, s:s}], s:[{s:s, s:s}],"
		     " s:s, s:s, s:[[s, s], [s, s]], s:{s:s, s:s, s:s}}",
		     "sender", "bounce@lists.example.org",
		     "recipients", "support@example.test", "Sales+EU@Example.test",
		     "from", "name", "Jane", "address", sender,
		     "to", "name", "Support", "address", "support@example.test",
		     "cc", "name", "Boss", "address", "boss@partner.example",
		     "subject", subject, "text", body,
		     "headers", "List-Id", "<news.example.org>", "X-Priority", "1 (Highest)",
		     "customer", "name", "Jane", "address", sender, "how", "from");
}

static const struct {
    const char *cond;			/* the value of "if" */
    const char *sender;
    const char *subject;
    const char *body;
    gboolean match;
} conditions[] = {
    /* sender and its domain: no case, whole address */
    {"sender equals jane@acme.example", "Jane@ACME.example", "s", "b", TRUE},
    {"sender equals jane@acme.example", "jane@acme.example.org", "s", "b", FALSE},
    {"sender contains @acme.", "jane@acme.example", "s", "b", TRUE},
    {"sender_domain equals acme.example", "JANE@Acme.Example", "s", "b", TRUE},
    {"sender_domain equals acme.example", "jane@sub.acme.example", "s", "b", FALSE},
    {"sender_domain regex (^|\\.)acme\\.example$", "jane@sub.acme.example", "s", "b", TRUE},
    {"sender_domain not equals acme.example", "jane@other.example", "s", "b", TRUE},
    {"sender_domain not equals acme.example", "jane@acme.example", "s", "b", FALSE},
    /* any recipient: envelope, To, Cc */
    {"recipient equals sales+eu@example.test", "j@x.example", "s", "b", TRUE},
    {"recipient equals boss@partner.example", "j@x.example", "s", "b", TRUE},
    {"recipient equals nobody@example.test", "j@x.example", "s", "b", FALSE},
    {"recipient not contains @partner.example", "j@x.example", "s", "b", FALSE},
    /* subject: case matters unless /i */
    {"subject equals Invoice 42", "j@x.example", "Invoice 42", "b", TRUE},
    {"subject equals Invoice 42", "j@x.example", "invoice 42", "b", FALSE},
    {"subject equals/i Invoice 42", "j@x.example", "INVOICE 42", "b", TRUE},
    {"subject contains voice", "j@x.example", "Invoice 42", "b", TRUE},
    {"subject contains Voice", "j@x.example", "Invoice 42", "b", FALSE},
    {"subject contains/i VOICE", "j@x.example", "Invoice 42", "b", TRUE},
    {"subject contains/i straße", "j@x.example", "STRASSE 1", "b", TRUE},
    {"subject regex ^Re: ", "j@x.example", "Re: hello", "b", TRUE},
    {"subject regex \\burgent\\b", "j@x.example", "URGENT: down", "b", FALSE},
    {"subject regex/i \\burgent\\b", "j@x.example", "URGENT: down", "b", TRUE},
    {"subject regex/i \\burgent\\b", "j@x.example", "nonurgently", "b", FALSE},
    {"subject not regex/i urgent", "j@x.example", "calm", "b", TRUE},
    {"subject equals", "j@x.example", "", "b", TRUE},
    /* body */
    {"body contains production is down", "j@x.example", "s", "hi,\nproduction is down\n", TRUE},
    {"body contains/i PRODUCTION IS DOWN", "j@x.example", "s", "production is down", TRUE},
    {"body regex (?m)^Order: \\d{5}$", "j@x.example", "s", "x\nOrder: 12345\ny", TRUE},
    {"body regex (?m)^Order: \\d{5}$", "j@x.example", "s", "x\nOrder: 1234\ny", FALSE},
    /* header fields the milter copied, by name without case */
    {"header:list-id contains news.example.org", "j@x.example", "s", "b", TRUE},
    {"header:X-Priority regex ^1\\b", "j@x.example", "s", "b", TRUE},
    {"header:X-Mailer contains a", "j@x.example", "s", "b", FALSE},
    {"header:X-Mailer not contains a", "j@x.example", "s", "b", TRUE},
};

static void test_conditions(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(conditions); i++) {
	g_autofree char *text = g_strdup_printf("[rule r]\nif = %s\ntags = hit\n",
						conditions[i].cond);
	struct rules *rs = load(text, NULL);
	json_t *env = envelope(conditions[i].sender, conditions[i].subject,
			       conditions[i].body);
	struct rules_result r;

	if (!ok(rs != NULL, "'%s' loads", conditions[i].cond)) {
	    json_decref(env);
	    continue;
	}
	rules_eval(rs, env, "support", &r);
	is_int(r.matched->len, conditions[i].match, "'%s' on sender %s subject '%s': %s",
	       conditions[i].cond, conditions[i].sender, conditions[i].subject,
	       conditions[i].match ? "matches" : "does not match");
	rules_result_clear(&r);
	json_decref(env);
	rules_free(rs);
    }
}

static const char set_text[] =
"# comment\n"
"[rule all-of]\n"
"if.a = sender_domain equals acme.example\n"
"if.b = subject contains/i invoice\n"
"queue = billing\n"
"priority = high\n"
"tags = acme, billing\n"
"\n"
"[rule any-of]\n"
"match = any\n"
"if.a = subject contains/i outage\n"
"if.b = body contains/i is down\n"
"priority = urgent\n"
"tags = outage, acme\n"
"notify = oncall@example.test\n"
"\n"
"[rule sales-only]\n"
"mailboxes = sales\n"
"if = sender_domain equals acme.example\n"
"assignee = sam\n"
"\n"
"[rule case]\n"
"if = sender_domain equals acme.example\n"
"case = ACME-1\n"
"template = ack_vip\n"
"acknowledge = no\n"
"stop = yes\n"
"\n"
"[rule never-reached]\n"
"if = sender_domain equals acme.example\n"
"queue = lost\n";

static const struct {
    const char *label;
    const char *mailbox, *sender, *subject, *body;
    const char *text;			/* rules_result_text() */
} sets[] = {
    {"all of two, then any, then the case rule stops", "support", "a@acme.example",
	"Invoice: outage", "x",
	"rules matched: all-of any-of case; set queue=billing assignee=(null)"},
    {"one condition of all-of fails", "support", "a@acme.example", "hello", "x",
	"rules matched: case; set case=ACME-1 template=ack_vip acknowledge=no"},
    {"any-of by its body alone; nothing else", "support", "a@other.example", "hello",
	"the site is DOWN", "rules matched: any-of; set priority=urgent tags=outage,acme"
	" notify=oncall@example.test"},
    {"a rule of another mailbox", "sales", "a@acme.example", "hello", "x",
	"rules matched: sales-only case; set assignee=sam case=ACME-1 template=ack_vip"
	" acknowledge=no"},
    {"no rule", "support", "a@other.example", "hello", "x", "rules matched: none"},
};

static void test_sets(void)
{
    struct rules *rs = load(set_text, NULL);

    if (!ok(rs != NULL, "rule set loads"))
	return;
    is_int(rs->list->len, 5, "five rules, in file order");
    is_str(((struct rule *) g_ptr_array_index(rs->list, 0))->name, "all-of", "first rule");
    is_int(((struct rule *) g_ptr_array_index(rs->list, 1))->line, 9, "line of [rule any-of]");
    is_int(((struct rule *) g_ptr_array_index(rs->list, 3))->template_line, 25,
	   "line of [rule case] key template");
    for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
	json_t *env = envelope(sets[i].sender, sets[i].subject, sets[i].body);
	struct rules_result r;
	g_autofree char *text = NULL;

	rules_eval(rs, env, sets[i].mailbox, &r);
	text = rules_result_text(&r);
	if (i == 0) {
	    /* the first: every action, checked one by one */
	    is_str(text, "rules matched: all-of any-of case; set queue=billing priority=urgent"
		   " case=ACME-1 template=ack_vip tags=acme,billing,outage"
		   " notify=oncall@example.test acknowledge=no", "%s", sets[i].label);
	    is_str(r.queue, "billing", "queue from all-of");
	    is_str(r.priority, "urgent", "priority: any-of overrides all-of");
	    is_int(r.tags->len, 3, "tags add up, each once");
	    is_int(r.acknowledge, 0, "acknowledge = no");
	    ok(r.assignee == NULL, "sales-only is not for mailbox support");
	} else {
	    is_str(text, sets[i].text, "%s", sets[i].label);
	}
	rules_result_clear(&r);
	json_decref(env);
    }
    rules_free(rs);
}

static const struct {
    const char *text;
    const char *error;			/* a part of the first error; NULL: loads */
} bad[] = {
    {"[rule a]\nif = subject regex (unclosed\n",
	"rules.conf:2: [rule a] key 'if': regular expression '(unclosed'"},
    {"[rule a]\nif = subjekt contains x\n", ":2: [rule a] key 'if': unknown field 'subjekt'"},
    {"[rule a]\nif = subject resembles x\n", "unknown operator 'resembles'"},
    {"[rule a]\nif = subject contains\n", "has no value to look for"},
    {"[rule a]\nqueue = x\n", ":1: [rule a]: no condition"},
    {"[rule a]\nif = subject contains x\npriority = asap\n",
	":3: [rule a] key 'priority': 'asap' is not one of low, normal, high, urgent"},
    {"[rule a]\nif = subject contains x\nmailboxes = support, nosuch\n",
	":3: [rule a] key 'mailboxes': no [mailbox nosuch]"},
    {"[rule a]\nif = subject contains x\nqeue = x\n", ":3: [rule a] key 'qeue': unknown key"},
    {"[rule a]\nif = subject contains x\nif = subject contains y\n",
	":3: key 'if' is given again (first at line 2)"},
    {"[rule a]\nif = subject contains x\n[rule a]\nif = body contains y\n",
	":3: section [rule a] is given again (first at line 1)"},
    {"[rules a]\nif = subject contains x\n", ":1: [rules a]: unknown section"},
    {"if = subject contains x\n", ":1: 'if = subject contains x' is outside"},
    {"[rule a]\nif = subject contains x\njust words\n", ":3: 'just words' is not KEY = VALUE"},
    {"[rule a]\nif = subject contains x\nnote = yes\n", "key 'note': a note goes on"},
    {"[rule a]\nif = subject contains x\nstop = maybe\n", "key 'stop': 'maybe' is not yes"},
    {"[rule a]\nif = subject contains x\nnotify = a@b.example, c@d.example\n",
	"key 'notify': 'a@b.example, c@d.example' is not one address"},
    {"[rule a]\nif = subject contains x\ntemplate = ../etc/passwd\n",
	"key 'template': '../etc/passwd' is not a template name"},
    {"[rule a]\nif = subject contains x\nmatch = most\n", "key 'match': 'most' is not all or"},
    {"[rule a]\nif.one = subject contains x\nif.two = body not regex/i y\nmatch = any\n", NULL},
};

static void test_errors(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
	struct rules *rs = load(bad[i].text, errors);
	g_autofree char *shown = g_strescape(bad[i].text, NULL);

	if (bad[i].error == NULL) {
	    ok(rs != NULL && errors->len == 0, "loads: %s", shown);
	} else {
	    ok(rs == NULL, "refused: %s", shown);
	    has_str(errors->len ? g_ptr_array_index(errors, 0) : "", bad[i].error,
		    "error names the place: %s", shown);
	}
	rules_free(rs);
    }
    {
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
	struct rules *rs = rules_load("/nonexistent/rules.conf", cfg, errors);

	ok(rs == NULL && errors->len == 1, "a missing file is an error");
	has_str(errors->len ? g_ptr_array_index(errors, 0) : "", "[worker] key 'rules'",
		"it names the key that names the file");
	rules_free(rs);
	rs = rules_load("", cfg, errors);
	ok(rs != NULL && rs->list->len == 0, "no file configured: no rules");
	rules_free(rs);
    }
}

/* Hostile sizes: what the sender controls is searched in its first RULES_TEXT_MAX bytes. */
static void test_hostile(void)
{
    gsize   big = 8 * 1024 * 1024;
    char   *body = g_malloc(big + 1);
    struct rules *rs;
    json_t *env;
    struct rules_result r;
    gint64  t0;

    memset(body, 'a', big);
    body[big] = 0;
    memcpy(body + RULES_TEXT_MAX - 100, "NEEDLE", 6);
    memcpy(body + RULES_TEXT_MAX + 100, "HAYSTACK", 8);
    rs = load("[rule near]\nif = body contains NEEDLE\n"
	      "[rule far]\nif = body contains HAYSTACK\n"
	      "[rule far-i]\nif = body contains/i haystack\n"
	      "[rule far-re]\nif = body regex HAYSTACK\n"
	      "[rule catastrophic]\nif = body regex (a|aa)+[^a]\n"
	      "[rule subject]\nif = subject regex x\xe2\x82\xac\n", NULL);
    if (!ok(rs != NULL, "hostile rule set loads")) {
	g_free(body);
	return;
    }
    env = envelope("a@b.example", "", body);
    {
	/* a subject of RULES_TEXT_MAX - 1 'x' then a 3-byte character across the cut */
	GString *s = g_string_new(NULL);

	for (int i = 0; i < RULES_TEXT_MAX - 1; i++)
	    g_string_append_c(s, 'x');
	g_string_append(s, "\xe2\x82\xac" "z");
	json_object_set_new(env, "subject", json_string(s->str));
	g_string_free(s, TRUE);
    }
    g_free(body);
    t0 = g_get_monotonic_time();
    rules_eval(rs, env, "support", &r);
    diag("8 MB body, 6 rules: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    {
	g_autofree char *text = rules_result_text(&r);

	is_str(text, "rules matched: near", "only text before the cut is searched, a character"
	       " across the cut is left out whole");
    }
    is_int(r.regex_errors, 1, "the catastrophic regex gave up (PCRE's backtracking limit):"
	   " no match, counted for the log");
    rules_result_clear(&r);
    json_decref(env);
    rules_free(rs);
}

/* The cost of rules per mail: conf/rules.conf's rules over a mail of 2 KB, many times. */
static void test_cost(void)
{
    g_autofree char *text = NULL;
    g_autofree char *body = NULL;
    struct rules *rs;
    json_t *env;
    const int n = 2000;
    gint64  t0;

    if (!g_file_get_contents("conf/rules.conf", &text, NULL, NULL)) {
	skip("conf/rules.conf not found (run from the checkout)");
	return;
    }
    rs = load(text, NULL);
    if (!ok(rs != NULL, "conf/rules.conf loads (the example is valid)"))
	return;
    body = g_strnfill(2048, 'x');
    env = envelope("jane@customer.example", "Question about my order", body);
    t0 = g_get_monotonic_time();
    for (int i = 0; i < n; i++) {
	struct rules_result r;

	rules_eval(rs, env, "support", &r);
	rules_result_clear(&r);
    }
    diag("conf/rules.conf over a 2 KB mail: %.1f us per mail (ASan build)",
	 (g_get_monotonic_time() - t0) / (double) n);
    json_decref(env);
    rules_free(rs);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;
    struct intake_config *c;

    tmpdir = g_dir_make_tmp("intake-test-rules-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    if ((c = tap_config(conf_text)) == NULL)
	return tap_done();
    cfg = c;
    test_conditions();
    test_sets();
    test_errors();
    test_hostile();
    test_cost();
    config_free(c);
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
