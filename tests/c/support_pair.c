#include "support_pair.h"
#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes taken from a sender that the receiver could not accept yet (per
 * thread: tests may run pairs on several threads at once). */
static _Thread_local struct carry {
    ferrule_conn *to;
    uint8_t buf[65536];
    size_t len;
} CARRY[4];


const char *pair_pki_dir(void) {
    static char dir[512];
    if (dir[0] != '\0') return dir;
    const char *env = getenv("FERRULE_TEST_PKI");
    if (env != NULL) {
        snprintf(dir, sizeof(dir), "%s", env);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/ferrule-test-pki");
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "../../tools/gen-pki.sh %s >/dev/null", dir);
        if (system(cmd) != 0) fprintf(stderr, "gen-pki.sh failed\n");
    }
    return dir;
}

const char *pair_pki(const char *file) {
    static char bufs[8][600];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 600, "%s/%s", pair_pki_dir(), file);
    return b;
}

uint16_t pair_default_group(void) {
    return fr_kex_mlkem_available() ? FERRULE_GROUP_X25519MLKEM768 : FERRULE_GROUP_X25519;
}

ferrule_config *pair_client_config(void) {
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL) != FERRULE_OK) return NULL;
    if (ferrule_config_add_trust_file(cfg, pair_pki("root.pem")) != FERRULE_OK) {
        fprintf(stderr, "cannot load %s\n", pair_pki("root.pem"));
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

ferrule_config *pair_server_config(const char *kind) {
    ferrule_config *cfg = NULL;
    char chain[64], key[64];
    snprintf(chain, sizeof(chain), "%s.chain.pem", kind);
    snprintf(key, sizeof(key), "%s.key", kind);
    if (ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK) return NULL;
    if (ferrule_config_add_cert_chain_file(cfg, pair_pki(chain), pair_pki(key)) != FERRULE_OK) {
        fprintf(stderr, "cannot load %s: %s\n", chain,
                ferrule_reason_message(ferrule_config_reason(cfg)));
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* A server config whose chain is ecdsa-p256's followed by eight unrelated
 * CA certificates (sent, and ignored by path building): a large chain. */
ferrule_config *pair_big_chain_server_config(void) {
    static const char *const files[] = {"ecdsa-p256.chain.pem", "x-rsa.ca.pem", "x-rsa-pss.ca.pem",
                                        "x-ecdsa-p384.ca.pem", "x-ed25519.ca.pem",
                                        "x-ecdsa-p256.ca.pem", "x-mid1.pem", "x-mid2.pem",
                                        "other-root.pem"};
    char path[] = "/tmp/ferrule-big-chain-XXXXXX";
    int fd = mkstemp(path);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) return NULL;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        FILE *in = fopen(pair_pki(files[i]), "r");
        char buf[4096];
        size_t n;
        while (in != NULL && (n = fread(buf, 1, sizeof(buf), in)) > 0) fwrite(buf, 1, n, out);
        if (in != NULL) fclose(in);
    }
    fclose(out);
    ferrule_config *sc = NULL;
    if (ferrule_config_new(&sc, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK ||
        ferrule_config_add_cert_chain_file(sc, path, pair_pki("ecdsa-p256.key")) != FERRULE_OK) {
        ferrule_config_free(sc);
        sc = NULL;
    }
    unlink(path);
    return sc;
}

int pair_new(pair *p, ferrule_config *ccfg, ferrule_config *scfg, const char *name) {
    memset(p, 0, sizeof(*p));
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = name != NULL ? name : "localhost";
    if (ferrule_conn_new(&p->client, ccfg, &o) != FERRULE_OK) return 0;
    if (ferrule_conn_new(&p->server, scfg, NULL) != FERRULE_OK) return 0;
    return 1;
}

void pair_free(pair *p) {
    for (size_t i = 0; i < 4; i++)
        if (CARRY[i].to == p->client || CARRY[i].to == p->server) memset(&CARRY[i], 0, sizeof(CARRY[i]));
    ferrule_conn_free(p->client);
    ferrule_conn_free(p->server);
    memset(p, 0, sizeof(*p));
}

static struct carry *carry_for(ferrule_conn *to) {
    for (size_t i = 0; i < 4; i++)
        if (CARRY[i].to == to) return &CARRY[i];
    for (size_t i = 0; i < 4; i++)
        if (CARRY[i].len == 0) {
            CARRY[i].to = to;
            return &CARRY[i];
        }
    return NULL;
}

static int carry_flush(struct carry *k, ferrule_conn *to) {
    while (k->len > 0) {
        size_t n = 0;
        if (ferrule_conn_feed(to, k->buf, k->len, &n) != FERRULE_OK || n == 0) return 0;
        memmove(k->buf, k->buf + n, k->len - n);
        k->len -= n;
    }
    return 1;
}

size_t pair_move(ferrule_conn *from, ferrule_conn *to) {
    struct carry *k = carry_for(to);
    size_t total = 0;
    if (k == NULL || !carry_flush(k, to)) return 0;
    while (ferrule_conn_pending_output(from) > 0 && k->len == 0) {
        size_t n = 0;
        if (ferrule_conn_take(from, k->buf, sizeof(k->buf), &n) != FERRULE_OK || n == 0) break;
        k->len = n;
        total += n;
        if (!carry_flush(k, to)) break;
    }
    return total;
}

int pair_handshake(pair *p, int *cs, int *ss) {
    int c = FERRULE_WANT_READ, s = FERRULE_WANT_READ;
    for (int round = 0; round < 16; round++) {
        c = ferrule_conn_handshake(p->client);
        pair_move(p->client, p->server);
        s = ferrule_conn_handshake(p->server);
        pair_move(p->server, p->client);
        if ((c != FERRULE_WANT_READ && c != FERRULE_OK) || (s != FERRULE_WANT_READ && s != FERRULE_OK))
            break;
        if (c == FERRULE_OK && s == FERRULE_OK) break;
    }
    /* Let the side that failed second see the alert. */
    if (c != FERRULE_OK && c != FERRULE_WANT_READ) {
        pair_move(p->client, p->server);
        s = ferrule_conn_handshake(p->server);
    } else if (s != FERRULE_OK && s != FERRULE_WANT_READ) {
        c = ferrule_conn_handshake(p->client);
    }
    if (cs) *cs = c;
    if (ss) *ss = s;
    return c == FERRULE_OK && s == FERRULE_OK;
}

int pair_self_signed(const char *alg, int bits, long version, char *cert, size_t cert_cap,
                     char *key, size_t key_cap) {
    EVP_PKEY *k = strcmp(alg, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits)
                                          : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    int ok = k != NULL && x != NULL && cb != NULL && kb != NULL;
    if (ok) {
        X509_NAME *n = X509_get_subject_name(x);
        ok = X509_set_version(x, version) && ASN1_INTEGER_set(X509_get_serialNumber(x), 7) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 86400) && X509_set_pubkey(x, k) &&
             X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                        -1, -1, 0) &&
             X509_set_issuer_name(x, n) && X509_sign(x, k, EVP_sha256()) > 0 &&
             PEM_write_bio_X509(cb, x) && PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL);
    }
    if (ok) {
        int cn = BIO_read(cb, cert, (int)cert_cap - 1), kn = BIO_read(kb, key, (int)key_cap - 1);
        ok = cn > 0 && kn > 0;
        if (ok) {
            cert[cn] = 0;
            key[kn] = 0;
        }
    }
    BIO_free(cb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(k);
    return ok;
}

size_t pair_session(ferrule_config *ccfg, ferrule_config *scfg, uint8_t *out, size_t cap) {
    pair p;
    size_t len = 0;
    if (!pair_new(&p, ccfg, scfg, NULL)) return 0;
    int cs, ss;
    if (pair_handshake(&p, &cs, &ss)) {
        uint8_t buf[16];
        size_t n;
        pair_move(p.server, p.client);
        /* WANT_READ: only tickets arrived */
        if (ferrule_conn_read(p.client, buf, sizeof(buf), &n) != FERRULE_WANT_READ ||
            ferrule_conn_session(p.client, out, cap, &len) != FERRULE_OK)
            len = 0;
    }
    pair_free(&p);
    return len;
}
