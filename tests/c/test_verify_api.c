/* test_verify_api.c - the verification ABI: the standalone entry point and
 * its result object, and the application callback that may only add
 * restrictions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "record.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

/* Read a PEM chain file and decode its certificates to DER with the
 * openssl CLI (test-only convenience). */
static size_t load_chain_der(const char *pem_path, uint8_t **ders, size_t *lens, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < cap; i++) {
        char cmd[1024], tmp[] = "/tmp/ferrule-vapi-XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0) break;
        close(fd);
        /* Extract the i-th certificate of the bundle. */
        snprintf(cmd, sizeof(cmd),
                 "awk -v want=%zu '/BEGIN CERT/{k++} k==want+1{print} /END CERT/ && k==want+1{exit}' "
                 "%s | openssl x509 -outform DER -out %s 2>/dev/null",
                 i, pem_path, tmp);
        if (system(cmd) != 0) {
            unlink(tmp);
            break;
        }
        FILE *f = fopen(tmp, "rb");
        uint8_t buf[8192];
        size_t got = f ? fread(buf, 1, sizeof(buf), f) : 0;
        if (f) fclose(f);
        unlink(tmp);
        if (got == 0) break;
        ders[n] = malloc(got);
        memcpy(ders[n], buf, got);
        lens[n] = got;
        n++;
    }
    return n;
}

static ferrule_config *client_config(void) { return pair_client_config(); }

TEST(standalone_valid_chain_reports_the_path) {
    ferrule_config *cfg = client_config();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    uint8_t *ders[4];
    size_t lens[4];
    size_t n = load_chain_der(pair_pki("ecdsa-p256.chain.pem"), ders, lens, 4);
    CHECK_EQ(n, 2);
    ferrule_verify_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.peer_name = "localhost";
    ferrule_verify_result *r = NULL;
    CHECK_EQ(ferrule_verify_chain(cfg, (const uint8_t *const *)ders, lens, n, &o, &r), FERRULE_OK);
    CHECK(r != NULL);
    CHECK_EQ(ferrule_verify_result_reason(r), FERRULE_R_NONE);
    /* leaf, intermediate, root */
    CHECK_EQ(ferrule_verify_result_path_length(r), 3);
    const uint8_t *der;
    size_t len;
    CHECK_EQ(ferrule_verify_result_path_cert(r, 0, &der, &len), FERRULE_OK);
    CHECK(len == lens[0] && memcmp(der, ders[0], len) == 0);
    CHECK_EQ(ferrule_verify_result_path_cert(r, 1, &der, &len), FERRULE_OK);
    CHECK(len == lens[1] && memcmp(der, ders[1], len) == 0);
    CHECK_EQ(ferrule_verify_result_path_cert(r, 3, &der, &len), FERRULE_USAGE);
    ferrule_verify_result_free(r);

    /* The name, the purpose and the time are honoured. */
    o.peer_name = "example.com";
    CHECK_EQ(ferrule_verify_chain(cfg, (const uint8_t *const *)ders, lens, n, &o, &r),
             FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_verify_result_reason(r), FERRULE_R_CERT_NAME_MISMATCH);
    CHECK_EQ(ferrule_verify_result_path_length(r), 0);
    ferrule_verify_result_free(r);
    o.peer_name = NULL;
    o.flags = FERRULE_VERIFY_USE_TIME;
    o.time = 4102444800; /* 2100 */
    CHECK_EQ(ferrule_verify_chain(cfg, (const uint8_t *const *)ders, lens, n, &o, &r),
             FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_verify_result_reason(r), FERRULE_R_CERT_EXPIRED);
    ferrule_verify_result_free(r);
    /* Without the intermediate there is no path. */
    o.flags = 0;
    CHECK_EQ(ferrule_verify_chain(cfg, (const uint8_t *const *)ders, lens, 1, &o, &r),
             FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_verify_result_reason(r), FERRULE_R_CERT_UNKNOWN_ISSUER);
    ferrule_verify_result_free(r);
    /* Garbage is a malformed certificate, not a crash. */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    const uint8_t *jp = junk;
    size_t jl = sizeof(junk);
    CHECK_EQ(ferrule_verify_chain(cfg, &jp, &jl, 1, &o, &r), FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_verify_result_reason(r), FERRULE_R_CERT_MALFORMED);
    ferrule_verify_result_free(r);
    for (size_t i = 0; i < n; i++) free(ders[i]);
    ferrule_config_free(cfg);
}

