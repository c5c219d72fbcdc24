/* srs.h: Sender Rewriting Scheme addresses. See srs.c. */
#ifndef INTAKE_SRS_H
#define INTAKE_SRS_H

char   *srs_decode(const char *addr);

#endif
