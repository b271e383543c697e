/*
 * fuzz_diff_hello.c - differential target: the accept/reject verdict of a
 * ferrule server and of a libssl server on the same ClientHello.
 *
 * Input: the ClientHello body (no handshake header), the layout of
 * fuzz_client_hello, whose corpus seeds this one.
 *
 * ferrule: the fuzz_server configuration (fuzz_common.h: the embedded
 * ECDSA P-256 leaf, ALPN h2 and http/1.1, 0-RTT on) handed the message
 * through fr_dispatch (fuzz_hs.h).  Accept = FR_OK (ServerHello flight or
 * HelloRetryRequest queued, or paused for the 0-RTT replay decision).
 *
 * OpenSSL: an SSL_CTX limited to TLS 1.3 with the same certificate and
 * key, the same cipher suites and groups as ferrule (X25519, P-256, P-384),
 * an ALPN callback that picks h2 then http/1.1 and refuses no overlap
 * (no_application_protocol, as ferrule does, RFC 7301 §3.2), fed the
 * message in handshake records through memory BIOs.  Accept = its first
 * output record is a handshake record holding a ServerHello (or HRR);
 * reject = an alert or nothing.
 *
 * A differing verdict must fall in a named allowed class (below; each a
 * documented rule, triaged in docs/fuzzing.md "Differential fuzzing");
 * anything else aborts.  Both rejecting is agreement (the alerts are
 * counted by class with FUZZ_DIFF_STATS=1 but not compared: the two
 * libraries order their checks differently).
 */
#include "fuzz_hs.h"
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

/* An unexplained disagreement: report it and abort (the crash libFuzzer
 * and the replay driver see). */
#define DIFF_FAIL(msg)                                                      \
    do {                                                                    \
        fprintf(stderr, "%s:%d: differential failure: %s\n", __FILE__, __LINE__, msg); \
        abort();                                                            \
    } while (0)


/* ---- the libssl server -------------------------------------------------- */

