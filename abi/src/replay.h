/* replay.h (ABI) - the built-in 0-RTT replay store (replay.c): two Bloom
 * filters that rotate every `period` seconds; an entry lives between one
 * and two periods.  docs/early-data.md. */
#ifndef FR_ABI_REPLAY_H
#define FR_ABI_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define FR_BLOOM_KEY_LEN 32

typedef struct fr_bloom fr_bloom;

FR_MUST_CHECK fr_err fr_bloom_new(fr_mem *m, size_t capacity, int64_t period, int64_t now,
                                  fr_bloom **out);
void fr_bloom_free(fr_mem *m, fr_bloom *b);
/* 1 fresh (now recorded), 0 seen, -1 cannot record (full, or an expiry
 * beyond what the rotation keeps).  Thread-safe. */
int fr_bloom_check_and_insert(fr_bloom *b, const uint8_t key[FR_BLOOM_KEY_LEN], int64_t expires,
                              int64_t now);
/* Bits per generation and hash count, for the documentation test. */
void fr_bloom_shape(const fr_bloom *b, size_t *nbits, unsigned *k);

/* The config's built-in store, kept in the host's block of the config
 * (config.c) and freed with it: the store of the config whose host
 * context is `host` (fr_dec_hooks.host), NULL if it has none. */
fr_bloom *fr_abi_host_bloom(void *host);
/* Install `b` as cfg's store (freeing the previous one). */
void fr_abi_set_bloom(fr_config *cfg, fr_bloom *b);

#endif
