#!/usr/bin/python3
"""Floods a link with PvD RAs: each from a random link-local source (and MAC),
for a random PvD ID with a random prefix, RATE per second for SECONDS. Frames
are built first (POOL distinct ones) and sent through a raw socket.

usage: flood_ras.py IFACE SECONDS RATE
"""
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scapy_ra import pvd_option  # noqa: E402
from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, IPv6  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

iface, seconds, rate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
POOL = 3000
random.seed(8801)
frames = []
for _ in range(POOL):
    mac = "02:" + ":".join(f"{random.randrange(256):02x}" for _ in range(5))
    source = "fe80::" + ":".join(f"{random.randrange(65536):x}" for _ in range(4))
    prefix = "2001:db8:%x:%x::" % (random.randrange(65536), random.randrange(65536))
    pvd = pvd_option(f"flood{random.randrange(10**9)}.example", random.randrange(65536),
                     nested=bytes(ICMPv6NDOptPrefixInfo(prefix=prefix, prefixlen=64)))
    frames.append(bytes(Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=source, dst="ff02::1", hlim=255)
                        / ICMPv6ND_RA(routerlifetime=1800) / Raw(pvd)))
link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
link.bind((iface, 0))
sent = 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    # Bursts of rate/100 frames every 10 ms.
    for _ in range(max(1, rate // 100)):
        link.send(frames[sent % POOL])
        sent += 1
    time.sleep(max(0.0, start + sent / rate - time.monotonic()))
print(f"sent {sent} RAs in {time.monotonic() - start:.1f} s")
