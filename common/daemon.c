/*
 * NAME
 *	daemon - what every Intake daemon does at start
 * SYNOPSIS
 *	void	daemon_options(argc, argv, name, &opts)
 *	void	daemon_detach(log_dest)
 *	void	daemon_pid_file(path)
 *	void	daemon_pid_file_remove(path)
 *	int	daemon_user_lookup(spec, &user, &why)
 *	void	daemon_user_free(&user)
 *	void	daemon_become(&user, where)
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
 *
 *	daemon_user_lookup() resolves a "USER" or "USER:GROUP" value (the
 *	[milter] and [worker] key "user", OpenDKIM's UserID syntax) against
 *	the system's user and group databases. Without ":GROUP" the group is
 *	the user's primary group. An empty spec is valid and resolves to
 *	nothing (user->name NULL). It returns 0, or -1 with *why (g_free).
 *	The name in user is owned by the caller: daemon_user_free().
 *
 *	daemon_become() is the one place where a daemon gives up root. The
 *	rule (docs/intake.conf.md, key "user"):
 *	-	started as root with an empty user: refuse to start. A daemon
 *		that parses mail from the Internet must not keep root by
 *		accident; "user = root" keeps it on purpose (with a warning).
 *	-	started as root with another user: initgroups() (the user's
 *		supplementary groups), setgid(), setuid(), each checked, and
 *		then checked again: the ids are the target's and setuid(0)
 *		fails. There is no way back.
 *	-	started as any other user: nothing changes; a configured user
 *		must be that user (and group), else the daemon refuses, so a
 *		configuration is never silently ignored.
 *	where names the key in messages ("FILE: [milter] key 'user'").
 * DIAGNOSTICS
 *	Failures are fatal (msg_fatal): a daemon that cannot detach, write
 *	its pid file or become its user does not start half-way.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

    /* 0644 whatever the umask: supervisors and scripts read it. */
    if (path && *path && !g_file_set_contents_full(path, text, -1,
				 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &err))
	msg_fatal("cannot write pid file: %s", err->message);
}

void    daemon_pid_file_remove(const char *path)
{
    if (path && *path)
	unlink(path);
}

int     daemon_user_lookup(const char *spec, struct daemon_user *u, char **why)
{
    g_autofree char *uname = NULL;
    const char *colon;
    struct passwd *pw;

    memset(u, 0, sizeof(*u));
    if (spec == NULL || *spec == 0)
	return 0;
    colon = strchr(spec, ':');
    uname = colon ? g_strndup(spec, colon - spec) : g_strdup(spec);
    if (*uname == 0 || (colon && colon[1] == 0)) {
	*why = g_strdup_printf("'%s' is not USER or USER:GROUP", spec);
	return -1;
    }
    errno = 0;
    if ((pw = getpwnam(uname)) == NULL) {
	*why = errno ? g_strdup_printf("cannot look up user '%s': %s", uname, g_strerror(errno))
	    : g_strdup_printf("no user '%s' on this system (create it: adduser --system"
			      " --group %s)", uname, uname);
	return -1;
    }
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    if (colon) {
	struct group *gr;

	errno = 0;
	if ((gr = getgrnam(colon + 1)) == NULL) {
	    *why = errno ? g_strdup_printf("cannot look up group '%s': %s", colon + 1,
					   g_strerror(errno))
		: g_strdup_printf("no group '%s' on this system", colon + 1);
	    return -1;
	}
	u->gid = gr->gr_gid;
    }
    u->name = g_strdup(pw->pw_name);
    return 0;
}

void    daemon_user_free(struct daemon_user *u)
{
    g_clear_pointer(&u->name, g_free);
}

void    daemon_become(const struct daemon_user *u, const char *where)
{
    if (geteuid() != 0) {
	if (u->name && (u->uid != geteuid() || u->gid != getegid()))
	    msg_fatal("%s: started as uid %ld gid %ld, not as root, so cannot become"
		      " uid %ld gid %ld: start it as root or as that user and group",
		      where, (long) geteuid(), (long) getegid(), (long) u->uid, (long) u->gid);
	return;
    }
    if (u->name == NULL)
	msg_fatal("%s is not set: refusing to run as root. Set it to the user to run as"
		  " (user = intake), or to root to keep root deliberately", where);
    if (u->uid == 0) {
	msg_warn("%s is root: running as root", where);
	return;
    }
    if (initgroups(u->name, u->gid) < 0)
	msg_fatal("%s: initgroups(%s): %m", where, u->name);
    if (setgid(u->gid) < 0)
	msg_fatal("%s: setgid(%ld): %m", where, (long) u->gid);
    if (setuid(u->uid) < 0)
	msg_fatal("%s: setuid(%ld): %m", where, (long) u->uid);

    /* Trust, but verify: a partial change would leave a way back to root. */
    if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid
	|| getegid() != u->gid || setuid(0) == 0)
	msg_fatal("%s: could not give up root completely (uid %ld/%ld gid %ld/%ld)", where,
		  (long) getuid(), (long) geteuid(), (long) getgid(), (long) getegid());
    msg_info("running as user %s (uid %ld, gid %ld)", u->name, (long) u->uid, (long) u->gid);
}
