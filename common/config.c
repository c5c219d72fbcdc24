/*
 * NAME
 *	config - load and check intake.conf
 * SYNOPSIS
 *	struct intake_config *config_load(path, &errors)
 *	struct intake_config *config_free(cfg)
 *	const struct mailbox *config_match(cfg, rcpt)
 *	const struct mailbox *config_mailbox(cfg, name)
 *	gboolean config_is_collector(cfg, rcpt)
 *	gboolean config_is_staff(cfg, addr)
 *	struct intake_config *config_load_or_exit(path)
 *	int	config_check(path, extra, out, err)
 *	struct intake_config *config_reload(path)
 *	int	config_listen_address(listen, &sockaddr_storage, &len, &why)
 *	void	config_dump_defaults(out)
 * DESCRIPTION
 *	config_load() reads a GLib key file with the sections [milter],
 *	[redis], [worker], [store], [smtp], [metrics] and one [mailbox NAME] per
 *	mailbox. Every section and key is described by a table below: a key
 *	that no table names, and a value that does not parse, is an error.
 *	All errors of a file are collected (not only the first), each as
 *	"FILE:LINE: [section] key 'k': what is wrong, and what is expected".
 *	GKeyFile does not keep line numbers, so at the first error one more
 *	pass over the text indexes the line of each section and key. Two
 *	[mailbox NAME] sections of one NAME are an error.
 *
 *	Relative paths in the file are taken relative to the directory of the
 *	file, so a test or demo directory can be moved as a whole.
 *
 *	config_match() finds the mailbox for an envelope recipient: the
 *	address is normalised (case, +extension), then looked up among
 *	addresses and aliases, then among catch-all domains. Both lookups
 *	are hash tables. Inactive mailboxes do not match. A mailbox's
 *	forwarded_from addresses match like its aliases.
 *	config_is_collector() tells whether an envelope recipient is one of
 *	[milter] collectors (transport-only addresses whose mail belongs to
 *	the mailbox its headers name: common/forward.c); config_is_staff()
 *	whether an address is listed in [milter] staff, as itself or by its
 *	"@domain". Both compare normalised addresses; the lists are short
 *	(a postmaster's), so they are searched, not hashed.
 *	config_load_or_exit() is config_load() for programs: it prints every
 *	error on stderr and exits with status 1 when there is any.
 *
 *	config_check() is the one configuration check behind
 *	"intake-milter -t", "intake-worker -t" and "intakectl check-config":
 *	config_load(), then, when the file loaded, the caller's extra checks
 *	(the worker passes its template and store checks; NULL for none),
 *	which add error texts to the array. Every error is a line on err;
 *	then "PATH: configuration OK (N mailboxes)" on out, or "PATH: N
 *	error(s)" on err. It returns the exit status: 0 (no error) or 1.
 *
 *	config_reload() is config_load() for a daemon's SIGHUP: it logs
 *	every error (msg_error) and, when there is any, that the
 *	configuration in force is kept, and returns NULL.
 *
 *	config_dump_defaults() prints the key tables below, the one source
 *	of every key and its default: a line "SECTION<TAB>KEY<TAB>default
 *	<TAB>VALUE" per key ("mailbox NAME" for the mailbox keys), or
 *	"SECTION<TAB>KEY<TAB>required" for a key without a default. The
 *	documentation test (tests/it/it_docs_config_keys.sh) compares it
 *	with docs/intake.conf.md, intake.conf(5) and conf/intake.conf.
 * DIAGNOSTICS
 *	config_load() returns NULL and fills *errors (a GPtrArray of
 *	strings owned by the caller) when the file cannot be read or holds
 *	any error. The result is owned by the caller: config_free().
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "daemon.h"
#include "mime.h"
#include "sentinel_conf.h"

/* ---------------------------------------------------------------- */
/*	Value types							    */
/* ---------------------------------------------------------------- */

enum ctype {
    CT_STRING, CT_PATH, CT_BOOL, CT_INT, CT_SIZE, CT_DURATION, CT_LIST,
    CT_ADDRLIST, CT_DOMAINLIST, CT_MODE, CT_LOG, CT_FACILITY, CT_ADDRESS,
    CT_SOCKET, CT_SERVER, CT_USER, CT_SENDERLIST, CT_LISTEN, CT_NUMBER, CT_CUSTOM,
};

struct ckey {
    const char *name;
    enum ctype type;
    size_t  offset;
    const char *def;			/* default value, as text */
    const char *const *choices;		/* CT_STRING: allowed values */
    gint64  min, max;			/* CT_INT, CT_SIZE, CT_DURATION, CT_NUMBER */
    int     (*parse) (void *base, void *field, const char *value, char **why);	/* CT_CUSTOM */
};

static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
const char *const *const config_priorities = priorities;	/* routing rules check theirs */
static const char *const backends[] = {"sqlite", "postgresql", NULL};
static const char *const oversize_policies[] = {"ticket", "reject", NULL};
static const char *const reply_to_policies[] = {"envelope", "from_if_aligned", NULL};
static const char *const trust_policies[] = {"strict", "same_domain", "open", NULL};
static const char *const closed_policies[] = {"reopen", "new", "refuse", NULL};
/* What a mail to the mailbox becomes (docs/actions.md). */
static const char *const mailbox_actions[] = {"ticket", "ticket_note", "time_entry",
    "project_note", "task_note", NULL};
static const char *const compressions[] = {"zstd", "none", NULL};

#define CFG(f) offsetof(struct intake_config, f)
#define MBX(f) offsetof(struct mailbox, f)
#define KMAX G_GINT64_CONSTANT(1) << 40

