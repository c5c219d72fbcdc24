/*
 * NAME
 *	checkconf - what the worker checks beyond the configuration file
 * SYNOPSIS
 *	void	worker_config_check(cfg, errors)
 * DESCRIPTION
 *	The extra checks of intake-worker -t and intakectl check-config,
 *	given to config_check() (common/config.c), and run by the worker at
 *	start and on SIGHUP: the reply template of every mailbox that sends
 *	acknowledgements loads (and the "closed" template of a mailbox with
 *	on_closed = refuse; "action_failed" of a mailbox whose action is not
 *	ticket and "action_done" of one with action_confirm = yes, whether it
 *	acknowledges or not), in the mailbox's language and in each of
 *	[worker] languages (a detected language chooses the template: a
 *	broken ack.da.txt is found now, a missing one falls back), the
 *	fingerprints of [worker] languages load, the directory of [store] path exists (backend
 *	sqlite; postgresql: [store] conninfo is set, password_file readable), and the
 *	Message-ID secrets load (msgid_key_check(): the current one may be
 *	missing, the worker makes it), and the routing rules of [worker]
 *	rules load, with the templates they name (rules.c), and so do the
 *	keyword tags of [worker] tags (classify_tags.c); [worker]
 *	faq_directory, when set, is a directory; [http] token_file loads
 *	(api_config_check(), api.c); the [sink NAME] sections
 *	load (sink_config.c: their keys, and each type's, such as a
 *	webhook's secret file). Missing sentiment
 *	lexicons are no error (the worker warns and scores nothing).
 *	The milter needs neither, so its -t runs config_check() without them
 *	(common/ cannot reach worker code).
 * DIAGNOSTICS
 *	One text per problem, added to errors (g_strdup'ed, the array owns
 *	it), naming the file, the section and the key.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "checkconf.h"
#include "sinks.h"
#include "classify_lang.h"
#include "msgid.h"
#include "classify_tags.h"
#include "rules.h"
#include "template.h"

/*
 * check_rules - the routing rules file loads (rules.c names file, line,
 * rule and key), and every template a rule names renders for the
 * languages of the mailboxes the rule applies to.
 */
static void check_rules(const struct intake_config *cfg, struct templates *ts,
			GPtrArray *errors)
{
    struct rules *rs = rules_load(cfg->worker_rules, cfg, errors);

    for (guint i = 0; rs && i < rs->list->len; i++) {
	const struct rule *r = g_ptr_array_index(rs->list, i);

	for (guint j = 0; (r->template_name || r->notify) && j < cfg->mailboxes->len; j++) {
	    const struct mailbox *m = g_ptr_array_index(cfg->mailboxes, j);
	    const char *key = r->template_name ? "template" : "notify";
	    const char *name = r->template_name ? r->template_name : "notify";
	    char   *why = NULL;

	    if (r->mailboxes && !g_strv_contains((const char *const *) r->mailboxes, m->name))
		continue;
	    if (templates_check(ts, name, m->language, &why) == 0 && r->template_name
		&& r->notify && templates_check(ts, "notify", m->language, &why) < 0) {
		key = "notify";
		name = "notify";
	    }
	    if (why) {
		g_ptr_array_add(errors, g_strdup_printf("%s:%d: [rule %s] key '%s': template"
							" '%s' language '%s' (of mailbox %s): %s",
							rs->path, strcmp(key, "template") == 0
							? r->template_line : r->notify_line,
							r->name, key, name, m->language, m->name,
							why));
		g_free(why);
	    }
	}
    }
    rules_free(rs);
}

