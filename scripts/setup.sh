# Sourced by scripts/test, scripts/demo and scripts/bench: finds the Swift
# toolchain and installs the Debian packages that are missing (as root,
# with --no-install-recommends). Nothing else needs installing by hand.

# Building: pkg-config and the C libraries behind the system-library modules;
# make and gcc for libpvd (contrib/libpvd).
PVD_BUILD_PACKAGES=(pkg-config make gcc libc6-dev libndp-dev libnl-route-3-dev libsystemd-dev libcap-dev libyaml-dev)
# Running: curl (with the system's CAs), which `pvd fetch-information` runs inside a domain
# for RFC 8801 additional information; nft for IPv4 NAT; openvpn, wireguard-tools
# and wireguard-go (kernels without WireGuard, as here), openconnect for VPN domains;
# xdg-dbus-proxy, through which pvd exec gives programs the system bus.
PVD_RUN_PACKAGES=(curl ca-certificates nftables openvpn wireguard-tools wireguard-go openconnect xdg-dbus-proxy)
# Testing and the lab: scapy for independent packets, python3-dbus for calls
# pvd itself would not make (a document over 1 MiB), radvd as a real router,
# tcpdump for captures, iproute2/procps/util-linux for namespaces and nsenter,
# ping for reachability, openssl for the test CA of the HTTPS server; a
# private system bus (dbus-daemon) and clients that are not pvd's own
# (busctl from systemd, gdbus, dbus-send and dbus-monitor); setcap and
# getpcaps for pvd exec's file capabilities; ocserv as the OpenConnect server;
# Xvfb, weston, their clients and Firefox ESR for pvd exec on a desktop;
# dnsmasq, the DNS server of pvd lab's routers (openssl also serves and
# signs their additional information).
PVD_LAB_PACKAGES=(python3-scapy python3-dbus radvd tcpdump iproute2 procps util-linux iputils-ping openssl dnsmasq-base
                  dbus-daemon dbus-bin systemd libglib2.0-bin libcap2-bin ocserv
                  xvfb x11-utils weston wayland-utils firefox-esr)

# System tests (integration/system.sh): debootstrap makes the Debian 12 image
# once, systemd-nspawn boots it with systemd as PID 1.
PVD_SYSTEM_PACKAGES=(debootstrap systemd-container)

# Sandboxes and containers in domains (pvd-containers): bubblewrap, podman
# with runc (crun refuses a hybrid cgroup hierarchy such as this machine's),
# and busybox-static for a container image made without a registry.
PVD_CONTAINER_PACKAGES=(bubblewrap podman runc busybox-static)

# Configuration management (pvd-ansible): Debian's ansible-core runs the
# collection in contrib/ansible against this machine.
PVD_FLEET_PACKAGES=(ansible-core)

# Packaging (scripts/package) and checking the package (pvd-package):
# debhelper, lintian, the shells whose completions it loads, man to render
# its manual pages, polkitd for its authorization (pvd-polkit).
PVD_PACKAGE_PACKAGES=(debhelper dpkg-dev fakeroot lintian man-db bash-completion zsh fish polkitd dbus)

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

ensure_swift() {
    command -v swift >/dev/null || [ ! -x /opt/swift/usr/bin/swift ] || export PATH=/opt/swift/usr/bin:$PATH
    command -v swift >/dev/null || die "no Swift toolchain: install Swift 6 (swift.org) so that 'swift' is on PATH or in /opt/swift"
    [[ "$(swift --version 2>/dev/null)" =~ Swift\ version\ [6-9] ]] || die "Swift 6 or later is needed; found: $(swift --version 2>&1 | head -n 1)"
}

# ensure_packages PACKAGE…: apt-get install whichever are not installed yet.
ensure_packages() {
    local missing=() package
    for package in "$@"; do
        [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" == *"ok installed" ]] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return
    [ "$(id -u)" -eq 0 ] || die "missing Debian packages (run as root to install them): ${missing[*]}"
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
