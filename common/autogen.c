/*
 * NAME
 *	autogen - classify a message as written by a person or by a machine
 * SYNOPSIS
 *	#include "autogen.h"
 *
 *	void	autogen_classify(in, out)
 *	void	autogen_classify_message(msg, sender, text, out)
 *	const char *autogen_kind_name(kind)
 *	int	autogen_kind_parse(name)
 * DESCRIPTION
 *	autogen_classify() is a pure function of what struct autogen_input
 *	holds (top-level header fields, envelope sender, top-level content
 *	type, whether a delivery-status part exists, the body text) and
 *	says human, autoreply, bounce, list or system, with the rule that
 *	decided in out->reason (a fixed string from the tables below, never
 *	text of the message, so that a log line cannot be steered).
 *
 *	autogen_classify_message() fills struct autogen_input from a parsed
 *	GMimeMessage (msg may be NULL: only sender and text are used).
 *
 *	Signals are weighed, not counted: a header that only machines set
 *	(a DSN report, X-Failed-Recipients, Auto-Submitted, List-Id) decides
 *	alone; a subject or first line decides alone only when it is
 *	unmistakable and the subject is not a reply or forward ("FW:
 *	Undeliverable" is a person passing a bounce on); a weak hint
 *	(X-Auto-Response-Suppress, which Outlook adds to mail a person's
 *	rule forwards, a "vacation" in the subject) needs a second one.
 *
 *	Sender-controlled input is bounded: at most MAX_HEADERS fields, the
 *	first MAX_VALUE bytes of a value and MAX_TEXT bytes of the text are
 *	read, and each is searched for a fixed table of short patterns, so
 *	the work is linear in a bounded amount of input.
 */
#include <string.h>
#include <stdio.h>
#include <strings.h>
#include <glib.h>

#include "autogen.h"

#define MAX_HEADERS	300		/* header fields looked at */
#define MAX_VALUE	512		/* bytes of a value looked at */
#define MAX_TEXT	1500		/* bytes of the body's first lines */
#define HEAD_LINES	5		/* lines where a strong phrase must stand */
#define MAX_PARTS	64		/* MIME parts looked at for a DSN */

/*
 * Signal tables. Patterns are lower case; subject and text are folded to
 * ASCII lower case before the search (UTF-8 bytes are kept, so a pattern
 * with a non-ASCII letter is written as it appears in lower case).
 */
enum where {
    SUBJECT,
    TEXT,
};
enum strength {
    STRONG,				/* decides alone (subject: unless Re:/Fwd:) */
    WEAK,				/* needs another machine signal */
};
struct phrase {
    enum where where;
    enum autogen_kind kind;
    enum strength strength;
    const char *pattern;
};

