/* classify_faq.h: FAQ entries suggested for a mail (SQLite FTS5, bm25). See classify_faq.c. */
#ifndef INTAKE_CLASSIFY_FAQ_H
#define INTAKE_CLASSIFY_FAQ_H

#include <stddef.h>
#include <glib.h>
#include "store.h"

struct job;

/* Of the subject and of the sender's own lines (quote.c), at most this many bytes each. */
#define FAQ_MAX_BYTES 16384
/* The query ORs at most this many distinct words: its cost does not grow with the mail. */
#define FAQ_MAX_TERMS 32
/* Shorter words ("to", "im", "le") say nothing about the question. */
#define FAQ_MIN_CHARS 3
/* A longer token (base64, a URL's path, a hash) is no word of a question. */
#define FAQ_MAX_WORD 40

struct faq_memory;

GPtrArray *faq_words(const char *subject, const char *text, size_t len);
char   *faq_query(const char *subject, const char *text, size_t len);
struct faq_memory *faq_memory_new(void);
int     faq_memory_suggest(struct faq_memory *fm, struct store *st, const char *collection,
			   const char *language, const char *subject, const char *text,
			   size_t len, int max, double min_score, struct store_faq_match *out,
			   int *n, char **why);
void    faq_memory_refresh(struct faq_memory *fm, struct store *st);
gboolean faq_memory_match(struct faq_memory *fm, const char *collection, const char *language,
			  const GPtrArray *words, int max, double min_score,
			  struct store_faq_match *out, int *n);
struct faq_memory *faq_memory_free(struct faq_memory *fm);
int     faq_suggest(struct store *st, const char *collection, const char *language,
		    const char *subject, const char *text, size_t len, int max,
		    double min_score, struct store_faq_match *out, int *n, char **why);
void    classify_faq_prepare(struct job *job);
enum stage_result classify_faq(struct job *job, gboolean *asked);

#endif
