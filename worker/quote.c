/*
 * NAME
 *	quote - what a customer wrote now, apart from quoted history and signature
 * SYNOPSIS
 *	#include "quote.h"
 *
 *	size_t	quote_new_text(text, len, &how)
 *	size_t	quote_own_lines(text, len, buf, size)
 *	const char *quote_cut_name(how)
 * DESCRIPTION
 *	quote_new_text() returns the length of the leading part of text
 *	that the sender wrote now (trailing blank lines and white space
 *	dropped), and in *how what ended it. The text ends at the first line that starts
 *	history or signature:
 *
 *	our marker	a line framed "##- ... -##" (conf/templates/ack.*.txt say
 *			"reply above this line" in their language), quoted or not;
 *	attribution	"On ... wrote:", "Am ... schrieb ...:", "Den ... skrev ...:",
 *			"W dniu ... pisze:", "Le ... a écrit :", and the prefix-less
 *			Gmail forms "... skrev X:", "... napisał(a):" (attribution[]);
 *			the line holds a digit or an '@' (a date, an address) and ends
 *			with ':'; one wrapped onto a second line is joined first
 *			(Gmail and Apple Mail wrap long ones);
 *	header block	a "From:" line (Von:, Fra:, De:, Od:, Från: ...), Outlook's
 *			"*From:*" too, followed within HEADER_SPAN lines by a date
 *			("Sent:", "Gesendet:", "Date:" ...) and a subject line
 *			("Subject:", "Betreff:", "Emne:" ...): a line of underscores
 *			right before it belongs to it;
 *	original	"-----Original Message-----" and its translations;
 *	signature	"-- " (RFC 3676), or "--" whose space a client dropped or
 *			doubled.
 *
 *	What is left then may end with a block of "> " lines (a reply above
 *	an attribution-less quote): that block goes too, while quotes with
 *	answers between and after them (an inline reply) stay.
 *
 *	When nothing new is left (a mail of quotes only, a signature alone),
 *	all of the text is new: better to show too much than nothing.
 *
 *	quote_own_lines() copies to buf (at most size bytes, no NUL) the
 *	lines the sender wrote, wherever they are: the unquoted, non-blank
 *	lines up to history that is not "> " quoted (our marker, a header
 *	block, an original message) or the signature; attribution lines and
 *	"> " lines are skipped. That is the text of a top-posted reply, of a
 *	bottom-posted one and of an inline one alike: what language
 *	detection reads (classify_lang.c). A "Forwarded message" separator
 *	and the header block under it (From, Date, Subject, To... up to a
 *	blank line, at most FORWARD_SPAN lines) are skipped as well: their
 *	words are the forwarding client's labels, addresses and dates, not
 *	the sender's (a mail forwarded as an attachment without a word of
 *	its own, common/mime_message.c, would otherwise read as English).
 *
 *	The scan is linear: each line is looked at a bounded number of times
 *	(at most HEADER_SPAN lines ahead, one line joined), and nothing is
 *	allocated. A "Forwarded message" separator is not a cut: what is
 *	forwarded is what the customer sends us: from such a line on, all of
 *	the text is new (forward_words[]).
 */
#include <string.h>

#include "quote.h"

#define HEADER_SPAN 6			/* lines from "From:" to its date and subject */
#define FORWARD_SPAN 12			/* header lines under a "Forwarded message" line */

struct line {
    const char *s;			/* start */
    size_t  n;				/* length without CR LF */
    const char *next;			/* start of the following line, or end */
};

