/*
 * NAME
 *	test_template - unit tests of worker/template.c
 * DESCRIPTION
 *	Writes templates into a temporary directory and checks, table-driven,
 *	which file templates_render() picks for a name and a language
 *	(NAME.LANG.txt, else NAME.en.txt, else NAME.txt), what it makes of
 *	every variable of template_variables[], of "{{{{" and of values that
 *	look like template syntax or hold CR/LF (inserted literally: keeping
 *	them out of header syntax is the reply builder's job), and which
 *	errors templates_check() reports as "FILE:LINE: ...": a missing file,
 *	an unknown variable, a missing Subject line, invalid UTF-8, a name or
 *	language holding "/".
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "template.h"
#include "tap.h"

static char *tmpdir;

static void write_file(const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);

    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
}

static void remove_files(void)
{
    GDir   *d = g_dir_open(tmpdir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d)) != NULL) {
	g_autofree char *path = g_build_filename(tmpdir, name, NULL);

	g_remove(path);
    }
    if (d)
	g_dir_close(d);
}

/* ---------------------------------------------------------------- */
/*	Which file							    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *file;
    const char *text;
} files[] = {
    {"ack.en.txt", "Subject: Received {{ticket_tag}}\n\nHello (en) {{customer_name}}\n"},
    {"ack.de.txt", "Subject: Erhalten {{ticket_tag}}\n\nHallo (de) {{customer_name}}\n"},
    {"other.txt", "Subject: Other {{ticket_tag}}\n\nOther {{customer_name}}\n"},
    {"only.en.txt", "Subject: Only en\n\nOnly en\n"},
    {"crlf.txt", "Subject:  Windows  \r\n\r\nLine 1\r\nLine 2\r\n"},
    {"lower.txt", "subject: lower case field name\n\nbody\n"},
    {"nobreak.txt", "Subject: no empty line\nbody right away\n"},
    {"spaces.txt", "Subject: {{ ticket_tag }}\n\n{{\tcustomer_name  }}\n"},
    {"escape.txt", "Subject: a {{{{ b\n\n{{{{subject}} {{{{{{{{ {{{subject}}}\n"},
    {"unset.txt", "Subject: [{{mailbox}}]\n\n[{{date}}]\n"},
};

static const struct {
    const char *name;
    const char *lang;
    const char *subject;		/* NULL: an error */
    const char *body;
} pick_cases[] = {
    {"ack", "de", "Erhalten [#INT-2026-000001]", "Hallo (de) Ann\n"},
    {"ack", "en", "Received [#INT-2026-000001]", "Hello (en) Ann\n"},
    {"ack", "fr", "Received [#INT-2026-000001]", "Hello (en) Ann\n"},	/* falls back to en */
    {"ack", NULL, "Received [#INT-2026-000001]", "Hello (en) Ann\n"},
    {"other", "de", "Other [#INT-2026-000001]", "Other Ann\n"},		/* then NAME.txt */
    {"other", "en", "Other [#INT-2026-000001]", "Other Ann\n"},
    {"other", NULL, "Other [#INT-2026-000001]", "Other Ann\n"},
    {"only", "de", "Only en", "Only en\n"},
    {"crlf", "en", "Windows", "Line 1\r\nLine 2\r\n"},
    {"lower", "en", "lower case field name", "body\n"},
    {"nobreak", "en", "no empty line", "body right away\n"},
    {"spaces", "en", "[#INT-2026-000001]", "Ann\n"},
    {"escape", "en", "a {{ b", "{{subject}} {{{{ {Hi}\n"},
    {"unset", "en", "[]", "[]\n"},			/* a variable without value: empty */
    {"missing", "de", NULL, NULL},
    {"ACK", "de", NULL, NULL},				/* names are file names: case counts */
};

