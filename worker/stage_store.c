/*
 * NAME
 *	stage_store - write the ticket and the message
 * SYNOPSIS
 *	enum stage_result stage_store(job)
 * DESCRIPTION
 *	First the duplicate check: the envelope's de-duplication key (the
 *	Message-ID, Date, From, Subject and body hash: what an MTA retry, a
 *	redelivery after a crash or a second MX keeps) plus the mailbox name
 *	is unique in the store. A mail seen before ends the job here; the
 *	store's UNIQUE constraint is the final guard against two workers
 *	racing, inside the same transaction.
 *
 *	Then a follow-up is added to its ticket (a closed ticket is reopened
 *	when stage_thread.c says so: job->reopen; its job->thread_note goes
 *	into the message's note) and any other mail opens a new ticket
 *	(linked to job->link when stage_thread.c found one it may not
 *	join; with the normalised sender and subject that find a
 *	near-duplicate), with the message: sender,
 *	recipients, the mailbox's header_fields, the text, the original
 *	message and the attachments (their contents come from the original;
 *	when that was cut at [milter] raw_max_size the attachments are
 *	listed but not stored).
 *
 *	The message's note says where the milter cut the mail, from the
 *	envelope's marks (truncated, mime_truncated, text_truncated,
 *	attachments_truncated, raw_truncated, headers_dropped,
 *	recipients_dropped), naming the
 *	[milter] limit that cut it: an agent sees that the ticket does not
 *	show the whole mail, a postmaster which key to raise.
 *
 *	A mail with no text (only an attachment, a scanned PDF, a calendar
 *	invitation, an empty body) is stored with an empty text. One the
 *	milter found encrypted (envelope member "encrypted": "pgp" or
 *	"smime", optional) and that therefore has no readable text gets a
 *	text saying so and naming the attachments that hold it, e.g.
 *	"[encrypted message (S/MIME): see the attachment smime.p7m]": an
 *	agent must not take it for an empty mail.
 */
#include <string.h>

#include "addr.h"
#include "envelope.h"
#include "log.h"
#include "job.h"
#include "subject.h"

static char *address_list(json_t *list)
{
    GString *s = g_string_new(NULL);
    json_t *a;
    size_t  i;

    json_array_foreach(list, i, a) {
	const char *name = envelope_str(a, "name");

	if (s->len)
	    g_string_append(s, ", ");
	if (*name)
	    g_string_append_printf(s, "%s <%s>", name, envelope_str(a, "address"));
	else
	    g_string_append(s, envelope_str(a, "address"));
    }
    return g_string_free(s, FALSE);
}

/* header_fields - [[name, value]] of the mailbox's header_fields */
static char *header_fields(struct job *job)
{
    static const char *const default_fields[] = {"To", "Cc", NULL};
    const char *const *fields = job->mailbox && job->mailbox->header_fields
	? (const char *const *) job->mailbox->header_fields : default_fields;
    json_t *out = json_array();
    char   *text;

    for (int i = 0; fields[i]; i++) {
	const char *f = fields[i];
	g_autofree char *value = NULL;

	if (g_ascii_strcasecmp(f, "To") == 0 || g_ascii_strcasecmp(f, "Cc") == 0
	    || g_ascii_strcasecmp(f, "From") == 0 || g_ascii_strcasecmp(f, "Reply-To") == 0) {
	    g_autofree char *key = g_ascii_strdown(f, -1);

	    g_strdelimit(key, "-", '_');
	    value = address_list(json_object_get(job->env, key));
	} else if (g_ascii_strcasecmp(f, "Subject") == 0 || g_ascii_strcasecmp(f, "Date") == 0
		   || g_ascii_strcasecmp(f, "Message-ID") == 0) {
	    g_autofree char *key = g_ascii_strdown(f, -1);

	    g_strdelimit(key, "-", '_');
	    value = g_strdup(envelope_str(job->env, key));
	} else {
	    const char *v = json_header(job->env, f);

	    value = v ? g_strdup(v) : NULL;
	}
	if (value && *value)
	    json_array_append_new(out, json_pack("[s,s]", f, value));
    }
    text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return text;
}

/*
 * encrypted_text - the text shown for an encrypted mail without readable
 * text (g_free), or NULL when the envelope's text is to be shown. The
 * PGP/MIME control part (application/pgp-encrypted, "Version: 1") holds
 * nothing a reader wants, so it is not named.
 */
