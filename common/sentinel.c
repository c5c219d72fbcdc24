/*
 * NAME
 *	sentinel - find the Redis primary through Redis Sentinel
 * SYNOPSIS
 *	#include "sentinel.h"
 *
 *	int	sentinel_find_master(cfg, &host, &port, &why)
 *	int	sentinel_check_role(ctx, timeout_ms, &why)
 *	void	sentinel_announce(cfg, when)
 *	char   *sentinel_describe(cfg)
 *
 *	int	sentinel_master_reply(reply, &host, &port, &why)
 *	int	sentinel_role_reply(reply, &why)
 *	redisReply *sentinel_command(ctx, deadline, argc, argv, &why)
 *	int	sentinel_valid_host(host, len)
 *	int	sentinel_parse_port(text, len)
 * DESCRIPTION
 *	hiredis has no Sentinel client; this is the part of one Intake
 *	needs, after the Redis "Sentinel clients" guidelines.
 *
 *	sentinel_find_master() asks the sentinels of [redis] sentinels in
 *	the configured order, each with a connect and read timeout of
 *	[redis] sentinel_timeout (AUTH first with [redis] sentinel_password
 *	when set), "SENTINEL get-master-addr-by-name" [redis] master_name.
 *	The first valid answer wins: 0, *host (g_free) and *port. A
 *	sentinel that is down, refuses, does not know the name or answers
 *	anything but a 2-element array of bulk strings with a sane host and
 *	port is skipped; when none answers, -1 and *why (g_free) names what
 *	each of them did. The address found is logged when it differs from
 *	the one this process found before (a failover, seen once per
 *	process, not once per connection).
 *
 *	sentinel_check_role() sends ROLE on a new connection to the address
 *	found: a sentinel may answer with an address that is no longer the
 *	primary (it has not seen the failover yet, or the old primary came
 *	back as a primary and is about to be turned into a replica).
 *	0 when the server says "master"; -1 and *why otherwise.
 *
 *	sentinel_announce() finds the master and logs it whatever the
 *	process knew before: the startup and SIGHUP lines ("when" says
 *	which). It does nothing without [redis] sentinels.
 *	sentinel_describe() is the text by which logs name the Redis
 *	configured: "sentinels A, B master NAME" (g_free).
 *
 *	The pure parts are separate for the unit tests:
 *	sentinel_master_reply() and sentinel_role_reply() check a reply;
 *	sentinel_valid_host() accepts a host name, IPv4 or IPv6 address of
 *	at most SENTINEL_HOST_MAX bytes; sentinel_parse_port() a decimal
 *	port 1 to 65535 (-1 otherwise).
 *
 *	sentinel_command() sends one command and reads its reply with
 *	bounds hiredis does not have: a sentinel's reply is never trusted
 *	to be small. hiredis keeps reading a bulk string for as long as
 *	its announced length says, and allocates an array's element
 *	pointers from the announced count before any element arrives (an
 *	"*2000000000" header asks for 16 GB). Here the reply is read a
 *	piece at a time, refused once SENTINEL_REPLY_MAX bytes are buffered
 *	or the deadline (monotonic microseconds) passed, and the context's
 *	reader refuses arrays of more than SENTINEL_ARRAY_MAX elements. The
 *	reply is the caller's (freeReplyObject()).
 * DIAGNOSTICS
 *	Every failure is a *why (g_free) fit for a log line that names the
 *	sentinel or server. The sentinel password is never logged.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "log.h"
#include "sentinel.h"

/* ---------------------------------------------------------------- */
/*	Replies								    */
/* ---------------------------------------------------------------- */

int     sentinel_valid_host(const char *host, size_t len)
{
    if (host == NULL || len == 0 || len > SENTINEL_HOST_MAX || strlen(host) != len)
	return 0;
    /* Names, IPv4 and IPv6 (with ':'); nothing that needs quoting in a log. */
    for (size_t i = 0; i < len; i++)
	if (!(g_ascii_isalnum(host[i]) || strchr(".-_:", host[i])))
	    return 0;
    return host[0] != '-' && host[0] != '.';
}

