# A PvD RA sent by scapy from the router namespace crosses a veth; tcpdump on
# "any" captures it with Linux cooked framing; `pvd ra decode` must find the
# PvD option with its nested PIO and RDNSS, and the RA's hex (as libndp would
# hand it over) must decode to the same JSON.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_netns router
lab_netns host
lab_link router r0 host h0
lab_capture host any "$LAB_DIR/pvd.pcap"
lab_in router /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send r0 corp.example.com 42 2001:db8:42::/64 2001:db8:42::53 --count 2
captured() { "$PVD" ra decode --pcap "$LAB_DIR/pvd.pcap" | lab_has 'pvd corp.example.com'; }
lab_wait 10 captured \
    || fail "no PvD RA captured"

link_type=$(/usr/bin/python3 -c 'import struct,sys; print(struct.unpack("<I", open(sys.argv[1],"rb").read()[20:24])[0] & 0xFFFF)' "$LAB_DIR/pvd.pcap")
[ "$link_type" = 113 ] || [ "$link_type" = 276 ] || fail "capture on 'any' has link type $link_type, not Linux cooked"
"$PVD" ra decode --json --pcap "$LAB_DIR/pvd.pcap" >"$LAB_DIR/pvd.json"
/usr/bin/python3 - "$LAB_DIR/pvd.json" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
if len(lines) != 2:
    sys.exit(f"expected the 2 RAs sent, decoded {len(lines)}")
pvd = lines[0]["pvd"]
expected = {"id": "corp.example.com", "sequence": 42, "h": True, "l": False, "r": False, "delay": 1, "ra_header": None}
wrong = {key: (pvd.get(key), value) for key, value in expected.items() if pvd.get(key) != value}
options = pvd["options"]
if options["prefixes"] != [{"prefix": "2001:db8:42::/64", "on_link": True, "autonomous": True, "router_address": False,
                            "flags": 0xC0, "valid_lifetime": 3600, "preferred_lifetime": 1800}]:
    wrong["prefixes"] = options["prefixes"]
if options["rdnss"] != [{"lifetime": 600, "servers": ["2001:db8:42::53"]}]:
    wrong["rdnss"] = options["rdnss"]
if lines[0]["prefixes"] or lines[0]["rdnss"]:
    wrong["outside the PvD"] = (lines[0]["prefixes"], lines[0]["rdnss"])
if wrong:
    sys.exit(f"decoded PvD differs from what was sent: {wrong}")
PY

# The same RA as bare hex on stdin decodes to the same fields.
hex=$(/usr/bin/python3 - "$LAB_DIR/pvd.pcap" <<'PY'
import sys
from scapy.utils import rdpcap
from scapy.layers.inet6 import IPv6
print(next(bytes(p[IPv6].payload) for p in rdpcap(sys.argv[1]) if IPv6 in p and bytes(p[IPv6].payload)[:1] == b"\x86").hex())
PY
)
echo "$hex" | "$PVD" ra decode --json >"$LAB_DIR/hex.json"
/usr/bin/python3 - "$LAB_DIR/hex.json" "$LAB_DIR/pvd.json" <<'PY'
import json, sys
from_hex = json.loads(open(sys.argv[1]).read())
from_pcap = json.loads(open(sys.argv[2]).readline())
for key in ("packet", "source"):
    from_pcap.pop(key)
if from_hex != from_pcap:
    sys.exit(f"hex and pcap decodes differ:\n{from_hex}\n{from_pcap}")
PY
