/*
 * NAME
 *	sink_config - the [sink NAME] sections of intake.conf
 * SYNOPSIS
 *	#include "sinks.h"
 *
 *	struct sinks *sinks_load(cfg, errors)
 *	struct sinks *sinks_free(s)
 *	const char **sinks_wanting(s, kind, mailbox)
 *	gboolean sinks_want(s, kind, mailbox)
 *	void	sinks_dump_keys(out)
 *	int	sink_key_duration(kf, group, key)
 * DESCRIPTION
 *	common/config.c reads intake.conf for both daemons and lets [sink
 *	NAME] sections be: only the worker delivers events, so only the
 *	worker reads them, here, from the same file (cfg->path) with
 *	cfgfile.c for line numbers. The keys every sink has are
 *	sink_common_keys[] (type, mailboxes, events, retry_min, retry_max,
 *	timeout); the type's own keys are its sink_type.keys, read by its
 *	configure(). A key that is neither is an error, as in config.c.
 *
 *	sinks_load() returns the sinks (an empty list when there are none),
 *	or NULL with every problem added to errors. sinks_wanting() is the
 *	NULL-terminated names of the sinks that want an event of kind for
 *	mailbox (g_free the array, the names are borrowed from s), or NULL
 *	when none does. sinks_want() says whether any does, without
 *	allocating: a stage asks it before it builds an event's payload
 *	(the mail's text copied into JSON), which most workers, without
 *	sinks, would build only to throw away. sinks_dump_keys() prints
 *	the common keys (and the webhook type's, sink_webhook_dump_keys(),
 *	and the rt type's) with their defaults as config-defaults prints
 *	the others (it_docs_config_keys).
 * DIAGNOSTICS
 *	"intake.conf:LINE: [sink NAME] key 'KEY': what is wrong; expected ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "sinks.h"
#include "sink_webhook.h"
#include "sink_rt.h"

#define SINK_PREFIX	"sink "
#define SINK_NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
#define SINK_NAME_MAX	64
#define DURATION_MAX_S	(7 * 86400)

/* The keys of every [sink NAME], with their defaults: one table, for the parser and the docs test. */
static const struct {
    const char *name;
    const char *def;			/* NULL: required */
} common_keys[] = {
    {"type", NULL},
    {"mailboxes", "all"},
    {"events", "all"},
    {"retry_min", "10s"},
    {"retry_max", "1h"},
    {"timeout", "30s"},
    {0},
};

const char *const sink_common_keys[] = {"type", "mailboxes", "events", "retry_min",
    "retry_max", "timeout", NULL};

const char *const sink_event_names[SINK_EVENT_KINDS] = {
    [SINK_EV_TICKET_CREATED] = "ticket.created",
    [SINK_EV_MESSAGE_ADDED] = "message.added",
    [SINK_EV_TICKET_REOPENED] = "ticket.reopened",
    [SINK_EV_AUTOGEN_KEPT] = "autogen.kept",
    [SINK_EV_REPLY_FAILED] = "reply.failed",
};

static const char *common_default(const char *key)
{
    for (int i = 0; common_keys[i].name; i++)
	if (strcmp(common_keys[i].name, key) == 0)
	    return common_keys[i].def;
    return NULL;
}

void    sinks_dump_keys(FILE *out)
{
    for (int i = 0; common_keys[i].name; i++) {
	if (common_keys[i].def)
	    fprintf(out, "sink NAME\t%s\tdefault\t%s\n", common_keys[i].name, common_keys[i].def);
	else
	    fprintf(out, "sink NAME\t%s\trequired\n", common_keys[i].name);
    }
    sink_webhook_dump_keys(out);
    sink_rt_dump_keys(out);
}

/*
 * parse_duration - "N", "Ns", "Nm", "Nh" or "Nd" as seconds, 1 ..
 * DURATION_MAX_S; -1 when it is none.
 */
static int parse_duration(const char *s)
{
    char   *end;
    gint64  n, unit = 1;

    if (!g_ascii_isdigit(*s))
	return -1;
    n = g_ascii_strtoll(s, &end, 10);
    if (n <= 0 || n > DURATION_MAX_S)
	return -1;
    if (*end == 's')
	end++;
    else if (*end == 'm')
	unit = 60, end++;
    else if (*end == 'h')
	unit = 3600, end++;
    else if (*end == 'd')
	unit = 86400, end++;
    if (*end || n * unit > DURATION_MAX_S)
	return -1;
    return (int) (n * unit);
}

static int duration_key(GKeyFile *kf, const char *group, struct cfgfile *cf, const char *key)
{
    g_autofree char *v = cfgfile_string(kf, group, key);
    int     n = parse_duration(v ? v : common_default(key));

    if (n < 0)
	cfgfile_error(cf, group, key, "expected a duration such as 30s, 5m or 1h (at most 7d),"
		      " got '%s'", v);
    return n;
}

