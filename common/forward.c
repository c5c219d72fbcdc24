/*
 * NAME
 *	forward - forwarded and redirected mail: which mailbox, which customer
 * SYNOPSIS
 *	#include "forward.h"
 *
 *	GPtrArray *forward_original_recipients(cfg, msg)
 *	const struct forward_original *forward_original_of(found, want)
 *	void	forward_customer(cfg, msg, sender, text, &customer)
 *	void	forward_customer_clear(&customer)
 *	gboolean forward_inline_from(cfg, text, len, &name, &address)
 * DESCRIPTION
 *	The milter's decisions about mail that did not come straight from
 *	the customer to the mailbox (docs/envelope.md, "customer"; the
 *	rules and why: docs/design.md, "Forwarded and redirected mail").
 *	Pure functions over a parsed message and the configuration.
 *
 *	forward_original_recipients() reads the original recipient of a
 *	forwarded mail: the addresses of the header fields of the table
 *	original_fields[] (X-Original-To, Delivered-To, Resent-To, To, Cc),
 *	in that order, each field top-down (newest first), that
 *	config_match() finds a mailbox for. The result (g_ptr_array_unref)
 *	holds a struct forward_original for the first such address of each
 *	mailbox, in the order found; every header field is parsed once.
 *	forward_original_of() returns the first of them, or with want the
 *	one of that mailbox; NULL when there is none.
 *	Header fields are written by the sender: the caller uses these only
 *	to choose among the mailboxes the envelope recipient can reach (a
 *	[milter] collectors address reaches any: the first; a mailbox's own
 *	address only itself: want), never to add one.
 *
 *	forward_customer() decides who the ticket's customer is, first rule
 *	that applies:
 *	 1. the From address is [milter] staff and the mail carries a
 *	    forwarded message: the sender of that message (an attached
 *	    message/rfc822 first, also one sent base64 or quoted-printable, then an inline forward block of the text,
 *	    forward_inline_from()), skipping senders that are staff or our
 *	    own addresses; how "forwarded-attachment" or "forwarded-inline",
 *	    by = the staff address;
 *	 2. the first From address, how "from"; a redirect (Resent-From, a
 *	    mailer's "Redirect"/"Resend") keeps From, and by = the first
 *	    Resent-From address when it is another one;
 *	 3. no From: the first Reply-To ("reply-to"), else Sender ("sender");
 *	 4. none of them: the envelope sender, SRS-decoded ("srs",
 *	    common/srs.c) or as it is ("envelope"); the null sender gives
 *	    address "" and how "none".
 *	It never fails; *customer's strings are owned by it
 *	(forward_customer_clear()).
 *
 *	forward_inline_from() looks in the first FORWARD_TEXT_MAX bytes of
 *	a text for a forward block (a marker line of the table markers[],
 *	such as Gmail's "---------- Forwarded message ---------" or
 *	Outlook's "-----Original Message-----", in the languages listed)
 *	followed within a few lines by a "From:" line (in the words of
 *	from_keys[]) with an address. Lines may be quoted ("> "). Blocks
 *	whose sender is staff or one of our addresses are skipped (a
 *	colleague's forward inside the forward). TRUE with *name and
 *	*address newly allocated (g_free), else FALSE.
 *
 *	Time is linear in the header and the first FORWARD_TEXT_MAX bytes
 *	of the text; the parser's bounds (common/mime_parse.c) bound the
 *	header fields and addresses, FORWARD_MAX_ADDRESSES the addresses
 *	looked at per field.
 */
#include <string.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "addr.h"
#include "addrlist.h"
#include "forward.h"
#include "srs.h"

#define FORWARD_MAX_ADDRESSES	500	/* per header field */
#define FORWARD_BLOCK_LINES	12	/* From: looked for this far after a marker */
#define FORWARD_LINE_MAX	998	/* longer lines are no marker and no From: */
#define FORWARD_ATTACHED_MAX	(64 * 1024)	/* of an encoded attached message, decoded */

/* Where the original recipient of a forwarded mail is, most specific first. */
static const char *const original_fields[] = {
    "X-Original-To",			/* Postfix local/virtual/pipe: the recipient before aliases */
    "Delivered-To",			/* Postfix, qmail, Exim: the address delivered to */
    "Resent-To",			/* a person's redirect */
    "To", "Cc",				/* what the customer wrote */
    NULL,
};

