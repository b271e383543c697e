#!/bin/sh
# tools/openssl35/build.sh - OpenSSL 3.5 for ferrule's second build (make check-mlkem).
#
# Builds the libraries once with the crates.io openssl-src crate (=300.5.5, see
# Cargo.toml and the committed Cargo.lock; build.rs copies the install) under
#   ${FERRULE_CACHE:-$HOME/.cache/ferrule}/openssl35/<key>/
#     key = sha256 of Cargo.lock, Cargo.toml, build.rs and `rustc -V`
# then the `openssl` program from the same source and Configure command
# (apps.py; skipped with OSSL35_NO_APPS=1), and prints the install prefix as its
# last line: include/, lib/libcrypto.a, lib/libssl.a (static, -fPIC),
# bin/openssl.  Warm: the stamps exist and only the prefix is printed.
# Quiet: logs go to <key>/build.log (crate) and <key>/apps.log; on a failure
# their tail is printed.  OSSL35_JOBS (default 2): make parallelism.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v cargo >/dev/null 2>&1 || { echo "openssl35: cargo not found" >&2; exit 1; }
cache=${FERRULE_CACHE:-$HOME/.cache/ferrule}/openssl35
key=$( { cat "$here/Cargo.lock" "$here/Cargo.toml" "$here/build.rs"; rustc -V; } |
       sha256sum | cut -c1-16)
top=$cache/$key
prefix=$top/prefix
jobs=${OSSL35_JOBS:-2}
fail() { echo "openssl35: $1 failed; last lines of $2:" >&2; tail -n 40 "$2" >&2; exit 1; }

if [ ! -f "$prefix/.complete" ]; then
    rm -rf "$top"
    mkdir -p "$top"
    # The crate's make takes its -j from cargo's jobserver (CARGO_MAKEFLAGS).
    ( cd "$here" && CARGO_TARGET_DIR=$top/target FERRULE_OSSL35_PREFIX=$prefix \
        cargo build --release --locked -j "$jobs" -vv ) >"$top/build.log" 2>&1 ||
        fail "cargo build (openssl-src)" "$top/build.log"
    [ -f "$prefix/lib/libcrypto.a" ] && [ -f "$prefix/include/openssl/ml_kem.h" ] ||
        fail "the install check (lib/libcrypto.a, include/openssl/ml_kem.h)" "$top/build.log"
    touch "$prefix/.complete"
fi

if [ "${OSSL35_NO_APPS:-0}" != 1 ]; then
    apps_key=$(sha256sum "$here/apps.py" | cut -c1-16)
    if [ ! -f "$prefix/.apps-$apps_key" ]; then
        rm -f "$prefix"/.apps-* "$prefix/bin/openssl"
        python3 "$here/apps.py" "$top" "$prefix" "$jobs" >"$top/apps.log" 2>&1 ||
            fail "apps/openssl" "$top/apps.log"
        touch "$prefix/.apps-$apps_key"
    fi
fi
echo "$prefix"
