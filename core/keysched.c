/*
 * keysched.c - the TLS 1.3 key schedule, RFC 8446 §7.1:
 *
 *            0
 *            |
 *            v
 *  PSK ->  HKDF-Extract = Early Secret
 *            |
 *            v  Derive-Secret(., "derived", "")
 *  (EC)DHE -> HKDF-Extract = Handshake Secret --> c/s hs traffic
 *            |
 *            v  Derive-Secret(., "derived", "")
 *  0 -> HKDF-Extract = Master Secret --> c/s ap traffic, exp master,
 *                                         res master
 */
#include "keysched.h"

/* Derive-Secret(Secret, Label, Messages) =
 *     HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length)
 * with the transcript hash already computed by the caller. */
static fr_err derive_secret(int hash, const uint8_t *secret, const char *label,
                            const uint8_t *th, uint8_t *out) {
    size_t hlen = fr_hash_len(hash);
    return fr_hkdf_expand_label(hash, secret, label, th, hlen, out, hlen);
}

/* Derive-Secret(secret, "derived", ""): the salt for the next Extract. */
static fr_err derived_salt(int hash, const uint8_t *secret, uint8_t *out) {
    uint8_t empty_hash[FR_MAX_HASH];
    FR_TRY(fr_hash(hash, NULL, 0, empty_hash));
    return derive_secret(hash, secret, "derived", empty_hash, out);
}

fr_err fr_ks_init(fr_keysched *ks, int hash, const uint8_t *psk, size_t psk_len) {
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    fr_ks_wipe(ks);
    ks->hash = hash;
    ks->hlen = hlen;
    /* RFC 8446 §7.1: "If a given secret is not available, then the 0-value
     * consisting of a string of Hash.length bytes set to zeros is used." */
    uint8_t zeros[FR_MAX_HASH] = {0};
    if (psk == NULL || psk_len == 0) {
        psk = zeros;
        psk_len = hlen;
    }
    return fr_hkdf_extract(hash, zeros, hlen, psk, psk_len, ks->early_secret);
}

fr_err fr_ks_handshake(fr_keysched *ks, const uint8_t *ecdhe, size_t ecdhe_len,
                       const uint8_t *th) {
    FR_ENSURE(ks->hlen != 0, FERRULE_R_INTERNAL);
    uint8_t salt[FR_MAX_HASH];
    fr_err e = derived_salt(ks->hash, ks->early_secret, salt);
    if (e == FR_OK)
        e = fr_hkdf_extract(ks->hash, salt, ks->hlen, ecdhe, ecdhe_len, ks->handshake_secret);
    fr_wipe(salt, sizeof(salt));
    FR_TRY(e);
    FR_TRY(derive_secret(ks->hash, ks->handshake_secret, "c hs traffic", th, ks->client_hs));
    FR_TRY(derive_secret(ks->hash, ks->handshake_secret, "s hs traffic", th, ks->server_hs));
    /* The early secret only feeds 0-RTT/binder keys, which are derived
     * before this point; it is dead now. */
    fr_wipe(ks->early_secret, sizeof(ks->early_secret));
    return FR_OK;
}

fr_err fr_ks_master(fr_keysched *ks, const uint8_t *th) {
    FR_ENSURE(ks->hlen != 0, FERRULE_R_INTERNAL);
    uint8_t salt[FR_MAX_HASH];
    uint8_t zeros[FR_MAX_HASH] = {0};
    fr_err e = derived_salt(ks->hash, ks->handshake_secret, salt);
    if (e == FR_OK)
        e = fr_hkdf_extract(ks->hash, salt, ks->hlen, zeros, ks->hlen, ks->master_secret);
    fr_wipe(salt, sizeof(salt));
    FR_TRY(e);
    /* Nothing further is derived from the handshake secret. */
    fr_wipe(ks->handshake_secret, sizeof(ks->handshake_secret));
    FR_TRY(derive_secret(ks->hash, ks->master_secret, "c ap traffic", th, ks->client_ap));
    FR_TRY(derive_secret(ks->hash, ks->master_secret, "s ap traffic", th, ks->server_ap));
    FR_TRY(derive_secret(ks->hash, ks->master_secret, "exp master", th, ks->exporter));
    return FR_OK;
}

fr_err fr_ks_resumption(fr_keysched *ks, const uint8_t *th) {
    FR_ENSURE(ks->hlen != 0, FERRULE_R_INTERNAL);
    FR_TRY(derive_secret(ks->hash, ks->master_secret, "res master", th, ks->resumption));
    /* resumption_master_secret is the last secret derived from it. */
    fr_wipe(ks->master_secret, sizeof(ks->master_secret));
    return FR_OK;
}

