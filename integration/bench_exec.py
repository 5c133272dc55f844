#!/usr/bin/python3
"""Times `pvd exec NAME -- /bin/true` against `ip netns exec NS /bin/true` and
`nsenter --net=/run/netns/NS /bin/true`, alternated, and writes the medians.

usage: bench_exec.py PVD NAME NAMESPACE RUNS OUTPUT
"""
import statistics
import subprocess
import sys
import time

pvd, name, namespace, runs, output = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
commands = {
    "pvd exec": [pvd, "exec", name, "--", "/bin/true"],
    "ip netns exec": ["ip", "netns", "exec", namespace, "/bin/true"],
    "nsenter --net": ["nsenter", f"--net=/run/netns/{namespace}", "/bin/true"],
}
times = {label: [] for label in commands}
for command in commands.values():  # warm the page cache once
    subprocess.run(command, check=True)
for _ in range(runs):
    for label, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, check=True)
        times[label].append((time.perf_counter() - start) * 1000)
median = {label: statistics.median(values) for label, values in times.items()}
ratio = median["pvd exec"] / median["ip netns exec"]
lines = [f"# Running /bin/true in a domain, {runs} alternated runs each, ms (median | p90 | min)"]
for label, values in times.items():
    ordered = sorted(values)
    lines.append(f"{label}: {median[label]:.2f} | {ordered[int(0.9 * (len(ordered) - 1))]:.2f} | {ordered[0]:.2f}")
lines.append(f"pvd exec / ip netns exec: {ratio:.2f}x")
lines.append(f"goal: pvd exec at most 1.0x ip netns exec: {'met' if ratio <= 1.0 else f'NOT met (by {ratio - 1:.2f}x)'}")
open(output, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
