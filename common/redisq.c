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
 *	redisReply *redisq_vrun(rq, &why, first, ap)
 *	int	redisq_error_is(rq, code)
 *	int	redisq_ok(rq)
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
 *	(HOST:PORT or unix:PATH), with the configured timeout on connect,
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
 *	address names now (a moved DNS name, virtual IP or socket). NOREPLICAS
 *	(min-replicas-to-write not met) and OOM come from the right server:
 *	the command fails, the connection stays.
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

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	1000

/* When the next connect may be tried; one per connection, or one per pool. */
struct backoff {
    GMutex  lock;
    gint64  next_try;			/* monotonic us: no connect before */
    int     backoff_ms;			/* 0: the last connect succeeded */
    char   *last_error;
};

struct redisq {
    const struct intake_config *cfg;
    redisContext *ctx;
    struct backoff *bo;			/* &own, or the pool's */
    struct backoff own;
    int     timeout_ms;			/* command timeout; 0: [redis] timeout */
    gboolean fresh;			/* connected, no reply yet */
    gboolean in_multi;			/* MULTI answered, no EXEC or DISCARD yet */
    guint64 connects;			/* connections made (metrics: reconnects) */
    char    code[32];			/* first word of the last error reply */
};

/* Replies after which this connection cannot be right again (see above). */
static const char *const reconnect_codes[] = {"READONLY", "MASTERDOWN", "LOADING",
"UNBLOCKED", NULL};

static void backoff_init(struct backoff *bo)
{
    g_mutex_init(&bo->lock);
    bo->next_try = 0;
    bo->backoff_ms = 0;
    bo->last_error = NULL;
}

static void backoff_clear(struct backoff *bo)
{
    g_free(bo->last_error);
    g_mutex_clear(&bo->lock);
}

guint64 redisq_connects(const struct redisq *rq)
{
    return rq->connects;
}

char   *redisq_describe(const struct intake_config *cfg)
{
    return g_strdup(cfg->redis_server);
}

static struct redisq *redisq_new_shared(const struct intake_config *cfg, struct backoff *bo)
{
    struct redisq *rq = g_new0(struct redisq, 1);

    rq->cfg = cfg;
    backoff_init(&rq->own);
    rq->bo = bo ? bo : &rq->own;
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
    backoff_clear(&rq->own);
    g_free(rq);
    return NULL;
}

static void drop(struct redisq *rq)
{
    if (rq->ctx) {
	redisFree(rq->ctx);
	rq->ctx = NULL;
    }
    rq->in_multi = FALSE;
}

