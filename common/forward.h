/* forward.h: forwarded and redirected mail: its mailbox and its customer. See forward.c. */
#ifndef INTAKE_FORWARD_H
#define INTAKE_FORWARD_H

#include <glib.h>
#include <gmime/gmime.h>
#include "config.h"

/* Bytes of body text searched for an inline forward block. */
#define FORWARD_TEXT_MAX	(64 * 1024)

struct forward_customer {
    char   *name;			/* display name, "" when none (g_free) */
    char   *address;			/* "" when none is known (g_free) */
    const char *how;			/* which rule decided (static) */
    char   *by;				/* who forwarded or redirected it, or NULL */
};

/* A mailbox an original-recipient header names, and where (forward_original_recipients()). */
struct forward_original {
    const struct mailbox *mailbox;
    char   *address;			/* as written in the header */
    const char *field;			/* X-Original-To, ... (static) */
};

GPtrArray *forward_original_recipients(const struct intake_config *cfg, GMimeMessage *msg);
const struct forward_original *forward_original_of(GPtrArray *found,
						   const struct mailbox *want);
void    forward_customer(const struct intake_config *cfg, GMimeMessage *msg,
			 const char *sender, const char *text,
			 struct forward_customer *out);
void    forward_customer_clear(struct forward_customer *c);
gboolean forward_inline_from(const struct intake_config *cfg, const char *text, gsize len,
			     char **name, char **address);

#endif
