# Safe changes with checkpoints: `pvd apply --confirm-within N --verify`
# of a VPN domain whose server never answers is rolled back before the time
# runs out (declared state and kernel as before, a program in another
# domain undisturbed); a confirmed apply stays past its time; a pvdd killed
# with a checkpoint pending rolls back after its restart when the time runs
# out; pvd rollback rolls back at once; each rollback finds the kernel as
# the checkpoint kept it; pvd verify and pvd show tell the checks (a
# router that answers a Neighbor Solicitation and one that does not, a DNS
# server that answers from inside the domain).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
command -v openvpn >/dev/null || fail "openvpn is missing: scripts/setup.sh installs it"

lab_pvdd_corp_for_nobody
# The VPN server's side: a link and an address, and no server at all.
lab_netns vpn
lab_link host wan0 vpn wan0
ip -n "${P}host" addr add 192.0.2.10/24 dev wan0
openvpn --genkey secret "$LAB_DIR/static.key" 2>/dev/null
printf '%s\n' "remote 192.0.2.1 1194" "proto udp" "ifconfig 10.8.0.2 10.8.0.1" "secret $LAB_DIR/static.key" \
    "cipher AES-256-CBC" >"$LAB_DIR/client.conf"
chmod 600 "$LAB_DIR/client.conf" "$LAB_DIR/static.key"
# r1's DNS server, for the verification's query from inside the domain.
lab_bg r1 "$LAB_DIR/dns.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:1::53 server.corp.test 2001:db8:ff::1
lab_wait 10 grep -q listening "$LAB_DIR/dns.log" || fail "the DNS responder did not start: $(cat "$LAB_DIR/dns.log")"

lab_bg host "$LAB_DIR/monitor.log" "$PVD" monitor
corp=${P}corp
cat >"$LAB_DIR/base.yaml" <<YAML
domains:
  - {name: "$corp", uplink: up0, addresses: ["2001:db8:1::100"], routers: ["fe80::11"], dns: ["2001:db8:1::53"]}
YAML
"$PVD" apply "$LAB_DIR/base.yaml" >"$LAB_DIR/apply.out" || fail "pvd apply: $(cat "$LAB_DIR/apply.out")"
"$PVD" verify "$corp" >"$LAB_DIR/verify.out" || fail "pvd verify of a working domain: $(cat "$LAB_DIR/verify.out")"
for check in namespace addresses routes resolv.conf router dns; do
    lab_has "^$corp  $check  ok" <"$LAB_DIR/verify.out" || fail "pvd verify has no passing $check: $(cat "$LAB_DIR/verify.out")"
done
lab_has "fe80::11 on up0 answered" <"$LAB_DIR/verify.out" || fail "the router's answer: $(cat "$LAB_DIR/verify.out")"
grep -q "query pvd-verify.invalid type 28" "$LAB_DIR/dns.log" || fail "no query reached the DNS server: $(cat "$LAB_DIR/dns.log")"
"$PVD" show "$corp" | lab_has "Health: .*ok namespace: exists" && "$PVD" show "$corp" | lab_has "   ok router: fe80::11 on up0 answered" || fail "pvd show's health: $("$PVD" show "$corp")"

# A program in corp, running through everything below.
lab_bg host "$LAB_DIR/ping.log" ip netns exec "pvd-$corp" ping -n -i 0.2 2001:db8:ff::1
pinger=$LAB_LAST_PID
inode=$(stat -L -c %i "/run/netns/pvd-$corp")
before=$("$PVD" show --yaml)
lab_host_state >"$LAB_DIR/kernel-before"

# 1. A VPN domain whose server never answers, verified: rolled back within the 5 s.
vpn=${P}vpn
cp "$LAB_DIR/base.yaml" "$LAB_DIR/vpn.yaml"
echo "vpns: [{name: \"$vpn\", openvpn: \"$LAB_DIR/client.conf\"}]" >>"$LAB_DIR/vpn.yaml"
start=$(date +%s.%N)
if "$PVD" apply "$LAB_DIR/vpn.yaml" --confirm-within 5 --verify >"$LAB_DIR/vpn.out" 2>&1; then
    fail "an apply whose verification failed exited 0: $(cat "$LAB_DIR/vpn.out")"
