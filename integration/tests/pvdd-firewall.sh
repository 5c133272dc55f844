# A host firewall whose forward chain drops by default (what ufw, Docker and
# many hand-written rulesets set up) cuts every routed domain off, whatever
# pvd's own table allows. pvdd finds such a chain and the domain's state
# names it (within its 30 s look), and the two rules docs/host.md gives
# ("A firewall") let the domain through again; removing the table clears
# the state.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_pvdd_one_router
domain=$LAB_DOMAIN
reaches() { ip netns exec "pvd-$domain" ping -c 1 -W 1 2001:db8:ff::1 >/dev/null 2>&1; }
lab_wait 10 reaches || fail "the domain does not reach the server"
lab_lacks "dropped by" "$PVD" show "$domain" || fail "a state names a firewall before there is one: $("$PVD" show "$domain")"

lab_in host nft -f - <<'NFT'
table inet hostfw {
    chain forward {
        type filter hook forward priority filter; policy drop;
    }
}
NFT
! reaches || fail "the domain still reaches the server through a forward chain that drops"
named() { "$PVD" show "$domain" | lab_has "dropped by nftables table inet hostfw (chain forward, policy drop)"; }
start=$(date +%s)
lab_wait 40 named || fail "the state does not name the firewall: $("$PVD" show "$domain")"
echo "the state named the firewall after $(( $(date +%s) - start )) s" >&2
grep -q "dropped by nftables table inet hostfw" "$LAB_DIR/pvdd.log" || fail "pvdd did not log it: $(tail -n 5 "$LAB_DIR/pvdd.log")"

# docs/host.md, "A firewall": the two rules to add to such a chain.
lab_in host nft add rule inet hostfw forward iifname '"pvh*"' accept
lab_in host nft add rule inet hostfw forward oifname '"pvh*"' ct state established,related accept
lab_wait 5 reaches || fail "the documented rules did not let the domain through"
lab_in host nft delete table inet hostfw
cleared() { "$PVD" show "$domain" | lab_lacks "dropped by" cat; }
lab_wait 40 cleared || fail "the state still names a firewall that is gone: $("$PVD" show "$domain")"
lab_pvdd_stop "$LAB_PVDD"
