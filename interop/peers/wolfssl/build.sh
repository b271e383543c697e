#!/bin/sh
# build.sh [OUTDIR] - compile the wolfSSL peer (peer.c, against the system's
# libwolfssl: Debian's libwolfssl-dev) into OUTDIR, by default
# ${FERRULE_CACHE:-$HOME/.cache/ferrule}/wolfssl-peer/<sha256 of peer.c>,
# and print the binary's path as the last line on stdout.  Idempotent: a
# binary already in the default place is reused (the key is the source; a
# new libwolfssl needs no rebuild, the binary links it dynamically).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$here/peer.c
cc=${CC:-cc}
sha=$(sha256sum "$src" | cut -c1-16)
out=${1:-${FERRULE_CACHE:-$HOME/.cache/ferrule}/wolfssl-peer/$sha}
bin=$out/ferrule-wolfssl-peer
if [ -x "$bin" ] && [ "$bin" -nt "$src" ]; then
    echo "$bin"
    exit 0
fi
if [ ! -r /usr/include/wolfssl/options.h ]; then
    echo "build.sh: /usr/include/wolfssl/options.h missing: install libwolfssl-dev" >&2
    exit 1
fi
mkdir -p "$out"
libs=$(pkg-config --libs wolfssl 2>/dev/null || echo -lwolfssl)
# shellcheck disable=SC2086
"$cc" -O2 -Wall -Wextra -Werror -std=c11 -o "$bin.tmp.$$" "$src" $libs
mv -f "$bin.tmp.$$" "$bin"
echo "$bin"
