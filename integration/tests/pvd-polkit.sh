# polkit authorizes the org.pvd1 methods that change domains
# (org.pvd1.manage-domains, scripts/system/org.pvd1.policy), against Debian's
# real polkitd on the test's private bus. The test runs in a mount namespace
# of its own, where /etc/passwd, group and shadow have two more users —
# pvdtadm, an administrator (group sudo, polkit's admin rule on Debian) with
# a password, and pvdtusr, who is not — and polkit's actions directory has
# pvd's action: nothing changes on the machine. Root is allowed without
# polkit; pvdtusr is refused (the answer names the action); pvdtadm is
# refused without an agent, and with one (pkttyagent, given the password on
# its terminal) too, for there is no active logind session here; a
# read-only method needs no authorization; pvd exec stays with the access
# section.
set -euo pipefail
if [ -z "${PVD_POLKIT_PRIVATE:-}" ]; then
    exec unshare --mount --propagation private env PVD_POLKIT_PRIVATE=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
polkitd=/usr/lib/polkit-1/polkitd
[ -x "$polkitd" ] && command -v pkttyagent >/dev/null || fail "polkitd and pkttyagent are missing: scripts/setup.sh installs polkitd"
policy=$(cd "$(dirname "$0")/../.." && pwd)/scripts/system/org.pvd1.policy

# The test's users, in this mount namespace only.
password=pvd-polkit-test
hash=$(openssl passwd -6 "$password")
for file in passwd group shadow; do cp "/etc/$file" "$LAB_DIR/$file"; done
echo "pvdtadm:x:64010:64010:pvd test admin:/nonexistent:/bin/sh" >>"$LAB_DIR/passwd"
echo "pvdtusr:x:64011:64011:pvd test user:/nonexistent:/bin/sh" >>"$LAB_DIR/passwd"
printf 'pvdtadm:x:64010:\npvdtusr:x:64011:\n' >>"$LAB_DIR/group"
sed -i -E 's/^(sudo:x:27:)(.*)$/\1\2,pvdtadm/; s/^(sudo:x:27:),/\1/' "$LAB_DIR/group"
printf 'pvdtadm:%s:19000:0:99999:7:::\npvdtusr:!:19000:0:99999:7:::\n' "$hash" >>"$LAB_DIR/shadow"
chmod 640 "$LAB_DIR/shadow"
for file in passwd group shadow; do mount --bind "$LAB_DIR/$file" "/etc/$file"; done
getent group sudo | lab_has pvdtadm || fail "pvdtadm is not in group sudo: $(getent group sudo)"
mkdir "$LAB_DIR/actions"
cp /usr/share/polkit-1/actions/* "$policy" "$LAB_DIR/actions/"
mount --bind "$LAB_DIR/actions" /usr/share/polkit-1/actions
# Unprivileged clients use the fixed system bus socket: here it is the test's.
mount -t tmpfs tmpfs /run/dbus 2>/dev/null || { mkdir -p /run/dbus && mount -t tmpfs tmpfs /run/dbus; }
touch /run/dbus/system_bus_socket

LAB_BUS_INCLUDES=/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf
lab_dbus
mount --bind "$LAB_DIR/bus.socket" /run/dbus/system_bus_socket
"$polkitd" >"$LAB_DIR/polkitd.log" 2>&1 &  # it becomes the user polkitd itself
LAB_PIDS+=("$!")
polkit_up() { busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1; }
lab_wait 10 polkit_up || fail "polkitd did not start: $(cat "$LAB_DIR/polkitd.log")"

lab_netns host
lab_netns lan
lab_link host up0 lan lhost
lab_pvdd "$LAB_DIR/pvdd.log" up0 --uplink up0
as() { local user=$1; shift; setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"; }
add() { echo "add $1 --uplink up0 --address 2001:db8:9::$2 --router fe80::1"; }

# Root: no polkit involved.
"$PVD" $(add byroot 5) >/dev/null || fail "root could not add a domain"

# pvdtusr: refused, by polkit.
out=$(as pvdtusr "$PVD" $(add byuser 6) 2>&1) && fail "pvdtusr added a domain: $out"
grep -q "org.pvd1.manage-domains" <<<"$out" || fail "pvdtusr's refusal does not name the action: $out"
grep -q "polkit did not authorize it" <<<"$out" || fail "pvdtusr was not refused by polkit: $out"

# A read-only method needs no authorization.
as pvdtusr "$PVD" list >/dev/null || fail "pvdtusr could not list the domains"

# pvdtadm without an agent: polkit cannot ask, so no.
out=$(as pvdtadm "$PVD" $(add noagent 7) 2>&1) && fail "pvdtadm added a domain without authenticating: $out"
grep -q "polkit did not authorize it" <<<"$out" || fail "pvdtadm without an agent: $out"

# pvdtadm with a polkit agent on a terminal, ready with the password: still
# refused, for no logind session is active here (system-polkit shows an
# administrator of the active local session allowed after authenticating).
out=$(/usr/bin/python3 "$(dirname "$0")/../polkit_agent.py" --user pvdtadm "$password" "$PVD" $(add byadmin 8) 2>&1) &&
    fail "pvdtadm outside an active session added a domain: $out"
grep -q "polkit did not authorize it" <<<"$out" || fail "pvdtadm outside an active session: $out"
lab_lacks "^(byuser|noagent|byadmin) " "$PVD" list || fail "a refused domain is there: $("$PVD" list)"
"$PVD" remove byroot >/dev/null
lab_pvdd_stop "$LAB_LAST_PID"
echo "root allowed; pvdtusr refused; pvdtadm refused without an agent, and with one outside an active session"
