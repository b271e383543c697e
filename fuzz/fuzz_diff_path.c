/*
 * fuzz_diff_path.c - differential target: ferrule's path validation
 * (fr_verify_chain_ex) against OpenSSL's X509_verify_cert on mutated
 * chains.
 *
 * The harness builds a root, an intermediate and a leaf with libcrypto
 * (ECDSA P-256 keys made once per process, SKI and AKI always present,
 * every certificate signed for real after its mutation, so that signatures
 * stay valid unless the mutation is "wrong signer").  The input is a
 * string of mutation bytes, read in order (missing bytes count as 0):
 *
 *   byte 0     structure: 0 leaf+intermediate, 1 intermediate dropped,
 *              2 leaf+intermediate+root, 3 the intermediate is the target,
 *              4 leaf+intermediate+intermediate, 5 leaf issued by the root
 *              (intermediate still sent)
 *   byte 1     bit 0 check the name, bit 1 the name is the IP 127.0.0.1
 *              (else "localhost"), bit 2 clientAuth purpose (else serverAuth)
 *   then for the root, the intermediate and the leaf, 7 bytes each, each
 *   added (modulo the field's range) to the role's default so that all
 *   zeros is a valid chain (see read_mut); the values:
 *     validity  0/3+ ok, 1 expired, 2 not yet valid
 *     bc        0 absent, 1 cA critical, 2 cA not critical, 3 cA false
 *               critical, 4 cA pathlen 0, 5 cA pathlen 1
 *     ku        0 absent, 1 keyCertSign+cRLSign, 2 digitalSignature,
 *               3 digitalSignature+keyCertSign, 4 keyEncipherment
 *     eku       0 absent, 1 serverAuth, 2 clientAuth, 3 anyEKU,
 *               4 serverAuth+clientAuth, 5 codeSigning
 *     san       0 absent, 1 DNS:localhost, 2 DNS:other.example,
 *               3 IP:127.0.0.1, 4 DNS:*.localhost
 *     nc        0 absent, 1 permitted DNS:localhost, 2 excluded
 *               DNS:localhost, 3 permitted DNS:.example, 4 permitted
 *               IP:127.0.0.0/8
 *     signer    0 normal, 1 self-signed (own key and name as issuer),
 *               2 wrong key (right issuer name and AKI)
 *   (the root ignores "signer": it is always self-signed).
 *
 * Both verifiers get the root as the only trust anchor, the same fixed
 * time, purpose and name.  OpenSSL runs with X509_V_FLAG_X509_STRICT and
 * X509_CHECK_FLAG_NEVER_CHECK_SUBJECT (ferrule never uses the CN as a
 * host name, docs/x509.md).  A differing verdict must fall in one of the
 * named allowed classes below (each a documented rule of docs/x509.md
 * that OpenSSL does not have, or the reverse; triaged in docs/fuzzing.md
 * "Differential fuzzing"); anything else aborts.  The classes are decided
 * from the mutation vector and OpenSSL's error, never from ferrule's
 * answer alone.
 */
#include "fuzz_common.h"
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

/* An unexplained disagreement: report it and abort (the crash libFuzzer
 * and the replay driver see). */
#define DIFF_FAIL(msg)                                                      \
    do {                                                                    \
        fprintf(stderr, "%s:%d: differential failure: %s\n", __FILE__, __LINE__, msg); \
        abort();                                                            \
    } while (0)

#define DIFF_NOW ((int64_t)1795348800) /* 2026-11-22T12:00:00Z */
#define DAY 86400

enum { ROOT, INTER, LEAF, NCERTS };
enum { F_VALID, F_BC, F_KU, F_EKU, F_SAN, F_NC, F_SIGNER, NF };

typedef struct mut {
    unsigned structure, flags;
    unsigned f[NCERTS][NF];
} mut;

static EVP_PKEY *keys[NCERTS + 1]; /* + a stranger for "wrong key" */

static void init_keys(void) {
    if (keys[0] != NULL) return;
    for (int i = 0; i <= NCERTS; i++) {
        keys[i] = EVP_EC_gen("P-256");
        FUZZ_CHECK(keys[i] != NULL);
    }
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    FUZZ_CHECK(e != NULL);
    FUZZ_CHECK(X509_add_ext(x, e, -1) == 1);
    X509_EXTENSION_free(e);
}

