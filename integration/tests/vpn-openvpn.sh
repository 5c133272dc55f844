# A VPN domain with a real OpenVPN: the server in namespace "vpn" (static
# key, point to point), reached over IPv4 from the host. AddDomain with an
# openvpn configuration makes the domain at once; when the tunnel is up it
# is inside the domain with its address, its routes and the DNS server the
# configuration gives, while OpenVPN's own socket stays in the host's
# namespace. The tunnel is the domain's only way out: when the server stops,
# nothing from the domain leaves through the host's uplink. A client that dies
# is started again. pvd apply without it stops the client and removes the domain;
# SIGTERM leaves nothing behind.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
command -v openvpn >/dev/null || fail "openvpn is missing: scripts/setup.sh installs it"

lab_netns host
lab_openvpn_server up0
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_host_state >"$LAB_DIR/before"
lab_dbus
cat >"$LAB_DIR/pvdd.yaml" <<CONF
uplinks: [up0]
state: $LAB_DIR/state/pvdd.json
CONF
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --config "$LAB_DIR/pvdd.yaml"
pvdd=$LAB_LAST_PID
name=${P}vpn
lab_call AddDomain 'sa{sv}' "$name" 1 openvpn s "$LAB_DIR/client.conf" >/dev/null
path=$(lab_call GetDomain s "$name" | cut -d'"' -f2)
state() { busctl --system get-property org.pvd1 "$path" org.pvd1.Domain State; }
[ "$(busctl --system get-property org.pvd1 "$path" org.pvd1.Domain Kind)" = 's "vpn"' ] || fail "the domain's kind: $(cat "$LAB_DIR/pvdd.log")"
connected() { [ "$(state)" = 's "connected"' ]; }
lab_wait 15 connected || fail "the tunnel did not come up: $(state) $(cat "$LAB_DIR/pvdd.log") $(cat "$LAB_DIR/state/openvpn-$name.log" 2>&1)"

[ "$(busctl --system get-property org.pvd1 "$path" org.pvd1.Domain Addresses)" = 'as 1 "10.8.0.2"' ] \
    || fail "the VPN domain's Addresses: $(busctl --system get-property org.pvd1 "$path" org.pvd1.Domain Addresses)"
"$PVD" show --yaml | lab_has -x "  - {name: \"$name\", openvpn: \"$LAB_DIR/client.conf\"}" || fail "pvd show --yaml: $("$PVD" show --yaml)"
ns=pvd-$name
links=$(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')
case $links in "lo pvt"*" ") [ "$(wc -w <<<"$links")" -eq 2 ] ;; *) false ;; esac || fail "the domain's links: $links"
ip -n "$ns" -4 -o addr show | lab_has "inet 10.8.0.2/32" || fail "the tunnel's address: $(ip -n "$ns" -4 addr)"
ip -n "$ns" -4 route show default | lab_has "^default dev pvt" || fail "the default route: $(ip -n "$ns" -4 route)"
grep -qx "nameserver 10.8.0.1" "/etc/netns/$ns/resolv.conf" && grep -qx "search corp.test" "/etc/netns/$ns/resolv.conf" \
    || fail "the domain's resolv.conf: $(cat "/etc/netns/$ns/resolv.conf")"
ip netns exec "$ns" ping -c 2 -i 0.3 -W 2 10.8.0.1 >/dev/null || fail "no ping through the tunnel"
"$PVD" exec "$name" -- ping -c 1 -W 2 10.8.0.1 >/dev/null || fail "pvd exec into the VPN domain cannot reach the server"
# OpenVPN's own socket is in the host's namespace, not in the domain.
ip netns exec "${P}host" ss -nua | lab_has "192.0.2.10:\|0.0.0.0:\|\*:" || fail "no OpenVPN socket in the host namespace"
lab_silent lab_sockets_but_pvdds "$ns" -nua || fail "a socket inside the domain: $(ip netns exec "$ns" ss -nuap)"

# The server goes away: nothing from the domain leaves through the uplink.
pkill -f "openvpn --dev tun --ifconfig 10.8.0.1" || true
# Anything of the domain's: its tunnel addresses, or the pings below.
lab_capture host up0 "$LAB_DIR/up0-ip.pcap" "ip and (host 10.8.0.2 or host 10.8.0.1 or icmp[icmptype] == icmp-echo)" || fail "tcpdump did not start"
leak_capture=$LAB_LAST_PID
ip netns exec "$ns" ping -c 2 -i 0.3 -W 1 192.0.2.1 >/dev/null 2>&1 && fail "the domain reached the uplink's network without the tunnel"
ip netns exec "$ns" ping -c 1 -W 1 10.8.0.1 >/dev/null 2>&1 && fail "the server answered after it stopped"
lab_capture_stop "$leak_capture"
lab_no_packets "$LAB_DIR/up0-ip.pcap" "the domain's traffic left through up0"

# The server comes back and the client dies: pvdd starts a new client, which connects.
lab_bg vpn "$LAB_DIR/server2.log" openvpn --dev tun --ifconfig 10.8.0.1 10.8.0.2 --secret "$LAB_DIR/static.key" \
    --cipher AES-256-CBC --proto udp --lport 1194 --verb 3
client_pid() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vpn_domains"][0]["pid"])' "$LAB_DIR/state/pvdd.json"; }
first=$(client_pid)
[ "$(cat "/proc/$first/comm")" = openvpn ] || fail "the state file does not name the client: $first"
kill -9 "$first"
restarted() { client=$(client_pid); [ "$client" != None ] && [ "$client" != "$first" ] && connected && ip netns exec "$ns" ping -c 1 -W 1 10.8.0.1 >/dev/null; }
lab_wait 20 restarted || fail "no new client after the first died: $(state) $(tail -3 "$LAB_DIR/pvdd.log")"
grep -q "openvpn exited (status 137), starting it again in 5 s" "$LAB_DIR/pvdd.log" || fail "no log line for the restart: $(cat "$LAB_DIR/pvdd.log")"
client=$(client_pid)
# The declared state without it: pvd apply removes it.
printf 'domains: []\nvpns: []\nnamespaces: []\n' >"$LAB_DIR/none.yaml"
[ "$("$PVD" apply "$LAB_DIR/none.yaml")" = "remove VPN domain $name" ] || fail "pvd apply did not remove the VPN domain"
[ ! -e "/run/netns/$ns" ] || fail "removing the VPN domain left the namespace"
client_gone() { ! kill -0 "$client" 2>/dev/null; }
lab_wait 5 client_gone || fail "removing the VPN domain left openvpn ($client) running"

lab_pvdd_stop "$pvdd"
lab_host_state >"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd left changes after SIGTERM"