int     sentinel_parse_port(const char *text, size_t len)
{
    int     port = 0;

    if (len == 0 || len > 5)
	return -1;
    for (size_t i = 0; i < len; i++) {
	if (!g_ascii_isdigit(text[i]))
	    return -1;
	port = port * 10 + (text[i] - '0');
    }
    return port >= 1 && port <= 65535 ? port : -1;
}

static const char *type_name(int type)
{
    switch (type) {
    case REDIS_REPLY_STRING:
	return "a bulk string";
    case REDIS_REPLY_ARRAY:
	return "an array";
    case REDIS_REPLY_INTEGER:
	return "an integer";
    case REDIS_REPLY_NIL:
	return "nil";
    case REDIS_REPLY_STATUS:
	return "a status";
    case REDIS_REPLY_ERROR:
	return "an error";
    }
    return "an unknown type";
}

/*
 * sentinel_master_reply - the reply to SENTINEL get-master-addr-by-name:
 * nil when the sentinel does not know the name, an error when it is not
 * a sentinel (or wants AUTH), otherwise exactly [host, port], both bulk
 * strings. 0, *host (g_free) and *port; or -1 and *why (g_free).
 */
int     sentinel_master_reply(const redisReply *r, char **host, int *port, char **why)
{
    const redisReply *h, *p;
    int     n;

    if (r == NULL) {
	*why = g_strdup("no reply");
	return -1;
    }
    if (r->type == REDIS_REPLY_NIL) {
	*why = g_strdup("does not know this master name");
	return -1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
	*why = g_strdup_printf("said: %.200s", r->str ? r->str : "");
	return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
	*why = g_strdup_printf("answered %s%s, not [host, port]", type_name(r->type),
			       r->type == REDIS_REPLY_ARRAY ? " of another length" : "");
	return -1;
    }
    h = r->element[0];
    p = r->element[1];
    if (h == NULL || p == NULL || h->type != REDIS_REPLY_STRING
	|| p->type != REDIS_REPLY_STRING) {
	*why = g_strdup("answered an array whose host or port is not a bulk string");
	return -1;
    }
    if (!sentinel_valid_host(h->str, h->len)) {
	*why = g_strdup_printf("answered an unusable host (%zu bytes)", h->len);
	return -1;
    }
    if ((n = sentinel_parse_port(p->str, p->len)) < 0) {
	*why = g_strdup_printf("answered an unusable port '%.8s%s'", p->str,
			       p->len > 8 ? "..." : "");
	return -1;
    }
    *host = g_strndup(h->str, h->len);
    *port = n;
    return 0;
}

