/*
 * NAME
 *	test_addr - unit tests of addr_normalise() and config_match()
 * DESCRIPTION
 *	Table-driven: what an envelope address becomes as a lookup key
 *	(common/addr.c), and which mailbox a recipient reaches (address,
 *	alias, plus-addressing, case, catch-all domain, inactive mailbox,
 *	unknown). A scale check loads a generated file with 10,000 mailboxes
 *	of 2 aliases each and checks that every address reaches its own
 *	mailbox (correctness only; timing is for the benchmarks).
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "addr.h"
#include "config.h"
#include "tap.h"

/* ---------------------------------------------------------------- */
/*	addr_normalise							    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *in;
    const char *delim;
    const char *want;			/* NULL: no usable address */
} norm_cases[] = {
    {"support@example.com", "+", "support@example.com"},
    {"Support@Example.COM", "+", "support@example.com"},
    {"<support@example.com>", "+", "support@example.com"},
    {"  <Support@Example.com>\t", "+", "support@example.com"},
    {"support+billing@example.com", "+", "support@example.com"},
    {"Support+Billing+2024@example.com", "+", "support@example.com"},
    {"support-billing@example.com", "+-", "support@example.com"},
    {"support-billing@example.com", "+", "support-billing@example.com"},
    {"support+billing@example.com", NULL, "support+billing@example.com"},
    {"support+billing@example.com", "", "support+billing@example.com"},
    {"+support@example.com", "+", "+support@example.com"},	/* nothing before it */
    {"support@ex+ample.com", "+", "support@ex+ample.com"},	/* not in the domain */
    {"\"John Doe\"@Example.com", "+", "\"john doe\"@example.com"},
    {"\"john+doe\"@example.com", "+", "\"john+doe\"@example.com"},
    {"\"a@b\"@Example.com", "+", "\"a@b\"@example.com"},
    {"support", "+", "support"},				/* no domain */
    {"Support+x", "+", "support"},
    {"@example.com", "+", "@example.com"},
    {"", "+", NULL},
    {"   ", "+", NULL},
    {"<>", "+", NULL},
    {" <> ", "+", NULL},
    {"<<>>", "+", NULL},
    {"supp\nort@example.com", "+", NULL},
    {"support@example.com\r", "+", NULL},
    {"sup\tport@example.com", "+", NULL},
    {"sup\x7fport@example.com", "+", NULL},
    {"sup\x01port@example.com", "+", NULL},
    {"jos\xc3\xa9@Example.com", "+", "jos\xc3\xa9@example.com"},	/* UTF-8 kept */
};

static void test_normalise(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(norm_cases); i++) {
	g_autofree char *got = addr_normalise(norm_cases[i].in, norm_cases[i].delim);
	g_autofree char *shown = g_strescape(norm_cases[i].in, NULL);

	is_str(got, norm_cases[i].want, "addr_normalise(\"%s\", %s%s%s)", shown,
	       norm_cases[i].delim ? "\"" : "", norm_cases[i].delim ? norm_cases[i].delim : "NULL",
	       norm_cases[i].delim ? "\"" : "");
    }
    ok(addr_normalise(NULL, "+") == NULL, "addr_normalise(NULL) is NULL");

    /* Length bound: 512 bytes is an address, 513 is not. */
    {
	GString *s = g_string_new(NULL);
	char   *got;

	while (s->len < 512 - strlen("@example.com"))
	    g_string_append_c(s, 'a');
	g_string_append(s, "@example.com");
	got = addr_normalise(s->str, "+");
	ok(got != NULL && strlen(got) == 512, "addr_normalise of 512 bytes keeps it");
	g_free(got);
	g_string_prepend_c(s, 'a');
	got = addr_normalise(s->str, "+");
	ok(got == NULL, "addr_normalise of 513 bytes is NULL");
	g_free(got);
	g_string_free(s, TRUE);
    }

    is_str(addr_domain("support@example.com"), "example.com", "addr_domain of an address");
    is_str(addr_domain("\"a@b\"@example.com"), "example.com", "addr_domain after the last '@'");
    is_str(addr_domain("support"), "", "addr_domain without '@' is empty");
}

/* ---------------------------------------------------------------- */
/*	config_match							    */
/* ---------------------------------------------------------------- */

static const char match_conf[] =
"[milter]\n"
"recipient_delimiter = +\n"
"\n"
"[mailbox support]\n"
"address = support@example.com\n"
"aliases = help@example.com, HelpDesk@Example.com\n"
"\n"
"[mailbox sales]\n"
"address = sales@example.org\n"
"catch_all = example.net\n"
"\n"
"[mailbox old]\n"
"address = old@example.com\n"
"aliases = former@example.com\n"
"catch_all = old.example\n"
"active = no\n";

static const struct {
    const char *rcpt;
    const char *want;			/* mailbox name, NULL: no match */
} match_cases[] = {
    {"support@example.com", "support"},
    {"<support@example.com>", "support"},
    {"SUPPORT@Example.Com", "support"},
    {"support+billing@example.com", "support"},
    {"help@example.com", "support"},			/* alias */
    {"helpdesk@example.com", "support"},		/* alias written in mixed case */
    {"help+urgent@example.com", "support"},		/* plus-addressing of an alias */
    {"HelpDesk+X@EXAMPLE.COM", "support"},
    {"sales@example.org", "sales"},
    {"anyone@example.net", "sales"},			/* catch-all domain */
    {"Someone+tag@EXAMPLE.NET", "sales"},
    {"support@sub.example.net", NULL},			/* catch-all is one domain */
    {"old@example.com", NULL},				/* inactive mailbox */
    {"former@example.com", NULL},			/* alias of an inactive mailbox */
    {"x@old.example", NULL},				/* catch-all of an inactive one */
    {"nobody@example.com", NULL},
    {"support@example.com.evil", NULL},
    {"support@example", NULL},
    {"support", NULL},
    {"help", NULL},
    {"", NULL},
    {"<>", NULL},
    {"support@example.com\n", NULL},
};

