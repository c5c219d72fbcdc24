/*
 * NAME
 *	queue - the Redis stream as seen by a worker
 * SYNOPSIS
 *	struct queue *queue_new(cfg, consumer)
 *	struct redisq *queue_redis(q)
 *	int	queue_read(q, own_pending, count, block_ms, entries, &why)
 *	int	queue_claim(q, min_idle_ms, count, entries, &why)
 *	int	queue_ack(q, ids, n)
 *	int	queue_note_error(q, id, error, &why)
 *	char   *queue_last_error(q, id)
 *	int	queue_dead_letter(q, entry, error, &why)
 *	struct queue *queue_free(q)
 *	struct queue_entry *queue_entry_new(id, fields, cfg)
 *	int	queue_entry_unpack(qe)
 * DESCRIPTION
 *	Envelopes are entries of the stream [redis] stream with the fields
 *	of common/stream.h (written by common/enqueue.c). Workers read them
 *	as consumers of the group [worker] group. The group is made (from the
 *	start of the stream, with the stream if need be) when a command finds
 *	it missing (NOGROUP: a first start, FLUSHALL, a new Redis), never
 *	before every read: XGROUP CREATE is refused when Redis is at
 *	maxmemory, and a worker must drain exactly then. Draining (XREADGROUP,
 *	XAUTOCLAIM, XPENDING, XACK, XDEL, HDEL) uses no command that Redis
 *	refuses at maxmemory, and no MULTI (in which Redis then refuses
 *	every command).
 *
 *	queue_read() appends up to count entries to entries (struct
 *	queue_entry *, owned by the array: queue_entry_free). With
 *	own_pending it walks this consumer's pending entries (those it was
 *	given before a crash or restart), from the start on the first call
 *	and onwards on later calls, and finds nothing when it has seen them
 *	all; otherwise it waits up to block_ms for new entries (block_ms < 0:
 *	not at all, for a read ahead of the next batch).
 *	queue_claim() takes entries that other (dead) consumers have held
 *	longer than min_idle_ms, walking the pending list in rounds.
 *	Entries read from a pending list carry their delivery count. A field
 *	that is present but empty has a non-NULL pointer and length 0.
 *
 *	queue_ack() deletes and acknowledges entries whose tickets are
 *	committed (in that order, without MULTI: see the function): the
 *	stream then holds only entries that are not yet acknowledged, and
 *	nothing unacknowledged is ever trimmed. It does not wait for
 *	Redis's answer: that is read and, if need be, logged at the next read,
 *	claim or acknowledgement (the function says why). queue_note_error() remembers why an entry failed (hash
 *	STREAM:errors), for the dead-letter record; Redis refuses it at
 *	maxmemory (HSET), which costs only that text. queue_dead_letter()
 *	moves an entry to [redis] dead_stream with the error text and
 *	acknowledges it, atomically (refused at maxmemory: XADD; the entry
 *	then stays pending and is tried again).
 *
 *	queue_entry_new() makes an entry of fields as read (GBytes: name,
 *	value, ...; it takes the array): the reader's one way to find the
 *	fields of common/stream.h in an entry. An "enc" this worker does not
 *	know sets error. An entry whose "enc" is zstd is left packed: its
 *	text field is decompressed (common/zframe.c) and its raw field
 *	checked by queue_entry_unpack(), which the first stage calls
 *	(stage_decode.c), in a preparing thread when there are any:
 *	decompressing is CPU work the reading writer thread need not do.
 *	Each is bounded before anything is allocated: raw by [milter]
 *	raw_max_size, text by twice max_text_size (room for a milter
 *	configured a little higher than this worker), both as configured
 *	when the entry was read. A frame past its bound, corrupt or
 *	truncated leaves the entry with error set (the first stage fails
 *	with it, so the entry ends as a dead letter that dlq retry can bring
 *	back once the limit is raised) and with the fields as they came.
 *	The original is never kept decompressed: nothing in the pipeline
 *	reads it (the milter sent what the worker needs in the envelope),
 *	and the store keeps the frame as it came, so zframe_check() reads
 *	it through (size and checksum) with a small buffer; then raw_zstd
 *	is the frame, raw NULL and raw_len the original's size. A text that
 *	came as a frame stays available as it came too (text_zstd), for the
 *	message's text. queue_entry_unpack() does its work once (a batch
 *	retried uses the entry as it left it) and returns -1 when error is
 *	set. Until it returned, text, raw, their frames and error belong to
 *	the thread that calls it.
 *
 *	queue_redis() is the queue's connection, for other questions to the
 *	same server (common/durable.c).
 * DIAGNOSTICS
 *	0 on success; -1 and *why (g_free) on failure. queue_ack() logs
 *	its failures itself (some are known only later) and returns -1 when
 *	it could not send.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"
#include "stream.h"
#include "zframe.h"

struct queue {
    const struct intake_config *cfg;
    struct redisq *rq;
    char   *consumer;
    char   *errors_key;
    char   *pending_cursor;		/* own pending: last id seen */
    char   *claim_cursor;		/* XAUTOCLAIM start */
    guint   acking;			/* entries of the last queue_ack(), not collected */
};

