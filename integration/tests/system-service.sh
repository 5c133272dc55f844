# A systemd service put in a domain with `pvd service` on Debian 12 booted
# with systemd. In corp (a PvD from an RA): the service's network namespace
# is corp's, its HTTP requests come from corp's address, its names are
# resolved by corp's DNS server (seen there) and never by the host's own
# (another server, which hears nothing). In home (a WireGuard domain): with
# the tunnel down the service reaches nothing and stays in the domain; the
# domain removed, the service stops; the domain added again, the service
# comes back by itself. A service started before its domain exists waits for
# it; `pvd service --remove` puts a service back on the host's network.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_announce --pvd-id corp.example.com --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_dns www.corp.test 2001:db8:ff::80
# The host's own resolver is another server on the router.
ip -n "${LAB_PREFIX}router" addr add 2001:db8:1::54/64 dev br0 nodad
lab_bg router "$LAB_DIR/host-dns.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:1::54 "*.corp.test" 2001:db8:ff::81
lab_wait 10 grep -q listening "$LAB_DIR/host-dns.log" || fail "the host's DNS responder did not start: $(cat "$LAB_DIR/host-dns.log")"
echo "nameserver 2001:db8:1::54" >"$SYSTEM_ROOT/etc/resolv.conf"
# Requests are logged with the client's address, from corp and through home's tunnel.
echo served >"$LAB_DIR/page"
lab_bg router "$LAB_DIR/http.log" /usr/bin/python3 -u -m http.server --bind :: --directory "$LAB_DIR" 8080
system_wireguard_peer
mkdir -p "$SYSTEM_ROOT/etc/pvd/domains.d"
printf 'vpns:\n  - {name: home, wireguard: /etc/pvd/home.conf}\n' >"$SYSTEM_ROOT/etc/pvd/domains.d/home.yaml"

# probe-NAME: a service that resolves www.corp.test and fetches URL every
# 0.3 s, writing what it got under /run/probe-NAME.
probe_unit() {
    install -D -m 644 /dev/stdin "$SYSTEM_ROOT/etc/systemd/system/probe-$1.service" <<UNIT
[Unit]
Description=pvd test: a service that reaches out ($1)
[Service]
ExecStartPre=/bin/mkdir -p /run/probe-$1
ExecStart=/bin/sh -c 'while :; do getent ahostsv6 www.corp.test >/run/probe-$1/dns 2>&1; curl -sg -m 1 -o /dev/null -w "%%{http_code}\\\\n" "$2" >/run/probe-$1/http 2>&1; sleep 0.3; done'
UNIT
}
probe_unit corp "http://[2001:db8:ff::1]:8080/page?corp"
probe_unit home "http://[fd00:7::1]:8080/page?home"
# probe_answers NAME CODE: the service's last request ended with HTTP status CODE (000: no answer).
probe_answers() { [ "$(system_run cat "/run/probe-$1/http" 2>/dev/null)" = "$2" ]; }
# in_namespace_of NAME DOMAIN: the service's main process is in the domain's network namespace.
in_namespace_of() {
    local pid
    pid=$(system_property "probe-$1" MainPID)
    [ "$pid" -gt 0 ] && [ "$(system_run stat -L -c %i "/proc/$pid/ns/net")" = "$(system_run stat -L -c %i "/run/netns/pvd-$2")" ]
}

system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
system_corp_usable
lab_wait 15 system_run pvd exec --quiet home -- ping -c 1 -W 1 fd00:7::1 || fail "home's tunnel: $(system_run pvd show home 2>&1)"

# corp: the network and the names of the domain only.
system_run pvd service probe-corp corp | lab_has "probe-corp.service runs in domain corp" || fail "pvd service probe-corp corp"
system_run pvd service | lab_has "^probe-corp.service  *corp" || fail "pvd service does not list probe-corp: $(system_run pvd service)"
system_run systemctl start probe-corp || fail "probe-corp did not start: $(system_journal pvd-domain@corp.service | tail -n 5)"
system_unit_is pvd-domain@corp.service active 10 || fail "pvd-domain@corp: $(system_journal pvd-domain@corp.service | tail)"
lab_wait 10 probe_answers corp 200 || fail "probe-corp got no answer: $(system_run cat /run/probe-corp/http 2>&1) $(system_journal probe-corp)"
in_namespace_of corp corp || fail "probe-corp is not in corp's namespace"
address=$(system_run pvd show corp | awk '/Addresses:/ {print $2}')
[ -n "$address" ] || fail "corp has no address: $(system_run pvd show corp)"
grep -q "^$address .*GET /page?corp " "$LAB_DIR/http.log" || fail "no request from corp's address $address: $(cat "$LAB_DIR/http.log")"
! grep "GET /page?corp " "$LAB_DIR/http.log" | grep -qv "^$address " || fail "a request not from corp's address: $(cat "$LAB_DIR/http.log")"
grep -q "query www.corp.test type 28 from $address" "$LAB_DIR/dns.log" || fail "corp's DNS server was not asked from $address: $(cat "$LAB_DIR/dns.log")"
! grep -q "www.corp.test" "$LAB_DIR/host-dns.log" || fail "the host's DNS server was asked: $(cat "$LAB_DIR/host-dns.log")"
system_run cat /run/probe-corp/dns | lab_has "^2001:db8:ff::80 " || fail "the name: $(system_run cat /run/probe-corp/dns)"

