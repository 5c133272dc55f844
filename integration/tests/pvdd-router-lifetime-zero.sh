# A router that is not a default router — radvd's AdvDefaultLifetime 0, the
# router lifetime 0 that every router also sends in its final RAs — while
# its prefix stays valid, for a minute: the domain stays (its prefix is
# on-link), pvdd uses under 1 % of a core over that minute and answers every
# bus call within 50 ms. (pvdd once re-armed its expiry timer for the
# router's past default lifetime and spun at 100 %, leaving the bus
# unanswered for seconds.)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

cat >"$LAB_DIR/radvd.conf" <<'CONF'
interface lan0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 0;
    prefix 2001:db8:1::/64 { AdvValidLifetime 600; AdvPreferredLifetime 300; };
    RDNSS 2001:db8:1::53 { };
};
CONF
lab_pvdd_one_router "$LAB_DIR/radvd.conf"
pvdd=$LAB_PVDD
learnt() { "$PVD" list | lab_has "^$LAB_DOMAIN "; }

ticks() { awk '{print $14 + $15}' "/proc/$pvdd/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
# One client on the bus for the minute, so that each time is pvdd's answer alone.
slowest=$(/usr/bin/python3 - <<'PY'
import time, dbus
manager = dbus.Interface(dbus.SystemBus().get_object("org.pvd1", "/org/pvd1"), "org.pvd1.Manager")
slowest, end = 0.0, time.monotonic() + 60
while time.monotonic() < end:
    start = time.monotonic()
    manager.ListDomains(timeout=1)
    slowest = max(slowest, time.monotonic() - start)
    time.sleep(0.2)
print(int(slowest * 1000))
PY
) || fail "a ListDomains call was not answered within 1 s"
used=$(( $(ticks) - before ))
echo "over 60 s: pvdd used $used ticks of $(( 60 * hz )) (HZ $hz); the slowest of its answers to ListDomains took $slowest ms" >&2
[ $(( used * 100 )) -lt $(( 60 * hz )) ] || fail "pvdd used $used ticks in 60 s: more than 1 % of a core"
[ "$slowest" -lt 50 ] || fail "a bus call took $slowest ms"
learnt || fail "the domain went although its prefix is valid: $("$PVD" list 2>&1)"
lab_pvdd_stop "$pvdd"
