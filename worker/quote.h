/* quote.h: what a customer wrote now, apart from quoted history and signature. See quote.c. */
#ifndef INTAKE_QUOTE_H
#define INTAKE_QUOTE_H

#include <stddef.h>

/* The frame of our "reply above this line" marker (conf/templates/ack.*.txt). */
#define QUOTE_MARKER_OPEN  "##-"
#define QUOTE_MARKER_CLOSE "-##"

enum quote_cut {
    QUOTE_NONE,				/* nothing recognised: all of it is new */
    QUOTE_MARKER,			/* our "reply above this line" marker */
    QUOTE_ATTRIBUTION,			/* "On ... wrote:", "Am ... schrieb ...:", ... */
    QUOTE_HEADER_BLOCK,			/* "From: ... Sent: ..." (Outlook), "Von: ... Gesendet:" */
    QUOTE_ORIGINAL,			/* "-----Original Message-----" and its translations */
    QUOTE_SIGNATURE,			/* "-- " */
    QUOTE_TRAILING,			/* a trailing block of "> " lines */
};

size_t  quote_new_text(const char *text, size_t len, enum quote_cut *how);
size_t  quote_own_lines(const char *text, size_t len, char *buf, size_t size);
const char *quote_cut_name(enum quote_cut how);

#endif