/* line_at - the line that starts at p (p < end) */
static struct line line_at(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', end - p);
    struct line l = {p, 0, nl ? nl + 1 : end};

    l.n = (nl ? nl : end) - p;
    if (l.n > 0 && p[l.n - 1] == '\r')
	l.n--;
    return l;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* has_prefix - s[0..n) starts with p, ASCII letters in any case */
static int has_prefix(const char *s, size_t n, const char *p)
{
    size_t  k = strlen(p);

    if (k > n)
	return 0;
    for (size_t i = 0; i < k; i++)
	if (lower((unsigned char) s[i]) != lower((unsigned char) p[i]))
	    return 0;
    return 1;
}

/* contains - s[0..n) holds p, ASCII letters in any case; O(n * |p|), |p| small */
static int contains(const char *s, size_t n, const char *p)
{
    size_t  k = strlen(p);

    for (size_t i = 0; i + k <= n; i++)
	if (has_prefix(s + i, n - i, p))
	    return 1;
    return 0;
}

static int white(int c)
{
    return c == ' ' || c == '\t' || c == '\r';	/* a lone CR ("\r\r\n") too */
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && white(**s)) {
	(*s)++;
	(*n)--;
    }
    while (*n > 0 && white((*s)[*n - 1]))
	(*n)--;
}

static int blank(struct line l)
{
    trim(&l.s, &l.n);
    return l.n == 0;
}

static int quoted(struct line l)
{
    return l.n > 0 && l.s[0] == '>';
}

/* Attribution lines: the prefix they start with and a word they hold before the ':'. */
static const struct {
    const char *prefix;
    const char *word;
} attribution[] = {
    {"On ", " wrote"},			/* Gmail, Apple Mail, Thunderbird (en) */
    {"Am ", " schrieb"},		/* de */
    {"Den ", " skrev"},			/* da, nb, sv */
    {"", " skrev "},			/* Gmail da/nb/sv: "tir. 1. dec. 2026 ... skrev X <x>:" */
    {"W dniu ", " pisze"},		/* pl, Thunderbird */
    {"W dniu ", " napisa"},		/* pl: "napisał(a):" */
    {"", " napisa\xc5\x82"},		/* Gmail pl: "... X <x> napisał(a):" */
    {"Le ", " a \xc3\xa9" "crit"},	/* fr: "a écrit :" */
    {"El ", " escribi"},		/* es */
    {"Op ", " schreef"},		/* nl */
    {"Il ", " ha scritto"},		/* it */
    {"Em ", " escreveu"},		/* pt */
};

/* attribution_line - s[0..n) (trimmed) is an attribution line */
static int attribution_line(const char *s, size_t n)
{
    int     evidence = 0;

    trim(&s, &n);
    if (n < 4 || s[n - 1] != ':')
	return 0;
    for (size_t i = 0; i < n && !evidence; i++)
	evidence = (s[i] >= '0' && s[i] <= '9') || s[i] == '@';
    if (!evidence)
	return 0;
    for (size_t i = 0; i < sizeof(attribution) / sizeof(attribution[0]); i++)
	if (has_prefix(s, n, attribution[i].prefix) && contains(s, n, attribution[i].word))
	    return 1;
    return 0;
}

/*
 * attribution_at - the line l, or l joined with the line after it, is an
 * attribution. Joined only when l starts like one (a prefix of the table)
 * and does not end with ':', and the joined text is bounded by two lines.
 */
static int attribution_at(struct line l, const char *end)
{
    char    buf[1024];
    struct line m;
    const char *s = l.s;
    size_t  n = l.n;

    if (attribution_line(l.s, l.n))
	return 1;
    trim(&s, &n);
    if (n == 0 || s[n - 1] == ':' || l.next >= end)
	return 0;
    for (size_t i = 0; i < sizeof(attribution) / sizeof(attribution[0]); i++) {
	if (!*attribution[i].prefix || !has_prefix(s, n, attribution[i].prefix))
	    continue;
	m = line_at(l.next, end);
	if (m.n == 0 || n + 1 + m.n > sizeof(buf))
	    return 0;
	memcpy(buf, s, n);
	buf[n] = ' ';
	memcpy(buf + n + 1, m.s, m.n);
	return attribution_line(buf, n + 1 + m.n);
    }
    return 0;
}

/* Field names of a quoted header block, without the colon (field_line() finds it). */
static const char *const from_fields[] = {
    "From", "Von", "Fra", "De", "Od", "Fr\xc3\xa5n", "Van", "Da", NULL,
};
static const char *const date_fields[] = {
    "Sent", "Date", "Gesendet", "Datum", "Sendt", "Dato", "Envoy\xc3\xa9", "Wys\xc5\x82" "ano",
    "Data", "Skickat", "Verzonden", "Enviado", "Inviato", NULL,
};
static const char *const subject_fields[] = {
    "Subject", "Betreff", "Emne", "Objet", "Temat", "\xc3\x84mne", "Onderwerp", "Asunto",
    "Oggetto", "Assunto", NULL,
};

