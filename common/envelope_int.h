/*
 * envelope_int.h: what envelope.c (the envelope built) and
 * envelope_header.c (its header fields) share. Nothing else includes it.
 */
#ifndef INTAKE_ENVELOPE_INT_H
#define INTAKE_ENVELOPE_INT_H

#include <gmime/gmime.h>
#include <jansson.h>

char   *env_header_text(GMimeObject *obj, const char *name, GMimeParserOptions *opts);
json_t *env_address_field(GMimeObject *obj, const char *name, GMimeParserOptions *opts);
json_t *env_header_msgid(GMimeObject *obj, const char *name);
json_t *env_references(GMimeObject *obj, GMimeParserOptions *opts);
json_t *env_raw_headers(GMimeObject *obj, const char *const *wanted);

#endif
