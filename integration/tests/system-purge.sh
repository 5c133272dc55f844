# Removing and purging the package on a Debian 12 system booted with systemd:
# with domains of every kind made (learnt, declared, runtime, a namespace),
# `apt purge` leaves nothing of pvd's — no namespace, no pvd link, no nft
# table, no /run/pvd, no /etc/netns entry, no file under /etc/pvd, the
# uplink's sysctls as they were before the install.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_announce --pvd-id corp.example.com --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
sysctls() { system_run sh -c 'cd /proc/sys/net/ipv6/conf && grep -H . all/forwarding eth0/forwarding eth0/accept_ra eth0/proxy_ndp'; }
sysctls >"$LAB_DIR/sysctls-before"
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
system_run pvd add spare --uplink eth0 --address 2001:db8:1::11 --router fe80::1 >/dev/null || fail "pvd add spare failed"
made() { system_run pvd list | lab_has "^corp " && system_run ip link show | lab_has " pvh"; }
lab_wait 15 made || fail "no domains to remove: $(system_run pvd list 2>&1)"
system_run nft list tables | lab_has "pvd" || fail "pvd made no nft table: $(system_run nft list tables)"
system_pvdd_idle 5

system_run dpkg --purge pvd >"$LAB_DIR/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$LAB_DIR/purge.log")"
lab_lacks "pvd" system_run ip netns list || fail "namespaces left: $(system_run ip netns list)"
lab_lacks " pv[hdt]" system_run ip -o link show || fail "links left: $(system_run ip -o link show)"
lab_lacks "pvd" system_run nft list tables || fail "nft tables left: $(system_run nft list tables); $(cat "$LAB_DIR/purge.log"); $(system_run journalctl -b --no-pager -o cat | grep -i pvd | tail -n 20)"
lab_lacks "lookup 18|lookup 0x7064" system_run ip -6 rule show || fail "rules left: $(system_run ip -6 rule show)"
for path in /run/pvd /etc/pvd /usr/sbin/pvdd /usr/bin/pvd; do
    system_run test ! -e "$path" || fail "$path is left: $(system_run ls -la "$path")"
done
lab_lacks "." system_run ls -A /etc/netns || fail "/etc/netns holds: $(system_run ls -A /etc/netns)"
sysctls >"$LAB_DIR/sysctls-after"
diff "$LAB_DIR/sysctls-before" "$LAB_DIR/sysctls-after" >/dev/null || fail "sysctls changed: $(diff "$LAB_DIR/sysctls-before" "$LAB_DIR/sysctls-after")"
