# The macvlan attachment, where the kernel has macvlan: the domain is a node on
# the link with a MAC address of its own, reaches the server through its router
# directly (seen at the router with the domain's MAC, not the host's), reads
# back as macvlan, and removing it restores the host.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
if ! lab_hostnet host features | lab_has -x "macvlan: yes"; then
    echo "this kernel has no macvlan, so the macvlan attachment cannot be tested here" >&2
    exit 77
fi
lab_host_state >"$LAB_DIR/before"
printf '{"name": "%sm1", "uplink": "up0", "attachment": "macvlan", "prefixes": ["2001:db8:1::/64"], "routers": ["fe80::11"], "on_link": ["2001:db8:1::/64"], "dns": ["2001:db8:1::53"]}' "$P" >"$LAB_DIR/m1.json"
lab_hostnet host apply --dad "$LAB_DIR/m1.json"
lab_hostnet host list >"$LAB_DIR/list.json"
/usr/bin/python3 - "$LAB_DIR/list.json" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).readline())
expected = {"attachment": "macvlan", "uplink": "up0", "routers": ["fe80::11"], "on_link": ["2001:db8:1::/64"],
            "routes": [], "dns": ["2001:db8:1::53"]}
wrong = {k: (d.get(k), v) for k, v in expected.items() if d.get(k) != v}
if wrong or len(d["addresses"]) != 1:
    sys.exit(f"read back differs: {wrong}, {d['addresses']}")
PY
address=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addresses"][0])' "$LAB_DIR/list.json")
lab_capture r1 lan0 "$LAB_DIR/r1.pcap"
capture=$LAB_LAST_PID
ip netns exec "pvd-${P}m1" ping -6 -c 2 -i 0.2 -W 2 2001:db8:ff::1 >/dev/null || fail "m1 cannot reach the server"
lab_capture_stop "$capture"
domain_mac=$(ip -n "pvd-${P}m1" -o link show pvd0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
host_mac=$(ip -n "${P}host" -o link show up0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
[ "$domain_mac" != "$host_mac" ] || fail "the macvlan has the uplink's MAC address"
tcpdump -e -n -r "$LAB_DIR/r1.pcap" "icmp6 and ip6[40] == 128 and src $address" 2>/dev/null | lab_has "^[0-9:.]* $domain_mac >" \
    || fail "the echo requests did not come from the domain's own MAC address"
sed 's/"macvlan"/"routed"/' "$LAB_DIR/m1.json" >"$LAB_DIR/m1-routed.json"
if lab_hostnet host apply "$LAB_DIR/m1-routed.json" 2>"$LAB_DIR/error"; then fail "changed a domain's attachment in place"; fi
grep -q "attach ${P}m1 by routed: it is attached by macvlan; remove it to change that" "$LAB_DIR/error" \
    || fail "unexpected error: $(cat "$LAB_DIR/error")"
lab_hostnet host remove "${P}m1"
lab_host_state >"$LAB_DIR/now"
diff "$LAB_DIR/before" "$LAB_DIR/now" || fail "removing the macvlan domain left changes"
