/* stem.h: the words of a text, case-folded and stemmed (libstemmer). See stem.c. */
#ifndef INTAKE_STEM_H
#define INTAKE_STEM_H

#include <stddef.h>

/*
 * Of a text, at most this many bytes are read: a long mail costs what a short one does. A
 * customer says what they want at the top; what follows 8 KB of their own lines is mostly pasted
 * logs and documents, which cost time (make bench: 64 KB made classification 1.4x a ticket's
 * CPU on mails of 2-50 KB) without telling the category better.
 */
#define STEM_MAX_BYTES (8 * 1024)
/* A longer token (base64, a URL, a hash) is no word; it is skipped. */
#define STEM_MAX_WORD 30
/* Stemmers kept at once (one per language asked for; the first this many languages). */
#define STEM_MAX_LANGUAGES 32
/* Distinct words whose stems each language keeps (stem.c: Snowball is the slow part). */
#define STEM_CACHE_WORDS 50000

struct stemmers;

typedef void (*stem_fn) (void *ctx, const char *term, size_t len);

struct stemmers *stemmers_new(void);
struct stemmers *stemmers_free(struct stemmers *s);
size_t  stem_words(struct stemmers *s, const char *language, const char *text, size_t len,
		   stem_fn fn, void *ctx);

#endif
