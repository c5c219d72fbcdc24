/*
 * NAME
 *	mime - MIME walking and decoding for the envelope
 * SYNOPSIS
 *	char   *mime_clean_text(s, len, max, one_line, &cut)
 *	json_t *mime_json_line(s, max)
 *	GMimeMessage *mime_parse(stream, opts, max_parts, max_depth, &cut)
 *	void	mime_body_read(msg, &limits, &body)
 *	void	mime_body_clear(&body)
 *	GPtrArray *mime_attachment_contents(msg, attachments)
 * DESCRIPTION
 *	This module is what common/envelope.c knows about MIME bodies: which
 *	part is the text, how a part becomes UTF-8 text, which parts are
 *	attachments and what they are called. Everything here is linear in
 *	the size of the message and bounded in memory by the limits given,
 *	whatever the sender wrote.
 *
 *	mime_clean_text() returns text fit for the envelope: valid UTF-8
 *	(undecodable bytes become U+FFFD), LF line ends, no control
 *	characters but tab and newline (one_line: neither), no C1 controls
 *	(U+0080-U+009F, which terminals take as commands), at most max bytes
 *	cut at a character boundary. Newly allocated (g_free). *cut, when
 *	given, tells whether text was lost. mime_json_line() is the one-line
 *	clean text as a new JSON string (JSON null for NULL).
 *
 *	mime_parse() parses a message from stream (from its current
 *	position) with GMime, after a linear pre-scan that stops the parser
 *	at the boundary line of part max_parts + 1, or where the nesting of
 *	multiparts and attached messages exceeds max_depth: GMime's parser
 *	has no such limits, and a million empty parts cost it a gigabyte.
 *	cut says whether and where that happened. The header text the
 *	parser sees is bounded too (a field, all fields, addresses,
 *	parameters: see "Header blocks" below); cut->header_cut says when
 *	some was left out. It returns a new reference, or NULL when nothing
 *	could be parsed.
 *
 *	mime_body_read() fills body from a parsed message: the text
 *	(text/plain, further inline text/plain parts appended, else text made
 *	from the HTML; decoding stops at limits->max_text), the attachments
 *	(JSON, each with its "part" index), and whether the message is
 *	encrypted. mime_body_clear() frees what it holds.
 *
 *	mime_attachment_contents() returns the decoded contents of the parts
 *	listed in attachments (the envelope's list), in the list's order,
 *	found by their "part" index: a GBytes per entry, NULL where the part
 *	is not (or no longer) in msg. Free with g_ptr_array_unref().
 */
#include <string.h>

#include "html.h"
#include "mime.h"

#define MAX_FILENAME	255
#define MAX_WALK_DEPTH	(MIME_DEPTH_CEILING + 10)
#define SCAN_LINE	1024		/* bytes of a line the pre-scan looks at */
#define READ_PIECE	16384
#define HEADER_FIELD_MAX (100 * 1024)	/* bytes of a header field the parser sees */

/* ---------------------------------------------------------------- */
/*	Text hygiene							    */
/* ---------------------------------------------------------------- */

char   *mime_clean_text(const char *s, gssize len, gsize max, int one_line, gboolean *cut)
{
    g_autofree char *valid = NULL;
    GString *out;
    const char *end;

    if (cut)
	*cut = FALSE;
    if (s == NULL)
	return g_strdup("");
    if (len < 0)
	len = (gssize) strlen(s);
    valid = g_utf8_make_valid(s, len);
    out = g_string_sized_new(MIN((gsize) len, max) + 1);
    for (const char *p = valid; *p; p++) {
	unsigned char c = *p;

	if (c == '\r') {
	    if (p[1] == '\n')
		continue;
	    c = '\n';
	}
	/* C1 controls are U+0080-U+009F: 0xC2 0x80-0x9F in valid UTF-8. */
	if (c == 0xC2 && (unsigned char) p[1] >= 0x80 && (unsigned char) p[1] <= 0x9F) {
	    g_string_append_c(out, ' ');
	    p++;
	    continue;
	}
	if (c < 0x20 && c != '\t' && c != '\n')
	    c = ' ';
	if (c == 0x7F)
	    c = ' ';
	if (one_line && (c == '\n' || c == '\t'))
	    c = ' ';
	g_string_append_c(out, (char) c);
    }
    if (out->len > max) {
	end = g_utf8_find_prev_char(out->str, out->str + max + 1);
	while (end && end > out->str && (gsize) (end - out->str) > max)
	    end = g_utf8_find_prev_char(out->str, end);
	g_string_truncate(out, end ? (gsize) (end - out->str) : 0);
	if (cut)
	    *cut = TRUE;
    }
    if (one_line)
	g_strstrip(out->str), g_string_set_size(out, strlen(out->str));
    return g_string_free(out, FALSE);
}

