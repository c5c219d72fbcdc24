/*
 * NAME
 *	fuzz_ack - fuzz target: ack_policy(), srs_decode(), ack_auth_failure()
 * DESCRIPTION
 *	The input is up to six NUL-separated fields a sender controls: the
 *	envelope sender, the From address, the raw From field, the Reply-To
 *	address, an Authentication-Results field and an X-Loop field; each
 *	cut at 998 bytes like a header line and made valid UTF-8 (the
 *	envelope holds nothing else). Each input is decided for both kinds
 *	of mailbox (reply_to envelope and from_if_aligned).
 *	Properties: an acknowledgement that may go has a plain address
 *	(reply_safe_address() keeps it), not ours, not of the no-reply kind;
 *	a refusal comes with a reason; srs_decode() returns NULL or a
 *	shorter local@domain; ack_auth_failure() says spf, dmarc or nothing.
 */
#include <string.h>

#include "ack_policy.h"
#include "config.h"
#include "reply.h"
#include "srs.h"
#include "fuzz.h"

#define FIELDS 6
#define MAX_FIELD 998

static const char conf_text[] =
    "[worker]\n"
    "authserv_id = mx.example.com\n"
    "[mailbox support]\n"
    "address = support@example.com\n"
    "aliases = help@example.com\n"
    "[mailbox aligned]\n"
    "address = aligned@example.com\n"
    "reply_to = from_if_aligned\n";

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct intake_config *cfg = fuzz_config("ack.conf", conf_text);
    char   *f[FIELDS] = {0};
    const uint8_t *p = data, *end = data + size;
    json_t *env;
    const char *auth;

    fuzz_init();
    for (int i = 0; i < FIELDS; i++) {
	const uint8_t *nul = p < end ? memchr(p, 0, end - p) : NULL;
	size_t  len = p < end ? (size_t) ((nul ? nul : end) - p) : 0;

	f[i] = g_utf8_make_valid((const char *) p, MIN(len, MAX_FIELD));
	p = nul ? nul + 1 : end;
    }
    env = json_pack("{s:s,s:[{s:s,s:s}],s:[[s,s],[s,s],[s,s]],s:{s:s}}",
		    "sender", f[0], "from", "name", "", "address", f[1],
		    "headers", "From", f[2], "Authentication-Results", f[4], "X-Loop", f[5],
		    "autogen", "kind", "human");
    if (*f[3])
	json_object_set_new(env, "reply_to", json_pack("[{s:s,s:s}]", "name", "", "address", f[3]));

    for (guint m = 0; m < cfg->mailboxes->len; m++) {
	struct ack_request rq = {env, cfg, g_ptr_array_index(cfg->mailboxes, m), FALSE};
	g_autofree char *to = NULL;
	const char *why = ack_policy(&rq, &to);

	if (why == NULL) {
	    g_autofree char *safe = to ? reply_safe_address(to) : NULL;

	    if (to == NULL || safe == NULL || strcmp(safe, to) != 0)
		fuzz_fail("may answer, but the address is not plain: %s", to ? to : "(null)");
	    if (config_match(cfg, to))
		fuzz_fail("may answer one of our own addresses: %s", to);
	    if (ack_no_reply_address(to))
		fuzz_fail("may answer a no-reply address: %s", to);
	} else if (*why == 0) {
	    fuzz_fail("a refusal without a reason");
	}
    }
    {
	g_autofree char *srs = srs_decode(f[0]);

	if (srs && (strlen(srs) >= strlen(f[0]) || strchr(srs, '@') == NULL))
	    fuzz_fail("srs_decode('%s') gave '%s'", f[0], srs);
    }
    auth = ack_auth_failure(env, cfg->authserv_ids);
    if (auth && strcmp(auth, "spf") != 0 && strcmp(auth, "dmarc") != 0)
	fuzz_fail("ack_auth_failure() said '%s'", auth);

    json_decref(env);
    for (int i = 0; i < FIELDS; i++)
	g_free(f[i]);
    return 0;
}