static const struct ckey milter_keys[] = {
    {"socket", CT_SOCKET, CFG(milter_socket), "unix:/run/intake/milter.sock"},
    {"socket_mode", CT_MODE, CFG(milter_socket_mode), "0660"},
    {"pid_file", CT_PATH, CFG(milter_pid_file), ""},
    {"user", CT_USER, CFG(milter_user), ""},
    {"log", CT_LOG, CFG(milter_log), "syslog"},
    {"log_facility", CT_FACILITY, CFG(milter_log_facility), "mail"},
    {"max_message_size", CT_SIZE, CFG(max_message_size), "10240000", NULL, 1024, KMAX},
    {"raw_max_size", CT_SIZE, CFG(raw_max_size), "10M", NULL, 0, KMAX},
    {"max_text_size", CT_SIZE, CFG(max_text_size), "1M", NULL, 1024, KMAX},
    {"max_recipients", CT_INT, CFG(max_recipients), "1000", NULL, 1, 1000000},
    {"max_headers", CT_INT, CFG(max_headers), "1000", NULL, 10, 1000000},
    {"max_attachments", CT_INT, CFG(max_attachments), "250", NULL, 0, 100000},
    {"max_mime_parts", CT_INT, CFG(max_mime_parts), G_STRINGIFY(MIME_PARTS_DEFAULT), NULL, 1, MIME_PARTS_CEILING},
    {"max_mime_depth", CT_INT, CFG(max_mime_depth), G_STRINGIFY(MIME_DEPTH_DEFAULT), NULL, 1, MIME_DEPTH_CEILING},
    {"spool_threshold", CT_SIZE, CFG(spool_threshold), "1M", NULL, 0, KMAX},
    {"spool_directory", CT_PATH, CFG(spool_directory), "/var/tmp"},
    {"stream_compression", CT_STRING, CFG(stream_compression), "zstd", compressions},
    {"raw_headers", CT_LIST, CFG(raw_headers),
	"Auto-Submitted, Precedence, List-Id, List-Unsubscribe, List-Post, "
	"X-Auto-Response-Suppress, X-Autoreply, X-Autorespond, Return-Path, "
    "Delivered-To, X-Original-To, Resent-To, Resent-From, X-Loop, X-Intake-Id, Content-Type, "
    "From, Authentication-Results"},
    {"tempfail_text", CT_STRING, CFG(tempfail_text),
    "Ticket queue temporarily unavailable, please retry later"},
    {"recipient_delimiter", CT_STRING, CFG(recipient_delimiter), "+"},
    {"collectors", CT_ADDRLIST, CFG(collectors), ""},
    {"staff", CT_SENDERLIST, CFG(staff), ""},
    {0},
};

static const struct ckey redis_keys[] = {
    {"server", CT_SERVER, CFG(redis_server), "127.0.0.1:6379"},
    {"password", CT_STRING, CFG(redis_password), ""},
    {"database", CT_INT, CFG(redis_database), "0", NULL, 0, 1000},
    {"stream", CT_STRING, CFG(redis_stream), "intake:envelopes"},
    {"dead_stream", CT_STRING, CFG(redis_dead_stream), "intake:dead"},
    {"timeout", CT_DURATION, CFG(redis_timeout_ms), "2s", NULL, 10, 600000},
    {"require_durable", CT_BOOL, CFG(redis_require_durable), "no"},
    {"durable_check_interval", CT_DURATION, CFG(redis_durable_check_ms), "5m", NULL, 1000,
    86400000},
    /* Redis Sentinel (common/sentinel.c, docs/design.md "Highly available Redis") */
    {"sentinels", CT_CUSTOM, CFG(redis_sentinels), "", NULL, 0, 0, sentinel_conf_list},
    {"master_name", CT_CUSTOM, CFG(redis_master_name), "mymaster", NULL, 0, 0, sentinel_conf_name},
    {"sentinel_timeout", CT_DURATION, CFG(redis_sentinel_timeout_ms), "500ms", NULL, 10, 60000},
    {"sentinel_password", CT_STRING, CFG(redis_sentinel_password), ""},
    {"sentinel_password_file", CT_CUSTOM, CFG(redis_sentinel_password_file), "", NULL, 0, 0,
    sentinel_conf_password_file},
    {"wait_replicas", CT_INT, CFG(redis_wait_replicas), "0", NULL, 0, 16},
    {"wait_timeout", CT_DURATION, CFG(redis_wait_timeout_ms), "1s", NULL, 10, 60000},
    {0},
};

static const struct ckey worker_keys[] = {
    {"group", CT_STRING, CFG(worker_group), "intake"},
    {"consumer", CT_STRING, CFG(worker_consumer), ""},
    {"log", CT_LOG, CFG(worker_log), "syslog"},
    {"log_facility", CT_FACILITY, CFG(worker_log_facility), "mail"},
    {"batch", CT_INT, CFG(worker_batch), "64", NULL, 1, 10000},
    {"prepare_threads", CT_INT, CFG(worker_prepare_threads), "2", NULL, 0, 64},
    {"block", CT_DURATION, CFG(worker_block_ms), "2s", NULL, 10, 600000},
    {"claim_idle", CT_DURATION, CFG(worker_claim_idle_ms), "5m", NULL, 100, 86400000},
    {"claim_interval", CT_DURATION, CFG(worker_claim_interval_ms), "30s", NULL, 100, 86400000},
    {"max_deliveries", CT_INT, CFG(worker_max_deliveries), "5", NULL, 1, 1000},
    {"pid_file", CT_PATH, CFG(worker_pid_file), ""},
    {"user", CT_USER, CFG(worker_user), ""},
    {"authserv_id", CT_LIST, CFG(authserv_ids), ""},
    {"languages", CT_LIST, CFG(languages), "de, en, da, fr, nl, sv, nb, pl, es, it"},
    {"message_id_secret_file", CT_PATH, CFG(msgid_secret_file), ""},
    {"message_id_secret_file_old", CT_PATH, CFG(msgid_secret_file_old), ""},
    {"rules", CT_PATH, CFG(worker_rules), ""},	/* branch rules: worker/rules.c reads it */
    /* FAQ suggestions (branch faq): worker/classify_faq.c, docs/classify.md */
    {"faq_directory", CT_PATH, CFG(faq_directory), ""},
    {"faq_max", CT_INT, CFG(faq_max), "3", NULL, 0, CONFIG_FAQ_MAX},
    {"faq_min_score", CT_NUMBER, CFG(faq_min_score), "1.5", NULL, 0, 1000},
    {"tags", CT_PATH, CFG(worker_tags), ""},	/* worker/classify_tags.c reads it */
    {"sentiment_lexicons", CT_PATH, CFG(sentiment_lexicons), "/usr/share/intake/sentiment"},
    {0},
};

