/* faq_index.h: FAQ entries ranked in memory exactly as FTS5's bm25 ranks them. See faq_index.c. */
#ifndef INTAKE_FAQ_INDEX_H
#define INTAKE_FAQ_INDEX_H

#include <glib.h>
#include "store.h"

/*
 * The column weights of the match: bm25(faq_fts, title, body) in the
 * SQLite store's query (store_sqlite_sql.c) and in faq_index.c.
 */
#define FAQ_TITLE_WEIGHT 2.0
#define FAQ_BODY_WEIGHT 1.0
/* More entries than this: the store's FTS5 query ranks them (memory, load time). */
#define FAQ_INDEX_MAX_ENTRIES 5000

struct faq_index;

enum faq_index_result { FAQ_INDEX_OK, FAQ_INDEX_FALLBACK };

struct faq_index *faq_index_new(char **why);
int     faq_index_add(struct faq_index *ix, gint64 id, const char *collection,
		      const char *language, const char *title, const char *url,
		      const char *body, char **why);
guint   faq_index_size(const struct faq_index *ix);
enum faq_index_result faq_index_match(struct faq_index *ix, const GPtrArray *words,
				      const char *collection, const char *language,
				      double min_score, int max,
				      struct store_faq_match *out, int *n);
struct faq_index *faq_index_free(struct faq_index *ix);

#endif
