/* test_engine_config.c - the configuration and lifecycle section of
 * core/engine.h, called directly: what each fr_cfg_* setter accepts and
 * refuses (boundaries on both sides), reference counting and accounting of
 * configs and connections, the two-step connection creation and when the
 * config freezes, and the connection getters before and after a handshake
 * (they must agree with the public functions that wrap them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ferrule.h"
#include "support_pair.h"
#include "testlib.h"
#include "../../abi/src/abi.h" /* fr_abi_conn_host: what ferrule_conn_new adds */

/* ---- a counting allocator -------------------------------------------------- */

typedef struct counter {
    long live;      /* bytes allocated and not freed */
    long fail_from; /* allocations numbered >= this fail (0: never) */
    long n;         /* allocations made */
} counter;

static void *count_alloc(void *ctx, size_t size) {
    counter *k = ctx;
    k->n++;
    if (k->fail_from != 0 && k->n >= k->fail_from) return NULL;
    void *p = malloc(size);
    if (p != NULL) k->live += (long)size;
    return p;
}

static void count_free(void *ctx, void *p, size_t size) {
    counter *k = ctx;
    k->live -= (long)size;
    free(p);
}

/* ---- configs --------------------------------------------------------------- */

TEST(cfg_new_and_release_account_every_byte) {
    counter k = {0, 0, 0};
    fr_allocator a = {count_alloc, count_free, &k};
    fr_config *cfg = NULL;
    REQUIRE(fr_cfg_new(&cfg, FERRULE_ROLE_CLIENT, &a) == FR_OK);
    REQUIRE(cfg != NULL);
    CHECK(k.live > 0);
    CHECK_EQ(fr_cfg_frozen(cfg), 0);
    CHECK_EQ(fr_cfg_reason(cfg), FR_OK);
    CHECK_EQ(fr_cfg_trust_count(cfg), 0);
    /* Two more references: only the last release frees. */
    fr_cfg_ref(cfg);
    fr_cfg_ref(cfg);
    fr_cfg_release(cfg);
    fr_cfg_release(cfg);
    CHECK(k.live > 0);
    fr_cfg_release(cfg);
    CHECK_EQ(k.live, 0);
}

TEST(cfg_new_out_of_memory_leaves_nothing) {
    counter k = {0, 1, 0};
    fr_allocator a = {count_alloc, count_free, &k};
    fr_config *cfg = (fr_config *)&k; /* must be reset */
    CHECK_EQ(fr_cfg_new(&cfg, FERRULE_ROLE_SERVER, &a), FERRULE_R_OUT_OF_MEMORY);
    CHECK(cfg == NULL);
    CHECK_EQ(k.live, 0);
    /* The public call reports it as an internal failure, as before. */
    ferrule_allocator pa = {sizeof(pa), count_alloc, count_free, &k};
    ferrule_config *pcfg = NULL;
    k.n = 0;
    CHECK_EQ(ferrule_config_new(&pcfg, FERRULE_ROLE_SERVER, &pa), FERRULE_INTERNAL);
    CHECK(pcfg == NULL);
    CHECK_EQ(k.live, 0);
}

