/*
 * NAME
 *	test_lang - unit tests of worker/classify_lang.c
 * DESCRIPTION
 *	Part one, table-driven: support mails written for this test in each
 *	language of the default [worker] languages are recognised; texts that
 *	must get no verdict (short, Chinese, base64, invalid UTF-8, NUL
 *	bytes) get none; only the first LANG_MAX_BYTES are read (a German
 *	start followed by megabytes of English is German); quoted history
 *	and a signature in another language do not decide (classify_lang()
 *	on a job); a language without a fingerprint is an error naming it;
 *	several threads detecting at once (more than LANG_HANDLES, so that
 *	some wait for a handle) get the verdicts one thread gets.
 *
 *	Part two runs the text of every message listed in
 *	tests/unit/lang_corpus.tsv (the corpus, $INTAKE_CORPUS, default
 *	../shared/corpus; languages read by a person) through
 *	envelope_build(), quote_own_lines() and lang_detect(), prints the
 *	tally (right, wrong, abstained) and each miss, and fails when more
 *	than LANG_CORPUS_MAX_WRONG verdicts are wrong.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "classify_lang.h"
#include "envelope.h"
#include "job.h"
#include "quote.h"
#include "tap.h"

/* Wrong verdicts allowed on the corpus: a kernel patch read as French is one. */
#define LANG_CORPUS_MAX_WRONG 2

static const char *const languages[] = {
    "de", "en", "da", "fr", "nl", "sv", "nb", "pl", "es", "it", NULL,
};

static const struct {
    const char *lang;
    const char *text;
} samples[] = {
    {"de", "Guten Tag,\n\nleider fehlt uns noch die Rechnung 2026-117 für die Lieferung vom"
     " letzten Monat. Können Sie uns diese bitte noch einmal zusenden?\n\nMit freundlichen"
     " Grüßen\nMax Mustermann"},
    {"en", "Hello,\n\nwe still have not received the invoice for last month's delivery. Could"
     " you please send it to us again? Thank you very much.\n\nBest regards\nJane"},
    {"da", "Hej,\n\nvi mangler stadig fakturaen for leveringen i sidste måned. Vil I være"
     " søde at sende den til os igen? På forhånd tak.\n\nMed venlig hilsen\nJens Hansen"},
    {"fr", "Bonjour,\n\nnous n'avons toujours pas reçu la facture de la livraison du mois"
     " dernier. Pourriez-vous nous la renvoyer, s'il vous plaît ? Merci beaucoup.\n\n"
     "Cordialement,\nMarie Dupont"},
    {"nl", "Goedendag,\n\nwij hebben de factuur voor de levering van vorige maand nog steeds"
     " niet ontvangen. Kunt u deze alstublieft nogmaals naar ons sturen? Alvast"
     " bedankt.\n\nMet vriendelijke groet,\nJan de Vries"},
    {"sv", "Hej,\n\nvi har fortfarande inte fått fakturan för förra månadens leverans. Kan ni"
     " vara snälla och skicka den till oss igen? Tack på förhand.\n\nMed vänliga"
     " hälsningar\nAnna Svensson"},
    {"nb", "Hei,\n\nvi har fortsatt ikke mottatt fakturaen for leveransen forrige måned. Kan"
     " dere være så snill å sende den til oss igjen? Takk på forhånd.\n\nMed vennlig"
     " hilsen\nOla Nordmann"},
    {"pl", "Dzień dobry,\n\nnadal nie otrzymaliśmy faktury za dostawę z zeszłego miesiąca."
     " Czy mogliby Państwo przesłać ją nam ponownie? Z góry dziękuję.\n\nZ poważaniem\nJan"
     " Kowalski"},
    {"es", "Hola,\n\ntodavía no hemos recibido la factura de la entrega del mes pasado. ¿Podrían"
     " enviárnosla de nuevo, por favor? Muchas gracias de antemano.\n\nSaludos cordiales\n"
     "María García"},
    {"de", "Guten Tag, mir fehlt die Rechnung 2026-117. Anbei der Beleg."},	/* make demo */
    {"it", "Buongiorno,\n\nnon abbiamo ancora ricevuto la fattura della consegna del mese"
     " scorso. Potreste inviarcela di nuovo, per favore? Grazie mille in anticipo.\n\n"
     "Cordiali saluti\nMario Rossi"},
};

