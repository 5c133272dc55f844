# pvd exec on a desktop, as a user (nobody, through pvd's file capability,
# and as root under sudo for nobody):
# an X11 client against Xvfb and a Wayland client against a headless weston,
# both running outside, reach their display from inside a domain (abstract
# X11 sockets are per network namespace; the path socket is not). Then the
# browser case: Firefox ESR (headless) already runs outside with the user's
# profile; `pvd exec corp -- firefox-esr --screenshot … URL` for a page
# served only on corp's network loads it inside corp — the server sees the
# request from corp's address, once, and nothing from anywhere else. pvd
# desktop-entry makes the user a "Firefox ESR (corp)" launcher and removes it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
for tool in Xvfb xdpyinfo weston wayland-info firefox-esr; do
    command -v "$tool" >/dev/null || fail "$tool is missing: scripts/setup.sh installs it"
done

lab_pvdd_corp_for_nobody
lab_in r2 /usr/bin/python3 "$LAB_HERE/scapy_ra.py" send lan0 corp.example.com 1 2001:db8:2::/64 2001:db8:2::53 --no-http
corp_up() { "$PVD" list | lab_has "^corp.example.com .*active"; }
lab_wait 5 corp_up || fail "no corp domain: $("$PVD" list 2>&1) $(cat "$LAB_DIR/pvdd.log")"
caps=$LAB_DIR/pvd
cp "$PVD" "$caps"
chmod 755 "$caps" "$LAB_DIR"
setcap cap_sys_admin+ep "$caps"
home=$LAB_DIR/home
mkdir -p "$home" "$LAB_DIR/xdg"
chown nobody "$home" "$LAB_DIR/xdg"
chmod 700 "$LAB_DIR/xdg"
user() { HOME=$home XDG_RUNTIME_DIR=$LAB_DIR/xdg lab_as_nobody "$@"; }

# X11: Xvfb outside (in the host namespace), a client inside.
display=:$(( 50 + $$ % 40 ))
lab_bg host "$LAB_DIR/xvfb.log" setpriv --reuid=nobody --regid=nogroup --init-groups -- Xvfb "$display" -nolisten tcp
x_up() { [ -S "/tmp/.X11-unix/X${display#:}" ]; }
lab_wait 10 x_up || fail "Xvfb did not start: $(cat "$LAB_DIR/xvfb.log")"
DISPLAY=$display user "$caps" exec corp -- xdpyinfo >"$LAB_DIR/xdpyinfo" 2>&1 || fail "an X11 client inside corp: $(cat "$LAB_DIR/xdpyinfo")"
grep -q "name of display:" "$LAB_DIR/xdpyinfo" || fail "xdpyinfo: $(cat "$LAB_DIR/xdpyinfo")"
# The same through sudo: root runs pvd exec for the user, whose display it is.
SUDO_UID=65534 SUDO_GID=65534 DISPLAY=$display "$PVD" exec corp -- xdpyinfo >"$LAB_DIR/xdpyinfo-sudo" 2>&1 \
    || fail "an X11 client under sudo: $(cat "$LAB_DIR/xdpyinfo-sudo")"

# Wayland: a headless weston outside, a client inside.
lab_bg host "$LAB_DIR/weston.log" env HOME="$home" XDG_RUNTIME_DIR="$LAB_DIR/xdg" \
    setpriv --reuid=nobody --regid=nogroup --init-groups -- weston --backend=headless-backend.so --socket=pvd-test --idle-time=0
w_up() { [ -S "$LAB_DIR/xdg/pvd-test" ]; }
lab_wait 10 w_up || fail "weston did not start: $(cat "$LAB_DIR/weston.log")"
WAYLAND_DISPLAY=pvd-test user "$caps" exec corp -- wayland-info >"$LAB_DIR/wayland-info" 2>&1 || fail "a Wayland client inside corp: $(cat "$LAB_DIR/wayland-info")"
grep -q "wl_compositor" "$LAB_DIR/wayland-info" || fail "wayland-info: $(cat "$LAB_DIR/wayland-info")"
SUDO_UID=65534 SUDO_GID=65534 XDG_RUNTIME_DIR=$LAB_DIR/xdg WAYLAND_DISPLAY=pvd-test "$PVD" exec corp -- wayland-info >"$LAB_DIR/wayland-sudo" 2>&1 \
    || fail "a Wayland client under sudo: $(cat "$LAB_DIR/wayland-sudo")"
