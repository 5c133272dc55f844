#!/usr/bin/python3
"""How long pvdd's loop is held while domains are added: a client pings
pvdd (org.freedesktop.DBus.Peer.Ping, answered by pvdd's loop) every
millisecond while COMMAND runs; reports the worst and the 99th percentile
reply time, against the goal of 10 ms. Appends one line to OUTPUT.

usage: bench_bus_turns.py LABEL OUTPUT COMMAND…
"""
import subprocess
import sys
import threading
import time

import dbus

label, output, command = sys.argv[1], sys.argv[2], sys.argv[3:]
peer = dbus.Interface(dbus.SystemBus().get_object("org.pvd1", "/org/pvd1"), "org.freedesktop.DBus.Peer")
replies = []
done = threading.Event()


def ping():
    while not done.is_set():
        start = time.monotonic()
        peer.Ping()
        replies.append((time.monotonic() - start) * 1000)
        time.sleep(0.001)


pinger = threading.Thread(target=ping)
pinger.start()
time.sleep(0.2)
start = time.monotonic()
subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
elapsed = (time.monotonic() - start) * 1000
time.sleep(0.2)
done.set()
pinger.join()
replies.sort()
worst, p99 = replies[-1], replies[int(0.99 * (len(replies) - 1))]
line = (f"{label}: {elapsed:.0f} ms in all; {len(replies)} pings, worst reply {worst:.1f} ms, p99 {p99:.1f} ms; "
        f"goal no turn over 10 ms: {'met' if worst <= 10 else 'NOT met'}")
open(output, "a").write(line + "\n")
print(line)
