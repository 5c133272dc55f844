# pvd exec composes with sandboxes and containers (docs/services.md): a
# user's bubblewrap sandbox inside `pvd exec`, `pvd exec` inside a bubblewrap
# sandbox (root), a podman container in the domain's namespace by path with
# the domain's resolv.conf, and podman started by `pvd exec` with the
# namespace it is in. Each fetches a URL by a name only corp's DNS server
# knows: the query reaches corp's server from corp's address, the request
# the server from corp's address, and captures on both routers' server
# links show corp's traffic only behind corp's router (r2), none behind the
# other domain's (r1). The container image is made here from Debian's
# busybox-static (no registry is reachable from these machines).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for tool in bwrap podman busybox tcpdump; do command -v "$tool" >/dev/null || fail "$tool is missing: scripts/setup.sh installs it"; done

lab_pvdd_corp_for_nobody
lab_bg r2 "$LAB_DIR/dns.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:2::53 "*.corp.test" 2001:db8:ff::1
lab_wait 10 grep -q listening "$LAB_DIR/dns.log" || fail "the DNS responder did not start: $(cat "$LAB_DIR/dns.log")"
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:2::/64 2001:db8:2::53 --no-http
lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 other.example.com 1 2001:db8:1::/64 2001:db8:1::53 --no-http
addressed() { "$PVD" show corp | awk '/Addresses:/ {print $2}' | lab_has "^2001:db8:2:"; }
lab_wait 10 addressed || fail "corp has no address: $("$PVD" show corp 2>&1)"
address=$("$PVD" show corp | awk '/Addresses:/ {print $2}')
lab_bg server "$LAB_DIR/http.log" /usr/bin/python3 -u -m http.server --bind 2001:db8:ff::1 --directory "$LAB_DIR" 8080
lab_wait 10 lab_in r2 bash -c 'exec 3<>/dev/tcp/2001:db8:ff::1/8080' || fail "the web server did not start: $(cat "$LAB_DIR/http.log")"
echo served >"$LAB_DIR/page"
chmod a+r "$LAB_DIR/page"
lab_capture r1 srv0 "$LAB_DIR/r1.pcap" "tcp port 8080"
capture_r1=$LAB_LAST_PID
lab_capture r2 srv0 "$LAB_DIR/r2.pcap" "tcp port 8080"
capture_r2=$LAB_LAST_PID
caps=$LAB_DIR/pvd
cp "$PVD" "$caps" && setcap cap_sys_admin+ep "$caps"

# fetched_through_corp PATH: the request for PATH came from corp's address,
# after corp's DNS server was asked from there.
fetched_through_corp() {
    grep -q "^$address .*GET /$1" "$LAB_DIR/http.log" || fail "$1: no request from corp's address $address: $(cat "$LAB_DIR/http.log")"
    ! grep "GET /$1" "$LAB_DIR/http.log" | grep -qv "^$address " || fail "$1: a request from elsewhere: $(cat "$LAB_DIR/http.log")"
}
queries_before=$(grep -c "query www.corp.test type 28 from $address" "$LAB_DIR/dns.log" || true)
asked_again() {
    local now
    now=$(grep -c "query www.corp.test type 28 from $address" "$LAB_DIR/dns.log" || true)
    [ "$now" -gt "$queries_before" ] || fail "$1: corp's DNS server was not asked from $address: $(cat "$LAB_DIR/dns.log")"
    queries_before=$now
}

# bubblewrap inside pvd exec, as a user the access section allows.
sandbox=(bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-pid --unshare-ipc --die-with-parent --)
lab_as_nobody "$caps" exec --quiet corp -- "${sandbox[@]}" curl -sgf "http://www.corp.test:8080/page?bwrap-inside" | lab_has "^served$" ||
    fail "bwrap inside pvd exec: $(lab_as_nobody "$caps" exec --quiet corp -- "${sandbox[@]}" curl -sgv "http://www.corp.test:8080/page" 2>&1)"
fetched_through_corp "page?bwrap-inside"
asked_again bwrap-inside

# pvd exec inside bubblewrap, as root (whom bwrap leaves its capabilities).
bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid --die-with-parent -- \
    "$PVD" exec --quiet corp -- curl -sgf "http://www.corp.test:8080/page?bwrap-outside" | lab_has "^served$" || fail "pvd exec inside bwrap"
fetched_through_corp "page?bwrap-outside"
asked_again bwrap-outside

# podman: an image of busybox, made here.
mkdir -p "$LAB_DIR/rootfs/bin" "$LAB_DIR/rootfs/etc"
cp "$(command -v busybox)" "$LAB_DIR/rootfs/bin/busybox"
for applet in sh wget nslookup cat; do ln -s busybox "$LAB_DIR/rootfs/bin/$applet"; done
tar -C "$LAB_DIR/rootfs" -cf "$LAB_DIR/rootfs.tar" .
image=localhost/${LAB_PREFIX}busybox
trap 'podman rmi --force "$image" >/dev/null 2>&1; lab_cleanup' EXIT
podman import --quiet "$LAB_DIR/rootfs.tar" "$image" >/dev/null || fail "podman import"
# Options for this machine: runc (crun refuses a hybrid cgroup hierarchy),
# limits no higher than podman's own (it lowers its process limit to 32768).
podman_run=(podman run --rm --runtime runc --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768)
namespace=pvd-corp.example.com
"${podman_run[@]}" --network "ns:/run/netns/$namespace" -v "/etc/netns/$namespace/resolv.conf:/etc/resolv.conf:ro" "$image" \
    wget -q -O - "http://www.corp.test:8080/page?podman-ns" | lab_has "^served$" || fail "podman in corp's namespace by path"
fetched_through_corp "page?podman-ns"
asked_again podman-ns
"$PVD" exec --quiet corp -- "${podman_run[@]}" --network host "$image" cat /etc/resolv.conf | lab_has -x "nameserver 2001:db8:2::53" ||
    fail "podman started by pvd exec does not have corp's resolv.conf"
"$PVD" exec --quiet corp -- "${podman_run[@]}" --network host "$image" wget -q -O - "http://www.corp.test:8080/page?podman-exec" |
    lab_has "^served$" || fail "podman started by pvd exec"
fetched_through_corp "page?podman-exec"
asked_again podman-exec

lab_capture_stop "$capture_r1"
lab_capture_stop "$capture_r2"
lab_pcap_has "$LAB_DIR/r2.pcap" "tcp port 8080 and src $address" || fail "no packet of corp's behind r2"
lab_no_packets "$LAB_DIR/r1.pcap" "corp's traffic behind the other domain's router r1"
