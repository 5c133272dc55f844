# Duplicate address detection through libndp before a domain address is used:
# an address that a router on the link owns is refused and nothing changes; a
# free address is probed on the link (the Neighbor Solicitation is seen at the
# router) and then used.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
lab_host_state >"$LAB_DIR/before"
spec() { printf '{"name": "%sd3", "uplink": "up0", "addresses": ["%s"], "routers": ["fe80::11"], "on_link": ["2001:db8:1::/64"]}' "$P" "$1"; }

spec 2001:db8:1::1 >"$LAB_DIR/taken.json"
if lab_hostnet host apply --dad "$LAB_DIR/taken.json" 2>"$LAB_DIR/error"; then fail "applied an address r1 owns"; fi
grep -q "duplicate address detection 2001:db8:1::1 on up0: another node answers for it" "$LAB_DIR/error" \
    || fail "unexpected error: $(cat "$LAB_DIR/error")"
lab_host_state >"$LAB_DIR/now"
diff "$LAB_DIR/before" "$LAB_DIR/now" || fail "the refused apply left changes"

spec 2001:db8:1::77 >"$LAB_DIR/free.json"
lab_capture r1 lan0 "$LAB_DIR/r1.pcap"
capture=$LAB_LAST_PID
lab_hostnet host apply --dad "$LAB_DIR/free.json" || fail "a free address was refused"
lab_capture_stop "$capture"
tcpdump -n -r "$LAB_DIR/r1.pcap" 2>/dev/null | lab_has "neighbor solicitation, who has 2001:db8:1::77" \
    || fail "no Neighbor Solicitation for the new address reached the link"
ip netns exec "pvd-${P}d3" ping -6 -c 1 -W 2 2001:db8:ff::1 >/dev/null || fail "d3 cannot reach the server"
lab_hostnet host remove "${P}d3"
lab_host_state >"$LAB_DIR/now"
diff "$LAB_DIR/before" "$LAB_DIR/now" || fail "removing d3 left changes"