TEST(standalone_misuse) {
    ferrule_config *cfg = client_config();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    static const uint8_t one[] = {0x30, 0x00};
    const uint8_t *p = one;
    size_t l = sizeof(one);
    ferrule_verify_result *r = (ferrule_verify_result *)&r;
    CHECK_EQ(ferrule_verify_chain(NULL, &p, &l, 1, NULL, &r), FERRULE_USAGE);
    CHECK(r == NULL);
    CHECK_EQ(ferrule_verify_chain(cfg, NULL, &l, 1, NULL, &r), FERRULE_USAGE);
    CHECK_EQ(ferrule_verify_chain(cfg, &p, &l, 0, NULL, &r), FERRULE_USAGE);
    CHECK_EQ(ferrule_verify_chain(cfg, &p, &l, 1, NULL, NULL), FERRULE_USAGE);
    /* Versioned options: unknown non-zero trailing bytes are refused. */
    struct {
        ferrule_verify_options o;
        uint32_t extra;
    } big;
    memset(&big, 0, sizeof(big));
    big.o.struct_size = (uint32_t)sizeof(big);
    big.extra = 1;
    CHECK_EQ(ferrule_verify_chain(cfg, &p, &l, 1, &big.o, &r), FERRULE_USAGE);
    ferrule_verify_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.flags = 0x80;
    CHECK_EQ(ferrule_verify_chain(cfg, &p, &l, 1, &o, &r), FERRULE_USAGE);
    CHECK_EQ(ferrule_verify_result_reason(NULL), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_verify_result_path_length(NULL), 0);
    ferrule_verify_result_free(NULL);
    ferrule_config_free(cfg);
}

static int g_calls;
static size_t g_path_len;
static int reject_all(void *ctx, const ferrule_conn *conn, const ferrule_verify_result *r) {
    (void)ctx;
    (void)conn;
    g_calls++;
    g_path_len = ferrule_verify_result_path_length(r);
    return 1;
}
static int accept_all(void *ctx, const ferrule_conn *conn, const ferrule_verify_result *r) {
    (void)ctx;
    (void)conn;
    (void)r;
    g_calls++;
    return 0;
}

static void run(const char *server_kind, int (*cb)(void *, const ferrule_conn *,
                                                   const ferrule_verify_result *),
                int *cs, uint32_t *reason, size_t *path_len) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config(server_kind);
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK_EQ(ferrule_config_set_verify_callback(cc, cb, NULL), FERRULE_OK);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    int ss;
    (void)pair_handshake(&p, cs, &ss);
    *reason = ferrule_conn_reason(p.client);
    const ferrule_verify_result *vr = ferrule_conn_verify_result(p.client);
    *path_len = vr != NULL ? ferrule_verify_result_path_length(vr) : 0;
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(callback_can_reject_a_valid_chain) {
    int cs = -1;
    uint32_t reason = 0;
    size_t len = 0;
    g_calls = 0;
    run("ecdsa-p256", reject_all, &cs, &reason, &len);
    CHECK_EQ(g_calls, 1);
    CHECK_EQ(g_path_len, 3); /* it saw the validated path */
    CHECK_EQ(cs, FERRULE_CERTIFICATE);
    CHECK_EQ(reason, FERRULE_R_CERT_REJECTED);
}

TEST(callback_cannot_rescue_an_invalid_chain) {
    int cs = -1;
    uint32_t reason = 0;
    size_t len = 0;
    g_calls = 0;
    run("untrusted", accept_all, &cs, &reason, &len);
    CHECK_EQ(g_calls, 0); /* never even asked */
    CHECK_EQ(cs, FERRULE_CERTIFICATE);
    CHECK_EQ(reason, FERRULE_R_CERT_UNKNOWN_ISSUER);
    g_calls = 0;
    run("wrongname", accept_all, &cs, &reason, &len);
    CHECK_EQ(g_calls, 0);
    CHECK_EQ(reason, FERRULE_R_CERT_NAME_MISMATCH);
}

