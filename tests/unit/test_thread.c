/*
 * NAME
 *	test_thread - unit tests of the threading rules
 * DESCRIPTION
 *	Table-driven, one table per rule:
 *	- msgid.c: an id we make verifies to its ticket number; a changed
 *	  number, random part or MAC, another secret, another format or an
 *	  overlong id does not; after a key rotation ids of the old secret
 *	  still verify, those of a secret rotated out do not; secret files
 *	  that group or others may read, or that are short, are refused; a
 *	  missing one is made with mode 0600.
 *	- thread_may_write(): strict, same_domain (free-mail domains never
 *	  count), open.
 *	- thread_on_closed(): reopen within reopen_days, new after,
 *	  reopen_days 0, new, refuse, and quiet mail that never reopens.
 *	- thread_is_thanks(): thank-yous in several languages with quotes
 *	  and signatures, and follow-ups that only begin with thanks.
 *	- subject_key() and subject_skip_prefixes(): the prefix table.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib.h>

#include "msgid.h"
#include "subject.h"
#include "thread_policy.h"
#include "tap.h"

/* ---------------------------------------------------------------- */
/*	msgid								    */
/* ---------------------------------------------------------------- */

static const char secret_a[] = "0123456789abcdef0123456789abcdef-a";
static const char secret_b[] = "0123456789abcdef0123456789abcdef-b";
static const char secret_c[] = "0123456789abcdef0123456789abcdef-c";

/* replace_at - a copy of id with the character at offset (from the end if < 0) changed */
static char *replace_at(const char *id, long offset)
{
    char   *s = g_strdup(id);
    size_t  i = offset < 0 ? strlen(s) + offset : (size_t) offset;

    s[i] = s[i] == '0' ? '1' : '0';
    return s;
}

static void test_msgid(void)
{
    struct msgid_keys *a = msgid_keys_new(secret_a, strlen(secret_a), NULL, 0);
    struct msgid_keys *b = msgid_keys_new(secret_b, strlen(secret_b), NULL, 0);
    struct msgid_keys *ba = msgid_keys_new(secret_b, strlen(secret_b), secret_a, strlen(secret_a));
    struct msgid_keys *cb = msgid_keys_new(secret_c, strlen(secret_c), secret_b, strlen(secret_b));
    g_autofree char *id = msgid_make(a, "INT-2026-000123", "example.com");
    g_autofree char *id2 = msgid_make(a, "INT-2026-000123", "example.com");
    g_autofree char *dotted = msgid_make(a, "A.B+-2026-000007", "example.com");
    g_autofree char *number = NULL;
    g_autofree char *filler = g_strnfill(400, 'x');
    const char *at = strchr(id, '@');
    const struct {
	const char *what;
	char   *id;			/* g_free */
    } forged[] = {
	{"another ticket number, same MAC",
	    g_strdup_printf("i1.INT-2026-000124%s", strchr(id + 3, '.'))},
	{"a changed random part", replace_at(id, (long) (at - id) - 33)},
	{"a changed MAC", replace_at(id, (long) (at - id) - 1)},
	{"upper-case MAC", g_ascii_strup(id, (gssize) (at - id))},
	{"another version", g_strdup_printf("i2%s", id + 2)},
	{"no MAC", g_strndup(id, (gsize) (at - id) - 33)},
	{"not ours at all", g_strdup("CAF1234@mail.gmail.com")},
	{"empty", g_strdup("")},
	{"overlong", g_strdup_printf("%s%s", id, filler)},
    };

    ok(id != NULL && g_str_has_prefix(id, "i1.INT-2026-000123.") && g_str_has_suffix(id, "@example.com"),
       "msgid_make: i1.NUMBER.RANDOM.MAC@DOMAIN (%s)", id);
    ok(g_strcmp0(id, id2) != 0, "msgid_make: two ids of one ticket differ");
    number = msgid_verify(a, id);
    is_str(number, "INT-2026-000123", "msgid_verify: our id names its ticket");
    g_free(number);
    number = msgid_verify(a, dotted);
    is_str(number, "A.B+-2026-000007", "msgid_verify: a prefix with '.' and '+'");
    g_clear_pointer(&number, g_free);
    ok(msgid_make(a, "INT 2026", "x.test") == NULL, "msgid_make: a number with a space: none");
    ok(msgid_make(NULL, "INT-2026-000001", "x.test") == NULL, "msgid_make: no keys: none");
    for (gsize i = 0; i < G_N_ELEMENTS(forged); i++) {
	number = msgid_verify(a, forged[i].id);
	ok(number == NULL, "msgid_verify: %s is refused", forged[i].what);
	g_clear_pointer(&number, g_free);
	g_free(forged[i].id);
    }
    ok(msgid_verify(b, id) == NULL, "msgid_verify: another secret refuses it");
    number = msgid_verify(ba, id);
    is_str(number, "INT-2026-000123", "rotation: the previous secret still verifies");
    g_clear_pointer(&number, g_free);
    {
	g_autofree char *new_id = msgid_make(ba, "INT-2026-000200", "example.com");

	number = msgid_verify(cb, new_id);
	is_str(number, "INT-2026-000200", "rotation: an id of the now previous secret verifies");
	g_clear_pointer(&number, g_free);
    }
    ok(msgid_verify(cb, id) == NULL, "rotation: an id of a secret rotated out is refused");
    ok(msgid_verify(NULL, id) == NULL, "msgid_verify: no keys: nothing verifies");
    msgid_keys_free(a);
    msgid_keys_free(b);
    msgid_keys_free(ba);
    msgid_keys_free(cb);
}

