# NetworkManager manages the uplink (ipv6.method auto) of a Debian 12 system
# booted with systemd, and pvd is installed beside it. For 5 minutes: pvdd
# learns the PvD on the uplink and the domain answers DNS from inside every
# 10 s; NetworkManager keeps its connection activated and unchanged, the
# host keeps its own SLAAC address and default route (no fight over
# accept_ra), and NetworkManager never manages one of pvd's links (they are
# unmanaged from the moment they appear, without a reload by hand).
# timeout: 480
set -euo pipefail
. "$(dirname "$0")/../system.sh"
soak=${PVD_SYSTEM_SOAK:-300}

system_boot
connection() { system_run nmcli -t -f connection,ipv4,ipv6 connection show uplink | grep -v "^connection.timestamp:"; }
activated() { system_run nmcli -g GENERAL.STATE connection show uplink | lab_has "^activated$"; }
# Before pvd is installed: the connection as NetworkManager made it.
ready() { activated && connection >"$LAB_DIR/connection-before"; }
system_beside_manager NetworkManager ready

# nm_check N: the connection is still activated, and every pvd link
# NetworkManager lists is unmanaged.
nm_check() {
    local devices
    activated || fail "check $1: the uplink connection is $(system_run nmcli -g GENERAL.STATE connection show uplink)"
    devices=$(system_run nmcli -t -f DEVICE,STATE device)
    lab_has -E "^pv[hdt][^:]*:" <<<"$devices" || fail "check $1: NetworkManager lists no pvd link: $devices"
    ! grep -E "^pv[hdt][^:]*:" <<<"$devices" | grep -vq ":unmanaged$" || fail "check $1: NetworkManager manages a pvd link: $devices"
}
system_soak "$soak" nm_check
connection >"$LAB_DIR/connection-after"
diff "$LAB_DIR/connection-before" "$LAB_DIR/connection-after" >&2 || fail "NetworkManager's connection changed"
system_run journalctl -b --no-pager -o cat -u NetworkManager >"$LAB_DIR/nm.log"
[ -s "$LAB_DIR/nm.log" ] || fail "no NetworkManager journal"
! grep -E "\((pv[hdt][^)]*)\): (state change|Activation|dhcp)" "$LAB_DIR/nm.log" >&2 || fail "NetworkManager acted on a pvd link (above)"
system_pvdd_idle 5