static void sink_conf_free(gpointer p)
{
    struct sink_conf *sc = p;

    if (sc->type && sc->state)
	sc->type->free(sc->state);
    g_free(sc->name);
    g_strfreev(sc->mailboxes);
    g_free(sc);
}

/* is_key_of - is key one of the NULL-terminated keys? */
static gboolean is_key_of(const char *const *keys, const char *key)
{
    for (int i = 0; keys && keys[i]; i++)
	if (strcmp(keys[i], key) == 0)
	    return TRUE;
    return FALSE;
}

/* load_one - one [sink NAME]; NULL after cfgfile_error() */
static struct sink_conf *load_one(const struct intake_config *cfg, GKeyFile *kf,
				  const char *group, struct cfgfile *cf)
{
    struct sink_conf *sc = g_new0(struct sink_conf, 1);
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
    g_autofree char *type = cfgfile_string(kf, group, "type");
    g_auto(GStrv) events = NULL;
    guint   before = cf->nerrors;

    sc->name = g_strdup(group + strlen(SINK_PREFIX));
    if (*sc->name == 0 || strlen(sc->name) > SINK_NAME_MAX
	|| strspn(sc->name, SINK_NAME_CHARS) != strlen(sc->name))
	cfgfile_error(cf, group, NULL, "a sink name is 1 to %d letters, digits, '-', '_' and"
		      " '.', such as [sink helpdesk]", SINK_NAME_MAX);
    if (type == NULL || *type == 0) {
	g_autofree char *names = sink_type_names();

	cfgfile_error(cf, group, NULL, "no key 'type': write type = one of %s", names);
    } else if ((sc->type = sink_type_find(type)) == NULL) {
	g_autofree char *names = sink_type_names();

	cfgfile_error(cf, group, "type", "expected one of %s, got '%s'", names, type);
    }
    /* Without a type its keys are not known: the type's error is the one to fix first. */
    for (int i = 0; sc->type && keys && keys[i]; i++)
	if (!is_key_of(sink_common_keys, keys[i]) && !is_key_of(sc->type->keys, keys[i]))
	    cfgfile_error(cf, group, keys[i], "unknown key (see docs/intake.conf.md for the"
			  " keys of [sink NAME] and of its type)");

    sc->mailboxes = cfgfile_list(kf, group, "mailboxes");
    if (sc->mailboxes && sc->mailboxes[0] && strcmp(sc->mailboxes[0], "all") == 0
	&& sc->mailboxes[1] == NULL)
	g_clear_pointer(&sc->mailboxes, g_strfreev);
    for (int i = 0; sc->mailboxes && sc->mailboxes[i]; i++) {
	gboolean found = FALSE;

	for (guint j = 0; j < cfg->mailboxes->len && !found; j++)
	    found = strcmp(((struct mailbox *) g_ptr_array_index(cfg->mailboxes, j))->name,
			   sc->mailboxes[i]) == 0;
	if (!found)
	    cfgfile_error(cf, group, "mailboxes", "no [mailbox %s]: expected names of"
			  " [mailbox NAME] sections, or all", sc->mailboxes[i]);
    }
    if (sc->mailboxes && sc->mailboxes[0] == NULL)
	cfgfile_error(cf, group, "mailboxes", "empty: leave the key out for all mailboxes");

    events = cfgfile_list(kf, group, "events");
    if (events == NULL || (events[0] && strcmp(events[0], "all") == 0 && events[1] == NULL)) {
	sc->events = (1u << SINK_EVENT_KINDS) - 1;
    } else {
	for (int i = 0; events[i]; i++) {
	    int     k;

	    for (k = 0; k < SINK_EVENT_KINDS; k++)
		if (strcmp(events[i], sink_event_names[k]) == 0)
		    break;
	    if (k == SINK_EVENT_KINDS)
		cfgfile_error(cf, group, "events", "expected ticket.created, message.added,"
			      " ticket.reopened, autogen.kept, reply.failed or all, got '%s'",
			      events[i]);
	    else
		sc->events |= 1u << k;
	}
	if (sc->events == 0 && cf->nerrors == before)
	    cfgfile_error(cf, group, "events", "empty: leave the key out for all events");
    }
    sc->retry_min_s = duration_key(kf, group, cf, "retry_min");
    sc->retry_max_s = duration_key(kf, group, cf, "retry_max");
    sc->timeout_s = duration_key(kf, group, cf, "timeout");
    if (sc->retry_min_s > 0 && sc->retry_max_s > 0 && sc->retry_max_s < sc->retry_min_s)
	cfgfile_error(cf, group, "retry_max", "%ds is less than retry_min (%ds)",
		      sc->retry_max_s, sc->retry_min_s);
    /* The type's keys last: its errors follow the common ones, in the file's terms. */
    if (sc->type && cf->nerrors == before
	&& (sc->state = sc->type->configure(kf, group, cf)) == NULL && cf->nerrors == before)
	cfgfile_error(cf, group, NULL, "type %s: not configured", sc->type->name);
    if (cf->nerrors != before) {
	sink_conf_free(sc);
	return NULL;
    }
    return sc;
}

