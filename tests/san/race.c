/* Self-check of `make check-tsan` (docs/sanitizers.md): two threads write
 * one plain int with nothing ordering the writes, a data race.  Built with
 * the suite's flags and run under its TSAN_OPTIONS, this program must die
 * with "ThreadSanitizer: data race"; if it exits 0, the TSan build is not
 * instrumenting (or not halting) and a clean check-tsan would prove
 * nothing. */
#include <pthread.h>
#include <stdio.h>

static int g_counter;

static void *bump(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) g_counter++;
    return NULL;
}

int main(void) {
    pthread_t a, b;
    if (pthread_create(&a, NULL, bump, NULL) != 0 || pthread_create(&b, NULL, bump, NULL) != 0) {
        perror("pthread_create");
        return 2;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("not reported: %d\n", g_counter);
    return 0;
}
