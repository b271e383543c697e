#!/usr/bin/env bash
# tools/demo.sh BUILD_DIR - show ferrule talking TLS 1.3 over loopback.
#
# Makes a throwaway PKI in BUILD_DIR/demo-pki, then runs the ferrule client
# (HTTP GET /, --json) against
#   - `ferrule server --www` with an ECDSA P-256 and an RSA certificate,
#   - `openssl s_server -www -tls1_3` with the same two certificates,
# and prints what each handshake negotiated; then ferrule against s2n-tls
# and rustls in both roles (the interop matrix's peers, interop/peers/rust,
# built on first use into ~/.cache/ferrule: a few minutes the first time);
# then resumption and 0-RTT
# against `ferrule server --www --early-data` (a full handshake, a resumed
# one with its GET as early data, and a reuse of the same ticket whose early
# data the server's anti-replay refuses).  Every background process is
# killed on exit; the exit status is non-zero if any step failed.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "$1" && pwd)
FERRULE=$BUILD/ferrule
PKI=$BUILD/demo-pki
STEP_TIMEOUT=20 # seconds for any one client run or server start

[[ -x $FERRULE ]] || { echo "demo: $FERRULE not found (run make build)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "demo: openssl not found" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "demo: generating a throwaway PKI in $PKI"
if ! "$ROOT/tools/gen-pki.sh" "$PKI" >"$WORK/pki.log" 2>&1; then
    cat "$WORK/pki.log" >&2
    echo "demo: tools/gen-pki.sh failed" >&2
    exit 1
fi

# wait_accept LOGFILE PID: print the port from the server's
# "ACCEPT host:port" line once it appears.
wait_accept() {
    local log=$1 pid=$2 i line
    for ((i = 0; i < STEP_TIMEOUT * 20; i++)); do
        line=$(grep -m1 '^ACCEPT ' "$log" 2>/dev/null || true)
        if [[ $line =~ ^ACCEPT\ .*:([0-9]+)[[:space:]]*$ ]]; then
            echo "${BASH_REMATCH[1]}"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "demo: server did not report ACCEPT host:port; its output:" >&2
    cat "$log" "$log.err" >&2 2>/dev/null || true
    return 1
}

# One row per handshake: peer, cert, and the negotiated parameters.
ROWS=()
failures=0

# json_row FILE: the table columns from the client's --json object (the
# object may follow the HTTP response on stdout).
json_row() {
    python3 - "$1" <<'EOF'
import json, re, sys
text = open(sys.argv[1], errors="replace").read()
dec = json.JSONDecoder()
for m in reversed(list(re.finditer(r"^\{", text, re.M))):
    try:
        obj, _ = dec.raw_decode(text[m.start():])
    except ValueError:
        continue
    if isinstance(obj, dict) and "handshake_ok" in obj:
        if obj.get("handshake_ok") is not True:
            sys.exit(1)
        print(" ".join(str(obj.get(k) or "-") for k in
                       ("version", "cipher_suite", "group", "signature_scheme")))
        sys.exit(0)
sys.exit(2)
EOF
}

# run_client PEER KIND PORT: GET / with the ferrule client and record a row.
run_client() {
    local peer=$1 kind=$2 port=$3 out=$WORK/client-$1-$2 row
    if timeout "$STEP_TIMEOUT" "$FERRULE" client "127.0.0.1:$port" --servername localhost \
        --cafile "$PKI/root.pem" --http-get / --json >"$out.out" 2>"$out.err" &&
        row=$(json_row "$out.out"); then
        ROWS+=("$peer $kind $row")
    else
        echo "demo: ferrule client against $peer ($kind) FAILED:" >&2
        cat "$out.err" >&2
        ROWS+=("$peer $kind FAILED - - -")
        failures=$((failures + 1))
    fi
}

for kind in ecdsa-p256 rsa; do
    # ferrule server: one connection, then it exits.
    log=$WORK/ferrule-server-$kind
    "$FERRULE" server --accept 127.0.0.1:0 --cert "$PKI/$kind.chain.pem" \
        --key "$PKI/$kind.key" --www --max-conns 1 >"$log" 2>"$log.err" </dev/null &
    PIDS+=($!)
    if port=$(wait_accept "$log" $!); then
        run_client ferrule-server "$kind" "$port"
    else
        ROWS+=("ferrule-server $kind FAILED - - -")
        failures=$((failures + 1))
    fi

    # openssl s_server: port 0 = the kernel picks one; s_server reports it
    # on its ACCEPT line.
    log=$WORK/openssl-server-$kind
    openssl s_server -accept 127.0.0.1:0 -cert "$PKI/$kind.leaf.pem" \
        -cert_chain "$PKI/inter.pem" -key "$PKI/$kind.key" -www -tls1_3 \
        >"$log" 2>"$log.err" </dev/null &
    PIDS+=($!)
    if port=$(wait_accept "$log" $!); then
        run_client openssl-s_server "$kind" "$port"
    else
        ROWS+=("openssl-s_server $kind FAILED - - -")
        failures=$((failures + 1))
    fi
done

# s2n-tls and rustls, both roles, through the interop matrix's peer programs
# (interop/peers/PROTOCOL.md): each peer server echoes one ferrule client
# connection; each peer client sends 1 KiB to `ferrule server --echo`,
# checks the echo and reports what it negotiated.
PEERS=()
echo "demo: building the s2n-tls and rustls peers (interop/peers/rust/build.sh)"
if rustdir=$("$ROOT/interop/peers/rust/build.sh" --no-boring 2>"$WORK/rust-build.err" | tail -n1) &&
    [[ -x $rustdir/ferrule-s2n-peer && -x $rustdir/ferrule-rustls-peer ]]; then
    for impl in s2n rustls; do
        bin=$rustdir/ferrule-$impl-peer
        name=$("$bin" caps | python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["impl"] + "-" + c["version"])')
        # ferrule client -> peer server
        log=$WORK/$impl-server
        "$bin" server --listen 127.0.0.1:0 --cert "$PKI/ecdsa-p256.chain.pem" \
            --key "$PKI/ecdsa-p256.key" --count 1 >"$log" 2>"$log.err" </dev/null &
        PIDS+=($!)
        out=$WORK/client-$impl
        if port=$(wait_accept "$log" $!) &&
            printf 'hello %s\n' "$impl" | timeout "$STEP_TIMEOUT" "$FERRULE" client "127.0.0.1:$port" \
                --servername localhost --cafile "$PKI/root.pem" --report "$out.json" \
                >"$out.out" 2>"$out.err" &&
            grep -qx "hello $impl" "$out.out" && row=$(json_row "$out.json"); then
            PEERS+=("ferrule-client $name-server $row")
        else
            echo "demo: ferrule client against the $impl server FAILED:" >&2
            cat "$out.err" "$log.err" >&2 2>/dev/null || true
            PEERS+=("ferrule-client $name-server FAILED - - -")
            failures=$((failures + 1))
        fi
        # peer client -> ferrule server
        log=$WORK/ferrule-server-$impl
        "$FERRULE" server --accept 127.0.0.1:0 --cert "$PKI/ecdsa-p256.chain.pem" \
            --key "$PKI/ecdsa-p256.key" --echo --max-conns 1 --report "$log.json" \
            >"$log" 2>"$log.err" </dev/null &
        PIDS+=($!)
        out=$WORK/$impl-client
        if port=$(wait_accept "$log" $!) &&
            timeout "$STEP_TIMEOUT" "$bin" client --connect "127.0.0.1:$port" --servername localhost \
                --ca "$PKI/root.pem" --send-bytes 1024 >"$out.out" 2>"$out.err" </dev/null &&
            row=$(python3 -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
print(r["ok"] is True and r["echo_ok"] is True and "%s %s %s -" % (r.get("version") or "TLSv1.3", r.get("cipher") or "-", r.get("group") or "-") or "")' "$out.out") &&
            [[ -n $row ]]; then
            PEERS+=("$name-client ferrule-server $row")
        else
            echo "demo: the $impl client against ferrule server FAILED:" >&2
            cat "$out.out" "$out.err" >&2 2>/dev/null || true
            PEERS+=("$name-client ferrule-server FAILED - - -")
            failures=$((failures + 1))
        fi
    done
else
    echo "demo: building the Rust peers FAILED:" >&2
    tail -n 30 "$WORK/rust-build.err" >&2
    PEERS+=("s2n/rustls build FAILED - - -")
    failures=$((failures + 1))
fi

# Resumption and 0-RTT against ferrule server (docs/early-data.md): a full
# handshake saves a session; the next connection resumes it and sends its
# GET as early data; the third reuses the same ticket, so the server's
# anti-replay refuses the early data and the client resends it in 1-RTT.
EARLY=()
log=$WORK/ferrule-server-0rtt
"$FERRULE" server --accept 127.0.0.1:0 --cert "$PKI/ecdsa-p256.chain.pem" \
    --key "$PKI/ecdsa-p256.key" --www --early-data --max-conns 3 >"$log" 2>"$log.err" </dev/null &
PIDS+=($!)
printf 'GET / HTTP/1.0\r\n\r\n' >"$WORK/early.txt"
if port=$(wait_accept "$log" $!); then
    for step in full 0rtt replay; do
        args=(--sess-out "$WORK/sess-full" --http-get /)
        [[ $step != full ]] && args=(--sess-in "$WORK/sess-full" --early-data "$WORK/early.txt")
        out=$WORK/client-0rtt-$step
        if timeout "$STEP_TIMEOUT" "$FERRULE" client "127.0.0.1:$port" --servername localhost \
            --cafile "$PKI/root.pem" --json "${args[@]}" >"$out.out" 2>"$out.err" </dev/null &&
            row=$(python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(o["handshake_ok"] is True and "%s %s %s" % (o["resumed"], o["early_data"], o["response_bytes"] > 0) or "")' "$out.out") &&
            [[ -n $row ]]; then
            EARLY+=("$step $row")
        else
            echo "demo: 0-RTT step $step FAILED:" >&2
            cat "$out.err" >&2
            EARLY+=("$step FAILED - -")
            failures=$((failures + 1))
        fi
    done
else
    EARLY+=("server FAILED - - -")
    failures=$((failures + 1))
fi

echo
fmt='%-17s %-11s %-8s %-29s %-10s %s\n'
# shellcheck disable=SC2059  # fmt is ours
printf "$fmt" PEER CERT VERSION CIPHER_SUITE GROUP SIGNATURE_SCHEME
for row in "${ROWS[@]}"; do
    # shellcheck disable=SC2086,SC2059  # rows are space-separated words
    printf "$fmt" $row
done
echo
pfmt='%-22s %-22s %-8s %-29s %-10s %s\n'
# shellcheck disable=SC2059
printf "$pfmt" CLIENT SERVER VERSION CIPHER_SUITE GROUP SIGNATURE_SCHEME
for row in "${PEERS[@]}"; do
    # shellcheck disable=SC2086,SC2059
    printf "$pfmt" $row
done
echo
efmt='%-8s %-8s %-11s %s\n'
# shellcheck disable=SC2059
printf "$efmt" STEP RESUMED EARLY_DATA ANSWERED
for row in "${EARLY[@]}"; do
    # shellcheck disable=SC2086,SC2059
    printf "$efmt" $row
done
echo

if ((failures)); then
    echo "demo: $failures handshake(s) failed" >&2
    exit 1
fi
echo "demo: all $((${#ROWS[@]} + ${#PEERS[@]} + ${#EARLY[@]})) handshakes succeeded"
