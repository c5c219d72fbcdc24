/*
 * NAME
 *	mime_parse - parse a message with GMime, within limits
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	GMimeMessage *mime_parse(stream, opts, max_parts, max_depth, &cut)
 *
 *	#include "mime_int.h"
 *
 *	GMimeMessage *mime_parse_limited(stream, opts, max_parts, max_depth, &cut)
 * DESCRIPTION
 *	mime_parse() parses a message from stream (from its current
 *	position) with GMime, after a linear pre-scan that stops the parser
 *	at the boundary line of part max_parts + 1, or where the nesting of
 *	multiparts and attached messages exceeds max_depth: GMime's parser
 *	has no such limits, and a million empty parts cost it a gigabyte.
 *	cut says whether and where that happened. The header text the
 *	parser sees is bounded too (a field, all fields, addresses,
 *	parameters: see "Header blocks" below); cut->header_cut says when
 *	some was left out. It returns a new reference, or NULL when nothing
 *	could be parsed. A multipart whose content does not use its
 *	boundary is then repaired (mime_repair.c): cut->repaired says how.
 *
 *	mime_parse_limited() is mime_parse() without the repair.
 */
#include <string.h>

#include "charset.h"
#include "mime_int.h"

#define SCAN_LINE	1024		/* bytes of a line the pre-scan looks at */
#define HEADER_FIELD_MAX (100 * 1024)	/* bytes of a header field the parser sees */

/* ---------------------------------------------------------------- */
/*	Parsing with limits						    */
/* ---------------------------------------------------------------- */

/*
 * The pre-scan follows what GMime will do closely enough to count: a
 * Content-Type of multipart/ with a boundary (read by GMime's own
 * g_mime_content_type_parse(): "boundary = b", "boundary*0=b", an
 * encoded word and a folded field all declare "b", and a pre-scan that
 * looked for "boundary=" let 200,000 parts through) opens a level when its
 * header block ends, a line "--boundary" of an open level starts a part
 * (closing the levels opened inside the previous one), "--boundary--"
 * closes the level, and message/rfc822 (or message/global) opens a level
 * for the attached message, which ends with the part that holds it.
 * The Content-Type it reads is the one the parser will see, from the
 * header block's copy (struct hcopy, below; a boundary declared after the
 * first 1 KB of a line let a million parts through). It looks at the
 * first SCAN_LINE bytes of each line and at no more than max_depth open
 * boundaries per line, so it is linear. A boundary longer than
 * BOUNDARY_MAX (RFC 2046 allows 70) would not fit in what it looks at:
 * the parser stops before that multipart's content.
 */
#define BOUNDARY_MAX	(SCAN_LINE - 8)

struct scan_level {
    char   *boundary;			/* NULL: the top level */
    guint   messages;			/* attached messages opened in its part */
    gboolean digest;			/* multipart/digest */
};

struct scan {
    GArray *levels;			/* struct scan_level */
    guint   parts;
    gboolean in_header;
    gboolean part_header;		/* the header is a part's, not a message's */
    gboolean filler;			/* in a multipart's prologue or epilogue */
    gboolean line_filler;		/* the line scan_line() read was one of those */
    GString *ct;			/* the block's last Content-Type value */
    GMimeParserOptions *opts;		/* the parser's */
};

static guint scan_depth(struct scan *s)
{
    guint   depth = s->levels->len - 1;

    for (guint i = 0; i < s->levels->len; i++)
	depth += g_array_index(s->levels, struct scan_level, i).messages;
    return depth;
}

static void scan_pop_to(struct scan *s, guint keep)
{
    while (s->levels->len > keep) {
	g_free(g_array_index(s->levels, struct scan_level, s->levels->len - 1).boundary);
	g_array_set_size(s->levels, s->levels->len - 1);
    }
}

