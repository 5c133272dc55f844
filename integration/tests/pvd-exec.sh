# pvd exec as an unprivileged user (nobody), with the file capabilities
# scripts/install gives pvd: the allowed domain works, a denied one is
# refused with a clear message; inside, id, resolv.conf, the addresses and
# /sys/class/net show the user and the domain, name lookups go to the
# domain's DNS server, and the process has no capability and no_new_privs.
# The user cannot use pvd exec to become root, to mount, or to enter a
# namespace pvdd did not hand out, and a bus address in the environment is
# ignored. Exit status and signals pass through; root and sudo work; a
# program that hands requests over to an instance already running outside
# is pointed out (not with --quiet), any other program is not. For
# desktops: ping works for users inside, no command means the user's shell,
# sudo gives the user's HOME, USER, LOGNAME and SHELL, and a browser gets a
# profile of its own for the domain. pvd ps lists the programs in each
# domain (a user their own).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for tool in setcap setpriv unshare gdbus; do command -v "$tool" >/dev/null || fail "$tool is missing: scripts/setup.sh installs it"; done

lab_pvdd_corp_for_nobody
lab_bg r2 "$LAB_DIR/dns.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:2::53 "*.corp.test" 2001:db8:ff::1
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:2::/64 2001:db8:2::53 --no-http
lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 other.example.com 1 2001:db8:1::/64 2001:db8:1::53 --no-http
both() { [ "$("$PVD" list --json | /usr/bin/python3 -c 'import json,sys; print(sum(1 for d in json.load(sys.stdin) if d["addresses"]))')" = 2 ]; }
lab_wait 5 both || fail "no two domains: $("$PVD" list 2>&1) $(cat "$LAB_DIR/pvdd.log")"

# pvd with file capabilities, as scripts/install makes it.
caps=$LAB_DIR/pvd
cp "$PVD" "$caps"
chmod 755 "$caps"
setcap cap_sys_admin+ep "$caps"
# It loads no shared library: the capability holds only in pvd's own code.
linkage=$(ldd "$caps" 2>&1 || true)
[[ $linkage == *"not a dynamic executable"* ]] || fail "pvd is linked dynamically: $linkage"
as_nobody() { lab_as_nobody "$@"; }
inside() { as_nobody "$caps" exec corp -- "$@"; }

[ "$(inside id -un)" = nobody ] || fail "id inside: $(inside id 2>&1)"
[ "$(inside id -G)" = "$(id -G nobody)" ] || fail "groups inside: $(inside id 2>&1), nobody has $(id -G nobody)"
inside cat /etc/resolv.conf | lab_has -x "nameserver 2001:db8:2::53" || fail "resolv.conf inside: $(inside cat /etc/resolv.conf 2>&1)"
inside ip -6 -o addr show scope global | lab_has " 2001:db8:2:" || fail "ip -6 addr inside: $(inside ip -6 addr 2>&1)"
[ "$(inside ls /sys/class/net | tr '\n' ' ')" = "lo pvd0 " ] || fail "/sys/class/net inside: $(inside ls /sys/class/net 2>&1)"
[ "$(inside getent ahostsv6 www.corp.test | awk 'NR==1 {print $1}')" = "2001:db8:ff::1" ] \
    || fail "no answer from corp's DNS server: $(inside getent ahostsv6 www.corp.test 2>&1) $(cat "$LAB_DIR/dns.log")"
grep -q "www.corp.test" "$LAB_DIR/dns.log" || fail "the lookup did not reach corp's DNS server"
status=$(inside cat /proc/self/status)
for line in "CapInh:	0000000000000000" "CapPrm:	0000000000000000" "CapEff:	0000000000000000" "CapAmb:	0000000000000000" "NoNewPrivs:	1"; do
    grep -qx "$line" <<<"$status" || fail "inside, /proc/self/status lacks '$line': $(grep -E 'Cap|NoNew' <<<"$status")"
done
inside sh -c 'getpcaps $$' 2>&1 | lab_has -E '^([0-9]+: =|Capabilities for .[0-9]+.: =)$' || fail "getpcaps inside: $(inside sh -c 'getpcaps $$' 2>&1)"

