/* test_server_select.c - the server's certificate selection by SNI and
 * signature algorithms (RFC 6066 §3, RFC 8446 §4.2.3, §4.4.2.2), ALPN
 * selection (RFC 7301 §3) and their application callbacks, over in-memory
 * pairs through the public ABI; malformed ALPN / signature_algorithms_cert
 * in a ClientHello and an unoffered ALPN answer, through a man in the
 * middle.  See docs/server-callbacks.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h" /* FR_EXT_*, FR_CT_*: test-only */
#include "record.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

/* ---- configurations ---------------------------------------------------------- */

/* A server config with chains given as "NAME" (NAME.chain.pem + NAME.key)
 * or "CHAIN.pem:KEY" (PKI files), in order; NULL-terminated. */
static ferrule_config *server_with(const char *first, ...) {
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK) return NULL;
    /* No tickets unless a test wants them: flights stay predictable. */
    if (ferrule_config_set_tickets(cfg, 0) != FERRULE_OK) goto fail;
    const char *names[8] = {first};
    size_t n = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *s; n < 8 && (s = va_arg(ap, const char *)) != NULL;) names[n++] = s;
    va_end(ap);
    for (size_t i = 0; i < n && names[i] != NULL; i++) {
        char chain[600], key[600];
        const char *colon = strchr(names[i], ':');
        if (colon != NULL) {
            char c[128];
            snprintf(c, sizeof(c), "%.*s", (int)(colon - names[i]), names[i]);
            snprintf(chain, sizeof(chain), "%s", pair_pki(c));
            snprintf(key, sizeof(key), "%s", pair_pki(colon + 1));
        } else {
            char c[128], k[128];
            snprintf(c, sizeof(c), "%s.chain.pem", names[i]);
            snprintf(k, sizeof(k), "%s.key", names[i]);
            snprintf(chain, sizeof(chain), "%s", pair_pki(c));
            snprintf(key, sizeof(key), "%s", pair_pki(k));
        }
        if (ferrule_config_add_cert_chain_file(cfg, chain, key) != FERRULE_OK) {
            fprintf(stderr, "  cannot load %s / %s\n", chain, key);
            goto fail;
        }
    }
    return cfg;
fail:
    ferrule_config_free(cfg);
    return NULL;
}

/* A client trusting root.pem; `sigs` (n > 0) restricts its signature
 * schemes; `no_name_check` for connections without a name. */
static ferrule_config *client_with(const uint16_t *sigs, size_t n, int no_name_check) {
    ferrule_config *cfg = pair_client_config();
    if (cfg == NULL) return NULL;
    if ((n > 0 && ferrule_config_set_signature_schemes(cfg, sigs, n) != FERRULE_OK) ||
        (no_name_check && ferrule_config_dangerous_no_hostname_check(cfg) != FERRULE_OK)) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static int add_alpn(ferrule_config *cfg, const char *list) {
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (ferrule_config_add_alpn(cfg, (const uint8_t *)p, n) != FERRULE_OK) return 0;
        p += n + (e ? 1 : 0);
    }
    return 1;
}

/* ---- running a pair ---------------------------------------------------------- */

typedef struct result {
    int ok, cs, ss;
    int index;          /* server's ferrule_conn_cert_index */
    char leaf_cn[64];   /* "a.test" etc.: the CN of the leaf the client got */
    uint32_t s_reason, c_reason;
    int s_alert, c_alert;
    char alpn_c[32], alpn_s[32];
    int hrr;
} result;

/* The CN in a DER certificate: the UTF8String/PrintableString after the
 * id-at-commonName OID (good enough for the test PKI's names). */
static void leaf_cn(const uint8_t *der, size_t len, char *out, size_t cap) {
    static const uint8_t CN[5] = {0x06, 0x03, 0x55, 0x04, 0x03};
    out[0] = 0;
    const uint8_t *last = NULL;
    for (size_t i = 0; i + 7 < len; i++)
        if (memcmp(der + i, CN, 5) == 0) last = der + i + 5; /* subject comes after issuer */
    if (last == NULL || (size_t)(last + 2 - der) > len) return;
    size_t n = last[1];
    if ((size_t)(last + 2 - der) + n > len || n + 1 > cap) return;
    memcpy(out, last + 2, n);
    out[n] = 0;
}

static void alpn_str(const ferrule_conn *c, char *out, size_t cap) {
    const uint8_t *p = NULL;
    size_t n = 0;
    ferrule_conn_alpn(c, &p, &n);
    if (n + 1 > cap) n = cap - 1;
    if (n > 0) memcpy(out, p, n);
    out[n] = 0;
}

/* Handshake cc/sc with SNI `name` (NULL: no server_name at all). */
static void run(result *r, ferrule_config *cc, ferrule_config *sc, const char *name) {
    memset(r, 0, sizeof(*r));
    r->index = -2;
    if (cc == NULL || sc == NULL) return;
    pair p;
    memset(&p, 0, sizeof(p));
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = name;
    if (ferrule_conn_new(&p.client, cc, &o) != FERRULE_OK ||
        ferrule_conn_new(&p.server, sc, NULL) != FERRULE_OK) {
        pair_free(&p);
        return;
    }
    r->ok = pair_handshake(&p, &r->cs, &r->ss);
    r->index = ferrule_conn_cert_index(p.server);
    const uint8_t *der = NULL;
    size_t len = 0;
    if (ferrule_conn_peer_cert(p.client, 0, &der, &len) == FERRULE_OK)
        leaf_cn(der, len, r->leaf_cn, sizeof(r->leaf_cn));
    r->s_reason = ferrule_conn_reason(p.server);
    r->c_reason = ferrule_conn_reason(p.client);
    r->s_alert = ferrule_conn_alert(p.server);
    r->c_alert = ferrule_conn_alert(p.client);
    alpn_str(p.client, r->alpn_c, sizeof(r->alpn_c));
    alpn_str(p.server, r->alpn_s, sizeof(r->alpn_s));
    r->hrr = ferrule_conn_hrr(p.server);
    pair_free(&p);
}

