/* mstats_flush.h: intake-milter's thread that writes its counts to Redis. See mstats_flush.c. */
#ifndef INTAKE_MSTATS_FLUSH_H
#define INTAKE_MSTATS_FLUSH_H

void    mstats_flush_start(void);
void    mstats_flush_stop(void);

#endif
