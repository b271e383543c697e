/* server_select.c - the server's choice of ALPN protocol (RFC 7301 §3) and
 * certificate chain (RFC 6066 §3, RFC 8446 §4.2.3, §4.4.2.2) for a
 * ClientHello: the defaults and the application's callbacks.  The rules
 * are written down in docs/server-callbacks.md. */
#include "../conn.h"

/* ---- facts about a configured chain --------------------------------------- */

/* The TLS SignatureScheme naming an X.509 signature (RFC 8446 §4.2.3: the
 * schemes of signature_algorithms_cert describe certificate signatures).
 * RSASSA-PSS is given as its rsae form; rsae and pss count as one when
 * matched (the issuer's key type is not known here).  0: none. */
static uint16_t x509_scheme(int kind, int hash) {
    static const uint16_t PKCS1[3] = {FERRULE_SIG_RSA_PKCS1_SHA256, FERRULE_SIG_RSA_PKCS1_SHA384,
                                      FERRULE_SIG_RSA_PKCS1_SHA512};
    static const uint16_t ECDSA[3] = {FERRULE_SIG_ECDSA_SECP256R1_SHA256,
                                      FERRULE_SIG_ECDSA_SECP384R1_SHA384,
                                      0x0603 /* ecdsa_secp521r1_sha512 */};
    static const uint16_t PSS[3] = {FERRULE_SIG_RSA_PSS_RSAE_SHA256, FERRULE_SIG_RSA_PSS_RSAE_SHA384,
                                    FERRULE_SIG_RSA_PSS_RSAE_SHA512};
    if (kind == FR_SIGKIND_ED25519) return FERRULE_SIG_ED25519;
    if (hash < FR_HASH_SHA256 || hash > FR_HASH_SHA512) return 0;
    size_t h = (size_t)(hash - FR_HASH_SHA256);
    switch (kind) {
    case FR_SIGKIND_RSA_PKCS1: return PKCS1[h];
    case FR_SIGKIND_ECDSA: return ECDSA[h];
    case FR_SIGKIND_RSA_PSS: return PSS[h];
    default: return 0;
    }
}

fr_err fr_chain_note(fr_mem *m, fr_chain *ch) {
    ch->n_cert_sigs = 0;
    for (size_t i = 0; i < ch->n; i++) {
        fr_cert *cert = NULL;
        fr_err e = fr_cert_parse(m, ch->ders[i], ch->lens[i], &cert);
        if (e != FR_OK && i > 0 && e != FERRULE_R_OUT_OF_MEMORY && e != FERRULE_R_MEMORY_LIMIT) {
            /* An intermediate we cannot read is still sent as configured;
             * its signature just never counts as acceptable. */
            ch->cert_sigs[ch->n_cert_sigs++] = 0;
            continue;
        }
        FR_TRY(e);
        ch->issuer_off[i] = (size_t)(cert->issuer - cert->der);
        ch->issuer_len[i] = cert->issuer_len;
        if (i == 0 && cert->san != NULL) {
            ch->san = fr_mem_alloc(m, cert->san_len);
            if (ch->san == NULL) {
                e = fr_mem_error(m, cert->san_len);
            } else {
                memcpy(ch->san, cert->san, cert->san_len);
                ch->san_len = cert->san_len;
            }
        }
        /* RFC 8446 §4.4.2.2: certificates expected to be trust anchors
         * (self-issued) may be signed with any algorithm. */
        if (e == FR_OK && !cert->self_issued)
            ch->cert_sigs[ch->n_cert_sigs++] = x509_scheme(cert->sig_kind, cert->sig_hash);
        fr_cert_free(m, cert);
        FR_TRY(e);
    }
    return FR_OK;
}

void fr_chain_forget(fr_mem *m, fr_chain *ch) {
    fr_mem_free(m, ch->san, ch->san_len);
    ch->san = NULL;
    ch->san_len = 0;
}

/* ---- fit of a chain to a ClientHello -------------------------------------- */

