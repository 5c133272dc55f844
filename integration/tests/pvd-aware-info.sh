# Additional information that acts (docs/pvd-aware.md): two PvDs announced
# by `pvd announce --info`, each serving its document over HTTPS. corp's
# claims corp.test (dnsZones), example.com (a split-DNS claim under its PvD
# ID's parent: accepted) and bank.test (not: shown, never acted on), and
# has an HTTP proxy, a PAC file and a direct zone (and ResolveName applies
# its search list and gives A records); other's claims other.test
# and says noInternet, and has a key pvd does not know. `pvd which` picks
# the claiming domain, a name nobody claims goes to corp and never to the
# noInternet domain, `pvd exec --for` runs in the domain chosen, and a
# program there gets the proxy environment (curl uses the proxy, from
# corp's address); `pvd list`/`show` say noInternet, and `pvd monitor`
# shows the document arriving.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for tool in curl openssl; do command -v "$tool" >/dev/null || fail "$tool is missing: scripts/setup.sh installs it"; done

lab_two_routers 2
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
chmod 755 "$LAB_DIR"  # pvd fetch-information runs as nobody and reads the CA from here
( cd "$LAB_DIR" && lab_pki pki >/dev/null ) || fail "no test CA"
chmod 644 "$LAB_DIR/pki/ca.crt"
for pvd in corp other; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$LAB_DIR/$pvd.key" -out "$LAB_DIR/$pvd.csr" \
        -subj "/CN=$pvd.example.com" 2>/dev/null
    openssl x509 -req -in "$LAB_DIR/$pvd.csr" -CA "$LAB_DIR/pki/ca.crt" -CAkey "$LAB_DIR/pki/ca.key" -set_serial "$RANDOM" -days 1 \
        -out "$LAB_DIR/$pvd.crt" -extfile <(printf 'subjectAltName=DNS:%s.example.com\n' "$pvd") 2>/dev/null || fail "no certificate for $pvd"
done
cat >"$LAB_DIR/corp.json" <<'JSON'
{"identifier": "corp.example.com", "expires": "2099-01-01T00:00:00Z", "prefixes": ["2001:db8:2::/64"],
 "dnsZones": ["corp.test"], "splitDnsClaims": ["example.com", "bank.test"],
 "proxies": [{"protocol": "http-connect", "proxy": "[2001:db8:ff::1]:3128", "identifier": "corp-proxy"},
             {"protocol": "pac", "proxy": "https://corp.example.com/proxy.pac"}],
 "proxy-match": [{"domains": ["*.direct.corp.test"], "proxies": []}]}
JSON
cat >"$LAB_DIR/other.json" <<'JSON'
{"identifier": "other.example.com", "expires": "2099-01-01T00:00:00Z", "prefixes": ["2001:db8:1::/64"],
 "dnsZones": ["other.test"], "noInternet": true, "x-vendor-note": {"site": "lab"}}
JSON
for i in 1 2; do ip -n "${P}r$i" addr add "2001:db8:$i::80/64" dev lan0 nodad; done
lab_bg r2 "$LAB_DIR/dns-corp.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:2::53 corp.example.com 2001:db8:2::80 \
    "*.v4.corp.test" 192.0.2.80 "*.corp.test" 2001:db8:ff::1 "*.example.org" 2001:db8:ff::1
lab_bg r1 "$LAB_DIR/dns-other.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:1::53 other.example.com 2001:db8:1::80 \
    "*.other.test" 2001:db8:ff::1
lab_wait 10 grep -q listening "$LAB_DIR/dns-corp.log" || fail "corp's DNS responder did not start"
lab_wait 10 grep -q listening "$LAB_DIR/dns-other.log" || fail "other's DNS responder did not start"

lab_dbus
cat >"$LAB_DIR/pvdd.yaml" <<CONF
uplinks: [up0]
state: $LAB_DIR/state.json
duplicate-address-detection: false
additional-information: {ca-file: $LAB_DIR/pki/ca.crt}
access:
  corp.example.com: {users: [nobody]}
  other.example.com: {users: [nobody]}
CONF
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --config "$LAB_DIR/pvdd.yaml"
lab_bg host "$LAB_DIR/monitor.log" "$PVD" monitor
sleep 0.5
for pvd in corp other; do
    i=$([ "$pvd" = corp ] && echo 2 || echo 1)
    lab_bg "r$i" "$LAB_DIR/announce-$pvd.log" "$PVD" announce --interface lan0 --pvd-id "$pvd.example.com" --delay 0 \
        --prefix "2001:db8:$i::/64" --rdnss "2001:db8:$i::53" --dnssl "$pvd.test" --info "$LAB_DIR/$pvd.json" --certificate "$LAB_DIR/$pvd.crt" \
        --key "$LAB_DIR/$pvd.key" --info-address "2001:db8:$i::80" --interval 300
done
valid() { "$PVD" show "$1" | lab_has '"status":"valid"'; }
lab_wait 30 valid corp || fail "corp's document is not valid: $("$PVD" show corp 2>&1) $(cat "$LAB_DIR/pvdd.log")"
lab_wait 30 valid other || fail "other's document is not valid: $("$PVD" show other 2>&1) $(cat "$LAB_DIR/pvdd.log")"

