/* extensions.c - extension blocks and handshake message framing. */
#include "../conn.h"

fr_err fr_exts_parse(fr_reader *block, fr_exts *out) {
    out->block = *block;
    out->n = 0;
    out->last = 0;
    out->present = 0;
    /* RFC 8446 §4.2: no more than one extension of the same type, checked
     * against a set of every type seen so far (O(1) per extension). */
    fr_u16_set seen;
    int tracking = 0;
    while (!fr_reader_empty(block)) {
        uint16_t type;
        fr_reader body;
        FR_TRY(fr_read_u16(block, &type));
        FR_TRY(fr_read_vec16(block, &body));
        if (out->n == 1) { /* a second extension: start the set */
            fr_u16_set_clear(&seen);
            fr_u16_set_add(&seen, out->last);
            tracking = 1;
        }
        if (tracking) {
            FR_ENSURE(!fr_u16_set_has(&seen, type), FERRULE_R_DUPLICATE_EXTENSION);
            fr_u16_set_add(&seen, type);
        }
        if (type < FR_EXT_SLOTS) {
            out->present |= 1ull << type;
            out->slot[type].type = type;
            out->slot[type].body = body;
        }
        out->last = type;
        out->n++;
    }
    return FR_OK;
}

fr_ext *fr_exts_find(fr_exts *x, uint16_t type) {
    if (type >= FR_EXT_SLOTS || !(x->present >> type & 1u)) return NULL;
    return &x->slot[type];
}

#define BIT(t) (1ull << (t))
static const uint64_t KNOWN_TYPES =
    BIT(FR_EXT_SERVER_NAME) | BIT(FR_EXT_STATUS_REQUEST) | BIT(FR_EXT_SUPPORTED_GROUPS) |
    BIT(FR_EXT_SIGNATURE_ALGORITHMS) | BIT(FR_EXT_ALPN) | BIT(FR_EXT_PADDING) |
    BIT(FR_EXT_RECORD_SIZE_LIMIT) | BIT(FR_EXT_PRE_SHARED_KEY) | BIT(FR_EXT_EARLY_DATA) |
    BIT(FR_EXT_SUPPORTED_VERSIONS) | BIT(FR_EXT_COOKIE) | BIT(FR_EXT_PSK_KEY_EXCHANGE_MODES) |
    BIT(FR_EXT_CERTIFICATE_AUTHORITIES) | BIT(FR_EXT_OID_FILTERS) |
    BIT(FR_EXT_POST_HANDSHAKE_AUTH) | BIT(FR_EXT_SIGNATURE_ALGORITHMS_CERT) |
    BIT(FR_EXT_KEY_SHARE);
#undef BIT

fr_err fr_exts_known_only(const fr_exts *x, uint64_t allowed) {
    /* "If an implementation receives an extension which it recognizes and
     * which is not specified for the message in which it appears, it MUST
     * abort the handshake with an illegal_parameter alert." */
    return (x->present & KNOWN_TYPES & ~allowed) == 0 ? FR_OK : FERRULE_R_ILLEGAL_PARAMETER;
}

int fr_exts_next(fr_reader *it, fr_ext *e) {
    /* The block was validated by fr_exts_parse: these reads cannot fail
     * before it is empty. */
    return fr_read_u16(it, &e->type) == FR_OK && fr_read_vec16(it, &e->body) == FR_OK;
}

fr_err fr_msg_begin(fr_conn *c, fr_msgbuf *m, uint8_t type, size_t cap) {
    m->cap = cap;
    m->buf = fr_mem_alloc(&c->mem, cap);
    FR_ENSURE(m->buf != NULL, fr_mem_error(&c->mem, cap));
    fr_writer_init(&m->w, m->buf, cap);
    fr_write_u8(&m->w, type);
    fr_write_open_vec(&m->w, 3);
    return FR_OK;
}

void fr_msg_abort(fr_conn *c, fr_msgbuf *m) {
    fr_mem_free(&c->mem, m->buf, m->cap);
    m->buf = NULL;
}

