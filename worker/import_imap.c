/*
 * NAME
 *	import_imap - the mails of an IMAP folder, for intakectl import
 * SYNOPSIS
 *	int	import_imap(opts, feed, &why)
 * DESCRIPTION
 *	opts->location is imaps://HOST[:PORT]/FOLDER (TLS from the start) or
 *	imap://HOST[:PORT]/FOLDER (STARTTLS required). libcurl connects,
 *	verifies the server's certificate (the system's CAs, or
 *	opts->cacert; opts->insecure turns verification off and lets imap://
 *	go without TLS) and logs in with the user and password on the first
 *	two lines of opts->login_file: a password never stands on a command
 *	line, where ps shows it.
 *
 *	Then this module speaks three IMAP commands over libcurl's
 *	connection (CURLOPT_CONNECT_ONLY, curl_easy_send/recv), because
 *	libcurl's own FETCH would SELECT the folder and fetch BODY[], which
 *	marks every mail read in the support team's mailbox: EXAMINE
 *	(read-only), UID SEARCH (ALL, or SINCE the day of opts->since) and,
 *	per UID, UID FETCH BODY.PEEK[]. The message literal is handed to the
 *	feed as it arrives, in pieces: memory does not grow with a mail's
 *	size. Each mail is named "imap UID N" for the postmaster.
 *
 *	The reply to SEARCH is one line holding every UID: it is read up to
 *	RESPONSE_LINE_MAX (32 MB, some 4 million UIDs). XXX: a larger folder needs
 *	--since, or to be split.
 * DIAGNOSTICS
 *	-1 and *why (g_free) when the login file cannot be read, the
 *	connection, TLS or login fail, the folder cannot be opened, or the
 *	server stops answering (IMAP_TIMEOUT_MS) or answers what this module
 *	cannot read. A mail the server does not return (expunged meanwhile)
 *	is reported to the feed as unreadable.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <glib.h>

#include "import.h"

#define IMAP_TIMEOUT_MS	60000
#define RESPONSE_LINE_MAX	(32 * 1024 * 1024)

struct imap {
    CURL   *curl;
    curl_socket_t sock;
    char    buf[65536];			/* received, not yet used: buf[at..len) */
    gsize   at, len;
    unsigned tag;
    char   *why;			/* the first failure */
};

/* ---------------------------------------------------------------- */
/*	Bytes in and out over libcurl's connection			    */
/* ---------------------------------------------------------------- */

static gboolean wait_sock(struct imap *im, short events)
{
    struct pollfd pfd = {im->sock, events, 0};
    int     rc;

    while ((rc = poll(&pfd, 1, IMAP_TIMEOUT_MS)) < 0 && errno == EINTR)
	;
    if (rc == 0 && im->why == NULL)
	im->why = g_strdup_printf("the IMAP server did not answer within %d s",
				  IMAP_TIMEOUT_MS / 1000);
    else if (rc < 0 && im->why == NULL)
	im->why = g_strdup_printf("poll: %s", g_strerror(errno));
    return rc > 0;
}

/* fill - more bytes into buf (which the caller has used up); FALSE and im->why */
static gboolean fill(struct imap *im)
{
    for (;;) {
	size_t  n = 0;
	CURLcode rc = curl_easy_recv(im->curl, im->buf, sizeof(im->buf), &n);

	if (rc == CURLE_AGAIN) {
	    if (!wait_sock(im, POLLIN))
		return FALSE;
	    continue;
	}
	if (rc != CURLE_OK || n == 0) {
	    if (im->why == NULL)
		im->why = g_strdup_printf("the IMAP connection ended: %s",
					  rc ? curl_easy_strerror(rc) : "closed by the server");
	    return FALSE;
	}
	im->at = 0;
	im->len = n;
	return TRUE;
    }
}

static gboolean send_all(struct imap *im, const char *s, gsize len)
{
    while (len > 0) {
	size_t  n = 0;
	CURLcode rc = curl_easy_send(im->curl, s, len, &n);

	if (rc == CURLE_AGAIN) {
	    if (!wait_sock(im, POLLOUT))
		return FALSE;
	    continue;
	}
	if (rc != CURLE_OK) {
	    if (im->why == NULL)
		im->why = g_strdup_printf("cannot send to the IMAP server: %s",
					  curl_easy_strerror(rc));
	    return FALSE;
	}
	s += n;
	len -= n;
    }
    return TRUE;
}

/* read_line - one line without CRLF into line; FALSE and im->why */
static gboolean read_line(struct imap *im, GString *line)
{
    g_string_truncate(line, 0);
    for (;;) {
	const char *lf;
	gsize   n;

	if (im->at == im->len && !fill(im))
	    return FALSE;
	lf = memchr(im->buf + im->at, '\n', im->len - im->at);
	n = lf ? (gsize) (lf - (im->buf + im->at)) : im->len - im->at;
	if (line->len + n > RESPONSE_LINE_MAX) {
	    im->why = g_strdup_printf("an IMAP response line longer than %d bytes", RESPONSE_LINE_MAX);
	    return FALSE;
	}
	g_string_append_len(line, im->buf + im->at, (gssize) n);
	im->at += n + (lf != NULL);
	if (lf) {
	    if (line->len && line->str[line->len - 1] == '\r')
		g_string_truncate(line, line->len - 1);
	    return TRUE;
	}
    }
}

