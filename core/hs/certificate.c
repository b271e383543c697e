/* certificate.c - Certificate (RFC 8446 §4.4.2) and the client's
 * verification of the server's chain, including the stapled OCSP response
 * carried in the leaf's CertificateEntry (RFC 8446 §4.4.2.1). */
#include "../conn.h"
#include "../x509/ocsp.h"

fr_err fr_send_certificate(fr_conn *c) {
    /* A client without a certificate answers a CertificateRequest with an
     * empty list (RFC 8446 §4.4.2). */
    static const fr_chain NONE;
    const fr_chain *ch = c->our_chain != NULL ? c->our_chain : &NONE;
    /* RFC 8446 §4.4.2.1: the OCSP response travels in the leaf's entry, and
     * only if the client sent status_request (RFC 8446 §4.4.2: entry
     * extensions answer the ClientHello). */
    int staple = c->peer_wants_status && ch->staple != NULL;
    size_t size = 64 + (staple ? ch->staple_len + 8 : 0);
    for (size_t i = 0; i < ch->n; i++) size += ch->lens[i] + 5;
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_CERTIFICATE, size));
    fr_writer *w = &m.w;
    /* certificate_request_context: empty for servers, and the echo of the
     * (empty, RFC 8446 §4.3.2) context of an in-handshake request. */
    fr_write_u8(w, 0);
    fr_write_open_vec(w, 3);
    for (size_t i = 0; i < ch->n; i++) {
        fr_write_open_vec(w, 3);
        fr_write_bytes(w, ch->ders[i], ch->lens[i]);
        fr_write_close_vec(w);
        fr_write_open_vec(w, 2); /* extensions */
        if (i == 0 && staple) {
            /* CertificateStatus { status_type ocsp(1);
             * opaque OCSPResponse<1..2^24-1> } (RFC 6066 §8) */
            fr_write_u16(w, FR_EXT_STATUS_REQUEST);
            fr_write_open_vec(w, 2);
            fr_write_u8(w, 1);
            fr_write_open_vec(w, 3);
            fr_write_bytes(w, ch->staple, ch->staple_len);
            fr_write_close_vec(w);
            fr_write_close_vec(w);
        }
        fr_write_close_vec(w);
    }
    fr_write_close_vec(w);
    return fr_msg_send(c, &m);
}

/* The body of a server's status_request entry extension: CertificateStatus
 * { CertificateStatusType status_type; select (status_type) { case ocsp:
 * OCSPResponse } } with opaque OCSPResponse<1..2^24-1> (RFC 6066 §8).  We
 * asked for ocsp(1); another type is an answer to a question not asked. */
static fr_err parse_certificate_status(fr_reader *body, const uint8_t **der, size_t *len) {
    uint8_t type;
    fr_reader resp;
    FR_TRY(fr_read_u8(body, &type));
    FR_ENSURE(type == 1, FERRULE_R_ILLEGAL_PARAMETER);
    FR_TRY(fr_read_vec24(body, &resp));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(!fr_reader_empty(&resp), FERRULE_R_DECODE_ERROR);
    *len = fr_reader_left(&resp);
    *der = resp.p;
    return FR_OK;
}

static fr_err parse_entries(fr_conn *c, fr_reader *list, const uint8_t **staple,
                            size_t *staple_len) {
    while (!fr_reader_empty(list)) {
        fr_reader data, ext_block;
        fr_exts x;
        FR_TRY(fr_read_vec24(list, &data));
        FR_TRY(fr_read_vec16(list, &ext_block));
        FR_ENSURE(!fr_reader_empty(&data), FERRULE_R_DECODE_ERROR);
        FR_TRY(fr_exts_parse(&ext_block, &x));
        fr_reader it = x.block;
        fr_ext e;
        while (fr_exts_next(&it, &e)) {
            /* RFC 8446 §4.2: an extension we did not request is
             * unsupported_extension.  status_request is the only one we
             * send that a CertificateEntry may answer, and only a client
             * sends it (our CertificateRequest asks for nothing). */
            FR_ENSURE(e.type == FR_EXT_STATUS_REQUEST && c->role == FERRULE_ROLE_CLIENT &&
                          c->sent_status_request,
                      FERRULE_R_UNSUPPORTED_EXTENSION);
            /* RFC 6066 §8 asks only about the server's own certificate:
             * a response attached to any other entry is out of place. */
            FR_ENSURE(c->n_peer_certs == 0, FERRULE_R_ILLEGAL_PARAMETER);
            FR_TRY(parse_certificate_status(&e.body, staple, staple_len));
        }
        /* The documented cap on what we take from a peer, checked before
         * the certificate is parsed (path building has its own budget). */
        FR_ENSURE(c->n_peer_certs < c->cfg->max_peer_certs, FERRULE_R_CERT_CHAIN_TOO_LONG);
        fr_cert *cert = NULL;
        FR_TRY(fr_cert_parse(&c->mem, data.p, fr_reader_left(&data), &cert));
        FR_TRY(fr_conn_add_peer_cert(c, cert));
    }
    return FR_OK;
}

