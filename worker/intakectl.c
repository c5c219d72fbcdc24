/*
 * NAME
 *	intakectl - watch and steer Intake
 * SYNOPSIS
 *	intakectl [-c FILE] [--json] status [--watch[=SECONDS]]
 *	intakectl [-c FILE] check [--pending-age W,C] [--stream W,C] [--dead-letters W,C]
 *		[--owed-replies W,C]
 *	intakectl [-c FILE] [--json] tickets [--mailbox M] [--status S] [--limit N]
 *	intakectl [-c FILE] [--json] ticket NUMBER
 *	intakectl [-c FILE] close|reopen NUMBER
 *	intakectl [-c FILE] [--json] dlq list [--limit N]
 *	intakectl [-c FILE] [--json] dlq show ID
 *	intakectl [-c FILE] dlq retry ID|--all
 *	intakectl [-c FILE] dlq purge ID|--all
 *	intakectl [-c FILE] check-config
 * DESCRIPTION
 *	status: the envelope stream's length (entries not yet acknowledged),
 *	pending entries per consumer, the age of the oldest entry and of the
 *	oldest pending one, dead letters, and the store's counts of tickets
 *	and replies by state, and the throughput: tickets created in the
 *	last 1, 5 and 15 minutes, per minute. --watch shows it again every
 *	SECONDS (default 2) until interrupted.
 *	check: one line and exit status 0..3 for Nagios/Icinga (ctl_check.c).
 *	tickets, ticket: the ticket store, newest first. close, reopen: set
 *	a ticket's status by hand (a follow-up mail reopens a closed ticket).
 *	dlq: entries that failed [worker] max_deliveries times: list, show
 *	(with the envelope), retry (back into the stream), purge.
 *	check-config: the same check, text and exit status as intake-worker -t.
 *
 *	Human-readable tables by default; --json prints JSON for scripts.
 * DIAGNOSTICS
 *	Exit status 0 on success, 1 on an error (explained on stderr), 2 on
 *	bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "dlq.h"
#include "store.h"
#include "checkconf.h"
#include "ctl_check.h"
#include "template.h"

static int json_out;

static void usage(void)
{
    fprintf(stderr,
	    "usage: intakectl [-c FILE] [--json] status [--watch[=SECONDS]]\n"
	    "       intakectl [-c FILE] check [--pending-age W,C] [--stream W,C]"
	    " [--dead-letters W,C] [--owed-replies W,C]\n"
	    "       intakectl [-c FILE] [--json] tickets [--mailbox M] [--status S] [--limit N]\n"
	    "       intakectl [-c FILE] [--json] ticket NUMBER\n"
	    "       intakectl [-c FILE] close|reopen NUMBER\n"
	    "       intakectl [-c FILE] [--json] dlq list [--limit N] | dlq show ID\n"
	    "       intakectl [-c FILE] dlq retry ID|--all | dlq purge ID|--all\n"
	    "       intakectl [-c FILE] check-config\n");
    exit(2);
}

static int fail(const char *what, char *why)
{
    fprintf(stderr, "intakectl: %s: %s\n", what, why ? why : "unknown error");
    g_free(why);
    return 1;
}

static void print_json(json_t *j)
{
    char   *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

    printf("%s\n", s);
    free(s);
}

/* text - a JSON value as table text (g_free) */
static char *text(json_t *v)
{
    if (v == NULL || json_is_null(v))
	return g_strdup("-");
    if (json_is_string(v))
	return g_strdup(json_string_value(v));
    if (json_is_integer(v))
	return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v))
	return g_strdup_printf("%.1f", json_real_value(v));
    if (json_is_boolean(v))
	return g_strdup(json_is_true(v) ? "yes" : "no");
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* table - print rows (array of objects) under the given columns */
static void table(json_t *rows, const char *const *keys, const char *const *heads, int maxw)
{
    int     n = 0;
    int     widths[16] = {0};
    json_t *row;
    size_t  i;

    for (n = 0; keys[n]; n++)
	widths[n] = (int) g_utf8_strlen(heads[n], -1);
    json_array_foreach(rows, i, row) {
	for (int c = 0; c < n; c++) {
	    g_autofree char *t = text(json_object_get(row, keys[c]));

	    widths[c] = MAX(widths[c], MIN(maxw, (int) g_utf8_strlen(t, -1)));
	}
    }
    for (int c = 0; c < n; c++)
	printf("%-*s%s", c + 1 < n ? widths[c] : 0, heads[c], c + 1 < n ? "  " : "\n");
    json_array_foreach(rows, i, row) {
	for (int c = 0; c < n; c++) {
	    g_autofree char *t = text(json_object_get(row, keys[c]));
	    glong   len = g_utf8_strlen(t, -1);

	    if (len > maxw) {
		/* A new string: "…" is 3 bytes and may not fit where the cut is. */
		const char *cut = g_utf8_offset_to_pointer(t, maxw - 1);
		char   *shown = g_strdup_printf("%.*s…", (int) (cut - t), t);

		g_free(t);
		t = shown;
		len = maxw;
	    }
	    printf("%s%*s%s", t, c + 1 < n ? (int) (widths[c] - len) : 0, "",
		   c + 1 < n ? "  " : "\n");
	}
    }
}

