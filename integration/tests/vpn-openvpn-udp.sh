# OpenVPN over UDP as companies run it: see vpn-openvpn-tls.inc.
PROTO=udp
. "$(dirname "$0")/vpn-openvpn-tls.inc"