json_t *mime_json_line(const char *s, gsize max)
{
    char   *t;
    json_t *j;

    if (s == NULL)
	return json_null();
    t = mime_clean_text(s, -1, max, 1, NULL);
    j = json_string(t);
    g_free(t);
    return j;
}

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
    if (g_mime_content_type_is_type(ct, "multipart", "*"))
	b = g_mime_content_type_get_parameter(ct, "boundary");
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
		g_string_truncate(s->ct, 0);
	    }
	    return TRUE;
	}
    }
    if (!s->in_header || len > 0)
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

    g_mutex_lock(&lock);
    if (pinned == NULL)
	pinned = g_hash_table_new(g_str_hash, g_str_equal);
    if (g_hash_table_size(pinned) < CHARSETS_PINNED && !g_hash_table_contains(pinned, name))
	g_hash_table_insert(pinned, g_strdup(name), g_mime_iconv_open("UTF-8", name));
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
 * scan_limit - the offset where the parser must stop, or -1; *blocks gets
 * the header blocks to read from copies (struct block, offsets from the
 * start), *dropped whether the copies left out header text.
 */
static gint64 scan_limit(GMimeStream *stream, GMimeParserOptions *opts, guint max_parts,
			 guint max_depth, const char **why, GArray *blocks, gboolean *dropped)
{
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
    if (cut < 0 && line_len > 0 && !scan_line(&s, line, line_len, max_parts, max_depth, why))
	cut = line_start;
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
	/* The stream owns the copy. */
	part = g_mime_stream_mem_new_with_byte_array(g_steal_pointer(&b->copy));
	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), part);
	g_object_unref(part);
	pos = MIN(start + b->end, end);
    }
    if (pos < end) {
	GMimeStream *part = g_mime_stream_substream(stream, pos, end);

	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), part);
	g_object_unref(part);
    }
    return cat;
}

GMimeMessage *mime_parse(GMimeStream *stream, GMimeParserOptions *opts, guint max_parts,
			 guint max_depth, struct mime_cut *cut)
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
    if (start < 0)
	start = 0;
    limit = scan_limit(stream, opts, max_parts, max_depth, &why, blocks, &cut->header_cut);
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

/* ---------------------------------------------------------------- */
/*	Which part is the text						    */
/* ---------------------------------------------------------------- */

static gboolean is_attachment(GMimeObject *obj)
{
    const char *disp = g_mime_object_get_disposition(obj);

    if (disp && g_ascii_strcasecmp(disp, "attachment") == 0)
	return TRUE;
    return GMIME_IS_PART(obj) && g_mime_part_get_filename(GMIME_PART(obj)) != NULL;
}

static gboolean is_text(GMimeObject *obj, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    return GMIME_IS_TEXT_PART(obj) && g_mime_content_type_is_type(ct, "text", subtype)
	&& !is_attachment(obj);
}

