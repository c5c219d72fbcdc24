/*
 * NAME
 *	ack_policy - may we acknowledge this mail, and to which address?
 * SYNOPSIS
 *	#include "ack_policy.h"
 *
 *	const char *ack_policy(rq, &to)
 *	gboolean ack_no_reply_address(addr)
 *	gboolean ack_aligned(domain_a, domain_b)
 *	const char *ack_auth_failure(env, authserv_ids)
 * DESCRIPTION
 *	The rules that keep an automatic acknowledgement from becoming
 *	backscatter or half of a mail loop (RFC 3834), in one place. It is
 *	a pure function of the envelope, the configuration and one fact the
 *	caller looked up (whether the Message-ID is one of our own
 *	replies'): stage_reply.c asks it, and its tests need
 *	neither a store nor an MTA.
 *
 *	ack_policy() returns NULL when an acknowledgement may go, otherwise
 *	the reason it may not (a static text for the log and the ticket).
 *	Either way *to is the address it goes or would go to (g_free), or
 *	NULL when that is no plain mail address. The address
 *	is the envelope sender (RFC 3834 section 4: the Return-Path), or,
 *	with the mailbox's reply_to = from_if_aligned, the first Reply-To
 *	(else From) address when its domain is the envelope sender's or
 *	shares its organisational domain (DMARC relaxed alignment), the
 *	envelope sender otherwise. An SRS-rewritten envelope sender counts
 *	as the original address for that comparison (srs_decode()). The
 *	rules, in the order of the table rules[] below, refuse:
 *	auto-generated mail (the envelope's autogen.kind), the null sender,
 *	a staff member's forward (the customer did not write, and a forged
 *	staff From must not make us mail anyone), X-Auto-Response-Suppress asking
 *	for no reply, an X-Loop naming one of our mailboxes, our own
 *	Message-ID coming back, a From made up by an MTA (the raw From
 *	field holds no "@": Postfix appended $myorigin to a bare word or an
 *	encoded word; or its local part is an encoded word), a reply
 *	address that is no plain address, one of our mailboxes or aliases,
 *	or a no-reply address, a Reply-To naming a no-reply address, and
 *	a mail our own MTA's Authentication-Results say failed SPF or
 *	DMARC (unless the mailbox says ack_on_auth_fail = yes).
 *
 *	ack_no_reply_address() tells whether an address is of the kind
 *	that must never be answered (table no_reply[]: noreply, no-reply,
 *	do-not-reply, mailer-daemon, postmaster, bounce*, *-request, ...).
 *
 *	ack_aligned() tells whether two domains are aligned in DMARC's
 *	relaxed sense: equal, or with one organisational domain (the
 *	registrable domain by the Public Suffix List, libpsl: the system's
 *	list when installed, else libpsl's built-in one).
 *
 *	ack_auth_failure() reads the topmost Authentication-Results field
 *	whose authserv-id is one of ours ([worker] authserv_id) and returns
 *	"spf" or "dmarc" when it says that method failed, NULL otherwise.
 *	Fields with another authserv-id are ignored: anyone can write one.
 *	It needs the milter to copy Authentication-Results into the
 *	envelope ([milter] raw_headers, the default does).
 *
 *	Every scan is linear in the header text, which the milter bounds.
 */
#include <string.h>
#include <libpsl.h>

#include "ack_policy.h"
#include "addr.h"
#include "envelope.h"
#include "reply.h"
#include "srs.h"

/* ---------------------------------------------------------------- */
/*	No-reply addresses						    */
/* ---------------------------------------------------------------- */

enum match { EXACT, PREFIX, SUFFIX };

static const struct {
    const char *text;
    enum match how;
} no_reply[] = {
    {"noreply", PREFIX},		/* noreply, noreply-billing */
    {"no-reply", PREFIX},
    {"no_reply", PREFIX},
    {"donotreply", PREFIX},
    {"do-not-reply", PREFIX},
    {"do_not_reply", PREFIX},
    {"mailer-daemon", EXACT},
    {"mailerdaemon", EXACT},
    {"postmaster", EXACT},
    {"bounce", PREFIX},			/* bounce, bounces, bounce-123, bounces+x=y */
    {"-request", SUFFIX},		/* list software's command addresses */
    {"listserv", EXACT},
    {"majordomo", EXACT},
    {"nobody", EXACT},
    {0},
};

