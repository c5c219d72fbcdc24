/* zframe.h: the zstd frames of a stream entry. See zframe.c. */
#ifndef INTAKE_ZFRAME_H
#define INTAKE_ZFRAME_H

#include <glib.h>

#define ZFRAME_LEVEL	1		/* see zframe.c */

char   *zframe_pack(const void *src, gsize len, gsize *out_len);
int     zframe_pack_file(int fd, gsize len, gsize at, gsize *out_len, char **why);
char   *zframe_unpack(const void *src, gsize len, gsize cap, gsize *out_len, char **why);
int     zframe_check(const void *src, gsize len, gsize cap, gsize *out_len, char **why);

#endif
