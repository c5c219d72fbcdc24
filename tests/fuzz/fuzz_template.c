/*
 * NAME
 *	fuzz_template - fuzz target: templates_check() and templates_render()
 * DESCRIPTION
 *	The input is a template file, optionally followed by a NUL byte and
 *	a value. The template is what a postmaster writes; the value stands
 *	for what a sender controls (subject, name, address), cut at 998
 *	bytes like a header line, and given to every variable. Each input
 *	gets a fresh template directory, so the cache never answers.
 *	Properties: check and render agree; a rendered subject and body are
 *	valid UTF-8 when the value is; an error names the file.
 */
#include <string.h>

#include "template.h"
#include "fuzz.h"

#define MAX_VALUE 998

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t  tlen = nul ? (size_t) (nul - data) : size;
    g_autofree char *value = NULL;
    g_autofree char *path = NULL;
    g_autofree char *why = NULL;
    g_autofree char *why2 = NULL;
    char   *subject = NULL, *body = NULL;
    GHashTable *vars;
    struct templates *ts;
    int     checked, rendered;

    fuzz_init();
    if (nul)
	value = g_utf8_make_valid((const char *) nul + 1, MIN(size - tlen - 1, MAX_VALUE));
    else
	value = g_strdup("Ärger mit {{subject}} \r\nBcc: x@example.org");
    path = fuzz_write("ack.en.txt", data, tlen);
    vars = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; template_variables[i]; i++)
	g_hash_table_insert(vars, (gpointer) template_variables[i], value);

    ts = templates_new(fuzz_dir());
    checked = templates_check(ts, "ack", "de", &why);
    if (checked != 0 && (why == NULL || !g_str_has_prefix(why, path)))
	fuzz_fail("templates_check() error does not name %s: %s", path, why ? why : "(none)");
    templates_free(ts);

    /* A second, empty cache: render parses the file itself. */
    ts = templates_new(fuzz_dir());
    rendered = templates_render(ts, "ack", "de", vars, &subject, &body, &why2);
    if ((checked == 0) != (rendered == 0))
	fuzz_fail("templates_check() says %d, templates_render() says %d", checked, rendered);
    if (rendered == 0) {
	if (subject == NULL || body == NULL)
	    fuzz_fail("templates_render() succeeded without subject or body");
	if (!g_utf8_validate(subject, -1, NULL) || !g_utf8_validate(body, -1, NULL))
	    fuzz_fail("rendered text is not valid UTF-8");
    }
    g_free(subject);
    g_free(body);
    templates_free(ts);
    g_hash_table_destroy(vars);
    return 0;
}
