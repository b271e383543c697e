/* test_client_auth.c - client authentication (RFC 8446 §4.3.2, §4.4.2,
 * §4.4.3): in-memory pairs through the public ABI, and a man in the
 * middle that edits the client's second flight (Certificate,
 * CertificateVerify, Finished) under the client handshake secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "record.h"
#include "support_fx.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

/* ---- configurations -------------------------------------------------------- */

/* A server (ecdsa-p256 chain) asking for client certificates in `mode`,
 * trusting `anchor` (a PKI file) for them. */
static ferrule_config *server_cfg(uint32_t mode, const char *anchor) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    if (sc == NULL) return NULL;
    if (ferrule_config_set_client_auth(sc, mode) != FERRULE_OK ||
        (anchor != NULL && ferrule_config_add_trust_file(sc, pair_pki(anchor)) != FERRULE_OK)) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

/* A client trusting root.pem with the given chains (pairs of PKI files,
 * or absolute paths when they start with '/'). */
static ferrule_config *client_cfg(const char *chain1, const char *key1, const char *chain2,
                                  const char *key2) {
    ferrule_config *cc = pair_client_config();
    if (cc == NULL) return NULL;
    const char *ch[2] = {chain1, chain2}, *k[2] = {key1, key2};
    for (int i = 0; i < 2; i++) {
        if (ch[i] == NULL) continue;
        char a[600], b[600];
        snprintf(a, sizeof(a), "%s", ch[i][0] == '/' ? ch[i] : pair_pki(ch[i]));
        snprintf(b, sizeof(b), "%s", k[i][0] == '/' ? k[i] : pair_pki(k[i]));
        if (ferrule_config_add_cert_chain_file(cc, a, b) != FERRULE_OK) {
            fprintf(stderr, "  cannot load %s / %s\n", a, b);
            ferrule_config_free(cc);
            return NULL;
        }
    }
    return cc;
}

/* The DER of a PEM file's first certificate (base64 decoded by hand). */
static size_t pem_first_der(const char *path, uint8_t *out, size_t cap) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    char line[256];
    int in = 0;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "-----BEGIN CERTIFICATE", 22) == 0) {
            in = 1;
            continue;
        }
        if (strncmp(line, "-----END", 8) == 0 && in) break;
        if (!in) continue;
        for (char *p = line; *p; p++) {
            int v;
            if (*p >= 'A' && *p <= 'Z') v = *p - 'A';
            else if (*p >= 'a' && *p <= 'z') v = *p - 'a' + 26;
            else if (*p >= '0' && *p <= '9') v = *p - '0' + 52;
            else if (*p == '+') v = 62;
            else if (*p == '/') v = 63;
            else continue;
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                if (n < cap) out[n++] = (uint8_t)(acc >> bits);
            }
        }
    }
    fclose(f);
    return n;
}

/* 1 if the server's view of the client leaf is the first certificate of
 * `file`. */
static ferrule_config *new_cfg(uint32_t role) {
    ferrule_config *cfg = NULL;
    return ferrule_config_new(&cfg, role, NULL) == FERRULE_OK ? cfg : NULL;
}

static int server_sees_leaf(ferrule_conn *server, const char *file) {
    static uint8_t want[8192];
    size_t n = pem_first_der(pair_pki(file), want, sizeof(want));
    const uint8_t *der = NULL;
    size_t len = 0;
    if (n == 0 || ferrule_conn_peer_cert_count(server) == 0 ||
        ferrule_conn_peer_cert(server, 0, &der, &len) != FERRULE_OK)
        return 0;
    return len == n && memcmp(der, want, n) == 0;
}

/* pair_new that hands the configs to the connections (each holds its own
 * reference). */
static int pair_new_own(pair *p, ferrule_config *cc, ferrule_config *sc) {
    int ok = pair_new(p, cc, sc, NULL);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return ok;
}

/* ---- whole handshakes --------------------------------------------------------- */

