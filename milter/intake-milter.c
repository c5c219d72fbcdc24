/*
 * NAME
 *	intake-milter - queue mail for support mailboxes as ticket envelopes
 * SYNOPSIS
 *	intake-milter [-f] [-v] [-c FILE]
 *	intake-milter -t [-c FILE]
 * DESCRIPTION
 *	A libmilter filter for Postfix and Sendmail. For a message with at
 *	least one recipient that is a configured mailbox, it builds the JSON
 *	envelope (common/envelope.c) at end of message and adds it to the
 *	Redis stream. Only when Redis has answered does it let the MTA accept
 *	the message; otherwise it answers 451 4.3.0, so the sending side keeps
 *	the mail and retries; also when a large body could not be spooled to
 *	a file (milter/mctx.c): a mail is never accepted unparsed. A mail
 *	over max_message_size to a mailbox with "oversize = reject" gets 552
 *	5.3.4, as soon as the body passes the limit when the MTA lets the
 *	milter answer during the body, else at its end. Mail with no mailbox
 *	recipient is accepted at DATA without its content being read (at end
 *	of message, untouched, when the MTA has no DATA step: milter protocol
 *	before version 4).
 *
 *	A thread checks Redis's persistence settings at start and every
 *	[redis] durable_check_interval (common/durable.c) and warns about any
 *	that can lose accepted mail. With [redis] require_durable = yes the
 *	milter does not start on them, and answers 451 to every mail while
 *	they last (or while they are not known).
 *
 *	After the envelope is queued, recipients of mailboxes with
 *	"deliver = no" are removed (the whole message is discarded when no
 *	recipient is left) and an X-Intake-Id header names the envelope.
 *
 *	-c FILE	configuration (default /etc/intake/intake.conf)
 *	-f	stay in the foreground (for systemd); otherwise detach
 *	-t	check the configuration, print what is wrong, exit 0 or 1
 *	-v	verbose logging
 *
 *	SIGTERM and SIGINT stop the milter: libmilter finishes the
 *	connections in hand and smfi_main() returns. SIGHUP reads the
 *	configuration again: new connections use the new one, connections
 *	in hand keep the one they started with; a file with errors is
 *	logged and the configuration in force kept.
 *
 *	Started as root, the milter creates its socket (owned by [milter]
 *	user, so that the MTA's group can connect) and pid file, then
 *	becomes that user for good (common/daemon.c). Everything it creates
 *	afterwards is under umask 077.
 * DIAGNOSTICS
 *	One log line per decision, each starting with the MTA queue id.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "daemon.h"
#include "durable.h"
#include "enqueue.h"
#include "envelope.h"
#include "log.h"
#include "mctx.h"
#include "redisq.h"

/*
 * A generation is one configuration and the Redis pool made from it.
 * libmilter runs each SMTP connection in a thread of its own, and a
 * connection holds pointers into its configuration (mailboxes matched
 * at RCPT are used at end of message), so a SIGHUP cannot free the old
 * configuration while connections use it. Each connection takes a
 * reference to the current generation when it opens and drops it when it
 * closes; SIGHUP installs a new current generation and drops the old
 * one's reference; the last user frees it.
 */
struct generation {
    gint    refs;
    struct intake_config *cfg;
    struct redisq_pool *pool;
};

G_LOCK_DEFINE_STATIC(current);
static struct generation *current;	/* under the lock "current" */

/* What a connection's libmilter context points to. */
struct conn {
    struct mctx *mc;
    struct generation *gen;
};

/*
 * Redis's persistence settings are checked by a thread of their own (at
 * start, then every [redis] durable_check_interval), never on the
 * per-message path: that reads one atomic flag.
 */
static struct durable *durable;		/* the check thread's, after start */
static struct generation *durable_gen;	/* whose configuration durable follows */
static struct redisq *durable_rq;
static gint durable_refused;		/* atomic: require_durable and not durable */
static GThread *check_thread;
static GMutex check_lock;
static GCond check_cond;
static gboolean check_stop;

/* What we ask of the MTA: nothing we do not use. */
#define WANT_ACTIONS	(SMFIF_ADDHDRS | SMFIF_DELRCPT)
#define WANT_NR		(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT \
			 | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define WANT_SKIP	(SMFIP_NOUNKNOWN)

#define CONN(ctx)	((struct conn *) smfi_getpriv(ctx))
#define MCTX(ctx)	(CONN(ctx) ? CONN(ctx)->mc : NULL)

/* ---------------------------------------------------------------- */
/*	Configuration generations					    */
/* ---------------------------------------------------------------- */

