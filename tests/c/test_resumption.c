/* test_resumption.c - session resumption with tickets (RFC 8446 §2.2,
 * §4.2.11, §4.6.1) over in-memory pairs: tickets are issued, the session
 * blob resumes, and every way a ticket can be unusable falls back to a full
 * handshake; a bad binder is decrypt_error; the blob parser is strict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h" /* inspecting secrets: test-only */
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

/* Injected clock: the real time plus an offset (the test PKI is valid
 * around now). */
static int64_t clock_offset;
static int64_t test_now(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL) + clock_offset;
}

static ferrule_config *client_cfg(void) {
    ferrule_config *c = pair_client_config();
    if (c != NULL && ferrule_config_set_time_callback(c, test_now, NULL) != FERRULE_OK) return NULL;
    return c;
}
static ferrule_config *server_cfg(void) {
    ferrule_config *c = pair_server_config("ecdsa-p256");
    if (c != NULL && ferrule_config_set_time_callback(c, test_now, NULL) != FERRULE_OK) return NULL;
    return c;
}

/* Let the client read the server's post-handshake output (tickets). */
static void pump_tickets(pair *p) {
    uint8_t buf[64];
    size_t n = 0;
    pair_move(p->server, p->client);
    int st = ferrule_conn_read(p->client, buf, sizeof(buf), &n);
    (void)st; /* WANT_READ: only tickets arrived */
}

/* Handshake with cc/sc (optionally offering `sess`), write one message
 * each way, and return the client's newest session blob in out. */
typedef struct run {
    int ok, c_resumed, s_resumed;
    int c_hrr, s_hrr;
    int cs, ss;
    size_t certs;
    uint8_t leaf[4096]; /* the client's peer certificate 0 (DER) */
    size_t leaf_len;
    size_t chain_bytes;  /* the client's peer chain, DER bytes */
    size_t client_mem;   /* the client's memory_used once established */
    uint8_t sess[8192];
    size_t sess_len;
    int have_sess;
    size_t wire_from_server; /* bytes the server sent in the handshake */
} run;

static void do_run(run *r, ferrule_config *cc, ferrule_config *sc, const char *name,
                   const uint8_t *sess, size_t sess_len) {
    memset(r, 0, sizeof(*r));
    pair p;
    if (!pair_new(&p, cc, sc, name)) return;
    if (sess != NULL && ferrule_conn_set_session(p.client, sess, sess_len) != FERRULE_OK) {
        pair_free(&p);
        return;
    }
    r->ok = pair_handshake(&p, &r->cs, &r->ss);
    r->c_resumed = ferrule_conn_resumed(p.client);
    r->s_resumed = ferrule_conn_resumed(p.server);
    r->c_hrr = ferrule_conn_hrr(p.client);
    r->s_hrr = ferrule_conn_hrr(p.server);
    r->certs = ferrule_conn_peer_cert_count(p.client);
    for (size_t i = 0; i < r->certs; i++) {
        const uint8_t *der = NULL;
        size_t len = 0;
        if (ferrule_conn_peer_cert(p.client, i, &der, &len) != FERRULE_OK) r->ok = 0;
        if (i == 0 && len <= sizeof(r->leaf)) {
            memcpy(r->leaf, der, len);
            r->leaf_len = len;
        }
        r->chain_bytes += len;
    }
    if (r->ok) {
        /* Data flows both ways. */
        size_t n = 0;
        uint8_t buf[16];
        int w = ferrule_conn_write(p.client, (const uint8_t *)"ping", 4, &n);
        pair_move(p.client, p.server);
        int rd = ferrule_conn_read(p.server, buf, sizeof(buf), &n);
        if (w != FERRULE_OK || rd != FERRULE_OK || n != 4 || memcmp(buf, "ping", 4) != 0) r->ok = 0;
        pump_tickets(&p);
        r->have_sess =
            ferrule_conn_session(p.client, r->sess, sizeof(r->sess), &r->sess_len) == FERRULE_OK;
        r->client_mem = ferrule_conn_memory_used(p.client);
    }
    pair_free(&p);
}

