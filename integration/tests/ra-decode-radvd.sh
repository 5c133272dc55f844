# Debian's radvd advertises on a veth; tcpdump captures on the other end
# (Ethernet framing); `pvd ra decode --pcap --json` must show exactly what
# radvd was configured to send, from the router's link-local address.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_netns router
lab_netns host
lab_link router r0 host h0
cat >"$LAB_DIR/radvd.conf" <<'CONF'
interface r0 {
    AdvSendAdvert on;
    MaxRtrAdvInterval 300;
    AdvDefaultLifetime 1800;
    AdvLinkMTU 1480;
    AdvManagedFlag on;
    AdvDefaultPreference high;
    prefix 2001:db8:1::/64 { AdvValidLifetime 86400; AdvPreferredLifetime 14400; };
    route 2001:db8:100::/48 { AdvRoutePreference low; AdvRouteLifetime 900; };
    RDNSS 2001:db8::53 2001:db8::54 { AdvRDNSSLifetime 600; };
    DNSSL corp.example.com example.com { AdvDNSSLLifetime 600; };
};
CONF
lab_capture host h0 "$LAB_DIR/ra.pcap"
lab_radvd router "$LAB_DIR/radvd.conf"
captured() { "$PVD" ra decode --pcap "$LAB_DIR/ra.pcap" | lab_has 'router advertisement'; }
lab_wait 15 captured \
    || fail "no RA captured; radvd said: $(cat "$LAB_DIR"/radvd-router.log)"

"$PVD" ra decode --json --pcap "$LAB_DIR/ra.pcap" | sed -n 1p >"$LAB_DIR/ra.json"
router_ll=$(ip -n "${LAB_PREFIX}router" -6 -o addr show dev r0 scope link | awk '{print $4}' | cut -d/ -f1)
router_mac=$(ip -n "${LAB_PREFIX}router" -o link show dev r0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
/usr/bin/python3 - "$LAB_DIR/ra.json" "$router_ll" "$router_mac" <<'PY'
import json, sys
ra = json.load(open(sys.argv[1]))
expected = {
    "source": sys.argv[2], "source_lla": sys.argv[3],
    "managed": True, "other": False, "preference": "high", "router_lifetime": 1800, "mtu": 1480,
    "prefixes": [{"prefix": "2001:db8:1::/64", "on_link": True, "autonomous": True, "router_address": False,
                  "flags": 0xC0, "valid_lifetime": 86400, "preferred_lifetime": 14400}],
    "routes": [{"prefix": "2001:db8:100::/48", "preference": "low", "lifetime": 900}],
    "rdnss": [{"lifetime": 600, "servers": ["2001:db8::53", "2001:db8::54"]}],
    "dnssl": [{"lifetime": 600, "domains": ["corp.example.com", "example.com"]}],
    "unknown": [], "pvd": None, "notes": [],
}
wrong = {key: (ra.get(key), value) for key, value in expected.items() if ra.get(key) != value}
if wrong:
    sys.exit(f"decoded RA differs from radvd's configuration: {wrong}")
PY
