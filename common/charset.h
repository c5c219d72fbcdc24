/* charset.h: how a declared charset label is read. See charset.c. */
#ifndef INTAKE_CHARSET_H
#define INTAKE_CHARSET_H

#include <glib.h>

gboolean charset_utf8_first(const char *name, gsize len);
const char *charset_reading(const char *name, gsize len);
gboolean charset_html_meta(const char *html, gsize len, char *out, gsize size);

#define CHARSET_META_SCAN 1024		/* bytes of HTML a <meta> charset is looked for in */

#endif
