/*
 * NAME
 *	queue - the Redis stream as seen by a worker and by intakectl
 * SYNOPSIS
 *	struct queue *queue_new(cfg, consumer)
 *	int	queue_ensure_group(q, &why)
 *	int	queue_read(q, own_pending, count, block_ms, entries, &why)
 *	int	queue_claim(q, min_idle_ms, count, entries, &why)
 *	int	queue_ack(q, ids, n, &why)
 *	int	queue_note_error(q, id, error, &why)
 *	char   *queue_last_error(q, id)
 *	int	queue_dead_letter(q, entry, error, &why)
 *	int	queue_status(q, &json, &why)
 *	int	queue_dlq_list(q, limit, &json, &why)
 *	int	queue_dlq_show(q, id, &json, &why)
 *	int	queue_dlq_retry(q, id, &new_id, &why)
 *	int	queue_dlq_purge(q, id_or_NULL, &count, &why)
 *	struct queue *queue_free(q)
 *	struct queue_entry *queue_entry_new(id, fields)
 * DESCRIPTION
 *	Envelopes are entries of the stream [redis] stream with the fields
 *	"v", "envelope" (the JSON), "text" and "raw" (the original message,
 *	binary); see common/enqueue.c. A dead letter keeps all of them. Workers read them as consumers of the group
 *	[worker] group.
 *
 *	queue_read() appends up to count entries to entries (struct
 *	queue_entry *, owned by the array: queue_entry_free). With
 *	own_pending it walks this consumer's pending entries (those it was
 *	given before a crash or restart), from the start on the first call
 *	and onwards on later calls, and finds nothing when it has seen them
 *	all; otherwise it waits up to block_ms for new entries.
 *	queue_claim() takes entries that other (dead) consumers have held
 *	longer than min_idle_ms, walking the pending list in rounds.
 *	Entries read from a pending list carry their delivery count.
 *
 *	queue_ack() acknowledges and deletes entries whose tickets are
 *	committed, in one MULTI/EXEC: the stream then holds only entries
 *	that are not yet acknowledged, and nothing unacknowledged is ever
 *	trimmed. queue_note_error() remembers why an entry failed (hash
 *	STREAM:errors), for the dead-letter record. queue_dead_letter()
 *	moves an entry to [redis] dead_stream with the error text and
 *	acknowledges it, atomically.
 *
 *	queue_entry_new() makes an entry of fields as read (GBytes: name,
 *	value, ...; it takes the array): the reader's one way to find the
 *	"envelope", "text" and "raw" fields in an entry.
 *
 *	The status and dlq functions serve intakectl.
 * DIAGNOSTICS
 *	0 on success; -1 and *why (g_free) on failure.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"

struct queue {
    const struct intake_config *cfg;
    struct redisq *rq;
    char   *consumer;
    char   *errors_key;
    char   *pending_cursor;		/* own pending: last id seen */
    char   *claim_cursor;		/* XAUTOCLAIM start */
};

void    queue_entry_free(gpointer p)
{
    struct queue_entry *e = p;

    g_free(e->id);
    if (e->fields)
	g_ptr_array_unref(e->fields);
    g_free(e);
}

struct queue *queue_new(const struct intake_config *cfg, const char *consumer)
{
    struct queue *q = g_new0(struct queue, 1);

    q->cfg = cfg;
    q->rq = redisq_new(cfg);
    q->consumer = g_strdup(consumer);
    q->errors_key = g_strconcat(cfg->redis_stream, ":errors", NULL);
    q->pending_cursor = g_strdup("0");
    q->claim_cursor = g_strdup("0-0");
    return q;
}

struct queue *queue_free(struct queue *q)
{
    if (q == NULL)
	return NULL;
    redisq_free(q->rq);
    g_free(q->consumer);
    g_free(q->errors_key);
    g_free(q->pending_cursor);
    g_free(q->claim_cursor);
    g_free(q);
    return NULL;
}

/* cmd - run a command given as a NULL-terminated list of strings */
static redisReply *cmd(struct queue *q, char **why, const char *first, ...)
{
    const char *argv[32];
    size_t  lens[32];
    int     argc = 0;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a && argc < 32; a = va_arg(ap, const char *)) {
	argv[argc] = a;
	lens[argc++] = strlen(a);
    }
    va_end(ap);
    return redisq_argv(q->rq, why, argc, argv, lens);
}

