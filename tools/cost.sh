#!/usr/bin/env bash
# tools/cost.sh BUILD_DIR - the work a server does for one ClientHello of
# each shape an attacker can send before any authentication (every list at
# the largest length the message allows: tests/c/support_bighello.h),
# counted in instructions with valgrind's callgrind, never timed.  Each
# shape's count is compared with a padded ClientHello of the same size; a
# ratio above COST_LIMIT (default 2) fails, and so does a shape the server
# does not accept (a cheap refusal is not a cheap acceptance).
#
# Instruction counts are the same for the same binary, input and
# environment, whatever else the machine is doing; wall time is never
# measured here.  Prints one line per shape and "cost: N shapes, worst R".
set -euo pipefail

build=${1:?usage: tools/cost.sh BUILD_DIR}
probe="$build/ch_cost"
total=${COST_TOTAL:-65600}
limit=${COST_LIMIT:-2}
shapes="padded extensions key_shares supported_groups signature_algorithms
signature_algorithms_cert alpn psk_foreign psk_ours certificate_authorities cipher_suites
server_name status_request"

command -v valgrind >/dev/null || { echo "cost: valgrind not found (tools/deps.sh installs it)" >&2; exit 1; }
[[ -x $probe ]] || { echo "cost: $probe missing (make build)" >&2; exit 1; }
export FERRULE_TEST_PKI=${FERRULE_TEST_PKI:-$(cd "$build" && pwd)/pki}
[[ -f $FERRULE_TEST_PKI/root.pem ]] || tools/gen-pki.sh "$FERRULE_TEST_PKI" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

count() { # shape -> instructions collected, or nothing if not accepted
    local out="$work/cg.$1"
    if ! valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
        "$probe" "$1" "$total" >"$work/log.$1" 2>&1; then
        return 1
    fi
    awk '/^summary:/ {print $2}' "$out"
}

base=$(count padded) || { cat "$work/log.padded" >&2; echo "cost: the padded ClientHello failed" >&2; exit 1; }
printf '%-26s %12s %6s\n' shape instructions ratio
fail=0
worst=0
n=0
for s in $shapes; do
    if ! ir=$(count "$s"); then
        echo "cost: $s: the server did not accept it:" >&2
        grep -v '^==' "$work/log.$s" >&2 || true
        fail=1
        continue
    fi
    ratio=$(awk -v a="$ir" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
    printf '%-26s %12s %6s\n' "$s" "$ir" "$ratio"
    worst=$(awk -v a="$ratio" -v b="$worst" 'BEGIN { print (a > b) ? a : b }')
    n=$((n + 1))
    if awk -v a="$ratio" -v l="$limit" 'BEGIN { exit !(a > l) }'; then
        echo "cost: $s costs ${ratio}x a padded ClientHello of $total bytes (limit ${limit}x)" >&2
        fail=1
    fi
done
echo "cost: $n shapes of $total bytes, worst ${worst}x a padded ClientHello (limit ${limit}x)"
exit $fail
