/*
 * ferrule.h - the public, stable C ABI of ferrule, a TLS 1.3 library.
 *
 * Conventions
 * -----------
 *  - Every symbol starts with `ferrule_` / `FERRULE_`.
 *  - Handles (`ferrule_config`, `ferrule_conn`) are opaque.
 *  - Structs that cross the ABI are versioned: the first field is
 *    `uint32_t struct_size`, zero means "default" for every field, fields are
 *    only appended.  The library reads the fields that fit in `struct_size`
 *    and rejects a larger struct whose unknown trailing bytes are not zero
 *    (FERRULE_USAGE / FERRULE_R_BAD_STRUCT).
 *  - Enumerations are fixed-width integers (#define constants), never C enums.
 *  - Functions that can fail return an `int` status class (FERRULE_OK, ...).
 *    The detail of the failure is kept in the handle: see
 *    ferrule_conn_reason(), ferrule_conn_alert(), ferrule_conn_error_message().
 *    There is no thread-local error state.
 *  - The first fatal error of a connection sticks: every later call returns
 *    the same status class.
 *
 * Thread safety
 * -------------
 *  - A ferrule_config is reference counted.  While you are still configuring
 *    it (before the first ferrule_conn_new() that uses it) it belongs to one
 *    thread.  Once a connection uses it, it is frozen (setters return
 *    FERRULE_USAGE / FERRULE_R_CONFIG_FROZEN) and may be shared by any number
 *    of connections on any threads.
 *  - A ferrule_conn is used by one thread at a time, with one exception:
 *    once ferrule_conn_handshake() has returned FERRULE_OK, one thread may
 *    call the *receive half* (ferrule_conn_read, ferrule_conn_feed,
 *    ferrule_conn_feed_eof, ferrule_conn_input_buf/_ack,
 *    ferrule_conn_read_buf/_ack) while another thread calls the *send
 *    half* (ferrule_conn_write, ferrule_conn_take,
 *    ferrule_conn_pending_output, ferrule_conn_output_buf/_ack,
 *    ferrule_conn_close).  The library serialises the places where the
 *    halves meet (an alert raised by the receive half, the sticky error).
 *    The receive half never waits for the send half: output it owes (a
 *    KeyUpdate answer, RFC 8446 §4.6.3) is sent by the send half's next
 *    call (write, flush, take, close), and with callback I/O the alert of a
 *    fatal receive error is sent at once only if the send half is idle.
 *    Introspection getters may be called from either thread after the
 *    handshake; ferrule_conn_free() must not race with anything.
 */
#ifndef FERRULE_H
#define FERRULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FERRULE_API __attribute__((visibility("default")))
#define FERRULE_MUST_CHECK __attribute__((warn_unused_result))
#else
#define FERRULE_API
#define FERRULE_MUST_CHECK
#endif

/* ------------------------------------------------------------------ */
/* Version                                                              */
/* ------------------------------------------------------------------ */

#define FERRULE_VERSION_MAJOR 0
#define FERRULE_VERSION_MINOR 1
#define FERRULE_VERSION_PATCH 0

/** Library version as (major << 16) | (minor << 8) | patch. */
FERRULE_API uint32_t ferrule_version(void);
/** Library version as a static string, e.g. "0.1.0". */
FERRULE_API const char *ferrule_version_string(void);

/* ------------------------------------------------------------------ */
/* Status classes (return values)                                       */
/* ------------------------------------------------------------------ */

#define FERRULE_OK 0             /**< success */
#define FERRULE_WANT_READ 1      /**< need more bytes from the peer */
#define FERRULE_WANT_WRITE 2     /**< output must be drained first */
#define FERRULE_CLOSED 3         /**< peer sent an authenticated close_notify */
#define FERRULE_TRUNCATED 4      /**< transport EOF without close_notify */
#define FERRULE_DECODE 5         /**< peer sent malformed bytes; alert sent */
#define FERRULE_ALERT_SENT 6     /**< protocol violation by peer; alert sent */
#define FERRULE_ALERT_RECEIVED 7 /**< peer sent a fatal alert */
#define FERRULE_CERTIFICATE 8    /**< certificate verification failed */
#define FERRULE_POLICY 9         /**< local policy refused (no common params, memory ceiling) */
#define FERRULE_USAGE 10         /**< API misuse: NULL, wrong order, bad struct */
#define FERRULE_INTERNAL 11      /**< allocation or crypto library failure */
#define FERRULE_WANT_APP 12      /**< an application decision is pending (docs/decisions.md) */

/** Static name of a status class, e.g. "want-read". Never NULL. */
FERRULE_API const char *ferrule_status_name(int status);

/* ------------------------------------------------------------------ */
/* Reasons: the precise cause behind a status class.                   */
/* ------------------------------------------------------------------ */

#define FERRULE_R_NONE 0
/* decode / record layer */
#define FERRULE_R_DECODE_ERROR 1           /* malformed message (decode_error) */
#define FERRULE_R_RECORD_OVERFLOW 2        /* record too long (record_overflow) */
#define FERRULE_R_BAD_RECORD_MAC 3         /* AEAD failed (bad_record_mac) */
#define FERRULE_R_BAD_CONTENT_TYPE 4       /* unknown/forbidden record type */
#define FERRULE_R_HANDSHAKE_TOO_LARGE 5    /* handshake message above the cap */
#define FERRULE_R_BAD_RECORD_VERSION 6     /* legacy_record_version invalid */
#define FERRULE_R_PLAINTEXT_OVERFLOW 7     /* (inner) plaintext above 2^14 (+1) (record_overflow) */
#define FERRULE_R_NO_CONTENT_TYPE 8        /* protected record all padding (unexpected_message) */
#define FERRULE_R_BAD_OUTER_TYPE 9         /* protected record not application_data outside */
#define FERRULE_R_TOO_MANY_EMPTY 10        /* too many records without content in a row */
#define FERRULE_R_UNALIGNED_HANDSHAKE 11   /* handshake data past a key change or flight end */
#define FERRULE_R_TOO_MANY_KEY_UPDATES 12  /* too many KeyUpdates without data between */
#define FERRULE_R_BAD_ALERT_LEVEL 13       /* alert level neither warning nor fatal */
#define FERRULE_R_TOO_MANY_WARNINGS 14     /* too many user_canceled alerts in a row */
#define FERRULE_R_BAD_KEY_UPDATE 15        /* KeyUpdate request_update not 0 or 1 */
#define FERRULE_R_BAD_ALERT_LENGTH 48      /* alert record not exactly one alert (decode_error) */
/* protocol */
#define FERRULE_R_UNEXPECTED_MESSAGE 16    /* message not allowed in this state */
#define FERRULE_R_ILLEGAL_PARAMETER 17     /* field value not allowed */
#define FERRULE_R_MISSING_EXTENSION 18     /* mandatory extension absent */
#define FERRULE_R_UNSUPPORTED_EXTENSION 19 /* extension not allowed in this message */
#define FERRULE_R_DUPLICATE_EXTENSION 20   /* extension appears twice */
#define FERRULE_R_PROTOCOL_VERSION 21      /* peer does not speak TLS 1.3 */
#define FERRULE_R_DOWNGRADE 22             /* downgrade sentinel in ServerHello.random */
#define FERRULE_R_NO_SHARED_PARAMS 23      /* no common suite/group/signature scheme */
#define FERRULE_R_BAD_FINISHED 24          /* Finished verify_data mismatch */
#define FERRULE_R_BAD_SIGNATURE 25         /* CertificateVerify signature invalid */
#define FERRULE_R_NO_ALPN 26               /* no common application protocol */
#define FERRULE_R_INTERLEAVED 27           /* handshake data mixed with other records */
#define FERRULE_R_SEQUENCE_EXHAUSTED 28    /* record sequence number would wrap */
#define FERRULE_R_BAD_KEY_SHARE 29         /* invalid peer public key */
#define FERRULE_R_UNSUPPORTED_CERT 30      /* no usable certificate / key type */
#define FERRULE_R_BAD_CCS 31               /* malformed or misplaced change_cipher_spec */
#define FERRULE_R_BAD_BINDER 32            /* PSK binder does not verify (decrypt_error) */
#define FERRULE_R_EARLY_DATA_LIMIT 33      /* more 0-RTT data than max_early_data_size */
/* handshake: finer causes of a failed negotiation (alert in brackets) */
#define FERRULE_R_BAD_EXTENSION 176        /* an extension's body is malformed [decode_error] */
#define FERRULE_R_BAD_CLIENT_HELLO 177     /* ClientHello fields before the extensions are
                                              malformed [decode_error] */
#define FERRULE_R_MISSING_KEY_SHARE 178    /* no key_share where one is required
                                              [missing_extension] */
#define FERRULE_R_MISSING_GROUPS 179       /* ClientHello without supported_groups
                                              [missing_extension] */
#define FERRULE_R_DUPLICATE_KEY_SHARE 180  /* two key shares for one group [illegal_parameter] */
#define FERRULE_R_WRONG_GROUP 181          /* a share or group choice the handshake does not
                                              allow: the server's, for a group we did not offer
                                              or (HRR) already sent a share for; a second
                                              ClientHello's, not for the HRR's group
                                              [illegal_parameter] */
#define FERRULE_R_WRONG_CIPHER 182         /* server picked a suite we did not offer, or another
                                              than its HelloRetryRequest's [illegal_parameter] */
#define FERRULE_R_EMPTY_HRR 183            /* HelloRetryRequest that changes nothing
                                              [illegal_parameter] */
#define FERRULE_R_HRR_VERSION_CHANGED 184  /* ServerHello after a HelloRetryRequest without its
                                              selected_version [illegal_parameter] */
#define FERRULE_R_UNOFFERED_ALPN 185       /* server selected a protocol we did not offer
                                              [illegal_parameter] */
#define FERRULE_R_WRONG_SIGNATURE_TYPE 186 /* CertificateVerify with a scheme we did not offer
                                              or that does not fit the key [illegal_parameter] */
#define FERRULE_R_BAD_COMPRESSION_LIST 187 /* ClientHello compression methods other than
                                              exactly null [illegal_parameter] */
#define FERRULE_R_SKIPPED_EARLY_DATA_LIMIT 200 /* more refused 0-RTT data than the skip limit */
#define FERRULE_R_EARLY_DATA_NOT_RESUMED 201   /* 0-RTT accepted in a handshake that did not resume */
#define FERRULE_R_EARLY_CIPHER_MISMATCH 202    /* 0-RTT accepted with another suite than the PSK's */
#define FERRULE_R_EARLY_ALPN_MISMATCH 203      /* 0-RTT accepted with another ALPN than the session's */
#define FERRULE_R_PSK_HASH_MISMATCH 204        /* PSK resumed under a suite of another hash */
#define FERRULE_R_PSK_NOT_LAST 205             /* pre_shared_key not the last ClientHello
                                                  extension [illegal_parameter] */
#define FERRULE_R_PSK_BINDER_COUNT 206         /* not one binder per PSK identity
                                                  [illegal_parameter] */
#define FERRULE_R_PSK_IDENTITY_UNKNOWN 207     /* server selected a PSK identity we did not
                                                  offer [illegal_parameter] */
/* X25519MLKEM768 (docs/mlkem.md) */
#define FERRULE_R_GROUP_UNAVAILABLE 250        /* [usage] a group the libcrypto in use cannot
                                                  provide (X25519MLKEM768 without ML-KEM) */
#define FERRULE_R_KEM_SHARE_LENGTH 251         /* hybrid key share of the wrong length (client
                                                  1216, server 1120 bytes) [illegal_parameter] */
#define FERRULE_R_KEM_BAD_KEY 252              /* ML-KEM encapsulation key libcrypto refuses
                                                  [illegal_parameter] */