int     queue_ensure_group(struct queue *q, char **why)
{
    redisReply *r = cmd(q, why, "XGROUP", "CREATE", q->cfg->redis_stream,
			q->cfg->worker_group, "0", "MKSTREAM", NULL);

    if (r) {
	freeReplyObject(r);
	return 0;
    }
    if (*why && strstr(*why, "BUSYGROUP")) {
	g_clear_pointer(why, g_free);
	return 0;
    }
    return -1;
}

static const char *field(redisReply *fields, const char *name, gsize *len)
{
    if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
	return NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
	redisReply *k = fields->element[i];
	redisReply *v = fields->element[i + 1];

	if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0
	    && v->type == REDIS_REPLY_STRING) {
	    if (len)
		*len = v->len;
	    return v->str;
	}
    }
    return NULL;
}

/*
 * entry_field - the value of a field of a queue entry, or NULL when the
 * entry has no such field. A field that is there but empty is "", never
 * NULL: GLib keeps no data pointer for an empty GBytes, and a text-less
 * mail (only an attachment, an encrypted body) has an empty "text" field
 * that must not read as a missing one.
 */
static const char *entry_field(const struct queue_entry *qe, const char *name, gsize *len)
{
    for (guint i = 0; i + 1 < qe->fields->len; i += 2) {
	gsize   n;
	const char *k = g_bytes_get_data(g_ptr_array_index(qe->fields, i), &n);

	if (k && n == strlen(name) && memcmp(k, name, n) == 0) {
	    const char *v = g_bytes_get_data(g_ptr_array_index(qe->fields, i + 1), len);

	    return v ? v : "";
	}
    }
    return NULL;
}

struct queue_entry *queue_entry_new(const char *id, GPtrArray *fields)
{
    struct queue_entry *qe = g_new0(struct queue_entry, 1);

    qe->id = g_strdup(id);
    qe->fields = fields;
    qe->envelope = entry_field(qe, "envelope", &qe->len);
    qe->text = entry_field(qe, "text", &qe->text_len);
    qe->raw = entry_field(qe, "raw", &qe->raw_len);
    qe->deliveries = 1;
    return qe;
}

/* add_entries - entries of an [id, [field, value...]] array */
static void add_entries(redisReply *list, GPtrArray *entries)
{
    for (size_t i = 0; list && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
	redisReply *e = list->element[i];
	redisReply *f;
	GPtrArray *fields;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2
	    || e->element[0]->type != REDIS_REPLY_STRING)
	    continue;
	fields = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
	f = e->element[1];
	for (size_t j = 0; f && f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2) {
	    if (f->element[j]->type != REDIS_REPLY_STRING
		|| f->element[j + 1]->type != REDIS_REPLY_STRING)
		continue;
	    g_ptr_array_add(fields, g_bytes_new(f->element[j]->str, f->element[j]->len));
	    g_ptr_array_add(fields, g_bytes_new(f->element[j + 1]->str, f->element[j + 1]->len));
	}
	g_ptr_array_add(entries, queue_entry_new(e->element[0]->str, fields));
    }
}

/* fill_deliveries - delivery counts of entries[from..] from XPENDING */
static int fill_deliveries(struct queue *q, GPtrArray *entries, guint from, char **why)
{
    const struct queue_entry *first, *last;
    g_autofree char *count = NULL;
    redisReply *r;

    if (entries->len <= from)
	return 0;
    first = g_ptr_array_index(entries, from);
    last = g_ptr_array_index(entries, entries->len - 1);
    count = g_strdup_printf("%u", entries->len - from + 10);
    r = cmd(q, why, "XPENDING", q->cfg->redis_stream, q->cfg->worker_group,
	    first->id, last->id, count, q->consumer, NULL);
    if (r == NULL)
	return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
	redisReply *p = r->element[i];

	if (p->type != REDIS_REPLY_ARRAY || p->elements < 4)
	    continue;
	for (guint j = from; j < entries->len; j++) {
	    struct queue_entry *e = g_ptr_array_index(entries, j);

	    if (strcmp(e->id, p->element[0]->str) == 0)
		e->deliveries = p->element[3]->integer;
	}
    }
    freeReplyObject(r);
    return 0;
}

