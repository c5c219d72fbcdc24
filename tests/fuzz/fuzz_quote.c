/*
 * NAME
 *	fuzz_quote - fuzz target: a customer's new text and its language
 * DESCRIPTION
 *	The first byte picks the function, the rest is a mail's text (all
 *	of it chosen by a sender):
 *	0 quote_new_text(): the new text is a prefix no longer than the
 *	  text; cut by nothing means all of it (trailing white space aside);
 *	  a second pass over the new text cuts nothing more (what is new is
 *	  new); linear (the run's timeout);
 *	1 quote_own_lines(): never more than the buffer, every byte copied
 *	  from the text or a newline;
 *	2 lang_detect() over the text: NULL or one of the configured codes.
 */
#include <string.h>

#include "classify_lang.h"
#include "quote.h"
#include "fuzz.h"

static const char *const languages[] = {"de", "en", "da", "fr", "pl", NULL};

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lang_detector *ld;
    const char *text = (const char *) data + 1;
    size_t  len;

    fuzz_init();
    if (size < 1)
	return 0;
    len = size - 1;
    switch (data[0] % 3) {
    case 0:{
	    enum quote_cut how, again;
	    size_t  n = quote_new_text(text, len, &how);

	    if (n > len)
		fuzz_fail("quote_new_text: %zu bytes of %zu", n, len);
	    if (how == QUOTE_NONE) {
		for (size_t i = n; i < len; i++)
		    if (!strchr(" \t\r\n", text[i]))
			fuzz_fail("quote_new_text: cut by nothing, but byte %zu of %zu left out",
				  i, len);
	    } else if (quote_new_text(text, n, &again) != n) {
		fuzz_fail("quote_new_text: the new text (%zu bytes, cut by %s) is cut again by %s",
			  n, quote_cut_name(how), quote_cut_name(again));
	    }
	    break;
	}
    case 1:{
	    char    buf[64];
	    size_t  n = quote_own_lines(text, len, buf, sizeof(buf));

	    if (n > sizeof(buf))
		fuzz_fail("quote_own_lines: %zu bytes into a buffer of %zu", n, sizeof(buf));
	    for (size_t i = 0; i < n; i++)
		if (buf[i] != '\n' && memchr(text, buf[i], len) == NULL)
		    fuzz_fail("quote_own_lines: byte %zu (%d) is not from the text", i, buf[i]);
	    break;
	}
    case 2:{
	    const char *lang;

	    if (ld == NULL) {
		char   *why = NULL;

		if ((ld = lang_detector_new(languages, TEXTCAT_DATADIR, &why)) == NULL)
		    fuzz_fail("lang_detector_new: %s", why);
	    }
	    lang = lang_detect(ld, text, len, "en");
	    if (lang && !g_strv_contains(languages, lang))
		fuzz_fail("lang_detect: '%s' is no configured language", lang);
	    break;
	}
    }
    return 0;
}
