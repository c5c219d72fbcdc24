/* ack_policy.h: may a ticket's acknowledgement be sent, and to whom? See ack_policy.c. */
#ifndef INTAKE_ACK_POLICY_H
#define INTAKE_ACK_POLICY_H

#include <glib.h>
#include <jansson.h>
#include "config.h"

struct ack_request {
    json_t *env;			/* the envelope, borrowed */
    const struct intake_config *cfg;
    const struct mailbox *mailbox;
    gboolean own_message_id;		/* its Message-ID is one of our replies' */
};

const char *ack_policy(const struct ack_request *rq, char **to);
gboolean ack_no_reply_address(const char *addr);
gboolean ack_aligned(const char *domain_a, const char *domain_b);
const char *ack_auth_failure(json_t *env, char *const *authserv_ids);

#endif
