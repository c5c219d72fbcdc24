/*
 * NAME
 *	test_sentinel - unit tests of common/sentinel.c and the [redis] sentinel keys
 * DESCRIPTION
 *	Replies to SENTINEL get-master-addr-by-name and to ROLE, written in
 *	RESP as a sentinel or server would send them (hostile ones among
 *	them: wrong types, wrong lengths, huge or odd hosts, port 0 and
 *	99999), parsed by hiredis and judged by sentinel_master_reply() and
 *	sentinel_role_reply(). sentinel_command() against replies that
 *	would make hiredis allocate without bound (an array header of two
 *	billion elements, a bulk string longer than SENTINEL_REPLY_MAX)
 *	and against one that never completes (the deadline has passed):
 *	each refused, nothing waited on (the replies are in a socketpair
 *	before the command is sent). Configuration errors of the sentinel
 *	keys name FILE:LINE. The whole path with real sentinels is
 *	tests/it/it_redis_sentinel.sh.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "sentinel.h"
#include "tap.h"

/* parse - the reply hiredis makes of resp; NULL when it is not one complete reply */
static redisReply *parse(const char *resp, size_t len)
{
    redisReader *rd = redisReaderCreate();
    void   *r = NULL;

    redisReaderFeed(rd, resp, len);
    if (redisReaderGetReply(rd, &r) != REDIS_OK)
	r = NULL;
    redisReaderFree(rd);
    return r;
}

struct master_case {
    const char *name;
    const char *resp;
    const char *host;			/* NULL: refused */
    int     port;
    const char *why;			/* refused: part of *why */
};

