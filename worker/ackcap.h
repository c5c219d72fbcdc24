/* ackcap.h: the acknowledgement cap shared by all workers. See ackcap.c. */
#ifndef INTAKE_ACKCAP_H
#define INTAKE_ACKCAP_H

#include <glib.h>
#include "config.h"

enum ackcap_result { ACKCAP_OK, ACKCAP_OVER, ACKCAP_UNAVAILABLE };

struct ackcap;

struct ackcap *ackcap_new(const struct intake_config *cfg);
struct ackcap *ackcap_free(struct ackcap *cap);
enum ackcap_result ackcap_take(struct ackcap *cap, const char *mailbox, gint64 now_unix,
			       char **why);

#endif
