# Helpers for integration tests and the demo lab. Source this file; every
# namespace made through lab_netns is removed by lab_cleanup, which runs on
# exit, on error and on interruption. Names carry the prefix $LAB_PREFIX
# (default pvdt<pid>-), so a test only ever touches what it made itself.

LAB_PREFIX=${LAB_PREFIX:-pvdt$$-}
# The prefix, short, as tests write it in names: "${P}host".
P=$LAB_PREFIX
# integration/, where the Python helpers are (scapy_ra.py, polkit_agent.py, …).
LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_NAMESPACES=()
LAB_PIDS=()
LAB_DIR=$(mktemp -d "/tmp/${LAB_PREFIX}XXXX")

lab_cleanup() {
    set +e  # runs from the EXIT trap: a failing kill or wait must not cut it short
    local pid ns domain
    for pid in "${LAB_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${LAB_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    # A stopped pvdd leaves its domains and VPN clients for the next one: remove them.
    [ ${#LAB_PVDD_ARGS[@]} -eq 0 ] || lab_pvdd_cleanup >/dev/null 2>&1
    # Domains the test had pvd make carry the test's prefix in their names.
    for ns in $(ip netns list | awk '{print $1}' | grep "^pvd-$LAB_PREFIX"); do ip netns delete "$ns" 2>/dev/null; done
    rm -rf /etc/netns/pvd-"$LAB_PREFIX"*
    for ns in "${LAB_NAMESPACES[@]}"; do
        # Domains a pvd under test made from a namespace of the test (implicit
        # ones are named after the uplink, without the prefix) are in its registry.
        for domain in /run/pvd/domains/"$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)"/*; do
            [ -e "$domain" ] || continue
            ip netns delete "pvd-${domain##*/}" 2>/dev/null
            rm -rf "/etc/netns/pvd-${domain##*/}"
        done
        # A killed pvdd's published namespace, when it is this one.
        if [ "$(stat -L -c %i /run/netns/rootns 2>/dev/null)" = "$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)" ]; then
            ip netns delete rootns 2>/dev/null
        fi
        # HostNet's uplink records are named after the namespace's inode.
        rm -rf /run/pvd/uplinks/"$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)"-* \
            /run/pvd/uplinks-ipv4/"$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)"-* \
            /run/pvd/host/"$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)" \
            /run/pvd/pvdd-"$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)".lock \
            /run/pvd/domains/"$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)"
        ip netns delete "$ns" 2>/dev/null
    done
    rm -rf "$LAB_DIR"
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

# lab_netns NAME: a namespace $LAB_PREFIX$NAME with lo up and no DAD delay.
lab_netns() {
    local ns=$LAB_PREFIX$1
    ip netns add "$ns"
    LAB_NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    # No node solicits routers by itself: a forwarding host notes the sender of
    # an RS as a neighbour, which must not land in a test's no-change window;
    # the only solicitations on a lab link are pvdd's own.
    lab_in "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
}

# lab_in NAME CMD…: run CMD in namespace NAME (short-lived commands).
lab_in() {
    local ns=$LAB_PREFIX$1
    shift
    ip netns exec "$ns" "$@"
}

# lab_bg NAME LOG CMD…: start CMD in namespace NAME in the background, stdout
# and stderr to LOG; stopped by lab_cleanup. Uses nsenter so that the process
# shares the host's mount namespace (ip netns exec would hide /run/netns).
lab_bg() {
    local ns=$LAB_PREFIX$1 log=$2
    shift 2
    nsenter --net="/run/netns/$ns" "$@" >"$log" 2>&1 &
    LAB_LAST_PID=$!
    LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_stop PID: stop one background process started by lab_bg.
lab_stop() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null || true
}

# lab_link A IFA B IFB: a veth pair between namespaces A and B, both ends up.
lab_link() {
    ip -n "$LAB_PREFIX$1" link add "$2" type veth peer name "$4" netns "$LAB_PREFIX$3"
    ip -n "$LAB_PREFIX$1" link set "$2" up
    ip -n "$LAB_PREFIX$3" link set "$4" up
}

# lab_bridge NAME BRIDGE: a bridge in namespace NAME, up.
lab_bridge() {
    ip -n "$LAB_PREFIX$1" link add "$2" type bridge
    ip -n "$LAB_PREFIX$1" link set "$2" up
}

# lab_port A IFA B IFB BRIDGE: a veth from A to B whose B end joins BRIDGE.
lab_port() {
    lab_link "$1" "$2" "$3" "$4"
    ip -n "$LAB_PREFIX$3" link set "$4" master "$5"
}

# lab_hostnet NAME ARGS…: the HostNet driver (pvd-hostnet) run in namespace NAME.
lab_hostnet() {
    local ns=$LAB_PREFIX$1
    shift
    nsenter --net="/run/netns/$ns" "$PVD_HOSTNET" "$@"
}

# lab_monitor_mark NAME LOG N: a marker route (2001:db8:ffff:N::/64) added
# and deleted in namespace NAME until the `ip monitor` writing LOG reports
# it: the monitor is listening, and every change before it is in LOG.
# Marker lines are `lab_unmarked`'s to leave out.
lab_monitor_mark() {
    local ns=$LAB_PREFIX$1 log=$2 marker="2001:db8:ffff:$3::/64"
    marked() {
        ip -n "$ns" -6 route add unreachable "$marker" && ip -n "$ns" -6 route del unreachable "$marker"
        grep -q "^Deleted unreachable $marker" "$log"
    }
    lab_wait 10 marked || fail "ip monitor did not report the marker route $marker: $(cat "$log")"
}

# lab_unmarked LOG: LOG without lab_monitor_mark's marker routes (a missing
# LOG fails the test).
lab_unmarked() {
    [ -f "$1" ] || fail "$1 is missing"
    grep -v "unreachable 2001:db8:ffff:" "$1" || true
}

# lab_no_kernel_change NAME CMD…: runs CMD and fails the test if namespace
# NAME's kernel sends any link, address, route, rule or neighbour change
# message meanwhile (`ip monitor` reports nothing between two markers).
lab_no_kernel_change() {
    local ns=$1 log=$LAB_DIR/monitor-$1 monitor
    shift
    lab_bg "$ns" "$log" ip -6 monitor link address route rule neigh
    monitor=$LAB_LAST_PID
    lab_monitor_mark "$ns" "$log" 1
    "$@"
    lab_monitor_mark "$ns" "$log" 2
    lab_stop "$monitor"
    lab_silent lab_unmarked "$log" || fail "$* changed the kernel: $(lab_unmarked "$log")"
}

# lab_ping_unbroken LOG MINIMUM: the `ping -n` output in LOG has at least
# MINIMUM replies and, after the first, no missing sequence number.
lab_ping_unbroken() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys
seqs = [int(m) for m in re.findall(r"icmp_seq=(\d+)", open(sys.argv[1]).read())]
gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
if len(seqs) < int(sys.argv[2]) or gaps:
    sys.exit(f"the pinging program was disturbed: {len(seqs)} replies, gaps {gaps}")
PY
}

# lab_wait SECONDS CMD…: retry CMD every 0.1 s until it succeeds or time runs out.
lab_wait() {
    local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# What lab_capture_stop sends to know a capture has written everything
# sent before it: UDP to port 9 of this group, which every lab_capture
# filter lets in and lab_no_packets leaves out.
LAB_MARK_GROUP=ff02::9:7076
LAB_MARK_FILTER="udp and dst port 9 and ip6 dst $LAB_MARK_GROUP"
declare -A LAB_CAPTURES=()

# lab_capture NAME IFACE FILE [FILTER]: tcpdump of FILTER (default: ICMPv6)
# on IFACE in NAME into FILE, returning once tcpdump is listening; stop it
# with lab_capture_stop.
lab_capture() {
    local log=$LAB_DIR/tcpdump-$1-$2.log
    # --immediate-mode: without it packets arrive in blocks and the last ones are lost on kill.
    lab_bg "$1" "$log" tcpdump -n -U --immediate-mode -i "$2" -w "$3" "(${4:-icmp6}) or ($LAB_MARK_FILTER)"
    LAB_CAPTURES[$LAB_LAST_PID]="$1 $2 $3"
    lab_wait 10 grep -q "listening on" "$log" || { cat "$log" >&2; return 1; }
}

# lab_capture_sync PID: returns once a marker sent out of the capture PID's
# interface is in its file: everything sent before is there too.
lab_capture_sync() {
    local ns iface file
    read -r ns iface file <<<"${LAB_CAPTURES[$1]}"
    marked() {
        lab_in "$ns" /usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.sendto(b"pvd-capture-mark", (sys.argv[1], 9, 0, socket.if_nametoindex(sys.argv[2])))' "$LAB_MARK_GROUP" "$iface"
        lab_pcap_has "$file" "$LAB_MARK_FILTER"
    }
    lab_wait 5 marked || fail "the capture on $iface in $ns never wrote its marker"
}

# lab_capture_stop PID: stops the capture PID once everything sent before
# is in its file (no sleep to guess when the last packets are written).
lab_capture_stop() {
    lab_capture_sync "$1"
    lab_stop "$1"
}

# lab_pcap_has FILE FILTER: the capture FILE holds a packet FILTER matches.
lab_pcap_has() { [ -n "$(tcpdump -n -r "$1" "$2" 2>/dev/null)" ]; }

# lab_more_replies LOG N: waits (up to 10 s) until the `ping` writing LOG
# has N more replies than when called: the program carried on.
lab_more_replies() {
    local log=$1 want
    want=$(($(grep -c "bytes from" "$log" || true) + $2))
    more() { [ "$(grep -c "bytes from" "$log" || true)" -ge "$want" ]; }
    lab_wait 10 more || fail "no $2 more replies in $log: $(tail -n 3 "$log")"
}

# lab_no_packets FILE MESSAGE: fails the test with MESSAGE and the packets
# when the capture FILE holds any but lab_capture_stop's markers; a
# capture that cannot be read fails too.
lab_no_packets() {
    local packets
    packets=$(tcpdump -n -r "$1" "not ($LAB_MARK_FILTER)" 2>"$LAB_DIR/no-packets.err") || fail "$2: cannot read $1: $(cat "$LAB_DIR/no-packets.err")"
    [ -z "$packets" ] || fail "$2: $packets"
}

# lab_file_lacks FILE GREP-ARGS…: FILE exists and no line of it matches
# (`grep -q GREP-ARGS… FILE`). A missing file fails, where `! grep -q` passes.
lab_file_lacks() {
    local file=$1
    shift
    [ -f "$file" ] || fail "$file is missing"
    ! grep -q "$@" "$file"
}

# lab_radvd NAME CONF: radvd in namespace NAME (forwarding on there, as radvd needs).
lab_radvd() {
    lab_in "$1" sysctl -qw net.ipv6.conf.all.forwarding=1
    lab_bg "$1" "$LAB_DIR/radvd-$1.log" radvd --nodaemon -C "$2" -p "$LAB_DIR/radvd-$1.pid" -m stderr
}

# lab_radvd_plain N: Debian's radvd on rN sending plain RAs (an implicit PvD)
# with rN's prefix 2001:db8:N::/64 and its DNS server 2001:db8:N::53.
lab_radvd_plain() {
    cat >"$LAB_DIR/radvd-r$1.conf" <<CONF
interface lan0 {
    AdvSendAdvert on;
    prefix 2001:db8:$1::/64 { };
    RDNSS 2001:db8:$1::53 { };
};
CONF
    lab_radvd "r$1" "$LAB_DIR/radvd-r$1.conf"
}

# lab_pvdd LOG WHERE ARGS…: pvdd ($PVDD ARGS…) in the host namespace, logging
# to LOG; returns once it says "listening on WHERE" (fails the test with its
# log otherwise). Its pid is in LAB_LAST_PID.
lab_pvdd() {
    local log=$1 where=$2
    shift 2
    # Never the machine's /etc/pvd/pvdd.yaml: a test without --config gets an
    # empty one (but for the forwarding path the runner chose, if any; a test
    # with a file of its own writes that in itself).
    case " $* " in
        *" --config "*) ;;
        *) echo "${PVD_FORWARDING:+ipv6-forwarding: $PVD_FORWARDING}" >"$LAB_DIR/empty.yaml"
           set -- --config "$LAB_DIR/empty.yaml" "$@" ;;
    esac
    LAB_PVDD_ARGS=("$@")
    lab_bg host "$log" "$PVDD" "$@"
    lab_wait 10 grep -q "listening on $where" "$log" || fail "pvdd did not start: $(cat "$log")"
}

