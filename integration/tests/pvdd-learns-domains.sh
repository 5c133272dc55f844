# pvdd turns Router Advertisements into domains: on one link, r1 runs Debian's
# radvd (no PvD option: an implicit PvD) and r2 and r3 both advertise the PvD
# corp.example.com with different prefixes (RAs built by scapy). Within 2 s
# there are exactly two domains; corp has both routers and both prefixes, and
# an address in each once duplicate address detection (1 s) found them free; each
# domain's resolv.conf holds its own RDNSS. r2 withdrawing (router lifetime 0)
# leaves corp working through r3; a new sequence number from r3 replaces the
# configuration; short lifetimes expire on time on the real clock, and the
# emptied domain goes after the grace period. SIGTERM removes what pvdd made.
# forwarding-paths: both
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers 3
# The host's own autoconfiguration from r1's RAs is not pvdd's doing: keep it
# out of the before/after comparison.
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_host_state >"$LAB_DIR/before"
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --uplink up0 --grace-period 2 --state "$LAB_DIR/state/pvdd.json"
pvdd=$LAB_LAST_PID

send() { lab_in "$1" /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com "${@:2}"; }
list() { lab_hostnet host list; }
# corp FIELD: one field of corp.example.com's read-back state, as JSON.
corp() { list | /usr/bin/python3 -c 'import json,sys; d=[json.loads(l) for l in sys.stdin]; c=[x for x in d if x["name"]=="corp.example.com"]; print(json.dumps(c[0][sys.argv[1]]) if c else "absent")' "$1"; }
links() { ip -n "${P}$1" -6 -o addr show dev lan0 scope link | awk '{print $4}' | cut -d/ -f1; }
# Conditions to wait for.
domain_count_is() { [ "$(list | wc -l)" -eq "$1" ]; }
corp_is() { [ "$(corp "$1")" = "$2" ]; }
corp_address_count_is() { [ "$(corp addresses | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq "$1" ]; }
corp_router_count_is() { [ "$(corp routers | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq "$1" ]; }
corp_absent() { [ "$(corp name)" = absent ]; }

lab_radvd_plain 1
send r2 10 2001:db8:2::/64 2001:db8:2::53
send r3 10 2001:db8:3::/64 2001:db8:3::53
start=$(date +%s%N)
all_there() { domain_count_is 2 && corp_is on_link '["2001:db8:2::/64", "2001:db8:3::/64"]' && corp_address_count_is 2; }
lab_wait 2 all_there || fail "no two domains within 2 s: $(list) $(cat "$LAB_DIR/pvdd.log")"
echo "two domains after $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
list >"$LAB_DIR/domains.json"
/usr/bin/python3 - "$LAB_DIR/domains.json" "$(links r2)" "$(links r3)" <<'PY'
import ipaddress, json, sys
domains = {d["name"]: d for d in map(json.loads, open(sys.argv[1]))}
r2, r3 = set(sys.argv[2].split()), set(sys.argv[3].split())
corp = domains.pop("corp.example.com")
(implicit_name, implicit), = domains.items()
if not implicit_name.startswith("up0-fe80-"):
    sys.exit(f"implicit domain named {implicit_name}")
def within(addresses, prefix):
    return sorted(str(ipaddress.ip_network(prefix)) for a in addresses if ipaddress.ip_address(a) in ipaddress.ip_network(prefix))
problems = []
if len(corp["routers"]) != 2 or not (set(corp["routers"]) & r2) or not (set(corp["routers"]) & r3):
    problems.append(f"corp routers {corp['routers']}")
if corp["on_link"] != ["2001:db8:2::/64", "2001:db8:3::/64"] or len(corp["addresses"]) != 2 \
        or not within(corp["addresses"], "2001:db8:2::/64") or not within(corp["addresses"], "2001:db8:3::/64"):
    problems.append(f"corp prefixes {corp['on_link']} addresses {corp['addresses']}")
if sorted(corp["dns"]) != ["2001:db8:2::53", "2001:db8:3::53"] or implicit["dns"] != ["2001:db8:1::53"]:
    problems.append(f"DNS corp {corp['dns']} implicit {implicit['dns']}")
if implicit["on_link"] != ["2001:db8:1::/64"] or len(implicit["routers"]) != 1:
    problems.append(f"implicit {implicit}")
if problems:
    sys.exit("; ".join(problems))
PY
implicit=$(list | grep -o '"name":"up0-fe80-[^"]*"' | cut -d'"' -f4)
grep -qx "nameserver 2001:db8:1::53" "/etc/netns/pvd-$implicit/resolv.conf" || fail "implicit resolv.conf: $(cat "/etc/netns/pvd-$implicit/resolv.conf")"
lab_file_lacks "/etc/netns/pvd-$implicit/resolv.conf" "2001:db8:[23]::53" || fail "the implicit domain got corp's DNS"
grep -q "2001:db8:2::53" /etc/netns/pvd-corp.example.com/resolv.conf && grep -q "2001:db8:3::53" /etc/netns/pvd-corp.example.com/resolv.conf \
    || fail "corp resolv.conf: $(cat /etc/netns/pvd-corp.example.com/resolv.conf)"

# r2 withdraws: corp keeps working through r3.
send r2 10 2001:db8:2::/64 2001:db8:2::53 --router-lifetime 0
lab_wait 2 corp_router_count_is 1 || fail "r2 was not withdrawn: $(corp routers)"
/usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if len(r)==1 and r[0] in sys.argv[2].split() else f"corp routers {r}")' "$(corp routers)" "$(links r3)"
lab_capture r3 lan0 "$LAB_DIR/r3.pcap"
capture=$LAB_LAST_PID
ip netns exec pvd-corp.example.com ping -6 -c 2 -i 0.3 -W 2 2001:db8:ff::1 >/dev/null || fail "corp cannot reach the server after r2 withdrew"
lab_capture_stop "$capture"
[ "$(tcpdump -n -r "$LAB_DIR/r3.pcap" 'icmp6 and ip6[40] == 128' 2>/dev/null | wc -l)" -ge 2 ] || fail "corp's traffic did not go through r3"

# A new sequence number from r3 replaces corp's whole configuration.
send r3 11 2001:db8:33::/64 2001:db8:3::53
lab_wait 2 corp_is on_link '["2001:db8:33::/64"]' || fail "sequence 11 did not replace the configuration: $(corp on_link)"
lab_wait 2 corp_address_count_is 1 || fail "no single address after sequence 11: $(corp addresses)"
[ "$(corp addresses | grep -o '2001:db8:33:' | wc -l)" -eq 1 ] && [ "$(corp addresses | grep -o '2001:db8:' | wc -l)" -eq 1 ] \
    || fail "corp addresses after sequence 11: $(corp addresses)"

# Short lifetimes on the real clock: gone after 2 s, the domain after 2 s more of grace.
send r3 12 2001:db8:33::/64 2001:db8:3::53 --router-lifetime 2 --valid 2
sent=$(date +%s%N)
lab_wait 5 corp_is addresses '[]' || fail "corp's address did not expire: $(corp addresses)"
emptied=$(( ($(date +%s%N) - sent) / 1000000 ))
lab_wait 6 corp_absent || fail "corp was not removed after its grace period"
removed=$(( ($(date +%s%N) - sent) / 1000000 ))
echo "corp emptied after $emptied ms, removed after $removed ms" >&2
[ "$emptied" -ge 1500 ] && [ "$emptied" -le 3000 ] || fail "lifetimes of 2 s ran out after $emptied ms"
[ "$removed" -ge 3500 ] && [ "$removed" -le 5500 ] || fail "the 2 s grace period ended after $removed ms"

lab_pvdd_stop "$pvdd"
grep -q "stopped on signal 15" "$LAB_DIR/pvdd.log" || fail "pvdd did not stop cleanly: $(cat "$LAB_DIR/pvdd.log")"
lab_host_state >"$LAB_DIR/after"
diff "$LAB_DIR/before" "$LAB_DIR/after" || fail "pvdd left changes after SIGTERM"
