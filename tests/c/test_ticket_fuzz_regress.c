/* test_ticket_fuzz_regress.c - regressions found by fuzz/fuzz_ticket in
 * core/hs/ticket.c's fr_ticket_open (the crashing inputs are kept in
 * fuzz/crashers/fuzz_ticket/ and replayed by fuzz_replay_fuzz_ticket).
 *
 * A ticket of exactly key_name || nonce || tag (no sealed state) under one
 * of our key names used to reach memcpy(open_buf, ..., 0) with open_buf
 * still NULL (undefined behaviour that UBSan reports as a null argument)
 * and to spend one of the pass's FR_PSK_MAX_TRIALS decryptions on it.  It
 * is now refused before any decryption: FR_TICKET_BAD, no trial counted. */
#include "ferrule.h"
#include "hs/ticket.h"
#include "support_pair.h"
#include "testlib.h"

#define NAME_LEN FR_TICKET_KEY_NAME_LEN
#define OVERHEAD (FR_TICKET_KEY_NAME_LEN + FR_TICKET_NONCE_LEN + FR_AEAD_TAG_LEN)

static const uint8_t key_name[16] = "fuzz-ticket-key";
static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static ferrule_conn *server_conn(ferrule_config **cfg) {
    *cfg = pair_server_config("ecdsa-p256");
    if (*cfg == NULL) return NULL;
    if (ferrule_config_set_ticket_key(*cfg, key_name, key) != FERRULE_OK) return NULL;
    ferrule_conn *c = NULL;
    if (ferrule_conn_new(&c, *cfg, NULL) != FERRULE_OK) return NULL;
    return c;
}

/* A ticket of n bytes under key_name, the rest filled with `fill`. */
static void make_ticket(uint8_t *t, size_t n, uint8_t fill) {
    memset(t, fill, n);
    memcpy(t, key_name, NAME_LEN);
}

TEST(empty_state_under_our_key_is_bad_without_a_trial) {
    ferrule_config *cfg;
    ferrule_conn *c = server_conn(&cfg);
    REQUIRE(c != NULL);
    /* An exact-size heap copy, as the fuzzer hands it over. */
    uint8_t *t = malloc(OVERHEAD);
    REQUIRE(t != NULL);
    make_ticket(t, OVERHEAD, 0);
    fr_reader state = fr_reader_init(NULL, 0);
    unsigned trials = 0;
    CHECK_EQ(fr_ticket_open(c, t, OVERHEAD, &state, &trials), FR_TICKET_BAD);
    CHECK_EQ(trials, 0);
    /* Even with the budget spent: it is refused, not a budget stop. */
    trials = FR_PSK_MAX_TRIALS;
    CHECK_EQ(fr_ticket_open(c, t, OVERHEAD, &state, &trials), FR_TICKET_BAD);
    CHECK_EQ(trials, FR_PSK_MAX_TRIALS);
    free(t);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

/* The controls around it: one byte of state is decrypted (and fails, the
 * tag is garbage) and counted; one byte short is not a ticket at all; an
 * unknown key name is not ours. */
TEST(neighbours_of_the_empty_ticket) {
    ferrule_config *cfg;
    ferrule_conn *c = server_conn(&cfg);
    REQUIRE(c != NULL);
    uint8_t t[OVERHEAD + 1];
    fr_reader state = fr_reader_init(NULL, 0);
    unsigned trials = 0;
    make_ticket(t, OVERHEAD + 1, 0x5a);
    CHECK_EQ(fr_ticket_open(c, t, OVERHEAD + 1, &state, &trials), FR_TICKET_BAD);
    CHECK_EQ(trials, 1);
    CHECK_EQ(fr_ticket_open(c, t, OVERHEAD - 1, &state, &trials), FR_TICKET_NOT_OURS);
    CHECK_EQ(trials, 1);
    t[0] ^= 1;
    CHECK_EQ(fr_ticket_open(c, t, OVERHEAD, &state, &trials), FR_TICKET_NOT_OURS);
    CHECK_EQ(trials, 1);
    fr_ticket_forget(c);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

TEST_MAIN("test_ticket_fuzz_regress", TL_CASE(empty_state_under_our_key_is_bad_without_a_trial),
          TL_CASE(neighbours_of_the_empty_ticket))
