/* sentinel_conf.h: the [redis] keys of Redis Sentinel. See sentinel_conf.c. */
#ifndef INTAKE_SENTINEL_CONF_H
#define INTAKE_SENTINEL_CONF_H

int     sentinel_conf_list(void *cfg, void *field, const char *value, char **why);
int     sentinel_conf_name(void *cfg, void *field, const char *value, char **why);
int     sentinel_conf_password_file(void *cfg, void *field, const char *value, char **why);

#endif