static void test_pick(void)
{
    struct templates *ts;
    g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);

    for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
	write_file(files[i].file, files[i].text);
    g_hash_table_insert(vars, "ticket_tag", "[#INT-2026-000001]");
    g_hash_table_insert(vars, "customer_name", "Ann");
    g_hash_table_insert(vars, "subject", "Hi");
    ts = templates_new(tmpdir);
    for (gsize i = 0; i < G_N_ELEMENTS(pick_cases); i++) {
	char   *subject = NULL, *body = NULL, *why = NULL;
	const char *name = pick_cases[i].name, *lang = pick_cases[i].lang;
	int     rc = templates_render(ts, name, lang, vars, &subject, &body, &why);

	if (pick_cases[i].subject == NULL) {
	    is_int(rc, -1, "render(%s, %s) fails", name, lang ? lang : "NULL");
	    ok(why != NULL && subject == NULL && body == NULL,
	       "render(%s, %s): a reason, no subject, no body", name, lang ? lang : "NULL");
	} else if (is_int(rc, 0, "render(%s, %s) succeeds", name, lang ? lang : "NULL")) {
	    is_str(subject, pick_cases[i].subject, "render(%s, %s): subject", name,
		   lang ? lang : "NULL");
	    is_str(body, pick_cases[i].body, "render(%s, %s): body", name, lang ? lang : "NULL");
	    ok(why == NULL, "render(%s, %s): no reason", name, lang ? lang : "NULL");
	} else {
	    diag("why: %s", why ? why : "(null)");
	}
	g_free(subject);
	g_free(body);
	g_free(why);
    }

    /* A missing template: the reason names the files looked for. */
    {
	char   *why = NULL;
	g_autofree char *first = g_build_filename(tmpdir, "missing.de.txt", NULL);

	is_int(templates_check(ts, "missing", "de", &why), -1, "check(missing, de) fails");
	has_str(why, first, "check(missing, de): names %s", first);
	has_str(why, "missing.en.txt", "check(missing, de): names missing.en.txt");
	has_str(why, "missing.txt", "check(missing, de): names missing.txt");
	g_free(why);
    }

    /* Files are read once: a changed file is not seen until a new templates_new(). */
    {
	char   *subject = NULL, *body = NULL, *why = NULL;

	write_file("ack.de.txt", "Subject: Changed\n\nChanged\n");
	templates_render(ts, "ack", "de", vars, &subject, &body, &why);
	is_str(subject, "Erhalten [#INT-2026-000001]", "render(ack, de) is cached");
	g_free(subject);
	g_free(body);
	g_free(why);
	ts = templates_free(ts);
	ts = templates_new(tmpdir);
	subject = body = why = NULL;
	templates_render(ts, "ack", "de", vars, &subject, &body, &why);
	is_str(subject, "Changed", "render(ack, de) after templates_new() reads the file again");
	g_free(subject);
	g_free(body);
	g_free(why);
    }
    ok(templates_free(ts) == NULL, "templates_free() returns NULL");
    ok(templates_free(NULL) == NULL, "templates_free(NULL) is NULL");
    remove_files();
}

/* ---------------------------------------------------------------- */
/*	Every variable; values inserted literally			    */
/* ---------------------------------------------------------------- */

static void test_variables(void)
{
    GString *text = g_string_new("Subject: {{subject}} {{ticket_tag}}\n\n");
    GString *want = g_string_new(NULL);
    g_autoptr(GHashTable) vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    struct templates *ts;
    char   *subject = NULL, *body = NULL, *why = NULL;
    int     n = 0;

    for (int i = 0; template_variables[i]; i++, n++) {
	const char *v = template_variables[i];

	g_string_append_printf(text, "%s=[{{%s}}]\n", v, v);
	g_string_append_printf(want, "%s=[value of %s]\n", v, v);
	g_hash_table_insert(vars, (char *) v, g_strdup_printf("value of %s", v));
    }
    ok(n == 22, "template_variables has the 22 documented names (%d)", n);
    write_file("all.txt", text->str);
    ts = templates_new(tmpdir);
    is_int(templates_check(ts, "all", "en", &why), 0, "check(all): every known variable is accepted");
    g_free(why);
    why = NULL;
    if (is_int(templates_render(ts, "all", "en", vars, &subject, &body, &why), 0, "render(all)")) {
	is_str(subject, "value of subject value of ticket_tag", "render(all): subject");
	is_str(body, want->str, "render(all): every variable replaced");
    }
    g_free(subject);
    g_free(body);
    g_free(why);

    /* Values are inserted as they are, never expanded again. */
    {
	static const struct {
	    const char *value;
	    const char *label;
	} values[] = {
	    {"{{subject}}", "a variable"},
	    {"{{customer_name}} {{foo}}", "two variables, one unknown"},
	    {"{{{{", "an escape"},
	    {"hi\r\nBcc: victim@example.com", "CR LF"},
	    {"\n\nbody", "two LF"},
	    {"\\1 \\0 \\g<1> $1", "back-references"},
	    {"", "nothing"},
	};

	write_file("lit.txt", "Subject: <{{subject}}>\n\n<{{subject}}>\n");
	for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
	    g_autofree char *w = g_strdup_printf("<%s>", values[i].value);
	    g_autofree char *wb = g_strdup_printf("<%s>\n", values[i].value);

	    subject = body = why = NULL;
	    g_hash_table_insert(vars, "subject", g_strdup(values[i].value));
	    templates_render(ts, "lit", "en", vars, &subject, &body, &why);
	    is_str(subject, w, "render: a value holding %s is inserted literally (subject)",
		   values[i].label);
	    is_str(body, wb, "render: a value holding %s is inserted literally (body)",
		   values[i].label);
	    g_free(subject);
	    g_free(body);
	    g_free(why);
	}
    }
    templates_free(ts);
    g_string_free(text, TRUE);
    g_string_free(want, TRUE);
    remove_files();
}