# lab_vpn_host: what the VPN tests start from: the host's state in
# $LAB_DIR/before, a private system bus, and pvdd on up0 keeping its state
# and its clients' logs in $LAB_DIR/state; pvdd's pid in LAB_PVDD.
lab_vpn_host() {
    lab_host_state >"$LAB_DIR/before"
    lab_dbus
    printf 'uplinks: [up0]\nstate: %s/state/pvdd.json\n' "$LAB_DIR" >"$LAB_DIR/pvdd.yaml"
    lab_pvdd "$LAB_DIR/pvdd.log" "up0" --config "$LAB_DIR/pvdd.yaml"
    LAB_PVDD=$LAB_LAST_PID
}

# lab_pvdd_corp_for_nobody [DOMAIN…]: the lab of pvd exec's tests:
# lab_two_routers, a private bus, and pvdd on up0 (no DAD, no additional
# information) whose access section gives corp.example.com (and each
# DOMAIN) to nobody; pvdd's pid in LAB_PVDD.
lab_pvdd_corp_for_nobody() {
    local domain
    lab_two_routers 2
    lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
    lab_dbus
    cat >"$LAB_DIR/pvdd.yaml" <<CONF
uplinks: [up0]
state: $LAB_DIR/state.json
duplicate-address-detection: false
additional-information: {fetch: false}
access:
  corp.example.com: {users: [nobody]}
CONF
    for domain in "$@"; do echo "  $domain: {users: [nobody]}" >>"$LAB_DIR/pvdd.yaml"; done
    lab_pvdd "$LAB_DIR/pvdd.log" "up0" --config "$LAB_DIR/pvdd.yaml"
    LAB_PVDD=$LAB_LAST_PID
}

