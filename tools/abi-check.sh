#!/usr/bin/env bash
# tools/abi-check.sh BUILD_DIR - check the shared library's ABI surface.
#
#  1. libferrule.so exports only ferrule_* symbols and its SONAME is
#     libferrule.so.0.
#  2. abidiff against abi/baseline.abi: incompatible changes fail, additions
#     are fine.  A missing baseline is a warning locally and a failure under
#     CI=true (create it with `make abi-baseline`).
#  3. The installed tree works: `cmake --install` into a temporary prefix and
#     build + run a small consumer with the installed header and pkg-config
#     file.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "$1" && pwd)
LIB=$BUILD/libferrule.so
BASELINE=$ROOT/abi/baseline.abi
SONAME_WANT=libferrule.so.0

fail=0
ok() { echo "abi-check: ok: $*"; }
bad() { echo "abi-check: FAIL: $*" >&2; fail=1; }

[[ -e $LIB ]] || { echo "abi-check: FAIL: $LIB not found (build first)" >&2; exit 1; }

# ---- 1. exported symbols and SONAME ----------------------------------------
# Defined dynamic symbols; drop the version-node symbols (type A, FERRULE_0)
# and any @VERSION suffix.
exports=$(nm -D --defined-only "$LIB" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }')
count=$(grep -c . <<<"$exports" || true)
stray=$(grep -v '^ferrule_' <<<"$exports" || true)
if [[ -n $stray ]]; then
    bad "libferrule.so exports symbols outside ferrule_*:"
    sed 's/^/    /' <<<"$stray" >&2
elif [[ $count -eq 0 ]]; then
    bad "libferrule.so exports no symbols"
else
    ok "$count exported symbols, all ferrule_*"
fi

# Every function the header declares must be exported (a declared but
# unimplemented function would only fail at the user's link time).
declared=$(tr '\n' ' ' < abi/include/ferrule.h | grep -oE 'FERRULE_API[^(;{]*\(' |
           grep -oE 'ferrule_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exports" | sort -u))
if [[ -n $missing ]]; then
    bad "functions declared in ferrule.h but not exported:"
    sed 's/^/    /' <<<"$missing" >&2
else
    ok "all $(grep -c . <<<"$declared") functions declared in ferrule.h are exported"
fi

soname=$(readelf -d "$LIB" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [[ $soname == "$SONAME_WANT" ]]; then
    ok "SONAME $soname"
else
    bad "SONAME is '${soname:-none}', want $SONAME_WANT"
fi

# ---- 2. abidiff against the committed baseline -----------------------------
if [[ -f $BASELINE ]]; then
    if ! command -v abidiff >/dev/null; then
        bad "abidiff not found (tools/deps.sh installs abigail-tools)"
    else
        set +e
        report=$(abidiff --headers-dir2 "$ROOT/abi/include" --drop-private-types \
            "$BASELINE" "$LIB" 2>&1)
        rc=$?
        set -e
        # abidiff's exit status is a bit field: 1 error, 2 usage error,
        # 4 ABI change, 8 incompatible ABI change.
        if (( rc & 3 )); then
            bad "abidiff could not compare (exit $rc):"
            echo "$report" >&2
        elif (( rc & 8 )); then
            bad "incompatible ABI change against abi/baseline.abi:"
            echo "$report" >&2
        elif (( rc & 4 )); then
            ok "compatible ABI changes (additions) against abi/baseline.abi:"
            echo "$report" | sed 's/^/    /'
        else
            ok "ABI identical to abi/baseline.abi"
        fi
    fi
else
    msg="abi/baseline.abi is missing; create it with:
    make abi-baseline
  (= abidw --headers-dir abi/include --drop-private-types --out-file abi/baseline.abi $1/libferrule.so)"
    if [[ ${CI:-} == true ]]; then
        bad "$msg"
    else
        echo "abi-check: warning: $msg" >&2
    fi
fi

# ---- 3. the installed tree builds a consumer -------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
if ! cmake --install "$BUILD" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    bad "cmake --install failed"
else
    cat >"$tmp/consumer.c" <<'EOF'
#include <ferrule.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    const char *v = ferrule_version_string();
    printf("ferrule %s\n", v ? v : "(null)");
    return v != NULL && strlen(v) > 0 ? 0 : 1;
}
EOF
    pcdir=$(dirname "$(find "$prefix" -name ferrule.pc -print -quit)")
    # The .pc file records the configure-time prefix; point it at $prefix.
    if ! flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$prefix" \
        --cflags --libs ferrule 2>&1); then
        bad "pkg-config --cflags --libs ferrule failed: $flags"
    # shellcheck disable=SC2086  # flags are meant to split
    elif ! cc -std=c11 -Wall -Wextra -Werror "$tmp/consumer.c" -o "$tmp/consumer" $flags \
        2>"$tmp/cc.log"; then
        cat "$tmp/cc.log" >&2
        bad "consumer did not compile against the installed tree ($flags)"
    elif ! out=$(LD_LIBRARY_PATH=$(dirname "$(find "$prefix" -name 'libferrule.so*' -print -quit)") \
        "$tmp/consumer" 2>&1); then
        bad "consumer failed to run: $out"
    else
        ok "installed tree: header + pkg-config + libferrule.so work ($out)"
    fi
fi

exit $fail
