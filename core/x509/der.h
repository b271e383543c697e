/*
 * der.h - a small DER (X.690 §10) layer on top of fr_reader.
 *
 * Only what X.509 needs: single-byte tags (tag numbers < 31), definite
 * lengths in their minimal form (X.690 §10.1), no indefinite length.  Every
 * function fails with FERRULE_R_CERT_MALFORMED and leaves the reader
 * unchanged on failure.
 */
#ifndef FR_X509_DER_H
#define FR_X509_DER_H

#include "../common.h"

/* Universal tags used by X.509. */
#define FR_DER_BOOLEAN 0x01
#define FR_DER_INTEGER 0x02
#define FR_DER_BIT_STRING 0x03
#define FR_DER_OCTET_STRING 0x04
#define FR_DER_NULL 0x05
#define FR_DER_OID 0x06
#define FR_DER_UTF8STRING 0x0c
#define FR_DER_PRINTABLESTRING 0x13
#define FR_DER_T61STRING 0x14
#define FR_DER_IA5STRING 0x16
#define FR_DER_UTCTIME 0x17
#define FR_DER_GENERALIZEDTIME 0x18
#define FR_DER_UNIVERSALSTRING 0x1c
#define FR_DER_BMPSTRING 0x1e
#define FR_DER_SEQUENCE 0x30
#define FR_DER_SET 0x31
/* Context-specific tags: [n] constructed / primitive. */
#define FR_DER_CTX_CONS(n) ((uint8_t)(0xa0 | (n)))
#define FR_DER_CTX_PRIM(n) ((uint8_t)(0x80 | (n)))

/* Deepest nesting of constructed encodings fr_der_check_nesting accepts. */
#define FR_DER_MAX_DEPTH 16

/* One element: its tag, its content, and the whole TLV. */
typedef struct fr_der_tlv {
    uint8_t tag;
    fr_reader content;
    const uint8_t *tlv;
    size_t tlv_len;
} fr_der_tlv;

/* Read the next element, whatever its tag. */
FR_MUST_CHECK fr_err fr_der_read_any(fr_reader *r, fr_der_tlv *out);
/* Read the next element; it must have tag `tag`. */
FR_MUST_CHECK fr_err fr_der_read(fr_reader *r, uint8_t tag, fr_der_tlv *out);
/* Like fr_der_read, but absent (next tag differs or end of input) is not an
 * error: *present is set to 0 and the reader is left alone. */
FR_MUST_CHECK fr_err fr_der_read_optional(fr_reader *r, uint8_t tag, fr_der_tlv *out,
                                          int *present);
/* Tag of the next element, or -1 at the end. */
int fr_der_peek_tag(const fr_reader *r);
/* Require the reader to be fully consumed (CERT_MALFORMED otherwise). */
FR_MUST_CHECK fr_err fr_der_done(const fr_reader *r);

/* Validate a whole encoding: one TLV spanning the buffer, every nested
 * constructed element well formed, at most FR_DER_MAX_DEPTH levels. */
FR_MUST_CHECK fr_err fr_der_check_nesting(const uint8_t *p, size_t n);

/* Typed readers (content checked per DER). */
FR_MUST_CHECK fr_err fr_der_read_bool(fr_reader *r, int *v);
/* A non-negative INTEGER in minimal form, at most `max`. */
FR_MUST_CHECK fr_err fr_der_read_uint(fr_reader *r, uint32_t max, uint32_t *v);
/* An OBJECT IDENTIFIER; content bytes returned in out->content. */
FR_MUST_CHECK fr_err fr_der_read_oid(fr_reader *r, fr_der_tlv *out);
/* A BIT STRING; *unused = count of unused bits in the last byte, bits
 * points at the content after the unused-bits byte. */
FR_MUST_CHECK fr_err fr_der_read_bits(fr_reader *r, const uint8_t **bits, size_t *len,
                                      unsigned *unused);

/* 1 if p[0..n) is valid OBJECT IDENTIFIER content (X.690 §8.19). */
int fr_der_oid_content_ok(const uint8_t *p, size_t n);

/* Iteration over the elements of a SEQUENCE OF / SET OF.  fn gets each
 * element (its own copy, free to consume) and ctx; the first failure ends
 * the walk and is returned. */
typedef fr_err (*fr_der_each_fn)(void *ctx, fr_der_tlv *elem);
/* Every element of the content `r`, each of tag `tag` (0: any tag);
 * `nonempty`: SIZE (1..MAX), no element is CERT_MALFORMED. */
