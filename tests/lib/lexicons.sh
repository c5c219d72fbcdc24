#!/bin/sh
# lexicons.sh: install the sentiment lexicons the worker reads (run by deps.sh, so by `make deps`).
#
# The npm package "sentiment" 5.0.2 (MIT, Andrew Sliwinski) ships AFINN-165 (Finn Årup Nielsen's
# word list, 3,382 English words rated -5 to +5) as languages/en/labels.json and its negators as
# languages/en/negators.json. Debian packages no such lexicon. The tarball is fetched with curl,
# pinned to this version and checked against the SHA-512 of the registry's integrity field
# (`npm view sentiment@5.0.2 dist.integrity`, as hex), and its two files and licence go to
# $LEXICON_DIR/en/ (the default of [worker] sentiment_lexicons; docs/classify.md, "Sentiment").
#   - installed and intact: prints nothing, exits 0
#   - missing, running as root: downloads, checks, installs
#   - missing, not root: prints the command to run as root and exits 1
# POSIX sh; needs curl, tar, gzip and sha512sum (coreutils).
# deps.sh passes its argument: the Sendmail check's chroot has no curl and needs no sentiment
# (the worker warns and scores nothing).
[ "${1:-}" = sendmail ] && exit 0
LEXICON_DIR=${LEXICON_DIR:-/usr/share/intake/sentiment}
VERSION=5.0.2
URL=https://registry.npmjs.org/sentiment/-/sentiment-$VERSION.tgz
SHA512=65e0b7cb426c3984ddc2e8ede6e39dec82c936295b805cd4b60fcb106e3052fe372dac8534b676f1e73cf92bbe877b1a1e52662306310737c31c766e88c035e6
STAMP="$LEXICON_DIR/en/VERSION"

[ -f "$LEXICON_DIR/en/labels.json" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "sentiment $VERSION" ] \
    && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: the sentiment lexicon is missing from $LEXICON_DIR/en; run as root:" >&2
    echo "  sh tests/lib/lexicons.sh" >&2
    exit 1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "deps: installing the sentiment lexicon (npm sentiment $VERSION) in $LEXICON_DIR/en"
# A registry out of reach is no reason to stop the rest of make deps (the worker runs without a
# lexicon: it warns and scores nothing); only the sentiment tests will then fail, naming it.
curl -fsSL --retry 3 -o "$tmp/sentiment.tgz" "$URL" || {
    echo "deps: WARNING: cannot download $URL: no sentiment lexicon installed" >&2
    exit 0
}
echo "$SHA512  $tmp/sentiment.tgz" | sha512sum -c --status || {
    echo "deps: $URL: SHA-512 is not the pinned one: not installed" >&2
    exit 1
}
tar -xzf "$tmp/sentiment.tgz" -C "$tmp" package/languages/en/labels.json \
    package/languages/en/negators.json package/LICENSE.md || exit 1
mkdir -p "$LEXICON_DIR/en" || exit 1
for f in languages/en/labels.json languages/en/negators.json LICENSE.md; do
    install -m 0644 "$tmp/package/$f" "$LEXICON_DIR/en/" || exit 1
done
echo "sentiment $VERSION" > "$STAMP" || exit 1
