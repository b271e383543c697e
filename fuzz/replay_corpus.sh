#!/usr/bin/env bash
# fuzz/replay_corpus.sh [--self-test] BUILD_DIR
#
# Replays every committed corpus (fuzz/corpus/<t>/) and every crasher ever
# found (fuzz/crashers/<t>/) through the replay binaries of BUILD_DIR
# (BUILD_DIR/fuzz/replay_<t>, built by every build: see fuzz/CMakeLists.txt),
# one target per directory of fuzz/corpus.  Fails (exit 1) when a target's
# replay binary is missing, when a corpus directory has no target, or when
# any input crashes or breaks an invariant.  Prints one line per target.
#
# --self-test: proves the replay can fail.  It runs the same replay over a
# temporary copy of the tree's layout holding the deliberately broken target
# fuzz_selftest (fuzz/fuzz_selftest.c, replay binary only): first with
# harmless inputs (must pass), then with a planted crasher in
# crashers/fuzz_selftest/ (must fail, with the planted crash reported), then
# with the crasher removed (must pass again).  Exit 0 only if all three
# behave.  Run in `make check` by check-fuzz (ASan build).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

self_test=0
if [ "${1:-}" = "--self-test" ]; then
    self_test=1
    shift
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--self-test] BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "replay_corpus: no build dir $1" >&2; exit 2; }

# replay FUZZ_DIR: every FUZZ_DIR/corpus/<t> and FUZZ_DIR/crashers/<t>.
replay() {
    local fz=$1 bad=0 t bin dirs
    local -A seen=()
    for d in "$fz"/corpus/*/ "$fz"/crashers/*/; do
        [ -d "$d" ] || continue
        t=$(basename "$d")
        [ -n "${seen[$t]:-}" ] && continue
        seen[$t]=1
        bin=$BUILD/fuzz/replay_$t
        if [ ! -x "$bin" ]; then
            echo "replay_corpus: $t: no replay binary $bin" >&2
            bad=1
            continue
        fi
        dirs=()
        [ -d "$fz/corpus/$t" ] && dirs+=("$fz/corpus/$t")
        [ -d "$fz/crashers/$t" ] && dirs+=("$fz/crashers/$t")
        if ! out=$("$bin" --target "$t" "${dirs[@]}" 2>&1); then
            printf '%s\n' "$out" | tail -5 >&2
            echo "replay_corpus: $t: FAILED" >&2
            bad=1
            continue
        fi
        printf '%s\n' "$out" | tail -1
    done
    [ ${#seen[@]} -gt 0 ] || { echo "replay_corpus: nothing to replay in $fz" >&2; bad=1; }
    return $bad
}

if [ $self_test -eq 0 ]; then
    replay "$ROOT/fuzz"
    exit $?
fi

[ -x "$BUILD/fuzz/replay_fuzz_selftest" ] || {
    echo "replay_corpus: self-test: no $BUILD/fuzz/replay_fuzz_selftest" >&2
    exit 1
}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/corpus/fuzz_selftest" "$TMP/crashers/fuzz_selftest"
printf 'harmless seed' >"$TMP/corpus/fuzz_selftest/seed-1"
printf 'PLANTED-CRAS' >"$TMP/corpus/fuzz_selftest/seed-near-miss"
fail=0
if ! replay "$TMP" >/dev/null 2>"$TMP/log1"; then
    echo "replay_corpus: self-test: a clean corpus failed" >&2
    cat "$TMP/log1" >&2
    fail=1
fi
printf 'PLANTED-CRASH in a crasher file' >"$TMP/crashers/fuzz_selftest/crash-planted"
if replay "$TMP" >/dev/null 2>"$TMP/log2"; then
    echo "replay_corpus: self-test: the planted crasher was NOT detected" >&2
    fail=1
elif ! grep -q "planted crasher reached" "$TMP/log2"; then
    echo "replay_corpus: self-test: failed, but not on the planted crasher:" >&2
    cat "$TMP/log2" >&2
    fail=1
fi
rm -f "$TMP/crashers/fuzz_selftest/crash-planted"
if ! replay "$TMP" >/dev/null 2>"$TMP/log3"; then
    echo "replay_corpus: self-test: failed after the crasher was removed" >&2
    cat "$TMP/log3" >&2
    fail=1
fi
if [ $fail -eq 0 ]; then
    echo "replay_corpus: self-test passed (clean: pass, planted crasher: fail, removed: pass)"
fi
exit $fail
