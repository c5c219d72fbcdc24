/* daemon.h: what every Intake daemon does at start. See daemon.c. */
#ifndef INTAKE_DAEMON_H
#define INTAKE_DAEMON_H

#include <sys/types.h>
#include "log.h"

struct daemon_opts {
    const char *config;			/* -c FILE */
    int     foreground;			/* -f */
    int     test;			/* -t */
    int     verbose;			/* -v */
};

void    daemon_options(int argc, char **argv, const char *name, struct daemon_opts *o);
void    daemon_detach(enum log_dest dest);
void    daemon_pid_file(const char *path);
void    daemon_pid_file_remove(const char *path);

struct daemon_user {
    char   *name;			/* NULL: no user configured */
    uid_t   uid;
    gid_t   gid;
};

int     daemon_user_lookup(const char *spec, struct daemon_user *u, char **why);
void    daemon_user_free(struct daemon_user *u);
void    daemon_become(const struct daemon_user *u, const char *where);

#endif
