/*
 * NAME
 *	daemon - what every Intake daemon does at start
 * SYNOPSIS
 *	void	daemon_options(argc, argv, name, &opts)
 *	void	daemon_detach(log_dest)
 *	void	daemon_pid_file(path)
 *	void	daemon_pid_file_remove(path)
 * DESCRIPTION
 *	daemon_options() reads the options both daemons share: -c FILE
 *	(default /etc/intake/intake.conf), -f (stay in the foreground, for
 *	systemd), -t (check the configuration and exit), -v (verbose). Bad
 *	usage prints a synopsis and exits with status 2.
 *
 *	daemon_detach() forks into the background in a new session, with
 *	stdin and stdout on /dev/null (stderr too when logging to syslog).
 *
 *	daemon_pid_file() writes the pid to path (nothing for an empty or
 *	NULL path); daemon_pid_file_remove() removes it.
 * DIAGNOSTICS
 *	Failures are fatal (msg_fatal): a daemon that cannot detach or write
 *	its pid file does not start half-way.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib.h>

#include "config.h"
#include "daemon.h"

void    daemon_options(int argc, char **argv, const char *name, struct daemon_opts *o)
{
    int     c;

    o->config = INTAKE_DEFAULT_CONFIG;
    o->foreground = o->test = o->verbose = 0;
    while ((c = getopt(argc, argv, "c:ftvh")) != -1) {
	switch (c) {
	case 'c':
	    o->config = optarg;
	    break;
	case 'f':
	    o->foreground = 1;
	    break;
	case 't':
	    o->test = 1;
	    break;
	case 'v':
	    o->verbose = 1;
	    break;
	default:
	    goto usage;
	}
    }
    if (optind == argc)
	return;
usage:
    fprintf(stderr, "usage: %s [-f] [-v] [-c FILE]\n"
	    "       %s -t [-c FILE]   (check the configuration)\n", name, name);
    exit(2);
}

void    daemon_detach(enum log_dest dest)
{
    pid_t   pid = fork();
    int     fd;

    if (pid < 0)
	msg_fatal("fork: %m");
    if (pid > 0)
	_exit(0);
    if (setsid() < 0)
	msg_fatal("setsid: %m");
    if ((fd = open("/dev/null", O_RDWR)) < 0)
	msg_fatal("open /dev/null: %m");
    dup2(fd, 0);
    dup2(fd, 1);
    if (dest == LOG_DEST_SYSLOG)
	dup2(fd, 2);
    if (fd > 2)
	close(fd);
}

void    daemon_pid_file(const char *path)
{
    g_autofree char *text = g_strdup_printf("%ld\n", (long) getpid());
    g_autoptr(GError) err = NULL;

    if (path && *path && !g_file_set_contents(path, text, -1, &err))
	msg_fatal("cannot write pid file: %s", err->message);
}

void    daemon_pid_file_remove(const char *path)
{
    if (path && *path)
	unlink(path);
}
