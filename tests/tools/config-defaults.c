/*
 * NAME
 *	config-defaults - print every intake.conf key and its default
 * SYNOPSIS
 *	config-defaults
 * DESCRIPTION
 *	Prints the key tables of common/config.c, as the running code
 *	knows them (config_dump_defaults(): "SECTION<TAB>KEY<TAB>default
 *	<TAB>VALUE" or "SECTION<TAB>KEY<TAB>required" a line). The
 *	documentation test tests/it/it_docs_config_keys.sh compares this
 *	with docs/intake.conf.md, intake.conf(5) and conf/intake.conf, so
 *	that a key added to the table and not to the documents, or a
 *	default changed in one place only, fails the test.
 * DIAGNOSTICS
 *	Exit status 0, or 1 when standard output cannot be written.
 */
#include <stdio.h>

#include "config.h"

int     main(int argc, char **argv)
{
    if (argc > 1) {
	fprintf(stderr, "usage: %s\n", argv[0]);
	return 2;
    }
    config_dump_defaults(stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
	perror("config-defaults: stdout");
	return 1;
    }
    return 0;
}
