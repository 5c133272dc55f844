# IPv4 through NAT for the domain RFC 8801 gives the host's IPv4 to: the
# host has IPv4 on up0 (192.0.2.10, default route via r1's 192.0.2.1) and on a
# second link side0 to another network (203.0.113.0/24). With r1's plain RAs
# only, the implicit domain gets IPv4: it reaches r1, which sees the host's
# address (masquerade). When r2 announces corp.example.com with the L flag,
# IPv4 moves to corp and the implicit domain has none. corp cannot reach the
# other network through the host (it leaves through up0 only), nothing from
# the link reaches into corp or through the host, and SIGTERM leaves no
# address, route, nftables table or sysctl behind.
# forwarding-paths: both
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
[ -x /usr/sbin/nft ] || fail "nft is missing: scripts/setup.sh installs nftables"

lab_two_routers 2
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
ip -n "${P}host" addr add 192.0.2.10/24 dev up0
ip -n "${P}host" route add default via 192.0.2.1
ip -n "${P}r1" addr add 192.0.2.1/24 dev lan0
lab_netns other
lab_link host side0 other other0
ip -n "${P}host" addr add 203.0.113.10/24 dev side0
ip -n "${P}other" addr add 203.0.113.1/24 dev other0
ipv4_state() {
    ip -n "${P}host" -4 addr show
    ip -n "${P}host" -4 route show table all
    ip netns exec "${P}host" nft list ruleset
    for key in all/forwarding up0/forwarding side0/forwarding; do
        echo "$key=$(ip netns exec "${P}host" cat /proc/sys/net/ipv4/conf/$key)"
    done
}
ipv4_state >"$LAB_DIR/before"
lab_host_state >"$LAB_DIR/before-ipv6"

lab_pvdd "$LAB_DIR/pvdd.log" "up0" --uplink up0 --state "$LAB_DIR/state.json"
pvdd=$LAB_LAST_PID
lab_radvd_plain 1
ipv4_flags() { lab_hostnet host list | /usr/bin/python3 -c 'import json,sys
for line in sys.stdin:
    d = json.loads(line)
    print(d["name"], json.dumps(d["ipv4"]))'; }
ipv4_of() { ipv4_flags | awk -v n="$1" '$1 == n {print $2}'; }
implicit_has_ipv4() { [ "$(ipv4_flags | awk '$1 ~ /^up0-fe80-/ {print $2}')" = true ]; }
lab_wait 5 implicit_has_ipv4 || fail "the implicit domain got no IPv4: $(ipv4_flags) $(cat "$LAB_DIR/pvdd.log")"
implicit=$(ipv4_flags | awk '$1 ~ /^up0-fe80-/ {print $1}')

lab_capture r1 lan0 "$LAB_DIR/implicit.pcap" icmp
capture=$LAB_LAST_PID
ip netns exec "pvd-$implicit" ping -4 -c 1 -W 2 192.0.2.1 >/dev/null || fail "the implicit domain cannot reach r1 over IPv4"
lab_capture_stop "$capture"
tcpdump -n -r "$LAB_DIR/implicit.pcap" 2>/dev/null | lab_has "IP 192.0.2.10 > 192.0.2.1: ICMP echo request" \
    || fail "r1 did not see the host's address: $(tcpdump -n -r "$LAB_DIR/implicit.pcap" 2>/dev/null)"

# corp with the L flag takes IPv4 over.
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:2::/64 2001:db8:2::53 --no-http --legacy
corp_has_ipv4() { [ "$(ipv4_of corp.example.com)" = true ] && [ "$(ipv4_of "$implicit")" = false ]; }
lab_wait 5 corp_has_ipv4 || fail "IPv4 did not move to corp: $(ipv4_flags)"
ip netns exec pvd-corp.example.com ping -4 -c 1 -W 2 192.0.2.1 >/dev/null || fail "corp cannot reach r1 over IPv4"
! ip netns exec "pvd-$implicit" ping -4 -c 1 -W 1 192.0.2.1 >/dev/null 2>&1 || fail "the implicit domain still has IPv4"
lab_silent ip -n "pvd-$implicit" -4 route show || fail "the implicit domain kept IPv4 routes: $(ip -n "pvd-$implicit" -4 route show)"

# No way out but up0, and no way in.
ip netns exec "${P}host" ping -4 -c 1 -W 1 203.0.113.1 >/dev/null || fail "the host itself cannot reach the other network (lab broken)"
lab_capture other other0 "$LAB_DIR/other.pcap" icmp
capture=$LAB_LAST_PID
! ip netns exec pvd-corp.example.com ping -4 -c 1 -W 1 203.0.113.1 >/dev/null 2>&1 || fail "corp reached the other network through the host"
corp_ipv4=$(ip -n pvd-corp.example.com -4 -o addr show dev pvd0 | awk '{print $4}' | cut -d/ -f1)
case $corp_ipv4 in 169.254.*) ;; *) fail "corp's IPv4 address is $corp_ipv4" ;; esac
ip -n "${P}r1" route add 169.254.0.0/16 via 192.0.2.10
ip -n "${P}r1" route add 203.0.113.0/24 via 192.0.2.10
! ip netns exec "${P}r1" ping -4 -c 1 -W 1 "$corp_ipv4" >/dev/null 2>&1 || fail "r1 reached into corp"
# pvd turned IPv4 forwarding on for up0 only for its domains: nothing else gets through.
! ip netns exec "${P}r1" ping -4 -c 1 -W 1 203.0.113.1 >/dev/null 2>&1 || fail "r1 reached the other network through the host"
lab_capture_stop "$capture"
lab_no_packets "$LAB_DIR/other.pcap" "packets reached the other network"

lab_pvdd_stop "$pvdd"
ipv4_state >"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd left IPv4 changes after SIGTERM"
lab_host_state >"$LAB_DIR/after-ipv6"
diff -u "$LAB_DIR/before-ipv6" "$LAB_DIR/after-ipv6" >&2 || fail "pvdd left changes after SIGTERM"
