# Two domains on one uplink with different routers and prefixes (docs/design.md, "A
# domain on the host"), made by HostNet in a "host" namespace: each reaches the
# server through its own router only (captured on both routers), resolves names
# through its own resolv.conf and DNS server, and a packet forced out of one
# domain with the other's source address is dropped. Re-applying changes
# nothing (no netlink change message); removing both leaves the host as before.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
lab_host_state >"$LAB_DIR/before"
for i in 1 2; do
    lab_bg "r$i" "$LAB_DIR/dns$i.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" "2001:db8:$i::53" server.test "2001:db8:ff::$i"
done
for i in 1 2; do lab_wait 10 grep -q listening "$LAB_DIR/dns$i.log" || fail "DNS responder $i did not start"; done

echo "[$(lab_domain_spec 1), $(lab_domain_spec 2)]" >"$LAB_DIR/domains.json"
lab_hostnet host apply "$LAB_DIR/domains.json"
lab_hostnet host list >"$LAB_DIR/list.json"
d1=$(/usr/bin/python3 -c 'import json,sys; print([d for d in map(json.loads, open(sys.argv[1])) if d["name"].endswith("d1")][0]["addresses"][0])' "$LAB_DIR/list.json")
d2=$(/usr/bin/python3 -c 'import json,sys; print([d for d in map(json.loads, open(sys.argv[1])) if d["name"].endswith("d2")][0]["addresses"][0])' "$LAB_DIR/list.json")
case $d1 in 2001:db8:1:0:*) ;; *) fail "d1 address $d1 is not in 2001:db8:1::/64" ;; esac
case $d2 in 2001:db8:2:0:*) ;; *) fail "d2 address $d2 is not in 2001:db8:2::/64" ;; esac
/usr/bin/python3 - "$LAB_DIR/list.json" "$P" <<'PY'
import json, sys
domains = {d["name"]: d for d in map(json.loads, open(sys.argv[1]))}
prefix = sys.argv[2]
for i in (1, 2):
    d = domains[f"{prefix}d{i}"]
    expected = {"uplink": "up0", "routers": [f"fe80::1{i}"], "on_link": [f"2001:db8:{i}::/64"],
                "routes": [], "mtu": None, "dns": [f"2001:db8:{i}::53"], "search": [f"d{i}.test"]}
    wrong = {k: (d[k], v) for k, v in expected.items() if d[k] != v}
    if wrong or len(d["addresses"]) != 1:
        sys.exit(f"read back {d['name']} differs: {wrong} {d['addresses']}")
PY

# Re-applying the same state changes nothing: no netlink change message at all.
lab_no_kernel_change host lab_hostnet host apply "$LAB_DIR/domains.json"

# Each domain reaches the server through its own router only.
lab_capture r1 lan0 "$LAB_DIR/r1.pcap"; cap1=$LAB_LAST_PID
lab_capture r2 lan0 "$LAB_DIR/r2.pcap"; cap2=$LAB_LAST_PID
ip netns exec "pvd-${P}d1" ping -6 -c 3 -i 0.2 -W 2 2001:db8:ff::1 >/dev/null || fail "d1 cannot reach the server"
ip netns exec "pvd-${P}d2" ping -6 -c 3 -i 0.2 -W 2 2001:db8:ff::1 >/dev/null || fail "d2 cannot reach the server"
lab_capture_stop "$cap1"; lab_capture_stop "$cap2"
count() { tcpdump -n -r "$1" "icmp6 and ip6[40] == 128 and src $2" 2>/dev/null | wc -l; }
[ "$(count "$LAB_DIR/r1.pcap" "$d1")" -eq 3 ] || fail "r1 saw $(count "$LAB_DIR/r1.pcap" "$d1") of d1's 3 echo requests: $(tcpdump -n -r "$LAB_DIR/r1.pcap" 2>/dev/null)"
[ "$(count "$LAB_DIR/r2.pcap" "$d2")" -eq 3 ] || fail "r2 saw $(count "$LAB_DIR/r2.pcap" "$d2") of d2's 3 echo requests: $(tcpdump -n -r "$LAB_DIR/r2.pcap" 2>/dev/null)"
[ "$(count "$LAB_DIR/r2.pcap" "$d1")" -eq 0 ] || fail "d1's traffic went through r2"
[ "$(count "$LAB_DIR/r1.pcap" "$d2")" -eq 0 ] || fail "d2's traffic went through r1"

# DNS inside each domain reads that domain's resolv.conf and asks its own server.
for i in 1 2; do
    conf=$(ip netns exec "pvd-${P}d$i" cat /etc/resolv.conf)
    grep -qx "nameserver 2001:db8:$i::53" <<<"$conf" || fail "d$i resolv.conf: $conf"
    answer=$(ip netns exec "pvd-${P}d$i" getent ahostsv6 server.test | awk 'NR==1 {print $1}')
    [ "$answer" = "2001:db8:ff::$i" ] || fail "d$i resolved server.test to '$answer', not through its own DNS server"
done
grep -q "from $d1" "$LAB_DIR/dns1.log" || fail "d1's query did not reach r1's DNS server"
lab_file_lacks "$LAB_DIR/dns2.log" "from $d1" || fail "d1's query reached r2's DNS server"

# A packet forced out of d1 with d2's source address is dropped on the host.
ip -n "pvd-${P}d1" addr add "$d2/128" dev pvd0 nodad
lab_capture r1 lan0 "$LAB_DIR/spoof1.pcap"; cap1=$LAB_LAST_PID
lab_capture r2 lan0 "$LAB_DIR/spoof2.pcap"; cap2=$LAB_LAST_PID
if ip netns exec "pvd-${P}d1" ping -6 -c 2 -i 0.2 -W 1 -I "$d2" 2001:db8:ff::1 >/dev/null 2>&1; then
    fail "d1 reached the server with d2's address"
fi
lab_capture_stop "$cap1"; lab_capture_stop "$cap2"
[ "$(count "$LAB_DIR/spoof1.pcap" "$d2")" -eq 0 ] && [ "$(count "$LAB_DIR/spoof2.pcap" "$d2")" -eq 0 ] \
    || fail "a spoofed packet left the host"
ip -n "pvd-${P}d1" addr del "$d2/128" dev pvd0

# Removing one domain leaves the other working; removing both restores the host.
lab_hostnet host remove "${P}d1"
ip netns exec "pvd-${P}d2" ping -6 -c 1 -W 2 2001:db8:ff::1 >/dev/null || fail "d2 broke when d1 was removed"
lab_hostnet host remove "${P}d2"
lab_host_state >"$LAB_DIR/after"
diff "$LAB_DIR/before" "$LAB_DIR/after" || fail "host state differs after removing both domains"