TEST(require_with_certificate) {
    pair p;
    ferrule_config *cc = client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key", NULL, NULL);
    ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK(pair_new_own(&p, cc, sc));
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(cs, FERRULE_OK);
    CHECK_EQ(ss, FERRULE_OK);
    /* The server sees and validated the client's chain. */
    CHECK_EQ(ferrule_conn_peer_cert_count(p.server), 2);
    CHECK(server_sees_leaf(p.server, "ecdsa-p256.leaf.pem"));
    const ferrule_verify_result *vr = ferrule_conn_verify_result(p.server);
    CHECK(vr != NULL);
    CHECK_EQ(ferrule_conn_peer_signature_scheme(p.server), FERRULE_SIG_ECDSA_SECP256R1_SHA256);
    CHECK_EQ(ferrule_conn_signature_scheme(p.client), FERRULE_SIG_ECDSA_SECP256R1_SHA256);
    /* And the client still authenticated the server. */
    CHECK_EQ(ferrule_conn_peer_signature_scheme(p.client), FERRULE_SIG_ECDSA_SECP256R1_SHA256);
    uint8_t buf[16];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"ping", 4, &n), FERRULE_OK);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 4);
    CHECK_MEM(buf, "ping", 4);
    pair_free(&p);
}

/* Every key type signs a client CertificateVerify the server accepts. */
TEST(require_every_key_type) {
    static const char *kinds[] = {"ecdsa-p384", "rsa", "rsa-pss", "ed25519"};
    static const uint16_t want[] = {FERRULE_SIG_ECDSA_SECP384R1_SHA384,
                                    FERRULE_SIG_RSA_PSS_RSAE_SHA256,
                                    FERRULE_SIG_RSA_PSS_PSS_SHA256, FERRULE_SIG_ED25519};
    for (size_t i = 0; i < 4; i++) {
        char chain[64], key[64];
        snprintf(chain, sizeof(chain), "%s.chain.pem", kinds[i]);
        snprintf(key, sizeof(key), "%s.key", kinds[i]);
        ferrule_config *cc = client_cfg(chain, key, NULL, NULL);
        ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem");
        CHECK(cc != NULL && sc != NULL);
        if (cc == NULL || sc == NULL) return;
        pair p;
        CHECK(pair_new_own(&p, cc, sc));
        int cs, ss;
        CHECK(pair_handshake(&p, &cs, &ss));
        if (ss != FERRULE_OK)
            fprintf(stderr, "  %s: server %s\n", kinds[i],
                    ferrule_reason_name(ferrule_conn_reason(p.server)));
        CHECK(server_sees_leaf(p.server, chain));
        CHECK_EQ(ferrule_conn_peer_signature_scheme(p.server), want[i]);
        CHECK_EQ(ferrule_conn_signature_scheme(p.client), want[i]);
        pair_free(&p);
    }
}

/* Run a pair whose server must fail; returns the client's final status
 * after it read the server's alert. */
static void expect_server_failure_at(int line, ferrule_config *cc, ferrule_config *sc,
                                     uint32_t reason, int alert) {
    if (cc == NULL || sc == NULL) {
        ferrule_config_free(cc);
        ferrule_config_free(sc);
        fprintf(stderr, "  %s:%d: set-up failed\n", __FILE__, line);
        tl_failures_in_test++;
        return;
    }
    pair p;
    if (!pair_new_own(&p, cc, sc)) {
        fprintf(stderr, "  %s:%d: pair_new failed\n", __FILE__, line);
        tl_failures_in_test++;
        return;
    }
    int cs, ss;
    int ok = pair_handshake(&p, &cs, &ss);
    if (ok || ss == FERRULE_OK || ferrule_conn_reason(p.server) != reason ||
        ferrule_conn_alert(p.server) != alert) {
        fprintf(stderr, "  %s:%d: server %s (%s) alert %d, want %s alert %d\n", __FILE__, line,
                ferrule_status_name(ss), ferrule_reason_name(ferrule_conn_reason(p.server)),
                ferrule_conn_alert(p.server), ferrule_reason_name(reason), alert);
        tl_failures_in_test++;
    }
    /* The client finished its side; the alert reaches it on its next read. */
    pair_move(p.server, p.client);
    uint8_t buf[16];
    size_t n = 0;
    int st = ferrule_conn_read(p.client, buf, sizeof(buf), &n);
    if (st != FERRULE_ALERT_RECEIVED || ferrule_conn_alert(p.client) != alert) {
        fprintf(stderr, "  %s:%d: client got %s alert %d, want alert %d\n", __FILE__, line,
                ferrule_status_name(st), ferrule_conn_alert(p.client), alert);
        tl_failures_in_test++;
    }
    pair_free(&p);
}
#define EXPECT_SERVER_FAILURE(cc, sc, reason, alert)                                               \
    expect_server_failure_at(__LINE__, (cc), (sc), (reason), (alert))