fr_err fr_parse_certificate_list(fr_conn *c, fr_reader *list, const uint8_t **staple,
                                 size_t *staple_len) {
    *staple = NULL;
    *staple_len = 0;
    fr_err e = parse_entries(c, list, staple, staple_len);
    /* The DER is kept before verification, as is what a refused list
     * gave before its error: the accessors show what was taken, and the
     * application's verdict (decision VERIFY) may read the chain. */
    fr_err k = fr_conn_keep_peer_ders(c);
    return e != FR_OK ? e : k;
}

fr_err fr_conn_add_peer_cert(fr_conn *c, fr_cert *cert) {
    fr_err e = c->n_peer_certs < c->cfg->max_peer_certs ? FR_OK : FERRULE_R_CERT_CHAIN_TOO_LONG;
    if (e == FR_OK && c->n_peer_certs == c->peer_certs_cap) {
        size_t cap = c->peer_certs_cap ? 2 * c->peer_certs_cap : 4;
        fr_cert **grown = fr_mem_alloc(&c->mem, cap * sizeof(*grown));
        if (grown == NULL) {
            e = fr_mem_error(&c->mem, cap * sizeof(*grown));
        } else {
            if (c->n_peer_certs > 0) memcpy(grown, c->peer_certs, c->n_peer_certs * sizeof(*grown));
            fr_mem_free(&c->mem, c->peer_certs, c->peer_certs_cap * sizeof(*grown));
            c->peer_certs = grown;
            c->peer_certs_cap = cap;
        }
    }
    if (e != FR_OK) {
        fr_cert_free(&c->mem, cert);
        return e;
    }
    c->peer_certs[c->n_peer_certs++] = cert;
    return FR_OK;
}

/* ---- the peer chain's DER ---------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t get_u32(const uint8_t *p) {
    return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

static void free_peer_ders(fr_conn *c) {
    /* A verify result points into the kept DER: it goes with it. */
    fr_verify_result_free(c->verify_result);
    c->verify_result = NULL;
    fr_mem_free(&c->mem, c->peer_ders, c->peer_ders_size);
    c->peer_ders = NULL;
    c->peer_ders_size = c->n_peer_ders = 0;
}

/* A certificate's entry: cert_data is below 2^24 bytes (RFC 8446 §4.4.2),
 * and the chain comes from one message, ticket or blob, so the offsets fit
 * in 32 bits; checked all the same. */
static fr_err ders_size(size_t n, size_t i, size_t len, size_t *size) {
    if (i == 0) *size = 4 * n;
    FR_ENSURE(n <= UINT32_MAX / 4 && len <= UINT32_MAX - *size, FERRULE_R_INTERNAL);
    *size += len;
    return FR_OK;
}

/* Install an allocation of `size` bytes for n certificates, which
 * put_der then fills in order. */
static fr_err ders_alloc(fr_conn *c, size_t n, size_t size) {
    free_peer_ders(c);
    if (n == 0) return FR_OK;
    c->peer_ders = fr_mem_alloc(&c->mem, size);
    FR_ENSURE(c->peer_ders != NULL, fr_mem_error(&c->mem, size));
    c->peer_ders_size = size;
    c->n_peer_ders = n;
    return FR_OK;
}

static void put_der(fr_conn *c, size_t i, const uint8_t *der, size_t len, size_t *end) {
    memcpy(c->peer_ders + 4 * c->n_peer_ders + *end, der, len);
    *end += len;
    put_u32(c->peer_ders + 4 * i, (uint32_t)*end);
}

