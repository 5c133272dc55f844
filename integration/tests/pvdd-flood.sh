# A flood of PvD RAs (thousands a second for 30 s, random sources, PvD IDs and
# prefixes) leaves pvdd within its limits: memory bounded, the domain count at
# its limit (64), the refusals counted and logged at most every 10 s, and a
# legitimate PvD that was there before still served and reachable.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
SECONDS_OF_FLOOD=${PVD_FLOOD_SECONDS:-30}

lab_two_routers
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --uplink up0 --state "$LAB_DIR/state/pvdd.json"
pvdd=$LAB_LAST_PID
list() { lab_hostnet host list; }
corp_present() { local out; out=$(list); grep -q '"name":"corp.example.com"' <<<"$out"; }

# The legitimate PvD, refreshed every second by r1 all through the flood.
lab_bg r1 "$LAB_DIR/legit.log" /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:1::/64 2001:db8:1::53 \
    --count $((SECONDS_OF_FLOOD + 15)) --interval 1
lab_wait 10 corp_present || fail "the legitimate PvD did not come up"
rss_before=$(ps -o rss= -p "$(pgrep -f "^$PVDD .*--state $LAB_DIR" | head -n 1)")

lab_in r2 /usr/bin/python3 "$LAB_HERE/flood_ras.py" lan0 "$SECONDS_OF_FLOOD" 4000 >"$LAB_DIR/flood.log"
echo "$(cat "$LAB_DIR/flood.log")" >&2
sent=$(grep -o 'sent [0-9]*' "$LAB_DIR/flood.log" | cut -d' ' -f2)
[ "$sent" -ge $((SECONDS_OF_FLOOD * 2000)) ] || fail "the flood sent only $sent RAs"

kill -0 "$pvdd" || fail "pvdd died in the flood"
rss_after=$(ps -o rss= -p "$(pgrep -f "^$PVDD .*--state $LAB_DIR" | head -n 1)")
echo "pvdd RSS ${rss_before} kB before, ${rss_after} kB after" >&2
[ $((rss_after - rss_before)) -lt 65536 ] || fail "pvdd grew by $((rss_after - rss_before)) kB in the flood"
domains=$(list | wc -l)
echo "$domains domains" >&2
[ "$domains" -eq 64 ] || fail "$domains domains after the flood, not the limit of 64"
corp_present || fail "the legitimate PvD was pushed out"
ip netns exec pvd-corp.example.com ping -6 -c 2 -i 0.3 -W 2 2001:db8:ff::1 >/dev/null || fail "corp cannot reach the server after the flood"
reports=$(grep -c "^pvdd: warning: limits:" "$LAB_DIR/pvdd.log" || true)
[ "$reports" -ge 1 ] && [ "$reports" -le $((SECONDS_OF_FLOOD / 10 + 2)) ] || fail "$reports limit reports in ${SECONDS_OF_FLOOD} s"
lines=$(wc -l <"$LAB_DIR/pvdd.log")
[ "$lines" -lt 200 ] || fail "pvdd logged $lines lines: not one per RA, but not bounded either"

lab_pvdd_stop "$pvdd"
[ "$(ip netns list | grep -cE "^pvd-(flood[0-9]+\.example|corp\.example\.com)")" -eq 0 ] || fail "domains left after SIGTERM: $(ip netns list | grep "^pvd-" | head -3) $(tail -5 "$LAB_DIR/pvdd.log")"
