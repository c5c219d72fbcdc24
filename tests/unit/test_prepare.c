/*
 * NAME
 *	test_prepare - the preparing threads give each entry and mailbox its own classification
 * DESCRIPTION
 *	A batch of mails in different languages, with different keyword
 *	tags and sentiment, some to two mailboxes whose routing rules
 *	decide differently, goes through pipeline_entry() three ways: with
 *	a preparer of two threads (prepare.c) into one store, the batch
 *	first rolled back (as when the store is busy) and then run again
 *	with the same preparations; and without one (the writer classifies
 *	it all itself) into another store. Each ticket's language, tags,
 *	sentiment, queue and priority must be what its table row says, in
 *	both stores: a job that took another mailbox's preparation gives
 *	its ticket the other mailbox's queue and priority, and a retry that
 *	found its preparations used up would lose tags and language. (The
 *	preparation of another entry aborts on the entry id, asserted by
 *	pipeline_entry() and job_take_prepared().)
 *
 *	With a category model and FAQ entries in the store, the threads
 *	also suggest the category and the FAQ entries (from what the writer
 *	loaded before the batch): the same suggestions as the writer's own
 *	in a store without preparation, and the writer never reloads either
 *	while the threads read them.
 *
 *	Then an entry that does not decode is prepared as a failure with
 *	its reason, and a batch freed before the writer waited for any
 *	entry (SIGTERM mid-batch) waits for its threads and leaks nothing.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <jansson.h>

#include "classify_category.h"
#include "classify_faq.h"
#include "classify_lang.h"
#include "classify_sentiment.h"
#include "classify_tags.h"
#include "config.h"
#include "ctl_show.h"
#include "envelope.h"
#include "pipeline.h"
#include "prepare.h"
#include "queue.h"
#include "rules.h"
#include "tap.h"

#define LEXICONS "/usr/share/intake/sentiment"

static const char conf_text[] =
    "[worker]\nlog = stderr\nlanguages = de, en, fr, nl, es\n"
    "rules = %s/rules.conf\ntags = %s/tags.conf\nsentiment_lexicons = " LEXICONS "\n"
    "[store]\npath = %s/tickets.db\n"
    "[mailbox support]\naddress = support@example.test\nlanguage = en\nacknowledge = no\n"
    "[mailbox sales]\naddress = sales@example.test\nlanguage = de\nacknowledge = no\n";

static const char rules_text[] =
    "[rule sales-invoices]\nmailboxes = sales\nif = subject contains invoice\n"
    "queue = billing\npriority = high\n"
    "[rule support-outage]\nmailboxes = support\nif = body contains down\n"
    "queue = ops\npriority = urgent\n";

static const char tags_text[] =
    "[tag billing]\nkeywords = invoice, Rechnung, facture, factuur, factura\n"
    "[tag login]\nkeywords = password, Passwort, identifiant, wachtwoord, contraseña\n"
    "[tag outage]\nkeywords = down\n";

/* Each mail, and per mailbox what its ticket must show ("" for none). */
static const struct mail {
    const char *subject;
    const char *text;
    const char *mailboxes[2];		/* the second NULL: one mailbox */
    const char *language;		/* detected: the same for every mailbox */
    const char *tags;			/* keyword tags, sorted, comma-separated (as shown) */
    const char *queue[2];		/* by mailbox, "" none */
    const char *priority[2];
} mails[] = {
    {"invoice 1", "Guten Tag, die Rechnung vom März ist doppelt abgebucht worden. Bitte"
	" erstatten Sie den Betrag, ich warte seit zwei Wochen auf eine Antwort von Ihnen.",
	{"sales", "support"}, "de", "billing", {"billing", ""}, {"high", "normal"}},
    {"login 2", "Hello, I cannot log in since yesterday, my password is refused every time"
	" and the reset mail never arrives. This is terrible, please help me quickly.",
	{"support"}, "en", "login", {""}, {"normal"}},
    {"facture 3", "Bonjour, je n'ai pas reçu la facture du mois dernier et je ne peux pas"
	" payer sans elle. Pouvez-vous me l'envoyer de nouveau, s'il vous plaît? Merci.",
	{"support", "sales"}, "fr", "billing", {"", ""}, {"normal", "normal"}},
    {"storing 4", "Goedemorgen, de website is al de hele ochtend down en mijn wachtwoord"
	" werkt ook niet meer. Kunt u ons zo snel mogelijk laten weten wat er aan de hand is?",
	{"support"}, "nl", "login,outage", {"ops"}, {"urgent"}},
    {"invoice 5", "Hola, la factura de abril tiene un error en el importe y necesito una"
	" nueva para nuestra contabilidad antes del viernes. Muchas gracias por su ayuda.",
	{"sales"}, "es", "billing", {"billing"}, {"high"}},
    {"thanks 6", "Thank you so much, the new version works wonderfully and the team is"
	" happy with it. Great support, excellent work, we love the product.",
	{"support", "sales"}, "en", "", {"", ""}, {"normal", "normal"}},
};

