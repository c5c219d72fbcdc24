/* thread_policy.h: who may write into a ticket, what a closed one does. See thread_policy.c. */
#ifndef INTAKE_THREAD_POLICY_H
#define INTAKE_THREAD_POLICY_H

#include <glib.h>

/* What a follow-up to a closed ticket does. */
enum closed_action {
    CLOSED_REOPEN,			/* added, ticket open again */
    CLOSED_KEEP,			/* added, ticket stays closed */
    CLOSED_NEW,				/* a new ticket, linked to the closed one */
    CLOSED_REFUSE,			/* added as a note, ticket closed, notice sent */
};

#define THANKS_MAX_WORDS 12

gboolean thread_may_write(const char *trust, const char *sender, const char *const *parties,
			  const char **why);
gboolean thread_freemail_domain(const char *domain);
enum closed_action thread_on_closed(const char *on_closed, int reopen_days, gint64 closed_at,
				    gint64 now, gboolean quiet, const char **why);
gboolean thread_is_thanks(const char *text);

#endif
