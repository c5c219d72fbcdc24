/*
 * NAME
 *	dlq - the queue and its dead letters, as intakectl shows them
 * SYNOPSIS
 *	struct dlq *dlq_new(cfg)
 *	int	dlq_status(d, &json, &why)
 *	int	dlq_list(d, limit, &json, &why)
 *	int	dlq_show(d, id, &json, &why)
 *	int	dlq_retry(d, id, &new_id, &why)
 *	int	dlq_purge(d, id_or_NULL, &count, &why)
 *	void	dlq_set_timeout(d, ms)
 *	struct redisq *dlq_redis(d)
 *	struct dlq *dlq_free(d)
 * DESCRIPTION
 *	The postmaster's side of the stream [redis] stream and of the
 *	dead-letter stream [redis] dead_stream (its records: common/stream.h;
 *	they are written by worker/queue.c). A dlq has its own connection and
 *	never changes the consumer group.
 *
 *	dlq_status() returns (json, caller's) the stream's length, the
 *	number of dead letters, the age of the oldest entry, the group's
 *	pending count and oldest pending age, and per consumer its pending
 *	count and idle time; without a group yet, pending is 0.
 *
 *	dlq_set_timeout() bounds each command (a scrape must not hang on a
 *	hung Redis); dlq_redis() lends the connection for other reads.
 *
 *	dlq_list() returns up to limit dead letters (oldest first) as an
 *	array of objects: id, the dead-letter fields, and subject, queue_id
 *	and from of the envelope; dlq_show() one of them with its envelope.
 *	dlq_retry() adds the entry's own fields to the stream again (plus
 *	retry_of: the dead letter's id; *new_id is the new entry's id,
 *	g_free) and then deletes the dead letter. dlq_purge() deletes one
 *	dead letter, or all with id NULL; *count says how many went.
 * DIAGNOSTICS
 *	0 on success; -1 and *why (g_free) on failure.
 */
#include <string.h>

#include "dlq.h"
#include "redisq.h"
#include "stream.h"

struct dlq {
    const struct intake_config *cfg;
    struct redisq *rq;
};

struct dlq *dlq_new(const struct intake_config *cfg)
{
    struct dlq *d = g_new0(struct dlq, 1);

    d->cfg = cfg;
    d->rq = redisq_new(cfg);
    return d;
}

void    dlq_set_timeout(struct dlq *d, int ms)
{
    redisq_set_timeout(d->rq, ms);
}

struct redisq *dlq_redis(struct dlq *d)
{
    return d->rq;
}