/* certificates (class FERRULE_CERTIFICATE) */
#define FERRULE_R_CERT_EXPIRED 64
#define FERRULE_R_CERT_NOT_YET_VALID 65
#define FERRULE_R_CERT_UNKNOWN_ISSUER 66
#define FERRULE_R_CERT_BAD_SIGNATURE 67
#define FERRULE_R_CERT_NAME_MISMATCH 68
#define FERRULE_R_CERT_NAME_CONSTRAINTS 69
#define FERRULE_R_CERT_PATH_LENGTH 70
#define FERRULE_R_CERT_KEY_USAGE 71
#define FERRULE_R_CERT_EKU 72
#define FERRULE_R_CERT_REVOKED 73
#define FERRULE_R_CERT_BAD_OCSP 74
#define FERRULE_R_CERT_TOO_MUCH_WORK 75
#define FERRULE_R_CERT_MALFORMED 76
#define FERRULE_R_CERT_WEAK_KEY 77
#define FERRULE_R_CERT_UNSUPPORTED 78     /* unsupported algorithm or critical extension */
#define FERRULE_R_CERT_MISSING 79         /* peer sent no certificate */
#define FERRULE_R_CERT_NOT_CA 80          /* issuer is not a CA */
#define FERRULE_R_CERT_REJECTED 81        /* rejected by the application callback */
#define FERRULE_R_CERT_POLICY 82          /* certificate policy processing failed (RFC 5280 §6.1) */
#define FERRULE_R_CERT_REQUIRED 83        /* server requires a client certificate; none sent */
#define FERRULE_R_CERT_CHAIN_TOO_LONG 84  /* more certificates than max_peer_certificates */
#define FERRULE_R_CERT_OCSP_MISSING 85   /* OCSP staple required (policy or must-staple), none sent */
/* peer-initiated */
#define FERRULE_R_PEER_ALERT 96           /* see ferrule_conn_alert() */
#define FERRULE_R_PEER_CLOSED 97          /* close_notify received */
#define FERRULE_R_TRUNCATED 98            /* EOF without close_notify */
/* local */
#define FERRULE_R_MEMORY_LIMIT 112        /* per-connection memory ceiling hit */
#define FERRULE_R_NULL_ARGUMENT 113
#define FERRULE_R_WRONG_STATE 114         /* call not valid in this state */
#define FERRULE_R_BAD_STRUCT 115          /* versioned struct invalid */
#define FERRULE_R_CONFIG_INVALID 116      /* bad configuration value */
#define FERRULE_R_CONFIG_FROZEN 117       /* config already in use */
#define FERRULE_R_IO 118                  /* an I/O callback reported failure */
#define FERRULE_R_INTERNAL 119            /* crypto library failure */
#define FERRULE_R_OUT_OF_MEMORY 120
#define FERRULE_R_BUFFER_TOO_SMALL 121
#define FERRULE_R_CONFIG_FILE 122         /* a configured file cannot be read */
#define FERRULE_R_CONFIG_PEM 123          /* no usable PEM/DER certificate or key */
#define FERRULE_R_CONFIG_KEY_MISMATCH 124 /* private key does not match the certificate */
#define FERRULE_R_NO_EARLY_DATA 125       /* 0-RTT impossible: not enabled, no session allowing it */
#define FERRULE_R_NOT_REPLAY_SAFE 126     /* early data not declared replay-safe */
#define FERRULE_R_NOT_FOUND 136           /* no such entry (index out of range, wrong kind) */
#define FERRULE_R_NO_DECISION 132         /* no application decision is pending */
#define FERRULE_R_WRONG_DECISION 133      /* the answer is for another decision than the pending */
#define FERRULE_R_BAD_ANSWER 134          /* the answer is not a valid value for the decision */

/** Static one-line description of a reason code. Never NULL. */
FERRULE_API const char *ferrule_reason_message(uint32_t reason);
/** Static symbolic name of a reason code, e.g. "cert_expired". Never NULL. */
FERRULE_API const char *ferrule_reason_name(uint32_t reason);

/* ------------------------------------------------------------------ */
/* Protocol constants (IANA values)                                     */
/* ------------------------------------------------------------------ */

#define FERRULE_ROLE_CLIENT 1
#define FERRULE_ROLE_SERVER 2

#define FERRULE_TLS13 0x0304

#define FERRULE_TLS_AES_128_GCM_SHA256 0x1301
#define FERRULE_TLS_AES_256_GCM_SHA384 0x1302
#define FERRULE_TLS_CHACHA20_POLY1305_SHA256 0x1303

#define FERRULE_GROUP_SECP256R1 0x0017
#define FERRULE_GROUP_SECP384R1 0x0018
#define FERRULE_GROUP_X25519 0x001d
/* The hybrid of draft-ietf-tls-ecdhe-mlkem: only when the libcrypto ferrule
 * runs with has ML-KEM-768 (OpenSSL 3.5+; docs/mlkem.md), and then first
 * in the default list; otherwise ferrule_config_set_groups refuses it with
 * FERRULE_R_GROUP_UNAVAILABLE. */
#define FERRULE_GROUP_X25519MLKEM768 0x11ec

#define FERRULE_SIG_RSA_PKCS1_SHA256 0x0401
#define FERRULE_SIG_RSA_PKCS1_SHA384 0x0501
#define FERRULE_SIG_RSA_PKCS1_SHA512 0x0601
#define FERRULE_SIG_ECDSA_SECP256R1_SHA256 0x0403
#define FERRULE_SIG_ECDSA_SECP384R1_SHA384 0x0503
#define FERRULE_SIG_RSA_PSS_RSAE_SHA256 0x0804
#define FERRULE_SIG_RSA_PSS_RSAE_SHA384 0x0805
#define FERRULE_SIG_RSA_PSS_RSAE_SHA512 0x0806
#define FERRULE_SIG_ED25519 0x0807
#define FERRULE_SIG_RSA_PSS_PSS_SHA256 0x0809
#define FERRULE_SIG_RSA_PSS_PSS_SHA384 0x080a
#define FERRULE_SIG_RSA_PSS_PSS_SHA512 0x080b

/* TLS alert descriptions (RFC 8446 §6) */
#define FERRULE_ALERT_CLOSE_NOTIFY 0
#define FERRULE_ALERT_UNEXPECTED_MESSAGE 10
#define FERRULE_ALERT_BAD_RECORD_MAC 20
#define FERRULE_ALERT_RECORD_OVERFLOW 22
#define FERRULE_ALERT_DECOMPRESSION_FAILURE 30
#define FERRULE_ALERT_HANDSHAKE_FAILURE 40
#define FERRULE_ALERT_BAD_CERTIFICATE 42
#define FERRULE_ALERT_UNSUPPORTED_CERTIFICATE 43
#define FERRULE_ALERT_CERTIFICATE_REVOKED 44
#define FERRULE_ALERT_CERTIFICATE_EXPIRED 45
#define FERRULE_ALERT_CERTIFICATE_UNKNOWN 46
#define FERRULE_ALERT_ILLEGAL_PARAMETER 47
#define FERRULE_ALERT_UNKNOWN_CA 48
#define FERRULE_ALERT_ACCESS_DENIED 49
#define FERRULE_ALERT_DECODE_ERROR 50
#define FERRULE_ALERT_DECRYPT_ERROR 51
#define FERRULE_ALERT_PROTOCOL_VERSION 70
#define FERRULE_ALERT_INSUFFICIENT_SECURITY 71
#define FERRULE_ALERT_INTERNAL_ERROR 80
#define FERRULE_ALERT_INAPPROPRIATE_FALLBACK 86
#define FERRULE_ALERT_USER_CANCELED 90
#define FERRULE_ALERT_MISSING_EXTENSION 109
#define FERRULE_ALERT_UNSUPPORTED_EXTENSION 110
#define FERRULE_ALERT_UNRECOGNIZED_NAME 112
#define FERRULE_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE 113
#define FERRULE_ALERT_UNKNOWN_PSK_IDENTITY 115
#define FERRULE_ALERT_CERTIFICATE_REQUIRED 116
#define FERRULE_ALERT_NO_APPLICATION_PROTOCOL 120

/* Handshake states reported by ferrule_conn_handshake_state() */
#define FERRULE_HS_START 0
#define FERRULE_HS_WAIT_SERVER_HELLO 1
#define FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS 2
#define FERRULE_HS_WAIT_CERTIFICATE 3
#define FERRULE_HS_WAIT_CERTIFICATE_VERIFY 4
#define FERRULE_HS_WAIT_FINISHED 5
#define FERRULE_HS_WAIT_CLIENT_HELLO 6
#define FERRULE_HS_WAIT_CLIENT_FINISHED 7
#define FERRULE_HS_CONNECTED 8
#define FERRULE_HS_CLOSED 9
#define FERRULE_HS_FAILED 10
#define FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST 11
#define FERRULE_HS_WAIT_SECOND_CLIENT_HELLO 12
#define FERRULE_HS_WAIT_CLIENT_CERTIFICATE 13
#define FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY 14
#define FERRULE_HS_WAIT_END_OF_EARLY_DATA 15

/** IANA names ("TLS_AES_128_GCM_SHA256", "x25519", "ecdsa_secp256r1_sha256",
 *  "alert name"), or NULL for an unknown value. */
FERRULE_API const char *ferrule_cipher_suite_name(uint16_t suite);
FERRULE_API const char *ferrule_group_name(uint16_t group);
FERRULE_API const char *ferrule_signature_scheme_name(uint16_t scheme);
FERRULE_API const char *ferrule_alert_name(uint8_t alert);
FERRULE_API const char *ferrule_handshake_state_name(uint32_t state);
/** Reverse look-ups by IANA name. Return FERRULE_OK or FERRULE_USAGE. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cipher_suite_from_name(const char *name, uint16_t *out);
FERRULE_API FERRULE_MUST_CHECK int ferrule_group_from_name(const char *name, uint16_t *out);
FERRULE_API FERRULE_MUST_CHECK int ferrule_signature_scheme_from_name(const char *name,
                                                                     uint16_t *out);

/* ------------------------------------------------------------------ */
/* Versioned structs                                                    */
/* ------------------------------------------------------------------ */

/** Allocator hooks. `free` receives the size that was allocated. */
typedef struct ferrule_allocator {
    uint32_t struct_size;
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} ferrule_allocator;

/** Per-connection options given to ferrule_conn_new(). */
typedef struct ferrule_conn_options {
    uint32_t struct_size;
    uint32_t reserved0; /* must be zero */
    /** Client: the server name to send in SNI and to verify the
     *  certificate against (DNS name or IP literal).  NULL = none (then
     *  verification fails unless ...dangerous_no_hostname_check). */
    const char *server_name;
    /** Memory ceiling for this connection in bytes; 0 = the config's. */
    size_t memory_limit;
} ferrule_conn_options;

/* I/O callback results */
#define FERRULE_IO_WOULD_BLOCK (-1) /* try again later */
#define FERRULE_IO_ERROR (-2)       /* transport failed */

/**
 * Callback I/O.  `send` returns the number of bytes accepted (> 0),
 * FERRULE_IO_WOULD_BLOCK or FERRULE_IO_ERROR.  `recv` returns the number of
 * bytes stored (> 0), 0 for end of stream, FERRULE_IO_WOULD_BLOCK or
 * FERRULE_IO_ERROR.
 */
typedef struct ferrule_io_callbacks {
    uint32_t struct_size;
    long (*send)(void *ctx, const uint8_t *data, size_t len);
    long (*recv)(void *ctx, uint8_t *buf, size_t cap);
    void *ctx;
} ferrule_io_callbacks;

/** Sizes of the versioned structs this library knows (for bindings). */
FERRULE_API size_t ferrule_sizeof_allocator(void);
FERRULE_API size_t ferrule_sizeof_conn_options(void);
FERRULE_API size_t ferrule_sizeof_io_callbacks(void);
/** Largest plaintext in one record (16384). */
FERRULE_API size_t ferrule_max_plaintext_record(void);
/** Largest ciphertext record including the 5-byte header (16384+256+5). */
FERRULE_API size_t ferrule_max_ciphertext_record(void);
/** Default per-connection memory ceiling in bytes. */
FERRULE_API size_t ferrule_default_memory_limit(void);

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

typedef struct ferrule_config ferrule_config;
typedef struct ferrule_conn ferrule_conn;

/**
 * Create a configuration for `role` (FERRULE_ROLE_CLIENT/SERVER).
 * `alloc` may be NULL (libc).  Defaults: all three cipher suites
 * (AES-128-GCM first), groups x25519, secp256r1, secp384r1, every supported
 * signature scheme, certificate verification ON (client), no trust anchors.
 */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_new(ferrule_config **out, uint32_t role,
                                                      const ferrule_allocator *alloc);
/** Take one more reference. */
FERRULE_API void ferrule_config_ref(ferrule_config *cfg);
/** Drop one reference; frees when the last one goes. NULL is a no-op. */
FERRULE_API void ferrule_config_free(ferrule_config *cfg);
/** The last error recorded on the config (a FERRULE_R_* reason). */
FERRULE_API uint32_t ferrule_config_reason(const ferrule_config *cfg);

