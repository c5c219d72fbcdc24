/*
 * NAME
 *	sink_rt - the sink "type = rt": Intake's tickets as Request Tracker 5 tickets
 * SYNOPSIS
 *	#include "sink.h"
 *
 *	extern const struct sink_type sink_rt;
 *
 *	#include "sink_rt.h"
 *
 *	void	sink_rt_dump_keys(out)
 * DESCRIPTION
 *	A [sink NAME] section with type = rt reads these keys (docs/rt.md,
 *	docs/intake.conf.md): url (RT's root), token_file (an RT auth token,
 *	first line), queue (the RT queue, default "General"), mailbox_queues
 *	("MAILBOX:QUEUE, ...": a queue per mailbox), tls_verify (default yes)
 *	and number_field (a ticket custom field that holds Intake's number;
 *	empty: the subject carries "[Intake #NUMBER]"). The sink's common
 *	timeout (sink_config.c) bounds each request to RT.
 *
 *	ticket.created creates the RT ticket (requestor, subject, the mail's
 *	text and attachments) and keeps its id with sink_ref_set();
 *	message.added and ticket.reopened add the mail as correspondence on
 *	that RT ticket, creating it first when Intake knows none. Before a
 *	create, RT is searched for Intake's number: a worker killed after
 *	RT created a ticket but before the id was kept finds that ticket on
 *	the next try instead of creating a second one. Other events are not
 *	RT's business and count as delivered.
 *
 *	sink_rt_dump_keys() prints the type's keys and defaults as
 *	`intakectl sinks keys` shows them (it_docs_config_keys).
 * DIAGNOSTICS
 *	configure() reports each bad key through cfgfile_error() and returns
 *	NULL; deliver() returns SINK_DONE, SINK_RETRY or SINK_FAILED as
 *	rt_rest.c maps RT's answers, with that answer in *answer.
 */
#include <string.h>
#include <jansson.h>

#include "rt_rest.h"
#include "sink.h"
#include "sink_rt.h"
#include "sinks.h"

#define TOKEN_MAX	4096

struct sink_rt_state {
    struct rt_rest *rest;
    char   *queue;
    char   *number_field;		/* NULL: the subject tag */
    GHashTable *queues;			/* mailbox -> queue */
};

static const char *const rt_keys[] = {
    "url", "token_file", "queue", "mailbox_queues", "tls_verify", "number_field", NULL,
};
/* Their defaults, for docs and their test (NULL: required; "": none); rt_configure() applies them. */
static const char *const rt_defaults[] = {NULL, NULL, "General", "", "yes", ""};
G_STATIC_ASSERT(G_N_ELEMENTS(rt_defaults) == G_N_ELEMENTS(rt_keys) - 1);

void    sink_rt_dump_keys(FILE *out)
{
    for (gsize i = 0; i < G_N_ELEMENTS(rt_defaults); i++) {
	if (rt_defaults[i])
	    fprintf(out, "sink NAME\t%s\tdefault\t%s\n", rt_keys[i], rt_defaults[i]);
	else
	    fprintf(out, "sink NAME\t%s\trequired\n", rt_keys[i]);
    }
}

/* ---------------------------------------------------------------- */
/*	Configuration							    */
/* ---------------------------------------------------------------- */

static void rt_free(void *p)
{
    struct sink_rt_state *st = p;

    if (st == NULL)
	return;
    rt_rest_free(st->rest);
    g_free(st->queue);
    g_free(st->number_field);
    if (st->queues)
	g_hash_table_destroy(st->queues);
    g_free(st);
}

/* The token: the file's first line, printable ASCII (it goes into a header); g_free or NULL. */
static char *read_token(const char *path, char **why)
{
    g_autofree char *text = NULL;
    gsize   n = 0;
    GError *err = NULL;
    char   *nl;

    if (!g_file_get_contents(path, &text, &n, &err)) {
	*why = g_strdup(err->message);
	g_error_free(err);
	return NULL;
    }
    if (n > TOKEN_MAX) {
	*why = g_strdup_printf("%s: more than %d bytes: not a token file", path, TOKEN_MAX);
	return NULL;
    }
    if ((nl = strpbrk(text, "\r\n")) != NULL)
	*nl = '\0';
    g_strstrip(text);
    if (*text == '\0') {
	*why = g_strdup_printf("%s: the first line is empty", path);
	return NULL;
    }
    for (const char *p = text; *p; p++) {
	if (*p < 0x21 || *p > 0x7e) {
	    *why = g_strdup_printf("%s: the token holds a character no RT token has", path);
	    return NULL;
	}
    }
    return g_steal_pointer(&text);
}