/*
 * scan_header_end - open the level a header block's Content-Type opens,
 * as GMime will read it (its own parser: parameters folded, continued
 * per RFC 2231, quoted or encoded are all the same boundary); FALSE when
 * its boundary is too long to be matched. A part of a multipart/digest
 * without a Content-Type is an attached message (RFC 2046 5.1.5): GMime
 * parses its header (a 6 MB To: there cost 870 MB before it was counted).
 */
static gboolean scan_header_end(struct scan *s)
{
    struct scan_level *in = &g_array_index(s->levels, struct scan_level, s->levels->len - 1);
    gboolean digest_part = s->part_header && in->digest;
    GMimeContentType *ct = NULL;
    const char *b = NULL;

    s->part_header = FALSE;
    s->filler = FALSE;
    if (s->ct->len > 0)
	ct = g_mime_content_type_parse(s->opts, s->ct->str);
    g_string_truncate(s->ct, 0);
    if (ct == NULL) {
	if (digest_part) {
	    in->messages++;
	    s->in_header = TRUE;		/* the attached message's own */
	}
	return TRUE;
    }
    /* Only a multipart's boundary opens a level (GMime ignores the others). */
    if (g_mime_content_type_is_type(ct, "multipart", "*")) {
	b = g_mime_content_type_get_parameter(ct, "boundary");
	s->filler = TRUE;		/* its prologue, all of it without a boundary */
    }
    if (b && strlen(b) > BOUNDARY_MAX) {
	g_object_unref(ct);
	return FALSE;
    }
    if (b) {
	/*
	 * GMime takes a line for a boundary when it begins with "--" and the
	 * boundary, and only white space follows; scan_line() drops the white
	 * space at the end of lines, so it goes from the boundary as well
	 * ("b  ", even "" or "  ", let 200,000 parts through otherwise).
	 */
	struct scan_level lv = {g_strdup(b), 0,
	g_mime_content_type_is_type(ct, "multipart", "digest")};
	gsize   n = strlen(lv.boundary);

	while (n > 0 && strchr(" \t\r\n", lv.boundary[n - 1]))
	    lv.boundary[--n] = 0;
	g_array_append_val(s->levels, lv);
    } else if (g_mime_content_type_is_type(ct, "message", "rfc822")
	       || g_mime_content_type_is_type(ct, "message", "news")
	       || g_mime_content_type_is_type(ct, "message", "global")) {
	g_array_index(s->levels, struct scan_level, s->levels->len - 1).messages++;
	s->in_header = TRUE;			/* the attached message's own */
    }
    g_object_unref(ct);
    return TRUE;
}

/*
 * scan_line - account for one line; FALSE when the parser must not see
 * it (a part over max_parts, a level over max_depth).
 */
static gboolean scan_line(struct scan *s, const char *line, gsize len, guint max_parts,
			  guint max_depth, const char **why)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
	len--;
    s->line_filler = FALSE;
    if (s->levels->len > 1 && len >= 2 && line[0] == '-' && line[1] == '-') {
	const char *b = line + 2;
	gsize   blen = len - 2;

	while (blen > 0 && (b[blen - 1] == ' ' || b[blen - 1] == '\t'))
	    blen--;
	for (guint i = s->levels->len - 1; i > 0; i--) {
	    struct scan_level *lv = &g_array_index(s->levels, struct scan_level, i);
	    gsize   n = strlen(lv->boundary);
	    gboolean end;

	    if (blen != n && blen != n + 2)
		continue;
	    if (memcmp(b, lv->boundary, n) != 0)
		continue;
	    end = blen == n + 2;
	    if (end && memcmp(b + n, "--", 2) != 0)
		continue;
	    if (end) {
		scan_pop_to(s, i);
		s->in_header = FALSE;
		s->filler = TRUE;		/* the epilogue */
	    } else {
		scan_pop_to(s, i + 1);
		lv = &g_array_index(s->levels, struct scan_level, i);
		lv->messages = 0;
		if (++s->parts > max_parts) {
		    *why = "parts";
		    return FALSE;
		}
		s->in_header = TRUE;
		s->part_header = TRUE;
		s->filler = FALSE;
		g_string_truncate(s->ct, 0);
	    }
	    return TRUE;
	}
    }
    if (!s->in_header) {
	s->line_filler = s->filler;
	return TRUE;
    }
    if (len > 0)
	return TRUE;
    /* The end of a header block. */
    s->in_header = FALSE;
    if (!scan_header_end(s)) {
	*why = "boundary";
	return FALSE;
    }
    if (scan_depth(s) > max_depth) {
	*why = "depth";
	return FALSE;
    }
    return TRUE;
}

