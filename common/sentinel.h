/* sentinel.h: find the Redis primary through Redis Sentinel. See sentinel.c. */
#ifndef INTAKE_SENTINEL_H
#define INTAKE_SENTINEL_H

#include <glib.h>
#include <hiredis/hiredis.h>
#include "config.h"

/* A reply from a sentinel or from a server's ROLE is never longer than this. */
#define SENTINEL_REPLY_MAX	65536
/* Nor has an array in it more elements than this. */
#define SENTINEL_ARRAY_MAX	64
#define SENTINEL_HOST_MAX	253	/* a DNS name at most; an IPv6 address is shorter */

int     sentinel_valid_host(const char *host, size_t len);
int     sentinel_parse_port(const char *text, size_t len);
int     sentinel_master_reply(const redisReply *r, char **host, int *port, char **why);
int     sentinel_role_reply(const redisReply *r, char **why);
redisReply *sentinel_command(redisContext *ctx, gint64 deadline, int argc,
			     const char **argv, char **why);
int     sentinel_find_master(const struct intake_config *cfg, char **host, int *port,
			     char **why);
int     sentinel_check_role(redisContext *ctx, int timeout_ms, char **why);
void    sentinel_announce(const struct intake_config *cfg, const char *when);
char   *sentinel_describe(const struct intake_config *cfg);

#endif