TEST(require_without_certificate) {
    EXPECT_SERVER_FAILURE(pair_client_config(), server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem"),
                          FERRULE_R_CERT_REQUIRED, FERRULE_ALERT_CERTIFICATE_REQUIRED);
}

TEST(request_without_certificate) {
    pair p;
    ferrule_config *cc = pair_client_config();
    ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUEST, "root.pem");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK(pair_new_own(&p, cc, sc));
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ss, FERRULE_OK);
    CHECK_EQ(ferrule_conn_peer_cert_count(p.server), 0);
    CHECK(ferrule_conn_verify_result(p.server) == NULL);
    CHECK_EQ(ferrule_conn_peer_signature_scheme(p.server), 0);
    CHECK_EQ(ferrule_conn_signature_scheme(p.client), 0);
    pair_free(&p);
}

TEST(request_with_certificate) {
    pair p;
    ferrule_config *cc = client_cfg("rsa.chain.pem", "rsa.key", NULL, NULL);
    ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUEST, "root.pem");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK(pair_new_own(&p, cc, sc));
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK(server_sees_leaf(p.server, "rsa.leaf.pem"));
    CHECK(ferrule_conn_verify_result(p.server) != NULL);
    CHECK_EQ(ferrule_conn_peer_signature_scheme(p.server), FERRULE_SIG_RSA_PSS_RSAE_SHA256);
    pair_free(&p);
}

/* Without client auth the server sends no CertificateRequest and a client
 * holding a chain sends nothing. */
TEST(none_ignores_client_chain) {
    pair p;
    ferrule_config *cc = client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key", NULL, NULL);
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK(pair_new_own(&p, cc, sc));
    CHECK(pair_handshake(&p, NULL, NULL));
    CHECK_EQ(ferrule_conn_peer_cert_count(p.server), 0);
    CHECK_EQ(ferrule_conn_signature_scheme(p.client), 0);
    pair_free(&p);
}

TEST(untrusted_client_certificate) {
    EXPECT_SERVER_FAILURE(client_cfg("untrusted.chain.pem", "untrusted.key", NULL, NULL),
                          server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem"),
                          FERRULE_R_CERT_UNKNOWN_ISSUER, FERRULE_ALERT_UNKNOWN_CA);
    /* REQUEST does not lower the bar for a certificate that was sent. */
    EXPECT_SERVER_FAILURE(client_cfg("untrusted.chain.pem", "untrusted.key", NULL, NULL),
                          server_cfg(FERRULE_CLIENT_AUTH_REQUEST, "root.pem"),
                          FERRULE_R_CERT_UNKNOWN_ISSUER, FERRULE_ALERT_UNKNOWN_CA);
}

/* A leaf whose EKU is serverAuth only, made with the openssl CLI. */
static int make_server_only_leaf(char *dir, size_t cap, char *chain, char *key) {
    snprintf(dir, cap, "/tmp/fr-cauth-XXXXXX");
    if (mkdtemp(dir) == NULL) return 0;
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd %s && printf '[e]\\nbasicConstraints=CA:FALSE\\nkeyUsage=critical,"
             "digitalSignature\\nextendedKeyUsage=serverAuth\\nsubjectAltName=DNS:localhost\\n'"
             " > ext.cnf && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
             " -keyout k.pem -subj /CN=server-only -out csr.pem 2>/dev/null && openssl x509 -req"
             " -in csr.pem -CA %s -CAkey %s -set_serial 4242 -days 30 -extfile ext.cnf"
             " -extensions e -out leaf.pem 2>/dev/null && cat leaf.pem %s > chain.pem",
             dir, pair_pki("inter.pem"), pair_pki("inter.key"), pair_pki("inter.pem"));
    if (system(cmd) != 0) return 0;
    snprintf(chain, 600, "%s/chain.pem", dir);
    snprintf(key, 600, "%s/k.pem", dir);
    return 1;
}

