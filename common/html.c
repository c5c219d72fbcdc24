/*
 * NAME
 *	html - text from HTML mail bodies
 * SYNOPSIS
 *	struct html_text *html_text_new(max_out)
 *	gboolean html_text_feed(h, html, len)
 *	char   *html_text_finish(h)
 *	char   *html_to_text(html, len, max_out)
 * DESCRIPTION
 *	These functions turn UTF-8 HTML into its readable text with
 *	libxml2's error-tolerant HTML push parser (no network, no external
 *	entities): script, style, head and title are skipped, block elements
 *	and <br> end lines, list items start with "- ", links keep their
 *	target when it differs from the text, runs of white space collapse
 *	and blank lines are limited to one.
 *
 *	The HTML comes in pieces and is turned into text as it is parsed
 *	(SAX callbacks, no document tree): a 50 MB body costs the parser's
 *	buffers, not a tree of 50 MB of nodes, and parsing stops as soon as
 *	max_out bytes of text have been produced. A lexer in front of the
 *	parser keeps what libxml2 would hold without bound from it: comments
 *	(left out), tags over 16 KB (cut), elements nested over 1024 deep
 *	(the text stops there), runs of text without a tag (broken every
 *	16 KB), the content of script and style (left out).
 *
 *	html_text_new() starts a conversion (never NULL).
 *	html_text_feed() hands it the next piece of HTML; it returns FALSE
 *	once the text is full, and the caller should stop reading its input.
 *	html_text_finish() ends the conversion, frees h and returns the text:
 *	newly allocated UTF-8 (g_free), never NULL, at most max_out bytes
 *	(cut at a character boundary).
 *	html_to_text() does the three for HTML held in memory.
 */
#include <string.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>

#include "html.h"

#define MAX_HREF	2048		/* longer link targets are not shown */
#define MAX_LINK_TEXT	4096		/* link text kept to compare with its target */
#define FEED_PIECE	65536		/* the parser is given this much at a time */

/* ---------------------------------------------------------------- */
/*	What libxml2 would hold without bound				    */
/* ---------------------------------------------------------------- */

/*
 * XXX libxml2's push parser waits for the end of a comment, and of a tag,
 * before it parses either: a comment never closed, or a 10 MB attribute,
 * kept the rest of the body in its buffer and then in a copy (50 MB for
 * 10 MB). It also keeps a stack entry for each open element (a million
 * nested tags took 40 MB). So the HTML goes through this lexer first: it
 * leaves comments out (they have no text), ends a tag after TAG_MAX bytes
 * (closing an open quote and adding the '>'; the rest of the tag is left
 * out) and knows the content of script and style for what it is (a "<"
 * there starts no tag). And html_text_feed() stops the parser when elements
 * nest deeper than DEPTH_MAX. The lexer keeps no more than its state.
 */
#define TAG_MAX		16384
#define DEPTH_MAX	1024

/*
 * XXX libxml2's push parser also holds a run of text until the '<' after
 * it, and the content of script and style until their end tag: 40 MB of
 * words without a tag took 59 MB, and the text never filled up to stop
 * it. So the lexer breaks a run of text with an empty comment after
 * TEXT_RUN bytes where that splits neither an entity nor a character
 * (after white space, before '&'; after 2 x TEXT_RUN before any byte
 * that starts a character), and leaves the content of script and style
 * out (it has no text).
 */
#define TEXT_RUN	16384
#define RUN_BREAK	"<!---->"

enum lex_state {
    LEX_TEXT,				/* text */
    LEX_LT,				/* after '<' */
    LEX_BANG,				/* after "<!" */
    LEX_BANG_DASH,			/* after "<!-" */
    LEX_COMMENT,			/* after "<!--", left out */
    LEX_TAG,				/* in a tag */
    LEX_TAG_SKIP,			/* in a tag past TAG_MAX, left out */
    LEX_RAW,				/* in script or style */
};

struct lex {
    enum lex_state state;
    gsize   tag_len;
    char    quote;			/* the open quote in a tag, or 0 */
    char    name[8];			/* the tag's name, lower case */
    guint   name_len;			/* sizeof(name): too long to matter */
    gboolean name_done;
    gboolean end_tag;			/* "</..." */
    char    raw_end[10];		/* "</script" or "</style" in LEX_RAW */
    guint   raw_match;			/* bytes of raw_end seen */
    gsize   run;			/* bytes of text since the last tag or break */
    char    p1, p2;			/* the two bytes before, in a comment */
};

