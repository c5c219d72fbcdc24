/*
 * NAME
 *	test_quote - unit tests of worker/quote.c
 * DESCRIPTION
 *	Table-driven: the new text quote_new_text() finds in replies as the
 *	mail programs write them (Gmail, Outlook in English and German,
 *	Apple Mail, Thunderbird, Danish, Norwegian, Swedish, Polish and
 *	French attribution lines, our own "##- ... -##" marker, "-- "
 *	signatures, trailing "> " blocks) and in texts that must stay whole
 *	(an inline reply, a forwarded message, a mail of quotes only, "From"
 *	in a sentence, a "Subject:" line of a form). quote_own_lines() on
 *	bottom-posted and inline replies. Hostile input: NUL bytes, no
 *	newline, an attribution prefix repeated over a megabyte, a million
 *	"From:" lines (time is linear: a quadratic scan would not finish
 *	within the test's timeout under ASan).
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "quote.h"
#include "tap.h"

static const struct {
    const char *what;
    const char *text;
    const char *want;			/* the new text */
    enum quote_cut how;
} cases[] = {
    {"gmail en", "Thanks, it works now.\n\nOn Tue, 1 Dec 2026 at 10:00, Support"
     " <support@example.com> wrote:\n> Hello Ann,\n> thank you\n",
     "Thanks, it works now.", QUOTE_ATTRIBUTION},
    {"gmail en, wrapped attribution", "Still broken.\n\nOn Tue, 1 Dec 2026 at 10:00,"
     " Support Team of Example\n<support@example.com> wrote:\n\n> Hello\n",
     "Still broken.", QUOTE_ATTRIBUTION},
    {"apple mail", "Yes.\r\n\r\n> On 1 Dec 2026, at 10:00, Support <s@example.com> wrote:\r\n"
     "> \r\n> Hello\r\n", "Yes.", QUOTE_TRAILING},
    {"apple mail, unquoted attribution", "Yes please.\n\nOn 1 Dec 2026, at 10:00, Support"
     " <s@example.com> wrote:\n\n> Hello\n", "Yes please.", QUOTE_ATTRIBUTION},
    {"thunderbird en", "See attached.\n\nOn 01.12.26 10:00, Support wrote:\n> Hi\n",
     "See attached.", QUOTE_ATTRIBUTION},
    {"thunderbird de", "Danke!\n\nAm 01.12.26 um 10:00 schrieb Support:\n> Hallo\n",
     "Danke!", QUOTE_ATTRIBUTION},
    {"gmail de, wrapped", "Die Rechnung fehlt immer noch.\n\nAm Di., 1. Dez. 2026 um 10:00"
     " Uhr schrieb Support <\nsupport@example.com>:\n> Guten Tag\n",
     "Die Rechnung fehlt immer noch.", QUOTE_ATTRIBUTION},
    {"danish", "Tak for svaret.\n\nDen 1. dec. 2026 kl. 10.00 skrev Support"
     " <s@example.com>:\n> Hej\n", "Tak for svaret.", QUOTE_ATTRIBUTION},
    {"gmail norwegian, no prefix", "Takk.\n\ntir. 1. des. 2026 kl. 10:00 skrev Support"
     " <s@example.com>:\n> Hei\n", "Takk.", QUOTE_ATTRIBUTION},
    {"polish thunderbird", "Dzi\xc4\x99kuj\xc4\x99.\n\nW dniu 1.12.2026 o 10:00, Support"
     " pisze:\n> Dzie\xc5\x84 dobry\n", "Dzi\xc4\x99kuj\xc4\x99.", QUOTE_ATTRIBUTION},
    {"polish gmail", "Dobrze.\n\nwt., 1 gru 2026 o 10:00 Support <s@example.com>"
     " napisa\xc5\x82(a):\n> Witam\n", "Dobrze.", QUOTE_ATTRIBUTION},
    {"french", "Merci.\n\nLe 1 d\xc3\xa9" "c. 2026 \xc3\xa0 10:00, Support <s@example.com>"
     " a \xc3\xa9" "crit :\n> Bonjour\n", "Merci.", QUOTE_ATTRIBUTION},
    {"outlook en", "Please call me.\r\n\r\n-----Original Message-----\r\nFrom: Support\r\n"
     "Sent: Tuesday\r\nSubject: x\r\n\r\nHello\r\n", "Please call me.", QUOTE_ORIGINAL},
    {"outlook de", "Bitte rufen Sie an.\n\n-----Urspr\xc3\xbcngliche Nachricht-----\n"
     "Von: Support\nGesendet: Dienstag\nBetreff: x\n", "Bitte rufen Sie an.", QUOTE_ORIGINAL},
    {"outlook header block", "OK.\n\n________________________________\nFrom: Support"
     " <s@example.com>\nSent: Tuesday, December 1, 2026 10:00 AM\nTo: Ann\nSubject: Re: x\n\n"
     "Hello\n", "OK.", QUOTE_HEADER_BLOCK},
    {"outlook bold header block", "OK.\n\n*From:* Support\n*Sent:* Tuesday\n*To:* Ann\n"
     "*Subject:* x\n", "OK.", QUOTE_HEADER_BLOCK},
    {"outlook de header block", "Passt.\n\nVon: Support\nGesendet: Dienstag, 1. Dezember 2026\n"
     "An: Ann\nBetreff: AW: x\n", "Passt.", QUOTE_HEADER_BLOCK},
    {"gmx header block, date first", "Gut.\n\nGesendet: Dienstag, 01. Dezember 2026 um"
     " 10:00 Uhr\nVon: Support\nAn: Ann\nBetreff: x\n", "Gut.", QUOTE_HEADER_BLOCK},
    {"french outlook", "D'accord.\n\nDe : Support\nEnvoy\xc3\xa9 : mardi\n\xc3\x80 : Ann\n"
     "Objet : x\n", "D'accord.", QUOTE_HEADER_BLOCK},
    {"our marker", "My answer.\n\n##- Please type your reply above this line -##\n\nHello Ann\n",
     "My answer.", QUOTE_MARKER},
    {"our marker, quoted", "Meine Antwort.\n\n> ##- Bitte oberhalb dieser Zeile antworten -##\n"
     "> Guten Tag\n", "Meine Antwort.", QUOTE_MARKER},
    {"signature", "Short note.\n\n-- \nAnn Example\nACME Ltd\n", "Short note.", QUOTE_SIGNATURE},
    {"signature without its space", "Short note.\n--\nAnn\n", "Short note.", QUOTE_SIGNATURE},
    {"signature before the quote", "Hi.\n-- \nAnn\n\nOn 1 Dec 2026 Support wrote:\n> x\n",
     "Hi.", QUOTE_SIGNATURE},
    {"trailing quote block", "I agree.\n\n> you said\n> this\n\n", "I agree.", QUOTE_TRAILING},
    /* stays whole */
    {"inline reply", "> question one\nanswer one\n> question two\nanswer two\n",
     "> question one\nanswer one\n> question two\nanswer two", QUOTE_NONE},
    {"forwarded", "FYI\n\n---------- Forwarded message ---------\nFrom: X <x@example.com>\n"
     "Date: Tue\nSubject: y\n\nbody\n", "FYI\n\n---------- Forwarded message ---------\n"
     "From: X <x@example.com>\nDate: Tue\nSubject: y\n\nbody", QUOTE_NONE},
    {"quotes only", "> all quoted\n> nothing new\n", "> all quoted\n> nothing new\n",
     QUOTE_NONE},
    {"signature only", "-- \nAnn\n", "-- \nAnn\n", QUOTE_NONE},
    {"from in a sentence", "From: my point of view, this is wrong.\nSubject: invoices\n",
     "From: my point of view, this is wrong.\nSubject: invoices", QUOTE_NONE},
    {"on ... wrote without date", "On reflection, I wrote:\nnothing\n",
     "On reflection, I wrote:\nnothing", QUOTE_NONE},
    {"dashes, not a signature", "a --- b\n---\nc\n", "a --- b\n---\nc", QUOTE_NONE},
    {"empty", "", "", QUOTE_NONE},
    {"no newline", "just text", "just text", QUOTE_NONE},
};

