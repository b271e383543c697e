/*
 * fuzz_ticket.c - the server's ticket opening (core/hs/ticket.c:
 * fr_ticket_open under a fixed key, the trial budget, fr_ticket_parse_state
 * on what opens).
 * Input: byte 0 picks the mode, the rest is
 *   mode 0: a ticket (key_name || nonce || AEAD(state) || tag), opened;
 *   mode 1: a ticket state, sealed under the fixed key
 *           (fr_ticket_seal_state) and opened again, so that the fuzzer
 *           reaches the state parser through a valid tag;
 *   mode 2: a ticket state, parsed directly (fr_ticket_parse_state).
 * Checks: opening answers one of its four results; only a ticket longer
 * than the overhead and under a key name of the ring is decrypted (counted in
 * trials); a sealed state opens to exactly its bytes.
 * Found: an empty state under our key name reached memcpy(NULL, .., 0)
 * (fuzz/crashers/fuzz_ticket/, tests/c/test_ticket_fuzz_regress.c).
 */
#include "fuzz_hs.h"

#include "hs/ticket.h"

#define OVERHEAD (FR_TICKET_KEY_NAME_LEN + FR_TICKET_NONCE_LEN + FR_AEAD_TAG_LEN)

static const uint8_t key_name[16] = "fuzz-ticket-key";
static const uint8_t key[32] = {0x46, 0x55, 0x5a, 0x5a};

static ferrule_config *ticket_config(void) {
    static ferrule_config *cfg;
    if (cfg != NULL) return cfg;
    FUZZ_CHECK(ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_cert_chain_pem(
                   cfg, (const uint8_t *)FUZZ_LEAF_CHAIN_PEM, sizeof(FUZZ_LEAF_CHAIN_PEM) - 1,
                   (const uint8_t *)FUZZ_LEAF_KEY_PEM, sizeof(FUZZ_LEAF_KEY_PEM) - 1) ==
               FERRULE_OK);
    FUZZ_CHECK(ferrule_config_set_ticket_key(cfg, key_name, key) == FERRULE_OK);
    return cfg;
}

static void parse_opened(fr_reader *state) {
    fr_ticket_state st;
    fuzz_check_reason(fr_ticket_parse_state(state, &st));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fuzz_rng_reset();
    ferrule_conn *c = NULL;
    FUZZ_CHECK(ferrule_conn_new(&c, ticket_config(), NULL) == FERRULE_OK);
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    fr_reader state = fr_reader_init(NULL, 0);
    unsigned trials = 0;
    switch (data[0] % 3) {
    case 0: {
        uint8_t *t = malloc(n > 0 ? n : 1);
        FUZZ_CHECK(t != NULL);
        if (n > 0) memcpy(t, in, n);
        int r = fr_ticket_open(c, t, n, &state, &trials);
        FUZZ_CHECK(r == FR_TICKET_OPENED || r == FR_TICKET_NOT_OURS || r == FR_TICKET_BAD);
        /* Ours: under a name in the ring, which holds the config's initial
         * key (random, i.e. from the deterministic stream here) besides
         * the fixed one. */
        int ours = 0;
        for (size_t i = 0; n >= OVERHEAD && i < c->cfg->resume.n_keys; i++)
            if (memcmp(t, c->cfg->resume.names[i], FR_TICKET_KEY_NAME_LEN) == 0) ours = 1;
        if (!ours) FUZZ_CHECK(r == FR_TICKET_NOT_OURS);
        FUZZ_CHECK(trials == (ours && n > OVERHEAD ? 1u : 0u));
        if (r == FR_TICKET_OPENED) {
            FUZZ_CHECK(fr_reader_left(&state) == n - OVERHEAD);
            parse_opened(&state);
        }
        free(t);
        break;
    }
    case 1: {
        if (n == 0 || n > 1 << 16) break;
        size_t cap = n + OVERHEAD, len = 0;
        uint8_t *t = malloc(cap);
        FUZZ_CHECK(t != NULL);
        FUZZ_CHECK(fr_ticket_seal_state(c->cfg, in, n, t, cap, &len) == FR_OK);
        FUZZ_CHECK(len == cap);
        FUZZ_CHECK(fr_ticket_open(c, t, len, &state, &trials) == FR_TICKET_OPENED);
        FUZZ_CHECK(trials == 1);
        FUZZ_CHECK(fr_reader_left(&state) == n && memcmp(state.p, in, n) == 0);
        parse_opened(&state);
        /* A flipped tag bit: still ours, no longer opens. */
        t[len - 1] ^= 1;
        FUZZ_CHECK(fr_ticket_open(c, t, len, &state, &trials) == FR_TICKET_BAD);
        free(t);
        break;
    }
    default: {
        fr_reader r = fr_reader_init(in, n);
        parse_opened(&r);
        break;
    }
    }
    fr_ticket_forget(c);
    ferrule_conn_free(c);
    return 0;
}