static const struct ckey store_keys[] = {
    {"backend", CT_STRING, CFG(store_backend), "sqlite", backends},
    {"path", CT_PATH, CFG(store_path), "/var/lib/intake/tickets.db"},
    {"busy_timeout", CT_DURATION, CFG(store_busy_timeout_ms), "10s", NULL, 0, 3600000},
    {"ticket_prefix", CT_STRING, CFG(ticket_prefix), "INT"},
    {"templates", CT_PATH, CFG(templates_dir), "/etc/intake/templates"},
    {"autogen_keep_days", CT_INT, CFG(store_autogen_keep_days), "30", NULL, 0, 36500},
    {"events_keep_days", CT_INT, CFG(store_events_keep_days), "30", NULL, 0, 36500},
    /* backend = postgresql (branch pg): worker/store_pg.c */
    {"conninfo", CT_STRING, CFG(store_conninfo), ""},
    {"password_file", CT_PATH, CFG(store_password_file), ""},
    {0},
};

static const struct ckey smtp_keys[] = {
    {"relay", CT_SERVER, CFG(smtp_relay), "127.0.0.1:25"},
    {"helo", CT_STRING, CFG(smtp_helo), "localhost"},
    {"timeout", CT_DURATION, CFG(smtp_timeout_ms), "30s", NULL, 100, 3600000},
    {"retry_interval", CT_DURATION, CFG(smtp_retry_interval_ms), "1m", NULL, 10, 86400000},
    {"reply_window", CT_DURATION, CFG(reply_window_ms), "1h", NULL, 0, 2000000000},
    {"ack_limit_minute", CT_INT, CFG(ack_limit_minute), "120", NULL, 0, 100000000},
    {"ack_limit_day", CT_INT, CFG(ack_limit_day), "5000", NULL, 0, 100000000},
    {0},
};

static const struct ckey mailbox_keys[] = {
    {"address", CT_ADDRESS, MBX(address), NULL},
    {"aliases", CT_ADDRLIST, MBX(aliases), ""},
    {"catch_all", CT_DOMAINLIST, MBX(catch_all), ""},
    {"display_name", CT_STRING, MBX(display_name), ""},
    {"active", CT_BOOL, MBX(active), "yes"},
    {"deliver", CT_BOOL, MBX(deliver), "yes"},
    {"acknowledge", CT_BOOL, MBX(acknowledge), "yes"},
    {"import_autogenerated", CT_BOOL, MBX(import_autogenerated), "no"},
    {"category", CT_STRING, MBX(category), ""},
    {"priority", CT_STRING, MBX(priority), "normal", priorities},
    {"type", CT_STRING, MBX(type), ""},
    {"language", CT_STRING, MBX(language), "en"},
    {"template", CT_STRING, MBX(template_name), "ack"},
    {"ticket_url", CT_STRING, MBX(ticket_url), ""},
    {"faq", CT_STRING, MBX(faq), ""},
    {"header_fields", CT_LIST, MBX(header_fields), "To, Cc"},
    {"oversize", CT_STRING, MBX(oversize), "ticket", oversize_policies},
    {"forwarded_from", CT_ADDRLIST, MBX(forwarded_from), ""},
    {"reply_to", CT_STRING, MBX(reply_to), "envelope", reply_to_policies},
    {"ack_on_auth_fail", CT_BOOL, MBX(ack_on_auth_fail), "no"},
    {"ack_limit_minute", CT_INT, MBX(ack_limit_minute), "60", NULL, 0, 100000000},
    {"ack_limit_day", CT_INT, MBX(ack_limit_day), "2000", NULL, 0, 100000000},
    {"thread_trust", CT_STRING, MBX(thread_trust), "strict", trust_policies},
    {"on_closed", CT_STRING, MBX(on_closed), "reopen", closed_policies},
    {"reopen_days", CT_INT, MBX(reopen_days), "30", NULL, 0, 36500},
    {"merge_window", CT_DURATION, MBX(merge_window_ms), "0", NULL, 0, 2000000000},
    {"category_auto_confidence", CT_INT, MBX(category_auto_confidence), "0", NULL, 0, 100},
    {"action", CT_STRING, MBX(action), "ticket", mailbox_actions},
    {"action_confirm", CT_BOOL, MBX(action_confirm), "no"},
    {"notify_assignee", CT_BOOL, MBX(notify_assignee), "yes"},
    {0},
};

/* [metrics] (branch metrics): the worker's Prometheus endpoint, off when empty. */
static const struct ckey metrics_keys[] = {
    {"listen", CT_LISTEN, CFG(metrics_listen), ""},
    {0},
};

/* [http] (branch api): the worker's HTTP server, /metrics and the read-only API (worker/api.c). */
static const struct ckey http_keys[] = {
    {"listen", CT_LISTEN, CFG(http_listen), ""},
    {"token_file", CT_PATH, CFG(http_token_file), ""},
    {0},
};

static const struct csection {
    const char *name;
    const struct ckey *keys;
} sections[] = {
    {"milter", milter_keys},
    {"redis", redis_keys},
    {"worker", worker_keys},
    {"store", store_keys},
    {"smtp", smtp_keys},
    {"metrics", metrics_keys},
    {"http", http_keys},
    {0},
};

#define MAILBOX_PREFIX "mailbox "
/* [sink NAME]: the worker's (worker/sink_config.c); this loader only lets them be. */
#define SINK_PREFIX "sink "

/* ---------------------------------------------------------------- */
/*	Error reporting with line numbers				    */
/* ---------------------------------------------------------------- */

struct loader {
    const char *path;
    char  **lines;			/* the file's text, for line numbers */
    GHashTable *index;			/* NULL, or loader_index() of lines */
    GPtrArray *errors;
    const char *dir;
};

