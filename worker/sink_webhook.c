/*
 * NAME
 *	sink_webhook - type = webhook: each event as a signed HTTP POST
 * SYNOPSIS
 *	#include "sink.h"
 *	#include "sink_webhook.h"
 *
 *	const struct sink_type sink_webhook
 *	char	*sink_webhook_signature(secret, timestamp, body, len)
 *	void	sink_webhook_dump_keys(out)
 * DESCRIPTION
 *	POSTs the event JSON (docs/events.md) to [sink NAME] url with
 *	libcurl: Content-Type application/json, Intake-Event-Id and
 *	Idempotency-Key (the event id: a receiver drops what it has seen),
 *	Intake-Event-Type, and Intake-Signature "t=TIMESTAMP,v1=HEX", the
 *	HMAC-SHA256 (GHmac) of "TIMESTAMP.BODY" under the secret of
 *	secret_file: the scheme of Stripe and GitHub. The timestamp lets a
 *	receiver refuse old replays; it is the time of this try, so a retry
 *	has a new signature over the same body.
 *
 *	Attachments are references (id, filename, content_type, size,
 *	sha256: a receiver that wants one asks the API) unless inline_max
 *	is set: those up to that size get content_base64. TLS is verified
 *	(tls_verify = yes; ca_file for a private CA); redirects are not
 *	followed (a POST's body must not go where the config did not say);
 *	the whole exchange has the sink's timeout.
 *
 *	The far end's answer decides: 2xx done; 408, 425, 429 and 5xx, or no
 *	answer (refused, timed out, TLS), try later; any other status gives
 *	up (a 4xx is a problem with the request: the same body will not do
 *	better; intakectl sinks retry sends it again once it is fixed).
 *	*answer is "HTTP STATUS: the first line of the body" (at most
 *	ANSWER_MAX bytes are kept) or libcurl's error.
 * DIAGNOSTICS
 *	configure(): cfgfile_error() for a bad url, an unreadable or empty
 *	secret_file, a bad inline_max, tls_verify or ca_file.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "sinks.h"
#include "sink_webhook.h"

#define ANSWER_MAX	512		/* of the far end's body, for intakectl sinks status */
#define SECRET_MAX	4096
#define INLINE_MAX_MAX	(G_GINT64_CONSTANT(64) << 20)	/* 64 MiB: a body must fit in memory */

struct webhook {
    char   *url;
    GBytes *secret;
    gint64  inline_max;
    gboolean tls_verify;
    char   *ca_file;
    int     timeout_s;
};

static const char *const webhook_keys[] = {"url", "secret_file", "inline_max", "tls_verify",
    "ca_file", NULL};

/* The defaults of webhook_keys[], in its order (NULL: required): configure() and the docs test. */
static const char *const webhook_defaults[] = {NULL, NULL, "0", "yes", ""};
G_STATIC_ASSERT(G_N_ELEMENTS(webhook_defaults) == G_N_ELEMENTS(webhook_keys) - 1);

void    sink_webhook_dump_keys(FILE *out)
{
    for (gsize i = 0; i < G_N_ELEMENTS(webhook_defaults); i++) {
	if (webhook_defaults[i])
	    fprintf(out, "sink NAME\t%s\tdefault\t%s\n", webhook_keys[i], webhook_defaults[i]);
	else
	    fprintf(out, "sink NAME\t%s\trequired\n", webhook_keys[i]);
    }
}

/* in_dir_of - path relative to the directory of the configuration file, as config.c reads paths (g_free) */
static char *in_dir_of(const char *config_path, const char *path)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(path))
	return g_strdup(path);
    dir = g_path_get_dirname(config_path);
    return g_build_filename(dir, path, NULL);
}

/* key_or_default - a key's value (g_free), or its default */
static char *key_or_default(GKeyFile *kf, const char *group, const char *key)
{
    char   *v = cfgfile_string(kf, group, key);

    for (gsize i = 0; v == NULL && i < G_N_ELEMENTS(webhook_defaults); i++)
	if (strcmp(webhook_keys[i], key) == 0 && webhook_defaults[i])
	    v = g_strdup(webhook_defaults[i]);
    return v;
}

char   *sink_webhook_signature(GBytes *secret, gint64 timestamp, const char *body, gsize len)
{
    gsize   klen;
    const guchar *key = g_bytes_get_data(secret, &klen);
    g_autoptr(GHmac) h = g_hmac_new(G_CHECKSUM_SHA256, key ? key : (const guchar *) "", klen);
    g_autofree char *ts = g_strdup_printf("%" G_GINT64_FORMAT, timestamp);

    g_hmac_update(h, (const guchar *) ts, -1);
    g_hmac_update(h, (const guchar *) ".", 1);
    g_hmac_update(h, (const guchar *) body, (gssize) len);
    return g_strdup_printf("t=%s,v1=%s", ts, g_hmac_get_string(h));
}