static char *encrypted_text(json_t *env)
{
    const char *kind = json_string_value(json_object_get(env, "encrypted"));
    const char *label;
    g_autoptr(GString) names = NULL;
    json_t *a;
    size_t  i;
    guint   n = 0;

    if (kind == NULL || *envelope_str(env, "text"))
	return NULL;
    if (strcmp(kind, "smime") == 0)
	label = "S/MIME";
    else if (strcmp(kind, "pgp") == 0)
	label = "PGP";
    else
	label = kind;
    names = g_string_new(NULL);
    json_array_foreach(json_object_get(env, "attachments"), i, a) {
	if (g_ascii_strcasecmp(envelope_str(a, "content_type"), "application/pgp-encrypted") == 0)
	    continue;
	g_string_append_printf(names, "%s%s", n++ ? ", " : "", envelope_str(a, "filename"));
    }
    if (n == 0)
	return g_strdup_printf("[encrypted message (%s): the encrypted part is not listed]",
			       label);
    return g_strdup_printf("[encrypted message (%s): see the attachment%s %s]", label,
			   n > 1 ? "s" : "", names->str);
}

/* cut_note - what the milter cut of this mail and by which limit (g_free), or NULL */
static char *cut_note(json_t *env, gboolean contents_missing)
{
    GString *s = g_string_new(NULL);
    json_int_t size = json_integer_value(json_object_get(env, "size"));
    json_int_t n;

    if (json_is_true(json_object_get(env, "truncated")))
	g_string_append_printf(s, " The message (%" JSON_INTEGER_FORMAT " bytes) was larger"
			       " than [milter] max_message_size: it was read up to that size.",
			       size);
    if (json_is_true(json_object_get(env, "mime_truncated")))
	g_string_append(s, " The parser stopped where the mail passed [milter] max_mime_parts"
			" or max_mime_depth, or the parser's bounds on header text: the rest is"
			" kept in the original but not parsed (the envelope's warnings say where).");
    if (json_is_true(json_object_get(env, "text_truncated")))
	g_string_append(s, " The text was cut at [milter] max_text_size.");
    if (json_is_true(json_object_get(env, "attachments_truncated")))
	g_string_append(s, " It has more parts than [milter] max_attachments: the rest are"
			" not listed.");
    if ((n = json_integer_value(json_object_get(env, "headers_dropped"))) > 0)
	g_string_append_printf(s, " %" JSON_INTEGER_FORMAT " header fields beyond [milter]"
			       " max_headers were dropped.", n);
    if ((n = json_integer_value(json_object_get(env, "recipients_dropped"))) > 0)
	g_string_append_printf(s, " %" JSON_INTEGER_FORMAT " recipients beyond [milter]"
			       " max_recipients were not recorded.", n);
    if (json_is_true(json_object_get(env, "raw_truncated")))
	g_string_append_printf(s, " The original was kept up to [milter] raw_max_size"
			       " (%zu of %" JSON_INTEGER_FORMAT " bytes)%s.", envelope_raw_size(env),
			       size, contents_missing ? "; its attachments are listed but not stored"
			       : "");
    else if (contents_missing)
	g_string_append(s, " The attachments are listed but not stored (the original is"
			" missing).");
    if (s->len == 0)
	return g_string_free(s, TRUE);
    g_string_erase(s, 0, 1);
    return g_string_free(s, FALSE);
}

static void free_attachment(gpointer p)
{
    g_free(p);
}

enum stage_result stage_store(struct job *job)
{
    struct store *st = job->pl->store;
    json_t *env = job->env;
    gint64  dup_ticket = 0, msg_row = 0;
    g_autofree char *dup_number = NULL;
    g_autofree char *recipients = json_dumps(json_object_get(env, "recipients"), JSON_COMPACT);
    g_autofree char *fields = header_fields(job);
    g_autoptr(GPtrArray) attachments = g_ptr_array_new_with_free_func(free_attachment);
    g_autoptr(GPtrArray) contents = NULL;
    g_autoptr(GBytes) raw = NULL;
    g_autofree char *encrypted = encrypted_text(env);
    const char *thread_ids[2] = {NULL, NULL};
    g_autofree char *note = NULL;
    g_autofree char *sender_key = NULL;
    g_autofree char *subject_key_ = NULL;
    struct store_message m = {0};
    char   *why = NULL;
    json_t *a;
    size_t  i;
    int     rc;

    rc = st->ops->find_duplicate(st, job->dedupe_key, &dup_ticket, &dup_number, &why);
    if (rc != STORE_OK)
	return stage_store_status(rc, job, why);
    if (dup_ticket) {
	msg_info("%s: mailbox %s: duplicate of a message already on ticket %s: nothing to do",
		 job->qid, job->mailbox_name, dup_number);
	job->pl->duplicates++;
	return STAGE_DONE;
    }