/*
 * Header blocks GMime would decode in quadratic time. XXX GMime 3.2.13's
 * loose RFC 2047 decoder looks for the end of a word from every "=?" on
 * to the end of the field: 100 fields of 100 KB of "=?a?B? " cost it more
 * than a minute, a 200 KB file name in a part's header 9 s, all inside
 * g_mime_parser_construct_message(). A real encoded word has its "?="
 * before the next word starts. The pre-scan notes the header blocks (of
 * the message, of its parts, of attached messages) where an "=?" is
 * followed by another before any "?=", and the parser reads those blocks
 * from a copy in which such words are defused; the rest it reads from the
 * original. Drop this when GMime scans no further than a word can reach.
 *
 * Header blocks GMime would hold in too much memory. GMime keeps every
 * header field whole, several times over (raw, unfolded, decoded), and
 * some 600 bytes a field more: a 10 MB Subject cost 60 MB, 10 MB of
 * short fields 800 MB, 10 MB of addresses in To: 1.4 GB. So the parser
 * sees at most HEADER_BYTES_MAX bytes and HEADER_FIELDS_MAX fields of
 * header in all (message, parts, attached messages, in that order), and
 * no field longer than HEADER_FIELD_MAX (Postfix's header_size_limit
 * default): a block over these is read from a copy, made during the
 * pre-scan, that keeps the first HEADER_FIELD_MAX bytes of each field
 * and the fields that fit. So the copies too are at most
 * HEADER_BYTES_MAX. Empty lines (a part's header before its attached
 * message's) are always kept.
 *
 * Address fields cost most: GMime parses From, To, Cc and the like when
 * it reads them and keeps some 300 bytes an address, and "a," is one:
 * 1 MB of To: fields took 160 MB. It also parses a group within a group
 * by recursion: 40,000 "g:" in a Cc: overflowed the stack. So the copy
 * of an address field ends it before its separator (',', ':', ';', out
 * of quotes) number ADDRESS_ITEMS_MAX of the whole message, and turns
 * a ':' that would open a group deeper than GROUP_DEPTH_MAX into a space.
 * (RFC 5322 has no groups in groups.) Parameters (Content-Type and
 * Content-Disposition) likewise: GMime keeps some 150 bytes a parameter
 * and compares each name with every other of its field: 10 fields of
 * 14,000 parameters took 4 s. A parameter field's copy ends before its
 * ';' number PARAMS_FIELD_MAX, or PARAMS_MAX of the whole message.
 */
#define HEADER_BYTES_MAX	(1024 * 1024)
#define HEADER_FIELDS_MAX	MIME_PARTS_CEILING
#define ADDRESS_ITEMS_MAX	10000
#define GROUP_DEPTH_MAX		8
#define PARAMS_FIELD_MAX	200
#define PARAMS_MAX		10000
#define FIELD_NAME_MAX		32

struct block {
    gint64  start, end;			/* offsets of a header block to copy */
    GByteArray *copy;			/* what the parser reads instead */
};