static void webhook_free(void *p)
{
    struct webhook *w = p;

    if (w == NULL)
	return;
    g_free(w->url);
    if (w->secret)
	g_bytes_unref(w->secret);
    g_free(w->ca_file);
    g_free(w);
}

/* read_secret - the secret file's bytes, trailing line ends and blanks left out */
static GBytes *read_secret(const char *path, char **why)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    gsize   len;

    if (!g_file_get_contents(path, &text, &len, &err)) {
	*why = g_strdup(err->message);
	return NULL;
    }
    while (len > 0 && g_ascii_isspace(text[len - 1]))
	len--;
    if (len == 0) {
	*why = g_strdup_printf("%s is empty: write a random secret to it (such as"
			       " openssl rand -hex 32)", path);
	return NULL;
    }
    if (len > SECRET_MAX) {
	*why = g_strdup_printf("%s is longer than %d bytes", path, SECRET_MAX);
	return NULL;
    }
    return g_bytes_new(text, len);
}

static void *webhook_configure(GKeyFile *kf, const char *group, struct cfgfile *cf)
{
    struct webhook *w = g_new0(struct webhook, 1);
    g_autofree char *secret_file = cfgfile_string(kf, group, "secret_file");
    g_autofree char *inline_max = key_or_default(kf, group, "inline_max");
    g_autofree char *tls = key_or_default(kf, group, "tls_verify");
    guint   before = cf->nerrors;

    w->url = cfgfile_string(kf, group, "url");
    w->timeout_s = sink_key_duration(kf, group, "timeout");
    if (w->url == NULL || *w->url == 0)
	cfgfile_error(cf, group, NULL, "no key 'url': write url = https://HOST/PATH");
    else if (!g_str_has_prefix(w->url, "https://") && !g_str_has_prefix(w->url, "http://"))
	cfgfile_error(cf, group, "url", "expected an http:// or https:// URL, got '%s'", w->url);
    if (secret_file == NULL || *secret_file == 0) {
	cfgfile_error(cf, group, NULL, "no key 'secret_file': write secret_file = PATH of a"
		      " file holding the shared secret");
    } else {
	g_autofree char *path = in_dir_of(cf->path, secret_file);
	char   *why = NULL;

	if ((w->secret = read_secret(path, &why)) == NULL) {
	    cfgfile_error(cf, group, "secret_file", "%s", why);
	    g_free(why);
	}
    }
    {
	char   *end;
	gint64  n = g_ascii_strtoll(inline_max, &end, 10), unit = 1;

	if (*end == 'k' || *end == 'K')
	    unit = 1024, end++;
	else if (*end == 'M')
	    unit = 1024 * 1024, end++;
	if (!g_ascii_isdigit(*inline_max) || *end || n < 0 || n > INLINE_MAX_MAX / unit)
	    cfgfile_error(cf, group, "inline_max", "expected a size in bytes such as 0, 200k"
			  " or 2M (at most 64M), got '%s'", inline_max);
	else
	    w->inline_max = n * unit;
    }
    {
	if (strcmp(tls, "yes") == 0)
	    w->tls_verify = TRUE;
	else if (strcmp(tls, "no") == 0)
	    w->tls_verify = FALSE;
	else
	    cfgfile_error(cf, group, "tls_verify", "expected yes or no, got '%s'", tls);
    }
    w->ca_file = key_or_default(kf, group, "ca_file");
    if (w->ca_file && *w->ca_file == 0)
	g_clear_pointer(&w->ca_file, g_free);
    if (w->ca_file) {
	char   *abs = in_dir_of(cf->path, w->ca_file);

	g_free(w->ca_file);
	w->ca_file = abs;
    }
    if (w->ca_file && !g_file_test(w->ca_file, G_FILE_TEST_IS_REGULAR))
	cfgfile_error(cf, group, "ca_file", "no such file '%s'", w->ca_file);
    if (cf->nerrors != before) {
	webhook_free(w);
	return NULL;
    }
    return w;
}

/*
 * with_content - the event with content_base64 for each attachment of at
 * most inline_max bytes; NULL and *why when one cannot be read.
 */
