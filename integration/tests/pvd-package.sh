# The Debian package (scripts/package; scripts/test builds it first): its
# contents, its weight (no binary linking Foundation, FoundationEssentials or
# ICU; the .deb at most 10 MB, installed at most 30 MB), lintian clean (what it overrides is justified in
# debian/pvd.lintian-overrides), each manual page rendered by man without a
# warning, each shell's completion loaded; libpvd0, libpvd-dev and
# python3-pvd beside it, lintian clean too; then installed for real with
# dpkg — in a mount namespace of the test's own, where /usr, /etc and /var
# are overlays and /run a tmpfs, so nothing changes on the machine: pvd
# given cap_sys_admin, the unit verified and rated 4.0 or lower by
# systemd-analyze security, pvd handing over to /usr/libexec/pvd/pvd-cli,
# libpvd found by pkg-config and its example built, python3 importing pvd; an
# upgrade (the package installed again, pvdd restarted as systemd would)
# keeps a declared domain's namespace; remove runs pvdd --cleanup (the
# domain goes) and keeps the conffile; purge leaves no file of pvd's.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${PVD_PACKAGE_PRIVATE:-}" ]; then
    exec unshare --mount --propagation private env PVD_PACKAGE_PRIVATE=1 bash "$0" "$@"
fi
mount -t tmpfs tmpfs /run  # before lib.sh: its namespaces live in this /run
. "$(dirname "$0")/../lib.sh"
deb=$(ls "$repo"/.build/package/pvd_*_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no package: run scripts/package first (scripts/test does)"
version=$(dpkg-deb -f "$deb" Version)

# Contents.
dpkg-deb -c "$deb" | awk '{print $1, $6}' >"$LAB_DIR/contents"
for entry in "-rwxr-xr-x ./usr/bin/pvd" "-rwxr-xr-x ./usr/sbin/pvdd" "-rwxr-xr-x ./usr/libexec/pvd/pvd-cli" \
    "-rw-r--r-- ./etc/pvd/pvdd.yaml" "-rw-r--r-- ./lib/systemd/system/pvdd.service" \
    "-rw-r--r-- ./lib/systemd/system/pvd-announce@.service" "-rw-r--r-- ./lib/systemd/system/pvd-domain@.service" \
    "-rw-r--r-- ./usr/share/dbus-1/system.d/org.pvd1.conf" \
    "-rw-r--r-- ./usr/share/dbus-1/interfaces/org.pvd1.xml" "-rw-r--r-- ./usr/share/polkit-1/actions/org.pvd1.policy" \
    "-rw-r--r-- ./usr/lib/NetworkManager/conf.d/pvd.conf" "-rw-r--r-- ./usr/share/man/man1/pvd.1.gz" \
    "-rw-r--r-- ./usr/share/man/man8/pvdd.8.gz" "-rw-r--r-- ./usr/share/man/man5/pvdd.yaml.5.gz" \
    "-rw-r--r-- ./usr/share/man/man7/org.pvd1.7.gz" "-rw-r--r-- ./usr/share/bash-completion/completions/pvd" \
    "-rw-r--r-- ./usr/share/zsh/vendor-completions/_pvd" "-rw-r--r-- ./usr/share/fish/vendor_completions.d/pvd.fish" \
    "-rw-r--r-- ./usr/share/doc/pvd/copyright" "-rw-r--r-- ./usr/share/doc/pvd/labs/two-routers.yaml" \
    "-rw-r--r-- ./usr/lib/tmpfiles.d/pvd.conf" "-rw-r--r-- ./lib/udev/rules.d/86-pvd.rules" "-rw-r--r-- ./usr/lib/firewalld/zones/pvd.xml"; do
    grep -qxF -- "$entry" "$LAB_DIR/contents" || fail "the package lacks $entry: $(cat "$LAB_DIR/contents")"
done
ls "$repo"/.build/package/pvd-dbgsym_"$version"_*.deb >/dev/null || fail "no debug symbols package"
dpkg-deb -x "$deb" "$LAB_DIR/tree"
binaries=(usr/bin/pvd usr/sbin/pvdd usr/libexec/pvd/pvd-cli)
for binary in "${binaries[@]}"; do
    file "$LAB_DIR/tree/$binary" | lab_has ", stripped" || fail "$binary is not stripped: $(file "$LAB_DIR/tree/$binary")"
done
grep -c "^-rwx" "$LAB_DIR/contents" | lab_has "^${#binaries[@]}\$" || fail "programs in the package beyond ${binaries[*]}: $(grep "^-rwx" "$LAB_DIR/contents")"

# No Foundation, FoundationEssentials or ICU: neither loaded (the packaged
# programs' NEEDED libraries) nor linked in (their modules' symbols in the
# release build the package was made from, which still has its symbol table).
for binary in "${binaries[@]}"; do
    lab_lacks "[Ff]oundation|icu" readelf -d "$LAB_DIR/tree/$binary" || fail "$binary loads Foundation or ICU: $(readelf -d "$LAB_DIR/tree/$binary")"
    built=$repo/.build/release/$(basename "$binary")
    [ "$(nm "$built" | wc -l)" -gt 1000 ] || fail "$built has no symbol table to check"
    lab_lacks '\$s(10Foundation|20FoundationEssentials|31FoundationInternationalization)|_FoundationICU|\bu(cal|col|loc|text)_' nm "$built" \
        || fail "$built links Foundation or ICU: $(nm "$built" | grep -m 3 -E 'Foundation|_FoundationICU|\bu(cal|col|loc|text)_')"
done
# The package's weight (docs/design.md, "Small and fast"; benchmarks/size.txt).
deb_bytes=$(stat -c %s "$deb")
installed_kib=$(dpkg-deb -f "$deb" Installed-Size)
[ "$deb_bytes" -le $((10 * 1000 * 1000)) ] || fail "the .deb is $deb_bytes bytes, over 10 MB"
[ "$installed_kib" -le $((30 * 1000 * 1000 / 1024)) ] || fail "the package installs $installed_kib KiB, over 30 MB"
grep -q "access:" "$LAB_DIR/tree/etc/pvd/pvdd.yaml" || fail "pvdd.yaml has no access example"

# lintian: no error, no warning, for pvd and for libpvd's and the Python module's packages.
libraries=()
for package in libpvd0 libpvd-dev python3-pvd; do
    file=$(ls "$repo"/.build/package/"${package}_${version}"_*.deb 2>/dev/null | head -n 1)
    [ -n "$file" ] || fail "no $package package beside pvd's"
    libraries+=("$file")
done
for file in "$deb" "${libraries[@]}"; do
    lintian --fail-on error,warning "$file" >"$LAB_DIR/lintian" 2>&1 || fail "lintian $(basename "$file"): $(cat "$LAB_DIR/lintian")"
done

# Manual pages and completions.
for page in man1/pvd.1 man8/pvdd.8 man5/pvdd.yaml.5 man7/org.pvd1.7; do
    warnings=$(MANWIDTH=80 man --warnings -l "$LAB_DIR/tree/usr/share/man/$page.gz" 2>&1 >"$LAB_DIR/page") || fail "man -l $page failed: $warnings"
    [ -z "$warnings" ] || fail "man -l $page warns: $warnings"
    [ "$(wc -l <"$LAB_DIR/page")" -gt 20 ] || fail "$page is nearly empty: $(cat "$LAB_DIR/page")"
done
man -l "$LAB_DIR/tree/usr/share/man/man5/pvdd.yaml.5.gz" 2>/dev/null | lab_has "additional-information" || fail "pvdd.yaml(5) lacks a key"
bash -c ". '$LAB_DIR/tree/usr/share/bash-completion/completions/pvd' && complete -p pvd" >/dev/null || fail "the bash completion does not load"
zsh -f -c "autoload -Uz compinit && compinit -u -d '$LAB_DIR/zcompdump' && source '$LAB_DIR/tree/usr/share/zsh/vendor-completions/_pvd' && (( \$+functions[_pvd] ))" ||
    fail "the zsh completion does not load"
fish -c "source '$LAB_DIR/tree/usr/share/fish/vendor_completions.d/pvd.fish'; complete -C 'pvd lis'" | lab_has "^list" ||
    fail "the fish completion does not complete pvd lis: $(fish -c "source '$LAB_DIR/tree/usr/share/fish/vendor_completions.d/pvd.fish'; complete -C 'pvd lis'")"

# Installed for real, on overlays: what dpkg and the maintainer scripts change stays in $LAB_DIR.
for dir in usr etc var; do
    mkdir -p "$LAB_DIR/upper/$dir" "$LAB_DIR/work/$dir"
    mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$LAB_DIR/upper/$dir,workdir=$LAB_DIR/work/$dir" "/$dir"
done
lab_netns host
lab_netns lan
lab_link host up0 lan lhost
in_host() { nsenter --net="/run/netns/${LAB_PREFIX}host" "$@"; }
in_host dpkg -i "$deb" >"$LAB_DIR/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$LAB_DIR/dpkg.log")"
getcap /usr/bin/pvd | lab_has "cap_sys_admin=ep" || fail "pvd has no file capability: $(getcap /usr/bin/pvd)"
[ "$(pvd --version)" = "$version" ] && [ "$(pvdd --version)" = "$version" ] || fail "--version is not the package's $version"
out=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent pvd list 2>&1) && fail "pvd list without pvdd succeeded: $out"
grep -q "pvdd is not running\|system bus" <<<"$out" || fail "pvd did not hand over to pvd-cli: $out"
dpkg-query -W -f='${Conffiles}\n' pvd | lab_has "/etc/pvd/pvdd.yaml" || fail "pvdd.yaml is not a conffile"
# libpvd for programs: pkg-config finds it, its example builds against it, Python imports the module.
in_host dpkg -i "${libraries[@]}" >"$LAB_DIR/dpkg.log" 2>&1 || fail "dpkg -i libpvd: $(cat "$LAB_DIR/dpkg.log")"
pkg-config --libs libpvd | lab_has -- "-lpvd" || fail "pkg-config does not know libpvd: $(pkg-config --libs libpvd 2>&1)"
cc -o "$LAB_DIR/pvd-race" /usr/share/doc/libpvd-dev/examples/pvd-race.c $(pkg-config --cflags --libs libpvd) 2>"$LAB_DIR/cc.log" ||
    fail "the example does not build against the package: $(cat "$LAB_DIR/cc.log")"
