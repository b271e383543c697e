#!/usr/bin/env bash
# fuzz/seeds.sh GEN_SEEDS OUTDIR - regenerate the raw seed inputs (before
# libFuzzer minimises them into fuzz/corpus/, see fuzz/README.md).
#
#   GEN_SEEDS  a built fuzz_gen_seeds (any build dir: BUILD/fuzz/fuzz_gen_seeds)
#   OUTDIR     receives OUTDIR/<target>/<seed>
#
# - fuzz_server / fuzz_client / fuzz_record: gen_seeds "pairs" (ferrule
#   against itself on the targets' deterministic random streams);
# - fuzz_client: openssl s_server and gnutls-serv (with the embedded test
#   certificate) answering the fuzz_client ClientHello over loopback;
# - fuzz_server: openssl s_client and gnutls-cli talking to the fuzz_server
#   server over loopback (complete handshakes, plus a TLS 1.2-only and a
#   HelloRetryRequest-needing ClientHello);
# - fuzz_x509 / fuzz_pem / fuzz_pathbuild: the tools/gen-pki.sh PKI;
# - fuzz_cert_api: the fuzz_x509 seeds (the same input: one certificate);
# - the per-parser targets (fuzz_client_hello ... fuzz_names):
#   fuzz/seeds_parsers.py (needs python3 with `cryptography`) from the
#   seeds above, the PKI and tools/gen-ocsp.sh; fuzz_session: gen_seeds
#   sessions.
# Peers that are not installed are skipped.
set -euo pipefail
GEN=$(realpath "$1")
OUT=$(realpath -m "$2")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$OUT"/{fuzz_server,fuzz_client,fuzz_record,fuzz_x509,fuzz_pem,fuzz_pathbuild,fuzz_cert_api}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$GEN" pairs "$OUT" >/dev/null

# The embedded fuzz PKI as files, for the peers.
python3 - "$ROOT/fuzz/test_cert.h" "$WORK" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
for name, fn in (("FUZZ_ROOT_PEM", "root.pem"), ("FUZZ_LEAF_CHAIN_PEM", "chain.pem"),
                 ("FUZZ_LEAF_KEY_PEM", "leaf.key")):
    body = re.search(name + r"\[\] =\n(.*?);\n", src, re.S).group(1)
    open(sys.argv[2] + "/" + fn, "w").write("\n".join(re.findall(r'"(.*?)\\n"', body)) + "\n")
EOF
cd "$WORK"
csplit -s -z -f leafpart chain.pem '/BEGIN CERT/' '{*}'
cp leafpart00 leaf.pem

