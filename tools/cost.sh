#!/usr/bin/env bash
# tools/cost.sh BUILD_DIR [--update-baseline] - the work a server does for one ClientHello of
# each shape an attacker can send before any authentication (every list at
# the largest length the message allows: tests/c/support_bighello.h), and a
# client for a CertificateRequest with the largest certificate_authorities
# (tests/cost/cr_cost.c), and one full handshake pair (tests/cost/hs_cost.c),
# counted in instructions with valgrind's
# callgrind, never timed.  Each shape's count is compared with a padded
# message of the same size; a ratio above COST_LIMIT (default 2) fails, and
# so does a shape that is not accepted (a cheap refusal is not a cheap
# acceptance).
#
# The regression gate: the phases of tests/cost/hs_cost.c (a full
# handshake pair, a resumed one, 1 MiB of bulk data) are compared with
# tests/cost/baseline.txt; more than COST_REGRESSION percent (default 3)
# above a phase's baseline fails, naming the phase.  `make perf-baseline`
# (--update-baseline) rewrites the file from this run, in its own commit.
# The counts depend on the libcrypto build (Debian's OpenSSL 3.0 here); the
# host's newer CPU features are hidden from it for these phases.
#
# Instruction counts are the same for the same binary, input and
# environment, whatever else the machine is doing; wall time is never
# measured here.  Prints one line per shape and "cost: N shapes, worst R".
set -euo pipefail

build=${1:?usage: tools/cost.sh BUILD_DIR [--update-baseline]}
update=${2:-}
baseline=tests/cost/baseline.txt
regression=${COST_REGRESSION:-3}
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
printf '%-32s %12s %6s\n' shape instructions ratio
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
    printf '%-32s %12s %6s\n' "$s" "$ir" "$ratio"
    worst=$(awk -v a="$ratio" -v b="$worst" 'BEGIN { print (a > b) ? a : b }')
    n=$((n + 1))
    if awk -v a="$ratio" -v l="$limit" 'BEGIN { exit !(a > l) }'; then
        echo "cost: $s costs ${ratio}x a padded ClientHello of $total bytes (limit ${limit}x)" >&2
        fail=1
    fi
done
echo "cost: $n shapes of $total bytes, worst ${worst}x a padded ClientHello (limit ${limit}x)"

# The client's side: a CertificateRequest whose certificate_authorities
# fill the 2^16-1 byte block, against one padded to the same size.
cr() { # shape -> instructions, or nothing if the flight was not taken
    local out="$work/cr.$1"
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
        "$build/cr_cost" "$1" >"$work/crlog.$1" 2>&1 || return 1
    awk '/^summary:/ {print $2}' "$out"
}
if cr_base=$(cr padded) && cr_ir=$(cr certificate_authorities); then
    ratio=$(awk -v a="$cr_ir" -v b="$cr_base" 'BEGIN { printf "%.2f", a / b }')
    printf '%-32s %12s %6s\n' "client: padded request" "$cr_base" 1.00
    printf '%-32s %12s %6s\n' "client: certificate_authorities" "$cr_ir" "$ratio"
    if awk -v a="$ratio" -v l="$limit" 'BEGIN { exit !(a > l) }'; then
        echo "cost: certificate_authorities cost the client ${ratio}x (limit ${limit}x)" >&2
        fail=1
    fi
else
    cat "$work"/crlog.* >&2 || true
    echo "cost: the client's CertificateRequest probe failed" >&2
    fail=1
fi

# The phases against their baseline (tests/cost/baseline.txt).
# OPENSSL_ia32cap=":0" hides the CPUID leaf-7 features (AVX2, BMI2, ADX,
# SHA, AVX-512) from libcrypto, so the counted code paths do not depend on
# which x86-64 host runs the gate; AES-NI, PCLMUL and AVX stay.
phase_ir() { # phase -> instructions
    OPENSSL_ia32cap=":0" valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$work/ph.$1" \
        "$build/hs_cost" "$1" >"$work/phlog.$1" 2>&1 || return 1
    awk '/^summary:/ {print $2}' "$work/ph.$1"
}
new_baseline="# instructions per phase of tests/cost/hs_cost.c under callgrind; written by
# make perf-baseline (tools/cost.sh --update-baseline); tools/cost.sh fails a
# phase more than COST_REGRESSION (3) percent above its line."
for ph in full resumed bulk; do
    if ! ir=$(phase_ir "$ph"); then
        grep -v '^==' "$work/phlog.$ph" >&2 || true
        echo "cost: the $ph phase probe failed" >&2
        fail=1
        continue
    fi
    new_baseline+=$'\n'"$ph $ir"
    base=$(awk -v p="$ph" '$1 == p {print $2}' "$baseline" 2>/dev/null || true)
    if [[ -z $base ]]; then
        printf '%-32s %12s %6s\n' "phase $ph" "$ir" "-"
        [[ $update == --update-baseline ]] || { echo "cost: no baseline for phase $ph in $baseline (make perf-baseline)" >&2; fail=1; }
        continue
    fi
    pct=$(awk -v a="$ir" -v b="$base" 'BEGIN { printf "%+.2f", (a - b) * 100 / b }')
    printf '%-32s %12s %6s%%  (baseline %s)\n' "phase $ph" "$ir" "$pct" "$base"
    if [[ $update != --update-baseline ]] &&
        awk -v a="$ir" -v b="$base" -v r="$regression" 'BEGIN { exit !(a > b * (1 + r / 100)) }'; then
        echo "cost: phase $ph costs $ir instructions, $pct% against its baseline $base (limit +$regression%)" >&2
        fail=1
    fi
done
if [[ $update == --update-baseline ]]; then
    if [[ $fail == 0 ]]; then
        printf '%s\n' "$new_baseline" >"$baseline"
        echo "cost: wrote $baseline (commit it on its own)"
    else
        echo "cost: $baseline not written: a probe failed" >&2
    fi
fi
exit $fail
