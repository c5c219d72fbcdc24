#!/bin/sh
# lexicons.sh: install the sentiment lexicons the worker reads (run by deps.sh, so by `make deps`).
#
# The npm package "sentiment" 5.0.2 (MIT, Andrew Sliwinski) ships AFINN-165 (Finn Årup Nielsen's
# word list, 3,382 English words rated -5 to +5) as languages/en/labels.json and its negators as
# languages/en/negators.json. Debian packages no such lexicon, and a fresh machine may reach no
# package registry but Debian's, so the two files and the licence are kept in the source tree
# (contrib/sentiment/, with where they came from in its README) and copied from there to
# $LEXICON_DIR/en/ (the default of [worker] sentiment_lexicons; docs/classify.md, "Sentiment").
#   - installed and the same as the tree's: prints nothing, exits 0
#   - missing or different, running as root: installs
#   - missing or different, not root: prints the command to run as root and exits 1
# POSIX sh; needs cmp and install (coreutils, diffutils).
# deps.sh passes its argument: the Sendmail check's chroot needs no sentiment (the worker warns
# and scores nothing).
[ "${1:-}" = sendmail ] && exit 0
LEXICON_DIR=${LEXICON_DIR:-/usr/share/intake/sentiment}
SRC=$(dirname "$0")/../../contrib/sentiment/en
FILES="labels.json negators.json LICENSE.md"

same=yes
for f in $FILES; do
    cmp -s "$SRC/$f" "$LEXICON_DIR/en/$f" || same=no
done
[ $same = yes ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: the sentiment lexicon in $LEXICON_DIR/en is missing or outdated; run as root:" >&2
    echo "  sh tests/lib/lexicons.sh" >&2
    exit 1
fi
echo "deps: installing the sentiment lexicon (AFINN-165, npm sentiment 5.0.2) in $LEXICON_DIR/en"
mkdir -p "$LEXICON_DIR/en" || exit 1
for f in $FILES; do
    install -m 0644 "$SRC/$f" "$LEXICON_DIR/en/" || exit 1
done
