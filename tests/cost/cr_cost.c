/* cr_cost.c - the work a client does for a server flight whose
 * CertificateRequest carries the largest certificate_authorities list the
 * message allows (RFC 8446 §4.2.4: DistinguishedName authorities<3..2^16-1>),
 * for tools/cost.sh to count in instructions under callgrind, against the
 * same flight with an unknown extension of the same size instead.
 *
 *   cr_cost padded|certificate_authorities
 *
 * The client holds two chains and matches each of their issuers against
 * the list (none matches).  The edited flight no longer matches the
 * server's CertificateVerify, so both shapes end there, with bad_signature:
 * it exits 0 only when they do, i.e. the CertificateRequest and the
 * Certificate were taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "conn.h" /* FR_* constants */
#include "support_mitm.h"
#include "support_pair.h"

#define MSG_CAP (4 + 65536 + 64)

static ferrule_config *client_cfg(void) {
    ferrule_config *cc = pair_client_config();
    if (cc == NULL ||
        ferrule_config_add_cert_chain_file(cc, pair_pki("ecdsa-p256.chain.pem"),
                                           pair_pki("ecdsa-p256.key")) != FERRULE_OK ||
        ferrule_config_add_cert_chain_file(cc, pair_pki("rsa.chain.pem"), pair_pki("rsa.key")) !=
            FERRULE_OK) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}

static ferrule_config *server_cfg(void) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    if (sc == NULL || ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUEST) != FERRULE_OK ||
        ferrule_config_set_tickets(sc, 0) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

/* A CertificateRequest: empty context, signature_algorithms (ECDSA P-256,
 * RSA-PSS), then an extension of `big_type` whose body takes the rest of
 * the 2^16-1 byte block: DistinguishedNames for type 47, zeros otherwise. */
static size_t build_cr(uint8_t *msg, uint16_t big_type) {
    static const uint8_t sigs[] = {0, 13, 0, 6, 0, 4, 0x04, 0x03, 0x08, 0x04};
    size_t block = 0xffff, n = 0;
    msg[n++] = FR_HS_CERTIFICATE_REQUEST;
    size_t len_at = n;
    n += 3;
    msg[n++] = 0; /* certificate_request_context */
    msg[n++] = (uint8_t)(block >> 8);
    msg[n++] = (uint8_t)block;
    memcpy(msg + n, sigs, sizeof(sigs));
    n += sizeof(sigs);
    size_t body = block - sizeof(sigs) - 4;
    msg[n++] = (uint8_t)(big_type >> 8);
    msg[n++] = (uint8_t)big_type;
    msg[n++] = (uint8_t)(body >> 8);
    msg[n++] = (uint8_t)body;
    if (big_type == FR_EXT_CERTIFICATE_AUTHORITIES) {
        /* authorities<3..2^16-1>: DistinguishedNames of 19 bytes (a CN of
         * 4 digits), the remainder in the last one's name. */
        size_t list = body - 2, count = list / 19, last = list - 19 * (count - 1);
        msg[n++] = (uint8_t)(list >> 8);
        msg[n++] = (uint8_t)list;
        for (size_t i = 0; i < count; i++) {
            size_t dn = i + 1 < count ? 17 : last - 2, cn = dn - 13;
            const uint8_t hdr[15] = {(uint8_t)(dn >> 8), (uint8_t)dn, 0x30, (uint8_t)(dn - 2),
                                     0x31, (uint8_t)(dn - 4), 0x30, (uint8_t)(dn - 6),
                                     0x06, 3, 0x55, 4, 3, 0x0c, (uint8_t)cn};
            memcpy(msg + n, hdr, sizeof(hdr));
            n += sizeof(hdr);
            for (size_t k = 0; k < cn; k++) msg[n++] = (uint8_t)('0' + (i >> (k % 4 * 3)) % 8);
        }
    } else {
        memset(msg + n, 0, body);
        n += body;
    }
    size_t len = n - 4;
    msg[len_at] = (uint8_t)(len >> 16);
    msg[len_at + 1] = (uint8_t)(len >> 8);
    msg[len_at + 2] = (uint8_t)len;
    return n;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: cr_cost padded|certificate_authorities\n");
        return 2;
    }
    int cas = strcmp(argv[1], "certificate_authorities") == 0;
    if (!cas && strcmp(argv[1], "padded") != 0) return 2;
    mitm m;
    mflight *f = mf_new();
    uint8_t *msg = malloc(MSG_CAP);
    if (f == NULL || msg == NULL || !mitm_init(&m, client_cfg(), server_cfg())) return 1;
    int ok = ferrule_conn_handshake(m.p.client) == FERRULE_WANT_READ &&
             mitm_pass(m.p.client, m.p.server) &&
             ferrule_conn_handshake(m.p.server) == FERRULE_WANT_READ && mf_take(f, m.p.server);
    f->suite = ferrule_conn_cipher_suite(m.p.server);
    /* SH, CCS, then EE, CR, Certificate, CV, Finished, one record each. */
    const uint8_t *shs = mitm_secret(&m, FERRULE_ROLE_SERVER, MK_SHS);
    ok = ok && f->n == 7 && shs != NULL && mf_open(f, 2, 7, shs) == 5 &&
         f->r[3].data[0] == FR_HS_CERTIFICATE_REQUEST;
    if (ok) {
        /* The new CertificateRequest over records of 16,384 bytes. */
        size_t len = build_cr(msg, cas ? FR_EXT_CERTIFICATE_AUTHORITIES : 0x7a7a), pos = 3;
        for (size_t off = 0; ok && off < len; off += 16384, pos++) {
            size_t chunk = len - off < 16384 ? len - off : 16384;
            mrec *r = pos == 3 ? &f->r[3] : mf_insert_copy(f, pos, 3);
            ok = r != NULL;
            if (ok) {
                memcpy(r->data, msg + off, chunk);
                r->len = chunk;
            }
        }
    }
    int st = -1;
    if (ok) {
        CALLGRIND_TOGGLE_COLLECT;
        st = mf_deliver(f, m.p.client);
        CALLGRIND_TOGGLE_COLLECT;
    }
    uint32_t reason = ferrule_conn_reason(m.p.client);
    printf("%s %s %s\n", argv[1], ferrule_status_name(st), ferrule_reason_name(reason));
    mitm_free(&m);
    mf_free(f);
    free(msg);
    return ok && reason == FERRULE_R_BAD_SIGNATURE ? 0 : 1;
}
