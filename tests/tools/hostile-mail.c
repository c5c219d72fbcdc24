/*
 * NAME
 *	hostile-mail - write a hostile mail of a given kind and size
 * SYNOPSIS
 *	hostile-mail KIND SIZE SUBJECT > FILE
 * DESCRIPTION
 *	Writes one RFC 5322 message (CRLF line ends) to standard output,
 *	From alice@customer.example To support@example.test, with the
 *	given Subject (a test finds its ticket by it) and a unique
 *	Message-ID, whose hostile part is about SIZE bytes (suffixes k, M:
 *	powers of 1000):
 *
 *	parts	multipart/mixed of empty parts ("--b" CRLF CRLF each, about
 *		nine bytes): 10M is over a million parts.
 *	html	a text/html body of nested markup, entities and long lines.
 *	text	a text/plain body of ordinary lines.
 *	encwords
 *		100 To: header fields, each folded lines of "=?a?B? " (the
 *		start of an encoded word that never ends), SIZE in all.
 *	deep	multipart nested SIZE levels deep (one boundary per level).
 *	big	a short text/plain part and an application/octet-stream
 *		attachment (base64) making up SIZE: for a mail over
 *		[milter] max_message_size.
 *
 *	The output is written in chunks; memory use does not grow with SIZE.
 * DIAGNOSTICS
 *	Exit status 2 and a usage line for a bad argument, 1 for a write
 *	error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void put(const char *s)
{
    if (fputs(s, stdout) == EOF) {
	perror("hostile-mail: write");
	exit(1);
    }
}

/* repeat - write unit until at least size bytes are written; returns bytes written */
static unsigned long long repeat(const char *unit, unsigned long long size)
{
    unsigned long long n = 0, len = strlen(unit);

    while (n < size) {
	put(unit);
	n += len;
    }
    return n;
}

static unsigned long long parse_size(const char *s)
{
    char   *end;
    unsigned long long n = strtoull(s, &end, 10);

    if (*end == 'k' || *end == 'K')
	n *= 1000, end++;
    else if (*end == 'M')
	n *= 1000 * 1000, end++;
    if (*end || n == 0) {
	fprintf(stderr, "hostile-mail: bad size '%s'\n", s);
	exit(2);
    }
    return n;
}

static void header(const char *subject, const char *content_type)
{
    printf("From: Alice Example <alice@customer.example>\r\n"
	   "To: support@example.test\r\n"
	   "Subject: %s\r\n"
	   "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
	   "Message-ID: <hostile.%ld.%ld@customer.example>\r\n"
	   "MIME-Version: 1.0\r\n", subject, (long) time(NULL), (long) getpid());
    if (content_type)
	printf("Content-Type: %s\r\n", content_type);
}

int     main(int argc, char **argv)
{
    unsigned long long size;
    const char *kind;

    if (argc != 4) {
	fprintf(stderr, "usage: hostile-mail parts|html|text|encwords|deep|big SIZE SUBJECT\n");
	return 2;
    }
    kind = argv[1];
    size = parse_size(argv[2]);
    if (strcmp(kind, "parts") == 0) {
	header(argv[3], "multipart/mixed; boundary=\"b\"");
	put("\r\n");
	repeat("--b\r\n\r\n\r\n", size);
	put("--b--\r\n");
    } else if (strcmp(kind, "html") == 0) {
	header(argv[3], "text/html; charset=utf-8");
	put("\r\n<html><body>\r\n");
	repeat("<div><p>Hello &amp; <b>w&ouml;rld</b> <a href=\"http://x.example/?a=1&b=2\">"
	       "link</a><table><tr><td>cell</td></tr></table></p></div>\r\n", size);
	put("</body></html>\r\n");
    } else if (strcmp(kind, "text") == 0) {
	header(argv[3], "text/plain; charset=utf-8");
	put("\r\n");
	repeat("The printer on the third floor is on fire again, please send help.\r\n", size);
    } else if (strcmp(kind, "encwords") == 0) {
	unsigned long long each = size / 100;

	printf("From: Alice Example <alice@customer.example>\r\n"
	       "Subject: %s\r\n"
	       "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
	       "Message-ID: <hostile.%ld.%ld@customer.example>\r\n",
	       argv[3], (long) time(NULL), (long) getpid());
	for (int i = 0; i < 100; i++) {
	    put("To: support@example.test,");
	    /* ten "=?a?B? " (70 bytes) per folded line */
	    repeat("\r\n =?a?B? =?a?B? =?a?B? =?a?B? =?a?B? =?a?B? =?a?B? =?a?B? =?a?B? =?a?B?",
		   each);
	    put("\r\n");
	}
	put("\r\nThe To: fields above are hostile.\r\n");
    } else if (strcmp(kind, "deep") == 0) {
	header(argv[3], "multipart/mixed; boundary=\"d0\"");
	put("\r\n");
	for (unsigned long long i = 1; i <= size; i++)
	    printf("--d%llu\r\nContent-Type: multipart/mixed; boundary=\"d%llu\"\r\n\r\n",
		   i - 1, i);
	printf("--d%llu\r\nContent-Type: text/plain\r\n\r\nThe bottom.\r\n--d%llu--\r\n",
	       size, size);
	for (unsigned long long i = size; i-- > 0;)
	    printf("--d%llu--\r\n", i);
    } else if (strcmp(kind, "big") == 0) {
	header(argv[3], "multipart/mixed; boundary=\"b\"");
	put("\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
	    "--b\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"
	    "Content-Disposition: attachment; filename=\"big.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	repeat("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n",
	       size);
	put("--b--\r\n");
    } else {
	fprintf(stderr, "hostile-mail: unknown kind '%s'\n", kind);
	return 2;
    }
    if (fflush(stdout) == EOF) {
	perror("hostile-mail: write");
	return 1;
    }
    return 0;
}
