/*
 * NAME
 *	sentinel_conf - parse the [redis] keys of Redis Sentinel
 * SYNOPSIS
 *	#include "sentinel_conf.h"
 *
 *	int	sentinel_conf_list(cfg, field, value, &why)
 *	int	sentinel_conf_name(cfg, field, value, &why)
 *	int	sentinel_conf_password_file(cfg, field, value, &why)
 * DESCRIPTION
 *	The parsers behind common/config.c's table lines of [redis]
 *	sentinels, master_name and sentinel_password_file (type
 *	CT_CUSTOM); config.c reports a failure as FILE:LINE: [redis] key
 *	'k': *why. Each stores into field (a member of cfg, a struct
 *	intake_config) and returns 0, or -1 and *why (g_free).
 *
 *	sentinel_conf_list(): "HOST:PORT, HOST:PORT, ..." (commas or
 *	semicolons), at most SENTINELS_MAX, each a sane host and a port
 *	1 to 65535; an empty value is no sentinels (use [redis] server).
 *	Stored as a NULL-terminated string vector.
 *
 *	sentinel_conf_name(): the master's name as the sentinels know it:
 *	1 to 128 printable characters without spaces.
 *
 *	sentinel_conf_password_file(): the file (relative to the
 *	configuration's directory) is read with the configuration: at start
 *	while the daemon is still root (it may be readable by root alone),
 *	on SIGHUP as the daemon's user (unreadable then, the reload fails and
 *	the configuration in force stays). Its first line is the password,
 *	stored in cfg's redis_sentinel_password.
 *	Setting both sentinel_password and sentinel_password_file is an
 *	error: which one wins would be a guess. The file's text is never
 *	part of an error.
 */
#include <string.h>
#include <sys/stat.h>
#include <glib.h>

#include "config.h"
#include "sentinel.h"
#include "sentinel_conf.h"

#define SENTINELS_MAX		16
#define MASTER_NAME_MAX		128
#define PASSWORD_FILE_MAX	4096

int     sentinel_conf_list(void *cfg, void *field, const char *value, char **why)
{
    g_auto(GStrv) parts = g_strsplit_set(value, ",;", -1);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

    (void) cfg;
    for (int i = 0; parts[i]; i++) {
	char   *s = g_strstrip(parts[i]);
	const char *colon = strrchr(s, ':');
	g_autofree char *host = colon ? g_strndup(s, (gsize) (colon - s)) : NULL;

	if (*s == 0)
	    continue;
	if (out->len == SENTINELS_MAX) {
	    *why = g_strdup_printf("more than %d sentinels", SENTINELS_MAX);
	    return -1;
	}
	if (host == NULL || !sentinel_valid_host(host, strlen(host))
	    || sentinel_parse_port(colon + 1, strlen(colon + 1)) < 0) {
	    *why = g_strdup_printf("'%s' is not HOST:PORT (a host name or address, and a port"
				   " 1 to 65535, such as 10.0.0.5:26379)", s);
	    return -1;
	}
	g_ptr_array_add(out, g_strdup(s));
    }
    g_ptr_array_add(out, NULL);
    g_strfreev(*(char ***) field);
    *(char ***) field = (char **) g_ptr_array_steal(out, NULL);
    return 0;
}

int     sentinel_conf_name(void *cfg, void *field, const char *value, char **why)
{
    size_t  len = strlen(value);

    (void) cfg;
    if (len == 0 || len > MASTER_NAME_MAX) {
	*why = g_strdup_printf("expected the master's name as the sentinels know it"
			       " (1 to %d characters), got '%.*s'", MASTER_NAME_MAX,
			       MASTER_NAME_MAX, value);
	return -1;
    }
    for (size_t i = 0; i < len; i++)
	if (!g_ascii_isgraph(value[i])) {
	    *why = g_strdup_printf("'%s': a master name has no spaces or control characters",
				   value);
	    return -1;
	}
    g_free(*(char **) field);
    *(char **) field = g_strdup(value);
    return 0;
}

int     sentinel_conf_password_file(void *base, void *field, const char *value, char **why)
{
    struct intake_config *cfg = base;
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    struct stat st;
    gsize   len;

    g_free(*(char **) field);
    *(char **) field = g_strdup(value);
    if (*value == 0)
	return 0;
    if (cfg->redis_sentinel_password && *cfg->redis_sentinel_password) {
	*why = g_strdup("sentinel_password is set too: set one of them");
	return -1;
    }
    path = g_path_is_absolute(value) ? g_strdup(value) : g_build_filename(cfg->dir, value, NULL);
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
	*why = g_strdup_printf("%s: not a readable file", path);
	return -1;
    }
    if (st.st_size > PASSWORD_FILE_MAX) {
	*why = g_strdup_printf("%s: longer than %d bytes: not a password file", path,
			       PASSWORD_FILE_MAX);
	return -1;
    }
    if (!g_file_get_contents(path, &text, &len, &err)) {
	*why = g_strdup_printf("%s: cannot read: %s", path, err->message);
	return -1;
    }
    text[strcspn(text, "\r\n")] = 0;
    if (*text == 0 || strlen(text) > PASSWORD_FILE_MAX) {
	*why = g_strdup_printf("%s: the first line is empty (expected the password)", path);
	return -1;
    }
    g_free(cfg->redis_sentinel_password);
    cfg->redis_sentinel_password = g_steal_pointer(&text);
    return 0;
}
