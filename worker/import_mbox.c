/*
 * NAME
 *	import_mbox - the mails of an mbox file, for intakectl import
 * SYNOPSIS
 *	int	import_mbox(opts, feed, &why)
 * DESCRIPTION
 *	Reads the mbox file opts->location from start to end and gives each
 *	mail to the feed (import.h), named "FILE:OFFSET" (the byte offset of
 *	its "From " line, for the postmaster who looks at a skipped one).
 *
 *	A mail starts at a line beginning with "From " at the start of the
 *	file or after an empty line; the empty line before it belongs to the
 *	format, not to the mail. Quoted lines (">From ", ">>From ", ...) lose
 *	one ">": that is mboxrd's rule and how mboxo readers treat ">From "
 *	too. (XXX: a mail whose own line read ">From " comes back as "From "
 *	from an mboxo file, which did not quote it; its body hash then differs
 *	from the delivered mail's.)
 *
 *	One pass, in time linear in the file, and memory bounded whatever the
 *	line lengths: a line is handed on in pieces of at most PIECE bytes;
 *	only a line's first piece is looked at for "From ".
 * DIAGNOSTICS
 *	-1 and *why (g_free) when the file cannot be opened or read, or does
 *	not start with a "From " line (not an mbox).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <glib.h>

#include "import.h"

#define PIECE	8192

struct mbox {
    const char *path;
    struct import_feed *feed;
    gboolean in_mail;
    gboolean blank_held;		/* an empty line, not yet given on */
    gboolean blank_cr;			/* it was "\r\n" */
    gboolean prev_blank;		/* the last whole line was empty */
};

static gboolean is_from_line(const char *s, gsize len)
{
    return len >= 5 && memcmp(s, "From ", 5) == 0;
}

/* quoted_from - ">From ", ">>From ", ...: how many '>' lead to "From "? */
static gsize quoted_from(const char *s, gsize len)
{
    gsize   i = 0;

    while (i < len && s[i] == '>')
	i++;
    return i > 0 && is_from_line(s + i, len - i) ? i : 0;
}

/*
 * line - one piece of a line: first (it starts the line), eol (the line
 * ends after it, LF not included), offset (of the line in the file).
 */
static void line(struct mbox *mb, const char *s, gsize len, gboolean first, gboolean eol,
		 gint64 offset)
{
    if (first && eol && is_from_line(s, len) && (offset == 0 || mb->prev_blank)) {
	g_autofree char *where = g_strdup_printf("%s:%" G_GINT64_FORMAT, mb->path, offset);

	if (mb->in_mail)
	    import_feed_end(mb->feed);
	import_feed_begin(mb->feed, where);
	/* The feed drops this line from the mail and takes its sender. */
	import_feed_data(mb->feed, s, len);
	import_feed_data(mb->feed, "\n", 1);
	mb->in_mail = TRUE;
	mb->blank_held = mb->prev_blank = FALSE;
	return;
    }
    if (first) {
	if (mb->blank_held)
	    import_feed_data(mb->feed, mb->blank_cr ? "\r\n" : "\n", mb->blank_cr ? 2 : 1);
	mb->blank_held = FALSE;
	if (eol && (len == 0 || (len == 1 && s[0] == '\r'))) {
	    mb->blank_held = mb->prev_blank = TRUE;
	    mb->blank_cr = len == 1;
	    return;
	}
	if (quoted_from(s, len)) {
	    s++;
	    len--;
	}
    }
    if (eol)
	mb->prev_blank = FALSE;
    import_feed_data(mb->feed, s, len);
    if (eol)
	import_feed_data(mb->feed, "\n", 1);
}

int     import_mbox(const struct import_opts *opts, struct import_feed *feed, char **why)
{
    struct mbox mb = {opts->location, feed, FALSE, FALSE, FALSE, FALSE};
    FILE   *fp = fopen(opts->location, "re");
    char    buf[PIECE];
    gsize   n = 0;
    gboolean first = TRUE;
    gint64  line_at = 0, offset = 0;
    struct stat st = {0};
    int     c;

    if (fp == NULL) {
	*why = g_strdup_printf("%s: %s", opts->location, g_strerror(errno));
	return -1;
    }
    if (fstat(fileno(fp), &st) == 0)
	import_feed_position(feed, 0, (guint64) st.st_size);
    while (!import_feed_stopped(feed) && (c = getc_unlocked(fp)) != EOF) {
	offset++;
	if (c == '\n' || n == sizeof(buf)) {
	    line(&mb, buf, n, first, c == '\n', line_at);
	    if (!mb.in_mail) {
		fclose(fp);
		*why = g_strdup_printf("%s: not an mbox file (its first line does not start"
				       " with \"From \")", opts->location);
		return -1;
	    }
	    n = 0;
	    first = c == '\n';
	    if (first) {
		line_at = offset;
		import_feed_position(feed, (guint64) offset, (guint64) st.st_size);
		continue;
	    }
	}
	buf[n++] = (char) c;
    }
    if (ferror(fp)) {
	*why = g_strdup_printf("%s: %s", opts->location, g_strerror(errno));
	fclose(fp);
	return -1;
    }
    if (n > 0 || !first)
	line(&mb, buf, n, first, TRUE, line_at);
    if (mb.in_mail && !import_feed_stopped(feed))
	import_feed_end(feed);
    fclose(fp);
    if (!mb.in_mail && offset > 0) {
	*why = g_strdup_printf("%s: not an mbox file (its first line does not start with"
			       " \"From \")", opts->location);
	return -1;
    }
    return 0;
}
