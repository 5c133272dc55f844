# The host stays a host, on both forwarding paths. The host has two uplinks,
# up0 (router r1) and up1 (router r2), each with an implicit domain, and a
# third interface side0 that is not an uplink: its router r3 (Debian's radvd,
# an RA every 10 minutes) gives the host a default route and routes a far
# network 2001:db8:30::/64. A control without pvdd first shows the captures
# see forwarded packets when the host forwards. While pvdd runs: nothing from
# up0's link reaches the far network through the host, and up0's and up1's
# links are not routed to each other (captured behind r3, on r1 and on r2);
# side0's RA-learnt default route is never deleted (`ip monitor` from before
# pvdd starts until after it stops); each domain reaches its router; the
# first echo reply into a new domain comes within 100 ms (proxy_delay 0); no
# domain gets IPv4 while the host has none, up0's implicit domain gets it
# when up0 gets an address and a default route and loses it with them. After
# SIGTERM every interface's sysctls, the routes and the nftables ruleset are
# as they were, down to fwd0, a (veth) interface whose own forwarding flag the
# host set (all.forwarding going back to 0 clears every interface's flag).
# forwarding-paths: both
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
[ -x /usr/sbin/nft ] || fail "nft is missing: scripts/setup.sh installs nftables"

lab_netns host
for i in 1 2 3; do lab_netns "r$i"; done
lab_link host up0 r1 lan0
lab_link host up1 r2 lan0
lab_link host side0 r3 lan0
for i in 1 2 3; do
    ip -n "${P}r$i" addr add "fe80::1$i/64" dev lan0 nodad
    ip -n "${P}r$i" addr add "2001:db8:$i::1/64" dev lan0 nodad
done
ip -n "${P}r3" addr add 2001:db8:30::1/128 dev lo
lab_radvd_plain 1
lab_radvd_plain 2
cat >"$LAB_DIR/radvd-r3.conf" <<CONF
interface lan0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 450;
    MaxRtrAdvInterval 600;
    prefix 2001:db8:3::/64 { };
};
CONF
lab_radvd r3 "$LAB_DIR/radvd-r3.conf"
host_route() { ip -n "${P}host" -6 route show default | lab_has "via $1 dev $2 proto ra"; }
for pair in "fe80::11 up0" "fe80::12 up1" "fe80::13 side0"; do
    lab_wait 10 host_route $pair || fail "the host learnt no default route ($pair): $(ip -n "${P}host" -6 route)"
done
up0_ll=$(ip -n "${P}host" -6 -o addr show dev up0 scope link | awk '{print $4}' | cut -d/ -f1)
up1_ll=$(ip -n "${P}host" -6 -o addr show dev up1 scope link | awk '{print $4}' | cut -d/ -f1)
# The host reaches the far network through r3 (its default routes also lead to r1 and r2).
ip -n "${P}host" route add 2001:db8:30::/64 via fe80::13 dev side0
ip -n "${P}r1" route add 2001:db8:30::/64 via "$up0_ll" dev lan0
ip -n "${P}r1" route add 2001:db8:2::/64 via "$up0_ll" dev lan0
ip -n "${P}r2" route add 2001:db8:1::/64 via "$up1_ll" dev lan0

