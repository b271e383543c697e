/*
 * access.h - the certificate view behind the public X.509 accessors
 * (engine.h "certificates"), shared by access.c (building the indexes) and
 * access_text.c (dotted OIDs, RFC 4514 strings).  Private to core/x509.
 */
#ifndef FR_X509_ACCESS_H
#define FR_X509_ACCESS_H

#include "../engine.h"
#include "der.h"
#include "x509.h"

/* The view's text and index storage: blocks from the view's fr_mem, freed
 * together with it (a view is built once and never shrinks). */
typedef struct fr_view_block {
    struct fr_view_block *next;
    size_t size, used; /* bytes of data after the header */
} fr_view_block;
#define FR_VIEW_ALIGN 16u
#define FR_VIEW_HEAD ((sizeof(fr_view_block) + FR_VIEW_ALIGN - 1) & ~(size_t)(FR_VIEW_ALIGN - 1))

struct fr_cert_view {
    fr_mem mem;
    fr_cert *cert;
    fr_view_block *blocks;
    fr_cert_facts facts;
    fr_x509_name subject, issuer;
    fr_x509_entry *lists[FR_CERT_LISTS];
    size_t counts[FR_CERT_LISTS];
};

/* Zeroed, aligned storage that lives as long as the view; NULL when out of
 * memory. */
void *fr_view_alloc(fr_cert_view *v, size_t n);
/* The dotted form of OBJECT IDENTIFIER content p[0..n) (validated by the
 * parser: fr_der_oid_content_ok), stored in the view.  Arcs of any size
 * are written out exactly. */
FR_MUST_CHECK fr_err fr_view_oid_text(fr_cert_view *v, const uint8_t *p, size_t n,
                                      const char **out);
/* Fill name->text with the RFC 4514 string of name's attributes. */
FR_MUST_CHECK fr_err fr_view_name_text(fr_cert_view *v, fr_x509_name *name);

#endif
