/*
 * host.h - what the ABI does for the engine as its host: reading trust
 * anchors from files, directories and the system's locations
 * (trust_files.c), and the clock (clock.c).  The engine never touches the
 * file system and never reads a clock.
 */
#ifndef FR_ABI_HOST_H
#define FR_ABI_HOST_H

#include "engine.h"

/* One file: PEM or DER (fr_config_trust_add_bytes).  CONFIG_FILE when it
 * cannot be read; CONFIG_PEM when it holds no usable certificate or is
 * larger than 64 MiB. */
FR_MUST_CHECK fr_err fr_abi_trust_add_file(fr_config *cfg, const char *path);
/* The regular files of a directory named like *.pem, *.crt, *.cer or
 * c_rehash links (<8 hex digits>.<digits>); unreadable or unparsable ones
 * are skipped, at least one must give an anchor; all or nothing. */
FR_MUST_CHECK fr_err fr_abi_trust_add_dir(fr_config *cfg, const char *path);
/* The system's anchors, in the order documented at
 * ferrule_config_add_trust_system (ferrule.h). */
FR_MUST_CHECK fr_err fr_abi_trust_add_system(fr_config *cfg);

/* Now, seconds since the Unix epoch: the config's time callback, else the
 * system clock. */
int64_t fr_abi_now(const fr_config *cfg);
/* Pass now to the connection's engine (fr_conn_set_time): at the start of
 * every entry point that may advance or verify, and after each transport
 * read of callback I/O (a blocking read may have waited long). */
void fr_abi_conn_clock(fr_conn *c);

#endif