/* The server failed with (status, reason) and the client got its alert. */
#define CHECK_REFUSED(r, status, reason, alert)                                                    \
    do {                                                                                           \
        CHECK(!(r).ok);                                                                            \
        CHECK_EQ((r).ss, (status));                                                                \
        CHECK_EQ((r).s_reason, (reason));                                                          \
        CHECK_EQ((r).s_alert, (alert));                                                            \
        CHECK_EQ((r).cs, FERRULE_ALERT_RECEIVED);                                                  \
        CHECK_EQ((r).c_alert, (alert));                                                            \
    } while (0)

static const uint16_t ECDSA_ONLY[1] = {FERRULE_SIG_ECDSA_SECP256R1_SHA256};

/* ---- default selection ------------------------------------------------------- */

TEST(sni_picks_chain_a_or_b) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    result r;
    run(&r, cc, sc, "b.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 1);
    CHECK(strcmp(r.leaf_cn, "b.test") == 0);
    run(&r, cc, sc, "a.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 0);
    CHECK(strcmp(r.leaf_cn, "a.test") == 0);
    /* DNS names compare case-insensitively (RFC 6066 §3, RFC 4343). */
    run(&r, cc, sc, "B.Test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 1);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(sni_wildcard) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", "sni-wild", NULL);
    result r;
    run(&r, cc, sc, "www.wild.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 1);
    CHECK(strcmp(r.leaf_cn, "*.wild.test") == 0);
    run(&r, cc, sc, "WWW.WILD.TEST");
    CHECK_EQ(r.index, 1);
    /* The wildcard covers one label only, and not the bare domain: those
     * names fall back to the first chain (and fail the client's check). */
    run(&r, cc, sc, "a.b.wild.test");
    CHECK_EQ(r.index, 0);
    CHECK_EQ(r.c_reason, FERRULE_R_CERT_NAME_MISMATCH);
    run(&r, cc, sc, "wild.test");
    CHECK_EQ(r.index, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(no_sni_uses_first_chain) {
    ferrule_config *cc = client_with(NULL, 0, 1);
    ferrule_config *sc = server_with("sni-b", "sni-a", NULL);
    result r;
    run(&r, cc, sc, NULL);
    CHECK(r.ok);
    CHECK_EQ(r.index, 0);
    CHECK(strcmp(r.leaf_cn, "b.test") == 0);
    /* An IP literal is never sent as SNI (RFC 6066 §3): same outcome. */
    run(&r, cc, sc, "127.0.0.1");
    CHECK(r.ok);
    CHECK_EQ(r.index, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(unknown_sni_falls_back_in_order) {
    ferrule_config *cc = client_with(NULL, 0, 1);
    ferrule_config *sc = server_with("sni-b", "sni-a", NULL);
    result r;
    run(&r, cc, sc, "c.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(strict_sni_refuses_unknown_name) {
    ferrule_config *cc = client_with(NULL, 0, 1);
    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    CHECK_EQ(ferrule_config_set_sni_policy(sc, FERRULE_SNI_STRICT), FERRULE_OK);
    result r;
    run(&r, cc, sc, "c.test");
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_UNRECOGNIZED_NAME, FERRULE_ALERT_UNRECOGNIZED_NAME);
    CHECK_EQ(r.index, -1);
    /* Known names still work; without SNI the chains are used in order. */
    run(&r, cc, sc, "b.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 1);
    run(&r, cc, sc, NULL);
    CHECK(r.ok);
    CHECK_EQ(r.index, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(sigalgs_exclude_chain) {
    /* Two chains for a.test, RSA first: a client offering only ECDSA gets
     * the ECDSA one; a default client the first usable (RSA). */
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *ec = client_with(ECDSA_ONLY, 1, 0);
    ferrule_config *sc = server_with("sni-a-rsa", "sni-a", "sni-b", NULL);
    result r;
    run(&r, cc, sc, "a.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 0);
    run(&r, ec, sc, "a.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 1);
    CHECK(strcmp(r.leaf_cn, "a.test") == 0);
    ferrule_config_free(cc);
    ferrule_config_free(ec);
    ferrule_config_free(sc);
}

TEST(name_match_without_usable_key) {
    /* The only a.test chain is RSA; an ECDSA-only client asking for a.test
     * falls back to b.test's ECDSA chain (and fails its own name check);
     * with the strict policy the server ends with handshake_failure: the
     * name is known, the key type is what does not fit. */
    ferrule_config *ec = client_with(ECDSA_ONLY, 1, 0);
    ferrule_config *sc = server_with("sni-a-rsa", "sni-b", NULL);
    result r;
    run(&r, ec, sc, "a.test");
    CHECK_EQ(r.index, 1);
    CHECK_EQ(r.c_reason, FERRULE_R_CERT_NAME_MISMATCH);
    CHECK_EQ(ferrule_config_set_sni_policy(sc, FERRULE_SNI_STRICT), FERRULE_USAGE); /* frozen */
    ferrule_config *strict = server_with("sni-a-rsa", "sni-b", NULL);
    CHECK_EQ(ferrule_config_set_sni_policy(strict, FERRULE_SNI_STRICT), FERRULE_OK);
    run(&r, ec, strict, "a.test");
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_UNSUPPORTED_CERT, FERRULE_ALERT_HANDSHAKE_FAILURE);
    ferrule_config_free(ec);
    ferrule_config_free(sc);
    ferrule_config_free(strict);
}

TEST(sigalgs_cert_prefers_acceptable_chain) {
    /* Chain 0: an ECDSA leaf signed by an RSA CA (rsa_pkcs1_sha512);
     * chain 1: the same key under the ECDSA intermediate.  A client whose
     * signature_algorithms_cert lacks RSA gets chain 1 (RFC 8446 §4.4.2.2);
     * a default client chain 0. */
    ferrule_config *cc = client_with(NULL, 0, 1);
    ferrule_config *ec = client_with(ECDSA_ONLY, 1, 1);
    CHECK_EQ(ferrule_config_add_trust_file(cc, pair_pki("x-rsa.ca.pem")), FERRULE_OK);
    ferrule_config *sc = server_with("x-rsa.ca-leaf.pem:ecdsa-p256.key", "ecdsa-p256", NULL);
    result r;
    run(&r, cc, sc, "localhost");
    CHECK(r.ok);
    CHECK_EQ(r.index, 0);
    run(&r, ec, sc, "localhost");
    CHECK(r.ok);
    CHECK_EQ(r.index, 1);
    /* Only unacceptable chains: the server still sends one (RFC 8446
     * §4.4.2.2 "SHOULD continue the handshake"); the client decides. */
    ferrule_config *only = server_with("x-rsa.ca-leaf.pem:ecdsa-p256.key", NULL);
    run(&r, ec, only, "localhost");
    CHECK_EQ(r.index, 0);
    CHECK(!r.ok); /* this client does not trust the RSA CA */
    ferrule_config_free(cc);
    ferrule_config_free(ec);
    ferrule_config_free(sc);
    ferrule_config_free(only);
}

/* ---- certificate callback ---------------------------------------------------- */

typedef struct cert_cb_state {
    int ret;   /* what to return */
    int calls;
    char name[64];
    size_t n_sigs, n_sigs_cert, n_suites, n_alpn;
    int saw_ecdsa, saw_aes128;
    uint32_t fit[4];
    char alpn_at_call[32]; /* ferrule_conn_alpn during the call */
} cert_cb_state;

static int cert_cb(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *h) {
    cert_cb_state *s = ctx;
    s->calls++;
    const char *n = ferrule_client_hello_server_name(h);
    snprintf(s->name, sizeof(s->name), "%s", n ? n : "");
    const uint16_t *v = ferrule_client_hello_signature_schemes(h, &s->n_sigs);
    for (size_t i = 0; i < s->n_sigs; i++)
        if (v[i] == FERRULE_SIG_ECDSA_SECP256R1_SHA256) s->saw_ecdsa = 1;
    (void)ferrule_client_hello_signature_schemes_cert(h, &s->n_sigs_cert);
    v = ferrule_client_hello_cipher_suites(h, &s->n_suites);
    for (size_t i = 0; i < s->n_suites; i++)
        if (v[i] == FERRULE_TLS_AES_128_GCM_SHA256) s->saw_aes128 = 1;
    s->n_alpn = ferrule_client_hello_alpn_count(h);
    for (size_t i = 0; i < 4; i++) s->fit[i] = ferrule_client_hello_chain_fit(h, i);
    alpn_str(conn, s->alpn_at_call, sizeof(s->alpn_at_call));
    return s->ret;
}

TEST(cert_callback_chooses) {
    ferrule_config *cc = client_with(NULL, 0, 1);
    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    cert_cb_state s = {.ret = 1};
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &s), FERRULE_OK);
    CHECK(add_alpn(cc, "h2,http/1.1"));
    result r;
    run(&r, cc, sc, "a.test"); /* the callback overrides the name match */
    CHECK(r.ok);
    CHECK_EQ(s.calls, 1);
    CHECK_EQ(r.index, 1);
    CHECK(strcmp(r.leaf_cn, "b.test") == 0);
    /* What the callback saw. */
    CHECK(strcmp(s.name, "a.test") == 0);
    CHECK(s.n_sigs > 0 && s.saw_ecdsa);
    CHECK(s.n_sigs_cert >= s.n_sigs); /* our client adds rsa_pkcs1 for certificates */
    CHECK(s.n_suites >= 3 && s.saw_aes128);
    CHECK_EQ(s.n_alpn, 2);
    CHECK_EQ(s.fit[0], FERRULE_CHAIN_FIT_KEY | FERRULE_CHAIN_FIT_NAME | FERRULE_CHAIN_FIT_CERT_SIGS);
    CHECK_EQ(s.fit[1], FERRULE_CHAIN_FIT_KEY | FERRULE_CHAIN_FIT_CERT_SIGS);
    CHECK_EQ(s.fit[2], 0); /* out of range */
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(cert_callback_default) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    cert_cb_state s = {.ret = FERRULE_CERT_SELECT_DEFAULT};
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &s), FERRULE_OK);
    result r;
    run(&r, cc, sc, "b.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 1);
    CHECK_EQ(s.calls, 1);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(cert_callback_refuses) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", NULL);
    cert_cb_state s = {.ret = FERRULE_CERT_SELECT_UNRECOGNIZED_NAME};
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &s), FERRULE_OK);
    result r;
    run(&r, cc, sc, "a.test");
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_UNRECOGNIZED_NAME, FERRULE_ALERT_UNRECOGNIZED_NAME);
    s.ret = FERRULE_CERT_SELECT_REFUSE;
    run(&r, cc, sc, "a.test");
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_HANDSHAKE_REFUSED, FERRULE_ALERT_HANDSHAKE_FAILURE);
    CHECK_EQ(s.calls, 2);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(cert_callback_invalid_index) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    cert_cb_state s = {.ret = 2}; /* two chains: 0 and 1 */
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &s), FERRULE_OK);
    result r;
    run(&r, cc, sc, "a.test");
    CHECK_REFUSED(r, FERRULE_USAGE, FERRULE_R_CALLBACK_RESULT, FERRULE_ALERT_INTERNAL_ERROR);
    s.ret = -4; /* not a FERRULE_CERT_SELECT_* value */
    run(&r, cc, sc, "a.test");
    CHECK_REFUSED(r, FERRULE_USAGE, FERRULE_R_CALLBACK_RESULT, FERRULE_ALERT_INTERNAL_ERROR);
    s.ret = 1000000;
    run(&r, cc, sc, "a.test");
    CHECK_EQ(r.s_reason, FERRULE_R_CALLBACK_RESULT);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(cert_callback_unusable_chain) {
    /* The callback picks the RSA chain for an ECDSA-only client: a failed
     * negotiation (handshake_failure), not misuse. */
    ferrule_config *ec = client_with(ECDSA_ONLY, 1, 0);
    ferrule_config *sc = server_with("sni-a-rsa", "sni-a", NULL);
    cert_cb_state s = {.ret = 0};
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &s), FERRULE_OK);
    result r;
    run(&r, ec, sc, "a.test");
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_UNSUPPORTED_CERT, FERRULE_ALERT_HANDSHAKE_FAILURE);
    CHECK_EQ(s.fit[0], FERRULE_CHAIN_FIT_NAME | FERRULE_CHAIN_FIT_CERT_SIGS);
    CHECK_EQ(s.fit[1], FERRULE_CHAIN_FIT_KEY | FERRULE_CHAIN_FIT_NAME | FERRULE_CHAIN_FIT_CERT_SIGS);
    ferrule_config_free(ec);
    ferrule_config_free(sc);
}

