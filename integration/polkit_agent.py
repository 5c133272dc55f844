#!/usr/bin/python3
"""Runs COMMAND with a polkit agent (pkttyagent) registered for it on a
terminal, and types PASSWORD when the agent asks; exits with COMMAND's
status, its output on stderr. With --user NAME both run as NAME (setpriv).

usage: polkit_agent.py [--user NAME] PASSWORD COMMAND...
"""
import os
import pty
import select
import subprocess
import sys
import termios
import time

arguments = sys.argv[1:]
prefix = []
if arguments[:1] == ["--user"]:
    prefix = ["setpriv", f"--reuid={arguments[1]}", f"--regid={arguments[1]}", "--init-groups", "--"]
    arguments = arguments[2:]
password, command = arguments[0], arguments[1:]
# The client waits for a line before it becomes COMMAND (same pid), so that the agent is registered for it first.
client = subprocess.Popen(prefix + ["sh", "-c", 'read go; exec "$@"', "client"] + command,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
ready_read, ready_write = os.pipe()
os.set_inheritable(ready_write, True)
agent, terminal = pty.fork()
if agent == 0:
    os.execvp(prefix[0] if prefix else "pkttyagent",
              prefix + ["pkttyagent", "--process", str(client.pid), "--notify-fd", str(ready_write)])
os.close(ready_write)
os.read(ready_read, 1)  # pkttyagent closes it once registered
client.stdin.write("go\n")
client.stdin.flush()
seen, deadline = b"", time.time() + 20
while b"assword" not in seen and time.time() < deadline and client.poll() is None:
    if select.select([terminal], [], [], 0.5)[0]:
        seen += os.read(terminal, 1024)
if b"assword" in seen:
    # Typed only once the agent has turned echo off: it does so with TCSAFLUSH,
    # which throws away whatever was typed before.
    while termios.tcgetattr(terminal)[3] & termios.ECHO and time.time() < deadline + 5:
        time.sleep(0.05)
    os.write(terminal, password.encode() + b"\n")
output, _ = client.communicate(timeout=30)
os.kill(agent, 15)
print(f"agent: {'asked for a password' if b'assword' in seen else 'asked nothing'}\n{output}", file=sys.stderr)
sys.exit(client.returncode)
