#!/usr/bin/python3
"""Builds and sends Router Advertisements with an RFC 8801 PvD option using
scapy (Debian's python3-scapy 2.5, which has no PvD option of its own).

As a module: pvd_option() packs the option header by hand from RFC 8801 §3.1,
with the PvD ID from scapy's dns_encode and nested options from scapy's builders.

As a program, inside the router's namespace:
  scapy_ra.py send IFACE PVD_ID SEQ PREFIX/LEN RDNSS[,RDNSS…] [--count N]
      [--router-lifetime S] [--valid S] [--preferred S] [--interval S]
      [--dnssl NAME[,NAME…]]
sends N RAs (default 1) carrying that PvD with a PIO, an RDNSS option (its
servers in the order given) and optionally a DNSSL option, from IFACE's
link-local address to ff02::1.
"""
import argparse
import ipaddress
import struct
import sys
import time

from scapy.layers.dns import dns_encode


def pvd_option(pvd_id, seq, h=False, l=False, delay=0, ra_header=None, nested=b""):
    """The PvD option bytes: flags, sequence, PvD ID, zero padding to 8 octets,
    the RA header when given (R flag), then the nested options."""
    flags = (0x8000 if h else 0) | (0x4000 if l else 0) | (0x2000 if ra_header else 0) | delay
    body = struct.pack("!HH", flags, seq) + dns_encode(pvd_id.encode())
    body += b"\0" * ((8 - (len(body) + 2) % 8) % 8)
    if ra_header:
        body += ra_header
    body += nested
    assert (len(body) + 2) % 8 == 0
    return bytes([21, (len(body) + 2) // 8]) + body


def wait_for_link_local(iface, timeout=3.0):
    """The interface's link-local address; a link that just came up may take
    up to a second (the kernel's linkwatch delay) to get one."""
    deadline = time.monotonic() + timeout
    while True:
        for fields in map(str.split, open("/proc/net/if_inet6")):
            if fields[5] == iface and fields[0].startswith("fe80"):
                return str(ipaddress.IPv6Address(bytes.fromhex(fields[0])))
        if time.monotonic() > deadline:
            sys.exit(f"{iface} has no link-local address")
        time.sleep(0.05)


def frame(iface, pvd_id, seq, prefix, rdnss, router_lifetime=1800, valid=3600, preferred=1800, http=True, delay=1,
          legacy=False, dnssl=()):
    """The Ethernet frame of one PvD RA from IFACE's link-local address to
    ff02::1; RDNSS is one address or a comma-separated list."""
    from scapy.arch import get_if_hwaddr
    from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptDNSSL, ICMPv6NDOptPrefixInfo, ICMPv6NDOptRDNSS, IPv6
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    link_local = wait_for_link_local(iface)
    address, length = prefix.split("/")
    nested = (bytes(ICMPv6NDOptPrefixInfo(prefix=address, prefixlen=int(length), validlifetime=valid,
                                          preferredlifetime=min(preferred, valid)))
              + bytes(ICMPv6NDOptRDNSS(dns=rdnss.split(","), lifetime=min(600, valid))))
    if dnssl:
        nested += bytes(ICMPv6NDOptDNSSL(searchlist=list(dnssl), lifetime=min(600, valid)))
    return bytes(Ether(src=get_if_hwaddr(iface), dst="33:33:00:00:00:01")
                 / IPv6(src=link_local, dst="ff02::1", hlim=255)
                 / ICMPv6ND_RA(routerlifetime=router_lifetime, prf=0)
                 / Raw(pvd_option(pvd_id, seq, h=http, l=legacy, delay=delay, nested=nested)))


def send(iface, pvd_id, seq, prefix, rdnss, count=1, router_lifetime=1800, valid=3600, preferred=1800, interval=0.0,
         http=True, delay=1, legacy=False, dnssl=()):
    from scapy.packet import Raw
    from scapy.sendrecv import sendp

    sendp(Raw(frame(iface, pvd_id, seq, prefix, rdnss, router_lifetime, valid, preferred, http, delay, legacy, dnssl)), iface=iface,
          count=count, inter=interval, verbose=False)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "send":
        sys.exit(__doc__)
    parser = argparse.ArgumentParser(prog="scapy_ra.py send", description="Send PvD RAs.")
    for name in ("iface", "pvd_id"):
        parser.add_argument(name)
    parser.add_argument("seq", type=int)
    parser.add_argument("prefix")
    parser.add_argument("rdnss")
    for option, default in (("--count", 1), ("--router-lifetime", 1800), ("--valid", 3600), ("--preferred", 1800)):
        parser.add_argument(option, type=int, default=default)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--delay", type=int, default=1, help="the PvD option's Delay (0-15)")
    parser.add_argument("--no-http", dest="http", action="store_false", help="clear the H flag")
    parser.add_argument("--legacy", action="store_true", help="set the L flag (IPv4 through DHCPv4 here)")
    parser.add_argument("--dnssl", default="", help="search domains, comma-separated, in this order")
    args = parser.parse_args(sys.argv[2:])
    send(args.iface, args.pvd_id, args.seq, args.prefix, args.rdnss, args.count, args.router_lifetime,
         args.valid, args.preferred, args.interval, args.http, args.delay, args.legacy,
         [name for name in args.dnssl.split(",") if name])
