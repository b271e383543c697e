#!/usr/bin/env bash
# interop/peers/rust/build.sh [--print-dir]
#
# Builds ferrule-rustls-peer and ferrule-s2n-peer (cargo build --release
# --locked -j 2) into a target directory outside the clone, keyed by
# Cargo.lock and the compiler:
#   ${FERRULE_CACHE:-$HOME/.cache/ferrule}/cargo/<first 16 hex of
#   sha256(Cargo.lock + `rustc -V`)>
# and prints the directory holding the two binaries as its last stdout line.
# Warm (both binaries there and up to date), it is quiet and takes a second
# or two: cargo only checks its fingerprints.
#
# --print-dir: print that directory and exit, building nothing.
#
# Environment: CARGO (default cargo), RUSTC (default rustc), FERRULE_CACHE.
# Cargo's own download cache stays where cargo keeps it (~/.cargo).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cargo=${CARGO:-cargo}
rustc=${RUSTC:-rustc}

print_only=0
case "${1:-}" in
    "") ;;
    --print-dir) print_only=1 ;;
    *) echo "usage: $0 [--print-dir]" >&2; exit 2 ;;
esac

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
if ! (cd "$here" && CARGO_TARGET_DIR="$target" "$cargo" build --release --locked -j 2 \
        --bin ferrule-rustls-peer --bin ferrule-s2n-peer) >"$log" 2>&1; then
    cat "$log" >&2
    echo "$0: cargo build failed (log: $log)" >&2
    exit 1
fi
for b in ferrule-rustls-peer ferrule-s2n-peer; do
    if [ ! -x "$bindir/$b" ]; then
        echo "$0: $bindir/$b missing after the build" >&2
        exit 1
    fi
done
echo "$bindir"
