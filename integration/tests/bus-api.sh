# org.pvd1 on a private system bus, driven with busctl and gdbus (not
# pvd's own client): the introspection data equals scripts/system/org.pvd1.xml;
# every method, property and signal; the NetworkManager fork's cases (rootns
# while pvdd runs, gone after; AddNetworkNamespace returns an object path and
# the namespace has lo up); every error path returns its named error and
# changes nothing; `pvd list` says so when pvdd is not running.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for tool in busctl gdbus dbus-monitor dbus-daemon; do
    command -v "$tool" >/dev/null || fail "$tool is missing: scripts/setup.sh installs it"
done

lab_two_routers 2
lab_in host sysctl -qw net.ipv6.conf.up0.accept_ra=0
# IPv4 of the uplink's own, so that the L flag's domain gets IPv4 (the IPv4 property).
ip -n "${P}host" addr add 192.0.2.10/24 dev up0
ip -n "${P}host" route add default via 192.0.2.1
lab_dbus
"$PVD" list >"$LAB_DIR/no-daemon.out" 2>&1 && fail "pvd list succeeded without pvdd"
grep -q "pvdd is not running" "$LAB_DIR/no-daemon.out" || fail "pvd list without pvdd said: $(cat "$LAB_DIR/no-daemon.out")"
"$PVD" exec corp -- true >"$LAB_DIR/no-daemon.out" 2>&1 && fail "pvd exec succeeded without pvdd"
grep -q "pvdd is not running" "$LAB_DIR/no-daemon.out" || fail "pvd exec without pvdd said: $(cat "$LAB_DIR/no-daemon.out")"

[ ! -e /run/netns/rootns ] || fail "/run/netns/rootns exists before the test (another pvdd or NetworkManager fork?)"
cat >"$LAB_DIR/pvdd.yaml" <<CONF
uplinks: [up0]
state: $LAB_DIR/state.json
duplicate-address-detection: false
access:
  corp.example.com: {users: [nobody]}
CONF
lab_bg host "$LAB_DIR/monitor.log" dbus-monitor --system "type='signal',sender='org.pvd1'"
lab_bg host "$LAB_DIR/pvd-monitor.log" "$PVD" monitor --json
lab_pvdd "$LAB_DIR/pvdd.log" "up0" --config "$LAB_DIR/pvdd.yaml"
pvdd=$LAB_LAST_PID
lab_wait 5 busctl --system status org.pvd1 || fail "org.pvd1 is not on the bus: $(cat "$LAB_DIR/pvdd.log")"
[ "$(stat -L -c %i /run/netns/rootns)" = "$(stat -L -c %i "/run/netns/${P}host")" ] || fail "/run/netns/rootns is not pvdd's namespace"

# Introspection: the org.pvd1 interfaces as the repository has them.
pvd_interfaces() { /usr/bin/python3 -c 'import re,sys; print("".join(re.findall(r" <interface name=\"org\.pvd1\.[^\"]+\">.*?</interface>\n", sys.stdin.read(), re.S)), end="")'; }
pvd_interfaces <"$LAB_HERE/../scripts/system/org.pvd1.xml" >"$LAB_DIR/expected.xml"

# A learnt domain: corp.example.com from r2.
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 3 2001:db8:2::/64 2001:db8:2::53 --no-http --legacy
corp=/org/pvd1/domain/corp_2eexample_2ecom
lab_wait 5 busctl --system introspect org.pvd1 "$corp" || fail "no object for corp: $(lab_call ListDomains)"
checkpoint=$(lab_call CheckpointCreate u 600 | cut -d'"' -f2)
{
    busctl --system introspect --xml-interface org.pvd1 /org/pvd1
    busctl --system introspect --xml-interface org.pvd1 "$corp"
    busctl --system introspect --xml-interface org.pvd1 "$checkpoint"
} | pvd_interfaces >"$LAB_DIR/actual.xml"
diff -u "$LAB_DIR/expected.xml" "$LAB_DIR/actual.xml" >&2 || fail "the running daemon's interfaces differ from scripts/system/org.pvd1.xml"
[ "$(busctl --system get-property org.pvd1 "$checkpoint" org.pvd1.Checkpoint Timeout)" = "u 600" ] || fail "the checkpoint's Timeout"
lab_call CheckpointDestroy o "$checkpoint" >/dev/null
lab_call CheckpointDestroy o "$checkpoint" >"$LAB_DIR/twice.out" 2>&1 && fail "a checkpoint was confirmed twice"
lab_has "no checkpoint .* is pending" <"$LAB_DIR/twice.out" || fail "confirming twice: $(cat "$LAB_DIR/twice.out")"

