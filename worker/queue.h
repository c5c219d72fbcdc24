/* queue.h: the Redis stream as seen by a consumer. See queue.c. */
#ifndef INTAKE_QUEUE_H
#define INTAKE_QUEUE_H

#include <glib.h>
#include "config.h"
#include "redisq.h"

struct queue_entry {
    char   *id;
    GPtrArray *fields;			/* GBytes: name, value, name, value... */
    const char *envelope;		/* into fields; NULL when there is none */
    gsize   len;
    const char *text;			/* the body text, or NULL */
    gsize   text_len;
    const char *raw;			/* the original message, or NULL (none, or packed) */
    gsize   raw_len;			/* its size (packed: once checked, the frame's content) */
    gint64  deliveries;
    char   *error;			/* why the fields could not be read, or NULL */
    char   *unpacked_text;		/* text when it came compressed */
    const char *raw_zstd;		/* the original as it came, one checked zstd frame, or NULL */
    gsize   raw_zstd_len;
    const char *text_zstd;		/* text as it came, one checked zstd frame, or NULL */
    gsize   text_zstd_len;
    gboolean packed;			/* text and raw are zstd frames, not unpacked yet */
    gsize   text_cap, raw_cap;		/* the most either may unpack to */
};

struct queue;

struct queue *queue_new(const struct intake_config *cfg, const char *consumer);
struct queue *queue_free(struct queue *q);
struct redisq *queue_redis(struct queue *q);
int     queue_read(struct queue *q, gboolean own_pending, int count, int block_ms,
		   GPtrArray *entries, char **why);
int     queue_claim(struct queue *q, int min_idle_ms, int count, GPtrArray *entries,
		    char **why);
int     queue_ack(struct queue *q, const char *const *ids, guint n);
int     queue_note_error(struct queue *q, const char *id, const char *error, char **why);
char   *queue_last_error(struct queue *q, const char *id);
int     queue_dead_letter(struct queue *q, const struct queue_entry *e, const char *error,
			  char **why);
int     queue_entry_unpack(struct queue_entry *qe);
struct queue_entry *queue_entry_new(const char *id, GPtrArray *fields,
				    const struct intake_config *cfg);
void    queue_entry_free(gpointer p);

#endif
