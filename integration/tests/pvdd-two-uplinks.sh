# One explicit PvD heard on two uplinks is one domain that uses both: r2
# announces corp.example.com with 2001:db8:2::/64 on up0's link, r3 with
# 2001:db8:3::/64 on up1's own link. corp gets an address in each prefix, and
# traffic from each address leaves through the router on that address's link.
# When r2 withdraws, corp carries on through up1. A kill -9 and restart
# changes nothing in the kernel; SIGTERM leaves both uplinks as they were.
# forwarding-paths: both
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers 2
# r3 on a link of its own to the host's second uplink, routing to the server.
lab_netns r3
lab_link host up1 r3 lan0
lab_link r3 srv0 server s3
lab_in r3 sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "${P}r3" addr add fe80::13/64 dev lan0 nodad
ip -n "${P}r3" addr add 2001:db8:3::1/64 dev lan0 nodad
ip -n "${P}r3" addr add 2001:db8:f3::1/64 dev srv0 nodad
ip -n "${P}r3" route add 2001:db8:ff::/64 via 2001:db8:f3::2
ip -n "${P}server" addr add 2001:db8:f3::2/64 dev s3 nodad
ip -n "${P}server" route add 2001:db8:3::/64 via 2001:db8:f3::1
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0 net.ipv6.conf.up1.accept_ra=0
uplink_sysctls() {
    for key in proxy_ndp forwarding force_forwarding accept_ra; do
        echo "up1 $key=$(ip netns exec "${P}host" cat /proc/sys/net/ipv6/conf/up1/$key 2>/dev/null)"
    done
}
lab_host_state >"$LAB_DIR/before"
uplink_sysctls >>"$LAB_DIR/before"

state=$LAB_DIR/state.json
start_pvdd() {
    lab_pvdd "$LAB_DIR/pvdd-$1.log" "up0, up1" --uplink up0 --uplink up1 --state "$state"
    pvdd=$LAB_LAST_PID
}
send() { lab_in "$1" /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com "${@:2}" --no-http; }
corp() { lab_hostnet host list | /usr/bin/python3 -c 'import json,sys
for line in sys.stdin:
    d = json.loads(line)
    if d["name"] == "corp.example.com": print(json.dumps(eval(sys.argv[1], {}, {"d": d})))' "$1"; }
count() { lab_hostnet host list | wc -l; }

start_pvdd 1
send r2 1 2001:db8:2::/64 2001:db8:2::53
send r3 1 2001:db8:3::/64 2001:db8:3::53
# An address and a router on each uplink (the kernel state is read while pvdd may still be applying it).
both() { [ "$(corp 'len(d["addresses"]) + len(d["routers"]) + sum(len(u["addresses"]) + len(u["routers"]) for u in d["other_uplinks"])')" = 4 ]; }
lab_wait 5 both || fail "corp has no address on each uplink: $(lab_hostnet host list) $(cat "$LAB_DIR/pvdd-1.log")"
[ "$(count)" -eq 1 ] || fail "not one domain: $(lab_hostnet host list)"
[ "$(corp 'd["uplink"]')" = '"up0"' ] && [ "$(corp '[u["uplink"] for u in d["other_uplinks"]]')" = '["up1"]' ] \
    || fail "corp's uplinks: $(corp 'd')"
router3=$(corp 'd["other_uplinks"][0]["routers"]' | tr -d '[]" ')
ip -n "${P}r3" -6 -o addr show dev lan0 scope link | lab_has " $router3/64 " || fail "corp's router on up1 is not r3: $(corp 'd')"
address2=$(corp 'd["addresses"][0]' | tr -d '"')
address3=$(corp 'd["other_uplinks"][0]["addresses"][0]' | tr -d '"')
case "$address2 $address3" in "2001:db8:2:"*" 2001:db8:3:"*) ;; *) fail "corp's addresses: $address2 $address3" ;; esac
grep -q "2001:db8:2::53" /etc/netns/pvd-corp.example.com/resolv.conf && grep -q "2001:db8:3::53" /etc/netns/pvd-corp.example.com/resolv.conf \
    || fail "corp's resolv.conf: $(cat /etc/netns/pvd-corp.example.com/resolv.conf)"

# Each address's traffic leaves through its own link's router.
echo_requests() { tcpdump -n -r "$1" 2>/dev/null | grep -c "$2 > 2001:db8:ff::1: ICMP6, echo request" || true; }
lab_capture r2 lan0 "$LAB_DIR/r2.pcap"
capture2=$LAB_LAST_PID
lab_capture r3 lan0 "$LAB_DIR/r3.pcap"
capture3=$LAB_LAST_PID
ip netns exec pvd-corp.example.com ping -6 -c 1 -W 2 -I "$address2" 2001:db8:ff::1 >/dev/null || fail "no reply from $address2"
ip netns exec pvd-corp.example.com ping -6 -c 1 -W 2 -I "$address3" 2001:db8:ff::1 >/dev/null || fail "no reply from $address3"
lab_capture_stop "$capture2"
lab_capture_stop "$capture3"
[ "$(echo_requests "$LAB_DIR/r2.pcap" "$address2")" -eq 1 ] && [ "$(echo_requests "$LAB_DIR/r2.pcap" "$address3")" -eq 0 ] \
    || fail "r2 saw: $(tcpdump -n -r "$LAB_DIR/r2.pcap" 2>/dev/null)"
[ "$(echo_requests "$LAB_DIR/r3.pcap" "$address3")" -eq 1 ] && [ "$(echo_requests "$LAB_DIR/r3.pcap" "$address2")" -eq 0 ] \
    || fail "r3 saw: $(tcpdump -n -r "$LAB_DIR/r3.pcap" 2>/dev/null)"

# kill -9 and a restart: the kernel does not change, the domain reads back the same.
lab_hostnet host list >"$LAB_DIR/before-kill.json"
kill -9 "$pvdd"
wait "$pvdd" 2>/dev/null || true
lab_no_kernel_change host start_pvdd 2
lab_hostnet host list >"$LAB_DIR/after-restart.json"
diff "$LAB_DIR/before-kill.json" "$LAB_DIR/after-restart.json" || fail "the domain differs after the restart"

# r2 withdraws its prefix and itself: corp carries on through up1.
send r2 1 2001:db8:2::/64 2001:db8:2::53 --router-lifetime 0 --valid 0
up0_empty() { [ "$(corp 'd["addresses"] + d["routers"]')" = "[]" ]; }
lab_wait 3 up0_empty || fail "r2's part did not go: $(corp 'd')"
ip netns exec pvd-corp.example.com ping -6 -c 1 -W 2 2001:db8:ff::1 >/dev/null || fail "corp cannot reach the server through up1"

lab_pvdd_stop "$pvdd"
lab_host_state >"$LAB_DIR/after"
uplink_sysctls >>"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd left changes after SIGTERM"
