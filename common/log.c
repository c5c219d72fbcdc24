/*
 * NAME
 *	log - the one logging family of every Intake program
 * SYNOPSIS
 *	log_open(ident, dest, facility)
 *	log_set_verbose(verbose)
 *	log_facility_parse(name)
 *	msg_debug(fmt, ...), msg_info(fmt, ...), msg_warn(fmt, ...),
 *	msg_error(fmt, ...), msg_fatal(fmt, ...)
 * DESCRIPTION
 *	Messages go to syslog or to stderr (one line each, with a time stamp,
 *	the program name and pid). As in Postfix, a line about a message
 *	starts with the MTA queue id: msg_info("%s: ...", qid).
 *	msg_debug() prints only after log_set_verbose(1). msg_fatal() logs
 *	and exits with status 1. Until log_open() is called, messages go to
 *	stderr under the name "intake".
 *	Thread-safe: each message is written with one write(2) or syslog(3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "intake";
static enum log_dest log_dest = LOG_DEST_STDERR;
static int log_verbose;

void log_open(const char *ident, enum log_dest dest, int facility)
{
    log_ident = ident;
    log_dest = dest;
    if (dest == LOG_DEST_SYSLOG)
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_set_verbose(int verbose)
{
    log_verbose = verbose;
}

/* log_facility_parse - syslog facility by name, -1 when unknown */
int log_facility_parse(const char *name)
{
    static const struct { const char *name; int value; } table[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	if (strcasecmp(name, table[i].name) == 0)
	    return table[i].value;
    return -1;
}

static void log_vmsg(int prio, const char *level, const char *fmt, va_list ap)
{
    char text[4096];
    char line[4300];
    struct timespec ts;
    struct tm tm;
    int n;

    vsnprintf(text, sizeof(text), fmt, ap);
    /* A line is a line: no control characters from mail data reach the log. */
    for (char *p = text; *p; p++)
	if ((unsigned char) *p < 0x20)
	    *p = ' ';
    if (log_dest == LOG_DEST_SYSLOG) {
	syslog(prio, "%s%s", level, text);
	return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld]: %s%s\n",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident,
		 (long) getpid(), level, text);
    if (n < 0)
	return;
    if ((size_t) n >= sizeof(line))
	n = sizeof(line) - 1;
    if (write(STDERR_FILENO, line, (size_t) n) < 0) {
	/* Nowhere left to complain. */
    }
}

#define LOG_FN(name, prio, level) \
void name(const char *fmt, ...) \
{ \
    va_list ap; \
    va_start(ap, fmt); \
    log_vmsg(prio, level, fmt, ap); \
    va_end(ap); \
}

LOG_FN(msg_info, LOG_INFO, "")
LOG_FN(msg_warn, LOG_WARNING, "warning: ")
LOG_FN(msg_error, LOG_ERR, "error: ")

void msg_debug(const char *fmt, ...)
{
    va_list ap;

    if (!log_verbose)
	return;
    va_start(ap, fmt);
    log_vmsg(LOG_DEBUG, "debug: ", fmt, ap);
    va_end(ap);
}

void msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(1);
}
