# firewalld running on a Debian 12 system booted with systemd (its default
# zone forwards nothing): once pvd is installed, its zone pvd holds pvd's
# host-side links, and a program in a domain reaches the router's network.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_run systemctl enable --quiet --now firewalld
running() { system_run firewall-cmd --state | lab_has "^running$"; }
lab_wait 30 running || fail "firewalld did not start: $(system_run systemctl status firewalld 2>&1 | tail -n 5)"
system_announce --pvd-id corp.example.com --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
system_corp_usable
system_run firewall-cmd --zone=pvd --list-interfaces | lab_has "pvh+" || fail "zone pvd: $(system_run firewall-cmd --info-zone=pvd 2>&1)"
system_run nft list chain inet firewalld filter_FORWARD_ZONES | lab_has 'iifname "pvh\*"' ||
    fail "firewalld does not dispatch pvd's links: $(system_run nft list chain inet firewalld filter_FORWARD_ZONES)"
reaches() { system_run pvd exec --quiet corp -- ping -c 1 -W 1 2001:db8:ff::1 >/dev/null; }
lab_wait 5 reaches || fail "corp does not reach the router's network beside firewalld"
# Control: without pvd's zone, firewalld's default zone forwards nothing.
system_run firewall-cmd --quiet --zone=pvd --remove-interface=pvh+
! reaches || fail "corp reaches the router's network with pvd's links in firewalld's default zone: the check above proves nothing"
system_run firewall-cmd --quiet --reload
lab_wait 5 reaches || fail "corp does not reach the router's network after firewall-cmd --reload"
system_run pvd show corp | lab_lacks "dropped by" cat || fail "corp's state names a firewall: $(system_run pvd show corp)"
system_pvdd_idle 5