[ "$(lab_call ListDomains)" = "a(sso) 1 \"corp.example.com\" \"explicit\" \"$corp\"" ] || fail "ListDomains: $(lab_call ListDomains)"
[ "$(lab_call GetDomain s corp)" = "o \"$corp\"" ] || fail "GetDomain by prefix: $(lab_call GetDomain s corp)"
prop() { busctl --system get-property org.pvd1 "$corp" org.pvd1.Domain "$1"; }
[ "$(prop Name)" = 's "corp.example.com"' ] && [ "$(prop Kind)" = 's "explicit"' ] && [ "$(prop PvDId)" = 's "corp.example.com"' ] \
    && [ "$(prop Sequence)" = "q 3" ] && [ "$(prop Flags)" = 'a{sb} 3 "H" false "L" true "noInternet" false' ] && [ "$(prop Uplinks)" = 'as 1 "up0"' ] \
    && [ "$(prop DnsServers)" = 'as 1 "2001:db8:2::53"' ] && [ "$(prop State)" = 's "active"' ] && [ "$(prop IPv4)" = "b true" ] \
    && [ "$(prop NamespacePath)" = 's "/run/netns/pvd-corp.example.com"' ] && [ "$(prop SearchDomains)" = "as 0" ] \
    && [ "$(prop Routes)" = "as 0" ] && [ "$(prop AdditionalInfo)" = 's ""' ] && [ "$(prop Claims)" = "as 0" ] \
    && [ "$(prop Environment)" = "as 0" ] \
    || fail "corp's properties: $(busctl --system introspect org.pvd1 "$corp" org.pvd1.Domain)"
case $(prop Addresses) in 'as 1 "2001:db8:2:'*) ;; *) fail "Addresses: $(prop Addresses)" ;; esac
case $(prop Routers) in 'as 1 "fe80::'*) ;; *) fail "Routers: $(prop Routers)" ;; esac
case $(prop Lifetime) in "t 17"*|"t 18"*) ;; *) fail "Lifetime: $(prop Lifetime)" ;; esac
busctl --system call org.pvd1 "$corp" org.freedesktop.DBus.Properties GetAll s org.pvd1.Domain | lab_has '"Name" s "corp.example.com"' \
    || fail "GetAll: $(busctl --system call org.pvd1 "$corp" org.freedesktop.DBus.Properties GetAll s org.pvd1.Domain)"
[ "$(lab_call GetState)" = "s \"# Declared state of pvd: static domains, VPN domains and namespaces (pvd apply takes this back)\\ndomains: []\\nvpns: []\\nnamespaces: []\\n\"" ] \
    || fail "GetState: $(lab_call GetState)"
case $(lab_call OpenDomain s corp) in 'hss '*' "corp.example.com" "pvd-corp.example.com"') ;; *) fail "OpenDomain: $(lab_call OpenDomain s corp)" ;; esac
# A new sequence number changes the domain: PropertiesChanged.
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 4 2001:db8:2::/64 2001:db8:2::53 --no-http --legacy
lab_wait 3 grep -q "path=$corp; interface=org.freedesktop.DBus.Properties; member=PropertiesChanged" "$LAB_DIR/monitor.log" \
    || fail "no PropertiesChanged for corp: $(cat "$LAB_DIR/monitor.log") $(cat "$LAB_DIR/pvdd.log")"
[ "$(prop Sequence)" = "q 4" ] || fail "Sequence after the change: $(prop Sequence)"

# pvd's own client: the read commands, in tables and in JSON, and monitor.
"$PVD" list | lab_has "^corp.example.com  explicit  ra    active  up0 " || fail "pvd list: $("$PVD" list)"
"$PVD" status | lab_has "^corp.example.com (PvD corp.example.com): explicit, active" || fail "pvd status: $("$PVD" status)"
"$PVD" show corp | lab_has "^  Sequence: *4$" || fail "pvd show: $("$PVD" show corp)"
# show and status label the same things the same way, durations with their unit.
for label in "From:" "DNS servers:" "Lifetime: *1[78][0-9][0-9] s" "Namespace: *\/run\/netns\/pvd-corp.example.com"; do
    "$PVD" show corp | lab_has "^  $label" && "$PVD" status | lab_has "^  $label" || fail "show and status differ on $label: $("$PVD" show corp) $("$PVD" status)"
