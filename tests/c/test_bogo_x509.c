/* test_bogo_x509.c - certificate handling that BoringSSL's runner (BoGo)
 * found wanting (issue 14, area x509):
 *
 *  - the verify callback is asked with verification off (result NULL),
 *    on both sides, so an application can judge a chain itself
 *    (CertificateVerificationFail-*, CertificateVerificationSucceed-*);
 *  - the schemes we accept from the peer apart from those we sign with
 *    (ferrule_config_set_verify_signature_schemes: -verify-prefs and
 *    -signing-prefs, Server-Verify-*, Client-Sign-*), and a CertificateVerify
 *    scheme we did not offer is wrong_signature_type (VerifyDefault-*);
 *  - a leaf with an empty subject and a non-critical subjectAltName (the
 *    runner's default certificates) parses and is usable with
 *    verification off; path validation still refuses it (RFC 5280
 *    §4.1.2.6, docs/x509.md). */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support_pair.h"
#include "testlib.h"

typedef struct vseen {
    int calls, reject, saw_result;
    size_t certs; /* ferrule_conn_peer_cert_count during the call */
} vseen;

static int judge(void *ctx, const ferrule_conn *conn, const ferrule_verify_result *r) {
    vseen *v = ctx;
    v->calls++;
    v->saw_result = r != NULL;
    v->certs = ferrule_conn_peer_cert_count(conn);
    return v->reject;
}

/* A client without verification (the untrusted chain would fail it) whose
 * callback answers `reject`. */
static void client_run(int reject, vseen *v, int *cs, uint32_t *creason) {
    ferrule_config *cc = NULL, *sc = pair_server_config("untrusted");
    REQUIRE(sc != NULL);
    REQUIRE(ferrule_config_new(&cc, FERRULE_ROLE_CLIENT, NULL) == FERRULE_OK);
    CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
    memset(v, 0, sizeof(*v));
    v->reject = reject;
    CHECK_EQ(ferrule_config_set_verify_callback(cc, judge, v), FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    int ss = -1;
    (void)pair_handshake(&p, cs, &ss);
    *creason = ferrule_conn_reason(p.client);
    CHECK(ferrule_conn_verify_result(p.client) == NULL);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(client_callback_asked_without_verification) {
    vseen v;
    int cs = -1;
    uint32_t reason = 1;
    client_run(0, &v, &cs, &reason);
    CHECK_EQ(v.calls, 1);
    CHECK_EQ(v.saw_result, 0); /* no validated path */
    CHECK_EQ(v.certs, 2);      /* but the chain is there to judge */
    CHECK_EQ(cs, FERRULE_OK);
    client_run(1, &v, &cs, &reason);
    CHECK_EQ(v.calls, 1);
    CHECK_EQ(cs, FERRULE_CERTIFICATE);
    CHECK_EQ(reason, FERRULE_R_CERT_REJECTED);
}

TEST(server_callback_asked_without_verification) {
    for (int reject = 0; reject <= 1; reject++) {
        ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
        REQUIRE(cc != NULL && sc != NULL);
        /* a client certificate the server could not validate (no anchors) */
        CHECK_EQ(ferrule_config_add_cert_chain_file(cc, pair_pki("untrusted.chain.pem"),
                                                    pair_pki("untrusted.key")),
                 FERRULE_OK);
        CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUIRE), FERRULE_OK);
        CHECK_EQ(ferrule_config_dangerous_no_verification(sc), FERRULE_OK);
        vseen v;
        memset(&v, 0, sizeof(v));
        v.reject = reject;
        CHECK_EQ(ferrule_config_set_verify_callback(sc, judge, &v), FERRULE_OK);
        pair p;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        int cs = -1, ss = -1;
        (void)pair_handshake(&p, &cs, &ss);
        CHECK_EQ(v.calls, 1);
        CHECK_EQ(v.saw_result, 0);
        CHECK_EQ(v.certs, 2);
        if (reject) {
            CHECK_EQ(ss, FERRULE_CERTIFICATE);
            CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_CERT_REJECTED);
        } else {
            CHECK_EQ(ss, FERRULE_OK);
            CHECK_EQ(ferrule_conn_peer_cert_count(p.server), 2);
        }
        pair_free(&p);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

/* ---- empty subject, non-critical SAN ------------------------------------ */

/* A self-signed P-256 leaf with an empty subject (and issuer) and a
 * non-critical subjectAltName dNSName localhost, as PEM cert and key. */
static int make_empty_subject_leaf(char *cert, size_t cert_cap, char *key, size_t key_cap) {
    int ok = 0;
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
    X509_EXTENSION *san = NULL, *eku = NULL;
    if (pk == NULL || x == NULL || bc == NULL || bk == NULL) goto done;
    if (!X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), 7) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 86400) || !X509_set_pubkey(x, pk))
        goto done;
    /* X509_new leaves subject and issuer as empty Names. */
    san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:localhost");
    eku = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "serverAuth");
    if (san == NULL || eku == NULL || X509_EXTENSION_get_critical(san) ||
        !X509_add_ext(x, san, -1) || !X509_add_ext(x, eku, -1))
        goto done;
    if (X509_sign(x, pk, EVP_sha256()) == 0) goto done;
    if (!PEM_write_bio_X509(bc, x) || !PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL))
        goto done;
    int nc = BIO_read(bc, cert, (int)cert_cap - 1), nk = BIO_read(bk, key, (int)key_cap - 1);
    if (nc <= 0 || nk <= 0) goto done;
    cert[nc] = key[nk] = '\0';
    ok = 1;