/* pick_body - the part that is the message's text, or NULL */
static GMimeObject *pick_body(GMimeObject *obj, int depth)
{
    if (obj == NULL || depth > MAX_WALK_DEPTH)
	return NULL;
    if (GMIME_IS_MULTIPART_ENCRYPTED(obj))
	return NULL;				/* nothing readable inside */
    if (GMIME_IS_MULTIPART(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	int     n = g_mime_multipart_get_count(mp);

	if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
	    /* Prefer plain text; otherwise the HTML (maybe in a related). */
	    for (int i = 0; i < n; i++)
		if (is_text(g_mime_multipart_get_part(mp, i), "plain"))
		    return g_mime_multipart_get_part(mp, i);
	    for (int i = n - 1; i >= 0; i--) {
		GMimeObject *b = pick_body(g_mime_multipart_get_part(mp, i), depth + 1);

		if (b)
		    return b;
	    }
	    return NULL;
	}
	/* multipart/signed: the signed part comes first, the signature after. */
	for (int i = 0; i < n; i++) {
	    GMimeObject *b = pick_body(g_mime_multipart_get_part(mp, i), depth + 1);

	    if (b)
		return b;
	}
	return NULL;
    }
    if (is_text(obj, "plain") || is_text(obj, "html"))
	return obj;
    return NULL;
}

/* ---------------------------------------------------------------- */
/*	Text of a part, bounded						    */
/* ---------------------------------------------------------------- */

/*
 * part_stream - the decoded content of a part as a stream to read from
 * (transfer encoding undone, converted from its declared charset to
 * UTF-8), or NULL. Reading pulls the content through GMime's filters a
 * piece at a time, so the caller decides how much is decoded.
 */
static GMimeStream *part_stream(GMimeObject *obj, gboolean *declared)
{
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
    const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
    GMimeStream *src = content ? g_mime_data_wrapper_get_stream(content) : NULL;
    GMimeStream *filtered;
    GMimeFilter *f;

    *declared = FALSE;
    if (src == NULL)
	return NULL;
    g_mime_stream_reset(src);
    filtered = g_mime_stream_filter_new(src);
    switch (g_mime_data_wrapper_get_encoding(content)) {
    case GMIME_CONTENT_ENCODING_BASE64:
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
    case GMIME_CONTENT_ENCODING_UUENCODE:
	f = g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(content), FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
	g_object_unref(f);
	break;
    default:
	break;
    }
    if (charset && (f = g_mime_filter_charset_new(charset, "utf-8")) != NULL) {
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
	g_object_unref(f);
	*declared = TRUE;
    }
    return filtered;
}

/* drop_nul - remove NUL bytes (they would end the text early); new length */
static gsize drop_nul(char *buf, gsize len)
{
    gsize   o = 0;

    for (gsize i = 0; i < len; i++)
	if (buf[i] != 0)
	    buf[o++] = buf[i];
    return o;
}

/*
 * part_text_append - append at most *room bytes of a text part's text in
 * UTF-8 to out, and take them from *room; TRUE when text was left over.
 * 8-bit text with no declared charset is read as windows-1252 (as header
 * fields are) when it is not UTF-8.
 */
static gboolean part_text_append(GMimeObject *obj, GString *out, gsize *room)
{
    gboolean declared;
    GMimeStream *in = part_stream(obj, &declared);
    GString *raw;
    char    buf[READ_PIECE];
    gssize  n;
    gboolean more = FALSE;

    if (in == NULL)
	return FALSE;
    raw = g_string_new(NULL);
    while ((n = g_mime_stream_read(in, buf, sizeof(buf))) > 0) {
	gsize   len = drop_nul(buf, (gsize) n);

	if (raw->len + len > *room) {
	    g_string_append_len(raw, buf, (gssize) (*room - raw->len));
	    more = TRUE;
	    break;
	}
	g_string_append_len(raw, buf, (gssize) len);
    }
    g_object_unref(in);
    *room -= raw->len;
    {
	const char *bad = NULL;

	/* A character cut at the end of what was read is not a wrong charset. */
	if (!g_utf8_validate(raw->str, (gssize) raw->len, &bad) && more
	    && raw->len - (gsize) (bad - raw->str) < 4
	    && g_utf8_get_char_validated(bad, (gssize) (raw->str + raw->len - bad)) == (gunichar) - 2)
	    g_string_truncate(raw, (gsize) (bad - raw->str));
    }
    if (!declared && !g_utf8_validate(raw->str, (gssize) raw->len, NULL)) {
	g_autofree char *text = g_convert(raw->str, (gssize) raw->len, "UTF-8", "WINDOWS-1252",
					  NULL, NULL, NULL);

	if (text) {
	    g_string_append(out, text);
	    g_string_free(raw, TRUE);
	    return more;
	}
    }
    g_string_append_len(out, raw->str, (gssize) raw->len);
    g_string_free(raw, TRUE);
    return more;
}

