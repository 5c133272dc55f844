# pvd lab, with each lab shipped in labs/ (renamed for this test, so that
# everything it makes carries the test's own names). For each: `pvd lab up`;
# the host's pvdd learns the expected domains; `pvd exec` in each domain
# reaches the upstream network through its own router (the hop after the
# host answers from that router's prefix) and resolves through its own DNS
# server (server.lab has a different address at each); `pvd lab status`
# shows the nodes and pvdd's domains; `pvd lab down` leaves the host's
# namespaces, links, nftables ruleset and pvd's runtime files as they were.
# two-routers also shows the PvD-unaware host mixing the two routers, and
# several-pvds, whose documents claim zones, say noInternet and give a
# proxy (pvd which, pvd exec --for), is taken down after its pvdd and
# routers were killed with SIGKILL (a crash): down still removes
# everything, pvdd's domains included.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
labs=$(cd "$(dirname "$0")/../../labs" && pwd)
tag=t$$
made=()
trap 'for lab in "${made[@]}"; do "$PVD" lab down "$lab" --pvdd "$PVDD" >/dev/null 2>&1 || true; done; lab_cleanup' EXIT

# host_view: what the host's own namespace holds that a lab must not change.
host_view() {
    ip netns list | awk '{print $1}' | sort
    ip -o link show | sed -E 's/^[0-9]+: //; s/ qlen [0-9]+//' | awk '{print $1, $2}'
    nft list ruleset
    ls /etc/netns 2>/dev/null || true
    { find /run/pvd -type f; find /run/pvd-announce || true; } 2>/dev/null | sort
}

# up FILE: the shipped lab FILE as lab $tag<letter>, up; sets lab and its bus.
up() {
    lab=$tag$2
    sed -E "s/^name: .*/name: $lab/" "$labs/$1" >"$LAB_DIR/$1"
    made+=("$lab")
    "$PVD" lab up "$LAB_DIR/$1" --pvdd "$PVDD" >"$LAB_DIR/up-$lab.log" 2>&1 || fail "pvd lab up $1: $(cat "$LAB_DIR/up-$lab.log")"
    export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/pvd-lab/$lab/host/bus.socket
}

# domains: pvdd's domains as "name kind state" lines.
domains() {
    "$PVD" list --json | /usr/bin/python3 -c 'import json, sys
for d in json.load(sys.stdin): print(d["name"], d["kind"], d["state"], " ".join(d["addresses"]))'
}

# has_domain NAME STATE: pvdd has domain NAME in STATE, with an address.
has_domain() { domains | lab_has -E "^$1 [a-z]+ $2 [0-9a-f]"; }
has_implicit() { domains | lab_has ' implicit active [0-9a-f]'; }
# information_valid DOMAIN: pvdd fetched and accepted the PvD's additional information.
information_valid() { "$PVD" show "$1" | lab_has '"status":"valid"'; }

# first_hop DOMAIN: who answers a probe with hop limit 2 from inside DOMAIN
# (hop 1 is the host, which forwards the domain's packets; hop 2 its router).
first_hop() { "$PVD" exec "$1" -- ping -n -c1 -t2 -W2 2001:db8:ff::1 | sed -nE 's/^From ([0-9a-f:]+).*Time exceeded.*/\1/p'; }

# server DOMAIN: the address the domain's DNS server gives server.lab.
server() { "$PVD" exec "$1" -- getent ahostsv6 server.lab | awk 'NR == 1 {print $1}'; }

before=$(host_view)

# Two routers: r1 plain RAs (an implicit PvD), r2 the PvD corp.example.com with additional information.
up two-routers.yaml a
lab_wait 10 has_domain corp active || fail "no corp domain: $(domains) $(cat /run/pvd-lab/$lab/logs/host-pvdd.log)"
lab_wait 10 has_implicit || fail "no implicit domain: $(domains)"
implicit=$(domains | awk '$2 == "implicit" {print $1}')
lab_wait 10 information_valid corp || fail "corp's additional information was not fetched: $("$PVD" show corp)"
[ "$(server corp)" = 2001:db8:ff::2 ] || fail "corp did not use r2's DNS server: $(server corp)"
[ "$(server "$implicit")" = 2001:db8:ff::1 ] || fail "$implicit did not use r1's DNS server: $(server "$implicit")"
case $(first_hop corp) in 2001:db8:2:*) ;; *) fail "corp left through $(first_hop corp), not r2" ;; esac
case $(first_hop "$implicit") in 2001:db8:1:*) ;; *) fail "$implicit left through $(first_hop "$implicit"), not r1" ;; esac
for domain in corp "$implicit"; do
    "$PVD" exec "$domain" -- ping -n -c1 -W2 2001:db8:ff::1 >/dev/null || fail "$domain does not reach the upstream"