static void lex_tag_begin(struct lex *lx, char c, gsize len)
{
    lx->state = LEX_TAG;
    lx->tag_len = len;
    lx->quote = 0;
    lx->name_len = 0;
    lx->end_tag = c == '/';
    lx->name_done = !g_ascii_isalpha(c) && c != '/';
    if (g_ascii_isalpha(c))
	lx->name[lx->name_len++] = g_ascii_tolower(c);
}

/* lex_tag_end - after a tag's '>': text, or the content of script or style */
static void lex_tag_end(struct lex *lx)
{
    lx->state = LEX_TEXT;
    if (lx->end_tag || lx->name_len >= sizeof(lx->name))
	return;
    lx->name[lx->name_len] = 0;
    if (strcmp(lx->name, "script") == 0 || strcmp(lx->name, "style") == 0) {
	g_snprintf(lx->raw_end, sizeof(lx->raw_end), "</%s", lx->name);
	lx->raw_match = 0;
	lx->state = LEX_RAW;
    }
}

/* lex_step - what of byte c goes to the parser: appended to out */
static void lex_step(struct lex *lx, char c, GString *out)
{
    switch (lx->state) {
    case LEX_TEXT:
	if (c == '<') {
	    lx->state = LEX_LT;
	    lx->run = 0;
	    return;
	}
	if (++lx->run > TEXT_RUN && (c == '&' || (lx->run > 2 * TEXT_RUN
						    && ((unsigned char) c & 0xC0) != 0x80))) {
	    g_string_append(out, RUN_BREAK);
	    lx->run = 1;
	}
	g_string_append_c(out, c);
	if (lx->run > TEXT_RUN && (c == ' ' || c == '\n' || c == '\t' || c == '\r')) {
	    g_string_append(out, RUN_BREAK);
	    lx->run = 0;
	}
	return;
    case LEX_LT:
	if (c == '!') {
	    lx->state = LEX_BANG;
	} else if (g_ascii_isalpha(c) || c == '/' || c == '?') {
	    g_string_append_c(out, '<');
	    g_string_append_c(out, c);
	    lex_tag_begin(lx, c, 2);
	} else {
	    g_string_append_c(out, '<');
	    lx->state = LEX_TEXT;
	    lex_step(lx, c, out);
	}
	return;
    case LEX_BANG:
    case LEX_BANG_DASH:
	if (c == '-' && lx->state == LEX_BANG) {
	    lx->state = LEX_BANG_DASH;
	} else if (c == '-') {
	    lx->state = LEX_COMMENT;
	    lx->p1 = lx->p2 = 0;
	} else {			/* <!DOCTYPE ...>, <![CDATA[ ...: a tag */
	    g_string_append(out, lx->state == LEX_BANG ? "<!" : "<!-");
	    lex_tag_begin(lx, '!', lx->state == LEX_BANG ? 2 : 3);
	    lex_step(lx, c, out);
	}
	return;
    case LEX_COMMENT:
	if (c == '>' && lx->p1 == '-' && lx->p2 == '-')
	    lx->state = LEX_TEXT;
	lx->p2 = lx->p1;
	lx->p1 = c;
	return;
    case LEX_TAG:
    case LEX_TAG_SKIP:
	if (lx->state == LEX_TAG)
	    g_string_append_c(out, c);
	if (!lx->name_done) {
	    if (g_ascii_isalnum(c) && lx->name_len < sizeof(lx->name))
		lx->name[lx->name_len++] = g_ascii_tolower(c);
	    else if (g_ascii_isalnum(c))
		lx->name_len = sizeof(lx->name);
	    else if (c != '/' || lx->name_len > 0)
		lx->name_done = TRUE;
	}
	if (lx->quote) {
	    if (c == lx->quote)
		lx->quote = 0;
	} else if (c == '"' || c == '\'') {
	    lx->quote = c;
	} else if (c == '>') {
	    lex_tag_end(lx);
	    return;
	}
	if (lx->state == LEX_TAG && ++lx->tag_len >= TAG_MAX) {
	    if (lx->quote)
		g_string_append_c(out, lx->quote);
	    g_string_append_c(out, '>');
	    lx->state = LEX_TAG_SKIP;
	}
	return;
    case LEX_RAW:				/* left out but for its end tag */
	if (g_ascii_tolower(c) == lx->raw_end[lx->raw_match]) {
	    if (lx->raw_end[++lx->raw_match] == 0) {
		g_string_append(out, lx->raw_end);
		lex_tag_begin(lx, '/', lx->raw_match);
		lx->name_done = TRUE;
	    }
	} else {
	    lx->raw_match = c == '<';
	}
	return;
    }
}