TEST(cert_callback_once_after_hrr) {
    /* The client's first share is secp256r1, the server only takes x25519:
     * HelloRetryRequest.  Selection runs once, on the second ClientHello. */
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    static const uint16_t cg[2] = {FERRULE_GROUP_SECP256R1, FERRULE_GROUP_X25519};
    static const uint16_t sg[1] = {FERRULE_GROUP_X25519};
    CHECK_EQ(ferrule_config_set_groups(cc, cg, 2), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_groups(sc, sg, 1), FERRULE_OK);
    cert_cb_state s = {.ret = FERRULE_CERT_SELECT_DEFAULT};
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &s), FERRULE_OK);
    result r;
    run(&r, cc, sc, "b.test");
    CHECK(r.ok);
    CHECK_EQ(r.hrr, 1);
    CHECK_EQ(s.calls, 1);
    CHECK_EQ(r.index, 1);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- ALPN callback ------------------------------------------------------------ */

typedef struct alpn_cb_state {
    int ret;
    const char *pick; /* with FERRULE_ALPN_SELECTED; NULL = proto NULL */
    int calls;
    size_t count;
    char offered[4][16];
    int bad_index; /* ferrule_client_hello_alpn out of range */
} alpn_cb_state;

static int alpn_cb(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *h,
                   const uint8_t **proto, size_t *len) {
    (void)conn;
    alpn_cb_state *s = ctx;
    s->calls++;
    s->count = ferrule_client_hello_alpn_count(h);
    for (size_t i = 0; i < s->count && i < 4; i++) {
        const uint8_t *p = NULL;
        size_t n = 0;
        if (ferrule_client_hello_alpn(h, i, &p, &n) == FERRULE_OK && n < 16) {
            memcpy(s->offered[i], p, n);
            s->offered[i][n] = 0;
        }
    }
    const uint8_t *p = NULL;
    size_t n = 7;
    s->bad_index = ferrule_client_hello_alpn(h, s->count, &p, &n);
    if (p != NULL || n != 0) s->bad_index = -1;
    if (s->pick != NULL) {
        *proto = (const uint8_t *)s->pick;
        *len = strlen(s->pick);
    }
    return s->ret;
}

