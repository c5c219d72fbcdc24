/* ctl_migrate.h: intakectl migrate-store, SQLite -> PostgreSQL. See ctl_migrate.c. */
#ifndef INTAKE_CTL_MIGRATE_H
#define INTAKE_CTL_MIGRATE_H

int     ctl_migrate(const char *config_path, int argc, char **argv);

#endif
