/*
 * replay.c - a plain main() that runs one fuzz target over files, so that
 * the committed corpus and every crasher ever found are replayed by ctest
 * in the normal and the sanitizer builds (no libFuzzer needed).
 *
 *   replay_<target> [--target NAME] [--optional] PATH... [--optional PATH...]
 *
 * Each PATH is a file or a directory (its regular files, sorted, one level).
 * A missing PATH is skipped with a note, or is an error when the
 * environment has CI=true (so a corpus lost from the tree fails CI); paths
 * after --optional (the crasher directories, which exist only for targets
 * that ever crashed) may be missing even then.  A
 * crash or a failed invariant aborts the process, which is the failure.
 * Prints "<target>: N passed, 0 failed".
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional hook some harnesses define (libFuzzer calls it once). */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *target = "fuzz";
static unsigned long passed, failed;

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open %s: %s\n", target, path, strerror(errno));
        failed++;
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        failed++;
        return -1;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                failed++;
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0) break;
        len += got;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "%s: read error on %s\n", target, path);
        free(buf);
        failed++;
        return -1;
    }
    /* An exact-size heap copy, so ASan sees any read past the input. */
    uint8_t *exact = malloc(len > 0 ? len : 1);
    if (exact == NULL) {
        free(buf);
        failed++;
        return -1;
    }
    if (len > 0) memcpy(exact, buf, len);
    free(buf);
    if (getenv("FUZZ_REPLAY_VERBOSE") != NULL) fprintf(stderr, "%s: %s\n", target, path);
    (void)LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    passed++;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: cannot open %s: %s\n", target, dir, strerror(errno));
        failed++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ., .., .gitkeep, editor files */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (nn == NULL) break;
            names = nn;
        }
        size_t l = strlen(dir) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(l);
        if (names[n] == NULL) break;
        snprintf(names[n], l, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0) qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) (void)run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv) {
    int first = 1;
    if (argc >= 3 && strcmp(argv[1], "--target") == 0) {
        target = argv[2];
        first = 3;
    }
    if (LLVMFuzzerInitialize != NULL) (void)LLVMFuzzerInitialize(&argc, &argv);
    const char *ci = getenv("CI");
    int strict = ci != NULL && strcmp(ci, "true") == 0;
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--target NAME] PATH...\n", argv[0]);
        return 2;
    }
    int optional = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--optional") == 0) {
            optional = 1;
            continue;
        }
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            if (strict && !optional) {
                fprintf(stderr, "%s: missing %s (CI=true)\n", target, argv[i]);
                failed++;
            } else {
                fprintf(stderr, "%s: note: %s does not exist, skipped\n", target, argv[i]);
            }
            continue;
        }
        if (S_ISDIR(st.st_mode))
            run_dir(argv[i]);
        else
            (void)run_file(argv[i]);
    }
    printf("%s: %lu passed, %lu failed\n", target, passed, failed);
    return failed == 0 ? 0 : 1;
}