FR_MUST_CHECK fr_err fr_der_each(fr_reader r, uint8_t tag, int nonempty, fr_der_each_fn fn,
                                 void *ctx);
/* An extension value (or any field) that is exactly one SEQUENCE SIZE
 * (1..MAX) OF elements of tag `tag` (0: any): fr_der_each over it; *seq
 * (may be NULL) receives the SEQUENCE. */
FR_MUST_CHECK fr_err fr_der_seq_of(fr_reader v, uint8_t tag, fr_der_each_fn fn, void *ctx,
                                   fr_der_tlv *seq);

/* The frame of a parser whose result keeps its own copy of the DER
 * (fr_cert, fr_crl): allocate a zeroed object of `size` bytes and a copy
 * of der[0..len) from m, then parse(obj, copy, len), which takes the copy
 * into the object before anything can fail.  On failure release(m, obj)
 * frees both and *out is NULL.  NULL_ARGUMENT for a NULL der, CERT_MALFORMED
 * for an empty one. */
typedef fr_err (*fr_der_owned_parse_fn)(void *obj, uint8_t *der, size_t len);
typedef void (*fr_der_owned_free_fn)(fr_mem *m, void *obj);
FR_MUST_CHECK fr_err fr_der_owned_parse(fr_mem *m, const uint8_t *der, size_t len, size_t size,
                                        fr_der_owned_parse_fn parse, fr_der_owned_free_fn release,
                                        void **out);

/* Shared X.509 pieces (cert_parse.c, cert_ext.c), also used by the CRL
 * parser (crl.c). */
/* Name content (the inside of the SEQUENCE): RDNs of ATVs. */
FR_MUST_CHECK fr_err fr_x509_check_name(fr_reader r);
/* One GeneralName element (RFC 5280 §4.2.1.6). */
FR_MUST_CHECK fr_err fr_x509_check_general_name(const fr_der_tlv *gn);
/* Time (UTCTime or GeneralizedTime) to Unix seconds; *enc_bad (if not
 * NULL) is set when the choice breaks RFC 5280 §4.1.2.5. */
FR_MUST_CHECK fr_err fr_x509_parse_time(fr_reader *r, int64_t *out, int *enc_bad);
/* Signature AlgorithmIdentifier: *kind = 0 when unsupported. */
FR_MUST_CHECK fr_err fr_x509_parse_sig_alg(const fr_der_tlv *alg, int *kind, int *hash);
/* The SIGNED{} frame shared by Certificate and CertificateList (RFC 5280
 * §4.1.1, §5.1.1): the whole of der[0..len) is one SEQUENCE { tbs
 * SEQUENCE, signatureAlgorithm SEQUENCE, signatureValue BIT STRING with no
 * unused bits }, and passes fr_der_check_nesting. */
FR_MUST_CHECK fr_err fr_x509_parse_signed(const uint8_t *der, size_t len, fr_der_tlv *tbs,
                                          fr_der_tlv *alg, const uint8_t **sig, size_t *sig_len);
/* The TBS's signature field, next in *tbs, equals the outer signature
 * algorithm byte for byte (RFC 5280 §4.1.1.2, §5.1.1.2). */
FR_MUST_CHECK fr_err fr_x509_check_inner_sig_alg(fr_reader *tbs, const fr_der_tlv *outer_alg);
/* A digest AlgorithmIdentifier: SEQUENCE { OID, NULL OPTIONAL } (RFC 4055
 * §2.1, RFC 5754 §2), its OID in *oid; the SHA-2 hash an OID names, 0 for
 * another (FR_HASH_*). */
FR_MUST_CHECK fr_err fr_x509_read_digest_alg(fr_reader *r, fr_der_tlv *oid);
int fr_x509_sha2_of(const fr_der_tlv *oid);
/* A certificate's Extensions content (RFC 5280 §4.2) into c (cert_ext.c). */
struct fr_cert;
FR_MUST_CHECK fr_err fr_x509_parse_cert_extensions(struct fr_cert *c, fr_reader r);

/* 1 if the OID content bytes of `t` equal oid[0..n). */
int fr_der_oid_is(const fr_der_tlv *t, const uint8_t *oid, size_t n);
#define FR_DER_OID_IS(t, arr) fr_der_oid_is((t), (arr), sizeof(arr))

static inline size_t fr_der_len(const fr_der_tlv *t) { return fr_reader_left(&t->content); }

#endif