/* hcopy - the copy of a header block that the parser may read */
struct hcopy {
    GByteArray *copy;			/* of the current block */
    guint   line_at;			/* its length when the current line began */
    gsize   field_len;			/* bytes of the current field kept */
    gboolean bol;			/* at the beginning of a line */
    gboolean skip;			/* the rest of this field is left out */
    gboolean changed;			/* text of the block was left out */
    gboolean altered;			/* the copy differs, nothing left out */
    gsize   bytes;			/* kept, in all blocks so far */
    guint   fields;			/* fields begun, in all blocks so far */
    char    name[FIELD_NAME_MAX];	/* of the current field, while in_name */
    guint   name_len;
    gboolean in_name;			/* before the field's ':' */
    gboolean address;			/* an address field */
    gboolean params;			/* a field of parameters */
    gboolean quoted, escaped;		/* in either's "..." */
    guint   depth;			/* groups open in the address field */
    guint   items;			/* address separators, in all blocks */
    guint   field_params;		/* ';' in the parameter field */
    guint   all_params;			/* ';' in parameter fields, in all blocks */
    gboolean in_ct;			/* in a Content-Type field */
    GString *ct;			/* the last one's value as copied, unfolded */
};

/* is_field - the field's name (GMime allows blanks before the ':') is name */
static gboolean is_field(const char *field, gsize len, const char *name)
{
    while (len > 0 && (field[len - 1] == ' ' || field[len - 1] == '\t'))
	len--;
    return len == strlen(name) && g_ascii_strncasecmp(field, name, len) == 0;
}

static gboolean is_address_field(const char *name, gsize len)
{
    static const char *const names[] = {"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"Resent-From", "Resent-Sender", "Resent-Reply-To", "Resent-To", "Resent-Cc",
    "Resent-Bcc"};

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
	if (is_field(name, len, names[i]))
	    return TRUE;
    return FALSE;
}

/* in_quotes - account for c in a "quoted string"; TRUE when it is part of one */
static gboolean in_quotes(struct hcopy *hc, char c)
{
    if (hc->escaped) {
	hc->escaped = FALSE;
	return TRUE;
    }
    if (hc->quoted) {
	hc->escaped = c == '\\';
	hc->quoted = c != '"';
	return TRUE;
    }
    hc->quoted = c == '"';
    return hc->quoted;
}

/*
 * list_byte - what of an address or parameter field's byte c the copy
 * keeps: c, a space for a ':' too deep, or -1 when the field is to end
 * here.
 */
static int list_byte(struct hcopy *hc, char c)
{
    if (in_quotes(hc, c))
	return (unsigned char) c;
    if (hc->params) {
	if (c == ';' && (++hc->field_params > PARAMS_FIELD_MAX || ++hc->all_params > PARAMS_MAX))
	    return -1;
	return (unsigned char) c;
    }
    if (c != ',' && c != ':' && c != ';')
	return (unsigned char) c;
    if (++hc->items > ADDRESS_ITEMS_MAX)
	return -1;
    if (c == ';' && hc->depth > 0)
	hc->depth--;
    if (c == ':' && ++hc->depth > GROUP_DEPTH_MAX) {
	hc->depth--;
	hc->altered = TRUE;
	return ' ';
    }
    return c;
}

static void hcopy_begin(struct hcopy *hc)
{
    if (hc->copy == NULL)
	hc->copy = g_byte_array_new();
    if (hc->ct == NULL)
	hc->ct = g_string_new(NULL);
    g_byte_array_set_size(hc->copy, 0);
    g_string_truncate(hc->ct, 0);
    hc->in_ct = FALSE;
    hc->line_at = 0;
    hc->bol = TRUE;
    hc->skip = FALSE;
    hc->changed = FALSE;
    hc->altered = FALSE;
}

