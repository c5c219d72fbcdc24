/* timeentry.h: the first line of a time-entry mail ("1h30m Fixed the printer"). See timeentry.c. */
#ifndef INTAKE_TIMEENTRY_H
#define INTAKE_TIMEENTRY_H

#include <glib.h>

#define TIMEENTRY_MAX_MINUTES	(24 * 60)	/* one entry: at most a day */
#define TIMEENTRY_SUMMARY_MAX	200		/* bytes kept of the summary */

const char *timeentry_parse(const char *text, size_t len, int *minutes, char **summary);

#endif