/* generation_new - one reference, owned by the caller; takes cfg */
static struct generation *generation_new(struct intake_config *cfg)
{
    struct generation *g = g_new0(struct generation, 1);

    g->refs = 1;
    g->cfg = cfg;
    g->pool = redisq_pool_new(cfg);
    return g;
}

/* generation_unref - drop a reference; the last one frees; returns NULL */
static struct generation *generation_unref(struct generation *g)
{
    if (g && g_atomic_int_dec_and_test(&g->refs)) {
	redisq_pool_free(g->pool);
	config_free(g->cfg);
	g_free(g);
    }
    return NULL;
}

/* generation_current - a new reference to the current generation */
static struct generation *generation_current(void)
{
    struct generation *g;

    G_LOCK(current);
    g = current;
    g_atomic_int_inc(&g->refs);
    G_UNLOCK(current);
    return g;
}

/* generation_install - make g (whose reference it takes) current */
static void generation_install(struct generation *g)
{
    struct generation *old;

    G_LOCK(current);
    old = current;
    current = g;
    G_UNLOCK(current);
    generation_unref(old);
}

/* conn_open - a connection's state, with the current configuration */
static struct mctx *conn_open(SMFICTX *ctx)
{
    struct conn *c = g_new0(struct conn, 1);

    c->gen = generation_current();
    c->mc = mctx_new(c->gen->cfg);
    smfi_setpriv(ctx, c);
    return c->mc;
}

static sfsistat noreply(SMFICTX *ctx, unsigned long flag)
{
    struct mctx *mc = MCTX(ctx);

    return (mc && (mc->protocol & flag)) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void take_queue_id(SMFICTX *ctx, struct mctx *mc)
{
    mctx_set_queue_id(mc, smfi_getsymval(ctx, "i"));
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct mctx *mc;

    if ((f0 & WANT_ACTIONS) != WANT_ACTIONS) {
	msg_error("the MTA does not offer the add-header and delete-recipient"
		  " actions; intake-milter cannot work with it");
	return SMFIS_REJECT;
    }
    mc = conn_open(ctx);
    mc->protocol = (f1 & WANT_NR) | (f1 & WANT_SKIP) | (f1 & SMFIP_HDR_LEADSPC);
    *pf0 = WANT_ACTIONS;
    *pf1 = mc->protocol;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
    struct mctx *mc = MCTX(ctx);
    char    buf[INET6_ADDRSTRLEN] = "";

    if (mc == NULL)				/* MTA without negotiation */
	mc = conn_open(ctx);
    if (sa && sa->sa_family == AF_INET)
	inet_ntop(AF_INET, &((struct sockaddr_in *) sa)->sin_addr, buf, sizeof(buf));
    else if (sa && sa->sa_family == AF_INET6)
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *) sa)->sin6_addr, buf, sizeof(buf));
    g_free(mc->client_addr);
    g_free(mc->client_name);
    mc->client_addr = g_strdup(buf);
    mc->client_name = g_strndup(hostname ? hostname : "", 255);
    return noreply(ctx, SMFIP_NR_CONN);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
    struct mctx *mc = MCTX(ctx);

    if (mc) {
	g_free(mc->helo);
	mc->helo = g_strndup(helo ? helo : "", 255);
    }
    return noreply(ctx, SMFIP_NR_HELO);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    struct mctx *mc = MCTX(ctx);

    if (mc == NULL)
	return SMFIS_TEMPFAIL;
    mctx_reset(mc);
    mctx_set_sender(mc, argv[0]);
    take_queue_id(ctx, mc);
    return noreply(ctx, SMFIP_NR_MAIL);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    struct mctx *mc = MCTX(ctx);
    const struct mailbox *m;

    if (mc == NULL)
	return SMFIS_TEMPFAIL;
    take_queue_id(ctx, mc);
    m = mctx_add_rcpt(mc, argv[0]);
    if (m)
	msg_debug("%s: recipient %s is mailbox %s", mctx_qid(mc), argv[0], m->name);
    return noreply(ctx, SMFIP_NR_RCPT);
}

