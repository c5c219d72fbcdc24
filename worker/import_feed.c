/*
 * NAME
 *	import_feed - mails of a backfill into the stream, as the milter queues them
 * SYNOPSIS
 *	struct import_feed *import_feed_new(settings, &why)
 *	void	import_feed_begin(feed, where)
 *	void	import_feed_data(feed, data, len)
 *	int	import_feed_end(feed)
 *	void	import_feed_skip(feed, where, reason)
 *	void	import_feed_position(feed, done, total)
 *	gboolean import_feed_stopped(feed)
 *	void	import_feed_interrupt(feed)
 *	void	import_feed_stop(feed, why)
 *	int	import_feed_summary(feed, out)
 *	struct import_feed *import_feed_free(feed)
 * DESCRIPTION
 *	A source (mbox, Maildir, IMAP) pushes each mail to the feed in
 *	pieces of any size, between import_feed_begin() (where: how the
 *	postmaster finds the mail again, e.g. "FILE:OFFSET") and
 *	import_feed_end(). The feed gives the mail to the milter's own
 *	message state (milter/mctx.c) the way Postfix gives it to the milter:
 *	header field by header field, then the body, every line ending in
 *	CRLF. So an imported mail is held, bounded, spooled and hashed by the
 *	same code and limits as a delivered one ([milter] max_message_size,
 *	max_headers, spool_threshold, spool_directory, ...), its envelope is
 *	built by the same envelope_build() and queued by the same
 *	enqueue_envelope(); its body hash, and so its de-duplication key,
 *	is the one the milter computes when the same mail is delivered.
 *
 *	A first line "From ..." (an mbox envelope line some tools leave in
 *	a Maildir file) is not part of the mail: it is dropped, as
 *	Postfix's sendmail drops it.
 *
 *	The only recipient is the mailbox's address (--mailbox), the
 *	envelope sender is the mail's Return-Path ("" for <>), else the
 *	sender its mbox "From " line names (MAILER-DAEMON: <>), else its
 *	From address, else "unknown" (never "", which would make a
 *	person's mail look like a bounce). The envelope carries "import": {"source",
 *	"acknowledge"} (docs/envelope.md); with acknowledge false the worker
 *	sends no acknowledgement.
 *
 *	A mail is skipped, with a line on stderr naming where it is and
 *	why, and counted by reason, when: it has no header field or GMime
 *	found no message in it ("malformed"); it is over max_message_size and
 *	the mailbox says oversize = reject ("too large"; with oversize =
 *	ticket it is queued truncated, as delivery would, with a note); its
 *	Date is before --since ("before --since"; a mail without a Date is
 *	kept); the spool file failed ("spool"). A source reports what it
 *	could not read with import_feed_skip() ("unreadable").
 *
 *	Backpressure: before adding, the feed waits while the stream holds
 *	max_backlog entries or more (the worker deletes what it has
 *	taken), so that a backfill never fills Redis's memory, which live
 *	mail needs: the milter answers 451 when Redis refuses. When Redis
 *	refuses all the same (OOM under maxmemory, NOREPLICAS) the feed
 *	waits and tries again, as long as it takes; when Redis cannot be
 *	reached it tries again for a minute, then stops the run.
 *
 *	With [redis] wait_replicas above 0, a mail counts as queued only
 *	when WAIT says that many replicas have its entry, as the milter
 *	accepts a mail only then (enqueue_wait()): on a primary alone a
 *	failover could lose it, and the backfill would report a mail that
 *	never becomes a ticket. Fewer replicas: the mail is added again a
 *	second later (the worker keeps one ticket of the copies), for a
 *	minute at most, then the run stops; rerunning the import later
 *	adds no ticket twice (the same de-duplication).
 *
 *	With progress, a line on stderr (count, rate, ETA from the source's
 *	position) is rewritten at most twice a second. import_feed_summary()
 *	prints read, queued and skipped by reason, and returns the exit
 *	status: 0, or 1 when the run was stopped or something was skipped
 *	as unreadable or for a failed spool.
 * DIAGNOSTICS
 *	import_feed_new() returns NULL and *why when the mailbox has no
 *	address. import_feed_end() returns -1 once the run is stopped (Redis
 *	gone, SIGINT): the source then stops reading.
 */
