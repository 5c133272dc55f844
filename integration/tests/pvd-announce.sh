# pvd announce, a router for labs that sends RFC 8801 PvD options. Its
# --dry-run --hex output decodes with scapy (the RA and the standard options;
# the PvD option's fields and nested options checked one by one) for a plain
# RA, a PvD RA with every flag and the RA header, one with --outside, two PvDs
# from --config (an RA each) and an RA split to fit a 1280-octet link. Live
# on a bridged link: started before pvdd with a long interval, it answers
# pvdd's Router Solicitation, and pvdd learns the domain within 5 s; a
# PvD-unaware host beside it autoconfigures from the options --outside puts
# outside the PvD option; on SIGTERM the last RA (router lifetime 0) makes
# pvdd withdraw the router. With --info it serves the PvD's additional
# information over HTTPS (application/pvd+json), refusing a document that
# names another PvD, and stops serving when it stops.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

# decode HEX: scapy's view of the RA, one fact per line.
decode() {
    /usr/bin/python3 - "$1" <<'PY'
import sys
from scapy.layers.inet6 import ICMPv6ND_RA
from scapy.layers.dns import dns_get_str
raw = bytes.fromhex(sys.argv[1])
ra = ICMPv6ND_RA(raw)
assert ra.type == 134, ra.type
print("lifetime", ra.routerlifetime)
def pvd(data, indent):
    """The PvD option (type 21, which scapy does not know), field by field."""
    flags, seq = int.from_bytes(data[2:4], "big"), int.from_bytes(data[4:6], "big")
    end = 6
    while data[end] != 0: end += data[end] + 1
    pvd_id = dns_get_str(data[6:end + 1], 0)[0].decode().rstrip(".")
    rest = data[(end + 1 + 7) // 8 * 8:]
    print(indent + "pvd", pvd_id, "seq", seq, "H" if flags & 0x8000 else "-", "L" if flags & 0x4000 else "-", "R" if flags & 0x2000 else "-", "delay", flags & 0xF)
    if flags & 0x2000:
        print(indent + "  ra-header lifetime", ICMPv6ND_RA(rest[:16]).routerlifetime)
        rest = rest[16:]
    facts(rest, indent + "  ")
def facts(data, indent=""):
    """Each option in `data`: scapy's own dissector for the standard ones."""
    while data:
        kind, length = data[0], data[1] * 8
        option, data = data[:length], data[length:]
        if kind == 21:
            pvd(option, indent)
            continue
        layer = ICMPv6ND_RA(bytes(16) + option).payload
        name = layer.__class__.__name__
        if name == "ICMPv6NDOptPrefixInfo": print(indent + "prefix", f"{layer.prefix}/{layer.prefixlen}", "A" if layer.A else "-", "L" if layer.L else "-")
        elif name == "ICMPv6NDOptRDNSS": print(indent + "rdnss", " ".join(layer.dns))
        elif name == "ICMPv6NDOptDNSSL": print(indent + "dnssl", " ".join(n.decode().rstrip(".") if isinstance(n, bytes) else n.rstrip(".") for n in layer.searchlist))
        elif name == "ICMPv6NDOptRouteInfo": print(indent + "route", f"{layer.prefix}/{layer.plen}")
        elif name == "ICMPv6NDOptMTU": print(indent + "mtu", layer.mtu)
        elif name == "ICMPv6NDOptSrcLLAddr": print(indent + "source", layer.lladdr)
        else: print(indent + "other", kind)
facts(raw[16:])
PY
}
expect() { grep -qx -- "$2" <<<"$1" || fail "the RA decoded by scapy has no \"$2\": $1"; }

plain=$("$PVD" announce --dry-run --hex --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53 --dnssl lab.test --route 2001:db8:99::/48 \
    --mtu 1400 --router-lifetime 900)
facts=$(decode "$plain")
for want in "lifetime 900" "prefix 2001:db8:1::/64 A L" "rdnss 2001:db8:1::53" "dnssl lab.test" "route 2001:db8:99::/48" "mtu 1400"; do
    expect "$facts" "$want"
done
! grep -q "source\|pvd" <<<"$facts" || fail "a plain RA without --interface: $facts"
pvd=$("$PVD" announce --dry-run --hex --pvd-id corp.example.com --sequence 7 --h --l --delay 3 --ra-header --prefix 2001:db8:2::/64 \
    --rdnss 2001:db8:2::53 --rdnss 2001:db8:2::54 --router-lifetime 600)
facts=$(decode "$pvd")
for want in "lifetime 600" "pvd corp.example.com seq 7 H L R delay 3" "  ra-header lifetime 600" "  prefix 2001:db8:2::/64 A L" \
    "  rdnss 2001:db8:2::53 2001:db8:2::54"; do
    expect "$facts" "$want"
done
! grep -q "^prefix\|^rdnss" <<<"$facts" || fail "options outside the PvD option without --outside: $facts"
outside=$("$PVD" announce --dry-run --hex --pvd-id corp.example.com --outside --prefix 2001:db8:2::/64)
facts=$(decode "$outside")
expect "$facts" "prefix 2001:db8:2::/64 A L"
expect "$facts" "  prefix 2001:db8:2::/64 A L"
"$PVD" ra decode "$pvd" | lab_has "pvd corp.example.com sequence 7, flags H L R, delay 3" || fail "pvd ra decode: $("$PVD" ra decode "$pvd")"
# Several PvDs from one router (--config): an RA each, the options outside in every one.
cat >"$LAB_DIR/announce.yaml" <<'YAML'
router-lifetime: 1200
outside: {prefixes: ["2001:db8:1::/64"]}
pvds:
  - {id: corp.example.com, sequence: 3, h: true, prefixes: ["2001:db8:2::/64"], rdnss: ["2001:db8:2::53"]}
  - {id: lab.example.com, l: true, prefixes: ["2001:db8:3::/64"]}
YAML
mapfile -t lines < <("$PVD" announce --dry-run --hex --config "$LAB_DIR/announce.yaml")
[ "${#lines[@]}" = 2 ] || fail "--config with two PvDs gave ${#lines[@]} RAs"
facts=$(decode "${lines[0]}")
for want in "lifetime 1200" "prefix 2001:db8:1::/64 A L" "pvd corp.example.com seq 3 H - - delay 0" "  rdnss 2001:db8:2::53"; do expect "$facts" "$want"; done
facts=$(decode "${lines[1]}")
for want in "prefix 2001:db8:1::/64 A L" "pvd lab.example.com seq 0 - L - delay 0" "  prefix 2001:db8:3::/64 A L"; do expect "$facts" "$want"; done
# An RA larger than the link is split, the PvD option's header in every part.
many=()
for i in $(seq 1 60); do many+=(--prefix "2001:db8:$(printf %x "$i")::/64"); done
mapfile -t lines < <("$PVD" announce --dry-run --hex --link-mtu 1280 --pvd-id big.example.com --sequence 5 "${many[@]}")
[ "${#lines[@]}" -gt 1 ] || fail "60 prefixes on a 1280-octet link made one RA"
total=0
for line in "${lines[@]}"; do
    [ $(( ${#line} / 2 )) -le 1240 ] || fail "a part is $(( ${#line} / 2 )) octets, more than a 1280-octet link carries"
    facts=$(decode "$line")
    expect "$facts" "pvd big.example.com seq 5 - - - delay 0"
    total=$(( total + $(grep -c "^  prefix " <<<"$facts") ))
done
[ "$total" = 60 ] || fail "the parts carry $total of the 60 prefixes"
# The unit a real router runs it with is one systemd takes.
sed "s|/usr/local/bin/pvd|$PVD|" "$(dirname "$0")/../../scripts/system/pvd-announce@.service" >"$LAB_DIR/pvd-announce@lan0.service"
systemd-analyze verify "$LAB_DIR/pvd-announce@lan0.service" >"$LAB_DIR/verify.log" 2>&1 && [ ! -s "$LAB_DIR/verify.log" ] \
    || fail "systemd-analyze verify pvd-announce@.service: $(cat "$LAB_DIR/verify.log")"
answer=$("$PVD" announce --dry-run --hex --prefix 2001:db8:1::5/200 2>&1) && fail "a bad prefix was taken"
grep -q "is not an IPv6 prefix" <<<"$answer" || fail "the refusal: $answer"

# Live, on a bridged link: the router, a pvdd host and a PvD-unaware host.
lab_netns host
lab_netns lan
lab_netns r1
lab_netns legacy
lab_bridge lan br0
lab_port host up0 lan lhost br0
lab_port r1 lan0 lan lr1 br0
lab_port legacy eth0 lan lleg br0
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_in r1 sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "${P}r1" addr add 2001:db8:1::1/64 dev lan0 nodad
r1_link_local() { ip -n "${P}r1" -6 -o addr show dev lan0 scope link | lab_has fe80; }
lab_wait 5 r1_link_local || fail "r1 has no link-local address to send from"
# pvdd starts after r1's first RA is out: it learns from the answer to its solicitation.
lab_capture host up0 "$LAB_DIR/first-ra.pcap" "icmp6 and ip6[40] == 134"
first_ra=$LAB_LAST_PID
lab_bg r1 "$LAB_DIR/announce.log" "$PVD" announce --interface lan0 --pvd-id corp.example.com --outside --prefix 2001:db8:1::/64 \
    --rdnss 2001:db8:1::53 --interval 300
announcer=$LAB_LAST_PID
lab_wait 10 lab_pcap_has "$LAB_DIR/first-ra.pcap" "icmp6 and ip6[40] == 134" || fail "r1 sent no first RA: $(cat "$LAB_DIR/announce.log")"
lab_capture_stop "$first_ra"
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --uplink up0
start=$(date +%s%N)
corp() { lab_hostnet host list | /usr/bin/python3 -c 'import json,sys
for line in sys.stdin:
    d = json.loads(line)
    if d["name"] == "corp.example.com": print(json.dumps(d["routers"]), json.dumps(d["addresses"]))'; }
learnt() { corp | lab_has '^\["fe80'; }
lab_wait 5 learnt || fail "pvdd did not learn corp within 5 s of its solicitation: $(lab_hostnet host list) $(cat "$LAB_DIR/announce.log")"
echo "pvdd learnt corp $(( ($(date +%s%N) - start) / 1000000 )) ms after it started (the announcer answered its solicitation)" >&2
legacy() { ip -n "${P}legacy" -6 -o addr show dev eth0 scope global | lab_has "2001:db8:1:"; }
lab_wait 5 legacy || fail "the PvD-unaware host did not autoconfigure from the options outside: $(ip -n "${P}legacy" -6 addr)"
kill -TERM "$announcer"
wait "$announcer" || fail "pvd announce did not end cleanly on SIGTERM: $(cat "$LAB_DIR/announce.log")"
withdrawn() { corp | lab_has '^\[\] \[\]'; }
lab_wait 3 withdrawn || fail "pvdd did not withdraw the router after the last RA: $(corp)"

# --info: the PvD's additional information over HTTPS, with RFC 8801's media
# type, on --info-address; the certificate and key given by relative paths.
# A document for another PvD is refused before anything is sent.
( cd "$LAB_DIR" && lab_pki pki >/dev/null && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout info.key \
    -out info.csr -subj /CN=corp.example.com 2>/dev/null &&
    openssl x509 -req -in info.csr -CA pki/ca.crt -CAkey pki/ca.key -set_serial 9 -days 1 -out info.crt \
        -extfile <(printf 'subjectAltName=DNS:corp.example.com\n') 2>/dev/null ) || fail "no certificate for the information server"
printf '{"identifier": "corp.example.com", "expires": "2099-01-01T00:00:00Z", "prefixes": ["2001:db8:1::/64"]}' >"$LAB_DIR/info.json"
printf '{"identifier": "other.example.com", "expires": "2099-01-01T00:00:00Z", "prefixes": ["2001:db8:1::/64"]}' >"$LAB_DIR/other.json"
ip -n "${P}r1" addr add 2001:db8:1::80/128 dev lan0 nodad
cd "$LAB_DIR"
answer=$(nsenter --net="/run/netns/${P}r1" "$PVD" announce --interface lan0 --pvd-id corp.example.com --info other.json \
    --certificate info.crt --key info.key 2>&1) && fail "a document for another PvD was served"
grep -q "other.json is for other.example.com, not for corp.example.com" <<<"$answer" || fail "the refusal: $answer"
lab_bg r1 "$LAB_DIR/info-announce.log" "$PVD" announce --interface lan0 --pvd-id corp.example.com --prefix 2001:db8:1::/64 \
    --info info.json --certificate info.crt --key info.key --info-address 2001:db8:1::80 --interval 300
announcer=$LAB_LAST_PID
fetch() { ip netns exec "${P}legacy" curl -sS -i --max-time 3 --cacert pki/ca.crt --resolve "corp.example.com:443:[2001:db8:1::80]" \
    https://corp.example.com/.well-known/pvd; }
lab_wait 5 fetch || fail "the information server does not answer: $(fetch 2>&1) $(cat "$LAB_DIR/info-announce.log")"
fetch | lab_has -i '^Content-Type: application/pvd+json' || fail "not served as application/pvd+json: $(fetch)"
fetch | lab_has '"identifier": "corp.example.com"' || fail "another document was served: $(fetch)"
"$PVD" announce --dry-run --hex --pvd-id corp.example.com --info info.json --certificate info.crt --key info.key |
    "$PVD" ra decode | lab_has "flags H" || fail "--info does not set the H flag"
kill -TERM "$announcer"
wait "$announcer" || fail "pvd announce with --info did not end cleanly: $(cat "$LAB_DIR/info-announce.log")"
! fetch >/dev/null 2>&1 || fail "the information server outlived pvd announce"
[ ! -e /run/pvd-announce/lan0 ] || fail "the information server's files are left: $(ls -R /run/pvd-announce/lan0)"
cd /
