# pvdd as systemd runs it: in a mount namespace of its own that only
# receives the host's mounts (the unit's ProtectSystem and friends). With
# --host-mount-namespace (the unit passes /proc/1/ns/mnt; here the test's
# own) the namespaces it makes are seen outside — `ip netns exec` works in
# a declared namespace — and pvdd --cleanup, sandboxed too, removes them
# there. Without it (the control) the name exists outside but is no
# network namespace: why the unit needs the option.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
lab_netns host
# pvdd in a new mount namespace, every mount a slave of this one (as
# systemd sets it up), in the test's host namespace (unshare and nsenter
# exec: the pid is pvdd's).
sandboxed=(unshare --mount --propagation slave nsenter --net="/run/netns/${LAB_PREFIX}host" "$PVDD")
printf 'uplinks: [lo]\nstate: %s\nnamespaces: [%s]\n' "$LAB_DIR/state.json" "${LAB_PREFIX}box" >"$LAB_DIR/pvdd.yaml"
LAB_PVDD_ARGS=(--config "$LAB_DIR/pvdd.yaml")
is_namespace() { ip netns exec "${LAB_PREFIX}box" true 2>/dev/null; }

# The control: no option, the namespace is mounted only in pvdd's own mount namespace.
"${sandboxed[@]}" --config "$LAB_DIR/pvdd.yaml" >"$LAB_DIR/control.log" 2>&1 &
pid=$!
# pvdd says it listens once its declared namespaces are made and mounted.
lab_wait 10 grep -q "listening on" "$LAB_DIR/control.log" || fail "pvdd did not start: $(cat "$LAB_DIR/control.log")"
[ -e "/run/netns/${LAB_PREFIX}box" ] || fail "pvdd made no namespace: $(cat "$LAB_DIR/control.log")"
! is_namespace || fail "the control: a sandboxed pvdd's namespace was seen outside without --host-mount-namespace"
kill -TERM "$pid"; wait "$pid" || true
"${sandboxed[@]}" --cleanup --config "$LAB_DIR/pvdd.yaml" >/dev/null 2>&1 || true
rm -f "/run/netns/${LAB_PREFIX}box"

# With the option, as the unit runs it.
"${sandboxed[@]}" --config "$LAB_DIR/pvdd.yaml" --host-mount-namespace "/proc/$$/ns/mnt" >"$LAB_DIR/pvdd.log" 2>&1 &
pid=$!
lab_wait 10 is_namespace || fail "the namespace is not seen outside: $(cat "$LAB_DIR/pvdd.log")"
[ "$(ip netns exec "${LAB_PREFIX}box" ip -o link show | awk -F': ' '{print $2}')" = lo ] || fail "the namespace outside is not pvdd's"
kill -TERM "$pid"
wait "$pid" || fail "pvdd did not stop cleanly: $(cat "$LAB_DIR/pvdd.log")"
is_namespace || fail "SIGTERM took the namespace away"
"${sandboxed[@]}" --cleanup --config "$LAB_DIR/pvdd.yaml" --host-mount-namespace "/proc/$$/ns/mnt" >"$LAB_DIR/cleanup.log" 2>&1 ||
    fail "pvdd --cleanup failed: $(cat "$LAB_DIR/cleanup.log")"
[ ! -e "/run/netns/${LAB_PREFIX}box" ] || fail "pvdd --cleanup left the namespace outside"
echo "a sandboxed pvdd's namespaces are the host's with --host-mount-namespace, its own only without"