void    worker_config_check(const struct intake_config *cfg, GPtrArray *errors)
{
    /* The [sink NAME] sections: only the worker reads them (sink_config.c). */
    sinks_free(sinks_load(cfg, errors));
    struct templates *ts = templates_new(cfg->templates_dir);
    g_autofree char *dir = g_path_get_dirname(cfg->store_path);

    for (guint i = 0; i < cfg->mailboxes->len; i++) {
	const struct mailbox *m = g_ptr_array_index(cfg->mailboxes, i);
	char   *why = NULL;

	/* A mailbox action's notices (docs/actions.md). */
	if (strcmp(m->action, "ticket") != 0
	    && templates_check(ts, "action_failed", m->language, &why) < 0) {
	    g_ptr_array_add(errors, g_strdup_printf("%s: [mailbox %s] key 'action': %s sends"
						    " template 'action_failed' language '%s': %s",
						    cfg->path, m->name, m->action, m->language,
						    why));
	    g_free(why);
	}
	if (strcmp(m->action, "ticket") != 0 && m->action_confirm
	    && templates_check(ts, "action_done", m->language, &why) < 0) {
	    g_ptr_array_add(errors, g_strdup_printf("%s: [mailbox %s] key 'action_confirm':"
						    " yes sends template 'action_done' language"
						    " '%s': %s", cfg->path, m->name, m->language,
						    why));
	    g_free(why);
	}
	if (!m->acknowledge)
	    continue;
	if (templates_check(ts, m->template_name, m->language, &why) < 0) {
	    g_ptr_array_add(errors, g_strdup_printf("%s: [mailbox %s] key 'template': '%s'"
						    " language '%s': %s", cfg->path, m->name,
						    m->template_name, m->language, why));
	    g_free(why);
	}
	for (char **l = cfg->languages; l && *l; l++) {
	    if (strcmp(*l, m->language) != 0
		&& templates_check(ts, m->template_name, *l, &why) < 0) {
		g_ptr_array_add(errors, g_strdup_printf("%s: [mailbox %s] key 'template': '%s'"
							" for detected language '%s' ([worker]"
							" languages): %s", cfg->path, m->name,
							m->template_name, *l, why));
		g_free(why);
	    }
	}
	if (strcmp(m->on_closed, "refuse") == 0
	    && templates_check(ts, "closed", m->language, &why) < 0) {
	    g_ptr_array_add(errors, g_strdup_printf("%s: [mailbox %s] key 'on_closed': refuse"
						    " sends template 'closed' language '%s': %s",
						    cfg->path, m->name, m->language, why));
	    g_free(why);
	}
    }
    check_rules(cfg, ts, errors);
    api_config_check(cfg, errors);
    tags_free(tags_load(cfg->worker_tags, cfg, errors));
    templates_free(ts);
    if (cfg->languages && *cfg->languages) {
	char   *why = NULL;
	struct lang_detector *ld = lang_detector_new((const char *const *) cfg->languages,
						     TEXTCAT_DATADIR, &why);

	if (ld == NULL) {
	    g_ptr_array_add(errors, g_strdup_printf("%s: [worker] key 'languages': %s", cfg->path,
						    why));
	    g_free(why);
	}
	lang_detector_free(ld);
    }
    {
	char   *why = NULL;
	const char *key = "message_id_secret_file";

	if (msgid_key_check(cfg->msgid_secret_file, TRUE, &why) == 0 && *cfg->msgid_secret_file_old
	    && msgid_key_check(cfg->msgid_secret_file_old, FALSE, &why) < 0)
	    key = "message_id_secret_file_old";
	if (why) {
	    g_ptr_array_add(errors, g_strdup_printf("%s: [worker] key '%s': %s", cfg->path, key,
						    why));
	    g_free(why);
	}
    }
    if (strcmp(cfg->store_backend, "postgresql") == 0 && *cfg->store_conninfo == 0)
	g_ptr_array_add(errors, g_strdup_printf("%s: [store] key 'conninfo': backend postgresql"
						" needs a libpq connection string, e.g."
						" 'host=db.example dbname=intake user=intake'",
						cfg->path));
    if (*cfg->store_password_file && access(cfg->store_password_file, R_OK) != 0)
	g_ptr_array_add(errors, g_strdup_printf("%s: [store] key 'password_file': cannot read"
						" %s: %s", cfg->path, cfg->store_password_file,
						g_strerror(errno)));
    if (strcmp(cfg->store_backend, "sqlite") == 0 && !g_file_test(dir, G_FILE_TEST_IS_DIR))
	g_ptr_array_add(errors, g_strdup_printf("%s: [store] key 'path': directory %s does"
						" not exist (create it, owned by the worker's"
						" user, mode 0750)", cfg->path, dir));
    /* The files themselves are read (and each error named) by the sync: faq_files.c. */
    if (*cfg->faq_directory && !g_file_test(cfg->faq_directory, G_FILE_TEST_IS_DIR))
	g_ptr_array_add(errors, g_strdup_printf("%s: [worker] key 'faq_directory': %s is not a"
						" directory (a folder of collections of FAQ files:"
						" docs/classify.md)", cfg->path,
						cfg->faq_directory));
}
