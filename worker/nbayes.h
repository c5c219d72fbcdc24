/* nbayes.h: multinomial naive Bayes over stemmed words: model, training, evaluation. See nbayes.c. */
#ifndef INTAKE_NBAYES_H
#define INTAKE_NBAYES_H

#include <glib.h>

struct stemmers;

/* The model keeps the terms of this many highest document frequencies. */
#define NB_MAX_VOCABULARY 20000
/* More categories than this are refused (a category is a person's choice, not a sender's). */
#define NB_MAX_CATEGORIES 200
/* Distinct terms a trainer tracks; later new terms are not counted. */
#define NB_TRAIN_MAX_TERMS 1000000
/* Documents a trainer keeps; later ones are not counted. */
#define NB_TRAIN_MAX_DOCS 100000

struct nb_model;
struct nb_trainer;

/* One row of a model: term NULL is the category's document count. */
typedef void (*nb_row_fn) (void *ctx, const char *category, const char *term, gint64 count);

struct nb_model *nb_model_new(void);
struct nb_model *nb_model_free(struct nb_model *m);
int     nb_model_add(struct nb_model *m, const char *category, const char *term, gint64 count);
void    nb_model_finish(struct nb_model *m);
void    nb_model_foreach(const struct nb_model *m, nb_row_fn fn, void *ctx);
guint   nb_model_categories(const struct nb_model *m);
guint   nb_model_vocabulary(const struct nb_model *m);
const char *nb_model_category(const struct nb_model *m, guint i, gint64 *docs);
const char *nb_predict(const struct nb_model *m, struct stemmers *s, const char *language,
		       const char *subject, const char *text, gsize len, double *confidence);

/* Cross-validation's result: confusion[truth * categories + predicted]. */
struct nb_eval {
    guint   categories;
    char  **names;			/* categories, in model order */
    guint  *confusion;
    guint  *sizes;			/* documents per category */
    guint   docs;
    guint   correct;
    guint   majority;			/* docs of the largest category: the baseline */
    guint   unpredicted;		/* docs with no known word: counted as wrong */
};

struct nb_trainer *nb_trainer_new(void);
struct nb_trainer *nb_trainer_free(struct nb_trainer *t);
gboolean nb_trainer_add(struct nb_trainer *t, struct stemmers *s, const char *language,
			const char *category, const char *subject, const char *text, gsize len);
guint   nb_trainer_docs(const struct nb_trainer *t);
struct nb_model *nb_trainer_model(const struct nb_trainer *t, guint max_vocabulary);
struct nb_eval *nb_cross_validate(const struct nb_trainer *t, guint folds, guint max_vocabulary);
struct nb_eval *nb_eval_free(struct nb_eval *e);

#endif
