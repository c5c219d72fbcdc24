/* returned.h: what a bounce or auto-reply says about the mail it answers. See returned.c. */
#ifndef INTAKE_RETURNED_H
#define INTAKE_RETURNED_H

#include <glib.h>
#include <jansson.h>
#include <gmime/gmime.h>

#define RETURNED_ID_MAX		256	/* bytes of a Message-ID kept, "<>" excluded */
#define RETURNED_STATUS_MAX	16	/* "5.1.1" and the like */
#define RETURNED_DIAG_MAX	200	/* bytes of a Diagnostic-Code kept */

struct returned {
    char    message_id[RETURNED_ID_MAX];	/* "": none found */
    char    status[RETURNED_STATUS_MAX];
    char    diagnostic[RETURNED_DIAG_MAX];
};

void    returned_scan(const char *text, gsize len, struct returned *r);
json_t *returned_find(GMimeMessage *msg, const char *text);

#endif
