/* https_get.c - fetch https://HOST:PORT/ over a blocking socket, with
 * ferrule's callback I/O.  Usage: https_get HOST PORT CA.pem */
#include <ferrule.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long tx(void *fd, const uint8_t *p, size_t n) {
    long r = (long)send(*(int *)fd, p, n, MSG_NOSIGNAL);
    return r >= 0 ? r : FERRULE_IO_ERROR;
}
static long rx(void *fd, uint8_t *p, size_t n) {
    long r = (long)recv(*(int *)fd, p, n, 0);
    return r >= 0 ? r : FERRULE_IO_ERROR;
}

int main(int argc, char **argv) {
    struct addrinfo *ai, hints = {.ai_socktype = SOCK_STREAM};
    if (argc != 4 || getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) return 2;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) return 2;
    freeaddrinfo(ai);

    ferrule_config *cfg = NULL;
    ferrule_conn *conn = NULL;
    ferrule_conn_options o = {.struct_size = sizeof(o), .server_name = argv[1]};
    ferrule_io_callbacks io = {.struct_size = sizeof(io), .send = tx, .recv = rx, .ctx = &fd};
    int st = ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL);
    if (st == FERRULE_OK) st = ferrule_config_add_trust_file(cfg, argv[3]);
    if (st == FERRULE_OK) st = ferrule_conn_new(&conn, cfg, &o);
    if (st == FERRULE_OK) st = ferrule_conn_set_io(conn, &io);
    if (st == FERRULE_OK) st = ferrule_conn_handshake(conn);

    char req[512];
    size_t n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", argv[1]);
    if (st == FERRULE_OK) st = ferrule_conn_write(conn, (const uint8_t *)req, n, &n);
    uint8_t buf[4096];
    while (st == FERRULE_OK && (st = ferrule_conn_read(conn, buf, sizeof buf, &n)) == FERRULE_OK)
        fwrite(buf, 1, n, stdout);
    if (st == FERRULE_CLOSED) {
        st = ferrule_conn_close(conn); /* answer close_notify, best effort */
        st = FERRULE_OK;
    } else {
        fprintf(stderr, "https_get: %s\n", ferrule_conn_error_message(conn));
    }

    ferrule_conn_free(conn);
    ferrule_config_free(cfg);
    close(fd);
    return st == FERRULE_OK ? 0 : 1;
}
