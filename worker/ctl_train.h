/* ctl_train.h: intakectl train and intakectl set-category. See ctl_train.c. */
#ifndef INTAKE_CTL_TRAIN_H
#define INTAKE_CTL_TRAIN_H

#include "config.h"

/* Folds of the cross-validation unless --folds says. */
#define TRAIN_FOLDS 10

int     ctl_train_main(const char *config_path, int argc, char **argv);
int     ctl_set_category(const struct intake_config *cfg, const char *number,
			 const char *category);

#endif