static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg) {
    (void)s;
    (void)arg;
    static const unsigned char ours[] = "\x02h2\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *ossl_ctx(void) {
    static SSL_CTX *ctx;
    if (ctx != NULL) return ctx;
    ctx = SSL_CTX_new(TLS_server_method());
    FUZZ_CHECK(ctx != NULL);
    FUZZ_CHECK(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1);
    FUZZ_CHECK(SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1);
    FUZZ_CHECK(SSL_CTX_set_ciphersuites(
                   ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") == 1);
    FUZZ_CHECK(SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") == 1);
    BIO *b = BIO_new_mem_buf(FUZZ_LEAF_CHAIN_PEM, (int)sizeof(FUZZ_LEAF_CHAIN_PEM) - 1);
    X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    X509 *root = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    FUZZ_CHECK(leaf != NULL && root != NULL);
    FUZZ_CHECK(SSL_CTX_use_certificate(ctx, leaf) == 1);
    FUZZ_CHECK(SSL_CTX_add0_chain_cert(ctx, root) == 1);
    X509_free(leaf);
    b = BIO_new_mem_buf(FUZZ_LEAF_KEY_PEM, (int)sizeof(FUZZ_LEAF_KEY_PEM) - 1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    FUZZ_CHECK(k != NULL && SSL_CTX_use_PrivateKey(ctx, k) == 1);
    EVP_PKEY_free(k);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
    /* No session cache or tickets to resume from: an offered PSK is
     * unknown to both servers. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

/* 1 accept, 0 reject; *alert = the alert description or -1. */
static int ossl_verdict(const uint8_t *body, size_t n, int *alert) {
    *alert = -1;
    SSL *s = SSL_new(ossl_ctx());
    FUZZ_CHECK(s != NULL);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    FUZZ_CHECK(rb != NULL && wb != NULL);
    SSL_set_bio(s, rb, wb);
    SSL_set_accept_state(s);
    /* handshake header + body, cut into records of at most 2^14 octets */
    size_t total = n + 4;
    uint8_t *msg = malloc(total);
    FUZZ_CHECK(msg != NULL);
    msg[0] = 1;
    msg[1] = (uint8_t)(n >> 16);
    msg[2] = (uint8_t)(n >> 8);
    msg[3] = (uint8_t)n;
    if (n > 0) memcpy(msg + 4, body, n);
    for (size_t off = 0; off < total;) {
        size_t k = total - off > 16384 ? 16384 : total - off;
        uint8_t hdr[5] = {22, 3, 1, (uint8_t)(k >> 8), (uint8_t)k};
        FUZZ_CHECK(BIO_write(rb, hdr, 5) == 5);
        FUZZ_CHECK(BIO_write(rb, msg + off, (int)k) == (int)k);
        off += k;
    }
    free(msg);
    (void)SSL_do_handshake(s);
    ERR_clear_error();
    uint8_t out[8];
    int got = BIO_read(wb, out, sizeof(out));
    int accept = 0;
    if (got >= 6 && out[0] == 22 && out[5] == 2) accept = 1;
    else if (got >= 7 && out[0] == 21) *alert = out[6];
    SSL_free(s);
    return accept;
}

/* ---- the allowed classes -------------------------------------------------- */

/* The harness reads the ClientHello itself (never through ferrule) to
 * decide a class; ferrule's reason must also be the documented one. */
enum {
    HD_NONE,
    /* ferrule refuses, OpenSSL accepts: */
    HD_SNI_SYNTAX,      /* ferrule: a host_name is 1..255 printable ASCII octets, at most one
                           (RFC 6066 §3; docs/server-callbacks.md); OpenSSL refuses only NUL */
    HD_OSSL_PSK,        /* a malformed pre_shared_key (identities or binders, RFC 8446
                           §4.2.11): ferrule decode_error, OpenSSL (no PSK known to it)
                           goes on with a full handshake */
    HD_OSSL_DUPLICATE,  /* an extension type twice (RFC 8446 §4.2: MUST NOT); OpenSSL
                           notices duplicates only of the types it implements */
    HD_OSSL_SHARE_GROUPS,/* a KeyShareEntry for a group not in supported_groups (RFC 8446
                           §4.2.8: MUST correspond; ferrule illegal_parameter) */
    HD_DUP_SHARE,       /* two KeyShareEntry values for one group: ferrule checks (RFC 8446
                           §4.2.8 "MAY"), OpenSSL does not */
    HD_OSSL_NO_RSL,     /* a malformed record_size_limit (RFC 8449 §4): OpenSSL 3.0 does not
                           implement the extension */
    /* OpenSSL refuses, ferrule accepts: */
    HD_HRR_BEFORE_ALPN, /* ferrule answers HelloRetryRequest before it chooses ALPN (decided
                           on the second ClientHello); OpenSSL no_application_protocol now */
    HD_SIGALGS_CERT,    /* signature_algorithms_cert without ecdsa_secp256r1_sha256 (our
                           chain's): ferrule sends the chain anyway (RFC 8446 §4.4.2.2
                           SHOULD), OpenSSL handshake_failure */
    HD_SNI_OTHER_TYPE,  /* a server_name entry of a type other than host_name: ferrule skips
                           it, OpenSSL decode_error */
    HD_OSSL_UNKNOWN_EXT,/* OpenSSL refuses an extension ferrule does not implement (TLS 1.2
                           ones, use_srtp...; RFC 8446 §4.1.2: ignored) */
    HD_N
};
static const char *const hd_names[HD_N] = {"none", "sni-syntax", "openssl-psk-unread",
                                           "openssl-duplicate-unknown", "openssl-share-not-in-groups",
                                           "duplicate-key-share", "openssl-no-record-size-limit",
                                           "hrr-before-alpn", "sigalgs-cert-fallback",
                                           "sni-other-type", "openssl-parses-unknown-ext"};
static unsigned long hd_count[HD_N], agree_accept, agree_reject;
static void hd_report(void) {
    fprintf(stderr, "fuzz_diff_hello: both accept %lu, both reject %lu\n", agree_accept, agree_reject);
    for (int i = 1; i < HD_N; i++)
        if (hd_count[i] != 0) fprintf(stderr, "fuzz_diff_hello: %s %lu\n", hd_names[i], hd_count[i]);
}

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;
static int rd_take(rd *r, size_t k, rd *out) {
    if (r->n < k) return 0;
    if (out != NULL) {
        out->p = r->p;
        out->n = k;
    }
    r->p += k;
    r->n -= k;
    return 1;
}
static int rd_vec(rd *r, int lenbytes, rd *out) {
    if (r->n < (size_t)lenbytes) return 0;
    size_t k = 0;
    for (int i = 0; i < lenbytes; i++) k = k << 8 | r->p[i];
    r->p += lenbytes;
    r->n -= (size_t)lenbytes;
    return rd_take(r, k, out);
}

/* Find extension `type` in a ClientHello body: 1 found, 0 absent, -1 the
 * hello does not parse this far. */
static int ch_ext(const uint8_t *data, size_t size, uint16_t type, rd *body) {
    rd r = {data, size}, exts, e;
    if (!rd_take(&r, 34, NULL) || !rd_vec(&r, 1, NULL) || !rd_vec(&r, 2, NULL) ||
        !rd_vec(&r, 1, NULL) || !rd_vec(&r, 2, &exts))
        return -1;
    while (exts.n > 0) {
        if (exts.n < 2) return -1;
        uint16_t t = (uint16_t)(exts.p[0] << 8 | exts.p[1]);
        exts.p += 2;
        exts.n -= 2;
        if (!rd_vec(&exts, 2, &e)) return -1;
        if (t == type) {
            *body = e;
            return 1;
        }
    }
    return 0;
}

static int sni_breaks_rule(rd b) {
    rd list, name;
    if (!rd_vec(&b, 2, &list)) return 0;
    int seen = 0;
    while (list.n > 0) {
        uint8_t t = list.p[0];
        rd_take(&list, 1, NULL);
        if (!rd_vec(&list, 2, &name)) return 0;
        if (t != 0) continue;
        if (seen++) return 1;
        if (name.n < 1 || name.n > 255) return 1;
        for (size_t i = 0; i < name.n; i++)
            if (name.p[i] <= 0x20 || name.p[i] >= 0x7f) return 1;
    }
    return 0;
}

/* PreSharedKeyExtension { PskIdentity identities<7..2^16-1>; PskBinderEntry
 * binders<33..2^16-1> } with PskIdentity { opaque identity<1..2^16-1>;
 * uint32 obfuscated_ticket_age } and PskBinderEntry opaque<32..255>: as
 * many binders as identities (RFC 8446 §4.2.11).  1 = malformed. */
static int psk_malformed(rd b) {
    rd ids, id, binders, one;
    if (!rd_vec(&b, 2, &ids) || ids.n < 7) return 1;
    size_t n_ids = 0;
    while (ids.n > 0) {
        if (!rd_vec(&ids, 2, &id) || id.n < 1 || !rd_take(&ids, 4, NULL)) return 1;
        n_ids++;
    }
    if (!rd_vec(&b, 2, &binders) || b.n != 0 || binders.n < 33) return 1;
    size_t n_binders = 0;
    while (binders.n > 0) {
        if (!rd_vec(&binders, 1, &one) || one.n < 32) return 1;
        n_binders++;
    }
    return n_binders != n_ids;
}

/* Does an extension type occur twice? */
static int ch_duplicate(const uint8_t *data, size_t size) {
    rd r = {data, size}, exts, e;
    if (!rd_take(&r, 34, NULL) || !rd_vec(&r, 1, NULL) || !rd_vec(&r, 2, NULL) ||
        !rd_vec(&r, 1, NULL) || !rd_vec(&r, 2, &exts))
        return 0;
    uint16_t seen[512];
    size_t n = 0;
    while (exts.n >= 2) {
        uint16_t t = (uint16_t)(exts.p[0] << 8 | exts.p[1]);
        exts.p += 2;
        exts.n -= 2;
        if (!rd_vec(&exts, 2, &e)) return 0;
        for (size_t i = 0; i < n; i++)
            if (seen[i] == t) return 1;
        if (n < 512) seen[n++] = t;
    }
    return 0;
}

/* A server_name entry whose NameType is not host_name(0). */
static int sni_other_type(rd b) {
    rd list;
    if (!rd_vec(&b, 2, &list)) return 0;
    while (list.n > 0) {
        uint8_t t = list.p[0];
        rd_take(&list, 1, NULL);
        if (!rd_vec(&list, 2, NULL)) return 0;
        if (t != 0) return 1;
    }
    return 0;
}

/* Does a 16-bit list (u16 length, then u16 values) hold v? */
static int list16_has(rd b, uint16_t v) {
    rd l;
    if (!rd_vec(&b, 2, &l)) return 0;
    for (size_t i = 0; i + 1 < l.n; i += 2)
        if ((uint16_t)(l.p[i] << 8 | l.p[i + 1]) == v) return 1;
    return 0;
}

/* A KeyShareEntry whose group supported_groups does not list. */
static int share_outside_groups(const uint8_t *data, size_t size) {
    rd ks, groups, list, kx;
    if (ch_ext(data, size, 51, &ks) != 1 || ch_ext(data, size, 10, &groups) != 1) return 0;
    if (!rd_vec(&ks, 2, &list)) return 0;
    while (list.n >= 4) {
        uint16_t g = (uint16_t)(list.p[0] << 8 | list.p[1]);
        rd_take(&list, 2, NULL);
        if (!rd_vec(&list, 2, &kx)) return 0;
        if (!list16_has(groups, g)) return 1;
    }
    return 0;
}

/* The extension types ferrule's ClientHello parser implements
 * (core/hs/extensions.c KNOWN_TYPES). */
static int ferrule_knows(uint16_t t) {
    static const uint16_t known[] = {0, 5, 10, 13, 16, 21, 28, 41, 42, 43, 44, 45, 47, 48, 49, 50, 51};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i] == t) return 1;
    return 0;
}

static int classify_depth(const uint8_t *data, size_t size, fr_err e, int theirs, int alert,
                          int depth);

/* Is OpenSSL's refusal explained once one extension ferrule does not
 * implement is taken out (it then accepts, or refuses for another
 * explained reason)?  ferrule's verdict stays "accept" without it: it
 * ignores the extension. */
static int ossl_accepts_without_unknown(const uint8_t *data, size_t size, int depth) {
    rd r = {data, size}, exts;
    if (!rd_take(&r, 34, NULL) || !rd_vec(&r, 1, NULL) || !rd_vec(&r, 2, NULL) ||
        !rd_vec(&r, 1, NULL) || !rd_vec(&r, 2, &exts))
        return 0;
    size_t ext_len_off = (size_t)(exts.p - data) - 2;
    int found = 0;
    uint8_t *copy = malloc(size);
    FUZZ_CHECK(copy != NULL);
    for (rd it = exts; it.n >= 4 && !found;) {
        const uint8_t *start = it.p;
        uint16_t t = (uint16_t)(it.p[0] << 8 | it.p[1]);
        it.p += 2;
        it.n -= 2;
        if (!rd_vec(&it, 2, NULL)) break;
        if (ferrule_knows(t)) continue;
        size_t cut = (size_t)(it.p - start), off = (size_t)(start - data);
        memcpy(copy, data, off);
        memcpy(copy + off, it.p, size - off - cut);
        size_t el = exts.n - cut;
        copy[ext_len_off] = (uint8_t)(el >> 8);
        copy[ext_len_off + 1] = (uint8_t)el;
        int alert;
        int ok = ossl_verdict(copy, size - cut, &alert);
        found = ok || (depth < 2 && classify_depth(copy, size - cut, FR_OK, 0, alert, depth + 1) != HD_NONE);
    }
    free(copy);
    return found;
}

/* Set by the run: ferrule's answer was a HelloRetryRequest. */
static int ferrule_sent_hrr;

/* A key_share with two entries for one group (RFC 8446 §4.2.8: servers
 * MAY refuse). */
static int share_duplicate(const uint8_t *data, size_t size) {
    rd ks, list, kx;
    if (ch_ext(data, size, 51, &ks) != 1 || !rd_vec(&ks, 2, &list)) return 0;
    uint16_t seen[256];
    size_t n = 0;
    while (list.n >= 4) {
        uint16_t g = (uint16_t)(list.p[0] << 8 | list.p[1]);
        rd_take(&list, 2, NULL);
        if (!rd_vec(&list, 2, &kx)) return 0;
        for (size_t i = 0; i < n; i++)
            if (seen[i] == g) return 1;
        if (n < 256) seen[n++] = g;
    }
    return 0;
}

/* record_size_limit (RFC 8449 §4): a uint16 of at least 64. */
static int rsl_malformed(const uint8_t *data, size_t size) {
    rd b;
    if (ch_ext(data, size, 28, &b) != 1) return 0;
    return b.n != 2 || (b.p[0] << 8 | b.p[1]) < 64;
}

static int classify(const uint8_t *data, size_t size, fr_err e, int theirs, int alert) {
    return classify_depth(data, size, e, theirs, alert, 0);
}

static int classify_depth(const uint8_t *data, size_t size, fr_err e, int theirs, int alert,
                          int depth) {
    rd b;
    if (theirs) {
        if ((e == FERRULE_R_ILLEGAL_PARAMETER || e == FERRULE_R_DECODE_ERROR) &&
            ch_ext(data, size, 0 /* server_name */, &b) == 1 && sni_breaks_rule(b))
            return HD_SNI_SYNTAX;
        if ((e == FERRULE_R_DECODE_ERROR || e == FERRULE_R_ILLEGAL_PARAMETER ||
             e == FERRULE_R_BAD_EXTENSION) &&
            ch_ext(data, size, 41 /* pre_shared_key */, &b) == 1 && psk_malformed(b))
            return HD_OSSL_PSK;
        if (e == FERRULE_R_DUPLICATE_EXTENSION && ch_duplicate(data, size)) return HD_OSSL_DUPLICATE;
        if (e == FERRULE_R_ILLEGAL_PARAMETER && share_outside_groups(data, size))
            return HD_OSSL_SHARE_GROUPS;
        if (e == FERRULE_R_DUPLICATE_KEY_SHARE && share_duplicate(data, size)) return HD_DUP_SHARE;
        if ((e == FERRULE_R_BAD_EXTENSION || e == FERRULE_R_ILLEGAL_PARAMETER) &&
            rsl_malformed(data, size))
            return HD_OSSL_NO_RSL;
        return HD_NONE;
    }
    if (e != FR_OK) return HD_NONE;
    if (alert == 120 && ferrule_sent_hrr) return HD_HRR_BEFORE_ALPN;
    if (alert == 40 && ch_ext(data, size, 50 /* signature_algorithms_cert */, &b) == 1 &&
        !list16_has(b, 0x0403))
        return HD_SIGALGS_CERT;
    if (alert == 50 && ch_ext(data, size, 0, &b) == 1 && sni_other_type(b)) return HD_SNI_OTHER_TYPE;
    if (ossl_accepts_without_unknown(data, size, depth)) return HD_OSSL_UNKNOWN_EXT;
    return HD_NONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int registered;
    if (!registered && getenv("FUZZ_DIFF_STATS") != NULL) {
        atexit(hd_report);
        registered = 1;
    }
    if (size > 65536) return 0;
    fuzz_rng_reset();
    static int configured;
    if (!configured) {
        /* A ticket key of our own (drawn from a shifted stream), so that
         * the tickets in the seeds recorded against fuzz_server are as
         * unknown to ferrule as they are to OpenSSL: both fall back to a
         * full handshake, and an offered PSK is compared on its syntax. */
        for (int i = 0; i < 7; i++) (void)fuzz_rng_next();
        (void)fuzz_server_config();
        (void)ossl_ctx();
        configured = 1;
    }
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_SERVER);
    ferrule_conn *c = fuzz_server_conn();
    FUZZ_CHECK(ferrule_conn_handshake(c) == FERRULE_WANT_READ);
    fr_err e = fuzz_hs_dispatch(c, 1, data, size);
    int ours = e == FR_OK;
    /* HelloRetryRequest = a ServerHello whose random is SHA-256 of
     * "HelloRetryRequest" (RFC 8446 §4.1.3), at offset 5 + 4 + 2 of the
     * first record. */
    static const uint8_t hrr_random[8] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11};
    uint8_t out[64];
    size_t got = 0;
    ferrule_sent_hrr = 0;
    if (ours && ferrule_conn_pending_output(c) > 0 &&
        ferrule_conn_take(c, out, sizeof(out), &got) == FERRULE_OK && got >= 19)
        ferrule_sent_hrr = out[5] == 2 && memcmp(out + 11, hrr_random, 8) == 0;
    ferrule_conn_free(c);

    int alert = -1;
    int theirs = ossl_verdict(data, size, &alert);
    if (getenv("FUZZ_DEBUG") != NULL)
        fprintf(stderr, "fuzz_diff_hello: ferrule %s, openssl %s (alert %d)\n", fr_reason_name(e),
                theirs ? "accepts" : "rejects", alert);
    if (ours == theirs) {
        if (ours) agree_accept++;
        else agree_reject++;
        return 0;
    }
    int cls = classify(data, size, e, theirs, alert);
    if (cls == HD_NONE) {
        fprintf(stderr, "fuzz_diff_hello: unexplained: ferrule %s, openssl %s (alert %d)\n",
                fr_reason_name(e), theirs ? "accepts" : "rejects", alert);
        DIFF_FAIL("unexplained verdict difference");
    }
    hd_count[cls]++;
    return 0;
}