#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "enqueue.h"
#include "envelope.h"
#include "import.h"
#include "mctx.h"
#include "redisq.h"

/* A header field is cut here (what the parser reads of a field, docs/envelope.md). */
#define FIELD_MAX	(100 * 1024)
/* Redis gone: this many tries, a second apart, then the run stops. */
#define UNREACHABLE_TRIES 60

struct import_feed {
    struct import_feed_settings set;
    struct redisq *rq;			/* NULL with dry_run */
    struct mctx *mc;			/* the mail in hand */
    char   *where;
    /* The line in hand (header lines only: body lines go straight on). */
    GString *line;
    GString *field;			/* the header field in hand, "" for none */
    gboolean in_body;
    gboolean first_line;		/* no header line seen yet */
    gboolean at_bol;
    gboolean pending_cr;		/* a CR at a piece's end: CRLF or data? */
    gboolean have_sender;
    char   *from_addr;			/* first From address, for the sender */
    char   *postmark_sender;		/* of an mbox "From " line, "" for <>, or NULL */
    char   *stop_why;
    volatile sig_atomic_t interrupted;	/* set by a signal handler */
    /* Counts. */
    guint64 read, queued, truncated;
    GHashTable *skipped;		/* reason -> count (GUINT_TO_POINTER) */
    guint64 pos_done, pos_total;
    gint64  started, last_progress;
};

struct import_feed *import_feed_new(const struct import_feed_settings *set, char **why)
{
    struct import_feed *f;

    if (set->mailbox->address == NULL || *set->mailbox->address == 0) {
	*why = g_strdup_printf("[mailbox %s] has no address", set->mailbox->name);
	return NULL;
    }
    f = g_new0(struct import_feed, 1);
    f->set = *set;
    f->rq = set->dry_run ? NULL : redisq_new(set->cfg);
    f->mc = mctx_new(set->cfg);
    f->line = g_string_new(NULL);
    f->field = g_string_new(NULL);
    f->skipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->started = f->last_progress = g_get_monotonic_time();
    return f;
}

struct import_feed *import_feed_free(struct import_feed *f)
{
    if (f == NULL)
	return NULL;
    redisq_free(f->rq);
    mctx_free(f->mc);
    g_free(f->where);
    g_string_free(f->line, TRUE);
    g_string_free(f->field, TRUE);
    g_free(f->from_addr);
    g_free(f->postmark_sender);
    g_free(f->stop_why);
    g_hash_table_destroy(f->skipped);
    g_free(f);
    return NULL;
}

gboolean import_feed_stopped(const struct import_feed *f)
{
    return f->stop_why != NULL || f->interrupted;
}

void    import_feed_interrupt(struct import_feed *f)
{
    f->interrupted = 1;
}

void    import_feed_stop(struct import_feed *f, const char *why)
{
    if (f->stop_why == NULL)
	f->stop_why = g_strdup(why);
}

void    import_feed_position(struct import_feed *f, guint64 done, guint64 total)
{
    f->pos_done = done;
    f->pos_total = total;
}

/* ---------------------------------------------------------------- */
/*	Progress and counts						    */
/* ---------------------------------------------------------------- */

