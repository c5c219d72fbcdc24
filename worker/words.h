/* words.h: the words of a text, case-folded, for keyword tags and sentiment. See words.c. */
#ifndef INTAKE_WORDS_H
#define INTAKE_WORDS_H

#include <stddef.h>

/* A longer token (base64, a URL, a hash) is no word: it is counted but never looked up. */
#define WORDS_MAX_WORD 64

/* word: case-folded, NUL-terminated, valid until fn returns; NULL for a token too long. */
typedef void (*words_fn) (const char *word, void *ctx);

size_t  words_each(const char *text, size_t len, words_fn fn, void *ctx);

#endif