/* literal_size - the N of a line ending in "{N}", or -1 */
static gint64 literal_size(const GString *line)
{
    const char *open;
    char   *end;
    gint64  n;

    if (line->len < 3 || line->str[line->len - 1] != '}'
	|| (open = strrchr(line->str, '{')) == NULL)
	return -1;
    n = g_ascii_strtoll(open + 1, &end, 10);
    return end == line->str + line->len - 1 && end > open + 1 && n >= 0 ? n : -1;
}

/* literal - n bytes of a literal to the feed (or, feed NULL, nowhere) */
static gboolean literal(struct imap *im, gint64 n, struct import_feed *feed)
{
    while (n > 0) {
	gsize   k;

	if (im->at == im->len && !fill(im))
	    return FALSE;
	k = MIN((gsize) n, im->len - im->at);
	if (feed)
	    import_feed_data(feed, im->buf + im->at, k);
	im->at += k;
	n -= (gint64) k;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- */
/*	Commands							    */
/* ---------------------------------------------------------------- */

struct reply {
    GArray *uids;			/* UID SEARCH: the UIDs */
    struct import_feed *feed;		/* UID FETCH: where the message goes */
    const char *where;
    gboolean got_message;
};

static void search_uids(const char *s, GArray *uids)
{
    while (*s) {
	char   *end;
	guint64 v = g_ascii_strtoull(s, &end, 10);

	if (end == s) {
	    s++;
	    continue;
	}
	if (v > 0 && v <= G_MAXUINT32) {
	    guint32 u = (guint32) v;

	    g_array_append_val(uids, u);
	}
	s = end;
    }
}

/*
 * command - send "TAG text" and read the replies up to the tagged one;
 * TRUE when it is OK. Untagged SEARCH data goes to r->uids; the first
 * literal of an untagged FETCH goes to r->feed, other literals nowhere.
 */
static gboolean command(struct imap *im, const char *text, struct reply *r)
{
    g_autofree char *tag = g_strdup_printf("A%u", ++im->tag);
    g_autofree char *cmd = g_strdup_printf("%s %s\r\n", tag, text);
    g_autoptr(GString) line = g_string_new(NULL);
    gsize   taglen = strlen(tag);

    if (im->why || !send_all(im, cmd, strlen(cmd)))
	return FALSE;
    for (;;) {
	gint64  n;

	if (!read_line(im, line))
	    return FALSE;
	if (strncmp(line->str, tag, taglen) == 0 && line->str[taglen] == ' ') {
	    if (g_ascii_strncasecmp(line->str + taglen + 1, "OK", 2) == 0)
		return TRUE;
	    im->why = g_strdup_printf("%s: the IMAP server said: %.200s", text,
				      line->str + taglen + 1);
	    return FALSE;
	}
	if (r && r->uids && g_ascii_strncasecmp(line->str, "* SEARCH", 8) == 0)
	    search_uids(line->str + 8, r->uids);
	/* A line ending in a literal goes on after it: read on, as often as it does. */
	while ((n = literal_size(line)) >= 0) {
	    gboolean mine = r && r->feed && !r->got_message && strstr(line->str, " FETCH ");

	    if (mine) {
		import_feed_begin(r->feed, r->where);
		r->got_message = TRUE;
	    }
	    if (!literal(im, n, mine ? r->feed : NULL) || !read_line(im, line))
		return FALSE;
	    if (mine)
		import_feed_end(r->feed);
	}
    }
}

/* quoted - an IMAP quoted string (g_free), or NULL for a name with CR, LF or NUL */
static char *quoted(const char *s)
{
    GString *q = g_string_new("\"");

    for (; *s; s++) {
	if (*s == '\r' || *s == '\n') {
	    g_string_free(q, TRUE);
	    return NULL;
	}
	if (*s == '"' || *s == '\\')
	    g_string_append_c(q, '\\');
	g_string_append_c(q, *s);
    }
    g_string_append_c(q, '"');
    return g_string_free(q, FALSE);
}

/* ---------------------------------------------------------------- */
/*	Login and the folder						    */
/* ---------------------------------------------------------------- */

/* read_login - user and password from the first two lines of path */
static gboolean read_login(const char *path, char **user, char **pass, char **why)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GError *err = NULL;

    if (path == NULL) {
	*why = g_strdup("an IMAP source needs --login-file FILE (user on the first line,"
			" password on the second)");
	return FALSE;
    }
    if (!g_file_get_contents(path, &text, NULL, &err)) {
	*why = g_strdup_printf("--login-file: %s", err->message);
	g_error_free(err);
	return FALSE;
    }
    lines = g_strsplit(text, "\n", 3);
    if (lines[0] == NULL || lines[1] == NULL || *g_strchomp(lines[0]) == 0
	|| *g_strchomp(lines[1]) == 0) {
	*why = g_strdup_printf("--login-file %s: expected the user on the first line and"
			       " the password on the second", path);
	return FALSE;
    }
    *user = g_strdup(lines[0]);
    *pass = g_strdup(lines[1]);
    explicit_bzero(text, strlen(text));
    explicit_bzero(lines[1], strlen(lines[1]));
    return TRUE;
}

/* folder_of - the URL's folder, decoded (g_free), or NULL */
static char *folder_of(const char *url)
{
    CURLU  *u = curl_url();
    char   *path = NULL;
    char   *folder = NULL;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
	&& curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK
	&& path[0] == '/' && path[1] != 0)
	folder = g_strdup(path + 1);
    curl_free(path);
    curl_url_cleanup(u);
    return folder;
}

