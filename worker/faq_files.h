/* faq_files.h: FAQ entries read from a folder of files. See faq_files.c. */
#ifndef INTAKE_FAQ_FILES_H
#define INTAKE_FAQ_FILES_H

#include <glib.h>
#include "store.h"

/* A FAQ file larger than this is refused: an entry is a page, not a manual. */
#define FAQ_FILE_MAX (64 * 1024)
/* Files directly in [worker] faq_directory, not in a subfolder, are in this collection. */
#define FAQ_DEFAULT_COLLECTION "default"

struct faq_file {
    char   *title;
    char   *url;			/* NULL: none */
    char   *language;			/* NULL: any */
    char   *body;
};

struct faq_sync_counts {
    int     added, updated, unchanged, removed, failed;
};

int     faq_file_parse(const char *text, size_t len, struct faq_file *out, char **why);
void    faq_file_clear(struct faq_file *f);
int     faq_sync(struct store *st, const char *dir, struct faq_sync_counts *counts,
		 GPtrArray *errors, char **why);

#endif