/*
 * loader_index - "group" and "group\001key" -> the first line of each, in
 * one pass over the text. Built at the first error: a file with an error
 * on every line must cost one pass, not a pass per error.
 */
static GHashTable *loader_index(const struct loader *ld)
{
    GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *group = NULL;		/* key in index: lives as long as index */

    for (int i = 0; ld->lines && ld->lines[i]; i++) {
	const char *s = ld->lines[i];
	const char *e;

	while (*s == ' ' || *s == '\t')
	    s++;
	if (*s == '[') {
	    char   *name;

	    group = NULL;
	    if ((e = strchr(s + 1, ']')) == NULL)
		continue;
	    name = g_strndup(s + 1, (gsize) (e - s - 1));
	    if (!g_hash_table_lookup_extended(index, name, (gpointer *) & group, NULL)) {
		g_hash_table_insert(index, name, GINT_TO_POINTER(i + 1));
		group = name;
	    } else {
		g_free(name);
	    }
	    continue;
	}
	if (group && (e = strchr(s, '=')) != NULL) {
	    char   *key;

	    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	    key = g_strdup_printf("%s\001%.*s", group, (int) (e - s), s);
	    if (g_hash_table_contains(index, key))
		g_free(key);
	    else
		g_hash_table_insert(index, key, GINT_TO_POINTER(i + 1));
	}
    }
    return index;
}

/* loader_line - line number of [group] (key NULL) or of key in group, 0 if unknown */
static int loader_line(struct loader *ld, const char *group, const char *key)
{
    g_autofree char *k = NULL;

    if (group == NULL)
	return 0;
    if (ld->index == NULL)
	ld->index = loader_index(ld);
    if (key == NULL)
	return GPOINTER_TO_INT(g_hash_table_lookup(ld->index, group));
    k = g_strconcat(group, "\001", key, NULL);
    return GPOINTER_TO_INT(g_hash_table_lookup(ld->index, k));
}