static void test_msgid_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("test_thread.XXXXXX", NULL);
    g_autofree char *made = g_build_filename(dir, "made.key", NULL);
    g_autofree char *open_file = g_build_filename(dir, "open.key", NULL);
    g_autofree char *short_file = g_build_filename(dir, "short.key", NULL);
    g_autofree char *nodir = g_build_filename(dir, "no/such/dir.key", NULL);
    struct msgid_keys *k;
    struct stat sb;
    char   *why = NULL;

    k = msgid_keys_load(made, NULL, TRUE, &why);
    ok(k != NULL, "msgid_keys_load: a missing secret is made (%s)", why ? why : "");
    ok(stat(made, &sb) == 0 && (sb.st_mode & 0777) == 0600, "the secret made has mode 0600");
    ok(sb.st_size == 65, "the secret made is 64 hex digits and a newline");
    {
	struct msgid_keys *again = msgid_keys_load(made, NULL, FALSE, &why);
	g_autofree char *id = msgid_make(k, "INT-2026-000001", "x.test");
	g_autofree char *n = msgid_verify(again, id);

	is_str(n, "INT-2026-000001", "the secret read again verifies what the first made");
	msgid_keys_free(again);
    }
    msgid_keys_free(k);

    g_file_set_contents(open_file, "0123456789abcdef0123456789abcdef0123", -1, NULL);
    chmod(open_file, 0644);
    ok(msgid_keys_load(open_file, NULL, FALSE, &why) == NULL && why
       && strstr(why, "chmod 600"), "a secret others may read is refused: %s", why);
    g_clear_pointer(&why, g_free);
    ok(msgid_key_check(open_file, TRUE, &why) < 0, "msgid_key_check: refused as well");
    g_clear_pointer(&why, g_free);
    ok(msgid_keys_load(made, open_file, FALSE, &why) == NULL,
       "a previous secret others may read is refused too");
    g_clear_pointer(&why, g_free);

    g_file_set_contents(short_file, "  short secret \n", -1, NULL);
    chmod(short_file, 0600);
    ok(msgid_keys_load(short_file, NULL, TRUE, &why) == NULL && why
       && strstr(why, "must be 32 to 4096 bytes, not 12"), "a short secret is refused: %s", why);
    g_clear_pointer(&why, g_free);

    ok(msgid_key_check(made + 0, FALSE, &why) == 0, "msgid_key_check: a good secret passes");
    unlink(made);
    ok(msgid_key_check(made, TRUE, &why) == 0, "msgid_key_check: missing, its directory exists: OK");
    ok(msgid_key_check(made, FALSE, &why) < 0 && why && strstr(why, "No such file"),
       "msgid_key_check: missing and required (the previous secret): %s", why);
    g_clear_pointer(&why, g_free);
    ok(msgid_key_check(nodir, TRUE, &why) < 0 && why && strstr(why, "does not exist"),
       "msgid_key_check: missing, no directory to make it in: %s", why);
    g_clear_pointer(&why, g_free);
    ok(msgid_keys_load(nodir, NULL, TRUE, &why) == NULL && why,
       "msgid_keys_load: cannot make it: %s", why);
    g_clear_pointer(&why, g_free);
    tap_remove_tree(dir);
}

/* ---------------------------------------------------------------- */
/*	thread_may_write						    */
/* ---------------------------------------------------------------- */