/* ack_failed - what the log says of an acknowledgement that failed */
static void ack_failed(guint n, const char *why)
{
    msg_warn("cannot acknowledge %u committed entries (they will be delivered again"
	     " and found to be duplicates): %s", n, why ? why : "no reply");
}

/*
 * collect_ack - the outcome of the last queue_ack(), logged when XDEL or
 * XACK failed (see queue_ack()).
 */
static void collect_ack(struct queue *q)
{
    g_autofree char *why = NULL;

    if (q->acking == 0)
	return;
    if (redisq_collect(q->rq, &why) < 2)
	ack_failed(q->acking, why);
    q->acking = 0;
}

void    queue_entry_free(gpointer p)
{
    struct queue_entry *e = p;

    g_free(e->id);
    g_free(e->error);
    g_free(e->unpacked_text);
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
    collect_ack(q);
    redisq_free(q->rq);
    g_free(q->consumer);
    g_free(q->errors_key);
    g_free(q->pending_cursor);
    g_free(q->claim_cursor);
    g_free(q);
    return NULL;
}

struct redisq *queue_redis(struct queue *q)
{
    return q->rq;
}

/*
 * group_cmd - a command on the consumer group (arguments up to a NULL).
 * When Redis answers NOGROUP, make the group (and the stream) and run
 * the command once more: the one place where the group is made.
 */