/* A custom field's name goes into TicketSQL's CF.{NAME}: no braces or quotes. */
static gboolean field_name_ok(const char *s)
{
    return *s && strlen(s) <= 200 && strpbrk(s, "{}'\"\\") == NULL;
}

static gboolean queue_ok(const char *s)
{
    return *s && strlen(s) <= 200 && g_utf8_validate(s, -1, NULL);
}

static void *rt_configure(GKeyFile *kf, const char *group, struct cfgfile *cf)
{
    struct sink_rt_state *st = g_new0(struct sink_rt_state, 1);
    g_autofree char *url = cfgfile_string(kf, group, "url");
    g_autofree char *token_file = cfgfile_string(kf, group, "token_file");
    g_autofree char *token = NULL;
    g_autofree char *verify_s = cfgfile_string(kf, group, "tls_verify");
    g_auto(GStrv) map = cfgfile_list(kf, group, "mailbox_queues");
    guint   errors = cf->nerrors;
    int     timeout = sink_key_duration(kf, group, "timeout");	/* checked by sink_config.c */
    gboolean verify = TRUE;

    st->queue = cfgfile_string(kf, group, "queue");
    st->number_field = cfgfile_string(kf, group, "number_field");
    st->queues = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (url == NULL || *url == '\0')
	cfgfile_error(cf, group, NULL, "no key 'url': write RT's root URL, "
		      "e.g. url = https://rt.example.com");
    else if (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://"))
	cfgfile_error(cf, group, "url", "expected an http:// or https:// URL, got '%s'", url);
    if (token_file == NULL || *token_file == '\0') {
	cfgfile_error(cf, group, NULL, "no key 'token_file': write the file holding an RT "
		      "auth token (docs/rt.md)");
    } else {
	g_autofree char *why = NULL;
	g_autofree char *dir = g_path_get_dirname(cf->path);
	/* Relative to intake.conf's directory, as the other paths of the file are. */
	g_autofree char *path = g_path_is_absolute(token_file) ? g_strdup(token_file)
	    : g_build_filename(dir, token_file, NULL);

	if ((token = read_token(path, &why)) == NULL)
	    cfgfile_error(cf, group, "token_file", "%s", why);
    }
    if (st->queue == NULL)
	st->queue = g_strdup(rt_defaults[2]);
    else if (!queue_ok(st->queue))
	cfgfile_error(cf, group, "queue", "expected an RT queue's name");
    if (verify_s) {
	if (g_ascii_strcasecmp(verify_s, "yes") == 0 || g_ascii_strcasecmp(verify_s, "true") == 0)
	    verify = TRUE;
	else if (g_ascii_strcasecmp(verify_s, "no") == 0
		 || g_ascii_strcasecmp(verify_s, "false") == 0)
	    verify = FALSE;
	else
	    cfgfile_error(cf, group, "tls_verify", "expected yes or no, got '%s'", verify_s);
    }
    if (st->number_field && *st->number_field == '\0')
	g_clear_pointer(&st->number_field, g_free);
    else if (st->number_field && !field_name_ok(st->number_field))
	cfgfile_error(cf, group, "number_field", "expected a custom field's name without "
		      "braces, quotes or backslashes, got '%s'", st->number_field);
    for (int i = 0; map && map[i]; i++) {
	char   *colon = strchr(map[i], ':');
	g_autofree char *mbox = colon ? g_strstrip(g_strndup(map[i], colon - map[i])) : NULL;
	g_autofree char *queue = colon ? g_strstrip(g_strdup(colon + 1)) : NULL;

	if (colon == NULL || *mbox == '\0' || !queue_ok(queue)) {
	    cfgfile_error(cf, group, "mailbox_queues", "expected MAILBOX:QUEUE items separated "
			  "by commas, got '%s'", map[i]);
	} else if (g_hash_table_contains(st->queues, mbox)) {
	    cfgfile_error(cf, group, "mailbox_queues", "mailbox '%s' given twice", mbox);
	} else {
	    g_hash_table_insert(st->queues, g_steal_pointer(&mbox), g_steal_pointer(&queue));
	}
    }
    if (cf->nerrors != errors) {
	rt_free(st);
	return NULL;
    }
    st->rest = rt_rest_new(url, token, timeout > 0 ? timeout : 30, verify);
    return st;
}

/* ---------------------------------------------------------------- */
/*	The event							    */
/* ---------------------------------------------------------------- */

/* A string member, or NULL. */
static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An address, written as a string or as {"address": ...} (with a name). */
static const char *address_of(json_t *v)
{
    if (json_is_array(v))
	v = json_array_get(v, 0);
    if (json_is_string(v))
	return json_string_value(v);
    return str_of(v, "address");
}

/* The mail's attachments, loaded from the store (content unref'ed by attachments_free). */
static int load_attachments(struct sink_ctx *ctx, const struct sink_event *ev, json_t *msg,
			    GArray **out, char **why)
{
    json_t *list = json_object_get(msg, "attachments");
    GArray *a = g_array_new(FALSE, TRUE, sizeof(struct rt_attachment));
    size_t  i;
    json_t *item;

    *out = a;
    if (!json_is_array(list))
	return 0;
    json_array_foreach(list, i, item) {
	struct rt_attachment att = {0};
	json_t *id = json_object_get(item, "id");

	/* Not kept by the store (no id): nothing to send, and nothing to wait for. */
	if (!json_is_integer(id))
	    continue;
	att.filename = str_of(item, "filename");
	att.content_type = str_of(item, "content_type");
	if (att.filename == NULL || *att.filename == '\0')
	    att.filename = "attachment";
	if (att.content_type == NULL || *att.content_type == '\0')
	    att.content_type = "application/octet-stream";
	if (sink_attachment(ctx, ev->ticket_number, json_integer_value(id), &att.content,
			    why) != 0)
	    return -1;
	g_array_append_val(a, att);
    }
    return 0;
}

static void attachments_free(GArray *a)
{
    if (a == NULL)
	return;
    for (guint i = 0; i < a->len; i++)
	g_bytes_unref(g_array_index(a, struct rt_attachment, i).content);
    g_array_free(a, TRUE);
}

/*
 * ensure_ticket - the RT ticket of ours: found by Intake's number, or
 * created from this event's mail (*created then TRUE); its id kept with
 * sink_ref_set() either way.
 */
static enum sink_result ensure_ticket(struct sink_rt_state *st, struct sink_ctx *ctx,
				      const struct sink_event *ev, json_t *root, GArray *att,
				      char **id, gboolean *created, char **answer)
{
    json_t *ticket = json_object_get(root, "ticket");
    json_t *msg = json_object_get(root, "message");
    g_autofree char *query = rt_rest_query_number(st->number_field, ev->ticket_number);
    g_autofree char *tag = rt_rest_subject_tag(ev->ticket_number);
    g_autofree char *subject = NULL;
    g_autofree char *why = NULL;
    struct rt_ticket_new t = {0};
    enum sink_result res;
    const char *queue;
    const char *s;

    *created = FALSE;
    if (query == NULL) {
	*answer = g_strdup_printf("event %" G_GINT64_FORMAT ": ticket number '%s' unusable",
				  ev->id, ev->ticket_number ? ev->ticket_number : "(none)");
	return SINK_FAILED;
    }
    res = rt_rest_find(st->rest, query, id, answer);
    if (res != SINK_DONE)
	return res;
    if (*id == NULL) {
	g_clear_pointer(answer, g_free);
	queue = ev->mailbox ? g_hash_table_lookup(st->queues, ev->mailbox) : NULL;
	t.queue = queue ? queue : st->queue;
	t.requestor = address_of(json_object_get(ticket, "requestor"));
	if (t.requestor == NULL)
	    t.requestor = address_of(json_object_get(msg, "from"));
	if (t.requestor == NULL)
	    t.requestor = "";
	s = str_of(ticket, "subject");
	if (s == NULL)
	    s = str_of(msg, "subject");
	if (s == NULL || *s == '\0')
	    s = "(no subject)";
	subject = st->number_field ? g_strdup(s) : g_strdup_printf("%s %s", tag, s);
	t.subject = subject;
	t.text = str_of(msg, "text");
	if (t.text == NULL || *t.text == '\0')
	    t.text = "(no text)";
	t.cf_name = st->number_field;
	t.cf_value = ev->ticket_number;
	t.att = att ? (const struct rt_attachment *) att->data : NULL;
	t.natt = att ? att->len : 0;
	res = rt_rest_create(st->rest, &t, id, answer);
	if (res != SINK_DONE)
	    return res;
	*created = TRUE;
    }
    if (sink_ref_set(ctx, ev->ticket_id, *id, &why) != 0) {
	g_free(*answer);
	*answer = g_strdup_printf("RT ticket %s, but keeping its id failed: %s", *id, why);
	return SINK_RETRY;
    }
    return SINK_DONE;
}

static enum sink_result rt_deliver(void *state, struct sink_ctx *ctx,
				   const struct sink_event *ev, char **answer)
{
    struct sink_rt_state *st = state;
    json_error_t err;
    json_t *root = NULL;
    json_t *msg;
    GArray *att = NULL;
    g_autofree char *id = NULL;
    g_autofree char *why = NULL;
    gboolean is_new = strcmp(ev->type, "ticket.created") == 0;
    gboolean created = FALSE;
    enum sink_result res;
    const char *text;

    *answer = NULL;
    if (!is_new && strcmp(ev->type, "message.added") != 0
	&& strcmp(ev->type, "ticket.reopened") != 0) {
	*answer = g_strdup_printf("%s: nothing to do in RT", ev->type);
	return SINK_DONE;
    }
    if (ev->ticket_id <= 0 || ev->ticket_number == NULL) {
	*answer = g_strdup_printf("%s without a ticket", ev->type);
	return SINK_FAILED;
    }
    if ((root = json_loads(ev->json, 0, &err)) == NULL || !json_is_object(root)) {
	*answer = g_strdup_printf("event %" G_GINT64_FORMAT " is no JSON object: %s", ev->id,
				  root ? "another value" : err.text);
	json_decref(root);
	return SINK_FAILED;
    }
    msg = json_object_get(root, "message");
    if (json_is_object(msg) && load_attachments(ctx, ev, msg, &att, &why) != 0) {
	*answer = g_strdup_printf("attachment: %s", why);
	res = SINK_RETRY;
	goto out;
    }
    if (!is_new && sink_ref_get(ctx, ev->ticket_id, &id, &why) != 0) {
	*answer = g_strdup_printf("reading the RT ticket id: %s", why);
	res = SINK_RETRY;
	goto out;
    }
    if (id == NULL) {
	res = ensure_ticket(st, ctx, ev, root, att, &id, &created, answer);
	/* A ticket made now from this mail holds it; one found still needs it added. */
	if (res != SINK_DONE || created || is_new)
	    goto out;
	g_clear_pointer(answer, g_free);
    }
    if (!json_is_object(msg)) {
	*answer = g_strdup_printf("%s without a message: nothing to add to RT ticket %s",
				  ev->type, id);
	res = SINK_DONE;
	goto out;
    }
    text = str_of(msg, "text");
    res = rt_rest_correspond(st->rest, id, text && *text ? text : "(no text)",
			     att ? (const struct rt_attachment *) att->data : NULL,
			     att ? att->len : 0, answer);
out:
    attachments_free(att);
    json_decref(root);
    return res;
}

const struct sink_type sink_rt = {
    .name = "rt",
    .keys = rt_keys,
    .configure = rt_configure,
    .deliver = rt_deliver,
    .free = rt_free,
};