grep -q "wl_compositor" "$LAB_DIR/wayland-sudo" || fail "wayland-info under sudo: $(cat "$LAB_DIR/wayland-sudo")"

# The browser: a page only corp's network serves, while Firefox runs outside with the user's profile.
printf '<html><body>corp intranet</body></html>\n' >"$LAB_DIR/index.html"
lab_bg r2 "$LAB_DIR/http.log" /usr/bin/python3 -u -m http.server --bind 2001:db8:2::1 --directory "$LAB_DIR" 8080
lab_wait 10 grep -q "Serving HTTP" "$LAB_DIR/http.log" || fail "the web server did not start: $(cat "$LAB_DIR/http.log")"
lab_bg host "$LAB_DIR/outside.log" env HOME="$home" setpriv --reuid=nobody --regid=nogroup --init-groups -- \
    firefox-esr --headless about:blank
outside=$LAB_LAST_PID
firefox_up() { pgrep -u nobody -f "firefox-esr --headless about:blank" >/dev/null; }
lab_wait 20 firefox_up || fail "Firefox did not start outside: $(cat "$LAB_DIR/outside.log")"
# It holds its profile (the one a program inside must not share).
profile_locked() { compgen -G "$home/.config/mozilla/firefox/*/.parentlock" >/dev/null || compgen -G "$home/.mozilla/firefox/*/.parentlock" >/dev/null; }
lab_wait 20 profile_locked || fail "Firefox outside holds no profile: $(find "$home" -maxdepth 4 2>&1 | head -n 20)"
address=$(ip -n pvd-corp.example.com -6 -o addr show dev pvd0 scope global | awk '{print $4}' | cut -d/ -f1)
shot=$LAB_DIR/shot.png
touch "$shot" && chown nobody "$shot"
user "$caps" exec corp -- firefox-esr --headless --screenshot "$shot" "http://[2001:db8:2::1]:8080/index.html" >"$LAB_DIR/inside.log" 2>&1 \
    || fail "Firefox inside corp: $(cat "$LAB_DIR/inside.log")"
[ -s "$shot" ] || fail "no screenshot from Firefox inside corp: $(cat "$LAB_DIR/inside.log")"
grep -q "firefox-esr uses its own profile for domain corp.example.com" "$LAB_DIR/inside.log" || fail "no word about the profile: $(cat "$LAB_DIR/inside.log")"
requests=$(grep -c '"GET /index.html' "$LAB_DIR/http.log" || true)
[ "$requests" = 1 ] || fail "the page was asked for $requests times: $(cat "$LAB_DIR/http.log")"
grep -q "^$address - .*\"GET /index.html" "$LAB_DIR/http.log" || fail "the request did not come from corp's address $address: $(cat "$LAB_DIR/http.log")"
kill -0 "$outside" 2>/dev/null || fail "the Firefox outside ended"
lab_file_lacks "$LAB_DIR/outside.log" "index.html" || fail "the Firefox outside took the page: $(cat "$LAB_DIR/outside.log")"

# A launcher for Firefox in corp, from Firefox's own desktop entry, and gone again.
launcher=$(user "$PVD" desktop-entry corp firefox-esr) || fail "pvd desktop-entry: $launcher"
[ "$launcher" = "$home/.local/share/applications/pvd-corp-firefox-esr.desktop" ] || fail "the launcher's path: $launcher"
grep -q "^Name=Firefox ESR (corp)$" "$launcher" && grep -q "^Exec=.*/pvd exec corp -- /usr/lib/firefox-esr/firefox-esr %u$" "$launcher" \
    && lab_file_lacks "$launcher" "DBusActivatable\|TryExec" || fail "the launcher: $(cat "$launcher")"
[ "$(stat -c %U "$launcher")" = nobody ] || fail "the launcher is not the user's"
user "$PVD" desktop-entry corp firefox-esr --remove >/dev/null && [ ! -e "$launcher" ] || fail "pvd desktop-entry --remove left $launcher"