TEST(cfg_freeze_and_reason) {
    fr_config *cfg = NULL;
    REQUIRE(fr_cfg_new(&cfg, FERRULE_ROLE_CLIENT, NULL) == FR_OK);
    fr_cfg_set_reason(cfg, FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(fr_cfg_reason(cfg), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    fr_cfg_freeze(cfg);
    fr_cfg_freeze(cfg); /* idempotent */
    CHECK_EQ(fr_cfg_frozen(cfg), 1);
    /* The engine's setters do not look at freezing; the ABI does. */
    CHECK_EQ(ferrule_config_set_tickets(cfg, 1), FERRULE_USAGE);
    CHECK_EQ(fr_cfg_reason(cfg), FERRULE_R_CONFIG_FROZEN);
    fr_cfg_release(cfg);
}

/* One setter call and the result it must give. */
typedef struct setter_case {
    const char *name;
    fr_err (*call)(fr_config *cfg);
    fr_err want;
} setter_case;

static const uint16_t SUITES_DUP[] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                      FERRULE_TLS_AES_128_GCM_SHA256};
static const uint16_t SUITES_UNKNOWN[] = {0x00ff};
static const uint16_t SUITES_OK[] = {FERRULE_TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t NINE[9] = {0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0x1306, 0x1307, 0x1308,
                                 0x1309};
static const uint16_t GROUPS_OK[] = {FERRULE_GROUP_SECP384R1, FERRULE_GROUP_X25519};
static const uint16_t GROUPS_UNKNOWN[] = {0x0100};
static const uint16_t SIGS_PKCS1_ONLY[] = {FERRULE_SIG_RSA_PKCS1_SHA256};
static const uint16_t SIGS_OK[] = {FERRULE_SIG_RSA_PKCS1_SHA256, FERRULE_SIG_ED25519};
static const uint8_t P255[255] = {'h'};
static const uint8_t KEY32[32] = {1};

static const uint16_t SEVENTEEN[17] = {FERRULE_SIG_ED25519};
#define S(name, expr)                                                                              \
    static fr_err name(fr_config *cfg) { return (expr); }
S(suites_empty, fr_cfg_set_cipher_suites(cfg, SUITES_OK, 0))
S(suites_nine, fr_cfg_set_cipher_suites(cfg, NINE, 9))
S(suites_dup, fr_cfg_set_cipher_suites(cfg, SUITES_DUP, 2))
S(suites_unknown, fr_cfg_set_cipher_suites(cfg, SUITES_UNKNOWN, 1))
S(suites_ok, fr_cfg_set_cipher_suites(cfg, SUITES_OK, 1))
S(groups_unknown, fr_cfg_set_groups(cfg, GROUPS_UNKNOWN, 1))
S(groups_ok, fr_cfg_set_groups(cfg, GROUPS_OK, 2))
S(sigs_pkcs1_only, fr_cfg_set_signature_schemes(cfg, SIGS_PKCS1_ONLY, 1))
S(sigs_seventeen, fr_cfg_set_signature_schemes(cfg, SEVENTEEN, 17))
S(sigs_ok, fr_cfg_set_signature_schemes(cfg, SIGS_OK, 2))
S(alpn_empty, fr_cfg_add_alpn(cfg, P255, 0))
S(alpn_256, fr_cfg_add_alpn(cfg, P255, 256))
S(alpn_255, fr_cfg_add_alpn(cfg, P255, 255))
S(mem_below_min, fr_cfg_set_memory_limit(cfg, 64 * 1024 - 1))
S(mem_min, fr_cfg_set_memory_limit(cfg, 64 * 1024))
S(hs_1023, fr_cfg_set_max_handshake_message(cfg, 1023))
S(hs_1024, fr_cfg_set_max_handshake_message(cfg, 1024))
S(hs_2_24, fr_cfg_set_max_handshake_message(cfg, 1u << 24))
S(hs_2_24_less_1, fr_cfg_set_max_handshake_message(cfg, (1u << 24) - 1))
S(certs_0, fr_cfg_set_max_peer_certificates(cfg, 0))
S(certs_1, fr_cfg_set_max_peer_certificates(cfg, 1))
S(certs_257, fr_cfg_set_max_peer_certificates(cfg, 257))
S(purpose_0, fr_cfg_set_verify_purpose(cfg, 0))
S(purpose_client, fr_cfg_set_verify_purpose(cfg, FERRULE_PURPOSE_CLIENT_AUTH))
S(depth_0, fr_cfg_set_max_chain_depth(cfg, 0))
S(depth_32, fr_cfg_set_max_chain_depth(cfg, 32))
S(depth_33, fr_cfg_set_max_chain_depth(cfg, 33))
S(cn_2, fr_cfg_set_verify_cn_in_san(cfg, 2))
S(cn_1, fr_cfg_set_verify_cn_in_san(cfg, 1))
S(ocsp_bad, fr_cfg_set_ocsp_policy(cfg, 7))
S(ocsp_require, fr_cfg_set_ocsp_policy(cfg, FERRULE_OCSP_REQUIRE))
S(staple_no_chain, fr_cfg_set_ocsp_staple(cfg, 0, KEY32, 32))
S(cookie_31, fr_cfg_set_cookie_key(cfg, KEY32, 31))
S(cookie_32, fr_cfg_set_cookie_key(cfg, KEY32, 32))
S(cauth_bad_mode, fr_cfg_set_client_auth(cfg, 9))
S(cauth_require, fr_cfg_set_client_auth(cfg, FERRULE_CLIENT_AUTH_REQUIRE))
S(ku_0, fr_cfg_set_key_update_interval(cfg, 0))
S(ku_1, fr_cfg_set_key_update_interval(cfg, 1))
S(ku_2_24, fr_cfg_set_key_update_interval(cfg, (uint64_t)1 << 24))
S(ku_2_24_plus_1, fr_cfg_set_key_update_interval(cfg, ((uint64_t)1 << 24) + 1))
S(rsl_63, fr_cfg_set_record_size_limit(cfg, 63))
S(rsl_64, fr_cfg_set_record_size_limit(cfg, 64))
S(rsl_16385, fr_cfg_set_record_size_limit(cfg, 16385))
S(rsl_16386, fr_cfg_set_record_size_limit(cfg, 16386))
S(tickets_16, fr_cfg_set_tickets(cfg, 16))
S(tickets_17, fr_cfg_set_tickets(cfg, 17))
S(modes_0, fr_cfg_set_psk_modes(cfg, 0))
S(modes_4, fr_cfg_set_psk_modes(cfg, 4))
S(modes_both, fr_cfg_set_psk_modes(cfg, FERRULE_PSK_KE | FERRULE_PSK_DHE_KE))
S(resume_refuse, fr_cfg_set_resumption(cfg, FERRULE_RESUME_REFUSE, 0))
S(resume_accept_3, fr_cfg_set_resumption(cfg, FERRULE_RESUME_REFUSE + 1, 0))
S(resume_identity_bad, fr_cfg_set_resumption(cfg, 0, FERRULE_RESUME_IDENTITY_KEEP + 1))
#undef S

#define BAD FERRULE_R_CONFIG_INVALID
/* Setters valid for either role. */
static const setter_case ANY_ROLE[] = {
    {"suites_empty", suites_empty, BAD},       {"suites_nine", suites_nine, BAD},
    {"suites_dup", suites_dup, BAD},           {"suites_unknown", suites_unknown, BAD},
    {"suites_ok", suites_ok, FR_OK},           {"groups_unknown", groups_unknown, BAD},
    {"groups_ok", groups_ok, FR_OK},           {"sigs_pkcs1_only", sigs_pkcs1_only, BAD},
    {"sigs_seventeen", sigs_seventeen, BAD},   {"sigs_ok", sigs_ok, FR_OK},
    {"alpn_empty", alpn_empty, BAD},           {"alpn_256", alpn_256, BAD},
    {"alpn_255", alpn_255, FR_OK},             {"mem_below_min", mem_below_min, BAD},
    {"mem_min", mem_min, FR_OK},               {"hs_1023", hs_1023, BAD},
    {"hs_1024", hs_1024, FR_OK},               {"hs_2_24", hs_2_24, BAD},
    {"hs_2_24_less_1", hs_2_24_less_1, FR_OK}, {"certs_0", certs_0, BAD},
    {"certs_1", certs_1, FR_OK},               {"certs_257", certs_257, BAD},
    {"purpose_0", purpose_0, BAD},             {"purpose_client", purpose_client, FR_OK},
    {"depth_0", depth_0, BAD},                 {"depth_32", depth_32, FR_OK},
    {"depth_33", depth_33, BAD},               {"cn_2", cn_2, BAD},
    {"cn_1", cn_1, FR_OK},                     {"ocsp_bad", ocsp_bad, BAD},
    {"ocsp_require", ocsp_require, FR_OK},     {"staple_no_chain", staple_no_chain, BAD},
    {"cookie_31", cookie_31, BAD},             {"cookie_32", cookie_32, FR_OK},
    {"ku_0", ku_0, BAD},                       {"ku_1", ku_1, FR_OK},
    {"ku_2_24", ku_2_24, FR_OK},               {"ku_2_24_plus_1", ku_2_24_plus_1, BAD},
    {"rsl_63", rsl_63, BAD},                   {"rsl_64", rsl_64, FR_OK},
    {"rsl_16385", rsl_16385, FR_OK},           {"rsl_16386", rsl_16386, BAD},
    {"tickets_16", tickets_16, FR_OK},         {"tickets_17", tickets_17, BAD},
    {"modes_0", modes_0, BAD},                 {"modes_4", modes_4, BAD},
    {"modes_both", modes_both, FR_OK},
};
/* Server policies: refused on a client config, checked on a server's. */
static const setter_case SERVER_ONLY[] = {
    {"cauth_bad_mode", cauth_bad_mode, BAD},
    {"cauth_require", cauth_require, FR_OK},
    {"resume_refuse", resume_refuse, FR_OK},
    {"resume_accept_3", resume_accept_3, BAD},
    {"resume_identity_bad", resume_identity_bad, BAD},
};
#undef BAD

static void run_cases(uint32_t role, const setter_case *cases, size_t n, int client_refuses) {
    for (size_t i = 0; i < n; i++) {
        fr_config *cfg = NULL;
        if (fr_cfg_new(&cfg, role, NULL) != FR_OK) {
            fprintf(stderr, "  %s: fr_cfg_new failed\n", cases[i].name);
            tl_failures_in_test++;
            return;
        }
        fr_err want = client_refuses ? FERRULE_R_CONFIG_INVALID : cases[i].want;
        fr_err got = cases[i].call(cfg);
        if (got != want) {
            fprintf(stderr, "  %s (role %u): got %u, want %u\n", cases[i].name, role, got, want);
            tl_failures_in_test++;
        }
        fr_cfg_release(cfg);
    }
}

TEST(setters_accept_and_refuse_at_the_boundaries) {
    size_t n_any = sizeof(ANY_ROLE) / sizeof(ANY_ROLE[0]);
    size_t n_srv = sizeof(SERVER_ONLY) / sizeof(SERVER_ONLY[0]);
    run_cases(FERRULE_ROLE_CLIENT, ANY_ROLE, n_any, 0);
    run_cases(FERRULE_ROLE_SERVER, ANY_ROLE, n_any, 0);
    run_cases(FERRULE_ROLE_SERVER, SERVER_ONLY, n_srv, 0);
    run_cases(FERRULE_ROLE_CLIENT, SERVER_ONLY, n_srv, 1);
}

TEST(alpn_wire_capacity) {
    fr_config *cfg = NULL;
    REQUIRE(fr_cfg_new(&cfg, FERRULE_ROLE_CLIENT, NULL) == FR_OK);
    /* 1024 bytes of wire: four 255-byte names take 1024 exactly. */
    for (int i = 0; i < 4; i++) CHECK_EQ(fr_cfg_add_alpn(cfg, P255, 255), FR_OK);
    CHECK_EQ(fr_cfg_add_alpn(cfg, P255, 1), FERRULE_R_CONFIG_INVALID);
    fr_cfg_release(cfg);
}

TEST(trust_and_chain_through_the_engine) {
    ferrule_config *srv = pair_server_config("ecdsa-p256");
    REQUIRE(srv != NULL);
    /* A staple for the loaded chain: index 0 exists now, 1 does not. */
    CHECK_EQ(fr_cfg_set_ocsp_staple(srv, 0, KEY32, 32), FR_OK);
    CHECK_EQ(fr_cfg_set_ocsp_staple(srv, 1, KEY32, 32), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_chain_count(srv), 1);
    /* Not PEM: refused, and the chain count does not move. */
    CHECK_EQ(fr_cfg_add_cert_chain_pem(srv, (const uint8_t *)"x", 1, (const uint8_t *)"y", 1),
             FERRULE_R_CONFIG_PEM);
    CHECK_EQ(ferrule_config_chain_count(srv), 1);
    ferrule_config_free(srv);

    fr_config *cli = NULL;
    REQUIRE(fr_cfg_new(&cli, FERRULE_ROLE_CLIENT, NULL) == FR_OK);
    CHECK(fr_cfg_add_trust_der(cli, KEY32, 32) != FR_OK);
    CHECK_EQ(fr_cfg_trust_count(cli), 0);
    fr_cfg_release(cli);
}

/* ---- connections ------------------------------------------------------------ */

TEST(conn_check_new_refusals) {
    fr_config *srv = NULL, *cli = NULL;
    REQUIRE(fr_cfg_new(&srv, FERRULE_ROLE_SERVER, NULL) == FR_OK);
    REQUIRE(fr_cfg_new(&cli, FERRULE_ROLE_CLIENT, NULL) == FR_OK);
    CHECK_EQ(fr_conn_check_new(srv, NULL, 0), FERRULE_R_CONFIG_INVALID); /* no certificate */
    CHECK_EQ(fr_conn_check_new(cli, NULL, 0), FR_OK);
    CHECK_EQ(fr_conn_check_new(cli, "x", 64 * 1024 - 1), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(fr_conn_check_new(cli, "x", 64 * 1024), FR_OK);
    fr_cfg_release(srv);
    fr_cfg_release(cli);

    ferrule_config *s2 = pair_server_config("ecdsa-p256");
    REQUIRE(s2 != NULL);
    CHECK_EQ(fr_conn_check_new(s2, NULL, 0), FR_OK);
    CHECK_EQ(fr_conn_check_new(s2, "localhost", 0), FERRULE_R_CONFIG_INVALID);
    ferrule_config_free(s2);
}

TEST(conn_two_step_creation_accounts_like_conn_new) {
    counter k = {0, 0, 0};
    fr_allocator a = {count_alloc, count_free, &k};
    fr_config *cfg = NULL;
    REQUIRE(fr_cfg_new(&cfg, FERRULE_ROLE_CLIENT, &a) == FR_OK);
    long cfg_bytes = k.live;
    fr_conn *c = fr_conn_alloc(cfg, 0);
    REQUIRE(c != NULL);
    /* The engine never freezes on its own: that is the host's call. */
    CHECK_EQ(fr_cfg_frozen(cfg), 0);
    REQUIRE(fr_conn_start(c, "example.com") == FR_OK);
    size_t used = fr_conn_memory_used(c);
    CHECK_EQ((long)used, k.live - cfg_bytes);
    CHECK(fr_conn_server_name(c) != NULL && strcmp(fr_conn_server_name(c), "example.com") == 0);
    /* The connection holds a reference: the config outlives our release. */
    fr_cfg_release(cfg);
    CHECK(k.live > 0);
    fr_conn_free(c);
    CHECK_EQ(k.live, 0);

    /* The public path counts the same bytes. */
    ferrule_allocator pa = {sizeof(pa), count_alloc, count_free, &k};
    ferrule_config *pcfg = NULL;
    REQUIRE(ferrule_config_new(&pcfg, FERRULE_ROLE_CLIENT, &pa) == FERRULE_OK);
    ferrule_conn_options o = {sizeof(o), 0, "example.com", 0};
    ferrule_conn *pc = NULL;
    REQUIRE(ferrule_conn_new(&pc, pcfg, &o) == FERRULE_OK);
    /* ... plus the ABI's block of locks and I/O callbacks beside it. */
    CHECK_EQ(ferrule_conn_memory_used(pc), used + sizeof(fr_abi_conn_host));
    ferrule_conn_free(pc);
    ferrule_config_free(pcfg);
    CHECK_EQ(k.live, 0);
}

TEST(conn_start_failure_is_freed_cleanly) {
    counter k = {0, 0, 0};
    fr_allocator a = {count_alloc, count_free, &k};
    fr_config *cfg = NULL;
    REQUIRE(fr_cfg_new(&cfg, FERRULE_ROLE_CLIENT, &a) == FR_OK);
    char name[300];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    fr_conn *c = fr_conn_alloc(cfg, 0);
    REQUIRE(c != NULL);
    CHECK_EQ(fr_conn_start(c, name), FERRULE_R_CONFIG_INVALID);
    fr_conn_free(c);
    fr_cfg_release(cfg);
    CHECK_EQ(k.live, 0);
    /* An allocator that fails the connection struct: nothing to free. */
    REQUIRE(fr_cfg_new(&cfg, FERRULE_ROLE_CLIENT, &a) == FR_OK);
    k.fail_from = k.n + 1;
    CHECK(fr_conn_alloc(cfg, 0) == NULL);
    k.fail_from = 0;
    fr_cfg_release(cfg);
    CHECK_EQ(k.live, 0);
}

/* When ferrule_conn_new freezes the config: once the connection struct
 * exists, even if starting it then fails; never for a refusal before. */
TEST(conn_new_freezes_once_the_connection_exists) {
    ferrule_config *srv = NULL;
    REQUIRE(ferrule_config_new(&srv, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK);
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, srv, NULL), FERRULE_USAGE); /* no certificate yet */
    CHECK_EQ(ferrule_config_reason(srv), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(fr_cfg_frozen(srv), 0);
    CHECK_EQ(ferrule_config_set_tickets(srv, 2), FERRULE_OK);
    ferrule_config_free(srv);

    ferrule_config *cli = NULL;
    REQUIRE(ferrule_config_new(&cli, FERRULE_ROLE_CLIENT, NULL) == FERRULE_OK);
    char name[300];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    ferrule_conn_options o = {sizeof(o), 0, name, 0};
    CHECK_EQ(ferrule_conn_new(&c, cli, &o), FERRULE_USAGE);
    CHECK(c == NULL);
    CHECK_EQ(ferrule_config_reason(cli), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(fr_cfg_frozen(cli), 1);
    ferrule_config_free(cli);
}

TEST(getters_before_the_handshake) {
    ferrule_config *cli = pair_client_config();
    REQUIRE(cli != NULL);
    ferrule_conn_options o = {sizeof(o), 0, "localhost", 0};
    ferrule_conn *c = NULL;
    REQUIRE(ferrule_conn_new(&c, cli, &o) == FERRULE_OK);
    CHECK_EQ(fr_conn_status(c), FERRULE_OK);
    CHECK_EQ(fr_conn_reason(c), FR_OK);
    CHECK_EQ(fr_conn_alert(c), -1);
    CHECK_EQ(fr_conn_role(c), FERRULE_ROLE_CLIENT);
    CHECK_EQ(fr_conn_handshake_state(c), FERRULE_HS_START);
    CHECK_EQ(fr_conn_version(c), 0);
    CHECK_EQ(fr_conn_cipher_suite(c), 0);
    const uint8_t *p = (const uint8_t *)"x";
    size_t n = 7;
    fr_conn_alpn(c, &p, &n);
    CHECK(p == NULL);
    CHECK_EQ(n, 0);
    CHECK_EQ(fr_conn_peer_cert_count(c), 0);
    CHECK_EQ(fr_conn_peer_cert(c, 0, &p, &n), 0);
    CHECK_EQ(fr_conn_resumed(c) | fr_conn_hrr(c) | fr_conn_ocsp_stapled(c), 0);
    CHECK_EQ(fr_conn_peer_record_size_limit(c), 0);
    uint8_t out[16] = {0};
    CHECK_EQ(fr_conn_export_keying_material(c, "l", 1, NULL, 0, out, sizeof(out)),
             FERRULE_R_WRONG_STATE);
    /* A misuse is reported while the connection is fine, not sticky. */
    fr_conn_set_usage_reason(c, FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(ferrule_conn_status(c), FERRULE_OK);
    /* Sessions: none to take yet; garbage is not a session. */
    size_t len = 0;
    CHECK_EQ(fr_conn_session(c, out, sizeof(out), &len), FERRULE_R_WRONG_STATE);
    CHECK_EQ(fr_conn_set_session(c, out, 3), FERRULE_R_DECODE_ERROR);
    ferrule_conn_free(c);
    ferrule_config_free(cli);
}

TEST(getters_after_the_handshake_match_the_abi) {
    ferrule_config *cli = pair_client_config(), *srv = pair_server_config("ecdsa-p256");
    REQUIRE(cli != NULL && srv != NULL);
    REQUIRE(ferrule_config_add_alpn(cli, (const uint8_t *)"h2", 2) == FERRULE_OK);
    REQUIRE(ferrule_config_add_alpn(srv, (const uint8_t *)"h2", 2) == FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cli, srv, NULL));
    int cs = 0, ss = 0;
    REQUIRE(pair_handshake(&p, &cs, &ss));
    fr_conn *ends[2] = {p.client, p.server};
    for (int i = 0; i < 2; i++) {
        fr_conn *c = ends[i];
        CHECK_EQ(fr_conn_version(c), 0x0304);
        CHECK_EQ(fr_conn_version(c), ferrule_conn_version(c));
        CHECK_EQ(fr_conn_cipher_suite(c), ferrule_conn_cipher_suite(c));
        CHECK(fr_conn_cipher_suite(c) != 0);
        CHECK_EQ(fr_conn_group(c), ferrule_conn_group(c));
        CHECK_EQ(fr_conn_handshake_state(c), FERRULE_HS_CONNECTED);
        const uint8_t *proto;
        size_t len;
        fr_conn_alpn(c, &proto, &len);
        CHECK(len == 2 && memcmp(proto, "h2", 2) == 0);
    }
    CHECK_EQ(fr_conn_signature_scheme(p.server), fr_conn_peer_signature_scheme(p.client));
    CHECK(fr_conn_signature_scheme(p.server) != 0);
    CHECK_EQ(fr_conn_peer_cert_count(p.client), ferrule_conn_peer_cert_count(p.client));
    REQUIRE(fr_conn_peer_cert_count(p.client) > 0);
    const uint8_t *der = NULL, *der2 = NULL;
    size_t dlen = 0, dlen2 = 0;
    CHECK_EQ(fr_conn_peer_cert(p.client, 0, &der, &dlen), 1);
    CHECK_EQ(ferrule_conn_peer_cert(p.client, 0, &der2, &dlen2), FERRULE_OK);
    CHECK(der != NULL && der == der2 && dlen == dlen2);
    CHECK_EQ(fr_conn_peer_cert_count(p.server), 0);
    /* Both ends export the same keying material. */
    uint8_t a[32], b[32];
    CHECK_EQ(fr_conn_export_keying_material(p.client, "EXPERIMENTAL x", 14, NULL, 0, a, 32), FR_OK);
    CHECK_EQ(fr_conn_export_keying_material(p.server, "EXPERIMENTAL x", 14, NULL, 0, b, 32), FR_OK);
    CHECK_MEM(a, b, 32);
    /* Too late to offer a session now. */
    CHECK_EQ(fr_conn_set_session(p.client, a, 32), FERRULE_R_WRONG_STATE);
    CHECK_EQ(fr_conn_set_session(p.server, a, 32), FERRULE_R_WRONG_STATE);
    pair_free(&p);
    ferrule_config_free(cli);
    ferrule_config_free(srv);
}

/* ---- ferrule_conn_get_alert: the alert without the -1 sentinel ------------- */

TEST(get_alert_none) {
    uint8_t alert = 77;
    uint32_t received = 77;
    CHECK_EQ(ferrule_conn_get_alert(NULL, &alert, &received), 0);
    ferrule_config *cli = pair_client_config();
    REQUIRE(cli != NULL);
    ferrule_conn *c = NULL;
    REQUIRE(ferrule_conn_new(&c, cli, NULL) == FERRULE_OK);
    CHECK_EQ(ferrule_conn_get_alert(c, &alert, &received), 0);
    CHECK_EQ(ferrule_conn_get_alert(c, NULL, NULL), 0);
    CHECK_EQ(alert, 77); /* untouched */
    CHECK_EQ(received, 77);
    ferrule_conn_free(c);
    ferrule_config_free(cli);
}

/* A client that trusts nothing refuses the server's chain: the client's
 * alert is ours, the server's the peer's, and both agree with
 * ferrule_conn_alert and the status. */
TEST(get_alert_sent_and_received) {
    ferrule_config *cli = NULL, *srv = pair_server_config("ecdsa-p256");
    REQUIRE(srv != NULL);
    REQUIRE(ferrule_config_new(&cli, FERRULE_ROLE_CLIENT, NULL) == FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cli, srv, NULL));
    int cs = 0, ss = 0;
    CHECK_EQ(pair_handshake(&p, &cs, &ss), 0);
    uint8_t ca = 0, sa = 0;
    uint32_t crec = 9, srec = 9;
    CHECK_EQ(ferrule_conn_get_alert(p.client, &ca, &crec), 1);
    CHECK_EQ(ferrule_conn_get_alert(p.server, &sa, &srec), 1);
    CHECK_EQ(crec, 0);
    CHECK_EQ(srec, 1);
    CHECK_EQ(ca, ferrule_conn_alert(p.client));
    CHECK_EQ(sa, ferrule_conn_alert(p.server));
    CHECK_EQ(ca, sa);
    CHECK(ca != 0);
    CHECK(ferrule_conn_status(p.client) != FERRULE_OK &&
          ferrule_conn_status(p.client) != FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_status(p.server), FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_get_alert(p.server, NULL, NULL), 1);
    pair_free(&p);
    ferrule_config_free(cli);
    ferrule_config_free(srv);
}

TEST_MAIN("test_engine_config", TL_CASE(cfg_new_and_release_account_every_byte),
          TL_CASE(cfg_new_out_of_memory_leaves_nothing), TL_CASE(cfg_freeze_and_reason),
          TL_CASE(setters_accept_and_refuse_at_the_boundaries), TL_CASE(alpn_wire_capacity),
          TL_CASE(trust_and_chain_through_the_engine), TL_CASE(conn_check_new_refusals),
          TL_CASE(conn_two_step_creation_accounts_like_conn_new),
          TL_CASE(conn_start_failure_is_freed_cleanly),
          TL_CASE(conn_new_freezes_once_the_connection_exists),
          TL_CASE(getters_before_the_handshake), TL_CASE(getters_after_the_handshake_match_the_abi),
          TL_CASE(get_alert_none), TL_CASE(get_alert_sent_and_received))