/** Preference-ordered lists of IANA code points; unknown values are a
 *  usage error.  An empty list is a usage error, and so is a list of
 *  signature schemes none of which may sign a TLS 1.3 CertificateVerify
 *  (only rsa_pkcs1_*: signature_algorithms would be empty, RFC 8446
 *  §4.2.3).  The rsa_pkcs1_* schemes count for certificate signatures
 *  (signature_algorithms_cert) only. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_cipher_suites(ferrule_config *cfg,
                                                                    const uint16_t *suites,
                                                                    size_t n);
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_groups(ferrule_config *cfg,
                                                             const uint16_t *groups, size_t n);
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_signature_schemes(ferrule_config *cfg,
                                                                        const uint16_t *schemes,
                                                                        size_t n);
/** The schemes accepted from the peer, when they differ from those we sign
 *  with: offered in signature_algorithms(_cert) (ClientHello,
 *  CertificateRequest) and required of the peer's CertificateVerify
 *  (else wrong_signature_type, illegal_parameter alert).  Without this
 *  call the list of ferrule_config_set_signature_schemes (or the default)
 *  serves both; once set, that list only chooses what we sign with.  The
 *  same rules as ferrule_config_set_signature_schemes. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_verify_signature_schemes(
    ferrule_config *cfg, const uint16_t *schemes, size_t n);
/** Append one ALPN protocol (1..255 bytes), in preference order. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_alpn(ferrule_config *cfg,
                                                           const uint8_t *proto, size_t len);

/** Trust anchors (client verification of servers). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_trust_pem(ferrule_config *cfg,
                                                                const uint8_t *pem, size_t len);
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_trust_der(ferrule_config *cfg,
                                                                const uint8_t *der, size_t len);
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_trust_file(ferrule_config *cfg,
                                                                 const char *path);
/** Every *.pem / *.crt / hashed (*.0) file in the directory. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_trust_dir(ferrule_config *cfg,
                                                                const char *path);
/** The system bundle: $SSL_CERT_FILE, else /etc/ssl/certs/ca-certificates.crt,
 *  else /etc/pki/tls/certs/ca-bundle.crt, else $SSL_CERT_DIR, else
 *  /etc/ssl/certs (first one that exists). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_trust_system(ferrule_config *cfg);
/** Number of trust anchors loaded so far. */
FERRULE_API size_t ferrule_config_trust_count(const ferrule_config *cfg);

/** Our certificate chain (leaf first) and private key, PEM.  A server may
 *  hold up to 16 chains (several names, several key types): each handshake
 *  uses the one matching the client's SNI and signature algorithms (see
 *  "server certificate and ALPN selection" below). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_cert_chain_pem(ferrule_config *cfg,
                                                                     const uint8_t *chain_pem,
                                                                     size_t chain_len,
                                                                     const uint8_t *key_pem,
                                                                     size_t key_len);
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_add_cert_chain_file(ferrule_config *cfg,
                                                                      const char *chain_path,
                                                                      const char *key_path);

/** Time source (seconds since the Unix epoch) for certificate and OCSP
 *  validity, ticket lifetimes and ages and the 0-RTT window.  Default: the
 *  system clock.  Called on the calling thread at the start of each
 *  connection call that may advance or verify (handshake, read, write,
 *  take, flush, close, key update, the early-data calls), and with callback
 *  I/O after each recv that brought bytes; every check in one call sees
 *  the same value.  Also called by ferrule_verify_chain (without
 *  FERRULE_VERIFY_USE_TIME). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_time_callback(ferrule_config *cfg,
                                                                    int64_t (*now)(void *ctx),
                                                                    void *ctx);
/** Per-connection memory ceiling (bytes).  Minimum 64 KiB. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_memory_limit(ferrule_config *cfg,
                                                                   size_t bytes);
/** Largest handshake message accepted (bytes, 1024 .. 2^24-1).  The
 *  default, 131,396, admits any ClientHello whose lists all stay within
 *  their RFC 8446 §4.1.2 maxima (cipher_suites 2^16-2 bytes, extensions
 *  2^16-1).  A larger message fails with FERRULE_POLICY, reason
 *  handshake_too_large and a handshake_failure alert, as soon as its
 *  4-byte header is read (one longer than its type's syntax allows, e.g. a
 *  Finished of other than the hash's length, is the peer's decode_error
 *  first); reassembly memory grows only with the bytes received, within
 *  the connection's memory ceiling. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_max_handshake_message(ferrule_config *cfg,
                                                                            size_t bytes);
/** Most certificates accepted in the peer's Certificate message (1 .. 256,
 *  default 64), verification on or off.  A longer list fails with
 *  FERRULE_CERTIFICATE, reason cert_chain_too_long and a bad_certificate
 *  alert, before the certificate past the cap is parsed.  This bounds what
 *  a peer makes us hold; path building has its own work budget on top
 *  (docs/x509.md), whatever this value. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_max_peer_certificates(ferrule_config *cfg,
                                                                           uint32_t count);
/** Key-log callback: receives one NSS key-log line (no newline). Explicit
 *  opt-in; secrets leave the library through it. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_keylog_callback(
    ferrule_config *cfg, void (*cb)(void *ctx, const ferrule_conn *conn, const char *line),
    void *ctx);
/** Disable hostname checking (chain still verified).  For tests only. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_dangerous_no_hostname_check(ferrule_config *cfg);
/** Disable all certificate verification.  Never use in production.  A
 *  verify callback (or FERRULE_DECIDE_VERIFY) is still asked about every
 *  chain the peer sends in a full handshake, with no validated path, so an
 *  application can judge the chain itself (e.g. pin a key); it is not asked
 *  again when a server resumes a ticket that carries a client identity. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_dangerous_no_verification(ferrule_config *cfg);

/* ------------------------------------------------------------------ */
/* Certificate verification policy and standalone validation            */
/* ------------------------------------------------------------------ */

/* Purposes: the extended key usage a peer's leaf must allow.  The leaf's
 * extendedKeyUsage must be present and list the purpose (CA/B Forum BR
 * 7.1.2.7.10; anyExtendedKeyUsage alone does not do); an intermediate with
 * an EKU must list the purpose or anyExtendedKeyUsage.  A pinned leaf (the
 * leaf is itself a trust anchor) without EKU allows every purpose.  See
 * docs/x509.md. */
#define FERRULE_PURPOSE_SERVER_AUTH 1
#define FERRULE_PURPOSE_CLIENT_AUTH 2

/* OCSP stapling policy of a verifier. */
#define FERRULE_OCSP_DEFAULT 0 /* staple optional; required if the leaf is must-staple;
                                  an invalid or revoked staple always fails */
#define FERRULE_OCSP_REQUIRE 1 /* hard fail: a valid, good staple is required */

/** Purpose required of the peer's leaf.  Default: server auth on a client
 *  config, client auth on a server config. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_verify_purpose(ferrule_config *cfg,
                                                                     uint32_t purpose);
/** Longest accepted path below the trust anchor, leaf included, not
 *  counting self-issued intermediates (default 8, maximum 32). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_max_chain_depth(ferrule_config *cfg,
                                                                      uint32_t depth);
/** Opt-in strict subject CN rule for server leaves (CA/Browser Forum BR
 *  7.1.4.3): a leaf with a subjectAltName whose subject commonName is not
 *  one of its SAN entries is refused (FERRULE_R_CERT_NAME_MISMATCH), even
 *  when no host name is checked.  An IP-looking CN must be the canonical
 *  text of an iPAddress entry; another CN must be a dNSName entry byte for
 *  byte, or a domain one of them lies in.  `enable` 1 turns it on, 0 off
 *  (the default: it is a rule for CAs, and refusing on it breaks private
 *  PKIs whose leaves carry a non-host CN).  The CN is never used as a host
 *  identity either way.  See docs/x509.md. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_verify_cn_in_san(ferrule_config *cfg,
                                                                       int enable);
/** OCSP policy (FERRULE_OCSP_*). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_ocsp_policy(ferrule_config *cfg,
                                                                  uint32_t policy);
/** Server: the DER OCSP response to staple for chain `chain_index` (in
 *  the order chains were added).  Replaces any previous staple. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_ocsp_staple(ferrule_config *cfg,
                                                                  size_t chain_index,
                                                                  const uint8_t *der, size_t len);

/** The outcome of a path validation: the reason (FERRULE_R_NONE when
 *  valid) and, when valid, the path from the leaf to the trust anchor. */
typedef struct ferrule_verify_result ferrule_verify_result;
FERRULE_API uint32_t ferrule_verify_result_reason(const ferrule_verify_result *r);
FERRULE_API size_t ferrule_verify_result_path_length(const ferrule_verify_result *r);
FERRULE_API FERRULE_MUST_CHECK int ferrule_verify_result_path_cert(const ferrule_verify_result *r,
                                                                   size_t index,
                                                                   const uint8_t **der,
                                                                   size_t *len);
FERRULE_API void ferrule_verify_result_free(ferrule_verify_result *r);

/**
 * Application verification callback, called only after ferrule's own checks
 * have accepted the peer's chain.  It can add restrictions, never lift
 * them: return 0 to accept, anything else to reject (the handshake then
 * fails with FERRULE_R_CERT_REJECTED).  `result` is valid during the call;
 * it is NULL when verification is off (ferrule_config_dangerous_no_verification:
 * the callback is then the only judge of the chain, which it reads with
 * ferrule_conn_peer_cert).
 * The callback answers decision VERIFY at once; FERRULE_DECIDE_VERIFY
 * (ferrule_config_set_decisions) asks the application instead.
 */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_verify_callback(
    ferrule_config *cfg,
    int (*cb)(void *ctx, const ferrule_conn *conn, const ferrule_verify_result *result),
    void *ctx);

/* Flags of ferrule_verify_options */
#define FERRULE_VERIFY_USE_TIME 1u  /* use `time`, not the config's clock */
#define FERRULE_VERIFY_CN_IN_SAN 2u /* apply the CN rule of ferrule_config_set_verify_cn_in_san
                                       (whatever the config says) */

/** Options of a standalone validation. */
typedef struct ferrule_verify_options {
    uint32_t struct_size;
    uint32_t purpose;      /* FERRULE_PURPOSE_*; 0 = server auth */
    uint32_t flags;        /* FERRULE_VERIFY_* */
    uint32_t max_depth;    /* 0 = the config's */
    int64_t time;          /* seconds since the Unix epoch, with USE_TIME */
    const char *peer_name; /* DNS name or IP literal; NULL = no name check */
    /* DER CRLs (RFC 5280 §5) to check the path against.  A certificate whose issuer published one of them is
     * revoked (FERRULE_R_CERT_REVOKED) if listed; a CRL that applies but is
     * invalid or not current fails the validation.  n_crls = 0: no
     * revocation checking.  See docs/x509.md. */
    const uint8_t *const *crls;
    const size_t *crl_lens;
    size_t n_crls;
} ferrule_verify_options;
FERRULE_API size_t ferrule_sizeof_verify_options(void);

/**
 * Validate a chain outside a handshake against the trust anchors of `cfg`.
 * `ders[0]` is the leaf, the rest untrusted intermediates in any order.
 * Returns FERRULE_OK when valid, FERRULE_CERTIFICATE when not; in both cases
 * `*out` receives a result (free it with ferrule_verify_result_free).
 * FERRULE_USAGE on misuse (then *out is NULL).  Does not freeze `cfg`.
 */
FERRULE_API FERRULE_MUST_CHECK int ferrule_verify_chain(const ferrule_config *cfg,
                                                        const uint8_t *const *ders,
                                                        const size_t *lens, size_t n,
                                                        const ferrule_verify_options *opts,
                                                        ferrule_verify_result **out);

/* ------------------------------------------------------------------ */
/* X.509 certificates: a parsed, read-only view (docs/x509.md)          */
/* ------------------------------------------------------------------ */
/*
 * ferrule_cert_parse checks a DER certificate with the same strict parser
 * the handshake uses (RFC 5280 §4.1, X.690 DER) and gives a handle whose
 * accessors read its fields, so no binding needs a DER parser of its own.
 *
 * Conventions of this section:
 *  - A ferrule_cert is immutable: any number of threads may use one
 *    handle at once.  It owns a copy of the DER and is independent of any
 *    connection or config.
 *  - Every pointer an accessor returns is BORROWED: it points into the
 *    handle and stays valid until ferrule_cert_free (copy what you keep
 *    longer; never free it).  Byte strings come as pointer + length; text
 *    (dotted OIDs, RFC 4514 names) is NUL-terminated UTF-8.
 *  - Status-returning accessors return FERRULE_OK, or FERRULE_USAGE with
 *    reason null_argument (a NULL handle or a NULL out-pointer not marked
 *    optional) or not_found (an index >= the count, or an entry of another
 *    kind); the reason of the last failed call on a handle is
 *    ferrule_cert_reason().  On failure the out-parameters are zeroed
 *    (NULL / 0).  Count and scalar getters return 0 for a NULL handle.
 *  - Malformed DER is refused by ferrule_cert_parse alone: once a handle
 *    exists every accessor works on it.
 */