static X509_NAME *cn_name(const char *cn) {
    X509_NAME *n = X509_NAME_new();
    FUZZ_CHECK(n != NULL);
    FUZZ_CHECK(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"ferrule diff", -1, -1, 0) == 1);
    FUZZ_CHECK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1);
    return n;
}

static const char *const cns[NCERTS] = {"Diff Root", "Diff Intermediate", "Diff Leaf"};

/* Build certificate `who` issued by `issuer` (NULL = self-signed). */
static X509 *make_cert(const mut *mu, int who, X509 *issuer, int issuer_key) {
    const unsigned *f = mu->f[who];
    X509 *x = X509_new();
    FUZZ_CHECK(x != NULL);
    FUZZ_CHECK(X509_set_version(x, 2) == 1);
    FUZZ_CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), 1000 + who) == 1);
    X509_NAME *subj = cn_name(cns[who]);
    FUZZ_CHECK(X509_set_subject_name(x, subj) == 1);
    int self = issuer == NULL || f[F_SIGNER] == 1;
    FUZZ_CHECK(X509_set_issuer_name(x, self ? subj : X509_get_subject_name(issuer)) == 1);
    X509_NAME_free(subj);
    int64_t nb = DIFF_NOW - 30 * DAY, na = DIFF_NOW + 365 * DAY;
    if (f[F_VALID] == 1) {
        nb = DIFF_NOW - 60 * DAY;
        na = DIFF_NOW - DAY;
    } else if (f[F_VALID] == 2) {
        nb = DIFF_NOW + DAY;
        na = DIFF_NOW + 60 * DAY;
    }
    FUZZ_CHECK(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) != NULL);
    FUZZ_CHECK(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) != NULL);
    FUZZ_CHECK(X509_set_pubkey(x, keys[who]) == 1);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, self ? x : issuer, x, NULL, NULL, 0);
    static const char *const bc[] = {NULL, "critical,CA:TRUE", "CA:TRUE", "critical,CA:FALSE",
                                     "critical,CA:TRUE,pathlen:0", "critical,CA:TRUE,pathlen:1"};
    static const char *const ku[] = {NULL, "critical,keyCertSign,cRLSign", "critical,digitalSignature",
                                     "critical,digitalSignature,keyCertSign",
                                     "critical,keyEncipherment"};
    static const char *const eku[] = {NULL, "serverAuth", "clientAuth", "anyExtendedKeyUsage",
                                      "serverAuth,clientAuth", "codeSigning"};
    static const char *const san[] = {NULL, "DNS:localhost", "DNS:other.example", "IP:127.0.0.1",
                                      "DNS:*.localhost"};
    static const char *const nc[] = {NULL, "critical,permitted;DNS:localhost",
                                     "critical,excluded;DNS:localhost",
                                     "critical,permitted;DNS:.example",
                                     "critical,permitted;IP:127.0.0.0/255.0.0.0"};
    if (bc[f[F_BC]] != NULL) add_ext(x, &ctx, NID_basic_constraints, bc[f[F_BC]]);
    if (ku[f[F_KU]] != NULL) add_ext(x, &ctx, NID_key_usage, ku[f[F_KU]]);
    if (eku[f[F_EKU]] != NULL) add_ext(x, &ctx, NID_ext_key_usage, eku[f[F_EKU]]);
    if (san[f[F_SAN]] != NULL) add_ext(x, &ctx, NID_subject_alt_name, san[f[F_SAN]]);
    if (nc[f[F_NC]] != NULL) add_ext(x, &ctx, NID_name_constraints, nc[f[F_NC]]);
    add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (!self) add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    EVP_PKEY *sk = self ? keys[who] : keys[issuer_key];
    if (!self && f[F_SIGNER] == 2) sk = keys[NCERTS];
    FUZZ_CHECK(X509_sign(x, sk, EVP_sha256()) > 0);
    return x;
}