static void test_trust(void)
{
    const char *const company[] = {"alice@acme.test", "bob@acme.test", NULL};
    const char *const freemail[] = {"carol@gmail.com", NULL};
    const char *const none[] = {NULL};
    const struct {
	const char *trust;
	const char *sender;
	const char *const *parties;
	gboolean want;
    } cases[] = {
	{"strict", "alice@acme.test", company, TRUE},
	{"strict", "ALICE@Acme.Test", company, TRUE},		/* case */
	{"strict", "mallory@evil.test", company, FALSE},
	{"strict", "carl@acme.test", company, FALSE},		/* colleague: not strict */
	{"strict", "", company, FALSE},
	{"strict", NULL, company, FALSE},
	{"strict", "alice@acme.test", none, FALSE},
	{"same_domain", "carl@acme.test", company, TRUE},
	{"same_domain", "carl@ACME.test", company, TRUE},
	{"same_domain", "carl@sub.acme.test", company, FALSE},	/* not the same domain */
	{"same_domain", "mallory@evil.test", company, FALSE},
	{"same_domain", "dave@gmail.com", freemail, FALSE},	/* free mail never counts */
	{"same_domain", "carol@gmail.com", freemail, TRUE},	/* the party herself */
	{"same_domain", "mallory@acme.test.evil.test", company, FALSE},
	{"open", "mallory@evil.test", company, TRUE},
	{"open", "mallory@evil.test", none, TRUE},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	const char *why = NULL;
	gboolean got = thread_may_write(cases[i].trust, cases[i].sender, cases[i].parties, &why);

	ok(got == cases[i].want && why != NULL, "thread_may_write(%s, %s): %s (%s)",
	   cases[i].trust, cases[i].sender ? cases[i].sender : "NULL",
	   cases[i].want ? "may" : "may not", why);
    }
    ok(thread_freemail_domain("GMAIL.com") && !thread_freemail_domain("acme.test"),
       "thread_freemail_domain: gmail.com yes (any case), acme.test no");
}

/* ---------------------------------------------------------------- */
/*	thread_on_closed						    */
/* ---------------------------------------------------------------- */

static void test_closed(void)
{
    const gint64 now = 1800000000, day = 86400;
    const struct {
	const char *policy;
	int     days;
	gint64  closed_ago;		/* seconds; -1: closed_at unknown */
	gboolean quiet;
	enum closed_action want;
    } cases[] = {
	{"reopen", 30, 1 * day, FALSE, CLOSED_REOPEN},
	{"reopen", 30, 30 * day - 1, FALSE, CLOSED_REOPEN},
	{"reopen", 30, 30 * day, FALSE, CLOSED_NEW},
	{"reopen", 30, 400 * day, FALSE, CLOSED_NEW},
	{"reopen", 30, -1, FALSE, CLOSED_REOPEN},
	{"reopen", 0, 1, FALSE, CLOSED_NEW},			/* 0: never reopen */
	{"reopen", 30, 1 * day, TRUE, CLOSED_KEEP},		/* thanks / out-of-office */
	{"reopen", 30, 400 * day, TRUE, CLOSED_KEEP},
	{"new", 30, 1, FALSE, CLOSED_NEW},
	{"new", 30, 1, TRUE, CLOSED_KEEP},
	{"refuse", 30, 1, FALSE, CLOSED_REFUSE},
	{"refuse", 30, 400 * day, FALSE, CLOSED_REFUSE},
	{"refuse", 30, 1, TRUE, CLOSED_KEEP},
    };
    static const char *const names[] = {"REOPEN", "KEEP", "NEW", "REFUSE"};

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	const char *why = NULL;
	gint64  closed_at = cases[i].closed_ago < 0 ? 0 : now - cases[i].closed_ago;
	enum closed_action got = thread_on_closed(cases[i].policy, cases[i].days, closed_at, now,
						  cases[i].quiet, &why);

	is_str(names[got], names[cases[i].want], "on_closed=%s reopen_days=%d closed %" G_GINT64_FORMAT
	       "s ago%s (%s)", cases[i].policy, cases[i].days, cases[i].closed_ago,
	       cases[i].quiet ? ", quiet" : "", why);
    }
}

/* ---------------------------------------------------------------- */
/*	thread_is_thanks						    */
/* ---------------------------------------------------------------- */

