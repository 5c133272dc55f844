# pvdd probes every address it picks before a domain uses it (duplicate
# address detection on the uplink, with libndp): a first run learns which
# address the domain takes; that address is then put on r1, and a second run
# sees r1 answer its Neighbor Solicitation, never gives the domain that
# address, and gives it the next stable address of the prefix instead, which
# works end to end.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
name=${P}dad.example.com

lab_two_routers 1
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
send() { lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 "$name" 1 2001:db8:1::/64 2001:db8:1::53 --no-http; }
addresses() {
    lab_hostnet host list | /usr/bin/python3 -c 'import json,sys
for line in sys.stdin:
    d = json.loads(line)
    if d["name"] == sys.argv[1]: print(" ".join(d["addresses"]))' "$name"
}
addressed() { [ -n "$(addresses)" ]; }
run_pvdd() {
    lab_pvdd "$LAB_DIR/pvdd-$1.log" "up0" --uplink up0 --state "$LAB_DIR/state-$1.json"
    pvdd=$LAB_LAST_PID
}
stop_pvdd() {
    lab_pvdd_stop "$pvdd"
}

run_pvdd 1
send
lab_wait 4 addressed || fail "no address: $(cat "$LAB_DIR/pvdd-1.log")"
first=$(addresses)
grep -q "domain $name: 0 address(es)" "$LAB_DIR/pvdd-1.log" \
    || fail "the domain did not wait for its address to be probed: $(cat "$LAB_DIR/pvdd-1.log")"
stop_pvdd

# r1 now owns that address: it answers solicitations for it.
ip -n "${P}r1" addr add "$first/128" dev lan0 nodad
lab_capture r1 lan0 "$LAB_DIR/r1.pcap"
capture=$LAB_LAST_PID
run_pvdd 2
: >"$LAB_DIR/seen"
# A read may meet a namespace pvdd is making or removing (its file not yet or
# no longer a namespace): that sample is skipped, the watch goes on.
watch_addresses() { while :; do addresses >>"$LAB_DIR/seen" || true; sleep 0.05; done; }
watch_addresses &
watcher=$!
LAB_PIDS+=("$watcher")
send
lab_wait 5 addressed || fail "no address after the conflict: $(cat "$LAB_DIR/pvdd-2.log")"
second=$(addresses)
kill "$watcher"
lab_capture_stop "$capture"

grep -q "domain $name: $first is in use on up0; trying another address in 2001:db8:1::/64" "$LAB_DIR/pvdd-2.log" \
    || fail "no conflict logged: $(cat "$LAB_DIR/pvdd-2.log")"
[ "$second" != "$first" ] || fail "the domain took $first, which r1 owns"
lab_file_lacks "$LAB_DIR/seen" -w "$first" || fail "the domain had $first for a while"
case $second in 2001:db8:1:*) ;; *) fail "the new address $second is not in 2001:db8:1::/64" ;; esac
tcpdump -n -r "$LAB_DIR/r1.pcap" 2>/dev/null | lab_has "neighbor solicitation, who has $first" \
    || fail "no solicitation for $first on the link"
tcpdump -n -r "$LAB_DIR/r1.pcap" 2>/dev/null | lab_has "neighbor advertisement, tgt is $first" \
    || fail "r1 did not answer for $first"
ip netns exec "pvd-$name" ping -6 -c 1 -W 2 2001:db8:ff::1 >/dev/null || fail "the domain cannot reach the server from $second"
stop_pvdd
