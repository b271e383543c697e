/*
 * record_header.c - the record header parser and the inner-plaintext limit
 * check (RFC 8446 §5.1, §5.2): the first code to touch a peer's bytes, kept
 * in a file of its own so that Frama-C/WP proves it as it ships
 * (formal/wp/record_header_proof.c, docs/formal.md).
 */
#include "record.h"

fr_err fr_record_header(const uint8_t *hdr, uint8_t *type, size_t *body_len) {
    /* A fixed 5-byte layout the caller guarantees: type, legacy version
     * (major, minor), 16-bit length.  Read directly, so that the proof
     * of this function (formal/wp/record_header_proof.c) needs nothing else. */
    uint8_t t = hdr[0], major = hdr[1];
    size_t len = (size_t)hdr[3] * 256u + hdr[4];
    /* RFC 8446 §5: an unexpected record type is fatal. */
    FR_ENSURE(fr_record_known_type(t), FERRULE_R_BAD_CONTENT_TYPE);
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

fr_err fr_record_check_inner_limit(size_t body_len, size_t max_inner) {
    if (body_len < FR_AEAD_TAG_LEN) return FR_OK;
    FR_ENSURE(body_len - FR_AEAD_TAG_LEN <= max_inner, FERRULE_R_RECORD_OVERFLOW);
    return FR_OK;
}
