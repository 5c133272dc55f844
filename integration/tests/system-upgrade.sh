# `systemctl restart pvdd` and an upgrade (a newer build of the package
# installed over the running one) on Debian 12 booted with systemd, while a
# program pings through a learnt domain and two VPN domains are up
# (WireGuard through wireguard-go, and a tunnel program through pvd's hook
# contract): the program's pings go on without a gap, pvdd ends active with
# no restart, and VPN clients that restart after the restart, between dpkg's
# unpack and configure steps — when /usr/sbin/pvdd is the new file and the
# running pvdd the old one — and after the upgrade get their tunnels back.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_announce --pvd-id corp.example.com --outside --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
system_tunnel_program
system_wireguard_peer
mkdir -p "$SYSTEM_ROOT/etc/pvd/domains.d"
printf 'vpns:\n  - {name: tun, command: /usr/local/sbin/pvd-test-tunnel}\n  - {name: home, wireguard: /etc/pvd/home.conf}\n' \
    >"$SYSTEM_ROOT/etc/pvd/domains.d/vpns.yaml"
system_run systemctl reload pvdd
state_of() { system_run pvd list | awk -v name="$1" '$1 == name {print $4}'; }
connected() { [ "$(state_of "$1")" = connected ]; }
lab_wait 15 connected tun || fail "the tunnel domain is $(state_of tun): $(system_run pvd show tun 2>&1)"
lab_wait 15 connected home || fail "the WireGuard domain is $(state_of home): $(system_run pvd show home 2>&1)"
system_run pvd exec --quiet home -- ping -c 1 -W 2 10.7.0.1 >/dev/null || fail "no way through the WireGuard tunnel"
active() { [ "$(state_of corp)" = active ]; }
lab_wait 15 active || fail "corp is $(state_of corp): $(system_run pvd list 2>&1)"
system_run systemd-run --quiet --unit=pinger -p StandardOutput=file:/var/tmp/ping.log \
    pvd exec corp -- ping -D -n -i 0.2 2001:db8:ff::1
lab_wait 10 grep -q "icmp_seq=" "$SYSTEM_ROOT/var/tmp/ping.log" || fail "no ping through corp: $(cat "$SYSTEM_ROOT/var/tmp/ping.log")"

# client_restarts WHEN: both VPN clients are killed — the tunnel program
# and WireGuard's (pvdd's own helper, run from /usr/sbin/pvdd as it is now);
# pvdd starts new ones, which must get their tunnels back.
client_restarts() {
    local domain pattern before
    for domain in tun home; do
        case $domain in tun) pattern=pvd-test-tunnel ;; home) pattern="pvdd wireguard-up home" ;; esac
        before=$(system_run pgrep -f "$pattern")
        system_run pkill -f "$pattern"
        new_client() { local now; now=$(system_run pgrep -f "$pattern") && [ "$now" != "$before" ] && connected "$domain"; }
        lab_wait 30 new_client || fail "$1: no $domain tunnel after its client restarted: $(system_run pvd show "$domain" 2>&1)"
    done
    system_run pvd exec --quiet home -- ping -c 1 -W 2 10.7.0.1 >/dev/null || fail "$1: no way through the WireGuard tunnel"
}

system_run systemctl restart pvdd
system_unit_is pvdd active 10 || fail "pvdd did not come back after a restart"
client_restarts "after systemctl restart"

system_newer_package
system_run dpkg --unpack /var/tmp/pvd-newer.deb >"$LAB_DIR/unpack.log" 2>&1 || fail "dpkg --unpack: $(cat "$LAB_DIR/unpack.log")"
system_run readlink "/proc/$(system_property pvdd MainPID)/exe" | lab_has "(deleted)" || fail "the running pvdd is not the old program"
client_restarts "between unpack and configure"
system_run dpkg --configure pvd >"$LAB_DIR/configure.log" 2>&1 || fail "dpkg --configure: $(cat "$LAB_DIR/configure.log")"
system_unit_is pvdd active 10 || fail "pvdd is not active after the upgrade: $(system_journal pvdd | tail -n 20)"
[ "$(system_property pvdd NRestarts)" = 0 ] || fail "pvdd restarted $(system_property pvdd NRestarts) times"
system_run dpkg-query -W -f='${Version}' pvd | lab_has "+1$" || fail "the newer package is not installed"
client_restarts "after the upgrade"
lab_more_replies "$SYSTEM_ROOT/var/tmp/ping.log" 5
system_run systemctl stop pinger
lab_ping_unbroken "$SYSTEM_ROOT/var/tmp/ping.log" 20 || fail "the program in corp lost packets: $(system_run journalctl -b --no-pager -o short-precise -u pvdd | tail -n 40)"
system_pvdd_idle 5
