#!/usr/bin/env bash
# gen-pki.sh OUTDIR - generate the throwaway test PKI (see the TEST PKI
# CONTRACT in the project brief) with the `openssl` CLI (3.0).
#
# Contract files:
#   root.pem/.key (ECDSA P-256 self-signed CA), inter.pem/.key (CA, pathlen:0,
#   signed by root), KIND.key / KIND.leaf.pem / KIND.chain.pem for KIND in
#   ecdsa-p256 ecdsa-p384 rsa rsa-pss ed25519, wrongname.*, other-root.*,
#   untrusted.*, leaf-direct.*.
# SNI selection (tests/c/test_server_select.c, interop/test_alpn_sni.py):
#   sni-a.* (ECDSA, DNS:a.test), sni-b.* (ECDSA, DNS:b.test), sni-wild.*
#   (ECDSA, DNS:*.wild.test), sni-a-rsa.* (RSA, DNS:a.test); CN = the name,
#   issued by inter, chain = leaf + inter.
# Extra files (prefix "x-") used by tests/c/test_x509.c: CAs signed with every
# supported signature algorithm, a loop of two CAs, a hostile set of
# same-subject CAs, and certificates violating one rule each
# (x-cn-other.chain.pem, with the key ecdsa-p256.key, serves
# tests/c/test_verify_api.c).
#
# Idempotent: if every file already exists the script exits at once.  Files
# are generated in a temporary directory and moved into OUTDIR at the end,
# root.pem last.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUT=$1
KINDS="ecdsa-p256 ecdsa-p384 rsa rsa-pss ed25519"

FILES="root.pem root.key inter.pem inter.key other-root.pem other-root.key
wrongname.chain.pem wrongname.key untrusted.chain.pem untrusted.key
leaf-direct.chain.pem leaf-direct.key
x-loop-a.pem x-loop-b.pem x-loop-leaf.pem x-hostile-leaf.pem
x-critical.pem x-eku-client.pem x-ku-keyenc.pem x-notca-inter.pem
x-notca-leaf.pem x-sub-inter.pem x-sub-leaf.pem x-kuca-inter.pem
x-kuca-leaf.pem x-weak-inter.pem x-weak-leaf.pem x-nosan.pem x-mid1.pem
x-mid2.pem x-mid2-leaf.pem x-cn-other.chain.pem
sni-a.chain.pem sni-a.key sni-b.chain.pem sni-b.key sni-wild.chain.pem
sni-wild.key sni-a-rsa.chain.pem sni-a-rsa.key"
for i in 0 1 2 3 4 5 6 7 8 9; do
    FILES="$FILES x-hostile-$i.pem"
done
for k in $KINDS; do
    FILES="$FILES $k.key $k.leaf.pem $k.chain.pem x-$k.ca.pem x-$k.ca-leaf.pem"
done

# A stamp of this script's contents: a PKI made by an older version of the
# script is regenerated.
STAMP=$(sha256sum "$0" | cut -c1-16)
complete=1
[ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ] || complete=0
for f in $FILES; do
    if [ ! -f "$OUT/$f" ]; then
        complete=0
        break
    fi
done
if [ "$complete" = 1 ]; then
    exit 0
fi

