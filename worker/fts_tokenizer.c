/*
 * NAME
 *	fts_tokenizer - the store's FTS5 tokenizer, outside any table
 * SYNOPSIS
 *	#include "fts_tokenizer.h"
 *
 *	struct fts_tokenizer *fts_tokenizer_new(&why)
 *	int	fts_tokenize(t, query, text, len, fn, ctx, &why)
 *	struct fts_tokenizer *fts_tokenizer_free(t)
 * DESCRIPTION
 *	The SQLite store's full-text tables (messages_fts, faq_fts:
 *	store_sqlite_sql.c) cut text with unicode61 remove_diacritics 2.
 *	Who must know where those tables cut a word (the FAQ index in
 *	memory, the search that must not hand FTS5 a phrase: a word that
 *	cuts into two tokens is one, and an index without positions
 *	refuses it) asks this tokenizer instead of guessing with GLib's
 *	character classes: GLib knows a newer Unicode than unicode61's
 *	6.1 tables, and some code points that it calls letters (New Tai
 *	Lue's vowel signs, U+19B0 onwards) are separators to FTS5.
 *
 *	fts_tokenizer_new() opens a private in-memory connection and takes
 *	the tokenizer through the fts5_api (SQLite's documented SELECT
 *	fts5(?1) with a pointer bound), so folding and separators are FTS5's
 *	by construction, not a copy of its tables.
 *
 *	fts_tokenize() calls fn for each token of len bytes of text (query:
 *	FTS5_TOKENIZE_QUERY, else FTS5_TOKENIZE_DOCUMENT), in order; the
 *	colocated tokens of a synonym tokenizer are skipped (unicode61 makes
 *	none). A fn that returns nonzero stops the walk; that is not a
 *	failure.
 *
 *	One tokenizer per thread: unicode61 keeps no state between calls,
 *	but the connection is opened without SQLite's mutexes.
 * DIAGNOSTICS
 *	fts_tokenizer_new(): NULL and *why (SQLite without FTS5 or the
 *	tokenizer). fts_tokenize(): -1 and *why when the tokenizer fails.
 */
#include <sqlite3.h>

#include "fts_tokenizer.h"

/* The tables' tokenize= option (store_sqlite_sql.c: messages_fts, faq_fts), as arguments. */
static const char *const FTS_TOKENIZE[] = {"remove_diacritics", "2"};
#define FTS_TOKENIZER "unicode61"

struct fts_tokenizer {
    sqlite3 *db;			/* private; holds the tokenizer */
    fts5_tokenizer tok;
    Fts5Tokenizer *tokenizer;
};

struct fts_tokenizer *fts_tokenizer_new(char **why)
{
    struct fts_tokenizer *t = g_new0(struct fts_tokenizer, 1);
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;
    void   *user = NULL;

    if (sqlite3_open_v2(":memory:", &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			NULL) != SQLITE_OK
	|| sqlite3_prepare_v2(t->db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK
	|| sqlite3_bind_pointer(s, 1, (void *) &api, "fts5_api_ptr", NULL) != SQLITE_OK
	|| sqlite3_step(s) != SQLITE_ROW || api == NULL) {
	*why = g_strdup_printf("SQLite without FTS5: %s",
			       t->db ? sqlite3_errmsg(t->db) : "out of memory");
	sqlite3_finalize(s);
	return fts_tokenizer_free(t);
    }
    sqlite3_finalize(s);
    if (api->xFindTokenizer(api, FTS_TOKENIZER, &user, &t->tok) != SQLITE_OK
	|| t->tok.xCreate(user, (const char **) FTS_TOKENIZE, G_N_ELEMENTS(FTS_TOKENIZE),
			  &t->tokenizer) != SQLITE_OK) {
	*why = g_strdup("SQLite's FTS5 has no tokenizer " FTS_TOKENIZER);
	t->tokenizer = NULL;
	return fts_tokenizer_free(t);
    }
    return t;
}

struct fts_tokenizer *fts_tokenizer_free(struct fts_tokenizer *t)
{
    if (t == NULL)
	return NULL;
    if (t->tokenizer)
	t->tok.xDelete(t->tokenizer);
    sqlite3_close(t->db);
    g_free(t);
    return NULL;
}

struct walk {
    fts_token_fn fn;
    void   *ctx;
    gboolean stopped;
};

static int walk_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    struct walk *w = ctx;

    (void) start;
    (void) end;
    if (flags & FTS5_TOKEN_COLOCATED)
	return SQLITE_OK;
    if (w->fn(w->ctx, token, len) != 0) {
	w->stopped = TRUE;
	return SQLITE_DONE;			/* any code but SQLITE_OK ends the walk */
    }
    return SQLITE_OK;
}

int     fts_tokenize(struct fts_tokenizer *t, gboolean query, const char *text, int len,
		     fts_token_fn fn, void *ctx, char **why)
{
    struct walk w = {fn, ctx, FALSE};
    int     rc;

    rc = t->tok.xTokenize(t->tokenizer, &w, query ? FTS5_TOKENIZE_QUERY : FTS5_TOKENIZE_DOCUMENT,
			  text, len, walk_token);
    if (rc != SQLITE_OK && !w.stopped) {
	*why = g_strdup_printf("the full-text tokenizer failed: %s", sqlite3_errstr(rc));
	return -1;
    }
    return 0;
}