/*
 * Marker lines of inline forwards, compared case-insensitively after the
 * line's quote marks, white space and the "-", "_", "*" and ":" around it
 * are removed.
 */
static const char *const markers[] = {
    "forwarded message",		/* Gmail, Thunderbird */
    "original message",			/* Outlook */
    "begin forwarded message",		/* Apple Mail */
    "weitergeleitete nachricht",	/* Gmail, Thunderbird (de) */
    "ursprüngliche nachricht",		/* Outlook (de) */
    "anfang der weitergeleiteten nachricht",	/* Apple Mail (de) */
    "message transféré",		/* Gmail, Thunderbird (fr) */
    "message d'origine",		/* Outlook (fr) */
    "début du message réexpédié",	/* Apple Mail (fr) */
    "mensaje reenviado",		/* es */
    "mensaje original",			/* es */
    "messaggio inoltrato",		/* it */
    "messaggio originale",		/* it */
    "doorgestuurd bericht",		/* nl */
    "oorspronkelijk bericht",		/* nl */
    "mensagem encaminhada",		/* pt */
    "vidarebefordrat meddelande",	/* sv */
    "videresendt meddelelse",		/* da */
    "videresendt melding",		/* nb */
    NULL,
};

/* The words for "From" in a forward block's header lines. */
static const char *const from_keys[] = {
    "from", "von", "de", "van", "da", "från", "fra", "od", "remetente", NULL,
};

/* ---------------------------------------------------------------- */
/*	Header addresses						    */
/* ---------------------------------------------------------------- */

/* first_mailbox - the first address of an address list, or NULL */
static InternetAddressMailbox *first_mailbox(InternetAddressList *list, int depth)
{
    int     n = list ? internet_address_list_length(list) : 0;

    for (int i = 0; i < n && i < FORWARD_MAX_ADDRESSES; i++) {
	InternetAddress *ia = internet_address_list_get_address(list, i);
	InternetAddressMailbox *mb;

	if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 2) {
	    mb = first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
			       depth + 1);
	    if (mb)
		return mb;
	} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
	    mb = INTERNET_ADDRESS_MAILBOX(ia);
	    if (internet_address_mailbox_get_addr(mb) && *internet_address_mailbox_get_addr(mb))
		return mb;
	}
    }
    return NULL;
}

/* field_list - the addresses of the i-th header field, if it is NAME (unref), or NULL */
static InternetAddressList *field_list(GMimeHeaderList *headers, int i, const char *name)
{
    GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
    const char *raw = g_mime_header_get_raw_value(h);
    g_autofree char *unfolded = NULL;

    if (raw == NULL || g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
	return NULL;
    unfolded = g_mime_utils_header_unfold(raw);
    return addrlist_parse(NULL, unfolded);
}

/*
 * first_address - name and address of the first address of the first
 * field NAME that has one; FALSE when none. *name and *address g_free.
 */
static gboolean first_address(GMimeObject *obj, const char *name, char **dname, char **address)
{
    GMimeHeaderList *headers = obj ? g_mime_object_get_header_list(obj) : NULL;
    int     n = headers ? g_mime_header_list_get_count(headers) : 0;

    for (int i = 0; i < n; i++) {
	InternetAddressList *list = field_list(headers, i, name);
	InternetAddressMailbox *mb = list ? first_mailbox(list, 0) : NULL;

	if (mb) {
	    const char *nm = internet_address_get_name(INTERNET_ADDRESS(mb));

	    *dname = g_strdup(nm ? nm : "");
	    *address = g_strdup(internet_address_mailbox_get_addr(mb));
	}
	if (list)
	    g_object_unref(list);
	if (mb)
	    return TRUE;
    }
    return FALSE;
}

static void original_free(gpointer p)
{
    struct forward_original *o = p;

    g_free(o->address);
    g_free(o);
}

/* add_matches - append the mailbox of each address of list that found has none of yet */
static void add_matches(const struct intake_config *cfg, InternetAddressList *list, int depth,
			const char *field, GPtrArray *found, int *budget)
{
    int     n = list ? internet_address_list_length(list) : 0;

    for (int i = 0; i < n && *budget > 0; i++) {
	InternetAddress *ia = internet_address_list_get_address(list, i);
	const struct mailbox *m;
	const char *a;

	if (INTERNET_ADDRESS_IS_GROUP(ia)) {
	    if (depth < 2)
		add_matches(cfg, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
			    depth + 1, field, found, budget);
	    continue;
	}
	(*budget)--;
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia)
	    || (a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))) == NULL
	    || (m = config_match(cfg, a)) == NULL || forward_original_of(found, m) != NULL)
	    continue;
	{
	    struct forward_original *o = g_new0(struct forward_original, 1);

	    o->mailbox = m;
	    o->address = g_strdup(a);
	    o->field = field;
	    g_ptr_array_add(found, o);
	}
    }
}

