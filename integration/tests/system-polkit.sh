# polkit with a real logind session on Debian 12 booted with systemd: alice,
# an administrator (group sudo), logged in on the active local session
# (pam_systemd registers it), changes domains after authenticating through a
# polkit agent; the same alice from outside any session (as ssh without a
# seat or a service would be) is refused though she is ready to
# authenticate; bob, who is no administrator, is refused in his own session
# when he types his own password (an administrator's is what polkit asks).
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
password=pvd-system-polkit
system_run sh -c "useradd --create-home --shell /bin/bash bob && echo alice:$password | chpasswd && echo bob:$password-bob | chpasswd"
system_run usermod -aG sudo alice
install -m 755 "$(dirname "$0")/../polkit_agent.py" "$SYSTEM_ROOT/var/tmp/polkit_agent.py"
add() { echo "pvd add $1 --uplink eth0 --address 2001:db8:1::$2 --router fe80::1"; }
# in_session USER CMD…: CMD as USER in a logind session of its own on seat0
# (PAMName=login; pam_systemd takes the seat from XDG_SEAT: a container has
# no VT to log in on), the active local session polkit's allow_active means.
in_session() {
    local user=$1
    shift
    system_run systemd-run --quiet --wait --pipe --uid="$user" -p PAMName=login -p Environment=XDG_SEAT=seat0 -- "$@"
}

in_session alice sh -c 'loginctl show-session "$XDG_SESSION_ID" -p Active -p Remote -p Seat' >"$LAB_DIR/session" 2>&1 ||
    fail "no logind session for alice: $(cat "$LAB_DIR/session")"
for property in Active=yes Remote=no Seat=seat0; do
    grep -qx "$property" "$LAB_DIR/session" || fail "alice's session is not $property: $(cat "$LAB_DIR/session")"
done

in_session alice python3 /var/tmp/polkit_agent.py "$password" $(add byalice 21) >"$LAB_DIR/alice.log" 2>&1 ||
    fail "alice in the active session was not allowed after authenticating: $(cat "$LAB_DIR/alice.log")"
grep -q "asked for a password" "$LAB_DIR/alice.log" || fail "alice was not asked to authenticate: $(cat "$LAB_DIR/alice.log")"
system_run pvd list | lab_has "^byalice " || fail "alice's domain is not there: $(system_run pvd list)"

system_run python3 /var/tmp/polkit_agent.py --user alice "$password" $(add outside 22) >"$LAB_DIR/outside.log" 2>&1 &&
    fail "alice outside any session added a domain: $(cat "$LAB_DIR/outside.log")"
grep -q "polkit did not authorize it" "$LAB_DIR/outside.log" || fail "alice outside a session: $(cat "$LAB_DIR/outside.log")"

in_session bob python3 /var/tmp/polkit_agent.py "$password-bob" $(add bybob 23) >"$LAB_DIR/bob.log" 2>&1 &&
    fail "bob, no administrator, added a domain: $(cat "$LAB_DIR/bob.log")"
grep -q "polkit did not authorize it" "$LAB_DIR/bob.log" || fail "bob's refusal: $(cat "$LAB_DIR/bob.log")"
lab_lacks "^(outside|bybob) " system_run pvd list || fail "a refused domain is there: $(system_run pvd list)"
system_pvdd_idle 5