typedef struct ferrule_cert ferrule_cert;

/** Parse one DER certificate (exactly `len` bytes: trailing bytes are
 *  malformed).  `reason` (may be NULL) receives the FERRULE_R_* cause:
 *  FERRULE_USAGE / null_argument for a NULL `der` or `out`;
 *  FERRULE_CERTIFICATE / cert_malformed for any encoding error (an empty
 *  input, truncation, a wrong tag, a bad or non-minimal length, trailing
 *  bytes, a value breaking RFC 5280 §4.1) and cert_weak_key for a key
 *  libcrypto refuses to load; FERRULE_INTERNAL / out_of_memory.  A
 *  well-formed certificate with an algorithm or critical extension ferrule
 *  does not support still parses (see ferrule_cert_public_key).  The
 *  handle is allocated from libc; free it with ferrule_cert_free. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_parse(const uint8_t *der, size_t len,
                                                      ferrule_cert **out, uint32_t *reason);
/** A handle on the peer's certificate `index` (0 = leaf), as
 *  ferrule_conn_peer_cert returns its DER.  The handle is the caller's: it
 *  stays valid after the connection is freed (free it with
 *  ferrule_cert_free).  The connection keeps its peer's chain as DER and
 *  parses it here, on demand.  FERRULE_USAGE / null_argument, not_found
 *  for an index >= ferrule_conn_peer_cert_count; FERRULE_CERTIFICATE /
 *  cert_malformed for a certificate that does not parse (only possible
 *  for the leaf a resumed client takes from its session blob, which is
 *  checked for its X.509 frame only: docs/resumption.md);
 *  FERRULE_INTERNAL / out_of_memory.  `reason` may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_peer_cert_parse(const ferrule_conn *conn,
                                                                size_t index, ferrule_cert **out,
                                                                uint32_t *reason);
/** Free a handle (and everything its accessors returned).  NULL is a no-op. */
FERRULE_API void ferrule_cert_free(ferrule_cert *cert);
/** The reason of the last failed accessor call on `cert` (from any
 *  thread), FERRULE_R_NONE if none failed; null_argument for NULL. */
FERRULE_API uint32_t ferrule_cert_reason(const ferrule_cert *cert);

/** The DER of the certificate. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_der(const ferrule_cert *cert, const uint8_t **der,
                                                    size_t *len);
/** The version: 1, 2 or 3 (0 for NULL). */
FERRULE_API uint32_t ferrule_cert_version(const ferrule_cert *cert);
/** serialNumber: the INTEGER's content octets, big-endian two's
 *  complement as encoded (1..21 octets; a leading 0x00 keeps a positive
 *  number positive, a negative serial -- tolerated -- starts with a set
 *  bit). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_serial(const ferrule_cert *cert,
                                                       const uint8_t **serial, size_t *len);
/** notBefore / notAfter as seconds since the Unix epoch (UTC; RFC 5280
 *  §4.1.2.5; either pointer may be NULL). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_validity(const ferrule_cert *cert,
                                                         int64_t *not_before, int64_t *not_after);

/* Distinguished names (the `which` argument below). */
#define FERRULE_CERT_SUBJECT 0u
#define FERRULE_CERT_ISSUER 1u
/** The directoryName of subjectAltName entry i (ferrule_cert_san type
 *  FERRULE_GN_DIRECTORY_NAME). */
#define FERRULE_CERT_SAN_NAME(i) ((size_t)2 + (size_t)(i))

/** Number of attributes (AttributeTypeAndValue) of the name `which`, over
 *  all its RDNs; 0 for an empty name.  not_found for an unknown `which`. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_name_count(const ferrule_cert *cert, size_t which,
                                                           size_t *count);
/** Attribute `index` of the name `which`, in encoding order (RFC 5280
 *  §4.1.2.4): `rdn` the index of its RelativeDistinguishedName (0 = the
 *  first encoded; attributes of a multi-valued RDN share it), `oid` the
 *  attribute type in dotted form ("2.5.4.3"), `tag` the ASN.1 tag octet of
 *  the value (0x0c UTF8String, 0x13 PrintableString, 0x14 TeletexString,
 *  0x16 IA5String, 0x1e BMPString, 0x1c UniversalString, ...) and
 *  `value` / `len` its content octets, unconverted.  Every out-pointer
 *  but `value`/`len` may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_name_attr(const ferrule_cert *cert, size_t which,
                                                          size_t index, size_t *rdn,
                                                          const char **oid, uint32_t *tag,
                                                          const uint8_t **value, size_t *len);
/** The name `which` as an RFC 4514 string: RDNs last to first, separated
 *  by ','; a multi-valued RDN's attributes by '+'.  Types with an RFC 4514
 *  §3 short name (CN, L, ST, O, OU, C, STREET, DC, UID) and a string value
 *  are written as text: ',', '+', '"', '\', '<', '>', ';', a leading ' '
 *  or '#' and a trailing ' ' are escaped with '\', control characters and
 *  octets that are not characters of the string type (ill-formed UTF-8,
 *  non-ASCII in PrintableString/IA5String) as "\XX" hex pairs;
 *  BMPString, UniversalString and TeletexString (as Latin-1) become UTF-8.
 *  Other types are the dotted OID with '#' and the hex of the value's DER
 *  (RFC 4514 §2.4).  An empty name is "". */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_name_string(const ferrule_cert *cert, size_t which,
                                                            const char **str, size_t *len);
/** The DER of the name `which` (the Name SEQUENCE). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_name_der(const ferrule_cert *cert, size_t which,
                                                         const uint8_t **der, size_t *len);

/* GeneralName types (RFC 5280 §4.2.1.6: the context tag numbers). */
#define FERRULE_GN_OTHER_NAME 0u
#define FERRULE_GN_EMAIL 1u          /* rfc822Name, ASCII */
#define FERRULE_GN_DNS 2u            /* dNSName, ASCII */
#define FERRULE_GN_X400_ADDRESS 3u
#define FERRULE_GN_DIRECTORY_NAME 4u /* value: the Name DER; see FERRULE_CERT_SAN_NAME */
#define FERRULE_GN_EDI_PARTY_NAME 5u
#define FERRULE_GN_URI 6u            /* uniformResourceIdentifier, ASCII */
#define FERRULE_GN_IP 7u             /* iPAddress: 4 or 16 octets, network order */
#define FERRULE_GN_REGISTERED_ID 8u  /* value: OID content octets; see ferrule_cert_san_oid */

/** Number of subjectAltName entries (0 without the extension). */
FERRULE_API size_t ferrule_cert_san_count(const ferrule_cert *cert);
/** subjectAltName entry `index`, in encoding order: its FERRULE_GN_* type
 *  and the content octets of the GeneralName (for a directoryName the Name
 *  DER inside the explicit tag; for an otherName the type-id and value).
 *  `type` may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_san(const ferrule_cert *cert, size_t index,
                                                    uint32_t *type, const uint8_t **value,
                                                    size_t *len);
/** The OID of an otherName's type-id or of a registeredID entry, dotted.
 *  not_found for entries of other types. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_san_oid(const ferrule_cert *cert, size_t index,
                                                        const char **oid);
/** The value of an otherName entry (inside its [0] EXPLICIT): the ASN.1
 *  tag octet (e.g. 0x0c for the UTF8String of a UPN) and the content
 *  octets.  not_found for other types, or when the [0] does not hold
 *  exactly one element.  `tag` may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_san_other_name(const ferrule_cert *cert,
                                                               size_t index, uint32_t *tag,
                                                               const uint8_t **value, size_t *len);

/** signatureAlgorithm as a dotted OID ("1.2.840.10045.4.3.2") and the TLS
 *  SignatureScheme it corresponds to (RFC 8446 §4.2.3; RSASSA-PSS as the
 *  rsa_pss_rsae_* value), 0 for an algorithm ferrule does not verify.
 *  Either pointer may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_signature_algorithm(const ferrule_cert *cert,
                                                                    const char **oid,
                                                                    uint16_t *scheme);

/* Public key types (ferrule_cert_public_key), by SubjectPublicKeyInfo
 * algorithm. */
#define FERRULE_KEY_OTHER 0u   /* see the algorithm OID */
#define FERRULE_KEY_RSA 1u     /* rsaEncryption */
#define FERRULE_KEY_RSA_PSS 2u /* id-RSASSA-PSS */
#define FERRULE_KEY_EC 3u      /* id-ecPublicKey */
#define FERRULE_KEY_ED25519 4u /* id-Ed25519 */

/** The subject public key: its FERRULE_KEY_* type, its size in bits (the
 *  RSA modulus; the curve's order for EC: 256, 384, 521; 256 for Ed25519 as
 *  libcrypto counts it; 0 for a key ferrule does not use -- other
 *  algorithms, other curves), the algorithm OID and, for id-ecPublicKey
 *  with a namedCurve, the curve OID ("1.2.840.10045.3.1.7" for P-256; NULL
 *  otherwise).  Every out-pointer may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_public_key(const ferrule_cert *cert,
                                                           uint32_t *type, uint32_t *bits,
                                                           const char **alg_oid,
                                                           const char **curve_oid);
/** The SubjectPublicKeyInfo DER. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_spki(const ferrule_cert *cert,
                                                     const uint8_t **der, size_t *len);
/** SHA-256 of the SubjectPublicKeyInfo DER (the pin of RFC 7469 §2.4):
 *  32 bytes, `*len` = 32. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_spki_sha256(const ferrule_cert *cert,
                                                            const uint8_t **digest, size_t *len);

/** basicConstraints (RFC 5280 §4.2.1.9): `present` 1 if the extension is
 *  there; `ca` the cA flag; `has_path_len` 1 with `path_len` the
 *  pathLenConstraint (0 .. 255) when it is given.  All 0 without the
 *  extension.  Every out-pointer may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_basic_constraints(const ferrule_cert *cert,
                                                                  uint32_t *present,
                                                                  uint32_t *ca,
                                                                  uint32_t *has_path_len,
                                                                  uint32_t *path_len);

/* keyUsage bits (RFC 5280 §4.2.1.3): named bit n is 1 << n. */
#define FERRULE_KU_DIGITAL_SIGNATURE (1u << 0)
#define FERRULE_KU_NON_REPUDIATION (1u << 1) /* contentCommitment */
#define FERRULE_KU_KEY_ENCIPHERMENT (1u << 2)
#define FERRULE_KU_DATA_ENCIPHERMENT (1u << 3)
#define FERRULE_KU_KEY_AGREEMENT (1u << 4)
#define FERRULE_KU_KEY_CERT_SIGN (1u << 5)
#define FERRULE_KU_CRL_SIGN (1u << 6)
#define FERRULE_KU_ENCIPHER_ONLY (1u << 7)
#define FERRULE_KU_DECIPHER_ONLY (1u << 8)

/** keyUsage: `present` 1 if the extension is there, `bits` its
 *  FERRULE_KU_* bits (0 without it).  Either pointer may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_key_usage(const ferrule_cert *cert,
                                                          uint32_t *present, uint32_t *bits);
/** Number of extendedKeyUsage purposes (0 without the extension, which
 *  is never empty when present: RFC 5280 §4.2.1.12). */
FERRULE_API size_t ferrule_cert_eku_count(const ferrule_cert *cert);
/** Purpose `index` as a dotted OID ("1.3.6.1.5.5.7.3.1" serverAuth). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_eku(const ferrule_cert *cert, size_t index,
                                                    const char **oid);

/** Number of authorityInfoAccess AccessDescriptions (RFC 5280 §4.2.2.1). */
FERRULE_API size_t ferrule_cert_aia_count(const ferrule_cert *cert);
/** AccessDescription `index`: the accessMethod OID, dotted
 *  ("1.3.6.1.5.5.7.48.1" OCSP, "1.3.6.1.5.5.7.48.2" caIssuers), and the
 *  accessLocation as a GeneralName (type, content octets).  `method` and
 *  `type` may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_aia(const ferrule_cert *cert, size_t index,
                                                    const char **method, uint32_t *type,
                                                    const uint8_t **value, size_t *len);
/** Number of names in the fullName fields of the cRLDistributionPoints
 *  extension (RFC 5280 §4.2.1.13), over all its DistributionPoints. */