done
for command in "list --json" "status --json" "show corp --json"; do
    # shellcheck disable=SC2086
    "$PVD" $command | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; assert d["name"]=="corp.example.com" and d["sequence"]==4 and "dns_servers" in d and "lifetime_seconds" in d, d' \
        || fail "pvd $command: $("$PVD" $command)"
done
grep -q '"event":"DomainAdded","path":"/org/pvd1","arguments":\["corp.example.com"' "$LAB_DIR/pvd-monitor.log" \
    || fail "pvd monitor: $(cat "$LAB_DIR/pvd-monitor.log")"

# A static domain, added and removed.
static=${P}static
lab_call AddDomain 'sa{sv}' "$static" 4 uplink s up0 addresses as 1 2001:db8:9::5 routers as 1 fe80::12 dns as 1 2001:db8:9::53 >/dev/null
ip netns list | lab_has "^pvd-$static\b" || fail "AddDomain made no namespace"
grep -qx "nameserver 2001:db8:9::53" "/etc/netns/pvd-$static/resolv.conf" || fail "the static domain's resolv.conf"
[ "$(ip -n "pvd-$static" -6 -o addr show dev pvd0 scope global | awk '{print $4}')" = "2001:db8:9::5/128" ] || fail "the static domain's address"
static_path=$(lab_call GetDomain s "$static" | cut -d'"' -f2)
# An address another domain has: refused naming that domain, not with the kernel's "File exists".
answer=$("$PVD" add "${static}2" --uplink up0 --address 2001:db8:9::5 2>&1) && fail "a second domain took $static's address"
grep -q "2001:db8:9::5 is domain $static's address already" <<<"$answer" || fail "the refusal: $answer"
answer=$("$PVD" add "${static}3" --uplink up0 --address 2001:db8:9::5/64 2>&1) && fail "an address with a prefix length was taken"
grep -q "without a prefix length" <<<"$answer" || fail "the refusal of an address with a length: $answer"
[ "$(busctl --system get-property org.pvd1 "$static_path" org.pvd1.Domain Kind)" = 's "static"' ] || fail "the static domain's kind"
lab_call RemoveDomain s "$static"
lab_lacks "^pvd-$static\b" ip netns list || fail "RemoveDomain left the namespace"

# The NetworkManager fork: a bare namespace with lo up, as an object path.
nm=${P}nm
reply=$(lab_call AddNetworkNamespace s "$nm")
[ "$reply" = "o \"/org/pvd1/domain/$(echo "$nm" | sed 's/-/_2d/g')\"" ] || fail "AddNetworkNamespace: $reply"
ip -n "$nm" link show lo | lab_has "state UNKNOWN\|LOOPBACK,UP" || fail "lo is not up in $nm: $(ip -n "$nm" link show lo)"
lab_call RemoveDomain s "$nm"
[ ! -e "/run/netns/$nm" ] || fail "RemoveDomain left /run/netns/$nm"
for signal in "member=DomainAdded" "string \"$static\"" "member=DomainRemoved" "string \"$nm\""; do
    grep -q "$signal" "$LAB_DIR/monitor.log" || fail "no signal with $signal: $(cat "$LAB_DIR/monitor.log")"
done

# The declared state: ApplyState (dry run, then for real), GetState, all or nothing.
cat >"$LAB_DIR/state.yaml" <<YAML
domains:
  - {name: ${P}lab, uplink: up0, addresses: ["2001:db8:8::5"], dns: ["2001:db8:8::53"]}
namespaces: [${P}ns1]
YAML
state=$(cat "$LAB_DIR/state.yaml")
[ "$(lab_call ApplyState sb "$state" true)" = "as 2 \"add domain ${P}lab\" \"add namespace ${P}ns1\"" ] \
    || fail "ApplyState dry run: $(lab_call ApplyState sb "$state" true)"
