# A reboot of a Debian 12 system with pvd installed (systemd as PID 1): pvdd
# starts with no restart; the domains declared in /etc/pvd/pvdd.yaml and in
# domains.d/ come back, and the learnt PvD is learnt again; a domain added
# at runtime is gone with its /etc/netns files (/run is empty after a boot,
# /etc is not).
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_announce --pvd-id corp.example.com --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
mkdir -p "$SYSTEM_ROOT/etc/pvd/domains.d"
printf 'domains:\n  - {name: lab, uplink: eth0, addresses: ["2001:db8:1::10"], routers: ["fe80::1"]}\n' \
    >"$SYSTEM_ROOT/etc/pvd/domains.d/lab.yaml"
sed -i 's/^namespaces: \[\]$/namespaces: [scratch]/' "$SYSTEM_ROOT/etc/pvd/pvdd.yaml"
grep -qx "namespaces: \[scratch\]" "$SYSTEM_ROOT/etc/pvd/pvdd.yaml" || fail "pvdd.yaml has no 'namespaces: []' line to change"
system_run systemctl reload pvdd
system_run pvd add spare --uplink eth0 --address 2001:db8:1::11 --router fe80::1 >/dev/null || fail "pvd add spare failed"
all_there() {
    local list
    list=$(system_run pvd list)
    for name in lab scratch spare corp; do grep -q "^$name " <<<"$list" || return 1; done
}
lab_wait 15 all_there || fail "before the reboot: $(system_run pvd list 2>&1)"
system_run test -f /etc/netns/pvd-spare/resolv.conf || fail "the runtime domain has no /etc/netns files"

system_poweroff
system_boot
system_unit_is pvdd active 10 || fail "pvdd is $(system_run systemctl is-active pvdd) after the reboot: $(system_journal pvdd | tail -n 20)"
[ "$(system_property pvdd NRestarts)" = 0 ] || fail "pvdd restarted $(system_property pvdd NRestarts) times after the reboot"
back() {
    local list
    list=$(system_run pvd list)
    for name in lab scratch corp; do grep -q "^$name " <<<"$list" || return 1; done
}
lab_wait 15 back || fail "after the reboot: $(system_run pvd list 2>&1) $(system_journal pvdd | tail -n 20)"
lab_lacks "^spare " system_run pvd list || fail "the runtime domain came back after a reboot"
system_run test ! -e /etc/netns/pvd-spare || fail "/etc/netns/pvd-spare stayed after the reboot: $(system_run ls -la /etc/netns/pvd-spare)"
system_run pvd exec lab -- ip -6 addr show dev pvd0 | lab_has "2001:db8:1::10/128" || fail "lab's address: $(system_run pvd exec lab -- ip -6 addr)"
system_pvdd_idle 5
