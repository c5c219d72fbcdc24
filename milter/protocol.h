/*
 * NAME
 *	protocol.h - what intake-milter negotiates with the MTA
 * SYNOPSIS
 *	#include "protocol.h"
 *
 *	PROTOCOL_ACTIONS, PROTOCOL_NR, PROTOCOL_SKIP
 *	const struct protocol_macros protocol_macros[];
 * DESCRIPTION
 *	The milter protocol's steps, no-reply flags, actions and macros that
 *	intake-milter asks for, in one place: intake-milter.c negotiates
 *	them, and the libmilter floor of make bench (tests/bench/floor-milter.c)
 *	negotiates exactly the same, so that the two differ only in what
 *	their callbacks do.
 *
 *	Every command the MTA sends is a write and a read on each side and,
 *	in libmilter, a poll() and a read() per command; every reply the
 *	milter owes one more round trip. Hence: no reply on every stage
 *	that allows one (DATA is where mail without a mailbox recipient is
 *	accepted, so it keeps its reply), no unknown commands, and the
 *	queue id {i} at DATA, the first stage at which Postfix (with
 *	smtpd_delay_open_until_valid_rcpt, its default) knows it, and at
 *	end of message for an MTA without the DATA step (milter protocol
 *	before version 4); not at MAIL and RCPT, where Postfix has none. contrib/postfix/main.cf.snippet's milter_*_macros list the
 *	same, for an MTA that ignores SMFIF_SETSYMLIST.
 */
#ifndef INTAKE_PROTOCOL_H
#define INTAKE_PROTOCOL_H

#include <libmilter/mfapi.h>

#define PROTOCOL_ACTIONS	(SMFIF_ADDHDRS | SMFIF_DELRCPT)
#define PROTOCOL_NR	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT \
			 | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_UNKN)
#define PROTOCOL_SKIP	(SMFIP_NOUNKNOWN)

/* The macros asked for at each stage (smfi_setsymlist): "" for none. */
struct protocol_macros {
    int     stage;			/* SMFIM_* */
    const char *macros;			/* space-separated names */
};

static const struct protocol_macros protocol_macros[] = {
    {SMFIM_CONNECT, ""}, {SMFIM_HELO, ""}, {SMFIM_ENVFROM, ""}, {SMFIM_ENVRCPT, ""},
    {SMFIM_DATA, "i"}, {SMFIM_EOH, ""}, {SMFIM_EOM, "i"},
};

/*
 * protocol_offer - from the MTA's offer (actions f0, steps f1), the actions
 * (*pf0) and steps (returned) we take, and our macro lists set when the MTA
 * lets us; *bad_stage is a stage whose list libmilter refused, else -1.
 * Static inline: intake-milter and the bench's floor filter share it.
 */
static inline unsigned long protocol_offer(SMFICTX *ctx, unsigned long f0, unsigned long f1,
					   unsigned long *pf0, int *bad_stage)
{
    size_t  i;

    *bad_stage = -1;
    *pf0 = PROTOCOL_ACTIONS;
    if (f0 & SMFIF_SETSYMLIST) {
	*pf0 |= SMFIF_SETSYMLIST;
	for (i = 0; i < sizeof(protocol_macros) / sizeof(protocol_macros[0]); i++)
	    if (smfi_setsymlist(ctx, protocol_macros[i].stage,
				(char *) protocol_macros[i].macros) != MI_SUCCESS)
		*bad_stage = protocol_macros[i].stage;
    }
    return (f1 & PROTOCOL_NR) | (f1 & PROTOCOL_SKIP) | (f1 & SMFIP_HDR_LEADSPC);
}

#endif
