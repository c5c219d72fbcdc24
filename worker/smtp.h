/* smtp.h: hand a message to the SMTP relay. See smtp.c. */
#ifndef INTAKE_SMTP_H
#define INTAKE_SMTP_H

#include <glib.h>
#include "config.h"

enum smtp_result {
    SMTP_SENT,				/* the relay took it (250 after DATA) */
    SMTP_TEMPORARY,			/* not taken; try again later */
    SMTP_PERMANENT,			/* refused for good (5xx) */
    SMTP_AMBIGUOUS,			/* data sent, no answer: may have been taken */
    SMTP_WITHDRAWN,			/* eod() said no: not sent (nothing to record) */
};

/* Just before the end-of-data dot; FALSE: do not send (the dot is never sent). */
typedef gboolean (*smtp_eod_fn) (void *arg);

struct smtp;

struct smtp *smtp_new(const struct intake_config *cfg);
struct smtp *smtp_free(struct smtp *s);
enum smtp_result smtp_send(struct smtp *s, const char *rcpt, GBytes *message,
			   smtp_eod_fn eod, void *arg, char **why);

#endif
