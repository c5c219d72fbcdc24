/* rules.h: routing rules (docs/rules.md). Loaded by rules.c, evaluated by rules_match.c. */
#ifndef INTAKE_RULES_H
#define INTAKE_RULES_H

#include <glib.h>
#include <jansson.h>
#include "config.h"

/* Text a rule searches is cut here: regex cost stays bounded whatever the sender sends. */
#define RULES_TEXT_MAX	(64 * 1024)

enum rule_field { RF_SENDER, RF_SENDER_DOMAIN, RF_RECIPIENT, RF_SUBJECT, RF_BODY, RF_HEADER };
enum rule_op { RO_EQUALS, RO_CONTAINS, RO_REGEX };

struct rule_cond {
    char   *key;			/* "if" or "if.LABEL", for messages */
    enum rule_field field;
    char   *header;			/* RF_HEADER: the field name */
    enum rule_op op;
    gboolean negate;			/* "not" */
    gboolean icase;			/* "/i" */
    char   *value;			/* as written; case-folded with icase */
    GRegex *re;				/* RO_REGEX, compiled once at load */
};

struct rule {
    char   *name;			/* section "rule NAME" */
    int     line;			/* of [rule NAME] */
    int     template_line;		/* of its template key, 0: none */
    int     notify_line;		/* of its notify key, 0: none */
    char  **mailboxes;			/* NULL: every mailbox */
    gboolean any;			/* match = any; default all */
    GPtrArray *conds;			/* struct rule_cond * */
    /* actions; NULL/0: not set by this rule */
    char   *queue, *assignee, *category, *priority, *type, *status;
    char  **tags;
    char   *case_name;
    char   *template_name;
    char   *notify;
    int     acknowledge;		/* -1 unset, 0 no, 1 yes */
    gboolean note;			/* a note on the case's newest ticket */
    gboolean stop;
};

struct rules {
    char   *path;			/* "" none configured */
    GPtrArray *list;			/* struct rule *, in file order */
};

/* What the rules that matched a mail decided (strings borrowed from struct rules). */
struct rules_result {
    GPtrArray *matched;			/* rule names, in order */
    const char *queue, *assignee, *category, *priority, *type, *status;
    const char *case_name, *template_name;
    GPtrArray *tags;			/* const char *, each once, in order */
    GPtrArray *notify;			/* const char *, each once */
    int     acknowledge;		/* -1: the mailbox decides */
    gboolean note;
    guint   regex_errors;		/* matches PCRE gave up on (counted as no match) */
};

struct rules *rules_load(const char *path, const struct intake_config *cfg, GPtrArray *errors);
struct rules *rules_free(struct rules *rs);

void    rules_eval(const struct rules *rs, json_t *env, const char *mailbox,
		   struct rules_result *out);
void    rules_result_clear(struct rules_result *out);
char   *rules_result_text(const struct rules_result *r);

#endif
