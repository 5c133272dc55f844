# An OpenConnect domain against Debian's ocserv (Cisco AnyConnect's protocol)
# in namespace "oc": password authentication from a root-only file, the
# server's certificate pinned. pvdd runs openconnect with its own hook in
# place of vpnc-script; the hook moves the tunnel into the domain with what
# the server pushed (address, split routes, DNS, default domain), and the
# domain's default routes go through the tunnel too. A password file others
# may read is refused. Nothing leaves outside the tunnel while the server is
# down, and the domain comes back by itself. RemoveDomain and SIGTERM leave
# the host as it was.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for program in openconnect ocserv ocpasswd; do command -v $program >/dev/null || fail "$program is missing: scripts/setup.sh installs it"; done

lab_netns host
lab_netns oc
lab_link host up0 oc wan0
ip -n "${P}host" addr add 192.0.2.10/24 dev up0
ip -n "${P}oc" addr add 192.0.2.1/24 dev wan0
ip -n "${P}oc" addr add 203.0.113.9/32 dev lo
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_pki "$LAB_DIR/pki"
server=$LAB_DIR/ocserv
mkdir -m 755 "$server"
printf 'secret-words\nsecret-words\n' | ocpasswd -c "$server/passwd" alice
cat >"$server/ocserv.conf" <<CONF
auth = "plain[passwd=$server/passwd]"
tcp-port = 4443
socket-file = $server/ocserv.sock
server-cert = $LAB_DIR/pki/server.crt
server-key = $LAB_DIR/pki/server.key
run-as-user = nobody
run-as-group = nogroup
isolate-workers = false
max-clients = 4
keepalive = 10
dpd = 2
try-mtu-discovery = false
device = ${P}oc
ipv4-network = 10.6.0.0/24
dns = 10.6.0.1
default-domain = oc.test
route = 203.0.113.0/24
pid-file = $server/ocserv.pid
cookie-timeout = 300
use-occtl = false
predictable-ips = true
ping-leases = false
CONF
start_server() {
    lab_bg oc "$LAB_DIR/ocserv.log" ocserv -f -c "$server/ocserv.conf"
    ocserv_pid=$LAB_LAST_PID
    lab_wait 10 grep -q "listening (TCP) on 0.0.0.0:4443" "$LAB_DIR/ocserv.log" || fail "ocserv did not start: $(cat "$LAB_DIR/ocserv.log")"
}
start_server
pin=pin-sha256:$(openssl x509 -in "$LAB_DIR/pki/server.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
printf 'secret-words\n' >"$LAB_DIR/corp.pass"
chmod 600 "$LAB_DIR/corp.pass"
lab_vpn_host
pvdd=$LAB_PVDD
name=${P}corp
ns=pvd-$name

cp "$LAB_DIR/corp.pass" "$LAB_DIR/open.pass"
chmod 644 "$LAB_DIR/open.pass"
answer=$("$PVD" add "$name" --openconnect https://192.0.2.1:4443 --user alice --password-file "$LAB_DIR/open.pass" --servercert "$pin" 2>&1) \
    && fail "a password file others may read was taken"
grep -q "chmod 600" <<<"$answer" || fail "the refusal: $answer"
answer=$("$PVD" add "$name" --openconnect https://192.0.2.1:4443 --password-file "$LAB_DIR/corp.pass" 2>&1) && fail "a password without a user was taken"
grep -q "needs the user" <<<"$answer" || fail "the refusal: $answer"
[ ! -e "/run/netns/$ns" ] || fail "a refused domain left a namespace"

"$PVD" add "$name" --openconnect https://192.0.2.1:4443 --user alice --password-file "$LAB_DIR/corp.pass" --servercert "$pin" >/dev/null
path=$(busctl --system call org.pvd1 /org/pvd1 org.pvd1.Manager GetDomain s "$name" | cut -d'"' -f2)
property() { busctl --system get-property org.pvd1 "$path" org.pvd1.Domain "$1"; }
connected() { [ "$(property State)" = 's "connected"' ]; }
lab_wait 20 connected || fail "the tunnel did not come up: $(property StateReason) $(cat "$LAB_DIR/state/openconnect-$name.log")"
property StateReason | lab_has "connected to 192.0.2.1 since " || fail "the state's reason: $(property StateReason)"
"$PVD" show --yaml | lab_has "openconnect: {server: \"https://192.0.2.1:4443\", password-file: \"$LAB_DIR/corp.pass\", servercert: \"$pin\", user: \"alice\"}" \
    || fail "pvd show --yaml: $("$PVD" show --yaml)"
ip -n "$ns" -4 -o addr show | lab_has "inet 10.6.0.[0-9]*/24" || fail "the tunnel's address: $(ip -n "$ns" -4 addr)"
ip -n "$ns" -4 route show default | lab_has "dev pvt" || fail "the default route: $(ip -n "$ns" -4 route)"
ip -n "$ns" -4 route show 203.0.113.0/24 | lab_has "dev pvt" || fail "the split route: $(ip -n "$ns" -4 route)"
grep -qx "nameserver 10.6.0.1" "/etc/netns/$ns/resolv.conf" && grep -qx "search oc.test" "/etc/netns/$ns/resolv.conf" \
    || fail "the domain's resolv.conf: $(cat "/etc/netns/$ns/resolv.conf")"
ip netns exec "$ns" ping -c 2 -i 0.3 -W 2 203.0.113.9 >/dev/null || fail "no ping through the tunnel"
lab_silent lab_sockets_in "$ns" -nta || fail "a socket inside the domain: $(ip netns exec "$ns" ss -nta)"
ip netns exec "${P}host" ss -nt | lab_has "192.0.2.1:4443" || fail "no OpenConnect connection in the host namespace"
show=$("$PVD" show "$name")
for want in "203.0.113.0/24" "10.6.0.1" "oc.test" "connected to 192.0.2.1"; do grep -q "$want" <<<"$show" || fail "pvd show has no $want: $show"; done

# The server goes away: nothing of the domain's leaves through the uplink; it comes back by itself.
kill "$ocserv_pid"
wait "$ocserv_pid" 2>/dev/null || true
lab_capture host up0 "$LAB_DIR/up0.pcap" \
    "ip and (net 10.6.0.0/24 or host 203.0.113.9 or icmp[icmptype] == icmp-echo)" || fail "tcpdump did not start"
capture=$LAB_LAST_PID
ip netns exec "$ns" ping -c 3 -i 0.3 -W 1 203.0.113.9 >/dev/null 2>&1 && fail "the domain reached the server's network without a server"
ip netns exec "$ns" ping -c 2 -i 0.3 -W 1 192.0.2.1 >/dev/null 2>&1 && fail "the domain reached the uplink's network"
lab_capture_stop "$capture"
lab_no_packets "$LAB_DIR/up0.pcap" "traffic left outside the tunnel"
not_connected() { ! connected; }
lab_wait 15 not_connected || fail "the state still says connected with the server gone: $(property StateReason)"
start_server
back() { connected && ip netns exec "$ns" ping -c 1 -W 1 203.0.113.9 >/dev/null 2>&1; }
lab_wait 60 back || fail "the domain did not come back: $(property StateReason) $(tail -20 "$LAB_DIR/state/openconnect-$name.log")"

"$PVD" remove "$name" >/dev/null
[ ! -e "/run/netns/$ns" ] || fail "RemoveDomain left the namespace"
gone() { ! pgrep -f "openconnect --interface pvt" >/dev/null; }
lab_wait 5 gone || fail "RemoveDomain left openconnect running"
lab_pvdd_stop "$pvdd"
kill "$ocserv_pid" 2>/dev/null || true
wait "$ocserv_pid" 2>/dev/null || true
lab_host_state >"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd left changes"