/* fail_connect - drop the connection, start or double the backoff; *why = text */
static int fail_connect(struct redisq *rq, char **why, char *text)
{
    struct backoff *bo = rq->bo;

    drop(rq);
    g_mutex_lock(&bo->lock);
    bo->backoff_ms = bo->backoff_ms ? MIN(bo->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
    bo->next_try = g_get_monotonic_time() + (gint64) bo->backoff_ms * 1000;
    g_free(bo->last_error);
    bo->last_error = g_strdup(text);
    g_mutex_unlock(&bo->lock);
    *why = text;
    return -1;
}

/*
 * may_connect - 0 when this connection may try to connect now; -1 and
 * *why while the (shared) backoff runs. After a failure, the one caller
 * that finds the backoff over pushes it on by a connect timeout: it is
 * the probe, the others keep failing at once until it has an answer.
 */
static int may_connect(struct redisq *rq, char **why)
{
    struct backoff *bo = rq->bo;
    gint64  now = g_get_monotonic_time();
    int     rc = 0;

    g_mutex_lock(&bo->lock);
    if (bo->next_try && now < bo->next_try) {
	*why = g_strdup_printf("redis %s unavailable (%s); next attempt in %d ms",
			       rq->cfg->redis_server, bo->last_error ? bo->last_error : "?",
			       (int) ((bo->next_try - now) / 1000));
	rc = -1;
    } else if (bo->backoff_ms) {
	bo->next_try = now + (gint64) (rq->cfg->redis_timeout_ms + bo->backoff_ms) * 1000;
    }
    g_mutex_unlock(&bo->lock);
    return rc;
}

static int connect_now(struct redisq *rq, char **why);

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
static int ready(struct redisq *rq, char **why, gboolean *reused)
{
    *why = NULL;
    rq->code[0] = 0;
    if (rq->ctx && rq->bo != &rq->own) {
	gint64  next_try;

	g_mutex_lock(&rq->bo->lock);
	next_try = rq->bo->next_try;
	g_mutex_unlock(&rq->bo->lock);
	if (next_try && g_get_monotonic_time() < next_try)
	    drop(rq);
    }
    if (rq->ctx && !rq->in_multi && closed_while_idle(rq)) {
	msg_info("redis %s: the server closed an idle connection (restarted?);"
		 " connecting again", rq->cfg->redis_server);
	drop(rq);
    }
    *reused = rq->ctx != NULL;
    if (rq->ctx == NULL && connect_now(rq, why) < 0)
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
static int resend_unsent(struct redisq *rq, gboolean reused, int attempt, int err)
{
    if (!reused || attempt > 0 || rq->in_multi || (err != EPIPE && err != ECONNRESET))
	return 0;
    msg_info("redis %s: connection lost before a command was sent (%s);"
	     " sending it on a new connection", rq->cfg->redis_server, g_strerror(err));
    drop(rq);
    return 1;
}

static int connect_now(struct redisq *rq, char **why)
{
    const struct intake_config *cfg = rq->cfg;
    struct timeval tv = {cfg->redis_timeout_ms / 1000, (cfg->redis_timeout_ms % 1000) * 1000};
    g_autofree char *host = NULL;
    redisReply *r;

    if (may_connect(rq, why) < 0)
	return -1;
    if (g_str_has_prefix(cfg->redis_server, "unix:")) {
	rq->ctx = redisConnectUnixWithTimeout(cfg->redis_server + 5, tv);
    } else {
	const char *colon = strrchr(cfg->redis_server, ':');

	host = g_strndup(cfg->redis_server, colon - cfg->redis_server);
	rq->ctx = redisConnectWithTimeout(host, atoi(colon + 1), tv);
    }
    if (rq->ctx == NULL)
	return fail_connect(rq, why, g_strdup_printf("redis %s: out of memory", cfg->redis_server));
    if (rq->ctx->err)
	return fail_connect(rq, why, g_strdup_printf("redis %s: %s", cfg->redis_server,
						     rq->ctx->errstr));
    if (rq->timeout_ms) {
	tv.tv_sec = rq->timeout_ms / 1000;
	tv.tv_usec = (rq->timeout_ms % 1000) * 1000;
    }
    if (redisSetTimeout(rq->ctx, tv) != REDIS_OK)
	return fail_connect(rq, why, g_strdup_printf("redis %s: cannot set timeout: %s",
						     cfg->redis_server, rq->ctx->errstr));
    if (cfg->redis_password && *cfg->redis_password) {
	r = redisCommand(rq->ctx, "AUTH %s", cfg->redis_password);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    char   *t = g_strdup_printf("redis %s: AUTH failed: %s", cfg->redis_server,
				   r ? r->str : rq->ctx->errstr);

	    if (r)
		freeReplyObject(r);
	    return fail_connect(rq, why, t);
	}
	freeReplyObject(r);
    }
    if (cfg->redis_database) {
	r = redisCommand(rq->ctx, "SELECT %d", cfg->redis_database);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    char   *t = g_strdup_printf("redis %s: SELECT %d failed: %s", cfg->redis_server,
					cfg->redis_database, r ? r->str : rq->ctx->errstr);

	    if (r)
		freeReplyObject(r);
	    return fail_connect(rq, why, t);
	}
	freeReplyObject(r);
    }
    /* A hung Redis still accepts connections: only a reply ends the backoff. */
    rq->fresh = TRUE;
    rq->connects++;
    return 0;
}

/* answered - a fresh connection's first reply ends the backoff */
static void answered(struct redisq *rq)
{
    rq->fresh = FALSE;
    g_mutex_lock(&rq->bo->lock);
    rq->bo->backoff_ms = 0;
    rq->bo->next_try = 0;
    g_clear_pointer(&rq->bo->last_error, g_free);
    g_mutex_unlock(&rq->bo->lock);
}

