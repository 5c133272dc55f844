/* A client written against IPv6-mPvD's library calls, built on libpvd: the
 * PvD list (pvd_get_pvd_list_sync), each PvD's attributes
 * (pvd_get_attributes_sync, pvd_get_attribute_sync), and a socket bound to
 * each PvD (sock_bind_to_pvd) that fetches /m-NAME from ADDRESS PORT.
 *
 * usage: mpvd_client ADDRESS PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pvd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    struct sockaddr_in6 server = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET6, argv[1], &server.sin6_addr) != 1) return 2;
    t_pvd_connection *conn = pvd_connect(10101);
    t_pvd_list list;
    if (!conn || pvd_get_pvd_list_sync(conn, &list) != 0) {
        fprintf(stderr, "pvd list: %s\n", pvd_last_error());
        return 1;
    }
    for (int index = 0; index < list.npvd; index++) {
        char *name = list.pvdnames[index], *attributes = NULL, *rdnss = NULL;
        if (pvd_get_attributes_sync(conn, name, &attributes) != 0 || pvd_get_attribute_sync(conn, name, "rdnss", &rdnss) != 0) {
            fprintf(stderr, "%s: attributes: %s\n", name, pvd_last_error());
            return 1;
        }
        printf("%s attributes %s\n%s rdnss %s\n", name, attributes, name, rdnss);
        int s = socket(AF_INET6, SOCK_STREAM, 0);
        if (sock_bind_to_pvd(s, name) != 0) {
            fprintf(stderr, "%s: sock_bind_to_pvd: %s\n", name, pvd_last_error());
            return 1;
        }
        char request[300], answer[512];
        snprintf(request, sizeof request, "GET /m-%s HTTP/1.0\r\n\r\n", name);
        if (connect(s, (struct sockaddr *)&server, sizeof server) != 0 || write(s, request, strlen(request)) < 0) {
            perror(name);
            return 1;
        }
        ssize_t got = read(s, answer, sizeof answer - 1);
        answer[got > 0 ? got : 0] = 0;
        printf("%s fetched %s\n", name, strstr(answer, " 200 ") ? "200" : "nothing");
        close(s);
        free(attributes);
        free(rdnss);
        free(name);
    }
    pvd_disconnect(conn);
    return 0;
}