/* ---------------------------------------------------------------- */
/*	Text from the parser's events					    */
/* ---------------------------------------------------------------- */

struct html_text {
    htmlParserCtxtPtr ctxt;
    struct lex lex;
    GString *pass;			/* what the lexer passed, not yet parsed */
    GString *text;
    gsize   max;
    int     pending_space;
    int     newlines;			/* trailing newlines in text */
    int     skip;			/* inside script, style, head, title */
    GString *href;			/* inside <a href="http...">, else NULL */
    GString *link_text;
    gboolean full;
};

static void out_newline(struct html_text *o, int count)
{
    if (o->text->len == 0)
	return;
    while (o->newlines < count && o->text->len < o->max) {
	g_string_append_c(o->text, '\n');
	o->newlines++;
    }
    o->pending_space = 0;
}

static void out_text(struct html_text *o, const char *s, gsize len)
{
    for (const char *p = s, *end = s + len; p < end && o->text->len < o->max; p++) {
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') {
	    o->pending_space = 1;
	    continue;
	}
	if (o->pending_space && o->newlines == 0 && o->text->len > 0)
	    g_string_append_c(o->text, ' ');
	o->pending_space = 0;
	o->newlines = 0;
	g_string_append_c(o->text, *p);
    }
    if (o->text->len >= o->max && !o->full) {
	o->full = TRUE;
	xmlStopParser(o->ctxt);
    }
}

static int is_block(const char *name)
{
    static const char *const blocks[] = {
	"p", "div", "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
	"h6", "blockquote", "pre", "hr", "section", "article", "header",
	"footer", "address", "form", "dl", "dt", "dd", "center", NULL,
    };
    return g_strv_contains(blocks, name);
}

static int is_skipped(const char *name)
{
    return strcmp(name, "script") == 0 || strcmp(name, "style") == 0
	|| strcmp(name, "head") == 0 || strcmp(name, "title") == 0;
}

static void sax_start(void *user, const xmlChar *xname, const xmlChar **attrs)
{
    struct html_text *o = user;
    const char *name = (const char *) xname;

    if (is_skipped(name)) {
	o->skip++;
	return;
    }
    if (o->skip)
	return;
    if (strcmp(name, "br") == 0) {
	out_newline(o, o->newlines + 1 > 2 ? 2 : o->newlines + 1);
	return;
    }
    if (is_block(name))
	out_newline(o, strcmp(name, "p") == 0 ? 2 : 1);
    if (strcmp(name, "li") == 0) {
	out_newline(o, 1);
	out_text(o, "- ", 2);
    }
    if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
	o->pending_space = 1;
    if (strcmp(name, "a") == 0 && o->href == NULL) {
	for (int i = 0; attrs && attrs[i]; i += 2) {
	    const char *v = (const char *) attrs[i + 1];

	    if (g_ascii_strcasecmp((const char *) attrs[i], "href") == 0 && v
		&& g_str_has_prefix(v, "http") && strlen(v) <= MAX_HREF) {
		o->href = g_string_new(v);
		o->link_text = g_string_new(NULL);
		break;
	    }
	}
    }
}

static void sax_end(void *user, const xmlChar *xname)
{
    struct html_text *o = user;
    const char *name = (const char *) xname;

    if (is_skipped(name)) {
	if (o->skip > 0)
	    o->skip--;
	return;
    }
    if (o->skip)
	return;
    if (strcmp(name, "a") == 0 && o->href) {
	/* The target is worth showing only when the text does not already say it. */
	if (strstr(o->link_text->str, o->href->str) == NULL) {
	    out_text(o, " <", 2);
	    out_text(o, o->href->str, o->href->len);
	    out_text(o, ">", 1);
	}
	g_string_free(o->href, TRUE);
	g_string_free(o->link_text, TRUE);
	o->href = o->link_text = NULL;
    }
    if (is_block(name))
	out_newline(o, strcmp(name, "p") == 0 ? 2 : 1);
}

