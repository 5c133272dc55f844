# A daemon you can live with. Domains of every kind — learnt (radvd), static
# without an MTU and a namespace declared in pvdd.yaml and in a drop-in, a
# VPN (a real OpenVPN server, static key) declared in pvdd.yaml, and a static
# domain and a namespace added at runtime — with a program inside the learnt
# one. A second pvdd is refused within 2 s, touching nothing. 20 cycles of
# kill -9 and start: the same namespace inodes, the program's address and
# the VPN client kept. A restart (SIGTERM, then start) loses at most one of
# the program's pings. Reload adds and removes declared domains and refuses a
# broken file, changing nothing. Every state and its reason is seen on the
# bus (active, connected, failed, withdrawn, lingering). After
# `pvdd --cleanup` the host is as before pvdd first started.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
command -v openvpn >/dev/null || fail "openvpn is missing: scripts/setup.sh installs it"

lab_two_routers 1
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_openvpn_server wan0
lab_host_state >"$LAB_DIR/before"
lab_dbus

etc=$LAB_DIR/etc
mkdir -p "$etc/domains.d"
cat >"$etc/pvdd.yaml" <<CONF
uplinks: [up0]
state: $LAB_DIR/state/pvdd.json
duplicate-address-detection: false
grace-period: 2
domains:
  - {name: filed.example, uplink: up0, addresses: ["2001:db8:1::f1"]}
vpns:
  - {name: vpn.example, openvpn: "$LAB_DIR/client.conf"}
CONF
cat >"$etc/domains.d/10-lab.yaml" <<CONF
domains:
  - {name: dropped.example, uplink: up0, addresses: ["2001:db8:1::f2"]}