int     queue_read(struct queue *q, gboolean own_pending, int count, int block_ms,
		   GPtrArray *entries, char **why)
{
    g_autofree char *n = g_strdup_printf("%d", count);
    g_autofree char *b = g_strdup_printf("%d", block_ms);
    guint   from = entries->len;
    redisReply *r;

    if (own_pending) {
	r = cmd(q, why, "XREADGROUP", "GROUP", q->cfg->worker_group, q->consumer,
		"COUNT", n, "STREAMS", q->cfg->redis_stream, q->pending_cursor, NULL);
    } else {
	redisq_set_timeout(q->rq, block_ms + q->cfg->redis_timeout_ms);
	r = cmd(q, why, "XREADGROUP", "GROUP", q->cfg->worker_group, q->consumer,
		"COUNT", n, "BLOCK", b, "STREAMS", q->cfg->redis_stream, ">", NULL);
    }
    if (r == NULL) {
	/* The stream or group vanished (FLUSHALL, a new Redis): make them again. */
	if (*why && strstr(*why, "NOGROUP")) {
	    g_clear_pointer(why, g_free);
	    return queue_ensure_group(q, why);
	}
	return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0
	&& r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
	add_entries(r->element[0]->element[1], entries);
    freeReplyObject(r);
    if (own_pending && entries->len > from) {
	const struct queue_entry *last = g_ptr_array_index(entries, entries->len - 1);

	g_free(q->pending_cursor);
	q->pending_cursor = g_strdup(last->id);
	return fill_deliveries(q, entries, from, why);
    }
    return 0;
}

int     queue_claim(struct queue *q, int min_idle_ms, int count, GPtrArray *entries,
		    char **why)
{
    g_autofree char *idle = g_strdup_printf("%d", min_idle_ms);
    g_autofree char *n = g_strdup_printf("%d", count);
    guint   from = entries->len;
    redisReply *r;

    r = cmd(q, why, "XAUTOCLAIM", q->cfg->redis_stream, q->cfg->worker_group, q->consumer,
	    idle, q->claim_cursor, "COUNT", n, NULL);
    if (r == NULL) {
	if (*why && strstr(*why, "NOGROUP")) {
	    g_clear_pointer(why, g_free);
	    return queue_ensure_group(q, why);
	}
	return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
	if (r->element[0]->type == REDIS_REPLY_STRING) {
	    g_free(q->claim_cursor);
	    q->claim_cursor = g_strdup(r->element[0]->str);
	}
	add_entries(r->element[1], entries);
    }
    freeReplyObject(r);
    return fill_deliveries(q, entries, from, why);
}

/* transaction - run a list of argv commands in MULTI/EXEC */
static int transaction(struct queue *q, GPtrArray *cmds, char **why)
{
    redisReply *r = cmd(q, why, "MULTI", NULL);

    if (r == NULL)
	return -1;
    freeReplyObject(r);
    for (guint i = 0; i < cmds->len; i++) {
	GPtrArray *args = g_ptr_array_index(cmds, i);
	g_autofree size_t *lens = g_new(size_t, args->len);
	g_autofree const char **argv = g_new(const char *, args->len);

	for (guint j = 0; j < args->len; j++)
	    argv[j] = g_bytes_get_data(g_ptr_array_index(args, j), &lens[j]);
	r = redisq_argv(q->rq, why, args->len, argv, lens);
	if (r == NULL) {
	    r = cmd(q, why, "DISCARD", NULL);
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	freeReplyObject(r);
    }
    r = cmd(q, why, "EXEC", NULL);
    if (r == NULL)
	return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
	if (r->element[i]->type == REDIS_REPLY_ERROR) {
	    *why = g_strdup_printf("redis %s: server said: %s", q->cfg->redis_server,
				   r->element[i]->str);
	    freeReplyObject(r);
	    return -1;
	}
    freeReplyObject(r);
    return 0;
}

/* argv_new - a command's arguments as GBytes (binary-safe) */
static GPtrArray *argv_new(const char *first, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    va_list ap;

    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
	g_ptr_array_add(a, g_bytes_new(s, strlen(s)));
    va_end(ap);
    return a;
}

static void argv_add(GPtrArray *a, const char *s)
{
    g_ptr_array_add(a, g_bytes_new(s, strlen(s)));
}

int     queue_ack(struct queue *q, const char *const *ids, guint n, char **why)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func((GDestroyNotify) g_ptr_array_unref);
    GPtrArray *ack, *del, *hdel;

    if (n == 0)
	return 0;
    ack = argv_new("XACK", q->cfg->redis_stream, q->cfg->worker_group, NULL);
    del = argv_new("XDEL", q->cfg->redis_stream, NULL);
    hdel = argv_new("HDEL", q->errors_key, NULL);
    for (guint i = 0; i < n; i++) {
	argv_add(ack, ids[i]);
	argv_add(del, ids[i]);
	argv_add(hdel, ids[i]);
    }
    g_ptr_array_add(cmds, ack);
    g_ptr_array_add(cmds, del);
    g_ptr_array_add(cmds, hdel);
    return transaction(q, cmds, why);
}

int     queue_note_error(struct queue *q, const char *id, const char *error, char **why)
{
    redisReply *r = cmd(q, why, "HSET", q->errors_key, id, error, NULL);

    if (r == NULL)
	return -1;
    freeReplyObject(r);
    return 0;
}

char   *queue_last_error(struct queue *q, const char *id)
{
    g_autofree char *why = NULL;
    redisReply *r = cmd(q, &why, "HGET", q->errors_key, id, NULL);
    char   *text = NULL;

    if (r && r->type == REDIS_REPLY_STRING)
	text = g_strndup(r->str, r->len);
    if (r)
	freeReplyObject(r);
    return text;
}

int     queue_dead_letter(struct queue *q, const struct queue_entry *e, const char *error,
			  char **why)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func((GDestroyNotify) g_ptr_array_unref);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *when = g_date_time_format_iso8601(now);
    g_autofree char *deliveries = g_strdup_printf("%" G_GINT64_FORMAT, e->deliveries);

    GPtrArray *add = argv_new("XADD", q->cfg->redis_dead_stream, "*", "entry", e->id,
			      "error", error, "deliveries", deliveries, "failed_at", when,
			      "consumer", q->consumer, NULL);

    /* Everything the entry carried, as it was: dlq retry puts it back. */
    for (guint i = 0; e->fields && i < e->fields->len; i++)
	g_ptr_array_add(add, g_bytes_ref(g_ptr_array_index(e->fields, i)));
    g_ptr_array_add(cmds, add);
    g_ptr_array_add(cmds, argv_new("XACK", q->cfg->redis_stream, q->cfg->worker_group,
				   e->id, NULL));
    g_ptr_array_add(cmds, argv_new("XDEL", q->cfg->redis_stream, e->id, NULL));
    g_ptr_array_add(cmds, argv_new("HDEL", q->errors_key, e->id, NULL));
    return transaction(q, cmds, why);
}