gboolean ack_no_reply_address(const char *addr)
{
    g_autofree char *low = addr_normalise(addr, "+");
    const char *at;
    gsize   n;

    if (low == NULL)
	return FALSE;
    at = strrchr(low, '@');
    n = at ? (gsize) (at - low) : strlen(low);
    for (int i = 0; no_reply[i].text; i++) {
	gsize   len = strlen(no_reply[i].text);

	if (len > n)
	    continue;
	if ((no_reply[i].how == EXACT && n == len && memcmp(low, no_reply[i].text, n) == 0)
	    || (no_reply[i].how == PREFIX && memcmp(low, no_reply[i].text, len) == 0)
	    || (no_reply[i].how == SUFFIX && memcmp(low + n - len, no_reply[i].text, len) == 0))
	    return TRUE;
    }
    return FALSE;
}

/* ---------------------------------------------------------------- */
/*	Alignment							    */
/* ---------------------------------------------------------------- */

static gpointer load_psl(gpointer unused)
{
    psl_ctx_t *psl = psl_latest(NULL);

    (void) unused;
    return psl ? psl : (gpointer) psl_builtin();
}

/* org_domain - the registrable domain of a lower-case domain, or the domain itself */
static const char *org_domain(const char *domain)
{
    static GOnce once = G_ONCE_INIT;
    const psl_ctx_t *psl = g_once(&once, load_psl, NULL);
    const char *reg = psl ? psl_registrable_domain(psl, domain) : NULL;

    if (psl == NULL) {
	/*
	 * XXX Without any list: the last two labels, right for most
	 * domains, too lenient for example.co.uk (every .co.uk would look
	 * aligned). libpsl has a built-in list, so this is a last resort.
	 */
	const char *last = strrchr(domain, '.');

	reg = domain;
	for (const char *p = domain; last && (p = strchr(p, '.')) != NULL && p < last; p++)
	    reg = p + 1;
    }
    return reg ? reg : domain;
}

gboolean ack_aligned(const char *domain_a, const char *domain_b)
{
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    if (domain_a == NULL || domain_b == NULL || !*domain_a || !*domain_b)
	return FALSE;
    a = g_ascii_strdown(domain_a, -1);
    b = g_ascii_strdown(domain_b, -1);
    return strcmp(a, b) == 0 || strcmp(org_domain(a), org_domain(b)) == 0;
}

/* ---------------------------------------------------------------- */
/*	Authentication-Results (RFC 8601)				    */
/* ---------------------------------------------------------------- */

/* without_comments - the value with comments and quoted strings made spaces */
static char *without_comments(const char *v)
{
    char   *out = g_strdup(v);
    int     depth = 0;
    gboolean quoted = FALSE;

    for (char *p = out; *p; p++) {
	if (quoted) {
	    if (*p == '\\' && p[1])
		*p++ = ' ';
	    else if (*p == '"')
		quoted = FALSE;
	    *p = ' ';
	} else if (*p == '(') {
	    depth++;
	    *p = ' ';
	} else if (depth > 0) {
	    if (*p == ')')
		depth--;
	    else if (*p == '\\' && p[1])
		*p++ = ' ';
	    *p = ' ';
	} else if (*p == '"') {
	    quoted = TRUE;
	    *p = ' ';
	}
    }
    return out;
}

/* result_of - in "method[/v]=result ..." return whether method is m with result r */
static gboolean says(const char *seg, const char *m, const char *r)
{
    gsize   ml = strlen(m), rl = strlen(r);
    const char *p;

    while (*seg == ' ' || *seg == '\t')
	seg++;
    if (g_ascii_strncasecmp(seg, m, ml) != 0)
	return FALSE;
    p = seg + ml;
    if (*p == '/')
	while (g_ascii_isdigit(*++p))
	    ;
    while (*p == ' ' || *p == '\t')
	p++;
    if (*p++ != '=')
	return FALSE;
    while (*p == ' ' || *p == '\t')
	p++;
    return g_ascii_strncasecmp(p, r, rl) == 0 && !g_ascii_isalnum(p[rl]);
}

