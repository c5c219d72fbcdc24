/* html.h: text from HTML mail bodies. See html.c. */
#ifndef INTAKE_HTML_H
#define INTAKE_HTML_H

#include <glib.h>

struct html_text;

struct html_text *html_text_new(gsize max_out);
gboolean html_text_feed(struct html_text *h, const char *html, gsize len);
char   *html_text_finish(struct html_text *h);
char   *html_to_text(const char *html, gsize len, gsize max_out);

#endif
