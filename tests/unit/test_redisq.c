/*
 * NAME
 *	test_redisq - unit tests of redisq's handling of dead connections
 * DESCRIPTION
 *	Against a fake Redis on a unix socket (a thread per connection's
 *	script, joined before the client goes on, so nothing waits on time):
 *	a connection the server closed after its reply, while it sat idle, is
 *	replaced before the next command, which then succeeds on a new
 *	connection; a command whose reply is lost (the server read it and
 *	closed) fails and is not sent again (no second connection arrives:
 *	the server may have run it); a connection that dies inside MULTI is
 *	not replaced (the queued commands would run outside the transaction);
 *	commands sent without waiting (redisq_send()) go in one write, in
 *	order; the next command reads their replies first and gets its own,
 *	and redisq_collect() then reports the first refused with the
 *	server's text; all answered is all succeeded; a connection closed
 *	before the replies is a failure, without a new connection.
 *	The whole path through Postfix and a real Redis restart is
 *	it_redis_restart.sh.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "redisq.h"
#include "tap.h"

/* What the fake server does on the connection it accepts. */
enum script {
    ANSWER_AND_CLOSE,			/* read a command, answer +OK, close */
    READ_AND_CLOSE,			/* read a command, close without an answer */
    PIPELINE,				/* read three commands, answer an error and two
					 * numbers, then a PING with +PONG, close */
    THREE_OK,				/* read three commands, answer three numbers, close */
};

struct fake {
    int     lfd;
    enum script script;
    char    got[256];			/* the command(s) read first */
    char    then[64];			/* PIPELINE: the command read after */
};

static gpointer serve(gpointer data)
{
    struct fake *f = data;
    int     fd = accept(f->lfd, NULL, NULL);
    ssize_t n;

    f->got[0] = 0;
    if (fd < 0)
	return NULL;
    /* A small command arrives in one piece on a unix socket. */
    n = read(fd, f->got, sizeof(f->got) - 1);
    f->got[n > 0 ? n : 0] = 0;
    if (f->script == ANSWER_AND_CLOSE && write(fd, "+OK\r\n", 5) != 5)
	f->got[0] = 0;
    f->then[0] = 0;
    if (f->script == THREE_OK && write(fd, ":1\r\n:1\r\n:0\r\n", 12) != 12)
	f->got[0] = 0;
    if (f->script == PIPELINE && write(fd, "-ERR first\r\n:1\r\n:0\r\n", 20) == 20) {
	n = read(fd, f->then, sizeof(f->then) - 1);
	f->then[n > 0 ? n : 0] = 0;
	if (write(fd, "+PONG\r\n", 7) != 7)
	    f->then[0] = 0;
    }
    close(fd);
    return NULL;
}

/* serve_next - a thread that runs script on the next connection, then closes it */
static GThread *serve_next(struct fake *f, enum script script)
{
    f->script = script;
    return g_thread_new("fake-redis", serve, f);
}

/*
 * release - a client that failed without connecting leaves the server's
 * thread in accept(): connect once, so that it ends and can be joined
 * (a failing check must not hang the test).
 */
static void release(const struct sockaddr_un *sun)
{
    int     fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd >= 0 && connect(fd, (const struct sockaddr *) sun, sizeof(*sun)) < 0)
	diag("cannot connect to the fake server: %s", g_strerror(errno));
    if (fd >= 0)
	close(fd);
}

/* no_connection_waiting - no client waits in the fake server's backlog to be accepted */
static int no_connection_waiting(int lfd)
{
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};

    return poll(&pfd, 1, 0) == 0;
}

