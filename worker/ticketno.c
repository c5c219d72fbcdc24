/*
 * NAME
 *	ticketno - ticket numbers shown to customers
 * SYNOPSIS
 *	char   *ticketno_format(prefix, year, seq)
 *	char   *ticketno_find(prefix, subject)
 *	char   *ticketno_tag(number)
 *	char   *ticketno_find_record(kind, subject)
 * DESCRIPTION
 *	A ticket number is PREFIX-YYYY-NNNNNN: the configured prefix, the
 *	year the ticket was made and a sequence per year (at least six
 *	digits; more when a year needs them). The store hands out the
 *	sequence inside the ticket's transaction, so numbers are unique
 *	whatever the number of workers.
 *
 *	ticketno_format() makes a number. ticketno_tag() makes the subject
 *	tag "[#NUMBER]". ticketno_find() returns the first number of this
 *	system found in a subject as "[#NUMBER]" (also "[NUMBER]" and
 *	"#NUMBER", which mail clients and people produce when they edit a
 *	subject), or NULL. ticketno_find_record() finds a project's or a
 *	task's number, KIND-N with kind "PRJ" or "TSK" (docs/actions.md), in
 *	the same three forms, and returns it as the store writes it (no
 *	leading zeros: "[#prj-007]" is PRJ-7). All results are newly
 *	allocated (g_free).
 *
 *	The patterns are compiled once and kept (pattern_regex()): every mail
 *	is looked up, in the writer thread, and compiling with JIT cost more
 *	than matching. A few patterns at most (the configured prefix, which a
 *	reload may change, and the two record kinds); the cache is emptied
 *	should it ever hold PATTERN_CACHE_MAX.
 */
#include <string.h>

#include "ticketno.h"

#define PATTERN_CACHE_MAX	16

/* pattern_regex - the compiled pattern (g_regex_unref), or NULL when it does not compile */
static GRegex *pattern_regex(const char *pattern)
{
    static GMutex lock;
    static GHashTable *cache;		/* pattern -> GRegex */
    GRegex *re;

    g_mutex_lock(&lock);
    if (cache == NULL || g_hash_table_size(cache) >= PATTERN_CACHE_MAX) {
	g_clear_pointer(&cache, g_hash_table_destroy);
	cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				      (GDestroyNotify) g_regex_unref);
    }
    if ((re = g_hash_table_lookup(cache, pattern)) == NULL
	&& (re = g_regex_new(pattern, G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL)) != NULL)
	g_hash_table_insert(cache, g_strdup(pattern), re);
    if (re)
	g_regex_ref(re);
    g_mutex_unlock(&lock);
    return re;
}

char   *ticketno_format(const char *prefix, int year, gint64 seq)
{
    return g_strdup_printf("%s-%04d-%06" G_GINT64_FORMAT, prefix, year, seq);
}

char   *ticketno_tag(const char *number)
{
    return g_strdup_printf("[#%s]", number);
}

char   *ticketno_find(const char *prefix, const char *subject)
{
    g_autofree char *quoted = g_regex_escape_string(prefix, -1);
    g_autofree char *pattern = g_strdup_printf("(?:\\[#?|#)%s(-[0-9]{4}-[0-9]{6,12})(?![0-9])",
					       quoted);
    g_autoptr(GRegex) re = NULL;
    g_autoptr(GMatchInfo) mi = NULL;
    char   *number = NULL;

    if (subject == NULL)
	return NULL;
    re = pattern_regex(pattern);
    if (re && g_regex_match(re, subject, 0, &mi)) {
	g_autofree char *rest = g_match_info_fetch(mi, 1);

	/*
	 * The prefix is matched without regard to case; return it as
	 * configured. Not by copying it over the matched text: a case
	 * variant may have another length in UTF-8 (U+212A KELVIN SIGN
	 * matches "k").
	 */
	number = g_strconcat(prefix, rest, NULL);
    }
    return number;
}

char   *ticketno_find_record(const char *kind, const char *subject)
{
    g_autofree char *pattern = g_strdup_printf("(?:\\[#?|#)%s-([0-9]{1,9})(?![0-9])", kind);
    g_autoptr(GRegex) re = NULL;
    g_autoptr(GMatchInfo) mi = NULL;
    char   *number = NULL;

    if (subject == NULL)
	return NULL;
    re = pattern_regex(pattern);
    if (re && g_regex_match(re, subject, 0, &mi)) {
	g_autofree char *digits = g_match_info_fetch(mi, 1);
	gint64  n = g_ascii_strtoll(digits, NULL, 10);	/* nine digits: no overflow */

	if (n > 0)
	    number = g_strdup_printf("%s-%" G_GINT64_FORMAT, kind, n);
    }
    return number;
}
