/*
 * NAME
 *	test_durable - unit tests of durable_assess()
 * DESCRIPTION
 *	Table-driven: which Redis persistence settings keep accepted mail
 *	(appendonly yes, appendfsync always, maxmemory-policy noeviction),
 *	which risk each other setting is named with, that the fsync policy
 *	does not matter without the AOF, that several risks are all named,
 *	and that a setting that could not be read (NULL: CONFIG GET refused,
 *	INFO does not tell appendfsync) makes the answer "unknown" unless a
 *	known setting is unsafe already. The checks against a real Redis
 *	(CONFIG SET at run time, CONFIG denied) are in it_redis_durable.sh.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "durable.h"
#include "tap.h"

static const struct {
    const char *aof, *fsync, *policy;
    enum durable_state want;
    const char *risk1, *risk2;		/* in *risks; NULL: none expected */
} cases[] = {
    {"yes", "always", "noeviction", DURABLE_YES, NULL, NULL},
    {"yes", "everysec", "noeviction", DURABLE_NO,
    "everysec can lose up to a second of accepted mail on a power loss", NULL},
    {"yes", "no", "noeviction", DURABLE_NO, "appendfsync no can lose", NULL},
    {"no", "always", "noeviction", DURABLE_NO, "appendonly no: a restart of Redis loses", NULL},
    {"no", "everysec", "noeviction", DURABLE_NO, "appendonly no", NULL},	/* fsync moot */
    {"yes", "always", "allkeys-lru", DURABLE_NO,
    "maxmemory-policy allkeys-lru: an evicting policy silently deletes accepted mail", NULL},
    {"yes", "always", "volatile-ttl", DURABLE_NO, "volatile-ttl", NULL},
    {"yes", "everysec", "allkeys-random", DURABLE_NO, "everysec", "allkeys-random"},
    {"yes", NULL, "noeviction", DURABLE_UNKNOWN, "cannot read appendfsync", NULL},
    {NULL, NULL, NULL, DURABLE_UNKNOWN, "appendonly, appendfsync, maxmemory-policy", NULL},
    {"no", NULL, "noeviction", DURABLE_NO, "appendonly no", NULL},	/* known risk wins */
    {"yes", NULL, "allkeys-lru", DURABLE_NO, "allkeys-lru", NULL},
};

int     main(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
	char   *risks = NULL;
	enum durable_state got = durable_assess(cases[i].aof, cases[i].fsync, cases[i].policy,
						&risks);

	is_int(got, cases[i].want, "appendonly %s, appendfsync %s, policy %s: state",
	       cases[i].aof ? cases[i].aof : "?", cases[i].fsync ? cases[i].fsync : "?",
	       cases[i].policy ? cases[i].policy : "?");
	if (cases[i].want == DURABLE_YES)
	    ok(risks == NULL, "  no risk named");
	if (cases[i].risk1)
	    has_str(risks, cases[i].risk1, "  risk named: %s", cases[i].risk1);
	if (cases[i].risk2)
	    has_str(risks, cases[i].risk2, "  also named: %s", cases[i].risk2);
	if (cases[i].aof && strcmp(cases[i].aof, "no") == 0)
	    ok(risks && strstr(risks, "appendfsync") == NULL, "  no fsync risk without the AOF");
	g_free(risks);
    }
    return tap_done();
}
