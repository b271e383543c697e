#!/usr/bin/env bash
# gen-ocsp.sh OUTDIR PKIDIR - OCSP responses for the test PKI (made by
# tools/gen-pki.sh PKIDIR), produced by `openssl ocsp` acting as a responder
# over an `index.txt` CA database.  Used by tests/c/test_ocsp.c and
# interop/test_ocsp.py.
#
# Every response concerns ecdsa-p256.leaf.pem (issued by inter.pem) unless
# its name says otherwise; thisUpdate is the generation time.
#   good.der            good, signed by the issuer (inter), byName, SHA-1
#                       CertID, nextUpdate = +7 days, signer cert included
#   good-sha256.der     good, SHA-256 CertID
#   good-bykey.der      good, ResponderID byKey, no certs
#   nonext.der          good, no nextUpdate
#   short.der           good, nextUpdate = thisUpdate + 1 minute (becomes
#                       "expired" under an injected clock)
#   revoked.der         revoked (keyCompromise)
#   unknown.der         unknown (serial not in the database)
#   other-serial.der    good, but for ecdsa-p384.leaf.pem (CertID mismatch)
#   wrong-responder.der good, signed by other-root (unrelated key and cert)
#   bad-signature.der   good.der without certs, last signature byte flipped
#   delegated.der       good, signed by delegated.pem: issued by inter with
#                       EKU id-kp-OCSPSigning (included in certs)
#   delegated-noeku.der good, signed by delegated-noeku.pem: issued by
#                       inter, EKU serverAuth only
#   delegated-root.der  good, signed by delegated-root.pem: OCSPSigning,
#                       but issued by root, not by the leaf's issuer
#   mustaple.chain.pem / mustaple.key / mustaple-good.der
#                       a leaf (SAN localhost) with the TLS feature
#                       extension status_request (RFC 7633), its chain, key
#                       and a good response for it
#   leaf-direct-good.der good for leaf-direct.chain.pem, signed by root
#   leaf-direct-revoked.der revoked, same
#   rsa-good.der        good for rsa.leaf.pem (signed by inter)
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 OUTDIR PKIDIR" >&2
    exit 2
fi
OUT=$1
PKI=$(cd "$2" && pwd)
for f in root.pem root.key inter.pem inter.key other-root.pem other-root.key \
    ecdsa-p256.leaf.pem ecdsa-p384.leaf.pem rsa.leaf.pem leaf-direct.chain.pem; do
    [ -f "$PKI/$f" ] || { echo "gen-ocsp.sh: missing $PKI/$f" >&2; exit 1; }
done

