import PvDWire
import Testing

@testable import PvDCore

/// Time passing in the table: what runs out when, and when it says to look again.
struct DomainTableExpiryTests {
    let secret: [UInt8] = [7, 7, 7]

    @Test func everythingExpiresOnTimeAndOrphansGoAfterGrace() {
        var table = DomainTable(secret: secret, gracePeriod: 30)
        _ = table.observe(
            RA.plain(lifetime: 20, RA.options(prefix: "2001:db8:1::/64", valid: 10, dns: "2001:db8:1::53")),
            from: RA.router(1), on: "eth0", at: 0)
        let name = table.specs(at: 0)[0].name
        #expect(table.nextExpiry() == 10)
        #expect(table.expire(at: 9.9).isEmpty)
        #expect(table.expire(at: 10) == [name])
        #expect(table.spec(named: name, at: 10)?.addresses == [])
        #expect(table.spec(named: name, at: 10)?.routers == [RA.router(1)])
        #expect(table.expire(at: 20) == [name])
        #expect(table.spec(named: name, at: 20)?.routers == [])
        #expect(table.spec(named: name, at: 20)?.uplink == "eth0", "an emptied domain stays on its uplink")
        #expect(table.domains.values.first?.orphanedAt == 20)
        #expect(table.expire(at: 49).isEmpty)
        #expect(table.expire(at: 50) == [name])
        #expect(table.specs(at: 50).isEmpty)
        #expect(table.nextExpiry() == nil)
    }

    /// radvd's `AdvDefaultLifetime 0` (and a router's final RAs): router
    /// lifetime 0 while the prefixes stay valid. The router's default
    /// lifetime is over at once; once an expiry dealt with it, the next is
    /// the prefix's, never that past time again (pvdd re-armed its timer for
    /// it and spun).
    @Test func routerLifetimeZeroWithValidPrefixesOffersNoPastTime() throws {
        var table = DomainTable(secret: secret, gracePeriod: 30)
        _ = table.observe(RA.plain(lifetime: 0, RA.options(prefix: "2001:db8:1::/64", valid: 600)), from: RA.router(1), on: "eth0", at: 0)
        var now: Seconds = 0
        var times: [Seconds] = []
        while let next = table.nextExpiry(), times.count < 10 {
            now = max(now, next)
            times.append(next)
            _ = table.expire(at: now)
        }
        #expect(times == [0, 600, 630], "the router's end, the prefix's, the grace period; then nothing")
        #expect(table.specs(at: now).isEmpty)
    }

    /// A probe that ends while other events keep the daemon busy (the timer
    /// re-armed after its end, before it fired) is still offered: skipping
    /// past times left a domain without its address for ever.
    @Test func aProbeEndingBeforeTheNextExpiryIsStillOffered() {
        var table = DomainTable(secret: secret, addressProbeTime: 1)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2), on: "eth0", at: 1.5)
        #expect(table.nextExpiry() == 1, "the first probe, ended at 1, not yet dealt with")
        _ = table.expire(at: 2)
        #expect(table.nextExpiry() == 2.5)
        #expect(table.specs(at: 2).map(\.addresses.count) == [1, 0])
    }

    @Test func infiniteLifetimesNeverExpire() {
        var table = DomainTable(secret: secret)
        _ = table.observe(RA.plain(lifetime: 9000, RA.options(prefix: "2001:db8:1::/64", valid: .max)), from: RA.router(1), on: "eth0", at: 0)
        _ = table.expire(at: 1e9)
        #expect(table.specs(at: 1e9).first?.onLinkPrefixes == [RA.prefix("2001:db8:1::/64")])
        #expect(table.specs(at: 1e9).first?.addresses == [], "its router is no default router any more (RFC 8028)")
        _ = table.observe(RA.plain(lifetime: 9000, []), from: RA.router(1), on: "eth0", at: 1e9)
        #expect(table.specs(at: 1e9).first?.addresses.count == 1, "the prefix never expired")
    }
}