/* hcopy_step - copy one byte of a header block, or leave it out */
static void hcopy_step(struct hcopy *hc, char c)
{
    gboolean bol = hc->bol, in_value;

    /* A CR that begins a line is left out: GMime takes LF alone as a line end. */
    if (bol && c == '\r')
	return;
    hc->bol = c == '\n';
    if (bol) {
	hc->line_at = hc->copy->len;
	if (c == '\n') {			/* an empty line: it has a meaning */
	    g_byte_array_append(hc->copy, (const guint8 *) "\n", 1);
	    hc->bytes++;
	    hc->skip = FALSE;
	    return;
	}
	if (c != ' ' && c != '\t') {	/* a field begins */
	    hc->field_len = 0;
	    hc->skip = ++hc->fields > HEADER_FIELDS_MAX;
	    hc->name_len = 0;
	    hc->in_name = TRUE;
	    hc->address = hc->params = hc->quoted = hc->escaped = hc->in_ct = FALSE;
	    hc->depth = hc->field_params = 0;
	}
    }
    in_value = !hc->in_name;
    if (hc->in_name) {
	if (c == ':') {
	    hc->in_name = FALSE;
	    hc->address = is_address_field(hc->name, hc->name_len);
	    hc->in_ct = is_field(hc->name, hc->name_len, "Content-Type");
	    hc->params = hc->in_ct || is_field(hc->name, hc->name_len, "Content-Disposition");
	    if (hc->in_ct)
		g_string_truncate(hc->ct, 0);
	} else if (hc->name_len < sizeof(hc->name)) {
	    hc->name[hc->name_len++] = c;
	}
    } else if ((hc->address || hc->params) && !hc->skip) {
	int     kept = list_byte(hc, c);

	hc->skip = kept < 0;		/* the field ends before c */
	c = (char) kept;
    }
    if (!hc->skip && (++hc->field_len > HEADER_FIELD_MAX || hc->bytes + 1 >= HEADER_BYTES_MAX))
	hc->skip = TRUE;
    if (hc->skip) {
	/* Cut here: what was kept of the line ends it (an empty line would end the block). */
	if (hc->copy->len > hc->line_at && hc->copy->data[hc->copy->len - 1] != '\n') {
	    g_byte_array_append(hc->copy, (const guint8 *) "\n", 1);
	    hc->bytes++;
	}
	hc->changed = TRUE;
	return;
    }
    g_byte_array_append(hc->copy, (const guint8 *) &c, 1);
    hc->bytes++;
    if (in_value && hc->in_ct && c != '\r' && c != '\n')
	g_string_append_c(hc->ct, c);
}

/*
 * XXX glibc loads a charset's converter (a gconv module, with dlopen())
 * at an iconv_open() when no converter of that charset is open, and
 * unloads it at the iconv_close(); GMime opens and closes one for each
 * encoded word it decodes. Words that each name another charset than the
 * one before cost some 40 us apiece: 1.5 s for 600 KB of header. So the
 * pre-scan opens a converter for each charset an encoded word names and
 * keeps it open for the life of the process: its module stays loaded,
 * and GMime's opens find it. The modules of every charset glibc has take
 * some 8 MB; at most CHARSETS_PINNED names are kept (names that do not
 * open too, so that they are not tried again).
 */
#define CHARSETS_PINNED	1024
#define CHARSET_NAME_MAX 40

static void charset_pin(const char *name)
{
    static GMutex lock;
    static GHashTable *pinned;		/* name -> iconv_t, maybe (iconv_t) -1 */
    /*
     * The charset the word is read as where envelope_header.c relabels it
     * (Shift_JIS as CP932); GMime decodes the word under its own label
     * too (the parser, other readers of the field), so both are kept.
     */
    const char *as = charset_reading(name, strlen(name));

    g_mutex_lock(&lock);
    if (pinned == NULL)
	pinned = g_hash_table_new(g_str_hash, g_str_equal);
    if (g_hash_table_size(pinned) < CHARSETS_PINNED && !g_hash_table_contains(pinned, name)) {
	g_hash_table_insert(pinned, g_strdup(name), g_mime_iconv_open("UTF-8", name));
	if (as && !g_hash_table_contains(pinned, as))
	    g_hash_table_insert(pinned, g_strdup(as), g_mime_iconv_open("UTF-8", as));
    }
    g_mutex_unlock(&lock);
}

