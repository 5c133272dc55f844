/* What choosing a domain per socket costs: RUNS sockets made in DOMAIN
 * through libpvd (pvdd's OpenSocket over the bus), against the same number
 * made by this process itself after setns into the domain's namespace and
 * back (what a root program can do on its own). Alternated in rounds of
 * 100; writes medians per socket and their ratio to OUTPUT.
 *
 * usage: bench_opensocket DOMAIN NAMESPACE RUNS OUTPUT (as root) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pvd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec clock;
    clock_gettime(CLOCK_MONOTONIC, &clock);
    return clock.tv_sec + clock.tv_nsec / 1e9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    int runs = atoi(argv[3]), rounds = runs / 100;
    char path[512];
    snprintf(path, sizeof path, "/run/netns/%s", argv[2]);
    int domain = open(path, O_RDONLY | O_CLOEXEC), home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (domain < 0 || home < 0 || rounds < 1) return 1;
    double *bus = calloc(rounds, sizeof *bus), *direct = calloc(rounds, sizeof *direct);
    for (int round = 0; round < rounds; round++) {
        double start = now();
        for (int index = 0; index < 100; index++) {
            int fd = pvd_socket(argv[1], AF_INET6, SOCK_DGRAM, 0);
            if (fd < 0) {
                fprintf(stderr, "pvd_socket: %s\n", pvd_last_error());
                return 1;
            }
            close(fd);
        }
        bus[round] = (now() - start) / 100;
        start = now();
        for (int index = 0; index < 100; index++) {
            if (setns(domain, CLONE_NEWNET) != 0) return 1;
            int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (setns(home, CLONE_NEWNET) != 0 || fd < 0) return 1;
            close(fd);
        }
        direct[round] = (now() - start) / 100;
    }
    qsort(bus, rounds, sizeof *bus, compare);
    qsort(direct, rounds, sizeof *direct, compare);
    FILE *out = fopen(argv[4], "w");
    if (!out) return 1;
    fprintf(out, "# a UDP socket in a domain: libpvd's pvd_socket (org.pvd1 OpenSocket through dbus-daemon) against setns,\n");
    fprintf(out, "# socket and setns back in the caller (root only); medians of %d rounds of 100, microseconds per socket\n", rounds);
    fprintf(out, "pvd_socket: %.1f\nsetns+socket: %.1f\nratio: %.1f\n", bus[rounds / 2] * 1e6, direct[rounds / 2] * 1e6,
            bus[rounds / 2] / direct[rounds / 2]);
    fclose(out);
    return 0;
}
