# doctest.sh: what the documentation tests (tests/it/it_docs_*.sh) share. They need no daemon,
# Redis or Postfix (so not tests/lib/harness.sh): source this with the test's name as $1.
#   - the working directory becomes the project's root; BIN the sanitizer build's binaries;
#   - T is an empty scratch directory $INTAKE_TEST_BASE/NAME (default /tmp/intake-tests/NAME),
#     removed at exit unless INTAKE_KEEP=1;
#   - ok TEXT / notok TEXT print numbered "ok N - TEXT" / "not ok N - TEXT" lines, notok sets
#     FAILED=1: the test ends with  [ "$FAILED" = 0 ]  as its exit status.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
BIN=${INTAKE_BIN:-build/asan/bin}
T=${INTAKE_TEST_BASE:-/tmp/intake-tests}/$1
rm -rf "$T" && mkdir -p "$T" || exit 2
[ "${INTAKE_KEEP:-}" = 1 ] || trap 'rm -rf "$T"' EXIT
FAILED=0 N=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
notok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $*"; }
