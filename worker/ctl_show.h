/* ctl_show.h: the store's reports as intakectl's JSON. See ctl_show.c. */
#ifndef INTAKE_CTL_SHOW_H
#define INTAKE_CTL_SHOW_H

#include <jansson.h>
#include "store.h"

json_t *ctl_stats_json(const struct store_stats *s);
int     ctl_stats(struct store *st, json_t **out, char **why);
int     ctl_list_tickets(struct store *st, const char *mailbox, const char *status, int limit,
			 json_t **out, char **why);
int     ctl_show_ticket(struct store *st, const char *number, json_t **out, char **why);
int     ctl_list_autogen(struct store *st, const char *kind, const char *mailbox, int limit,
			 json_t **out, char **why);
int     ctl_list_cases(struct store *st, json_t **out, char **why);
int     ctl_list_records(struct store *st, enum store_record kind, const char *project,
			 json_t **out, char **why);
int     ctl_show_record(struct store *st, enum store_record kind, const char *number,
			json_t **out, char **why);
int     ctl_show_autogen(struct store *st, gint64 id, json_t **out, char **why);
int     ctl_attachment(struct store *st, const char *number, gint64 id, GBytes **content,
		       char **why);

int     ctl_attachment_read(struct store *st, const char *number, gint64 id,
			    struct store_attachment_row *meta, GBytes **content, char **why);

#endif
