/*
 * NAME
 *	redisq - the one Redis connection helper of every Intake program
 * SYNOPSIS
 *	struct redisq *redisq_new(cfg)
 *	struct redisq *redisq_free(rq)
 *	redisReply *redisq_command(rq, &why, fmt, ...)
 *	redisReply *redisq_argv(rq, &why, argc, argv, lens)
 *	redisReply *redisq_argv_tail(rq, &why, argc, argv, lens, tail_fd, tail_off,
 *				     tail_len)
 *	redisReply *redisq_run(rq, &why, arg, ..., NULL)
 *	int	redisq_send(rq, &why, n, cmds)	(redisq_send.c)
 *	guint	redisq_collect(rq, &why)
 *	redisReply *redisq_vrun(rq, &why, first, ap)
 *	int	redisq_error_is(rq, code)
 *	int	redisq_ok(rq)
 *	void	redisq_disconnect(rq)
 *	void	redisq_set_timeout(rq, ms)
 *	char   *redisq_describe(cfg)
 *	guint64 redisq_connects(rq)
 *
 *	struct redisq_pool *redisq_pool_new(cfg)
 *	struct redisq *redisq_pool_get(pool)
 *	void	redisq_pool_put(pool, rq)
 *	struct redisq_pool *redisq_pool_free(pool)
 * DESCRIPTION
 *	A redisq is one connection to the server named by [redis] server
 *	(HOST:PORT or unix:PATH), or to the master found through [redis]
 *	sentinels and master_name (then checked with ROLE), with the configured timeout on connect,
 *	read and write, AUTH and SELECT done on connect. It connects on first
 *	use and again after any connection error. After a failed connect it
 *	waits before the next attempt (backoff doubling from 100 ms to 1 s):
 *	within that time a command fails at once, so that a milter answers
 *	"try again later" quickly instead of holding the SMTP session for a
 *	timeout per message.
 *
 *	redisq_command() and redisq_argv() return the reply (owned by the
 *	caller: freeReplyObject()) or NULL with *why set (g_free) to a text
 *	fit for a log line. redisq_run() is redisq_argv() for a command
 *	whose arguments are C strings, listed up to a NULL (at most 32);
 *	redisq_vrun() takes them as a va_list.
 *	redisq_send() writes n commands at once and leaves their replies
 *	to be read later; redisq_collect() tells how many of them, from the
 *	first, succeeded.
 *	redisq_argv_tail() is redisq_argv() with one more argument at the
 *	end, tail_len bytes read from tail_fd (from offset tail_off, with pread()):
 *	hiredis formats a whole command in memory, so a large argument (the
 *	original of a spooled mail) is written to the socket by this module,
 *	in pieces of 64 KB; the reply is read by hiredis. A failure part-way
 *	drops the connection: a half-sent command must never be completed
 *	by the next one.
 *	An error reply from the server is returned as a
 *	NULL with *why "server said: ..."; redisq_error_is(rq, "NOGROUP")
 *	then tells whether it began with that code (the first word of the
 *	reply; false after a success or an I/O failure).
 *
 *	A connection whose command failed on I/O is dropped: its state is
 *	unknown. An open connection may have died while it sat idle (Redis
 *	restarted, or closed it after its own "timeout"): before each command
 *	a poll() of zero timeout looks for EOF on the socket (between commands
 *	Redis sends nothing, so anything readable means the connection cannot
 *	carry the next one), and such a connection is replaced by a new one
 *	at once, without a backoff. When the first write of a command on a
 *	connection opened earlier fails with EPIPE or ECONNRESET, no byte of
 *	it left this process, so the server cannot have run it: the command is
 *	sent again, once, on a new connection. A failure after that (part of
 *	the command written, or the reply lost) is never retried here: the
 *	server may have run the command; the caller decides (see
 *	docs/design.md, "Redis under pressure"). Neither happens between MULTI
 *	and EXEC or DISCARD: a new connection would run the queued commands
 *	outside the transaction. So is one whose server answered READONLY, MASTERDOWN,
 *	LOADING or UNBLOCKED: after a failover the old primary (now a replica)
 *	keeps the connection open and refuses every write; only a new
 *	connection, after the backoff, reaches whatever the configured
 *	address names now (a moved DNS name, virtual IP or socket), or, with
 *	[redis] sentinels, the master the sentinels name now: every connect
 *	asks them (common/redisq_connect.c, common/sentinel.c). NOREPLICAS
 *	(min-replicas-to-write not met) and OOM come from the right server:
 *	the command fails, the connection stays.
 *
 *	redisq_disconnect() closes the connection (no backoff): the next
 *	command connects again, so with [redis] sentinels it asks them again.
 *	For a caller that learnt from a reply that the server may no longer
 *	be the one to use (too few replicas acknowledged a write).
 *
 *	redisq_describe() names the configured Redis for a log line: the
 *	server, or "sentinels A, B master NAME" (g_free).
 *
 *	redisq_connects() counts the connections rq has made (the worker
 *	exports the ones after the first as reconnects).
 *
 *	A pool hands out connections to threads: redisq_pool_get() takes an
 *	idle connection or makes a new one; redisq_pool_put() gives it back.
 *	The pool's lock is held only to take or give back, never during
 *	network I/O. The connections of a pool share one backoff: once one
 *	of them failed, the others fail at once until the backoff ends (an
 *	open one is dropped unused: Redis may hang rather than refuse), and
 *	then only one of them tries (the others still fail at once while it
 *	does), so that a hundred SMTP sessions do not each wait a timeout
 *	while Redis is away. What ends a backoff is the first reply on a new
 *	connection, not the connect: a hung Redis still accepts connections.
 *
 *	The connecting and the backoff are common/redisq_connect.c, the
 *	pool common/redisq_pool.c; common/redisq_int.h is their shared
 *	(private) view of a connection.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>

#include "log.h"
#include "redisq.h"
#include "redisq_int.h"
#include "sentinel.h"

static const char *const reconnect_codes[] = {"READONLY", "MASTERDOWN", "LOADING",
"UNBLOCKED", NULL};

guint64 redisq_connects(const struct redisq *rq)
{
    return rq->connects;
}

char   *redisq_describe(const struct intake_config *cfg)
{
    if (cfg->redis_sentinels && cfg->redis_sentinels[0])
	return sentinel_describe(cfg);
    return g_strdup(cfg->redis_server);
}

struct redisq *redisq_new_shared(const struct intake_config *cfg, struct backoff *bo)
{
    struct redisq *rq = g_new0(struct redisq, 1);

    rq->cfg = cfg;
    redisq_backoff_init(&rq->own);
    rq->bo = bo ? bo : &rq->own;
    rq->where = redisq_describe(cfg);
    return rq;
}

struct redisq *redisq_new(const struct intake_config *cfg)
{
    return redisq_new_shared(cfg, NULL);
}

struct redisq *redisq_free(struct redisq *rq)
{
    if (rq == NULL)
	return NULL;
    if (rq->ctx)
	redisFree(rq->ctx);
    redisq_backoff_clear(&rq->own);
    g_free(rq->where);
    g_free(rq->sent_why);
    g_free(rq);
    return NULL;
}

/*
 * closed_while_idle - the server closed (or reset) this open connection
 * since its last reply. Redis sends nothing unasked on a connection
 * without subscriptions, and this module reads every reply before the
 * next command, so a readable socket is EOF, a reset, or bytes out of
 * step: none of them can carry a command. One poll() of zero timeout, the
 * check a connection cache makes before it reuses a session; a failing
 * poll() (not expected) leaves the question to the command.
 */
