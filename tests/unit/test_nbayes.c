/*
 * NAME
 *	test_nbayes - unit tests of worker/stem.c and worker/nbayes.c
 * DESCRIPTION
 *	Table-driven: the terms stem_words() makes of texts in English and
 *	German (case folded, stemmed, numbers and one-letter words and
 *	overlong tokens dropped, invalid UTF-8 a separator, an unknown
 *	language stemmed as English). A model trained on a small set of
 *	support mails written here (billing, shipping, login) predicts new
 *	ones, with a confidence between 0 and 1; unknown words and an empty
 *	model give no suggestion; the rows a model gives back (for the
 *	store) load into a model that predicts the same; cross-validation
 *	counts every document once. Hostile input: an 8 MB body (only
 *	STEM_MAX_BYTES are read), 100,000 distinct words (the vocabulary
 *	stays at its bound), invalid UTF-8.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "nbayes.h"
#include "stem.h"
#include "tap.h"

static void collect(void *ctx, const char *term, size_t len)
{
    GString *s = ctx;

    ok(strlen(term) == len && g_utf8_validate(term, len, NULL),
       "a term of %zu bytes: UTF-8, null-terminated at its length", len);
    if (s->len)
	g_string_append_c(s, ' ');
    g_string_append(s, term);
}

static const struct {
    const char *language;
    const char *text;
    const char *want;
} stems[] = {
    {"en", "Invoices were CHARGED twice!", "invoic were charg twice"},
    {"de", "Die Rechnungen wurden doppelt abgebucht", "die rechnung wurd doppelt abgebucht"},
    {"en", "order 12345 a b", "order"},
    {"en", "x2 4711x", "x2 4711x"},
    {"en", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa short", "short"},
    {"en", "broken\xff\xfeshipping", "broken ship"},
    {"en", "\xc3\x28hello", "hello"},
    {"xx", "running", "run"},
    {NULL, "Running", "run"},
    {"fr", "\xc3\x89TAIT", "\xc3\xa9tait"},
    {"en", "", ""},
};

static const struct {
    const char *category, *subject, *text;
} training[] = {
    {"billing", "Invoice wrong", "You charged my card twice for the invoice."},
    {"billing", "Refund", "Please refund the payment, the invoice amount is wrong."},
    {"billing", "Payment failed", "My credit card payment failed, please send a new invoice."},
    {"billing", "VAT on invoice", "The invoice lacks our VAT number, please correct the invoice."},
    {"shipping", "Where is my parcel", "The parcel has not arrived, the tracking shows nothing."},
    {"shipping", "Delivery late", "My delivery is late, the courier never came."},
    {"shipping", "Damaged parcel", "The parcel arrived damaged, the box was crushed in delivery."},
    {"shipping", "Tracking", "Tracking number does not work, where is the delivery?"},
    {"login", "Cannot log in", "I cannot log in, the password reset mail never comes."},
    {"login", "Password", "My password does not work and the account is locked."},
    {"login", "Account locked", "The account is locked after three password attempts."},
    {"login", "Two factor", "The login code does not arrive, I cannot access my account."},
};

static const struct {
    const char *subject, *text, *want;
} predictions[] = {
    {"Question", "The invoice shows a payment I did not make.", "billing"},
    {"Hello", "My parcel delivery has not arrived yet.", "shipping"},
    {"Help", "I forgot my password and cannot log in to my account.", "login"},
    {"Invoices", "Two invoices charged", "billing"},
};

static struct nb_model *trained(struct stemmers *st)
{
    struct nb_trainer *t = nb_trainer_new();
    struct nb_model *m;

    for (gsize i = 0; i < G_N_ELEMENTS(training); i++)
	nb_trainer_add(t, st, "en", training[i].category, training[i].subject,
		       training[i].text, strlen(training[i].text));
    m = nb_trainer_model(t, NB_MAX_VOCABULARY);
    nb_trainer_free(t);
    return m;
}

static void copy_row(void *ctx, const char *category, const char *term, gint64 count)
{
    nb_model_add(ctx, category, term, count);
}

static void count_row(void *ctx, const char *category, const char *term, gint64 count)
{
    (*(guint *) ctx)++;
}

static void ignore(void *ctx, const char *term, size_t len)
{
}

int     main(void)
{
    struct stemmers *st = stemmers_new();
    struct nb_model *m, *copy, *empty;
    struct nb_trainer *t;
    struct nb_eval *e;
    const char *got;
    double  conf;
    guint   rows = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(stems); i++) {
	g_autoptr(GString) s = g_string_new(NULL);
	g_autofree char *shown = g_strescape(stems[i].text, NULL);

	stem_words(st, stems[i].language, stems[i].text, strlen(stems[i].text), collect, s);
	is_str(s->str, stems[i].want, "stems of '%s' (%s)", shown,
	       stems[i].language ? stems[i].language : "no language");
    }

    m = trained(st);
    is_int(nb_model_categories(m), 3, "three categories");
    ok(nb_model_vocabulary(m) > 20, "a vocabulary (%u terms)", nb_model_vocabulary(m));
    for (gsize i = 0; i < G_N_ELEMENTS(predictions); i++) {
	got = nb_predict(m, st, "en", predictions[i].subject, predictions[i].text,
			 strlen(predictions[i].text), &conf);
	is_str(got, predictions[i].want, "'%s' is %s", predictions[i].text, predictions[i].want);
	ok(conf > 1.0 / 3 && conf <= 1.0, "confidence %.3f above chance, at most 1", conf);
    }
    got = nb_predict(m, st, "en", "", "zzyzx qwertz", 12, &conf);
    ok(got == NULL && conf == 0, "unknown words: no suggestion");
    got = nb_predict(m, st, "en", NULL, "invoice parcel password", 23, &conf);
    ok(got != NULL && conf < 0.9, "one word of each category: %s, confidence %.3f, not sure",
       got ? got : "none", conf);

    /* The rows for the store make the same model. */
    copy = nb_model_new();
    nb_model_foreach(m, copy_row, copy);
    nb_model_finish(copy);
    for (gsize i = 0; i < G_N_ELEMENTS(predictions); i++) {
	double  c1, c2;
	const char *a = nb_predict(m, st, "en", predictions[i].subject, predictions[i].text,
				   strlen(predictions[i].text), &c1);
	const char *b = nb_predict(copy, st, "en", predictions[i].subject, predictions[i].text,
				   strlen(predictions[i].text), &c2);

	ok(a && b && strcmp(a, b) == 0 && fabs(c1 - c2) < 1e-9,
	   "reloaded model: same prediction for '%s'", predictions[i].subject);
    }
    nb_model_foreach(copy, count_row, &rows);
    nb_model_free(copy);
    ok(rows > nb_model_vocabulary(m), "%u rows: documents and terms", rows);

    empty = nb_model_new();
    nb_model_finish(empty);
    ok(nb_predict(empty, st, "en", "Invoice", "invoice", 7, &conf) == NULL, "empty model: none");
    ok(nb_predict(NULL, st, "en", "Invoice", "invoice", 7, &conf) == NULL, "no model: none");
    nb_model_add(empty, "billing", NULL, 3);
    nb_model_add(empty, "billing", "invoic", 3);
    nb_model_finish(empty);
    ok(nb_predict(empty, st, "en", "Invoice", "invoice", 7, &conf) == NULL,
       "one category: nothing to choose");
    nb_model_free(empty);

    /* Cross-validation: every document predicted once, better than the majority here. */
    t = nb_trainer_new();
    for (int round = 0; round < 2; round++)
	for (gsize i = 0; i < G_N_ELEMENTS(training); i++)
	    nb_trainer_add(t, st, "en", training[i].category, training[i].subject,
			   training[i].text, strlen(training[i].text));
    e = nb_cross_validate(t, 4, NB_MAX_VOCABULARY);
    ok(e != NULL, "cross-validation");
    if (e) {
	guint   sum = e->unpredicted;

	for (guint i = 0; i < e->categories * e->categories; i++)
	    sum += e->confusion[i];
	is_int(e->docs, 2 * G_N_ELEMENTS(training), "every document once");
	is_int(sum, e->docs, "confusion table counts them all");
	is_int(e->majority, 8, "majority baseline");
	ok(e->correct > e->majority, "accuracy %u/%u above the baseline", e->correct, e->docs);
    }
    nb_eval_free(e);
    nb_trainer_free(t);
    t = nb_trainer_new();
    ok(nb_cross_validate(t, 10, NB_MAX_VOCABULARY) == NULL, "no documents: no evaluation");
    nb_trainer_free(t);

    /* Hostile: 8 MB body, 100,000 distinct words, invalid UTF-8. */
    {
	gsize   big = 8 * 1024 * 1024;
	char   *body = g_malloc(big + 1);
	g_autoptr(GString) words = g_string_new(NULL);
	guint   n = 0;
	gint64  t0;

	for (gsize i = 0; i < big; i++)
	    body[i] = "invoice parcel "[i % 15];
	body[big] = 0;
	t0 = g_get_monotonic_time();
	got = nb_predict(m, st, "en", "x", body, big, &conf);
	ok(got != NULL, "8 MB body: a suggestion (%s)", got ? got : "none");
	n = (guint) stem_words(st, "en", body, big, ignore, NULL);
	ok(n <= STEM_MAX_BYTES / 2, "8 MB body: at most STEM_MAX_BYTES read (%u words)", n);
	ok(g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC, "8 MB body: quick");
	for (gsize i = 0; i < big; i++)
	    body[i] = (char) (0x80 | (i * 7919 % 64));
	got = nb_predict(m, st, "en", "\xff\xfe", body, big, &conf);
	ok(got == NULL, "invalid UTF-8: no words, no suggestion");
	g_free(body);

	t = nb_trainer_new();
	for (guint i = 0; i < 100000; i++)
	    g_string_append_printf(words, "w%ur ", i * 2654435761u);
	nb_trainer_add(t, st, "en", "a", "s", words->str, words->len);
	nb_trainer_add(t, st, "en", "b", "s", words->str, words->len);
	for (guint i = 0; i < 10; i++) {
	    g_autofree char *more = g_strdup_printf("%s tail%c", words->str + words->len / 2,
						    'a' + i);

	    nb_trainer_add(t, st, "en", i % 2 ? "a" : "b", NULL, more, strlen(more));
	}
	copy = nb_trainer_model(t, NB_MAX_VOCABULARY);
	ok(nb_model_vocabulary(copy) <= NB_MAX_VOCABULARY, "100,000 distinct words: vocabulary"
	   " %u within its bound", nb_model_vocabulary(copy));
	nb_model_free(copy);
	nb_trainer_free(t);
    }
    nb_model_free(m);
    stemmers_free(st);
    return tap_done();
}
