/* ticketno.h: ticket numbers such as INT-2026-000123. See ticketno.c. */
#ifndef INTAKE_TICKETNO_H
#define INTAKE_TICKETNO_H

#include <glib.h>

char   *ticketno_format(const char *prefix, int year, gint64 seq);
char   *ticketno_find(const char *prefix, const char *subject);
char   *ticketno_tag(const char *number);
char   *ticketno_find_record(const char *kind, const char *subject);

#endif
