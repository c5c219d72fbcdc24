#!/usr/bin/env python3
"""
NAME
    hostile-gen - hostile mails against the milter's parsing path and the worker

SYNOPSIS
    hostile-gen.py [-s SIZE] DIR [CASE...]
    hostile-gen.py -l

DESCRIPTION
    Writes one file per CASE (all of them when none is named) into DIR,
    DIR/CASE.eml, each about SIZE bytes (default 10,000,000: Postfix's
    message_size_limit) of what a sender could write to make parsing slow
    or big: long lines, many fields, many parts, floods of encoded words,
    escapes, entities or tags. -l lists the cases with what each tries.

    Measure each with the milter's code (docs/design.md, the table in
    "Parsing what a sender wrote"):
        build/release/bin/envelope-tool -s -r -a -c conf/intake.conf \\
            -m support DIR/CASE.eml >/dev/null
    Goals: at most 1 s of CPU and 32 MB above idle RSS, an envelope always.
    The cases whose description starts "worker:" shape the text and subject
    against what the worker does with them (quote separation, tags,
    sentiment, the category model, the full-text index); make bench (part 5)
    sends every case's envelope through an intake-worker too.
"""
import os
import sys

HDR = ("From: Attacker <a@example.test>\r\nTo: support@example.com\r\n"
       "Message-ID: <hostile@example.test>\r\nDate: Tue, 1 Dec 2026 03:00:00 +0000\r\n")