static const struct master_case master_cases[] = {
    {"an IPv4 address", "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n", "127.0.0.1", 6380},
    {"a host name", "*2\r\n$14\r\nredis-a.lan.io\r\n$5\r\n65535\r\n", "redis-a.lan.io", 65535},
    {"an IPv6 address", "*2\r\n$3\r\n::1\r\n$1\r\n1\r\n", "::1", 1},
    {"nil: an unknown name", "*-1\r\n", NULL, 0, "does not know"},
    {"nil bulk", "$-1\r\n", NULL, 0, "does not know"},
    {"an error", "-NOAUTH Authentication required.\r\n", NULL, 0, "said: NOAUTH"},
    {"a status", "+OK\r\n", NULL, 0, "a status"},
    {"an integer", ":6379\r\n", NULL, 0, "an integer"},
    {"a bulk string", "$14\r\n127.0.0.1:6379\r\n", NULL, 0, "a bulk string"},
    {"an empty array", "*0\r\n", NULL, 0, "of another length"},
    {"one element", "*1\r\n$9\r\n127.0.0.1\r\n", NULL, 0, "of another length"},
    {"three elements", "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n$1\r\nx\r\n", NULL, 0,
    "of another length"},
    {"port as an integer", "*2\r\n$9\r\n127.0.0.1\r\n:6379\r\n", NULL, 0, "not a bulk string"},
    {"host as a status", "*2\r\n+127.0.0.1\r\n$4\r\n6379\r\n", NULL, 0, "not a bulk string"},
    {"nested array", "*2\r\n*1\r\n$1\r\na\r\n$4\r\n6379\r\n", NULL, 0, "not a bulk string"},
    {"nil host", "*2\r\n$-1\r\n$4\r\n6379\r\n", NULL, 0, "not a bulk string"},
    {"port 0", "*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n", NULL, 0, "unusable port '0'"},
    {"port 99999", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n99999\r\n", NULL, 0, "unusable port"},
    {"port 65536", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n65536\r\n", NULL, 0, "unusable port"},
    {"negative port", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n-6379\r\n", NULL, 0, "unusable port"},
    {"port with a sign", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n+6379\r\n", NULL, 0, "unusable port"},
    {"port with a space", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n 6379\r\n", NULL, 0, "unusable port"},
    {"long port", "*2\r\n$9\r\n127.0.0.1\r\n$12\r\n000000006379\r\n", NULL, 0, "unusable port"},
    {"empty port", "*2\r\n$9\r\n127.0.0.1\r\n$0\r\n\r\n", NULL, 0, "unusable port"},
    {"empty host", "*2\r\n$0\r\n\r\n$4\r\n6379\r\n", NULL, 0, "unusable host"},
    {"host with a NUL", "*2\r\n$9\r\n127.0\0000.1\r\n$4\r\n6379\r\n", NULL, 0, "unusable host"},
    {"host with a space", "*2\r\n$9\r\n127.0 0.1\r\n$4\r\n6379\r\n", NULL, 0, "unusable host"},
    {"host with a newline", "*2\r\n$9\r\n127.0\n0.1\r\n$4\r\n6379\r\n", NULL, 0,
    "unusable host"},
    {"host as an option", "*2\r\n$5\r\n-oFoo\r\n$4\r\n6379\r\n", NULL, 0, "unusable host"},
};

static void test_master_replies(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(master_cases); i++) {
	const struct master_case *c = &master_cases[i];
	/* The NUL case holds a NUL: the length is the literal's, not strlen(). */
	size_t  len = strlen(c->resp);
	redisReply *r;
	g_autofree char *host = NULL;
	g_autofree char *why = NULL;
	int     port = 0;
	int     rc;

	if (strcmp(c->name, "host with a NUL") == 0)
	    len = sizeof("*2\r\n$9\r\n127.0\0000.1\r\n$4\r\n6379\r\n") - 1;
	if (!ok((r = parse(c->resp, len)) != NULL, "%s: hiredis parses the reply", c->name))
	    continue;
	rc = sentinel_master_reply(r, &host, &port, &why);
	freeReplyObject(r);
	if (c->host) {
	    if (is_int(rc, 0, "%s: accepted", c->name)) {
		is_str(host, c->host, "%s: host", c->name);
		is_int(port, c->port, "%s: port", c->name);
	    } else {
		diag("why: %s", why);
	    }
	} else {
	    is_int(rc, -1, "%s: refused", c->name);
	    has_str(why, c->why, "%s: says why", c->name);
	    ok(host == NULL, "%s: no host handed out", c->name);
	}
    }
    {
	/* The longest name allowed, and one byte more. */
	g_autofree char *name = g_strnfill(SENTINEL_HOST_MAX, 'a');
	g_autofree char *longer = g_strnfill(SENTINEL_HOST_MAX + 1, 'a');
	g_autofree char *ok_resp = g_strdup_printf("*2\r\n$%d\r\n%s\r\n$4\r\n6379\r\n",
						   SENTINEL_HOST_MAX, name);
	g_autofree char *bad_resp = g_strdup_printf("*2\r\n$%d\r\n%s\r\n$4\r\n6379\r\n",
						    SENTINEL_HOST_MAX + 1, longer);
	g_autofree char *host = NULL;
	g_autofree char *why = NULL;
	redisReply *r;
	int     port;

	r = parse(ok_resp, strlen(ok_resp));
	is_int(sentinel_master_reply(r, &host, &port, &why), 0, "a %d-byte host is accepted",
	       SENTINEL_HOST_MAX);
	freeReplyObject(r);
	r = parse(bad_resp, strlen(bad_resp));
	g_clear_pointer(&host, g_free);
	is_int(sentinel_master_reply(r, &host, &port, &why), -1,
	       "a %d-byte host is refused", SENTINEL_HOST_MAX + 1);
	freeReplyObject(r);
    }
}

struct role_case {
    const char *name;
    const char *resp;
    int     rc;
    const char *why;
};

static const struct role_case role_cases[] = {
    {"a master", "*3\r\n$6\r\nmaster\r\n:3129659\r\n*0\r\n", 0},
    {"a master with a replica",
	"*3\r\n$6\r\nmaster\r\n:10\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9001\r\n$2\r\n10\r\n", 0},
    {"a replica", "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:9000\r\n$9\r\nconnected\r\n:10\r\n",
    -1, "its role is slave"},
    {"a sentinel", "*2\r\n$8\r\nsentinel\r\n*0\r\n", -1, "its role is sentinel"},
    {"master as a status", "*1\r\n+master\r\n", -1, "not [role"},
    {"masterly", "*1\r\n$7\r\nmasterx\r\n", -1, "not master"},
    {"an empty array", "*0\r\n", -1, "not [role"},
    {"a bulk string", "$6\r\nmaster\r\n", -1, "a bulk string"},
};

static void test_role_replies(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(role_cases); i++) {
	const struct role_case *c = &role_cases[i];
	redisReply *r = parse(c->resp, strlen(c->resp));
	g_autofree char *why = NULL;

	if (!ok(r != NULL, "ROLE %s: hiredis parses the reply", c->name))
	    continue;
	is_int(sentinel_role_reply(r, &why), c->rc, "ROLE %s: %s", c->name,
	       c->rc ? "refused" : "accepted");
	if (c->why)
	    has_str(why, c->why, "ROLE %s: says why", c->name);
	freeReplyObject(r);
    }
}

/*
 * exchange - sentinel_command() on a socketpair whose other end already
 * holds reply (len bytes) and then stays open, deadline_ms from now
 * (negative: already passed). The reply, or NULL and *why.
 */
static redisReply *exchange(const char *reply, size_t len, int deadline_ms, char **why)
{
    int     sv[2];
    redisContext *ctx;
    redisReply *r;
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", "mymaster"};
    struct timeval tv = {0, 200000};	/* a bound if a check fails, never waited on */
    size_t  off = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
	g_error("socketpair: %s", g_strerror(errno));
    while (off < len) {
	ssize_t n = write(sv[1], reply + off, len - off);

	if (n <= 0)
	    g_error("write: %s", g_strerror(errno));
	off += (size_t) n;
    }
    ctx = redisConnectFd(sv[0]);
    redisSetTimeout(ctx, tv);
    r = sentinel_command(ctx, g_get_monotonic_time() + (gint64) deadline_ms * 1000, 3, argv,
			 why);
    redisFree(ctx);
    close(sv[1]);
    return r;
}

static void test_bounded_reads(void)
{
    g_autofree char *why = NULL;
    redisReply *r;

    {
	static const char good[] = "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n";

	r = exchange(good, strlen(good), 1000, &why);
    }
    if (ok(r != NULL, "a good reply is read"))
	is_int(r->elements, 2, "a good reply: 2 elements");
    if (r)
	freeReplyObject(r);

    g_clear_pointer(&why, g_free);
    r = exchange("*2000000000\r\n", strlen("*2000000000\r\n"), 1000, &why);
    ok(r == NULL, "an array header of 2e9 elements is refused (no allocation)");
    has_str(why, "bad reply", "... says why");
    if (r)
	freeReplyObject(r);

    g_clear_pointer(&why, g_free);
    {
	g_autofree char *big = g_malloc(SENTINEL_REPLY_MAX + 100);
	int     head = g_snprintf(big, 32, "$%d\r\n", 500 * 1000 * 1000);

	memset(big + head, 'x', SENTINEL_REPLY_MAX + 100 - (size_t) head);
	r = exchange(big, SENTINEL_REPLY_MAX + 100, 1000, &why);
	ok(r == NULL, "a bulk string over %d bytes is refused", SENTINEL_REPLY_MAX);
	has_str(why, "longer than", "... says why");
	if (r)
	    freeReplyObject(r);
    }

    g_clear_pointer(&why, g_free);
    r = exchange("*2\r\n$9\r\n127.0", strlen("*2\r\n$9\r\n127.0"), -1, &why);
    ok(r == NULL, "a reply incomplete at the deadline is refused");
    has_str(why, "in time", "... says why");
    if (r)
	freeReplyObject(r);

    g_clear_pointer(&why, g_free);
    {
	/* The bound is this exchange's: a connection's later replies may be large. */
	int     sv[2];
	redisContext *ctx;
	redisReplyObjectFunctions *fn;
	const char *argv[] = {"ROLE"};

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[1], "*0\r\n", 4) != 4)
	    g_error("socketpair: %s", g_strerror(errno));
	ctx = redisConnectFd(sv[0]);
	fn = ctx->reader->fn;
	r = sentinel_command(ctx, g_get_monotonic_time() + 1000000, 1, argv, &why);
	ok(ctx->reader->fn == fn, "the connection's reader is hiredis's own again");
	if (r)
	    freeReplyObject(r);
	redisFree(ctx);
	close(sv[1]);
    }
}

/* ---------------------------------------------------------------- */
/*	Configuration							    */
/* ---------------------------------------------------------------- */

static char *tmpdir;

static char *write_file(const char *name, const char *text)
{
    char   *path = g_build_filename(tmpdir, name, NULL);
    g_autoptr(GError) err = NULL;

    if (!g_file_set_contents(path, text, -1, &err))
	g_error("cannot write %s: %s", path, err->message);
    return path;
}

#define MBX "\n[mailbox support]\naddress = support@example.com\n"

struct conf_case {
    const char *name;
    const char *redis;			/* the [redis] section's lines, from line 2 */
    const char *want;			/* NULL: loads; else part of the one error */
};

static const struct conf_case conf_cases[] = {
    {"no sentinels", "server = 127.0.0.1:6379\n", NULL},
    {"junk among sentinels", "sentinels = 10.0.0.1:26379, sentinel-b:26379; [::1]x:1\n",
    ":2: [redis] key 'sentinels': '[::1]x:1' is not HOST:PORT"},
    {"good sentinels", "sentinels = 10.0.0.1:26379, sentinel-b:26379;::1:26380\n", NULL},
    {"port missing", "master_name = m\nsentinels = 10.0.0.1\n",
    ":3: [redis] key 'sentinels': '10.0.0.1' is not HOST:PORT"},
    {"port 0", "sentinels = a:26379, b:0\n", ":2: [redis] key 'sentinels': 'b:0' is not"},
    {"port 99999", "sentinels = a:99999\n", ":2: [redis] key 'sentinels': 'a:99999'"},
    {"empty host", "sentinels = :26379\n", ":2: [redis] key 'sentinels': ':26379'"},
    {"too many", "sentinels = a:1,a:2,a:3,a:4,a:5,a:6,a:7,a:8,a:9,a:10,a:11,a:12,a:13,a:14,"
	"a:15,a:16,a:17\n", ":2: [redis] key 'sentinels': more than 16 sentinels"},
    {"empty master name", "sentinels = a:1\nmaster_name =\n",
    ":3: [redis] key 'master_name': expected the master's name"},
    {"master name with a space", "master_name = my master\n",
    ":2: [redis] key 'master_name': 'my master': a master name has no spaces"},
    {"sentinel timeout", "sentinel_timeout = 5\n", NULL},
    {"sentinel timeout too long", "sentinel_timeout = 2m\n",
    ":2: [redis] key 'sentinel_timeout': '2m' is out of range"},
    {"password file missing", "sentinel_password_file = missing.pw\n",
    ":2: [redis] key 'sentinel_password_file': "},
    {"password and file", "sentinel_password = a\nsentinel_password_file = good.pw\n",
    ":3: [redis] key 'sentinel_password_file': sentinel_password is set too"},
    {"empty password file", "sentinel_password_file = empty.pw\n",
    ":2: [redis] key 'sentinel_password_file': "},
    {"wait replicas", "wait_replicas = 1\nwait_timeout = 250ms\n", NULL},
    {"wait replicas negative", "wait_replicas = -1\n",
    ":2: [redis] key 'wait_replicas': '-1' is out of range"},
    {"wait timeout 0", "wait_replicas = 1\nwait_timeout = 0\n",
    ":3: [redis] key 'wait_timeout': '0' is out of range"},
};

static void test_conf(void)
{
    g_autofree char *pw = write_file("good.pw", "s3cret\nsecond line\n");
    g_autofree char *empty = write_file("empty.pw", "\n");

    for (size_t i = 0; i < G_N_ELEMENTS(conf_cases); i++) {
	const struct conf_case *c = &conf_cases[i];
	g_autofree char *text = g_strconcat("[redis]\n", c->redis, MBX, NULL);
	g_autofree char *name = g_strdup_printf("conf-%02zu.conf", i);
	g_autofree char *path = write_file(name, text);
	GPtrArray *errors = NULL;
	struct intake_config *cfg = config_load(path, &errors);

	if (c->want == NULL) {
	    if (!ok(cfg != NULL, "%s: loads", c->name))
		for (guint j = 0; j < errors->len; j++)
		    diag("%s", (char *) g_ptr_array_index(errors, j));
	} else if (ok(cfg == NULL && errors->len == 1, "%s: one error", c->name)) {
	    g_autofree char *full = g_strconcat(path, c->want, NULL);

	    has_str(g_ptr_array_index(errors, 0), full, "%s: FILE:LINE and why", c->name);
	    ok(strstr(g_ptr_array_index(errors, 0), "s3cret") == NULL,
	       "%s: no password in the error", c->name);
	}
	config_free(cfg);
	g_ptr_array_free(errors, TRUE);
    }
    {
	g_autofree char *path = write_file("pwfile.conf", "[redis]\nsentinels = a:1, b:2\n"
					   "sentinel_password_file = good.pw\n" MBX);
	GPtrArray *errors = NULL;
	struct intake_config *cfg = config_load(path, &errors);

	if (ok(cfg != NULL, "password file: loads")) {
	    is_str(cfg->redis_sentinel_password, "s3cret", "password file: its first line");
	    is_int(g_strv_length(cfg->redis_sentinels), 2, "two sentinels");
	    is_str(cfg->redis_master_name, "mymaster", "master_name defaults to mymaster");
	    is_int(cfg->redis_wait_replicas, 0, "wait_replicas defaults to 0");
	}
	config_free(cfg);
	g_ptr_array_free(errors, TRUE);
    }
}

int     main(void)
{
    tmpdir = g_dir_make_tmp("test_sentinel-XXXXXX", NULL);
    test_master_replies();
    test_role_replies();
    test_bounded_reads();
    test_conf();
    tap_remove_tree(tmpdir);
    g_free(tmpdir);
    return tap_done();
}
