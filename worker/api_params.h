/* api_params.h: strict parsing of the HTTP API's paths, parameters and cursors. See api_params.c. */
#ifndef INTAKE_API_PARAMS_H
#define INTAKE_API_PARAMS_H

#include <glib.h>

#define API_LIMIT_DEFAULT	50
#define API_LIMIT_MAX		500
#define API_QUERY_MAX		4096	/* bytes of a raw query string */
#define API_VALUE_MAX		256	/* bytes of a decoded value (mailbox, status, cursor) */
#define API_Q_MAX		256	/* bytes of a search text */
#define API_NUMBER_MAX		64	/* bytes of a ticket number */

/* The parameters; a route allows some of them (a bit set). */
enum api_param {
    API_P_MAILBOX = 1 << 0, API_P_STATUS = 1 << 1, API_P_SINCE = 1 << 2,
    API_P_LIMIT = 1 << 3, API_P_CURSOR = 1 << 4, API_P_Q = 1 << 5, API_P_AFTER = 1 << 6,
};

/* What a query string said (owned: api_params_clear()). */
struct api_params {
    unsigned seen;			/* enum api_param bits given */
    char   *mailbox;			/* NULL: not given */
    char   *status;
    char   *q;
    char   *cursor;
    gint64  since;			/* Unix time; 0: not given */
    int     limit;			/* API_LIMIT_DEFAULT when not given */
    gint64  after;			/* a message id; 0: not given */
};

int     api_params_parse(const char *query, unsigned allowed, struct api_params *p, char **why);
void    api_params_clear(struct api_params *p);
char   *api_decode(const char *s, gsize len, gboolean plus_is_space, char **why);
gboolean api_parse_id(const char *s, gint64 *id);
gboolean api_number_ok(const char *s);
gboolean api_parse_since(const char *s, gint64 *unix_time);
char  **api_path_split(const char *path, char **why);
char   *api_cursor_make(const char *kind, const char *filter, gint64 before);
gboolean api_cursor_read(const char *cursor, const char *kind, const char *filter,
			 gint64 *before, char **why);

#endif