# Refusals, each with a clear message.
refused() {
    local expected=$1 out
    shift
    out=$("$@" 2>&1) && fail "$* succeeded: $out"
    grep -q "$expected" <<<"$out" || fail "$*: expected '$expected', got: $out"
}
refused "may not use domain other.example.com" as_nobody "$caps" exec other -- true
refused "as-root is for root" as_nobody "$caps" exec --as-root corp -- id -u
refused "no domain is called" as_nobody "$caps" exec "/run/netns/${P}r1" -- true
refused "no domain is called" as_nobody "$caps" exec "${P}r1" -- true
refused "must be superuser\|permission denied\|Operation not permitted" inside mount -t tmpfs none /mnt
refused "Operation not permitted\|permission denied" inside setpriv --reuid=0 true
[ "$(DBUS_SYSTEM_BUS_ADDRESS="unix:path=$LAB_DIR/nowhere" as_nobody "$caps" exec corp -- id -un)" = nobody ] \
    || fail "a bus address in the environment was used"

# Exit status and signals are the command's own.
set +e
inside sh -c 'exit 7'
[ $? -eq 7 ] || fail "exit status 7 did not pass through"
inside sh -c 'kill -TERM $$'
[ $? -eq 143 ] || fail "SIGTERM did not pass through"
set -e

# Root: stays root; through sudo (SUDO_UID): the invoking user unless --as-root.
[ "$("$PVD" exec corp -- id -u)" = 0 ] || fail "root did not stay root"
[ "$(SUDO_UID=65534 SUDO_GID=65534 "$PVD" exec corp -- id -u)" = 65534 ] || fail "under sudo, not the invoking user"
[ "$(SUDO_UID=65534 SUDO_GID=65534 "$PVD" exec corp -- id -G)" = "$(id -G nobody)" ] || fail "under sudo, not the invoking user's groups"
[ "$(SUDO_UID=65534 SUDO_GID=65534 "$PVD" exec --as-root corp -- id -u)" = 0 ] || fail "--as-root did not keep root"

# A program that hands requests over and is already running outside is
# pointed out (sleep, in the user's ~/.config/pvd/hand-over here); any
# other program running outside (python3) is not.
setpriv --reuid=nobody --regid=nogroup --init-groups sleep 30 &
LAB_PIDS+=("$!")
setpriv --reuid=nobody --regid=nogroup --init-groups /usr/bin/python3 -c 'import time; time.sleep(30)' &
LAB_PIDS+=("$!")
mkdir -p "$LAB_DIR/home/.config/pvd"
echo sleep >"$LAB_DIR/home/.config/pvd/hand-over"
chmod -R a+rX "$LAB_DIR/home"
sleep 0.2
lab_lacks "note:" inside sleep 0 || fail "a note about a program that is not listed as handing requests over"
HOME=$LAB_DIR/home inside sleep 0 2>&1 | lab_has "note: sleep is already running outside this domain" || fail "no note about the sleep running outside"
HOME=$LAB_DIR/home lab_lacks "note:" as_nobody "$caps" exec --quiet corp -- sleep 0 || fail "--quiet did not leave the note out"
lab_lacks "note:" inside /usr/bin/python3 -c pass || fail "a note about python3, which hands nothing over"
lab_lacks "." as_nobody "$caps" exec corp --quiet -- true || fail "options after the name were not taken"
answer=$("$PVD" exec corp --verbose id 2>&1) && fail "an unknown option was taken: $answer"
grep -q "the command goes after --" <<<"$answer" || fail "no hint for an option after the name: $answer"

# Desktop use: ping works inside for users (ICMP echo sockets; no_new_privs stops ping's capability).
ns_range=$(ip netns exec "pvd-corp.example.com" cat /proc/sys/net/ipv4/ping_group_range | tr '\t' ' ')
[ "$ns_range" != "1 0" ] || fail "the domain's ping_group_range is closed"
inside ping -6 -c 1 -W 2 2001:db8:2::1 >/dev/null || fail "a user cannot ping inside the domain"
SUDO_UID=65534 SUDO_GID=65534 "$PVD" exec corp -- ping -6 -c 1 -W 2 2001:db8:2::1 >/dev/null || fail "the user behind sudo cannot ping inside"
# No command: the user's shell.
[ "$(echo 'id -un; echo "$0"' | SHELL=/bin/sh as_nobody "$caps" exec corp 2>/dev/null | tr '\n' ' ')" = "nobody /bin/sh " ] \
    || fail "pvd exec without a command: $(echo 'id -un' | SHELL=/bin/sh as_nobody "$caps" exec corp 2>&1)"
