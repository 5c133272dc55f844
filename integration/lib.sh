# Helpers for integration tests and the demo lab. Source this file; every
# namespace made through lab_netns is removed by lab_cleanup, which runs on
# exit, on error and on interruption. Names carry the prefix $LAB_PREFIX
# (default pvdt<pid>-), so a test only ever touches what it made itself.

LAB_PREFIX=${LAB_PREFIX:-pvdt$$-}
LAB_NAMESPACES=()
LAB_PIDS=()
LAB_DIR=$(mktemp -d "/tmp/${LAB_PREFIX}XXXX")

lab_cleanup() {
    local pid ns
    for pid in "${LAB_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${LAB_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${LAB_NAMESPACES[@]}"; do ip netns delete "$ns" 2>/dev/null; done
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
    lab_in "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
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
    LAB_PIDS+=($!)
}

# lab_link A IFA B IFB: a veth pair between namespaces A and B, both ends up.
lab_link() {
    ip -n "$LAB_PREFIX$1" link add "$2" type veth peer name "$4" netns "$LAB_PREFIX$3"
    ip -n "$LAB_PREFIX$1" link set "$2" up
    ip -n "$LAB_PREFIX$3" link set "$4" up
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

# lab_capture NAME IFACE FILE: tcpdump of ICMPv6 on IFACE in NAME into FILE,
# returning once tcpdump is listening.
lab_capture() {
    local log=$LAB_DIR/tcpdump-$1-$2.log
    lab_bg "$1" "$log" tcpdump -n -U -i "$2" -w "$3" icmp6
    lab_wait 10 grep -q "listening on" "$log" || { cat "$log" >&2; return 1; }
}

# lab_radvd NAME CONF: radvd in namespace NAME (forwarding on there, as radvd needs).
lab_radvd() {
    lab_in "$1" sysctl -qw net.ipv6.conf.all.forwarding=1
    lab_bg "$1" "$LAB_DIR/radvd-$1.log" radvd --nodaemon -C "$2" -p "$LAB_DIR/radvd-$1.pid" -m stderr
}

# fail MESSAGE: print MESSAGE and fail the test.
fail() {
    echo "$*" >&2
    exit 1
}
