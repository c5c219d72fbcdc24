/* fuzz.h: what the fuzz targets share. See fuzz.c. */
#ifndef INTAKE_FUZZ_H
#define INTAKE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

void    fuzz_init(void);
const char *fuzz_dir(void);
char   *fuzz_write(const char *name, const uint8_t *data, size_t size);
struct intake_config;
struct intake_config *fuzz_config(const char *name, const char *text);
void    fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Each target defines this; the replay binary renames it with -D. */
int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