namespaces: [labns.example]
CONF
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --config "$etc/pvdd.yaml"
pvdd=$LAB_LAST_PID
prop() { busctl --system get-property org.pvd1 "$(lab_call GetDomain s "$1" | cut -d'"' -f2)" org.pvd1.Domain "$2" | cut -d'"' -f2; }
lab_radvd_plain 1
implicit=up0-fe80-0-11
lab_call AddDomain sa{sv} runtime.example 2 uplink s up0 addresses as 1 2001:db8:1::f3 >/dev/null
lab_call AddNetworkNamespace s rtns.example >/dev/null
all="dropped.example filed.example labns.example rtns.example runtime.example $implicit vpn.example"
everything() { [ "$(lab_listed_domains)" = "$all" ] && [ "$(prop vpn.example State)" = connected ]; }
lab_wait 15 everything || fail "not every domain: $(lab_listed_domains) $(prop vpn.example State) $(cat "$LAB_DIR/pvdd.log")"

# Where each comes from, and what each says.
for pair in filed.example:file dropped.example:file labns.example:file vpn.example:file runtime.example:runtime \
        rtns.example:runtime "$implicit:ra"; do
    [ "$(prop "${pair%%:*}" Origin)" = "${pair#*:}" ] || fail "${pair%%:*} comes from $(prop "${pair%%:*}" Origin), not ${pair#*:}"
done
"$PVD" list | lab_has "^filed.example  *static  *file  *active " || fail "pvd list: $("$PVD" list)"
[ "$(prop "$implicit" State)" = active ] && prop "$implicit" StateReason | lab_has "router(s) advertise it" || fail "implicit: $(prop "$implicit" StateReason)"
prop vpn.example StateReason | lab_has "connected to 192.0.2.1:1194 since " || fail "vpn: $(prop vpn.example StateReason)"
prop filed.example StateReason | lab_has "declared in a configuration file" || fail "filed: $(prop filed.example StateReason)"

# A program inside the learnt domain.
lab_bg host "$LAB_DIR/ping.log" ip netns exec "pvd-$implicit" ping -n -i 0.1 2001:db8:1::1
ping=$LAB_LAST_PID
inodes() { for name in dropped.example filed.example runtime.example vpn.example "$implicit"; do stat -L -c %i "/run/netns/pvd-$name"; done
           stat -L -c %i /run/netns/labns.example /run/netns/rtns.example; }
inodes >"$LAB_DIR/inodes"
ip -n "pvd-$implicit" -6 -o addr show dev pvd0 scope global >"$LAB_DIR/address"
client=$(pgrep -f "PVD_DOMAIN vpn.example")

# A second pvdd: refused at once, nothing touched.
start=$(date +%s%N)
if nsenter --net="/run/netns/${P}host" "$PVDD" --config "$etc/pvdd.yaml" >"$LAB_DIR/second.log" 2>&1; then fail "a second pvdd ran"; fi
second=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "already running.*pid $pvdd" "$LAB_DIR/second.log" || fail "the second pvdd said: $(cat "$LAB_DIR/second.log")"
[ "$second" -lt 2000 ] || fail "the second pvdd took $second ms to give up"
kill -0 "$pvdd" && [ "$(lab_listed_domains)" = "$all" ] || fail "the second pvdd disturbed the first"

# 20 kill -9 cycles: nothing changes.
for cycle in $(seq 1 20); do
    kill -9 "$pvdd"
    wait "$pvdd" 2>/dev/null || true
    lab_pvdd "$LAB_DIR/pvdd-$cycle.log" "up0" --config "$etc/pvdd.yaml"
    pvdd=$LAB_LAST_PID
    inodes | diff "$LAB_DIR/inodes" - >&2 || fail "cycle $cycle: a namespace was made anew"
    ip -n "pvd-$implicit" -6 -o addr show dev pvd0 scope global | diff "$LAB_DIR/address" - >&2 || fail "cycle $cycle: the program's address changed"
    [ "$(pgrep -f "PVD_DOMAIN vpn.example")" = "$client" ] || fail "cycle $cycle: the VPN client was replaced"
    grep -q "client $client still runs; keeping it" "$LAB_DIR/pvdd-$cycle.log" || fail "cycle $cycle: the client was not adopted"
done
[ "$(lab_listed_domains)" = "$all" ] || fail "after the cycles: $(lab_listed_domains)"

# A restart: SIGTERM leaves everything, the next pvdd adopts it; the program loses at most one ping.
kill -TERM "$pvdd"
wait "$pvdd" || fail "pvdd exited with status $?"
grep -q "left in place" "$LAB_DIR/pvdd-20.log" || fail "SIGTERM: $(tail -3 "$LAB_DIR/pvdd-20.log")"
lab_pvdd "$LAB_DIR/pvdd-restart.log" "up0" --config "$etc/pvdd.yaml"
pvdd=$LAB_LAST_PID
lab_more_replies "$LAB_DIR/ping.log" 10
lab_stop "$ping"
lost=$(/usr/bin/python3 -c '
import re, sys
seqs = [int(m) for m in re.findall(r"icmp_seq=(\d+)", open(sys.argv[1]).read())]
print(seqs[-1] - seqs[0] + 1 - len(set(seqs)) if seqs else 999)' "$LAB_DIR/ping.log")
echo "the program inside lost $lost ping(s) over 20 kill -9 cycles and a restart" >&2
[ "$lost" -le 1 ] || fail "the program inside lost $lost pings"
inodes | diff "$LAB_DIR/inodes" - >&2 || fail "the restart made a namespace anew"

# Reload: a new drop-in adds, a removed one removes, a broken one changes nothing.
printf 'namespaces: [more.example]\n' >"$etc/domains.d/20-more.yaml"
[ "$("$PVD" reload)" = reloaded ] || fail "pvd reload"
[ -e /run/netns/more.example ] && [ "$(prop more.example Origin)" = file ] || fail "the new drop-in's namespace: $(lab_listed_domains)"
rm "$etc/domains.d/10-lab.yaml"
kill -HUP "$pvdd"
gone() { [ ! -e /run/netns/labns.example ] && [ ! -e /run/netns/pvd-dropped.example ]; }
lab_wait 5 gone || fail "SIGHUP did not remove the removed drop-in's domains: $(lab_listed_domains)"
kill -0 "$pvdd" || fail "SIGHUP stopped pvdd"
printf 'domains:\n  - {name: broken.example}\n' >"$etc/domains.d/30-broken.yaml"
before_broken=$(lab_listed_domains)
out=$("$PVD" reload 2>&1) && fail "a broken drop-in was taken: $out"
grep -q "30-broken.yaml" <<<"$out" || fail "the refusal does not name the file: $out"
[ "$(lab_listed_domains)" = "$before_broken" ] && kill -0 "$pvdd" || fail "a refused reload changed something"
rm "$etc/domains.d/30-broken.yaml"

# The other states: a VPN that keeps failing, a withdrawn and a lingering domain.
# pvdd's own checks pass it; OpenVPN refuses it, and the state says so in OpenVPN's words.
printf 'client\nremote 192.0.2.1\nca ca.crt\nnot-an-option yes\n' >"$LAB_DIR/bad.conf"
chmod 600 "$LAB_DIR/bad.conf"
lab_call AddDomain sa{sv} badvpn.example 1 openvpn s "$LAB_DIR/bad.conf" >/dev/null
failed() { [ "$(prop badvpn.example State)" = failed ]; }
lab_wait 12 failed || fail "the failing VPN says $(prop badvpn.example State): $(prop badvpn.example StateReason)"
prop badvpn.example StateReason | lab_has "Options error.*openvpn-badvpn.example.log" || fail "failed: $(prop badvpn.example StateReason)"
lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 linger.example 1 2001:db8:7::/64 2001:db8:7::53 --router-lifetime 3 --valid 3
lab_wait 3 test -e /run/netns/pvd-linger.example || fail "no linger.example"
ip netns exec pvd-linger.example sleep 60 &
inside=$!
LAB_PIDS+=("$inside")
withdrawn() { [ "$(prop linger.example State)" = withdrawn ]; }
lab_wait 6 withdrawn || fail "linger.example says $(prop linger.example State)"
prop linger.example StateReason | lab_has "it goes in" || fail "withdrawn: $(prop linger.example StateReason)"
lingering() { [ "$(prop linger.example State)" = lingering ] && [ "$(prop linger.example Kind)" = explicit ] \
                && [ "$(prop linger.example PvDId)" = linger.example ]; }
lab_wait 8 lingering || fail "linger.example says $(prop linger.example State), $(prop linger.example Kind)"
kill "$inside"
wait "$inside" 2>/dev/null || true
lab_wait 5 test ! -e /run/netns/pvd-linger.example || fail "the lingering domain stayed after its program ended"

lab_pvdd_stop "$pvdd"
! pgrep -f "PVD_DOMAIN vpn.example" >/dev/null || fail "pvdd --cleanup left the VPN client running"
lab_host_state >"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "pvdd --cleanup left changes"
for name in more.example rtns.example; do [ ! -e "/run/netns/$name" ] || fail "--cleanup left /run/netns/$name"; done