fi
took=$(awk "BEGIN {print $(date +%s.%N) - $start}")
awk "BEGIN {exit !($took < 6)}" || fail "the rollback took $took s"
lab_has "add VPN domain $vpn" <"$LAB_DIR/vpn.out" || fail "the apply's changes: $(cat "$LAB_DIR/vpn.out")"
lab_has "$vpn  vpn  FAILED  not connected within 4 s" <"$LAB_DIR/vpn.out" || fail "the VPN check: $(cat "$LAB_DIR/vpn.out")"
lab_has "rolled back: remove VPN domain $vpn" <"$LAB_DIR/vpn.out" || fail "the rollback: $(cat "$LAB_DIR/vpn.out")"
[ "$("$PVD" show --yaml)" = "$before" ] || fail "the declared state after the rollback: $("$PVD" show --yaml)"
[ ! -e "/run/netns/pvd-$vpn" ] || fail "the VPN domain's namespace is still there"
lab_wait 5 sh -c "! pgrep -f '[o]penvpn.*$LAB_DIR/client.conf' >/dev/null" || fail "the VPN client still runs: $(pgrep -af openvpn)"
lab_host_state >"$LAB_DIR/kernel-after"
diff "$LAB_DIR/kernel-before" "$LAB_DIR/kernel-after" >/dev/null || fail "the kernel changed: $(diff "$LAB_DIR/kernel-before" "$LAB_DIR/kernel-after")"
[ "$(stat -L -c %i "/run/netns/pvd-$corp")" = "$inode" ] || fail "corp's namespace was made anew"
[ -z "$(lab_call ListCheckpoints | sed 's/^ao 0$//')" ] || fail "a checkpoint is left: $(lab_call ListCheckpoints)"

# 2. Confirmed in time: it stays past its time.
cp "$LAB_DIR/base.yaml" "$LAB_DIR/scratch.yaml"
echo "namespaces: [\"${P}scratch\"]" >>"$LAB_DIR/scratch.yaml"
"$PVD" apply "$LAB_DIR/scratch.yaml" --confirm-within 4 >"$LAB_DIR/confirm.out" 2>&1 &
applying=$!
lab_wait 5 grep -q "waiting for pvd confirm (from any shell): 4 s left" "$LAB_DIR/confirm.out" || fail "pvd apply did not wait: $(cat "$LAB_DIR/confirm.out")"
busctl --system get-property org.pvd1 "$(lab_call ListCheckpoints | awk '{print $3}' | tr -d '"')" org.pvd1.Checkpoint Timeout | lab_has "u 4" \
    || fail "the checkpoint's Timeout"
"$PVD" confirm >"$LAB_DIR/confirmed.out" || fail "pvd confirm: $(cat "$LAB_DIR/confirmed.out")"
wait "$applying" || fail "the confirmed apply exited $?: $(cat "$LAB_DIR/confirm.out")"
lab_has "confirmed: the change stays" <"$LAB_DIR/confirm.out" || fail "the apply's end: $(cat "$LAB_DIR/confirm.out")"
sleep 5
[ -e "/run/netns/${P}scratch" ] || fail "the confirmed change was rolled back: $(cat "$LAB_DIR/pvdd.log")"
# The same file again changes nothing: nothing to confirm, no wait, no checkpoint left.
timeout 5 "$PVD" apply "$LAB_DIR/scratch.yaml" --confirm-within 30 | lab_has "^nothing to change$" || fail "an apply that changes nothing waited"
lab_call ListCheckpoints | lab_has "^ao 0" || fail "a checkpoint is left: $(lab_call ListCheckpoints)"

