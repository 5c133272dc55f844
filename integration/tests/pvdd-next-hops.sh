# RFC 8028 next hops and the routers' DNS order, on both forwarding paths:
# r1 and r2 on one link both advertise corp.example.com, each with its own
# prefix (scapy RAs), r1 with RDNSS 2001:db8:1::54, ff02::1, 2001:db8:1::53
# and DNSSL z1.test, a1.test, r2 with RDNSS 2001:db8:2::53. 32 flows (one
# echo request to each of 32 server addresses) from each of corp's addresses
# leave through the router that advertised its prefix, none through the other
# (captured on both routers). resolv.conf keeps each router's order and has
# no multicast server. When r2 withdraws (router lifetime 0, its prefix still
# valid), r2's prefix's address goes and r1's address still leaves only
# through r1.
# forwarding-paths: both
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers 2
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
for i in $(seq 0 31); do ip -n "${P}server" addr add "2001:db8:ff::1$(printf %02x "$i")/128" dev lo; done
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --uplink up0 --state "$LAB_DIR/state.json"
pvdd=$LAB_LAST_PID

send() { lab_in "$1" /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 "${@:2}"; }
send r1 2001:db8:1::/64 2001:db8:1::54,ff02::1,2001:db8:1::53 --dnssl z1.test,a1.test
send r2 2001:db8:2::/64 2001:db8:2::53
corp_addresses() { ip -n pvd-corp.example.com -6 -o addr show dev pvd0 scope global | awk '{print $4}' | cut -d/ -f1 | sort; }
address_in() { corp_addresses | grep "^2001:db8:$1:"; }
two_addresses() { [ "$(corp_addresses | wc -l)" -eq 2 ]; }
lab_wait 5 two_addresses || fail "corp has no address in each prefix: $(corp_addresses) $(cat "$LAB_DIR/pvdd.log")"
a1=$(address_in 1) a2=$(address_in 2)

# flows LABEL SOURCE…: 32 echo requests from each SOURCE, captured on r1 and
# r2; prints per router how many came from each prefix: "r1:1 r1:2 r2:1 r2:2".
flows() {
    local label=$1 source i
    shift
    lab_capture r1 lan0 "$LAB_DIR/$label-r1.pcap"; local c1=$LAB_LAST_PID
    lab_capture r2 lan0 "$LAB_DIR/$label-r2.pcap"; local c2=$LAB_LAST_PID
    for source in "$@"; do
        for i in $(seq 0 31); do
            ip netns exec pvd-corp.example.com ping -6 -c 1 -W 1 -I "$source" "2001:db8:ff::1$(printf %02x "$i")" >/dev/null \
                || echo "no reply from 2001:db8:ff::1$(printf %02x "$i") to $source" >&2
        done
    done
    lab_capture_stop "$c1"; lab_capture_stop "$c2"
    local router prefix counts=()
    for router in r1 r2; do
        for prefix in 1 2; do
            counts+=("$(tcpdump -n -r "$LAB_DIR/$label-$router.pcap" "src net 2001:db8:$prefix::/64 and icmp6 and ip6[40] == 128" 2>/dev/null | wc -l)")
        done
    done
    echo "${counts[*]}"
}
read -r r1_1 r1_2 r2_1 r2_2 < <(flows both "$a1" "$a2")
echo "r1 saw $r1_1 from 2001:db8:1::/64 and $r1_2 from 2001:db8:2::/64; r2 saw $r2_1 and $r2_2" >&2
[ "$r1_1" -eq 32 ] && [ "$r2_2" -eq 32 ] || fail "not every flow left through its prefix's router: r1 $r1_1/32, r2 $r2_2/32"
[ "$r1_2" -eq 0 ] && [ "$r2_1" -eq 0 ] || fail "flows left through the wrong router: $r1_2 of r2's prefix via r1, $r2_1 of r1's via r2"

resolv=/etc/netns/pvd-corp.example.com/resolv.conf
grep -q ff02 "$resolv" && fail "a multicast DNS server reached resolv.conf: $(cat "$resolv")"
[ "$(grep '^nameserver 2001:db8:1::5' "$resolv" | awk '{print $2}' | tr '\n' ' ')" = "2001:db8:1::54 2001:db8:1::53 " ] \
    || fail "r1's servers are not in its order (54, then 53): $(cat "$resolv")"
grep -q '^nameserver 2001:db8:2::53$' "$resolv" || fail "r2's server is missing: $(cat "$resolv")"
grep -Eq '^search (.* )?z1\.test a1\.test( |$)' "$resolv" || fail "r1's search list is not in its order: $(cat "$resolv")"

# r2 withdraws: its prefix's address goes with it.
send r2 2001:db8:2::/64 2001:db8:2::53 --router-lifetime 0
one_address() { [ "$(corp_addresses)" = "$a1" ]; }
lab_wait 3 one_address || fail "r2 withdrew but corp kept $(corp_addresses)"
read -r r1_1 r1_2 r2_1 r2_2 < <(flows withdrawn "$a1")
[ "$r1_1" -eq 32 ] && [ "$r2_1" -eq 0 ] || fail "after r2 withdrew: r1 saw $r1_1/32 of r1's prefix, r2 saw $r2_1"
grep -q "1 unusable DNS server(s) refused" "$LAB_DIR/pvdd.log" || fail "the refused RDNSS address was not reported: $(cat "$LAB_DIR/pvdd.log")"

lab_pvdd_stop "$pvdd"
