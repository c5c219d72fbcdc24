/* classify_lang.h: the language of a mail's text (libexttextcat). See classify_lang.c. */
#ifndef INTAKE_CLASSIFY_LANG_H
#define INTAKE_CLASSIFY_LANG_H

#include <stddef.h>

struct job;
struct lang_detector;

/*
 * Of the new text (quote.c), at most this many bytes are read. Measured on
 * the corpus (tests/unit/test_lang.c, lang_corpus.tsv: 172 messages): 4096
 * gave 120 right, 2 wrong, 50 without verdict; 1536 gives 119, 2, 51 (one
 * German mail without verdict, its mailbox's language stands); 1024 and 2048
 * give 3 wrong. textcat's work grows with the bytes it reads: a long mail's
 * verdict costs about half what it did at 4096 (make bench, section 2).
 */
#define LANG_MAX_BYTES 1536
/*
 * A longer text is first judged by this many bytes, and only a doubtful
 * verdict reads on (classify_lang.c): textcat's work grows with the bytes.
 */
#define LANG_FIRST_BYTES 512
/* textcat handles of a detector: this many threads detect at once without waiting. */
#define LANG_HANDLES 4
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