static redisReply *group_cmd(struct queue *q, char **why, const char *first, ...)
{
    va_list ap, again;
    redisReply *r;

    va_start(ap, first);
    va_copy(again, ap);
    r = redisq_vrun(q->rq, why, first, ap);
    va_end(ap);
    if (r == NULL && redisq_error_is(q->rq, "NOGROUP")) {
	g_clear_pointer(why, g_free);
	r = redisq_run(q->rq, why, "XGROUP", "CREATE", q->cfg->redis_stream,
		       q->cfg->worker_group, "0", "MKSTREAM", NULL);
	if (r || redisq_error_is(q->rq, "BUSYGROUP")) {	/* BUSYGROUP: another was first */
	    if (r)
		freeReplyObject(r);
	    g_clear_pointer(why, g_free);
	    r = redisq_vrun(q->rq, why, first, again);
	}
    }
    va_end(again);
    return r;
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

/*
 * unpack - field (text or raw) of an entry, a zstd frame, into *buf
 * with its length in *len; 0, or -1 and qe->error naming the field
 */
static int unpack(struct queue_entry *qe, const char *name, const char **field, gsize *len,
		  char **buf, gsize cap, const char *limit)
{
    g_autofree char *why = NULL;

    if (*field == NULL)
	return 0;
    if ((*buf = zframe_unpack(*field, *len, cap, len, &why)) == NULL) {
	qe->error = g_strdup_printf("stream entry field '%s': %s (%s)", name, why, limit);
	return -1;
    }
    *field = *buf;
    return 0;
}

struct queue_entry *queue_entry_new(const char *id, GPtrArray *fields,
				    const struct intake_config *cfg)
{
    struct queue_entry *qe = g_new0(struct queue_entry, 1);
    gsize   enc_len;
    const char *enc;

    qe->id = g_strdup(id);
    qe->fields = fields;
    qe->envelope = entry_field(qe, STREAM_ENVELOPE, &qe->len);
    qe->text = entry_field(qe, STREAM_TEXT, &qe->text_len);
    qe->raw = entry_field(qe, STREAM_RAW, &qe->raw_len);
    qe->deliveries = 1;
    if ((enc = entry_field(qe, STREAM_ENC, &enc_len)) == NULL)
	return qe;
    if (enc_len != strlen(STREAM_ENC_ZSTD) || memcmp(enc, STREAM_ENC_ZSTD, enc_len) != 0) {
	qe->error = g_strdup_printf("stream entry field '%s': unknown encoding '%.*s'"
				    " (is this worker older than the milter?)", STREAM_ENC,
				    (int) MIN(enc_len, 32), enc);
	return qe;
    }
    qe->packed = TRUE;
    qe->text_cap = 2 * (gsize) cfg->max_text_size;
    qe->raw_cap = (gsize) cfg->raw_max_size;
    return qe;
}

int     queue_entry_unpack(struct queue_entry *qe)
{
    const char *text = qe->text;
    gsize   text_len = qe->text_len, raw_len = 0;
    g_autofree char *why = NULL;

    if (!qe->packed)
	return qe->error ? -1 : 0;
    qe->packed = FALSE;
    if (unpack(qe, STREAM_TEXT, &text, &text_len, &qe->unpacked_text, qe->text_cap,
	       "twice [milter] max_text_size") < 0)
	return -1;
    /* The original is stored as the frame it came in: checked, never kept decompressed. */
    if (qe->raw && zframe_check(qe->raw, qe->raw_len, qe->raw_cap, &raw_len, &why) < 0) {
	qe->error = g_strdup_printf("stream entry field '%s': %s ([milter] raw_max_size)",
				    STREAM_RAW, why);
	return -1;
    }
    if (qe->raw) {
	qe->raw_zstd = qe->raw;
	qe->raw_zstd_len = qe->raw_len;
	qe->raw = NULL;
	qe->raw_len = raw_len;
    }
    if (qe->unpacked_text) {
	qe->text_zstd = qe->text;
	qe->text_zstd_len = qe->text_len;
    }
    qe->text = text;
    qe->text_len = text_len;
    return 0;
}

/*
 * A read's reply, freed when the last field that points into it is: the
 * fields of a batch are most of a megabyte, and copying them out of the
 * reply cost the writer as much as parsing the reply did.
 */
struct reply_hold {
    gint    refs;			/* atomic: an entry may be freed by any thread */
    redisReply *r;
};

static struct reply_hold *reply_hold_new(redisReply *r)
{
    struct reply_hold *h = g_new(struct reply_hold, 1);

    h->refs = 1;
    h->r = r;
    return h;
}

static void reply_release(gpointer p)
{
    struct reply_hold *h = p;

    if (g_atomic_int_dec_and_test(&h->refs)) {
	freeReplyObject(h->r);
	g_free(h);
    }
}

/* field_bytes - a string of the held reply as GBytes, holding it */
static GBytes *field_bytes(const redisReply *s, struct reply_hold *h)
{
    g_atomic_int_inc(&h->refs);
    return g_bytes_new_with_free_func(s->str, s->len, reply_release, h);
}

/*
 * add_entries - entries of list, an [id, [field, value...]] array in the
 * reply r, which it takes: freed with the last of their fields
 */
static void add_entries(redisReply *list, redisReply *r, GPtrArray *entries,
			const struct intake_config *cfg)
{
    struct reply_hold *h = reply_hold_new(r);

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
	    g_ptr_array_add(fields, field_bytes(f->element[j], h));
	    g_ptr_array_add(fields, field_bytes(f->element[j + 1], h));
	}
	g_ptr_array_add(entries, queue_entry_new(e->element[0]->str, fields, cfg));
    }
    reply_release(h);
}