    if (job->ticket.id) {
	job->ticket_id = job->ticket.id;
	job->number = g_strdup(job->ticket.number);
	if (job->reopen) {
	    rc = st->ops->set_status(st, job->ticket_id, "open", &why);
	    if (rc != STORE_OK)
		return stage_store_status(rc, job, why);
	    msg_info("%s: ticket %s reopened by a follow-up", job->qid, job->number);
	} else if (job->thread_note) {
	    msg_info("%s: ticket %s: %s", job->qid, job->number, job->thread_note);
	}
    } else {
	struct store_ticket t = {0};
	const char *subject = envelope_str(env, "subject");

	t.mailbox = job->mailbox_name;
	t.title = *subject ? subject : "(no subject)";
	t.category = job->category;
	t.priority = job->priority;
	t.type = job->type;
	t.language = job->language;
	t.customer_name = job->customer_name;
	t.customer_address = job->customer_address;
	t.status = "new";
	t.linked_to = job->link.id;
	t.link_reason = job->link.id ? job->link_reason : NULL;
	sender_key = addr_normalise(job->customer_address, job->pl->cfg->recipient_delimiter);
	subject_key_ = subject_key(subject);
	t.sender_key = sender_key;
	t.subject_key = subject_key_;
	rc = st->ops->create_ticket(st, &t, job->pl->cfg->ticket_prefix, &job->ticket_id,
				    &job->number, &why);
	if (rc != STORE_OK)
	    return stage_store_status(rc, job, why);
	job->is_new = TRUE;
    }

    /* The original and the attachments' contents. */
    if (job->raw && job->raw_len)
	raw = g_bytes_new_static(job->raw, job->raw_len);
    if (json_array_size(json_object_get(env, "attachments")) > 0)
	contents = envelope_attachments(env, job->raw, job->raw_len);
    note = cut_note(env, json_array_size(json_object_get(env, "attachments")) > 0
		    && contents == NULL);
    if (job->thread_note) {
	char   *both = g_strconcat(job->thread_note, note ? ". " : "", note, NULL);

	g_free(note);
	note = both;
    }
    json_array_foreach(json_object_get(env, "attachments"), i, a) {
	struct store_attachment *sa = g_new0(struct store_attachment, 1);

	sa->filename = envelope_str(a, "filename");
	sa->content_type = envelope_str(a, "content_type");
	sa->content_id = json_string_value(json_object_get(a, "content_id"));
	sa->size = json_integer_value(json_object_get(a, "size"));
	sa->content = contents && i < contents->len ? g_ptr_array_index(contents, i) : NULL;
	g_ptr_array_add(attachments, sa);
    }

    thread_ids[0] = json_string_value(json_object_get(env, "message_id"));
    m.direction = "in";
    m.envelope_id = envelope_str(env, "id");
    m.queue_id = job->qid;
    m.dedupe_key = job->dedupe_key;
    m.message_id = thread_ids[0];
    m.sender_name = job->customer_name;
    m.sender_address = job->customer_address;
    m.recipients = recipients;
    m.subject = envelope_str(env, "subject");
    m.header_fields = fields;
    m.body = encrypted ? encrypted : envelope_str(env, "text");
    m.raw = raw;
    m.raw_truncated = json_is_true(json_object_get(env, "raw_truncated"));
    m.note = note;
    m.attachments = attachments;
    m.thread_ids = thread_ids[0] ? thread_ids : NULL;
    rc = st->ops->add_message(st, job->ticket_id, &m, &msg_row, &why);
    if (rc != STORE_OK)
	return stage_store_status(rc, job, why);
    if (job->is_new) {
	job->pl->tickets_created++;
	msg_info("%s: ticket %s created: mailbox=%s from=<%s> message-id=<%s> attachments=%zu%s%s%s%s",
		 job->qid, job->number, job->mailbox_name, job->customer_address,
		 thread_ids[0] ? thread_ids[0] : "", json_array_size(json_object_get(env, "attachments")),
		 job->link.id ? " linked to " : "", job->link.id ? job->link.number : "",
		 job->link.id ? ": " : "", job->link.id ? job->link_reason : "");
    } else {
	job->pl->messages_added++;
	msg_info("%s: ticket %s: follow-up added (%s) from=<%s>", job->qid, job->number,
		 job->thread_how, job->customer_address);
    }
    return STAGE_NEXT;
}
