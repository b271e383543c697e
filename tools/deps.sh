#!/usr/bin/env bash
# tools/deps.sh - make sure the Debian packages ferrule needs are installed.
#
# As root: installs what is missing (apt-get update only when something is).
# Otherwise: prints the exact command to run and exits 1.
# Quiet and fast (a few dpkg-query calls) when everything is present.
#
# Also makes sure `python3 -m pytest` works, falling back to a repo-local
# .venv (git-ignored) with pytest installed from PyPI.
set -euo pipefail

# The one list of system packages, one group per line: "group: pkg pkg ...".
# Later issues append packages to a group or add a new line.
DEPS='
toolchain: build-essential cmake pkg-config clang libclang-rt-14-dev
crypto:    libssl-dev libsodium-dev openssl ca-certificates
python:    python3 python3-venv python3-dev swig
peers:     gnutls-bin libnss3-tools libwolfssl-dev
analysis:  valgrind abigail-tools
lua:       luajit2 lua-busted lua-socket nginx libnginx-mod-http-lua lua-resty-core wrk curl
formal:    frama-c-base why3 z3 cvc4 spin
drill:     redis-server libhiredis-dev
'
# lua: OpenResty's LuaJIT branch (luajit2), which Debian's lua-resty-core
# needs and the nginx Lua module runs on; it conflicts with (replaces) the
# upstream `luajit` package.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Go, for the crypto/tls peer of the interop suite (interop/peers/go): any
# `go` on PATH will do (machines normally have a recent toolchain, e.g. in
# /usr/local/go); only without one is Debian's golang-go installed (1.19 on
# bookworm, which builds the peer).
if ! command -v go >/dev/null 2>&1; then
    DEPS+=$'go:        golang-go\n'
fi

installed() {
    # dpkg-query exits non-zero for a package it has never heard of.
    local st
    st=$(dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null || true)
    grep -qx 'install ok installed' <<<"$st"
}

missing=()
declare -A group_missing=()
while read -r group pkgs; do
    [[ -z "$group" ]] && continue
    group=${group%:}
    for p in $pkgs; do
        if ! installed "$p"; then
            missing+=("$p")
            group_missing[$group]+=" $p"
        fi
    done
done <<<"$DEPS"

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "deps: missing packages; run:" >&2
        echo "sudo apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    # Keep apt's chatter out of the way; show it only if something fails.
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >"$log" 2>&1; then
        cat "$log" >&2
        echo "deps: apt-get failed installing: ${missing[*]}" >&2
        exit 1
    fi
    while read -r group _; do
        [[ -z "$group" ]] && continue
        group=${group%:}
        if [[ -n "${group_missing[$group]:-}" ]]; then
            echo "deps: installed $group:${group_missing[$group]}"
        fi
    done <<<"$DEPS"
fi

# pytest for the interop suite: the system/pyenv python3 if it has it,
# otherwise .venv (created on demand).
if ! python3 -c 'import pytest' >/dev/null 2>&1; then
    if ! [[ -x .venv/bin/python ]] || ! .venv/bin/python -c 'import pytest' >/dev/null 2>&1; then
        [[ -x .venv/bin/python ]] || python3 -m venv .venv
        .venv/bin/python -m pip install -q pytest
        echo "deps: installed python: pytest (into .venv)"
    fi
fi