def fill(unit, size):
    """unit repeated to about size bytes"""
    return unit * max(1, size // len(unit))


def mail(headers, body, mime=""):
    return HDR + headers + mime + "\r\n" + body


def multipart(parts, subtype="mixed"):
    """a multipart of boundary b with these parts (each begins with --b)"""
    return mail("Subject: x\r\n", parts + "--b--\r\n",
                "MIME-Version: 1.0\r\nContent-Type: multipart/%s; boundary=b\r\n" % subtype)


CASES = {}


def case(doc):
    def register(f):
        CASES[f.__name__] = (doc, f)
        return f
    return register


@case("one Subject line of SIZE bytes, no fold")
def long_line(n):
    return mail("Subject: " + fill("a", n) + "\r\n", "hi\r\n")


@case("100,000 header fields")
def many_fields(n):
    return mail("".join("X-F%d: v\r\n" % i for i in range(100000)), "hi\r\n")


@case("a header block of SIZE bytes of short fields (no body)")
def big_header_block(n):
    return mail(fill("X-Pad: 0123456789012345678901234567890123456789\r\n", n), "hi\r\n")


@case("SIZE bytes of folded continuation lines in Subject")
def folded(n):
    return mail("Subject: start\r\n" + fill(" folded word\r\n", n), "hi\r\n")


@case("a Content-Type with an RFC 2231 parameter list name*0*= .. name*N*=")
def rfc2231(n):
    parts = "".join(";\r\n name*%d*=%%41%%42%%43" % i for i in range(n // 24))
    return mail("Subject: x\r\n", "hi\r\n",
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8" + parts + "\r\n"
                "Content-Disposition: attachment; filename*0*=utf-8''a" + "\r\n")


@case("a Content-Disposition filename of RFC 2231 continuations, in each of 1,000 parts")
def rfc2231_parts(n):
    per = n // 1000
    cont = "".join(";\r\n filename*%d*=%%41" % i for i in range(per // 20))
    return multipart(("--b\r\nContent-Type: application/octet-stream\r\n"
                      "Content-Disposition: attachment" + cont + "\r\n\r\nx\r\n") * 1000)


@case("a million parameters (not RFC 2231) in a Content-Type")
def many_params(n):
    return mail("Subject: x\r\n", "hi\r\n", "MIME-Version: 1.0\r\nContent-Type: text/plain"
                + fill("; p=v", n) + "\r\n")


@case("nested multiparts whose boundaries are prefixes of each other, many parts in each")
def prefix_boundaries(n):
    depth = 18
    out = []
    for d in range(depth):
        b = "b" * (d + 1)
        out.append("--%s\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n" % (
            b, "b" * (d + 2)))
    leaf = "--%s\r\nContent-Type: text/plain\r\n\r\n%s\r\n" % ("b" * (depth + 1), "b" * depth)
    out.append(fill(leaf, n))
    return mail("Subject: x\r\n", "".join(out),
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n")


@case("a 70-character boundary repeated in the body without being one")
def fake_boundary(n):
    b = "B" * 70
    body = "--%s\r\nContent-Type: text/plain\r\n\r\n" % b + fill("--%sX\r\n--%s-\r\n" % (b, b[:-1]), n)
    return mail("Subject: x\r\n", body + "--%s--\r\n" % b,
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n" % b)


@case("a million '--boundary' lines in one part, of a boundary not open there")
def boundary_flood(n):
    body = ("--outer\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n"
            "--inner\r\nContent-Type: text/plain\r\n\r\n" + fill("--other\r\n", n - 200)
            + "--inner--\r\n--outer--\r\n")
    return mail("Subject: x\r\n", body,
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n")


@case("a million lines '--b' that are part boundaries: parts without headers")
def part_flood(n):
    return mail("Subject: x\r\n", fill("--b\r\n", n),
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n")


@case("message/rfc822 nested 100 deep, encoded words in each header block")
def nested_rfc822(n):
    depth = 100
    word = "=?iso-8859-1?q?caf=E9?= =?utf-8?b?w6k=?= "
    head = "".join("Content-Type: message/rfc822\r\n\r\nSubject: %s\r\nFrom: %s <x@y>\r\n"
                   % (word * 50, word * 10) for _ in range(depth))
    return mail("Subject: x\r\n", head.split("\r\n\r\n", 1)[1] + "\r\n\r\nbody\r\n",
                "MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n")


@case("1,000 attached messages, each with SIZE/1000 of encoded words in its Subject")
def many_rfc822(n):
    per = n // 1000
    word = "=?koi8-r?q?=C1?= "
    part = ("--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: " + fill(word, per - 100)
            + "\r\n\r\nx\r\n")
    return multipart(part * 1000)


@case("SIZE bytes of base64 text with garbage and no newline")
def base64_garbage(n):
    return mail("Subject: x\r\n", fill("QUJD!@#$%^&*()ZGVm\x01\x7f", n),
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: base64\r\n")


@case("SIZE bytes of base64 attachment with no newline")
def base64_attachment(n):
    body = ("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf"
            "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;"
            " filename=a.pdf\r\n\r\n" + fill("QUJD", n) + "\r\n--b--\r\n")
    return mail("Subject: x\r\n", body,
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n")


@case("a quoted-printable body of '=' soft line breaks only")
def qp_soft_breaks(n):
    return mail("Subject: x\r\n", fill("=\r\n", n),
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n")


@case("x-uuencode text of SIZE bytes, many begin/end blocks")
def uuencode(n):
    block = "begin 644 a.txt\r\n" + "M" + "86)C" * 15 + "\r\n" * 1 + "`\r\nend\r\n"
    return mail("Subject: x\r\n", fill(block, n),
                "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
                "Content-Transfer-Encoding: x-uuencode\r\n")


@case("a References: of a million message ids")
def references(n):
    return mail("Subject: x\r\nReferences: " + fill("<a@b>\r\n ", n) + "<z@b>\r\n", "hi\r\n")


@case("an In-Reply-To: of a million message ids")
def in_reply_to(n):
    return mail("Subject: x\r\nIn-Reply-To: " + fill("<a@b> ", n) + "\r\n", "hi\r\n")


@case("a To: of 2 million addresses")
def many_addresses(n):
    return mail("Subject: x\r\nTo: " + fill("a@b, ", n) + "c@d\r\n", "hi\r\n")


@case("a Cc: of groups nested 2.5 million deep, a:b:c:...;;;")
def nested_groups(n):
    k = n // 4
    return mail("Subject: x\r\nCc: " + "g:" * k + "x@y" + ";" * k + "\r\n", "hi\r\n")


@case("a Subject of SIZE bytes of encoded words in many charsets")
def subject_charsets(n):
    cs = ["iso-8859-1", "koi8-r", "shift_jis", "euc-kr", "gb2312", "windows-1251", "big5",
          "iso-2022-jp", "utf-7", "iso-8859-7", "cp850", "macintosh", "x-unknown"]
    words = "".join("=?%s?q?=41=C1?= " % c for c in cs)
    return mail("Subject: " + fill(words, n) + "\r\n", "hi\r\n")


@case("a Subject of encoded words, each charset unknown and different")
def subject_unknown_charsets(n):
    words = []
    size = 0
    i = 0
    while size < n:
        w = "=?x-cs%d?q?a?= " % i
        words.append(w)
        size += len(w)
        i += 1
    return mail("Subject: " + "".join(words) + "\r\n", "hi\r\n")


@case("a UTF-7 body of SIZE bytes of shift sequences")
def utf7_body(n):
    return mail("Subject: x\r\n", fill("+AGEAYgBj-+-+ZeVnLIqe-", n),
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-7\r\n")


@case("an ISO-2022-JP body of escape sequences only")
def iso2022_escapes(n):
    return mail("Subject: x\r\n", fill("\x1b$B\x1b(B\x1b$(D\x1b(J", n),
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n")


@case("To: fields of 'a,' (an address per 2 bytes), 100 KB each")
def address_fields(n):
    field = "To: " + fill("a,", 100000) + "c@d\r\n"
    return mail("Subject: x\r\n" + field * (n // len(field)), "hi\r\n")


@case("encoded words alternating 13 charsets, in Subject: and To: names")
def charset_cycle(n):
    cs = ["iso-8859-1", "koi8-r", "shift_jis", "euc-kr", "gb2312", "windows-1251", "big5",
          "iso-2022-jp", "utf-7", "iso-8859-7", "cp850", "macintosh", "x-unknown"]
    words = "".join("=?%s?q?=41=C1?= " % c for c in cs)
    subject = "Subject: " + fill(words, 100000) + "\r\n"
    to = "To: " + "".join("=?%s?q?=41=C1?= <a@b>, " % cs[i % 13] for i in range(999)) + "c@d\r\n"
    k = n // (len(subject) + len(to))
    return mail((subject + to) * k, "hi\r\n")


@case("Content-Type fields of 14,000 distinct parameters each")
def params_distinct(n):
    field = "Content-Type: text/plain" + "".join("; p%d=v" % i for i in range(14000)) + "\r\n"
    return mail("Subject: x\r\nMIME-Version: 1.0\r\n" + field * (n // len(field)), "hi\r\n")


@case("1,000 parts with 150 parameters in Content-Type and in Content-Disposition")
def params_parts(n):
    params = "".join("; p%d=v" % i for i in range(150))
    part = ("--b\r\nContent-Type: application/x" + params + "\r\nContent-Disposition: attachment"
            + params + "\r\n\r\nx\r\n")
    return multipart(part * 999)


@case("a digest's part without Content-Type (an attached message) with a To: of 'a,'")
def digest_header(n):
    return mail("Subject: x\r\n", "--b\r\n\r\nTo: " + fill("a,", n - 300) + "c@d\r\n\r\nx\r\n--b--\r\n",
                "MIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=b\r\n")


def part_flood_declared(n, declaration):
    return mail("Subject: x\r\n", fill("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n", n),
                "MIME-Version: 1.0\r\n" + declaration + "\r\n")


@case("200,000 parts of a boundary declared after 1 KB of other parameters")
def boundary_late(n):
    return part_flood_declared(n, "Content-Type: multipart/mixed; p=\"" + "a" * 1020
                               + "\"; boundary=b")


@case("200,000 parts of a boundary declared as 'boundary = b'")
def boundary_spaced(n):
    return part_flood_declared(n, "Content-Type: multipart/mixed; boundary = b")


@case("200,000 parts of a boundary declared as an encoded word")
def boundary_encoded(n):
    return part_flood_declared(n, "Content-Type: multipart/mixed; boundary=\"=?us-ascii?q?b?=\"")


@case("200,000 parts of a boundary declared with RFC 2231 (boundary*0=b)")
def boundary_rfc2231(n):
    return part_flood_declared(n, "Content-Type: multipart/mixed; boundary*0=b")


@case("200,000 parts of a boundary of two spaces")
def boundary_blank(n):
    return mail("Subject: x\r\n", fill("--  \r\nContent-Type: text/plain\r\n\r\nx\r\n", n),
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"  \"\r\n")


@case("8,000 parts of a boundary of 1,100 characters")
def boundary_long(n):
    b = "B" * 1100
    part = "--" + b + "\r\n\r\nx\r\n"
    return mail("Subject: x\r\n", fill(part, n) + "--" + b + "--\r\n",
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + b + "\"\r\n")


@case("200,000 parts of a boundary the Content-Type does not declare (mime_repair.c)")
def boundary_missing(n):
    return part_flood_declared(n, "Content-Type: multipart/mixed")


@case("200,000 parts of a boundary other than the declared one (mime_repair.c)")
def boundary_unused(n):
    return part_flood_declared(n, "Content-Type: multipart/alternative; boundary=declared")


@case("SIZE of text lines under a multipart Content-Type, no boundary line at all")
def multipart_plain(n):
    return mail("Subject: x\r\n", fill("plain words, no part -- at all\r\n", n),
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n")


@case("SIZE of text before a multipart's first boundary (its prologue, held whole by GMime)")
def preamble(n):
    return multipart(fill("preamble words that go on and on\r\n", n)
                     + "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n")


@case("SIZE of text after a multipart's last boundary (its epilogue)")
def epilogue(n):
    return multipart("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n"
                     + fill("epilogue words that go on and on\r\n", n) + "\r\n")


@case("SIZE of text after a nested multipart's last boundary, before its parent's")
def inner_epilogue(n):
    return multipart("--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n"
                     "--c\r\nContent-Type: text/plain\r\n\r\nhi\r\n--c--\r\n"
                     + fill("epilogue words that go on and on\r\n", n))


@case("an unused boundary inside each of 100 nested message/rfc822 parts")
def boundary_unused_nested(n):
    depth = 100
    inner = ("Content-Type: multipart/mixed; boundary=declared\r\n\r\n"
             + fill("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n", n // 2))
    for _ in range(depth):
        inner = ("Content-Type: message/rfc822\r\n\r\nSubject: y\r\n"
                 "Content-Type: multipart/mixed; boundary=declared\r\n\r\n"
                 "--b\r\n" + inner)
    return mail("Subject: x\r\n", inner,
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=declared\r\n")


def html(body):
    return mail("Subject: x\r\n", body,
                "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n")


@case("a body declared us-ascii of bytes that are no character in UTF-8 or windows-1252")
def ascii_8bit(n):
    return mail("Subject: x\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=us-ascii\r\n", fill("\x81\xe9", n))


@case("HTML: a million nested tags")
def html_nested(n):
    return html(fill("<div>", n // 2) + "x" + fill("</div>", n // 2))


@case("HTML: a million nested tags of different names, no text")
def html_nested_mixed(n):
    return html(fill("<b><i><u><span><font><a>", n))


@case("HTML: an entity flood &#x1F600;")
def html_entities(n):
    return html("<p>" + fill("&#x1F600;&amp;&bogus;&#99999999;", n))


@case("HTML: a comment never closed")
def html_comment(n):
    return html("<p>a<!-- " + fill("x - -> ", n))


@case("HTML: a <script> never closed")
def html_script(n):
    return html("<p>a<script>" + fill("if (a<b) x--; </scrip ", n))


@case("HTML: one attribute value of SIZE bytes")
def html_attribute(n):
    return html("<p title=\"" + fill("a", n) + "\">text</p>")


@case("HTML: a million attributes in one tag")
def html_attributes(n):
    return html("<p " + fill("a=b ", n) + ">text</p>")


@case("HTML: SIZE bytes of text with no tag")
def html_no_tags(n):
    return html(fill("word ", n))


@case("text/plain with NUL bytes")
def nul_body(n):
    return mail("Subject: x\r\n", fill("a\0", n))


@case("NUL bytes in header fields")
def nul_headers(n):
    return mail("Subject: a\0b\r\n" + fill("X-N: \0\0\0\0\0\0\0\0\r\n", n // 2), "hi\r\n")


@case("bare CR line ends everywhere")
def bare_cr(n):
    return ("From: a@b\rTo: support@example.com\rSubject: x\r" + "MIME-Version: 1.0\r"
            "Content-Type: multipart/mixed; boundary=b\r\r" + fill("--b\r\rx\r", n))


@case("header fields only, no empty line, no body")
def headers_only(n):
    return HDR + fill("X-H: v\r\n", n)


@case("a header name of SIZE bytes with no colon")
def no_colon(n):
    return mail(fill("X", n) + "\r\n", "hi\r\n")


@case("1,000 inline text/plain parts (appended to the text)")
def text_parts(n):
    per = n // 1000
    part = "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n" + fill("\xe9t\xe9 ", per) + "\r\n"
    return multipart(part * 1000)


@case("1,000 attachments whose file names are SIZE/1000 of encoded words")
def attachment_names(n):
    per = n // 1000
    name = fill("=?utf-8?q?=C3=A9?=", per - 200)
    part = ("--b\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
            "Content-Disposition: attachment\r\n\r\nx\r\n" % name)
    return multipart(part * 1000)


@case("1,000 HTML alternatives, the text from the last")
def html_alternatives(n):
    per = n // 1000
    part = "--b\r\nContent-Type: text/html\r\n\r\n" + fill("<p>x</p>", per) + "\r\n"
    return multipart(part * 1000, "alternative")


@case("a Date:, Message-ID: and Content-ID: of SIZE/3 bytes each")
def long_ids(n):
    k = n // 3
    return ("From: a@b\r\nTo: support@example.com\r\nDate: " + fill("Tue, ", k) + "\r\n"
            "Message-ID: <" + fill("a", k) + "@b>\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
            "Content-ID: <" + fill("c", k) + ">\r\n\r\nhi\r\n")


# What the worker reads: the text (cut at max_text_size, 1 MB by default) and the subject, shaped
# against its quote separation, tags, sentiment, category words, FAQ query and full-text index.
def text_mail(subject, body):
    """a text/plain mail; body may hold any character (written as UTF-8)"""
    body = body.encode("utf-8").decode("latin-1")
    return mail("Subject: " + subject + "\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n", body)


@case("worker: a body of one word of SIZE bytes (stemmer, index, classifiers)")
def one_word(n):
    return text_mail("x", fill("a", n) + "\r\n")


@case("worker: a body of distinct words (index terms, model and tag lookups)")
def distinct_words(n):
    words, size, i = [], 0, 0
    while size < n:
        w = "w%x" % i
        words.append(w)
        size += len(w) + 1
        i += 1
    return text_mail("x", " ".join(words) + "\r\n")


@case("worker: the shortest distinct words (base 36, then 2-letter words of CJK ideographs)")
def short_words(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out, size, i = [], 0, 0
    while size < n // 2:
        w, k = "", i
        while True:
            w = digits[k % 36] + w
            k //= 36
            if k == 0:
                break
        out.append(w)
        size += len(w) + 1
        i += 1
    i = 0
    while size < n:
        w = chr(0x4E00 + i // 20000) + chr(0x4E00 + i % 20000)
        out.append(w)
        size += 7
        i += 1
    return text_mail("x", " ".join(out) + "\r\n")


@case("worker: tag keywords and sentiment phrases repeated (bench's tags, AFINN)")
def keywords(n):
    return text_mail("invoice refund", fill("invoice payment refund credit card not working "
                                            "two factor feature request bad good ", n) + "\r\n")


@case("worker: lines that begin a quote attribution or header block but never end one")
def near_quotes(n):
    unit = ("On Tue, 1 Dec 2026 a@b.c wrote\r\nAm 1.12.2026 schrieb a@b.c\r\n"
            "From: a@b.c\r\nSent: 1 Dec 2026\r\n> x\r\n\r\n")
    return text_mail("x", fill(unit, n))


@case("worker: quoted lines only, 2 million '> ' lines")
def quote_lines(n):
    return text_mail("x", fill("> \r\n", n))


@case("worker: a Subject of reply prefixes and ticket-number look-alikes (100 KB)")
def subject_prefixes(n):
    return text_mail(fill("Re: AW: Fwd: [#A-2026-00000] #X-1 ", 100000), "hi\r\n")


@case("worker: a body of numbers in our ticket and project forms (time entry, note targets)")
def number_forms(n):
    return text_mail("[#PRJ-1] [#TSK-2]", fill("1:30 [#PRJ-12] TSK-9 #INT-2026-000001 ", n) + "\r\n")


def main(argv):
    size = 10000000
    if argv[:1] == ["-l"]:
        for name, (doc, _) in CASES.items():
            print("%-24s %s" % (name, doc))
        return 0
    if argv[:1] == ["-s"]:
        size = int(argv[1])
        argv = argv[2:]
    if not argv or argv[0].startswith("-"):
        sys.stderr.write("usage: hostile-gen.py [-s SIZE] DIR [CASE...] | -l\n")
        return 2
    out, names = argv[0], argv[1:] or list(CASES)
    os.makedirs(out, exist_ok=True)
    for name in names:
        if name not in CASES:
            sys.stderr.write("hostile-gen: no case %s (-l lists them)\n" % name)
            return 2
        data = CASES[name][1](size)
        with open(os.path.join(out, name + ".eml"), "wb") as f:
            f.write(data.encode("latin-1"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