static char *tmpdir;

static char *write_file(const char *dir, const char *name, const char *text)
{
    char   *path = g_build_filename(dir, name, NULL);

    if (!g_file_set_contents(path, text, -1, NULL))
	g_error("cannot write %s", path);
    return path;
}

/* entry_of - the stream entry the milter writes for mails[i], as the queue reads it */
static struct queue_entry *entry_of(const struct intake_config *cfg, gsize i)
{
    const struct mail *m = &mails[i];
    g_autofree char *raw = g_strdup_printf("From: Kim Customer <kim%zu@customer.example>\r\n"
					   "To: support@example.test\r\nSubject: %s\r\n"
					   "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
					   "Message-ID: <prep%zu@customer.example>\r\n"
					   "MIME-Version: 1.0\r\n"
					   "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
					   i, m->subject, i, m->text);
    const char *rcpts[2];
    const struct mailbox *matched[2];
    struct envelope_limits lim;
    struct envelope_input in = {
	.queue_id = "4QXprep", .client_addr = "192.0.2.1", .client_name = "mx.example",
	.helo = "mx.example", .recipients = rcpts, .matched = matched,
	.raw = raw, .raw_len = strlen(raw), .message_size = strlen(raw),
    };
    g_autofree char *sender = g_strdup_printf("kim%zu@customer.example", i);
    g_autofree char *id = g_strdup_printf("1-%zu", i + 1);
    GPtrArray *fields = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    const char *text;
    gsize   text_len;
    json_t *env;
    char   *json;
    int     n = 0;

    for (; n < 2 && m->mailboxes[n]; n++) {
	matched[n] = config_mailbox(cfg, m->mailboxes[n]);
	rcpts[n] = matched[n]->address;
    }
    in.n_recipients = n;
    in.sender = sender;
    envelope_limits_from_config(&lim, cfg);
    env = envelope_build(&in, &lim);
    json = envelope_encode(env, ENVELOPE_VERSION_PLAIN, &text, &text_len);
    {
	/* The fields as common/enqueue.c writes them and hiredis hands them back. */
	const char *const name[] = {"v", "envelope", "text", "raw"};
	const char *const value[] = {"1", json, text, raw};
	const gsize len[] = {1, strlen(json), text_len, strlen(raw)};

	for (gsize k = 0; k < G_N_ELEMENTS(name); k++) {
	    g_ptr_array_add(fields, g_bytes_new(name[k], strlen(name[k])));
	    g_ptr_array_add(fields, g_bytes_new(value[k], len[k]));
	}
    }
    free(json);
    json_decref(env);
    return queue_entry_new(id, fields, cfg);
}

/* A worker's pipeline in a directory of its own: configuration, store, classifiers. */
struct setup {
    char   *dir;
    struct intake_config *cfg;
    struct pipeline pl;
    struct rules *rules;
    struct tags *tags;
    struct sentiment *sentiment;
};

static gboolean setup_open(struct setup *s, const char *name)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *conf_path = NULL, *conf = NULL, *r = NULL, *t = NULL;
    char   *why = NULL;

    memset(s, 0, sizeof(*s));
    s->dir = g_build_filename(tmpdir, name, NULL);
    g_mkdir(s->dir, 0700);
    conf = g_strdup_printf(conf_text, s->dir, s->dir, s->dir);
    conf_path = write_file(s->dir, "intake.conf", conf);
    r = write_file(s->dir, "rules.conf", rules_text);
    t = write_file(s->dir, "tags.conf", tags_text);
    if ((s->cfg = config_load(conf_path, &errors)) == NULL) {
	for (guint i = 0; i < errors->len; i++)
	    diag("  %s", (const char *) g_ptr_array_index(errors, i));
	return FALSE;
    }
    s->rules = rules_load(s->cfg->worker_rules, s->cfg, errors);
    s->tags = tags_load(s->cfg->worker_tags, s->cfg, errors);
    s->sentiment = sentiment_new(LEXICONS, (const char *const *) s->cfg->languages, &why);
    s->pl.cfg = s->cfg;
    s->pl.rules = s->rules;
    s->pl.tags = s->tags;
    s->pl.sentiment = s->sentiment;
    if (s->sentiment)
	s->pl.lang = lang_detector_new((const char *const *) s->cfg->languages,
				       TEXTCAT_DATADIR, &why);
    if (s->pl.lang)
	s->pl.store = store_open(s->cfg, &why);
    for (guint i = 0; i < errors->len; i++)
	diag("  %s", (const char *) g_ptr_array_index(errors, i));
    if (!s->rules || !s->tags || !s->sentiment || !s->pl.lang || !s->pl.store) {
	diag("  %s: %s", name, why ? why : "rules or tags do not load");
	g_free(why);
	return FALSE;
    }
    return TRUE;
}