static int closed_while_idle(struct redisq *rq)
{
    struct pollfd pfd = {.fd = rq->ctx->fd, .events = POLLIN};
    int     n;

    do
	n = poll(&pfd, 1, 0);
    while (n < 0 && errno == EINTR);
    return n > 0;
}

/*
 * ready - connect when there is no connection; *reused: the connection
 * was open before this command. While the backoff of a pool runs
 * (another of its connections failed: Redis may hang), an open connection
 * is dropped unused rather than waited on for a timeout. One the server
 * closed while it sat idle is replaced at once (no backoff: nothing has
 * failed yet); if the server is still away, the connect fails as usual.
 */
int     redisq_ready(struct redisq *rq, char **why, gboolean *reused)
{
    *why = NULL;
    rq->code[0] = 0;
    /* A redisq_send()'s replies first: the socket holds them, and the next reply is after. */
    if (rq->ctx && rq->unread)
	redisq_read_unread(rq);
    if (rq->ctx && rq->bo != &rq->own) {
	gint64  next_try;

	g_mutex_lock(&rq->bo->lock);
	next_try = rq->bo->next_try;
	g_mutex_unlock(&rq->bo->lock);
	if (next_try && g_get_monotonic_time() < next_try)
	    redisq_drop(rq);
    }
    if (rq->ctx && !rq->in_multi && closed_while_idle(rq)) {
	msg_info("redis %s: the server closed an idle connection (restarted?);"
		 " connecting again", rq->where);
	redisq_drop(rq);
    }
    *reused = rq->ctx != NULL;
    if (rq->ctx == NULL && redisq_connect(rq, why) < 0)
	return -1;
    return 0;
}

