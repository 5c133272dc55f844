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
system_announce --pvd-id corp.example.com --outside --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_dns www.corp.test 2001:db8:ff::80
system_uplink_managed_by NetworkManager
connection() { system_run nmcli -t -f connection,ipv4,ipv6 connection show uplink | grep -v "^connection.timestamp:"; }
activated() { system_run nmcli -g GENERAL.STATE connection show uplink | lab_has "^activated$"; }
lab_wait 30 activated || fail "NetworkManager did not activate the uplink: $(system_run nmcli device 2>&1)"
lab_wait 30 system_host_autoconfigured || fail "the host did not autoconfigure: $(system_run ip -6 addr show dev eth0; system_run ip -6 route)"
connection >"$LAB_DIR/connection-before"
host_address=$(system_run ip -6 -o addr show dev eth0 scope global | awk '{print $4}')
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
system_corp_usable
# Turning forwarding on for the uplink makes the kernel drop the default
# routes learnt from RAs; the router's answer to pvdd's solicitation brings
# the host's back (docs/host.md).
start=$(date +%s%N)
lab_wait 10 system_host_autoconfigured || fail "the host's default route did not come back: $(system_run ip -6 route)"
echo "the host's autoconfiguration after pvdd's first domain: $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2

# pvd_links_unmanaged: every pvd link NetworkManager lists is unmanaged.
pvd_links_unmanaged() {
    local devices
    devices=$(system_run nmcli -t -f DEVICE,STATE device)
    ! grep -E "^pv[hdt][^:]*:" <<<"$devices" | grep -vq ":unmanaged$"
}
end=$(( $(date +%s) + soak ))
checks=0
while [ "$(date +%s)" -lt "$end" ]; do
    answer=$(system_run pvd exec --quiet corp -- getent ahostsv6 www.corp.test) || fail "check $checks: no DNS answer in corp"
    grep -q "^2001:db8:ff::80 " <<<"$answer" || fail "check $checks: the answer: $answer"
    activated || fail "check $checks: the uplink connection is $(system_run nmcli -g GENERAL.STATE connection show uplink)"
    system_host_autoconfigured || fail "check $checks: the host lost its autoconfiguration: $(system_run ip -6 addr show dev eth0; system_run ip -6 route)"
    system_run ip -6 -o addr show dev eth0 scope global | lab_has "$host_address" || fail "check $checks: the host's address $host_address changed"
    pvd_links_unmanaged || fail "check $checks: NetworkManager manages a pvd link: $(system_run nmcli -t -f DEVICE,STATE device)"
    checks=$((checks + 1))
    sleep 10
done
connection >"$LAB_DIR/connection-after"
diff "$LAB_DIR/connection-before" "$LAB_DIR/connection-after" >&2 || fail "NetworkManager's connection changed"
system_run journalctl -b --no-pager -o cat -u NetworkManager >"$LAB_DIR/nm.log"
! grep -E "\((pv[hdt][^)]*)\): (state change|Activation|dhcp)" "$LAB_DIR/nm.log" >&2 || fail "NetworkManager acted on a pvd link (above)"
echo "$checks checks over $soak s" >&2
system_pvdd_idle 5