static const struct phrase phrases[] = {
    /* Auto-reply subjects: English, German, Danish/Norwegian, Swedish, Dutch, Polish, French, Spanish. */
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "out of office"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "out of the office"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automatic reply"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automatic response"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automated response"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "auto-reply"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "autoreply"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "auto reply"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "auto-response"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "autoresponse"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "abwesenheitsnotiz"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automatische antwort"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "autosvar"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automatisk svar"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automatiskt svar"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automatisch antwoord"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "odpowiedź automatyczna"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "automatyczna odpowiedź"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "réponse automatique"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "respuesta automática"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "fuera de la oficina"},
    /* Acknowledgements of receipt that ticket systems and gateways send. */
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "acknowledgement of receipt"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "acknowledgment of receipt"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "empfangsbest"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "eingangsbest"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "accusé de réception"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "acuse de recibo"},
    {SUBJECT, AUTOGEN_AUTOREPLY, STRONG, "ontvangstbevestiging"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "vacation"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "on holiday"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "away from"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "abwesen"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "nicht im büro"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "fravær"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "frånvaro"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "afwezig"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "nieobecn"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "absence"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "ausencia"},
    {SUBJECT, AUTOGEN_AUTOREPLY, WEAK, "auto:"},

    /*
     * Bounce subjects (Postfix, Sendmail, Exim, qmail, Exchange, Lotus, Gmail, ...).
     * Words a customer uses about a parcel ("Delivery failed", "returned to
     * sender", "unzustellbar") are weak: a help desk gets those from people.
     */
    /* Exchange and Outlook put these before the returned mail's subject. */
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "undeliverable:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "unzustellbar:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "onbestelbaar:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "olevererbart:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "kan ikke leveres:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "niedostarczalne:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "non remis :"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "non remis:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "no se puede entregar:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "delivery delayed:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "delivery failure:"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "mail delivery failed"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "mail delivery failure"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "delivery status"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "undelivered mail"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "undeliverable"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "undeliverd"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "delivery notification"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "delivery failure"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "delivery failed"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "delivery has failed"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "delivery problem"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "delivery report"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "delivery delayed"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "delayed mail"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "non-delivery"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "nondeliverable"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "non delivery"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "returned mail"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "mail returned"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "returned to sender"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "failure notice"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "mail system error"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "could not send message"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "message not delivered"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "not be delivered"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "unzustellbar"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "nicht zustellbar"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "zustellung fehlgeschlagen"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "kan ikke leveres"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "kunne ikke leveres"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "olevererbart"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "kunde inte levereras"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "onbestelbaar"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "niet bezorgd"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "niedostarczalne"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "nie dostarczono"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "non remis"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "non distribuable"},
    {SUBJECT, AUTOGEN_BOUNCE, STRONG, "échec de la remise"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "no se puede entregar"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "no entregado"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "warning:"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "failed"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "failure"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "error"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "rejected"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "returned"},
    {SUBJECT, AUTOGEN_BOUNCE, WEAK, "user unknown"},

    /* Bounce first lines: what MTAs put at the top of a non-delivery report. */
    {TEXT, AUTOGEN_BOUNCE, STRONG, "this is the mail system at host"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "this is the qmail-send program"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "i'm afraid i wasn't able to deliver"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "created automatically by mail delivery software"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "delivery to the following recipient"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "delivery has failed to these recipients"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "did not reach some or all of the intended"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "the original message was received at"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "permanent fatal errors"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "could not be delivered to one or more"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "delivery status notification"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "wasn't delivered to"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "couldn't be delivered"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "your message could not be delivered"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "message could not be delivered"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "unable to deliver"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "undeliverable"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "could not deliver"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "delivery failed"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "failed to deliver"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "returned to sender"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "konnte nicht zugestellt werden"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "n'a pas pu être remis"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "no se pudo entregar"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "kon niet worden bezorgd"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "kunde inte levereras"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "kunne ikke leveres"},
    {TEXT, AUTOGEN_BOUNCE, STRONG, "nie została dostarczona"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "permanent error"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "temporary failure"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "not delivered"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "user unknown"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "mailbox unavailable"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "no such user"},
    {TEXT, AUTOGEN_BOUNCE, WEAK, "invalid user"},

    /* Auto-reply first lines. */
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "this is an automatic reply"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "this is an automated reply"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "this is an automatic response"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "this is an automated response"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "dies ist eine automatische antwort"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "dette er et automatisk svar"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "detta är ett automatiskt svar"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "dit is een automatisch antwoord"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "to jest automatyczna odpowiedź"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "ceci est une réponse automatique"},
    {TEXT, AUTOGEN_AUTOREPLY, STRONG, "esta es una respuesta automática"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "out of the office"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "out of office"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "on vacation"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "on holiday"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "nicht im büro"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "abwesend"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "fraværende"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "på ferie"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "frånvarande"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "på semester"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "afwezig"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "met vakantie"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "nieobecn"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "na urlopie"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "absent"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "fuera de la oficina"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "de vacaciones"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "acknowledge the receipt"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "acknowledge receipt"},
    {TEXT, AUTOGEN_AUTOREPLY, WEAK, "vielen dank für ihre"},
};

/* Reply and forward prefixes: a subject that starts with one is a person's. */
static const char *const reply_prefixes[] = {
    "re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "vb:", "odp:", "pd:", "tr:", "rv:",
    "antw:", "doorst:", "res:", "enc:", NULL,
};

