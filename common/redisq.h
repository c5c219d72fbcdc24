/* redisq.h: the one Redis connection helper. See redisq.c. */
#ifndef INTAKE_REDISQ_H
#define INTAKE_REDISQ_H

#include <stdarg.h>
#include <sys/types.h>
#include <hiredis/hiredis.h>
#include "config.h"

struct redisq;

struct redisq *redisq_new(const struct intake_config *cfg);
struct redisq *redisq_free(struct redisq *rq);
redisReply *redisq_command(struct redisq *rq, char **why, const char *fmt, ...);
redisReply *redisq_argv(struct redisq *rq, char **why, int argc, const char **argv,
			const size_t *lens);
redisReply *redisq_argv_tail(struct redisq *rq, char **why, int argc, const char **argv,
			     const size_t *lens, int tail_fd, off_t tail_off,
			     size_t tail_len);
redisReply *redisq_run(struct redisq *rq, char **why, const char *first, ...)
	G_GNUC_NULL_TERMINATED;
redisReply *redisq_vrun(struct redisq *rq, char **why, const char *first, va_list ap);

/* One command of redisq_send(): argc arguments of lens[i] bytes each. */
struct redisq_cmd {
    int     argc;
    const char *const *argv;
    const size_t *lens;
};
int     redisq_send(struct redisq *rq, char **why, guint n, const struct redisq_cmd *cmds);
guint   redisq_collect(struct redisq *rq, char **why);
int     redisq_error_is(const struct redisq *rq, const char *code);
int     redisq_ok(struct redisq *rq);
void    redisq_disconnect(struct redisq *rq);
void    redisq_set_timeout(struct redisq *rq, int ms);
char   *redisq_describe(const struct intake_config *cfg);
guint64 redisq_connects(const struct redisq *rq);

struct redisq_pool;

struct redisq_pool *redisq_pool_new(const struct intake_config *cfg);
struct redisq_pool *redisq_pool_free(struct redisq_pool *pool);
struct redisq *redisq_pool_get(struct redisq_pool *pool);
void    redisq_pool_put(struct redisq_pool *pool, struct redisq *rq);

#endif
