/*
 * NAME
 *	test_store_pg - unit tests of the PostgreSQL store that need no
 *	server (worker/store_pg.c)
 * DESCRIPTION
 *	What the store does before and without a connection: the password
 *	never appears in what it reports (a password in conninfo is masked,
 *	one from password_file is not shown), a conninfo libpq cannot parse
 *	and a password_file that cannot be read are named as [store] keys,
 *	the operations the pipeline and intakectl call are all there (the
 *	SQLite store's FAQ, category model, projects and kept-mail reports
 *	too) and the ones left out say "not supported by the postgresql
 *	store". The store against
 *	a real server: tests/it/it_pg_worker.sh and it_pg_workers.sh.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "store.h"
#include "tap.h"

#define SECRET	"s3cret-Pw-9f7"

static char *conf_text(const char *conninfo, const char *password_file)
{
    return g_strdup_printf("[store]\nbackend = postgresql\nconninfo = %s\npassword_file = %s\n"
			   "[mailbox support]\naddress = support@example.test\n",
			   conninfo, password_file ? password_file : "");
}

/* open_fails - store_open() must fail; *why returned (g_free) */
static char *open_fails(const char *name, const char *conninfo, const char *password_file)
{
    g_autofree char *text = conf_text(conninfo, password_file);
    struct intake_config *cfg = tap_config(text);
    struct store *st;
    char   *why = NULL;

    if (cfg == NULL)
	return g_strdup("");
    st = store_open(cfg, &why);
    ok(st == NULL, "%s: store_open fails", name);
    store_close(st);
    config_free(cfg);
    return why ? why : g_strdup("");
}

static void test_messages(const char *dir)
{
    /* A socket directory that does not exist: libpq fails at once, no server needed. */
    g_autofree char *nohost = g_build_filename(dir, "no-such-dir", NULL);
    g_autofree char *ci = g_strdup_printf("host=%s dbname=intake user=intake password=" SECRET,
					  nohost);
    g_autofree char *pwfile = g_build_filename(dir, "pw", NULL);
    g_autofree char *ci2 = g_strdup_printf("host=%s dbname=intake user=intake", nohost);
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    char   *why;

    why = open_fails("password in conninfo", ci, NULL);
    has_str(why, "cannot connect", "password in conninfo: the failure says what failed");
    has_str(why, "password=*****", "password in conninfo: masked in the message");
    ok(strstr(why, SECRET) == NULL, "password in conninfo: not in the message");
    g_free(why);

    if (!g_file_set_contents(pwfile, SECRET "\n", -1, NULL))
	g_error("cannot write %s", pwfile);
    why = open_fails("password_file", ci2, pwfile);
    has_str(why, "cannot connect", "password_file: the connection is tried");
    ok(strstr(why, SECRET) == NULL, "password_file: its password is not in the message");
    g_free(why);

    why = open_fails("password_file missing", ci2, missing);
    has_str(why, "[store] password_file", "password_file missing: the key is named");
    g_free(why);

    why = open_fails("bad conninfo", "host='unterminated", NULL);
    has_str(why, "[store] conninfo", "bad conninfo: the key is named");
    g_free(why);
}

/* The operations the pipeline and the outbox call without asking. */
static void test_ops(void)
{
    const struct store_ops *o = &store_pg_ops;
    const struct {
	const char *name;
	const void *fn;
    } required[] = {
	{"open", o->open}, {"close", o->close}, {"begin", o->begin}, {"commit", o->commit},
	{"rollback", o->rollback}, {"savepoint", o->savepoint}, {"release", o->release},
	{"rollback_to", o->rollback_to}, {"find_duplicate", o->find_duplicate},
	{"find_ticket", o->find_ticket}, {"find_by_message_ids", o->find_by_message_ids},
	{"is_party", o->is_party}, {"parties", o->parties},
	{"find_near_duplicate", o->find_near_duplicate}, {"create_ticket", o->create_ticket},
	{"set_status", o->set_status}, {"add_message", o->add_message},
	{"queue_reply", o->queue_reply}, {"replied_recently", o->replied_recently},
	{"next_reply", o->next_reply}, {"reply_state", o->reply_state},
	{"our_message_id", o->our_message_id}, {"recover_replies", o->recover_replies},
	{"find_our_reply", o->find_our_reply}, {"reply_bounced", o->reply_bounced},
	{"keep_autogen", o->keep_autogen}, {"prune_autogen", o->prune_autogen},
	{"list_tickets", o->list_tickets}, {"show_ticket", o->show_ticket}, {"stats", o->stats},
	{"set_routing", o->set_routing}, {"set_classes", o->set_classes},
	{"case_ticket", o->case_ticket}, {"load_attachment", o->load_attachment},
	{"set_ticket_faq", o->set_ticket_faq}, {"maintain", o->maintain},
	/* the SQLite store's other operations (branch pgparity) */
	{"list_autogen", o->list_autogen}, {"show_autogen", o->show_autogen},
	{"load_autogen", o->load_autogen}, {"autogen_imported", o->autogen_imported},
	{"add_record", o->add_record}, {"find_record", o->find_record},
	{"add_note", o->add_note}, {"add_time_entry", o->add_time_entry},
	{"list_records", o->list_records}, {"show_record", o->show_record},
	{"faq_put", o->faq_put}, {"faq_remove", o->faq_remove},
	{"faq_optimize", o->faq_optimize}, {"list_faq", o->list_faq},
	{"faq_match", o->faq_match}, {"set_category", o->set_category},
	{"training_docs", o->training_docs}, {"save_model", o->save_model},
	{"model_version", o->model_version}, {"load_model", o->load_model},
	{"page_tickets", o->page_tickets}, {"search_messages", o->search_messages},
	{"add_event", o->add_event}, {"next_event", o->next_event},
	{"event_state", o->event_state}, {"sink_status", o->sink_status},
	{"sink_retry", o->sink_retry}, {"prune_events", o->prune_events},
	{"sink_ref_get", o->sink_ref_get}, {"sink_ref_set", o->sink_ref_set},
    };
    struct store st = {.ops = o};
    char   *why = NULL;

    is_str(o->name, "postgresql", "store_pg_ops: named postgresql ([store] backend)");
    for (gsize i = 0; i < G_N_ELEMENTS(required); i++)
	ok(required[i].fn != NULL, "store_pg_ops: %s is implemented", required[i].name);
    ok(o->add_case != NULL && o->list_cases != NULL,
       "store_pg_ops: cases made by hand (add_case, list_cases)");
    ok(o->faq_version == NULL && o->faq_load == NULL,
       "store_pg_ops: no FAQ in memory (NULL: the store's query answers)");
    is_int(store_unsupported(&st, "faq load", &why), STORE_ERROR,
	   "store_unsupported: STORE_ERROR");
    is_str(why, "faq load: not supported by the postgresql store",
	   "store_unsupported: says which operation and which store");
    g_free(why);
}

int     main(void)
{
    g_autofree char *dir = g_dir_make_tmp("test_store_pg-XXXXXX", NULL);

    if (dir == NULL)
	g_error("cannot make a temporary directory");
    test_messages(dir);
    test_ops();
    tap_remove_tree(dir);
    return tap_done();
}