/* A client offering h2,http/1.1 and a server (chain sni-a, ALPN `ours`)
 * with the callback. */
static void alpn_run(result *r, alpn_cb_state *s, const char *ours) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", NULL);
    CHECK(cc != NULL && sc != NULL && add_alpn(cc, "h2,http/1.1"));
    if (ours != NULL) CHECK(add_alpn(sc, ours));
    CHECK_EQ(ferrule_config_set_alpn_select_callback(sc, alpn_cb, s), FERRULE_OK);
    run(r, cc, sc, "a.test");
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(alpn_callback_chooses) {
    alpn_cb_state s = {.ret = FERRULE_ALPN_SELECTED, .pick = "http/1.1"};
    result r;
    alpn_run(&r, &s, "h2"); /* the callback overrides our list */
    CHECK(r.ok);
    CHECK_EQ(s.calls, 1);
    CHECK_EQ(s.count, 2);
    CHECK(strcmp(s.offered[0], "h2") == 0 && strcmp(s.offered[1], "http/1.1") == 0);
    CHECK_EQ(s.bad_index, FERRULE_USAGE);
    CHECK(strcmp(r.alpn_s, "http/1.1") == 0);
    CHECK(strcmp(r.alpn_c, "http/1.1") == 0);
}

TEST(alpn_callback_not_offered) {
    /* RFC 7301 §3.2: only an offered protocol may be selected. */
    alpn_cb_state s = {.ret = FERRULE_ALPN_SELECTED, .pick = "spdy/3"};
    result r;
    alpn_run(&r, &s, NULL);
    CHECK_REFUSED(r, FERRULE_USAGE, FERRULE_R_ALPN_NOT_OFFERED, FERRULE_ALERT_INTERNAL_ERROR);
    /* A prefix of an offered name is not that name. */
    alpn_cb_state s2 = {.ret = FERRULE_ALPN_SELECTED, .pick = "http/1"};
    alpn_run(&r, &s2, NULL);
    CHECK_EQ(r.s_reason, FERRULE_R_ALPN_NOT_OFFERED);
    /* SELECTED without a protocol. */
    alpn_cb_state s3 = {.ret = FERRULE_ALPN_SELECTED, .pick = NULL};
    alpn_run(&r, &s3, NULL);
    CHECK_REFUSED(r, FERRULE_USAGE, FERRULE_R_ALPN_NOT_OFFERED, FERRULE_ALERT_INTERNAL_ERROR);
}

TEST(alpn_callback_no_overlap) {
    alpn_cb_state s = {.ret = FERRULE_ALPN_NO_OVERLAP};
    result r;
    alpn_run(&r, &s, NULL);
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_NO_ALPN, FERRULE_ALERT_NO_APPLICATION_PROTOCOL);
}

