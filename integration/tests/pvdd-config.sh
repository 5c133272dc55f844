# pvdd reads /etc/pvd/pvdd.yaml's schema from --config: with no uplinks named it
# listens on every interface (lo and its own links aside); an alias names the
# explicit PvD's domain (namespace, resolv.conf). A bad file, a missing named
# file or a bad override stops it before it touches anything, with a message
# naming the key.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
lab_host_state >"$LAB_DIR/before"

# refused CONFIG-TEXT EXPECTED [OPTIONS…]: pvdd exits non-zero, says EXPECTED, changes nothing.
refused() {
    printf '%s\n' "$1" >"$LAB_DIR/bad.yaml"
    if lab_in host "$PVDD" --config "$LAB_DIR/bad.yaml" --state "$LAB_DIR/state/bad.json" "${@:3}" 2>"$LAB_DIR/bad.log"; then
        fail "pvdd accepted: $1 ${*:3}"
    fi
    grep -qF -- "$2" "$LAB_DIR/bad.log" || fail "for '$1 ${*:3}' pvdd said: $(cat "$LAB_DIR/bad.log"), expected: $2"
}
refused "aliases: {corp: bad..name}" "aliases.corp: \"bad..name\" is not a PvD ID"
refused "uplinks: eth0" "uplinks: must be a list"
refused "grace-period: [1]" "grace-period: must be a number"
refused "uplinks: [up0" "not valid YAML"
refused "uplinks: [up0]" "--grace-period: must be between 0 and one year of seconds" --grace-period=-1
lab_in host "$PVDD" --config "$LAB_DIR/absent.yaml" 2>"$LAB_DIR/bad.log" && fail "pvdd started without its named config file"
grep -qF "$LAB_DIR/absent.yaml: cannot read it (No such file or directory)" "$LAB_DIR/bad.log" || fail "missing file: $(cat "$LAB_DIR/bad.log")"
lab_host_state >"$LAB_DIR/after-refusals"
diff -u "$LAB_DIR/before" "$LAB_DIR/after-refusals" >&2 || fail "a refused start changed the host"

cat >"$LAB_DIR/pvdd.yaml" <<CONF
# No uplinks: every interface.
grace-period: 1
state: $LAB_DIR/state/pvdd.json
aliases:
  ${P}corp: Corp.Example.COM
CONF
lab_pvdd "$LAB_DIR/pvdd.log" "every interface" --config "$LAB_DIR/pvdd.yaml"
pvdd=$LAB_LAST_PID
lab_radvd_plain 1
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 10 2001:db8:2::/64 2001:db8:2::53
two_domains() { [ "$(lab_kernel_domains | wc -w)" -eq 2 ]; }
lab_wait 5 two_domains || fail "not two domains: $(lab_kernel_domains); $(cat "$LAB_DIR/pvdd.log")"
read -r first second <<<"$(lab_kernel_domains)"
[ "$first" = "${P}corp" ] || fail "the explicit PvD is named $first, not by its alias ${P}corp"
case $second in up0-fe80-*) ;; *) fail "the implicit PvD is named $second" ;; esac
ip netns list | lab_has "^pvd-${P}corp\b" || fail "no namespace pvd-${P}corp"
grep -qx "nameserver 2001:db8:2::53" "/etc/netns/pvd-${P}corp/resolv.conf" || fail "corp's resolv.conf: $(cat "/etc/netns/pvd-${P}corp/resolv.conf")"
grep -qx "nameserver 2001:db8:1::53" "/etc/netns/pvd-$second/resolv.conf" || fail "$second's resolv.conf is not r1's"
lab_wait 3 grep -q "domain ${P}corp: 1 address(es), 1 router(s), 1 DNS server(s) on up0" "$LAB_DIR/pvdd.log" || fail "no log line for the alias: $(cat "$LAB_DIR/pvdd.log")"

lab_pvdd_stop "$pvdd"
lab_host_state >"$LAB_DIR/after"
diff -u "$LAB_DIR/before" "$LAB_DIR/after" >&2 || fail "SIGTERM left changes behind"
