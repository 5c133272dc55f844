# OpenVPN over TCP as companies run it: see vpn-openvpn-tls.inc.
PROTO=tcp
. "$(dirname "$0")/vpn-openvpn-tls.inc"