static void sax_text(void *user, const xmlChar *ch, int len)
{
    struct html_text *o = user;

    if (o->skip || len <= 0)
	return;
    if (o->link_text && o->link_text->len < MAX_LINK_TEXT)
	g_string_append_len(o->link_text, (const char *) ch,
			    MIN((gsize) len, MAX_LINK_TEXT - o->link_text->len));
    out_text(o, (const char *) ch, (gsize) len);
}

struct html_text *html_text_new(gsize max_out)
{
    static htmlSAXHandler sax;
    static gsize once;
    struct html_text *o = g_new0(struct html_text, 1);
    xmlCharEncodingHandlerPtr utf8;

    if (g_once_init_enter(&once)) {
	sax.startElement = sax_start;
	sax.endElement = sax_end;
	sax.characters = sax_text;
	sax.cdataBlock = sax_text;
	sax.ignorableWhitespace = sax_text;
	g_once_init_leave(&once, 1);
    }
    o->text = g_string_new(NULL);
    o->pass = g_string_sized_new(FEED_PIECE + 16);
    o->max = max_out;
    o->ctxt = htmlCreatePushParserCtxt(&sax, o, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
    if (o->ctxt == NULL) {
	o->full = TRUE;				/* out of memory: no text */
	return o;
    }
    htmlCtxtUseOptions(o->ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR
		       | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    /*
     * The caller has converted the text to UTF-8 already: naming the
     * encoding keeps a <meta charset> in the body from switching the
     * parser to another one (as htmlReadMemory(..., "UTF-8") did).
     */
    if ((utf8 = xmlFindCharEncodingHandler("UTF-8")) != NULL) {
	xmlSwitchToEncoding(o->ctxt, utf8);
	if (o->ctxt->input && o->ctxt->input->encoding == NULL)
	    o->ctxt->input->encoding = xmlStrdup((const xmlChar *) "UTF-8");
    }
    if (max_out == 0)
	o->full = TRUE;
    return o;
}

/* parse_pass - parse what the lexer passed; stop the parser nested too deep */
static void parse_pass(struct html_text *o)
{
    if (!o->full && o->pass->len > 0)
	htmlParseChunk(o->ctxt, o->pass->str, (int) o->pass->len, 0);
    g_string_truncate(o->pass, 0);
    if (!o->full && o->ctxt->nameNr > DEPTH_MAX) {
	o->full = TRUE;
	xmlStopParser(o->ctxt);
    }
}

gboolean html_text_feed(struct html_text *o, const char *html, gsize len)
{
    for (gsize i = 0; i < len && !o->full; i++) {
	lex_step(&o->lex, html[i], o->pass);
	if (o->pass->len >= FEED_PIECE)
	    parse_pass(o);
    }
    return !o->full;
}

char   *html_text_finish(struct html_text *o)
{
    GString *text = o->text;

    if (o->ctxt) {
	parse_pass(o);
	if (!o->full)
	    htmlParseChunk(o->ctxt, NULL, 0, 1);
	if (o->ctxt->myDoc)			/* SAX builds none; be sure */
	    xmlFreeDoc(o->ctxt->myDoc);
	htmlFreeParserCtxt(o->ctxt);
    }
    if (o->href)
	g_string_free(o->href, TRUE);
    if (o->link_text)
	g_string_free(o->link_text, TRUE);
    g_string_free(o->pass, TRUE);
    g_free(o);

    while (text->len > 0 && (text->str[text->len - 1] == '\n'
			     || text->str[text->len - 1] == ' '))
	g_string_truncate(text, text->len - 1);
    if (!g_utf8_validate(text->str, (gssize) text->len, NULL)) {
	char   *valid = g_utf8_make_valid(text->str, (gssize) text->len);

	g_string_free(text, TRUE);
	return valid;
    }
    return g_string_free(text, FALSE);
}

char   *html_to_text(const char *html, gsize len, gsize max_out)
{
    struct html_text *h = html_text_new(max_out);

    html_text_feed(h, html, len);
    return html_text_finish(h);
}
