/*
 * main.c - `ferrule` command dispatch: client, server, help, --version.
 */
#include "cli.h"

#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: ferrule <command> [options]\n"
          "\n"
          "commands:\n"
          "  client HOST:PORT ...   connect to a TLS 1.3 server\n"
          "  server --accept ...    run a TLS 1.3 server\n"
          "  help [client|server]   show help\n"
          "  version                show the version (also --version)\n"
          "\n"
          "Run 'ferrule client --help' or 'ferrule server --help' for the options.\n",
          f);
}

static int version(void)
{
    printf("ferrule %d.%d.%d (library %s), TLS 1.3 only\n", FERRULE_VERSION_MAJOR,
           FERRULE_VERSION_MINOR, FERRULE_VERSION_PATCH, ferrule_version_string());
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "client") == 0) return cli_client_main(argc - 1, argv + 1);
    if (strcmp(cmd, "server") == 0) return cli_server_main(argc - 1, argv + 1);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0)
        return version();
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2 && strcmp(argv[2], "client") == 0)
            cli_client_usage(stdout);
        else if (argc > 2 && strcmp(argv[2], "server") == 0)
            cli_server_usage(stdout);
        else if (argc > 2) {
            fprintf(stderr, "ferrule: no help for '%s'\n", argv[2]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        } else
            usage(stdout);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "ferrule: unknown command '%s'\n", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