static char *tmpdir;

static struct intake_config *load_text(const char *name, const char *text, GPtrArray **errors)
{
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);
    struct intake_config *cfg;

    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
    cfg = config_load(path, errors);
    g_remove(path);
    return cfg;
}

static void test_match(void)
{
    GPtrArray *errors;
    struct intake_config *cfg = load_text("match.conf", match_conf, &errors);

    if (!ok(cfg != NULL, "match: configuration loads")) {
	for (guint i = 0; i < errors->len; i++)
	    diag("%s", (const char *) g_ptr_array_index(errors, i));
	g_ptr_array_free(errors, TRUE);
	return;
    }
    g_ptr_array_free(errors, TRUE);
    for (gsize i = 0; i < G_N_ELEMENTS(match_cases); i++) {
	const struct mailbox *m = config_match(cfg, match_cases[i].rcpt);
	g_autofree char *shown = g_strescape(match_cases[i].rcpt, NULL);

	is_str(m ? m->name : NULL, match_cases[i].want, "config_match(\"%s\")", shown);
    }
    ok(config_match(cfg, NULL) == NULL, "config_match(NULL) is NULL");
    config_free(cfg);
}

/* ---------------------------------------------------------------- */
/*	Scale: 10,000 mailboxes, 2 aliases each				    */
/* ---------------------------------------------------------------- */

#define SCALE_MAILBOXES 10000

static void test_scale(void)
{
    GString *text = g_string_new("[milter]\nrecipient_delimiter = +\n");
    GPtrArray *errors;
    struct intake_config *cfg;
    int     wrong = 0, plus_wrong = 0, case_wrong = 0;

    for (int i = 0; i < SCALE_MAILBOXES; i++)
	g_string_append_printf(text, "\n[mailbox mb%05d]\n"
			       "address = mb%05d@example.com\n"
			       "aliases = mb%05d-a@alias.example.com, MB%05d.b@Example.org\n"
			       "catch_all = d%05d.example\n",
			       i, i, i, i, i);
    cfg = load_text("scale.conf", text->str, &errors);
    g_string_free(text, TRUE);
    if (!ok(cfg != NULL && errors->len == 0, "scale: %d mailboxes load", SCALE_MAILBOXES)) {
	for (guint i = 0; i < errors->len && i < 10; i++)
	    diag("%s", (const char *) g_ptr_array_index(errors, i));
	g_ptr_array_free(errors, TRUE);
	config_free(cfg);
	return;
    }
    g_ptr_array_free(errors, TRUE);
    is_int(cfg->mailboxes->len, SCALE_MAILBOXES, "scale: every mailbox is there");
    is_int(g_hash_table_size(cfg->by_address), 3 * SCALE_MAILBOXES,
	   "scale: every address and alias is indexed");

    for (int i = 0; i < SCALE_MAILBOXES; i++) {
	char    name[32], addr[3][64], plus[64], upper[64], other[64];
	const struct mailbox *want;

	snprintf(name, sizeof(name), "mb%05d", i);
	snprintf(addr[0], sizeof(addr[0]), "mb%05d@example.com", i);
	snprintf(addr[1], sizeof(addr[1]), "mb%05d-a@alias.example.com", i);
	snprintf(addr[2], sizeof(addr[2]), "mb%05d.b@example.org", i);
	snprintf(plus, sizeof(plus), "mb%05d.b+tag@example.org", i);
	snprintf(upper, sizeof(upper), "<MB%05d-A@ALIAS.example.COM>", i);
	snprintf(other, sizeof(other), "anyone@d%05d.example", i);
	want = g_ptr_array_index(cfg->mailboxes, i);
	if (strcmp(want->name, name) != 0) {
	    wrong++;
	    continue;
	}
	for (int j = 0; j < 3; j++)
	    if (config_match(cfg, addr[j]) != want) {
		if (wrong++ < 5)
		    diag("scale: %s does not reach [mailbox %s]", addr[j], name);
	    }
	if (config_match(cfg, plus) != want)
	    plus_wrong++;
	if (config_match(cfg, upper) != want || config_match(cfg, other) != want)
	    case_wrong++;
    }
    is_int(wrong, 0, "scale: all %d addresses and aliases reach their own mailbox",
	   3 * SCALE_MAILBOXES);
    is_int(plus_wrong, 0, "scale: plus-addressed aliases reach their own mailbox");
    is_int(case_wrong, 0, "scale: upper-case aliases and catch-all domains reach their own mailbox");
    ok(config_match(cfg, "mb10000@example.com") == NULL, "scale: an address past the end is unknown");
    ok(config_match(cfg, "mb00001@alias.example.com") == NULL,
       "scale: a wrong local part in an alias domain is unknown");
    config_free(cfg);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;

    tmpdir = g_dir_make_tmp("intake-test-addr-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    test_normalise();
    test_match();
    test_scale();
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