/*
 * resend_unsent - whether a command whose first write failed with errno
 * err may go again on a new connection: the connection was open before
 * (a new one failing is Redis failing: the backoff's business), the
 * write was refused because the peer had gone (a timeout may be a hung
 * Redis), it is the first try, and no transaction is open. The
 * connection is dropped and the retry logged.
 */
int     redisq_resend_unsent(struct redisq *rq, gboolean reused, int attempt, int err)
{
    if (!reused || attempt > 0 || rq->in_multi || (err != EPIPE && err != ECONNRESET))
	return 0;
    msg_info("redis %s: connection lost before a command was sent (%s);"
	     " sending it on a new connection", rq->where, g_strerror(err));
    redisq_drop(rq);
    return 1;
}

redisReply *redisq_check_reply(struct redisq *rq, redisReply *r, char **why)
{
    if (r == NULL) {
	/* Retry the connection soon, but not in a tight loop. */
	redisq_fail_connect(rq, why, g_strdup_printf("redis %s: %s", rq->where,
			       rq->ctx->errstr[0] ? rq->ctx->errstr : "connection lost"));
	return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
	size_t  n = strcspn(r->str, " ");
	char   *text = g_strdup_printf("redis %s: server said: %.*s", rq->where,
				       (int) MIN(r->len, 500), r->str);

	g_strlcpy(rq->code, r->str, MIN(n + 1, sizeof(rq->code)));
	freeReplyObject(r);
	if (g_strv_contains(reconnect_codes, rq->code)) {
	    /* The wrong server, or not ready: the backoff goes on growing. */
	    char   *t = g_strconcat(text, " (reconnecting)", NULL);

	    g_free(text);
	    redisq_fail_connect(rq, why, t);
	    return NULL;
	}
	if (rq->fresh)
	    redisq_answered(rq);
	*why = text;
	return NULL;
    }
    if (rq->fresh)
	redisq_answered(rq);
    return r;
}

/*
 * note_transaction - follow MULTI ... EXEC/DISCARD on this connection,
 * from the command's name (the first argument of the RESP request cmd)
 * and whether it succeeded.
 */
