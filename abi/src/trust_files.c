/*
 * trust_files.c - trust anchors from the file system: the ABI reads the
 * bytes, the engine parses them (fr_config_trust_add_bytes).  Loading
 * anchors is configuration, done before the config is shared.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv */
#endif
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"

#define INVALID FERRULE_R_CONFIG_PEM
#define NOFILE FERRULE_R_CONFIG_FILE
/* Largest trust file we read (the Debian bundle is ~220 KB). */
#define MAX_TRUST_FILE ((size_t)64 << 20)

/* Grow *buf (of *cap bytes, *len used) to twice its size, up to the cap. */
static fr_err grow(fr_config *cfg, uint8_t **buf, size_t *cap, size_t len) {
    size_t ncap = *cap * 2;
    FR_ENSURE(ncap <= MAX_TRUST_FILE, INVALID);
    void *nb;
    FR_TRY(fr_config_mem_alloc(cfg, ncap, &nb));
    memcpy(nb, *buf, len);
    fr_config_mem_free(cfg, *buf, *cap);
    *buf = nb;
    *cap = ncap;
    return FR_OK;
}

/* The whole of an open stream (pipes and special files too: no size is
 * asked for) into config memory, *cap bytes at *buf. */
static fr_err read_all(fr_config *cfg, FILE *f, uint8_t **buf, size_t *cap, size_t *len) {
    *cap = 64 * 1024;
    *len = 0;
    void *p;
    FR_TRY(fr_config_mem_alloc(cfg, *cap, &p));
    *buf = p;
    fr_err e = FR_OK;
    while (e == FR_OK) {
        if (*len == *cap && (e = grow(cfg, buf, cap, *len)) != FR_OK) break;
        size_t got = fread(*buf + *len, 1, *cap - *len, f);
        *len += got;
        if (got == 0) {
            if (ferror(f)) e = NOFILE;
            break;
        }
    }
    if (e != FR_OK) {
        fr_config_mem_free(cfg, *buf, *cap);
        *buf = NULL;
    }
    return e;
}

fr_err fr_abi_trust_add_file(fr_config *cfg, const char *path) {
    FR_ENSURE(path != NULL, FERRULE_R_NULL_ARGUMENT);
    FILE *f = fopen(path, "rb");
    FR_ENSURE(f != NULL, NOFILE);
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    fr_err e = read_all(cfg, f, &buf, &cap, &len);
    fclose(f);
    FR_TRY(e);
    e = fr_config_trust_add_bytes(cfg, buf, len);
    fr_config_mem_free(cfg, buf, cap);
    return e;
}

/* Names OpenSSL-style directories use: *.pem, *.crt, *.cer, and the
 * c_rehash links "<8 hex digits>.<digits>" (not the CRL ones, ".r<n>"). */
static int trust_file_name(const char *name) {
    size_t n = strlen(name);
    if (name[0] == '.') return 0;
    if (n > 4) {
        const char *ext = name + n - 4;
        if (strcmp(ext, ".pem") == 0 || strcmp(ext, ".crt") == 0 || strcmp(ext, ".cer") == 0)
            return 1;
    }
    if (n < 10 || name[8] != '.') return 0;
    for (size_t i = 0; i < 8; i++) {
        char ch = name[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return 0;
    }
    for (size_t i = 9; i < n; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return 1;
}

fr_err fr_abi_trust_add_dir(fr_config *cfg, const char *path) {
    FR_ENSURE(path != NULL, FERRULE_R_NULL_ARGUMENT);
    DIR *d = opendir(path);
    FR_ENSURE(d != NULL, NOFILE);
    size_t mark = fr_config_trust_mark(cfg), good = 0;
    fr_err e = FR_OK;
    struct dirent *de;
    char full[PATH_MAX];
    while (e == FR_OK && (de = readdir(d)) != NULL) {
        if (!trust_file_name(de->d_name)) continue;
        int w = snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
        if (w < 0 || (size_t)w >= sizeof(full)) continue;
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue; /* follows links */
        fr_err fe = fr_abi_trust_add_file(cfg, full);
        if (fe == FR_OK)
            good++;
        else if (fr_err_is_resource(fe))
            e = fe; /* unparsable files are skipped; resource failures are not */
    }
    closedir(d);
    if (e == FR_OK && good == 0) e = INVALID;
    if (e != FR_OK) fr_config_trust_rollback(cfg, mark);
    return e;
}

static int exists(const char *path, int want_dir) {
    struct stat st;
    if (path == NULL || path[0] == 0 || stat(path, &st) != 0) return 0;
    return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* Order documented at ferrule_config_add_trust_system (ferrule.h): the
 * first location that exists is used, and only that one.  secure_getenv:
 * a setuid program must not take its anchors from the environment. */
fr_err fr_abi_trust_add_system(fr_config *cfg) {
    const char *env_file = secure_getenv("SSL_CERT_FILE");
    if (exists(env_file, 0)) return fr_abi_trust_add_file(cfg, env_file);
    static const char *const files[] = {"/etc/ssl/certs/ca-certificates.crt",
                                        "/etc/pki/tls/certs/ca-bundle.crt"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (exists(files[i], 0)) return fr_abi_trust_add_file(cfg, files[i]);
    const char *env_dir = secure_getenv("SSL_CERT_DIR");
    if (exists(env_dir, 1)) return fr_abi_trust_add_dir(cfg, env_dir);
    if (exists("/etc/ssl/certs", 1)) return fr_abi_trust_add_dir(cfg, "/etc/ssl/certs");
    return NOFILE;
}
