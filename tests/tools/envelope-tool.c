/*
 * NAME
 *	envelope-tool - envelopes from message files, for tests and benchmarks
 * SYNOPSIS
 *	envelope-tool -c FILE -m MAILBOX [-n COUNT] [-x] [-u] [-s] [-r] [-a] MESSAGE...
 * DESCRIPTION
 *	Builds the envelope of each MESSAGE with the same code the milter
 *	uses, as if it had been sent to the address of MAILBOX, and prints
 *	it (one JSON document a line, without the original message) or, with
 *	-x, adds it to the configured stream as the milter does
 *	(enqueue_envelope(): fields v, envelope, text and raw). With -n the files are used round-robin
 *	until COUNT envelopes are made; -u makes each one a different mail
 *	(a unique Message-ID and de-duplication key), as distinct customers'
 *	mails would be.
 *
 *	With -s each MESSAGE is parsed from its file, as the milter parses a
 *	message it has spooled (memory holds only its first raw_max_size
 *	bytes), instead of from memory. With -r the tool prints its peak
 *	resident memory and CPU time on stderr when done, one line:
 *	"envelope-tool: maxrss_kb=N user_s=N.NNN sys_s=N.NNN envelopes=N".
 *	So "envelope-tool -s -r -c CONF -m MBOX big.eml >/dev/null" measures
 *	what building one envelope costs (make bench).
 *
 *	With -a each envelope's attachments are then also read back from
 *	the original as the worker reads them (envelope_attachments(), from
 *	the raw bytes that went to Redis), so that -r covers that too.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "enqueue.h"
#include "envelope.h"
#include "redisq.h"

int     main(int argc, char **argv)
{
    const char *path = NULL, *mbox = NULL;
    long    count = 0;
    int     xadd = 0, unique = 0, spooled = 0, usage = 0, reread = 0, c;
    struct intake_config *cfg;
    const struct mailbox *m;
    struct envelope_limits lim;
    struct redisq *rq = NULL;
    GPtrArray *files = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);

    while ((c = getopt(argc, argv, "c:m:n:xusra")) != -1) {
	switch (c) {
	case 'c': path = optarg; break;
	case 'm': mbox = optarg; break;
	case 'n': count = atol(optarg); break;
	case 'x': xadd = 1; break;
	case 'u': unique = 1; break;
	case 's': spooled = 1; break;
	case 'r': usage = 1; break;
	case 'a': reread = 1; break;
	default: goto usage;
	}
    }
    if (!path || !mbox || optind >= argc)
	goto usage;
    cfg = config_load_or_exit(path);
    if ((m = config_mailbox(cfg, mbox)) == NULL) {
	fprintf(stderr, "envelope-tool: no [mailbox %s]\n", mbox);
	return 1;
    }
    envelope_init();
    envelope_limits_from_config(&lim, cfg);
    for (int i = optind; i < argc; i++) {
	char   *data;
	gsize   len;

	if (spooled) {
	    g_ptr_array_add(files, g_bytes_new(argv[i], strlen(argv[i]) + 1));
	    continue;
	}
	if (!g_file_get_contents(argv[i], &data, &len, NULL)) {
	    fprintf(stderr, "envelope-tool: cannot read %s\n", argv[i]);
	    return 1;
	}
	g_ptr_array_add(files, g_bytes_new_take(data, len));
    }
    if (count <= 0)
	count = files->len;
    if (xadd)
	rq = redisq_new(cfg);
    for (long n = 0; n < count; n++) {
	GBytes *b = g_ptr_array_index(files, n % files->len);
	const char *rcpts[] = {m->address};
	const struct mailbox *matched[] = {m};
	struct envelope_input in = {0};
	json_t *env;
	char   *json;
	gsize   len;
	GMimeStream *stream = NULL;
	g_autofree char *head = NULL;

	in.cfg = cfg;
	in.queue_id = "TOOL";
	in.sender = "tool@example.test";
	in.recipients = rcpts;
	in.matched = matched;
	in.n_recipients = 1;
	if (spooled) {
	    const char *name = g_bytes_get_data(b, NULL);
	    int     fd = open(name, O_RDONLY);
	    struct stat st;
	    ssize_t got;

	    if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "envelope-tool: cannot read %s\n", name);
		return 1;
	    }
	    len = (gsize) st.st_size;
	    head = g_malloc(MIN(len, lim.max_raw) + 1);
	    got = pread(fd, head, MIN(len, lim.max_raw), 0);
	    stream = g_mime_stream_fs_new(fd);
	    in.raw = head;
	    in.raw_len = got > 0 ? (gsize) got : 0;
	    in.stream = stream;
	    in.kept_len = len;
	} else {
	    in.raw = g_bytes_get_data(b, &len);
	    in.raw_len = len;
	}
	in.message_size = len;
	env = envelope_build(&in, &lim);
	if (reread) {
	    GPtrArray *contents = envelope_attachments(env, in.raw, MIN(in.raw_len, lim.max_raw));

	    if (contents)
		g_ptr_array_unref(contents);
	}
	if (stream)
	    g_object_unref(stream);
	if (unique) {
	    g_autofree char *mid = g_strdup_printf("tool-%ld-%d@example.test", n, (int) getpid());
	    g_autofree char *key = g_strdup_printf("tool-%ld-%d", n, (int) getpid());

	    json_object_set_new(env, "message_id", json_string(mid));
	    json_object_set_new(env, "dedupe_key", json_string(key));
	}
	if (rq) {
	    char   *why = NULL;
	    struct raw_source raw = {in.raw, -1, in.raw_len};
	    char   *id = enqueue_envelope(rq, cfg->redis_stream, env, &raw,
					  strcmp(cfg->stream_compression, "zstd") == 0, &why);

	    if (id == NULL) {
		fprintf(stderr, "envelope-tool: %s\n", why);
		return 1;
	    }
	    g_free(id);
	} else {
	    json = json_dumps(env, JSON_COMPACT);
	    printf("%s\n", json);
	    free(json);
	}
	json_decref(env);
    }
    if (usage) {
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "envelope-tool: maxrss_kb=%ld user_s=%ld.%03ld sys_s=%ld.%03ld"
		" envelopes=%ld\n", ru.ru_maxrss, (long) ru.ru_utime.tv_sec,
		(long) ru.ru_utime.tv_usec / 1000, (long) ru.ru_stime.tv_sec,
		(long) ru.ru_stime.tv_usec / 1000, count);
    }
    redisq_free(rq);
    g_ptr_array_free(files, TRUE);
    config_free(cfg);
    return 0;
usage:
    fprintf(stderr, "usage: envelope-tool -c FILE -m MAILBOX [-n COUNT] [-x] [-u] [-s] [-r]"
	    " [-a] MESSAGE...\n");
    return 2;
}
