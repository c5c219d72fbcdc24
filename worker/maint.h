/* maint.h: background store maintenance. See maint.c. */
#ifndef INTAKE_MAINT_H
#define INTAKE_MAINT_H

#include "config.h"

struct maint;

struct maint *maint_start(const struct intake_config *cfg, char **why);
struct maint *maint_stop(struct maint *m);

#endif