done
# The PvD-unaware host: r1's prefix only (the PvD's is inside an option it
# does not read), yet both routers as default routers.
two_routers() { [ "$(ip -n "$lab-plain" -6 route show default | grep -c via)" = 2 ]; }
lab_wait 5 two_routers ||
    fail "the PvD-unaware host does not have both routers: $(ip -n "$lab-plain" -6 route show default)"
ip -n "$lab-plain" -6 addr show dev lan | lab_has 'inet6 2001:db8:1:' || fail "the PvD-unaware host has no address from r1"
lab_lacks 'inet6 2001:db8:2:' ip -n "$lab-plain" -6 addr show dev lan || fail "the PvD-unaware host read the PvD option"
"$PVD" lab status "$LAB_DIR/two-routers.yaml" >"$LAB_DIR/status" || fail "pvd lab status failed"
grep -q "host plain ($lab-plain) on lan, PvD-unaware" "$LAB_DIR/status" && grep -Eq "^    corp +explicit" "$LAB_DIR/status" ||
    fail "pvd lab status: $(cat "$LAB_DIR/status")"
"$PVD" lab up "$LAB_DIR/two-routers.yaml" --pvdd "$PVDD" 2>"$LAB_DIR/twice" && fail "a second pvd lab up was accepted"
grep -q "is up already" "$LAB_DIR/twice" || fail "a second pvd lab up: $(cat "$LAB_DIR/twice")"
"$PVD" lab down "$LAB_DIR/two-routers.yaml" --pvdd "$PVDD" >/dev/null
[ "$(host_view)" = "$before" ] || fail "two-routers left something: $(diff <(echo "$before") <(host_view))"
[ ! -e "/run/pvd-lab/$lab" ] || fail "the lab's directory is left"

# One router, two PvDs with additional information each; taken down after a crash.
up several-pvds.yaml b
for domain in office guest; do
    lab_wait 10 has_domain "$domain" active || fail "no $domain domain: $(domains)"
    lab_wait 10 information_valid "$domain" || fail "no additional information for $domain: $("$PVD" show "$domain")"
    [ "$(server "$domain")" = 2001:db8:ff::1 ] || fail "$domain: server.lab is $(server "$domain")"
    "$PVD" exec "$domain" -- ping -n -c1 -W2 2001:db8:ff::1 >/dev/null || fail "$domain does not reach the upstream"
done
# What the documents add: claims, noInternet, the proxy environment.
[ "$("$PVD" which wiki.office.lab 2>/dev/null)" = office ] || fail "pvd which wiki.office.lab: $("$PVD" which wiki.office.lab 2>&1)"
[ "$("$PVD" which www.example.com 2>/dev/null)" = office ] || fail "pvd which www.example.com: $("$PVD" which www.example.com 2>&1)"
[ "$("$PVD" which printer.guest.lab 2>/dev/null)" = guest ] || fail "pvd which printer.guest.lab: $("$PVD" which printer.guest.lab 2>&1)"
[ "$("$PVD" which www.example.org 2>/dev/null)" = office ] || fail "an unclaimed name did not go to office: $("$PVD" which www.example.org 2>&1)"
"$PVD" exec --for wiki.office.lab -- env | lab_has -x "http_proxy=http://\[2001:db8:ff::1\]:3128" || fail "no proxy environment in office"
for ns in "$lab-host" "$lab-r1"; do ip netns pids "$ns" | xargs -r kill -KILL; done
"$PVD" lab down "$lab" --pvdd "$PVDD" >/dev/null
[ "$(host_view)" = "$before" ] || fail "several-pvds left something after a crash: $(diff <(echo "$before") <(host_view))"

# A corp VPN (OpenVPN) as a domain: its DNS inside the tunnel, nothing of it outside.
up corp-vpn.yaml c
lab_wait 20 has_domain corp connected || fail "the VPN did not connect: $(domains) $(tail -n 5 /run/pvd-lab/$lab/host/openvpn-corp.log)"
[ "$("$PVD" exec corp -- getent hosts intranet.corp.test | awk '{print $1}')" = 10.8.0.1 ] || fail "corp does not resolve its intranet"
"$PVD" exec corp -- ping -n -c1 -W2 10.8.0.1 >/dev/null || fail "corp does not reach the intranet"
! ip netns exec "$lab-host" ping -n -c1 -W1 10.8.0.1 >/dev/null 2>&1 || fail "the host outside the domain reaches the intranet"
"$PVD" lab down "$LAB_DIR/corp-vpn.yaml" --pvdd "$PVDD" >/dev/null
[ "$(host_view)" = "$before" ] || fail "corp-vpn left something: $(diff <(echo "$before") <(host_view))"
echo "three labs up and down; the host as it was"