# Under sudo, the shell the user database gives the user (nobody's is nologin, which says so).
shell_said=$(SUDO_UID=65534 SUDO_GID=65534 "$PVD" exec corp </dev/null 2>&1) || true
grep -q "This account is currently not available" <<<"$shell_said" || fail "pvd exec under sudo without a command did not run nobody's shell: $shell_said"
# Under sudo the program gets the user's HOME, USER, LOGNAME and SHELL; the session's variables reach it.
env_inside=$(SUDO_UID=65534 SUDO_GID=65534 HOME=/root USER=root LOGNAME=root DISPLAY=:7 XDG_RUNTIME_DIR=/run/user/65534 "$PVD" exec corp -- env)
for want in "HOME=$(getent passwd nobody | cut -d: -f6)" "USER=nobody" "LOGNAME=nobody" "SHELL=$(getent passwd nobody | cut -d: -f7)" \
    "DISPLAY=:7" "XDG_RUNTIME_DIR=/run/user/65534"; do
    grep -qx "$want" <<<"$env_inside" || fail "under sudo, no $want inside: $env_inside"
done
# A browser gets a profile of its own for the domain (here a stand-in firefox that prints what it was given).
mkdir -p "$LAB_DIR/bin" "$LAB_DIR/home"
chown nobody "$LAB_DIR/home"
chmod 755 "$LAB_DIR"
printf '#!/bin/sh\necho "$@"\n' >"$LAB_DIR/bin/firefox"
chmod 755 "$LAB_DIR/bin" "$LAB_DIR/bin/firefox"
given=$(HOME=$LAB_DIR/home PATH="$LAB_DIR/bin:$PATH" as_nobody "$caps" exec corp -- firefox https://intranet.corp.test 2>"$LAB_DIR/firefox.err")
[ "$given" = "--profile $LAB_DIR/home/.local/share/pvd/profiles/corp.example.com/firefox https://intranet.corp.test" ] \
    || fail "firefox was given: $given"
[ -d "$LAB_DIR/home/.local/share/pvd/profiles/corp.example.com/firefox" ] && [ "$(stat -c %U:%a "$LAB_DIR/home/.local/share/pvd/profiles/corp.example.com/firefox")" = nobody:700 ] \
    || fail "the profile directory: $(ls -la "$LAB_DIR/home/.local/share/pvd/profiles/corp.example.com" 2>&1)"
grep -q "firefox uses its own profile for domain corp.example.com" "$LAB_DIR/firefox.err" || fail "no word about the profile: $(cat "$LAB_DIR/firefox.err")"
[ "$(HOME=$LAB_DIR/home PATH="$LAB_DIR/bin:$PATH" as_nobody "$caps" exec corp -- firefox -P work 2>/dev/null)" = "-P work" ] \
    || fail "a profile the user chose was changed"
# pvd ps: the programs in each domain; a user sees their own, root everyone's.
inside sleep 31 &
LAB_PIDS+=("$!")
"$PVD" exec corp -- sleep 32 &
LAB_PIDS+=("$!")
listed() { "$PVD" ps corp | lab_has "^corp.example.com .* nobody  *sleep 31$" && "$PVD" ps | lab_has " root  *sleep 32$"; }
lab_wait 5 listed || fail "pvd ps: $("$PVD" ps 2>&1)"
"$PVD" ps --json | /usr/bin/python3 -c 'import json,sys; p=json.load(sys.stdin); assert any(x["command"]=="sleep 31" and x["user"]=="nobody" and x["domain"]=="corp.example.com" for x in p)' \
    || fail "pvd ps --json: $("$PVD" ps --json)"
mine=$(lab_as_nobody "$PVD" ps 2>&1)
grep -q "sleep 31" <<<"$mine" && ! grep -q "sleep 32" <<<"$mine" || fail "a user's pvd ps: $mine"