GPtrArray *forward_original_recipients(const struct intake_config *cfg, GMimeMessage *msg)
{
    GPtrArray *found = g_ptr_array_new_with_free_func(original_free);
    GMimeHeaderList *headers = msg ? g_mime_object_get_header_list(GMIME_OBJECT(msg)) : NULL;
    int     n = headers ? g_mime_header_list_get_count(headers) : 0;

    for (int f = 0; cfg && original_fields[f]; f++) {
	for (int i = 0; i < n; i++) {
	    InternetAddressList *list = field_list(headers, i, original_fields[f]);
	    int     budget = FORWARD_MAX_ADDRESSES;

	    if (list) {
		add_matches(cfg, list, 0, original_fields[f], found, &budget);
		g_object_unref(list);
	    }
	}
    }
    return found;
}

const struct forward_original *forward_original_of(GPtrArray *found, const struct mailbox *want)
{
    for (guint i = 0; found && i < found->len; i++) {
	const struct forward_original *o = g_ptr_array_index(found, i);

	if (want == NULL || o->mailbox == want)
	    return o;
    }
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	Inline forward blocks						    */
/* ---------------------------------------------------------------- */

/* ours_or_staff - an address that cannot be the customer of a staff forward */
static gboolean ours_or_staff(const struct intake_config *cfg, const char *address)
{
    return cfg && (config_is_staff(cfg, address) || config_match(cfg, address) != NULL);
}

/* unquote - the line without leading quote marks ("> > ") and white space */
static const char *unquote(const char *p, const char *end)
{
    while (p < end && (*p == '>' || *p == ' ' || *p == '\t'))
	p++;
    return p;
}

/* is_marker - is [p, end) a forward marker line? */
static gboolean is_marker(const char *p, const char *end)
{
    const char *s = p, *e = end;
    gsize   underscores = 0;
    g_autofree char *folded = NULL;

    while (s < e && strchr("-_*: \t\r", *s)) {
	underscores += *s == '_';
	s++;
    }
    while (e > s && strchr("-_*: \t\r", e[-1]))
	e--;
    /* Outlook's plain-text forward: a rule of underscores, then From:. */
    if (s == e)
	return underscores >= 10;
    if (e - s > 64 || !g_utf8_validate_len(s, e - s, NULL))
	return FALSE;
    folded = g_utf8_casefold(s, e - s);
    return g_strv_contains(markers, folded);
}

/*
 * header_value - the value of a "Key: value" line whose key is one of
 * keys (French writes "De :"; bold from HTML "*From:*"), or NULL.
 * *is_header says whether the line looks like any "Key: value" line.
 */
static const char *header_value(const char *p, const char *end, gboolean *is_header)
{
    const char *colon, *k = p, *ke;
    g_autofree char *folded = NULL;

    *is_header = FALSE;
    while (k < end && *k == '*')
	k++;
    colon = memchr(k, ':', MIN(end - k, 40));
    if (colon == NULL || colon == k)
	return NULL;
    for (const char *q = k; q < colon; q++)
	if (*q == '\t' || (unsigned char) *q < ' ')
	    return NULL;
    ke = colon;
    while (ke > k && (ke[-1] == ' ' || ke[-1] == '*'))
	ke--;
    if (!g_utf8_validate_len(k, ke - k, NULL))
	return NULL;
    *is_header = TRUE;
    folded = g_utf8_casefold(k, ke - k);
    if (!g_strv_contains(from_keys, folded))
	return NULL;
    colon++;
    while (colon < end && (*colon == ' ' || *colon == '*'))
	colon++;
    return colon;
}

static gboolean local_char(char c)
{
    return g_ascii_isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static gboolean domain_char(char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '-';
}

/*
 * parse_from_value - name and address of a forward block's From value:
 * "Jane Doe <jane@example.org>", "Jane Doe [mailto:jane@example.org]",
 * "\"Doe, Jane\" <jane@example.org<mailto:jane@example.org>>" (Outlook's
 * text from HTML), "jane@example.org". The address is the first run of
 * address characters around the first "@"; the name what comes before
 * the first "<", "[" or the address, without quotes.
 */
static gboolean parse_from_value(const char *v, const char *end, char **name, char **address)
{
    const char *at = memchr(v, '@', end - v);
    const char *ls, *de, *ne;
    const char *dot = NULL;

    if (at == NULL)
	return FALSE;
    for (ls = at; ls > v && local_char(ls[-1]); ls--)
	;
    for (de = at + 1; de < end && domain_char(*de); de++)
	if (*de == '.')
	    dot = de;
    while (de > at + 1 && (de[-1] == '.' || de[-1] == '-'))
	de--;
    if (ls == at || dot == NULL || dot >= de - 1 || dot == at + 1)
	return FALSE;
    ne = ls;
    for (const char *q = v; q < ls; q++)
	if (*q == '<' || *q == '[') {
	    ne = q;
	    break;
	}
    while (ne > v && strchr(" \t\"'*(", ne[-1]))
	ne--;
    while (v < ne && strchr(" \t\"'*", *v))
	v++;
    *name = g_strndup(v, ne - v);
    if (strchr(*name, '@')) {
	g_free(*name);
	*name = g_strdup("");
    }
    *address = g_strndup(ls, de - ls);
    return TRUE;
}

gboolean forward_inline_from(const struct intake_config *cfg, const char *text, gsize len,
			     char **name, char **address)
{
    const char *end = text + MIN(len, FORWARD_TEXT_MAX);
    const char *line = text;
    int     after = -1;			/* lines since a marker; -1: none */
    gboolean seen_header = FALSE;

    *name = *address = NULL;
    while (line < end) {
	const char *nl = memchr(line, '\n', end - line);
	const char *le = nl ? nl : end;
	const char *p = unquote(line, le);
	const char *v;
	gboolean is_header;

	/* A line cut by the limit could name a truncated address: not read. */
	if (nl == NULL && len > FORWARD_TEXT_MAX)
	    break;
	while (le > p && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
	    le--;
	if (le - p > FORWARD_LINE_MAX)
	    after = -1;
	else if (is_marker(p, le)) {
	    after = 0;
	    seen_header = FALSE;
	} else if (after >= 0) {
	    after++;
	    if (p == le) {
		/* Apple Mail leaves an empty line after its marker; a block ends at one. */
		if (seen_header)
		    after = -1;
	    } else if ((v = header_value(p, le, &is_header)) != NULL) {
		g_autofree char *n = NULL;
		g_autofree char *a = NULL;

		if (parse_from_value(v, le, &n, &a) && !ours_or_staff(cfg, a)) {
		    *name = g_steal_pointer(&n);
		    *address = g_steal_pointer(&a);
		    return TRUE;
		}
		after = -1;		/* a colleague's forward: look for the next block */
	    } else if (is_header)
		seen_header = TRUE;
	    if (after > FORWARD_BLOCK_LINES)
		after = -1;
	}
	line = nl ? nl + 1 : end;
    }
    return FALSE;
}

/* ---------------------------------------------------------------- */
/*	The customer							    */
/* ---------------------------------------------------------------- */

struct attached {
    const struct intake_config *cfg;
    char   *name;
    char   *address;
    char   *buf;			/* encoded_message()'s, or NULL */
};

/*
 * encoded_message - the header of a message/rfc822 part sent base64 or
 * quoted-printable (RFC 2046 forbids it; some mailers and swaks do it, and
 * GMime then leaves it an opaque part): its first FORWARD_ATTACHED_MAX
 * decoded bytes, parsed. A new reference, or NULL.
 */
static GMimeMessage *encoded_message(GMimePart *part, char **buf)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
    GMimeStream *filtered, *mem;
    GMimeFilter *filter;
    GMimeParser *parser;
    GMimeMessage *msg;
    gsize   got = 0;
    gssize  n;

    if (raw == NULL)
	return NULL;
    /* One buffer for all parts of a mail (a thousand parts are a thousand reads). */
    if (*buf == NULL)
	*buf = g_malloc(FORWARD_ATTACHED_MAX);
    g_mime_stream_reset(raw);
    filtered = g_mime_stream_filter_new(raw);
    filter = g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(w), FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), filter);
    g_object_unref(filter);
    while (got < FORWARD_ATTACHED_MAX
	   && (n = g_mime_stream_read(filtered, *buf + got, FORWARD_ATTACHED_MAX - got)) > 0)
	got += (gsize) n;
    g_object_unref(filtered);
    mem = g_mime_stream_mem_new_with_buffer(*buf, got);
    parser = g_mime_parser_new_with_stream(mem);
    msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(mem);
    return msg;
}

