# RFC 8801 additional information: for each PvD with the H flag, pvdd fetches
# https://<PvD ID>/.well-known/pvd through the domain itself (DNS from the
# domain's resolv.conf, the connection from the domain's address), checks the
# certificate against a test CA given in the config, and keeps the document
# only when it is valid. r1 advertises six PvDs; its HTTPS server answers:
# good (valid), wrongid (another identifier), uncovered (a prefix not
# covered), missing (404), expired (expired document), and untrusted (a name
# the certificate does not hold).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers 1
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
chmod 755 "$LAB_DIR"  # pvd-fetch runs as nobody and reads the CA from here
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$LAB_DIR/ca.key" -out "$LAB_DIR/ca.pem" -days 2 \
    -subj "/CN=pvd test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$LAB_DIR/server.key" -out "$LAB_DIR/server.csr" -subj "/CN=good.example.com" 2>/dev/null
names="good wrongid uncovered missing expired"
printf 'subjectAltName=%s\n' "$(for n in $names; do printf 'DNS:%s.example.com,' "$n"; done | sed 's/,$//')" >"$LAB_DIR/san"
openssl x509 -req -in "$LAB_DIR/server.csr" -CA "$LAB_DIR/ca.pem" -CAkey "$LAB_DIR/ca.key" -CAcreateserial \
    -out "$LAB_DIR/server.pem" -days 2 -extfile "$LAB_DIR/san" 2>/dev/null
chmod 644 "$LAB_DIR/ca.pem"

lab_bg r1 "$LAB_DIR/https.log" /usr/bin/python3 "$LAB_HERE/pvd_info_server.py" 2001:db8:1::1 "$LAB_DIR/server.pem" "$LAB_DIR/server.key"
lab_bg r1 "$LAB_DIR/dns.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:1::53 "*.example.com" 2001:db8:1::1
lab_wait 10 grep -q listening "$LAB_DIR/https.log" || fail "no HTTPS server: $(cat "$LAB_DIR/https.log")"
lab_wait 10 grep -q listening "$LAB_DIR/dns.log" || fail "no DNS server: $(cat "$LAB_DIR/dns.log")"

cat >"$LAB_DIR/pvdd.yaml" <<CONF
uplinks: [up0]
state: $LAB_DIR/state/pvdd.json
aliases:
CONF
for n in $names untrusted; do echo "  ${P}$n: $n.example.com" >>"$LAB_DIR/pvdd.yaml"; done
cat >>"$LAB_DIR/pvdd.yaml" <<CONF
additional-information:
  ca-file: $LAB_DIR/ca.pem
CONF
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --config "$LAB_DIR/pvdd.yaml"
pvdd=$LAB_LAST_PID
for n in $names untrusted; do
    lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 "$n.example.com" 1 2001:db8:1::/64 2001:db8:1::53 --delay 0
done

# status NAME: the additional-information status of domain ${P}NAME in the state file.
status() {
    /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["additional_information"].get(sys.argv[2], {}).get("status", "none"))' \
        "$LAB_DIR/state/pvdd.json" "$P$1" 2>/dev/null || echo none
}
all_done() {
    local n
    for n in $names untrusted; do case $(status "$n") in none|waiting|fetching) return 1 ;; esac; done
}
lab_wait 20 all_done || fail "fetches did not finish: $(for n in $names untrusted; do echo "$n: $(status "$n")"; done); $(cat "$LAB_DIR/pvdd.log")"

expect() {
    local got
    got=$(status "$1")
    case $got in $2) echo "$1: $got" >&2 ;; *) fail "$1: status '$got', expected $2" ;; esac
}
expect good "valid"
expect wrongid "invalid document: identifier other.example.com does not match the advertised PvD ID wrongid.example.com"
expect uncovered "invalid document: advertised prefix 2001:db8:1::/64 is not covered by \"prefixes\""
expect expired "invalid document: expired at 2020-01-01T00:00:00Z"
expect missing "HTTP 404"
expect untrusted "*certificate*"
/usr/bin/python3 - "$LAB_DIR/state/pvdd.json" "$P" <<'PY' || fail "the good document is not in the state"
import json, sys
info = json.load(open(sys.argv[1]))["additional_information"][sys.argv[2] + "good"]
document = info["document"]
assert document["identifier"] == "good.example.com", document
assert document["prefixes"] == ["2001:db8:1::/48"], document
PY

# Through the domain: each request came from that domain's own address, and
# its name was looked up from there too.
good_address=$(lab_hostnet host list | /usr/bin/python3 -c 'import json,sys; [print(d["addresses"][0]) for d in map(json.loads, sys.stdin) if d["name"]==sys.argv[1]]' "${P}good")
[ -n "$good_address" ] || fail "no address for ${P}good"
grep -q "request good.example.com /.well-known/pvd from $good_address" "$LAB_DIR/https.log" \
    || fail "the good fetch did not come from $good_address: $(cat "$LAB_DIR/https.log")"
grep -q "query good.example.com type 28 from $good_address" "$LAB_DIR/dns.log" \
    || fail "the lookup did not come from $good_address: $(cat "$LAB_DIR/dns.log")"
grep -q "domain ${P}good: additional information valid until" "$LAB_DIR/pvdd.log" || fail "no log line for the valid document"

lab_pvdd_stop "$pvdd"