static void test_thanks(void)
{
    const struct {
	const char *text;
	gboolean want;
    } cases[] = {
	{"Thanks!", TRUE},
	{"thank you", TRUE},
	{"Thank you very much for your help!\n\nBest regards,\nBob", TRUE},
	{"Danke!\n\nMit freundlichen Grüßen\nErika Mustermann", TRUE},
	{"Vielen Dank", TRUE},
	{"Merci beaucoup", TRUE},
	{"Tak", TRUE},
	{"Tusen takk!", TRUE},
	{"Tack så mycket", TRUE},
	{"¡Muchas gracias!", TRUE},
	{"Dank je wel", TRUE},
	{"Dziękuję bardzo", TRUE},
	{"DZIĘKUJĘ", TRUE},
	{"Thanks!\n\nOn Tue, 1 Dec 2026, Support wrote:\n> Your ticket INT-2026-000001 is solved.\n> Please tell us whether the printer works again, we hope so.\n", TRUE},
	{"Thanks\n-- \nBob Smith\nACME Corp, 1 Long Street, Springfield, phone 555 1234 5678 9\n", TRUE},
	{"Thanks.\n\n-----Original Message-----\nFrom: Support\nSubject: your ticket is closed and this is long text\n", TRUE},
	{"Thanks, but it still does not work.", FALSE},
	{"Thanks. Can you also look at the scanner?", FALSE},
	{"Danke, aber der Drucker geht noch nicht.", FALSE},
	{"Merci, mais ça ne marche pas", FALSE},
	{"Thanks for fixing the printer. Now the scanner in room 5 is broken too, please help.", FALSE},
	{"The printer is broken again.", FALSE},
	{"", FALSE},
	{"> Thanks!\n", FALSE},					/* only a quote */
	{"Hello", FALSE},
	{"Thanksgiving plans", FALSE},				/* not the word */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	g_autofree char *shown = g_strescape(cases[i].text, "");

	ok(thread_is_thanks(cases[i].text) == cases[i].want, "thread_is_thanks(\"%.60s\"): %s",
	   shown, cases[i].want ? "yes" : "no");
    }
    {
	/* Long text: decided after THANKS_MAX_WORDS + 1 words, in linear time. */
	GString *s = g_string_new("Thanks ");

	for (int i = 0; i < 200000; i++)
	    g_string_append(s, "word ");
	ok(!thread_is_thanks(s->str), "thread_is_thanks: 200000 words: no");
	g_string_free(s, TRUE);
    }
}

/* ---------------------------------------------------------------- */
/*	subject_key, subject_skip_prefixes				    */
/* ---------------------------------------------------------------- */

static void test_subject(void)
{
    const struct {
	const char *subject;
	const char *key;
    } cases[] = {
	{"Printer on fire", "printer on fire"},
	{"Re: Printer on fire", "printer on fire"},
	{"RE: re: Fwd: Printer   on\tfire ", "printer on fire"},
	{"AW: WG: Drucker brennt", "drucker brennt"},
	{"SV: VS: Skrivaren", "skrivaren"},
	{"Odp: PD: Drukarka", "drukarka"},
	{"TR: Réf: Imprimante", "imprimante"},
	{"Antw: Printer", "printer"},
	{"Rif: R: Stampante", "stampante"},
	{"RV: Enc: Impresora", "impresora"},
	{"Re[2]: Printer", "printer"},
	{"AW : Printer", "printer"},
	{"回复：打印机", "打印机"},
	{"答复: 转发: 打印机", "打印机"},
	{"Rework: the plan", "rework: the plan"},		/* a word, not a prefix */
	{"Reply needed", "reply needed"},
	{"Re:", ""},
	{"", ""},
	{"PRINTER ON FIRE", "printer on fire"},
	{"Stra\xc3\x9f" "e", "strasse"},			/* case folding: ß */
	{"Re:\xc2\xa0Printer\xe2\x80\x83on fire", "printer on fire"},	/* Unicode spaces */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	g_autofree char *got = subject_key(cases[i].subject);

	is_str(got, cases[i].key, "subject_key(\"%s\")", cases[i].subject);
    }
    is_str(subject_skip_prefixes("Re: AW: Fwd: x"), "x", "subject_skip_prefixes");
    is_str(subject_skip_prefixes(NULL), "", "subject_skip_prefixes(NULL)");
    {
	/* "Re: " 100000 times: linear. */
	GString *s = g_string_new(NULL);
	g_autofree char *got = NULL;

	for (int i = 0; i < 100000; i++)
	    g_string_append(s, "Re: ");
	g_string_append(s, "x");
	got = subject_key(s->str);
	is_str(got, "x", "subject_key: 100000 prefixes");
	g_string_free(s, TRUE);
    }
}

int     main(void)
{
    test_msgid();
    test_msgid_files();
    test_trust();
    test_closed();
    test_thanks();
    test_subject();
    return tap_done();
}
