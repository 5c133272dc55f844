# Helpers for system tests: Debian 12 booted with systemd as PID 1
# (systemd-nspawn --boot), the package from scripts/package installed in it
# as an administrator would. Source this file after nothing else (it sources
# lib.sh). The first boot starts from the cached image under an overlay of
# the test's own, each boot in a private network namespace whose uplink eth0
# is a veth to a router namespace of the test's: nothing of the machine's
# own state is touched, and system_poweroff (run on exit) powers the
# container off and removes its cgroups.
#
#   container ──eth0──r0── [br0] router: pvd announce, a DNS responder at
#   2001:db8:1::53 (system_announce, system_dns), 2001:db8:ff::1 behind it
#   on lo.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian packages of the image: what pvd depends on and recommends, the
# network managers, resolver and firewall the scenarios run beside it (installed,
# disabled until a scenario enables them), the VPN programs, and netbase
# (/etc/protocols, which firewalld needs).
SYSTEM_PACKAGES=(systemd systemd-sysv dbus iproute2 libndp0 libnl-route-3-200 libyaml-0-2 libcap2-bin curl ca-certificates nftables
    polkitd libpam-systemd procps iputils-ping wireguard-tools wireguard-go network-manager systemd-resolved firewalld netbase xdg-dbus-proxy)
SYSTEM_CACHE=${PVD_SYSTEM_CACHE:-/var/cache/pvd-system}
SYSTEM_NAME=${LAB_PREFIX}sys
SYSTEM_ROOT=$LAB_DIR/system-root
SYSTEM_NSPAWN=
SYSTEM_LEADER=
SYSTEM_ROUTER_STARTED=

