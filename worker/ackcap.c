/*
 * NAME
 *	ackcap - acknowledgements per minute and per day, counted in Redis
 * SYNOPSIS
 *	#include "ackcap.h"
 *
 *	struct ackcap *ackcap_new(cfg)
 *	struct ackcap *ackcap_free(cap)
 *	enum ackcap_result ackcap_take(cap, mailbox, now_unix, &why)
 * DESCRIPTION
 *	However well each reply is checked, a flood of forged mail must not
 *	turn a mailbox into a spam cannon: every acknowledgement takes one
 *	slot of four counters, per minute and per day, of its mailbox
 *	([mailbox] ack_limit_minute, ack_limit_day) and of all mailboxes
 *	([smtp] ack_limit_minute, ack_limit_day); a limit of 0 is no limit.
 *	The counters live in Redis, so every worker of a site shares them:
 *	keys "STREAM:ackcap:MAILBOX:m:YYYYMMDDHHMM" and "...:d:YYYYMMDD"
 *	(UTC; MAILBOX "*" for the total; STREAM is [redis] stream, so two
 *	installations on one Redis count apart), made with INCR and given
 *	an EXPIRE when made. One small Lua script checks all four and then
 *	counts all four: one round trip, and a reply refused by one counter
 *	takes no slot from the others.
 *
 *	ackcap_take() returns ACKCAP_OK when the reply may go (its slots are
 *	taken), ACKCAP_OVER with *why naming the limit it would exceed
 *	(the caller drops the reply), or ACKCAP_UNAVAILABLE with *why when
 *	Redis could not answer (the caller defers the reply: without the
 *	count it cannot know, and not sending is the safe side). A mailbox
 *	no longer configured (NULL name or unknown) counts only in the total.
 *	The windows are calendar minutes and days, not sliding ones: up to
 *	twice a limit can go out across a boundary.
 *
 *	One struct ackcap is one Redis connection, for one thread.
 * DIAGNOSTICS
 *	*why (g_free) as said above.
 */
#include <stdio.h>

#include "ackcap.h"
#include "redisq.h"

/*
 * KEYS: mailbox minute, mailbox day, total minute, total day.
 * ARGV: the four limits (0: none), then the minute and the day key's TTL.
 * Returns 0 after counting, else the index of the first limit reached.
 */
static const char script[] =
    "for i = 1, 4 do\n"
    "  local lim = tonumber(ARGV[i])\n"
    "  if lim > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= lim then return i end\n"
    "end\n"
    "for i = 1, 4 do\n"
    "  if redis.call('INCR', KEYS[i]) == 1 then\n"
    "    redis.call('EXPIRE', KEYS[i], (i % 2 == 1) and ARGV[5] or ARGV[6])\n"
    "  end\n"
    "end\n"
    "return 0\n";

/* Past the window's end, so that a clock a little off still counts. */
#define MINUTE_TTL "120"
#define DAY_TTL "172800"

struct ackcap {
    const struct intake_config *cfg;
    struct redisq *rq;
};

struct ackcap *ackcap_new(const struct intake_config *cfg)
{
    struct ackcap *cap = g_new0(struct ackcap, 1);

    cap->cfg = cfg;
    cap->rq = redisq_new(cfg);
    return cap;
}

struct ackcap *ackcap_free(struct ackcap *cap)
{
    if (cap == NULL)
	return NULL;
    redisq_free(cap->rq);
    g_free(cap);
    return NULL;
}

enum ackcap_result ackcap_take(struct ackcap *cap, const char *mailbox, gint64 now_unix,
			       char **why)
{
    const struct mailbox *m = mailbox ? config_mailbox(cap->cfg, mailbox) : NULL;
    const char *name = m ? m->name : "*";
    const char *stream = cap->cfg->redis_stream;
    g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc(now_unix);
    g_autofree char *minute = g_date_time_format(now, "%Y%m%d%H%M");
    g_autofree char *day = g_date_time_format(now, "%Y%m%d");
    g_autofree char *k1 = g_strdup_printf("%s:ackcap:%s:m:%s", stream, name, minute);
    g_autofree char *k2 = g_strdup_printf("%s:ackcap:%s:d:%s", stream, name, day);
    g_autofree char *k3 = g_strdup_printf("%s:ackcap:*:m:%s", stream, minute);
    g_autofree char *k4 = g_strdup_printf("%s:ackcap:*:d:%s", stream, day);
    int     limits[4] = {m ? m->ack_limit_minute : 0, m ? m->ack_limit_day : 0,
	cap->cfg->ack_limit_minute, cap->cfg->ack_limit_day};
    char    a[4][16];
    redisReply *r;
    long long hit;

    for (int i = 0; i < 4; i++)
	snprintf(a[i], sizeof(a[i]), "%d", limits[i]);
    r = redisq_run(cap->rq, why, "EVAL", script, "4", k1, k2, k3, k4, a[0], a[1], a[2], a[3],
		   MINUTE_TTL, DAY_TTL, NULL);
    if (r == NULL)
	return ACKCAP_UNAVAILABLE;
    if (r->type != REDIS_REPLY_INTEGER) {
	*why = g_strdup_printf("acknowledgement cap: unexpected reply type %d from EVAL", r->type);
	freeReplyObject(r);
	return ACKCAP_UNAVAILABLE;
    }
    hit = r->integer;
    freeReplyObject(r);
    if (hit == 0)
	return ACKCAP_OK;
    {
	static const char *const what[] = {
	    "[mailbox %s] ack_limit_minute (%d a minute)",
	    "[mailbox %s] ack_limit_day (%d a day)",
	    "[smtp] ack_limit_minute (%d a minute, all mailboxes)",
	    "[smtp] ack_limit_day (%d a day, all mailboxes)",
	};
	int     i = (int) CLAMP(hit, 1, 4) - 1;
	g_autofree char *limit = i < 2 ? g_strdup_printf(what[i], name, limits[i])
	    : g_strdup_printf(what[i], limits[i]);

	*why = g_strdup_printf("over the acknowledgement cap: %s", limit);
    }
    return ACKCAP_OVER;
}
