# pvdd sends a Router Solicitation when an uplink comes up, not only at start,
# so the routers of a link that returns answer at once. (The host's own kernel
# sends none here: accept_ra is 0 on the test's uplink.)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --uplink up0 --state "$LAB_DIR/state/pvdd.json"
pvdd=$LAB_LAST_PID
lab_capture r1 lan0 "$LAB_DIR/r1.pcap"
capture=$LAB_LAST_PID
# Only the host's: the bridge ports in "lan" solicit too when their carrier flips.
host_ll=$(ip -n "${LAB_PREFIX}host" -6 -o addr show dev up0 scope link | awk '{print $4}' | cut -d/ -f1)
solicitations() { tcpdump -n -r "$LAB_DIR/r1.pcap" "icmp6 and ip6[40] == 133 and src $host_ll" 2>/dev/null | wc -l; }
lab_capture_sync "$capture"
[ "$(solicitations)" -eq 0 ] || fail "a solicitation before the link went down"
ip -n "${LAB_PREFIX}host" link set up0 down
ip -n "${LAB_PREFIX}host" link set up0 up
solicited() { [ "$(solicitations)" -ge 1 ]; }
lab_wait 5 solicited || fail "no Router Solicitation after the uplink came back up"
lab_capture_stop "$capture"
lab_pvdd_stop "$pvdd"