static void note_transaction(struct redisq *rq, const char *cmd, size_t len, int ok)
{
    const char *p = memchr(cmd, '$', len);
    const char *name;
    size_t  n;

    if (p == NULL || (name = memchr(p, '\n', len - (size_t) (p - cmd))) == NULL)
	return;
    name++;
    n = strtoul(p + 1, NULL, 10);
    if (n > len - (size_t) (name - cmd))
	return;
    if (n == 5 && g_ascii_strncasecmp(name, "MULTI", 5) == 0)
	rq->in_multi = ok && rq->ctx;
    else if ((n == 4 && g_ascii_strncasecmp(name, "EXEC", 4) == 0)
	     || (n == 7 && g_ascii_strncasecmp(name, "DISCARD", 7) == 0))
	rq->in_multi = FALSE;
}

/*
 * exchange - send one formatted request, read its reply. The first write
 * is made here (redisBufferWrite()): when it fails, no byte of the
 * request has left (one write() either sends some or fails), which is
 * what makes sending it again safe (redisq_resend_unsent()). The rest is
 * written and the reply read by redisGetReply().
 */
static redisReply *exchange(struct redisq *rq, char **why, const char *cmd, size_t len)
{
    for (int attempt = 0;; attempt++) {
	gboolean reused;
	void   *r = NULL;
	int     done = 0;

	if (redisq_ready(rq, why, &reused) < 0)
	    return NULL;
	if (redisAppendFormattedCommand(rq->ctx, cmd, len) != REDIS_OK)
	    return redisq_check_reply(rq, NULL, why);
	if (redisBufferWrite(rq->ctx, &done) != REDIS_OK) {
	    int     err = errno;

	    if (rq->ctx->err == REDIS_ERR_IO && redisq_resend_unsent(rq, reused, attempt, err))
		continue;
	    return redisq_check_reply(rq, NULL, why);
	}
	if (redisGetReply(rq->ctx, &r) != REDIS_OK)
	    r = NULL;
	r = redisq_check_reply(rq, r, why);
	note_transaction(rq, cmd, len, r != NULL);
	return r;
    }
}

redisReply *redisq_command(struct redisq *rq, char **why, const char *fmt, ...)
{
    va_list ap;
    char   *cmd = NULL;
    int     len;
    redisReply *r;

    va_start(ap, fmt);
    len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len < 0) {
	*why = g_strdup_printf("redis %s: cannot format the command \"%s\"",
			       rq->where, fmt);
	return NULL;
    }
    r = exchange(rq, why, cmd, (size_t) len);
    redisFreeCommand(cmd);
    return r;
}

redisReply *redisq_argv(struct redisq *rq, char **why, int argc, const char **argv,
			const size_t *lens)
{
    char   *cmd = NULL;
    int     len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    redisReply *r;

    if (len < 0) {
	*why = g_strdup_printf("redis %s: cannot format a command (out of memory)",
			       rq->where);
	return NULL;
    }
    r = exchange(rq, why, cmd, (size_t) len);
    redisFreeCommand(cmd);
    return r;
}

#define TAIL_PIECE	65536		/* bytes of a tail read and sent at a time */

/*
 * send_all - write all of buf to the connection's socket. The socket is
 * blocking with the configured timeout as SO_SNDTIMEO (redisSetTimeout()):
 * EAGAIN is that timeout. MSG_NOSIGNAL: a closed peer is an error, not a
 * SIGPIPE. 0, or -1 and *err (static text or errno's) and *errnum; *sent
 * (may be NULL): whether any byte left.
 */
static int send_all(int fd, const char *buf, size_t len, const char **err, int *errnum,
		    gboolean *sent)
{
    while (len > 0) {
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0) {
	    *errnum = errno;
	    *err = (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout sending a command"
		: g_strerror(errno);
	    return -1;
	}
	if (sent)
	    *sent = TRUE;
	buf += n;
	len -= (size_t) n;
    }
    return 0;
}

/*
 * redisq_argv_tail - argv[0..argc-1], then tail_len bytes of tail_fd as
 * the last argument. hiredis has no way to stream an argument (its
 * issue #616), so the request is written here in RESP, as hiredis would
 * format it: "*N\r\n", then per argument "$LEN\r\n" BYTES "\r\n". The
 * small arguments go out in one buffer with the tail's "$LEN\r\n"; the
 * tail follows a piece at a time. hiredis's output buffer is empty between
 * commands (it writes all before reading a reply), so redisGetReply()
 * only reads, and the reply goes through redisq_check_reply() like any other.
 * When not a byte of the head could be sent, the request goes again on a
 * new connection, as in exchange().
 */
