/*
 * NAME
 *	store_sqlite_cases - routing decisions and cases in the SQLite store
 * SYNOPSIS
 *	#include "sqlite_int.h"
 *
 *	int	sq_set_routing(st, ticket_id, routing, &why)
 *	int	sq_set_classes(st, ticket_id, classes, &why)
 *	int	sq_add_case(st, name, title, &why)
 *	int	sq_list_cases(st, fn, ctx, &why)
 * DESCRIPTION
 *	The store_ops of the routing rules (worker/rules*.c, docs/rules.md).
 *	sq_set_routing() records on a new ticket what the rules decided: its
 *	queue, assignee, case (made first when no intakectl case add made
 *	it: a rule must not lose mail because an administrator has not
 *	created the case yet), tags and the text saying which rules
 *	matched; all or nothing, inside its own savepoint.
 *	sq_set_classes() adds the keyword tags of a mail to its ticket's
 *	(a tag a rule gave is not given twice) and sets the ticket's
 *	sentiment when the mail was scored, in its own savepoint.
 *	sq_add_case() makes a case or retitles one; sq_list_cases() gives
 *	rows "case" (name, title, created_at, tickets, newest).
 *	sq_case_ticket() (the lookup of a case's newest open ticket) is in
 *	store_sqlite_tickets.c, beside the other ticket lookups.
 * DIAGNOSTICS
 *	As store_sqlite.c.
 */
#include <time.h>

#include "sqlite_int.h"

static int add_tags(struct sq *sq, gint64 ticket_id, const char *const *tags, char **why)
{
    int     ret;

    for (int i = 0; tags && tags[i]; i++)
	if ((ret = sq_bind(sq, S_TAG_INSERT, why, "it", ticket_id, tags[i])) != STORE_OK
	    || (ret = sq_run(sq, S_TAG_INSERT, why)) != STORE_OK)
	    return ret;
    return STORE_OK;
}

static int set_routing(struct sq *sq, gint64 ticket_id, const struct store_routing *r,
		       char **why)
{
    char    now[ISO_TIME_SIZE];
    int     ret;

    iso_time(time(NULL), now, NULL);
    if (r->case_name
	&& ((ret = sq_bind(sq, S_CASE_ENSURE, why, "tt", r->case_name, now)) != STORE_OK
	    || (ret = sq_run(sq, S_CASE_ENSURE, why)) != STORE_OK))
	return ret;
    if ((ret = sq_bind(sq, S_ROUTING_SET, why, "itttt", ticket_id, r->queue, r->assignee,
		       r->rules, r->case_name)) != STORE_OK
	|| (ret = sq_run(sq, S_ROUTING_SET, why)) != STORE_OK)
	return ret;
    return add_tags(sq, ticket_id, r->tags, why);
}

int     sq_set_routing(struct store *st, gint64 ticket_id, const struct store_routing *r,
		       char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    return op_end(sq, set_routing(sq, ticket_id, r, why), why);
}

static int set_classes(struct sq *sq, gint64 ticket_id, const struct store_classes *c,
		       char **why)
{
    int     ret;

    if ((ret = add_tags(sq, ticket_id, c->tags, why)) != STORE_OK || c->sentiment == NULL)
	return ret;
    if ((ret = sq_bind(sq, S_SENTIMENT_SET, why, "itd", ticket_id, c->sentiment,
		       c->sentiment_score)) != STORE_OK)
	return ret;
    return sq_run(sq, S_SENTIMENT_SET, why);
}

int     sq_set_classes(struct store *st, gint64 ticket_id, const struct store_classes *c,
		       char **why)
{
    struct sq *sq = SQ(st);
    int     ret;

    if ((ret = op_begin(sq, why)) != STORE_OK)
	return ret;
    return op_end(sq, set_classes(sq, ticket_id, c, why), why);
}

int     sq_add_case(struct store *st, const char *name, const char *title, char **why)
{
    struct sq *sq = SQ(st);
    char    now[ISO_TIME_SIZE];
    int     ret;

    iso_time(time(NULL), now, NULL);
    if ((ret = sq_bind(sq, S_CASE_ADD, why, "ttt", name, title, now)) != STORE_OK)
	return ret;
    return sq_run(sq, S_CASE_ADD, why);
}

int     sq_list_cases(struct store *st, store_row_fn fn, void *ctx, char **why)
{
    return sq_emit_rows(SQ(st), S_CASE_LIST, "case", fn, ctx, why);
}
