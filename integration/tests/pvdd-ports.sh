# Published ports (docs/services.md): pvdd.yaml publishes port 8080 of the
# host as port 80 of the learnt domain corp, for the host, the LAN prefix
# 2001:db8:2::/64 and the IPv4 client 192.0.2.2 (corp has the host's IPv4
# through NAT). A web server in corp answers a client on the LAN (its own
# address seen, not the host's) and the host itself at the host's address,
# over IPv6 and IPv4;
# a client outside the listed prefix, another port of the host, and the
# domain's own port through the host's address are refused. A static domain
# declared with ports: answers the host too; `pvd publish` adds a port at
# runtime and takes it away; removing the ports in a reload, then the
# domain, then pvdd leaves no pvd table in nftables.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || fail "curl is missing: scripts/setup.sh installs it"

lab_two_routers 2
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
ip -n "${LAB_PREFIX}host" addr add 2001:db8:2::100/64 dev up0 nodad
ip -n "${LAB_PREFIX}r1" route add 2001:db8:2::100/128 dev lan0
# IPv4 on the link: corp (with the L flag) gets the host's through NAT.
ip -n "${LAB_PREFIX}host" addr add 192.0.2.10/24 dev up0
ip -n "${LAB_PREFIX}host" route add default via 192.0.2.1
ip -n "${LAB_PREFIX}r1" addr add 192.0.2.1/24 dev lan0
ip -n "${LAB_PREFIX}r2" addr add 192.0.2.2/24 dev lan0
lab_dbus
config() {
    cat >"$LAB_DIR/pvdd.yaml" <<CONF
uplinks: [up0]
state: $LAB_DIR/state.json
duplicate-address-detection: false
additional-information: {fetch: false}
$1
CONF
}
config 'ports:
  corp.example.com:
    - {host: 8080, domain: 80, protocol: tcp, from: [host, "2001:db8:2::/64", "192.0.2.2/32"]}'
lab_pvdd "$LAB_DIR/pvdd.log" up0 --config "$LAB_DIR/pvdd.yaml"
pvdd=$LAB_LAST_PID
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:2::/64 2001:db8:2::53 --no-http --legacy
addressed() { "$PVD" show corp | awk '/Addresses:/ {print $2}' | lab_has "^2001:db8:2:" && ip -n pvd-corp.example.com -4 route | lab_has default; }
lab_wait 10 addressed || fail "corp has no address: $("$PVD" show corp 2>&1)"
address=$("$PVD" show corp | awk '/Addresses:/ {print $2}')
echo served >"$LAB_DIR/page"

# serve DOMAIN LOG: a web server on port 80 inside DOMAIN.
serve() {
    "$PVD" exec --quiet "$1" -- /usr/bin/python3 -u -m http.server --bind :: --directory "$LAB_DIR" 80 >"$2" 2>&1 &
    LAB_PIDS+=("$!")
    LAB_LAST_PID=$!
    lab_wait 10 grep -q "Serving HTTP" "$2" || fail "the web server in $1 did not start: $(cat "$2") $(tail -n 5 "$LAB_DIR/pvdd.log")"
}
serve corp "$LAB_DIR/corp-http.log"
corp_server=$LAB_LAST_PID
# fetch NS URL: the page, fetched from namespace NS.
fetch() { lab_in "$1" curl -sg --max-time 3 "$2"; }
# refused NS URL: no page (refused or timed out).
refused() { ! lab_in "$1" curl -sgf --max-time 2 -o /dev/null "$2"; }

fetch r2 "http://[2001:db8:2::100]:8080/page?lan" | lab_has "^served$" || fail "the published port from the LAN: $(nft list table inet "pvd_ports_$(ip -n "${LAB_PREFIX}host" -o link | grep -o 'pvh[0-9a-f]*' | head -n 1)" 2>&1)"
grep -Eq "^2001:db8:2::(1|53) .*GET /page\?lan" "$LAB_DIR/corp-http.log" || fail "the LAN client's own address was not seen: $(cat "$LAB_DIR/corp-http.log")"
fetch host "http://[2001:db8:2::100]:8080/page?host" | lab_has "^served$" || fail "the published port from the host"
grep -q "GET /page?host" "$LAB_DIR/corp-http.log" || fail "the host's request did not reach corp"
refused r1 "http://[2001:db8:2::100]:8080/page?r1" || fail "a client outside 2001:db8:2::/64 got through"
# IPv4: to corp's end of its veth, through the host's address.
fetch r2 "http://192.0.2.10:8080/page?lan4" | lab_has "^served$" || fail "the published port from the LAN over IPv4"
grep -q "^::ffff:192.0.2.2 .*GET /page?lan4" "$LAB_DIR/corp-http.log" || fail "the LAN client's IPv4 address was not seen: $(cat "$LAB_DIR/corp-http.log")"
fetch host "http://192.0.2.10:8080/page?host4" | lab_has "^served$" || fail "the published port from the host over IPv4"
refused r1 "http://192.0.2.10:8080/page?r1" || fail "an IPv4 client outside 192.0.2.2/32 got through"
refused r2 "http://[2001:db8:2::100]:80/page?port80" || fail "corp's own port 80 is open on the host's address"
refused r2 "http://[2001:db8:2::100]:8081/page?other" || fail "another port of the host leads somewhere"
! grep -q "GET /page?\(r1\|port80\|other\)" "$LAB_DIR/corp-http.log" || fail "a refused request reached corp: $(cat "$LAB_DIR/corp-http.log")"
ports_tables() { nsenter --net="/run/netns/${LAB_PREFIX}host" nft list tables inet | grep -c "pvd_ports_" || true; }
[ "$(ports_tables)" = 1 ] || fail "not one ports table: $(nsenter --net="/run/netns/${LAB_PREFIX}host" nft list tables)"

