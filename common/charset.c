/*
 * NAME
 *	charset - what a declared charset label is read as
 * SYNOPSIS
 *	#include "charset.h"
 *
 *	gboolean charset_utf8_first(name, len)
 *	const char *charset_reading(name, len)
 *	gboolean charset_html_meta(html, len, out, size)
 * DESCRIPTION
 *	A mail's charset label is a claim, often wrong in known ways. These
 *	say how to read text under a label (the len bytes at name, any case):
 *
 *	charset_utf8_first() is TRUE for labels whose text is read UTF-8
 *	first, each other byte as windows-1252 (common/mime.c, utf8_append()):
 *	US-ASCII, UTF-8, ISO-8859-1, windows-1252 and x-unknown.
 *
 *	charset_reading() names the charset to convert from where it is not
 *	the label itself: windows-1252 for ISO-8859-1 (in header fields,
 *	where GMime decodes), a superset for the labels of supersets[]; NULL
 *	for any other label. Every name it returns is one glibc's iconv has.
 *
 *	charset_html_meta() finds the label an HTML document declares in a
 *	<meta> tag (<meta charset="x">, or http-equiv's content="text/html;
 *	charset=x") among the len bytes at html (the caller gives the first
 *	CHARSET_META_SCAN, as browsers prescan the first 1024) and copies it
 *	to out (size bytes, NUL-terminated): FALSE when there is none, or it
 *	does not fit. Linear: each byte is looked at a bounded number of times.
 */
#include <string.h>

#include "charset.h"

/*
 * Declared charsets that are read as if none were declared: what is UTF-8
 * stays, each other byte is windows-1252 (utf8_append()). Mail declared
 * us-ascii often holds 8-bit text (web forms, scripts, old clients), mail
 * declared utf-8 sometimes Latin-1, and mail declared iso-8859-1 both
 * windows-1252's characters (the euro sign, typographic quotes and dashes
 * in 0x80-0x9F: browsers read the label as windows-1252 for that reason)
 * and UTF-8. iconv, through GMime's charset filter, silently dropped every
 * byte it could not convert ("café" became "caf", "€ 100" " 100") or made
 * UTF-8 into "Ã©". A Latin-1 text is read the same either way, but for a
 * pair of bytes that happens to be a UTF-8 character ("Ã©" itself).
 * "x-unknown" is here because GMime converts it as UTF-8.
 *
 * In header fields, where GMime decodes, charset_reading() names
 * windows-1252 for ISO-8859-1: its euro sign and quotes are kept there too.
 */
static const char *const utf8_first[] = {
    "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "iso-ir-6", "cp367", "ibm367",
    "csascii", "utf-8", "utf8", "unicode-1-1-utf-8", "x-unknown", "windows-1252", "cp1252",
    "x-cp1252",
};

/* The names of ISO-8859-1, read UTF-8 first as well. */
static const char *const latin1_names[] = {
    "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "cp819", "ibm819", "iso-ir-100",
    "csisolatin1",
};

/*
 * Labels read as a superset, as browsers read them (the WHATWG Encoding
 * Standard's decoders): mailers write the superset's characters under the
 * older label, and iconv drops what the label's own table lacks. Shift_JIS
 * lost the circled numbers and NEC/IBM kanji of Windows (CP932) and made
 * every backslash a yen sign; EUC-KR and ks_c_5601-1987 lost the 8,822
 * syllables of CP949 outside KS X 1001 (names such as "똠"); GB2312 and Big5
 * the characters GBK/GB18030 and HKSCS add; ISO-8859-9 and TIS-620 the
 * quotes and euro sign of windows-1254 and windows-874. Every name on the
 * right is one glibc's iconv has. ISO-8859-1 is read UTF-8 first in a
 * body (utf8_first[], latin1_names[]) and as windows-1252 elsewhere.
 */