FERRULE_API size_t ferrule_cert_crl_dp_count(const ferrule_cert *cert);
/** Name `index`: `point` the index of its DistributionPoint, and the
 *  GeneralName (type, content octets).  `point` and `type` may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_crl_dp(const ferrule_cert *cert, size_t index,
                                                       size_t *point, uint32_t *type,
                                                       const uint8_t **value, size_t *len);

/** Number of extensions (0 for v1/v2 certificates and v3 without any). */
FERRULE_API size_t ferrule_cert_extension_count(const ferrule_cert *cert);
/** Extension `index`, in encoding order: extnID dotted, `critical` 0/1,
 *  and the extnValue OCTET STRING's content (the extension's own DER).
 *  `oid` and `critical` may be NULL. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_cert_extension(const ferrule_cert *cert, size_t index,
                                                          const char **oid, uint32_t *critical,
                                                          const uint8_t **value, size_t *len);

/* ------------------------------------------------------------------ */
/* HelloRetryRequest, client authentication, KeyUpdate                  */
/* ------------------------------------------------------------------ */

/** Server: the key that integrity-protects stateless HelloRetryRequest
 *  cookies (RFC 8446 §4.2.2), 32 bytes.  Default: random per config.  Give
 *  every server of a fleet the same key so any of them can continue a
 *  handshake another one started. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_cookie_key(ferrule_config *cfg,
                                                                 const uint8_t *key, size_t len);

/* Client authentication modes (server). */
#define FERRULE_CLIENT_AUTH_NONE 0    /* do not ask (default) */
#define FERRULE_CLIENT_AUTH_REQUEST 1 /* ask; accept an empty Certificate */
#define FERRULE_CLIENT_AUTH_REQUIRE 2 /* ask; no certificate = certificate_required */

/** Server: whether to request a client certificate.  Client certificates
 *  are verified against the config's trust anchors with the client-auth
 *  purpose.  A client offers a certificate when its config holds a chain
 *  (ferrule_config_add_cert_chain_*) that suits the server's request. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_client_auth(ferrule_config *cfg,
                                                                  uint32_t mode);

/** Queue a KeyUpdate (RFC 8446 §4.6.3): our sending keys change now; with
 *  `request_peer` non-zero the peer is asked to update its keys too.  Part
 *  of the send half; only after the handshake and before close.  Returns
 *  FERRULE_OK once queued (do not retry): with callback I/O, bytes the
 *  transport could not take leave with the next write or flush. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_key_update(ferrule_conn *conn, int request_peer);
/** Send a KeyUpdate automatically after this many records on one key:
 *  1 .. 2^24 (default 2^24, below the AES-GCM limit of RFC 8446 §5.5;
 *  docs/key-update.md). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_key_update_interval(ferrule_config *cfg,
                                                                          uint64_t records);
/** KeyUpdates sent and received so far. */
FERRULE_API uint64_t ferrule_conn_key_updates_sent(const ferrule_conn *conn);
FERRULE_API uint64_t ferrule_conn_key_updates_received(const ferrule_conn *conn);

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

/** Create a connection.  `opts` may be NULL.  The config is referenced and
 *  frozen. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_new(ferrule_conn **out, ferrule_config *cfg,
                                                    const ferrule_conn_options *opts);
/** Free a connection (wipes all secrets).  NULL is a no-op. */
FERRULE_API void ferrule_conn_free(ferrule_conn *conn);

/** Install callback I/O.  After this, the drivers below move bytes through
 *  the callbacks themselves; feed/take are then usage errors. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_set_io(ferrule_conn *conn,
                                                       const ferrule_io_callbacks *io);

/* Buffer I/O --------------------------------------------------------- */

/** Give the connection ciphertext received from the peer.  The bytes are
 *  copied into the connection's input buffer (one maximum-size record);
 *  `*consumed` (may be NULL) tells how many were taken.  When it is less
 *  than `len`, drive the connection (ferrule_conn_read /
 *  ferrule_conn_handshake) and feed the rest afterwards.  Records are
 *  processed by the drivers, not here.  Usage error with callback I/O. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_feed(ferrule_conn *conn, const uint8_t *data,
                                                     size_t len, size_t *consumed);
/** Tell the connection that the transport reached end of stream. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_feed_eof(ferrule_conn *conn);
/** Bytes waiting to be sent to the peer. */
FERRULE_API size_t ferrule_conn_pending_output(const ferrule_conn *conn);
/** Copy up to `cap` bytes of pending ciphertext to `out` and drop them from
 *  the connection.  `*written` receives the count.  In buffer I/O mode, any
 *  call (handshake, read, write, close, and a failure that sends an alert)
 *  may queue output: check ferrule_conn_pending_output() after each. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_take(ferrule_conn *conn, uint8_t *out,
                                                     size_t cap, size_t *written);

/* Zero-copy buffer I/O (docs/buffers.md) ------------------------------
 *
 * The same engine as feed/take/read, without their copies: the transport
 * reads straight into the connection's input buffer, sends straight from
 * its output buffer, and the application reads decrypted data where its
 * record was decrypted.  Each direction is a borrow and an acknowledge:
 *
 *   ferrule_conn_input_buf(c, &p, &cap);  n = recv(fd, p, cap);
 *   ferrule_conn_input_ack(c, n);          (0 ends the borrow unused)
 *   ferrule_conn_output_buf(c, &q, &len); m = send(fd, q, len);
 *   ferrule_conn_output_ack(c, m);
 *   ferrule_conn_read_buf(c, &d, &dlen);  use(d, k);
 *   ferrule_conn_read_ack(c, k);
 *
 * A borrowed region stays valid and in place until its ack, whatever the
 * other calls do meanwhile (input and application data: receive half;
 * output: send half, so one thread may send from a borrowed output buffer
 * while the other reads).  Borrowing the same buffer again before the
 * ack, acknowledging without a borrow or more than was borrowed, and
 * feed (input borrowed), take/write/close/key_update (output borrowed),
 * read (application data borrowed) or ferrule_conn_process (anything
 * borrowed) during a borrow are usage errors (FERRULE_USAGE with
 * FERRULE_R_BUFFER_LENT, _BUFFER_NOT_LENT or _ACK_TOO_LARGE) that change
 * nothing.  With callback I/O (ferrule_conn_set_io) every call of this
 * section is a usage error (FERRULE_R_WRONG_STATE).  After a fatal error
 * the input and read calls return the sticky status, while
 * ferrule_conn_output_buf keeps lending the alert that is still to be
 * sent.  ferrule_conn_flags() tells what to do next.
 */

/* Reasons of this section's usage errors. */
#define FERRULE_R_BUFFER_LENT 140     /* that buffer is borrowed: acknowledge it first */
#define FERRULE_R_BUFFER_NOT_LENT 141 /* acknowledge without a borrow */
#define FERRULE_R_ACK_TOO_LARGE 142   /* acknowledged more than was borrowed */

/* Bits of ferrule_conn_flags(). */
#define FERRULE_FLAG_WANT_INPUT 0x01u   /**< bytes from the peer are needed to go on */
#define FERRULE_FLAG_HAS_OUTPUT 0x02u   /**< records wait to be sent (ferrule_conn_output_buf) */
#define FERRULE_FLAG_APP_READABLE 0x04u /**< decrypted application (or 0-RTT) data is buffered */
#define FERRULE_FLAG_APP_WRITABLE 0x08u /**< ferrule_conn_write would take data now */
#define FERRULE_FLAG_CLOSED 0x10u       /**< the peer's close_notify arrived: no more data */
#define FERRULE_FLAG_FAILED 0x20u       /**< fatal error (ferrule_conn_status); send what is pending */
#define FERRULE_FLAG_WANT_APP 0x40u     /**< an application decision is pending: answer it
                                             (ferrule_conn_pending_decision,
                                             docs/decisions.md); no input is
                                             read until then */

/** Borrow the free space of the input buffer: `*buf` and `*cap` (up to one
 *  maximum record, ferrule_max_ciphertext_record(); 0 while a whole record
 *  waits to be read).  Write received ciphertext there, then call
 *  ferrule_conn_input_ack().  The buffer is allocated here if it was
 *  released.  Receive half. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_input_buf(ferrule_conn *conn, uint8_t **buf,
                                                          size_t *cap);
/** Commit the `n` bytes written into the borrowed input space (n <= cap;
 *  0 ends the borrow with nothing).  Records are processed by the next
 *  read, read_buf, handshake or process call. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_input_ack(ferrule_conn *conn, size_t n);
/** Borrow the pending output: `*buf`, `*len` (0 and NULL when nothing is
 *  pending).  Output the receive half owes (a KeyUpdate answer, the alert
 *  of a failure) is produced first.  Send half. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_output_buf(ferrule_conn *conn,
                                                           const uint8_t **buf, size_t *len);
/** Drop the first `n` bytes of the borrowed output (they were sent; n <=
 *  len).  Once all output is sent the buffer is released. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_output_ack(ferrule_conn *conn, size_t n);
/** Borrow decrypted application data in place: FERRULE_OK with `*len` > 0
 *  (0-RTT data first on a server, then one record's data at a time);
 *  FERRULE_WANT_READ, FERRULE_CLOSED or FERRULE_TRUNCATED as for
 *  ferrule_conn_read, with `*len` 0.  Processes buffered records to find
 *  some.  Receive half; the handshake must be complete.  Unlike the
 *  ciphertext loans it also works with callback I/O, where it receives
 *  through the callback as ferrule_conn_read does. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_read_buf(ferrule_conn *conn, const uint8_t **buf,
                                                         size_t *len);
/** Consume the first `n` bytes of the borrowed data (n <= len): they are
 *  wiped; the rest can be borrowed again. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_read_ack(ferrule_conn *conn, size_t n);
/** What the connection can do next, as FERRULE_FLAG_* bits.  Poll for
 *  reading while WANT_INPUT is set, for writing while HAS_OUTPUT is set;
 *  WANT_APP: a decision waits for the application's answer (WANT_INPUT is
 *  then clear); with none of these, nor FAILED / CLOSED, buffered records
 *  (or a message whose decision was answered) wait: call
 *  ferrule_conn_read_buf, _read, _handshake or _process.  (A new client
 *  shows none until ferrule_conn_handshake or _process starts it.)  Not
 *  from inside a callback of this connection. */
FERRULE_API uint32_t ferrule_conn_flags(ferrule_conn *conn);
/** One crossing per socket read: copy what fits of in[0..in_len) into the
 *  connection (`*consumed`), drive the handshake and process records up
 *  to the first application data (borrow it with ferrule_conn_read_buf),
 *  then move pending output into out[0..out_cap) (`*written`; more may
 *  remain: FERRULE_FLAG_HAS_OUTPUT).  `*flags` (may be NULL) receives
 *  ferrule_conn_flags().  FERRULE_OK, FERRULE_WANT_APP when the pass
 *  stopped at a decision the application answers (docs/decisions.md:
 *  answer it, then call again; input beyond the paused message is kept or
 *  left in `in`), or the fatal status once the connection failed (the
 *  alert is still in `out`).  Feed the rest of
 *  `in` with the next call.  Both halves; buffer I/O only. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_process(ferrule_conn *conn, const uint8_t *in,
                                                        size_t in_len, size_t *consumed,
                                                        uint8_t *out, size_t out_cap,
                                                        size_t *written, uint32_t *flags);
/** Free the input, output and handshake buffers that hold nothing and
 *  are not borrowed, to the allocator; each comes back when needed.  The
 *  library gives idle buffers back itself (input empty after the handshake,
 *  output drained) to the config, for reuse (docs/buffers.md).  Both halves. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_release_buffers(ferrule_conn *conn);

/* Drivers (both I/O modes) ------------------------------------------ */

