# Every apply is a transaction: make each step fail in turn — while adding a
# domain next to an existing one, and while changing the existing one — and
# check that the host is left exactly as before (links, addresses, routes of
# every table, rules, proxy entries, uplink sysctls, the pvd namespaces and
# their contents, resolv.conf files). Then real failures: a vanished uplink,
# an address the host already uses, an address another domain uses, a
# namespace of the same name that is not this host's, a symlink where
# resolv.conf goes, a bad name.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_two_routers
lab_host_state >"$LAB_DIR/empty"
lab_domain_spec 1 >"$LAB_DIR/d1.json"
lab_domain_spec 2 >"$LAB_DIR/d2.json"
sed -e 's|"prefixes": \["2001:db8:1::/64"\]|"prefixes": ["2001:db8:3::/64"]|' \
    -e 's|"on_link": \["2001:db8:1::/64"\]|"on_link": ["2001:db8:1::/64", "2001:db8:3::/64"]|' -e 's|"fe80::11"|"fe80::11", "fe80::12"|' \
    -e 's|"dns": \["2001:db8:1::53"\]|"dns": ["2001:db8:1::54"], "mtu": 1400, "routes": ["2001:db8:100::/48"]|' \
    "$LAB_DIR/d1.json" >"$LAB_DIR/d1-changed.json"
lab_hostnet host apply "$LAB_DIR/d1.json"
lab_host_state >"$LAB_DIR/before"

# fail_each_step FILE WHAT MINIMUM: apply FILE failing at step 1, 2, … until
# it succeeds, which must take at least MINIMUM steps.
fail_each_step() {
    local step=1
    while ! lab_hostnet host apply --fail-at-step "$step" "$1" 2>"$LAB_DIR/error"; do
        grep -q "injected failure at step $step" "$LAB_DIR/error" || fail "$2, step $step: $(cat "$LAB_DIR/error")"
        lab_host_state >"$LAB_DIR/now"
        diff "$LAB_DIR/before" "$LAB_DIR/now" >"$LAB_DIR/diff" \
            || fail "$2: failing step $step ($(cat "$LAB_DIR/error")) left changes: $(cat "$LAB_DIR/diff")"
        step=$((step + 1))
        [ "$step" -lt 200 ] || fail "$2 never succeeded"
    done
    echo "$2: $((step - 1)) steps, each undone" >&2
    [ "$((step - 1))" -ge "$3" ] || fail "$2 took only $((step - 1)) steps"
}

fail_each_step "$LAB_DIR/d2.json" "adding a domain" 15
lab_hostnet host remove "${P}d2"
lab_host_state >"$LAB_DIR/now"
diff "$LAB_DIR/before" "$LAB_DIR/now" || fail "removing the added domain left changes"

fail_each_step "$LAB_DIR/d1-changed.json" "changing a domain" 12
changed=$(lab_hostnet host list)
grep -q '"mtu":1400' <<<"$changed" || fail "the change did not take"
lab_hostnet host apply "$LAB_DIR/d1.json"
lab_host_state >"$LAB_DIR/now"
diff "$LAB_DIR/before" "$LAB_DIR/now" || fail "changing the domain back did not restore it"

# expect_refused FILE TEXT: apply fails with TEXT in its message and changes nothing.
expect_refused() {
    if lab_hostnet host apply "$1" 2>"$LAB_DIR/error"; then fail "applied, but should fail with: $2"; fi
    grep -q "$2" "$LAB_DIR/error" || fail "expected '$2', got: $(cat "$LAB_DIR/error")"
    lab_host_state >"$LAB_DIR/now"
    diff "$LAB_DIR/before" "$LAB_DIR/now" || fail "the refused apply ($2) left changes"
}

sed 's/"up0"/"gone0"/' "$LAB_DIR/d2.json" >"$LAB_DIR/vanished.json"
expect_refused "$LAB_DIR/vanished.json" "find uplink gone0: no such link"

d1=$(lab_hostnet host list | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["addresses"][0])')
address2=$(printf '%s' "$(lab_domain_spec 2)" | sed 's/"prefixes": \["2001:db8:2::\/64"\]/"addresses": ["2001:db8:2::99"]/')
echo "$address2" >"$LAB_DIR/host-address.json"
ip -n "${P}host" addr add 2001:db8:2::99/64 dev up0 nodad
lab_host_state >"$LAB_DIR/before"
expect_refused "$LAB_DIR/host-address.json" "check address 2001:db8:2::99: already in use by the host"
ip -n "${P}host" addr del 2001:db8:2::99/64 dev up0
lab_host_state >"$LAB_DIR/before"

printf '%s' "$(lab_domain_spec 2)" | sed "s/\"prefixes\": \[\"2001:db8:2::\/64\"\]/\"addresses\": [\"$d1\"]/" >"$LAB_DIR/taken.json"
expect_refused "$LAB_DIR/taken.json" "add route $d1/128"

touch "/run/netns/pvd-${P}d3"
lab_host_state >"$LAB_DIR/before"
sed "s/${P}d2/${P}d3/" "$LAB_DIR/d2.json" >"$LAB_DIR/stale.json"
expect_refused "$LAB_DIR/stale.json" "create namespace pvd-${P}d3: it exists but is not a domain of this host"
rm "/run/netns/pvd-${P}d3"
lab_host_state >"$LAB_DIR/before"

# resolv.conf is never written through a symlink.
mkdir -p /etc/netns "$LAB_DIR/elsewhere"
ln -s "$LAB_DIR/elsewhere" "/etc/netns/pvd-${P}d5"
lab_host_state >"$LAB_DIR/before"
sed "s/${P}d2/${P}d5/" "$LAB_DIR/d2.json" >"$LAB_DIR/symlink.json"
expect_refused "$LAB_DIR/symlink.json" "open directory /etc/netns/pvd-${P}d5: Too many levels of symbolic links"
lab_silent ls -A "$LAB_DIR/elsewhere" || fail "something was written through the symlink"
rm "/etc/netns/pvd-${P}d5"
lab_host_state >"$LAB_DIR/before"

sed "s/\"name\": \"${P}d2\"/\"name\": \"..\/x\"/" "$LAB_DIR/d2.json" >"$LAB_DIR/badname.json"
expect_refused "$LAB_DIR/badname.json" "check domain name ../x"

lab_hostnet host remove "${P}d1"
lab_host_state >"$LAB_DIR/now"
diff "$LAB_DIR/empty" "$LAB_DIR/now" || fail "removing everything did not restore the empty host"
