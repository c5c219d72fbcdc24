/*
 * NAME
 *	durable - is Redis set up to keep accepted mail?
 * SYNOPSIS
 *	enum durable_state durable_assess(appendonly, appendfsync, policy, &risks)
 *	int	durable_check(rq, &state, &risks, &why)
 *
 *	struct durable *durable_new(cfg)
 *	int	durable_update(d, rq, &why)
 *	int	durable_start(d, rq)
 *	enum durable_state durable_state(d)
 *	int	durable_refuse(d)
 *	struct durable *durable_free(d)
 * DESCRIPTION
 *	The stream is the only copy of a mail the MTA has accepted. It is
 *	safe only when Redis writes every entry to its append-only file
 *	before it answers (appendonly yes, appendfsync always) and never
 *	evicts keys to make room (maxmemory-policy noeviction: at maxmemory
 *	Redis then refuses XADD, the milter answers 451 and the sending MTA
 *	keeps the mail).
 *
 *	durable_assess() judges the three settings (each NULL when it could
 *	not be read): DURABLE_YES when all three are right; DURABLE_NO when
 *	one can lose mail, with *risks (g_free) naming each risk;
 *	DURABLE_UNKNOWN when none is wrong but one could not be read, *risks
 *	saying which.
 *
 *	durable_check() asks the server: CONFIG GET, and where that is
 *	refused (renamed or disabled command, ACL) INFO persistence and INFO
 *	memory, which tell aof_enabled and maxmemory_policy but not
 *	appendfsync. It returns 0 with *state and *risks, or -1 and *why
 *	(g_free) when the server could not be asked at all (down).
 *
 *	A durable remembers the last answer for a daemon and logs changes:
 *	a warning naming the risks when the settings become (or are at
 *	start) unsafe, or unreadable (said once), and a note when they are
 *	safe again. durable_update() checks now (0, or -1 and *why when
 *	Redis did not answer: the state stays what it was). durable_state()
 *	is the last known state (DURABLE_UNKNOWN before the first answer).
 *	durable_refuse() is true when [redis] require_durable is set and the
 *	last answer was not DURABLE_YES (or none came yet): the milter then
 *	answers 451 to every mail. durable_start() is a daemon's first check:
 *	-1 (logged) when it must not start, because Redis answered with
 *	settings durable_refuse() refuses; 0 otherwise, also when Redis did
 *	not answer (a Redis that is down is not a reason not to start; the
 *	daemon checks again when it answers).
 *
 *	Neither function is thread-safe on one durable; durable_state() of
 *	a durable another thread updates must be read through the caller's
 *	own synchronisation (the milter copies it into an atomic).
 */
#include <string.h>
#include <glib.h>

#include "durable.h"
#include "log.h"

enum durable_state durable_assess(const char *appendonly, const char *appendfsync,
				  const char *policy, char **risks)
{
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);

    if (appendonly == NULL)
	g_ptr_array_add(unknown, g_strdup("appendonly"));
    else if (strcmp(appendonly, "yes") != 0)
	g_ptr_array_add(bad, g_strdup_printf("appendonly %s: a restart of Redis loses the"
			   " accepted mail written since its last snapshot", appendonly));
    /* Without the AOF its fsync policy does not matter. */
    if (appendonly && strcmp(appendonly, "yes") != 0)
	;
    else if (appendfsync == NULL)
	g_ptr_array_add(unknown, g_strdup("appendfsync"));
    else if (strcmp(appendfsync, "everysec") == 0)
	g_ptr_array_add(bad, g_strdup("appendfsync everysec can lose up to a second of"
				      " accepted mail on a power loss"));
    else if (strcmp(appendfsync, "always") != 0)
	g_ptr_array_add(bad, g_strdup_printf("appendfsync %s can lose the accepted mail of the"
			  " last 30 seconds or more on a power loss", appendfsync));
    if (policy == NULL)
	g_ptr_array_add(unknown, g_strdup("maxmemory-policy"));
    else if (strcmp(policy, "noeviction") != 0)
	g_ptr_array_add(bad, g_strdup_printf("maxmemory-policy %s: an evicting policy silently"
					     " deletes accepted mail", policy));
    g_ptr_array_add(bad, NULL);
    g_ptr_array_add(unknown, NULL);
    if (bad->len > 1) {
	*risks = g_strjoinv("; ", (char **) bad->pdata);
	return DURABLE_NO;
    }
    if (unknown->len > 1) {
	g_autofree char *names = g_strjoinv(", ", (char **) unknown->pdata);

	*risks = g_strdup_printf("cannot read %s", names);
	return DURABLE_UNKNOWN;
    }
    *risks = NULL;
    return DURABLE_YES;
}

/* config_get - one CONFIG GET value (g_free); NULL and *refused when refused */
static char *config_get(struct redisq *rq, const char *name, char **refused, char **why)
{
    redisReply *r = redisq_run(rq, why, "CONFIG", "GET", name, NULL);
    char   *v = NULL;

    if (r == NULL) {
	if (!redisq_ok(rq))
	    return NULL;			/* no answer: *why says why */
	g_free(*refused);
	*refused = *why;
	*why = NULL;
	return NULL;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
	&& r->element[1]->type == REDIS_REPLY_STRING)
	v = g_strdup(r->element[1]->str);
    freeReplyObject(r);
    return v;
}

