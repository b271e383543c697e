/*
 * fuzz_record.c - the record layer (core/record.c) on its own: header
 * parsing, record unprotection under a fixed key, and the plaintext and
 * sealing paths.
 *
 * Input byte 0:  bits 0-1 cipher suite (0 AES-128-GCM, 1 AES-256-GCM,
 *                2/3 ChaCha20-Poly1305), bits 2-3 mode:
 *   mode 0: the rest is a stream of records.  Each complete record whose
 *           header parses is opened with the fixed read key if it is
 *           application_data (the sequence number advances as on a real
 *           connection; the seeds from gen_seeds.c are records sealed with
 *           the same key, so mutations reach the inner content type and
 *           padding scan), else checked against the plaintext limit.
 *   mode 1: bytes 1-2 padding length, byte 3 inner type (mod 3 picks a
 *           protectable type; 0xf0..0xff pass 0..31 through), rest content:
 *           seal with the fixed write key and open with the read key; a
 *           non-zero type must round-trip exactly.
 *   mode 2: write a plaintext record of the rest and parse its header back.
 *   mode 3: like mode 0 but each record is opened with a fresh sequence
 *           number 0 (so any single sealed record seed opens).
 */
#include "fuzz_common.h"

#include "record.h"

static const uint16_t SUITES[4] = {FERRULE_TLS_AES_128_GCM_SHA256, FERRULE_TLS_AES_256_GCM_SHA384,
                                   FERRULE_TLS_CHACHA20_POLY1305_SHA256,
                                   FERRULE_TLS_CHACHA20_POLY1305_SHA256};

static uint8_t rec[FR_MAX_RECORD + 64];
static uint8_t out[FR_MAX_RECORD + 64];

static void open_stream(uint16_t suite, const uint8_t *p, size_t n, int fresh_seq) {
    uint8_t secret[FR_MAX_HASH];
    fuzz_record_secret(secret, sizeof(secret));
    fr_aead rd;
    memset(&rd, 0, sizeof(rd));
    FUZZ_CHECK(fr_aead_init(&rd, suite, secret, 0) == FR_OK);
    size_t off = 0;
    while (n - off >= FR_RECORD_HEADER_LEN) {
        uint8_t type = 0;
        size_t body = 0;
        if (fr_record_header(p + off, &type, &body) != FR_OK) break;
        FUZZ_CHECK(body <= FR_MAX_CIPHERTEXT);
        if (body > n - off - FR_RECORD_HEADER_LEN) break;
        size_t len = FR_RECORD_HEADER_LEN + body;
        if (type == FR_CT_APPLICATION_DATA) {
            memcpy(rec, p + off, len);
            if (fresh_seq) rd.seq = 0;
            uint8_t inner = 0, *pt = NULL;
            size_t pt_len = 0;
            fr_err e = fr_record_open(&rd, rec, len, &inner, &pt, &pt_len);
            if (e == FR_OK) {
                FUZZ_CHECK(inner != FR_CT_INVALID);
                FUZZ_CHECK(pt_len <= FR_MAX_PLAINTEXT);
                FUZZ_CHECK(pt_len == 0 || (pt >= rec && pt + pt_len <= rec + len));
            } else {
                FUZZ_CHECK(e == FERRULE_R_BAD_RECORD_MAC || e == FERRULE_R_RECORD_OVERFLOW ||
                           e == FERRULE_R_PLAINTEXT_OVERFLOW || e == FERRULE_R_NO_CONTENT_TYPE ||
                           e == FERRULE_R_BAD_CONTENT_TYPE || e == FERRULE_R_SEQUENCE_EXHAUSTED);
            }
        }
        off += len;
    }
    fr_aead_free(&rd);
}

