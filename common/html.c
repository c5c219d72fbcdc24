/*
 * NAME
 *	html - text from HTML mail bodies
 * SYNOPSIS
 *	char *html_to_text(html, len, max_out)
 * DESCRIPTION
 *	html_to_text() parses UTF-8 HTML with libxml2's error-tolerant HTML
 *	parser (no network, no external entities) and returns the readable
 *	text: script, style, head and title are skipped, block elements and
 *	<br> end lines, list items start with "- ", links keep their target
 *	when it differs from the text, runs of white space collapse and
 *	blank lines are limited to one. At most max_out bytes are produced
 *	(cut at a character boundary). The result is newly allocated UTF-8
 *	(g_free), never NULL.
 */
#include <string.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "html.h"

struct html_out {
    GString *text;
    gsize   max;
    int     pending_space;
    int     newlines;			/* trailing newlines in text */
};

static void out_newline(struct html_out *o, int count)
{
    if (o->text->len == 0)
	return;
    while (o->newlines < count && o->text->len < o->max) {
	g_string_append_c(o->text, '\n');
	o->newlines++;
    }
    o->pending_space = 0;
}

static void out_text(struct html_out *o, const char *s)
{
    for (const char *p = s; *p && o->text->len < o->max; p++) {
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

static void walk(struct html_out *o, xmlNode *node, int depth)
{
    if (depth > 200)				/* hostile nesting */
	return;
    for (xmlNode *n = node; n && o->text->len < o->max; n = n->next) {
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
	    if (n->content)
		out_text(o, (const char *) n->content);
	    continue;
	}
	if (n->type != XML_ELEMENT_NODE)
	    continue;

	const char *name = (const char *) n->name;

	if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0
	    || strcmp(name, "head") == 0 || strcmp(name, "title") == 0)
	    continue;
	if (strcmp(name, "br") == 0) {
	    out_newline(o, o->newlines + 1 > 2 ? 2 : o->newlines + 1);
	    continue;
	}
	if (is_block(name))
	    out_newline(o, strcmp(name, "p") == 0 ? 2 : 1);
	if (strcmp(name, "li") == 0) {
	    out_newline(o, 1);
	    out_text(o, "- ");
	}
	if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
	    o->pending_space = 1;
	walk(o, n->children, depth + 1);
	if (strcmp(name, "a") == 0) {
	    xmlChar *href = xmlGetProp(n, (const xmlChar *) "href");
	    xmlChar *inner = xmlNodeGetContent(n);

	    if (href && g_str_has_prefix((const char *) href, "http")
		&& (inner == NULL || strstr((const char *) inner, (const char *) href) == NULL)) {
		out_text(o, " <");
		out_text(o, (const char *) href);
		out_text(o, ">");
	    }
	    xmlFree(href);
	    xmlFree(inner);
	}
	if (is_block(name))
	    out_newline(o, strcmp(name, "p") == 0 ? 2 : 1);
    }
}

char   *html_to_text(const char *html, gsize len, gsize max_out)
{
    struct html_out o = {g_string_new(NULL), max_out, 0, 0};
    htmlDocPtr doc;

    if (len > G_MAXINT)
	len = G_MAXINT;
    doc = htmlReadMemory(html, (int) len, NULL, "UTF-8",
			 HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING
			 | HTML_PARSE_NONET | HTML_PARSE_NOBLANKS);
    if (doc) {
	walk(&o, xmlDocGetRootElement(doc), 0);
	xmlFreeDoc(doc);
    }
    while (o.text->len > 0 && (o.text->str[o.text->len - 1] == '\n'
			       || o.text->str[o.text->len - 1] == ' '))
	g_string_truncate(o.text, o.text->len - 1);
    if (!g_utf8_validate(o.text->str, o.text->len, NULL)) {
	char   *valid = g_utf8_make_valid(o.text->str, o.text->len);

	g_string_free(o.text, TRUE);
	return valid;
    }
    return g_string_free(o.text, FALSE);
}
