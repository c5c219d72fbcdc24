/* classify_tags.h: keyword tags of a ticket ([worker] tags, docs/classify.md). See classify_tags.c. */
#ifndef INTAKE_CLASSIFY_TAGS_H
#define INTAKE_CLASSIFY_TAGS_H

#include <glib.h>
#include "config.h"

struct job;
struct tags;

/* At most this many keyword tags per mail, those with the most occurrences. */
#define TAGS_MAX 30
/*
 * Of the subject and of the customer's own text, at most this many bytes are
 * read: the bound of SENTIMENT_TEXT_MAX, for the same reason (classify_sentiment.h:
 * every own text of the corpus is shorter; a customer names the matter in
 * the first lines, not 16 KB down in a pasted log).
 */
#define TAGS_TEXT_MAX (16 * 1024)

struct tag_hit {
    const char *name;			/* borrowed from struct tags */
    guint   count;			/* occurrences of its keywords */
};

struct tags *tags_load(const char *path, const struct intake_config *cfg, GPtrArray *errors);
struct tags *tags_free(struct tags *ts);
guint   tags_count(const struct tags *ts);
const char *tags_path(const struct tags *ts);
GArray *tags_match(const struct tags *ts, const char *subject, size_t subject_len,
		   const char *text, size_t len);
char   *tags_hits_text(const GArray *hits);
void    classify_tags(struct job *job);

#endif