# What is shown: claims, noInternet, the unknown key kept, the monitor's line.
"$PVD" show corp | lab_has "Claims: *corp.test, example.com$" || fail "corp's claims: $("$PVD" show corp)"
"$PVD" show other | lab_has "no Internet" || fail "pvd show does not say noInternet: $("$PVD" show other)"
"$PVD" list | lab_has "^other.example.com *explicit (no Internet)" || fail "pvd list does not say noInternet: $("$PVD" list)"
"$PVD" show other | lab_has '"x-vendor-note":{"site":"lab"}' || fail "the unknown key is not kept: $("$PVD" show other)"
lab_wait 5 grep -q "information  corp.example.com  valid; claims: corp.test, example.com" "$LAB_DIR/monitor.log" ||
    fail "pvd monitor did not show corp's document: $(cat "$LAB_DIR/monitor.log")"

# ResolveName with the domain's search list, and IPv4 (A) answers.
resolve() { busctl --system call org.pvd1 /org/pvd1 org.pvd1.Manager ResolveName ssi corp.example.com "$1" "$2"; }
resolve wiki 10 | lab_has "^a(iay) 1 10 16 32 1 13 184 0 255 0 0 0 0 0 0 0 0 0 1$" || fail "wiki in corp: $(resolve wiki 10 2>&1)"
grep -q "query wiki.corp.test type 28" "$LAB_DIR/dns-corp.log" || fail "the search list was not applied: $(cat "$LAB_DIR/dns-corp.log")"
resolve www.v4.corp.test 2 | lab_has "^a(iay) 1 2 4 192 0 2 80$" || fail "an A record: $(resolve www.v4.corp.test 2 2>&1)"
# AF_UNSPEC: both, IPv6 first (the responder has an AAAA for every name under corp.test).
resolve www.v4.corp.test 0 | lab_has "^a(iay) 2 10 16 32 1 13 184 0 255 0 0 0 0 0 0 0 0 0 1 2 4 192 0 2 80$" ||
    fail "AF_UNSPEC: $(resolve www.v4.corp.test 0 2>&1)"

# pvd which.
which_is() {
    local got
    got=$("$PVD" which "$1" 2>"$LAB_DIR/which.err") || fail "pvd which $1: $(cat "$LAB_DIR/which.err")"
    [ "$got" = "$2" ] || fail "pvd which $1 chose '$got', not $2: $(cat "$LAB_DIR/which.err")"
}
which_is www.corp.test corp.example.com
which_is "https://intranet.other.test:8443/path?q" other.example.com
which_is www.example.com corp.example.com
# Unclaimed (bank.test's claim is not accepted): the one domain that reaches the Internet, never other.
which_is login.bank.test corp.example.com
grep -q "only one that does not say noInternet" "$LAB_DIR/which.err" || fail "pvd which's reason: $(cat "$LAB_DIR/which.err")"
which_is www.example.org corp.example.com
"$PVD" which "[2001:db8::1]" >/dev/null 2>&1 && fail "pvd which took an address"

# pvd exec --for, as nobody (with the file capability, as installed), and the proxy environment.
caps=$LAB_DIR/pvd
cp "$PVD" "$caps" && setcap cap_sys_admin+ep "$caps"
lab_as_nobody "$caps" exec --quiet --for www.other.test -- ip -6 addr | lab_has "inet6 2001:db8:1:" || fail "pvd exec --for did not run in other"
lab_as_nobody "$caps" exec --quiet --for https://www.corp.test/ -- env >"$LAB_DIR/env" || fail "pvd exec --for corp: $(cat "$LAB_DIR/env")"
for variable in "http_proxy=http://\[2001:db8:ff::1\]:3128" "HTTPS_PROXY=http://\[2001:db8:ff::1\]:3128" \
    "no_proxy=localhost,127.0.0.1,::1,direct.corp.test" "PVD_PROXY_PAC=https://corp.example.com/proxy.pac"; do
    grep -qx "$variable" "$LAB_DIR/env" || fail "no $variable in corp: $(grep -i proxy "$LAB_DIR/env")"
done
lab_as_nobody "$caps" exec --quiet --for www.other.test -- env | lab_has -i "proxy" && fail "other got a proxy environment"
# By a start of its name too (pvd exec asks the environment again once pvdd said which domain it is).
lab_as_nobody "$caps" exec --quiet corp -- env | lab_has -x "http_proxy=http://\[2001:db8:ff::1\]:3128" || fail "no proxy environment for pvd exec corp"
# curl uses it: the proxy (a logging HTTP server) gets the request, from corp's address.
lab_bg server "$LAB_DIR/proxy.log" /usr/bin/python3 -u -m http.server --bind 2001:db8:ff::1 --directory "$LAB_DIR" 3128
lab_wait 10 grep -q "Serving HTTP" "$LAB_DIR/proxy.log" || fail "the proxy did not start: $(cat "$LAB_DIR/proxy.log")"
corp=$("$PVD" show corp | awk '/Addresses:/ {print $2}')
lab_as_nobody "$caps" exec --quiet --for www.corp.test -- curl -s -o /dev/null http://www.example.org/through-proxy || true
grep -q "^$corp .*GET http://www.example.org/through-proxy" "$LAB_DIR/proxy.log" ||
    fail "curl in corp did not use corp's proxy from $corp: $(cat "$LAB_DIR/proxy.log")"

echo "claims, noInternet and proxies from pvd announce --info: pvd which, pvd exec --for, the proxy environment, list/show/monitor"