/* ---------------------------------------------------------------- */
/*	Conditionals (branch lang)					    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *what;
    const char *text;			/* the body */
    const char *category;		/* NULL: unset */
    const char *url;
    const char *want;
} if_cases[] = {
    {"set", "A{{#if category}}[{{category}}]{{/if}}B", "billing", NULL, "A[billing]B"},
    {"unset", "A{{#if category}}[{{category}}]{{/if}}B", NULL, NULL, "AB"},
    {"empty is unset", "A{{#if category}}[{{category}}]{{/if}}B", "", NULL, "AB"},
    {"else, set", "{{#if ticket_url}}see {{ticket_url}}{{else}}no link{{/if}}", NULL,
     "https://help.example.com/t/1", "see https://help.example.com/t/1"},
    {"else, unset", "{{#if ticket_url}}see {{ticket_url}}{{else}}no link{{/if}}", NULL, NULL,
     "no link"},
    {"nested, outer off", "{{#if category}}a{{#if ticket_url}}b{{else}}c{{/if}}d{{/if}}e",
     NULL, "u", "e"},
    {"nested, inner off", "{{#if category}}a{{#if ticket_url}}b{{else}}c{{/if}}d{{/if}}e",
     "x", NULL, "acde"},
    {"nested, both on", "{{#if category}}a{{#if ticket_url}}b{{else}}c{{/if}}d{{/if}}e",
     "x", "u", "abde"},
    {"white space in tags", "{{ #if category }}x{{ else }}y{{ /if }}", "c", NULL, "x"},
    {"escape inside", "{{#if category}}{{{{category}}{{/if}}", "c", NULL, "{{category}}"},
    /* A value that looks like a tag is a value: never a tag. */
    {"value holding tags", "{{#if category}}{{category}}{{/if}}.", "{{#if x}}{{/if}}{{else}}",
     NULL, "{{#if x}}{{/if}}{{else}}."},
};

static void test_conditionals(void)
{
    struct templates *ts;

    for (gsize i = 0; i < G_N_ELEMENTS(if_cases); i++) {
	g_autofree char *file = g_strdup_printf("if%zu.txt", i);
	g_autofree char *text = g_strdup_printf("Subject: s\n\n%s", if_cases[i].text);

	write_file(file, text);
    }
    ts = templates_new(tmpdir);
    for (gsize i = 0; i < G_N_ELEMENTS(if_cases); i++) {
	g_autofree char *name = g_strdup_printf("if%zu", i);
	g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
	char   *subject = NULL, *body = NULL, *why = NULL;

	if (if_cases[i].category)
	    g_hash_table_insert(vars, "category", (char *) if_cases[i].category);
	if (if_cases[i].url)
	    g_hash_table_insert(vars, "ticket_url", (char *) if_cases[i].url);
	if (templates_render(ts, name, "en", vars, &subject, &body, &why) == 0)
	    is_str(body, if_cases[i].want, "{{#if}}: %s", if_cases[i].what);
	else
	    ok(0, "{{#if}}: %s: %s", if_cases[i].what, why);
	g_free(subject);
	g_free(body);
	g_free(why);
    }
    templates_free(ts);
    remove_files();
}

/* ---------------------------------------------------------------- */
/*	HTML alternative (branch lang)					    */
/* ---------------------------------------------------------------- */

