#!/usr/bin/python3
"""The Python side of pvd_aware_client.c, through the pvd module: for each
DOMAIN at once, a TCP connection to HOST TCPPORT (resolved by the domain's
DNS) kept open while the next is made, then "GET /py-DOMAIN" on each, and
"py-DOMAIN" sent by UDP to UDPPORT. Exit status 1 with the error on the
first failure; with --hold, waits for stdin to close before closing.

usage: pvd_aware_client.py [--hold] HOST TCPPORT UDPPORT DOMAIN...
"""
import socket
import sys

import pvd

arguments = sys.argv[1:]
hold = arguments[0] == "--hold"
if hold:
    arguments = arguments[1:]
host, tcp_port, udp_port, domains = arguments[0], int(arguments[1]), int(arguments[2]), arguments[3:]
try:
    streams = []
    for domain in domains:
        streams.append(pvd.create_connection(domain, (host, tcp_port), timeout=10))
        print(domain, "tcp connected", flush=True)
        family, kind, proto, _, address = pvd.getaddrinfo(domain, host, udp_port, type=socket.SOCK_DGRAM)[0]
        with pvd.socket(domain, family, kind, proto) as datagram:
            datagram.sendto(("py-" + domain).encode(), address)
        print(domain, "udp sent", flush=True)
    for domain, stream in zip(domains, streams):
        stream.sendall(("GET /py-%s HTTP/1.0\r\n\r\n" % domain).encode())
        if b" 200 " not in stream.recv(512):
            sys.exit("%s: no 200 answer" % domain)
        print(domain, "tcp answered", flush=True)
    if hold:
        sys.stdin.read()
    for stream in streams:
        stream.close()
except OSError as error:
    sys.exit("%s" % error)