TEST(callback_accepting_keeps_the_path) {
    int cs = -1;
    uint32_t reason = 1;
    size_t len = 0;
    g_calls = 0;
    run("rsa", accept_all, &cs, &reason, &len);
    CHECK_EQ(g_calls, 1);
    CHECK_EQ(cs, FERRULE_OK);
    CHECK_EQ(len, 3);
}

/* ---- the opt-in CN rule (issue 9 item 16) ------------------------------- */

static ferrule_config *server_with(const char *chain, const char *key) {
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK) return NULL;
    if (ferrule_config_add_cert_chain_file(cfg, pair_pki(chain), pair_pki(key)) != FERRULE_OK) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Standalone validation of x-cn-other.chain.pem (CN "ferrule test server",
 * SAN localhost): the verdict and the reason. */
static int verify_cn_other(ferrule_config *cfg, uint32_t flags, const char *name,
                           uint32_t *reason) {
    uint8_t *ders[4];
    size_t lens[4];
    size_t n = load_chain_der(pair_pki("x-cn-other.chain.pem"), ders, lens, 4);
    CHECK_EQ(n, 2);
    ferrule_verify_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.flags = flags;
    o.peer_name = name;
    ferrule_verify_result *r = NULL;
    int st = ferrule_verify_chain(cfg, (const uint8_t *const *)ders, lens, n, &o, &r);
    *reason = ferrule_verify_result_reason(r);
    ferrule_verify_result_free(r);
    for (size_t i = 0; i < n; i++) free(ders[i]);
    return st;
}