mkdir -p "$OUT"
TMP=$(mktemp -d "$OUT/.gen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

cat > ext.cnf <<'EOF'
[ v3_ocsp ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
[ v3_noeku ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
[ v3_mustaple ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
tlsfeature = status_request
EOF

ecdsa_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# issue SUBJECT KEY CACERT CAKEY EXT OUT: a certificate valid from one hour
# ago (x509 -req starts "now"; -not_before is not in 3.0) for 30 days.
issue() {
    openssl req -new -key "$2" -subj "$1" -out req.csr 2>/dev/null
    openssl x509 -req -in req.csr -CA "$3" -CAkey "$4" -CAcreateserial -days 30 -sha256 \
        -extfile ext.cnf -extensions "$5" -out "$6" 2>/dev/null
    rm -f req.csr
}

ecdsa_key delegated.key
issue "/O=ferrule test/CN=ferrule test OCSP responder" delegated.key \
    "$PKI/inter.pem" "$PKI/inter.key" v3_ocsp delegated.pem
ecdsa_key delegated-noeku.key
issue "/O=ferrule test/CN=ferrule test no-EKU responder" delegated-noeku.key \
    "$PKI/inter.pem" "$PKI/inter.key" v3_noeku delegated-noeku.pem
ecdsa_key delegated-root.key
issue "/O=ferrule test/CN=ferrule test root-issued responder" delegated-root.key \
    "$PKI/root.pem" "$PKI/root.key" v3_ocsp delegated-root.pem
ecdsa_key mustaple.key
issue "/O=ferrule test/CN=localhost" mustaple.key "$PKI/inter.pem" "$PKI/inter.key" \
    v3_mustaple mustaple.leaf.pem
cat mustaple.leaf.pem "$PKI/inter.pem" > mustaple.chain.pem
openssl x509 -in "$PKI/leaf-direct.chain.pem" -out leaf-direct.pem

serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
P256=$(serial "$PKI/ecdsa-p256.leaf.pem")
P384=$(serial "$PKI/ecdsa-p384.leaf.pem")
RSA=$(serial "$PKI/rsa.leaf.pem")
MUST=$(serial mustaple.leaf.pem)
DIRECT=$(serial leaf-direct.pem)
EXP=491231235959Z
REVOKED_AT=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)

# index.txt lines: status, expiry, revocation[,reason], serial, file, subject
row() { printf '%s\t%s\t%s\t%s\tunknown\t/CN=%s\n' "$1" "$EXP" "$2" "$3" "$3"; }
{
    row V "" "$P256"
    row V "" "$P384"
    row V "" "$RSA"
    row V "" "$MUST"
    row V "" "$DIRECT"
} > good.idx
{
    row R "$REVOKED_AT,keyCompromise" "$P256"
    row R "$REVOKED_AT,keyCompromise" "$DIRECT"
} > revoked.idx
row V "" 0BADBEEF > unknown.idx

# request ISSUER CERT OUT [DIGEST]
request() {
    # A digest option applies to the -cert options after it.
    openssl ocsp ${4:+"-$4"} -issuer "$1" -cert "$2" -no_nonce -reqout "$3" >/dev/null 2>&1
}
# respond REQ INDEX CA SIGNER KEY OUT [extra openssl ocsp options]
respond() {
    local req=$1 idx=$2 ca=$3 signer=$4 key=$5 out=$6
    shift 6
    openssl ocsp -index "$idx" -CA "$ca" -rsigner "$signer" -rkey "$key" -reqin "$req" \
        -respout "$out" "$@" >/dev/null 2>&1
    [ -s "$out" ] || { echo "gen-ocsp.sh: no response for $out" >&2; exit 1; }
}

INTER=$PKI/inter.pem
IKEY=$PKI/inter.key
request "$INTER" "$PKI/ecdsa-p256.leaf.pem" p256.req
request "$INTER" "$PKI/ecdsa-p256.leaf.pem" p256-sha256.req sha256
request "$INTER" "$PKI/ecdsa-p384.leaf.pem" p384.req
request "$INTER" "$PKI/rsa.leaf.pem" rsa.req
request "$INTER" mustaple.leaf.pem must.req
request "$PKI/root.pem" leaf-direct.pem direct.req

respond p256.req good.idx "$INTER" "$INTER" "$IKEY" good.der -ndays 7
respond p256-sha256.req good.idx "$INTER" "$INTER" "$IKEY" good-sha256.der -ndays 7
respond p256.req good.idx "$INTER" "$INTER" "$IKEY" good-bykey.der -ndays 7 -resp_key_id \
    -resp_no_certs
respond p256.req good.idx "$INTER" "$INTER" "$IKEY" nonext.der
respond p256.req good.idx "$INTER" "$INTER" "$IKEY" short.der -nmin 1
respond p256.req revoked.idx "$INTER" "$INTER" "$IKEY" revoked.der -ndays 7
respond p256.req unknown.idx "$INTER" "$INTER" "$IKEY" unknown.der -ndays 7
respond p384.req good.idx "$INTER" "$INTER" "$IKEY" other-serial.der -ndays 7
respond p256.req good.idx "$INTER" "$PKI/other-root.pem" "$PKI/other-root.key" \
    wrong-responder.der -ndays 7
respond p256.req good.idx "$INTER" "$INTER" "$IKEY" nocerts.der -ndays 7 -resp_no_certs
respond p256.req good.idx "$INTER" delegated.pem delegated.key delegated.der -ndays 7
respond p256.req good.idx "$INTER" delegated-noeku.pem delegated-noeku.key \
    delegated-noeku.der -ndays 7
respond p256.req good.idx "$INTER" delegated-root.pem delegated-root.key \
    delegated-root.der -ndays 7
respond must.req good.idx "$INTER" "$INTER" "$IKEY" mustaple-good.der -ndays 7
respond rsa.req good.idx "$INTER" "$INTER" "$IKEY" rsa-good.der -ndays 7
respond direct.req good.idx "$PKI/root.pem" "$PKI/root.pem" "$PKI/root.key" \
    leaf-direct-good.der -ndays 7
respond direct.req revoked.idx "$PKI/root.pem" "$PKI/root.pem" "$PKI/root.key" \
    leaf-direct-revoked.der -ndays 7

# Without certs the signature BIT STRING ends the response: flip its last
# byte (still well-formed DER, no longer a valid signature).
n=$(stat -c %s nocerts.der)
last=$(tail -c 1 nocerts.der | od -An -tu1 | tr -d ' \n')
head -c $((n - 1)) nocerts.der > bad-signature.der
# shellcheck disable=SC2059 # the format is the octal escape of one byte
printf "\\$(printf %03o $((last ^ 1)))" >> bad-signature.der

# Sanity: openssl itself must see the statuses we claim.
check() { # check RESP ISSUER CERT EXPECTED [VAFILE]
    local got
    got=$(openssl ocsp -respin "$1" -issuer "$2" -cert "$3" -CAfile "$PKI/root.pem" \
        ${5:+-VAfile "$5"} -no_nonce 2>/dev/null | grep -o ': \(good\|revoked\|unknown\)' | head -1)
    if [ "$got" != ": $4" ]; then
        echo "gen-ocsp.sh: $1: expected $4, openssl says '${got# }'" >&2
        exit 1
    fi
}
check good.der "$INTER" "$PKI/ecdsa-p256.leaf.pem" good
check revoked.der "$INTER" "$PKI/ecdsa-p256.leaf.pem" revoked
check unknown.der "$INTER" "$PKI/ecdsa-p256.leaf.pem" unknown
check delegated.der "$INTER" "$PKI/ecdsa-p256.leaf.pem" good
check mustaple-good.der "$INTER" mustaple.leaf.pem good
check leaf-direct-good.der "$PKI/root.pem" leaf-direct.pem good

FILES="good.der good-sha256.der good-bykey.der nonext.der short.der revoked.der unknown.der
other-serial.der wrong-responder.der bad-signature.der delegated.der delegated-noeku.der
delegated-root.der mustaple-good.der rsa-good.der leaf-direct-good.der leaf-direct-revoked.der
delegated.pem delegated-noeku.pem delegated-root.pem mustaple.leaf.pem mustaple.chain.pem
mustaple.key"
chmod 600 ./*.key
for f in $FILES; do mv -f "$f" "$OUT/$f"; done