TEST(alpn_callback_none_and_default) {
    alpn_cb_state s = {.ret = FERRULE_ALPN_NONE};
    result r;
    alpn_run(&r, &s, "http/1.1");
    CHECK(r.ok);
    CHECK(r.alpn_s[0] == 0 && r.alpn_c[0] == 0);
    alpn_cb_state d = {.ret = FERRULE_ALPN_DEFAULT};
    alpn_run(&r, &d, "smtp,http/1.1,h2");
    CHECK(r.ok);
    CHECK(strcmp(r.alpn_s, "http/1.1") == 0); /* our order */
    CHECK(strcmp(r.alpn_c, "http/1.1") == 0);
    alpn_cb_state d2 = {.ret = FERRULE_ALPN_DEFAULT};
    alpn_run(&r, &d2, "smtp");
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_NO_ALPN, FERRULE_ALERT_NO_APPLICATION_PROTOCOL);
}

TEST(alpn_callback_bad_return) {
    alpn_cb_state s = {.ret = 42};
    result r;
    alpn_run(&r, &s, NULL);
    CHECK_REFUSED(r, FERRULE_USAGE, FERRULE_R_CALLBACK_RESULT, FERRULE_ALERT_INTERNAL_ERROR);
}

TEST(alpn_callback_not_called_without_extension) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", NULL);
    alpn_cb_state s = {.ret = FERRULE_ALPN_NO_OVERLAP};
    CHECK_EQ(ferrule_config_set_alpn_select_callback(sc, alpn_cb, &s), FERRULE_OK);
    result r;
    run(&r, cc, sc, "a.test");
    CHECK(r.ok);
    CHECK_EQ(s.calls, 0);
    CHECK(r.alpn_s[0] == 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(alpn_chosen_before_certificate) {
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", NULL);
    CHECK(add_alpn(cc, "h2,http/1.1"));
    alpn_cb_state a = {.ret = FERRULE_ALPN_SELECTED, .pick = "h2"};
    cert_cb_state c = {.ret = 0};
    CHECK_EQ(ferrule_config_set_alpn_select_callback(sc, alpn_cb, &a), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &c), FERRULE_OK);
    result r;
    run(&r, cc, sc, "a.test");
    CHECK(r.ok);
    CHECK(strcmp(c.alpn_at_call, "h2") == 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(default_alpn_server_preference) {
    /* No callback: today's behaviour, the server's order wins. */
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", NULL);
    CHECK(add_alpn(cc, "h2,http/1.1"));
    CHECK(add_alpn(sc, "http/1.1,h2"));
    result r;
    run(&r, cc, sc, "a.test");
    CHECK(r.ok);
    CHECK(strcmp(r.alpn_s, "http/1.1") == 0 && strcmp(r.alpn_c, "http/1.1") == 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- resumption stays consistent -------------------------------------------- */

TEST(resumption_keeps_alpn_and_sni) {
    /* The ticket records the ALPN and SNI of its connection; a resumption
     * whose selection differs is a full handshake (docs/resumption.md). */
    ferrule_config *cc = client_with(NULL, 0, 0);
    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    CHECK_EQ(ferrule_config_set_tickets(sc, 1), FERRULE_OK);
    CHECK(add_alpn(cc, "h2,http/1.1"));
    alpn_cb_state a = {.ret = FERRULE_ALPN_SELECTED, .pick = "h2"};
    CHECK_EQ(ferrule_config_set_alpn_select_callback(sc, alpn_cb, &a), FERRULE_OK);
    uint8_t sess[8192];
    size_t sess_len = 0;
    int got = 0;
    for (int round = 0; round < 3; round++) {
        pair p;
        if (!pair_new(&p, cc, sc, "b.test")) break;
        if (round > 0) CHECK_EQ(ferrule_conn_set_session(p.client, sess, sess_len), FERRULE_OK);
        if (round == 2) a.pick = "http/1.1"; /* the selection changes */
        int cs, ss;
        CHECK(pair_handshake(&p, &cs, &ss));
        if (round == 0) {
            uint8_t buf[16];
            size_t n = 0;
            CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"x", 1, &n), FERRULE_OK);
            pair_move(p.server, p.client);
            CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_OK);
            got = ferrule_conn_session(p.client, sess, sizeof(sess), &sess_len) == FERRULE_OK;
            CHECK(got);
            CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
        } else if (round == 1) {
            CHECK_EQ(ferrule_conn_resumed(p.server), 1);
            CHECK_EQ(ferrule_conn_cert_index(p.server), -1); /* no certificate sent */
        } else {
            CHECK_EQ(ferrule_conn_resumed(p.server), 0);
            CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
            char s[16];
            alpn_str(p.client, s, sizeof(s));
            CHECK(strcmp(s, "http/1.1") == 0);
        }
        pair_free(&p);
        if (!got) break;
    }
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- malformed ClientHello extensions (man in the middle) -------------------- */

typedef struct chx {
    mitm m;
    mflight *f;
    hello h;
} chx;

static void chx_free(chx *x) {
    if (x == NULL) return;
    mitm_free(&x->m);
    mf_free(x->f);
    free(x);
}

/* Capture the ClientHello of a client offering ALPN h2 to an sni-a server. */
static chx *chx_begin(void) {
    chx *x = calloc(1, sizeof(*x));
    if (x == NULL) return NULL;
    ferrule_config *cc = client_with(NULL, 0, 1);
    ferrule_config *sc = server_with("sni-a", NULL);
    x->f = mf_new();
    int ok = cc != NULL && sc != NULL && add_alpn(cc, "h2") && add_alpn(sc, "h2") &&
             mitm_init(&x->m, cc, sc) && x->f != NULL &&
             ferrule_conn_handshake(x->m.p.client) == FERRULE_WANT_READ &&
             mf_take(x->f, x->m.p.client) && x->f->n == 1 &&
             hello_parse(&x->h, x->f->r[0].data, x->f->r[0].len);
    if (!ok) {
        fprintf(stderr, "  could not capture the ClientHello\n");
        chx_free(x);
        return NULL;
    }
    return x;
}

/* Replace extension `type` with `body` and run the server on it. */
static void ch_expect(int line, const uint8_t *body, size_t len, uint16_t type, int status,
                      uint32_t reason, int alert) {
    chx *x = chx_begin();
    if (x == NULL) {
        tl_failures_in_test++;
        return;
    }
    hext *e = hello_find(&x->h, type);
    if (e == NULL) e = hello_add(&x->h, 1, type, body, len);
    if (e != NULL) {
        memcpy(e->body, body, len);
        e->len = len;
    }
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    x->f->r[0].len = n;
    int st = n > 0 && e != NULL && mf_send(x->f, x->m.p.server)
                 ? ferrule_conn_handshake(x->m.p.server)
                 : -1;
    if (st != status || ferrule_conn_reason(x->m.p.server) != reason ||
        ferrule_conn_alert(x->m.p.server) != alert) {
        fprintf(stderr, "  line %d: server got %s / %s / alert %d\n", line, ferrule_status_name(st),
                ferrule_reason_name(ferrule_conn_reason(x->m.p.server)),
                ferrule_conn_alert(x->m.p.server));
        tl_failures_in_test++;
    }
    chx_free(x);
}
/* A malformed extension body: BAD_EXTENSION, a decode_error alert (BoGo
 * ALPNServer-EmptyProtocolName-TLS-TLS13). */
#define CH_EXPECT_DECODE(body, type)                                                               \
    ch_expect(__LINE__, body, sizeof(body), type, FERRULE_DECODE, FERRULE_R_BAD_EXTENSION,        \
              FERRULE_ALERT_DECODE_ERROR)

TEST(malformed_alpn_from_client) {
    /* RFC 7301 §3.1: protocol_name_list<2..2^16-1> of ProtocolName<1..2^8-1>. */
    static const uint8_t empty_list[2] = {0, 0};
    static const uint8_t empty_name[6] = {0, 4, 2, 'h', '2', 0};
    static const uint8_t only_empty[3] = {0, 1, 0};
    static const uint8_t name_overruns[5] = {0, 3, 5, 'h', '2'};
    static const uint8_t list_overruns[5] = {0, 9, 2, 'h', '2'};
    static const uint8_t list_short[6] = {0, 3, 2, 'h', '2', 'x'}; /* trailing byte */
    static const uint8_t no_list[1] = {0};
    CH_EXPECT_DECODE(empty_list, FR_EXT_ALPN);
    CH_EXPECT_DECODE(empty_name, FR_EXT_ALPN);
    CH_EXPECT_DECODE(only_empty, FR_EXT_ALPN);
    CH_EXPECT_DECODE(name_overruns, FR_EXT_ALPN);
    CH_EXPECT_DECODE(list_overruns, FR_EXT_ALPN);
    CH_EXPECT_DECODE(list_short, FR_EXT_ALPN);
    CH_EXPECT_DECODE(no_list, FR_EXT_ALPN);
    /* Positive control: a well-formed list with an unknown name first. */
    static const uint8_t good2[9] = {0, 7, 3, 'x', 'y', 'z', 2, 'h', '2'};
    ch_expect(__LINE__, good2, sizeof(good2), FR_EXT_ALPN, FERRULE_WANT_READ, FERRULE_R_NONE, -1);
}

TEST(malformed_signature_algorithms_cert) {
    /* RFC 8446 §4.2.3: the same layout as signature_algorithms. */
    static const uint8_t empty[2] = {0, 0};
    static const uint8_t odd[5] = {0, 3, 4, 3, 8};
    static const uint8_t overrun[4] = {0, 4, 4, 3};
    static const uint8_t trailing[5] = {0, 2, 4, 3, 0};
    CH_EXPECT_DECODE(empty, FR_EXT_SIGNATURE_ALGORITHMS_CERT);
    CH_EXPECT_DECODE(odd, FR_EXT_SIGNATURE_ALGORITHMS_CERT);
    CH_EXPECT_DECODE(overrun, FR_EXT_SIGNATURE_ALGORITHMS_CERT);
    CH_EXPECT_DECODE(trailing, FR_EXT_SIGNATURE_ALGORITHMS_CERT);
}

/* ---- the client refuses an ALPN it did not offer ------------------------------ */

TEST(client_rejects_unoffered_alpn) {
    /* RFC 7301 §3.1 / our client: a protocol we did not offer is
     * illegal_parameter.  The server's EncryptedExtensions is replaced by
     * one selecting "zz" (the client offered h2). */
    chx *x = chx_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    ferrule_conn *cl = x->m.p.client, *sv = x->m.p.server;
    mflight *f = mf_new();
    int ok = f != NULL && mf_send(x->f, sv) && ferrule_conn_handshake(sv) == FERRULE_WANT_READ;
    f->suite = ferrule_conn_cipher_suite(sv);
    const uint8_t *shs = mitm_secret(&x->m, FERRULE_ROLE_SERVER, MK_SHS);
    ok = ok && shs != NULL && mf_take(f, sv) && f->n == 6 && mf_open(f, 2, 6, shs) == 4 &&
         f->r[2].data[0] == FR_HS_ENCRYPTED_EXTENSIONS;
    CHECK(ok);
    if (ok) {
        static const uint8_t ee[15] = {FR_HS_ENCRYPTED_EXTENSIONS, 0, 0, 11, 0, 9, 0, FR_EXT_ALPN,
                                       0, 5, 0, 3, 2, 'z', 'z'};
        memcpy(f->r[2].data, ee, sizeof(ee));
        f->r[2].len = sizeof(ee);
        int st = mf_deliver(f, cl);
        CHECK_EQ(st, FERRULE_ALERT_SENT);
        /* BoGo ALPNClient-RejectUnknown-TLS-TLS13. */
        CHECK_EQ(ferrule_conn_reason(cl), FERRULE_R_UNOFFERED_ALPN);
        CHECK_EQ(ferrule_conn_alert(cl), FERRULE_ALERT_ILLEGAL_PARAMETER);
    }
    mf_free(f);
    chx_free(x);
}

/* ---- ABI misuse ------------------------------------------------------------------ */

TEST(abi_misuse) {
    CHECK_EQ(ferrule_config_set_sni_policy(NULL, FERRULE_SNI_STRICT), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_cert_select_callback(NULL, cert_cb, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_alpn_select_callback(NULL, alpn_cb, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_chain_count(NULL), 0);
    CHECK_EQ(ferrule_conn_cert_index(NULL), -1);
    CHECK(ferrule_client_hello_server_name(NULL) == NULL);
    size_t n = 9;
    CHECK(ferrule_client_hello_signature_schemes(NULL, &n) == NULL && n == 0);
    n = 9;
    CHECK(ferrule_client_hello_signature_schemes_cert(NULL, &n) == NULL && n == 0);
    n = 9;
    CHECK(ferrule_client_hello_cipher_suites(NULL, &n) == NULL && n == 0);
    CHECK(ferrule_client_hello_cipher_suites(NULL, NULL) == NULL);
    CHECK_EQ(ferrule_client_hello_alpn_count(NULL), 0);
    const uint8_t *p = (const uint8_t *)"x";
    CHECK_EQ(ferrule_client_hello_alpn(NULL, 0, &p, &n), FERRULE_USAGE);
    CHECK(p == NULL && n == 0);
    CHECK_EQ(ferrule_client_hello_chain_fit(NULL, 0), 0);

    ferrule_config *sc = server_with("sni-a", "sni-b", NULL);
    CHECK_EQ(ferrule_config_chain_count(sc), 2);
    CHECK_EQ(ferrule_config_set_sni_policy(sc, 2), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_sni_policy(sc, FERRULE_SNI_FALLBACK), FERRULE_OK);
    /* NULL removes a callback. */
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, NULL, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_alpn_select_callback(sc, NULL, NULL), FERRULE_OK);
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, sc, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_conn_cert_index(c), -1); /* nothing selected yet */
    /* Frozen once a connection uses it. */
    CHECK_EQ(ferrule_config_set_sni_policy(sc, FERRULE_SNI_STRICT), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_FROZEN);
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_alpn_select_callback(sc, alpn_cb, NULL), FERRULE_USAGE);
    ferrule_conn_free(c);
    ferrule_config_free(sc);
    /* Reason names and classes. */
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_UNRECOGNIZED_NAME), "unrecognized_name") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_CALLBACK_RESULT), "callback_result") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_ALPN_NOT_OFFERED), "alpn_not_offered") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_HANDSHAKE_REFUSED), "handshake_refused") == 0);
}