# system_mirror: the Debian mirror apt on this machine uses.
system_mirror() {
    local uri
    uri=$(grep -hs -m 1 -oP '^URIs:\s*\K\S+' /etc/apt/sources.list.d/*.sources | head -n 1)
    [ -n "$uri" ] || uri=$(grep -hs -m 1 -oP '^deb\s+(\[[^]]*\]\s+)?\K\S+' /etc/apt/sources.list | head -n 1)
    echo "${uri:-http://deb.debian.org/debian}"
}

# system_image: prints the cached image's directory, made once with
# debootstrap (about two minutes) and kept between runs; a change of the
# package list makes a new one.
system_image() {
    local key image staging
    key=$(printf '%s\n' 3 "${SYSTEM_PACKAGES[@]}" | sha256sum | cut -c1-12)
    image=$SYSTEM_CACHE/bookworm-$key
    mkdir -p "$SYSTEM_CACHE"
    (
        flock 9
        [ -e "$image/.complete" ] && exit 0
        rm -rf "$SYSTEM_CACHE"/bookworm-*  # older images
        staging=$SYSTEM_CACHE/staging
        rm -rf "$staging"
        debootstrap --variant=minbase --include="$(IFS=,; echo "${SYSTEM_PACKAGES[*]}")" bookworm "$staging" "$(system_mirror)" \
            >"$SYSTEM_CACHE/debootstrap.log" 2>&1 || { tail -n 20 "$SYSTEM_CACHE/debootstrap.log" >&2; exit 1; }
        # A plain Debian 12 host: no network manager or resolver running
        # until a scenario starts one; resolv.conf a file.
        chroot "$staging" systemctl disable --quiet NetworkManager.service systemd-resolved.service firewalld.service 2>/dev/null
        chroot "$staging" systemctl mask --quiet console-getty.service
        rm -f "$staging/etc/resolv.conf"
        echo "nameserver 2001:db8:1::53" >"$staging/etc/resolv.conf"
        echo pvdsys >"$staging/etc/hostname"
        chroot "$staging" useradd --create-home --shell /bin/bash alice
        chroot "$staging" apt-get clean
        touch "$staging/.complete"
        mv "$staging" "$image"
    ) 9>"$SYSTEM_CACHE/lock" || return 1
    echo "$image"
}

# system_router: the router namespace, once per test.
system_router() {
    [ -z "$SYSTEM_ROUTER_STARTED" ] || return 0
    SYSTEM_ROUTER_STARTED=1
    lab_netns router
    lab_in router sysctl -qw net.ipv6.conf.all.forwarding=1
    ip -n "${LAB_PREFIX}router" addr add 2001:db8:ff::1/128 dev lo
    # The link is a bridge, so that it outlives each boot's veth.
    lab_bridge router br0
    ip -n "${LAB_PREFIX}router" addr add 2001:db8:1::1/64 dev br0 nodad
    ip -n "${LAB_PREFIX}router" addr add 2001:db8:1::53/64 dev br0 nodad
}

# system_announce ARGS…: pvd announce on the router's link (replacing any
# running one), e.g. --pvd-id corp.example.com --prefix 2001:db8:1::/64;
# after the first system_boot (the link needs a port).
system_announce() {
    [ -z "${SYSTEM_ANNOUNCER:-}" ] || lab_stop "$SYSTEM_ANNOUNCER"
    lab_bg router "$LAB_DIR/announce.log" "$PVD" announce --interface br0 "$@"
    SYSTEM_ANNOUNCER=$LAB_LAST_PID
}

# system_dns NAME ADDRESS: a DNS responder on the router at 2001:db8:1::53
# answering NAME's AAAA query with ADDRESS.
system_dns() {
    lab_bg router "$LAB_DIR/dns.log" /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/dns_responder.py" 2001:db8:1::53 "$1" "$2"
    lab_wait 10 grep -q listening "$LAB_DIR/dns.log" || fail "the DNS responder did not start: $(cat "$LAB_DIR/dns.log")"
}

# system_cgroup_dirs: the cgroup directories the container runs under (one
# per mounted hierarchy that has a cgroup.procs: systemd's own hierarchy and
# the unified one on a hybrid host, the root on a unified host).
system_cgroup_dirs() {
    local hierarchy
    for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        [ -w "$hierarchy/cgroup.procs" ] || continue
        [ "$hierarchy" = /sys/fs/cgroup ] && [ -d /sys/fs/cgroup/systemd ] && continue
        echo "$hierarchy/$SYSTEM_NAME"
    done
}

# system_boot: boots the container (the first time from a clean image; again
# after system_poweroff, with what the last boot wrote, as a reboot) and
# waits for it to reach running. The router is linked to its eth0.
system_boot() {
    local image upper=$LAB_DIR/system-upper work=$LAB_DIR/system-work dir state deadline
    image=$(system_image) || fail "no system image"
    system_router
    mkdir -p "$upper" "$work" "$SYSTEM_ROOT"
    mountpoint -q "$SYSTEM_ROOT" || mount -t overlay overlay -o "lowerdir=$image,upperdir=$upper,workdir=$work" "$SYSTEM_ROOT"
    # --private-network: a network namespace of its own, new at each boot
    # (with CAP_NET_ADMIN and /proc/sys/net writable, as on a machine).
    (
        for dir in $(system_cgroup_dirs); do mkdir -p "$dir" && echo "$BASHPID" >"$dir/cgroup.procs"; done
        exec systemd-nspawn --quiet --boot --keep-unit --register=no --machine="$SYSTEM_NAME" --directory="$SYSTEM_ROOT" \
            --private-network --bind-ro="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.build/package:/mnt/package" \
            --console=passive
    ) >"$LAB_DIR/console.log" 2>&1 &
    SYSTEM_NSPAWN=$!
    deadline=$(( $(date +%s) + 60 ))
    until SYSTEM_LEADER=$(pgrep -P "$SYSTEM_NSPAWN" -x systemd); do
        kill -0 "$SYSTEM_NSPAWN" 2>/dev/null || fail "systemd-nspawn ended: $(tail -n 20 "$LAB_DIR/console.log")"
        [ "$(date +%s)" -lt "$deadline" ] || fail "no container after 60 s: $(tail -n 20 "$LAB_DIR/console.log")"
        sleep 0.01
    done
    # The uplink, plugged in as the system boots (it goes with the container).
    ip -n "${LAB_PREFIX}router" link add r0 type veth peer name eth0 netns "$SYSTEM_LEADER"
    ip -n "${LAB_PREFIX}router" link set r0 master br0 up
    nsenter --target="$SYSTEM_LEADER" --net ip link set eth0 up
    until state=$(system_run systemctl is-system-running 2>/dev/null); [ "$state" = running ] || [ "$state" = degraded ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "the system is $state after 60 s: $(system_run systemctl --failed --no-legend 2>&1)"
        sleep 0.2
    done
}

# system_run CMD…: runs CMD inside the booted system (every namespace of
# its PID 1, a clean environment), as root.
system_run() {
    nsenter --target="$SYSTEM_LEADER" --all env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

# system_poweroff: powers the container off (killing it after 30 s) and
# removes its cgroups; the overlay stays for the next system_boot.
system_poweroff() {
    local deadline dir
    [ -n "$SYSTEM_NSPAWN" ] || return 0
    if kill -0 "$SYSTEM_NSPAWN" 2>/dev/null; then
        system_run systemctl poweroff >/dev/null 2>&1
        deadline=$(( $(date +%s) + 30 ))
        while kill -0 "$SYSTEM_NSPAWN" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$SYSTEM_NSPAWN" 2>/dev/null || true
    fi
    wait "$SYSTEM_NSPAWN" 2>/dev/null || true
    # The container's PID 1 outlives a killed nspawn; killing it ends every
    # process of its PID namespace.
    if [ -n "$SYSTEM_LEADER" ] && kill -0 "$SYSTEM_LEADER" 2>/dev/null; then
        kill -KILL "$SYSTEM_LEADER" 2>/dev/null || true
        lab_wait 10 system_cgroups_empty || echo "the container's processes did not end" >&2
    fi
    SYSTEM_NSPAWN=
    for dir in $(system_cgroup_dirs); do
        [ ! -d "$dir" ] || find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
}

# system_cgroups_empty: no process is left in the container's cgroups.
system_cgroups_empty() {
    local dir
    for dir in $(system_cgroup_dirs); do
        [ ! -d "$dir" ] || [ -z "$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] || return 1
    done
}

system_cleanup() {
    set +e
    system_poweroff
    mountpoint -q "$SYSTEM_ROOT" && umount "$SYSTEM_ROOT"
    lab_cleanup
}
trap system_cleanup EXIT

# system_install: installs the package (the newest .deb scripts/package
# built) with apt, as an administrator would; prints apt's output on failure.
system_install() {
    local deb
    deb=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.build/package" && ls pvd_*_*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || fail "no package: run scripts/package first (scripts/test does)"
    system_run dpkg -i "/mnt/package/$deb" >"$LAB_DIR/install.log" 2>&1 || fail "dpkg -i $deb: $(cat "$LAB_DIR/install.log")"
}

# system_unit_is UNIT STATE [SECONDS]: waits until systemctl is-active UNIT says STATE.
system_unit_is() {
    lab_wait "${3:-10}" system_unit_state_is "$1" "$2"
}
system_unit_state_is() { [ "$(system_run systemctl is-active "$1")" = "$2" ]; }

# system_property UNIT PROPERTY: one property of a unit (systemctl show --value).
system_property() { system_run systemctl show --value -p "$2" "$1"; }

# system_pvdd_cpu_ticks: user and system CPU time pvdd has used, in clock ticks.
system_pvdd_cpu_ticks() {
    local pid
    pid=$(system_property pvdd MainPID)
    [ "$pid" -gt 0 ] || fail "pvdd does not run"
    system_run cat "/proc/$pid/stat" | awk '{print $14 + $15}'
}

# system_pvdd_idle SECONDS: pvdd uses less than 1 % of a core over SECONDS
# (a guard against any busy loop), every scenario's last check.
system_pvdd_idle() {
    local before after hz
    hz=$(getconf CLK_TCK)
    before=$(system_pvdd_cpu_ticks)
    sleep "$1"
    after=$(system_pvdd_cpu_ticks)
    [ $(( (after - before) * 100 )) -lt $(( $1 * hz )) ] ||
        fail "pvdd used $(( after - before )) ticks of CPU in $1 s while idle (1 % is $(( $1 * hz / 100 )))"
}

# system_journal UNIT: the unit's journal of this boot.
system_journal() { system_run journalctl -b --no-pager -o cat -u "$1"; }

# system_newer_package: a newer build of the package (its version + "+1"),
# repacked from scripts/package's .deb, at /var/tmp/pvd-newer.deb inside.
system_newer_package() {
    local deb tree=$LAB_DIR/newer
    deb=$(ls "$(dirname "${BASH_SOURCE[0]}")"/../.build/package/pvd_*_*.deb | head -n 1)
    dpkg-deb -R "$deb" "$tree"
    sed -i 's/^Version: \(.*\)$/Version: \1+1/' "$tree/DEBIAN/control"
    dpkg-deb --root-owner-group -b "$tree" "$SYSTEM_ROOT/var/tmp/pvd-newer.deb" >/dev/null
}

# system_tunnel_program: a stand-in tunnel program for pvd's hook contract
# (a tun device with no peer, the hook, then it waits) at
# /usr/local/sbin/pvd-test-tunnel inside.
system_tunnel_program() {
    install -D -m 755 /dev/stdin "$SYSTEM_ROOT/usr/local/sbin/pvd-test-tunnel" <<'PROGRAM'
#!/bin/sh
ip tuntap add dev "$PVD_TUNNEL_DEVICE" mode tun || exit 1
PVD_TUNNEL_EVENT=up PVD_TUNNEL_ADDRESSES=10.5.0.2/24,fd00:5::2/64 PVD_TUNNEL_DNS=10.5.0.1 PVD_TUNNEL_SERVER=192.0.2.77 $PVD_HOOK || exit 1
trap 'exit 0' TERM
while :; do sleep 0.2; done
PROGRAM
}

# system_uplink_managed_by MANAGER: NetworkManager or systemd-networkd
# manages eth0 (IPv6 autoconfiguration from RAs, no IPv4), started now.
system_uplink_managed_by() {
    case $1 in
        NetworkManager)
            install -D -m 600 /dev/stdin "$SYSTEM_ROOT/etc/NetworkManager/system-connections/uplink.nmconnection" <<'KEYFILE'
[connection]
id=uplink
type=ethernet
interface-name=eth0
[ipv4]
method=disabled
[ipv6]
method=auto
addr-gen-mode=eui64
KEYFILE
            ;;
        systemd-networkd)
            install -D -m 644 /dev/stdin "$SYSTEM_ROOT/etc/systemd/network/50-uplink.network" <<'NETWORK'
[Match]
Name=eth0
[Network]
IPv6AcceptRA=yes
LinkLocalAddressing=ipv6
NETWORK
            ;;
        *) fail "no such network manager: $1" ;;
    esac
    system_run systemctl enable --quiet --now "$1"
}

# system_host_autoconfigured: eth0 has its own SLAAC address in
# 2001:db8:1::/64 and a default route learnt from the router.
system_host_autoconfigured() {
    system_run ip -6 -o addr show dev eth0 scope global | lab_has "inet6 2001:db8:1:" &&
        system_run ip -6 route show default dev eth0 | lab_has "via fe80::"
}

# system_corp_usable: waits (15 s at most) until pvdd has the PvD
# corp.example.com as the domain corp, active, and a program in it reaches
# the router's DNS server.
system_corp_usable() {
    active() { system_run pvd list | lab_has "^corp  *explicit  *ra  *active"; }
    lab_wait 15 active || fail "corp is not active: $(system_run pvd list 2>&1) $(system_journal pvdd | tail -n 20)"
    reaches_dns() { system_run pvd exec --quiet corp -- ping -c 1 -W 1 2001:db8:1::53; }
    lab_wait 10 reaches_dns || fail "corp does not reach its DNS server: $(system_run pvd show corp 2>&1)"
}

# system_wireguard_peer: a WireGuard peer (Debian's wireguard-go) in the
# router's namespace at [2001:db8:1::1]:51820 with 10.7.0.1 and fd00:7::1 on
# its tunnel, and a client configuration for it at /etc/pvd/home.conf inside
# (root's, mode 600).
system_wireguard_peer() {
    lab_wireguard_peer router
    install -D -m 600 /dev/stdin "$SYSTEM_ROOT/etc/pvd/home.conf" <<CONF
[Interface]
PrivateKey = $(cat "$LAB_DIR/client.key")
Address = 10.7.0.2/24, fd00:7::2/64

[Peer]
PublicKey = $(wg pubkey <"$LAB_DIR/server.key")
Endpoint = [2001:db8:1::1]:51820
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 1
CONF
}

# system_beside_manager MANAGER READY: the lab of the network-manager
# scenarios: a PvD announced also to PvD-unaware hosts (--outside), a DNS
# responder, MANAGER (system_uplink_managed_by) configuring the uplink
# until READY (a command) holds and the host has autoconfigured; then the
# package installed and corp usable, and the host's default route back (the
# kernel drops RA-learnt defaults when the uplink's forwarding goes on; the
# router's answer to pvdd's solicitation brings it back, docs/host.md).
# The host's own address is in SYSTEM_HOST_ADDRESS.
system_beside_manager() {
    local manager=$1 ready=$2 start
    system_announce --pvd-id corp.example.com --outside --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
    system_dns www.corp.test 2001:db8:ff::80
    system_uplink_managed_by "$manager"
    lab_wait 30 "$ready" || fail "$manager did not configure the uplink: $(system_run ip -6 addr show dev eth0)"
    lab_wait 30 system_host_autoconfigured || fail "the host did not autoconfigure: $(system_run ip -6 addr show dev eth0; system_run ip -6 route)"
    SYSTEM_HOST_ADDRESS=$(system_run ip -6 -o addr show dev eth0 scope global | awk '{print $4}')
    system_install
    system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
    system_corp_usable
    start=$(date +%s%N)
    lab_wait 10 system_host_autoconfigured || fail "the host's default route did not come back: $(system_run ip -6 route)"
    echo "the host's autoconfiguration after pvdd's first domain: $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
}

# system_soak SECONDS CHECK: every 10 s for SECONDS, corp answers DNS from
# inside, the host keeps its address and default route, and CHECK (a
# command, given the check's number) holds.
system_soak() {
    local seconds=$1 check=$2 end checks=0 answer
    end=$(( $(date +%s) + seconds ))
    while [ "$(date +%s)" -lt "$end" ]; do
        answer=$(system_run pvd exec --quiet corp -- getent ahostsv6 www.corp.test) || fail "check $checks: no DNS answer in corp"
        grep -q "^2001:db8:ff::80 " <<<"$answer" || fail "check $checks: the answer: $answer"
        system_host_autoconfigured || fail "check $checks: the host lost its autoconfiguration: $(system_run ip -6 addr show dev eth0; system_run ip -6 route)"
        system_run ip -6 -o addr show dev eth0 scope global | lab_has "$SYSTEM_HOST_ADDRESS" ||
            fail "check $checks: the host's address $SYSTEM_HOST_ADDRESS changed"
        "$check" "$checks"
        checks=$((checks + 1))
        sleep 10
    done
    echo "$checks checks over $seconds s" >&2
}