/* age_text - ", oldest N s" for an age in seconds, "" when there is none */
static char *age_text(json_t *v)
{
    return json_is_number(v) ? g_strdup_printf(", oldest %.1f s", json_number_value(v))
	: g_strdup("");
}

static int cmd_status(const struct intake_config *cfg)
{
    struct dlq *q = dlq_new(cfg);
    json_t *st = NULL, *counts = NULL;
    struct store *store = NULL;
    char   *why = NULL;

    if (dlq_status(q, &st, &why) < 0) {
	dlq_free(q);
	return fail("queue status", why);
    }
    dlq_free(q);
    if (g_file_test(cfg->store_path, G_FILE_TEST_EXISTS)
	&& (store = store_open(cfg, &why)) != NULL
	&& store->ops->stats(store, &counts, &why) == STORE_OK)
	json_object_set_new(st, "store", counts);
    else
	json_object_set_new(st, "store", json_null());
    g_clear_pointer(&why, g_free);
    store_close(store);
    if (json_out) {
	print_json(st);
    } else {
	json_t *s = json_object_get(st, "store");
	g_autofree char *oldest = age_text(json_object_get(st, "oldest_entry_age_s"));
	g_autofree char *oldest_p = age_text(json_object_get(st, "oldest_pending_age_s"));

	printf("stream          %s (%s)\n", envelope_str(st, "stream"), cfg->redis_server);
	printf("queued          %" JSON_INTEGER_FORMAT " entries not yet acknowledged%s\n",
	       json_integer_value(json_object_get(st, "length")), oldest);
	printf("pending         %" JSON_INTEGER_FORMAT " delivered to a worker%s\n",
	       json_integer_value(json_object_get(st, "pending")), oldest_p);
	printf("dead letters    %" JSON_INTEGER_FORMAT " (%s)\n",
	       json_integer_value(json_object_get(st, "dead_letters")), cfg->redis_dead_stream);
	if (s)
	    printf("store           %" JSON_INTEGER_FORMAT " tickets, %" JSON_INTEGER_FORMAT
		   " messages; replies: %" JSON_INTEGER_FORMAT " owed, %" JSON_INTEGER_FORMAT
		   " sent, %" JSON_INTEGER_FORMAT " unknown, %" JSON_INTEGER_FORMAT " failed\n",
		   json_integer_value(json_object_get(s, "tickets")),
		   json_integer_value(json_object_get(s, "messages")),
		   json_integer_value(json_object_get(s, "replies_owed")),
		   json_integer_value(json_object_get(s, "replies_sent")),
		   json_integer_value(json_object_get(s, "replies_unknown")),
		   json_integer_value(json_object_get(s, "replies_failed")));
	if (s)
	    printf("throughput      tickets per minute: %.1f (last minute), %.1f (5 minutes),"
		   " %.1f (15 minutes)\n",
		   (double) json_integer_value(json_object_get(s, "tickets_last_1m")),
		   json_integer_value(json_object_get(s, "tickets_last_5m")) / 5.0,
		   json_integer_value(json_object_get(s, "tickets_last_15m")) / 15.0);
	printf("consumers of group %s:\n", envelope_str(st, "group"));
	if (json_array_size(json_object_get(st, "consumers")) == 0)
	    printf("  (none seen yet)\n");
	else
	    table(json_object_get(st, "consumers"), (const char *const[]) {"name", "pending",
		  "idle_s", NULL}, (const char *const[]) {"  name", "pending", "idle (s)", NULL}, 60);
    }
    json_decref(st);
    return 0;
}