fr_err fr_msg_send(fr_conn *c, fr_msgbuf *m) {
    fr_write_close_vec(&m->w);
    fr_err e = fr_write_finish(&m->w);
    if (e == FR_OK) e = fr_conn_send_handshake(c, m->buf, m->w.len);
    fr_msg_abort(c, m);
    return e;
}

int fr_sig_allowed_in_cv(uint16_t s) {
    /* RFC 8446 §4.2.3: RSASSA-PKCS1-v1_5 and SHA-1 schemes never sign handshake
     * messages in TLS 1.3. */
    switch (s) {
    case FERRULE_SIG_ECDSA_SECP256R1_SHA256:
    case FERRULE_SIG_ECDSA_SECP384R1_SHA384:
    case FERRULE_SIG_RSA_PSS_RSAE_SHA256:
    case FERRULE_SIG_RSA_PSS_RSAE_SHA384:
    case FERRULE_SIG_RSA_PSS_RSAE_SHA512:
    case FERRULE_SIG_RSA_PSS_PSS_SHA256:
    case FERRULE_SIG_RSA_PSS_PSS_SHA384:
    case FERRULE_SIG_RSA_PSS_PSS_SHA512:
    case FERRULE_SIG_ED25519:
        return 1;
    default:
        return 0;
    }
}

void fr_write_sig_alg_exts(fr_writer *w, const uint16_t *sigs, size_t n) {
    /* signature_algorithms: what may sign handshake messages (CV-allowed
     * schemes only); signature_algorithms_cert: certificates may also be
     * signed with RSASSA-PKCS1-v1_5 (RFC 8446 §4.2.3). */
    fr_write_u16(w, FR_EXT_SIGNATURE_ALGORITHMS);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 2);
    for (size_t i = 0; i < n; i++)
        if (fr_sig_allowed_in_cv(sigs[i])) fr_write_u16(w, sigs[i]);
    fr_write_close_vec(w);
    fr_write_close_vec(w);
    fr_write_u16(w, FR_EXT_SIGNATURE_ALGORITHMS_CERT);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 2);
    for (size_t i = 0; i < n; i++) fr_write_u16(w, sigs[i]);
    fr_write_close_vec(w);
    fr_write_close_vec(w);
}

uint32_t fr_sig_bit(uint16_t scheme) {
    /* Every signature scheme the core can use or match (RFC 8446 §4.2.3),
     * numbered; 0x0603 (ecdsa_secp521r1_sha512) only ever names a
     * certificate's signature.  A switch: this runs for every entry of a
     * peer's list. */
    switch (scheme) {
    case FERRULE_SIG_ECDSA_SECP256R1_SHA256: return 1u << 0;
    case FERRULE_SIG_ECDSA_SECP384R1_SHA384: return 1u << 1;
    case 0x0603: return 1u << 2;
    case FERRULE_SIG_RSA_PSS_RSAE_SHA256: return 1u << 3;
    case FERRULE_SIG_RSA_PSS_RSAE_SHA384: return 1u << 4;
    case FERRULE_SIG_RSA_PSS_RSAE_SHA512: return 1u << 5;
    case FERRULE_SIG_RSA_PSS_PSS_SHA256: return 1u << 6;
    case FERRULE_SIG_RSA_PSS_PSS_SHA384: return 1u << 7;
    case FERRULE_SIG_RSA_PSS_PSS_SHA512: return 1u << 8;
    case FERRULE_SIG_ED25519: return 1u << 9;
    case FERRULE_SIG_RSA_PKCS1_SHA256: return 1u << 10;
    case FERRULE_SIG_RSA_PKCS1_SHA384: return 1u << 11;
    case FERRULE_SIG_RSA_PKCS1_SHA512: return 1u << 12;
    default: return 0;
    }
}

uint32_t fr_sig_mask(fr_reader list) {
    uint32_t mask = 0;
    for (uint16_t s; fr_read_u16(&list, &s) == FR_OK;) mask |= fr_sig_bit(s);
    return mask;
}

int fr_u16_in(uint16_t v, const uint16_t *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == v) return 1;
    return 0;
}