struct ew_state {
    char    p1, p2;			/* the two bytes before this one */
    gboolean open;			/* an "=?" has no "?=" yet */
    gboolean needs;			/* an "=?" came while one was open */
    gboolean in_charset;		/* in the "charset" of "=?charset?" */
    char    charset[CHARSET_NAME_MAX + 1];
    guint   charset_len;
};

static void ew_step(struct ew_state *ew, char c)
{
    char    b = c;

    if (ew->p1 == '?' && c == '=') {
	ew->open = FALSE;
	c = 0;				/* "?=" ends a word; its '=' starts none */
    } else if (ew->p2 == '=' && ew->p1 == '?') {
	/* "=?" followed by anything but '=' ("=?=" is a padded word's end) */
	if (ew->open)
	    ew->needs = TRUE;
	ew->open = TRUE;
	ew->in_charset = TRUE;
	ew->charset_len = 0;
    }
    if (ew->in_charset) {
	if ((b == '?' || b == '*') && ew->charset_len > 0) {	/* "*" starts a language */
	    ew->charset[ew->charset_len] = 0;
	    charset_pin(ew->charset);
	    ew->in_charset = FALSE;
	} else if ((g_ascii_isalnum(b) || strchr("-_.:", b)) && b != 0
		   && ew->charset_len < CHARSET_NAME_MAX) {
	    ew->charset[ew->charset_len++] = b;
	} else {
	    ew->in_charset = FALSE;
	}
    }
    ew->p2 = ew->p1;
    ew->p1 = c;
}

/*
 * defuse_encoded_words - make every "=?" that no "?=" follows before the
 * next "=?" (or the end) something else, in place, the rule ew_step()
 * detects; lines starting with "--" (boundaries) are left as they are.
 * Linear: one pass from the end.
 */
static void defuse_encoded_words(char *text, gsize len)
{
    gboolean closed = FALSE;		/* a "?=" follows, before the next "=?" */
    gsize   end = len;

    while (end > 0) {
	gsize   bol = end;

	while (bol > 0 && text[bol - 1] != '\n')
	    bol--;
	if (!(end - bol >= 2 && text[bol] == '-' && text[bol + 1] == '-')) {
	    for (gsize i = end; i-- > bol + 1;) {
		if (text[i - 1] == '?' && text[i] == '=') {
		    closed = TRUE;
		    i--;		/* "...==?=" ends a word; its '?' starts none */
		} else if (text[i - 1] == '=' && text[i] == '?') {
		    if (!closed)
			text[i] = '_';
		    closed = FALSE;
		}
	    }
	}
	end = bol > 0 ? bol - 1 : 0;	/* before the line's '\n' */
    }
}

/*
 * add_block - the block from start to end is to be read from the copy,
 * defused; the line that ended the block (the copy's last) is not part
 * of it.
 */
static void add_block(GArray *blocks, gint64 start, gint64 end, struct hcopy *hc)
{
    struct block b = {start, end, g_steal_pointer(&hc->copy)};

    hc->bytes -= b.copy->len - hc->line_at;
    g_byte_array_set_size(b.copy, hc->line_at);
    defuse_encoded_words((char *) b.copy->data, b.copy->len);
    g_array_append_val(blocks, b);
}

/*
 * A multipart's prologue (before its first boundary; all of its content
 * when it has no boundary, or one its content does not use) and epilogue
 * (after its last) are held by GMime in memory, whole: 50 MB of either
 * took 114 MB. The parser sees FILLER_MAX bytes of them in all, whole
 * lines; the lines past that are a block read as nothing, up to the next
 * line that is not filler (a boundary, the end). mime_repair.c finds the
 * parts of a multipart without a usable boundary in what was kept.
 */
#define FILLER_MAX	(2 * 1024 * 1024)

