/* A PvD-aware program for the tests, through libpvd: for each DOMAIN at
 * once, HOST is resolved by the domain's DNS (pvd_getaddrinfo), a TCP
 * connection to TCPPORT is opened (pvd_socket) and kept while the next
 * domain's is made; then each sends "GET /c-DOMAIN" and reads the answer,
 * and a UDP socket of each domain sends "c-DOMAIN" to UDPPORT. Prints a
 * line per step; exit status 1 with libpvd's words on the first failure.
 *
 * usage: pvd_aware_client HOST TCPPORT UDPPORT DOMAIN... */
#define _GNU_SOURCE
#include <pvd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXIMUM 8

static int fail(const char *domain, const char *what) {
    fprintf(stderr, "%s: %s: %s\n", domain, what, pvd_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc - 4 > MAXIMUM) {
        fprintf(stderr, "usage: pvd_aware_client HOST TCPPORT UDPPORT DOMAIN...\n");
        return 2;
    }
    int streams[MAXIMUM];
    int count = argc - 4;
    for (int index = 0; index < count; index++) {
        const char *domain = argv[4 + index];
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *answer = NULL;
        int status = pvd_getaddrinfo(domain, argv[1], argv[2], &hints, &answer);
        if (status != 0) {
            fprintf(stderr, "%s: resolve %s: %s\n", domain, argv[1], status == EAI_SYSTEM ? pvd_last_error() : gai_strerror(status));
            return 1;
        }
        streams[index] = pvd_socket(domain, answer->ai_family, SOCK_STREAM, 0);
        if (streams[index] < 0) return fail(domain, "tcp socket");
        if (connect(streams[index], answer->ai_addr, answer->ai_addrlen) < 0) {
            perror("connect");
            return 1;
        }
        printf("%s tcp connected\n", domain);
        int datagram = pvd_socket(domain, answer->ai_family, SOCK_DGRAM, 0);
        if (datagram < 0) return fail(domain, "udp socket");
        char message[128];
        snprintf(message, sizeof message, "c-%s", domain);
        struct addrinfo *udp = NULL, udpHints = {.ai_socktype = SOCK_DGRAM, .ai_family = answer->ai_family};
        if (pvd_getaddrinfo(domain, argv[1], argv[3], &udpHints, &udp) != 0) return fail(domain, "resolve for udp");
        if (sendto(datagram, message, strlen(message), 0, udp->ai_addr, udp->ai_addrlen) < 0) {
            perror("sendto");
            return 1;
        }
        printf("%s udp sent\n", domain);
        close(datagram);
        pvd_freeaddrinfo(udp);
        pvd_freeaddrinfo(answer);
    }
    for (int index = 0; index < count; index++) {
        char request[256], answer[512];
        snprintf(request, sizeof request, "GET /c-%s HTTP/1.0\r\n\r\n", argv[4 + index]);
        if (write(streams[index], request, strlen(request)) < 0) {
            perror("write");
            return 1;
        }
        ssize_t got = read(streams[index], answer, sizeof answer - 1);
        answer[got > 0 ? got : 0] = 0;
        if (!strstr(answer, " 200 ")) {
            fprintf(stderr, "%s: no 200 answer: %s\n", argv[4 + index], answer);
            return 1;
        }
        printf("%s tcp answered\n", argv[4 + index]);
        close(streams[index]);
    }
    return 0;
}
