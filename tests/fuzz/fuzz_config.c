/*
 * NAME
 *	fuzz_config - fuzz target: config_load() of an intake.conf
 * DESCRIPTION
 *	The input is written to a file and loaded. A configuration is
 *	written by a postmaster, not a sender, but config_load() runs at
 *	start and on SIGHUP and must report every error, never crash, and
 *	take time linear in the file (an error per line must not cost a
 *	scan of the file per error). Properties: a refused file has errors,
 *	each naming the file ("PATH:" first); a loaded one has none, has a
 *	mailbox, and config_match() and config_mailbox() work on it.
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"

static const char *const rcpts[] = {
    "support@example.com", "<Support+x@Example.COM>", "a@b", "@", "", "x@catch.example",
    "\"q+q\"@example.com", NULL,
};

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *path = NULL;
    GPtrArray *errors = NULL;
    struct intake_config *cfg;

    fuzz_init();
    path = fuzz_write("intake.conf", data, size);
    cfg = config_load(path, &errors);
    if (errors == NULL)
	fuzz_fail("config_load() left *errors NULL");
    for (guint i = 0; i < errors->len; i++) {
	const char *e = g_ptr_array_index(errors, i);

	if (!g_str_has_prefix(e, path) || e[strlen(path)] != ':')
	    fuzz_fail("error does not name the file: %s", e);
    }
    if (cfg == NULL && errors->len == 0)
	fuzz_fail("config_load() refused the file without an error");
    if (cfg && errors->len)
	fuzz_fail("config_load() loaded a file with %u errors", errors->len);
    if (cfg) {
	if (cfg->mailboxes->len == 0)
	    fuzz_fail("loaded without a mailbox");
	for (int i = 0; rcpts[i]; i++)
	    (void) config_match(cfg, rcpts[i]);
	for (guint i = 0; i < cfg->mailboxes->len; i++) {
	    const struct mailbox *m = g_ptr_array_index(cfg->mailboxes, i);

	    if (config_mailbox(cfg, m->name) != m)
		fuzz_fail("config_mailbox(\"%s\") does not find it", m->name);
	    if (m->address && m->active && config_match(cfg, m->address) != m)
		fuzz_fail("config_match(\"%s\") does not find [mailbox %s]", m->address,
			  m->name);
	}
    }
    config_free(cfg);
    g_ptr_array_free(errors, TRUE);
    return 0;
}