TEST(client_certificate_without_client_auth_eku) {
    char dir[64], chain[600], key[600];
    CHECK(make_server_only_leaf(dir, sizeof(dir), chain, key));
    EXPECT_SERVER_FAILURE(client_cfg(chain, key, NULL, NULL),
                          server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem"), FERRULE_R_CERT_EKU,
                          FERRULE_ALERT_BAD_CERTIFICATE);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ(system(cmd), 0);
}

/* A leaf with EKU clientAuth alone is a client certificate. */
TEST(client_auth_only_eku_accepted) {
    char chain[1200];
    snprintf(chain, sizeof(chain), "/tmp/fr-cauth-eku-%d.pem", (int)getpid());
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cat %s %s > %s", pair_pki("x-eku-client.pem"),
             pair_pki("inter.pem"), chain);
    CHECK_EQ(system(cmd), 0);
    ferrule_config *cc = client_cfg(chain, "ecdsa-p256.key", NULL, NULL);
    ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem");
    CHECK(cc != NULL && sc != NULL);
    if (cc != NULL && sc != NULL) {
        pair p;
        CHECK(pair_new_own(&p, cc, sc));
        CHECK(pair_handshake(&p, NULL, NULL));
        CHECK(server_sees_leaf(p.server, "x-eku-client.pem"));
        pair_free(&p);
    }
    unlink(chain);
}

/* certificate_authorities steers the choice between two client chains:
 * the server trusting root.pem gets the chain under root even though it
 * comes second; the server trusting other-root.pem gets the other one. */
TEST(certificate_authorities_selects_chain) {
    const char *anchors[2] = {"root.pem", "other-root.pem"};
    const char *leaves[2] = {"ecdsa-p256.leaf.pem", "untrusted.chain.pem"};
    for (int i = 0; i < 2; i++) {
        ferrule_config *cc = client_cfg("untrusted.chain.pem", "untrusted.key",
                                        "ecdsa-p256.chain.pem", "ecdsa-p256.key");
        ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, anchors[i]);
        CHECK(cc != NULL && sc != NULL);
        if (cc == NULL || sc == NULL) return;
        pair p;
        CHECK(pair_new_own(&p, cc, sc));
        int cs, ss;
        CHECK(pair_handshake(&p, &cs, &ss));
        if (ss != FERRULE_OK)
            fprintf(stderr, "  anchor %s: server %s\n", anchors[i],
                    ferrule_reason_name(ferrule_conn_reason(p.server)));
        CHECK(server_sees_leaf(p.server, leaves[i]));
        pair_free(&p);
    }
    /* Order reversed: with root.pem the first chain is the match. */
    ferrule_config *cc = client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key",
                                    "untrusted.chain.pem", "untrusted.key");
    ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    pair p;
    CHECK(pair_new_own(&p, cc, sc));
    CHECK(pair_handshake(&p, NULL, NULL));
    CHECK(server_sees_leaf(p.server, "ecdsa-p256.leaf.pem"));
    pair_free(&p);
}

/* The client's chain must be able to sign a scheme the server offers: an
 * ed25519-only server makes the client skip its P-256 chain for its
 * ed25519 one. */