/* Local parts of mail-system senders (RFC 5321 postmaster, MTA daemons). */
static const char *const daemon_locals[] = {
    "mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "mdaemon",
    "postmaster", "post_master", NULL,
};

/* Headers only list software sets (RFC 2369, RFC 2919, ezmlm, SmartList). */
static const char *const list_headers[] = {
    "List-Id", "List-Post", "List-Unsubscribe", "List-Subscribe", "List-Help",
    "List-Owner", "List-Archive", "Mailing-List", "X-Mailing-List", NULL,
};

/* Headers autoresponders set. */
static const char *const autoreply_headers[] = {
    "X-Autoreply", "X-Autorespond", "X-Autoresponder", NULL,
};

const char *autogen_kind_name(enum autogen_kind kind)
{
    switch (kind) {
    case AUTOGEN_AUTOREPLY:
	return "autoreply";
    case AUTOGEN_BOUNCE:
	return "bounce";
    case AUTOGEN_LIST:
	return "list";
    case AUTOGEN_SYSTEM:
	return "system";
    case AUTOGEN_HUMAN:
    default:
	return "human";
    }
}

/* autogen_kind_parse - the kind autogen_kind_name() calls name, or -1 */
int     autogen_kind_parse(const char *name)
{
    for (int k = 0; name && k < AUTOGEN_KINDS; k++)
	if (strcmp(name, autogen_kind_name(k)) == 0)
	    return k;
    return -1;
}

/* fold - ASCII lower-case copy of at most size-1 bytes; control characters become spaces. */
static void fold(char *dst, size_t size, const char *src)
{
    size_t  i = 0;

    for (; src && src[i] && i + 1 < size; i++) {
	unsigned char c = (unsigned char) src[i];

	dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char) g_ascii_tolower(c);
    }
    dst[i] = 0;
}

/*
 * head_length - bytes of src up to the end of its first n non-blank lines (at most max).
 * A strong phrase counts only there: an MTA starts its report with it, a
 * person who quotes one ("your system said: this is an automatic reply")
 * does so further down.
 */
static size_t head_length(const char *src, int n, size_t max)
{
    size_t  i = 0;
    int     blank = 1;

    for (; src && src[i] && i < max; i++) {
	if (src[i] == '\n') {
	    if (!blank && --n == 0)
		break;
	    blank = 1;
	} else if (src[i] != ' ' && src[i] != '\t' && src[i] != '\r')
	    blank = 0;
    }
    return i;
}

static const char *header(const struct autogen_input *in, const char *name)
{
    size_t  n = in->n_headers < MAX_HEADERS ? in->n_headers : MAX_HEADERS;

    for (size_t i = 0; i < n; i++)
	if (in->headers[i].name && g_ascii_strcasecmp(in->headers[i].name, name) == 0)
	    return in->headers[i].value ? in->headers[i].value : "";
    return NULL;
}

static const char *any_header(const struct autogen_input *in, const char *const *names)
{
    for (; *names; names++)
	if (header(in, *names))
	    return *names;
    return NULL;
}

/* first_word - the value's first token, folded: "auto-replied; owner=x" -> "auto-replied". */
static void first_word(char *dst, size_t size, const char *value)
{
    char    buf[64];
    size_t  i;

    fold(buf, sizeof(buf), value ? value : "");
    i = strspn(buf, " \t");
    g_strlcpy(dst, buf + i, size);
    dst[strcspn(dst, " \t;(")] = 0;
}

/* is_daemon - the address's local part names the mail system. */
static int is_daemon(const char *addr)
{
    char    buf[MAX_VALUE];
    char   *start, *at, *lt;

    if (addr == NULL)
	return 0;
    fold(buf, sizeof(buf), addr);
    if ((lt = strrchr(buf, '<')) != NULL)
	start = lt + 1;
    else
	start = buf;
    start += strspn(start, " \t\"");
    if ((at = strchr(start, '@')) != NULL) {
	*at = 0;
	/* A bare "Name user@host" form: the local part is the last token. */
	if (lt == NULL && strrchr(start, ' '))
	    start = strrchr(start, ' ') + 1;
    } else
	start[strcspn(start, " >\"")] = 0;
    for (const char *const *d = daemon_locals; *d; d++)
	if (strcmp(start, *d) == 0)
	    return 1;
    return 0;
}