/* attached_sender - g_mime_message_foreach() callback: the first attached message's sender */
static void attached_sender(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    struct attached *at = data;
    GMimeMessage *inner = NULL;
    char   *name = NULL, *address = NULL;

    (void) parent;
    if (at->address)
	return;
    if (GMIME_IS_MESSAGE_PART(part)) {
	inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
	if (inner)
	    g_object_ref(inner);
    } else if (GMIME_IS_PART(part) && g_mime_content_type_is_type(
				g_mime_object_get_content_type(part), "message", "rfc822"))
	inner = encoded_message(GMIME_PART(part), &at->buf);
    if (inner && first_address(GMIME_OBJECT(inner), "From", &name, &address)
	&& !ours_or_staff(at->cfg, address)) {
	at->name = name;
	at->address = address;
    } else {
	g_free(name);
	g_free(address);
    }
    if (inner)
	g_object_unref(inner);
}

static void set(struct forward_customer *out, char *name, char *address, const char *how)
{
    out->name = name ? name : g_strdup("");
    out->address = address ? address : g_strdup("");
    out->how = how;
}

void    forward_customer(const struct intake_config *cfg, GMimeMessage *msg,
			 const char *sender, const char *text,
			 struct forward_customer *out)
{
    GMimeObject *obj = msg ? GMIME_OBJECT(msg) : NULL;
    char   *name = NULL, *address = NULL;
    char   *srs;