static void setup_close(struct setup *s)
{
    s->pl.store = store_close(s->pl.store);
    s->pl.lang = lang_detector_free(s->pl.lang);
    s->sentiment = sentiment_free(s->sentiment);
    s->tags = tags_free(s->tags);
    s->rules = rules_free(s->rules);
    config_free(s->cfg);
    g_free(s->dir);
}

/*
 * run_batch - the entries in one transaction, as run_transaction() runs
 * them: each with its preparation from b (NULL: none); rolled back
 * instead of committed when rollback. The number of entries PIPE_OK.
 */
static guint run_batch(struct pipeline *pl, GPtrArray *entries, struct prepare_batch *b,
		       gboolean rollback)
{
    const struct store_ops *ops = pl->store->ops;
    guint   good = 0;
    char   *why = NULL;

    if (ops->begin(pl->store, &why) != STORE_OK) {
	diag("begin: %s", why);
	g_free(why);
	return 0;
    }
    for (guint i = 0; i < entries->len; i++) {
	struct queue_entry *e = g_ptr_array_index(entries, i);

	if (pipeline_entry(pl, e, prepare_batch_wait(b, e), &why) == PIPE_OK)
	    good++;
	else
	    diag("entry %s: %s", e->id, why);
	g_clear_pointer(&why, g_free);
    }
    if (rollback) {
	ops->rollback(pl->store);
    } else if (ops->commit(pl->store, &why) != STORE_OK) {
	diag("commit: %s", why);
	g_free(why);
	return 0;
    }
    return good;
}

/* ticket_of - show_ticket() of mails[i]'s ticket in mailbox, or NULL */
static json_t *ticket_of(struct store *st, gsize i, const char *mailbox)
{
    json_t *list = NULL, *t = NULL, *row;
    char   *why = NULL;
    size_t  k;

    if (ctl_list_tickets(st, mailbox, NULL, 100, &list, &why) != STORE_OK) {
	diag("list tickets: %s", why);
	g_free(why);
	return NULL;
    }
    json_array_foreach(list, k, row) {
	if (strcmp(envelope_str(row, "title"), mails[i].subject) != 0)
	    continue;
	if (ctl_show_ticket(st, envelope_str(row, "number"), &t, &why) != STORE_OK) {
	    diag("show ticket: %s", why);
	    g_free(why);
	}
	break;
    }
    json_decref(list);
    return t;
}

/* check_tickets - every mail's ticket in each of its mailboxes shows what its row says */
static void check_tickets(struct store *st, const char *how)
{
    for (gsize i = 0; i < G_N_ELEMENTS(mails); i++) {
	const struct mail *m = &mails[i];

	for (int k = 0; k < 2 && m->mailboxes[k]; k++) {
	    g_autofree char *what = g_strdup_printf("%s: %s in %s", how, m->subject,
						    m->mailboxes[k]);
	    json_t *t = ticket_of(st, i, m->mailboxes[k]);

	    if (!ok(t != NULL, "%s: ticket made", what))
		continue;
	    is_str(envelope_str(t, "language"), m->language, "%s: language", what);
	    is_str(envelope_str(t, "tags"), m->tags, "%s: keyword tags", what);
	    is_str(envelope_str(t, "queue"), m->queue[k], "%s: queue", what);
	    is_str(envelope_str(t, "priority"), m->priority[k], "%s: priority", what);
	    /* The lexicon is English only: scored for English mail alone. */
	    if (strcmp(m->language, "en") == 0)
		ok(*envelope_str(t, "sentiment") != 0, "%s: sentiment %s", what,
		   envelope_str(t, "sentiment"));
	    else
		is_str(envelope_str(t, "sentiment"), "", "%s: no sentiment", what);
	    json_decref(t);
	}
    }
}

