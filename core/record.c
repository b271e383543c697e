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

/* ---- padding removal in constant time ------------------------------------
 * How much of a TLSInnerPlaintext is padding is what the padding hides
 * (RFC 8446 §5.4), so finding the last non-zero byte must not take time
 * that depends on where it is: no early exit, no branch on the data, and a
 * cost the bulk path can afford (tools/cost.sh's bulk phase).  Two passes:
 * the first ORs the plaintext together in blocks of PAD_BLOCK bytes (a
 * few instructions per 8 bytes, no selection) and keeps, by mask, the
 * start of the last block that is not all zeros; the second reads
 * PAD_BLOCK bytes from there (moved back to end at n at most, so always
 * PAD_BLOCK bytes) a word at a time, keeping by mask the last non-zero
 * word, and picks its last non-zero byte by mask.  The one access that
 * depends on the padding is the second pass's window: its address, at
 * PAD_BLOCK granularity, in a buffer the first pass has just read
 * (docs/side-channel-review.md). */
#define PAD_BLOCK 256u

/* Hide a mask's origin from the optimiser, so that it keeps the masked
 * selects below as arithmetic rather than turning them into branches. */
static inline uint64_t ct_barrier(uint64_t x) {
#if defined(__GNUC__)
    __asm__("" : "+r"(x));
#endif
    return x;
}

/* All ones if x != 0, else 0. */
static inline uint64_t ct_nonzero(uint64_t x) { return ct_barrier(0 - ((x | (0 - x)) >> 63)); }

/* All ones if a < b, else 0. */
static inline uint64_t ct_less(uint64_t a, uint64_t b) {
    return ct_barrier(0 - ((a ^ ((a ^ b) | ((a - b) ^ a))) >> 63));
}

static inline uint64_t ct_select(uint64_t mask, uint64_t a, uint64_t b) {
    return (a & mask) | (b & ~mask);
}

/* Byte k of the word is p[k], whatever the host's byte order. */
static inline uint64_t load_le64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* The last non-zero byte of p[0..n): its index + 1 (0 if there is none)
 * and, in *value, the byte (0 if none); every byte is read once. */
static size_t last_nonzero(const uint8_t *p, size_t n, uint8_t *value) {
    uint64_t start = 0, word = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = load_le64(p + i), m = ct_nonzero(w);
        start = ct_select(m, i, start);
        word = ct_select(m, w, word);
    }
    if (i < n) {
        uint64_t w = 0;
        for (size_t k = 0; i + k < n; k++) w |= (uint64_t)p[i + k] << (8 * k);
        uint64_t m = ct_nonzero(w);
        start = ct_select(m, i, start);
        word = ct_select(m, w, word);
    }
    uint64_t end = 0, v = 0;
    for (unsigned k = 0; k < 8; k++) {
        uint64_t b = word >> (8 * k) & 0xff, m = ct_nonzero(b);
        end = ct_select(m, start + k + 1, end);
        v = ct_select(m, b, v);
    }
    *value = (uint8_t)v;
    return (size_t)end;
}

/* The OR of the PAD_BLOCK bytes at p (16-byte aligned): non-zero if any
 * of them is.  GCC and clang: 16-byte ORs straight from memory (SSE2 on
 * x86-64, NEON on arm64), sixteen to a step; elsewhere 8-byte words. */
#if defined(__GNUC__)
typedef uint64_t fr_v2u64 __attribute__((vector_size(16), may_alias));
static inline uint64_t block_or(const uint8_t *p) {
    const fr_v2u64 *v = (const fr_v2u64 *)__builtin_assume_aligned(p, 16);
    fr_v2u64 x = {0, 0};
    for (size_t k = 0; k < PAD_BLOCK / 16; k += 16) {
        fr_v2u64 a = (v[k] | v[k + 1]) | (v[k + 2] | v[k + 3]),
                 b = (v[k + 4] | v[k + 5]) | (v[k + 6] | v[k + 7]),
                 c = (v[k + 8] | v[k + 9]) | (v[k + 10] | v[k + 11]),
                 d = (v[k + 12] | v[k + 13]) | (v[k + 14] | v[k + 15]);
        x |= (a | b) | (c | d);
    }
    return x[0] | x[1];
}
#else
static inline uint64_t block_or(const uint8_t *p) {
    uint64_t acc = 0;
    for (size_t k = 0; k < PAD_BLOCK; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        acc |= w;
    }
    return acc;
}
#endif

/* The OR of p[0..n) (n < PAD_BLOCK): 8-byte words, then bytes. */
static inline uint64_t tail_or(const uint8_t *p, size_t n) {
    uint64_t acc = 0;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        acc |= w;
    }
    for (; k < n; k++) acc |= p[k];
    return acc;
}

/* The length of the content and type of the n-byte TLSInnerPlaintext at p
 * (the index of its last non-zero byte, + 1), 0 if it is all zeros; *type
 * the last non-zero byte.  The first pass's regions: the bytes before the
 * first 16-byte boundary, PAD_BLOCK-byte blocks, the rest; each at most
 * PAD_BLOCK bytes, so the window from the start of the last non-zero one
 * holds it. */
static size_t inner_content_end(const uint8_t *p, size_t n, uint8_t *type) {
    if (n <= PAD_BLOCK) return last_nonzero(p, n, type);
    size_t i = (size_t)(0 - (uintptr_t)p) & 15u; /* (the address is public) */
    uint64_t start = 0;                          /* the head's, if non-zero */
    for (; i + PAD_BLOCK <= n; i += PAD_BLOCK)
        start = ct_select(ct_nonzero(block_or(p + i)), i, start);
    if (i < n) start = ct_select(ct_nonzero(tail_or(p + i, n - i)), i, start);
    /* The window: PAD_BLOCK bytes from that region's start, ending at n at
     * most; what lies after the region in it is zeros. */
    uint64_t last = n - PAD_BLOCK;
    start = ct_select(ct_less(last, start), last, start);
    size_t end = last_nonzero(p + start, PAD_BLOCK, type);
    return (size_t)((start + end) & ct_nonzero(end));
}

fr_err fr_record_write_plain(uint8_t type, const uint8_t *data, size_t len, uint8_t *out,
                             size_t out_cap, size_t *out_len) {
    /* Caller bugs, not peer behaviour: an unknown type or an oversized
     * fragment (RFC 8446 §5.1: length MUST NOT exceed 2^14). */
    FR_ENSURE(fr_record_known_type(type), FERRULE_R_INTERNAL);
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
     * stays within the decrypted cleartext, in time that depends on n only
     * (inner_content_end). */
    uint8_t t;
    size_t i = inner_content_end(p, n, &t);
    if (i == 0) {
        /* §5.4: no non-zero octet, unexpected_message. */
        fr_wipe(p, n);
        return FERRULE_R_NO_CONTENT_TYPE;
    }
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
