/* autogen.h: is a message written by a person or by a machine? See autogen.c. */
#ifndef INTAKE_AUTOGEN_H
#define INTAKE_AUTOGEN_H

#include <stddef.h>
#include <gmime/gmime.h>

enum autogen_kind {
    AUTOGEN_HUMAN,
    AUTOGEN_AUTOREPLY,			/* out-of-office, vacation, autoresponder */
    AUTOGEN_BOUNCE,			/* DSN, non-delivery report, delay warning */
    AUTOGEN_LIST,			/* mailing list, bulk, newsletter */
    AUTOGEN_SYSTEM,			/* other machine mail */
};
#define AUTOGEN_KINDS	(AUTOGEN_SYSTEM + 1)

/* One top-level header field, value unfolded and decoded (UTF-8). */
struct autogen_header {
    const char *name;
    const char *value;
};

/* What the classifier looks at; everything else of the message is ignored. */
struct autogen_input {
    const struct autogen_header *headers;	/* top-level header block only */
    size_t  n_headers;
    const char *sender;			/* envelope sender; "" for <>, NULL unknown */
    const char *content_type;		/* top-level "type/subtype", or NULL */
    const char *report_type;		/* its report-type parameter, or NULL */
    int     has_dsn_part;		/* a message/(global-)delivery-status part */
    const char *text;			/* body text (only its first lines are read) */
};

#define AUTOGEN_REASON_MAX 128

struct autogen_verdict {
    enum autogen_kind kind;
    char    reason[AUTOGEN_REASON_MAX];	/* which rule decided; never sender text */
};

void    autogen_classify(const struct autogen_input *in, struct autogen_verdict *out);
void    autogen_classify_message(GMimeMessage *msg, const char *sender, const char *text,
				 struct autogen_verdict *out);
const char *autogen_kind_name(enum autogen_kind kind);
int     autogen_kind_parse(const char *name);

#endif