struct filler {
    gsize   kept;			/* filler bytes the parser sees */
    gint64  drop_from;			/* where the lines being dropped began, or -1 */
    gboolean dropped;
};

/* filler_line - account for the line [start, end) that scan_line() read */
static void filler_line(struct filler *f, const struct scan *s, gint64 start, gint64 end,
			GArray *blocks)
{
    if (s->line_filler && (f->drop_from >= 0 || f->kept + (gsize) (end - start) > FILLER_MAX)) {
	if (f->drop_from < 0)
	    f->drop_from = start;
	f->kept = FILLER_MAX;		/* later filler goes too */
	f->dropped = TRUE;
	return;
    }
    if (s->line_filler)
	f->kept += (gsize) (end - start);
    if (f->drop_from >= 0) {
	struct block b = {f->drop_from, start, g_byte_array_new()};

	g_array_append_val(blocks, b);
	f->drop_from = -1;
    }
}

/*
 * scan_limit - the offset where the parser must stop, or -1; *blocks gets
 * the header blocks to read from copies and the filler to leave out
 * (struct block, offsets from the start), *dropped whether the copies
 * left out header text, *filler_cut whether filler was left out.
 */
static gint64 scan_limit(GMimeStream *stream, GMimeParserOptions *opts, guint max_parts,
			 guint max_depth, const char **why, GArray *blocks, gboolean *dropped,
			 gboolean *filler_cut)
{
    struct filler fl = {0, -1, FALSE};
    struct scan s = {0};
    struct scan_level top = {NULL, 0, FALSE};
    struct ew_state ew = {0};
    struct hcopy hc = {0};
    char    buf[READ_PIECE];
    char    line[SCAN_LINE];
    gsize   line_len = 0;
    gint64  offset = 0, line_start = 0, cut = -1, block_start = 0;
    gboolean in_block = TRUE;
    gssize  n;

    s.levels = g_array_new(FALSE, FALSE, sizeof(struct scan_level));
    s.opts = opts;
    g_array_append_val(s.levels, top);
    s.in_header = TRUE;
    hcopy_begin(&hc);
    s.ct = hc.ct;
    while (cut < 0 && (n = g_mime_stream_read(stream, buf, sizeof(buf))) > 0) {
	for (gssize i = 0; i < n && cut < 0; i++) {
	    if (in_block) {
		ew_step(&ew, buf[i]);
		hcopy_step(&hc, buf[i]);
	    }
	    if (line_len < sizeof(line))
		line[line_len++] = buf[i];
	    if (buf[i] != '\n')
		continue;
	    if (!scan_line(&s, line, line_len, max_parts, max_depth, why))
		cut = line_start;
	    else
		filler_line(&fl, &s, line_start, offset + i + 1, blocks);
	    line_len = 0;
	    if (in_block && !s.in_header) {	/* a header block ended with this line */
		in_block = FALSE;
		if ((ew.needs || hc.changed || hc.altered) && cut < 0) {
		    *dropped = *dropped || hc.changed;
		    add_block(blocks, block_start, line_start, &hc);
		}
	    }
	    line_start = offset + i + 1;
	    if (!in_block && s.in_header) {	/* one starts with the next line */
		in_block = TRUE;
		block_start = line_start;
		memset(&ew, 0, sizeof(ew));
		hcopy_begin(&hc);
	    }
	}
	offset += n;
    }
    if (cut < 0 && line_len > 0) {
	if (!scan_line(&s, line, line_len, max_parts, max_depth, why))
	    cut = line_start;
	else
	    filler_line(&fl, &s, line_start, offset, blocks);
    }
    if (fl.drop_from >= 0) {		/* filler to the end, or to the cut */
	struct block b = {fl.drop_from, cut >= 0 ? cut : offset, g_byte_array_new()};

	if (b.end > b.start)
	    g_array_append_val(blocks, b);
	else
	    g_byte_array_free(b.copy, TRUE);
    }
    *filler_cut = fl.dropped;
    /* A header block without its end: GMime reads it to the end. */
    if (cut < 0 && in_block && (ew.needs || hc.changed || hc.altered)) {
	*dropped = *dropped || hc.changed;
	hc.line_at = hc.copy->len;
	add_block(blocks, block_start, offset, &hc);
    }
    if (hc.copy)
	g_byte_array_free(hc.copy, TRUE);
    scan_pop_to(&s, 0);
    g_array_free(s.levels, TRUE);
    g_string_free(hc.ct, TRUE);
    return cut;
}