out=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent "$LAB_DIR/pvd-race" www.example.org 80 2>&1) && fail "pvd-race without a bus succeeded: $out"
grep -q "system bus" <<<"$out" || fail "pvd-race without a bus: $out"
/usr/bin/python3 -c 'import pvd; print(pvd.socket.__doc__)' | lab_has "inside" || fail "python3 does not import the pvd module"
systemd-analyze verify /lib/systemd/system/pvdd.service >"$LAB_DIR/verify" 2>&1 && [ ! -s "$LAB_DIR/verify" ] ||
    fail "systemd-analyze verify pvdd.service: $(cat "$LAB_DIR/verify")"
exposure=$(systemd-analyze security --offline=true /lib/systemd/system/pvdd.service 2>/dev/null | sed -nE 's/.*Overall exposure level for pvdd.service: ([0-9.]+).*/\1/p')
echo "systemd-analyze security: pvdd.service exposure $exposure" >&2
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 4.0) }' || fail "pvdd.service's exposure is ${exposure:-unknown}, over 4.0"

# An upgrade keeps the domains: pvdd from the package, with a declared namespace.
cat >>/etc/pvd/pvdd.yaml <<CONF
uplinks: [up0]
namespaces: [${LAB_PREFIX}keep]
CONF
sed -i -E '/^(uplinks|namespaces): \[\]$/d' /etc/pvd/pvdd.yaml
nsenter --net="/run/netns/${LAB_PREFIX}host" /usr/sbin/pvdd >"$LAB_DIR/pvdd.log" 2>&1 &
pvdd=$!
lab_wait 10 test -e "/run/netns/${LAB_PREFIX}keep" || fail "pvdd did not make the declared namespace: $(cat "$LAB_DIR/pvdd.log")"
inode=$(stat -L -c %i "/run/netns/${LAB_PREFIX}keep")
in_host dpkg -i --force-confold "$deb" >"$LAB_DIR/dpkg.log" 2>&1 || fail "the upgrade: $(cat "$LAB_DIR/dpkg.log")"
kill -TERM "$pvdd"; wait "$pvdd" || fail "pvdd did not stop cleanly: $(cat "$LAB_DIR/pvdd.log")"
nsenter --net="/run/netns/${LAB_PREFIX}host" /usr/sbin/pvdd >>"$LAB_DIR/pvdd.log" 2>&1 &
pvdd=$!
restarted() { [ "$(grep -c "listening on up0" "$LAB_DIR/pvdd.log")" -eq 2 ]; }
lab_wait 10 restarted || fail "pvdd did not start again: $(cat "$LAB_DIR/pvdd.log")"
[ "$(stat -L -c %i "/run/netns/${LAB_PREFIX}keep")" = "$inode" ] || fail "the upgrade and restart replaced the namespace"
kill -TERM "$pvdd"; wait "$pvdd" || fail "pvdd did not stop cleanly"
getcap /usr/bin/pvd | lab_has "cap_sys_admin=ep" || fail "the upgrade lost pvd's file capability"