/** Advance the handshake.  FERRULE_OK once it is complete;
 *  FERRULE_WANT_READ / FERRULE_WANT_WRITE while it needs I/O;
 *  FERRULE_WANT_APP while a decision the config leaves to the application
 *  waits for its answer (ferrule_conn_pending_decision; read and write
 *  return it too while the handshake runs); otherwise a fatal status. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_handshake(ferrule_conn *conn);
/** Read application data.  FERRULE_OK with `*n` > 0; FERRULE_WANT_READ when
 *  nothing is buffered; FERRULE_CLOSED after the peer's close_notify;
 *  FERRULE_TRUNCATED after a transport EOF without close_notify.  Drives
 *  the handshake first if it is not complete. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_read(ferrule_conn *conn, uint8_t *buf,
                                                     size_t cap, size_t *n);
/** Write application data.  Accepts up to `len` bytes (`*n` tells how many;
 *  it may be fewer when output is full: FERRULE_WANT_WRITE when none fit).
 *  Drives the handshake first if it is not complete, except on a server
 *  whose Finished is sent: there it writes at once (0.5-RTT data, RFC 8446
 *  §2.3), before the client's Finished -- to a client not yet
 *  authenticated, even when a client certificate is requested
 *  (docs/early-data.md). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_write(ferrule_conn *conn, const uint8_t *buf,
                                                      size_t len, size_t *n);
/** Callback I/O: send pending output now (FERRULE_OK when all of it left,
 *  FERRULE_WANT_WRITE when the send callback would block).  Buffer I/O:
 *  FERRULE_OK; use ferrule_conn_take.  Part of the send half. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_flush(ferrule_conn *conn);
/** Queue (and with callback I/O, send) close_notify.  Further writes are
 *  usage errors; reads still deliver data until the peer's close_notify. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_close(ferrule_conn *conn);

/** End the connection with the fatal alert `alert` (an RFC 8446 §6
 *  AlertDescription other than close_notify: use ferrule_conn_close for
 *  that): for an application that refuses a peer at its own level (e.g.
 *  access_denied after an authorization check).  The connection fails with
 *  FERRULE_POLICY / FERRULE_R_APP_ALERT, the alert is queued under the
 *  current write keys (send it: ferrule_conn_take, or with callback I/O it
 *  is sent now) and nothing else is sent or read afterwards.  Returns
 *  FERRULE_OK once the alert is queued (later calls return FERRULE_POLICY).
 *  Part of the send half.  FERRULE_USAGE for close_notify; after an
 *  earlier failure, that failure's status (its alert, if any, was the one
 *  sent). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_send_alert(ferrule_conn *conn, uint8_t alert);

/* Errors --------------------------------------------------------------- */

/** The sticky status class of the connection (FERRULE_OK if none). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_status(const ferrule_conn *conn);
/** The FERRULE_R_* reason of the last failure. */
FERRULE_API uint32_t ferrule_conn_reason(const ferrule_conn *conn);
/** The alert sent (FERRULE_ALERT_SENT, FERRULE_DECODE, FERRULE_CERTIFICATE,
 *  ...) or received (FERRULE_ALERT_RECEIVED); -1 if none. */
FERRULE_API int ferrule_conn_alert(const ferrule_conn *conn);
/** The alert that ended the connection, without ferrule_conn_alert()'s -1
 *  and with its direction: returns 1 and sets *alert to the
 *  AlertDescription (RFC 8446 §6) and *received to 1 if the peer sent it
 *  (status FERRULE_ALERT_RECEIVED, reason FERRULE_R_PEER_ALERT) or 0 if it
 *  is ours (sent, or due to be sent, when we failed the connection).
 *  Returns 0 and leaves both untouched if there is no alert (or conn is
 *  NULL).  Either pointer may be NULL.  The alert and its direction are
 *  read together, consistent even while another thread drives the
 *  connection. */
FERRULE_API uint32_t ferrule_conn_get_alert(const ferrule_conn *conn, uint8_t *alert,
                                            uint32_t *received);
/** Static message describing the last failure.  Never NULL. */
FERRULE_API const char *ferrule_conn_error_message(const ferrule_conn *conn);

/* Introspection -------------------------------------------------------- */

FERRULE_API uint32_t ferrule_conn_role(const ferrule_conn *conn);
FERRULE_API uint32_t ferrule_conn_handshake_state(const ferrule_conn *conn);
/** After a fatal error, the handshake state the connection was in when it
 *  failed (what it was waiting for: e.g. FERRULE_HS_WAIT_CERTIFICATE_VERIFY
 *  when the peer's CertificateVerify was refused, FERRULE_HS_CONNECTED for
 *  a failure after the handshake), while ferrule_conn_handshake_state says
 *  FERRULE_HS_FAILED; before any failure, the current state.  For
 *  diagnostics: which message an error is about. */
FERRULE_API uint32_t ferrule_conn_failed_state(const ferrule_conn *conn);
/** 0 until negotiated. */
FERRULE_API uint16_t ferrule_conn_version(const ferrule_conn *conn);
FERRULE_API uint16_t ferrule_conn_cipher_suite(const ferrule_conn *conn);
FERRULE_API uint16_t ferrule_conn_group(const ferrule_conn *conn);
/** The scheme the peer signed CertificateVerify with (0 if none). */
FERRULE_API uint16_t ferrule_conn_peer_signature_scheme(const ferrule_conn *conn);
/** The scheme we signed with (0 if none). */
FERRULE_API uint16_t ferrule_conn_signature_scheme(const ferrule_conn *conn);
/** Negotiated ALPN protocol; *len = 0 if none.  Valid until free. */
FERRULE_API void ferrule_conn_alpn(const ferrule_conn *conn, const uint8_t **proto, size_t *len);
/** SNI: what the client sent (server side) or asked for (client side);
 *  NULL if none. */
FERRULE_API const char *ferrule_conn_server_name(const ferrule_conn *conn);
/** Peer certificate chain as sent (DER), index 0 = leaf (after a
 *  resumption: the chain of the original connection, ferrule_conn_resumed). */
FERRULE_API size_t ferrule_conn_peer_cert_count(const ferrule_conn *conn);
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_peer_cert(const ferrule_conn *conn, size_t index,
                                                          const uint8_t **der, size_t *len);
/** The validated path (leaf to trust anchor) of the peer, once verified;
 *  NULL before that or when verification was disabled.  A resumed client
 *  connection has none (the chain was verified in the original handshake);
 *  a resumed server connection has the validation of the client chain its
 *  ticket carried.  Valid until the connection is freed. */
FERRULE_API const ferrule_verify_result *ferrule_conn_verify_result(const ferrule_conn *conn);
/** 1 if the peer stapled an OCSP response that we validated as good. */
FERRULE_API int ferrule_conn_ocsp_stapled(const ferrule_conn *conn);
/** Client: the DER OCSP response the server stapled to its certificate,
 *  byte for byte as sent (whether or not it was validated, e.g. with
 *  verification off); *der NULL and *len 0 if none.  Valid until the
 *  connection is freed.  A resumed connection has none. */
FERRULE_API void ferrule_conn_peer_ocsp_response(const ferrule_conn *conn, const uint8_t **der,
                                                 size_t *len);
/** 1 if this handshake resumed a session with a PSK from a ticket
 * (RFC 8446 §2.2): no certificate was exchanged; on the client the peer
 * certificate functions return the chain of the original connection, as
 * stored in the session blob; on a server with client authentication they
 * return the client's chain carried by the ticket, and
 * ferrule_conn_verify_result its validation on resumption (see
 * ferrule_resumption_options).  See docs/resumption.md. */
FERRULE_API int ferrule_conn_resumed(const ferrule_conn *conn);

/* ---- server certificate and ALPN selection (docs/server-callbacks.md) ---- */
/*
 * A server may hold several certificate chains (up to 16, in the order
 * they were added).  For each full handshake it picks one:
 *
 *  - Default (no callback): among the chains whose key can sign a
 *    signature scheme the client offered in signature_algorithms (and that
 *    this config allows), a chain whose leaf matches the client's SNI
 *    (subjectAltName dNSName, exact or "*." wildcard, ASCII
 *    case-insensitive; iPAddress for a literal) beats one that does not,
 *    and then a chain whose certificate signatures the client accepts
 *    (signature_algorithms_cert, else signature_algorithms; self-issued
 *    certificates exempt) beats one whose signatures it does not; ties go
 *    to the first added.  Without SNI, or when no chain matches the name,
 *    the other chains are used in the same order (FERRULE_SNI_FALLBACK) --
 *    unless the SNI policy is FERRULE_SNI_STRICT: then a name no chain
 *    matches ends the handshake with unrecognized_name (RFC 6066 §3).
 *  - With a certificate callback, the callback decides (it may ask for
 *    the default).
 *
 * Selection runs once per handshake, on the ClientHello answered by a
 * ServerHello (after a HelloRetryRequest: on the second one), after ALPN
 * selection and before resumption is considered; a resumed handshake sends
 * no certificate, but a refusal still ends it.
 */

/* Reasons (status class in brackets; the alert we send). */
#define FERRULE_R_UNRECOGNIZED_NAME 40 /* [policy] no chain for the SNI (unrecognized_name) */
#define FERRULE_R_HANDSHAKE_REFUSED 41 /* [policy] a selection callback refused (handshake_failure) */
#define FERRULE_R_APP_ALERT 42         /* [policy] the application ended the connection with an
                                          alert (ferrule_conn_send_alert) */
#define FERRULE_R_CALLBACK_RESULT 130  /* [usage] a callback returned an invalid value or index
                                          (internal_error) */
#define FERRULE_R_ALPN_NOT_OFFERED 131 /* [usage] the ALPN callback chose a protocol the client
                                          did not offer (internal_error) */

/* SNI policies (ferrule_config_set_sni_policy). */
#define FERRULE_SNI_FALLBACK 0 /* unknown name: use the other chains (default) */
#define FERRULE_SNI_STRICT 1   /* unknown name: unrecognized_name alert */

/** Server: what to do when the client's server_name matches no chain's
 *  leaf (FERRULE_SNI_*).  A ClientHello without SNI always uses the
 *  chains in order.  Applies to the default selection only. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_sni_policy(ferrule_config *cfg,
                                                                 uint32_t policy);
/** Number of certificate chains added to the config. */
FERRULE_API size_t ferrule_config_chain_count(const ferrule_config *cfg);

/** The ClientHello as the selection callbacks see it: a read-only view,
 *  valid only during the callback, or while decision CERTIFICATE or ALPN
 *  is pending (ferrule_conn_client_hello): do not keep it or the pointers
 *  its getters return. */
typedef struct ferrule_client_hello ferrule_client_hello;

/** The SNI host name the client sent (NUL-terminated, printable ASCII,
 *  as sent: compare case-insensitively), or NULL if none. */
FERRULE_API const char *ferrule_client_hello_server_name(const ferrule_client_hello *hello);
/** The client's lists as sent (unknown and GREASE values included), in
 *  host byte order; `*n` receives the count.  signature_schemes_cert is
 *  signature_algorithms_cert, or signature_algorithms when the client sent
 *  no separate list (RFC 8446 §4.2.3).  A list is decoded on the first call
 *  into the connection's memory (a ClientHello may carry tens of thousands
 *  of entries); NULL (and *n = 0) on a NULL argument or when the
 *  connection's memory ceiling leaves no room for the copy. */
FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes(
    const ferrule_client_hello *hello, size_t *n);
FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes_cert(
    const ferrule_client_hello *hello, size_t *n);
FERRULE_API const uint16_t *ferrule_client_hello_cipher_suites(const ferrule_client_hello *hello,
                                                               size_t *n);
/** Number of ALPN protocols the client offered (0 without the extension). */
FERRULE_API size_t ferrule_client_hello_alpn_count(const ferrule_client_hello *hello);
/** The `index`-th offered ALPN protocol (1..255 bytes, not NUL-terminated).
 *  FERRULE_USAGE for a NULL argument or an index out of range; FERRULE_POLICY
 *  when the connection's memory ceiling leaves no room for the index of the
 *  list (made on the first call, so that any index costs O(1)). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_client_hello_alpn(const ferrule_client_hello *hello,
                                                             size_t index, const uint8_t **proto,
                                                             size_t *len);

/* How a chain suits a ClientHello (bits of ferrule_client_hello_chain_fit). */
#define FERRULE_CHAIN_FIT_KEY 1u  /* its key can sign a scheme the client offered: usable */
#define FERRULE_CHAIN_FIT_NAME 2u /* its leaf matches the client's SNI */
#define FERRULE_CHAIN_FIT_CERT_SIGS 4u /* its certificate signatures are all acceptable */

/** FERRULE_CHAIN_FIT_* bits for chain `chain_index` (0 for an index out of
 *  range or a NULL hello).  A callback choosing a chain without
 *  FERRULE_CHAIN_FIT_KEY makes the handshake fail (handshake_failure). */
FERRULE_API uint32_t ferrule_client_hello_chain_fit(const ferrule_client_hello *hello,
                                                    size_t chain_index);

/* Certificate callback results other than a chain index (>= 0). */
#define FERRULE_CERT_SELECT_DEFAULT (-1)           /* the default selection above */
#define FERRULE_CERT_SELECT_UNRECOGNIZED_NAME (-2) /* refuse: unrecognized_name alert */
#define FERRULE_CERT_SELECT_REFUSE (-3)            /* refuse: handshake_failure alert */