/* info_get - "key:value" of an INFO section (g_free), or NULL */
static char *info_get(struct redisq *rq, const char *section, const char *key, char **why)
{
    redisReply *r = redisq_run(rq, why, "INFO", section, NULL);
    g_autofree char *prefix = g_strconcat(key, ":", NULL);
    char   *v = NULL;

    if (r == NULL)
	return NULL;
    if (r->type == REDIS_REPLY_STRING) {
	g_auto(GStrv) lines = g_strsplit(r->str, "\n", -1);

	for (int i = 0; lines[i] && v == NULL; i++)
	    if (g_str_has_prefix(lines[i], prefix))
		v = g_strstrip(g_strdup(lines[i] + strlen(prefix)));
    }
    freeReplyObject(r);
    return v;
}

int     durable_check(struct redisq *rq, enum durable_state *state, char **risks,
		      char **why)
{
    g_autofree char *refused = NULL;
    g_autofree char *aof = NULL;
    g_autofree char *fsync = NULL;
    g_autofree char *policy = NULL;

    *why = NULL;
    aof = config_get(rq, "appendonly", &refused, why);
    if (*why)
	return -1;
    if (refused == NULL) {
	fsync = config_get(rq, "appendfsync", &refused, why);
	if (*why == NULL)
	    policy = config_get(rq, "maxmemory-policy", &refused, why);
	if (*why)
	    return -1;
    }
    if (refused) {
	/* CONFIG renamed, disabled or denied: INFO tells two of the three. */
	g_autofree char *enabled = info_get(rq, "persistence", "aof_enabled", why);

	if (*why && !redisq_ok(rq))
	    return -1;
	g_clear_pointer(why, g_free);
	if (enabled)
	    aof = g_strdup(strcmp(enabled, "1") == 0 ? "yes" : "no");
	policy = info_get(rq, "memory", "maxmemory_policy", why);
	if (*why && !redisq_ok(rq))
	    return -1;
	g_clear_pointer(why, g_free);
    }
    *state = durable_assess(aof, fsync, policy, risks);
    if (*state == DURABLE_UNKNOWN && refused) {
	char   *t = g_strdup_printf("%s (CONFIG GET refused: %s)", *risks, refused);

	g_free(*risks);
	*risks = t;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/*	One daemon's view						    */
/* ---------------------------------------------------------------- */

struct durable {
    const struct intake_config *cfg;
    enum durable_state state;
    char   *risks;			/* of the last answer */
    gboolean checked;			/* an answer came */
    gboolean said_unknown;
};

struct durable *durable_new(const struct intake_config *cfg)
{
    struct durable *d = g_new0(struct durable, 1);

    d->cfg = cfg;
    d->state = DURABLE_UNKNOWN;
    return d;
}

struct durable *durable_free(struct durable *d)
{
    if (d == NULL)
	return NULL;
    g_free(d->risks);
    g_free(d);
    return NULL;
}

int     durable_update(struct durable *d, struct redisq *rq, char **why)
{
    const struct intake_config *cfg = d->cfg;
    enum durable_state state;
    char   *risks = NULL;
    gboolean changed;
    g_autofree char *redis = redisq_describe(cfg);

    if (durable_check(rq, &state, &risks, why) < 0)
	return -1;
    changed = !d->checked || state != d->state || g_strcmp0(risks, d->risks) != 0;
    if (changed && state == DURABLE_NO)
	msg_warn("redis %s can lose accepted mail: %s (set appendonly yes, appendfsync always,"
		 " maxmemory-policy noeviction)%s", redis, risks,
		 cfg->redis_require_durable ? "; [redis] require_durable = yes: mail is"
		 " refused with 451 until it is fixed" : "");
    else if (changed && state == DURABLE_UNKNOWN && !d->said_unknown) {
	msg_warn("redis %s: cannot tell whether it keeps accepted mail: %s%s", redis,
		 risks, cfg->redis_require_durable ? "; [redis] require_durable = yes: mail is"
		 " refused with 451 (allow CONFIG GET, or set require_durable = no)" : "");
	d->said_unknown = TRUE;
    } else if (changed && state == DURABLE_YES && d->checked)
	msg_info("redis %s keeps accepted mail again: appendonly yes, appendfsync always,"
		 " maxmemory-policy noeviction", redis);
    d->checked = TRUE;
    d->state = state;
    g_free(d->risks);
    d->risks = risks;
    return 0;
}

int     durable_start(struct durable *d, struct redisq *rq)
{
    g_autofree char *why = NULL;
    g_autofree char *redis = redisq_describe(d->cfg);

    if (durable_update(d, rq, &why) < 0) {
	msg_info("cannot check redis's persistence settings yet (%s); checking when it answers",
		 why);
	return 0;
    }
    if (durable_refuse(d)) {
	msg_error("not starting: redis %s does not keep accepted mail safely (see above) and"
		  " [redis] require_durable = yes in %s", redis, d->cfg->path);
	return -1;
    }
    return 0;
}

enum durable_state durable_state(const struct durable *d)
{
    return d->state;
}

int     durable_refuse(const struct durable *d)
{
    return d->cfg->redis_require_durable && d->state != DURABLE_YES;
}
