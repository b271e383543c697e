/* certificate_verify.c - CertificateVerify (RFC 8446 §4.4.3), both roles. */
#include "../conn.h"

#define CV_PREFIX_LEN 64
/* RFC 8446 §4.4.3: the context string names the signer's role, so a
 * server's signature can never be replayed as a client's or vice versa.
 * Both strings have the same length. */
static const char SERVER_CONTEXT[] = "TLS 1.3, server CertificateVerify";
static const char CLIENT_CONTEXT[] = "TLS 1.3, client CertificateVerify";
_Static_assert(sizeof(SERVER_CONTEXT) == sizeof(CLIENT_CONTEXT), "context lengths");
#define CV_CONTENT_MAX (CV_PREFIX_LEN + sizeof(SERVER_CONTEXT) + FR_MAX_HASH)

/* The signed content: 64 spaces, the signer's context string, a zero byte,
 * and the transcript hash before the CertificateVerify. */
static size_t signed_content(const fr_conn *c, uint32_t signer, uint8_t *out) {
    const char *ctx = signer == FERRULE_ROLE_SERVER ? SERVER_CONTEXT : CLIENT_CONTEXT;
    size_t n = 0;
    memset(out, 0x20, CV_PREFIX_LEN);
    n += CV_PREFIX_LEN;
    memcpy(out + n, ctx, sizeof(SERVER_CONTEXT)); /* includes the NUL */
    n += sizeof(SERVER_CONTEXT);
    memcpy(out + n, c->th_before, c->ks.hlen);
    return n + c->ks.hlen;
}

fr_err fr_send_certificate_verify(fr_conn *c) {
    uint8_t content[CV_CONTENT_MAX];
    uint8_t sig[1024];
    size_t sig_len;
    FR_ENSURE(c->our_chain != NULL && c->our_sig != 0, FERRULE_R_INTERNAL);
    /* Our CertificateVerify signs the transcript up to and including our
     * Certificate: that is the current transcript. */
    FR_TRY(fr_transcript_current(&c->th, c->th_before));
    size_t n = signed_content(c, c->role, content);
    FR_TRY(fr_sig_sign(c->our_chain->key, c->our_sig, content, n, sig, sizeof(sig), &sig_len));
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_CERTIFICATE_VERIFY, sig_len + 16));
    fr_write_u16(&m.w, c->our_sig);
    fr_write_open_vec(&m.w, 2);
    fr_write_bytes(&m.w, sig, sig_len);
    fr_write_close_vec(&m.w);
    return fr_msg_send(c, &m);
}

/* The peer's CertificateVerify.  The scheme must be one we offered: our
 * ClientHello's signature_algorithms (client) or our CertificateRequest's
 * (server), both the CV-allowed part of the schemes we accept
 * (fr_cfg_verify_sigs). */
static fr_err on_certificate_verify(fr_conn *c, fr_reader *body, uint32_t signer) {
    uint16_t scheme;
    fr_reader sig;
    FR_TRY(fr_read_u16(body, &scheme));
    FR_TRY(fr_read_vec16(body, &sig));
    FR_TRY(fr_read_done(body));
    /* RFC 8446 §4.4.3: a scheme we offered, usable in TLS 1.3 handshakes. */
    size_t n_accept;
    const uint16_t *accept = fr_cfg_verify_sigs(c->cfg, &n_accept);
    FR_ENSURE(fr_sig_allowed_in_cv(scheme) && fr_u16_in(scheme, accept, n_accept),
              FERRULE_R_WRONG_SIGNATURE_TYPE);
    FR_ENSURE(c->n_peer_certs > 0, FERRULE_R_INTERNAL);
    const fr_cert *leaf = c->peer_certs[0];
    /* RFC 8446 §4.4.2.2: the certificate MUST allow its key to sign, i.e.
     * digitalSignature when keyUsage is present.  Checked here for every
     * peer, whatever path validation did (it checks the same, but may be
     * disabled): bad_certificate, as path validation reports it. */
    FR_ENSURE(!leaf->has_key_usage || (leaf->key_usage & FR_KU_DIGITAL_SIGNATURE),
              FERRULE_R_CERT_KEY_USAGE);
    /* A key of an algorithm we do not support is never decoded (cert_parse.c):
     * unsupported_certificate, not a malformed signature. */
    EVP_PKEY *key;
    FR_TRY(fr_cert_key(leaf, &key));
    /* RFC 8446 §4.4.2.2 / §4.4.2.3: "The certificate type MUST be X.509v3"
     * (no other type can be negotiated with us); path validation accepts
     * v1 end-entity certificates (RFC 5280), TLS 1.3 does not. */
    FR_ENSURE(leaf->version == 2, FERRULE_R_CERT_UNSUPPORTED);
    /* RFC 8446 §4.4.3: a scheme of the certificate's key (a signature of
     * another algorithm is the wrong type, not a bad signature). */
    FR_ENSURE(fr_sig_key_matches(key, scheme), FERRULE_R_WRONG_SIGNATURE_TYPE);
    uint8_t content[CV_CONTENT_MAX];
    size_t n = signed_content(c, signer, content);
    FR_TRY(fr_sig_verify(key, scheme, content, n, sig.p, fr_reader_left(&sig)));
    c->peer_sig = scheme;
    /* The last use of the parsed chain: from here on the connection keeps
     * its DER only (c->peer_ders). */
    fr_conn_drop_parsed_peer(c);
    return FR_OK;
}

fr_err fr_client_on_certificate_verify(fr_conn *c, fr_reader *body) {
    return on_certificate_verify(c, body, FERRULE_ROLE_SERVER);
}

fr_err fr_server_on_certificate_verify(fr_conn *c, fr_reader *body) {
    /* RFC 8446 §4.4.3: the client's signature over the transcript up to
     * its Certificate, with the client context string. */
    return on_certificate_verify(c, body, FERRULE_ROLE_CLIENT);
}