redisReply *redisq_argv_tail(struct redisq *rq, char **why, int argc, const char **argv,
			     const size_t *lens, int tail_fd, off_t tail_off, size_t tail_len)
{
    g_autoptr(GString) head = g_string_sized_new(4096);
    char   *piece = NULL;
    const char *err = NULL;
    int     errnum = 0;
    size_t  off = 0;
    void   *r = NULL;
    int     rc;

    g_string_append_printf(head, "*%d\r\n", argc + 1);
    for (int i = 0; i < argc; i++) {
	g_string_append_printf(head, "$%zu\r\n", lens[i]);
	g_string_append_len(head, argv[i], (gssize) lens[i]);
	g_string_append(head, "\r\n");
    }
    g_string_append_printf(head, "$%zu\r\n", tail_len);
    for (int attempt = 0;; attempt++) {
	gboolean reused, sent = FALSE;

	if (redisq_ready(rq, why, &reused) < 0)
	    return NULL;
	rc = send_all(rq->ctx->fd, head->str, head->len, &err, &errnum, &sent);
	if (rc == 0 || sent || !redisq_resend_unsent(rq, reused, attempt, errnum))
	    break;
    }
    if (rc == 0)
	piece = g_malloc(MIN(tail_len, TAIL_PIECE));
    while (rc == 0 && off < tail_len) {
	ssize_t n = pread(tail_fd, piece, MIN(tail_len - off, TAIL_PIECE),
			  tail_off + (off_t) off);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0) {
	    /* Our file, not Redis: drop the half-sent command, no backoff. */
	    *why = g_strdup_printf("cannot read the message to send to redis: %s",
				   n < 0 ? g_strerror(errno) : "file shorter than expected");
	    redisq_drop(rq);
	    g_free(piece);
	    return NULL;
	}
	rc = send_all(rq->ctx->fd, piece, (size_t) n, &err, &errnum, NULL);
	off += (size_t) n;
    }
    g_free(piece);
    if (rc == 0)
	rc = send_all(rq->ctx->fd, "\r\n", 2, &err, &errnum, NULL);
    if (rc < 0) {
	redisq_fail_connect(rq, why, g_strdup_printf("redis %s: %s", rq->where, err));
	return NULL;
    }
    if (redisGetReply(rq->ctx, &r) != REDIS_OK)
	r = NULL;
    return redisq_check_reply(rq, r, why);
}

redisReply *redisq_vrun(struct redisq *rq, char **why, const char *first, va_list ap)
{
    const char *argv[32];
    size_t  lens[32];
    int     argc = 0;

    for (const char *a = first; a; a = va_arg(ap, const char *)) {
	g_assert(argc < 32);
	argv[argc] = a;
	lens[argc++] = strlen(a);
    }
    return redisq_argv(rq, why, argc, argv, lens);
}

redisReply *redisq_run(struct redisq *rq, char **why, const char *first, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, first);
    r = redisq_vrun(rq, why, first, ap);
    va_end(ap);
    return r;
}

/* redisq_error_is - the last command failed with an error reply beginning with code */
int     redisq_error_is(const struct redisq *rq, const char *code)
{
    return strcmp(rq->code, code) == 0;
}

/* redisq_set_timeout - a longer command timeout, for blocking reads */
void    redisq_set_timeout(struct redisq *rq, int ms)
{
    rq->timeout_ms = ms;
    if (rq->ctx) {
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	redisSetTimeout(rq->ctx, tv);
    }
}

int     redisq_ok(struct redisq *rq)
{
    return rq->ctx != NULL;
}

void    redisq_disconnect(struct redisq *rq)
{
    redisq_drop(rq);
}

