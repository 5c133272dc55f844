# systemd-resolved as the host's resolver on Debian 12 booted with systemd:
# /etc/resolv.conf is Debian's relative link to resolved's stub file
# (../run/systemd/resolve/stub-resolv.conf). `pvd exec` works; inside the
# domain resolv.conf names the domain's DNS server, never 127.0.0.53; a name
# is resolved by the domain's server, asked from the domain's own address.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_run systemctl enable --quiet --now systemd-resolved
system_run ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
system_run readlink /etc/resolv.conf | lab_has "^\.\./run/systemd/resolve/stub-resolv.conf$" || fail "resolv.conf: $(system_run ls -l /etc/resolv.conf)"
system_run grep -q "^nameserver 127.0.0.53" /etc/resolv.conf || fail "resolved's stub: $(system_run cat /etc/resolv.conf)"
system_announce --pvd-id corp.example.com --prefix 2001:db8:1::/64 --rdnss 2001:db8:1::53
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
system_pvdd_idle 5
