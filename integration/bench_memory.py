#!/usr/bin/python3
"""pvdd's resident memory (VmRSS): as told for idle and with 50 domains by
the caller, then after EXECS `pvd exec DOMAIN -- /bin/true` runs and after
CALLS org.pvd1 calls (ListDomains, then GetAll of a domain's properties,
alternated) from one client. Appends the report to OUTPUT.

usage: bench_memory.py PID PVD DOMAIN EXECS CALLS IDLE_KIB DOMAINS_KIB DOMAINS OUTPUT
"""
import subprocess
import sys

import dbus

pid, pvd, domain = int(sys.argv[1]), sys.argv[2], sys.argv[3]
execs, calls, idle, loaded, domains, output = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]


def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    sys.exit(f"pvdd {pid} is gone")


for _ in range(execs):
    subprocess.run([pvd, "exec", "--quiet", domain, "--", "/bin/true"], check=True)
after_execs = rss_kib()
bus = dbus.SystemBus()
manager = dbus.Interface(bus.get_object("org.pvd1", "/org/pvd1"), "org.pvd1.Manager")
paths = [str(path) for _, _, path in manager.ListDomains()]
for index in range(calls):
    if index % 2 == 0:
        manager.ListDomains()
    else:
        domain_object = bus.get_object("org.pvd1", paths[index % len(paths)])
        domain_object.GetAll("org.pvd1.Domain", dbus_interface="org.freedesktop.DBus.Properties")
after_calls = rss_kib()
mib = lambda kib: kib / 1024  # noqa: E731
growth = (max(after_execs, after_calls) - loaded) / loaded * 100
lines = [
    "# pvdd's resident memory (VmRSS, release build as packaged), MiB",
    f"idle (no domain): {mib(idle):.1f}  goal at most 12 MiB: {'met' if mib(idle) <= 12 else 'NOT met'}",
    f"with {domains} domains: {mib(loaded):.1f}  goal at most 16 MiB: {'met' if mib(loaded) <= 16 else 'NOT met'}",
    f"after {execs} pvd exec: {mib(after_execs):.1f}",
    f"after {calls} bus calls: {mib(after_calls):.1f}",
    f"growth over the {domains}-domain figure: {growth:+.1f} %  goal flat (within 5 %): {'met' if abs(growth) <= 5 else 'NOT met'}",
]
open(output, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
