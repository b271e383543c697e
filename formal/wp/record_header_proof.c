/*
 * formal/wp/record_header_proof.c - the contracts Frama-C/WP proves for the
 * record header parser of core/record_header.c (docs/formal.md).  Like
 * reader_writer.c, this file includes the shipped source itself.
 */
#include "common_spec.h"
#include "record.h"

/*@ predicate content_type(integer t) = t == 20 || t == 21 || t == 22 || t == 23; */



/* The 5-byte header: type, legacy version, length.  It succeeds exactly
 * when the type is one of the four TLS 1.3 content types, the major
 * version is 3 and the length is at most 2^14 + 256 (RFC 8446 §5.1, §5.2),
 * and then returns the type and the length; otherwise the outputs are
 * untouched and the reason names the first check that failed. */
/*@ requires \valid_read(hdr + (0 .. 4));
    requires \valid(type) && \valid(body_len) && \separated(type, body_len);
    requires \separated(type, hdr + (0 .. 4)) && \separated(body_len, hdr + (0 .. 4));
    behavior ok:
      assumes content_type(hdr[0]) && hdr[1] == 3 && hdr[3] * 256 + hdr[4] <= 16640;
      assigns *type, *body_len;
      ensures \result == FR_OK && *type == hdr[0] && *body_len == hdr[3] * 256 + hdr[4];
    behavior bad_type:
      assumes !content_type(hdr[0]);
      assigns \nothing;
      ensures \result == FERRULE_R_BAD_CONTENT_TYPE;
    behavior bad_version:
      assumes content_type(hdr[0]) && hdr[1] != 3;
      assigns \nothing;
      ensures \result == FERRULE_R_BAD_RECORD_VERSION;
    behavior overflow:
      assumes content_type(hdr[0]) && hdr[1] == 3 && hdr[3] * 256 + hdr[4] > 16640;
      assigns \nothing;
      ensures \result == FERRULE_R_RECORD_OVERFLOW;
    complete behaviors;
    disjoint behaviors;
*/
fr_err fr_record_header(const uint8_t *hdr, uint8_t *type, size_t *body_len);

/*@ assigns \nothing;
    ensures \result == FR_OK || \result == FERRULE_R_RECORD_OVERFLOW;
    ensures \result == FR_OK <==> body_len < 16 ||
                                 body_len - 16 <= max_inner; // FR_AEAD_TAG_LEN = 16
*/
fr_err fr_record_check_inner_limit(size_t body_len, size_t max_inner);

#include "record_header.c"
