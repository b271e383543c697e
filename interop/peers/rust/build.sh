#!/usr/bin/env bash
# interop/peers/rust/build.sh [--print-dir] [--no-boring]
#
# Builds ferrule-rustls-peer, ferrule-s2n-peer and ferrule-boring-peer
# (cargo build --release --locked -j 2) into a target directory outside the
# clone, keyed by Cargo.lock and the compiler:
#   ${FERRULE_CACHE:-$HOME/.cache/ferrule}/cargo/<first 16 hex of
#   sha256(Cargo.lock + `rustc -V`)>
# and prints the directory holding the three binaries as its last stdout
# line.  Warm (all binaries there and up to date), it is quiet and takes a
# second or two: cargo only checks its fingerprints.
#
# --print-dir: print that directory and exit, building nothing.
# --no-boring: build only the rustls and s2n-tls peers (BoringSSL is most of
#   a cold build: about 6 of its 9 minutes on 2 cores).
#
# Environment: CARGO (default cargo), RUSTC (default rustc), FERRULE_CACHE.
# Cargo's own download cache stays where cargo keeps it (~/.cargo).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cargo=${CARGO:-cargo}
rustc=${RUSTC:-rustc}

print_only=0
peers="ferrule-rustls-peer ferrule-s2n-peer ferrule-boring-peer"
for arg in "$@"; do
    case "$arg" in
        --print-dir) print_only=1 ;;
        --no-boring) peers="ferrule-rustls-peer ferrule-s2n-peer" ;;
        *) echo "usage: $0 [--print-dir] [--no-boring]" >&2; exit 2 ;;
    esac
done

if ! command -v "$rustc" >/dev/null 2>&1 || ! command -v "$cargo" >/dev/null 2>&1; then
    echo "$0: cargo and rustc are needed (rustup, or Debian's cargo)" >&2
    exit 1
fi

key=$( { cat "$here/Cargo.lock"; "$rustc" -V; } | sha256sum | cut -c1-16)
target="${FERRULE_CACHE:-$HOME/.cache/ferrule}/cargo/$key"
bindir="$target/release"

if [ "$print_only" = 1 ]; then
    echo "$bindir"
    exit 0
fi

mkdir -p "$target"
log="$target/build.log"
# The log keeps cargo's output; on failure it is shown.
bins=()
for b in $peers; do bins+=(--bin "$b"); done
if ! (cd "$here" && CARGO_TARGET_DIR="$target" "$cargo" build --release --locked -j 2 \
        "${bins[@]}") >"$log" 2>&1; then
    cat "$log" >&2
    echo "$0: cargo build failed (log: $log)" >&2
    exit 1
fi
for b in $peers; do
    if [ ! -x "$bindir/$b" ]; then
        echo "$0: $bindir/$b missing after the build" >&2
        exit 1
    fi
done
echo "$bindir"