fr_err fr_conn_set_peer_ders(fr_conn *c, const uint8_t *const *ders, const size_t *lens,
                             size_t n) {
    size_t size = 0, end = 0;
    for (size_t i = 0; i < n; i++) FR_TRY(ders_size(n, i, lens[i], &size));
    FR_TRY(ders_alloc(c, n, size));
    for (size_t i = 0; i < n; i++) put_der(c, i, ders[i], lens[i], &end);
    return FR_OK;
}

fr_err fr_conn_keep_peer_ders(fr_conn *c) {
    size_t n = c->n_peer_certs, size = 0, end = 0;
    for (size_t i = 0; i < n; i++) FR_TRY(ders_size(n, i, c->peer_certs[i]->der_len, &size));
    FR_TRY(ders_alloc(c, n, size));
    for (size_t i = 0; i < n; i++)
        put_der(c, i, c->peer_certs[i]->der, c->peer_certs[i]->der_len, &end);
    return FR_OK;
}

int fr_conn_peer_der(const fr_conn *c, size_t i, const uint8_t **der, size_t *len) {
    if (i >= c->n_peer_ders) return 0;
    size_t start = i == 0 ? 0 : get_u32(c->peer_ders + 4 * (i - 1));
    size_t end = get_u32(c->peer_ders + 4 * i);
    *der = c->peer_ders + 4 * c->n_peer_ders + start;
    *len = end - start;
    return 1;
}

void fr_conn_drop_parsed_peer(fr_conn *c) {
    for (size_t i = 0; i < c->n_peer_certs; i++) fr_cert_free(&c->mem, c->peer_certs[i]);
    fr_mem_free(&c->mem, c->peer_certs, c->peer_certs_cap * sizeof(*c->peer_certs));
    c->peer_certs = NULL;
    c->n_peer_certs = c->peer_certs_cap = 0;
}

void fr_conn_forget_peer_chain(fr_conn *c) {
    fr_conn_drop_parsed_peer(c);
    free_peer_ders(c);
}

/* ---- verification ------------------------------------------------------------ */

/* fr_chain_der_fn over the connection's kept peer DER. */
static int kept_der(const void *ctx, size_t i, const uint8_t **der, size_t *len) {
    return fr_conn_peer_der(ctx, i, der, len);
}

fr_err fr_verify_peer_chain(fr_conn *c, const uint8_t *staple, size_t staple_len,
                            fr_branch *branch) {
    FR_TRY(fr_verify_peer_chain_at(c, staple, staple_len, fr_conn_now(c)));
    /* The application may add restrictions, never lift ours: it is asked
     * only about a chain we accepted (decision VERIFY; without a host
     * answer there is nothing to add).  With verification off we accepted
     * every chain, and the application is still asked (with no validated
     * path), so that it can judge the chain itself. */
    if (!fr_dec_host_answers(c, FERRULE_DECISION_VERIFY)) return FR_OK;
    c->dec.step = FR_CERT_STEP_VERIFIED;
    fr_dec_ask(c, FERRULE_DECISION_VERIFY, branch);
    return FR_OK;
}

fr_err fr_verify_resume(fr_conn *c, fr_reader *body) {
    const uint8_t *parsed;
    int verdict;
    FR_TRY(fr_read_bytes(body, fr_reader_left(body), &parsed));
    FR_ENSURE(c->dec.step == FR_CERT_STEP_VERIFIED &&
                  fr_dec_take(c, FERRULE_DECISION_VERIFY, &verdict),
              FERRULE_R_INTERNAL);
    return verdict == FERRULE_VERIFY_ACCEPT ? FR_OK : FERRULE_R_CERT_REJECTED;
}

