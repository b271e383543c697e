/* test_neg_certificate_verify.c - the client refusing the server's
 * CertificateVerify (RFC 8446 §4.4.3): a corrupted or undecodable
 * signature (decrypt_error), a scheme never allowed, not offered, or not
 * matching the certificate's key (illegal_parameter).  The man in the
 * middle edits the message in the server's protected flight; the server
 * receives the client's alert.  One row per case, played by
 * support_neg.c. */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

static const char *const kinds[3] = {"ecdsa-p256", "ed25519", "rsa"};
NEG_CFG(server_of_kind) { return pair_server_config(kinds[arg]); }

NEG_EDIT(corrupt_signature) {
    /* Flip a bit in the middle of the signature: for ECDSA that lands in
     * r or s, keeping the DER well formed. */
    mrec *r = &x->f->r[4];
    size_t sig_len = (size_t)r->data[6] << 8 | r->data[7];
    CHECK(8 + sig_len == r->len);
    r->data[8 + sig_len - 3] ^= 0x10;
    return fx_flight_deliver(x);
}

NEG_EDIT(garbage_encoding) {
    /* An ECDSA "signature" that is not DER at all. */
    static const uint8_t body[2 + 2 + 5] = {0x04, 0x03, 0, 5, 1, 2, 3, 4, 5};
    fx_set_msg(&x->f->r[4], FR_HS_CERTIFICATE_VERIFY, body, sizeof(body));
    return fx_flight_deliver(x);
}

NEG_EDIT(scheme) {
    /* arg: the scheme claimed; with 0x0807 (ed25519) the client offered
     * ecdsa_secp256r1_sha256 only and the original must be that. */
    if (arg == 0x0807) CHECK(x->f->r[4].data[4] == 0x04 && x->f->r[4].data[5] == 0x03);
    x->f->r[4].data[4] = (uint8_t)(arg >> 8);
    x->f->r[4].data[5] = (uint8_t)arg;
    return fx_flight_deliver(x);
}

NEG_CFG(client_ecdsa_p256_only) {
    ferrule_config *cc = fx_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return NULL;
    const uint16_t only = FERRULE_SIG_ECDSA_SECP256R1_SHA256;
    CHECK_EQ(ferrule_config_set_signature_schemes(cc, &only, 1), FERRULE_OK);
    return cc;
}

#define CV(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define BAD_SIG NEG_FAILS(ALERT_SENT, BAD_SIGNATURE, DECRYPT_ERROR), NEG_PEER_ALERT
/* RFC 8446 §4.4.3: a scheme we did not offer, or not of the key, is
 * illegal_parameter; the reason says which field (wrong_signature_type). */
#define WRONG_TYPE NEG_FAILS(ALERT_SENT, WRONG_SIGNATURE_TYPE, ILLEGAL_PARAMETER), NEG_PEER_ALERT

static const neg_row rows[] = {
    {"cv_signature_corrupted/ecdsa-p256", CV(corrupt_signature, 0), BAD_SIG, NULL,
     server_of_kind},
    {"cv_signature_corrupted/ed25519", CV(corrupt_signature, 1), BAD_SIG, NULL, server_of_kind},
    {"cv_signature_corrupted/rsa", CV(corrupt_signature, 2), BAD_SIG, NULL, server_of_kind},
    {"cv_signature_garbage_encoding", CV(garbage_encoding, 0), BAD_SIG},
    /* rsa_pkcs1_sha256 is never allowed in CertificateVerify (BoGo
     * ServerAuth-Enforced-TLS13: WRONG_SIGNATURE_TYPE, illegal_parameter). */
    {"cv_scheme_not_offered", CV(scheme, 0x0401), WRONG_TYPE},
    /* ed25519: allowed in TLS 1.3 but not offered by this client. */
    {"cv_scheme_excluded_by_client_config", CV(scheme, 0x0807), WRONG_TYPE, client_ecdsa_p256_only},
    /* ecdsa_secp384r1_sha384 (offered) with a P-256 certificate. */
    {"cv_scheme_does_not_match_key", CV(scheme, 0x0503), WRONG_TYPE},
};

NEG_MAIN("neg_certificate_verify", rows)