[ ! -e "/run/netns/pvd-${P}lab" ] && [ ! -e "/run/netns/${P}ns1" ] || fail "a dry run changed something"
lab_call ApplyState sb "$state" false >/dev/null
[ -e "/run/netns/pvd-${P}lab" ] && [ -e "/run/netns/${P}ns1" ] || fail "ApplyState did not make the domain and the namespace"
"$PVD" show --yaml >"$LAB_DIR/shown.yaml"
grep -q "name: \"${P}lab\"" "$LAB_DIR/shown.yaml" && grep -q "namespaces: \[\"${P}ns1\"\]" "$LAB_DIR/shown.yaml" \
    || fail "pvd show --yaml: $(cat "$LAB_DIR/shown.yaml")"
[ "$("$PVD" apply "$LAB_DIR/shown.yaml")" = "nothing to change" ] || fail "applying what show --yaml printed changed something"
cat >"$LAB_DIR/broken.yaml" <<YAML
domains:
  - {name: ${P}lab2, uplink: up0, addresses: ["2001:db8:8::6"]}
  - {name: ${P}lab3, uplink: nosuchlink}
namespaces: []
YAML
"$PVD" apply --dry-run "$LAB_DIR/broken.yaml" | lab_has "would remove namespace ${P}ns1" || fail "pvd apply --dry-run"
# A dry run is worked out by the caller: nobody may do it too.
lab_as_nobody "$PVD" apply --dry-run "$LAB_DIR/broken.yaml" \
    | lab_has "would remove namespace ${P}ns1" || fail "pvd apply --dry-run as nobody"
"$PVD" apply "$LAB_DIR/broken.yaml" >"$LAB_DIR/broken.out" 2>&1 && fail "a state with a missing uplink was applied"
grep -q "failed, and the changes before it were undone" "$LAB_DIR/broken.out" || fail "pvd apply said: $(cat "$LAB_DIR/broken.out")"
[ -e "/run/netns/${P}ns1" ] && [ -e "/run/netns/pvd-${P}lab" ] && [ ! -e "/run/netns/pvd-${P}lab2" ] \
    || fail "a failed apply left a half-applied state: $(ls /run/netns)"
"$PVD" show --yaml | diff "$LAB_DIR/shown.yaml" - >&2 || fail "the declared state changed after a failed apply"
# --check for configuration management: 0 unchanged, 2 would change, 1 error; --diff its lines.
"$PVD" apply --check "$LAB_DIR/shown.yaml" >/dev/null || fail "pvd apply --check of the current state: status $?"
status=0; lab_as_nobody "$PVD" apply --check "$LAB_DIR/broken.yaml" >"$LAB_DIR/check.out" || status=$?
[ "$status" = 2 ] && grep -q "would remove namespace ${P}ns1" "$LAB_DIR/check.out" || fail "pvd apply --check of a change: status $status, $(cat "$LAB_DIR/check.out")"
status=0; "$PVD" apply --check "$LAB_DIR/nonexistent.yaml" >/dev/null 2>&1 || status=$?
[ "$status" = 1 ] || fail "pvd apply --check of a missing file: status $status"
"$PVD" apply --check --diff "$LAB_DIR/broken.yaml" >"$LAB_DIR/diff.out" || true
grep -qx -- "- namespaces: \[\"${P}ns1\"\]" "$LAB_DIR/diff.out" && grep -qx -- "+     uplink: \"nosuchlink\"" "$LAB_DIR/diff.out" \
    || fail "pvd apply --diff: $(cat "$LAB_DIR/diff.out")"
[ -e "/run/netns/${P}ns1" ] && [ ! -e "/run/netns/pvd-${P}lab2" ] || fail "--check changed something"
printf 'domains: []\nnamespaces: []\n' >"$LAB_DIR/empty-state.yaml"
"$PVD" apply "$LAB_DIR/empty-state.yaml" >/dev/null
[ ! -e "/run/netns/${P}ns1" ] && [ ! -e "/run/netns/pvd-${P}lab" ] || fail "applying an empty state left things"

# A second PvD, which the access section does not give to nobody.
lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.org 1 2001:db8:1::/64 2001:db8:1::53 --no-http
lab_wait 5 busctl --system introspect org.pvd1 /org/pvd1/domain/corp_2eexample_2eorg || fail "no domain corp.example.org"