static void loader_error(struct loader *ld, const char *group, const char *key,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void loader_error(struct loader *ld, const char *group, const char *key,
			 const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;
    int     line = loader_line(ld, group, key);

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (key)
	g_ptr_array_add(ld->errors, g_strdup_printf("%s:%d: [%s] key '%s': %s",
						 ld->path, line, group, key, what));
    else
	g_ptr_array_add(ld->errors, g_strdup_printf("%s:%d: [%s]: %s",
						    ld->path, line, group, what));
}

/* ---------------------------------------------------------------- */
/*	Value parsers							    */
/* ---------------------------------------------------------------- */

/* parse_scaled - number with optional unit suffix; 0 on success */
static int parse_scaled(const char *text, int duration, gint64 *out)
{
    char   *end;
    gint64  value;
    gint64  scale = 1;

    errno = 0;
    value = g_ascii_strtoll(text, &end, 10);
    if (end == text || errno != 0 || value < 0)
	return -1;
    while (*end == ' ')
	end++;
    if (duration) {
	if (*end == 0 || strcmp(end, "s") == 0)
	    scale = 1000;
	else if (strcmp(end, "ms") == 0)
	    scale = 1;
	else if (strcmp(end, "m") == 0)
	    scale = 60 * 1000;
	else if (strcmp(end, "h") == 0)
	    scale = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
	    scale = 86400 * 1000;
	else
	    return -1;
    } else {
	if (*end == 0)
	    scale = 1;
	else if (g_ascii_strcasecmp(end, "k") == 0)
	    scale = 1024;
	else if (g_ascii_strcasecmp(end, "m") == 0)
	    scale = 1024 * 1024;
	else if (g_ascii_strcasecmp(end, "g") == 0)
	    scale = 1024 * 1024 * 1024;
	else
	    return -1;
    }
    if (value > G_MAXINT64 / scale)
	return -1;
    *out = value * scale;
    return 0;
}

static char **split_list(const char *text)
{
    char  **parts = g_strsplit_set(text, ",;", -1);
    GPtrArray *out = g_ptr_array_new();

    for (int i = 0; parts[i]; i++) {
	char   *s = g_strstrip(parts[i]);

	if (*s)
	    g_ptr_array_add(out, g_strdup(s));
    }
    g_strfreev(parts);
    g_ptr_array_add(out, NULL);
    return (char **) g_ptr_array_free(out, FALSE);
}

static char *resolve_path(const struct loader *ld, const char *value)
{
    if (*value == 0 || g_path_is_absolute(value))
	return g_strdup(value);
    return g_build_filename(ld->dir, value, NULL);
}

static int valid_domain(const char *d)
{
    if (*d == 0 || strlen(d) > 253)
	return 0;
    for (const char *p = d; *p; p++)
	if (!(g_ascii_isalnum(*p) || *p == '.' || *p == '-' || *p == '_'))
	    return 0;
    return 1;
}

static char *valid_address(const char *value, const char *delim)
{
    char   *a = addr_normalise(value, delim);

    if (a == NULL || strchr(a, '@') == NULL || a[0] == '@'
	|| !valid_domain(addr_domain(a))) {
	g_free(a);
	return NULL;
    }
    return a;
}

/* parse_value - convert one value into the field; 0 on success */
static int parse_value(struct loader *ld, const char *group, const struct ckey *k,
		       const char *value, void *base, const char *delim)
{
    void   *field = (char *) base + k->offset;
    gint64  n;

    switch (k->type) {
    case CT_STRING:
	if (k->choices && !g_strv_contains(k->choices, value)) {
	    g_autofree char *list = g_strjoinv(", ", (char **) k->choices);

	    loader_error(ld, group, k->name, "expected one of %s, got '%s'", list, value);
	    return -1;
	}
	*(char **) field = g_strdup(value);
	return 0;
    case CT_PATH:
	*(char **) field = resolve_path(ld, value);
	return 0;
    case CT_BOOL:
	if (g_strv_contains((const char *const[]) {"yes", "true", "on", "1", NULL}, value))
	    *(gboolean *) field = TRUE;
	else if (g_strv_contains((const char *const[]) {"no", "false", "off", "0", NULL}, value))
	    *(gboolean *) field = FALSE;
	else {
	    loader_error(ld, group, k->name, "expected yes or no, got '%s'", value);
	    return -1;
	}
	return 0;
    case CT_INT:
    case CT_SIZE:
    case CT_DURATION:
	if (k->type == CT_INT
	    ? !g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &n, NULL)
	    : parse_scaled(value, k->type == CT_DURATION, &n) != 0) {
	    loader_error(ld, group, k->name, "expected %s, got '%s'",
			 k->type == CT_INT ? "a whole number" :
			 k->type == CT_SIZE ? "a size such as 512K, 10M or 1G" :
			 "a duration such as 500ms, 30s, 5m or 1h", value);
	    return -1;
	}
	if (n < k->min || n > k->max) {
	    loader_error(ld, group, k->name, "'%s' is out of range (%" G_GINT64_FORMAT
			 " to %" G_GINT64_FORMAT "%s)", value, k->min, k->max,
			 k->type == CT_SIZE ? " bytes" : k->type == CT_DURATION ? " ms" : "");
	    return -1;
	}
	if (k->type == CT_SIZE)
	    *(gint64 *) field = n;
	else
	    *(int *) field = (int) n;
	return 0;
    case CT_NUMBER:{
	    char   *end = NULL;
	    double  d = g_ascii_strtod(value, &end);

	    if (end == value || *end || !isfinite(d)) {
		loader_error(ld, group, k->name, "expected a number such as 1.5, got '%s'",
			     value);
		return -1;
	    }
	    if (d < k->min || d > k->max) {
		loader_error(ld, group, k->name, "'%s' is out of range (%" G_GINT64_FORMAT
			     " to %" G_GINT64_FORMAT ")", value, k->min, k->max);
		return -1;
	    }
	    *(double *) field = d;
	    return 0;
	}
    case CT_LIST:
	*(char ***) field = split_list(value);
	return 0;
    case CT_ADDRLIST:
    case CT_DOMAINLIST:
    case CT_SENDERLIST:{
	    char  **items = split_list(value);

	    for (int i = 0; items[i]; i++) {
		char   *norm;

		/* A sender list takes addresses and "@domain" for a whole domain. */
		if (k->type == CT_SENDERLIST && items[i][0] == '@')
		    norm = valid_domain(items[i] + 1) ? g_ascii_strdown(items[i], -1) : NULL;
		else if (k->type != CT_DOMAINLIST)
		    norm = valid_address(items[i], delim);
		else
		    norm = valid_domain(items[i]) ? g_ascii_strdown(items[i], -1) : NULL;
		if (norm == NULL) {
		    loader_error(ld, group, k->name, "'%s' is not a valid %s", items[i],
				 k->type == CT_ADDRLIST ? "mail address" :
				 k->type == CT_SENDERLIST ? "mail address or @domain" : "domain");
		    g_strfreev(items);
		    return -1;
		}
		g_free(items[i]);
		items[i] = norm;
	    }
	    *(char ***) field = items;
	    return 0;
	}
    case CT_ADDRESS:{
	    char   *norm = valid_address(value, delim);

	    if (norm == NULL) {
		loader_error(ld, group, k->name, "'%s' is not a valid mail address"
			     " (expected local@domain)", value);
		return -1;
	    }
	    *(char **) field = norm;
	    return 0;
	}
    case CT_MODE:{
	    char   *end;
	    long    mode = strtol(value, &end, 8);

	    if (*value == 0 || *end || mode < 0 || mode > 0777) {
		loader_error(ld, group, k->name, "expected an octal mode such as 0660, got '%s'", value);
		return -1;
	    }
	    *(int *) field = (int) mode;
	    return 0;
	}
    case CT_LOG:
	if (strcmp(value, "syslog") == 0)
	    *(enum log_dest *) field = LOG_DEST_SYSLOG;
	else if (strcmp(value, "stderr") == 0)
	    *(enum log_dest *) field = LOG_DEST_STDERR;
	else {
	    loader_error(ld, group, k->name, "expected syslog or stderr, got '%s'", value);
	    return -1;
	}
	return 0;
    case CT_FACILITY:
	if ((*(int *) field = log_facility_parse(value)) < 0) {
	    loader_error(ld, group, k->name, "expected a syslog facility such as mail"
			 " or local0, got '%s'", value);
	    return -1;
	}
	return 0;
    case CT_SOCKET:
	if (g_str_has_prefix(value, "unix:") && value[5]) {
	    g_autofree char *p = resolve_path(ld, value + 5);

	    *(char **) field = g_strconcat("unix:", p, NULL);
	    return 0;
	}
	if (g_str_has_prefix(value, "inet:") && strchr(value, '@')
	    && g_ascii_isdigit(value[5])) {
	    *(char **) field = g_strdup(value);
	    return 0;
	}
	loader_error(ld, group, k->name, "expected unix:PATH or inet:PORT@ADDRESS, got '%s'", value);
	return -1;
    case CT_SERVER:
	if (g_str_has_prefix(value, "unix:") && value[5]) {
	    g_autofree char *p = resolve_path(ld, value + 5);

	    *(char **) field = g_strconcat("unix:", p, NULL);
	    return 0;
	} else {
	    const char *colon = strrchr(value, ':');
	    guint64 port;

	    if (colon && colon > value
		&& g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
		*(char **) field = g_strdup(value);
		return 0;
	    }
	}
	loader_error(ld, group, k->name, "expected HOST:PORT or unix:PATH, got '%s'", value);
	return -1;
    case CT_LISTEN:{
	    struct sockaddr_storage ss;
	    unsigned len;
	    g_autofree char *why = NULL;

	    if (*value && config_listen_address(value, &ss, &len, &why) < 0) {
		loader_error(ld, group, k->name, "%s", why);
		return -1;
	    }
	    *(char **) field = g_strdup(value);
	    return 0;
	}
    case CT_CUSTOM:{
	    g_autofree char *why = NULL;

	    if (k->parse(base, field, value, &why) < 0) {
		loader_error(ld, group, k->name, "%s", why);
		return -1;
	    }
	    return 0;
	}
    case CT_USER:{
	    struct daemon_user u;
	    g_autofree char *why = NULL;

	    /* Checked here so that -t finds a user missing on this host. */
	    if (daemon_user_lookup(value, &u, &why) < 0) {
		loader_error(ld, group, k->name, "%s", why);
		return -1;
	    }
	    daemon_user_free(&u);
	    *(char **) field = g_strdup(value);
	    return 0;
	}
    }
    return -1;
}

