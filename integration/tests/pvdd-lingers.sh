# A domain whose routers are gone is removed after its grace period only once
# no program runs inside it: while one does, the (empty) namespace stays; when
# the program ends, the domain goes.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_host_state >"$LAB_DIR/before"
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --uplink up0 --grace-period 1 --state "$LAB_DIR/state/pvdd.json"
pvdd=$LAB_LAST_PID
corp_namespace() { ip netns list | lab_has '^pvd-corp.example.com'; }
no_corp_namespace() { ! corp_namespace; }

lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:2::/64 2001:db8:2::53 \
    --router-lifetime 2 --valid 2
lab_wait 5 corp_namespace || fail "corp did not come up"
ip netns exec pvd-corp.example.com sleep 60 &
program=$!
LAB_PIDS+=("$program")

lab_wait 10 grep -q "domain corp.example.com: kept while programs run inside" "$LAB_DIR/pvdd.log" \
    || fail "corp was not kept for its program: $(cat "$LAB_DIR/pvdd.log")"
corp_namespace || fail "corp's namespace went while a program ran inside"
# A window, not a wait: pvdd looks at a lingering domain every 2 s.
sleep 2
corp_namespace || fail "corp's namespace went while a program ran inside"
kill "$program"
wait "$program" 2>/dev/null || true
lab_wait 10 no_corp_namespace || fail "corp stayed after its program ended"
# The namespace goes before the line that says so is written: wait for it too.
lab_wait 5 grep -q "domain corp.example.com: removed" "$LAB_DIR/pvdd.log" || fail "no removal logged: $(cat "$LAB_DIR/pvdd.log")"

lab_pvdd_stop "$pvdd"
lab_host_state >"$LAB_DIR/after"
diff "$LAB_DIR/before" "$LAB_DIR/after" || fail "pvdd left changes"