TEST(cn_rule_is_opt_in) {
    ferrule_config *cfg = client_config();
    REQUIRE(cfg != NULL);
    uint32_t reason = 0;
    /* by default a CN that repeats no SAN is no defect, name or no name */
    CHECK_EQ(verify_cn_other(cfg, 0, NULL, &reason), FERRULE_OK);
    CHECK_EQ(verify_cn_other(cfg, 0, "localhost", &reason), FERRULE_OK);
    CHECK_EQ(reason, FERRULE_R_NONE);
    /* ...and the CN is still no host identity */
    CHECK_EQ(verify_cn_other(cfg, 0, "ferrule test server", &reason), FERRULE_CERTIFICATE);
    CHECK_EQ(reason, FERRULE_R_CERT_NAME_MISMATCH);
    /* opted in for one validation */
    CHECK_EQ(verify_cn_other(cfg, FERRULE_VERIFY_CN_IN_SAN, NULL, &reason), FERRULE_CERTIFICATE);
    CHECK_EQ(reason, FERRULE_R_CERT_NAME_MISMATCH);
    /* a consistent leaf passes the strict rule */
    uint8_t *ders[4];
    size_t lens[4];
    size_t n = load_chain_der(pair_pki("ecdsa-p256.chain.pem"), ders, lens, 4);
    ferrule_verify_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.flags = FERRULE_VERIFY_CN_IN_SAN;
    ferrule_verify_result *r = NULL;
    CHECK_EQ(ferrule_verify_chain(cfg, (const uint8_t *const *)ders, lens, n, &o, &r), FERRULE_OK);
    ferrule_verify_result_free(r);
    for (size_t i = 0; i < n; i++) free(ders[i]);
    /* opted in on the config: every validation and handshake */
    CHECK(ferrule_config_set_verify_cn_in_san(cfg, 2) != FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    CHECK(ferrule_config_set_verify_cn_in_san(NULL, 1) != FERRULE_OK);
    CHECK_EQ(ferrule_config_set_verify_cn_in_san(cfg, 1), FERRULE_OK);
    CHECK_EQ(verify_cn_other(cfg, 0, "localhost", &reason), FERRULE_CERTIFICATE);
    CHECK_EQ(reason, FERRULE_R_CERT_NAME_MISMATCH);
    CHECK_EQ(ferrule_config_set_verify_cn_in_san(cfg, 0), FERRULE_OK);
    CHECK_EQ(verify_cn_other(cfg, 0, "localhost", &reason), FERRULE_OK);
    ferrule_config_free(cfg);
    /* in a handshake: default, then opted in */
    for (int strict = 0; strict <= 1; strict++) {
        ferrule_config *cc = pair_client_config();
        ferrule_config *sc = server_with("x-cn-other.chain.pem", "ecdsa-p256.key");
        REQUIRE(cc != NULL && sc != NULL);
        CHECK_EQ(ferrule_config_set_verify_cn_in_san(cc, strict), FERRULE_OK);
        pair p;
        CHECK(pair_new(&p, cc, sc, NULL));
        int cs = -1, ss = -1;
        int ok = pair_handshake(&p, &cs, &ss);
        CHECK_EQ(ok, !strict);
        if (strict) {
            CHECK_EQ(cs, FERRULE_CERTIFICATE);
            CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_CERT_NAME_MISMATCH);
            CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_BAD_CERTIFICATE);
        }
        pair_free(&p);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

/* ---- CertificateVerify and keyUsage (issue 9 item 11) ------------------- */

/* One handshake: the server presents `server_chain` and, with client
 * authentication, the client presents `client_chain` (both with the key
 * ecdsa-p256.key); `no_verify_client` / `no_verify_server` disable the
 * verification of the peer.  The outcome of each side. */
typedef struct hs_result {
    int ok, cs, ss;
    uint32_t creason, sreason;
    int calert, salert;
} hs_result;

static hs_result cv_handshake(const char *server_chain, const char *client_chain,
                              int no_verify_client, int no_verify_server) {
    hs_result r;
    memset(&r, 0, sizeof(r));
    r.cs = r.ss = -1;
    ferrule_config *cc = pair_client_config();
    ferrule_config *sc = server_with(server_chain, "ecdsa-p256.key");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) {
        ferrule_config_free(cc);
        ferrule_config_free(sc);
        return r;
    }
    if (no_verify_client) CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
    if (client_chain != NULL) {
        CHECK_EQ(ferrule_config_add_cert_chain_file(cc, pair_pki(client_chain),
                                                    pair_pki("ecdsa-p256.key")),
                 FERRULE_OK);
        CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUIRE), FERRULE_OK);
        CHECK_EQ(ferrule_config_add_trust_file(sc, pair_pki("root.pem")), FERRULE_OK);
        if (no_verify_server)
            CHECK_EQ(ferrule_config_dangerous_no_verification(sc), FERRULE_OK);
    }
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    r.ok = pair_handshake(&p, &r.cs, &r.ss);
    r.creason = ferrule_conn_reason(p.client);
    r.sreason = ferrule_conn_reason(p.server);
    r.calert = ferrule_conn_alert(p.client);
    r.salert = ferrule_conn_alert(p.server);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return r;
}

TEST(certificate_verify_needs_digital_signature) {
    /* x-ku-keyenc.pem: keyUsage keyEncipherment only, otherwise a good
     * leaf under inter (SAN localhost, EKU serverAuth + clientAuth) */
    hs_result r;
    /* client role, verification disabled: the server's CertificateVerify
     * is refused all the same (RFC 8446 §4.4.2.2) */
    r = cv_handshake("x-ku-keyenc.pem", NULL, 1, 0);
    CHECK(!r.ok);
    CHECK_EQ(r.cs, FERRULE_CERTIFICATE);
    CHECK_EQ(r.creason, FERRULE_R_CERT_KEY_USAGE);
    CHECK_EQ(r.calert, FERRULE_ALERT_BAD_CERTIFICATE);
    CHECK_EQ(r.sreason, FERRULE_R_PEER_ALERT);
    /* with verification: the path validation finds it first, same reason */
    r = cv_handshake("x-ku-keyenc.pem", NULL, 0, 0);
    CHECK(!r.ok);
    CHECK_EQ(r.creason, FERRULE_R_CERT_KEY_USAGE);
    CHECK_EQ(r.calert, FERRULE_ALERT_BAD_CERTIFICATE);
    /* control: a leaf with digitalSignature */
    r = cv_handshake("ecdsa-p256.chain.pem", NULL, 1, 0);
    CHECK(r.ok);
    /* server role: a client certificate without digitalSignature, the
     * server's verification disabled */
    r = cv_handshake("ecdsa-p256.chain.pem", "x-ku-keyenc.pem", 0, 1);
    CHECK(!r.ok);
    CHECK_EQ(r.ss, FERRULE_CERTIFICATE);
    CHECK_EQ(r.sreason, FERRULE_R_CERT_KEY_USAGE);
    CHECK_EQ(r.salert, FERRULE_ALERT_BAD_CERTIFICATE);
    r = cv_handshake("ecdsa-p256.chain.pem", "x-ku-keyenc.pem", 0, 0);
    CHECK(!r.ok);
    CHECK_EQ(r.sreason, FERRULE_R_CERT_KEY_USAGE);
    r = cv_handshake("ecdsa-p256.chain.pem", "ecdsa-p256.chain.pem", 0, 1);
    CHECK(r.ok);
}

