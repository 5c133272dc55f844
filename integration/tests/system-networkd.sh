# systemd-networkd manages the uplink (IPv6AcceptRA=yes) of a Debian 12
# system booted with systemd, and pvd is installed beside it. For a minute:
# pvdd learns the PvD on the uplink and the domain answers DNS from inside
# every 10 s; the host keeps its own SLAAC address and default route;
# networkd leaves pvd's links alone (it manages only what a .network file
# matches) and keeps the uplink configured.
set -euo pipefail
. "$(dirname "$0")/../system.sh"
soak=${PVD_SYSTEM_SOAK:-60}

system_boot
system_announce --pvd-id corp.example.com --outside --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_dns www.corp.test 2001:db8:ff::80
system_uplink_managed_by systemd-networkd
configured() { system_run networkctl status eth0 | lab_has "State: routable (configured)"; }
lab_wait 30 configured || fail "networkd did not configure the uplink: $(system_run networkctl status eth0 2>&1)"
lab_wait 30 system_host_autoconfigured || fail "the host did not autoconfigure: $(system_run ip -6 addr show dev eth0; system_run ip -6 route)"
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

end=$(( $(date +%s) + soak ))
checks=0
while [ "$(date +%s)" -lt "$end" ]; do
    answer=$(system_run pvd exec --quiet corp -- getent ahostsv6 www.corp.test) || fail "check $checks: no DNS answer in corp"
    grep -q "^2001:db8:ff::80 " <<<"$answer" || fail "check $checks: the answer: $answer"
    configured || fail "check $checks: the uplink is $(system_run networkctl status eth0 2>&1)"
    system_run ip -6 -o addr show dev eth0 scope global | lab_has "$host_address" || fail "check $checks: the host's address $host_address changed"
    system_host_autoconfigured || fail "check $checks: the host lost its default route: $(system_run ip -6 route)"
    system_run networkctl list --no-legend | awk '$2 ~ /^pv[hdt]/ && $5 != "unmanaged"' | lab_lacks . cat ||
        fail "check $checks: networkd manages a pvd link: $(system_run networkctl list --no-legend)"
    checks=$((checks + 1))
    sleep 10
done
echo "$checks checks over $soak s" >&2
system_pvdd_idle 5
