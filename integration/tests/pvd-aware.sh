# PvD-aware applications (docs/pvd-aware.md): an unprivileged program opens
# TCP and UDP sockets in two domains at once through libpvd (C) and through
# the Python module, and a client written against IPv6-mPvD's calls
# (pvd_get_pvd_list_sync, pvd_get_attributes_sync, sock_bind_to_pvd) builds
# and works; each connection's packets leave through its own
# domain's uplink and router (captures behind both routers), and the server
# sees each from its domain's address. ResolveName answers from each
# domain's own DNS server (seen there, from the domain's address), a name
# only corp's server knows included; a user the access section does not
# allow is refused, a caller over its budget is told to slow down, and
# `pvd ps` counts what a running program got; a domain coming is told to a
# monitor (pvd.Monitor over pvd_monitor_next); a DNS server that does not
# answer fails the call in time without holding pvdd. Then 10,000 OpenSocket calls
# leave pvdd's descriptors and memory where they were. `pvd connect` pipes
# through a domain; pvd-race (happy eyeballs across domains) keeps the
# first that answers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for tool in cc make pkg-config tcpdump; do command -v "$tool" >/dev/null || fail "$tool is missing: scripts/setup.sh installs it"; done

lab_pvdd_corp_for_nobody other.example.com
pvdd=$LAB_PVDD
lab_bg r2 "$LAB_DIR/dns-corp.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:2::53 "*.corp.test" 2001:db8:ff::1 www.both.test 2001:db8:ff::1
lab_bg r1 "$LAB_DIR/dns-other.log" /usr/bin/python3 "$LAB_HERE/dns_responder.py" 2001:db8:1::53 "*.other.test" 2001:db8:ff::1 www.both.test 2001:db8:ff::1
dns_other=$LAB_LAST_PID
lab_wait 10 grep -q listening "$LAB_DIR/dns-corp.log" || fail "corp's DNS responder did not start: $(cat "$LAB_DIR/dns-corp.log")"
lab_wait 10 grep -q listening "$LAB_DIR/dns-other.log" || fail "other's DNS responder did not start: $(cat "$LAB_DIR/dns-other.log")"
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:2::/64 2001:db8:2::53 --no-http
lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 other.example.com 1 2001:db8:1::/64 2001:db8:1::53 --no-http
address_of() { "$PVD" show "$1" | awk '/Addresses:/ {print $2}'; }
addressed() { address_of corp | lab_has "^2001:db8:2:" && address_of other | lab_has "^2001:db8:1:"; }
lab_wait 10 addressed || fail "the domains have no addresses: $("$PVD" list 2>&1)"
corp=$(address_of corp)
other=$(address_of other)

# The server behind both routers: HTTP on 8080, UDP datagrams logged from 9090.
lab_bg server "$LAB_DIR/http.log" /usr/bin/python3 -u -m http.server --bind 2001:db8:ff::1 --directory "$LAB_DIR" 8080
lab_bg server "$LAB_DIR/udp.log" /usr/bin/python3 -u -c 'import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:ff::1", 9090))
print("listening", flush=True)
while True:
    data, peer = s.recvfrom(512)
    print(peer[0], data.decode(errors="replace"), flush=True)'
lab_wait 10 grep -q listening "$LAB_DIR/udp.log" || fail "the UDP logger did not start"
lab_wait 10 lab_in r2 bash -c 'exec 3<>/dev/tcp/2001:db8:ff::1/8080' || fail "the web server did not start: $(cat "$LAB_DIR/http.log")"
for client in c py m; do
    for domain in corp.example.com other.example.com; do echo served >"$LAB_DIR/$client-$domain"; done
done
chmod a+r "$LAB_DIR"/c-* "$LAB_DIR"/py-* "$LAB_DIR"/m-*

# libpvd, its example and the test's C client, built from the tree.
make -s -C "$LAB_HERE/../contrib/libpvd" BUILD="$LAB_DIR/libpvd" >"$LAB_DIR/make.log" 2>&1 || fail "libpvd does not build: $(cat "$LAB_DIR/make.log")"
for client in pvd_aware_client mpvd_client; do
    cc -Wall -Werror -I "$LAB_HERE/../contrib/libpvd" -o "$LAB_DIR/$client" "$LAB_HERE/$client.c" -L "$LAB_DIR/libpvd" -lpvd ||
        fail "$client does not build"
