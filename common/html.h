/* html.h: text from HTML mail bodies. See html.c. */
#ifndef INTAKE_HTML_H
#define INTAKE_HTML_H

#include <glib.h>

char *html_to_text(const char *html, gsize len, gsize max_out);

#endif