/*
 * html_part_text - the text of an HTML part, at most max bytes; the HTML
 * is decoded and handed to the HTML parser a piece at a time, and
 * reading stops when the text is full. Undeclared 8-bit HTML switches
 * to windows-1252 from the first piece that is not UTF-8.
 */
static char *html_part_text(GMimeObject *obj, gsize max, gboolean *more)
{
    gboolean declared, cp1252 = FALSE;
    GMimeStream *in = part_stream(obj, &declared);
    struct html_text *h = html_text_new(max);
    char    buf[READ_PIECE + 4];
    gsize   carry = 0;
    gssize  n;

    *more = FALSE;
    while (in && (n = g_mime_stream_read(in, buf + carry, READ_PIECE)) > 0) {
	gsize   len = drop_nul(buf, carry + (gsize) n);
	const char *bad = NULL;
	gboolean go;

	carry = 0;
	if (!declared && !cp1252 && !g_utf8_validate(buf, (gssize) len, &bad)) {
	    /* Keep an incomplete character at the end for the next piece. */
	    if (len - (gsize) (bad - buf) < 4
		&& g_utf8_get_char_validated(bad, (gssize) (buf + len - bad)) == (gunichar) - 2)
		carry = len - (gsize) (bad - buf);
	    else
		cp1252 = TRUE;
	}
	if (cp1252) {
	    g_autofree char *utf8 = g_convert(buf, (gssize) len, "UTF-8", "WINDOWS-1252",
					      NULL, NULL, NULL);

	    go = utf8 ? html_text_feed(h, utf8, strlen(utf8)) : html_text_feed(h, buf, len);
	} else {
	    go = html_text_feed(h, buf, len - carry);
	    memmove(buf, buf + len - carry, carry);
	}
	if (!go) {
	    *more = TRUE;
	    break;
	}
    }
    if (in)
	g_object_unref(in);
    return html_text_finish(h);
}

/* ---------------------------------------------------------------- */
/*	Attachments							    */
/* ---------------------------------------------------------------- */

static const char *sensible_extension(GMimeContentType *ct)
{
    static const char *const map[][2] = {
	{"text/plain", ".txt"}, {"text/html", ".html"}, {"text/calendar", ".ics"},
	{"text/csv", ".csv"}, {"application/pdf", ".pdf"}, {"image/png", ".png"},
	{"image/jpeg", ".jpg"}, {"image/jpg", ".jpg"}, {"image/gif", ".gif"},
	{"message/delivery-status", ".txt"}, {"text/rfc822-headers", ".txt"},
	{"message/disposition-notification", ".txt"}, {"application/zip", ".zip"},
	{"application/pgp-signature", ".asc"}, {"application/pkcs7-signature", ".p7s"},
	{"application/x-pkcs7-signature", ".p7s"}, {"application/pgp-encrypted", ".txt"},
	{"application/pkcs7-mime", ".p7m"}, {"application/x-pkcs7-mime", ".p7m"},
    };
    const char *type = g_mime_content_type_get_media_type(ct);
    const char *sub = g_mime_content_type_get_media_subtype(ct);

    for (gsize i = 0; i < G_N_ELEMENTS(map); i++) {
	const char *slash = strchr(map[i][0], '/');

	if (g_ascii_strncasecmp(map[i][0], type, (gsize) (slash - map[i][0])) == 0
	    && strlen(type) == (gsize) (slash - map[i][0])
	    && g_ascii_strcasecmp(slash + 1, sub) == 0)
	    return map[i][1];
    }
    return ".bin";
}

