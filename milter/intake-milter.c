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
 *	the mail and retries (with [redis] wait_replicas, Redis has answered
 *	only when WAIT says that many replicas have the entry: a failover
 *	then cannot lose it; common/enqueue.c); also when a large body could not be spooled to
 *	a file (milter/mctx.c): a mail is never accepted unparsed. A mail
 *	over max_message_size to a mailbox with "oversize = reject" gets 552
 *	5.3.4, as soon as the body passes the limit when the MTA lets the
 *	milter answer during the body, else at its end. Mail with no mailbox
 *	recipient is accepted at DATA without its content being read (at end
 *	of message, untouched, when the MTA has no DATA step: milter protocol
 *	before version 4).
 *
 *	A thread checks Redis's persistence settings at start and every
 *	[redis] durable_check_interval (milter/durable_watch.c) and warns about any
 *	that can lose accepted mail. With [redis] require_durable = yes the
 *	milter does not start on them, and answers 451 to every mail while
 *	they last (or while they are not known).
 *
 *	Each mail's fate (queued, untouched, rejected, tempfailed and why),
 *	its size, parser warnings and the time XADD took are counted in
 *	memory (common/mstats.c) and added to a Redis hash by a thread
 *	(milter/mstats_flush.c) for the worker's metrics endpoint.
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
 *
 *	This file holds the libmilter callbacks and start-up. The
 *	configuration generations SIGHUP installs are generation.c, the
 *	signal handling and reload signals.c, the persistence check thread
 *	durable_watch.c, a connection's and message's state mctx.c.
 * DIAGNOSTICS
 *	One log line per decision, each starting with the MTA queue id.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "daemon.h"
#include "durable_watch.h"
#include "mstats.h"
#include "mstats_flush.h"
#include "enqueue.h"
#include "envelope.h"
#include "generation.h"
#include "log.h"
#include "mctx.h"
#include "protocol.h"
#include "redisq.h"
#include "sentinel.h"
#include "signals.h"

/* What a connection's libmilter context points to. */
struct conn {
    struct mctx *mc;
    struct generation *gen;
};

/* What we ask of the MTA, nothing we do not use: protocol.h. */
#define WANT_ACTIONS	PROTOCOL_ACTIONS
#define WANT_NR		PROTOCOL_NR
#define WANT_SKIP	PROTOCOL_SKIP

#define CONN(ctx)	((struct conn *) smfi_getpriv(ctx))
#define MCTX(ctx)	(CONN(ctx) ? CONN(ctx)->mc : NULL)

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

/* outcome - count a mail's fate (common/mstats.c): atomic additions, no I/O */
static void outcome(enum mstat what)
{
    mstats_add(MSTAT_SEEN, 1);
    mstats_add(what, 1);
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
    int     bad;

    if ((f0 & WANT_ACTIONS) != WANT_ACTIONS) {
	msg_error("the MTA does not offer the add-header and delete-recipient"
		  " actions; intake-milter cannot work with it");
	return SMFIS_REJECT;
    }
    mc = conn_open(ctx);
    /*
     * The macros we read and no others, when the MTA lets us say so: each
     * stage's macros are one more command per mail (protocol.h). Without
     * it, the MTA's own lists apply (main.cf.snippet ships the same).
     */
    mc->protocol = protocol_offer(ctx, f0, f1, pf0, &bad);
    if (bad >= 0)
	msg_warn("smfi_setsymlist failed for milter stage %d: the MTA's own macro list"
		 " applies to it", bad);
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
	outcome(MSTAT_UNTOUCHED);
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

static sfsistat tempfail(SMFICTX *ctx, struct mctx *mc, enum mstat reason, const char *why)
{
    outcome(reason);
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
    outcome(MSTAT_REJECTED);
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
	    return tempfail(ctx, mc, MSTAT_TEMPFAIL_SPOOL, mctx_spool_error(mc));
	if (mctx_oversize_reject(mc))
	    return too_big(ctx, mc);
    }
    return noreply(ctx, SMFIP_NR_BODY);
}

/*
 * collector_mailbox_of - the mailbox the envelope lists a [milter] collectors
 * recipient under, or NULL: one per mail, since the original recipient that
 * chose it (common/forward.c) does not depend on the envelope recipient.
 */