static int is_reply_or_forward(const char *folded_subject)
{
    const char *s = folded_subject + strspn(folded_subject, " \t");

    for (const char *const *p = reply_prefixes; *p; p++)
	if (strncmp(s, *p, strlen(*p)) == 0)
	    return 1;
    return 0;
}

/* phrase_match - the first table entry for where/kind/strength found in text. */
static const char *phrase_match(const char *folded, enum where where, enum autogen_kind kind,
				enum strength strength)
{
    for (size_t i = 0; i < G_N_ELEMENTS(phrases); i++) {
	const struct phrase *p = phrases + i;

	if (p->where == where && p->kind == kind && p->strength == strength
	    && strstr(folded, p->pattern))
	    return p->pattern;
    }
    return NULL;
}

static void decide(struct autogen_verdict *out, enum autogen_kind kind, const char *rule,
		   const char *detail)
{
    out->kind = kind;
    if (detail)
	snprintf(out->reason, sizeof(out->reason), "%s \"%s\"", rule, detail);
    else
	g_strlcpy(out->reason, rule, sizeof(out->reason));
}

void    autogen_classify(const struct autogen_input *in, struct autogen_verdict *out)
{
    char    subject[MAX_VALUE];
    char    text[MAX_TEXT + 1];
    char    head[MAX_TEXT + 1];
    char    auto_submitted[32];
    char    precedence[32];
    const char *hit, *name;
    int     prefixed, null_sender, daemon, declared_human, hint;
    const char *s_auto, *s_auto_weak, *s_bounce, *s_bounce_weak;
    const char *t_auto, *t_auto_weak, *t_bounce, *t_bounce_weak;

    fold(subject, sizeof(subject), header(in, "Subject"));
    fold(text, sizeof(text), in->text);
    fold(head, head_length(in->text, HEAD_LINES, MAX_TEXT) + 1, in->text);
    first_word(auto_submitted, sizeof(auto_submitted), header(in, "Auto-Submitted"));
    first_word(precedence, sizeof(precedence), header(in, "Precedence"));
    prefixed = is_reply_or_forward(subject);
    null_sender = in->sender && (*in->sender == 0 || strcmp(in->sender, "<>") == 0);
    daemon = is_daemon(in->sender) || is_daemon(header(in, "From"));
    /* RFC 3834: "Auto-Submitted: no" is the sender saying a person wrote it. */
    declared_human = strcmp(auto_submitted, "no") == 0;

    s_auto = phrase_match(subject, SUBJECT, AUTOGEN_AUTOREPLY, STRONG);
    s_auto_weak = phrase_match(subject, SUBJECT, AUTOGEN_AUTOREPLY, WEAK);
    s_bounce = phrase_match(subject, SUBJECT, AUTOGEN_BOUNCE, STRONG);
    s_bounce_weak = phrase_match(subject, SUBJECT, AUTOGEN_BOUNCE, WEAK);
    t_auto = phrase_match(head, TEXT, AUTOGEN_AUTOREPLY, STRONG);
    t_auto_weak = phrase_match(text, TEXT, AUTOGEN_AUTOREPLY, WEAK);
    t_bounce = phrase_match(head, TEXT, AUTOGEN_BOUNCE, STRONG);
    t_bounce_weak = phrase_match(text, TEXT, AUTOGEN_BOUNCE, WEAK);

    /*
     * A machine signal that is not decisive alone but makes a weak phrase
     * count. X-Auto-Response-Suppress only with a subject that is not a
     * reply or forward: Outlook sets it on what a person's rule forwards.
     */
    hint = null_sender || daemon || (*auto_submitted && !declared_human) || *precedence
	|| header(in, "X-Autogenerated") || header(in, "X-Loop")
	|| (!prefixed && header(in, "X-Auto-Response-Suppress"));

    /* 1. Delivery status notifications: only MTAs write these (RFC 3464). */
    if (in->content_type && g_ascii_strcasecmp(in->content_type, "multipart/report") == 0
	&& in->report_type && g_ascii_strcasecmp(in->report_type, "delivery-status") == 0)
	return decide(out, AUTOGEN_BOUNCE, "multipart/report; report-type=delivery-status", NULL);
    if (in->has_dsn_part)
	return decide(out, AUTOGEN_BOUNCE, "message/delivery-status part", NULL);
    if (header(in, "X-Failed-Recipients"))
	return decide(out, AUTOGEN_BOUNCE, "header X-Failed-Recipients", NULL);

    /*
     * 2. The mail system writing: a bounce unless it reads like an
     * auto-reply (Exim marks its bounces Auto-Submitted: auto-replied).
     */
    if (daemon && !declared_human) {
	if ((s_auto || s_auto_weak || t_auto) && !s_bounce && !t_bounce)
	    return decide(out, AUTOGEN_AUTOREPLY, "mail-system sender, auto-reply wording", NULL);
	return decide(out, AUTOGEN_BOUNCE, "sender MAILER-DAEMON or postmaster", NULL);
    }

    /* 3. Autoresponders that say so (RFC 3834, vacation programs, Exchange). */
    if (strcmp(auto_submitted, "auto-replied") == 0)
	return decide(out, (s_bounce || t_bounce) && !s_auto ? AUTOGEN_BOUNCE : AUTOGEN_AUTOREPLY,
		      "header Auto-Submitted: auto-replied", NULL);
    if ((name = any_header(in, autoreply_headers)) != NULL)
	return decide(out, AUTOGEN_AUTOREPLY, "header", name);
    if (strcmp(precedence, "auto_reply") == 0)
	return decide(out, AUTOGEN_AUTOREPLY, "header Precedence: auto_reply", NULL);
    if ((hit = header(in, "X-Autogenerated")) && g_ascii_strncasecmp(hit, "reply", 5) == 0)
	return decide(out, AUTOGEN_AUTOREPLY, "header X-Autogenerated: Reply", NULL);

    /* 4. Unmistakable subjects and first lines; a person's Re:/Fwd: is not one. */
    if (!declared_human && !prefixed) {
	if (s_bounce)
	    return decide(out, AUTOGEN_BOUNCE, "subject", s_bounce);
	if (s_auto)
	    return decide(out, AUTOGEN_AUTOREPLY, "subject", s_auto);
	if (t_bounce)
	    return decide(out, AUTOGEN_BOUNCE, "first lines", t_bounce);
	if (t_auto)
	    return decide(out, AUTOGEN_AUTOREPLY, "first lines", t_auto);
    }

    /* 5. Weak phrases with a second machine signal (null sender, Auto-Submitted, ...). */
    if (!declared_human && hint) {
	if (s_bounce || t_bounce || ((s_bounce_weak || t_bounce_weak) && null_sender)
	    || (s_bounce_weak && t_bounce_weak))
	    return decide(out, AUTOGEN_BOUNCE, "bounce wording and machine header",
			  s_bounce ? s_bounce : t_bounce ? t_bounce
			  : s_bounce_weak ? s_bounce_weak : t_bounce_weak);
	if (s_auto || s_auto_weak || t_auto || t_auto_weak)
	    return decide(out, AUTOGEN_AUTOREPLY, "auto-reply wording and machine header",
			  s_auto ? s_auto : s_auto_weak ? s_auto_weak : t_auto ? t_auto
			  : t_auto_weak);
    }

    /* 6. Other machine mail that declares itself. */
    if (*auto_submitted && !declared_human)
	return decide(out, AUTOGEN_SYSTEM, "header Auto-Submitted", NULL);

    /* 7. Lists, bulk mail and newsletters. */
    if ((name = any_header(in, list_headers)) != NULL)
	return decide(out, AUTOGEN_LIST, "header", name);
    if (strcmp(precedence, "list") == 0 || strcmp(precedence, "bulk") == 0
	|| strcmp(precedence, "junk") == 0)
	return decide(out, AUTOGEN_LIST, "header Precedence: bulk, junk or list", NULL);
    if (header(in, "Feedback-ID"))
	return decide(out, AUTOGEN_LIST, "header Feedback-ID", NULL);

    /* 8. Machine mail of other kinds: read receipts, loops, the null sender. */
    if (in->content_type && g_ascii_strcasecmp(in->content_type, "multipart/report") == 0)
	return decide(out, AUTOGEN_SYSTEM, "multipart/report", NULL);
    if (header(in, "X-Loop"))
	return decide(out, AUTOGEN_SYSTEM, "header X-Loop", NULL);
    if (header(in, "X-Autogenerated"))
	return decide(out, AUTOGEN_SYSTEM, "header X-Autogenerated", NULL);
    /* RFC 5321 4.5.5: the null reverse-path is for notifications, mostly non-delivery. */
    if (null_sender)
	return decide(out, AUTOGEN_BOUNCE, "null envelope sender", NULL);

    /* X-Auto-Response-Suppress alone: Outlook sets it on mail a person's rule forwarded. */
    return decide(out, AUTOGEN_HUMAN, declared_human ? "header Auto-Submitted: no"
		  : "no machine signal", NULL);
}

