/* classify_text.h: the customer's own lines, found once for the classify stage. See classify_text.c. */
#ifndef INTAKE_CLASSIFY_TEXT_H
#define INTAKE_CLASSIFY_TEXT_H

#include <stddef.h>

struct job;

/* The most of them any part reads (tags, sentiment); each part reads a prefix. */
#define CLASSIFY_OWN_MAX (64 * 1024)

void    classify_own_lines(struct job *job);
const char *classify_own(struct job *job, size_t max, size_t *len, char **scratch);

#endif