# Remove: pvdd --cleanup takes the domain; the conffile stays. Purge: nothing of pvd's is left.
in_host dpkg -r pvd >"$LAB_DIR/dpkg.log" 2>&1 || fail "dpkg -r: $(cat "$LAB_DIR/dpkg.log")"
[ ! -e "/run/netns/${LAB_PREFIX}keep" ] || fail "dpkg -r left the domain's namespace"
[ ! -e /usr/sbin/pvdd ] && [ -e /etc/pvd/pvdd.yaml ] || fail "dpkg -r: pvdd left, or the conffile gone"
in_host dpkg -P pvd python3-pvd libpvd-dev libpvd0 >"$LAB_DIR/dpkg.log" 2>&1 || fail "dpkg -P: $(cat "$LAB_DIR/dpkg.log")"
# (man-db's cache of formatted pages, made when systemd-analyze verify read them, is man's.)
left=$(cd "$LAB_DIR/upper" && find . \( -name '*pvd*' -o -path '*/pvd/*' \) -not -path './var/cache/man/*')
[ -z "$left" ] || fail "purge left: $left"
[ ! -e /run/pvd ] || fail "purge left /run/pvd: $(ls -R /run/pvd)"
echo "package $version: contents, lintian, man, completions, install, libpvd and python3-pvd, upgrade, remove, purge"