port=$((40000 + RANDOM % 20000))
next_port() { port=$((port + 1)); }
wait_port() { for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

client_from() { # seed-name server-command... (server on $port)
    local name=$1
    shift
    "$@" >/dev/null 2>&1 &
    local sp=$!
    if wait_port "$port"; then
        timeout 20 "$GEN" connect "$port" "$OUT/fuzz_client/$name" >/dev/null || true
    fi
    kill "$sp" 2>/dev/null || true
    wait "$sp" 2>/dev/null || true
    next_port
}
server_from() { # seed-name client-command... (client to $port)
    local name=$1
    shift
    timeout 20 "$GEN" listen "$port" "$OUT/fuzz_server/$name" >/dev/null &
    local lp=$!
    sleep 0.5
    (printf 'hello ferrule\n'; sleep 1) | timeout 10 "$@" >/dev/null 2>&1 || true
    wait "$lp" || true
    next_port
}

if command -v openssl >/dev/null; then
    client_from openssl-s_server-www openssl s_server -accept $port -cert leaf.pem -key leaf.key \
        -cert_chain root.pem -www -tls1_3 -quiet
    client_from openssl-s_server-chacha-p256 openssl s_server -accept $port -cert leaf.pem \
        -key leaf.key -www -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -groups P-256 \
        -num_tickets 0 -quiet
    S="openssl s_client -servername localhost -CAfile root.pem"
    server_from openssl-s_client $S -connect 127.0.0.1:$port -alpn h2
    server_from openssl-s_client-p384-aes256 $S -connect 127.0.0.1:$port -groups P-384 \
        -ciphersuites TLS_AES_256_GCM_SHA384
    server_from openssl-s_client-x25519-chacha-nosni openssl s_client -noservername \
        -CAfile root.pem -connect 127.0.0.1:$port -groups X25519 \
        -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -sigalgs ECDSA+SHA256
    server_from openssl-s_client-tls12 $S -connect 127.0.0.1:$port -tls1_2
    server_from openssl-s_client-hrr $S -connect 127.0.0.1:$port -groups ffdhe2048:X25519
fi
if command -v gnutls-serv >/dev/null; then
    P='NORMAL:-VERS-ALL:+VERS-TLS1.3'
    client_from gnutls-serv gnutls-serv -p $port --x509certfile chain.pem --x509keyfile leaf.key \
        --http --disable-client-cert --priority "$P"
    client_from gnutls-serv-certreq gnutls-serv -p $port --x509certfile chain.pem \
        --x509keyfile leaf.key --http --priority "$P"
    server_from gnutls-cli gnutls-cli --x509cafile root.pem -p $port localhost
    server_from gnutls-cli-p256 gnutls-cli --x509cafile root.pem -p $port \
        --priority "$P:-GROUP-ALL:+GROUP-SECP256R1" localhost
fi

# Certificates.
PKI=$WORK/pki
"$ROOT/tools/gen-pki.sh" "$PKI" >/dev/null
der() { openssl x509 -in "$1" -outform DER; }
for f in "$PKI"/*.pem; do
    b=$(basename "$f" .pem)
    csplit -s -z -f "$WORK/part-" "$f" '/BEGIN CERT/' '{*}'
    i=0
    for p in "$WORK"/part-*; do
        der "$p" >"$OUT/fuzz_x509/$b-$i.der"
        i=$((i + 1))
    done
    rm -f "$WORK"/part-*
done
der "$WORK/leaf.pem" >"$OUT/fuzz_x509/fuzz-leaf.der"
der "$WORK/root.pem" >"$OUT/fuzz_x509/fuzz-root.der"
# fuzz_x509 keeps distinct bytes only.
(cd "$OUT/fuzz_x509" && sha1sum -- * | sort | awk 'seen[$1]++ {print $2}' | xargs -r rm -f)
cp "$OUT"/fuzz_x509/* "$OUT/fuzz_cert_api/"

for f in root ecdsa-p256.chain rsa-pss.chain ed25519.chain untrusted.chain x-hostile-leaf; do
    cp "$PKI/$f.pem" "$OUT/fuzz_pem/$f.pem"
done
{ echo "junk before"; cat "$PKI/root.pem"; printf -- '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'; cat "$PKI/other-root.pem"; } \
    >"$OUT/fuzz_pem/mixed.pem"
tr -d '\n' <"$PKI/root.pem" >"$OUT/fuzz_pem/oneline.pem"
sed 's/$/\r/' "$PKI/inter.pem" >"$OUT/fuzz_pem/crlf.pem"

# fuzz_pathbuild: flags byte, then 2-byte-length-prefixed DER blobs,
# anchor first, then the chain leaf first.
path() { # name flags pem...
    local name=$1 flags=$2
    shift 2
    python3 - "$OUT/fuzz_pathbuild/$name" "$flags" "$@" <<'EOF'
import subprocess, sys
out = bytearray([int(sys.argv[2])])
for pem in sys.argv[3:]:
    d = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"],
                       check=True, capture_output=True).stdout
    out += len(d).to_bytes(2, "big") + d
open(sys.argv[1], "wb").write(out)
EOF
}
for k in ecdsa-p256 ecdsa-p384 rsa rsa-pss ed25519; do
    path "$k" 1 "$PKI/root.pem" "$PKI/$k.leaf.pem" "$PKI/inter.pem"
done
path leaf-direct 1 "$PKI/root.pem" "$PKI/leaf-direct.chain.pem"
path wrongname 1 "$PKI/root.pem" "$PKI/wrongname.chain.pem" "$PKI/inter.pem"
path untrusted 0 "$PKI/root.pem" "$PKI/untrusted.chain.pem" "$PKI/inter.pem"
path other-root 2 "$PKI/other-root.pem" "$PKI/untrusted.chain.pem"
path loop 1 "$PKI/root.pem" "$PKI/x-loop-leaf.pem" "$PKI/x-loop-a.pem" "$PKI/x-loop-b.pem"
path hostile 1 "$PKI/x-hostile-0.pem" "$PKI/x-hostile-leaf.pem" "$PKI"/x-hostile-[1-9].pem
path mid 1 "$PKI/root.pem" "$PKI/x-mid2-leaf.pem" "$PKI/x-mid1.pem" "$PKI/x-mid2.pem"
path mid-depth2 $((1 | 2 << 2)) "$PKI/root.pem" "$PKI/x-mid2-leaf.pem" "$PKI/x-mid2.pem" "$PKI/x-mid1.pem"
path sub 1 "$PKI/root.pem" "$PKI/x-sub-leaf.pem" "$PKI/x-sub-inter.pem" "$PKI/inter.pem"
path notca 1 "$PKI/root.pem" "$PKI/x-notca-leaf.pem" "$PKI/x-notca-inter.pem"
path kuca 1 "$PKI/root.pem" "$PKI/x-kuca-leaf.pem" "$PKI/x-kuca-inter.pem"
path weak 1 "$PKI/root.pem" "$PKI/x-weak-leaf.pem" "$PKI/x-weak-inter.pem"
for x in critical eku-client ku-keyenc nosan; do
    path "$x" 1 "$PKI/root.pem" "$PKI/x-$x.pem" "$PKI/inter.pem"
done
path eku-client-purpose 3 "$PKI/root.pem" "$PKI/x-eku-client.pem" "$PKI/inter.pem"
for k in ecdsa-p384 rsa rsa-pss ed25519; do
    path "ca-$k" 1 "$PKI/root.pem" "$PKI/x-$k.ca-leaf.pem" "$PKI/x-$k.ca.pem"
done
# The per-parser targets.
"$GEN" sessions "$OUT" >/dev/null
"$ROOT/tools/gen-ocsp.sh" "$WORK/ocsp" "$PKI" >/dev/null
python3 "$ROOT/fuzz/seeds_parsers.py" "$OUT" "$OUT" "$PKI" "$WORK/ocsp"
echo "seeds in $OUT: $(find "$OUT" -type f | wc -l) files"