static void test_html(void)
{
    struct templates *ts;
    g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
    char   *html = NULL, *why = NULL;

    write_file("h.de.txt", "Subject: s\n\nHallo {{customer_name}}\n");
    write_file("h.de.html", "<p>Hallo {{customer_name}}</p>\n{{#if ticket_url}}<a href=\""
	       "{{ticket_url}}\">{{ticket_number}}</a>{{/if}}\n");
    write_file("h.en.txt", "Subject: s\n\nHello\n");
    write_file("bad.en.txt", "Subject: s\n\nHello\n");
    write_file("bad.en.html", "<p>\n{{#if date}}\n");
    ts = templates_new(tmpdir);
    g_hash_table_insert(vars, "customer_name", "<script>alert(1)</script> & \"Ann\" 'x'");
    g_hash_table_insert(vars, "ticket_url", "https://h.example/t?a=1&b=\"><x");
    g_hash_table_insert(vars, "ticket_number", "INT-1");
    is_int(templates_render_html(ts, "h", "de", vars, &html, &why), 0, "html: render(h, de)");
    is_str(html, "<p>Hallo &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ann&quot; &apos;x&apos;"
	   "</p>\n<a href=\"https://h.example/t?a=1&amp;b=&quot;&gt;&lt;x\">INT-1</a>\n",
	   "html: values escaped, markup of the template kept");
    g_free(html);
    html = NULL;
    is_int(templates_render_html(ts, "h", "fr", vars, &html, &why), 0, "html: render(h, fr)");
    ok(html == NULL, "html: h.en.txt has no h.en.html beside it: no HTML alternative");
    is_int(templates_check(ts, "bad", "en", &why), -1, "html: a broken .html fails the check");
    has_str(why, "bad.en.html:2: {{#if}} is not closed by {{/if}}", "html: file and line named");
    g_free(why);
    templates_free(ts);
    remove_files();
}

/* ---------------------------------------------------------------- */
/*	Errors								    */
/* ---------------------------------------------------------------- */

static const struct {
    const char *file;			/* NULL: no file to write */
    const char *text;
    const char *name;
    const char *lang;
    const char *want;			/* what the reason holds after "DIR/"; NULL: none */
} error_cases[] = {
    {"good.txt", "Subject: Hi {{subject}}\n\nBody {{ticket_number}}\n", "good", "en", NULL},
    {"unknown.txt", "Subject: Hi\n\nline 3\nline 4 {{foo}}\n", "unknown", "en",
    "unknown.txt:4: unknown variable {{foo}}"},
    {"unknown_subj.txt", "Subject: Hi {{ticket}}\n\nBody\n", "unknown_subj", "en",
    "unknown_subj.txt:1: unknown variable {{ticket}}"},
    {"unknown_sp.txt", "Subject: Hi\n\n\n\n\n\n{{ nope }}\n", "unknown_sp", "en",
    "unknown_sp.txt:7: unknown variable {{nope}}"},
    {"unknown_crlf.txt", "Subject: Hi\r\n\r\nx\r\n{{foo}}\r\n", "unknown_crlf", "en",
    "unknown_crlf.txt:4: unknown variable {{foo}}"},
    {"second.txt", "Subject: {{subject}}\n\n{{date}}\n{{customer_name}} {{bar}}\n", "second", "en",
    "second.txt:4: unknown variable {{bar}}"},
    /* A typo that does not fit [a-z_] must not go out to customers verbatim either. */
    {"upper.txt", "Subject: Hi\n\nDear {{Customer_Name}}\n", "upper", "en",
    "upper.txt:3: unknown variable {{Customer_Name}}"},
    {"dash.txt", "Subject: Hi\n\n\nTicket {{ticket-number}}\n", "dash", "en",
    "dash.txt:4: unknown variable {{ticket-number}}"},
    /* Conditionals (branch lang): balanced, known names, not too deep. */
    {"ifok.txt", "Subject: {{#if category}}[{{category}}] {{/if}}Hi\n\n{{#if ticket_url}}\n"
     "{{ticket_url}}\n{{else}}\nno link\n{{/if}}\n", "ifok", "en", NULL},
    {"ifunknown.txt", "Subject: Hi\n\nA\n{{#if link}}x{{/if}}\n", "ifunknown", "en",
    "ifunknown.txt:4: unknown variable {{#if link}}"},
    {"ifopen.txt", "Subject: Hi\n\nA\n\n{{#if category}}\nx\n", "ifopen", "en",
    "ifopen.txt:5: {{#if}} is not closed by {{/if}}"},
    {"ifclose.txt", "Subject: Hi\n\nA\n{{/if}}\n", "ifclose", "en",
    "ifclose.txt:4: {{/if}} without {{#if}}"},
    {"ifelse.txt", "Subject: Hi\n\n{{else}}\n", "ifelse", "en",
    "ifelse.txt:3: {{else}} without {{#if}}"},
    {"ifelse2.txt", "Subject: Hi\n\n{{#if date}}a{{else}}b\n{{else}}c{{/if}}\n", "ifelse2",
     "en", "ifelse2.txt:4: {{else}} without {{#if}}"},
    {"ifsubj.txt", "Subject: {{#if date}}Hi\n\n{{/if}}\n", "ifsubj", "en",
    "ifsubj.txt:1: {{#if}} is not closed by {{/if}}"},
    {"deep.txt", "Subject: Hi\n\n{{#if date}}{{#if date}}{{#if date}}{{#if date}}{{#if date}}"
     "{{#if date}}{{#if date}}{{#if date}}{{#if date}}x{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}"
     "{{/if}}{{/if}}{{/if}}{{/if}}\n", "deep", "en", "deep.txt:3: {{#if}} nested deeper than 8"},
    {"nosubject.txt", "Hello\n\nBody\n", "nosubject", "en", "nosubject.txt:1: the first line must be"},
    {"empty.txt", "", "empty", "en", "empty.txt:1: the first line must be"},
    {"blankfirst.txt", "\nSubject: Hi\n\nBody\n", "blankfirst", "en", "blankfirst.txt:1:"},
    {"oneline.txt", "Subject: Hi", "oneline", "en", "oneline.txt:1:"},
    {"latin1.txt", "Subject: Gr\xfc\xdf" "e\n\nBody\n", "latin1", "en", "latin1.txt: not valid UTF-8"},
    {"badbody.txt", "Subject: Hi\n\nBody \xc3\x28\n", "badbody", "en", "badbody.txt: not valid UTF-8"},
    {NULL, NULL, "../etc/passwd", "en", NULL},
    {NULL, NULL, "good", "../../x", NULL},
    {NULL, NULL, "sub/good", NULL, NULL},
    {NULL, NULL, "/good", "en", NULL},
};

