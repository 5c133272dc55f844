# The Ansible collection (contrib/ansible, module pvd.net.pvd_state) run by
# Debian's ansible-core against this machine, its pvdd in the test's
# namespaces: a first run reports changed, a second ok; check mode changes
# nothing and reports what would change; diff mode shows the declared
# state's lines; one entry goes with state: absent; confirm_within leaves
# a checkpoint that the next task confirms.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
command -v ansible-playbook >/dev/null || fail "ansible-playbook is missing: scripts/setup.sh installs ansible-core"

lab_pvdd_corp_for_nobody
export ANSIBLE_COLLECTIONS_PATH=$LAB_HERE/../contrib/ansible ANSIBLE_LOCAL_TEMP=$LAB_DIR/ansible-tmp \
    ANSIBLE_HOME=$LAB_DIR/ansible ANSIBLE_NOCOLOR=1 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
a=${P}a scratch=${P}scratch

# play NAME TASKS: a playbook against this machine, its tasks TASKS (YAML, indented 4).
play() {
    cat >"$LAB_DIR/$1.yml" <<YAML
- hosts: localhost
  connection: local
  gather_facts: false
  environment: {DBUS_SYSTEM_BUS_ADDRESS: "$DBUS_SYSTEM_BUS_ADDRESS"}
  tasks:
$2
YAML
}
# run NAME ARGS…: runs it (verbose: every task's result), output in NAME.out;
# its recap as "changed=N ok=N failed=N".
run() {
    local name=$1
    shift
    ansible-playbook -v -i localhost, "$@" "$LAB_DIR/$name.yml" >"$LAB_DIR/$name.out" 2>&1 || true
    local recap
    recap=$(sed -n 's/^localhost *: ok=\([0-9]*\) *changed=\([0-9]*\) .*failed=\([0-9]*\).*/changed=\2 ok=\1 failed=\3/p' "$LAB_DIR/$name.out")
    echo "${recap:-no recap: $(cat "$LAB_DIR/$name.out")}"
}

play site "    - pvd.net.pvd_state:
        pvd: $PVD
        declared:
          domains: [{name: $a, uplink: up0, addresses: ['2001:db8:1::101'], routers: ['fe80::11']}]
          namespaces: [$scratch]"
[ "$(run site)" = "changed=1 ok=1 failed=0" ] || fail "the first run: $(run site) $(cat "$LAB_DIR/site.out")"
ip netns list | lab_has "^pvd-$a\b" || fail "the first run made no domain $a"
[ -e "/run/netns/$scratch" ] || fail "the first run made no namespace $scratch"
[ "$(run site)" = "changed=0 ok=1 failed=0" ] || fail "the second run: $(cat "$LAB_DIR/site.out")"

# Check mode: what would change, and nothing changes; diff mode shows the lines.
play absent "    - pvd.net.pvd_state: {pvd: $PVD, name: $scratch, state: absent}"
before=$("$PVD" show --yaml)
[ "$(run absent --check)" = "changed=1 ok=1 failed=0" ] || fail "check mode: $(cat "$LAB_DIR/absent.out")"
[ "$("$PVD" show --yaml)" = "$before" ] || fail "check mode changed the state"
grep -q "remove namespace $scratch" "$LAB_DIR/absent.out" || fail "check mode's changes: $(cat "$LAB_DIR/absent.out")"
ansible-playbook -i localhost, --check --diff "$LAB_DIR/absent.yml" >"$LAB_DIR/diff.out" 2>&1 || fail "diff mode: $(cat "$LAB_DIR/diff.out")"
grep -q "^-namespaces: \[\"$scratch\"\]" "$LAB_DIR/diff.out" || fail "no diff shown: $(cat "$LAB_DIR/diff.out")"
grep -q "^+namespaces: \[\]" "$LAB_DIR/diff.out" || fail "no diff shown: $(cat "$LAB_DIR/diff.out")"
[ -e "/run/netns/$scratch" ] || fail "diff mode with check mode changed something"
[ "$(run absent)" = "changed=1 ok=1 failed=0" ] || fail "state: absent: $(cat "$LAB_DIR/absent.out")"
[ ! -e "/run/netns/$scratch" ] || fail "state: absent left $scratch"
ip netns list | lab_has "^pvd-$a\b" || fail "state: absent took $a too"

# confirm_within: a checkpoint left pending, confirmed by the next task.
play confirmed "    - pvd.net.pvd_state: {pvd: $PVD, name: $scratch, confirm_within: 60}
    - pvd.net.pvd_state: {pvd: $PVD, confirm: true}"
[ "$(run confirmed)" = "changed=2 ok=2 failed=0" ] || fail "confirm_within: $(cat "$LAB_DIR/confirmed.out")"
grep -q '"checkpoint": "/org/pvd1/checkpoint/' "$LAB_DIR/confirmed.out" || fail "no checkpoint returned: $(cat "$LAB_DIR/confirmed.out")"
lab_call ListCheckpoints | lab_has "^ao 0" || fail "the checkpoint was not confirmed: $(lab_call ListCheckpoints)"
[ -e "/run/netns/$scratch" ] || fail "confirm_within did not add $scratch"

# A bad state fails the task with pvd's reason.
play bad "    - pvd.net.pvd_state: {pvd: $PVD, name: ${P}b, domain: {uplink: up0, addresses: ['not-an-address']}}"
[ "$(run bad)" = "changed=0 ok=0 failed=1" ] || fail "a bad entry: $(cat "$LAB_DIR/bad.out")"
grep -q "not-an-address" "$LAB_DIR/bad.out" || fail "the failure does not say why: $(cat "$LAB_DIR/bad.out")"
echo "ok"
