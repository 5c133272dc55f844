# systemd-resolved as the host's resolver on Debian 12 booted with systemd:
# /etc/resolv.conf is Debian's relative link to resolved's stub file
# (../run/systemd/resolve/stub-resolv.conf). `pvd exec` works; inside the
# domain resolv.conf names the domain's DNS server, never 127.0.0.53; a name
# is resolved by the domain's server, asked from the domain's own address.
# resolved answers the host over the system bus, but not a program in the
# domain that asks it there; that program still reaches logind.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_run systemctl enable --quiet --now systemd-resolved
system_run ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
system_run readlink /etc/resolv.conf | lab_has "^\.\./run/systemd/resolve/stub-resolv.conf$" || fail "resolv.conf: $(system_run ls -l /etc/resolv.conf)"
system_run grep -q "^nameserver 127.0.0.53" /etc/resolv.conf || fail "resolved's stub: $(system_run cat /etc/resolv.conf)"
system_announce --pvd-id corp.example.com --outside --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
system_dns www.corp.test 2001:db8:ff::80
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
system_corp_usable

inside=$(system_run pvd exec corp -- cat /etc/resolv.conf) || fail "pvd exec with resolved's relative link: $inside"
grep -qx "nameserver 2001:db8:1::53" <<<"$inside" || fail "the domain's resolv.conf: $inside"
! grep -q "127.0.0.53" <<<"$inside" || fail "the domain's resolv.conf names resolved's stub: $inside"
answer=$(system_run pvd exec corp -- getent ahostsv6 www.corp.test) || fail "www.corp.test was not resolved in corp: $(cat "$LAB_DIR/dns.log")"
grep -q "^2001:db8:ff::80 " <<<"$answer" || fail "the answer: $answer"
address=$(system_run pvd show corp | awk '/Addresses:/ {print $2}')
[ -n "$address" ] || fail "corp has no address: $(system_run pvd show corp)"
grep -q "query www.corp.test type 28 from $address" "$LAB_DIR/dns.log" || fail "the query did not come from corp's address $address: $(cat "$LAB_DIR/dns.log")"

# resolved answers the host from the router's DNS server (a control: the
# name is known there), asked over the system bus with libdbus's dbus-send ...
system_run resolvectl dns eth0 2001:db8:1::53
lab_wait 10 system_host_autoconfigured || fail "the host did not autoconfigure: $(system_run ip -6 addr show dev eth0)"
ask_resolved=(dbus-send --system --print-reply --dest=org.freedesktop.resolve1 /org/freedesktop/resolve1
    org.freedesktop.resolve1.Manager.ResolveHostname int32:0 string:www.corp.test int32:10 uint64:0)
system_run "${ask_resolved[@]}" | lab_has "20 01 0d b8 00 ff 00 00 00 00 00 00 00 00 00 80" || fail "resolved does not answer the host: $(system_run "${ask_resolved[@]}" 2>&1)"
# ... but a program in the domain gets no answer from it: pvd exec gives it
# the system bus through xdg-dbus-proxy, without resolved; logind stays.
system_run pvd exec --quiet corp -- "${ask_resolved[@]}" >"$LAB_DIR/inside.log" 2>&1 &&
    fail "resolved answered a program in the domain: $(cat "$LAB_DIR/inside.log")"
grep -q "ServiceUnknown" "$LAB_DIR/inside.log" || fail "the refusal: $(cat "$LAB_DIR/inside.log")"
system_run pvd exec --quiet corp -- dbus-send --system --print-reply --dest=org.freedesktop.login1 /org/freedesktop/login1 \
    org.freedesktop.login1.Manager.ListSessions >/dev/null || fail "logind is not reachable inside the domain"
system_pvdd_idle 5