/* load_section - apply defaults, then the file's values, for one section */
static void load_section(struct loader *ld, GKeyFile *kf, const char *group,
			 const struct ckey *keys, void *base, const char *delim)
{
    g_auto(GStrv) present = NULL;

    if (g_key_file_has_group(kf, group))
	present = g_key_file_get_keys(kf, group, NULL, NULL);
    for (int i = 0; present && present[i]; i++) {
	const struct ckey *k;

	for (k = keys; k->name; k++)
	    if (strcmp(k->name, present[i]) == 0)
		break;
	if (k->name == NULL)
	    loader_error(ld, group, present[i], "unknown key (see docs/intake.conf.md"
			 " for the keys of this section)");
    }
    for (const struct ckey *k = keys; k->name; k++) {
	g_autofree char *raw = NULL;
	g_autofree char *value = NULL;

	if (present && g_strv_contains((const char *const *) present, k->name)) {
	    raw = g_key_file_get_value(kf, group, k->name, NULL);
	    value = g_strstrip(g_strdup(raw ? raw : ""));
	} else if (k->def == NULL) {
	    loader_error(ld, group, NULL, "key '%s' is required", k->name);
	    continue;
	} else {
	    value = g_strdup(k->def);
	}
	(void) parse_value(ld, group, k, value, base, delim);
    }
}

/* ---------------------------------------------------------------- */
/*	Public interface						    */
/* ---------------------------------------------------------------- */

static void mailbox_free(gpointer p)
{
    struct mailbox *m = p;

    g_free(m->name);
    g_free(m->address);
    g_strfreev(m->aliases);
    g_strfreev(m->forwarded_from);
    g_strfreev(m->catch_all);
    g_free(m->display_name);
    g_free(m->category);
    g_free(m->priority);
    g_free(m->type);
    g_free(m->language);
    g_free(m->template_name);
    g_free(m->ticket_url);
    g_free(m->faq);
    g_strfreev(m->header_fields);
    g_free(m->oversize);
    g_free(m->reply_to);
    g_free(m->thread_trust);
    g_free(m->on_closed);
    g_free(m->action);
    g_free(m);
}

/* mailbox_name - NAME of a section "mailbox NAME" (spaces after "mailbox" skipped) */
static const char *mailbox_name(const char *group)
{
    const char *name = group;

    if (g_str_has_prefix(name, MAILBOX_PREFIX))
	name += strlen(MAILBOX_PREFIX);
    while (*name == ' ')
	name++;
    return name;
}

static void add_address(struct loader *ld, struct intake_config *cfg, const char *group,
			struct mailbox *m, const char *addr, const char *key)
{
    struct mailbox *other = g_hash_table_lookup(cfg->by_address, addr);

    if (other) {
	loader_error(ld, group, key, "address '%s' already belongs to [mailbox %s]",
		     addr, other->name);
	return;
    }
    g_hash_table_insert(cfg->by_address, (gpointer) addr, m);
}

