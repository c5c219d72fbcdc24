/*
 * NAME
 *	thread_policy - who may write into a ticket, what a closed one does
 * SYNOPSIS
 *	gboolean thread_may_write(trust, sender, parties, &why)
 *	gboolean thread_freemail_domain(domain)
 *	enum closed_action thread_on_closed(on_closed, reopen_days,
 *					     closed_at, now, quiet, &why)
 *	gboolean thread_is_thanks(text)
 * DESCRIPTION
 *	The decisions of stage_thread.c, as pure functions (no store, no
 *	clock) so that each rule has a table-driven test.
 *
 *	thread_may_write() says whether a mail from sender may be added to
 *	a ticket that it names (by number, by reference, signed or not),
 *	given the ticket's parties (lower-case addresses, NULL-terminated)
 *	and the mailbox's thread_trust: "strict" (default): the sender is a
 *	party; "same_domain": or has the domain of a party, unless that
 *	domain is a free-mail domain (thread_freemail_domain(): a gmail.com
 *	customer does not let every gmail.com user in); "open": anyone.
 *	Addresses compare without regard to ASCII case. *why (static text)
 *	says which rule decided.
 *
 *	thread_freemail_domain() is TRUE for the domains in freemail[]:
 *	the large public mail providers, where sharing a domain says
 *	nothing about belonging together. The list is short on purpose
 *	(docs/intake.conf.md names it); a domain missing from it only
 *	matters with thread_trust = same_domain.
 *
 *	thread_on_closed() decides what a follow-up that may write into a
 *	closed ticket does. quiet (an out-of-office reply or a thank-you,
 *	see thread_is_thanks()) is added and never reopens (CLOSED_KEEP),
 *	whatever the policy: nobody needs to act on it. Otherwise, by
 *	on_closed: "reopen" (default) reopens while the ticket was closed
 *	less than reopen_days days ago (closed_at, Unix time; 0 = unknown
 *	counts as just closed), after that, and always with reopen_days 0,
 *	a new linked ticket (CLOSED_NEW); "new" always makes a new linked
 *	ticket; "refuse" adds the mail to the closed ticket as a note and
 *	sends the sender a notice (CLOSED_REFUSE). *why (static text) is
 *	for the log and the message's note.
 *
 *	thread_is_thanks() is the thank-you rule: the lines the sender
 *	wrote (quote_own_lines(), quote.c: without quoted history,
 *	attribution lines, our marker and the signature) have
 *	at most THANKS_MAX_WORDS words, one of them a thanks word or pair
 *	(thanks_words[], thanks_pairs[]: English, German, French, Danish,
 *	Norwegian, Swedish, Spanish, Dutch, Polish, Italian, Portuguese,
 *	Finnish, Russian, Chinese), and neither a "?" nor a word of
 *	but_words[] ("but", "still", "not", "aber", "noch", "nicht", ...):
 *	"Thanks, but it still fails" is a follow-up. Words are runs of
 *	letters and digits, compared case-folded. Linear, bounded: the own
 *	lines are read into a buffer of THANKS_MAX_WORDS * 64 bytes, and
 *	more than that is no thank-you.
 */
#include <string.h>

#include "quote.h"
#include "thread_policy.h"

static const char *const freemail[] = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.de",
    "gmx.net", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "proton.me",
    "protonmail.com", "mail.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "orange.fr",
    "free.fr", "laposte.net", "wp.pl", "o2.pl", "onet.pl", "interia.pl", "seznam.cz",
    "libero.it", "zoho.com", "fastmail.com", "tutanota.com", "hotmail.co.uk",
    "yahoo.co.uk", "yahoo.de", "yahoo.fr", "outlook.de", "hotmail.de", "hotmail.fr",
    NULL,
};

static const char *const thanks_words[] = {
    "thanks", "thx", "danke", "dankeschön", "merci", "tak", "takk", "tack", "gracias",
    "bedankt", "dziękuję", "dziekuje", "dzięki", "dzieki", "grazie", "obrigado",
    "obrigada", "kiitos", "спасибо", "谢谢", "多谢", NULL,
};

/* Two words in a row, "first second". */
static const char *const thanks_pairs[] = {
    "thank you", "thank u", "dank je", "dank u", "vielen dank", "many thanks",
    "tusen takk", "tusind tak", NULL,
};

static const char *const but_words[] = {
    "but", "still", "not", "however", "aber", "noch", "nicht", "jedoch", "mais", "pas",
    "encore", "men", "ikke", "inte", "fortfarande", "stadig", "pero", "todavía", "todavia",
    "ale", "nie", "nadal", "wciąż", "maar", "niet", "nog", "però", "ancora", "ma", NULL,
};

static const char *domain_of(const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;

    return at ? at + 1 : "";
}

gboolean thread_freemail_domain(const char *domain)
{
    for (int i = 0; freemail[i]; i++)
	if (g_ascii_strcasecmp(domain, freemail[i]) == 0)
	    return TRUE;
    return FALSE;
}

