#!/usr/bin/python3
"""pvd apply of N static domains, then of none, against the same kernel state
made and removed by an `ip` command script (the ip numbers come from
`pvd-hostnet bench` at the same counts). Removal is one batch in pvdd.

usage: bench_apply.py PVD NAME_PREFIX IP_REPORT OUTPUT COUNT...
"""
import os
import subprocess
import sys
import tempfile
import time

pvd, prefix, ip_report, output = sys.argv[1:5]
counts = [int(n) for n in sys.argv[5:]]
ip = {}
for line in open(ip_report):
    cells = [c.strip() for c in line.split("|")]
    if cells[0].isdigit():
        ip[int(cells[0])] = (float(cells[4].split()[0]), float(cells[5].split()[0]))


def apply(text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as file:
        file.write(text)
    start = time.monotonic()
    subprocess.run([pvd, "apply", file.name], check=True, stdout=subprocess.DEVNULL)
    elapsed = (time.monotonic() - start) * 1000
    os.unlink(file.name)
    return elapsed


lines = ["# pvd apply of N static domains (up), then of none (down: one batch), against an equivalent ip script; total ms",
         "# N | pvd apply up | pvd apply down | ip script up | ip script down | speed-up, up + down"]
for n in counts:
    domains = "".join(
        f'  - {{name: {prefix}a{i}, uplink: up0, addresses: ["2001:db8:{i + 1:x}::5"], routers: ["fe80::11"], '
        f'on_link: ["2001:db8:{i + 1:x}::/64"], dns: ["2001:db8:{i + 1:x}::53"]}}\n' for i in range(n))
    up = apply("domains:\n" + domains + "namespaces: []\nvpns: []\n")
    down = apply("domains: []\nnamespaces: []\nvpns: []\n")
    ip_up, ip_down = ip[n]
    lines.append(f"{n} | {up:.2f} | {down:.2f} | {ip_up:.2f} | {ip_down:.2f} | {(ip_up + ip_down) / (up + down):.2f}x")
    print(lines[-1])
ratio = float(lines[-1].split("|")[-1].strip().rstrip("x"))
lines.append(f"goal: up + down at least 10x the ip script at {counts[-1]} domains: {'met' if ratio >= 10 else f'NOT met ({ratio:.2f}x)'}")
open(output, "w").write("\n".join(lines) + "\n")
