#!/bin/sh
# build.sh [OUTDIR] - build ferrule-go-peer into OUTDIR (default: a cache
# directory keyed by the sources and the toolchain,
# ${FERRULE_CACHE:-$HOME/.cache/ferrule}/go-peer/<sha256>) and print the
# binary's path as the last line on stdout.  Idempotent: an existing binary
# for the same sources and toolchain is reused.  Standard library only: the
# module proxy is off and the local toolchain is used ($FERRULE_GO or go).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
go=${FERRULE_GO:-go}
command -v "$go" >/dev/null 2>&1 || { echo "build.sh: no Go toolchain ($go)" >&2; exit 1; }
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off CGO_ENABLED=0
key=$( (cd "$here" && cat go.mod ./*.go && "$go" version) | sha256sum | cut -c1-16)
out=${1:-${FERRULE_CACHE:-$HOME/.cache/ferrule}/go-peer/$key}
bin=$out/ferrule-go-peer
if [ -z "${1:-}" ] && [ -x "$bin" ]; then
    echo "$bin"
    exit 0
fi
mkdir -p "$out"
(cd "$here" && "$go" build -trimpath -o "$bin.tmp.$$" .)
mv -f "$bin.tmp.$$" "$bin"
echo "$bin"