/*
 * described_name - a file name from Content-Description (Postfix bounces
 * say "Delivery report", "Undelivered Message"), or NULL. Newly allocated.
 */
static char *described_name(GMimeObject *obj, const char *ext)
{
    const char *desc = g_mime_object_get_header(obj, "Content-Description");
    char   *s;

    if (desc == NULL)
	return NULL;
    s = mime_clean_text(desc, -1, MAX_FILENAME - strlen(ext), 1, NULL);
    g_strdelimit(s, "/\\:*?\"<>|", '_');
    if (*s == 0) {
	g_free(s);
	return NULL;
    }
    if (strlen(s) >= strlen(ext)
	&& g_ascii_strcasecmp(s + strlen(s) - strlen(ext), ext) == 0)
	return s;
    {
	char   *named = g_strconcat(s, ext, NULL);

	g_free(s);
	return named;
    }
}

/* attachment_name - the decoded file name, or a sensible one made up */
static char *attachment_name(GMimeObject *obj, int index)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *name = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) : NULL;
    char   *clean;

    if (name == NULL)			/* message/rfc822 is not a GMimePart */
	name = g_mime_object_get_content_disposition_parameter(obj, "filename");
    if (name == NULL)
	name = g_mime_content_type_get_parameter(ct, "name");
    if (name && *name) {
	clean = mime_clean_text(name, -1, MAX_FILENAME, 1, NULL);
	if (*clean)
	    return clean;
	g_free(clean);
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
	GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
	const char *subject = inner ? g_mime_message_get_subject(inner) : NULL;

	if (subject && *subject) {
	    g_autofree char *s = mime_clean_text(subject, -1, MAX_FILENAME - 4, 1, NULL);

	    g_strdelimit(s, "/\\", '_');
	    if (*s)
		return g_strconcat(s, ".eml", NULL);
	}
	if ((clean = described_name(obj, ".eml")) != NULL)
	    return clean;
	return g_strdup("message.eml");
    }
    /* An unnamed image (an inline picture, mostly) is "image.png". */
    if (g_mime_content_type_is_type(ct, "image", "*")) {
	const char *ext = sensible_extension(ct);

	if (strcmp(ext, ".bin") == 0) {
	    g_autofree char *sub = g_ascii_strdown(g_mime_content_type_get_media_subtype(ct), 20);

	    g_strdelimit(sub, "/\\. ", '_');
	    return g_strconcat("image.", sub, NULL);
	}
	return g_strconcat("image", ext, NULL);
    }
    /* Otherwise the Content-ID's local part names it, as it names it in the HTML. */
    {
	const char *cid = g_mime_object_get_content_id(obj);

	if (cid && *cid) {
	    g_autofree char *local = g_strndup(cid, strcspn(cid, "@"));

	    clean = mime_clean_text(local, -1, MAX_FILENAME, 1, NULL);
	    g_strdelimit(clean, "/\\", '_');
	    if (*clean && strcmp(clean, ".") != 0 && strcmp(clean, "..") != 0)
		return clean;
	    g_free(clean);
	}
    }
    if ((clean = described_name(obj, sensible_extension(ct))) != NULL)
	return clean;
    return g_strdup_printf("attachment-%d%s", index, sensible_extension(ct));
}

/* write_content - the decoded content of a part (or an attached message) */
static gint64 write_content(GMimeObject *obj, GMimeStream *to)
{
    gint64  size = -1;

    if (GMIME_IS_PART(obj)) {
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

	if (w)
	    size = g_mime_data_wrapper_write_to_stream(w, to);
    } else {
	size = g_mime_object_write_to_stream(obj, NULL, to);
    }
    return size < 0 ? 0 : size;
}

static gint64 decoded_size(GMimeObject *obj)
{
    GMimeStream *null = g_mime_stream_null_new();
    gint64  size = write_content(obj, null);

    g_object_unref(null);
    return size;
}