static void progress(struct import_feed *f, gboolean force)
{
    gint64  now = g_get_monotonic_time();
    double  secs = (double) (now - f->started) / G_USEC_PER_SEC;
    char    eta[32] = "?";

    if (!f->set.progress || (!force && now - f->last_progress < G_USEC_PER_SEC / 2))
	return;
    f->last_progress = now;
    if (f->pos_total > 0 && f->pos_done > 0 && f->pos_done <= f->pos_total) {
	double  left = secs * (double) (f->pos_total - f->pos_done) / (double) f->pos_done;

	snprintf(eta, sizeof(eta), "%d:%02d", (int) (left / 60), (int) fmod(left, 60));
    }
    fprintf(stderr, "\r%" G_GUINT64_FORMAT " read, %" G_GUINT64_FORMAT " %s, %.0f/s, ETA %s   ",
	    f->read, f->queued, f->set.dry_run ? "would queue" : "queued",
	    secs > 0 ? (double) f->read / secs : 0.0, eta);
    fflush(stderr);
}

static void skip(struct import_feed *f, const char *where, const char *reason,
		 const char *detail)
{
    gpointer n = g_hash_table_lookup(f->skipped, reason);

    g_hash_table_replace(f->skipped, g_strdup(reason), GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
    if (f->set.progress)
	fputc('\n', stderr);
    fprintf(stderr, "intakectl import: %s: skipped (%s)%s%s\n", where, reason,
	    detail ? ": " : "", detail ? detail : "");
}

void    import_feed_skip(struct import_feed *f, const char *where, const char *reason)
{
    skip(f, where, "unreadable", reason);
}

int     import_feed_summary(struct import_feed *f, FILE *out)
{
    GHashTableIter it;
    gpointer key, val;
    guint64 n = 0;
    GString *by = g_string_new(NULL);
    g_autoptr(GList) keys = g_hash_table_get_keys(f->skipped);
    int     rc;

    if (f->interrupted)
	import_feed_stop(f, "interrupted (SIGINT or SIGTERM)");
    rc = f->stop_why ? 1 : 0;
    progress(f, TRUE);
    if (f->set.progress)
	fputc('\n', stderr);
    g_hash_table_iter_init(&it, f->skipped);
    while (g_hash_table_iter_next(&it, &key, &val))
	n += GPOINTER_TO_UINT(val);
    keys = g_list_sort(keys, (GCompareFunc) strcmp);
    for (GList *l = keys; l; l = l->next) {
	g_string_append_printf(by, "%s%s %u", by->len ? ", " : "", (char *) l->data,
			       GPOINTER_TO_UINT(g_hash_table_lookup(f->skipped, l->data)));
	if (strcmp(l->data, "unreadable") == 0 || strcmp(l->data, "spool") == 0)
	    rc = 1;
    }
    fprintf(out, "%s: read %" G_GUINT64_FORMAT ", %s %" G_GUINT64_FORMAT " (truncated %"
	    G_GUINT64_FORMAT "), skipped %" G_GUINT64_FORMAT "%s%s%s\n",
	    f->set.dry_run ? "dry run" : "import", f->read,
	    f->set.dry_run ? "would queue" : "queued", f->queued, f->truncated, n,
	    by->len ? " (" : "", by->str, by->len ? ")" : "");
    if (f->stop_why)
	fprintf(out, "import stopped: %s\n", f->stop_why);
    g_string_free(by, TRUE);
    return rc;
}

/* ---------------------------------------------------------------- */
/*	The mail, as Postfix gives it to the milter			    */
/* ---------------------------------------------------------------- */

void    import_feed_begin(struct import_feed *f, const char *where)
{
    mctx_reset(f->mc);
    g_free(f->where);
    f->where = g_strdup(where);
    g_string_truncate(f->line, 0);
    g_string_truncate(f->field, 0);
    f->in_body = FALSE;
    f->first_line = TRUE;
    f->at_bol = TRUE;
    f->pending_cr = FALSE;
    f->have_sender = FALSE;
    g_clear_pointer(&f->from_addr, g_free);
    g_clear_pointer(&f->postmark_sender, g_free);
    mctx_add_rcpt(f->mc, f->set.mailbox->address);
}

/* first_address - the first mail address of an address field's value (g_free), or NULL */
static char *first_address(const char *value)
{
    InternetAddressList *list = internet_address_list_parse(NULL, value);
    char   *addr = NULL;

    for (int i = 0; list && i < internet_address_list_length(list) && addr == NULL; i++) {
	InternetAddress *ia = internet_address_list_get_address(list, i);

	if (INTERNET_ADDRESS_IS_MAILBOX(ia))
	    addr = g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
    }
    if (list)
	g_object_unref(list);
    return addr;
}

/* flush_field - the header field in hand to mctx, as "name:value" with its leading space */
static void flush_field(struct import_feed *f)
{
    char   *colon;

    if (f->field->len == 0)
	return;
    colon = strchr(f->field->str, ':');
    *colon = 0;
    if (!f->have_sender && g_ascii_strcasecmp(f->field->str, "Return-Path") == 0) {
	g_autofree char *addr = g_strstrip(g_strdup(colon + 1));

	mctx_set_sender(f->mc, addr);
	f->have_sender = TRUE;
    } else if (f->from_addr == NULL && g_ascii_strcasecmp(f->field->str, "From") == 0) {
	/* The sender is a guess from the first address: 4 KB of the field are plenty. */
	g_autofree char *head = g_strndup(colon + 1, 4096);

	f->from_addr = first_address(head);
    }
    mctx_add_header(f->mc, f->field->str, colon + 1, 1);
    g_string_truncate(f->field, 0);
}

static void end_headers(struct import_feed *f)
{
    flush_field(f);
    mctx_end_headers(f->mc);
    f->in_body = TRUE;
}

/* is_field - does a header line start a field ("name:", printable name without spaces)? */
static gboolean is_field(const char *s, gsize len)
{
    gsize   i;

    for (i = 0; i < len && s[i] != ':'; i++)
	if ((unsigned char) s[i] <= ' ' || (unsigned char) s[i] >= 127)
	    return FALSE;
    return i > 0 && i < len;
}

/* header_line - one whole header line (without its line end) */
static void header_line(struct import_feed *f, const char *s, gsize len)
{
    gboolean first = f->first_line;

    f->first_line = FALSE;
    if (first && len >= 5 && memcmp(s, "From ", 5) == 0) {
	/*
	 * An mbox envelope line ("From SENDER DATE"): not part of the mail
	 * (Postfix's sendmail drops it too), but it names the envelope
	 * sender, MAILER-DAEMON for <> (as Postfix's local(8) writes it).
	 */
	const char *p = s + 5, *end = s + len, *q;

	while (p < end && *p == ' ')
	    p++;
	for (q = p; q < end && *q != ' ' && *q != '\t'; q++)
	    ;
	if (q - p == 13 && g_ascii_strncasecmp(p, "MAILER-DAEMON", 13) == 0)
	    f->postmark_sender = g_strdup("");
	else if (q > p && q - p <= 512 && memchr(p, '@', q - p))
	    f->postmark_sender = g_strndup(p, q - p);
	return;
    } else if (len == 0) {
	end_headers(f);
    } else if ((s[0] == ' ' || s[0] == '\t') && f->field->len > 0) {
	if (f->field->len + 2 + len <= FIELD_MAX) {
	    g_string_append(f->field, "\r\n");
	    g_string_append_len(f->field, s, (gssize) len);
	}
    } else if (is_field(s, len)) {
	flush_field(f);
	g_string_append_len(f->field, s, (gssize) len);
    } else {
	/* Not a header field: the body starts here (Postfix does the same). */
	end_headers(f);
	mctx_add_body(f->mc, (const unsigned char *) s, len);
	mctx_add_body(f->mc, (const unsigned char *) "\r\n", 2);
    }
}

/* piece - bytes of one line (no LF); eol: the line ends after them */
static void piece(struct import_feed *f, const char *s, gsize len, gboolean eol)
{
    /* A CR before LF is the line end; elsewhere it is data. */
    if (f->pending_cr && !(eol && len == 0)) {
	if (f->in_body)
	    mctx_add_body(f->mc, (const unsigned char *) "\r", 1);
	else if (f->line->len < FIELD_MAX)
	    g_string_append_c(f->line, '\r');
    }
    f->pending_cr = FALSE;
    if (len > 0 && s[len - 1] == '\r') {
	len--;
	if (!eol)
	    f->pending_cr = TRUE;
    }
    if (f->in_body) {
	if (len)
	    mctx_add_body(f->mc, (const unsigned char *) s, len);
	if (eol)
	    mctx_add_body(f->mc, (const unsigned char *) "\r\n", 2);
	return;
    }
    /* Header lines are kept whole up to FIELD_MAX; the rest is cut. */
    if (f->line->len < FIELD_MAX)
	g_string_append_len(f->line, s, (gssize) MIN(len, FIELD_MAX - f->line->len));
    if (eol) {
	header_line(f, f->line->str, f->line->len);
	g_string_truncate(f->line, 0);
    }
}

void    import_feed_data(struct import_feed *f, const char *data, gsize len)
{
    while (len > 0) {
	const char *lf = memchr(data, '\n', len);
	gsize   n = lf ? (gsize) (lf - data) : len;

	piece(f, data, n, lf != NULL);
	f->at_bol = lf != NULL;
	data += n + (lf != NULL);
	len -= n + (lf != NULL);
    }
}

/* ---------------------------------------------------------------- */
/*	Into the stream							    */
/* ---------------------------------------------------------------- */

/* wait_ms - sleep, unless the run was stopped; FALSE when it was */
static gboolean wait_ms(struct import_feed *f, int ms)
{
    if (import_feed_stopped(f))
	return FALSE;
    g_usleep((gulong) ms * 1000);
    return !import_feed_stopped(f);
}

/* backlog - entries in the stream, or -1 and *why */
static long long backlog(struct import_feed *f, char **why)
{
    redisReply *r = redisq_run(f->rq, why, "XLEN", f->set.cfg->redis_stream, NULL);
    long long n = -1;

    if (r && r->type == REDIS_REPLY_INTEGER)
	n = r->integer;
    else if (r)
	*why = g_strdup("unexpected reply to XLEN");
    if (r)
	freeReplyObject(r);
    return n;
}

/* enqueue - add the envelope, waiting out backpressure; 0, or -1: the run stops */
static int enqueue(struct import_feed *f, json_t *env)
{
    struct raw_source raw;
    int     unreachable = 0, unreplicated = 0;
    gboolean said_full = FALSE, said_refused = FALSE, said_unreplicated = FALSE;

    mctx_raw(f->mc, &raw);
    for (;;) {
	char   *why = NULL;
	char   *id = NULL;
	long long n = f->set.max_backlog ? backlog(f, &why) : 0;

	if (n >= (long long) f->set.max_backlog && f->set.max_backlog) {
	    if (!said_full)
		fprintf(stderr, "%sintakectl import: the stream holds %lld entries ([redis]"
			" stream, --max-backlog %u): waiting for the worker\n",
			f->set.progress ? "\n" : "", n, f->set.max_backlog);
	    said_full = TRUE;
	    if (!wait_ms(f, 200))
		return -1;
	    continue;
	}
	if (n >= 0)
	    id = enqueue_envelope(f->rq, f->set.cfg->redis_stream, env, &raw,
				  strcmp(f->set.cfg->stream_compression, "zstd") == 0, &why);
	/* As the milter: an entry not on wait_replicas replicas is not queued yet. */
	if (id && f->set.cfg->redis_wait_replicas > 0 && enqueue_wait(f->rq, f->set.cfg, &why) < 0) {
	    if (++unreplicated >= UNREACHABLE_TRIES) {
		g_autofree char *stop = g_strdup_printf("%s (entry %s; tried for a minute: this"
							" mail and those after it count as not"
							" queued; run the import again once the"
							" replicas are back: no mail becomes two"
							" tickets)", why, id);

		g_free(why);
		g_free(id);
		import_feed_stop(f, stop);
		return -1;
	    }
	    if (!said_unreplicated)
		fprintf(stderr, "%sintakectl import: %s: %s: adding it again (the worker keeps"
			" one ticket)\n", f->set.progress ? "\n" : "", f->where, why);
	    said_unreplicated = TRUE;
	    g_clear_pointer(&id, g_free);
	    g_free(why);
	    if (!wait_ms(f, 1000))
		return -1;
	    continue;
	}
	if (id) {
	    g_free(id);
	    return 0;
	}
	if (redisq_error_is(f->rq, "OOM") || redisq_error_is(f->rq, "NOREPLICAS")) {
	    /* Redis is up and says "not now": wait as long as it takes. */
	    if (!said_refused)
		fprintf(stderr, "%sintakectl import: %s: Redis refuses new entries (%s):"
			" waiting\n", f->set.progress ? "\n" : "", f->where, why);
	    said_refused = TRUE;
	    unreachable = 0;
	} else if (++unreachable >= UNREACHABLE_TRIES) {
	    g_autofree char *stop = g_strdup_printf("redis: %s (tried for a minute)", why);

	    g_free(why);
	    import_feed_stop(f, stop);
	    return -1;
	}
	g_free(why);
	if (!wait_ms(f, 1000))
	    return -1;
    }
}

/* before_since - is the envelope's date before --since? (no date: no) */
static gboolean before_since(struct import_feed *f, json_t *env)
{
    const char *iso = json_string_value(json_object_get(env, "date"));
    g_autoptr(GDateTime) date = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;

    return f->set.since && date && g_date_time_to_unix(date) < f->set.since;
}

/* parsed - did GMime find a message (envelope_build()'s code-0 warning)? */
static gboolean parsed(json_t *env)
{
    json_t *w;
    size_t  i;

    json_array_foreach(json_object_get(env, "warnings"), i, w)
	if (g_strcmp0(json_string_value(json_object_get(w, "item")),
		      "no message could be parsed") == 0)
	    return FALSE;
    return TRUE;
}

int     import_feed_end(struct import_feed *f)
{
    json_t *env;
    int     rc = 0;

    if (f->pending_cr || !f->at_bol)
	piece(f, "", 0, TRUE);
    if (!f->in_body)
	end_headers(f);
    f->read++;
    /*
     * Nothing names a sender: "unknown", not "" (that would say <>, a
     * bounce, to the classifier).
     */
    if (!f->have_sender)
	mctx_set_sender(f->mc, f->postmark_sender ? f->postmark_sender
			: f->from_addr ? f->from_addr : "unknown");
    if (mctx_oversize_reject(f->mc)) {
	skip(f, f->where, "too large", "over [milter] max_message_size, and [mailbox] oversize"
	     " = reject");
	goto done;
    }
    if ((env = mctx_envelope(f->mc)) == NULL) {
	skip(f, f->where, "spool", mctx_spool_error(f->mc));
	goto done;
    }
    if (f->mc->n_headers == 0 || !parsed(env))
	skip(f, f->where, "malformed", "no header fields, or no message could be parsed");
    else if (before_since(f, env))
	skip(f, f->where, "before --since", NULL);
    else {
	json_object_set_new(env, "import", json_pack("{s:s,s:b}", "source", f->set.source,
						     "acknowledge", f->set.acknowledge));
	if (f->set.inspect)
	    f->set.inspect(f->set.inspect_ctx, env);
	if (f->set.dry_run || (rc = enqueue(f, env)) == 0) {
	    f->queued++;
	    if (mctx_oversize(f->mc)) {
		f->truncated++;
		fprintf(stderr, "%sintakectl import: %s: over [milter] max_message_size:"
			" queued truncated (as delivery would)\n",
			f->set.progress ? "\n" : "", f->where);
	    }
	}
    }
    json_decref(env);
done:
    mctx_reset(f->mc);
    progress(f, FALSE);
    return import_feed_stopped(f) ? -1 : rc;
}
