# A pvdd that cannot start (a broken /etc/pvd/pvdd.yaml) ends `failed` after a
# bounded number of tries, with its reason in the journal, instead of
# restarting for ever; once the file is mended, `systemctl restart` starts it.
set -euo pipefail
. "$(dirname "$0")/../system.sh"

system_boot
system_install
system_unit_is pvdd active 10 || fail "pvdd is not active after the install: $(system_journal pvdd | tail -n 20)"
cp "$SYSTEM_ROOT/etc/pvd/pvdd.yaml" "$LAB_DIR/pvdd.yaml"
echo "grace-period: soon" >>"$SYSTEM_ROOT/etc/pvd/pvdd.yaml"
system_run systemctl restart pvdd 2>/dev/null || true
system_unit_is pvdd failed 30 || fail "pvdd is $(system_run systemctl is-active pvdd) 30 s after a broken configuration"
restarts=$(system_property pvdd NRestarts)
[ "$restarts" -ge 1 ] && [ "$restarts" -le 5 ] || fail "pvdd restarted $restarts times"
[ "$(system_property pvdd Result)" = start-limit-hit ] || [ "$(system_property pvdd Result)" = exit-code ] ||
    fail "pvdd ended with $(system_property pvdd Result)"
system_journal pvdd | lab_has "grace-period" || fail "the journal does not say what is wrong: $(system_journal pvdd | tail -n 20)"
failed() { system_unit_state_is pvdd failed; }
lab_wait 10 failed || fail "pvdd is $(system_property pvdd ActiveState), not failed"
[ "$(system_property pvdd NRestarts)" = "$restarts" ] || fail "pvdd kept restarting"
cp "$LAB_DIR/pvdd.yaml" "$SYSTEM_ROOT/etc/pvd/pvdd.yaml"
system_run systemctl reset-failed pvdd
system_run systemctl restart pvdd
system_unit_is pvdd active 10 || fail "pvdd did not start with its file mended: $(system_journal pvdd | tail -n 20)"
system_pvdd_idle 5