TEST(full_then_resume) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a, b;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.ok);
    CHECK_EQ(a.c_resumed, 0);
    CHECK(a.have_sess);
    CHECK(a.certs >= 1);
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    CHECK(b.ok);
    CHECK_EQ(b.c_resumed, 1);
    CHECK_EQ(b.s_resumed, 1);
    /* The original leaf stays available for introspection (the session
     * keeps the leaf only: docs/resumption.md). */
    CHECK_EQ(a.certs, 2);
    CHECK_EQ(b.certs, 1);
    CHECK(b.leaf_len == a.leaf_len && memcmp(b.leaf, a.leaf, a.leaf_len) == 0);
    /* A resumed connection gets tickets too, and they resume again. */
    CHECK(b.have_sess);
    run c;
    do_run(&c, cc, sc, NULL, b.sess, b.sess_len);
    CHECK(c.ok && c.c_resumed && c.s_resumed);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(no_certificate_on_the_wire_when_resumed) {
    /* A resumed server flight is much smaller than one with a chain. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    size_t sizes[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        pair p;
        CHECK(pair_new(&p, cc, sc, NULL));
        if (i == 1) CHECK_EQ(ferrule_conn_set_session(p.client, a.sess, a.sess_len), FERRULE_OK);
        CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
        pair_move(p.client, p.server);
        CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
        sizes[i] = ferrule_conn_pending_output(p.server);
        pair_free(&p);
    }
    /* The chain (leaf + intermediate) and CertificateVerify are several
     * hundred bytes. */
    CHECK(sizes[1] + 500 < sizes[0]);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(tickets_count_and_disable) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_set_tickets(sc, 17), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_tickets(sc, 0), FERRULE_OK);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.ok);
    CHECK_EQ(a.have_sess, 0);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(session_api_misuse) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    size_t len = 99;
    uint8_t buf[8];
    /* No ticket yet: wrong_state. */
    CHECK_EQ(ferrule_conn_session(p.client, buf, sizeof(buf), &len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_session(p.server, buf, sizeof(buf), &len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_set_session(p.server, buf, sizeof(buf)), FERRULE_USAGE);
    CHECK(pair_handshake(&p, NULL, NULL));
    pump_tickets(&p);
    /* Too small: buffer_too_small with the length. */
    CHECK_EQ(ferrule_conn_session(p.client, buf, sizeof(buf), &len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK(len > sizeof(buf));
    /* After the handshake: too late to offer. */
    uint8_t *blob = malloc(len);
    size_t l2 = 0;
    CHECK(blob != NULL);
    CHECK_EQ(ferrule_conn_session(p.client, blob, len, &l2), FERRULE_OK);
    CHECK_EQ(l2, len);
    CHECK_EQ(ferrule_conn_set_session(p.client, blob, len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    free(blob);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(blob_parser_negatives) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    uint8_t copy[8192 + 1];
    /* Truncated at every length. */
    for (size_t n = 0; n < a.sess_len; n++) {
        ferrule_conn *c = NULL;
        CHECK_EQ(ferrule_conn_new(&c, cc, NULL), FERRULE_OK);
        memcpy(copy, a.sess, n);
        if (ferrule_conn_set_session(c, copy, n) != FERRULE_USAGE ||
            ferrule_conn_reason(c) != FERRULE_R_DECODE_ERROR) {
            fprintf(stderr, "  truncated at %zu accepted\n", n);
            tl_failures_in_test++;
        }
        ferrule_conn_free(c);
    }
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cc, NULL), FERRULE_OK);
    /* Trailing byte. */
    memcpy(copy, a.sess, a.sess_len);
    copy[a.sess_len] = 0;
    CHECK_EQ(ferrule_conn_set_session(c, copy, a.sess_len + 1), FERRULE_USAGE);
    /* Wrong version (4 is unknown; read as version 1 or 2, this version 3
     * blob's leaf<0..2^24-1> is a chain of 0 certificates followed by
     * trailing bytes). */
    copy[0] = 4;
    CHECK_EQ(ferrule_conn_set_session(c, copy, a.sess_len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_DECODE_ERROR);
    copy[0] = 0;
    CHECK_EQ(ferrule_conn_set_session(c, copy, a.sess_len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_DECODE_ERROR);
    for (uint8_t v = 1; v <= 2; v++) {
        copy[0] = v;
        CHECK_EQ(ferrule_conn_set_session(c, copy, a.sess_len), FERRULE_USAGE);
        CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_DECODE_ERROR);
    }
    /* Unknown suite. */
    copy[0] = 3;
    copy[1] = 0x13;
    copy[2] = 0x09;
    CHECK_EQ(ferrule_conn_set_session(c, copy, a.sess_len), FERRULE_USAGE);
    /* The intact blob is accepted, once. */
    CHECK_EQ(ferrule_conn_set_session(c, a.sess, a.sess_len), FERRULE_OK);
    CHECK_EQ(ferrule_conn_set_session(c, a.sess, a.sess_len), FERRULE_USAGE);
    ferrule_conn_free(c);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* Offset of the ticket inside a version-1 blob: version, suite, psk. */
static size_t ticket_offset(const uint8_t *blob) { return 1 + 2 + 1 + blob[3] + 8 + 4 + 4 + 2; }

/* Offset of the server's leaf<0..2^24-1> (its length) in a version 3
 * blob: after the ticket, alpn<0..255> and sni<0..255>. */
static size_t leaf_offset(const uint8_t *blob) {
    size_t off = ticket_offset(blob);
    off += (size_t)blob[off - 2] << 8 | blob[off - 1];
    off += 1 + blob[off]; /* alpn */
    off += 1 + blob[off]; /* sni */
    return off;
}

/* A version 1 or 2 blob (docs/resumption.md) with the session of v3, a
 * version 3 blob: its fields, then u8 n_certs and n_certs × cert<1..2^24-1>
 * (the v3 blob's leaf, then `extra` `n_extra` times), then for version 2
 * max_early_data.  Returns its length. */
static size_t old_blob(const uint8_t *v3, size_t v3_len, uint8_t version, const uint8_t *extra,
                       size_t extra_len, size_t n_extra, uint8_t *out) {
    size_t lo = leaf_offset(v3), leaf_len = (size_t)v3[lo] << 16 | (size_t)v3[lo + 1] << 8 | v3[lo + 2];
    size_t n = lo;
    memcpy(out, v3, lo);
    out[0] = version;
    out[n++] = (uint8_t)(1 + n_extra);
    memcpy(out + n, v3 + lo, 3 + leaf_len);
    n += 3 + leaf_len;
    for (size_t i = 0; i < n_extra; i++) {
        out[n++] = (uint8_t)(extra_len >> 16);
        out[n++] = (uint8_t)(extra_len >> 8);
        out[n++] = (uint8_t)extra_len;
        memcpy(out + n, extra, extra_len);
        n += extra_len;
    }
    if (version == 2) {
        memcpy(out + n, v3 + v3_len - 4, 4);
        n += 4;
    }
    return n;
}

TEST(session_size_independent_of_chain) {
    /* The session keeps the server's leaf only: a ten-certificate chain
     * gives the same blob size as a two-certificate one with the same
     * leaf, and resuming from it costs no more. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg(), *big = pair_big_chain_server_config();
    CHECK(cc != NULL && sc != NULL && big != NULL);
    CHECK_EQ(ferrule_config_set_time_callback(big, test_now, NULL), FERRULE_OK);
    run a, b, c;
    do_run(&a, cc, sc, NULL, NULL, 0);
    do_run(&b, cc, big, NULL, NULL, 0);
    CHECK(a.ok && b.ok && a.have_sess && b.have_sess);
    CHECK_EQ(a.certs, 2);
    CHECK_EQ(b.certs, 10);
    CHECK(b.chain_bytes > a.chain_bytes + 2000);
    CHECK_EQ(b.sess_len, a.sess_len);
    CHECK_EQ(b.sess[0], 3); /* the version */
    /* Nothing in it grows with the chain: the leaf, the ticket and a few
     * bounded fields. */
    CHECK(b.sess_len < b.leaf_len + 400);
    /* Resuming from it: the leaf, and again a blob of the same size. */
    do_run(&c, cc, big, NULL, b.sess, b.sess_len);
    CHECK(c.ok && c.c_resumed && c.s_resumed);
    CHECK_EQ(c.certs, 1);
    CHECK(c.leaf_len == b.leaf_len && memcmp(c.leaf, b.leaf, b.leaf_len) == 0);
    CHECK(c.have_sess);
    CHECK_EQ(c.sess_len, a.sess_len);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(big);
}

TEST(long_chain_not_kept_parsed) {
    /* Once the chain is verified, the connection keeps its DER in one
     * allocation: eight more certificates cost their bytes and a 4-byte
     * offset each, not a parsed certificate each. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg(), *big = pair_big_chain_server_config();
    CHECK(cc != NULL && sc != NULL && big != NULL);
    CHECK_EQ(ferrule_config_set_time_callback(big, test_now, NULL), FERRULE_OK);
    run a, b;
    do_run(&a, cc, sc, NULL, NULL, 0);
    do_run(&b, cc, big, NULL, NULL, 0);
    CHECK(a.ok && b.ok && a.client_mem > 0 && b.client_mem > a.client_mem);
    size_t extra = b.client_mem - a.client_mem, der = b.chain_bytes - a.chain_bytes;
    printf("  client memory_used: %zu with 2 certificates, %zu with 10 (+%zu for +%zu DER bytes)\n",
           a.client_mem, b.client_mem, extra, der);
    CHECK(extra <= der + 4 * (b.certs - a.certs));
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(big);
}

/* A pair resuming with `blob` (1 if both report resumed). */
static int resume_with(pair *p, ferrule_config *cc, ferrule_config *sc, const uint8_t *blob,
                       size_t len) {
    if (!pair_new(p, cc, sc, NULL)) return 0;
    if (ferrule_conn_set_session(p->client, blob, len) != FERRULE_OK) return 0;
    return pair_handshake(p, NULL, NULL) && ferrule_conn_resumed(p->client) &&
           ferrule_conn_resumed(p->server);
}

TEST(resumed_peer_cert_accessors) {
    /* A resumed client parses no certificate in its handshake; the
     * accessors give the stored leaf's DER, and parse it on demand with
     * the same fields as the full handshake's. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    pump_tickets(&p);
    uint8_t blob[8192];
    size_t len = 0;
    CHECK_EQ(ferrule_conn_session(p.client, blob, sizeof(blob), &len), FERRULE_OK);
    ferrule_cert *full = NULL, *resumed = NULL;
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 0, &full, NULL), FERRULE_OK);
    pair_free(&p);
    CHECK(resume_with(&p, cc, sc, blob, len));
    CHECK_EQ(ferrule_conn_peer_cert_count(p.client), 1);
    const uint8_t *d1 = NULL, *d2 = NULL, *d3 = NULL;
    size_t l1 = 0, l2 = 0, l3 = 0;
    CHECK_EQ(ferrule_conn_peer_cert(p.client, 0, &d1, &l1), FERRULE_OK);
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 0, &resumed, NULL), FERRULE_OK);
    REQUIRE(full != NULL && resumed != NULL);
    CHECK_EQ(ferrule_cert_der(full, &d2, &l2), FERRULE_OK);
    CHECK_EQ(ferrule_cert_der(resumed, &d3, &l3), FERRULE_OK);
    CHECK(l1 == l2 && l2 == l3 && memcmp(d1, d2, l1) == 0 && memcmp(d2, d3, l2) == 0);
    int64_t nb1, na1, nb2, na2;
    CHECK_EQ(ferrule_cert_validity(full, &nb1, &na1), FERRULE_OK);
    CHECK_EQ(ferrule_cert_validity(resumed, &nb2, &na2), FERRULE_OK);
    CHECK(nb1 == nb2 && na1 == na2 && na1 > nb1);
    const char *s1 = NULL, *s2 = NULL;
    size_t sl1 = 0, sl2 = 0;
    CHECK_EQ(ferrule_cert_name_string(full, FERRULE_CERT_SUBJECT, &s1, &sl1), FERRULE_OK);
    CHECK_EQ(ferrule_cert_name_string(resumed, FERRULE_CERT_SUBJECT, &s2, &sl2), FERRULE_OK);
    CHECK(sl1 == sl2 && sl1 > 0 && memcmp(s1, s2, sl1) == 0);
    CHECK_EQ(ferrule_cert_san_count(resumed), ferrule_cert_san_count(full));
    /* Past the stored leaf: not_found. */
    ferrule_cert *none = NULL;
    uint32_t reason = 0;
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 1, &none, &reason), FERRULE_USAGE);
    CHECK_EQ(reason, FERRULE_R_NOT_FOUND);
    CHECK(none == NULL);
    CHECK_EQ(ferrule_conn_peer_cert(p.client, 1, &d1, &l1), FERRULE_USAGE);
    ferrule_cert_free(full);
    ferrule_cert_free(resumed);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(malformed_stored_leaf) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    REQUIRE(a.have_sess);
    size_t lo = leaf_offset(a.sess) + 3; /* the leaf's DER */
    REQUIRE(a.sess[lo] == 0x30 && a.sess[lo + 1] == 0x82 && a.sess[lo + 4] == 0x30 &&
            a.sess[lo + 8] == 0xa0);
    uint8_t copy[8192];
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cc, NULL), FERRULE_OK);
    /* Not an X.509 SIGNED{} frame: refused by set_session. */
    const size_t at[3] = {lo, lo + 1, lo + 4};
    for (size_t i = 0; i < 3; i++) {
        memcpy(copy, a.sess, a.sess_len);
        copy[at[i]] ^= 0x01;
        CHECK_EQ(ferrule_conn_set_session(c, copy, a.sess_len), FERRULE_USAGE);
        CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_DECODE_ERROR);
    }
    ferrule_conn_free(c);
    /* Framed, but a TBS field is broken (the version's [0] becomes an
     * OCTET STRING): the handshake does not look inside, so it resumes;
     * the accessors return the stored bytes, and parsing them is refused
     * with the parser's reason. */
    memcpy(copy, a.sess, a.sess_len);
    copy[lo + 8] = 0x04;
    pair p;
    CHECK(resume_with(&p, cc, sc, copy, a.sess_len));
    CHECK_EQ(ferrule_conn_peer_cert_count(p.client), 1);
    const uint8_t *der = NULL;
    size_t len = 0;
    CHECK_EQ(ferrule_conn_peer_cert(p.client, 0, &der, &len), FERRULE_OK);
    CHECK(len == a.leaf_len && memcmp(der, copy + lo, len) == 0);
    ferrule_cert *cert = NULL;
    uint32_t reason = 0;
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 0, &cert, &reason), FERRULE_CERTIFICATE);
    CHECK(cert == NULL);
    CHECK_EQ(reason, FERRULE_R_CERT_MALFORMED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(old_version_blobs) {
    /* Version 1 and 2 blobs (the whole chain) still resume; the session
     * keeps their first certificate, the leaf; the others are framed and
     * checked, and dropped. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    REQUIRE(a.have_sess && a.sess[0] == 3);
    static uint8_t old[16384];
    const uint8_t other[3] = {0x30, 0x01, 0x00};
    for (uint8_t v = 1; v <= 2; v++) {
        size_t n = old_blob(a.sess, a.sess_len, v, a.leaf, a.leaf_len, 1, old);
        CHECK_EQ(n, a.sess_len + a.leaf_len + (v == 2 ? 4u : 0u));
        run b;
        do_run(&b, cc, sc, NULL, old, n);
        CHECK(b.ok && b.c_resumed && b.s_resumed);
        CHECK_EQ(b.certs, 1);
        CHECK(b.leaf_len == a.leaf_len && memcmp(b.leaf, a.leaf, a.leaf_len) == 0);
        /* Its connection's session is a version 3 blob. */
        CHECK(b.have_sess && b.sess[0] == 3 && b.sess_len == a.sess_len);
        ferrule_conn *c = NULL;
        CHECK_EQ(ferrule_conn_new(&c, cc, NULL), FERRULE_OK);
        /* Sixteen certificates at most; none empty. */
        n = old_blob(a.sess, a.sess_len, v, other, sizeof(other), 15, old);
        CHECK_EQ(ferrule_conn_set_session(c, old, n), FERRULE_OK);
        ferrule_conn_free(c);
        c = NULL;
        CHECK_EQ(ferrule_conn_new(&c, cc, NULL), FERRULE_OK);
        n = old_blob(a.sess, a.sess_len, v, other, sizeof(other), 16, old);
        CHECK_EQ(ferrule_conn_set_session(c, old, n), FERRULE_USAGE);
        CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_DECODE_ERROR);
        n = old_blob(a.sess, a.sess_len, v, other, 0, 1, old);
        CHECK_EQ(ferrule_conn_set_session(c, old, n), FERRULE_USAGE);
        CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_DECODE_ERROR);
        /* The leaf of an old blob gets the same framing check. */
        n = old_blob(a.sess, a.sess_len, v, other, sizeof(other), 1, old);
        size_t lo = leaf_offset(a.sess) + 1 + 3;
        old[lo] ^= 1;
        CHECK_EQ(ferrule_conn_set_session(c, old, n), FERRULE_USAGE);
        CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_DECODE_ERROR);
        ferrule_conn_free(c);
    }
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(tampered_ticket_is_full_handshake) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a, b;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    /* Flip a byte of the ticket's ciphertext: the server cannot open it
     * (the client's binder is still "valid" for its PSK). */
    a.sess[ticket_offset(a.sess) + 40] ^= 1;
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    CHECK(b.ok);
    CHECK_EQ(b.c_resumed, 0);
    CHECK_EQ(b.s_resumed, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(tampered_binder_is_decrypt_error) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, a.sess, a.sess_len), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    /* The ClientHello is one plaintext record; its last byte is the last
     * byte of the binder (pre_shared_key is the last extension). */
    uint8_t rec[4096];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_take(p.client, rec, sizeof(rec), &n), FERRULE_OK);
    CHECK(n > 100 && rec[0] == 22);
    rec[n - 1] ^= 0x80;
    size_t used = 0;
    CHECK_EQ(ferrule_conn_feed(p.server, rec, n, &used), FERRULE_OK);
    CHECK_EQ(used, n);
    int st = ferrule_conn_handshake(p.server);
    CHECK_EQ(st, FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_BAD_BINDER);
    CHECK_EQ(ferrule_conn_alert(p.server), FERRULE_ALERT_DECRYPT_ERROR);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(expired_session_not_offered) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a, b;
    clock_offset = 0;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    /* Past the one-day lifetime we grant. */
    clock_offset = 86400 + 10;
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    clock_offset = 0;
    CHECK(b.ok);
    CHECK_EQ(b.c_resumed, 0);
    CHECK_EQ(b.s_resumed, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(expired_ticket_refused_by_server) {
    /* Only the server's clock moves: the client still offers, the server
     * refuses the ticket and completes a full handshake. */
    ferrule_config *cc = pair_client_config(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    run a, b;
    clock_offset = 0;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    ferrule_config *sc2 = pair_server_config("ecdsa-p256");
    CHECK(sc2 != NULL);
    clock_offset = 86400 + 10;
    /* Same ticket keys on the second server config? No: sc is reused. */
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    clock_offset = 0;
    CHECK(b.ok);
    CHECK_EQ(b.s_resumed, 0);
    CHECK_EQ(b.c_resumed, 0);
    ferrule_config_free(sc2);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(key_rotation) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    uint8_t name[16], key[32];
    memset(name, 0xA1, sizeof(name));
    memset(key, 0xB2, sizeof(key));
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    run a, b;
    do_run(&a, cc, sc, NULL, NULL, 0); /* ticket under key A */
    CHECK(a.have_sess);
    /* One rotation: A is still accepted. */
    name[0] = 2;
    key[0] = 2;
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    CHECK(b.ok && b.c_resumed && b.s_resumed);
    /* Two more: A has left the ring (current + two previous). */
    name[0] = 3;
    key[0] = 3;
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    name[0] = 4;
    key[0] = 4;
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    CHECK(b.ok);
    CHECK_EQ(b.s_resumed, 0);
    CHECK_EQ(b.c_resumed, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(fleet_shares_keys) {
    /* A ticket from server A resumes on server B with the same key; not on
     * server C with its own random key. */
    ferrule_config *cc = client_cfg(), *sa = server_cfg(), *sb = server_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sa != NULL && sb != NULL && sc != NULL);
    uint8_t name[16] = {1}, key[32] = {2};
    CHECK_EQ(ferrule_config_set_ticket_key(sa, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(sb, name, key), FERRULE_OK);
    run a, b, c;
    do_run(&a, cc, sa, NULL, NULL, 0);
    CHECK(a.have_sess);
    do_run(&b, cc, sb, NULL, a.sess, a.sess_len);
    CHECK(b.ok && b.s_resumed && b.c_resumed);
    do_run(&c, cc, sc, NULL, a.sess, a.sess_len);
    CHECK(c.ok);
    CHECK_EQ(c.s_resumed, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sa);
    ferrule_config_free(sb);
    ferrule_config_free(sc);
}

TEST(different_sni_not_resumed) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_dangerous_no_hostname_check(cc), FERRULE_OK);
    run a, b;
    do_run(&a, cc, sc, "localhost", NULL, 0);
    CHECK(a.have_sess);
    do_run(&b, cc, sc, "other.example", a.sess, a.sess_len);
    CHECK(b.ok);
    CHECK_EQ(b.c_resumed, 0);
    CHECK_EQ(b.s_resumed, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(resumes_after_hello_retry_request) {
    /* RFC 8446 §4.1.2 / §4.2.11.2: the second ClientHello offers the PSK
     * again, its binder over message_hash(CH1) || HRR || truncated CH2.
     * The client's x25519 share draws a HelloRetryRequest from a
     * P-384-only server, every time. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    const uint16_t p384[1] = {0x0018};
    CHECK_EQ(ferrule_config_set_groups(sc, p384, 1), FERRULE_OK);
    run a, b;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.ok && a.c_hrr && a.s_hrr && a.have_sess);
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    CHECK(b.ok && b.c_hrr && b.s_hrr);
    CHECK_EQ(b.c_resumed, 1);
    CHECK_EQ(b.s_resumed, 1);
    CHECK_EQ(b.certs, 1);
    CHECK(b.leaf_len == a.leaf_len && memcmp(b.leaf, a.leaf, a.leaf_len) == 0);
    /* A HelloRetryRequest choosing a suite of another hash: the client
     * drops the PSK from its second ClientHello (full handshake). */
    ferrule_config *sc384 = server_cfg();
    const uint16_t s384[1] = {FERRULE_TLS_AES_256_GCM_SHA384};
    CHECK(sc384 != NULL);
    CHECK_EQ(ferrule_config_set_groups(sc384, p384, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_cipher_suites(sc384, s384, 1), FERRULE_OK);
    uint8_t name[16] = {7}, key[32] = {7};
    CHECK_EQ(ferrule_config_set_ticket_key(sc384, name, key), FERRULE_OK);
    do_run(&b, cc, sc384, NULL, a.sess, a.sess_len);
    CHECK(b.ok && b.c_hrr);
    CHECK_EQ(b.c_resumed, 0);
    ferrule_config_free(sc384);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(different_hash_not_resumed) {
    /* A SHA-256 session is not offered to a client now configured for
     * SHA-384 only; with the suite configured but a server that picks a
     * SHA-384 suite, the server declines. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    const uint16_t s256[1] = {FERRULE_TLS_AES_128_GCM_SHA256};
    const uint16_t s384[1] = {FERRULE_TLS_AES_256_GCM_SHA384};
    const uint16_t both[2] = {FERRULE_TLS_AES_128_GCM_SHA256, FERRULE_TLS_AES_256_GCM_SHA384};
    CHECK_EQ(ferrule_config_set_cipher_suites(cc, both, 2), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_cipher_suites(sc, s256, 1), FERRULE_OK);
    run a, b;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    ferrule_config *sc384 = server_cfg();
    CHECK(sc384 != NULL);
    CHECK_EQ(ferrule_config_set_cipher_suites(sc384, s384, 1), FERRULE_OK);
    do_run(&b, cc, sc384, NULL, a.sess, a.sess_len);
    CHECK(b.ok);
    CHECK_EQ(b.c_resumed, 0);
    CHECK_EQ(b.s_resumed, 0);
    ferrule_config *cc384 = client_cfg();
    CHECK(cc384 != NULL);
    CHECK_EQ(ferrule_config_set_cipher_suites(cc384, s384, 1), FERRULE_OK);
    do_run(&b, cc384, sc, NULL, a.sess, a.sess_len);
    CHECK_EQ(b.c_resumed, 0); /* not offered: handshake fails on suites */
    ferrule_config_free(cc384);
    ferrule_config_free(sc384);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

static int all_zero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

TEST(server_forgets_resumption_secret_after_tickets) {
    /* The server needs resumption_master_secret only to mint its tickets;
     * the client keeps it, since tickets may arrive at any time. */
    for (uint32_t tickets = 0; tickets <= 2; tickets += 2) {
        ferrule_config *cc = client_cfg(), *sc = server_cfg();
        CHECK(cc != NULL && sc != NULL);
        if (cc == NULL || sc == NULL) return;
        CHECK_EQ(ferrule_config_set_tickets(sc, tickets), FERRULE_OK);
        pair p;
        CHECK(pair_new(&p, cc, sc, NULL));
        CHECK(pair_handshake(&p, NULL, NULL));
        pump_tickets(&p);
        CHECK(all_zero(p.server->ks.resumption, sizeof(p.server->ks.resumption)));
        CHECK(!all_zero(p.client->ks.resumption, p.client->ks.hlen));
        pair_free(&p);
        ferrule_config_free(sc);
        ferrule_config_free(cc);
    }
}

/* One handshake offering `sess`; the group the client reports. */
static int resume_group(ferrule_config *cc, ferrule_config *sc, const uint8_t *sess, size_t len,
                        int *resumed) {
    pair p;
    *resumed = -1;
    if (!pair_new(&p, cc, sc, NULL)) return -1;
    int cs, ss, g = -1;
    if (ferrule_conn_set_session(p.client, sess, len) == FERRULE_OK &&
        pair_handshake(&p, &cs, &ss)) {
        *resumed = ferrule_conn_resumed(p.client) && ferrule_conn_resumed(p.server);
        g = ferrule_conn_group(p.client);
        if (g != ferrule_conn_group(p.server)) g = -2;
    }
    pair_free(&p);
    return g;
}

TEST(psk_ke_is_opt_in) {
    /* RFC 8446 §4.2.9: psk_ke (no (EC)DHE) only when both sides opt in;
     * psk_dhe_ke wins when both are possible. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    ferrule_config *cc_ke = client_cfg(), *cc_both = client_cfg(), *sc_ke = server_cfg();
    CHECK(cc && sc && cc_ke && cc_both && sc_ke);
    CHECK_EQ(ferrule_config_set_psk_modes(cc_ke, FERRULE_PSK_KE), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_psk_modes(cc_both, FERRULE_PSK_KE | FERRULE_PSK_DHE_KE),
             FERRULE_OK);
    CHECK_EQ(ferrule_config_set_psk_modes(sc_ke, FERRULE_PSK_KE | FERRULE_PSK_DHE_KE),
             FERRULE_OK);
    uint8_t key[32] = {1}, name[16] = {1};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(sc_ke, name, key), FERRULE_OK);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    CHECK(a.have_sess);
    int resumed;
    /* Default server: a psk_ke-only offer gets a full handshake. */
    int g = resume_group(cc_ke, sc, a.sess, a.sess_len, &resumed);
    CHECK_EQ(resumed, 0);
    CHECK(g > 0);
    /* Both opt in to psk_ke only on the client: resumed without a group. */
    g = resume_group(cc_ke, sc_ke, a.sess, a.sess_len, &resumed);
    CHECK_EQ(resumed, 1);
    CHECK_EQ(g, 0);
    /* Client offers both: the server takes psk_dhe_ke. */
    g = resume_group(cc_both, sc_ke, a.sess, a.sess_len, &resumed);
    CHECK_EQ(resumed, 1);
    CHECK(g > 0);
    /* Default client against the psk_ke server: psk_dhe_ke. */
    g = resume_group(cc, sc_ke, a.sess, a.sess_len, &resumed);
    CHECK_EQ(resumed, 1);
    CHECK(g > 0);
    /* Bad values. */
    ferrule_config *fresh = client_cfg();
    CHECK_EQ(ferrule_config_set_psk_modes(fresh, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(fresh), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_psk_modes(fresh, 4), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_psk_modes(fresh, 3), FERRULE_OK);
    ferrule_config_free(fresh);
    CHECK_EQ(ferrule_config_set_psk_modes(NULL, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_psk_modes(sc, 1), FERRULE_USAGE); /* frozen */
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_FROZEN);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(cc_ke);
    ferrule_config_free(cc_both);
    ferrule_config_free(sc_ke);
}


/* ---- psk_key_exchange_modes in every ClientHello (RFC 8446 §4.2.9) -------- */

/* The client's first ClientHello (no session set) as a parsed hello; `m`
 * takes the two fresh configs (mitm_free frees them). */
static int capture_hello(ferrule_config *cc, ferrule_config *sc, mitm *m, mflight *f, hello *h) {
    if (!mitm_init(m, cc, sc)) return 0;
    return ferrule_conn_handshake(m->p.client) == FERRULE_WANT_READ && mf_take(f, m->p.client) &&
           f->n == 1 && hello_parse(h, f->r[0].data, f->r[0].len) && !h->server;
}

/* The modes a hello advertises as a bit set (FERRULE_PSK_*), -1 if absent. */
static int hello_modes(hello *h) {
    hext *e = hello_find(h, FR_EXT_PSK_KEY_EXCHANGE_MODES);
    if (e == NULL || e->len < 2 || e->body[0] != e->len - 1) return -1;
    uint32_t bits = 0;
    for (size_t i = 1; i < e->len; i++) {
        if (e->body[i] == 1) bits |= FERRULE_PSK_DHE_KE;
        if (e->body[i] == 0) bits |= FERRULE_PSK_KE;
    }
    return (int)bits;
}

TEST(fresh_hello_advertises_psk_modes) {
    /* Servers send tickets only for the modes a ClientHello advertises
     * (§4.2.9 SHOULD NOT; Go's crypto/tls and rustls follow it), so the
     * very first ClientHello, with no session to offer, carries them. */
    const uint32_t configs[3] = {FERRULE_PSK_DHE_KE, FERRULE_PSK_KE,
                                 FERRULE_PSK_DHE_KE | FERRULE_PSK_KE};
    for (size_t i = 0; i < 3; i++) {
        ferrule_config *cc = client_cfg(), *sc = server_cfg();
        REQUIRE(cc != NULL && sc != NULL);
        CHECK_EQ(ferrule_config_set_psk_modes(cc, configs[i]), FERRULE_OK);
        mitm m; /* owns cc and sc */
        mflight *f = mf_new();
        hello *h = calloc(1, sizeof(*h));
        REQUIRE(f != NULL && h != NULL);
        CHECK(capture_hello(cc, sc, &m, f, h));
        CHECK_EQ(hello_modes(h), (int)configs[i]);
        CHECK(hello_find(h, FR_EXT_PRE_SHARED_KEY) == NULL);
        mitm_free(&m);
        mf_free(f);
        free(h);
    }
}

TEST(second_hello_keeps_psk_modes) {
    /* §4.1.2: the second ClientHello repeats the first but for the listed
     * changes: the modes stay (here with no PSK offered; with one, the
     * server would refuse a second hello without them:
     * resumes_after_hello_retry_request). */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    const uint16_t p384[1] = {0x0018};
    CHECK_EQ(ferrule_config_set_groups(sc, p384, 1), FERRULE_OK);
    mitm m; /* owns cc and sc */
    mflight *f = mf_new(), *g = mf_new();
    hello *h = calloc(1, sizeof(*h));
    REQUIRE(f != NULL && g != NULL && h != NULL);
    REQUIRE(capture_hello(cc, sc, &m, f, h));
    CHECK(mf_send(f, m.p.server));
    CHECK_EQ(ferrule_conn_handshake(m.p.server), FERRULE_WANT_READ); /* HRR sent */
    CHECK(mitm_pass(m.p.server, m.p.client));
    CHECK_EQ(ferrule_conn_handshake(m.p.client), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_hrr(m.p.client), 1);
    CHECK(mf_take(g, m.p.client));
    /* [CCS,] ClientHello2 */
    size_t k = g->n > 0 && g->r[0].type == FR_CT_CHANGE_CIPHER_SPEC ? 1 : 0;
    REQUIRE(g->n == k + 1);
    hello *h2 = calloc(1, sizeof(*h2));
    REQUIRE(h2 != NULL);
    CHECK(hello_parse(h2, g->r[k].data, g->r[k].len));
    CHECK_EQ(hello_modes(h2), FERRULE_PSK_DHE_KE);
    CHECK_EQ(hello_modes(h2), hello_modes(h));
    mitm_free(&m);
    mf_free(f);
    mf_free(g);
    free(h);
    free(h2);
}

/* Run a handshake whose ClientHello `edit` changes (adopted by the client
 * so both transcripts agree); 1 if the client got a ticket. */
/* Run a handshake between fresh configs with these PSK modes (0: the
 * default) whose ClientHello `edit` changes (adopted by the client so both
 * transcripts agree); 1 if the client got a ticket. */
static int tickets_after_edit(uint32_t client_modes, uint32_t server_modes, void (*edit)(hello *)) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    if (cc != NULL && client_modes != 0 && ferrule_config_set_psk_modes(cc, client_modes) != FERRULE_OK) cc = NULL;
    if (sc != NULL && server_modes != 0 && ferrule_config_set_psk_modes(sc, server_modes) != FERRULE_OK) sc = NULL;
    mitm m;
    mflight *f = mf_new();
    hello *h = calloc(1, sizeof(*h));
    int got = -1;
    if (f != NULL && h != NULL && capture_hello(cc, sc, &m, f, h)) {
        edit(h);
        size_t n = hello_encode(h, f->r[0].data, MITM_REC_CAP);
        f->r[0].len = n;
        int cs = 0, ss = 0;
        if (n > 0 && mitm_client_adopt_hello(m.p.client, f->r[0].data, n) &&
            mf_send(f, m.p.server) && pair_handshake(&m.p, &cs, &ss)) {
            pump_tickets(&m.p);
            uint8_t blob[8192];
            size_t len = 0;
            got = ferrule_conn_session(m.p.client, blob, sizeof(blob), &len) == FERRULE_OK;
        }
    }
    CHECK(got >= 0);
    mitm_free(&m);
    mf_free(f);
    free(h);
    return got == 1;
}

static void keep_hello(hello *h) { (void)h; }
static void drop_modes(hello *h) { (void)hello_remove(h, FR_EXT_PSK_KEY_EXCHANGE_MODES); }
static void unknown_mode_only(hello *h) {
    hext *e = hello_find(h, FR_EXT_PSK_KEY_EXCHANGE_MODES);
    if (e != NULL) {
        e->len = 2;
        e->body[0] = 1;
        e->body[1] = 0x7f;
    }
}

TEST(no_tickets_for_modes_not_advertised) {
    /* The server's side of §4.2.9: a client that advertises no mode the
     * server accepts gets no NewSessionTicket. */
    const uint32_t KE = FERRULE_PSK_KE, BOTH = FERRULE_PSK_KE | FERRULE_PSK_DHE_KE;
    CHECK_EQ(tickets_after_edit(0, 0, keep_hello), 1);
    CHECK_EQ(tickets_after_edit(0, 0, drop_modes), 0);
    CHECK_EQ(tickets_after_edit(0, BOTH, unknown_mode_only), 0);
    /* psk_ke only, to a server that accepts psk_dhe_ke only / both. */
    CHECK_EQ(tickets_after_edit(KE, 0, keep_hello), 0);
    CHECK_EQ(tickets_after_edit(KE, BOTH, keep_hello), 1);
}

/* ---- the second ClientHello keeps the PSKs it may keep (RFC 8446 §4.1.2) -- */

typedef enum { CH2_AS_SENT, CH2_NO_PSK, CH2_OTHER_IDENTITY } ch2_edit;

/* Resume `sess` against a P-384-only server (a HelloRetryRequest for the
 * client's x25519 share), edit the second ClientHello, and return the
 * server's status after it (WANT_READ: accepted, its flight sent). */
static int resume_through_hrr(const uint8_t *sess, size_t sess_len, ch2_edit edit,
                              uint32_t *reason, int *resumed) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    const uint16_t p384[1] = {0x0018};
    uint8_t name[16] = {9}, key[32] = {9};
    if (sc != NULL && (ferrule_config_set_groups(sc, p384, 1) != FERRULE_OK ||
                       ferrule_config_set_ticket_key(sc, name, key) != FERRULE_OK))
        sc = NULL;
    mitm m;
    mflight *f = mf_new(), *g = mf_new();
    hello *h = calloc(1, sizeof(*h));
    int st = -1;
    if (f != NULL && g != NULL && h != NULL && mitm_init(&m, cc, sc) &&
        ferrule_conn_set_session(m.p.client, sess, sess_len) == FERRULE_OK &&
        ferrule_conn_handshake(m.p.client) == FERRULE_WANT_READ && mitm_pass(m.p.client, m.p.server) &&
        ferrule_conn_handshake(m.p.server) == FERRULE_WANT_READ &&
        mitm_pass(m.p.server, m.p.client) &&
        ferrule_conn_handshake(m.p.client) == FERRULE_WANT_READ && mf_take(g, m.p.client)) {
        size_t k = g->n > 0 && g->r[0].type == FR_CT_CHANGE_CIPHER_SPEC ? 1 : 0;
        if (g->n == k + 1 && hello_parse(h, g->r[k].data, g->r[k].len)) {
            hext *psk = hello_find(h, FR_EXT_PRE_SHARED_KEY);
            if (edit == CH2_NO_PSK) (void)hello_remove(h, FR_EXT_PRE_SHARED_KEY);
            if (edit == CH2_OTHER_IDENTITY && psk != NULL && psk->len > 8)
                psk->body[6] ^= 0x01; /* inside the ticket's key name */
            g->r[k].len = hello_encode(h, g->r[k].data, MITM_REC_CAP);
            if (g->r[k].len > 0 && mf_send(g, m.p.server)) st = ferrule_conn_handshake(m.p.server);
        }
        *reason = ferrule_conn_reason(m.p.server);
        *resumed = ferrule_conn_resumed(m.p.server);
    }
    mitm_free(&m);
    mf_free(f);
    mf_free(g);
    free(h);
    return st;
}

TEST(second_hello_keeps_compatible_psks) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    uint8_t name[16] = {9}, key[32] = {9};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    run a;
    do_run(&a, cc, sc, NULL, NULL, 0);
    REQUIRE(a.have_sess);
    uint32_t reason = 0;
    int resumed = 0;
    /* As sent: resumed through the HelloRetryRequest. */
    CHECK_EQ(resume_through_hrr(a.sess, a.sess_len, CH2_AS_SENT, &reason, &resumed),
             FERRULE_WANT_READ);
    CHECK_EQ(resumed, 1);
    /* The PSK the server would accept, dropped: illegal_parameter. */
    CHECK_EQ(resume_through_hrr(a.sess, a.sess_len, CH2_NO_PSK, &reason, &resumed),
             FERRULE_ALERT_SENT);
    CHECK_EQ(reason, FERRULE_R_ILLEGAL_PARAMETER);
    /* ... or swapped for another identity. */
    CHECK_EQ(resume_through_hrr(a.sess, a.sess_len, CH2_OTHER_IDENTITY, &reason, &resumed),
             FERRULE_ALERT_SENT);
    CHECK_EQ(reason, FERRULE_R_ILLEGAL_PARAMETER);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- RFC 6066 §3: no server_name acknowledgement when resuming ------------ */

/* The extension types of the server's EncryptedExtensions (first protected
 * record of its flight); -1 on failure. */
static int ee_has_server_name(const uint8_t *sess, size_t sess_len) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    uint8_t name[16] = {9}, key[32] = {9};
    if (sc != NULL && ferrule_config_set_ticket_key(sc, name, key) != FERRULE_OK) sc = NULL;
    mitm m;
    mflight *f = mf_new();
    int found = -1;
    if (f != NULL && mitm_init(&m, cc, sc) &&
        (sess == NULL || ferrule_conn_set_session(m.p.client, sess, sess_len) == FERRULE_OK) &&
        ferrule_conn_handshake(m.p.client) == FERRULE_WANT_READ &&
        mitm_pass(m.p.client, m.p.server) && ferrule_conn_handshake(m.p.server) == FERRULE_WANT_READ &&
        mf_take(f, m.p.server)) {
        f->suite = ferrule_conn_cipher_suite(m.p.server);
        size_t first = 0;
        while (first < f->n && f->r[first].type != FR_CT_APPLICATION_DATA) first++;
        const uint8_t *shs = mitm_secret(&m, FERRULE_ROLE_SERVER, MK_SHS);
        if (first < f->n && shs != NULL && mf_open(f, first, first + 1, shs) == 1) {
            const mrec *r = &f->r[first];
            /* EncryptedExtensions: 8, u24 length, extensions<0..2^16-1> */
            if (r->inner == FR_CT_HANDSHAKE && r->len >= 6 && r->data[0] == FR_HS_ENCRYPTED_EXTENSIONS) {
                fr_reader body = fr_reader_init(r->data + 6, r->len - 6);
                found = 0;
                uint16_t type;
                fr_reader ext;
                while (fr_read_u16(&body, &type) == FR_OK && fr_read_vec16(&body, &ext) == FR_OK)
                    if (type == FR_EXT_SERVER_NAME) found = 1;
            }
        }
    }
    mitm_free(&m);
    mf_free(f);
    return found;
}

TEST(no_server_name_ack_when_resuming) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    uint8_t name[16] = {9}, key[32] = {9};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    run a, b;
    do_run(&a, cc, sc, NULL, NULL, 0);
    REQUIRE(a.have_sess);
    /* A full handshake acknowledges the client's server_name ... */
    CHECK_EQ(ee_has_server_name(NULL, 0), 1);
    /* ... a resumed one MUST NOT (RFC 6066 §3). */
    CHECK_EQ(ee_has_server_name(a.sess, a.sess_len), 0);
    do_run(&b, cc, sc, NULL, a.sess, a.sess_len);
    CHECK(b.ok && b.c_resumed && b.s_resumed);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- NewSessionTicket floods (issue 9 C) ----------------------------------- */

/* An allocator that counts what the client asks for. */
typedef struct counting {
    size_t allocs, bytes;
} counting;
static void *count_alloc(void *ctx, size_t n) {
    counting *k = ctx;
    k->allocs++;
    k->bytes += n;
    return malloc(n);
}
static void count_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    free(p);
}

/* A NewSessionTicket (RFC 8446 §4.6.1) with a `len`-byte ticket whose bytes
 * all equal `fill` and a 4-byte nonce `seq`; returns its length. */
static size_t make_nst(uint8_t *out, uint32_t seq, size_t len, uint8_t fill) {
    size_t n = 0, body = 4 + 4 + 1 + 4 + 2 + len + 2;
    out[n++] = 4;
    out[n++] = (uint8_t)(body >> 16);
    out[n++] = (uint8_t)(body >> 8);
    out[n++] = (uint8_t)body;
    const uint8_t fixed[9] = {0, 0, 0x0e, 0x10, 1, 2, 3, 4, 4}; /* lifetime 3600, age_add, nonce len */
    memcpy(out + n, fixed, sizeof(fixed));
    n += sizeof(fixed);
    for (int i = 0; i < 4; i++) out[n++] = (uint8_t)(seq >> (24 - 8 * i));
    out[n++] = (uint8_t)(len >> 8);
    out[n++] = (uint8_t)len;
    memset(out + n, fill, len);
    n += len;
    out[n++] = 0; /* no extensions */
    out[n++] = 0;
    return n;
}

/* The server's side of an established in-memory pair: protected records of
 * tickets, sealed under its application secret from sequence `*seq`. */
typedef struct flood {
    mitm m;
    counting count;
    const uint8_t *sap;
    uint64_t seq;
    uint32_t sent;
} flood;

/* A connected pair whose server (config sc, taken over) sends no ticket
 * itself and whose client counts its allocations. */
static int flood_init(flood *fl, ferrule_config *sc) {
    memset(fl, 0, sizeof(*fl));
    ferrule_allocator a = {(uint32_t)sizeof(a), count_alloc, count_free, &fl->count};
    ferrule_config *cc = NULL;
    if (ferrule_config_new(&cc, FERRULE_ROLE_CLIENT, &a) != FERRULE_OK || sc == NULL ||
        ferrule_config_add_trust_file(cc, pair_pki("root.pem")) != FERRULE_OK ||
        ferrule_config_set_tickets(sc, 0) != FERRULE_OK) /* we send the tickets */
        return 0;
    if (!mitm_init(&fl->m, cc, sc) || !pair_handshake(&fl->m.p, NULL, NULL)) return 0;
    fl->sap = mitm_secret(&fl->m, FERRULE_ROLE_SERVER, MK_SAP);
    return fl->sap != NULL;
}

/* Deliver `count` tickets of `len` bytes (fill byte: their number), up to
 * 32 to a record, and let the client read them.  1 if all were taken. */
static int flood_send(flood *fl, uint32_t count, size_t len) {
    mflight *f = mf_new();
    uint8_t *rec = malloc(MITM_REC_CAP), *wire = malloc(MITM_MAX_RECS * (MITM_REC_CAP + 64));
    int ok = f != NULL && rec != NULL && wire != NULL;
    while (ok && count > 0) {
        memset(f, 0, sizeof(*f));
        f->suite = ferrule_conn_cipher_suite(fl->m.p.client);
        while (count > 0 && f->n < MITM_MAX_RECS) {
            size_t n = 0;
            for (int k = 0; k < 32 && count > 0 && n + len + 64 <= 16384; k++, count--, fl->sent++)
                n += make_nst(rec + n, fl->sent, len, (uint8_t)fl->sent);
            ok = ok && mf_add_prot(f, FR_CT_HANDSHAKE, rec, n, fl->sap) != NULL;
        }
        size_t total = mf_serialize(f, fl->seq, wire, MITM_MAX_RECS * (MITM_REC_CAP + 64));
        fl->seq += f->n;
        for (size_t off = 0; ok && off < total;) {
            size_t used = 0;
            uint8_t buf[64];
            ok = ferrule_conn_feed(fl->m.p.client, wire + off, total - off, &used) == FERRULE_OK;
            off += used;
            ok = ok && ferrule_conn_read(fl->m.p.client, buf, sizeof(buf), &used) ==
                           FERRULE_WANT_READ;
        }
    }
    free(rec);
    free(wire);
    mf_free(f);
    return ok;
}

/* The ticket inside the client's current session blob: its length, and
 * whether every byte is `fill`. */
static size_t session_ticket(ferrule_conn *c, uint8_t fill, int *uniform) {
    static uint8_t blob[70000];
    size_t len = 0;
    *uniform = 0;
    if (ferrule_conn_session(c, blob, sizeof(blob), &len) != FERRULE_OK) return 0;
    size_t off = ticket_offset(blob), n = (size_t)blob[off - 2] << 8 | blob[off - 1];
    *uniform = 1;
    for (size_t i = 0; i < n; i++)
        if (blob[off + i] != fill) *uniform = 0;
    return n;
}

TEST(ticket_flood_is_bounded) {
    /* A server may send any number of NewSessionTickets (RFC 8446 §4.6.1).
     * The client keeps the newest only, and each one costs O(its size):
     * after the first, 10,000 more allocate nothing, leave the memory in use
     * unchanged, and cost the same whatever the size of the server's chain
     * (two certificates, or ten). */
    const char *kinds[2] = {"small chain", "large chain"};
    size_t flood_bytes[2] = {0, 0}, chain[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        flood *fl = calloc(1, sizeof(*fl));
        REQUIRE(fl != NULL);
        REQUIRE(flood_init(fl, k == 0 ? pair_server_config("ecdsa-p256") : pair_big_chain_server_config()));
        ferrule_conn *c = fl->m.p.client;
        for (size_t i = 0; i < ferrule_conn_peer_cert_count(c); i++) {
            const uint8_t *der;
            size_t len;
            CHECK_EQ(ferrule_conn_peer_cert(c, i, &der, &len), FERRULE_OK);
            chain[k] += len;
        }
        CHECK(flood_send(fl, 1, 200));
        size_t used = ferrule_conn_memory_used(c);
        counting before = fl->count;
        uint64_t records = fl->seq;
        CHECK(flood_send(fl, 10000, 200));
        records = fl->seq - records;
        CHECK_EQ(fl->sent, 10001);
        /* Per record, the connection's reassembly buffer (released when a
         * record ends with a whole message), and at most as often the input
         * buffer (released when the input fed so far is all processed);
         * nothing per ticket. */
        CHECK(fl->count.allocs - before.allocs <= 2 * records);
        flood_bytes[k] = fl->count.bytes - before.bytes;
        fprintf(stderr, "  %s: chain %zu bytes; 10000 tickets in %llu records: %zu allocations, %zu bytes\n",
                kinds[k], chain[k], (unsigned long long)records, fl->count.allocs - before.allocs,
                flood_bytes[k]);
        CHECK_EQ(ferrule_conn_memory_used(c), used);
        /* The session is the newest ticket's (number 10000). */
        int uniform = 0;
        CHECK_EQ(session_ticket(c, (uint8_t)10000, &uniform), 200);
        CHECK(uniform);
        mitm_free(&fl->m);
        free(fl);
    }
    CHECK(chain[1] > chain[0] + 4000);
    CHECK_EQ(flood_bytes[0], flood_bytes[1]);
}

TEST(ticket_flood_of_growing_tickets) {
    /* Tickets of growing sizes (up to 16,000 bytes): the buffer
     * doubles, so a handful of allocations, and the session follows. */
    flood *fl = calloc(1, sizeof(*fl));
    REQUIRE(fl != NULL);
    REQUIRE(flood_init(fl, pair_server_config("ecdsa-p256")));
    counting before = fl->count;
    size_t last = 0;
    for (size_t len = 1; len <= 16000; len += 97) CHECK(flood_send(fl, 1, last = len));
    /* One record per ticket: a reassembly buffer and an input buffer each
     * (both released once the record is processed), and seven buffers for
     * the ticket (256 bytes doubled up to 16 KiB). */
    CHECK(fl->count.allocs - before.allocs <= 2 * fl->sent + 7);
    int uniform = 0;
    CHECK_EQ(session_ticket(fl->m.p.client, (uint8_t)(fl->sent - 1), &uniform), last);
    CHECK(uniform);
    mitm_free(&fl->m);
    free(fl);
}

/* ---- a session whose ticket cannot fit in a ClientHello (issue 9 E) -------- */

/* `blob` (len bytes) with its ticket replaced by `n` bytes of `fill`, in
 * out; returns the new length. */
static size_t with_ticket(const uint8_t *blob, size_t len, size_t n, uint8_t fill, uint8_t *out) {
    size_t off = ticket_offset(blob), old = (size_t)blob[off - 2] << 8 | blob[off - 1];
    memcpy(out, blob, off - 2);
    out[off - 2] = (uint8_t)(n >> 8);
    out[off - 1] = (uint8_t)n;
    memset(out + off, fill, n);
    memcpy(out + off + n, blob + off + old, len - off - old);
    return len - old + n;
}

/* Handshake offering `blob`; the size of the client's first flight. */
static size_t offer_run(run *r, ferrule_config *cc, ferrule_config *sc, const uint8_t *blob,
                        size_t len) {
    memset(r, 0, sizeof(*r));
    pair p;
    size_t first = 0;
    if (!pair_new(&p, cc, sc, NULL)) return 0;
    if (ferrule_conn_set_session(p.client, blob, len) == FERRULE_OK &&
        ferrule_conn_handshake(p.client) == FERRULE_WANT_READ) {
        first = ferrule_conn_pending_output(p.client);
        r->ok = pair_handshake(&p, &r->cs, &r->ss);
        r->c_resumed = ferrule_conn_resumed(p.client);
        r->s_resumed = ferrule_conn_resumed(p.server);
    }
    pair_free(&p);
    return first;
}

TEST(oversized_ticket_is_full_handshake) {
    /* RFC 8446 §4.6.1 allows tickets of up to 2^16-1 bytes, but a
     * ClientHello's extensions<8..2^16-1> cannot hold one that large beside
     * the other extensions: such a session is not offered (full handshake),
     * and does not allow 0-RTT either. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_set_early_data(cc, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_early_data(sc, NULL), FERRULE_OK);
    run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    uint8_t *big = malloc(70000 + sizeof(a->sess));
    REQUIRE(a != NULL && b != NULL && big != NULL);
    do_run(a, cc, sc, NULL, NULL, 0);
    REQUIRE(a->have_sess);
    /* Offered: an unknown 60,000-byte ticket goes out (and is declined).
     * The ClientHello is held several times while it is sent (session,
     * message, transcript copy, records): more than the default memory
     * ceiling allows for this size. */
    ferrule_config *cc_1m = client_cfg();
    REQUIRE(cc_1m != NULL);
    CHECK_EQ(ferrule_config_set_memory_limit(cc_1m, 1u << 20), FERRULE_OK);
    size_t n = with_ticket(a->sess, a->sess_len, 60000, 0x5a, big);
    size_t first = offer_run(b, cc_1m, sc, big, n);
    CHECK(first > 60000);
    CHECK(b->ok);
    CHECK_EQ(b->c_resumed, 0);
    /* Not offered: 65,000 bytes; the handshake is a plain full one, with
     * any memory ceiling. */
    n = with_ticket(a->sess, a->sess_len, 65000, 0x5a, big);
    for (int i = 0; i < 2; i++) {
        first = offer_run(b, i == 0 ? cc : cc_1m, sc, big, n);
        CHECK(first > 0 && first < 4096);
        CHECK(b->ok);
        CHECK_EQ(b->c_resumed, 0);
        CHECK_EQ(b->s_resumed, 0);
    }
    /* ... and no 0-RTT with it. */
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, big, n), FERRULE_OK);
    size_t w = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"x", 1,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &w),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_NO_EARLY_DATA);
    CHECK(pair_handshake(&p, NULL, NULL));
    CHECK_EQ(ferrule_conn_resumed(p.client), 0);
    pair_free(&p);
    /* The real session still resumes. */
    do_run(b, cc, sc, NULL, a->sess, a->sess_len);
    CHECK(b->ok && b->c_resumed && b->s_resumed);
    free(a);
    free(b);
    free(big);
    ferrule_config_free(cc_1m);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- issuing and accepting are separate (issue 9 item 13) ------------------ */

static int set_accept(ferrule_config *sc, uint32_t accept, uint32_t identity) {
    ferrule_resumption_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.accept = accept;
    o.client_identity = identity;
    return ferrule_config_set_resumption(sc, &o);
}

TEST(tickets_0_stops_issuing_refuse_stops_accepting) {
    /* Three servers sharing a ticket key: one issuing (default), one
     * issuing none (tickets 0) that still accepts the first one's tickets,
     * one refusing resumption, which resumes nothing and issues nothing
     * even with tickets 2. */
    ferrule_config *cc = client_cfg(), *issuer = server_cfg(), *quiet = server_cfg(),
                   *refuser = server_cfg();
    REQUIRE(cc != NULL && issuer != NULL && quiet != NULL && refuser != NULL);
    uint8_t name[16] = {9}, key[32] = {9};
    CHECK_EQ(ferrule_config_set_ticket_key(issuer, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(quiet, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(refuser, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_tickets(quiet, 0), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_tickets(refuser, 2), FERRULE_OK);
    CHECK_EQ(set_accept(refuser, FERRULE_RESUME_REFUSE, 0), FERRULE_OK);
    run a, b;
    do_run(&a, cc, issuer, NULL, NULL, 0);
    REQUIRE(a.have_sess);
    do_run(&b, cc, quiet, NULL, a.sess, a.sess_len);
    CHECK(b.ok && b.c_resumed && b.s_resumed);
    CHECK_EQ(b.have_sess, 0);
    do_run(&b, cc, refuser, NULL, a.sess, a.sess_len);
    CHECK(b.ok);
    CHECK_EQ(b.c_resumed, 0);
    CHECK_EQ(b.s_resumed, 0);
    CHECK_EQ(b.have_sess, 0);
    /* Accepting again (explicitly the default) on a fresh config. */
    ferrule_config *again = server_cfg();
    REQUIRE(again != NULL);
    CHECK_EQ(ferrule_config_set_ticket_key(again, name, key), FERRULE_OK);
    CHECK_EQ(set_accept(again, FERRULE_RESUME_ACCEPT, FERRULE_RESUME_IDENTITY_RECHECK), FERRULE_OK);
    do_run(&b, cc, again, NULL, a.sess, a.sess_len);
    CHECK(b.ok && b.s_resumed && b.have_sess);
    ferrule_config_free(again);
    ferrule_config_free(cc);
    ferrule_config_free(issuer);
    ferrule_config_free(quiet);
    ferrule_config_free(refuser);
}

TEST(set_resumption_api) {
    ferrule_config *sc = server_cfg(), *cc = client_cfg();
    REQUIRE(sc != NULL && cc != NULL);
    CHECK_EQ(ferrule_sizeof_resumption_options(), sizeof(ferrule_resumption_options));
    CHECK_EQ(ferrule_config_set_resumption(sc, NULL), FERRULE_OK); /* the defaults */
    CHECK_EQ(ferrule_config_set_resumption(NULL, NULL), FERRULE_USAGE);
    /* Server policies only. */
    CHECK_EQ(set_accept(cc, FERRULE_RESUME_REFUSE, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(set_accept(sc, 2, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(set_accept(sc, 0, 2), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    /* Versioned struct: reserved0, a larger struct with non-zero tail, too
     * small a struct_size. */
    struct {
        ferrule_resumption_options o;
        uint32_t extra;
    } big;
    memset(&big, 0, sizeof(big));
    big.o.struct_size = (uint32_t)sizeof(big);
    CHECK_EQ(ferrule_config_set_resumption(sc, &big.o), FERRULE_OK);
    big.extra = 1;
    CHECK_EQ(ferrule_config_set_resumption(sc, &big.o), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_BAD_STRUCT);
    big.extra = 0;
    big.o.reserved0 = 1;
    CHECK_EQ(ferrule_config_set_resumption(sc, &big.o), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_BAD_STRUCT);
    big.o.reserved0 = 0;
    big.o.struct_size = 2;
    CHECK_EQ(ferrule_config_set_resumption(sc, &big.o), FERRULE_USAGE);
    /* An older caller's shorter struct: the missing fields are defaults. */
    big.o.struct_size = 8;
    big.o.accept = FERRULE_RESUME_REFUSE;
    big.o.client_identity = 7; /* beyond struct_size: not read */
    CHECK_EQ(ferrule_config_set_resumption(sc, &big.o), FERRULE_OK);
    CHECK_EQ(sc->resume.accept, FERRULE_RESUME_REFUSE);
    CHECK_EQ(sc->resume.client_identity, FERRULE_RESUME_IDENTITY_RECHECK);
    /* Frozen once in use. */
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, sc, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_resumption(sc, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_FROZEN);
    ferrule_conn_free(c);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- resumption with client certificates (issue 9 item 14) ----------------- */

/* A server (ecdsa-p256, the shared ticket key 0x44) asking for client
 * certificates in `mode`, trusting root.pem for them. */
static ferrule_config *auth_server(uint32_t mode, uint32_t identity) {
    ferrule_config *sc = server_cfg();
    uint8_t name[16] = {0x44}, key[32] = {0x44};
    if (sc == NULL || ferrule_config_set_ticket_key(sc, name, key) != FERRULE_OK ||
        (mode != FERRULE_CLIENT_AUTH_NONE &&
         (ferrule_config_set_client_auth(sc, mode) != FERRULE_OK ||
          ferrule_config_add_trust_file(sc, pair_pki("root.pem")) != FERRULE_OK)) ||
        set_accept(sc, FERRULE_RESUME_ACCEPT, identity) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

/* A client with the `kind` chain as its certificate (NULL: none). */
static ferrule_config *auth_client(const char *kind) {
    ferrule_config *cc = client_cfg();
    char chain[64], key[64];
    if (cc == NULL || kind == NULL) return cc;
    snprintf(chain, sizeof(chain), "%s.chain.pem", kind);
    snprintf(key, sizeof(key), "%s.key", kind);
    if (ferrule_config_add_cert_chain_file(cc, pair_pki(chain), pair_pki(key)) != FERRULE_OK) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}

/* One handshake (offering `sess` if given) and what the server saw of the
 * client. */
typedef struct arun {
    int ok, cs, ss, c_resumed, s_resumed;
    uint32_t s_reason;
    size_t s_certs, s_path;
    uint8_t leaf[4096];
    size_t leaf_len;
    int64_t leaf_not_after;
    uint8_t sess[8192];
    size_t sess_len;
    int have_sess;
} arun;

static void auth_run(arun *r, ferrule_config *cc, ferrule_config *sc, const uint8_t *sess,
                     size_t len) {
    memset(r, 0, sizeof(*r));
    pair p;
    if (!pair_new(&p, cc, sc, NULL)) return;
    if (sess != NULL && ferrule_conn_set_session(p.client, sess, len) != FERRULE_OK) {
        pair_free(&p);
        return;
    }
    r->ok = pair_handshake(&p, &r->cs, &r->ss);
    r->s_reason = ferrule_conn_reason(p.server);
    r->c_resumed = ferrule_conn_resumed(p.client);
    r->s_resumed = ferrule_conn_resumed(p.server);
    r->s_certs = ferrule_conn_peer_cert_count(p.server);
    const ferrule_verify_result *vr = ferrule_conn_verify_result(p.server);
    r->s_path = vr != NULL ? ferrule_verify_result_path_length(vr) : 0;
    const uint8_t *der = NULL;
    if (r->s_certs > 0 && ferrule_conn_peer_cert(p.server, 0, &der, &r->leaf_len) == FERRULE_OK &&
        r->leaf_len <= sizeof(r->leaf)) {
        memcpy(r->leaf, der, r->leaf_len);
        /* The connection keeps DER only: parsed on demand. */
        ferrule_cert *leaf = NULL;
        if (ferrule_conn_peer_cert_parse(p.server, 0, &leaf, NULL) == FERRULE_OK &&
            ferrule_cert_validity(leaf, NULL, &r->leaf_not_after) != FERRULE_OK)
            r->leaf_not_after = 0;
        ferrule_cert_free(leaf);
    }
    if (r->ok) {
        size_t n = 0;
        uint8_t buf[16];
        if (ferrule_conn_write(p.client, (const uint8_t *)"ping", 4, &n) != FERRULE_OK) r->ok = 0;
        pair_move(p.client, p.server);
        if (ferrule_conn_read(p.server, buf, sizeof(buf), &n) != FERRULE_OK) r->ok = 0;
        pump_tickets(&p);
        r->have_sess =
            ferrule_conn_session(p.client, r->sess, sizeof(r->sess), &r->sess_len) == FERRULE_OK;
    }
    pair_free(&p);
}

TEST(client_auth_require_resumes_with_identity) {
    /* The ticket carries the client's chain; the resumed connection shows
     * it and validates it again (a verify result), and so does the next
     * resumption, from the resumed connection's own ticket.  A resumed
     * handshake has no CertificateRequest (RFC 8446 §4.3.2). */
    ferrule_config *cc = auth_client("rsa"), *sc = auth_server(FERRULE_CLIENT_AUTH_REQUIRE, 0);
    REQUIRE(cc != NULL && sc != NULL);
    arun *a = calloc(3, sizeof(*a));
    REQUIRE(a != NULL);
    auth_run(&a[0], cc, sc, NULL, 0);
    REQUIRE(a[0].ok && a[0].have_sess);
    CHECK_EQ(a[0].s_certs, 2);
    CHECK_EQ(a[0].s_path, 3); /* leaf, intermediate, root */
    for (int i = 1; i < 3; i++) {
        auth_run(&a[i], cc, sc, a[i - 1].sess, a[i - 1].sess_len);
        CHECK(a[i].ok && a[i].c_resumed && a[i].s_resumed);
        CHECK_EQ(a[i].s_certs, 2);
        CHECK_EQ(a[i].s_path, 3);
        CHECK(a[i].leaf_len == a[0].leaf_len && memcmp(a[i].leaf, a[0].leaf, a[0].leaf_len) == 0);
        CHECK(a[i].have_sess);
    }
    /* A resumed flight has no CertificateRequest: much smaller. */
    size_t sizes[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        pair p;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        if (i == 1) CHECK_EQ(ferrule_conn_set_session(p.client, a[0].sess, a[0].sess_len), FERRULE_OK);
        CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
        pair_move(p.client, p.server);
        CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
        sizes[i] = ferrule_conn_pending_output(p.server);
        CHECK_EQ(p.server->cauth.requested, i == 0);
        pair_free(&p);
    }
    CHECK(sizes[1] + 500 < sizes[0]);
    free(a);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(client_auth_request_resumes_as_it_was) {
    /* REQUEST (optional): an authenticated ticket resumes with its
     * identity, an anonymous one resumes unauthenticated. */
    ferrule_config *with = auth_client("ecdsa-p256"), *without = auth_client(NULL);
    ferrule_config *sc = auth_server(FERRULE_CLIENT_AUTH_REQUEST, 0);
    REQUIRE(with != NULL && without != NULL && sc != NULL);
    arun *a = calloc(2, sizeof(*a));
    REQUIRE(a != NULL);
    auth_run(&a[0], with, sc, NULL, 0);
    REQUIRE(a[0].ok && a[0].have_sess);
    auth_run(&a[1], with, sc, a[0].sess, a[0].sess_len);
    CHECK(a[1].ok && a[1].s_resumed);
    CHECK_EQ(a[1].s_certs, 2);
    CHECK_EQ(a[1].s_path, 3);
    auth_run(&a[0], without, sc, NULL, 0);
    REQUIRE(a[0].ok && a[0].have_sess);
    CHECK_EQ(a[0].s_certs, 0);
    auth_run(&a[1], without, sc, a[0].sess, a[0].sess_len);
    CHECK(a[1].ok && a[1].s_resumed);
    CHECK_EQ(a[1].s_certs, 0);
    CHECK_EQ(a[1].s_path, 0);
    free(a);
    ferrule_config_free(with);
    ferrule_config_free(without);
    ferrule_config_free(sc);
}

TEST(anonymous_ticket_never_resumes_under_require) {
    /* Tickets without a client identity -- from a server that asked for
     * none, or from an optional one the client answered without a
     * certificate -- do not resume on a server that requires one (the
     * same ticket key): a full handshake asks for the certificate. */
    ferrule_config *with = auth_client("ecdsa-p256"), *without = auth_client(NULL);
    ferrule_config *none = auth_server(FERRULE_CLIENT_AUTH_NONE, 0);
    ferrule_config *optional = auth_server(FERRULE_CLIENT_AUTH_REQUEST, 0);
    ferrule_config *require = auth_server(FERRULE_CLIENT_AUTH_REQUIRE, 0);
    REQUIRE(with && without && none && optional && require);
    arun *a = calloc(2, sizeof(*a));
    REQUIRE(a != NULL);
    ferrule_config *issuers[2] = {none, optional};
    for (int i = 0; i < 2; i++) {
        auth_run(&a[0], without, issuers[i], NULL, 0);
        REQUIRE(a[0].have_sess);
        /* A client without a certificate: certificate_required. */
        auth_run(&a[1], without, require, a[0].sess, a[0].sess_len);
        CHECK_EQ(a[1].ok, 0);
        CHECK_EQ(a[1].s_resumed, 0);
        CHECK_EQ(a[1].s_reason, FERRULE_R_CERT_REQUIRED);
        /* One with a certificate: a full handshake with it. */
        auth_run(&a[0], with, issuers[i], NULL, 0);
        REQUIRE(a[0].have_sess);
        CHECK_EQ(a[0].s_certs, i == 0 ? 0 : 2);
        if (i == 1) { /* it authenticated: that ticket resumes */
            auth_run(&a[1], with, require, a[0].sess, a[0].sess_len);
            CHECK(a[1].ok && a[1].s_resumed);
            CHECK_EQ(a[1].s_certs, 2);
            continue;
        }
        auth_run(&a[1], with, require, a[0].sess, a[0].sess_len);
        CHECK(a[1].ok);
        CHECK_EQ(a[1].s_resumed, 0);
        CHECK_EQ(a[1].s_certs, 2);
    }
    /* The other way: a ticket with an identity on a server that asks for
     * none resumes, and the identity stays out of sight. */
    auth_run(&a[0], with, require, NULL, 0);
    REQUIRE(a[0].have_sess);
    auth_run(&a[1], with, none, a[0].sess, a[0].sess_len);
    CHECK(a[1].ok && a[1].s_resumed);
    CHECK_EQ(a[1].s_certs, 0);
    CHECK_EQ(a[1].s_path, 0);
    free(a);
    ferrule_config *all[5] = {with, without, none, optional, require};
    for (int i = 0; i < 5; i++) ferrule_config_free(all[i]);
}

TEST(expired_client_identity_per_policy) {
    /* A ticket (one day) outliving the client's certificate: RECHECK (the
     * default) validates the chain now, so it is not used and the full
     * handshake refuses the expired certificate; KEEP validates it as of
     * the full handshake, for at most a day after it, even through a
     * chain of resumptions. */
    ferrule_config *cc = auth_client("ecdsa-p256");
    ferrule_config *recheck = auth_server(FERRULE_CLIENT_AUTH_REQUIRE, FERRULE_RESUME_IDENTITY_RECHECK);
    ferrule_config *keep = auth_server(FERRULE_CLIENT_AUTH_REQUIRE, FERRULE_RESUME_IDENTITY_KEEP);
    REQUIRE(cc != NULL && recheck != NULL && keep != NULL);
    /* Past the leaves' notAfter the server's certificate has expired too:
     * this client does not check it (the server's view is the point). */
    CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
    arun *a = calloc(3, sizeof(*a));
    REQUIRE(a != NULL);
    clock_offset = 0;
    auth_run(&a[0], cc, recheck, NULL, 0);
    REQUIRE(a[0].ok && a[0].leaf_not_after > 0);
    int64_t to_expiry = a[0].leaf_not_after - (int64_t)time(NULL);
    /* Full handshakes an hour before expiry, resumptions an hour after. */
    ferrule_config *servers[2] = {recheck, keep};
    for (int k = 0; k < 2; k++) {
        clock_offset = to_expiry - 3600;
        auth_run(&a[0], cc, servers[k], NULL, 0);
        CHECK(a[0].ok && a[0].have_sess);
        if (!a[0].have_sess) break; /* (the clock is reset below) */
        clock_offset = to_expiry + 3600;
        auth_run(&a[1], cc, servers[k], a[0].sess, a[0].sess_len);
        if (k == 0) {
            CHECK_EQ(a[1].ok, 0);
            CHECK_EQ(a[1].s_resumed, 0);
            CHECK_EQ(a[1].s_reason, FERRULE_R_CERT_EXPIRED);
        } else {
            CHECK(a[1].ok && a[1].s_resumed);
            CHECK_EQ(a[1].s_certs, 2);
            CHECK_EQ(a[1].s_path, 3);
            CHECK(a[1].have_sess);
            if (!a[1].have_sess) break;
            /* 25 hours after the full handshake, with the ticket the
             * resumed connection got an hour ago: too late. */
            clock_offset = to_expiry - 3600 + 25 * 3600;
            auth_run(&a[2], cc, servers[k], a[1].sess, a[1].sess_len);
            CHECK_EQ(a[2].s_resumed, 0);
            CHECK_EQ(a[2].s_reason, FERRULE_R_CERT_EXPIRED);
        }
    }
    clock_offset = 0;
    free(a);
    ferrule_config_free(cc);
    ferrule_config_free(recheck);
    ferrule_config_free(keep);
}

/* A verify callback that counts its calls and refuses when *ctx says so. */
typedef struct vcb {
    int calls, refuse;
} vcb;
static int count_verify(void *ctx, const ferrule_conn *conn, const ferrule_verify_result *r) {
    vcb *v = ctx;
    (void)conn;
    (void)r;
    v->calls++;
    return v->refuse;
}

TEST(verify_callback_judges_resumed_identity) {
    /* The application's callback sees the resumed identity too: one that
     * now refuses it turns the resumption into a full handshake (which it
     * refuses as well: cert_rejected). */
    ferrule_config *cc = auth_client("ecdsa-p256"), *sc = auth_server(FERRULE_CLIENT_AUTH_REQUIRE, 0);
    vcb v = {0, 0};
    REQUIRE(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_set_verify_callback(sc, count_verify, &v), FERRULE_OK);
    arun *a = calloc(2, sizeof(*a));
    REQUIRE(a != NULL);
    auth_run(&a[0], cc, sc, NULL, 0);
    REQUIRE(a[0].have_sess);
    CHECK_EQ(v.calls, 1);
    auth_run(&a[1], cc, sc, a[0].sess, a[0].sess_len);
    CHECK(a[1].ok && a[1].s_resumed);
    CHECK_EQ(v.calls, 2);
    v.refuse = 1;
    auth_run(&a[1], cc, sc, a[0].sess, a[0].sess_len);
    CHECK_EQ(a[1].s_resumed, 0);
    CHECK_EQ(a[1].s_reason, FERRULE_R_CERT_REJECTED);
    CHECK_EQ(v.calls, 4);
    free(a);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- crafted ticket states (the server's parser of its own format) ------- */

/* Seal `state` as our server would under (name, key): key_name || nonce ||
 * ChaCha20-Poly1305(state) || tag, docs/resumption.md. */
static size_t seal_ticket(const uint8_t name[16], const uint8_t key[32], const uint8_t *state,
                          size_t n, uint8_t *out) {
    uint8_t secret[32];
    fr_aead a;
    memset(&a, 0, sizeof(a));
    memcpy(out, name, 16);
    memset(out + 16, 0x77, 12);
    if (fr_hkdf_expand_label(FR_HASH_SHA256, key, "fr ticket", out + 16, 12, secret, 32) != FR_OK ||
        fr_aead_init(&a, FERRULE_TLS_CHACHA20_POLY1305_SHA256, secret, 1) != FR_OK)
        return 0;
    memcpy(out + 28, state, n);
    fr_err e = fr_aead_seal(&a, out, 16, out + 28, n, out + 28 + n);
    fr_aead_free(&a);
    return e == FR_OK ? 28 + n + 16 : 0;
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* A version 3 state for "localhost", PSK 0x33.., issued now, followed by
 * `identity` (its flag byte and what follows). */
static size_t make_state(uint8_t *out, const uint8_t *identity, size_t id_len) {
    size_t n = 0;
    out[n++] = 3;
    out[n++] = 0x13;
    out[n++] = 0x01;
    out[n++] = 32;
    memset(out + n, 0x33, 32);
    n += 32;
    put_u64(out + n, (uint64_t)test_now(NULL));
    n += 8;
    const uint8_t rest[8] = {0, 0, 0x0e, 0x10, 0, 0, 0, 0}; /* lifetime 3600, age_add 0 */
    memcpy(out + n, rest, 8);
    n += 8;
    out[n++] = 0; /* alpn */
    out[n++] = 9;
    memcpy(out + n, "localhost", 9);
    n += 9;
    memset(out + n, 0, 4 + 16); /* max_early_data, store id */
    n += 20;
    memcpy(out + n, identity, id_len);
    return n + id_len;
}

/* The client's blob for that PSK and `ticket`. */
static size_t make_blob(uint8_t *out, const uint8_t *ticket, size_t ticket_len) {
    size_t n = 0;
    out[n++] = 2;
    out[n++] = 0x13;
    out[n++] = 0x01;
    out[n++] = 32;
    memset(out + n, 0x33, 32);
    n += 32;
    put_u64(out + n, (uint64_t)test_now(NULL));
    n += 8;
    const uint8_t rest[8] = {0, 0, 0x0e, 0x10, 0, 0, 0, 0};
    memcpy(out + n, rest, 8);
    n += 8;
    out[n++] = (uint8_t)(ticket_len >> 8);
    out[n++] = (uint8_t)ticket_len;
    memcpy(out + n, ticket, ticket_len);
    n += ticket_len;
    out[n++] = 0;
    out[n++] = 9;
    memcpy(out + n, "localhost", 9);
    n += 9;
    memset(out + n, 0, 1 + 4); /* no certificates, max_early_data 0 */
    return n + 5;
}

TEST(crafted_identities) {
    /* Tickets under the server's key whose identity field is well formed
     * (resumes with it) or not (flag 2, no certificates, 17, an empty or
     * truncated certificate, a time beyond int64, trailing bytes), or
     * whose chain does not validate: those are unusable tickets, i.e. a
     * full handshake, never a failure. */
    ferrule_config *cc = auth_client("ecdsa-p256"), *sc = auth_server(FERRULE_CLIENT_AUTH_REQUIRE, 0);
    REQUIRE(cc != NULL && sc != NULL);
    /* The real chain the client sends, from a full handshake. */
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(pair_handshake(&p, NULL, NULL));
    static uint8_t good[8192], id[8192 + 64], state[16384], ticket[16384 + 64], blob[20000];
    size_t g = 0;
    for (size_t i = 0; i < ferrule_conn_peer_cert_count(p.server); i++) {
        const uint8_t *der;
        size_t len;
        REQUIRE(ferrule_conn_peer_cert(p.server, i, &der, &len) == FERRULE_OK && g + len < 8000);
        good[g++] = (uint8_t)(len >> 16);
        good[g++] = (uint8_t)(len >> 8);
        good[g++] = (uint8_t)len;
        memcpy(good + g, der, len);
        g += len;
    }
    pair_free(&p);
    uint8_t name[16] = {0x44}, key[32] = {0x44};
    struct {
        const char *what;
        uint8_t flag, n;
        uint64_t at;
        size_t chain_len; /* bytes of `good` */
        int tail;
        int resumes;
    } cases[] = {
        {"valid", 1, 2, (uint64_t)test_now(NULL), g, 0, 1},
        /* Well formed, but the leaf alone does not validate (no
         * intermediate): not used either. */
        {"leaf only", 1, 1, (uint64_t)test_now(NULL), 3 + ((size_t)good[1] << 8 | good[2]), 0, 0},
        {"flag 2", 2, 2, 0, g, 0, 0},
        {"no certificates", 1, 0, 0, 0, 0, 0},
        {"17 certificates", 1, 17, 0, g, 0, 0},
        {"count above the list", 1, 3, 0, g, 0, 0},
        {"truncated", 1, 2, 0, g - 1, 0, 0},
        {"time beyond int64", 1, 2, (uint64_t)1 << 63, g, 0, 0},
        {"trailing byte", 1, 2, 0, g, 1, 0},
        {"empty certificate", 1, 1, 0, 3, 0, 0},
    };
    memset(good + g, 0, 8); /* the "empty certificate" case reads 3 zero bytes at the front */
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t n = 0;
        id[n++] = cases[k].flag;
        if (cases[k].flag != 0) {
            put_u64(id + n, cases[k].at);
            n += 8;
            id[n++] = cases[k].n;
            if (strcmp(cases[k].what, "empty certificate") == 0) {
                memset(id + n, 0, 3);
                n += 3;
            } else {
                memcpy(id + n, good, cases[k].chain_len);
                n += cases[k].chain_len;
            }
        }
        if (cases[k].tail) id[n++] = 0;
        size_t sl = make_state(state, id, n);
        size_t tl = seal_ticket(name, key, state, sl, ticket);
        REQUIRE(tl > 0);
        size_t bl = make_blob(blob, ticket, tl);
        arun r;
        auth_run(&r, cc, sc, blob, bl);
        if (!r.ok || r.s_resumed != cases[k].resumes) {
            fprintf(stderr, "  %s: ok %d resumed %d (want %d)\n", cases[k].what, r.ok,
                    r.s_resumed, cases[k].resumes);
            tl_failures_in_test++;
        }
        CHECK_EQ(r.s_certs, 2); /* from the ticket, or from the full handshake */
    }
    /* A version 2 ticket (before identities) is an anonymous one: not on
     * a server requiring a certificate, unauthenticated on an optional one. */
    ferrule_config *optional = auth_server(FERRULE_CLIENT_AUTH_REQUEST, 0);
    REQUIRE(optional != NULL);
    static const uint8_t none[1];
    size_t sl = make_state(state, none, 0);
    state[0] = 2;
    size_t bl = make_blob(blob, ticket, seal_ticket(name, key, state, sl, ticket));
    arun r;
    auth_run(&r, cc, sc, blob, bl);
    CHECK(r.ok);
    CHECK_EQ(r.s_resumed, 0);
    auth_run(&r, cc, optional, blob, bl);
    CHECK(r.ok && r.s_resumed);
    CHECK_EQ(r.s_certs, 0);
    ferrule_config_free(optional);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(session_survives_a_later_failure) {
    /* A ticket received, then the connection fails (a garbage record from
     * the "server"): its secrets are wiped, but the session taken after
     * that still carries the PSK of the ticket and resumes.  (The blob was
     * built from the wiped resumption secret: the resumption then failed
     * with bad_binder instead of resuming.) */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    int cs, ss;
    REQUIRE(pair_handshake(&p, &cs, &ss));
    pump_tickets(&p);
    static const uint8_t garbage[8] = {23, 3, 3, 0, 3, 1, 2, 3};
    size_t n = 0;
    CHECK_EQ(ferrule_conn_feed(p.client, garbage, sizeof(garbage), &n), FERRULE_OK);
    uint8_t buf[16];
    CHECK(ferrule_conn_read(p.client, buf, sizeof(buf), &n) != FERRULE_OK);
    CHECK(ferrule_conn_status(p.client) != FERRULE_OK);
    uint8_t sess[8192];
    size_t sess_len = 0;
    CHECK_EQ(ferrule_conn_session(p.client, sess, sizeof(sess), &sess_len), FERRULE_OK);
    pair_free(&p);
    run b;
    do_run(&b, cc, sc, NULL, sess, sess_len);
    CHECK(b.ok);
    CHECK_EQ(b.c_resumed, 1);
    CHECK_EQ(b.s_resumed, 1);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST_MAIN("resumption", TL_CASE(session_survives_a_later_failure), TL_CASE(no_server_name_ack_when_resuming), TL_CASE(second_hello_keeps_compatible_psks), TL_CASE(fresh_hello_advertises_psk_modes), TL_CASE(second_hello_keeps_psk_modes), TL_CASE(no_tickets_for_modes_not_advertised), TL_CASE(psk_ke_is_opt_in), TL_CASE(resumes_after_hello_retry_request), TL_CASE(server_forgets_resumption_secret_after_tickets), TL_CASE(full_then_resume), TL_CASE(no_certificate_on_the_wire_when_resumed), TL_CASE(ticket_flood_is_bounded), TL_CASE(ticket_flood_of_growing_tickets), TL_CASE(oversized_ticket_is_full_handshake), TL_CASE(tickets_0_stops_issuing_refuse_stops_accepting), TL_CASE(set_resumption_api), TL_CASE(client_auth_require_resumes_with_identity), TL_CASE(client_auth_request_resumes_as_it_was), TL_CASE(anonymous_ticket_never_resumes_under_require), TL_CASE(expired_client_identity_per_policy), TL_CASE(verify_callback_judges_resumed_identity), TL_CASE(crafted_identities),
          TL_CASE(tickets_count_and_disable), TL_CASE(session_api_misuse),
          TL_CASE(blob_parser_negatives), TL_CASE(session_size_independent_of_chain),
          TL_CASE(long_chain_not_kept_parsed), TL_CASE(resumed_peer_cert_accessors),
          TL_CASE(malformed_stored_leaf), TL_CASE(old_version_blobs), TL_CASE(tampered_ticket_is_full_handshake),
          TL_CASE(tampered_binder_is_decrypt_error), TL_CASE(expired_session_not_offered),
          TL_CASE(expired_ticket_refused_by_server), TL_CASE(key_rotation),
          TL_CASE(fleet_shares_keys), TL_CASE(different_sni_not_resumed),
          TL_CASE(different_hash_not_resumed))