/*
 * cmd_watch - status every seconds until interrupted (SIGINT ends the
 * process); on a terminal each one replaces the last.
 */
static int cmd_watch(const struct intake_config *cfg, int seconds)
{
    gboolean tty = isatty(STDOUT_FILENO);

    for (;;) {
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *when = g_date_time_format(now, "%F %T");

	if (tty)
	    printf("\033[H\033[2J");
	printf("%s, every %d s (interrupt to stop)\n", when, seconds);
	cmd_status(cfg);
	if (!tty)
	    printf("\n");
	fflush(stdout);
	g_usleep((gulong) seconds * G_USEC_PER_SEC);
    }
    return 0;
}

static struct store *open_store(const struct intake_config *cfg, char **why)
{
    if (!g_file_test(cfg->store_path, G_FILE_TEST_EXISTS)) {
	*why = g_strdup_printf("no ticket database at %s (has intake-worker run with"
			       " this configuration?)", cfg->store_path);
	return NULL;
    }
    return store_open(cfg, why);
}

static int cmd_tickets(const struct intake_config *cfg, const char *mailbox,
		       const char *status, int limit)
{
    char   *why = NULL;
    struct store *st = open_store(cfg, &why);
    json_t *list = NULL;

    if (st == NULL)
	return fail("tickets", why);
    if (st->ops->list_tickets(st, mailbox, status, limit, &list, &why) != STORE_OK) {
	store_close(st);
	return fail("tickets", why);
    }
    store_close(st);
    if (json_out)
	print_json(list);
    else if (json_array_size(list) == 0)
	printf("no tickets\n");
    else
	table(list, (const char *const[]) {"number", "status", "mailbox", "customer", "messages",
	      "updated_at", "title", NULL}, (const char *const[]) {"NUMBER", "STATUS", "MAILBOX",
	      "CUSTOMER", "MSGS", "UPDATED", "TITLE", NULL}, 50);
    json_decref(list);
    return 0;
}

static int cmd_ticket(const struct intake_config *cfg, const char *number)
{
    char   *why = NULL;
    struct store *st = open_store(cfg, &why);
    json_t *t = NULL, *m, *a;
    size_t  i, j;

    if (st == NULL)
	return fail("ticket", why);
    if (st->ops->show_ticket(st, number, &t, &why) != STORE_OK) {
	store_close(st);
	return fail("ticket", why);
    }
    store_close(st);
    if (json_out) {
	print_json(t);
	json_decref(t);
	return 0;
    }
    printf("ticket    %s [%s]\n", envelope_str(t, "number"), envelope_str(t, "status"));
    printf("title     %s\n", envelope_str(t, "title"));
    printf("mailbox   %s   category %s   priority %s   type %s   language %s\n",
	   envelope_str(t, "mailbox"), envelope_str(t, "category"), envelope_str(t, "priority"),
	   envelope_str(t, "type"), envelope_str(t, "language"));
    printf("customer  %s <%s>\n", envelope_str(t, "customer_name"),
	   envelope_str(t, "customer_address"));
    printf("created   %s   updated %s\n", envelope_str(t, "created_at"),
	   envelope_str(t, "updated_at"));
    json_array_foreach(json_object_get(t, "messages"), i, m) {
	printf("\n--- message %" JSON_INTEGER_FORMAT " (%s) %s from %s\n",
	       json_integer_value(json_object_get(m, "id")),
	       strcmp(envelope_str(m, "direction"), "in") == 0 ? "received" : "sent",
	       envelope_str(m, "created_at"), envelope_str(m, "sender"));
	printf("Subject: %s\n", envelope_str(m, "subject"));
	json_array_foreach(json_object_get(m, "header_fields"), j, a)
	    printf("%s: %s\n", json_string_value(json_array_get(a, 0)),
		   json_string_value(json_array_get(a, 1)));
	printf("\n%s\n", envelope_str(m, "body"));
	json_array_foreach(json_object_get(m, "attachments"), j, a)
	    printf("[attachment] %s (%s, %" JSON_INTEGER_FORMAT " bytes%s)\n",
		   envelope_str(a, "filename"), envelope_str(a, "content_type"),
		   json_integer_value(json_object_get(a, "size")),
		   json_is_true(json_object_get(a, "stored")) ? "" : ", not stored");
    }
    if (json_array_size(json_object_get(t, "replies"))) {
	printf("\nreplies:\n");
	table(json_object_get(t, "replies"), (const char *const[]) {"kind", "recipient", "state",
	      "attempts", "sent_at", "last_error", NULL}, (const char *const[]) {"  KIND",
	      "TO", "STATE", "TRIES", "SENT", "LAST ERROR", NULL}, 60);
    }
    json_decref(t);
    return 0;
}