/*
 * index_sinks - the line of each [sink NAME] and of each of its keys, as
 * cfgfile.c indexes its files. intake.conf is read as config.c reads it
 * (a section given twice continues, the later key wins: GKeyFile's
 * merge), not with cfgfile_load()'s stricter rules, so that a file both
 * daemons take is taken here too; the later line of a key is the one
 * that counts, so it is the one an error names.
 */
static void index_sinks(struct cfgfile *cf, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    const char *group = NULL;

    for (int i = 0; lines[i]; i++) {
	char   *l = g_strstrip(lines[i]);
	char   *e;

	if (*l == '[' && (e = strchr(l, ']')) != NULL) {
	    *e = 0;
	    group = g_str_has_prefix(l + 1, SINK_PREFIX) ? l + 1 : NULL;
	    if (group && !g_hash_table_contains(cf->lines, group))
		g_hash_table_insert(cf->lines, g_strdup(group), GINT_TO_POINTER(i + 1));
	} else if (group && *l != '#' && (e = strchr(l, '=')) != NULL) {
	    *e = 0;
	    g_hash_table_insert(cf->lines, g_strdup_printf("%s\001%s", group, g_strstrip(l)),
				GINT_TO_POINTER(i + 1));
	}
    }
}

struct sinks *sinks_load(const struct intake_config *cfg, GPtrArray *errors)
{
    struct cfgfile cf = {.path = cfg->path, .section = "sink", .errors = errors};
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) groups = NULL;
    gsize   len;
    struct sinks *s;

    /* config.c read this file a moment ago: an error now is the file changing under us. */
    if (!g_file_get_contents(cfg->path, &text, &len, &err)
	|| !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &err)) {
	g_ptr_array_add(errors, g_strdup_printf("%s: %s", cfg->path, err->message));
	return NULL;
    }
    cf.lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    index_sinks(&cf, text);
    s = g_new0(struct sinks, 1);
    s->list = g_ptr_array_new_with_free_func(sink_conf_free);
    groups = g_key_file_get_groups(kf, NULL);
    for (int i = 0; groups[i]; i++) {
	struct sink_conf *sc;

	if (!g_str_has_prefix(groups[i], SINK_PREFIX))
	    continue;
	if ((sc = load_one(cfg, kf, groups[i], &cf)) != NULL)
	    g_ptr_array_add(s->list, sc);
    }
    if (cf.nerrors) {
	cfgfile_clear(&cf);
	return sinks_free(s);
    }
    cfgfile_clear(&cf);
    return s;
}

struct sinks *sinks_free(struct sinks *s)
{
    if (s == NULL)
	return NULL;
    g_ptr_array_free(s->list, TRUE);
    g_free(s);
    return NULL;
}

/* wants - whether sink sc wants an event of kind for mailbox */
static gboolean wants(const struct sink_conf *sc, enum sink_event_kind kind, const char *mailbox)
{
    if (!(sc->events & (1u << kind)))
	return FALSE;
    return sc->mailboxes == NULL
	|| (mailbox && g_strv_contains((const char *const *) sc->mailboxes, mailbox));
}

gboolean sinks_want(const struct sinks *s, enum sink_event_kind kind, const char *mailbox)
{
    for (guint i = 0; s && i < s->list->len; i++)
	if (wants(g_ptr_array_index(s->list, i), kind, mailbox))
	    return TRUE;
    return FALSE;
}

const char **sinks_wanting(const struct sinks *s, enum sink_event_kind kind,
			   const char *mailbox)
{
    GPtrArray *names = NULL;

    if (s == NULL)
	return NULL;
    for (guint i = 0; i < s->list->len; i++) {
	const struct sink_conf *sc = g_ptr_array_index(s->list, i);

	if (!wants(sc, kind, mailbox))
	    continue;
	if (names == NULL)
	    names = g_ptr_array_new();
	g_ptr_array_add(names, sc->name);
    }
    if (names == NULL)
	return NULL;
    g_ptr_array_add(names, NULL);
    return (const char **) g_ptr_array_free(names, FALSE);
}

/*
 * sink_key_duration - a duration key of [sink NAME] in seconds, its
 * default when absent, -1 when bad (sinks_load() reports that): for a
 * type that needs the sink's timeout.
 */
int     sink_key_duration(GKeyFile *kf, const char *group, const char *key)
{
    g_autofree char *v = cfgfile_string(kf, group, key);
    const char *def = common_default(key);

    return parse_duration(v ? v : def ? def : "");
}
