/*
 * record.c - TLS 1.3 record framing and protection (RFC 8446 §5).
 * Pure functions over caller buffers: no allocation, no staging copy
 * (sealing writes the ciphertext straight into the record), decryption in
 * place.
 */
#include "record.h"

/* The largest TLSInnerPlaintext: content (2^14) + the type byte; padding
 * counts against the same limit (RFC 8446 §5.2, §5.4). */
#define MAX_INNER (FR_MAX_PLAINTEXT + 1u)

static int known_type(uint8_t t) {
    return t == FR_CT_CHANGE_CIPHER_SPEC || t == FR_CT_ALERT || t == FR_CT_HANDSHAKE ||
           t == FR_CT_APPLICATION_DATA;
}

fr_err fr_record_header(const uint8_t *hdr, uint8_t *type, size_t *body_len) {
    /* A fixed 5-byte layout the caller guarantees: type, legacy version
     * (major, minor), 16-bit length.  Read directly, so that the proof
     * of this function (formal/wp/record_header.c) needs nothing else. */
    uint8_t t = hdr[0], major = hdr[1];
    size_t len = (size_t)hdr[3] * 256u + hdr[4];
    /* RFC 8446 §5: an unexpected record type is fatal. */
    FR_ENSURE(known_type(t), FERRULE_R_BAD_CONTENT_TYPE);
    /* RFC 8446 §5.1: legacy_record_version "MUST be ignored for all
     * purposes"; we only insist it looks like TLS (0x03XX) so that a
     * non-TLS peer fails early and clearly. */
    FR_ENSURE(major == 0x03, FERRULE_R_BAD_RECORD_VERSION);
    /* RFC 8446 §5.2: a TLSCiphertext body above 2^14 + 256 is
     * record_overflow (this also bounds plaintext records, which may not
     * exceed 2^14; the caller checks that tighter limit once it knows the
     * record is unprotected). */
    FR_ENSURE(len <= FR_MAX_CIPHERTEXT, FERRULE_R_RECORD_OVERFLOW);
    *type = t;
    *body_len = len;
    return FR_OK;
}

fr_err fr_record_write_plain(uint8_t type, const uint8_t *data, size_t len, uint8_t *out,
                             size_t out_cap, size_t *out_len) {
    /* Caller bugs, not peer behaviour: an unknown type or an oversized
     * fragment (RFC 8446 §5.1: length MUST NOT exceed 2^14). */
    FR_ENSURE(known_type(type), FERRULE_R_INTERNAL);
    FR_ENSURE(len <= FR_MAX_PLAINTEXT, FERRULE_R_INTERNAL);
    fr_writer w;
    fr_writer_init(&w, out, out_cap);
    fr_write_u8(&w, type);
    fr_write_u16(&w, 0x0303);
    fr_write_u16(&w, (uint16_t)len);
    fr_write_bytes(&w, data, len);
    FR_TRY(fr_write_finish(&w));
    *out_len = w.len;
    return FR_OK;
}

