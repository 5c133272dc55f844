# Any other tunnel program becomes a VPN domain through pvd's hook contract
# (docs/guide.md): pvdd runs it with PVD_DOMAIN, PVD_TUNNEL_DEVICE and
# PVD_HOOK; it makes its tun device and runs $PVD_HOOK with PVD_TUNNEL_EVENT
# and the PVD_TUNNEL_* settings. Here a stand-in program (a tun with no peer)
# shows the domain gets exactly that device, addresses, routes and DNS, and
# the state the program reports. A program others may change is refused.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_netns host
lab_netns peer
lab_link host up0 peer wan0
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
cat >"$LAB_DIR/tunnel" <<'PROGRAM'
#!/bin/sh
# A stand-in tunnel program: its tun device, pvd's hook, then it waits.
ip tuntap add dev "$PVD_TUNNEL_DEVICE" mode tun || exit 1
PVD_TUNNEL_EVENT=up PVD_TUNNEL_ADDRESSES=10.5.0.2/24,fd00:5::2/64 PVD_TUNNEL_ROUTES=198.18.0.0/15,2001:db8:55::/48 \
    PVD_TUNNEL_DNS=10.5.0.1 PVD_TUNNEL_SEARCH=tun.test PVD_TUNNEL_SERVER=192.0.2.77 $PVD_HOOK || exit 1
trap 'exit 0' TERM
while :; do sleep 0.2; done
PROGRAM
chmod 755 "$LAB_DIR/tunnel"
lab_vpn_host
pvdd=$LAB_PVDD
name=${P}tun
ns=pvd-$name

cp "$LAB_DIR/tunnel" "$LAB_DIR/open-tunnel"
chmod 777 "$LAB_DIR/open-tunnel"
answer=$(lab_call AddDomain 'sa{sv}' "$name" 1 command s "$LAB_DIR/open-tunnel" 2>&1) && fail "a program others may change was taken"
grep -q "writable by its group or others" <<<"$answer" || fail "the refusal: $answer"

lab_call AddDomain 'sa{sv}' "$name" 1 command s "$LAB_DIR/tunnel" >/dev/null
path=$(lab_call GetDomain s "$name" | cut -d'"' -f2)
property() { busctl --system get-property org.pvd1 "$path" org.pvd1.Domain "$1"; }
connected() { [ "$(property State)" = 's "connected"' ]; }
lab_wait 10 connected || fail "not connected: $(property StateReason) $(cat "$LAB_DIR/state/command-$name.log" 2>&1)"
property StateReason | lab_has "connected to 192.0.2.77 since " || fail "the state's reason: $(property StateReason)"
links=$(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')
case $links in "lo pvt"*" ") [ "$(wc -w <<<"$links")" -eq 2 ] ;; *) false ;; esac || fail "the domain's links: $links"
lab_lacks " pvt" ip -n "${P}host" -o link show || fail "the tun device stayed in the host namespace"
ip -n "$ns" -4 -o addr show | lab_has "inet 10.5.0.2/24" && ip -n "$ns" -6 -o addr show | lab_has "inet6 fd00:5::2/64" \
    || fail "the addresses: $(ip -n "$ns" addr)"
ip -n "$ns" -4 route show 198.18.0.0/15 | lab_has "dev pvt" && ip -n "$ns" -6 route show 2001:db8:55::/48 | lab_has "dev pvt" \
    || fail "the routes: $(ip -n "$ns" route; ip -n "$ns" -6 route)"
ip -n "$ns" -4 route show default | lab_has "dev pvt" && ip -n "$ns" -6 route show default | lab_has "dev pvt" \
    || fail "the default routes: $(ip -n "$ns" route; ip -n "$ns" -6 route)"
grep -qx "nameserver 10.5.0.1" "/etc/netns/$ns/resolv.conf" && grep -qx "search tun.test" "/etc/netns/$ns/resolv.conf" \
    || fail "resolv.conf: $(cat "/etc/netns/$ns/resolv.conf")"
show=$("$PVD" show "$name")
for want in "198.18.0.0/15" "2001:db8:55::/48" "10.5.0.1" "tun.test" "10.5.0.2" "fd00:5::2"; do
    grep -q "$want" <<<"$show" || fail "pvd show has no $want: $show"
done

lab_call RemoveDomain s "$name" >/dev/null
gone() { ! pgrep -f "$LAB_DIR/tunnel" >/dev/null; }
lab_wait 5 gone || fail "RemoveDomain left the program running"
[ ! -e "/run/netns/$ns" ] || fail "RemoveDomain left the namespace"
lab_pvdd_stop "$pvdd"
lab_host_state >"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd left changes"