/* search_since - "SINCE 1-Dec-2026" for --since (IMAP compares dates, not times) */
static char *search_since(gint64 since)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	"Aug", "Sep", "Oct", "Nov", "Dec"};
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(since);

    if (dt == NULL)
	return g_strdup("ALL");
    /* A day earlier: the server's day may be in another time zone than the Date's. */
    {
	g_autoptr(GDateTime) day = g_date_time_add_days(dt, -1);

	return g_strdup_printf("SINCE %d-%s-%d", g_date_time_get_day_of_month(day),
			       mon[g_date_time_get_month(day) - 1], g_date_time_get_year(day));
    }
}

int     import_imap(const struct import_opts *opts, struct import_feed *feed, char **why)
{
    g_autofree char *user = NULL, *pass = NULL, *folder = folder_of(opts->location);
    g_autofree char *qfolder = folder ? quoted(folder) : NULL;
    g_autofree char *cmd = NULL, *criteria = NULL;
    g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
    struct imap im = {0};
    struct reply search = {uids, NULL, NULL, FALSE};
    char    errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;
    int     ret = -1;

    if (qfolder == NULL) {
	*why = g_strdup_printf("%s: expected imaps://HOST[:PORT]/FOLDER", opts->location);
	return -1;
    }
    if (!read_login(opts->login_file, &user, &pass, why))
	return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    im.curl = curl_easy_init();
    curl_easy_setopt(im.curl, CURLOPT_URL, opts->location);
    curl_easy_setopt(im.curl, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(im.curl, CURLOPT_USERNAME, user);
    curl_easy_setopt(im.curl, CURLOPT_PASSWORD, pass);
    curl_easy_setopt(im.curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(im.curl, CURLOPT_CONNECTTIMEOUT_MS, (long) IMAP_TIMEOUT_MS);
    curl_easy_setopt(im.curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(im.curl, CURLOPT_USE_SSL,
		     opts->insecure ? (long) CURLUSESSL_TRY : (long) CURLUSESSL_ALL);
    if (opts->cacert)
	curl_easy_setopt(im.curl, CURLOPT_CAINFO, opts->cacert);
    if (opts->insecure) {
	curl_easy_setopt(im.curl, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(im.curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    rc = curl_easy_perform(im.curl);
    explicit_bzero(pass, strlen(pass));
    if (rc != CURLE_OK) {
	*why = g_strdup_printf("%s: %s%s%s", opts->location, curl_easy_strerror(rc),
			       *errbuf ? ": " : "", errbuf);
	goto out;
    }
    if (curl_easy_getinfo(im.curl, CURLINFO_ACTIVESOCKET, &im.sock) != CURLE_OK
	|| im.sock == CURL_SOCKET_BAD) {
	*why = g_strdup_printf("%s: libcurl gave no connection", opts->location);
	goto out;
    }

    cmd = g_strdup_printf("EXAMINE %s", qfolder);
    if (!command(&im, cmd, NULL))
	goto fail;
    criteria = opts->since ? search_since(opts->since) : g_strdup("ALL");
    g_free(cmd);
    cmd = g_strdup_printf("UID SEARCH %s", criteria);
    if (!command(&im, cmd, &search))
	goto fail;
    for (guint i = 0; i < uids->len && !import_feed_stopped(feed); i++) {
	guint32 uid = g_array_index(uids, guint32, i);
	g_autofree char *where = g_strdup_printf("%s UID %u", opts->location, uid);
	struct reply fetch = {NULL, feed, where, FALSE};

	import_feed_position(feed, i, uids->len);
	g_free(cmd);
	cmd = g_strdup_printf("UID FETCH %u BODY.PEEK[]", uid);
	if (!command(&im, cmd, &fetch))
	    goto fail;
	if (!fetch.got_message)
	    import_feed_skip(feed, where, "the server returned no message (expunged?)");
    }
    (void) command(&im, "LOGOUT", NULL);
    ret = 0;
    goto out;
fail:
    *why = g_strdup_printf("%s: %s", opts->location, im.why);
out:
    g_free(im.why);
    curl_easy_cleanup(im.curl);
    return ret;
}
