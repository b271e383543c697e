/* trust_cost.c - the cost of a large trust store, for counting in
 * instructions under valgrind's callgrind (never timed):
 *
 *   trust_cost load   N   loading N decoy anchors and the real root
 *   trust_cost verify N   one ferrule_verify_chain of leaf + 8 intermediates
 *                         against that store (after one uncounted call)
 *   trust_cost first  N   the same, the first call on a fresh store (it
 *                         pays what is decoded at first use)
 *   trust_cost hs     N   one full handshake pair whose client holds that
 *                         store and whose server sends leaf + 8
 *                         intermediates (after one uncounted pair)
 *
 * The PKI is made here with libcrypto (test-only; the library never links
 * libssl): an ECDSA P-256 root, 8 intermediates below it, a leaf for
 * "localhost", and N decoy CA anchors "CN=Decoy CA 000123,O=ferrule cost"
 * with distinct subject key identifiers.  The decoys are copies of one
 * self-signed template with the digits patched (their signatures are never
 * checked: an anchor's own signature is not part of a path), so making
 * 5,000 of them costs no signatures.  With a third argument "same", the
 * decoys all keep the template's subject (one name, 5,000 anchors: the
 * index's worst case).  Only the measured call is collected
 * (valgrind --collect-atstart=no).  Exits 0 only if the work succeeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ferrule.h"
#include "support_pair.h"

#define N_INTER 8
#define CHAIN_N (N_INTER + 1)

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL || !X509_add_ext(cert, ext, -1)) abort();
    X509_EXTENSION_free(ext);
}

/* A certificate for cn, issued by (issuer, ikey), or self-signed when
 * issuer is NULL.  ski: an explicit hex key identifier, else "hash". */
