/*
 * NAME
 *	fuzz_thread - fuzz target: the threading rules on what a sender wrote
 * DESCRIPTION
 *	The first byte picks the function, the rest is its text (a
 *	reference, a mail's text, a subject: all chosen by a sender):
 *	0 msgid_verify(): what it accepts starts "i1." and names a number
 *	  that msgid_make() signs and msgid_verify() gives back (under a
 *	  fixed secret nothing the fuzzer writes verifies, so the number
 *	  part also goes through make and verify);
 *	1 thread_is_thanks(): no crash, linear (the run's timeout);
 *	2 subject_key(): valid UTF-8, never longer than 4 times the input
 *	  plus a character, and a key is its own key (idempotent: two
 *	  mails whose keys match would otherwise not match a third).
 */
#include <string.h>

#include "msgid.h"
#include "subject.h"
#include "thread_policy.h"
#include "fuzz.h"

static const char secret[] = "fuzz-secret-0123456789abcdef0123456789";

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = NULL;

    fuzz_init();
    if (size < 1)
	return 0;
    text = g_strndup((const char *) data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:{
	    struct msgid_keys *keys = msgid_keys_new(secret, strlen(secret), NULL, 0);
	    g_autofree char *number = msgid_verify(keys, text);
	    g_autofree char *id = msgid_make(keys, text, "example.test");

	    if (number && !g_str_has_prefix(text, "i1."))
		fuzz_fail("msgid_verify accepted an id without i1.: %s", text);
	    if (id) {
		g_autofree char *back = msgid_verify(keys, id);

		if (back == NULL || strcmp(back, text) != 0)
		    fuzz_fail("msgid_verify(msgid_make(\"%s\")) gave %s", text, back ? back : "NULL");
	    }
	    msgid_keys_free(keys);
	    break;
	}
    case 1:
	(void) thread_is_thanks(text);
	break;
    case 2:{
	    g_autofree char *key = subject_key(text);
	    g_autofree char *again = NULL;

	    if (!g_utf8_validate(key, -1, NULL))
		fuzz_fail("subject_key: not UTF-8");
	    if (strlen(key) > 4 * strlen(text) + 4)
		fuzz_fail("subject_key: %zu bytes from %zu", strlen(key), strlen(text));
	    again = subject_key(key);
	    if (strcmp(key, again) != 0)
		fuzz_fail("subject_key is not idempotent: \"%s\" -> \"%s\" -> \"%s\"", text, key,
			  again);
	    break;
	}
    }
    return 0;
}