static const struct {
    const char *what;
    const char *text;
    gssize  len;			/* -1: strlen */
} no_verdict[] = {
    {"empty", "", -1},
    {"short", "Danke!", -1},
    {"short with a long signature of numbers", "Ok.\n 0123456789 0123456789 0123456789 "
     "0123456789 0123456789", -1},
    {"Chinese", "您好，这封信如果影响到您的生活和工作，我们向您诚恳的道歉。您回复此邮箱即可"
     "退订。我们的产品质量很好，价格便宜，欢迎您的光临。", -1},
    {"base64", "UEsDBBQAAAAIAAAAIQDfpNJsWgEAACAFAAATAAgCW0NvbnRlbnRfVHlwZXNdLnhtbCCiBAIooAAC\n"
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", -1},
    {"invalid UTF-8 at once", "\xff\xfe Guten Tag, leider fehlt uns noch die Rechnung für"
     " die Lieferung vom letzten Monat.", -1},
    {"NUL at once", "\0Guten Tag, leider fehlt uns noch die Rechnung für die Lieferung vom"
     " letzten Monat.", 80},
};

static void test_samples(struct lang_detector *ld)
{
    for (gsize i = 0; i < G_N_ELEMENTS(samples); i++) {
	const char *t = samples[i].text;

	/*
	 * Norwegian Bokmål reads as "[da][nn][nb]" to textcat: the mailbox's
	 * language decides among near-equals, a Norwegian mailbox's mail is nb.
	 */
	if (strcmp(samples[i].lang, "nb") == 0) {
	    is_str(lang_detect(ld, t, strlen(t), "nb"), "nb", "sample nb, mailbox nb");
	    is_str(lang_detect(ld, t, strlen(t), NULL), "da", "sample nb, no preference: da"
		   " (the nearest; a limit of n-gram profiles)");
	    continue;
	}
	is_str(lang_detect(ld, t, strlen(t), NULL), samples[i].lang, "sample %s", samples[i].lang);
	/* A preference does not overrule a clear verdict. */
	is_str(lang_detect(ld, t, strlen(t), strcmp(samples[i].lang, "en") ? "en" : "de"),
	       samples[i].lang, "sample %s, mailbox of another language", samples[i].lang);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(no_verdict); i++) {
	const char *t = no_verdict[i].text;

	is_str(lang_detect(ld, t, no_verdict[i].len < 0 ? strlen(t) : (size_t) no_verdict[i].len,
			   NULL), NULL, "no verdict: %s", no_verdict[i].what);
    }
    ok(lang_detect(NULL, samples[0].text, strlen(samples[0].text), NULL) == NULL,
       "no detector: no verdict");
    ok(lang_detect(ld, NULL, 0, NULL) == NULL, "no text: no verdict");
}

/*
 * Only the first LANG_MAX_BYTES count, cut at a character: linear, bounded;
 * and of them only the first LANG_FIRST_BYTES when those are clear.
 */
static void test_bounded(struct lang_detector *ld)
{
    GString *s = g_string_new(NULL);

    while (s->len < LANG_MAX_BYTES - 1)
	g_string_append(s, "Die Rechnung für März fehlt. Bitte schicken Sie sie uns. ");
    g_string_truncate(s, LANG_MAX_BYTES - 1);
    g_string_append(s, "ü");			/* a character across the limit */
    while (s->len < 8 * 1024 * 1024)
	g_string_append(s, "The invoice is missing, please send it again to us. ");
    is_str(lang_detect(ld, s->str, s->len, NULL), "de",
	   "8 MB: the first %d bytes decide", LANG_MAX_BYTES);
    g_string_free(s, TRUE);

    /* A clear verdict on the first LANG_FIRST_BYTES is the verdict: what follows is not read. */
    s = g_string_new(NULL);
    while (s->len < LANG_FIRST_BYTES + 64)
	g_string_append(s, "Die Rechnung für März fehlt. Bitte schicken Sie sie uns. ");
    while (s->len < LANG_MAX_BYTES)
	g_string_append(s, "The invoice is missing, please send it again to us. ");
    is_str(lang_detect(ld, s->str, s->len, NULL), "de",
	   "German head, English tail: the first %d bytes decide", LANG_FIRST_BYTES);
    g_string_free(s, TRUE);

    /*
     * A doubtful one reads on: Norwegian, which textcat finds about as
     * Danish, for the head, then German up to LANG_MAX_BYTES.
     */
    s = g_string_new(NULL);
    while (s->len < LANG_FIRST_BYTES + 64)
	g_string_append(s, "Vi har fortsatt ikke mottatt fakturaen for leveransen forrige"
			" måned. Kan dere være så snill å sende den til oss igjen? ");
    ok(lang_detect(ld, s->str, LANG_FIRST_BYTES, NULL) != NULL
       && strcmp(lang_detect(ld, s->str, LANG_FIRST_BYTES, "nb"), "nb") == 0
       && strcmp(lang_detect(ld, s->str, LANG_FIRST_BYTES, "da"), "da") == 0,
       "Norwegian head alone: a doubtful verdict (da or nb, as the mailbox prefers)");
    while (s->len < LANG_MAX_BYTES)
	g_string_append(s, "Die Rechnung für März fehlt. Bitte schicken Sie sie uns. ");
    is_str(lang_detect(ld, s->str, s->len, NULL), "de",
	   "Norwegian head, German tail: a doubtful head reads on to %d bytes", LANG_MAX_BYTES);
    g_string_free(s, TRUE);
}

/* classify_lang() on a job: quotes and signature do not count, the mailbox's language stands in. */
static void test_job(struct lang_detector *ld)
{
    static const struct {
	const char *what;
	const char *text;
	const char *mailbox_lang;
	const char *want;
    } cases[] = {
	{"German mail to an English mailbox", "Guten Tag,\n\nleider fehlt uns noch die Rechnung"
	 " 2026-117. Können Sie sie uns bitte noch einmal schicken?\n\nDanke", "en", "de"},
	{"German reply above English history", "Vielen Dank, die Rechnung ist jetzt da und alles"
	 " ist in Ordnung.\n\nOn Tue, 1 Dec 2026 at 10:00, Support <s@example.com> wrote:\n"
	 "> Hello, thank you for writing to us. Your message has been received and filed as"
	 " ticket INT-2026-000001. We will answer as soon as we can. If you write to us about"
	 " the same matter again, please keep the number in the subject.\n", "en", "de"},
	{"short reply above German history", "OK, thanks!\n\nAm 01.12.26 um 10:00 schrieb"
	 " Support:\n> Guten Tag, vielen Dank für Ihre Nachricht. Sie ist eingegangen und wird"
	 " unter der Ticketnummer INT-2026-000001 bearbeitet. Wir antworten so bald wie"
	 " möglich.\n", "fr", "fr"},
	{"English with a long German signature", "Hello, the invoice for March is missing, could"
	 " you please send it to us again? Thank you.\n-- \nMit freundlichen Grüßen, Ihr Team der"
	 " Beispiel GmbH, Geschäftsführer: Max Mustermann, Amtsgericht Berlin\n", "de", "en"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	struct pipeline pl = {0};
	struct job job = {0};
	json_t *env = json_pack("{ss}", "text", cases[i].text);

	pl.lang = ld;
	job.pl = &pl;
	job.env = env;
	job.qid = "TEST";
	job.language = cases[i].mailbox_lang;
	classify_lang(&job);
	is_str(job.language, cases[i].want, "classify_lang: %s", cases[i].what);
	json_decref(env);
    }
}

/* Threads at once: each detects every sample LANG_THREAD_ROUNDS times. */
#define LANG_THREADS (2 * LANG_HANDLES)
#define LANG_THREAD_ROUNDS 20

struct lang_thread {
    struct lang_detector *ld;
    const char *want[G_N_ELEMENTS(samples)];	/* one thread's verdicts */
    int     wrong;
};

static gpointer lang_thread_main(gpointer data)
{
    struct lang_thread *lt = data;

    for (int r = 0; r < LANG_THREAD_ROUNDS; r++)
	for (gsize i = 0; i < G_N_ELEMENTS(samples); i++) {
	    const char *got = lang_detect(lt->ld, samples[i].text, strlen(samples[i].text), "nb");

	    if (g_strcmp0(got, lt->want[i]) != 0)
		g_atomic_int_inc(&lt->wrong);
	}
    return NULL;
}

static void test_threads(struct lang_detector *ld)
{
    struct lang_thread lt = {.ld = ld};
    GThread *th[LANG_THREADS];

    for (gsize i = 0; i < G_N_ELEMENTS(samples); i++)
	lt.want[i] = lang_detect(ld, samples[i].text, strlen(samples[i].text), "nb");
    for (int t = 0; t < LANG_THREADS; t++)
	th[t] = g_thread_new("lang", lang_thread_main, &lt);
    for (int t = 0; t < LANG_THREADS; t++)
	g_thread_join(th[t]);
    is_int(lt.wrong, 0, "%d threads detecting at once (%d handles): the verdicts of one thread",
	   LANG_THREADS, LANG_HANDLES);
}

static void test_errors(void)
{
    static const char *const bad[] = {"de", "xx", NULL};
    static const char *const slash[] = {"../de", NULL};
    static const char *const none[] = {NULL};
    char   *why = NULL;

    ok(lang_detector_new(bad, TEXTCAT_DATADIR, &why) == NULL, "unknown language: no detector");
    has_str(why, "xx.lm", "unknown language: the error names its file");
    g_free(why);
    ok(lang_detector_new(slash, TEXTCAT_DATADIR, &why) == NULL, "a '/' in a code is refused");
    g_free(why);
    ok(lang_detector_new(languages, "/nonexistent", &why) == NULL, "missing data directory");
    has_str(why, "/nonexistent/de.lm", "missing data directory: named");
    g_free(why);
    ok(lang_detector_new(none, TEXTCAT_DATADIR, &why) == NULL && why == NULL,
       "no languages: no detector, no error");
    ok(lang_detector_free(NULL) == NULL, "lang_detector_free(NULL)");
}

static void test_corpus(struct lang_detector *ld)
{
    static const char *const rcpts[] = {"support@example.com"};
    static const struct mailbox mb = {.name = "support", .address = "support@example.com",
	.active = TRUE};
    static const struct mailbox *const matched[] = {&mb};
    static const char *const raw_headers[] = {NULL};
    struct envelope_limits lim = {.max_text = 1024 * 1024, .max_raw = 10 * 1024 * 1024,
	.max_attachments = 250, .raw_headers = raw_headers};
    const char *dir = g_getenv("INTAKE_CORPUS");
    g_autofree char *list = NULL;
    g_auto(GStrv) lines = NULL;
    int     right = 0, wrong = 0, abstained = 0, files = 0;
    GHashTable *by_lang = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    if (dir == NULL || *dir == 0)
	dir = "../shared/corpus";
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
	skip("corpus not found (%s)", dir);
	g_hash_table_destroy(by_lang);
	return;
    }
    if (!ok(g_file_get_contents("tests/unit/lang_corpus.tsv", &list, NULL, NULL),
	    "tests/unit/lang_corpus.tsv reads")) {
	g_hash_table_destroy(by_lang);
	return;
    }
    envelope_init();
    lines = g_strsplit(list, "\n", -1);
    for (char **l = lines; *l; l++) {
	g_auto(GStrv) f = NULL;
	g_autofree char *path = NULL;
	g_autofree char *raw = NULL;
	char    own[LANG_MAX_BYTES];
	const char *text, *got;
	gsize   len;
	size_t  n;
	json_t *env;
	int    *counts;

	if (**l == '#' || **l == 0)
	    continue;
	f = g_strsplit(*l, "\t", 3);
	if (f[0] == NULL || f[1] == NULL)
	    continue;
	path = g_build_filename(dir, f[0], NULL);
	if (!g_file_get_contents(path, &raw, &len, NULL)) {
	    diag("%s: cannot read", path);
	    wrong++;
	    continue;
	}
	{
	    struct envelope_input in = {.queue_id = "TEST", .sender = "a@example.org",
		.recipients = rcpts, .matched = matched, .n_recipients = 1, .raw = raw,
		.raw_len = len, .message_size = len};

	    env = envelope_build(&in, &lim);
	}
	text = envelope_str(env, "text");
	n = quote_own_lines(text, strlen(text), own, sizeof(own));
	got = lang_detect(ld, own, n, NULL);
	files++;
	if ((counts = g_hash_table_lookup(by_lang, f[1])) == NULL) {
	    counts = g_new0(int, 3);
	    g_hash_table_insert(by_lang, g_strdup(f[1]), counts);
	}
	if (got == NULL && strcmp(f[1], "none") != 0) {
	    abstained++;
	    counts[2]++;
	} else if ((got == NULL && strcmp(f[1], "none") == 0) || (got && strcmp(got, f[1]) == 0)) {
	    right++;
	    counts[0]++;
	} else {
	    wrong++;
	    counts[1]++;
	    diag("miss: %s: is %s, detected %s", f[0], f[1], got ? got : "nothing");
	}
	json_decref(env);
    }
    {
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, by_lang);
	while (g_hash_table_iter_next(&it, &k, &v)) {
	    int    *c = v;

	    diag("corpus %s: %d right, %d wrong, %d without verdict (short)", (char *) k, c[0],
		 c[1], c[2]);
	}
    }
    diag("corpus: %d messages: %d right, %d wrong, %d without verdict; of the verdicts"
	 " given %.1f%% right", files, right, wrong, abstained,
	 right + wrong ? 100.0 * right / (right + wrong) : 0.0);
    ok(files > 100, "corpus: %d messages read", files);
    ok(wrong <= LANG_CORPUS_MAX_WRONG, "corpus: at most %d wrong verdicts (%d)",
       LANG_CORPUS_MAX_WRONG, wrong);
    g_hash_table_destroy(by_lang);
}

int     main(void)
{
    char   *why = NULL;
    struct lang_detector *ld = lang_detector_new(languages, TEXTCAT_DATADIR, &why);

    if (!ok(ld != NULL, "detector loads (%s)", why ? why : "ok"))
	return tap_done();
    test_samples(ld);
    test_bounded(ld);
    test_job(ld);
    test_threads(ld);
    test_errors();
    test_corpus(ld);
    lang_detector_free(ld);
    return tap_done();
}