int     main(void)
{
    g_autofree char *dir = g_dir_make_tmp("test_redisq-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "redis.sock", NULL);
    g_autofree char *text = g_strdup_printf("[redis]\nserver = unix:%s\ntimeout = 1s\n\n[mailbox support]\naddress = support@example.test\n", path);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct intake_config *cfg;
    struct redisq *rq;
    struct fake f;
    redisReply *r;
    GThread *t;
    char   *why = NULL;

    signal(SIGPIPE, SIG_IGN);		/* as the daemons: a closed peer is EPIPE */
    if ((cfg = tap_config(text)) == NULL)
	return tap_done();
    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (!ok(f.lfd >= 0 && bind(f.lfd, (struct sockaddr *) &sun, sizeof(sun)) == 0
	    && listen(f.lfd, 8) == 0, "fake server listens on %s", path))
	return tap_done();

    /* 1. Closed while idle: found before use, the command goes on a new connection. */
    rq = redisq_new(cfg);
    t = serve_next(&f, ANSWER_AND_CLOSE);
    r = redisq_run(rq, &why, "PING", NULL);
    g_thread_join(t);
    ok(r != NULL, "idle: the first PING answered (%s)", why ? why : "ok");
    g_clear_pointer(&r, freeReplyObject);
    g_clear_pointer(&why, g_free);
    t = serve_next(&f, ANSWER_AND_CLOSE);
    r = redisq_run(rq, &why, "PING", NULL);
    if (r == NULL)
	release(&sun);
    g_thread_join(t);
    ok(r != NULL, "idle: the server closed the connection, the next PING answered all the same"
       " (%s)", why ? why : "ok");
    has_str(f.got, "PING", "idle: the PING reached the server on the new connection");
    is_int((long long) redisq_connects(rq), 2, "idle: two connections made");
    g_clear_pointer(&r, freeReplyObject);
    g_clear_pointer(&why, g_free);
    rq = redisq_free(rq);

    /* 2. The reply lost after the server read the command: fails, not sent again. */
    rq = redisq_new(cfg);
    t = serve_next(&f, READ_AND_CLOSE);
    r = redisq_run(rq, &why, "INCR", "counter", NULL);
    g_thread_join(t);
    ok(r == NULL, "lost reply: the command fails");
    has_str(f.got, "INCR", "lost reply: the server had read the command");
    has_str(why, "redis unix:", "lost reply: the error names the server");
    ok(no_connection_waiting(f.lfd), "lost reply: not sent again (no second connection)");
    g_clear_pointer(&r, freeReplyObject);
    g_clear_pointer(&why, g_free);
    rq = redisq_free(rq);

    /* 3. Inside MULTI a dead connection is not replaced. */
    rq = redisq_new(cfg);
    t = serve_next(&f, ANSWER_AND_CLOSE);
    r = redisq_run(rq, &why, "MULTI", NULL);
    g_thread_join(t);
    ok(r != NULL, "multi: MULTI answered");
    g_clear_pointer(&r, freeReplyObject);
    g_clear_pointer(&why, g_free);
    r = redisq_run(rq, &why, "SET", "k", "v", NULL);
    ok(r == NULL, "multi: the connection closed inside MULTI: the next command fails");
    ok(no_connection_waiting(f.lfd), "multi: no new connection (it would run SET outside"
       " the transaction)");
    g_clear_pointer(&r, freeReplyObject);
    g_clear_pointer(&why, g_free);
    rq = redisq_free(rq);

    /* 4. Sent without waiting; the next command reads the replies first. */
    {
	static const char *const a1[] = {"XDEL", "s", "1-1"};
	static const char *const a2[] = {"XACK", "s", "g", "1-1"};
	static const char *const a3[] = {"HDEL", "e", "1-1"};
	static const size_t l1[] = {4, 1, 3}, l2[] = {4, 1, 1, 3}, l3[] = {4, 1, 3};
	const struct redisq_cmd cmds[] = {{3, a1, l1}, {4, a2, l2}, {3, a3, l3}};

	rq = redisq_new(cfg);
	t = serve_next(&f, PIPELINE);
	is_int(redisq_send(rq, &why, 3, cmds), 0, "send: written (%s)", why ? why : "ok");
	g_clear_pointer(&why, g_free);
	r = redisq_run(rq, &why, "PING", NULL);
	g_thread_join(t);
	ok(strstr(f.got, "XDEL") && strstr(f.got, "XACK") && strstr(f.got, "HDEL")
	   && strstr(f.got, "XDEL") < strstr(f.got, "XACK")
	   && strstr(f.got, "XACK") < strstr(f.got, "HDEL") && !strstr(f.got, "PING"),
	   "send: the three commands arrived in one write, in order, before the PING");
	ok(r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0,
	   "send: the next command read the three replies first and got its own (%s)",
	   r ? r->str : why);
	has_str(f.then, "PING", "send: the PING went on the same connection");
	g_clear_pointer(&r, freeReplyObject);
	g_clear_pointer(&why, g_free);
	is_int(redisq_collect(rq, &why), 0, "send: collected: none succeeded from the first");
	has_str(why, "server said: ERR first", "send: the first failure is the server's error");
	g_clear_pointer(&why, g_free);
	is_int((long long) redisq_connects(rq), 1, "send: one connection");
	rq = redisq_free(rq);

	rq = redisq_new(cfg);
	t = serve_next(&f, THREE_OK);
	is_int(redisq_send(rq, &why, 3, cmds), 0, "send, all answered: written");
	is_int(redisq_collect(rq, &why), 3, "send, all answered: all three succeeded");
	ok(why == NULL, "send, all answered: no failure text");
	g_thread_join(t);
	g_clear_pointer(&why, g_free);
	rq = redisq_free(rq);

	rq = redisq_new(cfg);
	t = serve_next(&f, READ_AND_CLOSE);
	is_int(redisq_send(rq, &why, 3, cmds), 0, "send, no reply: written");
	g_thread_join(t);
	is_int(redisq_collect(rq, &why), 0, "send, no reply: none succeeded");
	has_str(why, "redis unix:", "send, no reply: the failure names the server (%s)",
		why ? why : "none");
	ok(no_connection_waiting(f.lfd), "send, no reply: not sent again (no second connection)");
	g_clear_pointer(&why, g_free);
	rq = redisq_free(rq);
    }

    close(f.lfd);
    config_free(cfg);
    tap_remove_tree(dir);
    return tap_done();
}
