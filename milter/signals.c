/*
 * NAME
 *	signals - run libmilter, stop it on SIGTERM, reload on SIGHUP
 * SYNOPSIS
 *	#include "signals.h"
 *
 *	int	signals_run_milter(config_path)
 *	GThread *signals_thread_new(name, fn, data)
 * DESCRIPTION
 *	signals_run_milter() runs smfi_main() in a thread of its own and
 *	takes the signals in the calling (main) thread until libmilter
 *	stops; it returns the exit status for main(). It is called once,
 *	with the filter registered, its socket open and the first generation
 *	(generation.c) installed.
 *
 *	SIGTERM and SIGINT stop the milter: libmilter finishes the
 *	connections in hand and smfi_main() returns. SIGHUP reads
 *	config_path again and installs it as a new generation: new
 *	connections use the new configuration, connections in hand keep the
 *	one they started with; a file with errors is logged and the
 *	configuration in force kept. Keys a reload cannot apply (the socket,
 *	pid file, user, log) are warned about.
 *
 *	libmilter's own signal thread (signal.c: mi_signal_thread())
 *	sigwait()s for SIGHUP, SIGTERM and SIGINT and stops the milter on any
 *	of them; a stop cannot be undone (its MilterStop flag is static and
 *	never reset, and the stop closes the listening socket), so smfi_main()
 *	cannot simply be called again. Keeping SIGHUP away from that thread
 *	by masks alone is not enough: sigwait() unblocks the signals it waits
 *	for, and Linux (kernel/signal.c, complete_signal()) hands a signal
 *	sent to the process to the main thread only while it "wants" it: not
 *	blocked (it is blocked while its own handler runs, and glibc's
 *	pthread_create() blocks all signals for a moment) and no signal
 *	pending while it is not running. In a burst of SIGHUPs one of them
 *	went to libmilter's thread, which stopped the milter (2 runs in 8).
 *
 *	So this file defines sigwait(), which the dynamic linker resolves
 *	for libmilter before the C library's: it waits for the signals asked
 *	for minus SIGHUP, SIGTERM and SIGINT. libmilter's thread then waits
 *	for nothing, forever, with the three blocked, and the kernel can
 *	pick no thread but the main one: a signal that arrives while the main
 *	thread blocks it stays pending until it unblocks it, it is never
 *	lost or given to another thread. Nothing else in the milter calls
 *	sigwait(). smfi_main() runs in a thread of its own, started with the
 *	three signals blocked (libmilter's threads inherit that mask), while
 *	the main thread keeps them unblocked, with handlers that write the
 *	signal number to a pipe it reads; it reloads on SIGHUP and stops
 *	libmilter with smfi_stop() on SIGTERM and SIGINT. Other threads of
 *	ours (durable_watch.c, mstats_flush.c) block the three signals too:
 *	they are started with signals_thread_new(), g_thread_new() with them
 *	blocked. A milter thread that ends writes 0 to the pipe.
 * DIAGNOSTICS
 *	A signal pipe or thread that cannot be made is fatal. libmilter
 *	stopping unasked (a listener error) is logged as an error, with
 *	exit status 1 so that a supervisor restarts the milter (the systemd
 *	unit has Restart=on-failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "generation.h"
#include "log.h"
#include "sentinel.h"
#include "signals.h"

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    unsigned char c = (unsigned char) sig;
    int     saved = errno;

    if (write(sig_pipe[1], &c, 1) < 0) {
	/* Pipe full: signals are pending already. */
    }
    errno = saved;
}

static void *milter_thread(void *arg)
{
    int    *rc = arg;
    unsigned char c = 0;

    *rc = smfi_main();
    if (write(sig_pipe[1], &c, 1) < 0)
	msg_warn("cannot wake the main thread: %m");
    return NULL;
}

