/*
 * NAME
 *	import - intakectl import: an existing mailbox into tickets
 * SYNOPSIS
 *	int	import_main(config_path, argc, argv)
 * DESCRIPTION
 *	intakectl import --mailbox NAME [--since DATE | --days N]
 *	[--acknowledge] [--dry-run] [--max-backlog N] [--login-file FILE]
 *	[--cacert FILE] [--insecure] SOURCE
 *
 *	SOURCE is an mbox file, a Maildir (a directory with cur/ or new/),
 *	or an IMAP folder (imaps://host/FOLDER, imap://host/FOLDER, which
 *	then needs STARTTLS unless --insecure). Each mail goes through
 *	the feed (import_feed.c) into the stream of [redis] as mail
 *	delivered to the mailbox NAME would. argv[0] is "import".
 *
 *	--since DATE (YYYY-MM-DD, midnight UTC, or ISO 8601) and --days N
 *	(N times 24 hours before now) keep mails whose Date is not older;
 *	an IMAP server is asked for those (SEARCH SINCE) first.
 *	--acknowledge lets the worker send acknowledgements, as for
 *	delivered mail; without it, none. --dry-run reads, parses and
 *	counts, and queues nothing. --max-backlog N (default 1000, 0: no
 *	limit) is how many entries the stream may hold before the import
 *	waits for the worker.
 *
 *	With stderr a terminal, a progress line; at the end a summary on
 *	stdout. SIGINT and SIGTERM stop after the mail in hand.
 * DIAGNOSTICS
 *	Exit status 0; 1 when the source could not be read, the run was
 *	stopped, or a mail could not be read; 2 on bad usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "envelope.h"
#include "import.h"

static struct import_feed *running;

static void on_signal(int sig)
{
    (void) sig;
    if (running)
	import_feed_interrupt(running);
}

static int usage(void)
{
    fprintf(stderr, "usage: intakectl [-c FILE] import --mailbox NAME [--since YYYY-MM-DD |"
	    " --days N] [--acknowledge]\n"
	    "           [--dry-run] [--max-backlog N] [--login-file FILE] [--cacert FILE]"
	    " [--insecure]\n"
	    "           MBOX-FILE | MAILDIR | imaps://HOST[:PORT]/FOLDER\n");
    return 2;
}

/* parse_since - --since's DATE as Unix time, or -1 */
static gint64 parse_since(const char *s)
{
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) dt = NULL;
    int     y, m, d;
    char    end;

    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3)
	dt = g_date_time_new(utc, y, m, d, 0, 0, 0);
    else
	dt = g_date_time_new_from_iso8601(s, utc);
    return dt ? g_date_time_to_unix(dt) : -1;
}

int     import_main(const char *config_path, int argc, char **argv)
{
    static const struct option opts[] = {
	{"mailbox", required_argument, NULL, 'm'},
	{"since", required_argument, NULL, 's'},
	{"days", required_argument, NULL, 'd'},
	{"acknowledge", no_argument, NULL, 'a'},
	{"dry-run", no_argument, NULL, 'n'},
	{"max-backlog", required_argument, NULL, 'b'},
	{"login-file", required_argument, NULL, 'l'},
	{"cacert", required_argument, NULL, 'C'},
	{"insecure", no_argument, NULL, 'k'},
	{"config", required_argument, NULL, 'c'},
	{0},
    };
    struct import_feed_settings set = {0};
    struct import_opts io = {0};
    const char *mailbox = NULL;
    struct intake_config *cfg;
    struct import_feed *feed;
    import_source_fn source;
    struct sigaction sa = {0};
    struct stat st;
    char   *why = NULL, *end;
    long    n;
    int     c, rc;

    set.max_backlog = 1000;
    optind = 0;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
	switch (c) {
	case 'c':
	    config_path = optarg;
	    break;
	case 'm':
	    mailbox = optarg;
	    break;
	case 's':
	    if ((io.since = parse_since(optarg)) < 0) {
		fprintf(stderr, "intakectl import: --since '%s': expected YYYY-MM-DD or an ISO"
			" 8601 time\n", optarg);
		return 2;
	    }
	    break;
	case 'd':
	    n = strtol(optarg, &end, 10);
	    if (*optarg == 0 || *end || n < 0 || n > 100000) {
		fprintf(stderr, "intakectl import: --days '%s': expected a number of days\n",
			optarg);
		return 2;
	    }
	    io.since = g_get_real_time() / G_USEC_PER_SEC - n * 86400;
	    break;
	case 'a':
	    set.acknowledge = TRUE;
	    break;
	case 'n':
	    set.dry_run = TRUE;
	    break;
	case 'b':
	    n = strtol(optarg, &end, 10);
	    if (*optarg == 0 || *end || n < 0 || n > 100000000) {
		fprintf(stderr, "intakectl import: --max-backlog '%s': expected a number of"
			" entries (0: no limit)\n", optarg);
		return 2;
	    }
	    set.max_backlog = (guint) n;
	    break;
	case 'l':
	    io.login_file = optarg;
	    break;
	case 'C':
	    io.cacert = optarg;
	    break;
	case 'k':
	    io.insecure = TRUE;
	    break;
	default:
	    return usage();
	}
    }
    if (optind != argc - 1 || mailbox == NULL)
	return usage();
    io.location = argv[optind];

    if (g_str_has_prefix(io.location, "imaps://") || g_str_has_prefix(io.location, "imap://")) {
	source = import_imap;
	set.source = "imap";
    } else if (stat(io.location, &st) == 0 && S_ISDIR(st.st_mode)) {
	source = import_maildir;
	set.source = "maildir";
    } else {
	source = import_mbox;
	set.source = "mbox";
    }

    cfg = config_load_or_exit(config_path);
    if ((set.mailbox = config_mailbox(cfg, mailbox)) == NULL) {
	fprintf(stderr, "intakectl import: --mailbox %s: %s has no [mailbox %s]\n", mailbox,
		cfg->path, mailbox);
	config_free(cfg);
	return 2;
    }
    envelope_init();
    set.cfg = cfg;
    set.since = io.since;
    set.progress = isatty(STDERR_FILENO);
    if ((feed = import_feed_new(&set, &why)) == NULL) {
	fprintf(stderr, "intakectl import: %s: %s\n", cfg->path, why);
	g_free(why);
	config_free(cfg);
	return 1;
    }
    running = feed;
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;	/* reads go on; the flag is seen between mails */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (source(&io, feed, &why) < 0) {
	fprintf(stderr, "intakectl import: %s\n", why);
	g_free(why);
	rc = 1;
	import_feed_summary(feed, stdout);
    } else
	rc = import_feed_summary(feed, stdout);
    running = NULL;
    import_feed_free(feed);
    config_free(cfg);
    return rc;
}
