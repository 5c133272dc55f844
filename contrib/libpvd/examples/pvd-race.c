/* pvd-race HOST PORT [DOMAIN...]: happy eyeballs across provisioning
 * domains. HOST is resolved in every domain (the ones named, or every
 * domain pvdd has that does not say noInternet), a TCP connection is started
 * to each answer, 250 ms apart (RFC 8305's connection attempt delay), and
 * the first to connect wins: its domain and address are printed, the others
 * closed. Exit status 0 when one connected, 1 when none did. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pvd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXIMUM 32

struct attempt {
    const char *domain;
    char address[INET6_ADDRSTRLEN];
    struct sockaddr_storage target;
    socklen_t length;
    int fd;
};

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: pvd-race HOST PORT [DOMAIN...]\n");
        return 2;
    }
    const char *domains[MAXIMUM];
    int count = 0;
    struct pvd_domain *all = NULL;
    size_t known = 0;
    if (argc > 3) {
        for (int index = 3; index < argc && count < MAXIMUM; index++) domains[count++] = argv[index];
    } else {
        if (pvd_list(&all, &known) < 0) {
            fprintf(stderr, "pvd-race: %s\n", pvd_last_error());
            return 1;
        }
        for (size_t index = 0; index < known && count < MAXIMUM; index++) {
            if (!(all[index].flags & PVD_FLAG_NO_INTERNET)) domains[count++] = all[index].name;
        }
    }
    struct attempt attempts[MAXIMUM];
    int ready = 0;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    for (int index = 0; index < count; index++) {
        struct addrinfo *answers = NULL;
        int status = pvd_getaddrinfo(domains[index], argv[1], argv[2], &hints, &answers);
        if (status != 0) {
            fprintf(stderr, "pvd-race: %s: %s\n", domains[index], status == EAI_SYSTEM ? pvd_last_error() : gai_strerror(status));
            continue;
        }
        struct attempt *attempt = &attempts[ready++];
        attempt->domain = domains[index];
        attempt->fd = -1;
        memcpy(&attempt->target, answers->ai_addr, answers->ai_addrlen);
        attempt->length = answers->ai_addrlen;
        const void *bytes = answers->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)answers->ai_addr)->sin_addr
                                                          : (void *)&((struct sockaddr_in6 *)answers->ai_addr)->sin6_addr;
        inet_ntop(answers->ai_family, bytes, attempt->address, sizeof attempt->address);
        pvd_freeaddrinfo(answers);
    }
    struct pollfd polled[MAXIMUM];
    int started = 0, winner = -1, open_attempts = 0;
    while (winner < 0 && (started < ready || open_attempts > 0)) {
        if (started < ready) {
            struct attempt *attempt = &attempts[started++];
            attempt->fd = pvd_socket(attempt->domain, attempt->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (attempt->fd < 0) {
                fprintf(stderr, "pvd-race: %s: %s\n", attempt->domain, pvd_last_error());
            } else if (connect(attempt->fd, (struct sockaddr *)&attempt->target, attempt->length) < 0 && errno != EINPROGRESS) {
                fprintf(stderr, "pvd-race: %s: connect to %s: %s\n", attempt->domain, attempt->address, strerror(errno));
                close(attempt->fd);
                attempt->fd = -1;
            } else {
                open_attempts++;
            }
        }
        int polledCount = 0;
        for (int index = 0; index < started; index++) {
            if (attempts[index].fd >= 0) polled[polledCount++] = (struct pollfd){.fd = attempts[index].fd, .events = POLLOUT};
        }
        if (polledCount == 0) continue;
        if (poll(polled, polledCount, started < ready ? 250 : 10000) <= 0 && started >= ready) break;
        for (int index = 0; index < started && winner < 0; index++) {
            struct attempt *attempt = &attempts[index];
            if (attempt->fd < 0) continue;
            struct pollfd probe = {.fd = attempt->fd, .events = POLLOUT};
            if (poll(&probe, 1, 0) <= 0) continue;
            int problem = 0;
            socklen_t length = sizeof problem;
            getsockopt(attempt->fd, SOL_SOCKET, SO_ERROR, &problem, &length);
            if (problem == 0) {
                winner = index;
            } else {
                fprintf(stderr, "pvd-race: %s: connect to %s: %s\n", attempt->domain, attempt->address, strerror(problem));
                close(attempt->fd);
                attempt->fd = -1;
                open_attempts--;
            }
        }
    }
    for (int index = 0; index < started; index++) {
        if (attempts[index].fd >= 0) close(attempts[index].fd);
    }
    if (winner >= 0) printf("%s %s\n", attempts[winner].domain, attempts[winner].address);
    pvd_list_free(all, known);
    return winner >= 0 ? 0 : 1;
}