/* A well-formed v1 certificate with a DSA key (p 23, q 11, g 4, y 8) and
 * a meaningless signature: "CN=dsa peer" issued by itself. */
static const char DSA_CERT_HEX[] =
    "3081923079020101300a06082a8648ce3d04030230133111300f06035504030c"
    "0864736120706565723020170d3230303130313030303030305a180f32303630"
    "303130313030303030305a30133111300f06035504030c086473612070656572"
    "301c301406072a8648ce380401300902011702010b020104030400020108300a"
    "06082a8648ce3d0403020309003006020101020101";

/* The server (client authentication required, its verification off) gets
 * a client Certificate whose leaf has a DSA key: its CertificateVerify is
 * refused as unsupported_certificate (issue 9 item D) -- the key was never
 * decoded, and the signature is never looked at. */
TEST(certificate_verify_unsupported_key) {
    ferrule_config *cc = pair_client_config();
    ferrule_config *sc = server_with("ecdsa-p256.chain.pem", "ecdsa-p256.key");
    REQUIRE(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_add_cert_chain_file(cc, pair_pki("ecdsa-p256.chain.pem"),
                                                pair_pki("ecdsa-p256.key")),
             FERRULE_OK);
    CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUIRE), FERRULE_OK);
    CHECK_EQ(ferrule_config_dangerous_no_verification(sc), FERRULE_OK);
    mitm m;
    mflight *f = mf_new();
    REQUIRE(f != NULL);
    int ok = mitm_init(&m, cc, sc) && ferrule_conn_handshake(m.p.client) == FERRULE_WANT_READ &&
             mitm_pass(m.p.client, m.p.server) &&
             ferrule_conn_handshake(m.p.server) == FERRULE_WANT_READ &&
             mitm_pass(m.p.server, m.p.client) && ferrule_conn_handshake(m.p.client) == FERRULE_OK;
    CHECK(ok);
    mrec *cert = NULL;
    if (ok) {
        f->suite = ferrule_conn_cipher_suite(m.p.client);
        ok = mf_take(f, m.p.client) &&
             mf_open(f, 0, f->n, mitm_secret(&m, FERRULE_ROLE_CLIENT, MK_CHS)) > 0;
        for (size_t i = 0; ok && i < f->n && cert == NULL; i++)
            if (f->r[i].prot && f->r[i].inner == FR_CT_HANDSHAKE && f->r[i].data[0] == FR_HS_CERTIFICATE)
                cert = &f->r[i];
    }
    CHECK(cert != NULL);
    if (cert != NULL) {
        /* Certificate { context <0>, list <3> { cert_data <3>, extensions <2> } } */
        size_t dl;
        unsigned char *der = tl_unhex(DSA_CERT_HEX, &dl);
        size_t entry = 3 + dl + 2, body = 1 + 3 + entry;
        uint8_t *d = cert->data;
        size_t k = 0;
        d[k++] = FR_HS_CERTIFICATE;
        d[k++] = (uint8_t)(body >> 16), d[k++] = (uint8_t)(body >> 8), d[k++] = (uint8_t)body;
        d[k++] = 0;
        d[k++] = (uint8_t)(entry >> 16), d[k++] = (uint8_t)(entry >> 8), d[k++] = (uint8_t)entry;
        d[k++] = (uint8_t)(dl >> 16), d[k++] = (uint8_t)(dl >> 8), d[k++] = (uint8_t)dl;
        memcpy(d + k, der, dl);
        k += dl;
        d[k++] = 0, d[k++] = 0;
        cert->len = k;
        free(der);
        CHECK(mf_send(f, m.p.server));
        CHECK_EQ(ferrule_conn_handshake(m.p.server), FERRULE_CERTIFICATE);
        CHECK_EQ(ferrule_conn_reason(m.p.server), FERRULE_R_CERT_UNSUPPORTED);
        CHECK_EQ(ferrule_conn_alert(m.p.server), FERRULE_ALERT_UNSUPPORTED_CERTIFICATE);
        /* the server kept the certificate it was sent */
        CHECK_EQ(ferrule_conn_peer_cert_count(m.p.server), 1);
    }
    mf_free(f);
    mitm_free(&m);
}