/* Is the certificate signature `s` acceptable under signature_algorithms_cert? */
static int cert_sig_offered(const fr_client_hello *h, uint16_t s) {
    if (s == 0) return 0;
    if (h->sig_cert_bits & fr_sig_bit(s)) return 1;
    /* rsa_pss_rsae_* and rsa_pss_pss_* differ only in the issuer's key. */
    if (s >= FERRULE_SIG_RSA_PSS_RSAE_SHA256 && s <= FERRULE_SIG_RSA_PSS_RSAE_SHA512)
        return (h->sig_cert_bits & fr_sig_bit((uint16_t)(s + 5))) != 0;
    return 0;
}

uint32_t fr_chain_fit(const fr_client_hello *h, size_t index, uint16_t *scheme) {
    if (scheme != NULL) *scheme = 0;
    if (h == NULL || index >= h->cfg->n_chains) return 0;
    const fr_config *cfg = h->cfg;
    const fr_chain *ch = &cfg->chains[index];
    uint32_t fit = 0;
    /* Our most preferred scheme the key can sign with, allowed in a TLS 1.3
     * CertificateVerify and offered by the client (RFC 8446 §4.4.3).  The
     * client's lists were reduced to bit sets once: each test is O(1). */
    for (size_t k = 0; k < cfg->n_sigs; k++) {
        uint16_t s = cfg->sigs[k];
        if (fr_sig_allowed_in_cv(s) && (h->sig_bits & fr_sig_bit(s)) &&
            fr_sig_key_matches(ch->key, s)) {
            fit |= FERRULE_CHAIN_FIT_KEY;
            if (scheme != NULL) *scheme = s;
            break;
        }
    }
    if (h->server_name != NULL && fr_san_matches_name(ch->san, ch->san_len, h->server_name))
        fit |= FERRULE_CHAIN_FIT_NAME;
    int sigs_ok = 1;
    for (size_t k = 0; k < ch->n_cert_sigs && sigs_ok; k++)
        sigs_ok = cert_sig_offered(h, ch->cert_sigs[k]);
    if (sigs_ok) fit |= FERRULE_CHAIN_FIT_CERT_SIGS;
    return fit;
}

/* The default choice (ferrule.h, docs/server-callbacks.md): usable chains
 * only; a name match first, then acceptable certificate signatures, then
 * configuration order. */
static fr_err default_chain(const fr_client_hello *h, size_t *out) {
    const int strict = h->cfg->select.sni_policy == FERRULE_SNI_STRICT && h->server_name != NULL;
    int found = 0, any_name = 0;
    unsigned best_rank = 0;
    for (size_t i = 0; i < h->cfg->n_chains; i++) {
        uint32_t fit = fr_chain_fit(h, i, NULL);
        if (fit & FERRULE_CHAIN_FIT_NAME) any_name = 1;
        if (!(fit & FERRULE_CHAIN_FIT_KEY)) continue;
        if (strict && !(fit & FERRULE_CHAIN_FIT_NAME)) continue;
        unsigned rank = ((fit & FERRULE_CHAIN_FIT_NAME) ? 2u : 0u) +
                        ((fit & FERRULE_CHAIN_FIT_CERT_SIGS) ? 1u : 0u);
        if (!found || rank > best_rank) {
            found = 1;
            best_rank = rank;
            *out = i;
        }
    }
    if (found) return FR_OK;
    /* RFC 6066 §3: a server that does not recognise the name may abort
     * with unrecognized_name.  A name we know on a chain the client cannot
     * use is a matter of signature schemes (handshake_failure). */
    return strict && !any_name ? FERRULE_R_UNRECOGNIZED_NAME : FERRULE_R_UNSUPPORTED_CERT;
}

/* The chain for a certificate choice: an index or FERRULE_CERT_SELECT_*
 * (validated by fr_conn_answer_certificate). */