# lab_pvdd_one_router [RADVD-CONF]: lab_two_routers 1 with r1 running radvd
# (plain RAs, or RADVD-CONF), a private bus, and pvdd on up0 (no DAD, no
# additional information, the runner's forwarding path); returns once pvdd
# learnt r1's implicit domain, whose name is in LAB_DOMAIN and pvdd's pid
# in LAB_PVDD.
lab_pvdd_one_router() {
    lab_two_routers 1
    lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
    if [ $# -gt 0 ]; then lab_radvd r1 "$1"; else lab_radvd_plain 1; fi
    lab_dbus
    printf 'uplinks: [up0]\nstate: %s/state.json\nduplicate-address-detection: false\nadditional-information: {fetch: false}\n%s\n' \
        "$LAB_DIR" "${PVD_FORWARDING:+ipv6-forwarding: $PVD_FORWARDING}" >"$LAB_DIR/pvdd.yaml"
    lab_pvdd "$LAB_DIR/pvdd.log" up0 --config "$LAB_DIR/pvdd.yaml"
    LAB_PVDD=$LAB_LAST_PID
    implicit_domain() { "$PVD" list | awk '$1 ~ /^up0-/ {print $1}' | lab_has .; }
    lab_wait 10 implicit_domain || fail "pvdd did not learn r1's domain: $("$PVD" list 2>&1) $(cat "$LAB_DIR/pvdd.log")"
    LAB_DOMAIN=$("$PVD" list | awk '$1 ~ /^up0-/ {print $1}')
}

# lab_wireguard_peer NAME: a WireGuard peer (Debian's wireguard-go, device
# ${LAB_PREFIX}w) in namespace NAME listening on port 51820, with 10.7.0.1/24
# and fd00:7::1/64 on its tunnel and one client, 10.7.0.2 and fd00:7::2; the
# keys are $LAB_DIR/server.key and client.key (made the first time). Its pid
# is in LAB_LAST_PID; call it again to start it anew.
lab_wireguard_peer() {
    local peer=${LAB_PREFIX}w
    [ -e "$LAB_DIR/server.key" ] || (umask 077 && wg genkey >"$LAB_DIR/server.key" && wg genkey >"$LAB_DIR/client.key")
    lab_bg "$1" "$LAB_DIR/peer.log" wireguard-go -f "$peer"
    lab_wait 5 test -S "/var/run/wireguard/$peer.sock" || fail "wireguard-go made no $peer: $(cat "$LAB_DIR/peer.log")"
    lab_in "$1" wg set "$peer" private-key "$LAB_DIR/server.key" listen-port 51820 \
        peer "$(wg pubkey <"$LAB_DIR/client.key")" allowed-ips 10.7.0.2/32,fd00:7::2/128
    ip -n "$LAB_PREFIX$1" addr add 10.7.0.1/24 dev "$peer"
    ip -n "$LAB_PREFIX$1" addr add fd00:7::1/64 dev "$peer" nodad
    ip -n "$LAB_PREFIX$1" link set "$peer" up
}

# lab_pvdd_cleanup: `pvdd --cleanup` with the options of the last lab_pvdd,
# in the host namespace: removes everything that pvdd made.
LAB_PVDD_ARGS=()
lab_pvdd_cleanup() {
    nsenter --net="/run/netns/${LAB_PREFIX}host" "$PVDD" --cleanup "${LAB_PVDD_ARGS[@]}"
}

# lab_pvdd_stop PID: SIGTERM (which leaves everything in place for the next
# pvdd), then `pvdd --cleanup`; fails the test if either fails.
lab_pvdd_stop() {
    kill -TERM "$1"
    wait "$1" || fail "pvdd exited with status $?"
    lab_pvdd_cleanup >"$LAB_DIR/cleanup.log" 2>&1 || fail "pvdd --cleanup failed: $(cat "$LAB_DIR/cleanup.log")"
}

# lab_dbus: a private system bus (dbus-daemon with Debian's system policy
# and pvd's own, and any in $LAB_BUS_INCLUDES) at $LAB_DIR/bus.socket, for
# pvdd and the test's clients: exports DBUS_SYSTEM_BUS_ADDRESS.
lab_dbus() {
    cat >"$LAB_DIR/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$LAB_DIR/bus.socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/system/org.pvd1.conf</include>
$(for file in ${LAB_BUS_INCLUDES:-}; do echo "  <include>$file</include>"; done)
</busconfig>
CONF
    chmod 755 "$LAB_DIR"  # other users (the tests' unprivileged callers) reach the socket
    dbus-daemon --config-file="$LAB_DIR/bus.conf" --nofork --nopidfile >"$LAB_DIR/dbus.log" 2>&1 &
    LAB_PIDS+=("$!")
    lab_wait 10 test -S "$LAB_DIR/bus.socket" || fail "dbus-daemon did not start: $(cat "$LAB_DIR/dbus.log")"
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$LAB_DIR/bus.socket"
}

# lab_as_nobody CMD…: CMD as the user nobody, for whom pvd's clients use the
# system bus's fixed socket: in a private mount namespace that socket is the
# test's bus (lab_dbus), and nothing changes on the host.
lab_as_nobody() {
    unshare --mount --propagation private sh -c '
        mount -t tmpfs tmpfs /run && mkdir /run/dbus && touch /run/dbus/system_bus_socket &&
        mount --bind "$0" /run/dbus/system_bus_socket &&
        exec setpriv --reuid=nobody --regid=nogroup --init-groups -- "$@"' "$LAB_DIR/bus.socket" "$@"
}

# lab_call METHOD ARGS…: a call to pvdd's org.pvd1.Manager on the system
# bus (busctl's syntax: signature, then arguments).
lab_call() { busctl --system call org.pvd1 /org/pvd1 org.pvd1.Manager "$@"; }

# lab_listed_domains: the names of the domains pvdd lists, sorted, on one line.
lab_listed_domains() {
    "$PVD" list --json | /usr/bin/python3 -c 'import json, sys; print(" ".join(sorted(d["name"] for d in json.load(sys.stdin))))'
}

# lab_kernel_domains: the names of the domains the host's kernel has (read
# back by HostNet), sorted, on one line.
lab_kernel_domains() {
    lab_hostnet host list | /usr/bin/python3 -c 'import json, sys; print(" ".join(sorted(json.loads(l)["name"] for l in sys.stdin)))'
}

# lab_has GREP-ARGS…: like `grep -q`, but reads all of stdin first, so that
# under pipefail the program writing into the pipe is never cut off by
# SIGPIPE when grep finds its line early (`pvd show | grep -q …`).
lab_has() {
    local input
    input=$(cat)
    grep -q "$@" <<<"$input"
}

# lab_silent CMD…: CMD succeeds and prints nothing on stdout. A failing CMD
# fails the test: `[ -z "$(CMD)" ]` would pass when CMD failed.
lab_silent() {
    local output
    output=$("$@") || fail "$* failed (status $?)"
    [ -z "$output" ]
}

# lab_sockets_in NAMESPACE SS-OPTIONS…: the sockets `ss` lists in the named
# namespace, without its heading.
lab_sockets_in() {
    local ns=$1
    shift
    ip netns exec "$ns" ss "$@" | tail -n +2
}

# lab_sockets_but_pvdds NAMESPACE SS-OPTIONS…: lab_sockets_in without pvdd's
# own: its verification asks a domain's DNS servers from a socket inside the
# domain for up to 5 s after the domain changed or its VPN connected.
lab_sockets_but_pvdds() {
    lab_sockets_in "$@" -p | { grep -v 'users:(("pvdd"' || true; }
}

# lab_lacks PATTERN CMD…: CMD succeeds and no line of its output (stdout and
# stderr) matches the extended regular expression PATTERN. A failing CMD
# fails the test: `! CMD | grep` would pass when CMD failed (pipefail).
lab_lacks() {
    local pattern=$1 output
    shift
    output=$("$@" 2>&1) || fail "$* failed: $output"
    ! grep -Eq -- "$pattern" <<<"$output"
}

# fail MESSAGE: print MESSAGE and fail the test.
fail() {
    echo "$*" >&2
    exit 1
}

# lab_two_routers [COUNT]: the HostNet lab, with COUNT routers (default 2).
#
#   host ──up0── [bridge br0 in "lan"] ──lan0── r1 ──srv0── server
#                                       └─lan0── r2 ──srv0──┘
#
# rN serves 2001:db8:N::/64 on the LAN (router fe80::1N, DNS 2001:db8:N::53);
# the server has 2001:db8:ff::1 and ::2 and routes each LAN prefix back
# through its router.
lab_two_routers() {
    local i count=${1:-2}
    lab_netns host
    lab_netns lan
    lab_netns server
    lab_bridge lan br0
    lab_port host up0 lan lhost br0
    ip -n "${LAB_PREFIX}server" addr add 2001:db8:ff::1/128 dev lo
    ip -n "${LAB_PREFIX}server" addr add 2001:db8:ff::2/128 dev lo
    for i in $(seq 1 "$count"); do
        lab_netns "r$i"
        lab_port "r$i" lan0 lan "lr$i" br0
        lab_link "r$i" srv0 server "s$i"
        lab_in "r$i" sysctl -qw net.ipv6.conf.all.forwarding=1
        ip -n "${LAB_PREFIX}r$i" addr add "fe80::1$i/64" dev lan0 nodad
        ip -n "${LAB_PREFIX}r$i" addr add "2001:db8:$i::1/64" dev lan0 nodad
        ip -n "${LAB_PREFIX}r$i" addr add "2001:db8:$i::53/64" dev lan0 nodad
        ip -n "${LAB_PREFIX}r$i" addr add "2001:db8:f$i::1/64" dev srv0 nodad
        ip -n "${LAB_PREFIX}r$i" route add 2001:db8:ff::/64 via "2001:db8:f$i::2"
        ip -n "${LAB_PREFIX}server" addr add "2001:db8:f$i::2/64" dev "s$i" nodad
        ip -n "${LAB_PREFIX}server" route add "2001:db8:$i::/64" via "2001:db8:f$i::1"
    done
}

# lab_openvpn_server UPLINK: a namespace "vpn" linked to the host's UPLINK
# (192.0.2.10 on the host, 192.0.2.1 in vpn) running a real OpenVPN server
# (static key, point to point 10.8.0.1 to 10.8.0.2); its client's
# configuration is $LAB_DIR/client.conf (DNS 10.8.0.1, search corp.test).
lab_openvpn_server() {
    lab_netns vpn
    lab_link host "$1" vpn wan0
    ip -n "${LAB_PREFIX}host" addr add 192.0.2.10/24 dev "$1"
    ip -n "${LAB_PREFIX}vpn" addr add 192.0.2.1/24 dev wan0
    openvpn --genkey secret "$LAB_DIR/static.key" 2>/dev/null
    lab_bg vpn "$LAB_DIR/server.log" openvpn --dev tun --ifconfig 10.8.0.1 10.8.0.2 --secret "$LAB_DIR/static.key" \
        --cipher AES-256-CBC --proto udp --lport 1194 --verb 3
    printf '%s\n' "remote 192.0.2.1 1194" "proto udp" "ifconfig 10.8.0.2 10.8.0.1" "secret $LAB_DIR/static.key" \
        "cipher AES-256-CBC" "dhcp-option DNS 10.8.0.1" "dhcp-option DOMAIN corp.test" >"$LAB_DIR/client.conf"
}

# lab_pki DIR: a throwaway CA in DIR (ca.crt) with a server certificate
# (server.crt/key, for remote-cert-tls server) and a client one (client.crt/key),
# EC P-256, keys mode 600.
lab_pki() {
    local dir=$1 who usage
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" \
        -days 2 -subj /CN=pvd-lab-ca 2>/dev/null
    for who in server client; do
        usage=$([ "$who" = server ] && echo serverAuth || echo clientAuth)
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$who.key" -out "$dir/$who.csr" \
            -subj "/CN=$who" 2>/dev/null
        printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature,keyAgreement\n' "$usage" >"$dir/$who.ext"
        openssl x509 -req -in "$dir/$who.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/$who.crt" \
            -days 2 -extfile "$dir/$who.ext" 2>/dev/null
    done
    chmod 600 "$dir"/*.key
}

# lab_openvpn_tls_server PROTO: OpenVPN as companies run it, in namespace
# "vpn" (192.0.2.1, linked to the host's up0 at 192.0.2.10): TLS with
# $LAB_DIR/pki, PROTO udp or tcp, subnet 10.9.0.0/24 and fd00:9::/64, pushing
# route-ipv6 ::/0, its own subnet, 198.51.100.0/24 (198.51.100.1 lives on the
# server) and DNS 10.9.0.1 with search corp.test; short keepalives. Its
# client configuration, with persist-tun as OpenVPN's sample has it, is
# $LAB_DIR/tls-client.conf. lab_openvpn_tls_start (re)starts the server.
lab_openvpn_tls_server() {
    LAB_OPENVPN_PROTO=$1
    lab_netns vpn
    lab_link host up0 vpn wan0
    ip -n "${LAB_PREFIX}host" addr add 192.0.2.10/24 dev up0
    ip -n "${LAB_PREFIX}vpn" addr add 192.0.2.1/24 dev wan0
    ip -n "${LAB_PREFIX}vpn" addr add 198.51.100.1/32 dev lo
    lab_pki "$LAB_DIR/pki"
    cat >"$LAB_DIR/tls-server.conf" <<CONF
port 1194
proto $([ "$1" = tcp ] && echo tcp-server || echo udp)
dev tun
topology subnet
server 10.9.0.0 255.255.255.0
server-ipv6 fd00:9::/64
ca $LAB_DIR/pki/ca.crt
cert $LAB_DIR/pki/server.crt
key $LAB_DIR/pki/server.key
dh none
keepalive 1 4
push "route-ipv6 ::/0"
push "route 10.9.0.0 255.255.255.0"
push "route 198.51.100.0 255.255.255.0"
push "dhcp-option DNS 10.9.0.1"
push "dhcp-option DOMAIN corp.test"
verb 3
CONF
    cat >"$LAB_DIR/tls-client.conf" <<CONF
client
dev tun
proto $([ "$1" = tcp ] && echo tcp-client || echo udp)
remote 192.0.2.1 1194
nobind
persist-key
persist-tun
ca pki/ca.crt
cert pki/client.crt
key pki/client.key
remote-cert-tls server
connect-retry 1
verb 3
CONF
    chmod 600 "$LAB_DIR/tls-client.conf"
    lab_openvpn_tls_start
}

lab_openvpn_tls_start() {
    lab_bg vpn "$LAB_DIR/tls-server.log" openvpn --config "$LAB_DIR/tls-server.conf"
    LAB_OPENVPN_SERVER=$LAB_LAST_PID
}

# lab_domain_spec N: the JSON spec of domain ${LAB_PREFIX}dN behind router rN.
lab_domain_spec() {
    printf '{"name": "%sd%s", "uplink": "up0", "prefixes": ["2001:db8:%s::/64"], "routers": ["fe80::1%s"], "on_link": ["2001:db8:%s::/64"], "dns": ["2001:db8:%s::53"], "search": ["d%s.test"]}' \
        "$LAB_PREFIX" "$1" "$1" "$1" "$1" "$1" "$1"
}

# lab_host_state: everything the host namespace's kernel holds that HostNet
# may touch, plus the pvd namespaces and their files, for before/after diffs.
lab_host_state() {
    local ns=${LAB_PREFIX}host
    ip -n "$ns" -d link show | sed -E 's/ (promiscuity|minmtu|maxmtu|numtxqueues|numrxqueues|gso|gro|tso|parentbus|parentdev)[^ ]*( [^ ]+)?//g'
    ip -n "$ns" -6 addr show
    ip -n "$ns" -6 route show table all
    ip -n "$ns" -6 rule show
    ip -n "$ns" -6 neigh show proxy
    for key in proxy_ndp force_forwarding forwarding accept_ra; do
        echo "up0 $key=$(ip netns exec "$ns" cat /proc/sys/net/ipv6/conf/up0/$key)"
    done
    echo "up0 proxy_delay=$(ip netns exec "$ns" cat /proc/sys/net/ipv6/neigh/up0/proxy_delay)"
    echo "all forwarding=$(ip netns exec "$ns" cat /proc/sys/net/ipv6/conf/all/forwarding)"
    echo "default accept_ra=$(ip netns exec "$ns" cat /proc/sys/net/ipv6/conf/default/accept_ra)"
    ip netns exec "$ns" nft list ruleset
    local domain
    for domain in $(ip netns list | awk '{print $1}' | grep "^pvd-$LAB_PREFIX" | sort); do
        echo "== $domain"
        if ! ip -n "$domain" -d link show >"$LAB_DIR/links" 2>/dev/null; then
            echo "(not a network namespace)"
            continue
        fi
        sed -E 's/ (promiscuity|minmtu|maxmtu|numtxqueues|numrxqueues|gso|gro|tso|parentbus|parentdev)[^ ]*( [^ ]+)?//g' "$LAB_DIR/links"
        ip -n "$domain" -6 addr show
        ip -n "$domain" -6 route show table all
        cat "/etc/netns/$domain/resolv.conf" 2>/dev/null || echo "(no resolv.conf)"
    done
    ls /etc/netns 2>/dev/null | grep "^pvd-$LAB_PREFIX" || true
    local entry
    for entry in /run/pvd/domains/"$(stat -L -c %i "/run/netns/$ns")"/*; do
        [ -e "$entry" ] && echo "== registered domain $(basename "$entry") on $(cat "$entry")"
    done
    local record
    for record in /run/pvd/uplinks/"$(stat -L -c %i "/run/netns/$ns")"-*; do
        [ -e "$record" ] || continue
        echo "== uplink record $(basename "$record")"
        cat "$record/sysctls" 2>/dev/null || true
        ls "$record/domains" 2>/dev/null || true
    done
}
