/*
 * NAME
 *	faq_files - FAQ entries read from a folder of files
 * SYNOPSIS
 *	#include "faq_files.h"
 *
 *	int	faq_file_parse(text, len, &file, &why)
 *	void	faq_file_clear(&file)
 *	int	faq_sync(st, dir, &counts, errors, &why)
 * DESCRIPTION
 *	A FAQ file (docs/classify.md) is UTF-8 text: header lines
 *	"Title: ..." (required), "URL: ..." and "Language: xx" (optional;
 *	names in any case), an empty line, then the body. faq_file_parse()
 *	reads one into *file (owned: faq_file_clear()); *why (g_free)
 *	"line N: ..." when it is no FAQ file.
 *
 *	faq_sync() makes the store's entries read from files (those with a
 *	source_path) what dir holds now: each subfolder is a collection,
 *	each file in it named *.txt one entry (files directly in dir are in
 *	the collection FAQ_DEFAULT_COLLECTION; names starting with "." are
 *	skipped; subfolders of subfolders are not read). A file whose
 *	SHA-256 the store has is unchanged; a new or changed file is stored
 *	(the entry of its path replaced); an entry whose file is gone is
 *	removed. Entries added by hand (intakectl faq add) are not touched.
 *	When anything changed, the store's index is optimised (faq_optimize()).
 *	A file that cannot be read or parsed is counted in failed and named
 *	in errors ("PATH:LINE: ...", g_strdup'ed), and its entry, if any,
 *	is kept as it was; so are the entries of a subfolder that cannot be
 *	read (counted as one failure). All of it is one transaction; run it again and
 *	nothing changes (idempotent).
 * DIAGNOSTICS
 *	faq_sync(): STORE_OK (even with failed files: see errors), or the
 *	store's STORE_BUSY / STORE_ERROR, or STORE_ERROR when dir cannot be
 *	read; *why (g_free).
 */
#include <string.h>
#include <glib/gstdio.h>

#include "faq_files.h"

void    faq_file_clear(struct faq_file *f)
{
    g_clear_pointer(&f->title, g_free);
    g_clear_pointer(&f->url, g_free);
    g_clear_pointer(&f->language, g_free);
    g_clear_pointer(&f->body, g_free);
}

/* header - "Name: value" of line l[0..n): the value into *field (once) */
static int header(const char *l, size_t n, int line, struct faq_file *out, char **why)
{
    static const char *const names[] = {"Title", "URL", "Language"};
    char  **fields[] = {&out->title, &out->url, &out->language};
    const char *colon = memchr(l, ':', n);

    for (size_t i = 0; colon && i < G_N_ELEMENTS(names); i++) {
	if ((size_t) (colon - l) != strlen(names[i])
	    || g_ascii_strncasecmp(l, names[i], colon - l) != 0)
	    continue;
	if (*fields[i]) {
	    *why = g_strdup_printf("line %d: a second %s line", line, names[i]);
	    return -1;
	}
	*fields[i] = g_strstrip(g_strndup(colon + 1, n - (colon + 1 - l)));
	if (**fields[i] == 0)
	    g_clear_pointer(fields[i], g_free);
	return 0;
    }
    *why = g_strdup_printf("line %d: expected a header line 'Title: ...', 'URL: ...' or"
			   " 'Language: ...', then an empty line, then the text", line);
    return -1;
}

int     faq_file_parse(const char *text, size_t len, struct faq_file *out, char **why)
{
    const char *p = text, *end = text + len;
    int     line = 1;

    memset(out, 0, sizeof(*out));
    if (len > FAQ_FILE_MAX) {
	*why = g_strdup_printf("line 1: larger than %d bytes", FAQ_FILE_MAX);
	return -1;
    }
    if (!g_utf8_validate(text, len, NULL)) {
	*why = g_strdup("line 1: not UTF-8 text");
	return -1;
    }
    while (p < end) {
	const char *start = p;
	const char *nl = memchr(p, '\n', end - p);
	size_t  n = (nl ? nl : end) - start;

	p = nl ? nl + 1 : end;
	if (n > 0 && start[n - 1] == '\r')
	    n--;
	if (n == 0)
	    break;
	if (header(start, n, line, out, why) < 0) {
	    faq_file_clear(out);
	    return -1;
	}
	line++;
    }
    if (out->title == NULL) {
	*why = g_strdup_printf("line %d: no Title line before the empty line", line);
	faq_file_clear(out);
	return -1;
    }
    out->body = g_strstrip(g_strndup(p, end - p));
    return 0;
}

/* What the store holds from files: source_path -> struct known. */
struct known {
    gint64  id;
    char   *sha256;
    gboolean seen;
};

static void known_free(gpointer p)
{
    struct known *k = p;

    g_free(k->sha256);
    g_free(k);
}

static const char *text_of(const struct store_row *row, int i, char **copy)
{
    const struct store_value *v = &row->values[i];

    *copy = v->type == STORE_TEXT ? g_strndup(v->text, v->len) : NULL;
    return *copy;
}

/* known_row - a row of list_faq(): id, collection, title, url, language, source_path, sha256 */
static void known_row(void *ctx, const struct store_row *row)
{
    GHashTable *known = ctx;
    char   *path = NULL;
    struct known *k;

    if (text_of(row, 5, &path) == NULL)
	return;				/* added by hand */
    k = g_new0(struct known, 1);
    k->id = row->values[0].i;
    text_of(row, 6, &k->sha256);
    g_hash_table_replace(known, path, k);
}

struct sync {
    struct store *st;
    GHashTable *known;
    struct faq_sync_counts *counts;
    GPtrArray *errors;
};

