# A fresh install on Debian 12 booted with systemd as PID 1, as an
# administrator makes it (dpkg -i of scripts/package's .deb): pvdd is active
# when dpkg ends, with no restart (its sandbox's directories made by tmpfiles.d,
# not by a command inside the sandbox), answers `pvd list` on the real
# system bus, learns the PvD its uplink's router announces and runs a
# program in it that reaches the router's network; idle, it uses no CPU.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_announce --pvd-id corp.example.com --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_install
lab_lacks "Could not execute systemctl" cat "$LAB_DIR/install.log" || fail "dpkg could not reach systemd: $(cat "$LAB_DIR/install.log")"
system_unit_state_is pvdd active || fail "pvdd is $(system_run systemctl is-active pvdd) when the install ends: $(system_journal pvdd | tail -n 20)"
[ "$(system_property pvdd NRestarts)" = 0 ] || fail "pvdd restarted $(system_property pvdd NRestarts) times: $(system_journal pvdd | tail -n 20)"
[ "$(system_run systemctl is-enabled pvdd)" = enabled ] || fail "pvdd is not enabled"
for directory in /run/netns /run/pvd /etc/netns; do
    system_run test -d "$directory" || fail "$directory was not made"
done
learnt() { system_run pvd list | lab_has "^corp  *explicit  *ra  *active"; }
lab_wait 15 learnt || fail "pvdd did not learn corp (corp.example.com): $(system_run pvd list 2>&1) $(system_journal pvdd | tail -n 20)"
reached() { system_run pvd exec corp -- ping -c 1 -W 1 2001:db8:ff::1; }
lab_wait 10 reached || fail "a program in corp does not reach the router's network: $(system_run pvd status 2>&1)"
system_pvdd_idle 5
