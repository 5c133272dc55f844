#!/usr/bin/python3
"""A tiny DNS responder for tests: answers every query for NAME (or, when
NAME is *.SUFFIX, for any name under SUFFIX) of ADDRESS's type (AAAA for an
IPv6 address, A for IPv4) with ADDRESS, a known name of the other type with
no answer, anything else with NXDOMAIN, on [BIND]:53 (UDP). Logs each query.

usage: dns_responder.py BIND NAME ADDRESS [NAME ADDRESS]...
"""
import socket
import sys

from scapy.layers.dns import DNS, DNSRR

bind = sys.argv[1]
records = list(zip(sys.argv[2::2], sys.argv[3::2]))


def matches(name, question):
    return question == name or (name.startswith("*.") and question.endswith(name[1:]))


sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
sock.bind((bind, 53))
print(f"listening on [{bind}]:53", flush=True)
while True:
    data, peer = sock.recvfrom(4096)
    try:
        query = DNS(data)
        question = query.qd.qname.decode().rstrip(".")
        qtype = query.qd.qtype
    except Exception as error:  # a malformed query is logged and dropped
        print(f"bad query from {peer[0]}: {error}", flush=True)
        continue
    print(f"query {question} type {qtype} from {peer[0]}", flush=True)
    known = [address for name, address in records if matches(name, question)]
    answers = [a for a in known if (qtype == 28 and ":" in a) or (qtype == 1 and ":" not in a)]
    if answers:
        reply = DNS(id=query.id, qr=1, aa=1, rd=query.rd, ra=1, qd=query.qd,
                    an=DNSRR(rrname=query.qd.qname, type="AAAA" if qtype == 28 else "A", ttl=60, rdata=answers[0]))
    else:
        reply = DNS(id=query.id, qr=1, aa=1, rd=query.rd, ra=1, qd=query.qd, rcode=0 if known else 3)
    sock.sendto(bytes(reply), peer)
