# WireGuard domains through the kernel's module: vpn-wireguard again, where
# pvdd must use the module (loaded) rather than wireguard-go. Skipped, with
# the reason, where the module is not loaded (this test does not load kernel
# modules: that would change the machine); vpn-wireguard covers wireguard-go.
if [ ! -d /sys/module/wireguard ]; then
    echo "the kernel's WireGuard module is not loaded ($(modinfo -F filename wireguard 2>/dev/null || echo "no wireguard module for $(uname -r)")); vpn-wireguard tests the wireguard-go path" >&2
    exit 77
fi
. "$(dirname "$0")/vpn-wireguard.sh"
lab_file_lacks "$LAB_DIR/state/wireguard-${LAB_PREFIX}home.log" "no kernel WireGuard" || fail "pvdd used wireguard-go although the module is loaded"
