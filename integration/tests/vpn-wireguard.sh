# WireGuard domains, and two VPN domains beside a PvD domain. The peer is
# Debian's wireguard-go in namespace "vpn" (this kernel has no WireGuard
# module, so pvdd uses wireguard-go too; with the module it would use the
# kernel's, a path not run here). A wg-quick file with Address, DNS and
# AllowedIPs = 0.0.0.0/0, ::/0 becomes a domain whose only way out is the
# tunnel; its state comes from the latest handshake; nothing leaves outside
# the tunnel while the peer is down, and it comes back by itself. Beside it
# an OpenVPN domain (static key) and an implicit PvD domain from radvd on a
# second uplink: each program reaches only its own network. RemoveDomain and
# SIGTERM leave the host as it was; a killed helper is replaced.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for program in wireguard-go wg openvpn; do command -v $program >/dev/null || fail "$program is missing: scripts/setup.sh installs it"; done
if [ -d /sys/module/wireguard ]; then
    echo "note: the kernel's WireGuard is loaded; pvdd uses it, not wireguard-go" >&2
fi

lab_netns host
lab_openvpn_server up0
# The WireGuard peer beside the OpenVPN server, and a network behind it.
peer=${P}w
ip -n "${P}vpn" addr add 203.0.113.1/32 dev lo
start_peer() {
    lab_wireguard_peer vpn
    peer_pid=$LAB_LAST_PID
}
start_peer
# Both servers share namespace "vpn": there, each tunnel reaches only its own network.
lab_in vpn nft -f - <<NFT
table inet lab {
  chain input {
    type filter hook input priority 0;
    iifname "$peer" ip daddr 10.8.0.0/24 drop
    iifname "tun*" ip daddr { 10.7.0.0/24, 203.0.113.1 } drop
  }
}
NFT
cat >"$LAB_DIR/home.conf" <<CONF
[Interface]
PrivateKey = $(cat "$LAB_DIR/client.key")
Address = 10.7.0.2/24, fd00:7::2/64
DNS = 10.7.0.1, home.test

[Peer]
PublicKey = $(wg pubkey <"$LAB_DIR/server.key")
Endpoint = 192.0.2.1:51820
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 1
CONF
chmod 600 "$LAB_DIR/home.conf" "$LAB_DIR/client.conf" "$LAB_DIR/static.key"
# A router with a plain RA on a second uplink: an implicit PvD domain.
lab_netns r1
lab_link host up1 r1 lan0
# The host itself ignores the RAs (so its own state stays put for the comparison); pvdd hears them.
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0 net.ipv6.conf.up1.accept_ra=0
ip -n "${P}r1" addr add fe80::11/64 dev lan0 nodad
ip -n "${P}r1" addr add 2001:db8:1::1/64 dev lan0 nodad
lab_radvd_plain 1
lab_host_state >"$LAB_DIR/before"
lab_dbus
printf 'uplinks: [up0, up1]\nstate: %s/state/pvdd.json\n' "$LAB_DIR" >"$LAB_DIR/pvdd.yaml"
lab_pvdd "$LAB_DIR/pvdd.log" "up0, up1" --config "$LAB_DIR/pvdd.yaml"
pvdd=$LAB_LAST_PID

# A private key others may read, or a wg-quick file that runs commands, is refused.
cp "$LAB_DIR/home.conf" "$LAB_DIR/open.conf"
chmod 644 "$LAB_DIR/open.conf"
answer=$(lab_call AddDomain 'sa{sv}' "${P}open" 1 wireguard s "$LAB_DIR/open.conf" 2>&1) && fail "a readable private key was taken"
grep -q "chmod 600" <<<"$answer" || fail "the refusal: $answer"
sed "/^DNS/a PostUp = touch $LAB_DIR/ran" "$LAB_DIR/home.conf" >"$LAB_DIR/hook.conf"
chmod 600 "$LAB_DIR/hook.conf"
answer=$(lab_call AddDomain 'sa{sv}' "${P}hook" 1 wireguard s "$LAB_DIR/hook.conf" 2>&1) && fail "a PostUp command was taken"
grep -q "runs a command as root" <<<"$answer" || fail "the refusal: $answer"
[ ! -e "$LAB_DIR/ran" ] && [ ! -e "/run/netns/pvd-${P}open" ] && [ ! -e "/run/netns/pvd-${P}hook" ] || fail "a refused configuration made something"

