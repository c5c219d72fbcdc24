/*
 * NAME
 *	floor-milter - accept-everything libmilter filter: the floor of make bench
 * SYNOPSIS
 *	floor-milter SOCKET [MAILBOX]
 * DESCRIPTION
 *	What any libmilter filter costs the MTA and the machine, measured
 *	beside intake-milter in the relay section of make bench
 *	(tests/bench/run): it negotiates exactly what intake-milter does
 *	(milter/protocol.h: actions, no-reply flags, skipped steps, macros
 *	per stage), registers the same callbacks, and at end of message adds
 *	the same X-Intake-Id header field; it reads nothing and queues
 *	nothing. So the protocol traffic of the two is the same command for
 *	command, and the difference in their cost is intake-milter's own
 *	work (parsing, the envelope, Redis).
 *
 *	Mail with no recipient containing MAILBOX (default "support@") is
 *	accepted at DATA, as intake-milter accepts mail for no mailbox, so
 *	that a mixed load costs the floor what it costs intake-milter in
 *	protocol steps.
 *
 *	SIGTERM stops it (libmilter's signal thread).
 * DIAGNOSTICS
 *	Exits 1 with a message on standard error when it cannot start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

#include "protocol.h"

/* A connection's state: what was negotiated, and whether a mailbox is a recipient. */
struct floor_conn {
    unsigned long protocol;
    int     matched;
};

static const char *mailbox = "support@";

static sfsistat reply(SMFICTX *ctx, unsigned long flag)
{
    struct floor_conn *c = smfi_getpriv(ctx);

    return (c && (c->protocol & flag)) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* conn_of - the connection's state, made at negotiation (or first use, without one) */
static struct floor_conn *conn_of(SMFICTX *ctx)
{
    struct floor_conn *c = smfi_getpriv(ctx);

    if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL)
	smfi_setpriv(ctx, c);
    return c;
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct floor_conn *c;
    int     bad;

    if ((f0 & PROTOCOL_ACTIONS) != PROTOCOL_ACTIONS || (c = conn_of(ctx)) == NULL)
	return SMFIS_REJECT;
    /* As intake-milter's cb_negotiate (milter/intake-milter.c). */
#ifndef FLOOR_NO_SYMLIST			/* (cc -D: what the macro lists save) */
    c->protocol = protocol_offer(ctx, f0, f1, pf0, &bad);
    if (bad >= 0)
	fprintf(stderr, "floor-milter: smfi_setsymlist(%d) failed\n", bad);
#else
    c->protocol = protocol_offer(ctx, 0, f1, pf0, &bad);
#endif
    *pf1 = c->protocol;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    return conn_of(ctx) ? reply(ctx, SMFIP_NR_CONN) : SMFIS_TEMPFAIL;
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
    return reply(ctx, SMFIP_NR_HELO);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    struct floor_conn *c = smfi_getpriv(ctx);

    if (c == NULL)
	return SMFIS_TEMPFAIL;
    c->matched = 0;
    return reply(ctx, SMFIP_NR_MAIL);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    struct floor_conn *c = smfi_getpriv(ctx);

    if (c == NULL)
	return SMFIS_TEMPFAIL;
    if (argv[0] && strstr(argv[0], mailbox))
	c->matched = 1;
    return reply(ctx, SMFIP_NR_RCPT);
}

static sfsistat cb_data(SMFICTX *ctx)
{
    struct floor_conn *c = smfi_getpriv(ctx);

    if (c == NULL)
	return SMFIS_TEMPFAIL;
    return c->matched ? SMFIS_CONTINUE : SMFIS_ACCEPT;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    return reply(ctx, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    return reply(ctx, SMFIP_NR_EOH);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    return reply(ctx, SMFIP_NR_BODY);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    struct floor_conn *c = smfi_getpriv(ctx);
    const char *value;

    if (c == NULL)
	return SMFIS_TEMPFAIL;
    /* The same field intake-milter adds: one modification request, as there. */
    value = (c->protocol & SMFIP_HDR_LEADSPC) ? " floor-0" : "floor-0";
    if (smfi_addheader(ctx, "X-Intake-Id", (char *) value) != MI_SUCCESS)
	return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = "floor-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = PROTOCOL_ACTIONS,
    .xxfi_connect = cb_connect,
    .xxfi_helo = cb_helo,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_data = cb_data,
    .xxfi_negotiate = cb_negotiate,
};

int     main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
	fprintf(stderr, "usage: floor-milter SOCKET [MAILBOX]\n");
	return 1;
    }
    if (argc == 3)
	mailbox = argv[2];
    /* The MTA runs as another user: the socket is for everyone (a bench, not a service). */
    umask(0);
    if (smfi_register(filter) == MI_FAILURE || smfi_setconn(argv[1]) == MI_FAILURE
	|| smfi_opensocket(1) == MI_FAILURE) {
	fprintf(stderr, "floor-milter: cannot register or listen on %s\n", argv[1]);
	return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