static void test_errors(void)
{
    struct templates *ts = templates_new(tmpdir);
    g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);

    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++)
	if (error_cases[i].file)
	    write_file(error_cases[i].file, error_cases[i].text);
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
	const char *name = error_cases[i].name, *lang = error_cases[i].lang;
	char   *why = NULL, *subject = NULL, *body = NULL;
	int     rc = templates_check(ts, name, lang, &why);
	gboolean slash = strchr(name, '/') || (lang && strchr(lang, '/'));

	if (error_cases[i].want == NULL && !slash) {
	    is_int(rc, 0, "check(%s, %s) succeeds", name, lang ? lang : "NULL");
	    ok(why == NULL, "check(%s, %s): no reason", name, lang ? lang : "NULL");
	    if (why)
		diag("why: %s", why);
	} else if (slash) {
	    is_int(rc, -1, "check(\"%s\", \"%s\"): a '/' is refused", name, lang ? lang : "NULL");
	    has_str(why, "'/'", "check(\"%s\", \"%s\"): the reason says so", name,
		    lang ? lang : "NULL");
	} else {
	    g_autofree char *want = g_strdup_printf("%s/%s", tmpdir, error_cases[i].want);

	    is_int(rc, -1, "check(%s, %s) fails", name, lang ? lang : "NULL");
	    if (!ok(why != NULL && g_str_has_prefix(why, want),
		    "check(%s, %s): reason starts \"DIR/%s\"", name, lang ? lang : "NULL",
		    error_cases[i].want))
		diag("why: %s", why ? why : "(null)");
	}
	g_free(why);
	why = NULL;
	/* render fails the same way and for the same reason */
	rc = templates_render(ts, name, lang, vars, &subject, &body, &why);
	if (error_cases[i].want || slash)
	    ok(rc == -1 && why != NULL && subject == NULL && body == NULL,
	       "render(%s, %s) fails too", name, lang ? lang : "NULL");
	g_free(why);
	g_free(subject);
	g_free(body);
    }
    /* A broken NAME.LANG.txt is an error, not a reason to fall back to NAME.en.txt. */
    {
	char   *why = NULL;

	write_file("fb.en.txt", "Subject: fine\n\nfine\n");
	write_file("fb.de.txt", "Subject: kaputt {{kaputt}}\n\n");
	is_int(templates_check(ts, "fb", "de", &why), -1, "check(fb, de): a broken de file fails");
	has_str(why, "fb.de.txt:1: unknown variable {{kaputt}}", "check(fb, de): names the de file");
	g_free(why);
    }
    templates_free(ts);
    remove_files();
}

int     main(void)
{
    g_autoptr(GError) err = NULL;

    tmpdir = g_dir_make_tmp("intake-test-template-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    test_pick();
    test_variables();
    test_errors();
    test_conditionals();
    test_html();
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