static GPtrArray *entries_of(const struct intake_config *cfg)
{
    GPtrArray *entries = g_ptr_array_new_with_free_func(queue_entry_free);

    for (gsize i = 0; i < G_N_ELEMENTS(mails); i++)
	g_ptr_array_add(entries, entry_of(cfg, i));
    return entries;
}

static void test_prepared(void)
{
    struct setup s;
    struct preparer *p;
    struct prepare_batch *b;
    g_autoptr(GPtrArray) entries = NULL;
    char   *why = NULL;

    if (!ok(setup_open(&s, "prepared"), "prepared: worker set up"))
	return;
    entries = entries_of(s.cfg);
    p = preparer_new(&s.pl, 2, &why);
    if (!ok(p != NULL, "two preparing threads start (%s)", why ? why : "ok")) {
	setup_close(&s);
	return;
    }
    b = prepare_batch_new(p, entries);
    is_int(run_batch(&s.pl, entries, b, TRUE), G_N_ELEMENTS(mails),
	   "prepared: every entry processed, then rolled back (store busy)");
    is_int(s.pl.tickets_created, 9,
	   "prepared: 9 tickets (3 mails to two mailboxes) before the rollback");
    is_int(run_batch(&s.pl, entries, b, FALSE), G_N_ELEMENTS(mails),
	   "prepared: the retry with the same preparations processes every entry");
    b = prepare_batch_free(b);
    check_tickets(s.pl.store, "prepared, retried");
    p = preparer_free(p);
    setup_close(&s);
}

static void test_unprepared(void)
{
    struct setup s;
    g_autoptr(GPtrArray) entries = NULL;

    if (!ok(setup_open(&s, "unprepared"), "unprepared: worker set up"))
	return;
    entries = entries_of(s.cfg);
    ok(prepare_batch_new(NULL, entries) == NULL, "no preparer: no batch");
    is_int(run_batch(&s.pl, entries, NULL, FALSE), G_N_ELEMENTS(mails),
	   "unprepared: every entry processed");
    check_tickets(s.pl.store, "unprepared");
    setup_close(&s);
}

/* A model of two categories (stems as libstemmer's English makes them) and three FAQ entries. */
static gboolean seed_category_faq(struct setup *s)
{
    static const struct store_model_row model[] = {
	{"access", NULL, 5}, {"access", "password", 20}, {"access", "log", 10},
	{"access", "reset", 10}, {"money", NULL, 5}, {"money", "invoic", 20},
	{"money", "refund", 10}, {"money", "factur", 10},
    };
    static const struct store_faq faq[] = {
	{"", "Resetting your password", NULL, "Use the reset link when your password is refused.",
	 NULL, NULL, NULL},
	{"", "Refunds", NULL, "A refund reaches your account within ten days.", NULL, NULL, NULL},
	{"", "Shipping", NULL, "Each parcel has a tracking number.", NULL, NULL, NULL},
    };
    struct store *st = s->pl.store;
    char   *why = NULL;
    gint64  id;

    for (gsize i = 0; i < G_N_ELEMENTS(faq); i++)
	if (st->ops->faq_put(st, &faq[i], &id, &why) != STORE_OK)
	    break;
    if (why == NULL)
	(void) st->ops->save_model(st, model, G_N_ELEMENTS(model), &why);
    if (why) {
	diag("  seed: %s", why);
	g_free(why);
	return FALSE;
    }
    s->cfg->faq_min_score = 0.1;
    s->pl.category = category_classifier_new();
    s->pl.faq = faq_memory_new();
    return TRUE;
}

/* suggestions - "category confidence-rounded | faq titles" of each mail's ticket in mailbox */
static char *suggestions(struct store *st, gsize i, const char *mailbox)
{
    json_t *t = ticket_of(st, i, mailbox), *f;
    GString *out = g_string_new(NULL);
    size_t  k;

    if (t == NULL)
	return g_string_free(out, FALSE);
    g_string_append_printf(out, "%s |", envelope_str(t, "category_suggested"));
    json_array_foreach(json_object_get(t, "faq"), k, f)
	g_string_append_printf(out, " %s;", envelope_str(f, "title"));
    json_decref(t);
    return g_string_free(out, FALSE);
}

