/* fts_tokenizer.h: the store's FTS5 tokenizer, outside any table. See fts_tokenizer.c. */
#ifndef INTAKE_FTS_TOKENIZER_H
#define INTAKE_FTS_TOKENIZER_H

#include <glib.h>

struct fts_tokenizer;

/* A token as FTS5 hands it over: not null-terminated; return 0 to go on. */
typedef int (*fts_token_fn) (void *ctx, const char *token, int len);

struct fts_tokenizer *fts_tokenizer_new(char **why);
int     fts_tokenize(struct fts_tokenizer *t, gboolean query, const char *text, int len,
		     fts_token_fn fn, void *ctx, char **why);
struct fts_tokenizer *fts_tokenizer_free(struct fts_tokenizer *t);

#endif