static redisReply *check_reply(struct redisq *rq, redisReply *r, char **why)
{
    if (r == NULL) {
	/* Retry the connection soon, but not in a tight loop. */
	fail_connect(rq, why, g_strdup_printf("redis %s: %s", rq->cfg->redis_server,
			       rq->ctx->errstr[0] ? rq->ctx->errstr : "connection lost"));
	return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
	size_t  n = strcspn(r->str, " ");
	char   *text = g_strdup_printf("redis %s: server said: %.*s", rq->cfg->redis_server,
				       (int) MIN(r->len, 500), r->str);

	g_strlcpy(rq->code, r->str, MIN(n + 1, sizeof(rq->code)));
	freeReplyObject(r);
	if (g_strv_contains(reconnect_codes, rq->code)) {
	    /* The wrong server, or not ready: the backoff goes on growing. */
	    char   *t = g_strconcat(text, " (reconnecting)", NULL);

	    g_free(text);
	    fail_connect(rq, why, t);
	    return NULL;
	}
	if (rq->fresh)
	    answered(rq);
	*why = text;
	return NULL;
    }
    if (rq->fresh)
	answered(rq);
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
 * what makes sending it again safe (resend_unsent()). The rest is
 * written and the reply read by redisGetReply().
 */
static redisReply *exchange(struct redisq *rq, char **why, const char *cmd, size_t len)
{
    for (int attempt = 0;; attempt++) {
	gboolean reused;
	void   *r = NULL;
	int     done = 0;

	if (ready(rq, why, &reused) < 0)
	    return NULL;
	if (redisAppendFormattedCommand(rq->ctx, cmd, len) != REDIS_OK)
	    return check_reply(rq, NULL, why);
	if (redisBufferWrite(rq->ctx, &done) != REDIS_OK) {
	    int     err = errno;

	    if (rq->ctx->err == REDIS_ERR_IO && resend_unsent(rq, reused, attempt, err))
		continue;
	    return check_reply(rq, NULL, why);
	}
	if (redisGetReply(rq->ctx, &r) != REDIS_OK)
	    r = NULL;
	r = check_reply(rq, r, why);
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
			       rq->cfg->redis_server, fmt);
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
			       rq->cfg->redis_server);
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
 * only reads, and the reply goes through check_reply() like any other.
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

	if (ready(rq, why, &reused) < 0)
	    return NULL;
	rc = send_all(rq->ctx->fd, head->str, head->len, &err, &errnum, &sent);
	if (rc == 0 || sent || !resend_unsent(rq, reused, attempt, errnum))
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
	    drop(rq);
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
	fail_connect(rq, why, g_strdup_printf("redis %s: %s", rq->cfg->redis_server, err));
	return NULL;
    }
    if (redisGetReply(rq->ctx, &r) != REDIS_OK)
	r = NULL;
    return check_reply(rq, r, why);
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

/* ---------------------------------------------------------------- */
/*	Pool								    */
/* ---------------------------------------------------------------- */

struct redisq_pool {
    const struct intake_config *cfg;
    GMutex  lock;
    GPtrArray *idle;
    struct backoff bo;			/* shared by every connection of the pool */
};

struct redisq_pool *redisq_pool_new(const struct intake_config *cfg)
{
    struct redisq_pool *pool = g_new0(struct redisq_pool, 1);

    pool->cfg = cfg;
    g_mutex_init(&pool->lock);
    pool->idle = g_ptr_array_new();
    backoff_init(&pool->bo);
    return pool;
}

/* Every connection must have been given back: they point at pool->bo. */
struct redisq_pool *redisq_pool_free(struct redisq_pool *pool)
{
    if (pool == NULL)
	return NULL;
    for (guint i = 0; i < pool->idle->len; i++)
	redisq_free(g_ptr_array_index(pool->idle, i));
    g_ptr_array_free(pool->idle, TRUE);
    g_mutex_clear(&pool->lock);
    backoff_clear(&pool->bo);
    g_free(pool);
    return NULL;
}

struct redisq *redisq_pool_get(struct redisq_pool *pool)
{
    struct redisq *rq = NULL;

    g_mutex_lock(&pool->lock);
    if (pool->idle->len > 0)
	rq = g_ptr_array_steal_index(pool->idle, pool->idle->len - 1);
    g_mutex_unlock(&pool->lock);
    return rq ? rq : redisq_new_shared(pool->cfg, &pool->bo);
}

void    redisq_pool_put(struct redisq_pool *pool, struct redisq *rq)
{
    g_mutex_lock(&pool->lock);
    g_ptr_array_add(pool->idle, rq);
    g_mutex_unlock(&pool->lock);
}