static fr_err apply_chain(fr_conn *c, const fr_client_hello *h, int choice) {
    size_t index = 0;
    if (choice == FERRULE_CERT_SELECT_DEFAULT) {
        FR_TRY(default_chain(h, &index));
    } else if (choice == FERRULE_CERT_SELECT_UNRECOGNIZED_NAME) {
        return FERRULE_R_UNRECOGNIZED_NAME;
    } else if (choice == FERRULE_CERT_SELECT_REFUSE) {
        return FERRULE_R_HANDSHAKE_REFUSED;
    } else {
        FR_ENSURE(choice >= 0 && (size_t)choice < c->cfg->n_chains, FERRULE_R_INTERNAL);
        index = (size_t)choice;
    }
    uint16_t scheme;
    /* The application may pick a chain the client cannot verify a
     * signature of: that is a failed negotiation, not misuse. */
    FR_ENSURE(fr_chain_fit(h, index, &scheme) & FERRULE_CHAIN_FIT_KEY, FERRULE_R_UNSUPPORTED_CERT);
    c->our_chain = &c->cfg->chains[index];
    c->our_sig = scheme;
    return FR_OK;
}

/* Decide step: the host's choice (CERTIFICATE) if it answers it, else the
 * default. */
static fr_err select_chain(fr_conn *c, const fr_client_hello *h, fr_branch *branch) {
    int choice = FERRULE_CERT_SELECT_DEFAULT;
    if (!fr_dec_take(c, FERRULE_DECISION_CERTIFICATE, &choice) &&
        fr_dec_host_answers(c, FERRULE_DECISION_CERTIFICATE)) {
        fr_dec_ask(c, FERRULE_DECISION_CERTIFICATE, branch);
        return FR_OK;
    }
    return apply_chain(c, h, choice);
}

/* ---- ALPN ------------------------------------------------------------------ */

/* ProtocolName protocol_name_list<2..2^16-1>, opaque ProtocolName<1..2^8-1>
 * (RFC 7301 §3.1): a non-empty list of non-empty names filling the
 * extension.  Counts the names. */
static fr_err open_alpn_list(fr_reader *body, fr_reader *list, size_t *count) {
    FR_TRY(fr_read_vec16(body, list));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(!fr_reader_empty(list), FERRULE_R_DECODE_ERROR);
    fr_reader r = *list;
    *count = 0;
    while (!fr_reader_empty(&r)) {
        fr_reader p;
        FR_TRY(fr_read_vec8(&r, &p));
        FR_ENSURE(!fr_reader_empty(&p), FERRULE_R_DECODE_ERROR);
        (*count)++;
    }
    return FR_OK;
}

int fr_alpn_offered(const fr_client_hello *h, const uint8_t *p, size_t n) {
    fr_reader list = h->alpn, name;
    while (fr_read_vec8(&list, &name) == FR_OK)
        if (fr_reader_left(&name) == n && memcmp(name.p, p, n) == 0) return 1;
    return 0;
}

static void set_alpn(fr_conn *c, const uint8_t *p, size_t n) {
    memcpy(c->alpn, p, n);
    c->alpn_len = n;
}

/* The first of our configured protocols the client offers (a pass over
 * its list per protocol of ours: our list's length is the config's);
 * none configured: no ALPN. */
static fr_err default_alpn(fr_conn *c, const fr_client_hello *h) {
    const fr_config *cfg = c->cfg;
    if (cfg->alpn_len == 0) return FR_OK;
    size_t i = 0;
    while (i < cfg->alpn_len) {
        size_t n = cfg->alpn[i];
        if (fr_alpn_offered(h, cfg->alpn + i + 1, n)) {
            set_alpn(c, cfg->alpn + i + 1, n);
            return FR_OK;
        }
        i += 1 + n;
    }
    /* RFC 7301 §3.2: no overlap is fatal (no_application_protocol). */
    return FERRULE_R_NO_ALPN;
}

/* Decide step: the host's answer (ALPN) if it answers it, else the
 * default.  A selected protocol was checked against the offer when the
 * answer was given (RFC 7301 §3.2: the server must choose among the
 * client's). */
