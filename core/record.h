/*
 * record.h - TLS 1.3 record protection (RFC 8446 §5).  Pure functions over
 * caller-owned buffers; buffering and state live in conn.c.
 */
#ifndef FR_RECORD_H
#define FR_RECORD_H

#include "crypto/crypto.h"

#define FR_CT_INVALID 0
#define FR_CT_CHANGE_CIPHER_SPEC 20
#define FR_CT_ALERT 21
#define FR_CT_HANDSHAKE 22
#define FR_CT_APPLICATION_DATA 23

/* One of the four content types TLS 1.3 defines (RFC 8446 §5.1). */
static inline int fr_record_known_type(uint8_t t) {
    return t == FR_CT_CHANGE_CIPHER_SPEC || t == FR_CT_ALERT || t == FR_CT_HANDSHAKE ||
           t == FR_CT_APPLICATION_DATA;
}

#define FR_RECORD_HEADER_LEN 5
#define FR_MAX_PLAINTEXT 16384u                   /* 2^14 */
#define FR_MAX_CIPHERTEXT (16384u + 256u)         /* 2^14 + 256, body only */
#define FR_MAX_RECORD (FR_RECORD_HEADER_LEN + FR_MAX_CIPHERTEXT)
/* Protected record overhead: header + inner content type + tag. */
#define FR_RECORD_OVERHEAD (FR_RECORD_HEADER_LEN + 1 + FR_AEAD_TAG_LEN)

/* Parse a record header.  Returns FR_OK with *type and *body_len when a
 * header is present; FERRULE_R_RECORD_OVERFLOW if the body length exceeds
 * 2^14+256; FERRULE_R_BAD_CONTENT_TYPE for an unknown type;
 * FERRULE_R_BAD_RECORD_VERSION if the legacy version is not 0x03XX.
 * `hdr` must hold FR_RECORD_HEADER_LEN bytes. */
FR_MUST_CHECK fr_err fr_record_header(const uint8_t *hdr, uint8_t *type, size_t *body_len);

/* Write a plaintext record: header + data (len <= 2^14). */
FR_MUST_CHECK fr_err fr_record_write_plain(uint8_t type, const uint8_t *data, size_t len,
                                           uint8_t *out, size_t out_cap, size_t *out_len);

/* Protect one record (RFC 8446 §5.2): TLSInnerPlaintext = data || type ||
 * zeros(pad); header type application_data, version 0x0303.  len <= 2^14
 * and len + 1 + pad <= 2^14 + 1... (pad may be 0).  out_cap must be at
 * least FR_RECORD_OVERHEAD + len + pad.  The ciphertext is written
 * straight into `out` from `data`, which is either the body's position in
 * `out` (out + FR_RECORD_HEADER_LEN: in place) or disjoint from the record
 * (FERRULE_R_INTERNAL otherwise). */
FR_MUST_CHECK fr_err fr_record_seal(fr_aead *a, uint8_t type, const uint8_t *data, size_t len,
                                    size_t pad, uint8_t *out, size_t out_cap, size_t *out_len);

/* Unprotect one record in place.  `rec` is the whole record including the
 * header (whose type must be application_data), rec_len its length.  On
 * success *type is the inner content type and *pt / *pt_len the plaintext
 * inside rec.  Errors: BAD_OUTER_TYPE (outer type not application_data),
 * BAD_RECORD_MAC (AEAD failure, body shorter than the tag),
 * PLAINTEXT_OVERFLOW (TLSInnerPlaintext > 2^14 + 1), NO_CONTENT_TYPE
 * (inner plaintext all zeros), BAD_CONTENT_TYPE (inner type unknown or
 * change_cipher_spec); each is an unexpected_message alert but the
 * overflow (record_overflow) and the MAC (bad_record_mac). */
FR_MUST_CHECK fr_err fr_record_open(fr_aead *a, uint8_t *rec, size_t rec_len, uint8_t *type,
                                    uint8_t **pt, size_t *pt_len);

/* RFC 8449 §4: a protected record whose TLSInnerPlaintext (body minus the
 * AEAD tag) exceeds `max_inner` is record_overflow.  Checked on the header
 * alone, before decryption, like the 2^14 + 256 bound of RFC 8446 §5.2.
 * A body too short to hold a tag is left to fr_record_open. */
FR_MUST_CHECK fr_err fr_record_check_inner_limit(size_t body_len, size_t max_inner);

#endif