TEST(signature_algorithms_select_chain) {
    ferrule_config *cc = client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key", "ed25519.chain.pem",
                                    "ed25519.key");
    ferrule_config *sc = new_cfg(FERRULE_ROLE_SERVER);
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    const uint16_t sigs[] = {FERRULE_SIG_ED25519};
    CHECK_EQ(ferrule_config_set_signature_schemes(sc, sigs, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_cert_chain_file(sc, pair_pki("ed25519.chain.pem"),
                                                pair_pki("ed25519.key")),
             FERRULE_OK);
    CHECK_EQ(ferrule_config_add_trust_file(sc, pair_pki("root.pem")), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUIRE), FERRULE_OK);
    pair p;
    CHECK(pair_new_own(&p, cc, sc));
    CHECK(pair_handshake(&p, NULL, NULL));
    CHECK(server_sees_leaf(p.server, "ed25519.leaf.pem"));
    CHECK_EQ(ferrule_conn_peer_signature_scheme(p.server), FERRULE_SIG_ED25519);
    pair_free(&p);
    /* No chain fits: the client answers with an empty Certificate. */
    cc = client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key", NULL, NULL);
    sc = new_cfg(FERRULE_ROLE_SERVER);
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK_EQ(ferrule_config_set_signature_schemes(sc, sigs, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_cert_chain_file(sc, pair_pki("ed25519.chain.pem"),
                                                pair_pki("ed25519.key")),
             FERRULE_OK);
    CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUIRE), FERRULE_OK);
    EXPECT_SERVER_FAILURE(cc, sc, FERRULE_R_CERT_REQUIRED, FERRULE_ALERT_CERTIFICATE_REQUIRED);
}

TEST(set_client_auth_api) {
    ferrule_config *cc = new_cfg(FERRULE_ROLE_CLIENT);
    ferrule_config *sc = new_cfg(FERRULE_ROLE_SERVER);
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK(ferrule_config_set_client_auth(cc, FERRULE_CLIENT_AUTH_REQUIRE) != FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_CONFIG_INVALID);
    CHECK(ferrule_config_set_client_auth(sc, 3) != FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUEST), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_NONE), FERRULE_OK);
    CHECK(ferrule_config_set_client_auth(NULL, FERRULE_CLIENT_AUTH_NONE) == FERRULE_USAGE);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- the server's CertificateRequest on the wire ---------------------------- */

/* The fixture (fx, CL, SV, SEC) is support_fx.h's. */

