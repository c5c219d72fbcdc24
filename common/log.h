/* log.h: the one logging family of every Intake program. See log.c. */
#ifndef INTAKE_LOG_H
#define INTAKE_LOG_H

#include <stdarg.h>

enum log_dest { LOG_DEST_STDERR, LOG_DEST_SYSLOG };

void log_open(const char *ident, enum log_dest dest, int facility);
void log_set_verbose(int verbose);
int log_facility_parse(const char *name);

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