static void read_mut(mut *mu, const uint8_t *data, size_t size) {
    size_t off = 0;
#define NEXT() (off < size ? data[off++] : 0)
    mu->structure = NEXT() % 6u;
    mu->flags = NEXT();
    static const unsigned mod[NF] = {4, 6, 5, 6, 5, 5, 3};
    /* Each byte is added to the role's default, so that an all-zero input
     * is a valid chain (CA roots and intermediates with keyCertSign; a
     * serverAuth leaf with digitalSignature and DNS:localhost). */
    static const unsigned def[NCERTS][NF] = {
        {0, 1, 1, 0, 0, 0, 0}, {0, 1, 1, 0, 0, 0, 0}, {0, 0, 2, 1, 1, 0, 0}};
    for (int i = 0; i < NCERTS; i++)
        for (int k = 0; k < NF; k++) {
            mu->f[i][k] = (NEXT() + def[i][k]) % mod[k];
            if (k == F_VALID && mu->f[i][k] == 3) mu->f[i][k] = 0;
        }
    mu->f[ROOT][F_SIGNER] = 0;
#undef NEXT
}

static size_t to_der(X509 *x, uint8_t **out) {
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    FUZZ_CHECK(n > 0);
    *out = p;
    return (size_t)n;
}

/* The named allowed classes: a differing verdict is explained when one of
 * these holds for the mutation and the two answers.  ours/theirs: 1 =
 * valid. */
enum {
    PD_NONE,
    /* ferrule refuses, OpenSSL accepts (ferrule's documented rules, docs/x509.md): */
    PD_LEAF_EKU_POLICY,   /* leaf without EKU, or with anyEKU: BR 7.1.2.7.10 */
    PD_LEAF_IS_CA,        /* leaf asserting cA or keyCertSign */
    PD_LEAF_KU_DIGSIG,    /* leaf keyUsage without digitalSignature (TLS 1.3 CertificateVerify) */
    PD_ROOT_EKU,          /* a self-issued anchor carrying an EKU (BR 7.1.2.1.2) */
    PD_ISSUER_BC_CRIT,    /* an issuer whose basicConstraints is not critical */
    PD_NC_CRITICAL,       /* (unused: the harness marks NC critical) */
    PD_NC_IN_NON_CA,      /* nameConstraints in a non-CA certificate */
    /* OpenSSL refuses, ferrule accepts: */
    PD_OSSL_ANY_EKU,      /* OpenSSL ignores anyEKU in an intermediate's EKU list */
    PD_OSSL_CA_KU,        /* X509_STRICT: a CA without keyUsage (a CA-side rule of RFC 5280
                             §4.2.1.3; ferrule: "keyUsage, when present, has keyCertSign") */
    PD_OSSL_PATHLEN_KU,   /* X509_STRICT: pathLenConstraint in a CA without keyUsage (the
                             CA-side rule of RFC 5280 §4.2.1.9) */
    PD_NC_LEADING_DOT,    /* a dNSName constraint ".example": malformed for ferrule (RFC 5280
                             has no leading-dot form for dNSName), a suffix for OpenSSL */
    PD_NC_SHORT_WILDCARD, /* a dNSName SAN "*.localhost" under a dNSName constraint: not a
                             wildcard for ferrule (one label after "*."), so malformed */
    PD_N
};
static const char *const pd_names[PD_N] = {
    "none", "leaf-eku-policy", "leaf-is-ca", "leaf-ku-digsig", "root-eku",
    "issuer-bc-not-critical", "nc-critical", "nc-in-non-ca", "openssl-any-eku-intermediate",
    "openssl-strict-ca-keyusage", "openssl-strict-pathlen-keyusage", "nc-leading-dot",
    "nc-short-wildcard",
};
static unsigned long pd_count[PD_N];
static void pd_report(void) {
    for (int i = 0; i < PD_N; i++)
        if (pd_count[i] != 0) fprintf(stderr, "fuzz_diff_path: %s %lu\n", pd_names[i], pd_count[i]);
}

/* Which allowed class explains a differing verdict?  The condition is on
 * the mutation vector (and OpenSSL's error), and ferrule's reason must be
 * the one docs/x509.md names for that rule. */