/* ---------------------------------------------------------------- */
/*	intakectl							    */
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

static gint64 integer_cmd(struct queue *q, char **why, const char *a, const char *b)
{
    redisReply *r = cmd(q, why, a, b, NULL);
    gint64  v = -1;

    if (r) {
	v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
    }
    return v;
}

int     queue_status(struct queue *q, json_t **out, char **why)
{
    json_t *st = json_object();
    json_t *consumers = json_array();
    redisReply *r;
    gint64  n;

    if ((n = integer_cmd(q, why, "XLEN", q->cfg->redis_stream)) < 0)
	goto fail;
    json_object_set_new(st, "stream", json_string(q->cfg->redis_stream));
    json_object_set_new(st, "length", json_integer(n));
    if ((n = integer_cmd(q, why, "XLEN", q->cfg->redis_dead_stream)) < 0)
	goto fail;
    json_object_set_new(st, "dead_letters", json_integer(n));
    json_object_set_new(st, "group", json_string(q->cfg->worker_group));

    /* Oldest entry not yet acknowledged (acknowledged ones are deleted). */
    r = cmd(q, why, "XRANGE", q->cfg->redis_stream, "-", "+", "COUNT", "1", NULL);
    if (r == NULL)
	goto fail;
    json_object_set_new(st, "oldest_entry_age_s",
			r->type == REDIS_REPLY_ARRAY && r->elements > 0
			? age_of(r->element[0]->element[0]->str) : json_null());
    freeReplyObject(r);

    r = cmd(q, why, "XPENDING", q->cfg->redis_stream, q->cfg->worker_group, NULL);
    if (r == NULL) {
	if (*why && strstr(*why, "NOGROUP")) {
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

    r = cmd(q, why, "XINFO", "CONSUMERS", q->cfg->redis_stream, q->cfg->worker_group, NULL);
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

static json_t *dead_entry(redisReply *e, gboolean with_envelope)
{
    json_t *o = json_pack("{s:s}", "id", e->element[0]->str);
    static const char *const names[] = {"entry", "error", "deliveries", "failed_at",
    "consumer", NULL};
    const char *env;
    gsize   len;

    for (int i = 0; names[i]; i++) {
	const char *v = field(e->element[1], names[i], NULL);

	json_object_set_new(o, names[i], v ? json_string(v) : json_null());
    }
    env = field(e->element[1], "envelope", &len);
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

int     queue_dlq_list(struct queue *q, int limit, json_t **out, char **why)
{
    g_autofree char *n = g_strdup_printf("%d", limit);
    redisReply *r = cmd(q, why, "XRANGE", q->cfg->redis_dead_stream, "-", "+", "COUNT", n, NULL);

    if (r == NULL)
	return -1;
    *out = json_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
	json_array_append_new(*out, dead_entry(r->element[i], FALSE));
    freeReplyObject(r);
    return 0;
}

int     queue_dlq_show(struct queue *q, const char *id, json_t **out, char **why)
{
    redisReply *r = cmd(q, why, "XRANGE", q->cfg->redis_dead_stream, id, id, NULL);

    if (r == NULL)
	return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
	freeReplyObject(r);
	*why = g_strdup_printf("no dead letter %s in %s (see: intakectl dlq list)", id,
			       q->cfg->redis_dead_stream);
	return -1;
    }
    *out = dead_entry(r->element[0], TRUE);
    freeReplyObject(r);
    return 0;
}

int     queue_dlq_retry(struct queue *q, const char *id, char **new_id, char **why)
{
    static const char *const meta[] = {"entry", "error", "deliveries", "failed_at",
    "consumer", NULL};
    redisReply *r = cmd(q, why, "XRANGE", q->cfg->redis_dead_stream, id, id, NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GArray) lens = g_array_new(FALSE, FALSE, sizeof(size_t));
    redisReply *f, *a;
    int     rc = -1;

#define ARG(p, n) do { size_t len_ = (n); g_ptr_array_add(argv, (gpointer) (p)); \
		       g_array_append_val(lens, len_); } while (0)
    if (r == NULL)
	return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
	*why = g_strdup_printf("no dead letter %s in %s (see: intakectl dlq list)", id,
			       q->cfg->redis_dead_stream);
	goto out;
    }
    f = r->element[0]->element[1];
    if (field(f, "envelope", NULL) == NULL) {
	*why = g_strdup_printf("dead letter %s has no envelope to retry", id);
	goto out;
    }
    ARG("XADD", 4);
    ARG(q->cfg->redis_stream, strlen(q->cfg->redis_stream));
    ARG("*", 1);
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
	if (g_strv_contains(meta, f->element[i]->str))
	    continue;
	ARG(f->element[i]->str, f->element[i]->len);
	ARG(f->element[i + 1]->str, f->element[i + 1]->len);
    }
    ARG("retry_of", 8);
    ARG(id, strlen(id));
#undef ARG
    if ((a = redisq_argv(q->rq, why, argv->len, (const char **) argv->pdata,
			 (size_t *) lens->data)) == NULL)
	goto out;
    *new_id = g_strndup(a->str, a->len);
    freeReplyObject(a);
    if ((a = cmd(q, why, "XDEL", q->cfg->redis_dead_stream, id, NULL)) == NULL)
	goto out;
    freeReplyObject(a);
    rc = 0;
out:
    freeReplyObject(r);
    return rc;
}

int     queue_dlq_purge(struct queue *q, const char *id, gint64 *count, char **why)
{
    redisReply *r;

    if (id)
	r = cmd(q, why, "XDEL", q->cfg->redis_dead_stream, id, NULL);
    else {
	*count = integer_cmd(q, why, "XLEN", q->cfg->redis_dead_stream);
	if (*count < 0)
	    return -1;
	r = cmd(q, why, "DEL", q->cfg->redis_dead_stream, NULL);
    }
    if (r == NULL)
	return -1;
    if (id)
	*count = r->integer;
    freeReplyObject(r);
    return 0;
}