# Errors: each named, and nothing changed. (gdbus prints the error's name
# and can send a{sv}; dbus-send cannot.)
snapshot() { lab_host_state; lab_call ListDomains; ls /run/netns; }
snapshot >"$LAB_DIR/before-errors"
expect_error() {
    local name=$1 who=$2 method=$3
    shift 3
    local out
    out=$($who gdbus call --system --dest org.pvd1 --object-path /org/pvd1 --method "org.pvd1.Manager.$method" "$@" 2>&1) \
        && fail "$method $* succeeded: $out"
    grep -q "GDBus.Error:$name: ." <<<"$out" || fail "$method $*: expected $name, got: $out"
}
as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
long=$(printf 'a%.0s' $(seq 300))
expect_error org.pvd1.Error.UnknownDomain "" GetDomain nothing
expect_error org.pvd1.Error.AmbiguousName "" GetDomain corp
expect_error org.pvd1.Error.UnknownDomain "" OpenDomain nothing
expect_error org.pvd1.Error.UnknownDomain "" RemoveDomain nothing
expect_error org.pvd1.Error.InvalidName "" RemoveDomain ../x
expect_error org.pvd1.Error.InvalidName "" AddNetworkNamespace ../x
expect_error org.pvd1.Error.InvalidName "" AddNetworkNamespace "$long"
expect_error org.pvd1.Error.InvalidName "" AddNetworkNamespace rootns
expect_error org.pvd1.Error.InvalidName "" AddDomain ../x "{'uplink': <'up0'>}"
expect_error org.pvd1.Error.InvalidName "" AddDomain "$long" "{'uplink': <'up0'>}"
expect_error org.pvd1.Error.InvalidArguments "" AddDomain "${P}bad" "{'uplink': <'up0'>, 'addresses': <['nope']>}"
expect_error org.pvd1.Error.InvalidArguments "" AddDomain "${P}bad" "{'uplink': <'up0'>, 'colour': <'blue'>}"
expect_error org.pvd1.Error.InvalidArguments "" AddDomain "${P}bad" "{'addresses': <['2001:db8::1']>}"
expect_error org.pvd1.Error.InvalidArguments "" AddDomain "${P}bad" "{'uplink': <int32 5>}"
expect_error org.pvd1.Error.Failed "" AddDomain "${P}bad" "{'uplink': <'nosuchlink'>}"
expect_error org.pvd1.Error.Exists "" AddDomain corp.example.com "{'uplink': <'up0'>}"
expect_error org.pvd1.Error.NotRemovable "" RemoveDomain corp.example.com
# Wrong types (gdbus would convert them from the introspection data; dbus-send does not).
for call in "GetDomain int32:5" "AddDomain string:${P}bad dict:string:string:uplink,up0" "OpenDomain"; do
    # shellcheck disable=SC2086
    out=$(dbus-send --system --print-reply --dest=org.pvd1 /org/pvd1 org.pvd1.Manager.$call 2>&1) && fail "$call succeeded: $out"
    grep -q "^Error org.freedesktop.DBus.Error.InvalidArgs: ." <<<"$out" || fail "$call: expected InvalidArgs, got: $out"
done
expect_error org.pvd1.Error.AccessDenied "$as_nobody" AddNetworkNamespace "${P}x"
expect_error org.pvd1.Error.AccessDenied "$as_nobody" RemoveDomain corp.example.com
expect_error org.pvd1.Error.AccessDenied "$as_nobody" AddDomain "${P}x" "{'uplink': <'up0'>}"
expect_error org.pvd1.Error.AccessDenied "$as_nobody" OpenDomain corp.example.org
expect_error org.pvd1.Error.AccessDenied "$as_nobody" ApplyState "namespaces: [${P}x]" false
expect_error org.pvd1.Error.AccessDenied "$as_nobody" ApplyState "namespaces: [${P}x]" true
expect_error org.pvd1.Error.InvalidName "" AddNetworkNamespace up0-fe80-0-99
expect_error org.pvd1.Error.InvalidArguments "" ApplyState "domains: {}" false
expect_error org.pvd1.Error.Exists "" ApplyState "namespaces: [corp.example.com]" false
$as_nobody gdbus call --system --dest org.pvd1 --object-path /org/pvd1 --method org.pvd1.Manager.OpenDomain corp.example.com \
    | lab_has "handle" || fail "nobody may open corp.example.com, as the access section says"
snapshot >"$LAB_DIR/after-errors"
diff -u "$LAB_DIR/before-errors" "$LAB_DIR/after-errors" >&2 || fail "a refused call changed something"

lab_pvdd_stop "$pvdd"
[ ! -e /run/netns/rootns ] || fail "/run/netns/rootns is still there after pvdd stopped"