/*
 * fill_deliveries - delivery counts of entries[from..], one exact XPENDING
 * (ID ID 1) per entry. One XPENDING over [first, last] with a count of
 * "n plus some" is not enough: the consumer may hold other pending entries
 * between the first and the last one claimed (its own failed ones, any
 * number of them), and the entries past the count would keep a delivery
 * count of 1 and never reach max_deliveries. Entries come from pending
 * lists only at start and at each claim: at most [worker] batch round
 * trips there, none for new entries.
 */
static int fill_deliveries(struct queue *q, GPtrArray *entries, guint from, char **why)
{
    for (guint j = from; j < entries->len; j++) {
	struct queue_entry *e = g_ptr_array_index(entries, j);
	redisReply *r = group_cmd(q, why, "XPENDING", q->cfg->redis_stream,
				  q->cfg->worker_group, e->id, e->id, "1", NULL);
	redisReply *p;

	if (r == NULL)
	    return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1
	    && (p = r->element[0])->type == REDIS_REPLY_ARRAY && p->elements >= 4
	    && p->element[0]->type == REDIS_REPLY_STRING && strcmp(p->element[0]->str, e->id) == 0
	    && p->element[3]->type == REDIS_REPLY_INTEGER)
	    e->deliveries = p->element[3]->integer;
	freeReplyObject(r);
    }
    return 0;
}

int     queue_read(struct queue *q, gboolean own_pending, int count, int block_ms,
		   GPtrArray *entries, char **why)
{
    g_autofree char *n = g_strdup_printf("%d", count);
    g_autofree char *b = g_strdup_printf("%d", block_ms);
    guint   from = entries->len;
    redisReply *r;

    collect_ack(q);
    if (own_pending) {
	r = group_cmd(q, why, "XREADGROUP", "GROUP", q->cfg->worker_group, q->consumer,
		      "COUNT", n, "STREAMS", q->cfg->redis_stream, q->pending_cursor, NULL);
    } else if (block_ms < 0) {
	/* The last blocking read lengthened it: a read ahead waits [redis] timeout at most. */
	redisq_set_timeout(q->rq, q->cfg->redis_timeout_ms);
	r = group_cmd(q, why, "XREADGROUP", "GROUP", q->cfg->worker_group, q->consumer,
		      "COUNT", n, "STREAMS", q->cfg->redis_stream, ">", NULL);
    } else {
	redisq_set_timeout(q->rq, block_ms + q->cfg->redis_timeout_ms);
	r = group_cmd(q, why, "XREADGROUP", "GROUP", q->cfg->worker_group, q->consumer,
		      "COUNT", n, "BLOCK", b, "STREAMS", q->cfg->redis_stream, ">", NULL);
    }
    if (r == NULL)
	return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0
	&& r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
	add_entries(r->element[0]->element[1], r, entries, q->cfg);
    else
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

    collect_ack(q);
    r = group_cmd(q, why, "XAUTOCLAIM", q->cfg->redis_stream, q->cfg->worker_group,
		  q->consumer, idle, q->claim_cursor, "COUNT", n, NULL);
    if (r == NULL)
	return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
	if (r->element[0]->type == REDIS_REPLY_STRING) {
	    g_free(q->claim_cursor);
	    q->claim_cursor = g_strdup(r->element[0]->str);
	}
	add_entries(r->element[1], r, entries, q->cfg);
    } else {
	freeReplyObject(r);
    }
    return fill_deliveries(q, entries, from, why);
}

/*
 * transaction - run a list of argv commands in MULTI/EXEC. When a command
 * cannot be queued, the transaction is discarded and *why is that
 * command's error, not DISCARD's.
 */
static int transaction(struct queue *q, GPtrArray *cmds, char **why)
{
    redisReply *r = redisq_run(q->rq, why, "MULTI", NULL);

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
	    g_autofree char *discard_why = NULL;

	    /* Without a connection there is no transaction left to discard. */
	    if (redisq_ok(q->rq) && (r = redisq_run(q->rq, &discard_why, "DISCARD", NULL)))
		freeReplyObject(r);
	    return -1;
	}
	freeReplyObject(r);
    }
    r = redisq_run(q->rq, why, "EXEC", NULL);
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

