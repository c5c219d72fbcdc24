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
 *	the mail and retries. Mail with no mailbox recipient is accepted at
 *	DATA without its content being read (at end of message, untouched,
 *	when the MTA has no DATA step: milter protocol before version 4).
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
 *	SIGTERM, SIGINT and SIGHUP stop the milter: libmilter finishes the
 *	connections in hand and smfi_main() returns.
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

static struct intake_config *cfg;
static struct redisq_pool *pool;

/*
 * Redis's persistence settings are checked by a thread of their own (at
 * start, then every [redis] durable_check_interval), never on the
 * per-message path: that reads one atomic flag.
 */
static struct durable *durable;		/* the check thread's, after start */
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

#define MCTX(ctx)	((struct mctx *) smfi_getpriv(ctx))

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
    mc = mctx_new(cfg);
    mc->protocol = (f1 & WANT_NR) | (f1 & WANT_SKIP) | (f1 & SMFIP_HDR_LEADSPC);
    smfi_setpriv(ctx, mc);
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

    if (mc == NULL) {				/* MTA without negotiation */
	mc = mctx_new(cfg);
	smfi_setpriv(ctx, mc);
    }
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

static sfsistat cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    struct mctx *mc = MCTX(ctx);

    if (mc)
	mctx_add_body(mc, data, len);
    return noreply(ctx, SMFIP_NR_BODY);
}

static sfsistat tempfail(SMFICTX *ctx, struct mctx *mc, const char *why)
{
    msg_warn("%s: deferred (451 4.3.0): %s", mctx_qid(mc), why);
    smfi_setreply(ctx, "451", "4.3.0", cfg->tempfail_text);
    mctx_reset(mc);
    return SMFIS_TEMPFAIL;
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
    if (g_atomic_int_get(&durable_refused))
	return tempfail(ctx, mc, "redis is not known to keep accepted mail safely and"
			" [redis] require_durable = yes (see the warning about its settings)");
    env = mctx_envelope(mc);
    {
	struct redisq *rq = redisq_pool_get(pool);

	entry = enqueue_envelope(rq, cfg->redis_stream, env,
				 mc->raw ? (const char *) mc->raw->data : "", &why);
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
    struct mctx *mc = MCTX(ctx);

    smfi_setpriv(ctx, NULL);
    mctx_free(mc);
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
 */
static int check_durable(struct redisq *rq)
{
    g_autofree char *why = NULL;
    int     rc = durable_update(durable, rq, &why);

    g_atomic_int_set(&durable_refused, durable_refuse(durable));
    if (rc < 0) {
	msg_debug("cannot check redis's persistence settings now: %s", why);
	return MIN(5000, cfg->redis_durable_check_ms);
    }
    return cfg->redis_durable_check_ms;
}

static gpointer check_main(gpointer data)
{
    struct redisq *rq = data;

    g_mutex_lock(&check_lock);
    while (!check_stop) {
	gint64  end;

	g_mutex_unlock(&check_lock);
	end = g_get_monotonic_time() + (gint64) check_durable(rq) * 1000;
	g_mutex_lock(&check_lock);
	while (!check_stop && g_cond_wait_until(&check_cond, &check_lock, end))
	    continue;
    }
    g_mutex_unlock(&check_lock);
    redisq_free(rq);
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	Start-up							    */
/* ---------------------------------------------------------------- */

int     main(int argc, char **argv)
{
    struct daemon_opts opt;
    int     rc;

    daemon_options(argc, argv, "intake-milter", &opt);
    cfg = config_load_or_exit(opt.config);
    if (opt.test) {
	printf("%s: configuration OK (%u mailboxes)\n", opt.config, cfg->mailboxes->len);
	config_free(cfg);
	return 0;
    }
    log_open("intake-milter", cfg->milter_log, cfg->milter_log_facility);
    log_set_verbose(opt.verbose);
    envelope_init();
    pool = redisq_pool_new(cfg);
    durable = durable_new(cfg);
    {
	struct redisq *rq = redisq_new(cfg);
	int     refuse = durable_start(durable, rq);

	redisq_free(rq);
	if (refuse < 0) {
	    durable = durable_free(durable);
	    pool = redisq_pool_free(pool);
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
	if (g_str_has_prefix(cfg->milter_socket, "unix:")
	    && chmod(cfg->milter_socket + 5, cfg->milter_socket_mode) < 0)
	    msg_warn("chmod %s: %m", cfg->milter_socket + 5);
    }
    if (!opt.foreground)
	daemon_detach(cfg->milter_log);
    daemon_pid_file(cfg->milter_pid_file);
    {
	/*
	 * libmilter takes SIGTERM, SIGINT and SIGHUP with sigwait() in a thread
	 * of its own; a thread started before smfi_main() must block them, or
	 * the kernel may hand one to it and the default action ends the milter.
	 */
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	check_thread = g_thread_new("durable", check_main, redisq_new(cfg));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    msg_info("starting: socket %s, redis %s stream %s, %u mailboxes",
	     cfg->milter_socket, cfg->redis_server, cfg->redis_stream, cfg->mailboxes->len);
    rc = smfi_main();
    g_mutex_lock(&check_lock);
    check_stop = TRUE;
    g_cond_signal(&check_cond);
    g_mutex_unlock(&check_lock);
    g_thread_join(check_thread);
    durable = durable_free(durable);
    msg_info("stopped");
    daemon_pid_file_remove(cfg->milter_pid_file);
    if (g_str_has_prefix(cfg->milter_socket, "unix:"))
	unlink(cfg->milter_socket + 5);
    pool = redisq_pool_free(pool);
    cfg = config_free(cfg);
    g_mime_shutdown();
    return rc == MI_SUCCESS ? 0 : 1;
}