static void test_cases(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
	enum quote_cut how = 99;
	size_t  n = quote_new_text(cases[i].text, strlen(cases[i].text), &how);
	g_autofree char *got = g_strndup(cases[i].text, n);

	is_str(got, cases[i].want, "%s: new text", cases[i].what);
	is_str(quote_cut_name(how), quote_cut_name(cases[i].how), "%s: cut by %s",
	       cases[i].what, quote_cut_name(cases[i].how));
    }
}

static const struct {
    const char *what;
    const char *text;
    const char *want;
} own_cases[] = {
    {"bottom-posted", "On Tue, 1 Dec 2026 at 10:00, Support <s@example.com> wrote:\n> Hello\n"
     "> Ann\n\nThanks, that helped.\n-- \nAnn\n", "Thanks, that helped.\n"},
    {"inline", "Am 01.12.26 um 10:00 schrieb Support:\n> Frage eins\nAntwort eins\n\n"
     "> Frage zwei\nAntwort zwei\n", "Antwort eins\nAntwort zwei\n"},
    {"top-posted outlook", "Bitte anrufen.\n\nVon: Support\nGesendet: Dienstag\nBetreff: x\n\n"
     "Guten Tag\n", "Bitte anrufen.\n"},
    {"marker", "Reply\n##- Please type your reply above this line -##\nHello\n", "Reply\n"},
    {"forwarded: separator and its header block skipped", "FYI\n\n---------- Forwarded message"
     " ---------\nFrom: X <x@example.com>\nDate: Tue, 1 Dec 2026\nSubject: y\nTo: a@example.com,\n"
     " b@example.com\n\nbody\n", "FYI\nbody\n"},
    {"forwarded, German: Von, Datum, Betreff skipped", "-------- Weitergeleitete Nachricht "
     "--------\nBetreff: Rechnung\nDatum: Di, 1. Dez 2026\nVon: X <x@example.com>\nAn: y\n\n"
     "Guten Tag\n", "Guten Tag\n"},
    {"forwarded without a header block: the lines under it stay", "---------- Forwarded "
     "message ---------\nPlease see below.\nThanks\n", "Please see below.\nThanks\n"},
    {"forwarded header block without a blank line: at most 12 lines skipped",
     "---------- Forwarded message ---------\nFrom: X\nDate: Tue\nSubject: y\n"
     "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n", "j\nk\n"},
};