/* sentinel_role_reply - 0 when a ROLE reply says "master"; -1 and *why otherwise */
int     sentinel_role_reply(const redisReply *r, char **why)
{
    const redisReply *role;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1
	|| (role = r->element[0]) == NULL || role->type != REDIS_REPLY_STRING) {
	*why = g_strdup_printf("ROLE answered %s, not [role, ...]",
			       r ? type_name(r->type) : "nothing");
	return -1;
    }
    if (role->len != 6 || memcmp(role->str, "master", 6) != 0) {
	*why = g_strdup_printf("its role is %.20s, not master",
			       sentinel_valid_host(role->str, role->len) ? role->str : "unusable");
	return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/*	Bounded exchange						    */
/* ---------------------------------------------------------------- */

static redisReplyObjectFunctions bounded_fn;
static void *(*default_create_array) (const redisReadTask *, int);

static void *bounded_create_array(const redisReadTask *task, int elements)
{
    /* NULL makes hiredis fail the reply (a protocol error), before any allocation. */
    if (elements < 0 || elements > SENTINEL_ARRAY_MAX)
	return NULL;
    return default_create_array(task, elements);
}

/* bound_reader - have ctx's reader refuse large arrays (hiredis's own functions otherwise) */
static void bound_reader(redisContext *ctx)
{
    static gsize once;

    if (g_once_init_enter(&once)) {
	bounded_fn = *ctx->reader->fn;
	default_create_array = bounded_fn.createArray;
	bounded_fn.createArray = bounded_create_array;
	g_once_init_leave(&once, 1);
    }
    ctx->reader->fn = &bounded_fn;
}

static redisReply *bounded_exchange(redisContext *ctx, gint64 deadline, int argc,
				    const char **argv, char **why)
{
    void   *r = NULL;
    int     done = 0;

    if (redisAppendCommandArgv(ctx, argc, argv, NULL) != REDIS_OK) {
	*why = g_strdup_printf("cannot send %s: %s", argv[0], ctx->errstr);
	return NULL;
    }
    while (!done)
	if (redisBufferWrite(ctx, &done) != REDIS_OK) {
	    *why = g_strdup_printf("cannot send %s: %s", argv[0], ctx->errstr);
	    return NULL;
	}
    for (;;) {
	if (redisGetReplyFromReader(ctx, &r) != REDIS_OK) {
	    *why = g_strdup_printf("bad reply to %s: %s", argv[0],
				   ctx->errstr[0] ? ctx->errstr : "protocol error");
	    return NULL;
	}
	if (r)
	    return r;
	if (ctx->reader->len > SENTINEL_REPLY_MAX) {
	    *why = g_strdup_printf("reply to %s longer than %d bytes", argv[0],
				   SENTINEL_REPLY_MAX);
	    return NULL;
	}
	if (g_get_monotonic_time() > deadline) {
	    *why = g_strdup_printf("no complete reply to %s in time", argv[0]);
	    return NULL;
	}
	if (redisBufferRead(ctx) != REDIS_OK) {
	    *why = g_strdup_printf("reading the reply to %s: %s", argv[0],
				   ctx->errstr[0] ? ctx->errstr : "connection lost");
	    return NULL;
	}
    }
}

/*
 * The bounds hold for this one exchange: the connection may go on to
 * carry commands whose replies are rightly large (a redisq's, after ROLE).
 */
redisReply *sentinel_command(redisContext *ctx, gint64 deadline, int argc, const char **argv,
			     char **why)
{
    redisReplyObjectFunctions *saved = ctx->reader->fn;
    redisReply *r;

    bound_reader(ctx);
    r = bounded_exchange(ctx, deadline, argc, argv, why);
    ctx->reader->fn = saved;
    return r;
}

/* ---------------------------------------------------------------- */
/*	Discovery							    */
/* ---------------------------------------------------------------- */

/* What this process found last: logged again only when it changes. */
static GMutex last_lock;
static char *last_master;

static void note_master(const struct intake_config *cfg, const char *sentinel,
			const char *host, int port, const char *when)
{
    g_autofree char *now = g_strdup_printf("%s:%d", host, port);
    g_autofree char *was = NULL;
    gboolean changed;

    g_mutex_lock(&last_lock);
    changed = when || g_strcmp0(last_master, now) != 0;
    if (changed) {
	was = last_master;
	last_master = g_strdup(now);
    }
    g_mutex_unlock(&last_lock);
    if (!changed)
	return;
    if (when) {
	g_autofree char *list = g_strjoinv(", ", cfg->redis_sentinels);

	msg_info("%s: redis sentinels %s: master %s is %s (answered by %s)", when, list,
		 cfg->redis_master_name, now, sentinel);
    } else
	msg_info("redis sentinel %s: master %s is now %s%s%s%s", sentinel,
		 cfg->redis_master_name, now, was ? " (was " : "", was ? was : "", was ? ")" : "");
}

/* ask_one - one sentinel "HOST:PORT": 0, *host and *port; or -1 and *why */
static int ask_one(const struct intake_config *cfg, const char *sentinel, char **host,
		   int *port, char **why)
{
    int     ms = cfg->redis_sentinel_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    gint64  deadline = g_get_monotonic_time() + (gint64) ms * 1000;
    const char *colon = strrchr(sentinel, ':');
    g_autofree char *name = g_strndup(sentinel, colon - sentinel);
    redisContext *ctx;
    redisReply *r;
    int     rc = -1;

    /* The configuration checked "HOST:PORT" (common/sentinel_conf.c). */
    ctx = redisConnectWithTimeout(name, atoi(colon + 1), tv);
    if (ctx == NULL || ctx->err) {
	*why = g_strdup(ctx ? ctx->errstr : "out of memory");
	goto out;
    }
    if (redisSetTimeout(ctx, tv) != REDIS_OK) {
	*why = g_strdup_printf("cannot set timeout: %s", ctx->errstr);
	goto out;
    }
    if (cfg->redis_sentinel_password && *cfg->redis_sentinel_password) {
	const char *argv[] = {"AUTH", cfg->redis_sentinel_password};

	if ((r = sentinel_command(ctx, deadline, 2, argv, why)) == NULL)
	    goto out;
	if (r->type == REDIS_REPLY_ERROR) {
	    /* Its text, never ours: the password is not logged. */
	    *why = g_strdup_printf("AUTH failed: %.200s", r->str);
	    freeReplyObject(r);
	    goto out;
	}
	freeReplyObject(r);
    }
    {
	const char *argv[] = {"SENTINEL", "get-master-addr-by-name", cfg->redis_master_name};

	if ((r = sentinel_command(ctx, deadline, 3, argv, why)) == NULL)
	    goto out;
	rc = sentinel_master_reply(r, host, port, why);
	freeReplyObject(r);
    }
  out:
    if (ctx)
	redisFree(ctx);
    return rc;
}

static int find_master(const struct intake_config *cfg, char **host, int *port, char **why,
		       const char *when)
{
    g_autoptr(GString) errors = g_string_new("");

    *why = NULL;
    for (int i = 0; cfg->redis_sentinels && cfg->redis_sentinels[i]; i++) {
	g_autofree char *err = NULL;

	if (ask_one(cfg, cfg->redis_sentinels[i], host, port, &err) == 0) {
	    note_master(cfg, cfg->redis_sentinels[i], *host, *port, when);
	    return 0;
	}
	g_string_append_printf(errors, "%s%s: %s", errors->len ? "; " : "",
			       cfg->redis_sentinels[i], err);
    }
    *why = g_strdup_printf("redis master %s: no sentinel answered (%s)", cfg->redis_master_name,
			   errors->len ? errors->str : "none configured");
    return -1;
}

int     sentinel_find_master(const struct intake_config *cfg, char **host, int *port,
			     char **why)
{
    return find_master(cfg, host, port, why, NULL);
}

int     sentinel_check_role(redisContext *ctx, int timeout_ms, char **why)
{
    const char *argv[] = {"ROLE"};
    redisReply *r;
    int     rc;

    r = sentinel_command(ctx, g_get_monotonic_time() + (gint64) timeout_ms * 1000, 1, argv, why);
    if (r == NULL)
	return -1;
    if (r->type == REDIS_REPLY_ERROR) {
	*why = g_strdup_printf("ROLE failed: %.200s", r->str);
	rc = -1;
    } else {
	rc = sentinel_role_reply(r, why);
    }
    freeReplyObject(r);
    return rc;
}

void    sentinel_announce(const struct intake_config *cfg, const char *when)
{
    g_autofree char *host = NULL;
    g_autofree char *why = NULL;
    int     port;

    if (cfg->redis_sentinels == NULL || cfg->redis_sentinels[0] == NULL)
	return;
    if (find_master(cfg, &host, &port, &why, when) < 0)
	msg_warn("%s: %s; mail is refused with a temporary failure until one does", when, why);
}

char   *sentinel_describe(const struct intake_config *cfg)
{
    g_autofree char *list = g_strjoinv(", ", cfg->redis_sentinels);

    return g_strdup_printf("sentinels %s master %s", list, cfg->redis_master_name);
}