fr_err fr_verify_peer_chain_at(fr_conn *c, const uint8_t *staple, size_t staple_len,
                               int64_t now) {
    const fr_config *cfg = c->cfg;
    FR_ENSURE(c->n_peer_certs > 0, FERRULE_R_INTERNAL);
    if (cfg->no_verification) return FR_OK;
    fr_verify_params p;
    /* By role: serverAuth for a client, clientAuth for a server (RFC 5280
     * §4.2.1.12); the X.509 engine refuses a leaf whose EKU lacks it. */
    fr_config_verify_params(cfg, &p);
    p.now = now;
    /* A server has no name to expect of its client (RFC 8446 §4.4.2.4
     * leaves the acceptance of a client chain to the server's policy). */
    if (c->role == FERRULE_ROLE_CLIENT && !cfg->no_hostname_check) {
        /* Without an expected name there is nothing to match: fail closed. */
        FR_ENSURE(c->has_server_name, FERRULE_R_CERT_NAME_MISMATCH);
        p.peer_name = c->server_name;
    }
    /* The result points into the kept peer DER and the config's anchors
     * (both live as long as the connection) instead of copying the path. */
    fr_verify_result_free(c->verify_result);
    c->verify_result = NULL;
    FR_TRY(fr_verify_chain_result(&cfg->trust, c->peer_certs, c->n_peer_certs, &p, &c->mem,
                                  kept_der, c, &c->verify_result));
    /* OCSP is a client's policy about servers: a client cannot staple in
     * response to our CertificateRequest (we do not ask for it). */
    if (c->role == FERRULE_ROLE_CLIENT) {
        /* Revocation, once the path is known: the leaf's issuer is the
         * second element of the validated path (the anchor itself for a
         * leaf issued directly by it).  A leaf that is itself the anchor
         * has no issuer in the path; if it is self-issued it is its own
         * issuer. */
        const ferrule_verify_result *vr = c->verify_result;
        const uint8_t *issuer = NULL;
        size_t issuer_len = 0;
        if (vr->n >= 2) {
            issuer = vr->ders[1];
            issuer_len = vr->lens[1];
        } else if (c->peer_certs[0]->self_issued) {
            issuer = vr->ders[0];
            issuer_len = vr->lens[0];
        }
        fr_err e = fr_ocsp_apply_policy(&c->mem, staple, staple_len, c->peer_certs[0], issuer,
                                        issuer_len, cfg->ocsp_policy == FERRULE_OCSP_REQUIRE,
                                        p.now, &c->ocsp_stapled);
        if (e != FR_OK) {
            /* The result object reports the final verdict, not just the path's. */
            c->verify_result->reason = e;
            return e;
        }
    }
    return FR_OK;
}

fr_err fr_client_on_certificate(fr_conn *c, fr_reader *body, fr_branch *branch) {
    if (fr_dec_resuming(c)) return fr_verify_resume(c, body);
    fr_reader ctx, list;
    FR_TRY(fr_read_vec8(body, &ctx));
    FR_TRY(fr_read_vec24(body, &list));
    FR_TRY(fr_read_done(body));
    /* RFC 8446 §4.4.2: the server's request context is empty. */
    FR_ENSURE(fr_reader_empty(&ctx), FERRULE_R_ILLEGAL_PARAMETER);
    /* RFC 8446 §4.4.2.4: an empty server Certificate is decode_error. */
    FR_ENSURE(!fr_reader_empty(&list), FERRULE_R_CERT_MISSING);
    const uint8_t *staple;
    size_t staple_len;
    FR_TRY(fr_parse_certificate_list(c, &list, &staple, &staple_len));
    /* The staple as sent, for the application (ferrule_conn_peer_ocsp_response),
     * whatever the verification makes of it. */
    if (staple_len > 0 && c->peer_ocsp == NULL) {
        c->peer_ocsp = fr_mem_alloc(&c->mem, staple_len);
        if (c->peer_ocsp == NULL) return fr_mem_error(&c->mem, staple_len);
        memcpy(c->peer_ocsp, staple, staple_len);
        c->peer_ocsp_len = staple_len;
    }
    return fr_verify_peer_chain(c, staple, staple_len, branch);
}

static int sig_list_has(fr_reader list, uint16_t v) {
    uint16_t x;
    while (fr_read_u16(&list, &x) == FR_OK)
        if (x == v) return 1;
    return 0;
}

/* Our most preferred scheme that the key of `ch` can sign with, allowed in
 * a TLS 1.3 CertificateVerify, and offered by the server; 0 if none. */
static uint16_t chain_scheme(const fr_config *cfg, const fr_chain *ch, fr_reader peer_sigs) {
    for (size_t k = 0; k < cfg->n_sigs; k++) {
        uint16_t s = cfg->sigs[k];
        if (fr_sig_allowed_in_cv(s) && sig_list_has(peer_sigs, s) && fr_sig_key_matches(ch->key, s))
            return s;
    }
    return 0;
}

/* Does a certificate of `ch` name one of the certificate_authorities
 * (RFC 8446 §4.2.4) as its issuer?  The leaf's issuer covers a server that
 * trusts our intermediate; the top certificate's covers one that trusts
 * the root above it.  Names are compared as the DER bytes a server copies
 * from its anchors' subjects (as Go's crypto/tls does): it is a hint, and
 * one pass over the list costs a length comparison per issuer (the issuers
 * were noted when the chain was loaded), whatever the list's length. */