# through_host LABEL: r1 pings the far network and r2's network, r2 pings r1's,
# each through the host; prints how many echo requests arrived behind it.
through_host() {
    lab_capture r3 lan0 "$LAB_DIR/$1-r3.pcap"; local c3=$LAB_LAST_PID
    lab_capture r2 lan0 "$LAB_DIR/$1-r2.pcap"; local c2=$LAB_LAST_PID
    lab_capture r1 lan0 "$LAB_DIR/$1-r1.pcap"; local c1=$LAB_LAST_PID
    lab_in r1 ping -6 -c 3 -i 0.2 -W 1 -I 2001:db8:1::1 2001:db8:30::1 >/dev/null 2>&1 || true
    lab_in r1 ping -6 -c 3 -i 0.2 -W 1 -I 2001:db8:1::1 2001:db8:2::1 >/dev/null 2>&1 || true
    lab_in r2 ping -6 -c 3 -i 0.2 -W 1 -I 2001:db8:2::1 2001:db8:1::1 >/dev/null 2>&1 || true
    lab_capture_stop "$c1"; lab_capture_stop "$c2"; lab_capture_stop "$c3"
    local far r1_to_r2 r2_to_r1
    far=$(tcpdump -n -r "$LAB_DIR/$1-r3.pcap" 'src 2001:db8:1::1 and icmp6 and ip6[40] == 128' 2>/dev/null | wc -l)
    r1_to_r2=$(tcpdump -n -r "$LAB_DIR/$1-r2.pcap" 'src 2001:db8:1::1 and icmp6 and ip6[40] == 128' 2>/dev/null | wc -l)
    r2_to_r1=$(tcpdump -n -r "$LAB_DIR/$1-r1.pcap" 'src 2001:db8:2::1 and icmp6 and ip6[40] == 128' 2>/dev/null | wc -l)
    echo "$far $r1_to_r2 $r2_to_r1"
}

# Control: a host that forwards (side0 keeping its route) does pass them on.
lab_in host sysctl -qw net.ipv6.conf.side0.accept_ra=2 net.ipv6.conf.up0.accept_ra=2 net.ipv6.conf.up1.accept_ra=2 \
    net.ipv6.conf.all.forwarding=1
read -r far r1_to_r2 r2_to_r1 < <(through_host control)
[ "$far" -ge 3 ] && [ "$r1_to_r2" -ge 3 ] && [ "$r2_to_r1" -ge 3 ] \
    || fail "control: a forwarding host passed on $far, $r1_to_r2, $r2_to_r1 echo requests; the captures see nothing"
lab_in host sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.side0.accept_ra=1 net.ipv6.conf.up0.accept_ra=1 \
    net.ipv6.conf.up1.accept_ra=1
ip -n "${P}host" link add fwd0 up type veth peer name fwd1
lab_in host sysctl -qw net.ipv6.conf.fwd0.forwarding=1
read -r far r1_to_r2 r2_to_r1 < <(through_host before)
[ "$far$r1_to_r2$r2_to_r1" = 000 ] || fail "the host forwarded before pvdd started: $far $r1_to_r2 $r2_to_r1"

# Everything pvdd may change on the host, for the comparison after SIGTERM.
host_state() {
    local key interface
    for interface in all default up0 up1 side0 fwd0; do
        for key in accept_ra forwarding force_forwarding proxy_ndp; do
            echo "$interface $key=$(lab_in host cat "/proc/sys/net/ipv6/conf/$interface/$key")"
        done
        echo "$interface ipv4 forwarding=$(lab_in host cat "/proc/sys/net/ipv4/conf/$interface/forwarding")"
    done
    for interface in up0 up1 side0; do echo "$interface proxy_delay=$(lab_in host cat "/proc/sys/net/ipv6/neigh/$interface/proxy_delay")"; done
    ip -n "${P}host" -6 route show table all | sed -E 's/ expires [0-9]+sec//'
    ip -n "${P}host" -6 rule show
    ip -n "${P}host" -4 route show table all
    lab_in host nft list ruleset
}
host_state >"$LAB_DIR/before"
lab_bg host "$LAB_DIR/monitor.log" ip -6 monitor route
monitor=$LAB_LAST_PID
lab_monitor_mark host "$LAB_DIR/monitor.log" 1