struct dlq *dlq_free(struct dlq *d)
{
    if (d == NULL)
	return NULL;
    redisq_free(d->rq);
    g_free(d);
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	Status								    */
/* ---------------------------------------------------------------- */

static gint64 id_ms(const char *id)
{
    return id ? g_ascii_strtoll(id, NULL, 10) : 0;
}

static json_t *age_of(const char *id)
{
    gint64  now = g_get_real_time() / 1000;

    if (id == NULL || id_ms(id) == 0)
	return json_null();
    return json_real(MAX(0, now - id_ms(id)) / 1000.0);
}

static gint64 integer_cmd(struct dlq *d, char **why, const char *a, const char *b)
{
    redisReply *r = redisq_run(d->rq, why, a, b, NULL);
    gint64  v = -1;

    if (r) {
	v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	if (v < 0)
	    *why = g_strdup_printf("unexpected reply type %d to %s", r->type, a);
	freeReplyObject(r);
    }
    return v;
}

int     dlq_status(struct dlq *d, json_t **out, char **why)
{
    const struct intake_config *cfg = d->cfg;
    json_t *st = json_object();
    json_t *consumers = json_array();
    redisReply *r;
    gint64  n;

    if ((n = integer_cmd(d, why, "XLEN", cfg->redis_stream)) < 0)
	goto fail;
    json_object_set_new(st, "stream", json_string(cfg->redis_stream));
    json_object_set_new(st, "length", json_integer(n));
    if ((n = integer_cmd(d, why, "XLEN", cfg->redis_dead_stream)) < 0)
	goto fail;
    json_object_set_new(st, "dead_letters", json_integer(n));
    json_object_set_new(st, "group", json_string(cfg->worker_group));

    /* Oldest entry not yet acknowledged (acknowledged ones are deleted). */
    r = redisq_run(d->rq, why, "XRANGE", cfg->redis_stream, "-", "+", "COUNT", "1", NULL);
    if (r == NULL)
	goto fail;
    json_object_set_new(st, "oldest_entry_age_s",
			r->type == REDIS_REPLY_ARRAY && r->elements > 0
			? age_of(r->element[0]->element[0]->str) : json_null());
    freeReplyObject(r);

    r = redisq_run(d->rq, why, "XPENDING", cfg->redis_stream, cfg->worker_group, NULL);
    if (r == NULL) {
	/* No worker has run yet: nothing can be pending. */
	if (redisq_error_is(d->rq, "NOGROUP")) {
	    g_clear_pointer(why, g_free);
	    json_object_set_new(st, "pending", json_integer(0));
	    json_object_set_new(st, "oldest_pending_age_s", json_null());
	    json_object_set_new(st, "consumers", consumers);
	    *out = st;
	    return 0;
	}
	goto fail;
    }
    json_object_set_new(st, "pending", json_integer(r->element[0]->integer));
    json_object_set_new(st, "oldest_pending_age_s",
			r->element[1]->type == REDIS_REPLY_STRING
			? age_of(r->element[1]->str) : json_null());
    freeReplyObject(r);

    r = redisq_run(d->rq, why, "XINFO", "CONSUMERS", cfg->redis_stream, cfg->worker_group, NULL);
    if (r == NULL)
	goto fail;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
	redisReply *c = r->element[i];
	json_t *o = json_object();

	for (size_t j = 0; j + 1 < c->elements; j += 2) {
	    const char *k = c->element[j]->str;
	    redisReply *v = c->element[j + 1];

	    if (strcmp(k, "name") == 0)
		json_object_set_new(o, "name", json_string(v->str));
	    else if (strcmp(k, "pending") == 0)
		json_object_set_new(o, "pending", json_integer(v->integer));
	    else if (strcmp(k, "idle") == 0)
		json_object_set_new(o, "idle_s", json_real(v->integer / 1000.0));
	}
	json_array_append_new(consumers, o);
    }
    freeReplyObject(r);
    json_object_set_new(st, "consumers", consumers);
    *out = st;
    return 0;
fail:
    json_decref(consumers);
    json_decref(st);
    return -1;
}

/* ---------------------------------------------------------------- */
/*	Dead letters							    */
/* ---------------------------------------------------------------- */

/* dead_entry - a dead letter ([id, fields] of XRANGE) as JSON */
static json_t *dead_entry(redisReply *e, gboolean with_envelope)
{
    json_t *o = json_pack("{s:s}", "id", e->element[0]->str);
    const char *env;
    size_t  len;

    for (int i = 0; stream_dead_fields[i]; i++) {
	const char *v = stream_reply_field(e->element[1], stream_dead_fields[i], NULL);

	json_object_set_new(o, stream_dead_fields[i], v ? json_string(v) : json_null());
    }
    env = stream_reply_field(e->element[1], STREAM_ENVELOPE, &len);
    if (env) {
	json_t *parsed = json_loadb(env, len, 0, NULL);

	if (parsed) {
	    json_object_set_new(o, "subject", json_incref(json_object_get(parsed, "subject")));
	    json_object_set_new(o, "queue_id", json_incref(json_object_get(parsed, "queue_id")));
	    json_object_set_new(o, "from", json_incref(json_object_get(parsed, "from")));
	}
	if (with_envelope)
	    json_object_set_new(o, "envelope", parsed ? json_incref(parsed)
				: json_stringn_nocheck(env, len));
	json_decref(parsed);
    }
    return o;
}

