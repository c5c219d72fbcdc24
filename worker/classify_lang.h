/* classify_lang.h: the language of a mail's text (libexttextcat). See classify_lang.c. */
#ifndef INTAKE_CLASSIFY_LANG_H
#define INTAKE_CLASSIFY_LANG_H

#include <stddef.h>

struct job;
struct lang_detector;

/* Of the new text (quote.c), at most this many bytes are read. */
#define LANG_MAX_BYTES 4096
/*
 * Below this many bytes of new text, no guess: the mailbox's language stands.
 * Measured on the corpus (tests/unit/lang_corpus.tsv): at 48, "test nochmal in
 * anderer Queue test" reads as English and uuencode as German; at 56 nothing
 * changes against 64, and the demo's 61-byte German mail is recognised.
 */
#define LANG_MIN_BYTES 56
/* A longer token (base64, a URL, a hash) is no word of a language. */
#define LANG_MAX_WORD 30
/* Where libexttextcat-data installs its fingerprints (LANG.lm). */
#define TEXTCAT_DATADIR "/usr/share/libexttextcat"

struct lang_detector *lang_detector_new(const char *const *languages, const char *datadir,
					char **why);
struct lang_detector *lang_detector_free(struct lang_detector *ld);
const char *lang_detect(struct lang_detector *ld, const char *text, size_t len,
			const char *prefer);
void    classify_lang(struct job *job);

#endif