/*
 * field_line - l starts with one of names and a colon; Outlook's bold
 * marks ("*From:*", "*From*:") and French spacing ("Objet :") allowed.
 */
static int field_line(struct line l, const char *const *names)
{
    while (l.n > 0 && (*l.s == '*' || *l.s == ' ' || *l.s == '\t')) {
	l.s++;
	l.n--;
    }
    for (; *names; names++) {
	size_t  k = strlen(*names);

	if (!has_prefix(l.s, l.n, *names))
	    continue;
	while (k < l.n && (l.s[k] == '*' || l.s[k] == ' '))
	    k++;
	if (k < l.n && l.s[k] == ':')
	    return 1;
    }
    return 0;
}

/*
 * header_block_at - l starts a "From: ... Sent: ... Subject:" block (GMX
 * and web.de put the date first: "Gesendet: ... Von: ... Betreff:").
 */
static int header_block_at(struct line l, const char *end)
{
    int     from = field_line(l, from_fields);
    int     date = !from && field_line(l, date_fields);
    int     subject = 0;
    const char *p = l.next;

    if (!from && !date)
	return 0;
    for (int i = 0; i < HEADER_SPAN && p < end && !(from && date && subject); i++) {
	struct line m = line_at(p, end);

	from |= field_line(m, from_fields);
	date |= field_line(m, date_fields);
	subject |= field_line(m, subject_fields);
	p = m.next;
    }
    return from && date && subject;
}

/*
 * forward_fields_at - l starts the header block under a "Forwarded
 * message" line: Gmail puts From first, Thunderbird Subject ("Betreff:").
 */
static int forward_fields_at(struct line l)
{
    return field_line(l, from_fields) || field_line(l, date_fields)
	|| field_line(l, subject_fields);
}

static int underscores(struct line l)
{
    trim(&l.s, &l.n);
    if (l.n < 20)
	return 0;
    for (size_t i = 0; i < l.n; i++)
	if (l.s[i] != '_')
	    return 0;
    return 1;
}

static const char *const original_words[] = {
    "Original Message", "Urspr\xc3\xbcngliche Nachricht", "Oprindelig meddelelse",
    "Opprinnelig melding", "Ursprungligt meddelande", "Message d'origine",
    "Oryginalna wiadomo", "Oorspronkelijk bericht", "Mensaje original",
    "Messaggio originale", "Mensagem original", NULL,
};

/* dashed_line - "-----" and one of words: "-----Original Message-----" and the like */
static int dashed_line(struct line l, const char *const *words)
{
    trim(&l.s, &l.n);
    if (l.n < 10 || !has_prefix(l.s, l.n, "-----"))
	return 0;
    for (const char *const *w = words; *w; w++)
	if (contains(l.s, l.n, *w))
	    return 1;
    return 0;
}

static const char *const forward_words[] = {
    "Forwarded message", "Forwarded Message", "Weitergeleitete Nachricht",
    "Videresendt meddelelse", "Videresendt melding", "Vidarebefordrat meddelande",
    "Message transf\xc3\xa9r\xc3\xa9", "Wiadomo\xc5\x9b\xc4\x87 przekazana",
    "Doorgestuurd bericht", "Mensaje reenviado", "Messaggio inoltrato", NULL,
};


static int marker_line(struct line l)
{
    while (l.n > 0 && (*l.s == '>' || *l.s == ' ' || *l.s == '\t')) {
	l.s++;
	l.n--;
    }
    trim(&l.s, &l.n);
    return l.n >= 6 && has_prefix(l.s, l.n, QUOTE_MARKER_OPEN)
	&& has_prefix(l.s + l.n - 3, 3, QUOTE_MARKER_CLOSE);
}

