# kill -9 of pvdd while RAs flow, then a restart: the domains and a program
# running inside one are untouched (no netlink change at all, no lost ping),
# and the restarted daemon's state matches what was there.
# forwarding-paths: both
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_host_state >"$LAB_DIR/before"
cat >"$LAB_DIR/radvd.conf" <<'CONF'
interface lan0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    prefix 2001:db8:1::/64 { };
    RDNSS 2001:db8:1::53 { };
};
CONF
state=$LAB_DIR/state/pvdd.json
start_pvdd() {
    lab_pvdd "$LAB_DIR/pvdd-$1.log" "up0" --uplink up0 --state "$state"
    pvdd=$LAB_LAST_PID
}
list() { lab_hostnet host list; }
domain_count_is() { [ "$(list | wc -l)" -eq "$1" ]; }
# Two domains, each with its address (after duplicate address detection).
both_addressed() { domain_count_is 2 && ! list | lab_has '"addresses":\[\]'; }

start_pvdd 1
lab_radvd r1 "$LAB_DIR/radvd.conf"
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 5 2001:db8:2::/64 2001:db8:2::53
lab_wait 5 both_addressed || fail "no two domains with addresses: $(list)"
list >"$LAB_DIR/before-kill.json"

# A program inside corp, and RAs from r2 that keep coming through the kill.
ip netns exec pvd-corp.example.com ping -6 -n -i 0.1 2001:db8:ff::1 >"$LAB_DIR/ping.log" 2>&1 &
ping_pid=$!
LAB_PIDS+=("$ping_pid")
lab_wait 10 grep -q "bytes from" "$LAB_DIR/ping.log" || fail "corp cannot reach the server"
# RAs that arrive while pvdd is away: the first is on the link before the kill.
lab_capture host up0 "$LAB_DIR/ras.pcap" "icmp6 and ip6[40] == 134"
ras_capture=$LAB_LAST_PID
lab_bg r2 "$LAB_DIR/ras.log" /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 5 2001:db8:2::/64 2001:db8:2::53 \
    --count 30 --interval 0.2
lab_wait 5 lab_pcap_has "$LAB_DIR/ras.pcap" "icmp6 and ip6[40] == 134" || fail "r2 sent no RA"
lab_capture_stop "$ras_capture"

kill -9 "$pvdd"
wait "$pvdd" 2>/dev/null || true
[ -s "$state" ] || fail "pvdd left no state file"
list >"$LAB_DIR/after-kill.json"
diff "$LAB_DIR/before-kill.json" "$LAB_DIR/after-kill.json" || fail "the domains changed when pvdd was killed"

lab_no_kernel_change host start_pvdd 2
grep -q "carrying on with 2 domain(s)" "$LAB_DIR/pvdd-2.log" || fail "the restarted pvdd did not take up its state: $(cat "$LAB_DIR/pvdd-2.log")"
list >"$LAB_DIR/after-restart.json"
diff "$LAB_DIR/before-kill.json" "$LAB_DIR/after-restart.json" || fail "the domains differ after the restart"
/usr/bin/python3 - "$state" "$LAB_DIR/after-restart.json" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
kernel = sorted(json.loads(line)["name"] for line in open(sys.argv[2]))
saved = sorted(domain["name"] for domain in state["domains"])
if saved != kernel:
    sys.exit(f"state {saved} does not match the kernel {kernel}")
PY
# The program carried on after it all.
lab_more_replies "$LAB_DIR/ping.log" 15
kill -INT "$ping_pid"
wait "$ping_pid" || true
lab_ping_unbroken "$LAB_DIR/ping.log" 20

lab_pvdd_stop "$pvdd"
[ ! -e "$state" ] || fail "the state file outlived a full stop"
lab_host_state >"$LAB_DIR/after"
diff "$LAB_DIR/before" "$LAB_DIR/after" || fail "pvdd left changes after SIGTERM"