const char *ack_auth_failure(json_t *env, char *const *authserv_ids)
{
    json_t *h;
    size_t  i;

    if (authserv_ids == NULL || authserv_ids[0] == NULL)
	return NULL;
    json_array_foreach(json_object_get(env, "headers"), i, h) {
	const char *n = json_string_value(json_array_get(h, 0));
	const char *v = json_string_value(json_array_get(h, 1));
	g_autofree char *clean = NULL;
	g_auto(GStrv) segs = NULL;
	g_autofree char *id = NULL;
	gboolean ours = FALSE;
	const char *failed = NULL;

	if (n == NULL || v == NULL || g_ascii_strcasecmp(n, "Authentication-Results") != 0)
	    continue;
	clean = without_comments(v);
	segs = g_strsplit(clean, ";", 0);
	if (segs[0] == NULL)
	    continue;
	{
	    /* authserv-id [version]: the first word of the first part */
	    const char *s = segs[0];
	    gsize   len;

	    while (*s == ' ' || *s == '\t')
		s++;
	    len = strcspn(s, " \t");
	    id = g_strndup(s, len);
	}
	for (int k = 0; authserv_ids[k] && !ours; k++)
	    ours = g_ascii_strcasecmp(authserv_ids[k], id) == 0;
	if (!ours)
	    continue;
	for (int k = 1; segs[k] && !failed; k++)
	    if (says(segs[k], "spf", "fail"))
		failed = "spf";
	    else if (says(segs[k], "dmarc", "fail"))
		failed = "dmarc";
	/* Ours and topmost: what lies below came from elsewhere. */
	return failed;
    }
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	The rules							    */
/* ---------------------------------------------------------------- */

struct ctx {
    const struct ack_request *rq;
    const char *sender;
    const char *target;			/* the chosen address, as written */
    const char *safe;			/* reply_safe_address(target), or NULL */
    const char *auth;			/* ack_auth_failure() */
};

static gboolean any_header(json_t *env, const char *name,
			   gboolean (*test) (const struct ctx *, const char *),
			   const struct ctx *c)
{
    json_t *h;
    size_t  i;

    json_array_foreach(json_object_get(env, "headers"), i, h) {
	const char *n = json_string_value(json_array_get(h, 0));
	const char *v = json_string_value(json_array_get(h, 1));

	if (n && v && g_ascii_strcasecmp(n, name) == 0 && test(c, v))
	    return TRUE;
    }
    return FALSE;
}

static gboolean autogen_kind(const struct ctx *c)
{
    const char *kind = envelope_str(json_object_get(c->rq->env, "autogen"), "kind");

    return kind && *kind && strcmp(kind, "human") != 0;
}

/* staff_forward - a staff member forwarded a customer's mail (common/forward.c) */
static gboolean staff_forward(const struct ctx *c)
{
    json_t *customer = json_object_get(c->rq->env, "customer");

    return json_object_get(customer, "by") != NULL
	&& g_str_has_prefix(envelope_str(customer, "how"), "forwarded");
}

static gboolean null_sender(const struct ctx *c)
{
    return *c->sender == 0;
}

static gboolean suppress_value(const struct ctx *c, const char *v)
{
    g_autofree char *low = g_ascii_strdown(v, -1);

    (void) c;
    return strstr(low, "all") || strstr(low, "autoreply") || strstr(low, "oof");
}

static gboolean suppressed(const struct ctx *c)
{
    return any_header(c->rq->env, "X-Auto-Response-Suppress", suppress_value, c);
}

static gboolean loop_value(const struct ctx *c, const char *v)
{
    return config_match(c->rq->cfg, v) != NULL;
}

static gboolean x_loop(const struct ctx *c)
{
    return any_header(c->rq->env, "X-Loop", loop_value, c);
}

static gboolean own_message_id(const struct ctx *c)
{
    return c->rq->own_message_id;
}

static gboolean made_up_from(const struct ctx *c)
{
    json_t *from = json_array_get(json_object_get(c->rq->env, "from"), 0);
    const char *addr = from ? envelope_str(from, "address") : NULL;
    const char *raw = NULL;
    json_t *h;
    size_t  i;

    /* The first From field as the sender wrote it. */
    json_array_foreach(json_object_get(c->rq->env, "headers"), i, h) {
	const char *n = json_string_value(json_array_get(h, 0));

	if (n && g_ascii_strcasecmp(n, "From") == 0) {
	    raw = json_string_value(json_array_get(h, 1));
	    break;
	}
    }
    if (raw && *raw && strchr(raw, '@') == NULL)
	return TRUE;
    /* No mailbox has a local part that is an encoded word. */
    return addr && g_str_has_prefix(addr, "=?");
}

static gboolean unusable(const struct ctx *c)
{
    return c->safe == NULL;
}

static gboolean ours(const struct ctx *c)
{
    return config_match(c->rq->cfg, c->safe) != NULL;
}

static gboolean no_reply_target(const struct ctx *c)
{
    return ack_no_reply_address(c->safe);
}

static gboolean no_reply_reply_to(const struct ctx *c)
{
    json_t *a;
    size_t  i;

    json_array_foreach(json_object_get(c->rq->env, "reply_to"), i, a)
	if (ack_no_reply_address(envelope_str(a, "address")))
	return TRUE;
    return FALSE;
}

static gboolean spf_failed(const struct ctx *c)
{
    return c->auth && strcmp(c->auth, "spf") == 0 && !c->rq->mailbox->ack_on_auth_fail;
}

static gboolean dmarc_failed(const struct ctx *c)
{
    return c->auth && strcmp(c->auth, "dmarc") == 0 && !c->rq->mailbox->ack_on_auth_fail;
}

static const struct rule {
    gboolean (*refuse) (const struct ctx *);
    const char *why;
} rules[] = {
    {autogen_kind, "auto-generated mail (the milter's autogen verdict)"},
    {null_sender, "null envelope sender"},
    {staff_forward, "forwarded by staff: the customer did not write to us"},
    {suppressed, "X-Auto-Response-Suppress asks for no automatic reply"},
    {x_loop, "X-Loop names one of our mailboxes (a loop)"},
    {own_message_id, "its Message-ID is one of our own replies' (a loop)"},
    {made_up_from, "its From was made up by an MTA (no address in the From field)"},
    {unusable, "the reply address is not a plain mail address"},
    {ours, "the reply address is one of our own mailboxes"},
    {no_reply_target, "the reply address is a no-reply address"},
    {no_reply_reply_to, "Reply-To names a no-reply address"},
    {spf_failed, "our MTA's Authentication-Results say spf=fail ([mailbox] ack_on_auth_fail = no)"},
    {dmarc_failed, "our MTA's Authentication-Results say dmarc=fail ([mailbox] ack_on_auth_fail = no)"},
    {0},
};

/* choose_target - where the acknowledgement would go (borrowed from the envelope) */
static const char *choose_target(const struct ack_request *rq, const char *sender)
{
    json_t *env = rq->env;
    json_t *cand = json_array_get(json_object_get(env, "reply_to"), 0);
    g_autofree char *decoded = NULL;
    g_autofree char *norm = NULL;
    const char *addr;

    if (strcmp(rq->mailbox->reply_to, "from_if_aligned") != 0 || *sender == 0)
	return sender;
    if (cand == NULL)
	cand = json_array_get(json_object_get(env, "from"), 0);
    if (cand == NULL || (addr = envelope_str(cand, "address")) == NULL || *addr == 0)
	return sender;
    decoded = srs_decode(sender);
    norm = addr_normalise(addr, NULL);
    if (norm == NULL)
	return sender;
    {
	const char *sd = strrchr(decoded ? decoded : sender, '@');

	return sd && ack_aligned(sd + 1, addr_domain(norm)) ? addr : sender;
    }
}

const char *ack_policy(const struct ack_request *rq, char **to)
{
    struct ctx c = {rq, NULL, NULL, NULL, NULL};
    g_autofree char *safe = NULL;

    *to = NULL;
    c.sender = envelope_str(rq->env, "sender");
    c.target = choose_target(rq, c.sender);
    c.safe = safe = reply_safe_address(c.target);
    c.auth = ack_auth_failure(rq->env, rq->cfg->authserv_ids);
    *to = g_steal_pointer(&safe);
    for (const struct rule *r = rules; r->refuse; r++)
	if (r->refuse(&c))
	    return r->why;
    return NULL;
}
