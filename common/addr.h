/* addr.h: mail address normalisation. See addr.c. */
#ifndef INTAKE_ADDR_H
#define INTAKE_ADDR_H

char *addr_normalise(const char *addr, const char *delimiters);
const char *addr_domain(const char *normalised);

#endif