static sfsistat cb_data(SMFICTX *ctx)
{
    struct mctx *mc = MCTX(ctx);

    if (mc == NULL)
	return SMFIS_TEMPFAIL;
    take_queue_id(ctx, mc);
    if (mc->n_matched == 0) {
	msg_debug("%s: no mailbox recipient: accepted untouched", mctx_qid(mc));
	mctx_reset(mc);
	return SMFIS_ACCEPT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    struct mctx *mc = MCTX(ctx);

    if (mc)
	mctx_add_header(mc, name, value ? value : "", (mc->protocol & SMFIP_HDR_LEADSPC) != 0);
    return noreply(ctx, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    struct mctx *mc = MCTX(ctx);

    if (mc)
	mctx_end_headers(mc);
    return noreply(ctx, SMFIP_NR_EOH);
}

static sfsistat tempfail(SMFICTX *ctx, struct mctx *mc, const char *why)
{
    msg_warn("%s: deferred (451 4.3.0): %s", mctx_qid(mc), why);
    smfi_setreply(ctx, "451", "4.3.0", mc->cfg->tempfail_text);
    mctx_reset(mc);
    return SMFIS_TEMPFAIL;
}

/* too_big - "552 5.3.4" for a mail over max_message_size to an "oversize = reject" mailbox */
static sfsistat too_big(SMFICTX *ctx, struct mctx *mc)
{
    g_autofree char *text = g_strdup_printf("Message too big for the ticket system"
					    " (more than %" G_GINT64_FORMAT " bytes)",
					    mc->cfg->max_message_size);

    msg_info("%s: rejected (552 5.3.4): more than max_message_size (%" G_GINT64_FORMAT
	     " bytes) for an oversize = reject mailbox", mctx_qid(mc), mc->cfg->max_message_size);
    smfi_setreply(ctx, "552", "5.3.4", text);
    mctx_reset(mc);
    return SMFIS_REJECT;
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    struct mctx *mc = MCTX(ctx);

    if (mc == NULL)
	return noreply(ctx, SMFIP_NR_BODY);
    mctx_add_body(mc, data, len);
    /* Answer as soon as it is clear, when the MTA lets us answer here. */
    if (!(mc->protocol & SMFIP_NR_BODY)) {
	if (mctx_spool_error(mc))
	    return tempfail(ctx, mc, mctx_spool_error(mc));
	if (mctx_oversize_reject(mc))
	    return too_big(ctx, mc);
    }
    return noreply(ctx, SMFIP_NR_BODY);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    struct mctx *mc = MCTX(ctx);
    g_autofree char *why = NULL;
    g_autofree char *entry = NULL;
    g_autoptr(GString) names = g_string_new(NULL);
    g_autoptr(GPtrArray) seen = g_ptr_array_new();
    const char *env_id;
    json_t *env;
    guint   removed = 0;

    if (mc == NULL)
	return SMFIS_TEMPFAIL;
    take_queue_id(ctx, mc);
    if (mc->n_matched == 0) {
	/* An MTA without the DATA step (milter protocol < 4) gets here. */
	msg_debug("%s: no mailbox recipient: accepted untouched", mctx_qid(mc));
	mctx_reset(mc);
	return SMFIS_CONTINUE;
    }
    if (mctx_oversize_reject(mc))
	return too_big(ctx, mc);
    if (g_atomic_int_get(&durable_refused))
	return tempfail(ctx, mc, "redis is not known to keep accepted mail safely and"
			" [redis] require_durable = yes (see the warning about its settings)");
    if ((env = mctx_envelope(mc)) == NULL)
	return tempfail(ctx, mc, mctx_spool_error(mc) ? mctx_spool_error(mc)
			: "cannot build the envelope");
    {
	struct redisq_pool *pool = CONN(ctx)->gen->pool;
	struct redisq *rq = redisq_pool_get(pool);
	struct raw_source raw;

	mctx_raw(mc, &raw);
	entry = enqueue_envelope(rq, mc->cfg->redis_stream, env, &raw, &why);
	redisq_pool_put(pool, rq);
    }
    if (entry == NULL) {
	json_decref(env);
	return tempfail(ctx, mc, why ? why : "redis: unknown error");
    }
    env_id = envelope_str(env, "id");

    /* Queued: from here on the mail is safe, whatever the MTA does next. */
    for (guint i = 0; i < mc->rcpts->len; i++) {
	const struct mailbox *m = g_ptr_array_index(mc->matched, i);

	if (m == NULL)
	    continue;
	if (!g_ptr_array_find(seen, m, NULL)) {
	    g_ptr_array_add(seen, (gpointer) m);
	    g_string_append_printf(names, "%s%s", names->len ? "," : "", m->name);
	}
	if (!m->deliver) {
	    g_autofree char *bracketed = g_strdup_printf("<%s>",
				    (char *) g_ptr_array_index(mc->rcpts, i));

	    if (smfi_delrcpt(ctx, bracketed) == MI_SUCCESS)
		removed++;
	    else
		msg_warn("%s: cannot remove recipient %s", mctx_qid(mc), bracketed);
	}
    }
    msg_info("%s: queued envelope=%s entry=%s mailbox=%s from=<%s> size=%zu%s%s",
	     mctx_qid(mc), env_id, entry, names->str, mc->sender ? mc->sender : "",
	     mc->size, json_is_true(json_object_get(env, "truncated")) ? " truncated" : "",
	     removed ? " (removed mailbox recipients)" : "");
    if (removed == mc->rcpts->len && mc->rcpts_dropped == 0) {
	msg_info("%s: no recipient left: discarded after queuing", mctx_qid(mc));
	json_decref(env);
	mctx_reset(mc);
	return SMFIS_DISCARD;
    }
    {
	/* With SMFIP_HDR_LEADSPC the MTA puts the value right after the colon. */
	g_autofree char *value = g_strdup_printf("%s%s",
			    (mc->protocol & SMFIP_HDR_LEADSPC) ? " " : "", env_id);

	if (smfi_addheader(ctx, "X-Intake-Id", value) != MI_SUCCESS)
	    msg_warn("%s: cannot add X-Intake-Id header", mctx_qid(mc));
    }
    json_decref(env);
    mctx_reset(mc);
    return SMFIS_CONTINUE;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    struct mctx *mc = MCTX(ctx);

    if (mc)
	mctx_reset(mc);
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    struct conn *c = CONN(ctx);

    smfi_setpriv(ctx, NULL);
    if (c) {
	mctx_free(c->mc);
	generation_unref(c->gen);
	g_free(c);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = "intake-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = WANT_ACTIONS,
    .xxfi_connect = cb_connect,
    .xxfi_helo = cb_helo,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_data = cb_data,
    .xxfi_negotiate = cb_negotiate,
};

/* ---------------------------------------------------------------- */
/*	Durability check						    */
/* ---------------------------------------------------------------- */

/*
 * check_durable - check now; returns the time until the next check (ms).
 * With require_durable, mail is refused until an answer says "durable";
 * when Redis does not answer, the last answer stands (XADD fails anyway).
 * After a SIGHUP the check follows the new generation's configuration
 * (its Redis server, interval and require_durable).
 */
static int check_durable(void)
{
    g_autofree char *why = NULL;
    struct generation *now = generation_current();
    int     rc;

    if (now != durable_gen) {
	durable_free(durable);
	redisq_free(durable_rq);
	generation_unref(durable_gen);
	durable_gen = now;
	durable = durable_new(now->cfg);
	durable_rq = redisq_new(now->cfg);
    } else {
	generation_unref(now);
    }
    rc = durable_update(durable, durable_rq, &why);
    g_atomic_int_set(&durable_refused, durable_refuse(durable));
    if (rc < 0) {
	msg_debug("cannot check redis's persistence settings now: %s", why);
	return MIN(5000, durable_gen->cfg->redis_durable_check_ms);
    }
    return durable_gen->cfg->redis_durable_check_ms;
}

static gpointer check_main(gpointer data)
{
    g_mutex_lock(&check_lock);
    while (!check_stop) {
	gint64  end;

	g_mutex_unlock(&check_lock);
	end = g_get_monotonic_time() + (gint64) check_durable() * 1000;
	g_mutex_lock(&check_lock);
	while (!check_stop && g_cond_wait_until(&check_cond, &check_lock, end))
	    continue;
    }
    g_mutex_unlock(&check_lock);
    return NULL;
}

/* check_start - the check thread, with the signals libmilter waits for blocked */
static void check_start(void)
{
    sigset_t set, old;

    durable_gen = generation_current();
    durable_rq = redisq_new(durable_gen->cfg);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    check_thread = g_thread_new("durable", check_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void check_stop_now(void)
{
    g_mutex_lock(&check_lock);
    check_stop = TRUE;
    g_cond_signal(&check_cond);
    g_mutex_unlock(&check_lock);
    g_thread_join(check_thread);
    durable = durable_free(durable);
    durable_rq = redisq_free(durable_rq);
    durable_gen = generation_unref(durable_gen);
}

/* ---------------------------------------------------------------- */
/*	Signals and reload						    */
/* ---------------------------------------------------------------- */

/*
 * libmilter's own signal thread sigwait()s for SIGHUP, SIGTERM and
 * SIGINT and stops the milter on any of them. To own SIGHUP, smfi_main()
 * runs in a thread of its own, started with the three signals blocked
 * (libmilter's threads inherit that mask), while the main thread keeps
 * them unblocked, with handlers that write the signal number to a pipe
 * it reads. Linux delivers a process-directed signal to the thread
 * group leader (the main thread, the one kill(PID) names) when that
 * thread does not block it, so libmilter's thread does not see them; we
 * stop libmilter with smfi_stop(). XXX POSIX lets the kernel pick any
 * eligible thread: should libmilter's thread take a SIGHUP, it stops the
 * milter, and main() exits with status 1 so a supervisor restarts it
 * (the systemd unit has Restart=on-failure). A milter thread that ends
 * writes 0 to the pipe.
 */
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
}

/*
 * run_milter - smfi_main() in its own thread, signals in this one, until
 * libmilter stops. Returns the exit status.
 */
static int run_milter(const char *path)
{
    static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
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
	msg_error("libmilter stopped without being asked to (a signal taken by its own"
		  " thread, or a listener error): exit status 1 so that a supervisor restarts"
		  " the milter");
	return 1;
    }
    return milter_rc == MI_SUCCESS ? 0 : 1;
}

/* ---------------------------------------------------------------- */
/*	Start-up							    */
/* ---------------------------------------------------------------- */

int     main(int argc, char **argv)
{
    struct daemon_opts opt;
    struct daemon_user user;
    struct intake_config *cfg;
    g_autofree char *why = NULL;
    g_autofree char *where = NULL;
    g_autofree char *socket_path = NULL;
    g_autofree char *pid_file = NULL;
    int     rc;

    daemon_options(argc, argv, "intake-milter", &opt);
    if (opt.test)
	return config_check(opt.config, NULL, stdout, stderr);

    /* Envelopes hold customers' mail: nothing we create is for others to read. */
    umask(077);
    cfg = config_load_or_exit(opt.config);
    where = g_strdup_printf("%s: [milter] key 'user'", opt.config);
    if (daemon_user_lookup(cfg->milter_user, &user, &why) < 0)
	msg_fatal("%s: %s", where, why);	/* deleted since loading */
    log_open("intake-milter", cfg->milter_log, cfg->milter_log_facility);
    log_set_verbose(opt.verbose);
    envelope_init();
    /* A reload may change these; what we made at start is what we remove at exit. */
    socket_path = g_str_has_prefix(cfg->milter_socket, "unix:")
	? g_strdup(cfg->milter_socket + 5) : NULL;
    pid_file = g_strdup(cfg->milter_pid_file);
    durable = durable_new(cfg);
    {
	struct redisq *rq = redisq_new(cfg);
	int     refuse = durable_start(durable, rq);

	redisq_free(rq);
	if (refuse < 0) {
	    durable = durable_free(durable);
	    daemon_user_free(&user);
	    cfg = config_free(cfg);
	    return 1;
	}
	g_atomic_int_set(&durable_refused, durable_refuse(durable));
    }

    if (smfi_register(filter) == MI_FAILURE)
	msg_fatal("smfi_register failed");
    if (smfi_setconn(cfg->milter_socket) == MI_FAILURE)
	msg_fatal("bad milter socket '%s'", cfg->milter_socket);
    {
	/* The socket gets its mode from the umask libmilter creates it under. */
	mode_t  old = umask(0777 & ~cfg->milter_socket_mode);

	rc = smfi_opensocket(1);
	umask(old);
	if (rc == MI_FAILURE)
	    msg_fatal("cannot listen on %s (in use, or directory missing?)", cfg->milter_socket);
	if (socket_path && chmod(socket_path, cfg->milter_socket_mode) < 0)
	    msg_warn("chmod %s: %m", socket_path);
	/* Made by root for a milter that becomes user: the socket is the user's and group's. */
	if (socket_path && geteuid() == 0 && user.name && user.uid != 0
	    && chown(socket_path, user.uid, user.gid) < 0)
	    msg_fatal("chown %s to %s: %m", socket_path, cfg->milter_user);
    }
    if (!opt.foreground)
	daemon_detach(cfg->milter_log);
    daemon_pid_file(pid_file);
    daemon_become(&user, where);
    daemon_user_free(&user);
    msg_info("starting: socket %s, redis %s stream %s, %u mailboxes",
	     cfg->milter_socket, cfg->redis_server, cfg->redis_stream, cfg->mailboxes->len);
    current = generation_new(cfg);
    check_start();
    rc = run_milter(opt.config);
    check_stop_now();
    msg_info("stopped");
    daemon_pid_file_remove(pid_file);
    if (socket_path)
	unlink(socket_path);
    current = generation_unref(current);
    g_mime_shutdown();
    return rc;
}