static void seal_open(uint16_t suite, const uint8_t *p, size_t n) {
    if (n < 3) return;
    size_t pad = (size_t)(((unsigned)p[0] << 8 | p[1]) % (FR_MAX_PLAINTEXT + 2));
    /* Mostly the three protectable types; 0xf0.. passes other values through. */
    static const uint8_t ok_types[3] = {FR_CT_ALERT, FR_CT_HANDSHAKE, FR_CT_APPLICATION_DATA};
    uint8_t type = p[2] >= 0xf0 ? (uint8_t)(p[2] & 0x1f) : ok_types[p[2] % 3];
    p += 3;
    n -= 3;
    uint8_t secret[FR_MAX_HASH];
    fuzz_record_secret(secret, sizeof(secret));
    fr_aead wr, rd;
    memset(&wr, 0, sizeof(wr));
    memset(&rd, 0, sizeof(rd));
    FUZZ_CHECK(fr_aead_init(&wr, suite, secret, 1) == FR_OK);
    FUZZ_CHECK(fr_aead_init(&rd, suite, secret, 0) == FR_OK);
    size_t len = 0;
    fr_err e = fr_record_seal(&wr, type, p, n, pad, out, sizeof(out), &len);
    if (e == FR_OK) {
        /* A sealed record is always a well-formed application_data record. */
        FUZZ_CHECK(len >= FR_RECORD_OVERHEAD && len <= FR_MAX_RECORD);
        uint8_t htype = 0;
        size_t body = 0;
        FUZZ_CHECK(fr_record_header(out, &htype, &body) == FR_OK);
        FUZZ_CHECK(htype == FR_CT_APPLICATION_DATA && body + FR_RECORD_HEADER_LEN == len);
        uint8_t inner = 0, *pt = NULL;
        size_t pt_len = 0;
        e = fr_record_open(&rd, out, len, &inner, &pt, &pt_len);
        if (type != FR_CT_INVALID) {
            if (n + 1 + pad <= FR_MAX_PLAINTEXT + 1) {
                FUZZ_CHECK(e == FR_OK);
                FUZZ_CHECK(inner == type && pt_len == n);
                FUZZ_CHECK(n == 0 || memcmp(pt, p, n) == 0);
            }
        } else if (e == FR_OK) {
            /* Type 0: the scan finds the last non-zero content byte. */
            FUZZ_CHECK(pt_len < n && inner == p[pt_len]);
        }
    }
    fr_aead_free(&wr);
    fr_aead_free(&rd);
}

static void plain(const uint8_t *p, size_t n) {
    static const uint8_t types[] = {FR_CT_HANDSHAKE, FR_CT_ALERT, FR_CT_APPLICATION_DATA,
                                    FR_CT_CHANGE_CIPHER_SPEC};
    uint8_t type = types[n % 4];
    size_t len = 0;
    fr_err e = fr_record_write_plain(type, p, n, out, sizeof(out), &len);
    if (n <= FR_MAX_PLAINTEXT) {
        FUZZ_CHECK(e == FR_OK);
        FUZZ_CHECK(len == n + FR_RECORD_HEADER_LEN);
        uint8_t htype = 0;
        size_t body = 0;
        FUZZ_CHECK(fr_record_header(out, &htype, &body) == FR_OK);
        FUZZ_CHECK(htype == type && body == n);
        FUZZ_CHECK(n == 0 || memcmp(out + FR_RECORD_HEADER_LEN, p, n) == 0);
    } else {
        FUZZ_CHECK(e != FR_OK);
    }
    /* Too small an output buffer is refused, never overrun. */
    if (n > 0 && n <= FR_MAX_PLAINTEXT)
        FUZZ_CHECK(fr_record_write_plain(type, p, n, out, n + FR_RECORD_HEADER_LEN - 1, &len) !=
                   FR_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint16_t suite = SUITES[data[0] & 3];
    int mode = (data[0] >> 2) & 3;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (mode) {
    case 0: open_stream(suite, p, n, 0); break;
    case 1: seal_open(suite, p, n); break;
    case 2: plain(p, n); break;
    default: open_stream(suite, p, n, 1); break;
    }
    /* Every 5-byte window is a header candidate. */
    for (size_t i = 0; i + FR_RECORD_HEADER_LEN <= n && i < 64; i++) {
        uint8_t type = 0;
        size_t body = 0;
        if (fr_record_header(p + i, &type, &body) == FR_OK)
            FUZZ_CHECK(body <= FR_MAX_CIPHERTEXT && type >= FR_CT_CHANGE_CIPHER_SPEC &&
                       type <= FR_CT_APPLICATION_DATA);
    }
    return 0;
}