static int classify(const mut *mu, fr_err e, int theirs, int ossl_err, int target) {
    const unsigned *lf = mu->f[target];
    int leaf_issuer = (target == LEAF && mu->structure != 5) ? INTER : ROOT;
    if (e != FR_OK && theirs) {
        if (e == FERRULE_R_CERT_EKU && (lf[F_EKU] == 0 || lf[F_EKU] == 3)) return PD_LEAF_EKU_POLICY;
        if (e == FERRULE_R_CERT_KEY_USAGE &&
            (lf[F_BC] == 1 || lf[F_BC] == 2 || lf[F_BC] == 4 || lf[F_BC] == 5 || lf[F_KU] == 1 ||
             lf[F_KU] == 3))
            return PD_LEAF_IS_CA;
        if (e == FERRULE_R_CERT_KEY_USAGE && lf[F_KU] == 4) return PD_LEAF_KU_DIGSIG;
        if (e == FERRULE_R_CERT_NAME_CONSTRAINTS && lf[F_NC] != 0 && lf[F_BC] != 1 && lf[F_BC] != 2 &&
            lf[F_BC] != 4 && lf[F_BC] != 5)
            return PD_NC_IN_NON_CA;
        if (e == FERRULE_R_CERT_EKU && mu->f[ROOT][F_EKU] != 0) return PD_ROOT_EKU;
        if (e == FERRULE_R_CERT_MALFORMED && (mu->f[leaf_issuer][F_BC] == 2 || mu->f[ROOT][F_BC] == 2))
            return PD_ISSUER_BC_CRIT;
        /* the CAs of the path: the root, and the intermediate when it
         * issues the leaf */
        int inter_ca = target == LEAF && leaf_issuer == INTER;
        if (e == FERRULE_R_CERT_NAME_CONSTRAINTS &&
            (mu->f[ROOT][F_NC] == 3 || (inter_ca && mu->f[INTER][F_NC] == 3)))
            return PD_NC_LEADING_DOT;
        int dns_nc_root = mu->f[ROOT][F_NC] >= 1 && mu->f[ROOT][F_NC] <= 3;
        int dns_nc_inter = inter_ca && mu->f[INTER][F_NC] >= 1 && mu->f[INTER][F_NC] <= 3;
        if (e == FERRULE_R_CERT_NAME_CONSTRAINTS &&
            ((dns_nc_root && ((inter_ca || target == INTER) && mu->f[INTER][F_SAN] == 4)) ||
             ((dns_nc_root || dns_nc_inter) && target == LEAF && mu->f[LEAF][F_SAN] == 4)))
            return PD_NC_SHORT_WILDCARD;
    }
    if (e == FR_OK && !theirs) {
        if (ossl_err == X509_V_ERR_INVALID_PURPOSE && leaf_issuer == INTER &&
            mu->f[INTER][F_EKU] == 3)
            return PD_OSSL_ANY_EKU;
        if (ossl_err == X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN) return PD_OSSL_PATHLEN_KU;
        if (ossl_err == X509_V_ERR_CA_CERT_MISSING_KEY_USAGE &&
            (mu->f[ROOT][F_KU] == 0 || mu->f[INTER][F_KU] == 0))
            return PD_OSSL_CA_KU;
    }
    return PD_NONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int registered;
    if (!registered && getenv("FUZZ_DIFF_STATS") != NULL) {
        atexit(pd_report);
        registered = 1;
    }
    init_keys();
    mut mu;
    memset(&mu, 0, sizeof(mu));
    read_mut(&mu, data, size);

    X509 *root = make_cert(&mu, ROOT, NULL, ROOT);
    X509 *inter = make_cert(&mu, INTER, root, ROOT);
    X509 *leaf = make_cert(&mu, LEAF, mu.structure == 5 ? root : inter, mu.structure == 5 ? ROOT : INTER);

    /* target + untrusted list, in the order of the structure byte */
    X509 *list[4];
    size_t n = 0;
    int target = LEAF;
    switch (mu.structure) {
    case 1: list[n++] = leaf; break;
    case 2: list[n++] = leaf; list[n++] = inter; list[n++] = root; break;
    case 3: list[n++] = inter; list[n++] = leaf; target = INTER; break;
    case 4: list[n++] = leaf; list[n++] = inter; list[n++] = inter; break;
    default: list[n++] = leaf; list[n++] = inter; break;
    }
    int check_name = mu.flags & 1, name_ip = (mu.flags & 2) != 0;
    int client = (mu.flags & 4) != 0;
    const char *name = name_ip ? "127.0.0.1" : "localhost";

    /* ferrule */
    fr_mem m;
    fr_mem_init(&m, NULL, 8u << 20);
    fr_trust_store anchors;
    fr_trust_init(&anchors);
    uint8_t *der = NULL;
    size_t len = to_der(root, &der);
    FUZZ_CHECK(fr_trust_add_der(&m, &anchors, der, len) == FR_OK);
    OPENSSL_free(der);
    fr_cert *chain[4];
    for (size_t i = 0; i < n; i++) {
        len = to_der(list[i], &der);
        FUZZ_CHECK(fr_cert_parse(&m, der, len, &chain[i]) == FR_OK);
        OPENSSL_free(der);
    }
    fr_verify_params p;
    memset(&p, 0, sizeof(p));
    p.now = DIFF_NOW;
    p.peer_name = check_name ? name : NULL;
    p.purpose = client ? FR_VERIFY_CLIENT : FR_VERIFY_SERVER;
    fr_err e = fr_verify_chain_ex(&anchors, chain, n, &p, NULL);
    FUZZ_CHECK(e == FR_OK || (e >= FERRULE_R_CERT_EXPIRED && e <= FERRULE_R_CERT_REJECTED));
    int ours = e == FR_OK;
    for (size_t i = 0; i < n; i++) fr_cert_free(&m, chain[i]);
    fr_trust_free(&m, &anchors);
    FUZZ_CHECK(m.used == 0);

    /* OpenSSL */
    X509_STORE *store = X509_STORE_new();
    FUZZ_CHECK(store != NULL && X509_STORE_add_cert(store, root) == 1);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    FUZZ_CHECK(untrusted != NULL);
    for (size_t i = 1; i < n; i++) FUZZ_CHECK(sk_X509_push(untrusted, list[i]) > 0);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    FUZZ_CHECK(ctx != NULL && X509_STORE_CTX_init(ctx, store, list[0], untrusted) == 1);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)DIFF_NOW);
    FUZZ_CHECK(X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT) == 1);
    FUZZ_CHECK(X509_STORE_CTX_set_purpose(ctx, client ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER) == 1);
    X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    if (check_name && name_ip) FUZZ_CHECK(X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1);
    else if (check_name) FUZZ_CHECK(X509_VERIFY_PARAM_set1_host(vp, name, 0) == 1);
    int theirs = X509_verify_cert(ctx) == 1;
    int err = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);

    if (getenv("FUZZ_DEBUG") != NULL)
        fprintf(stderr, "fuzz_diff_path: ferrule %s, openssl %s (depth %d)\n", ferrule_reason_name(e),
                theirs ? "ok" : X509_verify_cert_error_string(err), depth);
    if (ours != theirs) {
        int cls = classify(&mu, e, theirs, err, target);
        if (cls == PD_NONE) {
            fprintf(stderr,
                    "fuzz_diff_path: unexplained: ferrule %s, openssl %s (depth %d); structure %u "
                    "flags %u\n",
                    ferrule_reason_name(e), theirs ? "ok" : X509_verify_cert_error_string(err), depth,
                    mu.structure, mu.flags);
            for (int i = 0; i < NCERTS; i++)
                fprintf(stderr, "  %s: valid %u bc %u ku %u eku %u san %u nc %u signer %u\n", cns[i],
                        mu.f[i][0], mu.f[i][1], mu.f[i][2], mu.f[i][3], mu.f[i][4], mu.f[i][5],
                        mu.f[i][6]);
            DIFF_FAIL("unexplained verdict difference");
        }
        pd_count[cls]++;
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    X509_free(root);
    X509_free(inter);
    X509_free(leaf);
    return 0;
}