# 3. pvdd killed with a checkpoint pending: the next pvdd rolls back on time.
cp "$LAB_DIR/scratch.yaml" "$LAB_DIR/later.yaml"
sed -i "s/^namespaces: .*/namespaces: [\"${P}scratch\", \"${P}later\"]/" "$LAB_DIR/later.yaml"
"$PVD" apply "$LAB_DIR/later.yaml" --confirm-within 8 --no-wait >"$LAB_DIR/later.out" || fail "pvd apply --no-wait: $(cat "$LAB_DIR/later.out")"
made=$(date +%s.%N)
kill -9 "$(pgrep -f "pvdd --config $LAB_DIR/pvdd.yaml")"
sleep 1
lab_pvdd "$LAB_DIR/pvdd2.log" up0 --config "$LAB_DIR/pvdd.yaml"
[ -e "/run/netns/${P}later" ] || fail "rolled back before its time"
lab_call ListCheckpoints | lab_has '^ao 1 "/org/pvd1/checkpoint/' || fail "the restarted pvdd lost the checkpoint: $(cat "$LAB_DIR/pvdd2.log")"
lab_wait 12 sh -c "[ ! -e /run/netns/${P}later ]" || fail "no rollback after the restart: $(cat "$LAB_DIR/pvdd2.log")"
took=$(awk "BEGIN {print $(date +%s.%N) - $made}")
awk "BEGIN {exit !($took >= 7.5)}" || fail "rolled back after $took s, before its 8 s"
[ -e "/run/netns/${P}scratch" ] || fail "the rollback went too far"
grep -q "rolled back (its 8 s ran out" "$LAB_DIR/pvdd2.log" || fail "pvdd's log: $(cat "$LAB_DIR/pvdd2.log")"

# 4. pvd rollback: at once.
"$PVD" apply "$LAB_DIR/base.yaml" --confirm-within 60 --no-wait >"$LAB_DIR/now.out" || fail "pvd apply: $(cat "$LAB_DIR/now.out")"
[ ! -e "/run/netns/${P}scratch" ] || fail "the apply did not remove scratch"
"$PVD" rollback >"$LAB_DIR/rollback.out" || fail "pvd rollback: $(cat "$LAB_DIR/rollback.out")"
lab_has "add namespace ${P}scratch" <"$LAB_DIR/rollback.out" || fail "pvd rollback's changes: $(cat "$LAB_DIR/rollback.out")"
[ -e "/run/netns/${P}scratch" ] || fail "pvd rollback did not bring scratch back"
if "$PVD" rollback >/dev/null 2>&1; then fail "a second pvd rollback found a checkpoint"; fi

# 5. A router that does not answer fails the verification, with what.
cat >"$LAB_DIR/mute.yaml" <<YAML
domains:
  - {name: "$corp", uplink: up0, addresses: ["2001:db8:1::100"], routers: ["fe80::11"], dns: ["2001:db8:1::53"]}
  - {name: "${P}mute", uplink: up0, addresses: ["2001:db8:1::101"], routers: ["fe80::99"]}
namespaces: ["${P}scratch"]
YAML
if "$PVD" apply "$LAB_DIR/mute.yaml" --verify >"$LAB_DIR/mute.out" 2>&1; then fail "a router that never answers verified: $(cat "$LAB_DIR/mute.out")"; fi
lab_has "${P}mute  router  FAILED  fe80::99 on up0 did not answer" <"$LAB_DIR/mute.out" || fail "the router check: $(cat "$LAB_DIR/mute.out")"
[ ! -e "/run/netns/pvd-${P}mute" ] || fail "a failed --verify left the domain"

grep -q "rolled back  /org/pvd1/checkpoint/1  CheckpointRollback by uid 0" "$LAB_DIR/monitor.log" \
    && grep -q "confirmed  /org/pvd1/checkpoint/2" "$LAB_DIR/monitor.log" || fail "pvd monitor: $(cat "$LAB_DIR/monitor.log")"
# Each rollback compared the kernel with what the checkpoint kept of it.
for log in pvdd.log pvdd2.log; do
    lab_file_lacks "$LAB_DIR/$log" "not as it was" || fail "a rollback left the kernel otherwise: $(grep "not as it was" "$LAB_DIR/$log")"
done
lab_stop "$pinger"
lab_ping_unbroken "$LAB_DIR/ping.log" 50
echo "ok"
