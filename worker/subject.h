/* subject.h: reply/forward prefixes and subject keys. See subject.c. */
#ifndef INTAKE_SUBJECT_H
#define INTAKE_SUBJECT_H

#include <glib.h>

const char *subject_skip_prefixes(const char *subject);
char   *subject_key(const char *subject);

#endif