/* cmd_set_status - close or reopen a ticket by hand */
static int cmd_set_status(const struct intake_config *cfg, const char *verb,
			  const char *number, const char *status)
{
    char   *why = NULL;
    struct store *st = open_store(cfg, &why);
    struct store_ticket_info info = {0};
    int     rc = 1;

    if (st == NULL)
	return fail(verb, why);
    if (st->ops->begin(st, &why) != STORE_OK
	|| st->ops->find_ticket(st, number, &info, &why) != STORE_OK) {
	rc = fail(verb, why);
    } else if (info.id == 0) {
	rc = fail(verb, g_strdup_printf("no ticket %s", number));
    } else if (st->ops->set_status(st, info.id, status, &why) != STORE_OK
	       || st->ops->commit(st, &why) != STORE_OK) {
	rc = fail(verb, why);
    } else {
	printf("%s: %s -> %s\n", number, info.status, status);
	rc = 0;
    }
    if (rc)
	st->ops->rollback(st);
    store_ticket_info_clear(&info);
    store_close(st);
    return rc;
}

static int cmd_dlq(const struct intake_config *cfg, int argc, char **argv, int limit, int all)
{
    struct dlq *q = dlq_new(cfg);
    const char *verb = argc > 0 ? argv[0] : "list";
    const char *id = argc > 1 ? argv[1] : NULL;
    json_t *out = NULL;
    char   *why = NULL;
    int     rc = 0;

    if (strcmp(verb, "list") == 0) {
	if (dlq_list(q, limit, &out, &why) < 0)
	    rc = fail("dlq list", why);
	else if (json_out)
	    print_json(out);
	else if (json_array_size(out) == 0)
	    printf("no dead letters in %s\n", cfg->redis_dead_stream);
	else
	    table(out, (const char *const[]) {"id", "queue_id", "deliveries", "failed_at",
		  "subject", "error", NULL}, (const char *const[]) {"ID", "QUEUE ID", "TRIES",
		  "FAILED AT", "SUBJECT", "ERROR", NULL}, 60);
    } else if (strcmp(verb, "show") == 0 && id) {
	if (dlq_show(q, id, &out, &why) < 0)
	    rc = fail("dlq show", why);
	else
	    print_json(out);
    } else if (strcmp(verb, "retry") == 0 && (id || all)) {
	json_t *list = NULL, *e;
	size_t  i;

	if (all) {
	    if (dlq_list(q, 1000000, &list, &why) < 0)
		rc = fail("dlq retry", why);
	} else {
	    list = json_pack("[{s:s}]", "id", id);
	}
	json_array_foreach(list, i, e) {
	    char   *new_id = NULL;

	    if (dlq_retry(q, envelope_str(e, "id"), &new_id, &why) < 0) {
		rc = fail("dlq retry", why);
		why = NULL;
		break;
	    }
	    printf("%s: back in %s as %s\n", envelope_str(e, "id"), cfg->redis_stream, new_id);
	    g_free(new_id);
	}
	json_decref(list);
    } else if (strcmp(verb, "purge") == 0 && (id || all)) {
	gint64  n = 0;

	if (dlq_purge(q, all ? NULL : id, &n, &why) < 0)
	    rc = fail("dlq purge", why);
	else if (n == 0 && !all)
	    rc = fail("dlq purge", g_strdup_printf("no dead letter %s", id));
	else
	    printf("%" G_GINT64_FORMAT " dead letter(s) purged\n", n);
    } else {
	dlq_free(q);
	usage();
    }
    json_decref(out);
    dlq_free(q);
    return rc;
}


