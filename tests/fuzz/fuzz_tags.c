/*
 * NAME
 *	fuzz_tags - fuzz target: a keyword tags file and a mail's text
 * DESCRIPTION
 *	The input is a tags file, a NUL and a mail's text; without a NUL,
 *	the text alone over a fixed tags file (one-word and two-word
 *	keywords, a tag without keywords). Checked:
 *	tags_load() is refused iff it gives errors, each naming the file;
 *	words_each() calls back once per word it counts, each word valid
 *	UTF-8 without white space, at most WORDS_MAX_WORD bytes before
 *	folding; tags_match() gives at most TAGS_MAX tags, each counted at
 *	least once, most first, no tag twice; the log text is UTF-8.
 */
#include <string.h>

#include "classify_tags.h"
#include "words.h"
#include "fuzz.h"

static const char fixed[] =
    "[tag billing]\nkeywords = invoice, \"credit card\", Rechnung\n"
    "[tag refund]\nkeywords = money back\n[tag straße]\n";

struct seen {
    size_t  calls;
};

static void check_word(const char *word, void *ctx)
{
    struct seen *s = ctx;

    s->calls++;
    if (word == NULL)
	return;
    if (*word == 0 || !g_utf8_validate(word, -1, NULL))
	fuzz_fail("words_each: an empty or invalid word");
    if (strpbrk(word, " \t\r\n"))
	fuzz_fail("words_each: '%s' holds white space", word);
    /* Case folding may lengthen a word (ß -> ss), by at most 3 times. */
    if (strlen(word) > 3 * WORDS_MAX_WORD)
	fuzz_fail("words_each: a word of %zu bytes", strlen(word));
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const char *text = nul ? (const char *) nul + 1 : (const char *) data;
    size_t  len = nul ? size - (nul - data) - 1 : size;
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *path = NULL;
    struct tags *ts;
    struct seen seen = {0};
    size_t  words;

    fuzz_init();
    path = nul ? fuzz_write("tags.conf", data, nul - data)
	: fuzz_write("tags.conf", (const uint8_t *) fixed, sizeof(fixed) - 1);
    ts = tags_load(path, NULL, errors);
    if ((ts == NULL) != (errors->len > 0))
	fuzz_fail("tags_load: %s with %u errors", ts ? "loaded" : "refused", errors->len);
    for (guint i = 0; i < errors->len; i++)
	if (strstr(g_ptr_array_index(errors, i), path) == NULL)
	    fuzz_fail("tags_load: error without the file: %s",
		      (char *) g_ptr_array_index(errors, i));
    if ((words = words_each(text, len, check_word, &seen)) != seen.calls)
	fuzz_fail("words_each: %zu words, %zu calls", words, seen.calls);
    if (ts) {
	g_autoptr(GArray) hits = tags_match(ts, text, MIN(len, 200), text, len);
	g_autofree char *said = tags_hits_text(hits);
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);

	if (hits->len > TAGS_MAX || hits->len > tags_count(ts))
	    fuzz_fail("tags_match: %u tags of %u", hits->len, tags_count(ts));
	for (guint i = 0; i < hits->len; i++) {
	    const struct tag_hit *h = &g_array_index(hits, struct tag_hit, i);

	    if (h->count == 0 || (i && h->count > g_array_index(hits, struct tag_hit, i - 1).count))
		fuzz_fail("tags_match: %s=%u out of order or not found", h->name, h->count);
	    if (!g_hash_table_add(names, (gpointer) h->name))
		fuzz_fail("tags_match: %s twice", h->name);
	}
	if (!g_utf8_validate(said, -1, NULL))
	    fuzz_fail("tags_hits_text: not UTF-8");
    }
    tags_free(ts);
    return 0;
}
