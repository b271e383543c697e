#!/usr/bin/env bash
# tools/san-selfcheck.sh NAME PATTERN PROGRAM [ARGS...]
#
# The self-checks of make check-tsan and make check-clang-asan
# (docs/sanitizers.md): PROGRAM (tests/san/*.c, built with the suite's
# sanitizer flags) holds one deliberate bug; the sanitizer must report it
# (PATTERN in its output) and stop it (non-zero exit).  Anything else means
# the sanitizer build would pass the real tests without looking at them.
set -uo pipefail
name=$1 pattern=$2
shift 2
out=$("$@" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && grep -q -- "$pattern" <<<"$out"; then
    echo "self-check $name: reported (exit $rc): $(grep -m1 -- "$pattern" <<<"$out")"
    exit 0
fi
echo "self-check $name FAILED: expected a non-zero exit and \"$pattern\", got exit $rc:" >&2
printf '%s\n' "$out" >&2
exit 1
