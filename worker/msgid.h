/* msgid.h: signed Message-IDs of our outgoing mail. See msgid.c. */
#ifndef INTAKE_MSGID_H
#define INTAKE_MSGID_H

#include <glib.h>

struct msgid_keys;

struct msgid_keys *msgid_keys_new(const void *secret, gsize len, const void *old, gsize old_len);
struct msgid_keys *msgid_keys_load(const char *path, const char *old_path, gboolean create,
				   char **why);
struct msgid_keys *msgid_keys_free(struct msgid_keys *keys);
int     msgid_key_check(const char *path, gboolean may_be_missing, char **why);
char   *msgid_make(const struct msgid_keys *keys, const char *number, const char *domain);
char   *msgid_verify(const struct msgid_keys *keys, const char *id);

#define MSGID_SECRET_MIN 32		/* bytes */
#define MSGID_SECRET_MAX 4096

#endif