mkdir -p "$OUT"
TMP=$(mktemp -d "$OUT/.gen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

# Dates for `openssl ca` (x509 -req in 3.0 cannot back-date).
d() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
NOW_M1=$(d '-1 day')
NOW_M2=$(d '-2 days')
N=$NOW_M1
LEAF_END=$(date -u -d "${N:0:4}-${N:4:2}-${N:6:2} ${N:8:2}:${N:10:2}:${N:12:2} UTC + 825 days" \
    +%Y%m%d%H%M%SZ)
CA_END=$(d '+3650 days')

cat > ext.cnf <<'EOF'
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ v3_wrongname ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:wrong.example
[ v3_sni_a ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:a.test
[ v3_sni_b ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:b.test
[ v3_sni_wild ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.wild.test
[ v3_critical ]
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost
1.3.6.1.4.1.55555.1 = critical, ASN1:UTF8String:unknown
[ v3_eku_client ]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:localhost
[ v3_ku_keyenc ]
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost
[ v3_notca ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyCertSign, digitalSignature
[ v3_kuca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature
[ v3_nosan ]
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
EOF

cat > ca.cnf <<'EOF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
EOF
mkdir newcerts
: > index.txt
echo 1000 > serial

genkey() { # genkey TYPE OUT
    case $1 in
    ecdsa-p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
    ecdsa-p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
    rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$2" ;;
    rsa-pss) openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
    esac 2>/dev/null
    echo "$1" > "$2.type"
}

# sign SUBJECT KEY CAKEY CACERT|self EXTSECTION OUT START END [MD]
sign() {
    local subj=$1 key=$2 cakey=$3 cacert=$4 ext=$5 out=$6 start=$7 end=$8 md=${9:-sha256}
    local mdopt=(-md "$md") sigopt=()
    case $(cat "$cakey.type") in
    ed25519) mdopt=() ;;
    rsa-pss) sigopt=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
        -sigopt "rsa_mgf1_md:$md") ;;
    esac
    openssl req -new -config ca.cnf -key "$key" -subj "$subj" -out csr.pem 2>/dev/null
    if [ "$cacert" = self ]; then
        openssl ca -batch -config ca.cnf -selfsign -keyfile "$cakey" -in csr.pem \
            -out "$out" -notext -startdate "$start" -enddate "$end" \
            -extfile ext.cnf -extensions "$ext" ${mdopt[@]+"${mdopt[@]}"} \
            ${sigopt[@]+"${sigopt[@]}"} 2>/dev/null
    else
        openssl ca -batch -config ca.cnf -cert "$cacert" -keyfile "$cakey" -in csr.pem \
            -out "$out" -notext -startdate "$start" -enddate "$end" \
            -extfile ext.cnf -extensions "$ext" ${mdopt[@]+"${mdopt[@]}"} \
            ${sigopt[@]+"${sigopt[@]}"} 2>/dev/null
    fi
    rm -f csr.pem
}

O="/O=ferrule test"
genkey ecdsa-p256 root.key
sign "$O/CN=ferrule test root" root.key root.key self v3_ca root.pem "$NOW_M2" "$CA_END"
genkey ecdsa-p256 inter.key
sign "$O/CN=ferrule test intermediate" inter.key root.key root.pem v3_inter inter.pem \
    "$NOW_M2" "$CA_END"

for k in $KINDS; do
    genkey "$k" "$k.key"
    sign "$O/CN=localhost" "$k.key" inter.key inter.pem v3_leaf "$k.leaf.pem" "$NOW_M1" "$LEAF_END"
    cat "$k.leaf.pem" inter.pem > "$k.chain.pem"
done

genkey ecdsa-p256 wrongname.key
sign "$O/CN=wrong.example" wrongname.key inter.key inter.pem v3_wrongname wn.pem \
    "$NOW_M1" "$LEAF_END"
cat wn.pem inter.pem > wrongname.chain.pem

genkey ecdsa-p256 other-root.key
sign "$O/CN=other root" other-root.key other-root.key self v3_ca other-root.pem \
    "$NOW_M2" "$CA_END"
genkey ecdsa-p256 other-inter.key
sign "$O/CN=other intermediate" other-inter.key other-root.key other-root.pem v3_inter \
    other-inter.pem "$NOW_M2" "$CA_END"
genkey ecdsa-p256 untrusted.key
sign "$O/CN=localhost" untrusted.key other-inter.key other-inter.pem v3_leaf ut.pem \
    "$NOW_M1" "$LEAF_END"
cat ut.pem other-inter.pem > untrusted.chain.pem

genkey ecdsa-p256 leaf-direct.key
sign "$O/CN=localhost" leaf-direct.key root.key root.pem v3_leaf leaf-direct.chain.pem \
    "$NOW_M1" "$LEAF_END"

# Chains for SNI selection: one name each (and a second key type for a.test).
for s in "sni-a ecdsa-p256 a.test v3_sni_a" "sni-b ecdsa-p256 b.test v3_sni_b" \
    "sni-wild ecdsa-p256 *.wild.test v3_sni_wild" "sni-a-rsa rsa a.test v3_sni_a"; do
    set -f; set -- $s; set +f
    genkey "$2" "$1.key"
    sign "$O/CN=$3" "$1.key" inter.key inter.pem "$4" "$1.leaf.pem" "$NOW_M1" "$LEAF_END"
    cat "$1.leaf.pem" inter.pem > "$1.chain.pem"
done

# ---- extras ---------------------------------------------------------------
# A CA per key kind (its own signature algorithm) and a leaf it signs.
for k in $KINDS; do
    md=sha256
    case $k in ecdsa-p384) md=sha384 ;; rsa) md=sha512 ;; rsa-pss) md=sha384 ;; esac
    sign "$O/CN=x $k CA" "$k.key" "$k.key" self v3_ca "x-$k.ca.pem" "$NOW_M2" "$CA_END" "$md"
    sign "$O/CN=localhost" ecdsa-p256.key "$k.key" "x-$k.ca.pem" v3_leaf "x-$k.ca-leaf.pem" \
        "$NOW_M1" "$LEAF_END" "$md"
done