    memset(out, 0, sizeof(*out));
    if (first_address(obj, "From", &name, &address)) {
	if (cfg && config_is_staff(cfg, address)) {
	    struct attached at = {cfg, NULL, NULL, NULL};

	    g_mime_message_foreach(msg, attached_sender, &at);
	    g_free(at.buf);
	    if (at.address) {
		set(out, at.name, at.address, "forwarded-attachment");
		out->by = address;
		g_free(name);
		return;
	    }
	    if (text && forward_inline_from(cfg, text, strlen(text), &at.name, &at.address)) {
		set(out, at.name, at.address, "forwarded-inline");
		out->by = address;
		g_free(name);
		return;
	    }
	}
	set(out, name, address, "from");
	{
	    char   *rname = NULL, *raddr = NULL;
	    g_autofree char *a = addr_normalise(address, cfg ? cfg->recipient_delimiter : "");
	    g_autofree char *r = NULL;

	    if (first_address(obj, "Resent-From", &rname, &raddr)
		&& (r = addr_normalise(raddr, cfg ? cfg->recipient_delimiter : "")) != NULL
		&& g_strcmp0(a, r) != 0)
		out->by = g_steal_pointer(&raddr);
	    g_free(rname);
	    g_free(raddr);
	}
	return;
    }
    if (first_address(obj, "Reply-To", &name, &address)) {
	set(out, name, address, "reply-to");
	return;
    }
    if (first_address(obj, "Sender", &name, &address)) {
	set(out, name, address, "sender");
	return;
    }
    if ((srs = srs_decode(sender)) != NULL)
	set(out, NULL, srs, "srs");
    else if (sender && *sender)
	set(out, NULL, g_strdup(sender), "envelope");
    else
	set(out, NULL, NULL, "none");
}

void    forward_customer_clear(struct forward_customer *c)
{
    g_clear_pointer(&c->name, g_free);
    g_clear_pointer(&c->address, g_free);
    g_clear_pointer(&c->by, g_free);
    c->how = NULL;
}