# A static domain with ports of its own, declared in a drop-in.
mkdir -p "$LAB_DIR/domains.d"
cat >"$LAB_DIR/domains.d/lab.yaml" <<YAML
domains:
  - name: ${LAB_PREFIX}lab
    uplink: up0
    addresses: ["2001:db8:2::77"]
    routers: ["fe80::12"]
    ports: [{host: 9090, domain: 80}]
YAML
"$PVD" reload >/dev/null || fail "reload with the static domain: $(tail -n 5 "$LAB_DIR/pvdd.log")"
serve "${LAB_PREFIX}lab" "$LAB_DIR/lab-http.log"
lab_server=$LAB_LAST_PID
fetch host "http://[2001:db8:2::100]:9090/page?static" | lab_has "^served$" || fail "the static domain's published port from the host"
answer=$("$PVD" publish --config "$LAB_DIR/pvdd.yaml" "${LAB_PREFIX}lab" 9091:80 2>&1) && fail "pvd publish took a static domain"
grep -q "is not learnt from RAs: a static domain has its ports in its own entry" <<<"$answer" || fail "the refusal: $answer"
refused r2 "http://[2001:db8:2::100]:9090/page?static-lan" || fail "a port published for the host only answers the LAN"
[ "$(ports_tables)" = 2 ] || fail "not two ports tables"

# Ports taken away by a reload; the static domain removed; pvdd stopped.
config ''
"$PVD" reload >/dev/null
lab_wait 5 refused host "http://[2001:db8:2::100]:8080/page?gone" || fail "the port is still published after the reload"
[ "$(ports_tables)" = 1 ] || fail "corp's ports table outlived its ports"

# pvd publish: a port added at runtime, kept in a drop-in; a bad source
# refused with nothing changed; then the port taken away again.
publish() { "$PVD" publish --config "$LAB_DIR/pvdd.yaml" "$@"; }
publish corp.example.com 8081:80 --from host --from 2001:db8:2::/64 | lab_has "leads to corp.example.com" || fail "pvd publish"
fetch host "http://[2001:db8:2::100]:8081/page?publish" | lab_has "^served$" || fail "the port pvd publish added, from the host"
fetch r2 "http://[2001:db8:2::100]:8081/page?publish-lan" | lab_has "^served$" || fail "the port pvd publish added, from the LAN"
publish | lab_has -E "^corp.example.com +8081 +80 +tcp +host,2001:db8:2::/64$" || fail "pvd publish does not list it: $(publish)"
answer=$(publish corp.example.com 8082:80 --from nowhere 2>&1) && fail "--from nowhere was taken"
grep -q "is not host" <<<"$answer" || fail "the refusal: $answer"
lab_lacks 8082 publish || fail "a refused port is listed"
publish corp.example.com 8081 --remove >/dev/null
lab_wait 5 refused host "http://[2001:db8:2::100]:8081/page?unpublished" || fail "the port is still published after pvd publish --remove"
[ ! -e "$LAB_DIR/domains.d/ports-corp.example.com.yaml" ] || fail "pvd publish left its drop-in"
kill "$lab_server" "$corp_server"
rm "$LAB_DIR/domains.d/lab.yaml"
"$PVD" reload >/dev/null
[ "$(ports_tables)" = 0 ] || fail "a ports table outlived its domain: $(nsenter --net="/run/netns/${LAB_PREFIX}host" nft list tables)"
lab_pvdd_stop "$pvdd"
[ -z "$(nsenter --net="/run/netns/${LAB_PREFIX}host" nft list tables | grep pvd)" ] || fail "pvd tables left: $(nsenter --net="/run/netns/${LAB_PREFIX}host" nft list tables)"