/* has_dsn - a delivery-status part among the first MAX_PARTS parts. */
static int has_dsn(GMimeObject *obj, int *budget)
{
    GMimeContentType *ct;

    if (obj == NULL || (*budget)-- <= 0)
	return 0;
    ct = g_mime_object_get_content_type(obj);
    if (ct && g_mime_content_type_is_type(ct, "message", "delivery-status"))
	return 1;
    if (ct && g_mime_content_type_is_type(ct, "message", "global-delivery-status"))
	return 1;
    if (GMIME_IS_MULTIPART(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	int     n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n && *budget > 0; i++)
	    if (has_dsn(g_mime_multipart_get_part(mp, i), budget))
		return 1;
    }
    return 0;
}

void    autogen_classify_message(GMimeMessage *msg, const char *sender, const char *text,
				 struct autogen_verdict *out)
{
    struct autogen_header hdrs[MAX_HEADERS];
    struct autogen_input in = {hdrs, 0, sender, NULL, NULL, 0, text};
    g_autofree char *type = NULL;
    g_autofree char *subject = NULL;
    int     budget = MAX_PARTS;

    if (msg) {
	GMimeObject *mobj = GMIME_OBJECT(msg);
	GMimeHeaderList *list = g_mime_object_get_header_list(mobj);
	int     n = list ? g_mime_header_list_get_count(list) : 0;
	GMimeObject *body = g_mime_message_get_mime_part(msg);

	/* The subject decoded (RFC 2047) first, so that a later raw one does not win. */
	subject = g_strdup(g_mime_message_get_subject(msg));
	if (subject)
	    hdrs[in.n_headers++] = (struct autogen_header) {"Subject", subject};
	for (int i = 0; i < n && in.n_headers < MAX_HEADERS; i++) {
	    GMimeHeader *h = g_mime_header_list_get_header_at(list, i);

	    hdrs[in.n_headers++] = (struct autogen_header) {
		g_mime_header_get_name(h), g_mime_header_get_value(h)};
	}
	if (body) {
	    GMimeContentType *ct = g_mime_object_get_content_type(body);

	    if (ct) {
		type = g_strdup_printf("%s/%s", g_mime_content_type_get_media_type(ct),
				       g_mime_content_type_get_media_subtype(ct));
		in.content_type = type;
		in.report_type = g_mime_content_type_get_parameter(ct, "report-type");
	    }
	    in.has_dsn_part = has_dsn(body, &budget);
	}
    }
    autogen_classify(&in, out);
}