static fr_err select_alpn(fr_conn *c, const fr_client_hello *h, fr_branch *branch) {
    int result = FERRULE_ALPN_DEFAULT;
    int answered = fr_dec_take(c, FERRULE_DECISION_ALPN, &result);
    c->alpn_len = 0;
    if (!h->has_alpn) return FR_OK; /* the client did not ask */
    if (!answered && fr_dec_host_answers(c, FERRULE_DECISION_ALPN)) {
        fr_dec_ask(c, FERRULE_DECISION_ALPN, branch);
        return FR_OK;
    }
    switch (result) {
    case FERRULE_ALPN_SELECTED:
        set_alpn(c, c->dec.alpn, c->dec.alpn_len);
        return FR_OK;
    case FERRULE_ALPN_DEFAULT: return default_alpn(c, h);
    case FERRULE_ALPN_NONE: return FR_OK;
    case FERRULE_ALPN_NO_OVERLAP: return FERRULE_R_NO_ALPN;
    default: return FERRULE_R_INTERNAL;
    }
}

/* ---- the entry point --------------------------------------------------------- */

void fr_hello_lists_free(fr_hello_lists *l) {
    fr_mem_free(l->mem, l->sigs, l->sigs_cap);
    fr_mem_free(l->mem, l->sigs_cert, l->sigs_cert_cap);
    fr_mem_free(l->mem, l->suites, l->suites_cap);
    fr_mem_free(l->mem, l->alpn_off, l->alpn_cap);
    memset(l, 0, sizeof(*l));
}

fr_err fr_server_hello_view(fr_conn *c, fr_exts *x, fr_reader peer_sigs, fr_reader suites) {
    fr_ext *alpn = fr_exts_find(x, FR_EXT_ALPN);
    fr_reader alpn_list = fr_reader_init(NULL, 0);
    size_t n_alpn = 0;
    if (alpn != NULL) FR_TRY(fr_ext_result(open_alpn_list(&alpn->body, &alpn_list, &n_alpn)));
    /* RFC 8446 §4.2.3: signature_algorithms_cert has the layout of
     * signature_algorithms (supported_signature_algorithms<2..2^16-2>). */
    fr_ext *sac = fr_exts_find(x, FR_EXT_SIGNATURE_ALGORITHMS_CERT);
    fr_reader cert_sigs = peer_sigs;
    if (sac != NULL) {
        FR_TRY(fr_ext_result(fr_read_vec16(&sac->body, &cert_sigs)));
        FR_TRY(fr_ext_result(fr_read_done(&sac->body)));
        size_t left = fr_reader_left(&cert_sigs);
        FR_ENSURE(left >= 2 && left % 2 == 0, FERRULE_R_BAD_EXTENSION);
    }
    /* The view reads the message in place: it stays valid while the
     * handshake is paused (the message stays buffered) and is dropped with
     * the decoded lists when the ClientHello is done (fr_dec_finish). */
    fr_dec_conn *d = &c->dec;
    fr_hello_lists_free(&d->lists);
    d->lists.mem = &c->mem;
    fr_client_hello *h = &d->hello;
    memset(h, 0, sizeof(*h));
    h->cfg = c->cfg;
    h->server_name = c->has_server_name ? c->server_name : NULL;
    h->sigs = peer_sigs;
    h->sigs_cert = cert_sigs;
    h->suites = suites;
    h->sig_bits = fr_sig_mask(peer_sigs);
    h->sig_cert_bits = fr_sig_mask(cert_sigs);
    h->alpn = alpn_list;
    h->has_alpn = alpn != NULL;
    h->n_alpn = n_alpn;
    h->lists = &d->lists;
    d->has_hello = 1;
    return FR_OK;
}

fr_err fr_server_select(fr_conn *c, fr_branch *branch) {
    fr_dec_conn *d = &c->dec;
    /* ALPN first: a certificate choice may depend on it (e.g. the
     * acme-tls/1 protocol of RFC 8737).  A step that asked the host stays
     * undone until the handler runs again with the answer. */
    if (d->step < FR_CH_STEP_ALPN) {
        FR_TRY(select_alpn(c, &d->hello, branch));
        if (*branch == FR_BRANCH_APP) return FR_OK;
        d->step = FR_CH_STEP_ALPN;
    }
    if (d->step < FR_CH_STEP_CERT) {
        FR_TRY(select_chain(c, &d->hello, branch));
        if (*branch == FR_BRANCH_APP) return FR_OK;
        d->step = FR_CH_STEP_CERT;
    }
    return FR_OK;
}