/* signature_line - "-- ", or "--" with other or no trailing white space (clients differ) */
static int signature_line(struct line l)
{
    while (l.n > 2 && white(l.s[l.n - 1]))
	l.n--;
    return l.n == 2 && memcmp(l.s, "--", 2) == 0;
}

/* cut_at - what, if anything, starts at line l */
static enum quote_cut cut_at(struct line l, const char *end)
{
    if (marker_line(l))
	return QUOTE_MARKER;
    if (signature_line(l))
	return QUOTE_SIGNATURE;
    if (dashed_line(l, original_words))
	return QUOTE_ORIGINAL;
    if (underscores(l) && l.next < end && header_block_at(line_at(l.next, end), end))
	return QUOTE_HEADER_BLOCK;
    if (header_block_at(l, end))
	return QUOTE_HEADER_BLOCK;
    if (!quoted(l) && attribution_at(l, end))
	return QUOTE_ATTRIBUTION;
    return QUOTE_NONE;
}

size_t  quote_new_text(const char *text, size_t len, enum quote_cut *how)
{
    const char *end = text + len;
    const char *p = text;
    const char *last_any = text;	/* end of the last non-blank line */
    const char *last_own = text;	/* end of the last non-blank unquoted line */
    enum quote_cut cut = QUOTE_NONE;

    while (p < end) {
	struct line l = line_at(p, end);

	if (dashed_line(l, forward_words)) {		/* all of the rest is what is sent to us */
	    cut = QUOTE_NONE;
	    last_own = text + len;
	    while (last_own > text && (last_own[-1] == '\n' || last_own[-1] == '\r'
				       || last_own[-1] == ' ' || last_own[-1] == '\t'))
		last_own--;
	    last_any = last_own;
	    break;
	}
	if ((cut = cut_at(l, end)) != QUOTE_NONE)
	    break;
	if (!blank(l)) {
	    /* the line's end without trailing white space (a CR too: "\r\r\n") */
	    const char *e = l.s + l.n;

	    while (e > l.s && white(e[-1]))
		e--;
	    last_any = e;
	    if (!quoted(l))
		last_own = e;
	}
	p = l.next;
    }
    if (last_own == text) {		/* nothing new: all of it is */
	*how = QUOTE_NONE;
	return len;
    }
    if (cut == QUOTE_NONE && last_own != last_any)
	cut = QUOTE_TRAILING;
    *how = cut;
    return last_own - text;
}

size_t  quote_own_lines(const char *text, size_t len, char *buf, size_t size)
{
    const char *end = text + len;
    const char *p = text;
    size_t  used = 0;
    int     forwarded = 0;
    int     fields = 0;			/* header lines under a separator still to skip */

    while (p < end && used < size) {
	struct line l = line_at(p, end);
	enum quote_cut cut;

	if (dashed_line(l, forward_words)) {
	    forwarded = 1;
	    fields = l.next < end && forward_fields_at(line_at(l.next, end)) ? FORWARD_SPAN : 0;
	    p = l.next;
	    continue;
	}
	if (fields > 0) {
	    fields = blank(l) ? 0 : fields - 1;
	    p = l.next;
	    continue;
	}
	cut = forwarded ? QUOTE_NONE : cut_at(l, end);

	if (cut != QUOTE_NONE && cut != QUOTE_ATTRIBUTION)
	    break;
	if (cut == QUOTE_NONE && !quoted(l) && !blank(l)) {
	    size_t  n = l.n < size - used ? l.n : size - used;

	    memcpy(buf + used, l.s, n);
	    used += n;
	    if (used < size)
		buf[used++] = '\n';
	}
	p = l.next;
    }
    return used;
}

const char *quote_cut_name(enum quote_cut how)
{
    static const char *const names[] = {
	[QUOTE_NONE] = "none", [QUOTE_MARKER] = "marker",
	[QUOTE_ATTRIBUTION] = "attribution", [QUOTE_HEADER_BLOCK] = "header block",
	[QUOTE_ORIGINAL] = "original message", [QUOTE_SIGNATURE] = "signature",
	[QUOTE_TRAILING] = "trailing quote",
    };

    return how <= QUOTE_TRAILING ? names[how] : "?";
}