wgname=${P}home
ovname=${P}corp
lab_call AddDomain 'sa{sv}' "$wgname" 1 wireguard s "$LAB_DIR/home.conf" >/dev/null
"$PVD" add "$ovname" --openvpn "$LAB_DIR/client.conf" >/dev/null
state() { busctl --system get-property org.pvd1 "$(lab_call GetDomain s "$1" | cut -d'"' -f2)" org.pvd1.Domain "${2:-State}"; }
wg_up() { [ "$(state "$wgname")" = 's "connected"' ]; }
lab_wait 20 wg_up || fail "the WireGuard domain did not come up: $(state "$wgname") $(state "$wgname" StateReason) $(cat "$LAB_DIR/state/wireguard-$wgname.log")"
state "$wgname" StateReason | lab_has "latest handshake with 192.0.2.1:51820 at " || fail "the state's reason: $(state "$wgname" StateReason)"
ov_up() { [ "$(state "$ovname")" = 's "connected"' ]; }
lab_wait 30 ov_up || fail "the OpenVPN domain did not come up: $(state "$ovname" StateReason)"
pvd_domain=up1-fe80-0-11
pvd_up() { ip netns exec "pvd-$pvd_domain" ping -6 -c 1 -W 1 2001:db8:1::1 >/dev/null 2>&1; }
lab_wait 10 pvd_up || fail "the PvD domain does not reach its router: $("$PVD" list)"

wgns=pvd-$wgname
ip -n "$wgns" -4 -o addr show | lab_has "inet 10.7.0.2/24" || fail "the WireGuard address: $(ip -n "$wgns" addr)"
ip -n "$wgns" -6 route show default | lab_has "dev pvt" && ip -n "$wgns" -4 route show default | lab_has "dev pvt" \
    || fail "the default routes: $(ip -n "$wgns" route; ip -n "$wgns" -6 route)"
grep -qx "nameserver 10.7.0.1" "/etc/netns/$wgns/resolv.conf" && grep -qx "search home.test" "/etc/netns/$wgns/resolv.conf" \
    || fail "resolv.conf: $(cat "/etc/netns/$wgns/resolv.conf")"
links=$(ip -n "$wgns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')
case $links in "lo pvt"*" ") [ "$(wc -w <<<"$links")" -eq 2 ] ;; *) false ;; esac || fail "the WireGuard domain's links: $links"
ip netns exec "${P}host" ss -nua | lab_has ":51820\|wireguard" || ip netns exec "${P}host" ss -nua | lab_has "0.0.0.0:\|\*:" \
    || fail "no WireGuard socket in the host namespace"
lab_silent lab_sockets_but_pvdds "$wgns" -nua || fail "a socket inside the domain: $(ip netns exec "$wgns" ss -nuap)"

# Each program reaches only its own network.
reach() { ip netns exec "pvd-$1" ping "${@:3}" -c 1 -W 1 "$2" >/dev/null 2>&1; }
reach "$wgname" 203.0.113.1 || fail "the WireGuard domain cannot reach the network behind its peer"
reach "$wgname" 10.7.0.1 || fail "the WireGuard domain cannot reach its peer"
reach "$ovname" 10.8.0.1 || fail "the OpenVPN domain cannot reach its server"
for pair in "$wgname 10.8.0.1" "$wgname 2001:db8:1::1 -6" "$ovname 10.7.0.1" "$ovname 203.0.113.1" "$ovname 2001:db8:1::1 -6" \
    "$pvd_domain 10.7.0.1" "$pvd_domain 10.8.0.1"; do
    set -- $pair
    reach "$@" && fail "$1 reached $2, which is another domain's"
done
"$PVD" exec "$wgname" -- ping -c 1 -W 2 203.0.113.1 >/dev/null || fail "pvd exec into the WireGuard domain"
show=$("$PVD" show "$wgname")
for want in "10.7.0.2" "10.7.0.1" "home.test" "latest handshake"; do grep -q "$want" <<<"$show" || fail "pvd show has no $want: $show"; done

# The peer goes away: nothing of the domain's leaves through the uplink; it comes back by itself.
kill "$peer_pid"
wait "$peer_pid" 2>/dev/null || true
lab_capture host up0 "$LAB_DIR/up0.pcap" \
    "(ip and (net 10.7.0.0/24 or host 203.0.113.1 or icmp[icmptype] == icmp-echo)) or (ip6 and (net fd00:7::/64 or icmp6[0] == 128))" || fail "tcpdump did not start"
capture=$LAB_LAST_PID
reach "$wgname" 203.0.113.1 && fail "the WireGuard domain reached the peer's network without the peer"
reach "$wgname" 192.0.2.1 && fail "the WireGuard domain reached the uplink's network"
lab_capture_stop "$capture"
lab_no_packets "$LAB_DIR/up0.pcap" "traffic left outside the tunnel"
start_peer
back() { reach "$wgname" 203.0.113.1; }
lab_wait 20 back || fail "the WireGuard domain did not come back: $(state "$wgname" StateReason)"

# The helper is killed (its wireguard-go outlives it): pvdd starts it again, and it takes the device over.
helper=$(pgrep -f "wireguard-up $wgname")
kill -9 "$helper"
again() { local now; now=$(pgrep -f "wireguard-up $wgname") && [ "$now" != "$helper" ] && wg_up && reach "$wgname" 203.0.113.1; }
lab_wait 30 again || fail "no new helper after the first was killed: $(state "$wgname" StateReason) $(tail -5 "$LAB_DIR/state/wireguard-$wgname.log")"
[ "$(pgrep -fc "wireguard-go -f pvt")" = 1 ] || fail "not one wireguard-go for the domain: $(pgrep -fa wireguard-go)"

lab_call RemoveDomain s "$wgname" >/dev/null
lab_call RemoveDomain s "$ovname" >/dev/null
[ ! -e "/run/netns/$wgns" ] || fail "RemoveDomain left the namespace"
gone() { ! pgrep -f "wireguard-up $wgname" >/dev/null && ! pgrep -f "PVD_DOMAIN $ovname" >/dev/null; }
lab_wait 5 gone || fail "RemoveDomain left a client: $(pgrep -fa 'wireguard|openvpn')"
no_device() { ! pgrep -fx "/usr/bin/wireguard-go -f pvt.*" >/dev/null; }
lab_wait 5 no_device || fail "wireguard-go still runs: $(pgrep -fa wireguard-go)"
lab_pvdd_stop "$pvdd"
kill "$peer_pid" 2>/dev/null || true
wait "$peer_pid" 2>/dev/null || true
lab_host_state >"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd left changes"
