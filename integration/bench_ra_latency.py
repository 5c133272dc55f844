#!/usr/bin/python3
"""Time from a PvD RA leaving a router to its domain being usable on the host
(address, routes and resolv.conf in place; resolv.conf is the last thing
HostNet writes), over RUNS fresh PvD IDs. Run inside the router's namespace,
with pvdd running in the host's (with --grace-period 0, so each withdrawn
domain goes at once). Prints one line of results; DAD is not included.

usage: bench_ra_latency.py IFACE RUNS OUTPUT
"""
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scapy_ra import frame  # noqa: E402

iface, runs, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# Frames are built before the clock starts; a raw socket sends each in microseconds.
link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
link.bind((iface, 0))
latencies = []
# Two RAs per run from one router: at 4 runs a second, that stays under pvdd's
# per-source rate limit (10 RAs/s), which would otherwise drop some.
PACE = 0.25
for run in range(runs):
    pvd_id = f"bench{run}.example"
    resolv = f"/etc/netns/pvd-{pvd_id}/resolv.conf"
    prefix = f"2001:db8:{0x1000 + run:x}::/64"
    announce = frame(iface, pvd_id, 1, prefix, "2001:db8:1::53")
    withdraw = frame(iface, pvd_id, 1, prefix, "2001:db8:1::53", router_lifetime=0, valid=0, preferred=0)
    start = time.monotonic()
    link.send(announce)
    while not os.path.exists(resolv):
        if time.monotonic() - start > 5:
            sys.exit(f"run {run}: {pvd_id} was not usable after 5 s")
        time.sleep(0.0002)
    latencies.append((time.monotonic() - start) * 1000)
    # Withdraw it, so the table never holds more than a few bench domains.
    link.send(withdraw)
    while os.path.exists(resolv):
        if time.monotonic() - start > 10:
            sys.exit(f"run {run}: {pvd_id} was not removed")
        time.sleep(0.001)
    time.sleep(max(0.0, PACE - (time.monotonic() - start)))

latencies.sort()
p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]
report = (f"# RA to usable domain (pvdd, routed attachment, DAD excluded), {runs} runs, ms\n"
          f"median {statistics.median(latencies):.2f} | p99 {p99:.2f} | min {latencies[0]:.2f} | max {latencies[-1]:.2f}\n"
          f"goal: median under 20 ms: {'met' if statistics.median(latencies) < 20 else 'NOT met'}\n")
open(output, "w").write(report)
print(report, end="")