/* restart_only - note the keys whose change a SIGHUP does not apply */
static void restart_only(const struct intake_config *old, const struct intake_config *fresh)
{
    static const struct {
	const char *key;
	size_t  off;
    } keys[] = {
	{"socket", G_STRUCT_OFFSET(struct intake_config, milter_socket)},
	{"pid_file", G_STRUCT_OFFSET(struct intake_config, milter_pid_file)},
	{"user", G_STRUCT_OFFSET(struct intake_config, milter_user)},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
	if (g_strcmp0(G_STRUCT_MEMBER(char *, old, keys[i].off),
		      G_STRUCT_MEMBER(char *, fresh, keys[i].off)) != 0)
	    msg_warn("SIGHUP: [milter] %s changed: takes effect when the milter is restarted",
		     keys[i].key);
    if (old->milter_socket_mode != fresh->milter_socket_mode
	|| old->milter_log != fresh->milter_log
	|| old->milter_log_facility != fresh->milter_log_facility)
	msg_warn("SIGHUP: [milter] socket_mode, log or log_facility changed: takes effect"
		 " when the milter is restarted");
}

static void reload(const char *path)
{
    struct intake_config *fresh = config_reload(path);
    struct generation *old;

    if (fresh == NULL)
	return;
    old = generation_current();
    restart_only(old->cfg, fresh);
    generation_unref(old);
    generation_install(generation_new(fresh));
    msg_info("SIGHUP: configuration %s read again (%u mailboxes)", path,
	     fresh->mailboxes->len);
    sentinel_announce(fresh, "SIGHUP");
}

/*
 * signals_run_milter - smfi_main() in its own thread, signals in this
 * one, until libmilter stops. Returns the exit status.
 */
static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};

/*
 * sigwait - for libmilter's signal thread: wait for the signals in set
 * but ours, so that no thread but the main one can take them (see the
 * header). With nothing left to wait for it sleeps until the process
 * exits. Returns 0 or an errno value, as sigwait(3).
 */
int     sigwait(const sigset_t *set, int *sig)
{
    sigset_t rest = *set;
    int     got;

    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++)
	sigdelset(&rest, sigs[i]);
    while ((got = sigwaitinfo(&rest, NULL)) < 0)
	if (errno != EINTR)
	    return errno;
    *sig = got;
    return 0;
}

/* signals_thread_new - g_thread_new() with the signals above blocked in the new thread */
GThread *signals_thread_new(const char *name, GThreadFunc fn, gpointer data)
{
    sigset_t set, old;
    GThread *t;

    sigemptyset(&set);
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++)
	sigaddset(&set, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    t = g_thread_new(name, fn, data);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return t;
}

int     signals_run_milter(const char *path)
{
    struct sigaction sa = {0};
    sigset_t set, old;
    pthread_t tid;
    int     milter_rc = MI_FAILURE, err, stopping = 0;

    if (pipe(sig_pipe) < 0 || fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK) < 0)
	msg_fatal("signal pipe: %m");
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigemptyset(&set);
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
	sigaction(sigs[i], &sa, NULL);
	sigaddset(&set, sigs[i]);
    }
    pthread_sigmask(SIG_BLOCK, &set, &old);
    err = pthread_create(&tid, NULL, milter_thread, &milter_rc);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0)
	msg_fatal("cannot start the milter thread: %s", g_strerror(err));

    for (;;) {
	unsigned char c;
	ssize_t n = read(sig_pipe[0], &c, 1);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n != 1)
	    msg_fatal("signal pipe: %s", n < 0 ? g_strerror(errno) : "end of file");
	if (c == 0)
	    break;
	if (c == SIGHUP && !stopping) {
	    reload(path);
	} else if (c == SIGTERM || c == SIGINT) {
	    if (!stopping)
		msg_info("stopping on signal %d: finishing the connections in hand", c);
	    stopping = 1;
	    smfi_stop();
	}
    }
    pthread_join(tid, NULL);
    if (!stopping) {
	msg_error("libmilter stopped without being asked to (a listener error, logged"
		  " above): exit status 1 so that a supervisor restarts the milter");
	return 1;
    }
    return milter_rc == MI_SUCCESS ? 0 : 1;
}
