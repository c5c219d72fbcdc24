/*
 * import.h: intakectl import, the backfill of an existing mailbox.
 *
 * A source (import_mbox.c, import_maildir.c, import_imap.c) reads mails
 * and pushes each one, in pieces, to the feed (import_feed.c), which
 * turns it into an envelope exactly as the milter does and adds it to
 * the stream. import.c is the command: options, source choice, summary.
 */
#ifndef INTAKE_IMPORT_H
#define INTAKE_IMPORT_H

#include <stdio.h>
#include <glib.h>
#include <jansson.h>
#include "config.h"

struct import_feed;

/* What the command tells a source. */
struct import_opts {
    const char *location;		/* mbox file, Maildir, imap(s):// URL */
    const char *login_file;		/* IMAP: "user\npassword\n" */
    const char *cacert;			/* IMAP: CA file, or NULL: the system's */
    gboolean insecure;			/* IMAP: no TLS verification */
    gint64  since;			/* Unix time, 0: no --since/--days */
};

/*
 * A source: reads opts->location and calls, per mail,
 * import_feed_begin(), import_feed_data() any number of times,
 * import_feed_end(). Returns 0 when the source was read to its end (or
 * the feed asked to stop), -1 and *why (g_free) when it could not be
 * read at all (no such file, login refused).
 */
typedef int (*import_source_fn) (const struct import_opts *opts, struct import_feed *feed,
				 char **why);

int     import_mbox(const struct import_opts *opts, struct import_feed *feed, char **why);
int     import_maildir(const struct import_opts *opts, struct import_feed *feed, char **why);
int     import_imap(const struct import_opts *opts, struct import_feed *feed, char **why);

/* The feed's settings (import_feed.c). */
struct import_feed_settings {
    const struct intake_config *cfg;
    const struct mailbox *mailbox;
    const char *source;			/* "mbox", "maildir", "imap": the envelope's mark */
    gboolean acknowledge;
    gboolean dry_run;
    gint64  since;			/* Unix time, 0: none */
    guint   max_backlog;		/* stream entries not yet taken: wait above */
    gboolean progress;			/* a progress line on stderr */
    /* Each envelope the feed would queue (intakectl rules test), before queueing; or NULL. */
    void    (*inspect) (void *ctx, json_t *env);
    void   *inspect_ctx;
};

struct import_feed *import_feed_new(const struct import_feed_settings *set, char **why);
void    import_feed_begin(struct import_feed *feed, const char *where);
void    import_feed_data(struct import_feed *feed, const char *data, gsize len);
int     import_feed_end(struct import_feed *feed);
void    import_feed_skip(struct import_feed *feed, const char *where, const char *reason);
void    import_feed_position(struct import_feed *feed, guint64 done, guint64 total);
gboolean import_feed_stopped(const struct import_feed *feed);
void    import_feed_stop(struct import_feed *feed, const char *why);
void    import_feed_interrupt(struct import_feed *feed);
int     import_feed_summary(struct import_feed *feed, FILE *out);
struct import_feed *import_feed_free(struct import_feed *feed);

int     import_main(const char *config_path, int argc, char **argv);

#endif