/* encryption - "pgp" or "smime" for an encrypted part, else NULL */
static const char *encryption(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    if (GMIME_IS_MULTIPART_ENCRYPTED(obj) || g_mime_content_type_is_type(ct, "multipart", "encrypted")) {
	const char *proto = g_mime_content_type_get_parameter(ct, "protocol");

	return proto && (strstr(proto, "pkcs7") || strstr(proto, "PKCS7")) ? "smime" : "pgp";
    }
    if (g_mime_content_type_is_type(ct, "application", "pkcs7-mime")
	|| g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime")) {
	const char *type = g_mime_content_type_get_parameter(ct, "smime-type");

	/* signed-data is signed only; no smime-type: as good as enveloped. */
	if (type == NULL || g_ascii_strcasecmp(type, "enveloped-data") == 0
	    || g_ascii_strcasecmp(type, "authEnveloped-data") == 0)
	    return "smime";
    }
    if (g_mime_content_type_is_type(ct, "application", "pgp-encrypted"))
	return "pgp";
    return NULL;
}

struct walk_state {
    GMimeObject *body;
    GString *extra_text;		/* further inline text parts, or NULL */
    gsize   text_room;			/* bytes extra_text may still take */
    gboolean text_more;			/* text was left out */
    json_t *attachments;		/* listed, or NULL */
    guint   max_attachments;
    gboolean attachments_truncated;
    GHashTable *wanted;			/* part index -> position, or NULL */
    GPtrArray *contents;		/* GBytes per wanted position */
    const char *encrypted;
    int     index;
};

static void add_attachment(struct walk_state *ws, GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    if (ws->wanted) {
	gpointer pos;

	if (g_hash_table_lookup_extended(ws->wanted, GINT_TO_POINTER(ws->index), NULL, &pos)) {
	    GByteArray *bytes = g_byte_array_new();
	    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(bytes);

	    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	    write_content(obj, mem);
	    g_object_unref(mem);
	    g_ptr_array_index(ws->contents, GPOINTER_TO_UINT(pos)) =
		g_byte_array_free_to_bytes(bytes);
	}
	return;
    }
    if (json_array_size(ws->attachments) >= ws->max_attachments) {
	ws->attachments_truncated = TRUE;
	return;
    }

    g_autofree char *name = attachment_name(obj, ws->index);
    g_autofree char *type = g_mime_content_type_get_mime_type(ct);
    const char *cid = g_mime_object_get_content_id(obj);
    const char *disp = g_mime_object_get_disposition(obj);

    json_array_append_new(ws->attachments,
			  json_pack("{s:o,s:o,s:I,s:o,s:o,s:i}",
				    "filename", mime_json_line(name, MAX_FILENAME),
				    "content_type", mime_json_line(type, 255),
				    "size", (json_int_t) decoded_size(obj),
				    "content_id", cid ? mime_json_line(cid, 255) : json_null(),
				    "disposition", mime_json_line(disp ? disp : "attachment", 32),
				    "part", ws->index));
}

