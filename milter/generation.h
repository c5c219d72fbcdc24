/* generation.h: the milter's configuration generations. See generation.c. */
#ifndef INTAKE_GENERATION_H
#define INTAKE_GENERATION_H

#include <glib.h>
#include "config.h"
#include "redisq.h"

struct generation {
    gint    refs;			/* generation.c's alone */
    struct intake_config *cfg;		/* read-only while referenced */
    struct redisq_pool *pool;		/* made from cfg */
};

struct generation *generation_new(struct intake_config *cfg);
struct generation *generation_current(void);
void    generation_install(struct generation *g);
struct generation *generation_unref(struct generation *g);

#endif