gboolean thread_may_write(const char *trust, const char *sender, const char *const *parties,
			  const char **why)
{
    const char *domain = domain_of(sender);

    if (g_strcmp0(trust, "open") == 0) {
	*why = "thread_trust = open: anyone may write";
	return TRUE;
    }
    if (sender == NULL || *sender == 0) {
	*why = "no sender address";
	return FALSE;
    }
    for (int i = 0; parties && parties[i]; i++)
	if (g_ascii_strcasecmp(sender, parties[i]) == 0) {
	    *why = "the sender is a party of the ticket";
	    return TRUE;
	}
    if (g_strcmp0(trust, "same_domain") != 0) {
	*why = "the sender is not a party of the ticket (thread_trust = strict)";
	return FALSE;
    }
    if (*domain == 0 || thread_freemail_domain(domain)) {
	*why = "the sender is not a party of the ticket, and a free-mail domain does not count"
	    " (thread_trust = same_domain)";
	return FALSE;
    }
    for (int i = 0; parties && parties[i]; i++)
	if (g_ascii_strcasecmp(domain, domain_of(parties[i])) == 0) {
	    *why = "the sender has the domain of a party (thread_trust = same_domain)";
	    return TRUE;
	}
    *why = "neither the sender nor its domain is on the ticket (thread_trust = same_domain)";
    return FALSE;
}

enum closed_action thread_on_closed(const char *on_closed, int reopen_days, gint64 closed_at,
				    gint64 now, gboolean quiet, const char **why)
{
    if (quiet) {
	*why = "an out-of-office reply or a thank-you does not reopen a closed ticket";
	return CLOSED_KEEP;
    }
    if (g_strcmp0(on_closed, "refuse") == 0) {
	*why = "the ticket is closed and on_closed = refuse: kept as a note, the sender is told";
	return CLOSED_REFUSE;
    }
    if (g_strcmp0(on_closed, "new") == 0) {
	*why = "the ticket is closed and on_closed = new";
	return CLOSED_NEW;
    }
    if (reopen_days > 0 && (closed_at <= 0 || now - closed_at < (gint64) reopen_days * 86400)) {
	*why = "the ticket was closed less than reopen_days ago";
	return CLOSED_REOPEN;
    }
    *why = "the ticket was closed reopen_days or more ago";
    return CLOSED_NEW;
}

static gboolean in_list(const char *const *list, const char *word)
{
    for (int i = 0; list[i]; i++)
	if (strcmp(list[i], word) == 0)
	    return TRUE;
    return FALSE;
}

/*
 * count_words - add the words of s[0..n) to the state; FALSE when the
 * text is not a thank-you any more (too many words, a "?", a "but").
 */
struct thanks_state {
    int     words;
    gboolean thanks;
    char   *prev;			/* previous word, case-folded */
};

static gboolean count_words(struct thanks_state *ts, const char *s, size_t n)
{
    const char *end = s + n;
    const char *p = s;

    while (p < end) {
	const char *w;
	gunichar c = g_utf8_get_char_validated(p, end - p);

	if (c == (gunichar) - 1 || c == (gunichar) - 2) {
	    p++;
	    continue;
	}
	if (c == '?' || c == 0xbf /* ¿ */ || c == 0xff1f /* ？ */)
	    return FALSE;
	if (!g_unichar_isalnum(c)) {
	    p = g_utf8_next_char(p);
	    continue;
	}
	for (w = p; p < end; p = g_utf8_next_char(p)) {
	    c = g_utf8_get_char_validated(p, end - p);
	    if (c == (gunichar) - 1 || c == (gunichar) - 2 || !g_unichar_isalnum(c))
		break;
	}
	{
	    g_autofree char *word = g_utf8_casefold(w, p - w);

	    if (++ts->words > THANKS_MAX_WORDS || in_list(but_words, word))
		return FALSE;
	    if (in_list(thanks_words, word))
		ts->thanks = TRUE;
	    if (ts->prev) {
		g_autofree char *pair = g_strconcat(ts->prev, " ", word, NULL);

		if (in_list(thanks_pairs, pair))
		    ts->thanks = TRUE;
		g_free(ts->prev);
	    }
	    ts->prev = g_steal_pointer(&word);
	}
	if (p < end && (c == (gunichar) - 1 || c == (gunichar) - 2))
	    p++;
    }
    return TRUE;
}

gboolean thread_is_thanks(const char *text)
{
    struct thanks_state ts = {0};
    /* More than fits here is more than THANKS_MAX_WORDS words: no thank-you. */
    char    own[THANKS_MAX_WORDS * 64];
    size_t  n = text ? quote_own_lines(text, strlen(text), own, sizeof(own)) : 0;
    gboolean ok = n < sizeof(own) && count_words(&ts, own, n);

    g_free(ts.prev);
    return ok && ts.thanks;
}