TEST(sixteen_chains) {
    /* Up to 16 chains per config; the 17th is refused. */
    ferrule_config *sc = server_with("sni-a", NULL);
    int st = FERRULE_OK;
    for (int i = 1; i < 16 && st == FERRULE_OK; i++)
        st = ferrule_config_add_cert_chain_file(sc, pair_pki(i == 15 ? "sni-b.chain.pem"
                                                                      : "sni-a.chain.pem"),
                                                pair_pki(i == 15 ? "sni-b.key" : "sni-a.key"));
    CHECK_EQ(st, FERRULE_OK);
    CHECK_EQ(ferrule_config_chain_count(sc), 16);
    CHECK_EQ(ferrule_config_add_cert_chain_file(sc, pair_pki("sni-a.chain.pem"),
                                                pair_pki("sni-a.key")),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    ferrule_config *cc = client_with(NULL, 0, 0);
    result r;
    run(&r, cc, sc, "b.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 15);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

static size_t read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n;
}

TEST(chain_with_unreadable_intermediate) {
    /* A chain whose second certificate does not parse still loads (it is
     * sent as configured), but never counts as acceptably signed: the
     * clean chain for the same name wins. */
    static char leaf[8192], key[8192], pem[16384];
    size_t nl = read_file(pair_pki("sni-a.chain.pem"), leaf, sizeof(leaf));
    size_t nk = read_file(pair_pki("sni-a.key"), key, sizeof(key));
    CHECK(nl > 0 && nk > 0);
    char *end = strstr(leaf, "-----END CERTIFICATE-----\n"); /* keep the leaf only */
    CHECK(end != NULL);
    if (end != NULL) end[26] = 0;
    int n = snprintf(pem, sizeof(pem),
                     "%s-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n", leaf);
    CHECK(n > 0 && (size_t)n < sizeof(pem));
    ferrule_config *sc = server_with("sni-b", NULL);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(sc, (const uint8_t *)pem, (size_t)n,
                                               (const uint8_t *)key, nk),
             FERRULE_OK);
    CHECK_EQ(ferrule_config_add_cert_chain_file(sc, pair_pki("sni-a.chain.pem"),
                                                pair_pki("sni-a.key")),
             FERRULE_OK);
    cert_cb_state s = {.ret = FERRULE_CERT_SELECT_DEFAULT};
    CHECK_EQ(ferrule_config_set_cert_select_callback(sc, cert_cb, &s), FERRULE_OK);
    ferrule_config *cc = client_with(NULL, 0, 0);
    result r;
    run(&r, cc, sc, "a.test");
    CHECK(r.ok);
    CHECK_EQ(r.index, 2);
    CHECK_EQ(s.fit[1], FERRULE_CHAIN_FIT_KEY | FERRULE_CHAIN_FIT_NAME);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- signature schemes a key cannot carry (RFC 8446 §4.2.3) ----------------- */

TEST(schemes_the_key_cannot_carry_are_skipped) {
    /* RFC 8017 §9.1.1: RSASSA-PSS with SHA-512 and a 64-byte salt needs a
     * 130-byte modulus; an RSA-1024 key (128 bytes) cannot sign it.  The
     * server skips that scheme; with nothing else left it refuses cleanly
     * (handshake_failure), never internal_error. */
    char cert[4096], key[4096];
    REQUIRE(pair_self_signed("RSA", 1024, 2, cert, sizeof(cert), key, sizeof(key)));
    ferrule_config *sc = NULL;
    REQUIRE(ferrule_config_new(&sc, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK);
    CHECK_EQ(ferrule_config_set_tickets(sc, 0), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(sc, (const uint8_t *)cert, strlen(cert),
                                               (const uint8_t *)key, strlen(key)),
             FERRULE_OK);
    const uint16_t only512[1] = {FERRULE_SIG_RSA_PSS_RSAE_SHA512};
    const uint16_t with256[2] = {FERRULE_SIG_RSA_PSS_RSAE_SHA512, FERRULE_SIG_RSA_PSS_RSAE_SHA256};
    ferrule_config *c1 = client_with(only512, 1, 1), *c2 = client_with(with256, 2, 1);
    REQUIRE(c1 != NULL && c2 != NULL);
    CHECK_EQ(ferrule_config_dangerous_no_verification(c2), FERRULE_OK);
    /* The client's own policy refuses RSA keys below 2048 bits in
     * CertificateVerify (sig.c): only the server's side is under test. */
    result r;
    run(&r, c1, sc, NULL);
    CHECK_REFUSED(r, FERRULE_POLICY, FERRULE_R_UNSUPPORTED_CERT, FERRULE_ALERT_HANDSHAKE_FAILURE);
    /* With SHA-256 offered too, the server signs with it (the client, not
     * verifying the chain, still refuses the small key's CertificateVerify:
     * illegal_parameter). */
    pair p;
    REQUIRE(pair_new(&p, c2, sc, NULL));
    int cs, ss;
    CHECK(!pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_signature_scheme(p.server), FERRULE_SIG_RSA_PSS_RSAE_SHA256);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_PEER_ALERT);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_ILLEGAL_PARAMETER);
    pair_free(&p);
    ferrule_config_free(c1);
    ferrule_config_free(c2);
    ferrule_config_free(sc);
}

TEST(scheme_list_without_a_handshake_scheme_is_refused) {
    /* Only rsa_pkcs1_*: signature_algorithms would be empty (malformed,
     * RFC 8446 §4.2.3).  The config refuses it; a list with one scheme
     * that can sign CertificateVerify is fine. */
    ferrule_config *cfg = pair_client_config();
    REQUIRE(cfg != NULL);
    const uint16_t pkcs1[3] = {FERRULE_SIG_RSA_PKCS1_SHA256, FERRULE_SIG_RSA_PKCS1_SHA384,
                               FERRULE_SIG_RSA_PKCS1_SHA512};
    CHECK_EQ(ferrule_config_set_signature_schemes(cfg, pkcs1, 3), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_signature_schemes(cfg, pkcs1, 1), FERRULE_USAGE);
    const uint16_t mixed[2] = {FERRULE_SIG_RSA_PKCS1_SHA256, FERRULE_SIG_ECDSA_SECP256R1_SHA256};
    CHECK_EQ(ferrule_config_set_signature_schemes(cfg, mixed, 2), FERRULE_OK);
    /* The other rules still hold. */
    CHECK_EQ(ferrule_config_set_signature_schemes(cfg, mixed, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_signature_schemes(cfg, NULL, 2), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NULL_ARGUMENT);
    /* The ClientHello of the mixed list: signature_algorithms holds the
     * ECDSA scheme alone, signature_algorithms_cert both. */
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    REQUIRE(sc != NULL);
    mitm m;
    mflight *f = mf_new();
    hello *h = calloc(1, sizeof(*h));
    REQUIRE(f != NULL && h != NULL && mitm_init(&m, cfg, sc));
    CHECK_EQ(ferrule_conn_handshake(m.p.client), FERRULE_WANT_READ);
    REQUIRE(mf_take(f, m.p.client) && f->n == 1 && hello_parse(h, f->r[0].data, f->r[0].len));
    hext *sa = hello_find(h, FR_EXT_SIGNATURE_ALGORITHMS);
    hext *sac = hello_find(h, FR_EXT_SIGNATURE_ALGORITHMS_CERT);
    REQUIRE(sa != NULL && sac != NULL);
    static const uint8_t want_sa[4] = {0, 2, 0x04, 0x03}, want_sac[6] = {0, 4, 4, 1, 4, 3};
    CHECK(sa->len == 4 && memcmp(sa->body, want_sa, 4) == 0);
    CHECK(sac->len == 6 && memcmp(sac->body, want_sac, 6) == 0);
    mitm_free(&m);
    mf_free(f);
    free(h);
}

TEST_MAIN("server_select", TL_CASE(schemes_the_key_cannot_carry_are_skipped), TL_CASE(scheme_list_without_a_handshake_scheme_is_refused), TL_CASE(sni_picks_chain_a_or_b), TL_CASE(sni_wildcard),
          TL_CASE(no_sni_uses_first_chain), TL_CASE(unknown_sni_falls_back_in_order),
          TL_CASE(strict_sni_refuses_unknown_name), TL_CASE(sigalgs_exclude_chain),
          TL_CASE(name_match_without_usable_key), TL_CASE(sigalgs_cert_prefers_acceptable_chain),
          TL_CASE(cert_callback_chooses), TL_CASE(cert_callback_default),
          TL_CASE(cert_callback_refuses), TL_CASE(cert_callback_invalid_index),
          TL_CASE(cert_callback_unusable_chain), TL_CASE(cert_callback_once_after_hrr),
          TL_CASE(alpn_callback_chooses), TL_CASE(alpn_callback_not_offered),
          TL_CASE(alpn_callback_no_overlap), TL_CASE(alpn_callback_none_and_default),
          TL_CASE(alpn_callback_bad_return), TL_CASE(alpn_callback_not_called_without_extension),
          TL_CASE(alpn_chosen_before_certificate), TL_CASE(default_alpn_server_preference),
          TL_CASE(resumption_keeps_alpn_and_sni), TL_CASE(malformed_alpn_from_client),
          TL_CASE(malformed_signature_algorithms_cert), TL_CASE(client_rejects_unoffered_alpn),
          TL_CASE(abi_misuse), TL_CASE(sixteen_chains),
          TL_CASE(chain_with_unreadable_intermediate))