# Two CAs that issue each other: A (issued by B) and B (issued by A).
genkey ecdsa-p256 loopa.key
genkey ecdsa-p256 loopb.key
sign "$O/CN=loop B" loopb.key loopb.key self v3_ca seed-b.pem "$NOW_M2" "$CA_END"
sign "$O/CN=loop A" loopa.key loopa.key self v3_ca seed-a.pem "$NOW_M2" "$CA_END"
sign "$O/CN=loop A" loopa.key loopb.key seed-b.pem v3_ca x-loop-a.pem "$NOW_M2" "$CA_END"
sign "$O/CN=loop B" loopb.key loopa.key seed-a.pem v3_ca x-loop-b.pem "$NOW_M2" "$CA_END"
sign "$O/CN=localhost" ecdsa-p256.key loopa.key seed-a.pem v3_leaf x-loop-leaf.pem \
    "$NOW_M1" "$LEAF_END"

# Hostile: ten distinct self-issued CAs sharing one subject and one key, so
# every one verifies as the issuer of every other (a factorial search tree).
genkey ecdsa-p256 hostile.key
for i in 0 1 2 3 4 5 6 7 8 9; do
    sign "$O/CN=hostile CA" hostile.key hostile.key self v3_ca "x-hostile-$i.pem" \
        "$NOW_M2" "$CA_END"
done
sign "$O/CN=localhost" ecdsa-p256.key hostile.key x-hostile-0.pem v3_leaf x-hostile-leaf.pem \
    "$NOW_M1" "$LEAF_END"

# One rule broken each (all issued under root/inter unless noted).
L=ecdsa-p256.key
sign "$O/CN=localhost" $L inter.key inter.pem v3_critical x-critical.pem "$NOW_M1" "$LEAF_END"
sign "$O/CN=localhost" $L inter.key inter.pem v3_eku_client x-eku-client.pem "$NOW_M1" "$LEAF_END"
sign "$O/CN=localhost" $L inter.key inter.pem v3_ku_keyenc x-ku-keyenc.pem "$NOW_M1" "$LEAF_END"
sign "$O/CN=localhost" $L inter.key inter.pem v3_nosan x-nosan.pem "$NOW_M1" "$LEAF_END"
genkey ecdsa-p256 notca.key
sign "$O/CN=x not a CA" notca.key root.key root.pem v3_notca x-notca-inter.pem "$NOW_M2" "$CA_END"
sign "$O/CN=localhost" $L notca.key x-notca-inter.pem v3_leaf x-notca-leaf.pem "$NOW_M1" "$LEAF_END"
genkey ecdsa-p256 sub.key
sign "$O/CN=x sub intermediate" sub.key inter.key inter.pem v3_ca x-sub-inter.pem "$NOW_M2" "$CA_END"
sign "$O/CN=localhost" $L sub.key x-sub-inter.pem v3_leaf x-sub-leaf.pem "$NOW_M1" "$LEAF_END"
genkey ecdsa-p256 kuca.key
sign "$O/CN=x CA without keyCertSign" kuca.key root.key root.pem v3_kuca x-kuca-inter.pem \
    "$NOW_M2" "$CA_END"
sign "$O/CN=localhost" $L kuca.key x-kuca-inter.pem v3_leaf x-kuca-leaf.pem "$NOW_M1" "$LEAF_END"
genkey rsa1024 weak.key
sign "$O/CN=x weak CA" weak.key root.key root.pem v3_ca x-weak-inter.pem "$NOW_M2" "$CA_END"
sign "$O/CN=localhost" $L weak.key x-weak-inter.pem v3_leaf x-weak-leaf.pem "$NOW_M1" "$LEAF_END"

# A server leaf whose subject CN is not one of its SANs (CN "ferrule test
# server", SAN localhost/127.0.0.1/::1): valid unless the opt-in CN rule
# (ferrule_config_set_verify_cn_in_san) is on.
sign "$O/CN=ferrule test server" $L inter.key inter.pem v3_leaf x-cn-other.leaf.pem \
    "$NOW_M1" "$LEAF_END"
cat x-cn-other.leaf.pem inter.pem > x-cn-other.chain.pem

# A longer valid path: root -> x-mid1 -> x-mid2 -> x-mid2-leaf.
genkey ecdsa-p256 mid1.key
genkey ecdsa-p384 mid2.key
sign "$O/CN=x mid 1" mid1.key root.key root.pem v3_ca x-mid1.pem "$NOW_M2" "$CA_END"
sign "$O/CN=x mid 2" mid2.key mid1.key x-mid1.pem v3_ca x-mid2.pem "$NOW_M2" "$CA_END"
sign "$O/CN=localhost" $L mid2.key x-mid2.pem v3_leaf x-mid2-leaf.pem "$NOW_M1" "$LEAF_END" sha384

chmod 600 ./*.key
for f in $FILES; do
    if [ "$f" != root.pem ]; then
        mv -f "$f" "$OUT/$f"
    fi
done
mv -f root.pem "$OUT/root.pem"
echo "$STAMP" > "$OUT/.stamp"
