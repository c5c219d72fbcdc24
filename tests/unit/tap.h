/* tap.h: a tiny Test Anything Protocol helper for the unit tests. See tap.c. */
#ifndef INTAKE_TAP_H
#define INTAKE_TAP_H

#include <stdarg.h>

int	ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	is_str(const char *got, const char *want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	is_int(long long got, long long want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	has_str(const char *haystack, const char *needle, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	skip(const char *reason, ...) __attribute__((format(printf, 1, 2)));
void	diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	tap_failed(void);
int	tap_done(void);

void    tap_remove_tree(const char *path);

#include <glib.h>
GPtrArray *tap_corpus_files(const char *dir);

struct intake_config;
struct intake_config *tap_config(const char *text);

#endif
