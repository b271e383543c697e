/*
 * sync.h - critical sections the core declares and its host implements.
 *
 * The core owns no threads and links no thread library.  Where state is
 * shared between the two halves of a connection, or between connections
 * using one configuration, the core brackets the access with
 * fr_sync_lock / fr_sync_unlock on a named lock; the host (abi/) supplies
 * the implementation, or none for a single-threaded host.  The lock
 * objects, their kinds and their order live in the host.
 */
#ifndef FR_SYNC_H
#define FR_SYNC_H

/* Lock names.  Per connection (fr_conn's sync): */
#define FR_LOCK_CONN_ERR 0u   /* the sticky failure and what the application reads beside it */
/* Per configuration (fr_config's sync): */
#define FR_LOCK_CFG_TICKETS 1u /* the ticket-key ring, rotated while in use */
#define FR_LOCK_COUNT 2u

typedef struct fr_sync {
    void (*lock)(void *ctx, unsigned id);
    void (*unlock)(void *ctx, unsigned id);
    void *ctx;
    /* Called once as the engine object is destroyed (NULL: nothing), so
     * the host can release what ctx holds. */
    void (*release)(void *ctx);
} fr_sync;

static inline void fr_sync_lock(const fr_sync *s, unsigned id)
{
    if (s->lock) s->lock(s->ctx, id);
}

static inline void fr_sync_unlock(const fr_sync *s, unsigned id)
{
    if (s->unlock) s->unlock(s->ctx, id);
}

#endif