static const struct {
    const char *label;
    const char *as;
} supersets[] = {
    {"shift_jis", "CP932"}, {"shift-jis", "CP932"}, {"sjis", "CP932"}, {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"}, {"csshiftjis", "CP932"}, {"windows-31j", "CP932"},
    {"ms932", "CP932"}, {"euc-jp", "EUC-JP-MS"}, {"x-euc-jp", "EUC-JP-MS"},
    {"cseucpkdfmtjapanese", "EUC-JP-MS"},
    {"euc-kr", "CP949"}, {"ks_c_5601-1987", "CP949"}, {"ks_c_5601-1989", "CP949"},
    {"ksc5601", "CP949"}, {"ksc_5601", "CP949"}, {"korean", "CP949"}, {"iso-ir-149", "CP949"},
    {"csksc56011987", "CP949"}, {"cseuckr", "CP949"}, {"windows-949", "CP949"},
    {"gb2312", "GB18030"}, {"gbk", "GB18030"}, {"x-gbk", "GB18030"}, {"chinese", "GB18030"},
    {"csgb2312", "GB18030"}, {"gb_2312-80", "GB18030"}, {"gb_2312", "GB18030"},
    {"iso-ir-58", "GB18030"}, {"cp936", "GB18030"}, {"ms936", "GB18030"},
    {"windows-936", "GB18030"}, {"euc-cn", "GB18030"},
    {"big5", "BIG5-HKSCS"}, {"cn-big5", "BIG5-HKSCS"}, {"csbig5", "BIG5-HKSCS"},
    {"x-x-big5", "BIG5-HKSCS"},
    {"iso-8859-9", "CP1254"}, {"iso8859-9", "CP1254"}, {"iso_8859-9", "CP1254"},
    {"latin5", "CP1254"}, {"l5", "CP1254"}, {"csisolatin5", "CP1254"}, {"iso-ir-148", "CP1254"},
    {"tis-620", "CP874"}, {"iso-8859-11", "CP874"}, {"iso8859-11", "CP874"},
    {"dos-874", "CP874"},
    {"x-mac-roman", "MACINTOSH"}, {"macintosh", "MACINTOSH"}, {"mac", "MACINTOSH"},
    {"csmacintosh", "MACINTOSH"}, {"iso-8859-8-i", "ISO-8859-8"},
    {"csiso88598i", "ISO-8859-8"},
};

static gboolean in_list(const char *const *list, gsize n, const char *name, gsize len)
{
    for (gsize i = 0; i < n; i++)
	if (g_ascii_strncasecmp(name, list[i], len) == 0 && list[i][len] == 0)
	    return TRUE;
    return FALSE;
}

gboolean charset_utf8_first(const char *name, gsize len)
{
    return in_list(utf8_first, G_N_ELEMENTS(utf8_first), name, len)
	|| in_list(latin1_names, G_N_ELEMENTS(latin1_names), name, len);
}

/* One hash lookup: every encoded word of a header asks (a million in 10 MB). */
const char *charset_reading(const char *name, gsize len)
{
    static GHashTable *labels;		/* lower-case label -> charset */
    static gsize once;
    char    low[32];

    if (g_once_init_enter(&once)) {
	labels = g_hash_table_new(g_str_hash, g_str_equal);
	for (gsize i = 0; i < G_N_ELEMENTS(latin1_names); i++)
	    g_hash_table_insert(labels, (gpointer) latin1_names[i], "windows-1252");
	for (gsize i = 0; i < G_N_ELEMENTS(supersets); i++)
	    g_hash_table_insert(labels, (gpointer) supersets[i].label, (gpointer) supersets[i].as);
	g_once_init_leave(&once, 1);
    }
    if (len == 0 || len >= sizeof(low))		/* no label is that long */
	return NULL;
    for (gsize i = 0; i < len; i++)
	low[i] = g_ascii_tolower(name[i]);
    low[len] = 0;
    return g_hash_table_lookup(labels, low);
}

/* meta_tag_end - where the tag that starts at p ends ('>' or end) */
static const char *meta_tag_end(const char *p, const char *end)
{
    const char *gt = memchr(p, '>', (gsize) (end - p));

    return gt ? gt : end;
}

gboolean charset_html_meta(const char *html, gsize len, char *out, gsize size)
{
    const char *end = html + len;

    for (const char *p = html; p + 5 <= end; p++) {
	const char *tag_end;

	if (*p != '<' || g_ascii_strncasecmp(p + 1, "meta", 4) != 0)
	    continue;
	tag_end = meta_tag_end(p, end);
	for (const char *q = p + 5; q + 7 <= tag_end; q++) {
	    const char *v;
	    gsize   n = 0;

	    if (g_ascii_strncasecmp(q, "charset", 7) != 0)
		continue;
	    v = q + 7;
	    while (v < tag_end && (*v == ' ' || *v == '\t'))
		v++;
	    if (v >= tag_end || *v != '=')
		continue;
	    v++;
	    while (v < tag_end && (*v == ' ' || *v == '\t' || *v == '"' || *v == '\''))
		v++;
	    while (v + n < tag_end && (g_ascii_isalnum(v[n]) || strchr("-_.:", v[n])) && v[n])
		n++;
	    if (n == 0 || n >= size)
		return FALSE;
	    memcpy(out, v, n);
	    out[n] = 0;
	    return TRUE;
	}
	p = tag_end - 1;		/* the loop steps past it */
    }
    return FALSE;
}
