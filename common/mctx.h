/* mctx.h: one SMTP connection's and message's state. See mctx.c. */
#ifndef INTAKE_MCTX_H
#define INTAKE_MCTX_H

#include <glib.h>
#include <jansson.h>
#include "config.h"
#include "enqueue.h"

struct mctx {
    const struct intake_config *cfg;
    /* Connection. */
    char   *client_addr;
    char   *client_name;
    char   *helo;
    unsigned long protocol;		/* negotiated SMFIP_* flags */
    /* Message: reset by mctx_reset(). */
    char   *queue_id;
    char   *sender;
    GPtrArray *rcpts;			/* char *, as the MTA gave them */
    GPtrArray *matched;			/* const struct mailbox *, per rcpt */
    guint   n_matched;
    guint   rcpts_dropped;		/* over max_recipients */
    guint   headers_dropped;		/* over max_headers */
    GByteArray *raw;			/* headers + body while at most
					 * spool_threshold bytes; NULL once spooled */
    int     spool_fd;			/* unlinked spool file, or -1 */
    char   *spool_error;		/* why the spool file failed, or NULL */
    gsize   kept;			/* bytes kept for parsing (max_message_size) */
    gsize   size;			/* bytes received in all */
    int     n_headers;
    GChecksum *body_sum;
};

struct mctx *mctx_new(const struct intake_config *cfg);
struct mctx *mctx_free(struct mctx *mc);
void    mctx_reset(struct mctx *mc);
const char *mctx_qid(const struct mctx *mc);
void    mctx_set_queue_id(struct mctx *mc, const char *qid);
void    mctx_set_sender(struct mctx *mc, const char *sender);
const struct mailbox *mctx_add_rcpt(struct mctx *mc, const char *rcpt);
void    mctx_add_header(struct mctx *mc, const char *name, const char *value, int leadspc);
void    mctx_end_headers(struct mctx *mc);
void    mctx_add_body(struct mctx *mc, const unsigned char *data, size_t len);
json_t *mctx_envelope(struct mctx *mc);
void    mctx_raw(const struct mctx *mc, struct raw_source *src);
const char *mctx_spool_error(const struct mctx *mc);
gboolean mctx_oversize(const struct mctx *mc);
gboolean mctx_oversize_reject(const struct mctx *mc);

#endif