/* dead_letter - XRANGE of one dead letter: the reply, or NULL and *why */
static redisReply *dead_letter(struct dlq *d, const char *id, char **why)
{
    redisReply *r = redisq_run(d->rq, why, "XRANGE", d->cfg->redis_dead_stream, id, id, NULL);

    if (r && (r->type != REDIS_REPLY_ARRAY || r->elements == 0)) {
	freeReplyObject(r);
	*why = g_strdup_printf("no dead letter %s in %s (see: intakectl dlq list)", id,
			       d->cfg->redis_dead_stream);
	return NULL;
    }
    return r;
}

int     dlq_list(struct dlq *d, int limit, json_t **out, char **why)
{
    g_autofree char *n = g_strdup_printf("%d", limit);
    redisReply *r = redisq_run(d->rq, why, "XRANGE", d->cfg->redis_dead_stream, "-", "+",
			       "COUNT", n, NULL);

    if (r == NULL)
	return -1;
    *out = json_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
	json_array_append_new(*out, dead_entry(r->element[i], FALSE));
    freeReplyObject(r);
    return 0;
}

int     dlq_show(struct dlq *d, const char *id, json_t **out, char **why)
{
    redisReply *r = dead_letter(d, id, why);

    if (r == NULL)
	return -1;
    *out = dead_entry(r->element[0], TRUE);
    freeReplyObject(r);
    return 0;
}

int     dlq_retry(struct dlq *d, const char *id, char **new_id, char **why)
{
    redisReply *r = dead_letter(d, id, why);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GArray) lens = g_array_new(FALSE, FALSE, sizeof(size_t));
    redisReply *f, *a;
    int     rc = -1;

#define ARG(p, n) do { size_t len_ = (n); g_ptr_array_add(argv, (gpointer) (p)); \
		       g_array_append_val(lens, len_); } while (0)
    if (r == NULL)
	return -1;
    f = r->element[0]->element[1];
    if (stream_reply_field(f, STREAM_ENVELOPE, NULL) == NULL) {
	*why = g_strdup_printf("dead letter %s has no envelope to retry", id);
	goto out;
    }
    ARG("XADD", 4);
    ARG(d->cfg->redis_stream, strlen(d->cfg->redis_stream));
    ARG("*", 1);
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
	if (stream_is_dead_field(f->element[i]->str))
	    continue;
	ARG(f->element[i]->str, f->element[i]->len);
	ARG(f->element[i + 1]->str, f->element[i + 1]->len);
    }
    ARG(STREAM_RETRY_OF, strlen(STREAM_RETRY_OF));
    ARG(id, strlen(id));
#undef ARG
    if ((a = redisq_argv(d->rq, why, argv->len, (const char **) argv->pdata,
			 (size_t *) lens->data)) == NULL)
	goto out;
    *new_id = g_strndup(a->str, a->len);
    freeReplyObject(a);
    if ((a = redisq_run(d->rq, why, "XDEL", d->cfg->redis_dead_stream, id, NULL)) == NULL)
	goto out;
    freeReplyObject(a);
    rc = 0;
out:
    freeReplyObject(r);
    return rc;
}

int     dlq_purge(struct dlq *d, const char *id, gint64 *count, char **why)
{
    if (id) {
	redisReply *r = redisq_run(d->rq, why, "XDEL", d->cfg->redis_dead_stream, id, NULL);

	if (r == NULL)
	    return -1;
	*count = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);
	return 0;
    }
    if ((*count = integer_cmd(d, why, "XLEN", d->cfg->redis_dead_stream)) < 0)
	return -1;
    return integer_cmd(d, why, "DEL", d->cfg->redis_dead_stream) < 0 ? -1 : 0;
}