static void test_category_faq(void)
{
    struct setup a, b;
    struct preparer *p = NULL;
    struct prepare_batch *batch;
    g_autoptr(GPtrArray) entries = NULL;
    char   *why = NULL;

    if (!ok(setup_open(&a, "catfaq-prepared") && seed_category_faq(&a)
	    && setup_open(&b, "catfaq-unprepared") && seed_category_faq(&b),
	    "category and FAQ: workers set up"))
	return;
    entries = entries_of(a.cfg);
    if ((p = preparer_new(&a.pl, 2, &why)) == NULL) {
	ok(0, "two preparing threads start: %s", why);
	g_free(why);
	return;
    }
    /* As batch_run(): the writer loads, then the threads read until the batch is freed. */
    classify_refresh(&a.pl);
    batch = prepare_batch_new(p, entries);
    a.pl.threads_reading = TRUE;
    is_int(run_batch(&a.pl, entries, batch, FALSE), G_N_ELEMENTS(mails),
	   "category and FAQ, prepared: every entry processed");
    batch = prepare_batch_free(batch);
    a.pl.threads_reading = FALSE;
    is_int(run_batch(&b.pl, entries, NULL, FALSE), G_N_ELEMENTS(mails),
	   "category and FAQ, unprepared: every entry processed");
    {
	g_autofree char *login = suggestions(a.pl.store, 1, "support");

	is_str(login, "access | Resetting your password;",
	       "the password mail: category access and the password FAQ, found by a thread");
    }
    for (gsize i = 0; i < G_N_ELEMENTS(mails); i++)
	for (int k = 0; k < 2 && mails[i].mailboxes[k]; k++) {
	    g_autofree char *with = suggestions(a.pl.store, i, mails[i].mailboxes[k]);
	    g_autofree char *without = suggestions(b.pl.store, i, mails[i].mailboxes[k]);

	    is_str(with, without, "%s in %s: the threads suggest what the writer does (%s)",
		   mails[i].subject, mails[i].mailboxes[k], with);
	}
    p = preparer_free(p);
    for (struct setup *s = &a; s; s = s == &a ? &b : NULL) {
	s->pl.category = category_classifier_free(s->pl.category);
	s->pl.faq = faq_memory_free(s->pl.faq);
	setup_close(s);
    }
}

/* An entry that does not decode, and a batch freed with every entry unread by the writer. */
static void test_failures(void)
{
    struct setup s;
    struct preparer *p;
    struct prepare_batch *b;
    g_autoptr(GPtrArray) entries = NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    struct queue_entry *bad;
    const struct prepared *pe, *first;
    char   *why = NULL;

    if (!ok(setup_open(&s, "failures"), "failures: worker set up"))
	return;
    g_ptr_array_add(fields, g_bytes_new("envelope", 8));
    g_ptr_array_add(fields, g_bytes_new("{not json", 9));
    bad = queue_entry_new("9-9", fields, s.cfg);
    entries = entries_of(s.cfg);
    g_ptr_array_add(entries, bad);
    p = preparer_new(&s.pl, 2, &why);
    b = prepare_batch_new(p, entries);
    pe = prepare_batch_wait(b, bad);
    ok(pe != NULL && pe->env == NULL && strstr(pe->why, "not JSON") != NULL,
       "an entry that does not decode is prepared as a failure (%s)", pe ? pe->why : "none");
    is_int(pipeline_entry(&s.pl, bad, pe, &why), PIPE_FAIL, "and the writer fails it");
    has_str(why, "not JSON", "with the reason");
    g_clear_pointer(&why, g_free);
    first = prepare_batch_wait(b, g_ptr_array_index(entries, 0));
    ok(first && first->jobs->len == 2, "a mail to two mailboxes is prepared as two jobs");
    b = prepare_batch_free(b);

    /* Freed at once, as after SIGTERM: it waits for the threads (ASan finds what leaks). */
    b = prepare_batch_new(p, entries);
    b = prepare_batch_free(b);
    ok(b == NULL, "a batch freed unread waits for its preparations");
    p = preparer_free(p);
    setup_close(&s);
}

int     main(void)
{
    g_autoptr(GError) err = NULL;

    envelope_init();
    umask(077);				/* as the worker: the store warns of readable files */
    tmpdir = g_dir_make_tmp("intake-test-prepare-XXXXXX", &err);
    if (tmpdir == NULL) {
	fprintf(stderr, "cannot make a temporary directory: %s\n", err->message);
	return 1;
    }
    test_prepared();
    test_unprepared();
    test_category_faq();
    test_failures();
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