static const struct mailbox *collector_mailbox_of(json_t *env, const struct intake_config *cfg)
{
    json_t *mbox, *r;
    size_t  i, k;

    json_array_foreach(json_object_get(env, "mailboxes"), i, mbox) {
	json_array_foreach(json_object_get(mbox, "recipients"), k, r) {
	    if (config_is_collector(cfg, json_string_value(r)))
		return config_mailbox(cfg, envelope_str(mbox, "name"));
	}
    }
    return NULL;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    struct mctx *mc = MCTX(ctx);
    g_autofree char *why = NULL;
    g_autofree char *entry = NULL;
    g_autoptr(GString) names = g_string_new(NULL);
    const char *env_id;
    json_t *env, *mbox, *customer;
    const struct mailbox *collector_mailbox;
    size_t  i;
    guint   removed = 0;

    if (mc == NULL)
	return SMFIS_TEMPFAIL;
    take_queue_id(ctx, mc);
    if (mc->n_matched == 0) {
	/* An MTA without the DATA step (milter protocol < 4) gets here. */
	msg_debug("%s: no mailbox recipient: accepted untouched", mctx_qid(mc));
	outcome(MSTAT_UNTOUCHED);
	mctx_reset(mc);
	return SMFIS_CONTINUE;
    }
    if (mctx_oversize_reject(mc))
	return too_big(ctx, mc);
    if (durable_watch_refused())
	return tempfail(ctx, mc, MSTAT_TEMPFAIL_NOT_DURABLE,
			"redis is not known to keep accepted mail safely and"
			" [redis] require_durable = yes (see the warning about its settings)");
    if ((env = mctx_envelope(mc)) == NULL)
	return tempfail(ctx, mc, mctx_spool_error(mc) ? MSTAT_TEMPFAIL_SPOOL
			: MSTAT_TEMPFAIL_ENVELOPE, mctx_spool_error(mc) ? mctx_spool_error(mc)
			: "cannot build the envelope");
    if (json_array_size(json_object_get(env, "mailboxes")) == 0) {
	/* Only collector recipients, and no header named a mailbox (common/forward.c). */
	msg_info("%s: collector recipient, but no X-Original-To, Delivered-To, Resent-To, To or"
		 " Cc address is a mailbox's: accepted untouched (add it to a mailbox's"
		 " forwarded_from to make tickets of such mail)", mctx_qid(mc));
	json_decref(env);
	mctx_reset(mc);
	return SMFIS_CONTINUE;
    }
    {
	struct redisq_pool *pool = CONN(ctx)->gen->pool;
	struct redisq *rq = redisq_pool_get(pool);
	struct raw_source raw;
	gint64  t0 = g_get_monotonic_time();

	mctx_raw(mc, &raw);
	entry = enqueue_envelope(rq, mc->cfg->redis_stream, env, &raw,
				 strcmp(mc->cfg->stream_compression, "zstd") == 0, &why);
	/* Not on enough replicas: a failover now would lose it; the sender keeps it. */
	if (entry && mc->cfg->redis_wait_replicas > 0
	    && enqueue_wait(rq, mc->cfg, &why) < 0) {
	    g_autofree char *text = g_strdup_printf("%s (entry %s may arrive twice: the"
						    " worker keeps one ticket)", why, entry);

	    g_free(why);
	    why = g_steal_pointer(&text);
	    g_clear_pointer(&entry, g_free);
	}
	redisq_pool_put(pool, rq);
	mstats_redis_observe(g_get_monotonic_time() - t0);
    }
    if (entry == NULL) {
	json_decref(env);
	return tempfail(ctx, mc, MSTAT_TEMPFAIL_REDIS, why ? why : "redis: unknown error");
    }
    outcome(MSTAT_QUEUED);
    mstats_add(MSTAT_BYTES, mc->size);
    mstats_add(MSTAT_PARSE_WARNINGS, json_array_size(json_object_get(env, "warnings")));
    env_id = envelope_str(env, "id");

    /* Queued: from here on the mail is safe, whatever the MTA does next. */
    collector_mailbox = collector_mailbox_of(env, mc->cfg);
    json_array_foreach(json_object_get(env, "mailboxes"), i, mbox) {
	g_string_append_printf(names, "%s%s", names->len ? "," : "", envelope_str(mbox, "name"));
	if (json_object_get(mbox, "original_recipient"))
	    g_string_append_printf(names, "(%s %s)", envelope_str(mbox, "original_field"),
				   envelope_str(mbox, "original_recipient"));
    }
    for (i = 0; i < mc->rcpts->len; i++) {
	const struct mailbox *m = g_ptr_array_index(mc->matched, i);
	const char *rcpt = g_ptr_array_index(mc->rcpts, i);

	/* A collector recipient's mailbox was only known once the headers were. */
	if (m == NULL && config_is_collector(mc->cfg, rcpt))
	    m = collector_mailbox;
	/* The exact address the MTA gave: the envelope's copy is cleaned for JSON. */
	if (m && !m->deliver) {
	    g_autofree char *bracketed = g_strdup_printf("<%s>", rcpt);

	    if (smfi_delrcpt(ctx, bracketed) == MI_SUCCESS)
		removed++;
	    else
		msg_warn("%s: cannot remove recipient %s", mctx_qid(mc), bracketed);
	}
    }
    customer = json_object_get(env, "customer");
    if (g_strcmp0(envelope_str(customer, "how"), "from") != 0 || json_object_get(customer, "by"))
	msg_info("%s: customer <%s> (%s%s%s)", mctx_qid(mc), envelope_str(customer, "address"),
		 envelope_str(customer, "how"), json_object_get(customer, "by") ? ", by " : "",
		 envelope_str(customer, "by"));
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
    if (durable_watch_first(cfg) < 0) {
	daemon_user_free(&user);
	cfg = config_free(cfg);
	return 1;
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
    {
	g_autofree char *redis = redisq_describe(cfg);

	msg_info("starting: socket %s, redis %s stream %s, %u mailboxes",
		 cfg->milter_socket, redis, cfg->redis_stream, cfg->mailboxes->len);
    }
    sentinel_announce(cfg, "starting");
    generation_install(generation_new(cfg));
    durable_watch_start();
    mstats_flush_start();
    rc = signals_run_milter(opt.config);
    mstats_flush_stop();
    durable_watch_stop();
    msg_info("stopped");
    daemon_pid_file_remove(pid_file);
    if (socket_path)
	unlink(socket_path);
    generation_install(NULL);
    g_mime_shutdown();
    return rc;
}