# home: a WireGuard domain. Its tunnel down: nothing reached, still in home.
system_run pvd service probe-home home >/dev/null
system_run systemctl start probe-home || fail "probe-home did not start: $(system_journal pvd-domain@home.service | tail -n 5)"
lab_wait 10 probe_answers home 200 || fail "probe-home got no answer: $(system_run cat /run/probe-home/http 2>&1) $(system_journal probe-home)"
grep -q "^fd00:7::2 .*GET /page?home " "$LAB_DIR/http.log" || fail "no request through home's tunnel: $(cat "$LAB_DIR/http.log")"
# The server drops the tunnel's packets.
lab_in router nft -f - <<'RULES'
table inet tunnel_down {
  chain input { type filter hook input priority 0; udp dport 51820 drop; }
}
RULES
lab_wait 10 probe_answers home 000 || fail "probe-home still reaches something with the tunnel down: $(system_run cat /run/probe-home/http)"
system_run sh -c 'curl -sg -m 1 -o /dev/null "http://[2001:db8:ff::1]:8080/host"' || fail "the host itself does not reach the router (a control)"
in_namespace_of home home || fail "probe-home left home's namespace with the tunnel down"
system_unit_is probe-home active 1 || fail "probe-home stopped with the tunnel down"
lab_in router nft delete table inet tunnel_down
lab_wait 15 probe_answers home 200 || fail "probe-home did not reach through the tunnel again"

# The domain removed: the service stops. Added again: it comes back, inside.
rm "$SYSTEM_ROOT/etc/pvd/domains.d/home.yaml"
system_run pvd reload >/dev/null
system_unit_is probe-home inactive 15 || fail "probe-home is $(system_run systemctl is-active probe-home) after home was removed"
system_unit_is probe-corp active 1 || fail "probe-corp stopped with home"
printf 'vpns:\n  - {name: home, wireguard: /etc/pvd/home.conf}\n' >"$SYSTEM_ROOT/etc/pvd/domains.d/home.yaml"
system_run pvd reload >/dev/null
system_unit_is probe-home active 20 || fail "probe-home did not come back with home: $(system_journal pvd-domain@home.service | tail -n 5)"
in_namespace_of home home || fail "probe-home came back outside home's namespace"
lab_wait 15 probe_answers home 200 || fail "probe-home reaches nothing after home came back"

# A service of a domain that does not exist waits for it, and fails clearly
# when it does not come.
probe_unit lab "http://[2001:db8:ff::1]:8080/page?lab"
system_run pvd service probe-lab lab 2>&1 | lab_has "lab does not exist now" || fail "no note that lab does not exist"
system_run systemctl start --no-block probe-lab
sleep 2
system_unit_is probe-lab inactive 1 || fail "probe-lab runs without its domain: $(system_run systemctl is-active probe-lab)"
system_journal pvd-domain@lab.service | lab_has "." || fail "pvd-domain@lab says nothing"
[ "$(system_property pvd-domain@lab.service ActiveState)" = activating ] || fail "pvd-domain@lab does not wait: $(system_property pvd-domain@lab.service ActiveState)"

# Out of the domain: the drop-ins go; after a restart, the host's network.
system_run pvd service probe-corp --remove | lab_has "in no domain" || fail "pvd service --remove"
[ ! -e "$SYSTEM_ROOT/etc/systemd/system/probe-corp.service.d/50-pvd-domain.conf" ] || fail "the drop-in is left"
[ ! -e "$SYSTEM_ROOT/etc/systemd/system/pvd-domain@corp.service.d" ] || fail "the domain unit's drop-in is left"
system_run systemctl restart probe-corp
! in_namespace_of corp corp || fail "probe-corp is still in corp after --remove and a restart"
system_pvdd_idle 5