/* Client hello to the server, server flight opened into x->f. */
static fx *server_flight(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    int ok = ferrule_conn_handshake(CL(x)) == FERRULE_WANT_READ && mitm_pass(CL(x), SV(x)) &&
             ferrule_conn_handshake(SV(x)) == FERRULE_WANT_READ;
    if (ok) {
        x->f->suite = ferrule_conn_cipher_suite(SV(x));
        ok = mf_take(x->f, SV(x)) && mf_open(x->f, 0, x->f->n, SEC(x, SERVER, SHS)) > 0;
    }
    if (!ok) {
        fprintf(stderr, "  could not capture the server flight\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

static mrec *find_msg(mflight *f, uint8_t type) {
    for (size_t i = 0; i < f->n; i++)
        if (f->r[i].prot && f->r[i].inner == FR_CT_HANDSHAKE && f->r[i].len >= 4 &&
            f->r[i].data[0] == type)
            return &f->r[i];
    return NULL;
}

/* The extension `type` of a CertificateRequest message, or NULL. */
static const uint8_t *cr_ext(const mrec *r, uint16_t type, size_t *len) {
    const uint8_t *p = r->data + 4, *end = r->data + r->len;
    if (end - p < 3 || p[0] != 0) return NULL; /* empty context */
    size_t total = (size_t)p[1] << 8 | p[2];
    p += 3;
    if ((size_t)(end - p) != total) return NULL;
    while (end - p >= 4) {
        uint16_t t = (uint16_t)(p[0] << 8 | p[1]);
        size_t l = (size_t)p[2] << 8 | p[3];
        p += 4;
        if ((size_t)(end - p) < l) return NULL;
        if (t == type) {
            *len = l;
            return p;
        }
        p += l;
    }
    return NULL;
}

TEST(certificate_request_contents) {
    fx *x = server_flight(pair_client_config(), server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem"));
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *ee = find_msg(x->f, FR_HS_ENCRYPTED_EXTENSIONS);
    mrec *cr = find_msg(x->f, FR_HS_CERTIFICATE_REQUEST);
    mrec *cert = find_msg(x->f, FR_HS_CERTIFICATE);
    CHECK(ee != NULL && cr != NULL && cert != NULL);
    if (cr == NULL || ee == NULL || cert == NULL) {
        fx_free(x);
        return;
    }
    /* RFC 8446 §4.3.2: after EncryptedExtensions, before Certificate. */
    CHECK(ee < cr && cr < cert);
    size_t len = 0;
    const uint8_t *sa = cr_ext(cr, FR_EXT_SIGNATURE_ALGORITHMS, &len);
    CHECK(sa != NULL && len >= 4);
    if (sa != NULL) {
        /* Only schemes allowed in a TLS 1.3 CertificateVerify. */
        for (size_t i = 2; i + 1 < len; i += 2) {
            uint16_t s = (uint16_t)(sa[i] << 8 | sa[i + 1]);
            CHECK(s != FERRULE_SIG_RSA_PKCS1_SHA256 && s != FERRULE_SIG_RSA_PKCS1_SHA384);
        }
    }
    const uint8_t *ca = cr_ext(cr, FR_EXT_CERTIFICATE_AUTHORITIES, &len);
    CHECK(ca != NULL);
    if (ca != NULL) {
        /* One DistinguishedName: root.pem's subject, "...CN=..." DER. */
        CHECK(len > 4 && (size_t)(ca[0] << 8 | ca[1]) == len - 2);
        CHECK((size_t)(ca[2] << 8 | ca[3]) == len - 4);
        CHECK(ca[4] == 0x30);
    }
    fx_free(x);
    /* A server without trust anchors names no authorities. */
    ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUEST, NULL);
    x = server_flight(pair_client_config(), sc);
    CHECK(x != NULL);
    if (x == NULL) return;
    cr = find_msg(x->f, FR_HS_CERTIFICATE_REQUEST);
    CHECK(cr != NULL);
    if (cr != NULL) {
        CHECK(cr_ext(cr, FR_EXT_SIGNATURE_ALGORITHMS, &len) != NULL);
        CHECK(cr_ext(cr, FR_EXT_CERTIFICATE_AUTHORITIES, &len) == NULL);
    }
    fx_free(x);
}

/* ---- the client's second flight, edited ------------------------------------- */

/* The client connected; x->f holds its second flight opened with the
 * client handshake secret; the server waits for it. */
static fx *client_flight(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    int ok = ferrule_conn_handshake(CL(x)) == FERRULE_WANT_READ && mitm_pass(CL(x), SV(x)) &&
             ferrule_conn_handshake(SV(x)) == FERRULE_WANT_READ && mitm_pass(SV(x), CL(x)) &&
             ferrule_conn_handshake(CL(x)) == FERRULE_OK;
    if (ok) {
        x->f->suite = ferrule_conn_cipher_suite(CL(x));
        ok = mf_take(x->f, CL(x)) && mf_open(x->f, 0, x->f->n, SEC(x, CLIENT, CHS)) > 0 &&
             find_msg(x->f, FR_HS_CERTIFICATE) != NULL && find_msg(x->f, FR_HS_FINISHED) != NULL;
    }
    if (!ok) {
        fprintf(stderr, "  could not capture the client flight\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

static fx *client_flight_default(void) {
    return client_flight(client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key", NULL, NULL),
                         server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem"));
}

static void deliver_expect_at(int line, fx *x, uint32_t reason, int alert) {
    if (!mf_send(x->f, SV(x))) {
        fprintf(stderr, "  %s:%d: feed failed\n", __FILE__, line);
        tl_failures_in_test++;
        return;
    }
    int st = ferrule_conn_handshake(SV(x));
    if (st == FERRULE_OK || ferrule_conn_reason(SV(x)) != reason ||
        ferrule_conn_alert(SV(x)) != alert) {
        fprintf(stderr, "  %s:%d: server %s (%s) alert %d, want %s alert %d\n", __FILE__, line,
                ferrule_status_name(st), ferrule_reason_name(ferrule_conn_reason(SV(x))),
                ferrule_conn_alert(SV(x)), ferrule_reason_name(reason), alert);
        tl_failures_in_test++;
    }
}
#define DELIVER_EXPECT(x, reason, alert) deliver_expect_at(__LINE__, (x), (reason), (alert))

TEST(client_flight_untouched) {
    fx *x = client_flight_default();
    CHECK(x != NULL);
    if (x == NULL) return;
    /* Certificate, CertificateVerify, Finished, in that order. */
    mrec *cert = find_msg(x->f, FR_HS_CERTIFICATE), *cv = find_msg(x->f, FR_HS_CERTIFICATE_VERIFY),
         *fin = find_msg(x->f, FR_HS_FINISHED);
    CHECK(cert != NULL && cv != NULL && fin != NULL && cert < cv && cv < fin);
    CHECK(mf_send(x->f, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    CHECK_EQ(ferrule_conn_peer_signature_scheme(SV(x)), FERRULE_SIG_ECDSA_SECP256R1_SHA256);
    fx_free(x);
}

TEST(client_certificate_verify_corrupted) {
    fx *x = client_flight_default();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *cv = find_msg(x->f, FR_HS_CERTIFICATE_VERIFY);
    CHECK(cv != NULL && cv->len > 20);
    if (cv != NULL) cv->data[cv->len - 3] ^= 0x01; /* inside the signature */
    DELIVER_EXPECT(x, FERRULE_R_BAD_SIGNATURE, FERRULE_ALERT_DECRYPT_ERROR);
    fx_free(x);
}

/* RFC 8446 §4.4.3: the scheme must be one the server's CertificateRequest
 * offered (checked before the signature). */
TEST(client_certificate_verify_scheme_not_offered) {
    ferrule_config *sc = server_cfg(FERRULE_CLIENT_AUTH_REQUIRE, "root.pem");
    const uint16_t sigs[] = {FERRULE_SIG_ECDSA_SECP256R1_SHA256, FERRULE_SIG_RSA_PSS_RSAE_SHA256};
    if (sc != NULL) CHECK_EQ(ferrule_config_set_signature_schemes(sc, sigs, 2), FERRULE_OK);
    fx *x = client_flight(client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key", NULL, NULL), sc);
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *cv = find_msg(x->f, FR_HS_CERTIFICATE_VERIFY);
    CHECK(cv != NULL);
    if (cv != NULL) {
        /* ecdsa_secp384r1_sha384: allowed in TLS 1.3 but not offered. */
        cv->data[4] = 0x05;
        cv->data[5] = 0x03;
    }
    DELIVER_EXPECT(x, FERRULE_R_WRONG_SIGNATURE_TYPE, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(client_certificate_verify_pkcs1_refused) {
    fx *x = client_flight_default();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *cv = find_msg(x->f, FR_HS_CERTIFICATE_VERIFY);
    CHECK(cv != NULL);
    if (cv != NULL) {
        cv->data[4] = 0x04; /* rsa_pkcs1_sha256: never in a TLS 1.3 CV */
        cv->data[5] = 0x01;
    }
    /* BoGo ClientAuth-Enforced-TLS13. */
    DELIVER_EXPECT(x, FERRULE_R_WRONG_SIGNATURE_TYPE, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

/* Insert `n` bytes at offset `at` of a handshake message, fixing its length. */
static void msg_insert(mrec *r, size_t at, const uint8_t *p, size_t n) {
    memmove(r->data + at + n, r->data + at, r->len - at);
    memcpy(r->data + at, p, n);
    r->len += n;
    size_t body = r->len - 4;
    r->data[1] = (uint8_t)(body >> 16);
    r->data[2] = (uint8_t)(body >> 8);
    r->data[3] = (uint8_t)body;
}

TEST(client_certificate_nonempty_context) {
    fx *x = client_flight_default();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *cert = find_msg(x->f, FR_HS_CERTIFICATE);
    CHECK(cert != NULL && cert->data[4] == 0);
    if (cert != NULL) {
        cert->data[4] = 1; /* context length 1 ... */
        const uint8_t b = 0x2a;
        msg_insert(cert, 5, &b, 1); /* ... and its byte */
    }
    DELIVER_EXPECT(x, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(client_certificate_entry_extension) {
    fx *x = client_flight_default();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *cert = find_msg(x->f, FR_HS_CERTIFICATE);
    CHECK(cert != NULL);
    if (cert != NULL) {
        /* header(4) ctx(1) list_len(3) cert_len(3) cert extensions_len(2) */
        size_t clen = (size_t)cert->data[8] << 16 | (size_t)cert->data[9] << 8 | cert->data[10];
        size_t at = 11 + clen;
        CHECK(cert->data[at] == 0 && cert->data[at + 1] == 0);
        /* An SCT extension (18), empty: we asked for none. */
        const uint8_t ext[4] = {0, 18, 0, 0};
        cert->data[at + 1] = 4;
        msg_insert(cert, at + 2, ext, 4);
        size_t list = (size_t)cert->data[5] << 16 | (size_t)cert->data[6] << 8 | cert->data[7];
        list += 4;
        cert->data[5] = (uint8_t)(list >> 16);
        cert->data[6] = (uint8_t)(list >> 8);
        cert->data[7] = (uint8_t)list;
    }
    DELIVER_EXPECT(x, FERRULE_R_UNSUPPORTED_EXTENSION, FERRULE_ALERT_UNSUPPORTED_EXTENSION);
    fx_free(x);
}

/* An empty client Certificate followed by a CertificateVerify: after an
 * empty Certificate the server wants Finished (REQUEST mode). */
TEST(client_verify_after_empty_certificate) {
    fx *x = client_flight(client_cfg("ecdsa-p256.chain.pem", "ecdsa-p256.key", NULL, NULL),
                          server_cfg(FERRULE_CLIENT_AUTH_REQUEST, "root.pem"));
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *cert = find_msg(x->f, FR_HS_CERTIFICATE);
    CHECK(cert != NULL);
    if (cert != NULL) {
        const uint8_t empty[4] = {0, 0, 0, 0};
        memcpy(cert->data + 4, empty, 4);
        cert->len = 8;
        cert->data[1] = 0;
        cert->data[2] = 0;
        cert->data[3] = 4;
    }
    DELIVER_EXPECT(x, FERRULE_R_UNEXPECTED_MESSAGE, FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

/* A client that skips its CertificateVerify after a non-empty Certificate. */
TEST(client_verify_missing) {
    fx *x = client_flight_default();
    CHECK(x != NULL);
    if (x == NULL) return;
    for (size_t i = 0; i < x->f->n; i++)
        if (&x->f->r[i] == find_msg(x->f, FR_HS_CERTIFICATE_VERIFY)) {
            mf_remove(x->f, i);
            break;
        }
    DELIVER_EXPECT(x, FERRULE_R_UNEXPECTED_MESSAGE, FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST_MAIN("client_auth", TL_CASE(require_with_certificate), TL_CASE(require_every_key_type),
          TL_CASE(require_without_certificate), TL_CASE(request_without_certificate),
          TL_CASE(request_with_certificate), TL_CASE(none_ignores_client_chain),
          TL_CASE(untrusted_client_certificate),
          TL_CASE(client_certificate_without_client_auth_eku),
          TL_CASE(client_auth_only_eku_accepted), TL_CASE(certificate_authorities_selects_chain),
          TL_CASE(signature_algorithms_select_chain), TL_CASE(set_client_auth_api),
          TL_CASE(certificate_request_contents), TL_CASE(client_flight_untouched),
          TL_CASE(client_certificate_verify_corrupted),
          TL_CASE(client_certificate_verify_scheme_not_offered),
          TL_CASE(client_certificate_verify_pkcs1_refused),
          TL_CASE(client_certificate_nonempty_context), TL_CASE(client_certificate_entry_extension),
          TL_CASE(client_verify_after_empty_certificate), TL_CASE(client_verify_missing))