static void test_own(void)
{
    char    buf[256];

    for (gsize i = 0; i < G_N_ELEMENTS(own_cases); i++) {
	size_t  n = quote_own_lines(own_cases[i].text, strlen(own_cases[i].text), buf,
				    sizeof(buf));
	g_autofree char *got = g_strndup(buf, n);

	is_str(got, own_cases[i].want, "own lines: %s", own_cases[i].what);
    }
    /* Bounded by the buffer, whatever the text. */
    {
	const char *t = "0123456789 0123456789 0123456789\n";
	size_t  n = quote_own_lines(t, strlen(t), buf, 8);

	is_int(n, 8, "own lines: at most the buffer's size");
    }
}

static void test_hostile(void)
{
    enum quote_cut how;
    GString *s;
    size_t  n;

    {
	const char t[] = "text\0with NUL\n-- \nsig\n";

	n = quote_new_text(t, sizeof(t) - 1, &how);
	is_int(n, 13, "NUL bytes are text: the cut is at the signature");
    }
    /* An attribution prefix on every line, never completed: linear, nothing cut. */
    s = g_string_new(NULL);
    while (s->len < 1024 * 1024)
	g_string_append(s, "On 1 Dec 2026 Am 1 Den 1 W dniu 1 Le 1 wrote schrieb skrev pisze\n");
    n = quote_new_text(s->str, s->len, &how);
    ok(n == s->len - 1 && how == QUOTE_NONE, "1 MB of attribution prefixes: nothing cut");
    g_string_free(s, TRUE);
    /* A million "From:" lines without a date: each looks ahead HEADER_SPAN lines only. */
    s = g_string_new(NULL);
    for (int i = 0; i < 1000000; i++)
	g_string_append(s, "From: x\n");
    n = quote_new_text(s->str, s->len, &how);
    ok(n == s->len - 1 && how == QUOTE_NONE, "a million From: lines: nothing cut");
    g_string_free(s, TRUE);
    /* One line of 4 MB without a newline. */
    s = g_string_new(NULL);
    for (int i = 0; i < 4 * 1024 * 1024; i++)
	g_string_append_c(s, "ab >-:"[i % 6]);
    n = quote_new_text(s->str, s->len, &how);
    ok(n == s->len, "one 4 MB line: all of it");
    g_string_free(s, TRUE);
}

int     main(void)
{
    test_cases();
    test_own();
    test_hostile();
    return tap_done();
}