struct intake_config *config_load(const char *path, GPtrArray **errors)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) groups = NULL;
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);	/* -> group */
    struct loader ld = {0};
    struct intake_config *cfg;
    gsize   len;

    *errors = g_ptr_array_new_with_free_func(g_free);
    if (!g_file_get_contents(path, &text, &len, &err)) {
	g_ptr_array_add(*errors, g_strdup_printf("%s: cannot read: %s", path, err->message));
	return NULL;
    }
    cfg = g_new0(struct intake_config, 1);
    cfg->path = g_strdup(path);
    {
	g_autofree char *abs = g_canonicalize_filename(path, NULL);

	cfg->dir = g_path_get_dirname(abs);
    }
    ld.path = path;
    ld.lines = g_strsplit_set(text, "\n", -1);	/* one pass; g_strsplit is quadratic under ASan */
    ld.errors = *errors;
    ld.dir = cfg->dir;

    if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &err)) {
	/*
	 * GKeyFile names the offending text but not the line. It stops at
	 * the first bad line, so the first k lines load exactly when k is
	 * before that line: bisect for the largest such k.
	 */
	int     lo = 0, hi = (int) g_strv_length(ld.lines) - 1, line;

	while (lo < hi) {
	    int     mid = lo + (hi - lo + 1) / 2;
	    g_autoptr(GKeyFile) probe = g_key_file_new();
	    char   *saved = ld.lines[mid];
	    g_autofree char *head = NULL;

	    ld.lines[mid] = NULL;
	    head = g_strjoinv("\n", ld.lines);
	    ld.lines[mid] = saved;
	    if (g_key_file_load_from_data(probe, head, -1, G_KEY_FILE_NONE, NULL))
		lo = mid;
	    else
		hi = mid - 1;
	}
	line = lo + 1;
	g_ptr_array_add(*errors, g_strdup_printf("%s:%d: syntax error: %s (expected"
						 " [section] or key = value)",
						 path, line, err->message));
	g_strfreev(ld.lines);
	if (ld.index)
	    g_hash_table_destroy(ld.index);
	return config_free(cfg);
    }

    cfg->mailboxes = g_ptr_array_new_with_free_func(mailbox_free);
    cfg->by_address = g_hash_table_new(g_str_hash, g_str_equal);
    cfg->by_domain = g_hash_table_new(g_str_hash, g_str_equal);

    for (const struct csection *s = sections; s->name; s++)
	load_section(&ld, kf, s->name, s->keys, cfg, NULL);
    /* The secret lives with the tickets: a directory the worker owns. */
    if (cfg->msgid_secret_file && *cfg->msgid_secret_file == 0 && cfg->store_path) {
	g_autofree char *dir = g_path_get_dirname(cfg->store_path);

	g_free(cfg->msgid_secret_file);
	cfg->msgid_secret_file = g_build_filename(dir, "msgid.key", NULL);
    }

    groups = g_key_file_get_groups(kf, NULL);
    for (int i = 0; groups[i]; i++) {
	const struct csection *s;
	struct mailbox *m;
	const char *name;
	const char *first;

	for (s = sections; s->name; s++)
	    if (strcmp(s->name, groups[i]) == 0)
		break;
	if (s->name || g_str_has_prefix(groups[i], SINK_PREFIX))
	    continue;
	if (!g_str_has_prefix(groups[i], MAILBOX_PREFIX)) {
	    loader_error(&ld, groups[i], NULL, "unknown section (expected milter, redis,"
			 " worker, store, smtp, metrics, mailbox NAME or sink NAME)");
	    continue;
	}
	name = mailbox_name(groups[i]);
	if (*name == 0 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(name)) {
	    loader_error(&ld, groups[i], NULL, "a mailbox name is letters, digits, '-',"
			 " '_' and '.', such as [mailbox support]");
	    continue;
	}
	/*
	 * GKeyFile merges sections of the same name, but not [mailbox x] and
	 * [mailbox  x]: two mailboxes of one name would make the name (the
	 * envelope's and the store's reference to a mailbox) ambiguous.
	 */
	if ((first = g_hash_table_lookup(names, name)) != NULL) {
	    loader_error(&ld, groups[i], NULL, "mailbox name '%s' is already used at line %d;"
			 " give each mailbox its own name", name, loader_line(&ld, first, NULL));
	    continue;
	}
	g_hash_table_insert(names, (gpointer) name, groups[i]);
	m = g_new0(struct mailbox, 1);
	m->name = g_strdup(name);
	g_ptr_array_add(cfg->mailboxes, m);
	load_section(&ld, kf, groups[i], mailbox_keys, m, cfg->recipient_delimiter);
	if (m->display_name && *m->display_name == 0) {
	    g_free(m->display_name);
	    m->display_name = NULL;
	}
	if (m->address)
	    add_address(&ld, cfg, groups[i], m, m->address, "address");
	for (int j = 0; m->aliases && m->aliases[j]; j++)
	    add_address(&ld, cfg, groups[i], m, m->aliases[j], "aliases");
	/* Matched like aliases: at RCPT (a virtual alias of ours) and in headers (forward.c). */
	for (int j = 0; m->forwarded_from && m->forwarded_from[j]; j++)
	    add_address(&ld, cfg, groups[i], m, m->forwarded_from[j], "forwarded_from");
	for (int j = 0; m->catch_all && m->catch_all[j]; j++) {
	    struct mailbox *other = g_hash_table_lookup(cfg->by_domain, m->catch_all[j]);

	    if (other)
		loader_error(&ld, groups[i], "catch_all", "domain '%s' is already the"
			     " catch-all of [mailbox %s]", m->catch_all[j], other->name);
	    else
		g_hash_table_insert(cfg->by_domain, m->catch_all[j], m);
	}
    }
    for (int j = 0; cfg->collectors && cfg->collectors[j]; j++) {
	struct mailbox *other = g_hash_table_lookup(cfg->by_address, cfg->collectors[j]);

	/* A collector chooses a mailbox by the mail's headers; a mailbox's own address must not. */
	if (other)
	    loader_error(&ld, "milter", "collectors", "address '%s' belongs to [mailbox %s]:"
			 " a collector is an address that is no mailbox's", cfg->collectors[j],
			 other->name);
    }
    if (cfg->mailboxes->len == 0)
	g_ptr_array_add(*errors, g_strdup_printf("%s: no [mailbox NAME] section: Intake"
					   " has nothing to do", path));
    g_strfreev(ld.lines);
    if (ld.index)
	g_hash_table_destroy(ld.index);
    if ((*errors)->len > 0)
	return config_free(cfg);
    return cfg;
}

struct intake_config *config_free(struct intake_config *cfg)
{
    if (cfg == NULL)
	return NULL;
    if (cfg->by_address)
	g_hash_table_destroy(cfg->by_address);
    if (cfg->by_domain)
	g_hash_table_destroy(cfg->by_domain);
    if (cfg->mailboxes)
	g_ptr_array_free(cfg->mailboxes, TRUE);
    g_free(cfg->path);
    g_free(cfg->dir);
    g_free(cfg->milter_socket);
    g_free(cfg->milter_pid_file);
    g_free(cfg->milter_user);
    g_free(cfg->spool_directory);
    g_free(cfg->stream_compression);
    g_strfreev(cfg->raw_headers);
    g_free(cfg->tempfail_text);
    g_free(cfg->recipient_delimiter);
    g_strfreev(cfg->collectors);
    g_strfreev(cfg->staff);
    g_free(cfg->redis_server);
    g_free(cfg->redis_password);
    g_free(cfg->redis_stream);
    g_free(cfg->redis_dead_stream);
    g_strfreev(cfg->redis_sentinels);
    g_free(cfg->redis_master_name);
    g_free(cfg->redis_sentinel_password);
    g_free(cfg->redis_sentinel_password_file);
    g_free(cfg->worker_group);
    g_free(cfg->worker_consumer);
    g_free(cfg->worker_pid_file);
    g_free(cfg->worker_user);
    g_strfreev(cfg->authserv_ids);
    g_strfreev(cfg->languages);
    g_free(cfg->msgid_secret_file);
    g_free(cfg->msgid_secret_file_old);
    g_free(cfg->worker_rules);
    g_free(cfg->faq_directory);
    g_free(cfg->worker_tags);
    g_free(cfg->sentiment_lexicons);
    g_free(cfg->store_backend);
    g_free(cfg->store_path);
    g_free(cfg->store_conninfo);
    g_free(cfg->store_password_file);
    g_free(cfg->ticket_prefix);
    g_free(cfg->templates_dir);
    g_free(cfg->smtp_relay);
    g_free(cfg->smtp_helo);
    g_free(cfg->metrics_listen);
    g_free(cfg->http_listen);
    g_free(cfg->http_token_file);
    g_free(cfg);
    return NULL;
}