int     main(int argc, char **argv)
{
    static const struct option opts[] = {
	{"json", no_argument, NULL, 'j'},
	{"mailbox", required_argument, NULL, 'm'},
	{"status", required_argument, NULL, 's'},
	{"limit", required_argument, NULL, 'n'},
	{"all", no_argument, NULL, 'a'},
	{"config", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{"watch", optional_argument, NULL, 'w'},
	{0},
    };
    const char *path = INTAKE_DEFAULT_CONFIG;
    const char *mailbox = NULL, *status = NULL;
    struct intake_config *cfg;
    int     limit = 100, all = 0, watch = 0, c, rc;

    /* Options may come before or after the command word. */
    while ((c = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
	if (c == 'c')
	    path = optarg;
	else if (c == 'j')
	    json_out = 1;
	else
	    usage();
    }
    if (optind >= argc)
	usage();
    /* check has options of its own, and exit codes of the monitoring-plugins interface. */
    if (strcmp(argv[optind], "check") == 0)
	return ctl_check(path, argc - optind, argv + optind);
    /*
     * Then the command's own options, wherever they stand among its
     * operands: getopt_long() permutes argv[cmd_at..] so that the operands
     * (e.g. "ticket NUMBER", "dlq retry ID") end up after the options.
     * optind = 0 makes glibc start afresh (a new argv, GNU ordering).
     */
    {
	int     cmd_at = optind;
	int     sub_argc = argc - cmd_at;
	char  **sub_argv = argv + cmd_at;

	optind = 0;
	while ((c = getopt_long(sub_argc, sub_argv, "c:j", opts, NULL)) != -1) {
	    switch (c) {
	    case 'c':
		path = optarg;
		break;
	    case 'j':
		json_out = 1;
		break;
	    case 'm':
		mailbox = optarg;
		break;
	    case 's':
		status = optarg;
		break;
	    case 'n':
		limit = atoi(optarg);
		if (limit <= 0)
		    usage();
		break;
	    case 'a':
		all = 1;
		break;
	    case 'w':
		watch = optarg ? atoi(optarg) : 2;
		if (watch <= 0)
		    usage();
		break;
	    default:
		usage();
	    }
	}
	/* sub_argv[0] is the command word; the operands follow optind. */
	sub_argv[optind - 1] = sub_argv[0];
	argc = sub_argc - (optind - 1);
	argv = sub_argv + (optind - 1);
    }
    if (strcmp(argv[0], "check-config") == 0)
	return config_check(path, worker_config_check, stdout, stderr);
    cfg = config_load_or_exit(path);
    if (strcmp(argv[0], "status") == 0 && argc == 1)
	rc = watch ? cmd_watch(cfg, watch) : cmd_status(cfg);
    else if (strcmp(argv[0], "tickets") == 0 && argc == 1)
	rc = cmd_tickets(cfg, mailbox, status, limit);
    else if (strcmp(argv[0], "ticket") == 0 && argc == 2)
	rc = cmd_ticket(cfg, argv[1]);
    else if (strcmp(argv[0], "close") == 0 && argc == 2)
	rc = cmd_set_status(cfg, "close", argv[1], "closed");
    else if (strcmp(argv[0], "reopen") == 0 && argc == 2)
	rc = cmd_set_status(cfg, "reopen", argv[1], "open");
    else if (strcmp(argv[0], "dlq") == 0)
	rc = cmd_dlq(cfg, argc - 1, argv + 1, limit, all);
    else
	usage();
    config_free(cfg);
    return rc;
}