/* sync_file - one file of collection; STORE_OK unless the store failed */
static int sync_file(struct sync *s, const char *collection, const char *path, char **why)
{
    g_autofree char *text = NULL;
    g_autofree char *sha = NULL;
    g_autoptr(GError) err = NULL;
    struct faq_file f;
    struct store_faq e = {0};
    struct known *k = g_hash_table_lookup(s->known, path);
    char   *perr = NULL;
    gsize   len = 0;
    gint64  id = 0;
    int     ret;

    if (k)
	k->seen = TRUE;
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
	return STORE_OK;
    /* g_file_get_contents() reads any size: look first. */
    {
	GStatBuf sb;

	if (g_stat(path, &sb) == 0 && sb.st_size > FAQ_FILE_MAX) {
	    g_ptr_array_add(s->errors, g_strdup_printf("%s:1: larger than %d bytes", path,
							FAQ_FILE_MAX));
	    s->counts->failed++;
	    return STORE_OK;
	}
    }
    if (!g_file_get_contents(path, &text, &len, &err)) {
	g_ptr_array_add(s->errors, g_strdup_printf("%s: %s", path, err->message));
	s->counts->failed++;
	return STORE_OK;
    }
    sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) text, len);
    if (k && g_strcmp0(k->sha256, sha) == 0) {
	s->counts->unchanged++;
	return STORE_OK;
    }
    if (faq_file_parse(text, len, &f, &perr) < 0) {
	/* "line N: ..." -> "PATH:N: ..." */
	g_ptr_array_add(s->errors, g_strdup_printf("%s:%s", path,
				   g_str_has_prefix(perr, "line ") ? perr + 5 : perr));
	g_free(perr);
	s->counts->failed++;
	return STORE_OK;
    }
    e.collection = collection;
    e.title = f.title;
    e.url = f.url;
    e.body = f.body;
    e.language = f.language;
    e.source_path = path;
    e.sha256 = sha;
    ret = s->st->ops->faq_put(s->st, &e, &id, why);
    faq_file_clear(&f);
    if (ret == STORE_OK) {
	if (k)
	    s->counts->updated++;
	else
	    s->counts->added++;
    }
    return ret;
}

/* keep_under - a folder that cannot be read: its entries stay as they are, not removed */
static void keep_under(struct sync *s, const char *dir)
{
    g_autofree char *prefix = g_strconcat(dir, G_DIR_SEPARATOR_S, NULL);
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init(&it, s->known);
    while (g_hash_table_iter_next(&it, &key, &value))
	if (g_str_has_prefix(key, prefix))
	    ((struct known *) value)->seen = TRUE;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* sync_dir - the *.txt files of dir as collection's; subfolders too when top */
static int sync_dir(struct sync *s, const char *dir, const char *collection, gboolean top,
		    char **why)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GDir   *d = g_dir_open(dir, 0, &err);
    const char *name;
    int     ret = STORE_OK;

    if (d == NULL) {
	if (top) {
	    *why = g_strdup_printf("[worker] faq_directory: %s", err->message);
	    return STORE_ERROR;
	}
	g_ptr_array_add(s->errors, g_strdup_printf("%s: %s", dir, err->message));
	s->counts->failed++;
	keep_under(s, dir);
	return STORE_OK;
    }
    while ((name = g_dir_read_name(d)) != NULL)
	if (name[0] != '.')
	    g_ptr_array_add(names, g_strdup(name));
    g_dir_close(d);
    /* In name order: the same folder gives the same ids, whatever readdir's order. */
    g_ptr_array_sort(names, by_name);
    for (guint i = 0; i < names->len && ret == STORE_OK; i++) {
	const char *n = g_ptr_array_index(names, i);
	g_autofree char *path = g_build_filename(dir, n, NULL);

	if (top && g_file_test(path, G_FILE_TEST_IS_DIR))
	    ret = sync_dir(s, path, n, FALSE, why);
	else if (g_str_has_suffix(n, ".txt"))
	    ret = sync_file(s, collection, path, why);
    }
    return ret;
}

/* sync_all - the body of faq_sync(), inside its transaction */
static int sync_all(struct sync *s, const char *dir, char **why)
{
    GHashTableIter it;
    gpointer key, value;
    int     ret;

    if ((ret = s->st->ops->list_faq(s->st, known_row, s->known, why)) != STORE_OK
	|| (ret = sync_dir(s, dir, FAQ_DEFAULT_COLLECTION, TRUE, why)) != STORE_OK)
	return ret;
    g_hash_table_iter_init(&it, s->known);
    while (g_hash_table_iter_next(&it, &key, &value)) {
	struct known *k = value;
	gboolean found = FALSE;

	if (k->seen)
	    continue;
	if ((ret = s->st->ops->faq_remove(s->st, k->id, &found, why)) != STORE_OK)
	    return ret;
	s->counts->removed += found;
    }
    if (s->counts->added + s->counts->updated + s->counts->removed == 0)
	return STORE_OK;
    return s->st->ops->faq_optimize(s->st, why);
}

int     faq_sync(struct store *st, const char *dir, struct faq_sync_counts *counts,
		 GPtrArray *errors, char **why)
{
    struct sync s = {st, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, known_free),
	counts, errors};
    int     ret;

    memset(counts, 0, sizeof(*counts));
    if (st->ops->list_faq == NULL || st->ops->faq_put == NULL || st->ops->faq_remove == NULL
	|| st->ops->faq_optimize == NULL) {
	g_hash_table_unref(s.known);
	return store_unsupported(st, "FAQ entries", why);
    }
    if ((ret = st->ops->begin(st, why)) == STORE_OK) {
	if ((ret = sync_all(&s, dir, why)) == STORE_OK)
	    ret = st->ops->commit(st, why);
	else
	    st->ops->rollback(st);
    }
    g_hash_table_destroy(s.known);
    return ret;
}
