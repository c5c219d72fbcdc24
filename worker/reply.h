/* reply.h: build automatic replies (RFC 3834). See reply.c. */
#ifndef INTAKE_REPLY_H
#define INTAKE_REPLY_H

#include <glib.h>
#include <jansson.h>

struct reply_spec {
    const char *from_name;
    const char *from_address;
    const char *to_name;
    const char *to_address;
    const char *subject;
    const char *body;
    const char *html;			/* the HTML alternative; NULL: text/plain only */
    const char *in_reply_to;		/* customer's Message-ID, no <> */
    json_t *references;			/* customer's References, array */
    const char *ticket_number;
    const char *message_id;		/* ours, no <>; NULL: make one up */
};

GBytes *reply_build(const struct reply_spec *spec, char **message_id, char **why);
struct msgid_keys;
char   *reply_new_message_id(const struct msgid_keys *keys, const char *number,
			     const char *from_address);
char   *reply_spec_encode(const struct reply_spec *spec);
json_t *reply_spec_decode(const char *text, gsize len, struct reply_spec *spec, char **why);
char   *reply_safe_address(const char *addr);
char   *reply_safe_text(const char *text, gsize max);
char   *reply_safe_name(const char *name);
char   *reply_quote_subject(const char *subject, gsize max);

#endif