static X509 *make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
                  const char *ski, long serial) {
    X509 *c = X509_new();
    if (c == NULL || !X509_set_version(c, 2)) abort();
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ferrule cost",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(c, name);
    X509_set_issuer_name(c, issuer != NULL ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    X509_gmtime_adj(X509_getm_notBefore(c), -86400);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400L * 365);
    X509_set_pubkey(c, key);
    X509 *self = issuer != NULL ? issuer : c;
    if (ca) {
        add_ext(c, self, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c, self, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(c, self, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(c, self, NID_key_usage, "critical,digitalSignature");
        add_ext(c, self, NID_ext_key_usage, "serverAuth");
        add_ext(c, self, NID_subject_alt_name, "DNS:localhost");
    }
    add_ext(c, self, NID_subject_key_identifier, ski != NULL ? ski : "hash");
    if (issuer != NULL) add_ext(c, self, NID_authority_key_identifier, "keyid:always");
    if (!X509_sign(c, ikey != NULL ? ikey : key, EVP_sha256())) abort();
    return c;
}

static blob der_of(X509 *c) {
    blob b = {NULL, 0};
    int n = i2d_X509(c, &b.p);
    if (n <= 0) abort();
    b.n = (size_t)n;
    return b;
}

static void pem_append(X509 *c, BIO *bio) {
    if (!PEM_write_bio_X509(bio, c)) abort();
}

static blob bio_take(BIO *bio) {
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    blob b = {malloc((size_t)n), (size_t)n};
    memcpy(b.p, p, (size_t)n);
    return b;
}

/* The offsets of the (at most 2) occurrences of needle in p[0..n). */
static size_t find_all(const uint8_t *p, size_t n, const char *needle, size_t at[2]) {
    size_t k = strlen(needle), found = 0;
    for (size_t i = 0; i + k <= n && found < 2; i++)
        if (memcmp(p + i, needle, k) == 0) at[found++] = i + k;
    if (found == 0) abort();
    return found;
}

static struct {
    blob root;                /* DER of the real root */
    blob chain[CHAIN_N];      /* leaf, then intermediates, DER */
    blob chain_pem, key_pem;  /* the server's chain and key */
    blob *decoys;
    size_t n_decoys;
} P;

/* The decoy template's SKI: "skid" and six digits, then padding. */
#define DECOY_SKI "73:6b:69:64:30:30:30:30:30:30:aa:bb:cc:dd:ee:ff:01:02:03:04"

static void make_pki(size_t n_decoys, int same_subject) {
    EVP_PKEY *rk = EVP_EC_gen("P-256");
    X509 *root = make("Cost Root CA", rk, NULL, NULL, 1, NULL, 1);
    P.root = der_of(root);
    X509 *up = root;
    EVP_PKEY *upk = rk;
    X509 *inter[N_INTER];
    EVP_PKEY *ik[N_INTER];
    for (int i = 0; i < N_INTER; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "Cost Inter %d", N_INTER - i);
        ik[i] = EVP_EC_gen("P-256");
        inter[i] = make(cn, ik[i], up, upk, 1, NULL, 10 + i);
        up = inter[i];
        upk = ik[i];
    }
    EVP_PKEY *lk = EVP_EC_gen("P-256");
    X509 *leaf = make("localhost", lk, up, upk, 0, NULL, 100);
    P.chain[0] = der_of(leaf);
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    pem_append(leaf, cb);
    for (int i = N_INTER - 1; i >= 0; i--) {
        P.chain[N_INTER - i] = der_of(inter[i]);
        pem_append(inter[i], cb);
    }
    if (!PEM_write_bio_PrivateKey(kb, lk, NULL, NULL, 0, NULL, NULL)) abort();
    P.chain_pem = bio_take(cb);
    P.key_pem = bio_take(kb);
    BIO_free(cb);
    BIO_free(kb);
    /* Decoys: one template, digits patched in the CN and the SKI. */
    EVP_PKEY *dk = EVP_EC_gen("P-256");
    X509 *tmpl = make("Decoy CA 000000", dk, NULL, NULL, 1, DECOY_SKI, 2);
    blob t = der_of(tmpl);
    /* the CN is in the issuer and the subject (self-signed) */
    size_t cn_at[2], ski_at[2];
    size_t n_cn = find_all(t.p, t.n, "Decoy CA ", cn_at);
    if (n_cn != 2 || find_all(t.p, t.n, "skid", ski_at) != 1) abort();
    if (same_subject) n_cn = 1; /* the issuer only: subjects stay equal */
    P.decoys = calloc(n_decoys + 1, sizeof(blob));
    P.n_decoys = n_decoys;
    for (size_t i = 0; i < n_decoys; i++) {
        char digits[8];
        snprintf(digits, sizeof(digits), "%06zu", i % 1000000);
        P.decoys[i].p = malloc(t.n);
        P.decoys[i].n = t.n;
        memcpy(P.decoys[i].p, t.p, t.n);
        for (size_t j = 0; j < n_cn; j++) memcpy(P.decoys[i].p + cn_at[j], digits, 6);
        memcpy(P.decoys[i].p + ski_at[0], digits, 6);
    }
    OPENSSL_free(t.p);
    X509_free(tmpl);
    EVP_PKEY_free(dk);
    for (int i = 0; i < N_INTER; i++) {
        X509_free(inter[i]);
        EVP_PKEY_free(ik[i]);
    }
    X509_free(leaf);
    EVP_PKEY_free(lk);
    X509_free(root);
    EVP_PKEY_free(rk);
}

/* The decoys first, the real root last: a linear search pays for all. */
static ferrule_config *client_config(int measure) {
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL) != FERRULE_OK) return NULL;
    /* leaf + 8 intermediates: one more than the default depth of 8 */
    if (ferrule_config_set_max_chain_depth(cfg, CHAIN_N) != FERRULE_OK) {
        ferrule_config_free(cfg);
        return NULL;
    }
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    int ok = 1;
    for (size_t i = 0; i < P.n_decoys && ok; i++)
        ok = ferrule_config_add_trust_der(cfg, P.decoys[i].p, P.decoys[i].n) == FERRULE_OK;
    ok = ok && ferrule_config_add_trust_der(cfg, P.root.p, P.root.n) == FERRULE_OK;
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    if (!ok || ferrule_config_trust_count(cfg) != P.n_decoys + 1) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static int verify_once(ferrule_config *cfg, int measure) {
    const uint8_t *ders[CHAIN_N];
    size_t lens[CHAIN_N];
    for (int i = 0; i < CHAIN_N; i++) {
        ders[i] = P.chain[i].p;
        lens[i] = P.chain[i].n;
    }
    ferrule_verify_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.peer_name = "localhost";
    ferrule_verify_result *r = NULL;
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    int st = ferrule_verify_chain(cfg, ders, lens, CHAIN_N, &o, &r);
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    int ok = st == FERRULE_OK && r != NULL && ferrule_verify_result_path_length(r) == CHAIN_N + 1;
    if (!ok && r != NULL)
        fprintf(stderr, "verify: %s\n", ferrule_reason_message(ferrule_verify_result_reason(r)));
    ferrule_verify_result_free(r);
    return ok;
}

static int hs_once(ferrule_config *cc, ferrule_config *sc, int measure) {
    pair p;
    int cs = -1, ss = -1, ok = 0;
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    if (pair_new(&p, cc, sc, NULL)) {
        ok = pair_handshake(&p, &cs, &ss);
        pair_free(&p);
    }
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    return ok;
}

int main(int argc, char **argv) {
    const char *phase = argc > 1 ? argv[1] : "";
    size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 5000;
    int load = strcmp(phase, "load") == 0, verify = strcmp(phase, "verify") == 0,
        hs = strcmp(phase, "hs") == 0, first = strcmp(phase, "first") == 0;
    if (!load && !verify && !hs && !first) {
        fprintf(stderr, "usage: trust_cost load|verify|first|hs [N decoy anchors]\n");
        return 2;
    }
    make_pki(n, argc > 3 && strcmp(argv[3], "same") == 0);
    ferrule_config *cc = client_config(load), *sc = NULL;
    int ok = cc != NULL;
    if (ok && verify) ok = verify_once(cc, 0) && verify_once(cc, 1);
    if (ok && first) ok = verify_once(cc, 1);
    if (ok && hs) {
        ok = ferrule_config_new(&sc, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK &&
             ferrule_config_add_cert_chain_pem(sc, P.chain_pem.p, P.chain_pem.n, P.key_pem.p,
                                               P.key_pem.n) == FERRULE_OK;
        ok = ok && hs_once(cc, sc, 0) && hs_once(cc, sc, 1);
    }
    printf("%s %zu: %s\n", phase, n, ok ? "ok" : "failed");
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return ok ? 0 : 1;
}
