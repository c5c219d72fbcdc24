/* classify_sentiment.h: the tone of what a customer wrote (AFINN-165 lexicon). See classify_sentiment.c. */
#ifndef INTAKE_CLASSIFY_SENTIMENT_H
#define INTAKE_CLASSIFY_SENTIMENT_H

#include <stddef.h>

struct job;
struct sentiment;

/*
 * Of the subject and the customer's own text, at most this many bytes are
 * scored. What a customer writes now is short: of the corpus's 357 mails the
 * own text (quote_own_lines()) is 519 bytes at the median, 6.4 KB at the
 * 99th percentile and 14.5 KB at most, so 16 KB scores every one of them
 * whole, as 64 KB did; what lies beyond is pasted logs and listings, whose
 * words say nothing of the tone and cost a hash lookup each (make bench,
 * section 2: mails of up to 48 KB of text).
 */
#define SENTIMENT_TEXT_MAX (16 * 1024)
/* A lexicon file larger than this is refused (AFINN-165's labels.json is 40 KB). */
#define SENTIMENT_FILE_MAX (4 * 1024 * 1024)
/* The label's thresholds on the score (valence per word): docs/classify.md, "Sentiment". */
#define SENTIMENT_NEGATIVE (-0.1)
#define SENTIMENT_POSITIVE 0.1

struct sentiment_result {
    const char *label;			/* "negative", "neutral", "positive"; NULL: not scored */
    double  score;			/* sum of valences / words */
    int     sum;			/* sum of valences */
    size_t  words;
    size_t  scored;			/* words found in the lexicon */
};

struct sentiment *sentiment_new(const char *dir, const char *const *languages, char **why);
struct sentiment *sentiment_free(struct sentiment *s);
const char *sentiment_languages(const struct sentiment *s);
int     sentiment_score(const struct sentiment *s, const char *language, const char *text,
			size_t len, struct sentiment_result *out);
void    classify_sentiment(struct job *job);

#endif