done
mv "$LAB_DIR/pvd_aware_client" "$LAB_DIR/client"
chmod -R a+rX "$LAB_DIR/libpvd" "$LAB_DIR/client" "$LAB_DIR/mpvd_client"
export LD_LIBRARY_PATH=$LAB_DIR/libpvd PYTHONPATH=$LAB_HERE/../contrib/python
as_user() { local user=$1; shift; unshare --mount --propagation private sh -c '
        mount -t tmpfs tmpfs /run && mkdir /run/dbus && touch /run/dbus/system_bus_socket &&
        mount --bind "$0" /run/dbus/system_bus_socket && user=$1 && shift &&
        exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- env LD_LIBRARY_PATH="$LD_LIBRARY_PATH" PYTHONPATH="$PYTHONPATH" "$@"' \
        "$LAB_DIR/bus.socket" "$user" "$@"; }

lab_capture r1 srv0 "$LAB_DIR/r1.pcap" "tcp port 8080 or udp port 9090"
capture_r1=$LAB_LAST_PID
lab_capture r2 srv0 "$LAB_DIR/r2.pcap" "tcp port 8080 or udp port 9090"
capture_r2=$LAB_LAST_PID

# Both domains at once, as nobody: C, then Python.
as_user nobody "$LAB_DIR/client" www.both.test 8080 9090 corp.example.com other.example.com >"$LAB_DIR/c.out" 2>&1 ||
    fail "the C client: $(cat "$LAB_DIR/c.out")"
as_user nobody /usr/bin/python3 "$LAB_HERE/pvd_aware_client.py" www.both.test 8080 9090 corp.example.com other.example.com \
    >"$LAB_DIR/py.out" 2>&1 || fail "the Python client: $(cat "$LAB_DIR/py.out")"
# IPv6-mPvD's calls: the list, the attributes, sock_bind_to_pvd.
as_user nobody "$LAB_DIR/mpvd_client" 2001:db8:ff::1 8080 >"$LAB_DIR/m.out" 2>&1 || fail "the IPv6-mPvD client: $(cat "$LAB_DIR/m.out")"
grep -q '^corp.example.com attributes {"name":"corp.example.com","kind":"explicit","pvdId":"corp.example.com",' "$LAB_DIR/m.out" ||
    fail "pvd_get_attributes_sync: $(cat "$LAB_DIR/m.out")"
grep -qx 'other.example.com rdnss \["2001:db8:1::53"\]' "$LAB_DIR/m.out" || fail "pvd_get_attribute_sync: $(cat "$LAB_DIR/m.out")"
for client in c py m; do
    [ "$(grep -c "tcp answered\|fetched 200" "$LAB_DIR/$client.out")" -eq 2 ] || fail "$client: $(cat "$LAB_DIR/$client.out")"
    grep -q "^$corp .*GET /$client-corp.example.com" "$LAB_DIR/http.log" || fail "$client: no request from corp's $corp: $(cat "$LAB_DIR/http.log")"
    grep -q "^$other .*GET /$client-other.example.com" "$LAB_DIR/http.log" || fail "$client: no request from other's $other: $(cat "$LAB_DIR/http.log")"
    [ "$client" = m ] && continue  # TCP only
    lab_wait 5 grep -qx "$corp $client-corp.example.com" "$LAB_DIR/udp.log" || fail "$client: no datagram from corp's $corp: $(cat "$LAB_DIR/udp.log")"
    lab_wait 5 grep -qx "$other $client-other.example.com" "$LAB_DIR/udp.log" || fail "$client: no datagram from other's $other: $(cat "$LAB_DIR/udp.log")"
done
lab_capture_stop "$capture_r1"
lab_capture_stop "$capture_r2"
# Each domain's packets behind its own router only.
lab_pcap_has "$LAB_DIR/r2.pcap" "src host $corp and tcp" || fail "no TCP from corp behind corp's router"
lab_pcap_has "$LAB_DIR/r2.pcap" "src host $corp and udp" || fail "no UDP from corp behind corp's router"
lab_pcap_has "$LAB_DIR/r1.pcap" "src host $other and tcp" || fail "no TCP from other behind other's router"
lab_pcap_has "$LAB_DIR/r1.pcap" "src host $other and udp" || fail "no UDP from other behind other's router"
! lab_pcap_has "$LAB_DIR/r1.pcap" "host $corp" || fail "corp's packets went out behind other's router"
! lab_pcap_has "$LAB_DIR/r2.pcap" "host $other" || fail "other's packets went out behind corp's router"

# ResolveName: each domain's own server, from the domain's address.
grep -q "query www.both.test type 28 from $corp" "$LAB_DIR/dns-corp.log" || fail "corp's server was not asked from $corp: $(cat "$LAB_DIR/dns-corp.log")"
grep -q "query www.both.test type 28 from $other" "$LAB_DIR/dns-other.log" || fail "other's server was not asked from $other: $(cat "$LAB_DIR/dns-other.log")"
lab_file_lacks "$LAB_DIR/dns-corp.log" "from $other" || fail "corp's server was asked from other's address"
as_user nobody /usr/bin/python3 -c 'import pvd; print(pvd.getaddrinfo("corp.example.com", "www.corp.test", 80)[0][4][0])' |
    lab_has -x "2001:db8:ff::1" || fail "corp does not resolve a name only its server knows"
unknown=$(as_user nobody /usr/bin/python3 -c 'import pvd
try: print(pvd.getaddrinfo("other.example.com", "www.corp.test", 80))
except OSError as error: print("refused:", error)' 2>&1)
grep -q "^refused:.*no address" <<<"$unknown" || fail "other resolved a name only corp's server knows: $unknown"
grep -q "query www.corp.test type .* from $other" "$LAB_DIR/dns-other.log" || fail "other's server was not asked for www.corp.test"
lab_file_lacks "$LAB_DIR/dns-corp.log" "www.corp.test type .* from $other" || fail "other's question went to corp's server"
busctl --system call org.pvd1 /org/pvd1 org.pvd1.Manager ResolveName ssi corp.example.com www.corp.test 10 |
    lab_has "^a(iay) 1 10 16 32 1 13 184 0 255" || fail "ResolveName over the bus: $(busctl --system call org.pvd1 /org/pvd1 org.pvd1.Manager ResolveName ssi corp.example.com www.corp.test 10 2>&1)"

# A user the access section does not allow, and bad requests.
refused=$(as_user daemon /usr/bin/python3 -c 'import pvd; pvd.socket("corp.example.com")' 2>&1) && fail "daemon got a socket in corp"
grep -q "uid 1 may not use domain corp.example.com" <<<"$refused" || fail "daemon's refusal: $refused"
refused=$(as_user daemon "$LAB_DIR/client" www.both.test 8080 9090 other.example.com 2>&1) && fail "daemon used other through libpvd"
grep -q "may not use domain other.example.com" <<<"$refused" || fail "daemon's refusal through libpvd: $refused"
raw=$(as_user nobody /usr/bin/python3 -c 'import pvd, socket; pvd.socket("corp.example.com", socket.AF_INET6, socket.SOCK_RAW, 58)' 2>&1) &&
    fail "nobody got a raw socket"
grep -q "only SOCK_STREAM" <<<"$raw" || fail "a raw socket's refusal: $raw"

# The budget: a user calling without pause is told to slow down (EAGAIN), pvdd answers the rest.
busy=$(as_user nobody /usr/bin/python3 -c 'import errno, pvd
for n in range(20000):
    try: pvd.socket("corp.example.com").close()
    except OSError as error:
        print(errno.errorcode.get(error.errno), n, error); break' 2>&1)
grep -q "^EAGAIN .*slow down" <<<"$busy" || fail "20,000 calls at once were never slowed: $busy"
"$PVD" list >/dev/null || fail "pvdd stopped answering after the burst"

# pvd ps: a program that holds sockets is counted while it runs.
mkfifo "$LAB_DIR/hold"
as_user nobody /usr/bin/python3 "$LAB_HERE/pvd_aware_client.py" --hold www.both.test 8080 9090 corp.example.com \
    <"$LAB_DIR/hold" >"$LAB_DIR/held.out" 2>&1 &
holder=$!
exec 7>"$LAB_DIR/hold"
lab_wait 10 grep -q "tcp answered" "$LAB_DIR/held.out" || fail "the held client: $(cat "$LAB_DIR/held.out")"
"$PVD" ps corp | lab_has "pvd_aware_client.py --hold .* (org.pvd1: 2 sockets, 2 names)" || fail "pvd ps does not count the program: $("$PVD" ps corp 2>&1)"
exec 7>&-
wait "$holder" || fail "the held client: $(cat "$LAB_DIR/held.out")"

# pvd connect, and happy eyeballs across domains.
printf 'GET /c-corp.example.com HTTP/1.0\r\n\r\n' | as_user nobody "$PVD" connect corp www.corp.test 8080 | lab_has "^served" ||
    fail "pvd connect through corp"
grep -q "^$corp .*GET /c-corp.example.com" "$LAB_DIR/http.log" || fail "pvd connect did not go through corp"
as_user nobody "$PVD" connect other www.corp.test 8080 </dev/null >"$LAB_DIR/connect.out" 2>&1 && fail "pvd connect through other reached a name only corp knows"
grep -q "no address" "$LAB_DIR/connect.out" || fail "pvd connect's failure: $(cat "$LAB_DIR/connect.out")"
as_user nobody "$LAB_DIR/libpvd/pvd-race" www.both.test 8080 >"$LAB_DIR/race.out" 2>&1 || fail "pvd-race: $(cat "$LAB_DIR/race.out")"
grep -Eq "^(corp|other)\.example\.com 2001:db8:ff::1$" "$LAB_DIR/race.out" || fail "pvd-race: $(cat "$LAB_DIR/race.out")"
as_user nobody "$LAB_DIR/libpvd/pvd-race" www.corp.test 8080 >"$LAB_DIR/race.out" 2>&1 || fail "pvd-race for corp's name: $(cat "$LAB_DIR/race.out")"
grep -qx "corp.example.com 2001:db8:ff::1" "$LAB_DIR/race.out" || fail "pvd-race chose wrong: $(cat "$LAB_DIR/race.out")"

# Notifications (pvd_monitor_*, pvd.Monitor): a domain coming is told.
as_user nobody /usr/bin/python3 -c 'import pvd
with pvd.Monitor() as monitor:
    print("ready", flush=True)
    while (event := monitor.next(10)) is not None:
        print(*event, flush=True)
        if event[0] == pvd.ADDED: break' >"$LAB_DIR/monitor.out" 2>&1 &
monitor=$!
lab_wait 5 grep -q ready "$LAB_DIR/monitor.out" || fail "pvd.Monitor: $(cat "$LAB_DIR/monitor.out")"
lab_in r1 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 third.example.com 1 2001:db8:3::/64 2001:db8:1::53 --no-http
wait "$monitor" || fail "pvd.Monitor: $(cat "$LAB_DIR/monitor.out")"
grep -qx "1 third.example.com" "$LAB_DIR/monitor.out" || fail "the new domain was not told: $(cat "$LAB_DIR/monitor.out")"

# A DNS server that does not answer: ResolveName fails within its 5 s, and pvdd answers meanwhile.
lab_stop "$dns_other"
lab_capture r1 lan0 "$LAB_DIR/dns.pcap" "udp port 53"
capture_dns=$LAB_LAST_PID
started=$(date +%s%N)
busctl --system --timeout=30 call org.pvd1 /org/pvd1 org.pvd1.Manager ResolveName ssi other.example.com www.other.test 10 \
    >"$LAB_DIR/silent.out" 2>&1 &
asking=$!
sleep 1
listed=$(date +%s%N)
"$PVD" list >/dev/null || fail "pvd list while a name waits for a silent server"
[ $(( ($(date +%s%N) - listed) / 1000000 )) -lt 1000 ] || fail "pvdd was held while a name waited for a silent server"
wait "$asking" && fail "ResolveName answered with other's DNS server stopped: $(cat "$LAB_DIR/silent.out")"
waited=$(( ($(date +%s%N) - started) / 1000000 ))
grep -q "no DNS server of domain other.example.com answered" "$LAB_DIR/silent.out" || fail "ResolveName's failure: $(cat "$LAB_DIR/silent.out")"
[ "$waited" -ge 4500 ] && [ "$waited" -le 7000 ] || fail "ResolveName gave up after $waited ms, not at its 5 s"
lab_capture_stop "$capture_dns"
asked=$(tcpdump -n -r "$LAB_DIR/dns.pcap" "dst host 2001:db8:1::53 and udp dst port 53" 2>/dev/null | wc -l)
[ "$asked" -ge 3 ] || fail "the silent server was asked $asked times in 5 s, not again every 1.5 s"

# 10,000 OpenSocket calls: pvdd's descriptors and memory stay flat.
descriptors() { ls "/proc/$pvdd/fd" | wc -l; }
resident() { awk '/^VmRSS:/ {print $2}' "/proc/$pvdd/status"; }
many() { /usr/bin/python3 -c 'import pvd, sys
for n in range(int(sys.argv[1])): pvd.socket("corp.example.com").close()' "$1"; }
many 2000 || fail "2,000 OpenSocket calls"
fds_before=$(descriptors)
rss_before=$(resident)
many 10000 || fail "10,000 OpenSocket calls"
fds_after=$(descriptors)
rss_after=$(resident)
echo "pvdd after 10,000 OpenSocket calls: descriptors $fds_before → $fds_after, resident $rss_before → $rss_after kB" >&2
[ "$fds_after" -le "$fds_before" ] || fail "pvdd's descriptors grew from $fds_before to $fds_after"
[ "$rss_after" -le $((rss_before + 1024)) ] || fail "pvdd's memory grew from $rss_before to $rss_after kB"

echo "libpvd and Python in two domains at once, ResolveName, access, budget, pvd ps, pvd connect, pvd-race, 10,000 OpenSocket flat"