lab_pvdd "$LAB_DIR/pvdd.log" "up0, up1" --uplink up0 --uplink up1 --state "$LAB_DIR/state.json"
pvdd=$LAB_LAST_PID
list() { lab_hostnet host list; }
# field NAME KEY: one field of a domain's read-back state, as JSON.
field() { list | /usr/bin/python3 -c 'import json,sys; d=[json.loads(l) for l in sys.stdin if json.loads(l)["name"]==sys.argv[1]]; print(json.dumps(d[0][sys.argv[2]]) if d else "absent")' "$1" "$2"; }
ipv4_is() { [ "$(field "$1" ipv4)" = "$2" ]; }
has_address() { [ "$(field "$1" addresses)" != "[]" ] && [ "$(field "$1" addresses)" != absent ]; }
d0=up0-fe80-0-11 d1=up1-fe80-0-12
lab_wait 5 has_address "$d0" || fail "no domain with an address on up0: $(list) $(cat "$LAB_DIR/pvdd.log")"
# The first echo reply into a new domain: r2 pings up1's domain as soon as its address is there.
lab_wait 5 has_address "$d1" || fail "no domain with an address on up1: $(list)"
address1=$(field "$d1" addresses | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
first=$(lab_in r2 ping -6 -c 1 -W 2 "$address1" | grep -o 'time=[0-9.]*' | cut -d= -f2)
echo "first echo reply into the new domain after ${first:-none} ms" >&2
[ -n "$first" ] && /usr/bin/python3 -c 'import sys; sys.exit(float(sys.argv[1]) >= 100)' "$first" \
    || fail "the first echo reply into the new domain took ${first:-forever} ms (goal: under 100 ms)"
[ "$(lab_in host cat /proc/sys/net/ipv6/neigh/up1/proxy_delay)" = 0 ] || fail "proxy_delay on up1 is not 0"

# Each domain reaches its own router; the host still routes nothing else.
ip netns exec "pvd-$d0" ping -6 -c 2 -i 0.2 -W 1 2001:db8:1::1 >/dev/null || fail "$d0 cannot reach r1"
ip netns exec "pvd-$d1" ping -6 -c 2 -i 0.2 -W 1 2001:db8:2::1 >/dev/null || fail "$d1 cannot reach r2"
read -r far r1_to_r2 r2_to_r1 < <(through_host during)
[ "$far" = 0 ] || fail "$far echo requests from up0's link were forwarded to side0's network while pvdd ran"
[ "$r1_to_r2$r2_to_r1" = 00 ] || fail "the uplinks were routed to each other: $r1_to_r2 to up1's link, $r2_to_r1 to up0's"
lab_in host nft list table ip6 pvd >"$LAB_DIR/filter" || fail "no nftables table ip6 pvd while domains exist"

# IPv4 only where the uplink has it.
[ "$(field "$d0" ipv4)$(field "$d1" ipv4)" = falsefalse ] || fail "a domain got IPv4 on a host without IPv4: $(list)"
lab_silent lab_in host nft list tables ip || fail "IPv4 NAT tables on a host without IPv4: $(lab_in host nft list tables)"
ip -n "${P}host" addr add 192.0.2.10/24 dev up0
ip -n "${P}host" route add default via 192.0.2.1
lab_wait 2 ipv4_is "$d0" true || fail "up0 got IPv4 but its domain did not: $(list) $(cat "$LAB_DIR/pvdd.log")"
[ "$(field "$d1" ipv4)" = false ] || fail "up1 has no IPv4, but its domain got some"
ip -n "${P}host" route del default via 192.0.2.1
lab_wait 2 ipv4_is "$d0" false || fail "up0 lost its default route but its domain kept IPv4: $(list)"
ip -n "${P}host" addr del 192.0.2.10/24 dev up0

lab_pvdd_stop "$pvdd"
lab_monitor_mark host "$LAB_DIR/monitor.log" 2
lab_stop "$monitor"
lab_file_lacks "$LAB_DIR/monitor.log" -E '^Deleted default .*proto ra' \
    || fail "an RA-learnt default route of the host was deleted while pvdd ran: $(grep Deleted "$LAB_DIR/monitor.log")"
host_route fe80::13 side0 \
    || fail "side0's default route is gone after pvdd stopped: $(ip -n "${P}host" -6 route show default); monitor: $(cat "$LAB_DIR/monitor.log")"
host_state >"$LAB_DIR/after"
diff "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd left the host changed after SIGTERM"
