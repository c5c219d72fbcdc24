/* classify_category.h: a new ticket's suggested category (naive Bayes). See classify_category.c. */
#ifndef INTAKE_CLASSIFY_CATEGORY_H
#define INTAKE_CLASSIFY_CATEGORY_H

struct job;
struct pipeline;
struct store;
struct stemmers;
struct category_classifier;

/* How often (seconds) the worker asks the store whether intakectl train saved a new model. */
#define CATEGORY_CHECK_SECONDS 30

struct category_classifier *category_classifier_new(void);
struct category_classifier *category_classifier_free(struct category_classifier *cc);
struct stemmers *category_classifier_stemmers(struct category_classifier *cc);
void    classify_category_refresh(struct pipeline *pl);
void    classify_category_suggest(struct job *job);
void    classify_category(struct job *job);

#endif
