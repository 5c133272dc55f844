# pvdd keeps what it made as it made it: a domain's address or default route
# deleted inside its namespace, its host route deleted and its host-side link
# set down — by another program, here `ip` — are each back within 2 s, and
# pvdd's log says what it put back. Nothing is changed while nobody touches
# anything.
# forwarding-paths: both
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_pvdd_one_router
ns=pvd-$LAB_DOMAIN
has_address() { ip -n "$ns" -6 -o addr show dev pvd0 scope global | lab_has "2001:db8:1:"; }
lab_wait 10 has_address || fail "the domain has no address: $(ip -n "$ns" addr)"
address=$(ip -n "$ns" -6 -o addr show dev pvd0 scope global | awk '{print $4}' | cut -d/ -f1)
host_link=$(ip -n "${P}host" -o link show | awk -F': ' '$2 ~ /^pvh/ {print $2}' | cut -d@ -f1)
[ -n "$host_link" ] || fail "no host-side link: $(ip -n "${P}host" -o link show)"
reaches() { ip netns exec "$ns" ping -c 1 -W 1 2001:db8:ff::1 >/dev/null; }
lab_wait 10 reaches || fail "the domain does not reach the server"
# no_change_while_idle: for 2 s nothing touches the domains, and pvdd changes
# no link, address, route or rule (neighbour probes are the kernel's own).
no_change_while_idle() {
    local log=$LAB_DIR/monitor.log monitor
    lab_bg host "$log" ip -6 monitor link address route rule
    monitor=$LAB_LAST_PID
    lab_monitor_mark host "$log" 1
    # A window, not a wait: 2 s in which nothing happens.
    sleep 2
    lab_monitor_mark host "$log" 2
    lab_stop "$monitor"
    lab_silent lab_unmarked "$log" || fail "pvdd changed the kernel while nothing happened: $(lab_unmarked "$log")"
}
no_change_while_idle

# back_within_2s WHAT CHECK…: after a change made by hand, CHECK holds again within 2 s.
back_within_2s() {
    local what=$1 start
    shift
    start=$(date +%s%N)
    lab_wait 2 "$@" || fail "$what was not put back within 2 s: $(tail -n 5 "$LAB_DIR/pvdd.log")"
    echo "$what: back in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
}
ip -n "$ns" -6 addr del "$address/128" dev pvd0
back_within_2s "the domain's address" has_address
default_route() { ip -n "$ns" -6 route show default | lab_has "via fe80::1 dev pvd0"; }
ip -n "$ns" -6 route del default
back_within_2s "the domain's default route" default_route
host_route() { ip -n "${P}host" -6 route show "$address" | lab_has "dev $host_link"; }
ip -n "${P}host" -6 route del "$address" dev "$host_link"
back_within_2s "the host route to the domain's address" host_route
link_up() { ip -n "${P}host" -o link show "$host_link" | lab_has "[<,]UP[,>]"; }
ip -n "${P}host" link set "$host_link" down
back_within_2s "the host-side link" link_up
lab_wait 5 reaches || fail "the domain does not reach the server after the repairs"
grep -q "put back what another program changed" "$LAB_DIR/pvdd.log" || fail "pvdd did not log its repairs: $(cat "$LAB_DIR/pvdd.log")"
no_change_while_idle
lab_pvdd_stop "$LAB_PVDD"