TEST(certificate_verify_needs_x509v3) {
    /* RFC 8446 §4.4.2.2: the certificate type MUST be X.509v3.  A v1 leaf
     * signs a valid CertificateVerify; with verification disabled it is
     * refused all the same (unsupported_certificate); the same certificate
     * as v3 is fine. */
    for (long version = 0; version <= 2; version += 2) {
        char cert[4096], key[4096];
        REQUIRE(pair_self_signed("EC", 0, version, cert, sizeof(cert), key, sizeof(key)));
        ferrule_config *cc = pair_client_config(), *sc = NULL;
        REQUIRE(cc != NULL && ferrule_config_new(&sc, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK);
        CHECK_EQ(ferrule_config_add_cert_chain_pem(sc, (const uint8_t *)cert, strlen(cert),
                                                   (const uint8_t *)key, strlen(key)),
                 FERRULE_OK);
        CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
        pair p;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        int cs, ss;
        int ok = pair_handshake(&p, &cs, &ss);
        if (version == 0) {
            CHECK(!ok);
            CHECK_EQ(cs, FERRULE_CERTIFICATE);
            CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_CERT_UNSUPPORTED);
            CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_UNSUPPORTED_CERTIFICATE);
        } else {
            CHECK(ok);
        }
        pair_free(&p);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

/* A connection's validated path points into the peer chain the
 * connection keeps and into the config's anchors: the same bytes, not
 * copies (docs/memory.md). */
TEST(connection_path_shares_the_kept_chain) {
    pair p;
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    CHECK(pair_new(&p, cc, sc, "localhost"));
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(cs, FERRULE_OK);
    const ferrule_verify_result *vr = ferrule_conn_verify_result(p.client);
    CHECK(vr != NULL);
    CHECK_EQ(ferrule_verify_result_path_length(vr), 3);
    for (size_t i = 0; i < 2; i++) {
        const uint8_t *path_der, *peer_der;
        size_t path_len, peer_len;
        CHECK_EQ(ferrule_verify_result_path_cert(vr, i, &path_der, &path_len), FERRULE_OK);
        CHECK_EQ(ferrule_conn_peer_cert(p.client, i, &peer_der, &peer_len), FERRULE_OK);
        CHECK(path_der == peer_der && path_len == peer_len);
    }
    uint8_t *root[1];
    size_t root_len[1];
    CHECK_EQ(load_chain_der(pair_pki("root.pem"), root, root_len, 1), 1);
    const uint8_t *der;
    size_t len;
    CHECK_EQ(ferrule_verify_result_path_cert(vr, 2, &der, &len), FERRULE_OK);
    CHECK(len == root_len[0] && memcmp(der, root[0], len) == 0);
    free(root[0]);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST_MAIN("verify_api", TL_CASE(certificate_verify_needs_x509v3), TL_CASE(connection_path_shares_the_kept_chain), TL_CASE(standalone_valid_chain_reports_the_path), TL_CASE(standalone_misuse),
          TL_CASE(callback_can_reject_a_valid_chain),
          TL_CASE(callback_cannot_rescue_an_invalid_chain),
          TL_CASE(callback_accepting_keeps_the_path), TL_CASE(cn_rule_is_opt_in),
          TL_CASE(certificate_verify_needs_digital_signature),
          TL_CASE(certificate_verify_unsupported_key))