fr_err fr_ks_finished(int hash, const uint8_t *base_key, const uint8_t *th,
                      uint8_t *verify_data) {
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    /* RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished",
     * "", Hash.length); verify_data = HMAC(finished_key, Transcript-Hash). */
    uint8_t finished_key[FR_MAX_HASH];
    fr_err e = fr_hkdf_expand_label(hash, base_key, "finished", NULL, 0, finished_key, hlen);
    if (e == FR_OK) e = fr_hmac(hash, finished_key, hlen, th, hlen, verify_data);
    fr_wipe(finished_key, sizeof(finished_key));
    return e;
}

fr_err fr_ks_update_secret(int hash, uint8_t *secret) {
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    /* RFC 8446 §7.2: application_traffic_secret_N+1 =
     *     HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "",
     *                       Hash.length) */
    uint8_t next[FR_MAX_HASH];
    fr_err e = fr_hkdf_expand_label(hash, secret, "traffic upd", NULL, 0, next, hlen);
    if (e == FR_OK) memcpy(secret, next, hlen);
    fr_wipe(next, sizeof(next));
    return e;
}

fr_err fr_ks_export(int hash, const uint8_t *exporter_secret, const char *label,
                    size_t label_len, const uint8_t *context, size_t context_len, uint8_t *out,
                    size_t out_len) {
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    /* fr_hkdf_expand_label takes a C string; the label must fit "tls13 " +
     * label <= 255 and contain no NUL. */
    FR_ENSURE(label_len <= 255 - 6, FERRULE_R_ILLEGAL_PARAMETER);
    char lbl[256];
    if (label_len > 0) {
        FR_ENSURE(memchr(label, 0, label_len) == NULL, FERRULE_R_ILLEGAL_PARAMETER);
        memcpy(lbl, label, label_len);
    }
    lbl[label_len] = '\0';

    /* RFC 8446 §7.5:
     *   TLS-Exporter(label, context_value, key_length) =
     *       HKDF-Expand-Label(Derive-Secret(Secret, label, ""),
     *                         "exporter", Hash(context_value), key_length) */
    uint8_t empty_hash[FR_MAX_HASH], ctx_hash[FR_MAX_HASH], secret[FR_MAX_HASH];
    FR_TRY(fr_hash(hash, NULL, 0, empty_hash));
    FR_TRY(fr_hash(hash, context, context_len, ctx_hash));
    fr_err e = derive_secret(hash, exporter_secret, lbl, empty_hash, secret);
    if (e == FR_OK)
        e = fr_hkdf_expand_label(hash, secret, "exporter", ctx_hash, hlen, out, out_len);
    fr_wipe(secret, sizeof(secret));
    return e;
}

void fr_ks_wipe(fr_keysched *ks) { fr_wipe(ks, sizeof(*ks)); }

fr_err fr_ks_binder(int hash, const uint8_t *psk, size_t psk_len, const uint8_t *partial_th,
                    uint8_t *binder) {
    /* RFC 8446 §7.1: binder_key = Derive-Secret(Early Secret, "res binder",
     * ""); §4.2.11.2: the binder is computed like a Finished with
     * binder_key as the base key, over Transcript-Hash(Truncate(ClientHello)). */
    fr_keysched ks;
    memset(&ks, 0, sizeof(ks));
    uint8_t empty_hash[FR_MAX_HASH], binder_key[FR_MAX_HASH];
    fr_err e = fr_ks_init(&ks, hash, psk, psk_len);
    if (e == FR_OK) e = fr_hash(hash, NULL, 0, empty_hash);
    if (e == FR_OK) e = derive_secret(hash, ks.early_secret, "res binder", empty_hash, binder_key);
    if (e == FR_OK) e = fr_ks_finished(hash, binder_key, partial_th, binder);
    fr_wipe(binder_key, sizeof(binder_key));
    fr_ks_wipe(&ks);
    return e;
}

fr_err fr_ks_ticket_psk(int hash, const uint8_t *resumption, const uint8_t *nonce,
                        size_t nonce_len, uint8_t *psk) {
    /* RFC 8446 §4.6.1: HKDF-Expand-Label(resumption_master_secret,
     * "resumption", ticket_nonce, Hash.length). */
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    return fr_hkdf_expand_label(hash, resumption, "resumption", nonce, nonce_len, psk, hlen);
}

fr_err fr_ks_early_traffic(int hash, const uint8_t *psk, size_t psk_len, const uint8_t *ch_th,
                           uint8_t *out) {
    /* RFC 8446 §7.1: client_early_traffic_secret =
     *     Derive-Secret(Early Secret, "c e traffic", ClientHello). */
    fr_keysched ks;
    memset(&ks, 0, sizeof(ks));
    fr_err e = fr_ks_init(&ks, hash, psk, psk_len);
    if (e == FR_OK) e = derive_secret(hash, ks.early_secret, "c e traffic", ch_th, out);
    fr_ks_wipe(&ks);
    return e;
}