fr_err fr_record_seal(fr_aead *a, uint8_t type, const uint8_t *data, size_t len, size_t pad,
                      uint8_t *out, size_t out_cap, size_t *out_len) {
    /* The inner type must be one that may be protected (never
     * change_cipher_spec, RFC 8446 §5), and the inner plaintext
     * (content + type + padding) at most 2^14 + 1 bytes (§5.2, §5.4). */
    FR_ENSURE(type == FR_CT_ALERT || type == FR_CT_HANDSHAKE || type == FR_CT_APPLICATION_DATA,
              FERRULE_R_INTERNAL);
    FR_ENSURE(len <= FR_MAX_PLAINTEXT && pad <= FR_MAX_PLAINTEXT - len, FERRULE_R_INTERNAL);
    size_t inner = len + 1 + pad;
    size_t body = inner + FR_AEAD_TAG_LEN;
    FR_ENSURE(out_cap >= FR_RECORD_HEADER_LEN && body <= out_cap - FR_RECORD_HEADER_LEN,
              FERRULE_R_BUFFER_TOO_SMALL);

    /* The content is sealed from where it is: in place at the body's
     * position, or from a region disjoint from the record. */
    uintptr_t d = (uintptr_t)data, o = (uintptr_t)out;
    FR_ENSURE(len == 0 || d == o + FR_RECORD_HEADER_LEN || d + len <= o ||
                  d >= o + FR_RECORD_HEADER_LEN + body,
              FERRULE_R_INTERNAL);

    /* RFC 8446 §5.2: the additional data is the record header, whose
     * length field is that of the ciphertext including the tag. */
    fr_writer w;
    fr_writer_init(&w, out, FR_RECORD_HEADER_LEN);
    fr_write_u8(&w, FR_CT_APPLICATION_DATA);
    fr_write_u16(&w, 0x0303);
    fr_write_u16(&w, (uint16_t)body);
    FR_TRY(fr_write_finish(&w));

    /* TLSInnerPlaintext = content || type || zeros, sealed straight into
     * the record: the content is read where the caller has it (in place
     * when it already sits at the body's position), type and padding are
     * written after it and encrypted in place. */
    uint8_t *p = out + FR_RECORD_HEADER_LEN;
    p[len] = type;
    memset(p + len + 1, 0, pad);
    FR_TRY(fr_aead_seal_parts(a, out, FR_RECORD_HEADER_LEN, len > 0 ? data : p, len, p, 1 + pad,
                              p + inner));
    *out_len = FR_RECORD_HEADER_LEN + body;
    return FR_OK;
}

fr_err fr_record_open(fr_aead *a, uint8_t *rec, size_t rec_len, uint8_t *type, uint8_t **pt,
                      size_t *pt_len) {
    FR_ENSURE(rec_len >= FR_RECORD_HEADER_LEN, FERRULE_R_DECODE_ERROR);
    uint8_t outer;
    size_t body;
    FR_TRY(fr_record_header(rec, &outer, &body));
    FR_ENSURE(body == rec_len - FR_RECORD_HEADER_LEN, FERRULE_R_DECODE_ERROR);
    /* RFC 8446 §5.2: protected records always carry application_data as
     * their outer type (any other is an unexpected record type, §5). */
    FR_ENSURE(outer == FR_CT_APPLICATION_DATA, FERRULE_R_BAD_OUTER_TYPE);
    /* An AEAD body holds at least the tag and the one inner type byte; a
     * shorter one cannot authenticate. */
    FR_ENSURE(body >= FR_AEAD_TAG_LEN + 1, FERRULE_R_BAD_RECORD_MAC);

    uint8_t *p = rec + FR_RECORD_HEADER_LEN;
    size_t n = body - FR_AEAD_TAG_LEN;
    FR_TRY(fr_aead_open(a, rec, FR_RECORD_HEADER_LEN, p, n, p + n));

    /* RFC 8446 §5.2: TLSInnerPlaintext (content, type and padding) above
     * 2^14 + 1 is record_overflow. */
    if (n > MAX_INNER) {
        fr_wipe(p, n);
        return FERRULE_R_PLAINTEXT_OVERFLOW;
    }
    /* RFC 8446 §5.4: the content type is the last non-zero byte; scanning
     * stays within the decrypted cleartext. */
    size_t i = n;
    while (i > 0 && p[i - 1] == 0) i--;
    if (i == 0) {
        /* §5.4: no non-zero octet, unexpected_message. */
        fr_wipe(p, n);
        return FERRULE_R_NO_CONTENT_TYPE;
    }
    uint8_t t = p[i - 1];
    /* RFC 8446 §5: an unexpected (or change_cipher_spec, which is never
     * protected) inner type is unexpected_message. */
    if (t != FR_CT_ALERT && t != FR_CT_HANDSHAKE && t != FR_CT_APPLICATION_DATA) {
        fr_wipe(p, n);
        return FERRULE_R_BAD_CONTENT_TYPE;
    }
    *type = t;
    *pt = p;
    *pt_len = i - 1;
    return FR_OK;
}

fr_err fr_record_check_inner_limit(size_t body_len, size_t max_inner) {
    if (body_len < FR_AEAD_TAG_LEN) return FR_OK;
    FR_ENSURE(body_len - FR_AEAD_TAG_LEN <= max_inner, FERRULE_R_RECORD_OVERFLOW);
    return FR_OK;
}
