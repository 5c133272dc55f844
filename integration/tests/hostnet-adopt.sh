# A restarted daemon adopts what exists: a new HostNet process reads back the
# same domains (namespace, addresses, routes, table, resolv.conf), and
# re-applying them sends no netlink change and does not disturb a program
# running inside. Cleanup then removes what no kept domain owns: a domain not
# kept, the remnants of an interrupted apply, and stray pvd links, rules and
# routing tables; the kept domain keeps working.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
H=${P}host

lab_two_routers
lab_host_state >"$LAB_DIR/empty"
echo "[$(lab_domain_spec 1), $(lab_domain_spec 2)]" >"$LAB_DIR/domains.json"
lab_hostnet host apply "$LAB_DIR/domains.json"
lab_hostnet host list >"$LAB_DIR/first.json"

# A program inside d1, pinging the server ten times a second.
ip netns exec "pvd-${P}d1" ping -6 -n -i 0.1 2001:db8:ff::1 >"$LAB_DIR/ping.log" 2>&1 &
ping_pid=$!
LAB_PIDS+=("$ping_pid")
lab_wait 10 grep -q "bytes from" "$LAB_DIR/ping.log" || fail "d1 cannot reach the server"
lab_more_replies "$LAB_DIR/ping.log" 5

# "Restart": fresh processes read back and re-apply.
lab_hostnet host list >"$LAB_DIR/second.json"
diff "$LAB_DIR/first.json" "$LAB_DIR/second.json" || fail "read back differs between processes"
lab_no_kernel_change host lab_hostnet host apply "$LAB_DIR/domains.json"
# The program carried on after it all.
lab_more_replies "$LAB_DIR/ping.log" 5
kill -INT "$ping_pid"
wait "$ping_pid" || true
lab_ping_unbroken "$LAB_DIR/ping.log" 10

# Leftovers: an interrupted apply (registered, resolv.conf written, no
# namespace), and stray objects in pvd's link, rule and table ranges.
registry=/run/pvd/domains/$(stat -L -c %i "/run/netns/$H")
touch "$registry/${P}ghost"
mkdir -p "/etc/netns/pvd-${P}ghost"
echo "nameserver 2001:db8::1" >"/etc/netns/pvd-${P}ghost/resolv.conf"
ip -n "$H" link add pvh1bee type bridge
ip -n "$H" -6 rule add iif pvh1bee blackhole priority $((10000 + 2 * 0x1bee))
ip -n "$H" -6 route add 2001:db8:dead::/64 dev up0 table $((0x70641bee))

lab_hostnet host cleanup --keep "${P}d2" >"$LAB_DIR/removed"
grep -qx "removed ${P}d1" "$LAB_DIR/removed" || fail "d1 was not removed: $(cat "$LAB_DIR/removed")"
grep -qx "removed ${P}ghost" "$LAB_DIR/removed" || fail "the interrupted apply was not cleared: $(cat "$LAB_DIR/removed")"
remaining=$(lab_hostnet host list)
[ "$(wc -l <<<"$remaining")" -eq 1 ] && grep -q "\"name\":\"${P}d2\"" <<<"$remaining" || fail "d2 is not the only domain left"
[ ! -e "/etc/netns/pvd-${P}ghost" ] || fail "the interrupted apply's resolv.conf is still there"
lab_lacks "pvd-${P}d1" ip netns list || fail "d1's namespace is still there"
! ip -n "$H" link show pvh1bee >/dev/null 2>&1 || fail "stray link pvh1bee is still there"
lab_lacks "pvh1bee" ip -n "$H" -6 rule show || fail "stray rule is still there"
lab_silent ip -n "$H" -6 route show table $((0x70641bee)) || fail "stray table is still there"
ip netns exec "pvd-${P}d2" ping -6 -c 1 -W 2 2001:db8:ff::1 >/dev/null || fail "d2 broke during cleanup"

lab_hostnet host cleanup
lab_host_state >"$LAB_DIR/now"
diff "$LAB_DIR/empty" "$LAB_DIR/now" || fail "cleaning up everything did not restore the empty host"
