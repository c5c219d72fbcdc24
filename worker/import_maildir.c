/*
 * NAME
 *	import_maildir - the mails of a Maildir, for intakectl import
 * SYNOPSIS
 *	int	import_maildir(opts, feed, &why)
 * DESCRIPTION
 *	Gives each file of opts->location's cur/ and new/ (not tmp/, where
 *	mails still being delivered are, nor names starting with a dot) to
 *	the feed (import.h), named by its path, in name order (Maildir
 *	names start with the delivery time). A file is read in pieces of
 *	64 KB: memory does not grow with its size. Nothing is changed in the
 *	Maildir (no flags, no moves): it is only read.
 * DIAGNOSTICS
 *	-1 and *why (g_free) when opts->location has neither cur/ nor new/.
 *	A file that cannot be read is reported to the feed as unreadable
 *	(import_feed_skip()) and the rest are read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "import.h"

/* list - the mail files of DIR/sub, appended to files (g_free each) */
static gboolean list(const char *dir, const char *sub, GPtrArray *files, char **why)
{
    g_autofree char *path = g_build_filename(dir, sub, NULL);
    GError *err = NULL;
    GDir   *d = g_dir_open(path, 0, &err);
    const char *name;

    if (d == NULL) {
	*why = g_strdup(err->message);
	g_error_free(err);
	return FALSE;
    }
    while ((name = g_dir_read_name(d)) != NULL)
	if (name[0] != '.')
	    g_ptr_array_add(files, g_build_filename(path, name, NULL));
    g_dir_close(d);
    return TRUE;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* one - read one file into the feed */
static void one(struct import_feed *feed, const char *path)
{
    char    buf[65536];
    ssize_t n;
    int     fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) {
	import_feed_skip(feed, path, g_strerror(errno));
	return;
    }
    import_feed_begin(feed, path);
    while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
	if (n > 0)
	    import_feed_data(feed, buf, (gsize) n);
    if (n < 0) {
	/* Half a mail is not queued: it would be another mail. */
	import_feed_skip(feed, path, g_strerror(errno));
	close(fd);
	return;
    }
    close(fd);
    import_feed_end(feed);
}

int     import_maildir(const struct import_opts *opts, struct import_feed *feed, char **why)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    char   *why_cur = NULL, *why_new = NULL;
    gboolean cur = list(opts->location, "cur", files, &why_cur);
    gboolean new = list(opts->location, "new", files, &why_new);

    if (!cur && !new) {
	*why = g_strdup_printf("%s: not a Maildir (%s; %s)", opts->location, why_cur, why_new);
	g_free(why_cur);
	g_free(why_new);
	return -1;
    }
    g_free(why_cur);
    g_free(why_new);
    g_ptr_array_sort(files, by_name);
    for (guint i = 0; i < files->len && !import_feed_stopped(feed); i++) {
	import_feed_position(feed, i, files->len);
	one(feed, g_ptr_array_index(files, i));
    }
    return 0;
}