/*
 * defused_stream - stream from start to end, with the blocks read from
 * their copies. Newly referenced; it takes the copies.
 */
static GMimeStream *defused_stream(GMimeStream *stream, gint64 start, gint64 end, GArray *blocks)
{
    GMimeStream *cat;
    gint64  pos = start;

    if (blocks->len == 0)
	return g_mime_stream_substream(stream, start, end);
    cat = g_mime_stream_cat_new();
    for (guint i = 0; i < blocks->len; i++) {
	struct block *b = &g_array_index(blocks, struct block, i);
	gint64  from = start + b->start;
	GMimeStream *part;

	if (from >= end)
	    break;
	if (from > pos) {
	    part = g_mime_stream_substream(stream, pos, from);
	    g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), part);
	    g_object_unref(part);
	}
	if (b->copy->len == 0) {		/* filler left out: nothing instead */
	    g_byte_array_free(g_steal_pointer(&b->copy), TRUE);
	} else {				/* the stream owns the copy */
	    part = g_mime_stream_mem_new_with_byte_array(g_steal_pointer(&b->copy));
	    g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), part);
	    g_object_unref(part);
	}
	pos = MIN(start + b->end, end);
    }
    if (pos < end) {
	GMimeStream *part = g_mime_stream_substream(stream, pos, end);

	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), part);
	g_object_unref(part);
    }
    return cat;
}

GMimeMessage *mime_parse_limited(GMimeStream *stream, GMimeParserOptions *opts,
				 guint max_parts, guint max_depth, struct mime_cut *cut)
{
    gint64  start = g_mime_stream_tell(stream);
    gint64  limit, end;
    const char *why = NULL;
    GArray *blocks = g_array_new(FALSE, FALSE, sizeof(struct block));
    GMimeStream *seen;
    GMimeParser *parser;
    GMimeMessage *msg;

    cut->cut = FALSE;
    cut->offset = -1;
    cut->why = NULL;
    cut->header_cut = FALSE;
    cut->filler_cut = FALSE;
    cut->repaired = NULL;
    if (start < 0)
	start = 0;
    limit = scan_limit(stream, opts, max_parts, max_depth, &why, blocks, &cut->header_cut,
		       &cut->filler_cut);
    end = g_mime_stream_tell(stream);
    if (limit >= 0) {
	cut->cut = TRUE;
	cut->offset = limit;
	cut->why = why;
	end = start + limit;
    }
    seen = defused_stream(stream, start, end, blocks);
    for (guint i = 0; i < blocks->len; i++)	/* those past the end */
	if (g_array_index(blocks, struct block, i).copy)
	    g_byte_array_free(g_array_index(blocks, struct block, i).copy, TRUE);
    g_array_free(blocks, TRUE);
    parser = g_mime_parser_new_with_stream(seen);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    msg = g_mime_parser_construct_message(parser, opts);
    g_object_unref(parser);
    g_object_unref(seen);
    return msg;
}

GMimeMessage *mime_parse(GMimeStream *stream, GMimeParserOptions *opts, guint max_parts,
			 guint max_depth, struct mime_cut *cut)
{
    GMimeMessage *msg = mime_parse_limited(stream, opts, max_parts, max_depth, cut);

    cut->repaired = mime_repair(msg, opts, max_parts, max_depth, cut);
    return msg;
}
