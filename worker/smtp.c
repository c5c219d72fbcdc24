/*
 * NAME
 *	smtp - hand a message to the SMTP relay (libcurl)
 * SYNOPSIS
 *	struct smtp *smtp_new(cfg)
 *	enum smtp_result smtp_send(s, rcpt, message, eod, arg, &why)
 *	struct smtp *smtp_free(s)
 * DESCRIPTION
 *	smtp_send() sends one message with the null reverse-path "<>" (RFC
 *	3834: an automatic reply must not itself draw bounces or replies) to
 *	one recipient through [smtp] relay, with [smtp] helo and timeout.
 *	libcurl speaks the protocol, does the dot-stuffing and keeps the
 *	connection open between messages.
 *
 *	eod(arg) is called once, just before the end-of-data dot is sent:
 *	from then on the relay may have taken the message even when no
 *	answer arrives. The caller records that moment, so that a crash
 *	afterwards is known to be ambiguous instead of being sent again.
 *	When it cannot record it (eod() returns FALSE), the transfer is
 *	aborted before the dot and the connection closed: the relay
 *	discards a message whose data never ended (SMTP_WITHDRAWN).
 *
 *	The result tells what to do next: SMTP_SENT, SMTP_TEMPORARY (no
 *	connection, 4xx, or failure before the dot: send again later),
 *	SMTP_PERMANENT (5xx: do not retry), SMTP_AMBIGUOUS (the dot was
 *	sent but no final answer came) or SMTP_WITHDRAWN (eod() said no).
 * DIAGNOSTICS
 *	*why (g_free) describes any result but SMTP_SENT: the relay's last
 *	error reply line (printable ASCII, at most 256 bytes) when it answered with
 *	an error, else libcurl's description and the reply code.
 */
#include <string.h>
#include <curl/curl.h>

#include "smtp.h"

struct smtp {
    const struct intake_config *cfg;
    CURL   *curl;
    char   *url;
};

struct upload {
    const char *data;
    gsize   len;
    gsize   pos;
    smtp_eod_fn eod;
    void   *arg;
    gboolean eod_done;
    gboolean withdrawn;			/* eod() said no */
};

struct smtp *smtp_new(const struct intake_config *cfg)
{
    static gsize done;
    struct smtp *s = g_new0(struct smtp, 1);

    if (g_once_init_enter(&done)) {
	curl_global_init(CURL_GLOBAL_DEFAULT);
	g_once_init_leave(&done, 1);
    }
    s->cfg = cfg;
    s->url = g_strdup_printf("smtp://%s/%s", cfg->smtp_relay, cfg->smtp_helo);
    return s;
}

struct smtp *smtp_free(struct smtp *s)
{
    if (s == NULL)
	return NULL;
    if (s->curl)
	curl_easy_cleanup(s->curl);
    g_free(s->url);
    g_free(s);
    return NULL;
}

/*
 * The relay's last error reply line, kept for the diagnostic: libcurl says
 * only "RCPT failed: 550", and a postmaster needs the relay's words
 * ("5.1.1 User unknown" is not "5.7.1 Relay access denied"). Bounded,
 * and printable ASCII only: the text goes into logs, the outbox row and
 * the reply.failed event.
 */
#define SMTP_REPLY_MAX 256

struct heard {
    char    line[SMTP_REPLY_MAX + 1];
};

/* debug_cb - keep the relay's last error reply line (CURLINFO_HEADER_IN); ignore the rest */
static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *p)
{
    struct heard *h = p;
    size_t  start = 0, end = size, n = 0;

    (void) curl;
    if (type != CURLINFO_HEADER_IN || size == 0)
	return 0;
    while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r'))
	end--;
    for (size_t i = 0; i < end; i++)		/* the last line of what came */
	if (data[i] == '\n')
	    start = i + 1;
    /* An error reply (4xx, 5xx) only: libcurl's QUIT afterwards draws a "221". */
    if (start >= end || (data[start] != '4' && data[start] != '5'))
	return 0;
    for (size_t i = start; i < end && n < SMTP_REPLY_MAX; i++)
	h->line[n++] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i] : '?';
    if (n > 0)
	h->line[n] = 0;
    return 0;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *p)
{
    struct upload *u = p;
    size_t  n = MIN(size * nitems, u->len - u->pos);

    if (n == 0) {
	if (!u->eod_done && u->eod && !u->eod(u->arg)) {
	    u->withdrawn = TRUE;
	    return CURL_READFUNC_ABORT;
	}
	u->eod_done = TRUE;
	return 0;
    }
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

enum smtp_result smtp_send(struct smtp *s, const char *rcpt, GBytes *message,
			   smtp_eod_fn eod, void *arg, char **why)
{
    struct upload u = {0};
    struct curl_slist *rcpts = NULL;
    char    errbuf[CURL_ERROR_SIZE] = "";
    struct heard heard = {""};
    g_autofree char *bracketed = g_strdup_printf("<%s>", rcpt);
    long    code = 0;
    CURLcode rc;

    *why = NULL;
    if (s->curl == NULL && (s->curl = curl_easy_init()) == NULL) {
	*why = g_strdup("cannot initialise libcurl");
	return SMTP_TEMPORARY;
    }
    u.data = g_bytes_get_data(message, &u.len);
    u.eod = eod;
    u.arg = arg;
    rcpts = curl_slist_append(rcpts, bracketed);
    curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
    curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, "<>");
    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(s->curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, (long) s->cfg->smtp_timeout_ms);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, (long) MIN(s->cfg->smtp_timeout_ms, 10000));
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "smtp");
    curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, &heard);
    curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 1L);	/* the lines go to debug_cb only */
    rc = curl_easy_perform(s->curl);
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpts);
    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(s->curl, CURLOPT_READDATA, NULL);
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, NULL);
    curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 0L);
    if (rc == CURLE_OK)
	return SMTP_SENT;

    /* The relay's words when it answered with an error, else libcurl's. */
    if (code >= 400 && *heard.line)
	*why = g_strdup_printf("relay %s said: %s (%s)", s->cfg->smtp_relay, heard.line,
			       *errbuf ? errbuf : curl_easy_strerror(rc));
    else
	*why = g_strdup_printf("relay %s: %s%s%s (reply code %ld)", s->cfg->smtp_relay,
			       curl_easy_strerror(rc), *errbuf ? ": " : "", errbuf, code);
    /* A broken connection must not be reused, nor one whose data never ended. */
    curl_easy_cleanup(s->curl);
    s->curl = NULL;
    if (u.withdrawn)
	return SMTP_WITHDRAWN;
    if (code >= 500 && code < 600)
	return SMTP_PERMANENT;
    if (code >= 400 && code < 500)
	return SMTP_TEMPORARY;
    return u.eod_done ? SMTP_AMBIGUOUS : SMTP_TEMPORARY;
}