const struct mailbox *config_match(const struct intake_config *cfg, const char *rcpt)
{
    g_autofree char *key = addr_normalise(rcpt, cfg->recipient_delimiter);
    const struct mailbox *m;

    if (key == NULL)
	return NULL;
    m = g_hash_table_lookup(cfg->by_address, key);
    if (m == NULL)
	m = g_hash_table_lookup(cfg->by_domain, addr_domain(key));
    return (m && m->active) ? m : NULL;
}

const struct mailbox *config_mailbox(const struct intake_config *cfg, const char *name)
{
    for (guint i = 0; i < cfg->mailboxes->len; i++) {
	const struct mailbox *m = g_ptr_array_index(cfg->mailboxes, i);

	if (strcmp(m->name, name) == 0)
	    return m;
    }
    return NULL;
}

/* config_is_collector - is rcpt one of [milter] collectors? (case and extension ignored) */
gboolean config_is_collector(const struct intake_config *cfg, const char *rcpt)
{
    g_autofree char *key = NULL;

    if (cfg->collectors == NULL || cfg->collectors[0] == NULL)
	return FALSE;
    key = addr_normalise(rcpt, cfg->recipient_delimiter);
    return key && g_strv_contains((const char *const *) cfg->collectors, key);
}

/*
 * config_is_staff - is addr listed in [milter] staff, as an address or by
 * its "@domain"? (case and extension ignored)
 */
gboolean config_is_staff(const struct intake_config *cfg, const char *addr)
{
    g_autofree char *key = NULL;
    const char *at;

    if (cfg->staff == NULL || cfg->staff[0] == NULL)
	return FALSE;
    key = addr_normalise(addr, cfg->recipient_delimiter);
    if (key == NULL || (at = strrchr(key, '@')) == NULL || at == key)
	return FALSE;
    return g_strv_contains((const char *const *) cfg->staff, key)
	|| g_strv_contains((const char *const *) cfg->staff, at);
}

static void print_errors(GPtrArray *errors, FILE *err)
{
    for (guint i = 0; i < errors->len; i++)
	fprintf(err, "%s\n", (char *) g_ptr_array_index(errors, i));
}

struct intake_config *config_load_or_exit(const char *path)
{
    GPtrArray *errors = NULL;
    struct intake_config *c = config_load(path, &errors);

    print_errors(errors, stderr);
    g_ptr_array_free(errors, TRUE);
    if (c == NULL)
	exit(1);
    return c;
}

int     config_check(const char *path, config_check_fn extra, FILE *out, FILE *err)
{
    g_autoptr(GPtrArray) errors = NULL;
    struct intake_config *cfg = config_load(path, &errors);
    guint   mailboxes = 0;

    if (cfg && extra)
	extra(cfg, errors);
    if (cfg)
	mailboxes = cfg->mailboxes->len;
    config_free(cfg);
    print_errors(errors, err);
    if (errors->len) {
	fprintf(err, "%s: %u error(s)\n", path, errors->len);
	return 1;
    }
    fprintf(out, "%s: configuration OK (%u mailboxes)\n", path, mailboxes);
    return 0;
}

/*
 * config_listen_address - a listen value ([metrics] listen) as a socket
 * address: IPv4:PORT or [IPv6]:PORT, numeric (an endpoint for a scraper
 * on a known network needs no name resolution at start). 0, or -1 and
 * *why (g_free) saying what is expected.
 */
int     config_listen_address(const char *listen, void *storage, unsigned *len, char **why)
{
    const char *colon = strrchr(listen, ':');
    g_autofree char *host = NULL;
    guint64 port;

    if (colon == NULL || colon == listen
	|| !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
	*why = g_strdup_printf("expected ADDRESS:PORT (e.g. 127.0.0.1:9464 or [::1]:9464),"
			       " got '%s'", listen);
	return -1;
    }
    host = g_strndup(listen, colon - listen);
    if (strchr(host, ':') && host[0] != '[') {
	*why = g_strdup_printf("an IPv6 address needs brackets and a port: [ADDRESS]:PORT,"
			       " e.g. [::1]:9464; got '%s'", listen);
	return -1;
    }
    memset(storage, 0, sizeof(struct sockaddr_storage));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
	struct sockaddr_in6 *sa = storage;

	host[strlen(host) - 1] = 0;
	if (inet_pton(AF_INET6, host + 1, &sa->sin6_addr) == 1) {
	    sa->sin6_family = AF_INET6;
	    sa->sin6_port = htons(port);
	    *len = sizeof(*sa);
	    return 0;
	}
    } else {
	struct sockaddr_in *sa = storage;

	if (inet_pton(AF_INET, host, &sa->sin_addr) == 1) {
	    sa->sin_family = AF_INET;
	    sa->sin_port = htons(port);
	    *len = sizeof(*sa);
	    return 0;
	}
    }
    *why = g_strdup_printf("'%s' is not a numeric IPv4 address or a bracketed IPv6"
			   " address (e.g. 127.0.0.1:9464 or [::1]:9464)", host);
    return -1;
}

struct intake_config *config_reload(const char *path)
{
    g_autoptr(GPtrArray) errors = NULL;
    struct intake_config *cfg = config_load(path, &errors);

    for (guint i = 0; i < errors->len; i++)
	msg_error("%s", (char *) g_ptr_array_index(errors, i));
    if (cfg == NULL)
	msg_error("SIGHUP: %s has errors: keeping the configuration in force", path);
    return cfg;
}

static void dump_keys(FILE *out, const char *section, const struct ckey *keys)
{
    for (const struct ckey *k = keys; k->name; k++) {
	if (k->def)
	    fprintf(out, "%s\t%s\tdefault\t%s\n", section, k->name, k->def);
	else
	    fprintf(out, "%s\t%s\trequired\n", section, k->name);
    }
}

void    config_dump_defaults(FILE *out)
{
    for (const struct csection *s = sections; s->name; s++)
	dump_keys(out, s->name, s->keys);
    dump_keys(out, MAILBOX_PREFIX "NAME", mailbox_keys);
}