/*
 * queue_ack - XDEL, then XACK, then HDEL of the error notes, as three
 * plain commands written together and not waited for (redisq_send()):
 * with appendfsync always their round trip is Redis's fsync, some 4 ms a
 * batch that the writer now spends on the next batch. Their replies are
 * read before the next command on the connection, and the outcome logged
 * by collect_ack() at the next read, claim or acknowledgement, or when
 * the queue is freed. Once written, Redis runs them whether or not the
 * worker lives to read the replies; commands not all written, or refused,
 * leave the entries pending: delivered again, found stored (their
 * de-duplication keys) and acknowledged then. Not in MULTI: at maxmemory
 * Redis refuses every command queued in a transaction (queuing takes
 * memory), and acknowledging is what must work then. Not atomic, so the
 * order matters: Redis runs them in the order sent, and a crash after
 * XDEL leaves the entry pending with no fields, which whoever reads it
 * next acknowledges as done (worker/intake-worker.c); XACK first would
 * leave an acknowledged entry in the stream that no one ever reads. XACK
 * goes whether XDEL succeeded or not: both name the same key and neither
 * is refused at maxmemory, so what refuses one (a key of another type, a
 * replica after a failover, a lost connection) refuses the other.
 * XXX A failed HDEL only leaves error notes behind; it is not reported.
 */
int     queue_ack(struct queue *q, const char *const *ids, guint n)
{
    g_autofree char *why = NULL;
    static const char *const cmds[] = {"XDEL", "XACK", "HDEL"};
    struct redisq_cmd rc[G_N_ELEMENTS(cmds)];
    g_autofree const char **argv = NULL;
    g_autofree size_t *lens = NULL;
    guint   total = 0, at = 0;

    collect_ack(q);
    if (n == 0)
	return 0;
    for (guint c = 0; c < G_N_ELEMENTS(cmds); c++)
	total += n + (c == 1 ? 3 : 2);		/* XACK names the group */
    argv = g_new(const char *, total);
    lens = g_new(size_t, total);
    for (guint c = 0; c < G_N_ELEMENTS(cmds); c++) {
	const char *key = c == 2 ? q->errors_key : q->cfg->redis_stream;
	guint   fixed = c == 1 ? 3 : 2;

	rc[c].argc = (int) (n + fixed);
	rc[c].argv = argv + at;
	rc[c].lens = lens + at;
	argv[at] = cmds[c];
	argv[at + 1] = key;
	argv[at + 2] = q->cfg->worker_group;
	for (guint i = 0; i < n; i++)
	    argv[at + fixed + i] = ids[i];
	for (guint i = 0; i < n + fixed; i++)
	    lens[at + i] = strlen(argv[at + i]);
	at += n + fixed;
    }
    if (redisq_send(q->rq, &why, G_N_ELEMENTS(cmds), rc) < 0) {
	ack_failed(n, why);
	return -1;
    }
    q->acking = n;
    return 0;
}

int     queue_note_error(struct queue *q, const char *id, const char *error, char **why)
{
    redisReply *r = redisq_run(q->rq, why, "HSET", q->errors_key, id, error, NULL);

    if (r == NULL)
	return -1;
    freeReplyObject(r);
    return 0;
}

char   *queue_last_error(struct queue *q, const char *id)
{
    g_autofree char *why = NULL;
    redisReply *r = redisq_run(q->rq, &why, "HGET", q->errors_key, id, NULL);
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

    /* The fields of stream_dead_fields, in that order. */
    GPtrArray *add = argv_new("XADD", q->cfg->redis_dead_stream, "*", DEAD_ENTRY, e->id,
			      DEAD_ERROR, error, DEAD_DELIVERIES, deliveries,
			      DEAD_FAILED_AT, when, DEAD_CONSUMER, q->consumer, NULL);

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