static void walk_parts(struct walk_state *ws, GMimeObject *obj, GMimeObject *parent, int depth)
{
    GMimeContentType *ct;
    GMimeContentType *pct = parent ? g_mime_object_get_content_type(parent) : NULL;

    if (obj == NULL || depth > MAX_WALK_DEPTH)
	return;
    if (ws->encrypted == NULL)
	ws->encrypted = encryption(obj);
    if (GMIME_IS_MULTIPART(obj)) {
	GMimeMultipart *mp = GMIME_MULTIPART(obj);

	for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
	    walk_parts(ws, g_mime_multipart_get_part(mp, i), obj, depth + 1);
	return;
    }
    if (obj == ws->body)
	return;
    ct = g_mime_object_get_content_type(obj);
    ws->index++;

    /* The other rendering of the body is not an attachment. */
    if (ws->body && pct && g_mime_content_type_is_type(pct, "multipart", "alternative")
	&& (is_text(obj, "html") || is_text(obj, "plain")))
	return;
    if (ws->body && GMIME_IS_TEXT_PART(obj) && !is_attachment(obj)
	&& g_mime_content_type_is_type(ct, "text", "plain")
	&& g_mime_content_type_is_type(g_mime_object_get_content_type(ws->body), "text", "plain")) {
	if (ws->extra_text && !ws->text_more && ws->text_room > 2) {
	    GString *t = g_string_new(NULL);

	    ws->text_room -= 2;
	    ws->text_more = part_text_append(obj, t, &ws->text_room);
	    if (t->len > 0) {
		g_string_append(ws->extra_text, "\n\n");
		g_string_append_len(ws->extra_text, t->str, (gssize) t->len);
	    } else {
		ws->text_room += 2;
	    }
	    g_string_free(t, TRUE);
	} else if (ws->extra_text) {
	    ws->text_more = TRUE;
	}
	return;
    }
    if (ws->body && pct && g_mime_content_type_is_type(pct, "multipart", "related")
	&& is_text(obj, "html"))
	return;
    add_attachment(ws, obj);
}

/* ---------------------------------------------------------------- */
/*	The body							    */
/* ---------------------------------------------------------------- */

void    mime_body_read(GMimeMessage *msg, const struct mime_limits *lim,
		       struct mime_body *body)
{
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    struct walk_state ws = {0};
    g_autofree char *text = NULL;
    gboolean more = FALSE;

    memset(body, 0, sizeof(*body));
    body->text_from = "none";
    ws.body = pick_body(top, 0);
    ws.attachments = json_array();
    ws.max_attachments = lim->max_attachments;
    /* A little more than max_text is read, so that the clean-up still has enough. */
    ws.text_room = lim->max_text + lim->max_text / 8 + 16;
    if (ws.body && is_text(ws.body, "plain")) {
	GString *t = g_string_new(NULL);

	more = part_text_append(ws.body, t, &ws.text_room);
	ws.extra_text = t;
	ws.text_more = more;
    }
    if (top && top != ws.body)
	walk_parts(&ws, top, NULL, 0);
    else if (top)
	ws.encrypted = encryption(top);
    if (ws.extra_text) {
	more = ws.text_more;
	text = g_string_free(ws.extra_text, FALSE);
	body->text_from = "plain";
    } else if (ws.body) {
	text = html_part_text(ws.body, lim->max_text + 1, &more);
	body->text_from = "html";
    }
    body->text = mime_clean_text(text, -1, lim->max_text, 0, &body->text_truncated);
    body->text_truncated = body->text_truncated || more;
    body->attachments = ws.attachments;
    body->attachments_truncated = ws.attachments_truncated;
    body->encrypted = ws.encrypted;
    /* Inline PGP: the text part holds the armoured message. */
    if (body->encrypted == NULL && strstr(body->text, "-----BEGIN PGP MESSAGE-----"))
	body->encrypted = "pgp";
}

void    mime_body_clear(struct mime_body *body)
{
    g_clear_pointer(&body->text, g_free);
    g_clear_pointer(&body->attachments, json_decref);
}

GPtrArray *mime_attachment_contents(GMimeMessage *msg, json_t *attachments)
{
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    struct walk_state ws = {0};
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    json_t *a;
    size_t  i;

    g_ptr_array_set_size(out, (guint) json_array_size(attachments));
    ws.wanted = g_hash_table_new(NULL, NULL);
    ws.contents = out;
    json_array_foreach(attachments, i, a) {
	json_int_t part = json_integer_value(json_object_get(a, "part"));

	if (part > 0 && part <= G_MAXINT)
	    g_hash_table_insert(ws.wanted, GINT_TO_POINTER((int) part), GUINT_TO_POINTER(i));
    }
    ws.body = pick_body(top, 0);
    if (top && top != ws.body)
	walk_parts(&ws, top, NULL, 0);
    g_hash_table_destroy(ws.wanted);
    return out;
}