static int chain_issued_by(const fr_chain *ch, fr_reader cas) {
    fr_reader dn;
    while (fr_read_vec16(&cas, &dn) == FR_OK) {
        size_t n = fr_reader_left(&dn);
        for (size_t i = 0; i < ch->n; i++)
            if (ch->issuer_len[i] == n && memcmp(ch->ders[i] + ch->issuer_off[i], dn.p, n) == 0)
                return 1;
    }
    return 0;
}

/* certificate_authorities: DistinguishedName authorities<3..2^16-1>, each
 * opaque DistinguishedName<1..2^16-1> (RFC 8446 §4.2.4). */
fr_err fr_parse_authorities(fr_reader *body, fr_reader *cas) {
    FR_TRY(fr_read_vec16(body, cas));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(fr_reader_left(cas) >= 3, FERRULE_R_DECODE_ERROR);
    fr_reader l = *cas;
    while (!fr_reader_empty(&l)) {
        fr_reader dn;
        FR_TRY(fr_read_vec16(&l, &dn));
        FR_ENSURE(!fr_reader_empty(&dn), FERRULE_R_DECODE_ERROR);
    }
    return FR_OK;
}

fr_err fr_client_on_certificate_request(fr_conn *c, fr_reader *body) {
    const fr_config *cfg = c->cfg;
    fr_reader ctx, block;
    fr_exts x;
    FR_TRY(fr_read_vec8(body, &ctx));
    FR_TRY(fr_read_vec16(body, &block));
    FR_TRY(fr_read_done(body));
    /* RFC 8446 §4.3.2: the context of a request inside the handshake is
     * empty; signature_algorithms must be present; unknown extensions are
     * ignored. */
    FR_ENSURE(fr_reader_empty(&ctx), FERRULE_R_ILLEGAL_PARAMETER);
    FR_TRY(fr_exts_parse(&block, &x));
    /* RFC 8446 §4.2: of the extensions we know, a CertificateRequest may
     * carry only these. */
    FR_TRY(fr_exts_known_only(&x, 1ull << FR_EXT_STATUS_REQUEST |
                                      1ull << FR_EXT_SIGNATURE_ALGORITHMS |
                                      1ull << FR_EXT_CERTIFICATE_AUTHORITIES |
                                      1ull << FR_EXT_OID_FILTERS |
                                      1ull << FR_EXT_SIGNATURE_ALGORITHMS_CERT));
    fr_ext *sa = fr_exts_find(&x, FR_EXT_SIGNATURE_ALGORITHMS);
    FR_ENSURE(sa != NULL, FERRULE_R_MISSING_EXTENSION);
    fr_reader list;
    FR_TRY(fr_read_vec16(&sa->body, &list));
    FR_TRY(fr_read_done(&sa->body));
    FR_ENSURE(fr_reader_left(&list) >= 2 && fr_reader_left(&list) % 2 == 0,
              FERRULE_R_DECODE_ERROR);
    fr_reader cas = fr_reader_init(NULL, 0);
    fr_ext *ca = fr_exts_find(&x, FR_EXT_CERTIFICATE_AUTHORITIES);
    if (ca != NULL) {
        FR_TRY(fr_ext_result(fr_parse_authorities(&ca->body, &cas)));
        c->cauth.ca_names = 1;
    }
    c->cert_requested = 1;
    /* Our chain: the first whose key can sign a scheme the server accepts
     * (RFC 8446 §4.4.2.3), preferring one issued under an authority the
     * server named; any suitable chain is better than none (the server may
     * know more anchors than it listed).  None: an empty Certificate and
     * no CertificateVerify (RFC 8446 §4.4.2), the server decides. */
    const fr_chain *first = NULL;
    uint16_t first_sig = 0;
    for (size_t i = 0; i < cfg->n_chains; i++) {
        const fr_chain *ch = &cfg->chains[i];
        uint16_t s = chain_scheme(cfg, ch, list);
        if (s == 0) continue;
        if (first == NULL) {
            first = ch;
            first_sig = s;
        }
        if (ca == NULL || chain_issued_by(ch, cas)) {
            first = ch;
            first_sig = s;
            break;
        }
    }
    c->our_chain = first;
    c->our_sig = first_sig;
    return FR_OK;
}
