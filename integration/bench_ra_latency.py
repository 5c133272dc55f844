#!/usr/bin/python3
"""Time from a PvD RA leaving a router to its domain being usable on the
host, over RUNS fresh PvD IDs, measured by packets: a prober on the host
waits for the domain's namespace, enters it and sends a UDP datagram every
0.1 ms (the kernel refuses them until the domain has its address and
routes); the router takes the time when the first one arrives. Run inside the router's namespace, with
pvdd running in HOST_NS (with --grace-period 0, so each withdrawn domain
goes at once). DAD is not included.

usage: bench_ra_latency.py IFACE HOST_NS RUNS OUTPUT
"""
import ipaddress
import os
import select
import socket
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scapy_ra import frame  # noqa: E402

PROBER = r'''
import ctypes, os, socket, sys, time
namespace = sys.argv[1]
libc = ctypes.CDLL("libc.so.6", use_errno=True)
print("ready", flush=True)
deadline = time.monotonic() + 5
while True:
    try:
        fd = os.open(namespace, os.O_RDONLY)
        entered = libc.setns(fd, 0x40000000) == 0
        os.close(fd)
        if entered:
            break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("no namespace " + namespace)
    time.sleep(0.0001)
probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
while time.monotonic() < deadline:
    try:
        probe.sendto(b"pvd-bench", ("2001:db8:ffff::1", 9))
    except OSError:
        pass
    time.sleep(0.0001)
'''

iface, host_namespace, runs, output = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
link.bind((iface, 0))


def first_probe(prefix, start, limit=5.0):
    """Seconds from start to the first probe datagram from inside `prefix`."""
    while time.monotonic() - start < limit:
        ready, _, _ = select.select([link], [], [], 0.05)
        if not ready:
            continue
        packet = link.recv(2048)
        arrived = time.monotonic()
        if len(packet) < 14 + 40 + 8 or packet[14 + 6] != 17:
            continue
        source = ipaddress.IPv6Address(packet[14 + 8:14 + 24])
        port = struct.unpack("!H", packet[14 + 40 + 2:14 + 40 + 4])[0]
        if port == 9 and source in prefix:
            return arrived - start
    return None


packets = []
PACE = 0.25  # two RAs per run from one router, under pvdd's per-source limit of 10 RAs/s
for run in range(runs):
    pvd_id = f"bench{run}.example"
    resolv = f"/etc/netns/pvd-{pvd_id}/resolv.conf"
    prefix = ipaddress.IPv6Network(f"2001:db8:{0x1000 + run:x}::/64")
    announce = frame(iface, pvd_id, 1, str(prefix), "2001:db8:1::53")
    withdraw = frame(iface, pvd_id, 1, str(prefix), "2001:db8:1::53", router_lifetime=0, valid=0, preferred=0)
    prober = subprocess.Popen(["nsenter", f"--net=/run/netns/{host_namespace}", "/usr/bin/python3", "-c", PROBER, f"/run/netns/pvd-{pvd_id}"],
                              stdout=subprocess.PIPE, text=True)
    prober.stdout.readline()
    while link in select.select([link], [], [], 0)[0]:
        link.recv(2048)  # what came before this run
    start = time.monotonic()
    link.send(announce)
    seconds = first_probe(prefix, start)
    prober.kill()
    prober.wait()
    if seconds is None:
        sys.exit(f"run {run}: no packet from {pvd_id} within 5 s")
    packets.append(seconds * 1000)
    link.send(withdraw)
    while os.path.exists(resolv):
        if time.monotonic() - start > 10:
            sys.exit(f"run {run}: {pvd_id} was not removed")
        time.sleep(0.001)
    time.sleep(max(0.0, PACE - (time.monotonic() - start)))


def summary(values):
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(round(0.99 * len(values))) - 1)]
    return f"median {statistics.median(values):.2f} | p99 {p99:.2f} | min {values[0]:.2f} | max {values[-1]:.2f}"


median = statistics.median(packets)
report = (f"# RA to usable domain (pvdd, routed attachment, DAD excluded), {runs} runs, ms:\n"
          f"# from the RA leaving the router to the first packet from inside the domain arriving there\n"
          f"{summary(packets)}\n"
          f"goal: median at most 2 ms: {'met' if median <= 2 else f'NOT met (by {median - 2:.2f} ms)'}\n")
open(output, "w").write(report)
print(report, end="")
