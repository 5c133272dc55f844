# A staged candidate: three changes made over three calls (pvd stage FILE,
# pvd stage add, pvd stage remove) change nothing until pvd commit applies
# them as one transaction; a candidate with one change the kernel refuses
# (an uplink that does not exist) leaves nothing applied, the others undone;
# a candidate made against a declared state that changed since is refused
# with what changed.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

lab_pvdd_corp_for_nobody
a=${P}a b=${P}b c=${P}c
cat >"$LAB_DIR/c.yaml" <<YAML
domains:
  - {name: "$c", uplink: up0, addresses: ["2001:db8:1::103"], routers: ["fe80::11"]}
YAML
"$PVD" apply "$LAB_DIR/c.yaml" >/dev/null
before_kernel=$(lab_kernel_domains)

cat >"$LAB_DIR/a.yaml" <<YAML
domains:
  - {name: "$a", uplink: up0, addresses: ["2001:db8:1::101"], routers: ["fe80::11"]}
YAML
"$PVD" stage "$LAB_DIR/a.yaml" | lab_has "add domain $a" || fail "pvd stage FILE"
"$PVD" stage add "$b" --uplink up0 --address 2001:db8:2::102 --router fe80::12 | lab_has "add domain $b" || fail "pvd stage add"
"$PVD" stage remove "$c" >"$LAB_DIR/staged.out" || fail "pvd stage remove: $(cat "$LAB_DIR/staged.out")"
[ "$(grep -c '^  ' "$LAB_DIR/staged.out")" = 3 ] || fail "the candidate's changes: $(cat "$LAB_DIR/staged.out")"
[ "$(lab_kernel_domains)" = "$before_kernel" ] || fail "staging changed the kernel: $(lab_kernel_domains)"
"$PVD" stage show | lab_has "^# pvd commit would: remove domain $c; add domain $a; add domain $b" || fail "pvd stage show: $("$PVD" stage show)"
"$PVD" stage show --diff | lab_has "^+   - name: \"$b\"" || fail "pvd stage show --diff: $("$PVD" stage show --diff)"
"$PVD" stage show --diff | lab_has "^-   - name: \"$c\"" || fail "pvd stage show --diff: $("$PVD" stage show --diff)"
lab_as_nobody "$PVD" stage remove "$a" >"$LAB_DIR/nobody.out" 2>&1 && fail "nobody staged"
lab_has "only root" <"$LAB_DIR/nobody.out" || fail "nobody may not stage: $(cat "$LAB_DIR/nobody.out")"

marks=$(grep -c "state: " "$LAB_DIR/pvdd.log" || true)
"$PVD" commit >"$LAB_DIR/commit.out" || fail "pvd commit: $(cat "$LAB_DIR/commit.out")"
[ "$(cat "$LAB_DIR/commit.out")" = "$(printf 'remove domain %s\nadd domain %s\nadd domain %s' "$c" "$a" "$b")" ] \
    || fail "pvd commit's changes: $(cat "$LAB_DIR/commit.out")"
[ "$(grep -c "state: " "$LAB_DIR/pvdd.log")" = $((marks + 3)) ] || fail "pvdd's log of the commit: $(cat "$LAB_DIR/pvdd.log")"
for name in "$a" "$b"; do ip netns list | lab_has "^pvd-$name\b" || fail "$name was not made"; done
lab_lacks "^pvd-$c\b" ip netns list || fail "$c was not removed"
if "$PVD" stage show >/dev/null 2>&1; then fail "the candidate outlived its commit"; fi

# One change the kernel refuses: nothing of the candidate stays.
after_commit=$("$PVD" show --yaml)
kernel=$(lab_kernel_domains)
"$PVD" stage remove "$a" >/dev/null
"$PVD" stage add "$c" --uplink up0 --address 2001:db8:1::103 --router fe80::11 >/dev/null
"$PVD" stage add "${P}d" --uplink nosuch0 --address 2001:db8:1::104 --router fe80::11 >/dev/null
if "$PVD" commit >"$LAB_DIR/refused.out" 2>&1; then fail "a commit with an uplink that does not exist went through"; fi
lab_has "nosuch0" <"$LAB_DIR/refused.out" || fail "the refusal does not say why: $(cat "$LAB_DIR/refused.out")"
[ "$("$PVD" show --yaml)" = "$after_commit" ] || fail "the declared state after a refused commit: $("$PVD" show --yaml)"
[ "$(lab_kernel_domains)" = "$kernel" ] || fail "the kernel after a refused commit: $(lab_kernel_domains), was $kernel"
"$PVD" stage discard | lab_has "discarded" || fail "pvd stage discard"

# A candidate made before another change is refused, naming that change.
"$PVD" stage remove "$b" >/dev/null
"$PVD" apply "$LAB_DIR/c.yaml" >/dev/null
if "$PVD" commit >"$LAB_DIR/stale.out" 2>&1; then fail "a stale candidate was committed"; fi
lab_has "changed since the candidate was made (.*add domain $c" <"$LAB_DIR/stale.out" || fail "the stale refusal: $(cat "$LAB_DIR/stale.out")"
ip netns list | lab_has "^pvd-$c\b" || fail "the stale commit changed something"
echo "ok"