static char *with_content(struct webhook *w, struct sink_ctx *ctx, const struct sink_event *ev,
			  char **why)
{
    json_error_t jerr;
    json_t *doc = json_loads(ev->json, 0, &jerr);
    json_t *atts = json_object_get(json_object_get(doc, "message"), "attachments");
    json_t *a;
    size_t  i;
    char   *out;

    if (doc == NULL) {
	*why = g_strdup_printf("event %" G_GINT64_FORMAT ": not JSON: %s", ev->id, jerr.text);
	return NULL;
    }
    json_array_foreach(atts, i, a) {
	json_int_t size = json_integer_value(json_object_get(a, "size"));
	json_int_t id = json_integer_value(json_object_get(a, "id"));
	g_autoptr(GBytes) content = NULL;
	g_autofree char *b64 = NULL;
	gsize   len;
	const guchar *p;

	if (size > w->inline_max || ev->ticket_number == NULL)
	    continue;
	if (sink_attachment(ctx, ev->ticket_number, id, &content, why) != STORE_OK) {
	    json_decref(doc);
	    return NULL;
	}
	p = g_bytes_get_data(content, &len);
	b64 = g_base64_encode(p, len);
	json_object_set_new(a, "content_base64", json_string(b64));
    }
    out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (out == NULL)
	*why = g_strdup("cannot encode the event");
    return out;
}

/* keep_answer - curl's write callback: the first ANSWER_MAX bytes of the answer's body */
static size_t keep_answer(char *data, size_t size, size_t n, void *p)
{
    GString *s = p;
    size_t  len = size * n;

    if (s->len < ANSWER_MAX)
	g_string_append_len(s, data, (gssize) MIN(len, ANSWER_MAX - s->len));
    return len;
}

/* first_line - the answer's first line, UTF-8 repaired, for intakectl (g_free) */
static char *first_line(const GString *body)
{
    gsize   n = strcspn(body->str, "\r\n");

    return g_utf8_make_valid(body->str, (gssize) n);
}

static enum sink_result webhook_deliver(void *state, struct sink_ctx *ctx,
					const struct sink_event *ev, char **answer)
{
    struct webhook *w = state;
    g_autofree char *built = NULL;
    const char *body = ev->json;
    g_autofree char *sig = NULL;
    g_autofree char *h_sig = NULL;
    g_autofree char *h_id = NULL;
    g_autofree char *h_key = NULL;
    g_autofree char *h_type = NULL;
    g_autoptr(GString) got = g_string_new(NULL);
    struct curl_slist *headers = NULL;
    char    err[CURL_ERROR_SIZE] = "";
    long    status = 0;
    CURLcode rc;
    CURL   *c;
    g_autofree char *line = NULL;

    if (w->inline_max > 0) {
	char   *why = NULL;

	if ((built = with_content(w, ctx, ev, &why)) == NULL) {
	    *answer = g_strdup_printf("attachments not read: %s", why);
	    g_free(why);
	    return SINK_RETRY;
	}
	body = built;
    }
    if ((c = curl_easy_init()) == NULL) {
	*answer = g_strdup("curl_easy_init failed");
	return SINK_RETRY;
    }
    sig = sink_webhook_signature(w->secret, (gint64) time(NULL), body, strlen(body));
    h_sig = g_strdup_printf(SINK_WEBHOOK_SIGNATURE_HEADER ": %s", sig);
    h_id = g_strdup_printf("Intake-Event-Id: %" G_GINT64_FORMAT, ev->id);
    h_key = g_strdup_printf("Idempotency-Key: %" G_GINT64_FORMAT, ev->id);
    h_type = g_strdup_printf("Intake-Event-Type: %s", ev->type);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, h_sig);
    headers = curl_slist_append(headers, h_id);
    headers = curl_slist_append(headers, h_key);
    headers = curl_slist_append(headers, h_type);
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);	/* a thread: no SIGALRM for timeouts */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) w->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) MIN(w->timeout_s, 10));
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, w->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, w->tls_verify ? 2L : 0L);
    if (w->ca_file)
	curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_file);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "intake-worker");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, got);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
	*answer = g_strdup_printf("%s: %s", w->url, *err ? err : curl_easy_strerror(rc));
	return SINK_RETRY;
    }
    line = first_line(got);
    *answer = g_strdup_printf("HTTP %ld%s%s", status, *line ? ": " : "", line);
    if (status >= 200 && status < 300)
	return SINK_DONE;
    if (status == 408 || status == 425 || status == 429 || status >= 500 || status < 200)
	return SINK_RETRY;
    return SINK_FAILED;
}

const struct sink_type sink_webhook = {
    .name = "webhook",
    .keys = webhook_keys,
    .configure = webhook_configure,
    .deliver = webhook_deliver,
    .free = webhook_free,
};
