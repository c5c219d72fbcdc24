/*
 * NAME
 *	fuzz_rules - fuzz target: routing rules loaded and run over a mail
 * DESCRIPTION
 *	The input is a rules file, NUL, then a mail's text: its first line
 *	is the subject, the rest the body, and both go into the sender,
 *	a recipient and a header field too. Without a NUL the whole input
 *	is the mail, run over a fixed set of rules with every field and
 *	operator (and a regex that backtracks). The file is the
 *	administrator's, the mail the sender's: rules_load() must report
 *	every error, never crash, and rules_eval() must stay bounded
 *	whatever the mail (RULES_TEXT_MAX). Properties: a refused file has
 *	errors, each naming the file ("PATH:" first), a loaded one none;
 *	no more rules match than there are; the result's text is UTF-8.
 */
#include <string.h>
#include <jansson.h>

#include "config.h"
#include "fuzz.h"
#include "rules.h"

static const char conf_text[] =
"[mailbox support]\naddress = support@example.com\n[mailbox sales]\naddress = sales@example.com\n";

static const char fixed_rules[] =
"[rule a]\nif = sender equals x@y.example\nqueue = q\n"
"[rule b]\nmatch = any\nif.1 = sender_domain contains/i EXAMPLE\nif.2 = recipient not equals a@b\n"
"tags = t1, t2\n"
"[rule c]\nmailboxes = sales\nif = subject regex/i ^(re|aw):\\s*\\[#\npriority = high\n"
"[rule d]\nif.1 = body contains/i straße\nif.2 = body regex (a|aa)+[^a]\nnotify = n@example.com\n"
"[rule e]\nif = header:X-Test not regex (?m)^\\d+$\ncase = C\nnote = yes\nstop = yes\n";

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct intake_config *cfg;
    const uint8_t *nul = memchr(data, 0, size);
    g_autofree char *path = NULL;
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *mail = NULL, *text = NULL;
    struct rules *rs;
    struct rules_result res;
    const char *body;
    char   *subject;
    json_t *env;

    fuzz_init();
    cfg = fuzz_config("rules-intake.conf", conf_text);
    if (nul) {
	path = fuzz_write("rules.conf", data, nul - data);
	mail = g_utf8_make_valid((const char *) nul + 1, size - (nul - data) - 1);
    } else {
	path = fuzz_write("rules.conf", (const uint8_t *) fixed_rules, strlen(fixed_rules));
	mail = g_utf8_make_valid((const char *) data, size);
    }
    rs = rules_load(path, cfg, errors);
    for (guint i = 0; i < errors->len; i++) {
	const char *e = g_ptr_array_index(errors, i);

	if (!g_str_has_prefix(e, path) || e[strlen(path)] != ':')
	    fuzz_fail("error does not name the file: %s", e);
    }
    if ((rs == NULL) != (errors->len > 0))
	fuzz_fail("rules_load() returned %s with %u errors", rs ? "rules" : "NULL", errors->len);
    if (rs == NULL)
	return 0;
    subject = mail;
    body = strchr(mail, '\n') ? strchr(mail, '\n') + 1 : "";
    if (strchr(mail, '\n'))
	*strchr(mail, '\n') = 0;
    env = json_pack("{s:s, s:[s], s:[{s:s}], s:s, s:s, s:[[s, s]], s:{s:s}}",
		    "sender", subject, "recipients", subject, "to", "address", subject,
		    "subject", subject, "text", body, "headers", "X-Test", subject,
		    "customer", "address", subject);
    if (env == NULL)
	fuzz_fail("json_pack of the envelope failed");
    for (int m = 0; m < 2; m++) {
	rules_eval(rs, env, m ? "sales" : "support", &res);
	if (res.matched->len > rs->list->len)
	    fuzz_fail("%u rules matched of %u", res.matched->len, rs->list->len);
	text = rules_result_text(&res);
	if (!g_utf8_validate(text, -1, NULL))
	    fuzz_fail("result text is not UTF-8");
	g_clear_pointer(&text, g_free);
	rules_result_clear(&res);
    }
    json_decref(env);
    rules_free(rs);
    return 0;
}