/**
 * Server: certificate selection callback.  Returns the index of the chain
 * to use (0 .. ferrule_config_chain_count() - 1) or a FERRULE_CERT_SELECT_*
 * value.  A refusal fails the handshake with FERRULE_POLICY and reason
 * FERRULE_R_UNRECOGNIZED_NAME or FERRULE_R_HANDSHAKE_REFUSED; any other
 * value (an index out of range, an unknown negative value) fails it with
 * FERRULE_USAGE / FERRULE_R_CALLBACK_RESULT and an internal_error alert.
 * Called on the thread driving the handshake, with the connection's locks
 * held: only the getters (ferrule_conn_server_name, ferrule_conn_alpn --
 * ALPN is already chosen --, ...) may be called on `conn`.  NULL cb
 * removes the callback.  The callback answers decision CERTIFICATE at
 * once (ferrule_conn_client_hello(conn) is `hello`);
 * FERRULE_DECIDE_CERTIFICATE asks the application instead.
 */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_cert_select_callback(
    ferrule_config *cfg,
    int (*cb)(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *hello), void *ctx);

/* ALPN callback results. */
#define FERRULE_ALPN_SELECTED 0   /* *proto / *len name one of the offered protocols */
#define FERRULE_ALPN_DEFAULT 1    /* the config's list (ferrule_config_add_alpn), our order */
#define FERRULE_ALPN_NONE 2       /* continue without ALPN */
#define FERRULE_ALPN_NO_OVERLAP 3 /* no_application_protocol alert (FERRULE_R_NO_ALPN) */

/**
 * Server: ALPN selection callback, called only when the client sent a
 * (valid) application_layer_protocol_negotiation extension.  With
 * FERRULE_ALPN_SELECTED, `*proto` / `*len` must name one of the offered
 * protocols (the bytes are compared and copied; they may point into the
 * hello or the application's own memory): otherwise the handshake fails
 * with FERRULE_USAGE / FERRULE_R_ALPN_NOT_OFFERED and an internal_error
 * alert (RFC 7301 §3.2: the server must choose among the client's).  An
 * unknown return value is FERRULE_R_CALLBACK_RESULT.  Called before the
 * certificate callback, under the same rules.  NULL cb removes it.  It
 * answers decision ALPN at once; FERRULE_DECIDE_ALPN asks the application
 * instead.
 */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_alpn_select_callback(
    ferrule_config *cfg,
    int (*cb)(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *hello,
              const uint8_t **proto, size_t *len),
    void *ctx);

/** The index of the chain this side sent in its Certificate (server: the
 *  selected chain; client: the chain sent to a CertificateRequest), or -1
 *  if none was sent (before selection, resumed, client without one). */
FERRULE_API int ferrule_conn_cert_index(const ferrule_conn *conn);

/* ---- application decisions as pause/resume (docs/decisions.md) ------------ */
/*
 * Five handshake decisions can be left to the application without a
 * callback: the handshake pauses, the driving call (ferrule_conn_handshake,
 * ferrule_conn_read / _write / _read_buf while the handshake runs,
 * ferrule_conn_process, ferrule_conn_read_early_data) returns
 * FERRULE_WANT_APP, ferrule_conn_flags() shows FERRULE_FLAG_WANT_APP, and
 * ferrule_conn_pending_decision says which decision waits.  The
 * application answers with the matching call below -- at once, on a later
 * event-loop turn, or from another thread -- and then drives the handshake
 * again; it continues where it stopped (the paused message is neither
 * parsed with side effects nor added to the transcript twice).  Until the
 * answer the connection reads no further input; a connection never
 * answered is simply freed (ferrule_conn_free releases everything).
 *
 * A decision pauses only if the config opts into it
 * (ferrule_config_set_decisions).  Otherwise the synchronous callback, if
 * one is set, answers it at once, and without one the default applies:
 * the existing callbacks are a convenience over this protocol.  The
 * replay store check is always a decision underneath; without
 * FERRULE_DECIDE_REPLAY the configured store answers it.
 *
 * An answer when no decision is pending (or already answered) is
 * FERRULE_USAGE / FERRULE_R_NO_DECISION, one for another decision
 * FERRULE_R_WRONG_DECISION, an invalid value FERRULE_R_BAD_ANSWER (ALPN:
 * FERRULE_R_ALPN_NOT_OFFERED): nothing changes, the decision is still
 * pending.  Answers and ferrule_conn_pending_decision take the
 * connection's locks, so any thread may call them; the getters of the
 * pending decision's data (ferrule_conn_client_hello and the view's
 * getters, ferrule_conn_verify_result, ferrule_conn_replay_key) must not
 * race with the answer.
 */

/* Decisions (ferrule_conn_pending_decision). */
#define FERRULE_DECISION_NONE 0u
#define FERRULE_DECISION_CERTIFICATE 1u /* server: which chain (ferrule_conn_select_certificate) */
#define FERRULE_DECISION_ALPN 2u        /* server: which protocol (ferrule_conn_select_alpn) */
#define FERRULE_DECISION_VERIFY 3u      /* both: the verdict on a chain we accepted (verify_done) */
#define FERRULE_DECISION_EARLY_DATA 4u  /* server: accept 0-RTT? (ferrule_conn_early_accept) */
#define FERRULE_DECISION_REPLAY 5u      /* server: replay store check-and-insert (replay_result) */

/* Opt-in bits (ferrule_config_set_decisions): FERRULE_DECIDE_x is the bit of
 * FERRULE_DECISION_x. */
#define FERRULE_DECIDE_CERTIFICATE (1u << 0)
#define FERRULE_DECIDE_ALPN (1u << 1)
#define FERRULE_DECIDE_VERIFY (1u << 2)
#define FERRULE_DECIDE_EARLY_DATA (1u << 3)
#define FERRULE_DECIDE_REPLAY (1u << 4)
#define FERRULE_DECIDE_ALL 0x1fu

/** The decisions (FERRULE_DECIDE_* bits) the application answers itself
 *  on connections of this config; it replaces the previous set (0: none,
 *  the default).  An opted-in decision pauses even when a callback is set
 *  (the callback is then not called).  FERRULE_USAGE with config_invalid
 *  for unknown bits, config_frozen once in use. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_decisions(ferrule_config *cfg,
                                                                uint32_t decisions);
/** The decision the handshake waits for (FERRULE_DECISION_*), NONE when it
 *  waits for none or its answer was given (drive the handshake again). */
FERRULE_API uint32_t ferrule_conn_pending_decision(ferrule_conn *conn);
/** Server, while CERTIFICATE or ALPN is pending: the ClientHello view (the
 *  getters above), valid until the answer; NULL otherwise. */
FERRULE_API const ferrule_client_hello *ferrule_conn_client_hello(const ferrule_conn *conn);
/** Answer CERTIFICATE: a chain index (0 .. ferrule_config_chain_count() - 1)
 *  or a FERRULE_CERT_SELECT_* value, with the meaning they have as results
 *  of the certificate callback (a chain without FERRULE_CHAIN_FIT_KEY ends
 *  the handshake with handshake_failure when it continues). */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_select_certificate(ferrule_conn *conn,
                                                                   int choice);
/** Answer ALPN: `result` is a FERRULE_ALPN_* value as the ALPN callback
 *  returns it; with FERRULE_ALPN_SELECTED, `proto` / `len` name one of the
 *  offered protocols (copied; FERRULE_R_ALPN_NOT_OFFERED otherwise),
 *  FERRULE_ALPN_NONE continues without ALPN, FERRULE_ALPN_NO_OVERLAP ends
 *  the handshake with no_application_protocol.  `proto` is ignored for
 *  the other results. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_select_alpn(ferrule_conn *conn, int result,
                                                            const uint8_t *proto, size_t len);

/* Verdicts (ferrule_conn_verify_done), as the verify callback returns them. */
#define FERRULE_VERIFY_ACCEPT 0
#define FERRULE_VERIFY_REJECT 1
/** Answer VERIFY, asked after ferrule's own checks accepted the peer's
 *  chain (ferrule_conn_verify_result and the peer certificate getters show
 *  it while pending; on a server resuming a ticket that carries a client
 *  identity, that identity; with verification off, asked about every chain
 *  of a full handshake, ferrule_conn_verify_result being NULL).  REJECT ends the handshake with
 *  FERRULE_R_CERT_REJECTED (bad_certificate alert); for a ticket's
 *  identity it turns the resumption into a full handshake. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_verify_done(ferrule_conn *conn, int verdict);
/** Answer EARLY_DATA, asked for a ClientHello whose 0-RTT passed every
 *  check (ticket, suite, ALPN, SNI, age; before the replay store): 1 to
 *  accept, 0 to refuse (the handshake continues in 1-RTT).  SNI and ALPN
 *  are readable from `conn`. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_early_accept(ferrule_conn *conn, int accept);
/** While REPLAY is pending: the 32-byte key to check and insert and the
 *  time (seconds, the config's clock) until which it must be remembered.
 *  FERRULE_USAGE / FERRULE_R_NO_DECISION otherwise. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_replay_key(const ferrule_conn *conn,
                                                           const uint8_t **key, int64_t *expires);
/** Answer REPLAY (asked once for the ticket's key, then, if fresh, once
 *  for the ClientHello's) with what ferrule_replay_store.check_and_insert
 *  returns:
 *  1 the key was not present (now recorded), 0 it was (a replay), a
 *  negative value the store failed.  Anything but 1 refuses the 0-RTT
 *  data; the handshake continues in 1-RTT.  Values above 1 are
 *  FERRULE_R_BAD_ANSWER. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_replay_result(ferrule_conn *conn, int fresh);
/* ---- record size limit (RFC 8449, docs/record-size-limit.md) -------------- */
/** The record_size_limit we advertise: the largest TLSInnerPlaintext (the
 * content of a protected record plus its one content-type byte and any
 * padding) we accept, 64 .. 16385 (default 16385, i.e. no restriction).
 * Both roles always advertise the extension (a client in ClientHello, a
 * server in EncryptedExtensions when the client sent one).  Once both
 * sides have sent it, protected records above this value are refused with
 * record_overflow, and we fragment everything we protect to the peer's
 * value.  FERRULE_USAGE with reason config_invalid outside 64 .. 16385,
 * config_frozen once the config is in use. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_record_size_limit(ferrule_config *cfg,
                                                                        uint32_t limit);
/** The peer's record_size_limit once negotiated (both sides sent the
 * extension; a client knows after EncryptedExtensions, a server once it
 * has answered the ClientHello): the largest TLSInnerPlaintext we send, so at most
 * value - 1 bytes of data per record.  A client's value above 16385 is
 * reported as 16385.  0 if not negotiated (the peer does not support
 * RFC 8449, or NULL). */
FERRULE_API uint32_t ferrule_conn_peer_record_size_limit(const ferrule_conn *conn);

/* ---- session resumption (docs/resumption.md) ------------------------------ */
/*
 * A server issues tickets (ferrule_config_set_tickets) and accepts them
 * (ferrule_config_set_resumption): two settings.  Tickets issued earlier --
 * by this server before a restart with the same key, or by another server
 * of a fleet sharing the ticket key -- resume unless acceptance is off.
 */
/** Server: NewSessionTickets sent after each full or resumed handshake
 * (default 2; at most 16; 0 issues none -- tickets issued before are still
 * accepted, see ferrule_config_set_resumption to refuse them).  None are
 * sent to a client that advertised no PSK mode we accept (RFC 8446
 * §4.2.9), nor when resumption is refused.  FERRULE_USAGE with reason
 * config_invalid above 16, config_frozen once in use. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_tickets(ferrule_config *cfg, uint32_t count);

/* ferrule_resumption_options.accept */
#define FERRULE_RESUME_ACCEPT 0u /* resume from a valid ticket (default) */
#define FERRULE_RESUME_REFUSE 1u /* never resume (full handshakes only); issue no ticket */

/* ferrule_resumption_options.client_identity: how a server that asks for
 * client certificates judges the client identity a ticket carries. */
#define FERRULE_RESUME_IDENTITY_RECHECK 0u /* validate the chain again, now (default) */
#define FERRULE_RESUME_IDENTITY_KEEP 1u    /* validate it as of the full handshake */

/** Server resumption policy (versioned struct; zero = default for every
 * field). */