done:
    X509_EXTENSION_free(san);
    X509_EXTENSION_free(eku);
    BIO_free(bc);
    BIO_free(bk);
    X509_free(x);
    EVP_PKEY_free(pk);
    return ok;
}

TEST(empty_subject_noncritical_san_usable_without_verification) {
    static char cert[8192], key[4096];
    REQUIRE(make_empty_subject_leaf(cert, sizeof(cert), key, sizeof(key)));
    ferrule_config *sc = NULL, *cc = NULL, *strict = NULL;
    REQUIRE(ferrule_config_new(&sc, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(sc, (const uint8_t *)cert, strlen(cert),
                                               (const uint8_t *)key, strlen(key)),
             FERRULE_OK);
    /* verification off: the handshake works and the leaf parses */
    REQUIRE(ferrule_config_new(&cc, FERRULE_ROLE_CLIENT, NULL) == FERRULE_OK);
    CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    int cs = -1, ss = -1;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(cs, FERRULE_OK);
    ferrule_cert *leaf = NULL;
    uint32_t reason = 1;
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 0, &leaf, &reason), FERRULE_OK);
    size_t attrs = 9;
    CHECK_EQ(ferrule_cert_name_count(leaf, FERRULE_CERT_SUBJECT, &attrs), FERRULE_OK);
    CHECK_EQ(attrs, 0);
    CHECK_EQ(ferrule_cert_san_count(leaf), 1);
    ferrule_cert_free(leaf);
    pair_free(&p);
    /* verification on, the certificate pinned as its own anchor: the
     * profile rule of path validation refuses it */
    REQUIRE(ferrule_config_new(&strict, FERRULE_ROLE_CLIENT, NULL) == FERRULE_OK);
    CHECK_EQ(ferrule_config_add_trust_pem(strict, (const uint8_t *)cert, strlen(cert)), FERRULE_OK);
    REQUIRE(pair_new(&p, strict, sc, NULL));
    CHECK(!pair_handshake(&p, &cs, &ss));
    CHECK_EQ(cs, FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_CERT_MALFORMED);
    pair_free(&p);
    ferrule_config_free(strict);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- accepted schemes apart from signing schemes ------------------------- */

TEST(verify_schemes_apart_from_signing_schemes) {
    /* The server signs with rsa_pss_rsae_sha256 only but accepts (and asks
     * its client for) ecdsa_secp256r1_sha256 only; with one list the
     * CertificateRequest would offer 0x0804 and the ECDSA client could not
     * sign. */
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("rsa");
    REQUIRE(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_add_cert_chain_file(cc, pair_pki("ecdsa-p256.chain.pem"),
                                                pair_pki("ecdsa-p256.key")),
             FERRULE_OK);
    const uint16_t sign = FERRULE_SIG_RSA_PSS_RSAE_SHA256, accept = FERRULE_SIG_ECDSA_SECP256R1_SHA256;
    CHECK_EQ(ferrule_config_set_signature_schemes(sc, &sign, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_verify_signature_schemes(sc, &accept, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUIRE), FERRULE_OK);
    CHECK_EQ(ferrule_config_dangerous_no_verification(sc), FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    int cs = -1, ss = -1;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_signature_scheme(p.server), FERRULE_SIG_RSA_PSS_RSAE_SHA256);
    CHECK_EQ(ferrule_conn_peer_signature_scheme(p.server), FERRULE_SIG_ECDSA_SECP256R1_SHA256);
    CHECK_EQ(ferrule_conn_peer_signature_scheme(p.client), FERRULE_SIG_RSA_PSS_RSAE_SHA256);
    pair_free(&p);
    /* A client accepting only ed25519 from an RSA server: the server has
     * nothing to sign with that the client accepts. */
    const uint16_t ed = FERRULE_SIG_ED25519;
    ferrule_config *c2 = pair_client_config(), *s2 = pair_server_config("rsa");
    REQUIRE(c2 != NULL && s2 != NULL);
    CHECK_EQ(ferrule_config_set_verify_signature_schemes(c2, &ed, 1), FERRULE_OK);
    REQUIRE(pair_new(&p, c2, s2, NULL));
    CHECK(!pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_UNSUPPORTED_CERT);
    pair_free(&p);
    /* the list rules of ferrule_config_set_signature_schemes */
    const uint16_t pkcs1 = FERRULE_SIG_RSA_PKCS1_SHA256;
    CHECK_EQ(ferrule_config_set_verify_signature_schemes(c2, &pkcs1, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_verify_signature_schemes(c2, &ed, 0), FERRULE_USAGE);
    ferrule_config_free(c2);
    ferrule_config_free(s2);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST_MAIN("bogo_x509", TL_CASE(verify_schemes_apart_from_signing_schemes), TL_CASE(client_callback_asked_without_verification),
          TL_CASE(server_callback_asked_without_verification),
          TL_CASE(empty_subject_noncritical_san_usable_without_verification))
