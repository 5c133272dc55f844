# systemd-networkd manages the uplink (IPv6AcceptRA=yes) of a Debian 12
# system booted with systemd, and pvd is installed beside it. For 5 minutes:
# pvdd learns the PvD on the uplink and the domain answers DNS from inside
# every 10 s; the host keeps its own SLAAC address and default route;
# networkd leaves pvd's links alone (it manages only what a .network file
# matches) and keeps the uplink configured.
# timeout: 480
set -euo pipefail
. "$(dirname "$0")/../system.sh"
soak=${PVD_SYSTEM_SOAK:-300}

system_boot
configured() { system_run networkctl status eth0 | lab_has "State: routable (configured)"; }
system_beside_manager systemd-networkd configured

# networkd_check N: the uplink is still configured, and no pvd link is managed.
networkd_check() {
    configured || fail "check $1: the uplink is $(system_run networkctl status eth0 2>&1)"
    system_run networkctl list --no-legend | awk '$2 ~ /^pv[hdt]/ && $5 != "unmanaged"' | lab_lacks . cat ||
        fail "check $1: networkd manages a pvd link: $(system_run networkctl list --no-legend)"
}
system_soak "$soak" networkd_check
system_pvdd_idle 5