typedef struct ferrule_resumption_options {
    uint32_t struct_size;
    /** FERRULE_RESUME_ACCEPT (default) or FERRULE_RESUME_REFUSE.  Refusing
     * turns resumption off: PSK offers are ignored (a full handshake) and,
     * since a ticket could not be used here, none is issued whatever
     * ferrule_config_set_tickets says. */
    uint32_t accept;
    /** With client authentication (ferrule_config_set_client_auth), the
     * tickets of a connection carry the chain its client sent (none if it
     * sent none), and a resumed connection exposes it: the peer
     * certificate functions return it and ferrule_conn_verify_result the
     * path validated on resumption.  On resumption the chain is validated
     * again like a client Certificate (trust anchors, purpose, depth, the
     * verify callback, which runs while the ClientHello is processed):
     * FERRULE_RESUME_IDENTITY_RECHECK (default) at the current time, so an
     * expired certificate ends resumption; FERRULE_RESUME_IDENTITY_KEEP
     * as of the full handshake in which the client last presented it, for
     * at most 86400 s after that handshake (for short-lived client
     * certificates; a chain of resumptions does not extend it).  A ticket
     * whose identity fails is not used: a full handshake asks for a
     * certificate again.  FERRULE_CLIENT_AUTH_REQUIRE: a ticket without an
     * identity never resumes; FERRULE_CLIENT_AUTH_REQUEST: it resumes
     * unauthenticated.  Without client authentication the identity in a
     * ticket is ignored. */
    uint32_t client_identity;
    uint32_t reserved0; /* must be zero */
} ferrule_resumption_options;
/** Server: set the resumption policy (`opts` NULL: the defaults).
 * FERRULE_USAGE with config_invalid for a client config or an unknown
 * value, bad_struct, config_frozen once in use. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_resumption(
    ferrule_config *cfg, const ferrule_resumption_options *opts);
FERRULE_API size_t ferrule_sizeof_resumption_options(void);
/** Server: install a new current ticket key (16-byte name, 32-byte key);
 * the two previous keys stay valid for decrypting tickets, older ones are
 * forgotten.  May be called at any time, also while connections use the
 * config (rotation).  A config starts with a random key; a fleet of
 * servers installs the same keys everywhere. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_ticket_key(ferrule_config *cfg,
                                                                const uint8_t name[16],
                                                                const uint8_t key[32]);
/** Client: copy the session blob of the newest ticket received to `out`
 * and its length to *len.  A connection keeps one ticket, the newest: each
 * NewSessionTicket replaces the one before (so a server sending many costs
 * only the bytes of each), and the blob is built from it by this call.
 * The blob contains the resumption PSK: protect it like a private key.
 * FERRULE_USAGE with reason wrong_state if no ticket arrived yet (or on a
 * server), buffer_too_small (with *len set) if `cap` is too small. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_session(ferrule_conn *conn, uint8_t *out,
                                                       size_t cap, size_t *len);
/** Client, before the handshake: offer the session `blob` (from
 * ferrule_conn_session) for resumption.  It is offered only if its suite
 * is configured, it has not expired, the server name is the same and its
 * ticket fits in a ClientHello beside our other extensions (RFC 8446
 * §4.1.2: 2^16-1 bytes of extensions; a ticket may be as large, §4.6.1);
 * otherwise, or if the server declines, a full handshake happens.
 * FERRULE_USAGE with reason decode_error for a malformed blob,
 * wrong_state after the handshake started or a second call. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_set_session(ferrule_conn *conn, const uint8_t *blob,
                                                           size_t len);
/** The max_early_data_size the ticket of session `blob` (from
 * ferrule_conn_session) allows, in *max: 0 when the server did not offer
 * 0-RTT with it.  FERRULE_USAGE for a NULL argument or a blob that is not
 * a session (then *max is 0).  Reads the blob only: no connection. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_session_max_early_data(const uint8_t *blob, size_t len,
                                                                  uint32_t *max);
/* ---- 0-RTT early data (docs/early-data.md) -------------------------------- */
/*
 * Early data is OFF by default in both roles.  0-RTT data can be replayed
 * by an attacker (RFC 8446 §8): send only requests whose repetition does
 * no harm.  The server accepts it only with anti-replay: every ticket can
 * carry 0-RTT once (single-use), each ClientHello is recorded for the
 * freshness window, and the client's ticket age must be within that window
 * of the server's (RFC 8446 §8.1-8.3).
 */

/** A replay store: a fleet of servers sharing one store (and the same
 * ticket keys) accepts each ticket's 0-RTT at most once fleet-wide. */
typedef struct ferrule_replay_store {
    uint32_t struct_size;
    /** Record `key` (32 bytes) until `expires` (seconds, the config's
     * clock) and return 1 if it was not present, 0 if it was (a replay),
     * a negative value on failure (0-RTT is then refused).  Must be atomic:
     * two concurrent calls with the same key may not both return 1.
     * Called from handshake threads, concurrently. */
    int (*check_and_insert)(void *ctx, const uint8_t key[32], int64_t expires);
    void *ctx;
    /** Identity of the store.  Tickets name the store of the server that
     * issued them, and 0-RTT is accepted only where the same store (by
     * identity) is installed: servers with separate stores never accept
     * each other's 0-RTT. */
    uint8_t id[16];
} ferrule_replay_store;

/** Early-data settings (versioned struct; zero = default for every field). */
typedef struct ferrule_early_data_options {
    uint32_t struct_size;
    /** Server: max_early_data_size announced in tickets and enforced
     * (default 16384, at most 1048576; it must also fit in the memory
     * ceiling, since accepted early data is buffered until read).
     * Client: ignored. */
    uint32_t max_early_data_size;
    /** Server: freshness window in milliseconds (default 10000, at least
     * 1000): the client's ticket age may differ from ours by at most this
     * (plus 1 s clock granularity), and ClientHellos are recorded that long. */
    uint32_t window_ms;
    /** Server: capacity of the built-in store (entries per generation,
     * default 65536, 1024..16777216); ignored with `store`. */
    uint32_t capacity;
    uint32_t reserved0; /* must be zero */
    /** Server: NULL = a built-in in-memory store (a pair of rotating Bloom
     * filters, false-positive rate below 1.7% at capacity, see
     * docs/early-data.md; a false positive only refuses 0-RTT). */
    const ferrule_replay_store *store;
    /** Server: called for each connection whose 0-RTT passed every check
     * (after the ticket, before the replay store): return 1 to accept, 0 to
     * refuse (then the handshake continues in 1-RTT).  SNI and ALPN are
     * readable from `conn`.  NULL = accept.  It answers decision
     * EARLY_DATA at once, and `store` (or the built-in one) decision
     * REPLAY; FERRULE_DECIDE_EARLY_DATA / _REPLAY ask the application
     * instead (docs/decisions.md). */
    int (*accept)(void *ctx, const ferrule_conn *conn);
    void *accept_ctx;
} ferrule_early_data_options;

/** Enable 0-RTT on a config (either role).  `opts` may be NULL for the
 * defaults.  Usage error (config_invalid) for out-of-range values,
 * bad_struct, config_frozen once in use. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_early_data(
    ferrule_config *cfg, const ferrule_early_data_options *opts);
FERRULE_API size_t ferrule_sizeof_early_data_options(void);
FERRULE_API size_t ferrule_sizeof_replay_store(void);

/** The caller declares the data replay-safe (required flag). */
#define FERRULE_EARLY_DATA_REPLAY_SAFE 1u

/** Client: send `buf` as 0-RTT data.  Needs 0-RTT enabled on the config and
 * a session set with ferrule_conn_set_session whose ticket allows early
 * data (and is usable: suite, lifetime, server name, and its ALPN among
 * ours).  Valid before the handshake starts (the first call sends the
 * ClientHello) and until the ServerHello is processed.  `flags` must
 * contain FERRULE_EARLY_DATA_REPLAY_SAFE: by setting it the caller states
 * the data may safely be delivered twice.  Accepts at most what the
 * ticket's max_early_data_size leaves (*n tells; WANT_WRITE is never
 * returned for that: a full allowance is FERRULE_USAGE / no_early_data).
 * If the server rejects the early data (ferrule_conn_early_data_status()
 * == FERRULE_EARLY_REJECTED after the handshake), nothing of it was
 * delivered: send it again with ferrule_conn_write.  Errors: usage with
 * not_replay_safe, no_early_data, wrong_state. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_write_early_data(ferrule_conn *conn,
                                                                 const uint8_t *buf, size_t len,
                                                                 uint32_t flags, size_t *n);
/** Server: read 0-RTT data while the handshake runs (it also drives the
 * handshake).  FERRULE_OK with *n > 0: early data; FERRULE_OK with *n == 0:
 * no (more) early data will come (not offered, rejected, or the client's
 * EndOfEarlyData arrived) -- continue with ferrule_conn_handshake;
 * FERRULE_WANT_READ: more input needed.  Early data not read this way is
 * returned first by ferrule_conn_read after the handshake: the first
 * ferrule_conn_early_data_len() bytes of the stream are always early data. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_read_early_data(ferrule_conn *conn, uint8_t *buf,
                                                                size_t cap, size_t *n);

#define FERRULE_EARLY_NOT_OFFERED 0 /* no 0-RTT attempted */
#define FERRULE_EARLY_ACCEPTED 1    /* the server accepted the early data */
#define FERRULE_EARLY_REJECTED 2    /* offered but refused: none of it was delivered */
#define FERRULE_EARLY_OFFERED 3     /* client: sent, the server's answer not yet known */
/** The 0-RTT outcome of the connection (FERRULE_EARLY_*). */
FERRULE_API uint32_t ferrule_conn_early_data_status(const ferrule_conn *conn);
/** Client: bytes written as early data.  Server: bytes received as early
 * data (the first bytes of the stream). */
FERRULE_API size_t ferrule_conn_early_data_len(const ferrule_conn *conn);

/* ferrule_conn_early_data_reason(): why 0-RTT was accepted or not. */
#define FERRULE_EARLY_REASON_NONE 0            /* not decided (yet), or nothing to tell */
#define FERRULE_EARLY_REASON_ACCEPTED 1        /* accepted */
#define FERRULE_EARLY_REASON_DISABLED 2        /* server: 0-RTT not enabled on our config */
#define FERRULE_EARLY_REASON_NO_PSK_OFFERED 3  /* server: the ClientHello offered no PSK */
#define FERRULE_EARLY_REASON_NOT_RESUMED 4     /* the PSK was not resumed */
#define FERRULE_EARLY_REASON_TICKET 5          /* server: the resumed ticket does not allow it
                                                  here (no early_data, another replay store,
                                                  another suite, not the first identity) */
#define FERRULE_EARLY_REASON_PEER_DECLINED 6   /* the peer did not offer (server) or refused
                                                  (client) */
#define FERRULE_EARLY_REASON_TICKET_AGE 7      /* server: the ticket age is outside the window */
#define FERRULE_EARLY_REASON_HRR 8             /* a HelloRetryRequest was needed */
#define FERRULE_EARLY_REASON_APPLICATION 9     /* server: the accept callback or decision refused */
#define FERRULE_EARLY_REASON_REPLAY 10         /* server: the replay store refused (seen or failed) */
/** Why the connection's 0-RTT was accepted or refused (FERRULE_EARLY_REASON_*),
 * known on a server once its ServerHello is sent, on a client once the
 * server's EncryptedExtensions are processed; the first refusing check,
 * in the order listed above.  A client that offered no 0-RTT says NONE. */
FERRULE_API uint32_t ferrule_conn_early_data_reason(const ferrule_conn *conn);

/* PSK key exchange modes (RFC 8446 §4.2.9). */
#define FERRULE_PSK_DHE_KE 1u /* PSK with (EC)DHE: forward secrecy (default) */
#define FERRULE_PSK_KE 2u     /* PSK alone: no forward secrecy for the session */
/** The PSK key exchange modes a client offers or a server accepts
 * (FERRULE_PSK_* bits, non-zero).  Default FERRULE_PSK_DHE_KE only;
 * psk_ke is an explicit opt-in: a resumed psk_ke session has no (EC)DHE, so
 * whoever learns the ticket key or the resumption secret can decrypt it.  A
 * server accepting both picks psk_dhe_ke when the client offers it.
 * FERRULE_USAGE (config_invalid / config_frozen) otherwise. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_config_set_psk_modes(ferrule_config *cfg,
                                                                uint32_t modes);

/** 1 if a HelloRetryRequest took place (either role). */
FERRULE_API int ferrule_conn_hrr(const ferrule_conn *conn);
/** Heap bytes currently accounted to the connection. */
FERRULE_API size_t ferrule_conn_memory_used(const ferrule_conn *conn);
/** RFC 8446 §7.5 exporter.  Valid once the handshake is complete. */
FERRULE_API FERRULE_MUST_CHECK int ferrule_conn_export_keying_material(
    ferrule_conn *conn, const char *label, size_t label_len, const uint8_t *context,
    size_t context_len, uint8_t *out, size_t out_len);

#ifdef __cplusplus
}
#endif
#endif /* FERRULE_H */
