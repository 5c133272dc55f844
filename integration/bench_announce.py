#!/usr/bin/python3
"""Sends one RA for each of COUNT PvDs (bench-pvdN.example, each its own
/64, router lifetime 1800 s), paced under pvdd's per-router rate limit.
Run inside the router's namespace.

usage: bench_announce.py IFACE COUNT
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scapy_ra import frame  # noqa: E402

iface, count = sys.argv[1], int(sys.argv[2])
link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
link.bind((iface, 0))
for index in range(count):
    link.send(frame(iface, f"bench-pvd{index}.example", 1, f"2001:db8:{0x4000 + index:x}::/64", "2001:db8:1::53", http=False))
    time.sleep(0.15)
